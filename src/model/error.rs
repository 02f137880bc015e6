//! Errors in input files: every one names the file, the line and column, and the offending
//! name, so a user can jump straight to it. The CLI turns these into exit status 2.

use crate::sim::time::{SimDuration, parse_duration};
use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read at all.
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: PathBuf, reason: String },
    /// The text is not valid RON for the expected shape.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file parses but says something impossible (unknown name, zero duration …).
    #[error("{}:{line}:{column}: {}{message}", file.display(), if name.is_empty() { String::new() } else { format!("`{name}`: ") })]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        name: String,
        message: String,
    },
}

impl InputError {
    pub fn file(&self) -> &Path {
        match self {
            InputError::Unreadable { file, .. }
            | InputError::Syntax { file, .. }
            | InputError::Invalid { file, .. } => file,
        }
    }
}

/// A source file kept beside its parsed form, so semantic errors can point into it.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Unreadable {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
        })
    }

    pub fn inline(name: &str, text: &str) -> Source {
        Source {
            path: PathBuf::from(name),
            text: text.to_string(),
        }
    }

    /// Parses the text as RON into `T`, mapping the parser's span to a line and column.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, InputError> {
        ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(&self.text)
            .map_err(|e| InputError::Syntax {
                file: self.path.clone(),
                line: e.span.start.line,
                column: e.span.start.col,
                message: describe_ron_error(&e.code),
            })
    }

    /// Where `name` first appears as a quoted string after the first occurrence of `near`
    /// (a field name or other anchor); falls back to the first quoted occurrence anywhere,
    /// then to the anchor, then to the start of the file.
    pub fn locate(&self, near: &str, name: &str) -> Position {
        let quoted = format!("\"{name}\"");
        let anchor = if near.is_empty() {
            None
        } else {
            self.text.find(near)
        };
        let at = anchor
            .and_then(|a| self.text[a..].find(&quoted).map(|i| a + i))
            .or_else(|| self.text.find(&quoted))
            .or(anchor);
        match at {
            Some(offset) => self.position(offset),
            None => Position { line: 1, column: 1 },
        }
    }

    fn position(&self, offset: usize) -> Position {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        Position { line, column }
    }

    /// Every occurrence of `field:` (a whole word: `interval:` is not `request_interval:`),
    /// as the offset of its value and the value as written up to the next `,`, `)` or line
    /// end, quotes trimmed.
    pub fn field_values(&self, field: &str) -> Vec<(usize, String)> {
        let pattern = format!("{field}:");
        let bytes = self.text.as_bytes();
        self.text
            .match_indices(&pattern)
            .filter(|(i, _)| {
                *i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
            })
            .map(|(i, _)| {
                let start = i + pattern.len();
                let rest = &self.text[start..];
                let skip = rest.len() - rest.trim_start().len();
                let value: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|&c| c != ',' && c != ')' && c != '\n')
                    .collect();
                (start + skip, value.trim().trim_matches('"').to_string())
            })
            .collect()
    }

    /// The `nth` (from 0) occurrence of `field:`: the offset of its value and the value as
    /// written.
    pub fn field_value(&self, field: &str, nth: usize) -> Option<(usize, String)> {
        self.field_values(field).into_iter().nth(nth)
    }

    /// An [`InputError::Invalid`] at byte `offset` of the text, naming `name`.
    pub fn invalid_at(&self, offset: usize, name: String, message: String) -> InputError {
        let p = self.position(offset);
        InputError::Invalid {
            file: self.path.clone(),
            line: p.line,
            column: p.column,
            name,
            message,
        }
    }

    /// An [`InputError::Invalid`] at the value of the `nth` (from 0) occurrence of `field:`,
    /// naming the value as written (`"25m"`, not its normalised form).
    pub fn invalid_field(&self, field: &str, nth: usize, message: impl Into<String>) -> InputError {
        let (offset, value) = self
            .field_values(field)
            .into_iter()
            .nth(nth)
            .unwrap_or((0, field.to_string()));
        self.invalid_at(offset, value, message.into())
    }

    /// An [`InputError::Invalid`] at the first occurrence of any of `fields` whose value holds
    /// the duration `value` however it is written (`"1ns"`, `"0.000001ms"`, or inside
    /// `Fixed("1ns")`), naming the value as written; at the first occurrence of the first
    /// field when none does. Validation sees values, not positions: this finds the one meant.
    pub fn invalid_duration(
        &self,
        fields: &[&str],
        value: SimDuration,
        message: impl Into<String>,
    ) -> InputError {
        let quoted = |v: &str| -> Option<String> {
            let a = v.find('"')?;
            let b = v[a + 1..].find('"')?;
            Some(v[a + 1..a + 1 + b].to_string())
        };
        let all: Vec<(usize, String)> = fields.iter().flat_map(|f| self.field_values(f)).collect();
        let hit = all.iter().min_by_key(|(offset, v)| {
            let line = &self.text[*offset..];
            let line = &line[..line.find('\n').unwrap_or(line.len())];
            let text = quoted(line).unwrap_or_else(|| v.clone());
            (parse_duration(&text) != Ok(value), *offset)
        });
        let (offset, name) = match hit {
            Some((offset, v)) => {
                let line = &self.text[*offset..];
                let line = &line[..line.find('\n').unwrap_or(line.len())];
                (*offset, quoted(line).unwrap_or_else(|| v.clone()))
            }
            None => (0, value.to_string()),
        };
        self.invalid_at(offset, name, message.into())
    }

    /// An [`InputError::Invalid`] pointing at `name` (searched near `near`).
    pub fn invalid(&self, near: &str, name: &str, message: impl Into<String>) -> InputError {
        let p = self.locate(near, name);
        InputError::Invalid {
            file: self.path.clone(),
            line: p.line,
            column: p.column,
            name: name.to_string(),
            message: message.into(),
        }
    }
}

/// RON's messages, made friendlier for the most common mistakes.
fn describe_ron_error(code: &ron::Error) -> String {
    match code {
        ron::Error::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown {} `{found}`; expected one of: {}",
            outer
                .as_deref()
                .map(words)
                .unwrap_or_else(|| "variant".into()),
            expected.join(", ")
        ),
        ron::Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}; expected one of: {}",
            outer
                .as_deref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default(),
            expected.join(", ")
        ),
        ron::Error::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}",
            outer
                .as_deref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// `FaultKind` → `fault kind`, `ReplicationDef` → `replication`: type names as a user says them.
fn words(type_name: &str) -> String {
    let base = type_name.strip_suffix("Def").unwrap_or(type_name);
    let mut out = String::new();
    for (i, c) in base.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_a_name_after_its_anchor() {
        let s = Source::inline("t.ron", "(\n  a: \"x\",\n  zone: \"x\",\n)");
        assert_eq!(s.locate("zone", "x"), Position { line: 3, column: 9 });
        assert_eq!(s.locate("", "x"), Position { line: 2, column: 6 });
        assert_eq!(s.locate("nowhere", "y"), Position { line: 1, column: 1 });
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let s = Source::inline("t.ron", "(\n  a: \"oops\",\n)");
        let err = s.parse::<T>().unwrap_err().to_string();
        assert!(err.starts_with("t.ron:2:"), "{err}");
    }
}
