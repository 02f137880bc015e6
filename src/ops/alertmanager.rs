//! Alertmanager: groups the alerts of the monitoring servers and notifies the paging service
//! once per group, with Alertmanager's timers (`docs/configuration.md`, `route`;
//! `dispatch/dispatch.go`, `aggrGroup`):
//!
//! - Alerts are grouped by `group_by` (here: by alert name, or all in one group).
//! - A new group waits `group_wait` before its first notification, so alerts of one incident
//!   arriving together go out together.
//! - After that the group is flushed every `group_interval`: it notifies when its alerts
//!   changed (one added or resolved) since the last notification, or when `repeat_interval`
//!   has passed since then.
//! - An alert the server stopped re-sending expires: Prometheus sets `endsAt` to four times
//!   `max(resend_delay, evaluation_interval)` after each send, and Alertmanager takes it as
//!   resolved after that. So a monitoring server that goes dark resolves its alerts here.
//! - A group whose alerts all resolved sends a resolve (PagerDuty's `send_resolved` is on by
//!   default) and starts over as a new group at its next alert.
//!
//! It owns the groups and their timers. It does not own when an alert fires
//! (`ops::monitoring`) nor incidents and escalation (`ops::paging`).

use crate::logic::{AlertSet, Context, Msg, NodeId, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// How the monitoring servers' alerts map to groups, and the timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertmanagerSpec {
    /// Per monitoring server: its node, and the group of each of its rules.
    pub servers: Vec<(NodeId, Vec<u16>)>,
    pub groups: usize,
    pub group_wait: SimDuration,
    pub group_interval: SimDuration,
    pub repeat_interval: SimDuration,
    /// Per server (same order): how long after a send its alert expires unless sent again.
    pub expiry: Vec<SimDuration>,
    /// The paging service it notifies.
    pub pager: NodeId,
}

/// One aggregation group.
#[derive(Clone, Debug, Default)]
struct Group {
    /// Firing alerts, as (server index, rule) with when they expire.
    firing: Vec<((usize, u16), SimTime)>,
    /// The names of the alerts that joined it (what its notifications are about).
    names: AlertSet,
    /// Whether the alerts changed since the last notification.
    changed: bool,
    /// Whether a flush is scheduled (the group exists).
    active: bool,
    /// The last notification: when, and whether it was a trigger.
    notified: Option<(SimTime, bool)>,
    token: u32,
}

#[derive(Clone, Debug)]
pub struct Alertmanager {
    spec: Arc<AlertmanagerSpec>,
    groups: Vec<Group>,
}

impl Alertmanager {
    pub fn new(spec: Arc<AlertmanagerSpec>) -> Self {
        Alertmanager {
            groups: vec![Group::default(); spec.groups],
            spec,
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        let Msg::AlertNotify {
            rule,
            firing,
            alerts,
        } = msg
        else {
            return;
        };
        let Some(server) = self.spec.servers.iter().position(|s| s.0 == from) else {
            return;
        };
        let Some(&g) = self.spec.servers[server].1.get(rule as usize) else {
            return;
        };
        let key = (server, rule);
        let expires = ctx.now() + self.spec.expiry[server];
        let group = &mut self.groups[g as usize];
        let known = group.firing.iter().position(|a| a.0 == key);
        match (known, firing) {
            (Some(k), true) => group.firing[k].1 = expires,
            (None, true) => {
                group.firing.push((key, expires));
                group.names |= alerts;
                group.changed = true;
            }
            (Some(k), false) => {
                group.firing.remove(k);
                group.changed = true;
            }
            (None, false) => return,
        }
        if !group.active && firing {
            group.active = true;
            group.token += 1;
            let token = group.token;
            let group = g;
            ctx.set_timer(self.spec.group_wait, Timer::GroupFlush { group, token });
        }
    }

    /// Aggregation groups live in memory: a restart starts with none (alerts still firing
    /// are re-sent by the servers within a minute and form new groups).
    pub fn crash(&mut self) {
        self.groups = vec![Group::default(); self.spec.groups];
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if let Timer::GroupFlush { group, token } = timer
            && self
                .groups
                .get(group as usize)
                .is_some_and(|g| g.token == token)
        {
            self.flush(group, ctx);
        }
    }

    /// Notifies the paging service of the group's state if it changed (or is due again), and
    /// keeps flushing every `group_interval` while the group has alerts.
    fn flush(&mut self, g: u16, ctx: &mut impl Context) {
        let now = ctx.now();
        let spec = Arc::clone(&self.spec);
        let group = &mut self.groups[g as usize];
        let before = group.firing.len();
        group.firing.retain(|a| a.1 > now);
        group.changed |= group.firing.len() != before;
        let firing = !group.firing.is_empty();
        let repeat = group
            .notified
            .is_some_and(|(t, f)| f && now.saturating_since(t) >= spec.repeat_interval);
        let was_firing = group.notified.is_some_and(|n| n.1);
        if (group.changed && (firing || was_firing)) || (firing && repeat) {
            let alerts = group.names;
            let notify = Msg::AlertNotify {
                rule: g,
                firing,
                alerts,
            };
            ctx.send(spec.pager, notify);
            group.notified = Some((now, firing));
            group.changed = false;
        }
        if firing {
            group.token += 1;
            let token = group.token;
            ctx.set_timer(spec.group_interval, Timer::GroupFlush { group: g, token });
        } else {
            *group = Group {
                token: group.token + 1,
                ..Group::default()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const AM: NodeId = 60;
    const PD: NodeId = 50;
    const PROM_A: NodeId = 40;
    const PROM_B: NodeId = 41;

    fn spec() -> Arc<AlertmanagerSpec> {
        Arc::new(AlertmanagerSpec {
            // Both servers have rules ZoneDown (group 0) and PostgresDown (group 1).
            servers: vec![(PROM_A, vec![0, 1]), (PROM_B, vec![0, 1])],
            groups: 2,
            group_wait: SimDuration::from_secs(30),
            group_interval: SimDuration::from_secs(300),
            repeat_interval: SimDuration::from_secs(3600),
            expiry: vec![SimDuration::from_secs(240); 2],
            pager: PD,
        })
    }

    /// What went to the paging service since the last call.
    fn to_pager(ctx: &mut Recorder) -> Vec<Msg> {
        let out = ctx.sent.iter().filter(|x| x.0 == PD).map(|x| x.1).collect();
        ctx.sent.clear();
        out
    }

    /// Fires every timer due up to `t`, in time order, and moves the clock to `t`.
    fn until(am: &mut Alertmanager, ctx: &mut Recorder, t: u64) {
        let t = SimTime::from_secs(t);
        loop {
            ctx.timers.sort_by_key(|x| x.0);
            let Some(k) = ctx.timers.iter().position(|x| x.0 <= t) else {
                break;
            };
            let (at, timer) = ctx.timers.remove(k);
            ctx.at(at);
            am.on_timer(timer, ctx);
        }
        ctx.at(t);
    }

    fn alert(am: &mut Alertmanager, ctx: &mut Recorder, from: NodeId, rule: u16, firing: bool) {
        let alerts = 1 << rule;
        let notify = Msg::AlertNotify {
            rule,
            firing,
            alerts,
        };
        am.on_message(from, notify, ctx);
    }

    #[test]
    fn alerts_of_one_group_go_out_together_after_group_wait() {
        let mut am = Alertmanager::new(spec());
        let mut ctx = Recorder::new(AM);
        alert(&mut am, &mut ctx, PROM_A, 0, true);
        until(&mut am, &mut ctx, 10);
        alert(&mut am, &mut ctx, PROM_B, 0, true);
        until(&mut am, &mut ctx, 29);
        assert!(to_pager(&mut ctx).is_empty(), "group_wait");
        until(&mut am, &mut ctx, 30);
        let trigger = Msg::AlertNotify {
            rule: 0,
            firing: true,
            alerts: 1,
        };
        assert_eq!(
            to_pager(&mut ctx),
            vec![trigger],
            "one notification for both"
        );
    }

    #[test]
    fn changes_wait_for_group_interval_and_a_resolved_group_resolves_its_incident() {
        let mut am = Alertmanager::new(spec());
        let mut ctx = Recorder::new(AM);
        alert(&mut am, &mut ctx, PROM_A, 1, true);
        until(&mut am, &mut ctx, 30);
        to_pager(&mut ctx);
        alert(&mut am, &mut ctx, PROM_A, 1, false);
        until(&mut am, &mut ctx, 329);
        assert!(to_pager(&mut ctx).is_empty(), "group_interval");
        until(&mut am, &mut ctx, 330);
        let resolve = Msg::AlertNotify {
            rule: 1,
            firing: false,
            alerts: 2,
        };
        assert_eq!(to_pager(&mut ctx), vec![resolve]);
        alert(&mut am, &mut ctx, PROM_A, 1, true);
        until(&mut am, &mut ctx, 360);
        let trigger = Msg::AlertNotify {
            rule: 1,
            firing: true,
            alerts: 2,
        };
        assert_eq!(
            to_pager(&mut ctx),
            vec![trigger],
            "a new group: group_wait again"
        );
    }

    #[test]
    fn an_alert_no_longer_sent_expires_and_resolves() {
        let mut am = Alertmanager::new(spec());
        let mut ctx = Recorder::new(AM);
        alert(&mut am, &mut ctx, PROM_A, 0, true);
        until(&mut am, &mut ctx, 30);
        to_pager(&mut ctx);
        // The server went dark: no re-send. Expired at 240 s, seen at the 330 s flush.
        until(&mut am, &mut ctx, 330);
        let resolve = Msg::AlertNotify {
            rule: 0,
            firing: false,
            alerts: 1,
        };
        assert_eq!(to_pager(&mut ctx), vec![resolve]);
    }

    #[test]
    fn an_unchanged_group_is_notified_again_after_repeat_interval() {
        let mut am = Alertmanager::new(spec());
        let mut ctx = Recorder::new(AM);
        for t in (0..=3900).step_by(60) {
            until(&mut am, &mut ctx, t);
            alert(&mut am, &mut ctx, PROM_A, 0, true); // re-sent every minute
        }
        let sent: Vec<Msg> = to_pager(&mut ctx);
        // At 30 s, then at the first flush an hour or more later: 30 + 12 × 300 = 3630 s.
        assert_eq!(sent.len(), 2, "{sent:?}");
    }
}
