//! Static sites (a status page, a landing page): each site node serves every request itself.
//!
//! Not here: a CDN in front of a site ([`super::cdn`]).

use crate::logic::site::StaticSite;
use crate::run::world::Process;

/// A node serving a static site: it has no state to configure.
pub(super) fn place_site() -> Process {
    Process::Site(StaticSite)
}
