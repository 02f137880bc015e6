//! Static sites (a status page, a landing page): each site node serves every request itself.
//!
//! Not here: a CDN in front of a site ([`super::cdn`]).

use crate::logic::site::StaticSite;
use crate::logic::{Context, Msg, NodeId};
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// A node serving a static site: it has no state to configure.
pub(super) fn place_site() -> Process {
    Process::Site(StaticSite)
}

/// A static site only answers: nothing to start, no timers, nothing to lose.
impl NodeProcess for StaticSite {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        StaticSite::on_message(self, from, msg, ctx)
    }
}
