//! A static site (a status page, a landing page): every node serves every request itself.
//!
//! There is nothing to replicate and nothing to lose, which is the point of a status page on
//! separate infrastructure: its availability depends only on where its nodes run. Reads it
//! answers are `Outcome::Served`, never counted as durable writes.

use super::health_check::answer_probe;
use super::{Context, Msg, NodeId, Outcome};

/// One node of a static site.
#[derive(Debug, Default)]
pub struct StaticSite;

impl StaticSite {
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => ctx.send(
                op.client,
                Msg::Reply {
                    op,
                    route,
                    outcome: Outcome::Served,
                },
            ),
            // A static site also serves as a CDN origin.
            Msg::OriginFetch { asset } => ctx.send(from, Msg::OriginReply { asset }),
            Msg::Probe { round } => answer_probe(ctx, from, round, false),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;
    use crate::logic::{OpRef, Route};

    #[test]
    fn serves_every_request_to_its_client() {
        let mut ctx = Recorder::new(5);
        let op = OpRef {
            client: 9,
            seq: 3,
            service: 2,
        };
        StaticSite.on_message(
            9,
            Msg::Request {
                op,
                route: Route::DIRECT,
            },
            &mut ctx,
        );
        assert_eq!(
            ctx.sent,
            vec![(
                9,
                Msg::Reply {
                    op,
                    route: Route::DIRECT,
                    outcome: Outcome::Served
                }
            )]
        );
    }
}
