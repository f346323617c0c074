use std::collections::{HashMap, HashSet};

use crate::{
    DialerId, DocSearchPhase, DocumentActorId,
    actors::hub::{
        dialer::{DialerState, DialerStatus},
        state::ActorInfo,
    },
};

pub(super) struct Searches {
    pub(super) phases: HashMap<DocumentActorId, DocSearchPhase>,
    pub(super) last_dialers: HashMap<DialerId, DialerStatus>,
    /// Case-records patch: the actors whose search phase was set since the last pop;
    /// only they can have a new phase to report (unless the dialers changed).
    changed: HashSet<DocumentActorId>,
}

impl Searches {
    pub(super) fn new() -> Self {
        Self {
            phases: HashMap::new(),
            last_dialers: HashMap::new(),
            changed: HashSet::new(),
        }
    }

    pub(super) fn mark_changed(&mut self, actor: DocumentActorId) {
        self.changed.insert(actor);
    }

    pub(super) fn add_search(&mut self, actor: DocumentActorId, phase: DocSearchPhase) {
        self.phases.insert(actor, phase);
    }

    pub(super) fn pop_state_updates(
        &mut self,
        actors: &HashMap<DocumentActorId, ActorInfo>,
        dialers: &HashMap<DialerId, DialerState>,
    ) -> HashMap<DocumentActorId, DocSearchPhase> {
        let new_dialer_state = dialers
            .iter()
            .map(|(dialer_id, state)| (*dialer_id, state.status.clone()))
            .collect::<HashMap<DialerId, DialerStatus>>();
        let dialers_changed = self.last_dialers != new_dialer_state;
        self.last_dialers = new_dialer_state;

        // Case-records patch: visiting every actor on every event made each event
        // cost O(documents); only the changed ones can differ from their last phase.
        let mut result = HashMap::new();
        let changed = std::mem::take(&mut self.changed);
        let mut visit = |actor_id: &DocumentActorId, actor: &ActorInfo| {
            let last_phase = self.phases.get(actor_id);
            if last_phase != Some(&actor.search_phase) || dialers_changed {
                result.insert(*actor_id, actor.search_phase.clone());
            }
            self.phases.insert(*actor_id, actor.search_phase.clone());
        };
        if dialers_changed {
            actors.iter().for_each(|(id, actor)| visit(id, actor));
        } else {
            for actor_id in &changed {
                if let Some(actor) = actors.get(actor_id) {
                    visit(actor_id, actor);
                }
            }
        }
        result
    }
}
