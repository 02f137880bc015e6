//! A CDN edge: serves static assets from its cache, fetches misses from an origin group.
//!
//! Each edge keeps, per asset, when its cached copy expires (`ttl` after it was fetched). A
//! request for a fresh asset is answered at once; a miss (or an expired copy) is fetched from
//! the first origin of the group, and concurrent requests for the same asset wait for that one
//! fetch (request coalescing). An origin that does not answer within `origin_timeout` is given
//! up on and the next origin is tried, as CloudFront origin groups fail over; the edge then
//! keeps using the origin that answered (as a health-checked origin name would) until that one
//! fails in turn, so only the first misses after an origin loss pay the timeout. When every
//! origin has failed, an expired copy is served if `serve_stale` is on (stale-if-error),
//! otherwise the waiting requests are refused.
//!
//! Which asset a request is for comes from the request's identity through a Zipf popularity
//! ([`AssetCatalog::asset_of`]), so no message needs to carry it and the same operation always
//! asks for the same asset.

use super::health_check::answer_probe;
use super::{Context, Msg, NodeId, OpRef, Outcome, Route, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The assets a CDN serves and how popular each is.
#[derive(Clone, Debug)]
pub struct AssetCatalog {
    /// Cumulative popularity of assets 0..n, scaled to `u64::MAX`; asset 0 is the most popular.
    cumulative: Vec<u64>,
}

impl AssetCatalog {
    /// `count` assets whose popularity follows Zipf's law with exponent `s` (1.0: the k-th most
    /// popular asset is requested 1/k as often as the first).
    pub fn zipf(count: u32, s: f64) -> Self {
        debug_assert!(count > 0);
        let weights: Vec<f64> = (1..=count as u64)
            .map(|k| 1.0 / libm::pow(k as f64, s))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                (acc.min(1.0) * u64::MAX as f64) as u64
            })
            .collect();
        AssetCatalog { cumulative }
    }

    pub fn len(&self) -> usize {
        self.cumulative.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cumulative.is_empty()
    }

    /// The asset requested by operation `op`: a fixed function of its identity.
    pub fn asset_of(&self, op: OpRef) -> u32 {
        let key = ((op.client as u64) << 32) | op.seq as u64;
        let u = crate::sim::rng::mix64(key ^ 0xC0FF_EE00_A55E_7000);
        let i = self.cumulative.partition_point(|&c| c < u);
        i.min(self.cumulative.len() - 1) as u32
    }
}

/// Settings shared by every edge of one CDN.
#[derive(Clone, Debug)]
pub struct CdnSpec {
    pub catalog: AssetCatalog,
    /// The origin group, in failover order.
    pub origins: Vec<NodeId>,
    /// How long a fetched asset stays fresh.
    pub ttl: SimDuration,
    /// How long an edge waits for an origin before trying the next one.
    pub origin_timeout: SimDuration,
    /// Serve an expired copy when every origin failed (`stale-if-error`).
    pub serve_stale: bool,
}

#[derive(Debug)]
struct Fetch {
    /// Index into the origin group of the origin being asked.
    origin: usize,
    /// How many origins this fetch has asked.
    tried: usize,
    /// Distinguishes this attempt's timeout from earlier ones.
    attempt: u32,
    waiting: Vec<(OpRef, Route)>,
}

/// One edge location.
pub struct Edge {
    spec: Arc<CdnSpec>,
    /// Expiry of the cached copy per asset (`None`: never fetched).
    expires: Vec<Option<SimTime>>,
    fetching: BTreeMap<u32, Fetch>,
    attempts: u32,
    /// The origin that last answered: where the next fetch starts.
    preferred: usize,
}

impl Edge {
    pub fn new(spec: Arc<CdnSpec>) -> Self {
        let n = spec.catalog.len();
        Edge {
            spec,
            expires: vec![None; n],
            fetching: BTreeMap::new(),
            attempts: 0,
            preferred: 0,
        }
    }

    /// The edge lost its volatile state: a restarted edge starts with an empty cache.
    pub fn crash(&mut self) {
        self.expires.iter_mut().for_each(|e| *e = None);
        self.fetching.clear();
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => self.on_request(op, route, ctx),
            Msg::OriginReply { asset } => self.on_origin_reply(from, asset, ctx),
            Msg::Probe { round } => answer_probe(ctx, from, round, false),
            _ => {}
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if let Timer::OriginTimeout { asset, attempt } = timer
            && self
                .fetching
                .get(&asset)
                .is_some_and(|f| f.attempt == attempt)
        {
            self.next_origin(asset, ctx);
        }
    }

    fn on_request(&mut self, op: OpRef, route: Route, ctx: &mut impl Context) {
        let asset = self.spec.catalog.asset_of(op);
        let fresh = self.expires[asset as usize].is_some_and(|e| ctx.now() < e);
        if fresh {
            answer(ctx, op, route, Outcome::Served);
            return;
        }
        if let Some(f) = self.fetching.get_mut(&asset) {
            f.waiting.push((op, route));
            return;
        }
        self.fetching.insert(
            asset,
            Fetch {
                origin: self.preferred,
                tried: 0,
                attempt: 0,
                waiting: vec![(op, route)],
            },
        );
        self.ask(asset, ctx);
    }

    fn ask(&mut self, asset: u32, ctx: &mut impl Context) {
        self.attempts += 1;
        let attempt = self.attempts;
        let f = self
            .fetching
            .get_mut(&asset)
            .expect("a fetch is in progress");
        f.attempt = attempt;
        f.tried += 1;
        ctx.send(self.spec.origins[f.origin], Msg::OriginFetch { asset });
        ctx.set_timer(
            self.spec.origin_timeout,
            Timer::OriginTimeout { asset, attempt },
        );
    }

    /// The origin did not answer in time: fail over to the next one, or give up.
    fn next_origin(&mut self, asset: u32, ctx: &mut impl Context) {
        let f = self
            .fetching
            .get_mut(&asset)
            .expect("checked by the caller");
        if f.tried < self.spec.origins.len() {
            let from = self.spec.origins[f.origin];
            f.origin = (f.origin + 1) % self.spec.origins.len();
            let to = self.spec.origins[f.origin];
            if self.preferred != f.origin {
                // Only the edge's switch is an observation, not every fetch that follows it.
                ctx.note(super::Note::OriginFailover { from, to });
            }
            self.ask(asset, ctx);
            return;
        }
        let f = self.fetching.remove(&asset).expect("checked by the caller");
        let outcome = match self.spec.serve_stale && self.expires[asset as usize].is_some() {
            true => Outcome::Served,
            false => Outcome::Refused,
        };
        for (op, route) in f.waiting {
            answer(ctx, op, route, outcome);
        }
    }

    fn on_origin_reply(&mut self, from: NodeId, asset: u32, ctx: &mut impl Context) {
        let Some(f) = self.fetching.get(&asset) else {
            return; // a late answer to a fetch already given up on
        };
        if self.spec.origins[f.origin] != from {
            return;
        }
        let f = self.fetching.remove(&asset).expect("just looked up");
        self.preferred = f.origin;
        self.expires[asset as usize] = Some(ctx.now() + self.spec.ttl);
        for (op, route) in f.waiting {
            answer(ctx, op, route, Outcome::Served);
        }
    }
}

fn answer(ctx: &mut impl Context, op: OpRef, route: Route, outcome: Outcome) {
    ctx.send(op.client, Msg::Reply { op, route, outcome });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const ORIGIN_A: NodeId = 50;
    const ORIGIN_B: NodeId = 51;
    const CLIENT: NodeId = 9;

    fn spec(serve_stale: bool) -> Arc<CdnSpec> {
        Arc::new(CdnSpec {
            catalog: AssetCatalog::zipf(1, 1.0),
            origins: vec![ORIGIN_A, ORIGIN_B],
            ttl: SimDuration::from_secs(60),
            origin_timeout: SimDuration::from_secs(2),
            serve_stale,
        })
    }

    fn op(seq: u32) -> OpRef {
        OpRef {
            client: CLIENT,
            seq,
            service: 0,
        }
    }

    fn request(edge: &mut Edge, ctx: &mut Recorder, seq: u32) {
        edge.on_message(
            CLIENT,
            Msg::Request {
                op: op(seq),
                route: Route::DIRECT,
            },
            ctx,
        );
    }

    fn served(seq: u32, outcome: Outcome) -> (NodeId, Msg) {
        (
            CLIENT,
            Msg::Reply {
                op: op(seq),
                route: Route::DIRECT,
                outcome,
            },
        )
    }

    #[test]
    fn zipf_makes_the_first_assets_most_popular_and_is_deterministic() {
        let c = AssetCatalog::zipf(1000, 1.0);
        let mut hits = vec![0u32; 1000];
        for seq in 0..100_000 {
            hits[c.asset_of(op(seq)) as usize] += 1;
        }
        assert!(hits[0] > hits[1] && hits[1] > hits[9] && hits[9] > hits[500]);
        // About 1/H(1000) ≈ 13 % of requests are for the most popular asset.
        assert!((11_000..15_000).contains(&hits[0]), "{}", hits[0]);
        assert_eq!(c.asset_of(op(42)), c.asset_of(op(42)));
    }

    #[test]
    fn a_miss_is_fetched_once_and_concurrent_requests_wait_for_it() {
        let mut edge = Edge::new(spec(false));
        let mut ctx = Recorder::new(7);
        request(&mut edge, &mut ctx, 1);
        request(&mut edge, &mut ctx, 2);
        assert_eq!(
            ctx.take_sent(),
            vec![(ORIGIN_A, Msg::OriginFetch { asset: 0 })]
        );
        ctx.now = SimTime::from_millis(40);
        edge.on_message(ORIGIN_A, Msg::OriginReply { asset: 0 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![served(1, Outcome::Served), served(2, Outcome::Served)]
        );
        // Fresh for the TTL: served from the cache without asking the origin.
        ctx.now = SimTime::from_secs(30);
        request(&mut edge, &mut ctx, 3);
        assert_eq!(ctx.take_sent(), vec![served(3, Outcome::Served)]);
        // Expired: fetched again.
        ctx.now = SimTime::from_secs(61);
        request(&mut edge, &mut ctx, 4);
        assert_eq!(
            ctx.take_sent(),
            vec![(ORIGIN_A, Msg::OriginFetch { asset: 0 })]
        );
    }

    #[test]
    fn a_silent_origin_fails_over_to_the_next_then_refuses() {
        let mut edge = Edge::new(spec(false));
        let mut ctx = Recorder::new(7);
        request(&mut edge, &mut ctx, 1);
        ctx.take_sent();
        ctx.now = SimTime::from_secs(2);
        edge.on_timer(
            Timer::OriginTimeout {
                asset: 0,
                attempt: 1,
            },
            &mut ctx,
        );
        assert_eq!(
            ctx.take_sent(),
            vec![(ORIGIN_B, Msg::OriginFetch { asset: 0 })]
        );
        assert_eq!(
            ctx.notes,
            vec![crate::logic::Note::OriginFailover {
                from: ORIGIN_A,
                to: ORIGIN_B
            }]
        );
        // A late answer from the first origin is ignored.
        edge.on_message(ORIGIN_A, Msg::OriginReply { asset: 0 }, &mut ctx);
        assert!(ctx.sent.is_empty());
        ctx.now = SimTime::from_secs(4);
        edge.on_timer(
            Timer::OriginTimeout {
                asset: 0,
                attempt: 2,
            },
            &mut ctx,
        );
        assert_eq!(ctx.take_sent(), vec![served(1, Outcome::Refused)]);
    }

    #[test]
    fn the_second_origin_answers_after_failover() {
        let mut edge = Edge::new(spec(false));
        let mut ctx = Recorder::new(7);
        request(&mut edge, &mut ctx, 1);
        edge.on_timer(
            Timer::OriginTimeout {
                asset: 0,
                attempt: 1,
            },
            &mut ctx,
        );
        ctx.take_sent();
        edge.on_message(ORIGIN_B, Msg::OriginReply { asset: 0 }, &mut ctx);
        assert_eq!(ctx.take_sent(), vec![served(1, Outcome::Served)]);
        // A stale timeout of an earlier attempt does nothing.
        edge.on_timer(
            Timer::OriginTimeout {
                asset: 0,
                attempt: 1,
            },
            &mut ctx,
        );
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn after_a_failover_the_edge_keeps_the_origin_that_answered() {
        let spec = Arc::new(CdnSpec {
            catalog: AssetCatalog::zipf(100, 1.0),
            ..(*spec(false)).clone()
        });
        let mut edge = Edge::new(spec.clone());
        let mut ctx = Recorder::new(7);
        request(&mut edge, &mut ctx, 1);
        edge.on_timer(
            Timer::OriginTimeout {
                asset: spec.catalog.asset_of(op(1)),
                attempt: 1,
            },
            &mut ctx,
        );
        let asset = spec.catalog.asset_of(op(1));
        edge.on_message(ORIGIN_B, Msg::OriginReply { asset }, &mut ctx);
        ctx.take_sent();
        // A miss for another asset goes straight to origin B.
        let other = (2..100)
            .find(|&s| spec.catalog.asset_of(op(s)) != asset)
            .unwrap();
        request(&mut edge, &mut ctx, other);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                ORIGIN_B,
                Msg::OriginFetch {
                    asset: spec.catalog.asset_of(op(other))
                }
            )]
        );
    }

    #[test]
    fn stale_if_error_serves_an_expired_copy_when_every_origin_failed() {
        for (serve_stale, outcome) in [(true, Outcome::Served), (false, Outcome::Refused)] {
            let mut edge = Edge::new(spec(serve_stale));
            let mut ctx = Recorder::new(7);
            request(&mut edge, &mut ctx, 1);
            edge.on_message(ORIGIN_A, Msg::OriginReply { asset: 0 }, &mut ctx);
            ctx.now = SimTime::from_secs(100);
            request(&mut edge, &mut ctx, 2);
            edge.on_timer(
                Timer::OriginTimeout {
                    asset: 0,
                    attempt: 2,
                },
                &mut ctx,
            );
            edge.on_timer(
                Timer::OriginTimeout {
                    asset: 0,
                    attempt: 3,
                },
                &mut ctx,
            );
            assert_eq!(
                ctx.sent.last(),
                Some(&served(2, outcome)),
                "serve_stale {serve_stale}"
            );
        }
    }

    #[test]
    fn a_crashed_edge_starts_cold() {
        let mut edge = Edge::new(spec(true));
        let mut ctx = Recorder::new(7);
        request(&mut edge, &mut ctx, 1);
        edge.on_message(ORIGIN_A, Msg::OriginReply { asset: 0 }, &mut ctx);
        edge.crash();
        ctx.take_sent();
        request(&mut edge, &mut ctx, 2);
        assert_eq!(
            ctx.take_sent(),
            vec![(ORIGIN_A, Msg::OriginFetch { asset: 0 })]
        );
    }
}
