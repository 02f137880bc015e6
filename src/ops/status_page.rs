//! The status page: what the public is told, as Atlassian Statuspage models it.
//!
//! Components (one per service) each have a state: `operational`, `degraded_performance`,
//! `partial_outage`, `major_outage` or `under_maintenance`; an incident moves through the
//! stages `investigating`, `identified`, `monitoring` and `resolved`, each update a post
//! subscribers see. Nothing here changes by itself: people or automation post to it, so the
//! page says "operational" until someone says otherwise, which is what the measurement of
//! "operational while users were failing" reads.
//!
//! It is a hosted service on infrastructure of its own (the plan requires it): its node going
//! down makes posts fail (they are lost, as an API call that timed out), but it keeps what it
//! showed. It owns the page's state. It does not own who posts or when (`ops::runbook`), nor
//! what users saw (`measure/`).

use crate::logic::{ComponentState, Context, Msg, NodeId, Note};

/// The page: each component's state, and the current incident's stage.
#[derive(Clone, Debug)]
pub struct StatusPage {
    components: Vec<ComponentState>,
}

impl StatusPage {
    /// A page with `components` components, all operational.
    pub fn new(components: usize) -> Self {
        StatusPage {
            components: vec![ComponentState::Operational; components],
        }
    }

    /// A post changes a component's state (noted when it changes) or updates the incident
    /// (every update is a post of its own, noted).
    pub fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::StatusPost { component, state } => {
                let Some(c) = self.components.get_mut(component as usize) else {
                    return;
                };
                if *c != state {
                    *c = state;
                    ctx.note(Note::StatusChanged { component, state });
                }
            }
            Msg::StatusUpdate { stage } => ctx.note(Note::StatusUpdated { stage }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::IncidentStage;
    use crate::logic::testing::Recorder;

    #[test]
    fn a_component_change_is_noted_once_and_every_update_is_a_post() {
        let mut page = StatusPage::new(2);
        let mut ctx = Recorder::new(1);
        let post = |state| Msg::StatusPost {
            component: 1,
            state,
        };
        page.on_message(7, post(ComponentState::MajorOutage), &mut ctx);
        page.on_message(7, post(ComponentState::MajorOutage), &mut ctx);
        page.on_message(7, post(ComponentState::Operational), &mut ctx);
        let update = Msg::StatusUpdate {
            stage: IncidentStage::Identified,
        };
        page.on_message(7, update, &mut ctx);
        page.on_message(7, update, &mut ctx);
        let changed = |state| Note::StatusChanged {
            component: 1,
            state,
        };
        let updated = Note::StatusUpdated {
            stage: IncidentStage::Identified,
        };
        assert_eq!(
            ctx.notes,
            vec![
                changed(ComponentState::MajorOutage),
                changed(ComponentState::Operational),
                updated,
                updated
            ]
        );
        page.on_message(
            7,
            Msg::StatusPost {
                component: 9,
                state: ComponentState::MajorOutage,
            },
            &mut ctx,
        );
        assert_eq!(ctx.notes.len(), 4, "no such component: ignored");
    }
}
