//! Input files: topologies and scenarios in RON, parsed, validated and resolved to indices.
//!
//! Input is hostile until validated: every check here produces an [`InputError`] naming the
//! file, line, column and offending name; nothing downstream needs to re-check it.

pub mod error;
pub mod limits;
pub mod scenario;
pub mod topology;

pub use error::{InputError, Source};

/// Serde adapter: durations as human strings (`"30s"`, `"250ms"`), exact in nanoseconds.
pub mod duration_serde {
    use crate::sim::time::{SimDuration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SimDuration, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(d: &SimDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.to_string())
    }
}

/// Serde adapter for optional durations.
pub mod opt_duration_serde {
    use crate::sim::time::{SimDuration, parse_duration};
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SimDuration>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A human-written duration inside RON (`"30s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub crate::sim::time::SimDuration);

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        duration_serde::deserialize(d).map(Dur)
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        duration_serde::serialize(&self.0, s)
    }
}
