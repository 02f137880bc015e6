//! User reports: the support desk that turns users' complaints into an incident when nothing
//! else does (monitoring dark, or a failure its rules do not see).
//!
//! Every `every` the desk reads, from each client population, how many actions its users
//! started and how many succeeded since the last reading (tickets, chat, social mentions,
//! summed). When the failing share stays above `share` for `report_after` (users noticing,
//! writing in, a support engineer triaging and escalating), the desk triggers an incident at
//! the paging service, as PagerDuty's e-mail or Zendesk integrations do, with the alert name
//! `UserReports`; the first period below `share` afterwards resolves it. Actions still in
//! flight at a reading count as not (yet) succeeded, which over a period of a minute is
//! negligible next to an outage.
//!
//! It owns the complaint window and the escalation. It does not own what users saw
//! (`measure::client` counts it) nor the incident (`ops::paging`).

use crate::logic::{AlertSet, Context, Msg, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// How the support desk is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportSpec {
    /// The client populations whose users write in.
    pub clients: Vec<NodeId>,
    pub every: SimDuration,
    /// The failing share (parts per million) above which users complain.
    pub share_ppm: u32,
    /// How long complaints must go on before the on-call is paged.
    pub report_after: SimDuration,
    /// The paging service.
    pub pager: NodeId,
    /// The `UserReports` alert name, as a one-name set.
    pub alert: AlertSet,
}

/// The support desk.
#[derive(Clone, Debug)]
pub struct SupportDesk {
    spec: Arc<SupportSpec>,
    /// Actions started and succeeded, summed over the answers of the current period.
    period: (u64, u64),
    /// Since when users have been complaining (the period that first went over `share`).
    complaining_since: Option<SimTime>,
    reported: bool,
}

impl SupportDesk {
    pub fn new(spec: Arc<SupportSpec>) -> Self {
        SupportDesk {
            spec,
            period: (0, 0),
            complaining_since: None,
            reported: false,
        }
    }

    /// The desk opens: the first reading asks the clients, the first decision is a period later.
    pub fn start(&mut self, ctx: &mut impl Context) {
        self.ask(ctx);
    }

    pub fn on_message(&mut self, _from: NodeId, msg: Msg, _ctx: &mut impl Context) {
        if let Msg::Tickets { started, succeeded } = msg {
            self.period.0 += u64::from(started);
            self.period.1 += u64::from(succeeded.min(started));
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if timer != Timer::SupportPoll {
            return;
        }
        let (started, succeeded) = std::mem::take(&mut self.period);
        let failing_ppm = ((started - succeeded) * 1_000_000)
            .checked_div(started)
            .unwrap_or(0) as u32;
        let now = ctx.now();
        if failing_ppm > self.spec.share_ppm {
            let since = *self.complaining_since.get_or_insert(now);
            if !self.reported && now.saturating_since(since) >= self.spec.report_after {
                self.reported = true;
                ctx.note(Note::UsersReporting { failing_ppm });
                self.notify(true, ctx);
            }
        } else {
            self.complaining_since = None;
            if self.reported {
                self.reported = false;
                self.notify(false, ctx);
            }
        }
        self.ask(ctx);
    }

    fn ask(&mut self, ctx: &mut impl Context) {
        for &c in &self.spec.clients {
            ctx.send(c, Msg::TicketQuery);
        }
        ctx.set_timer(self.spec.every, Timer::SupportPoll);
    }

    fn notify(&self, firing: bool, ctx: &mut impl Context) {
        let msg = Msg::AlertNotify {
            rule: 0,
            firing,
            alerts: self.spec.alert,
        };
        ctx.send(self.spec.pager, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const PD: NodeId = 50;

    fn desk() -> (SupportDesk, Recorder) {
        let spec = SupportSpec {
            clients: vec![1, 2],
            every: SimDuration::from_secs(60),
            share_ppm: 50_000,
            report_after: SimDuration::from_secs(120),
            pager: PD,
            alert: 0b100,
        };
        let mut d = SupportDesk::new(Arc::new(spec));
        let mut ctx = Recorder::new(9);
        d.start(&mut ctx);
        (d, ctx)
    }

    /// A period in which the two populations started 100 actions each, `ok` of them succeeding
    /// in each; the reading at its end. What went to the paging service.
    fn period(d: &mut SupportDesk, ctx: &mut Recorder, end_s: u64, ok: u32) -> Vec<Msg> {
        for c in [1, 2] {
            let msg = Msg::Tickets {
                started: 100,
                succeeded: ok,
            };
            d.on_message(c, msg, ctx);
        }
        ctx.at(SimTime::from_secs(end_s));
        ctx.sent.clear();
        d.on_timer(Timer::SupportPoll, ctx);
        let asked = ctx.sent.iter().filter(|m| m.1 == Msg::TicketQuery).count();
        assert_eq!(asked, 2, "every population is asked again");
        ctx.sent.iter().filter(|m| m.0 == PD).map(|m| m.1).collect()
    }

    #[test]
    fn complaints_that_last_report_after_raise_an_incident_and_a_good_period_resolves_it() {
        let (mut d, mut ctx) = desk();
        let alert = |firing| Msg::AlertNotify {
            rule: 0,
            firing,
            alerts: 0b100,
        };
        assert!(
            period(&mut d, &mut ctx, 60, 96).is_empty(),
            "4 % failing: fine"
        );
        assert!(
            period(&mut d, &mut ctx, 120, 80).is_empty(),
            "complaints start"
        );
        assert!(
            period(&mut d, &mut ctx, 180, 80).is_empty(),
            "for 60 s of 120"
        );
        assert_eq!(period(&mut d, &mut ctx, 240, 80), vec![alert(true)]);
        assert!(ctx.notes.contains(&Note::UsersReporting {
            failing_ppm: 200_000
        }));
        assert!(period(&mut d, &mut ctx, 300, 10).is_empty(), "raised once");
        assert_eq!(period(&mut d, &mut ctx, 360, 100), vec![alert(false)]);
    }

    #[test]
    fn a_short_bad_spell_raises_nothing() {
        let (mut d, mut ctx) = desk();
        assert!(period(&mut d, &mut ctx, 60, 50).is_empty());
        assert!(period(&mut d, &mut ctx, 120, 50).is_empty());
        assert!(
            period(&mut d, &mut ctx, 180, 100).is_empty(),
            "over before 120 s"
        );
        assert!(
            period(&mut d, &mut ctx, 240, 50).is_empty(),
            "a new spell starts over"
        );
    }
}
