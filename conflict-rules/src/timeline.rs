//! The fold of a participation timeline: every assistant action replayed in the order
//! (business date, stamp, id) through [`crate::participation::step`]; what did not apply is
//! kept as rejected, with a notice for its author; an action that overtook later-dated
//! steps recorded before it tells its author which; a removal tells the other authors whose
//! work it took along. Working-time overlaps and the vacation summary come with it.

use std::collections::{BTreeMap, BTreeSet};

use model::timeline::{ActionOutcome, AssistantAction, ParticipationDetails, Timeline};
use model::{EntityId, ParticipationId, UserId};

use crate::notice::{Notice, NoticeKind, OvertakenStep, RuleLevel, digest, sort_notices};
use crate::participation::{Participation, Rejection, State, ordered, step};
use crate::vacation::{YearSummary, summary};
use crate::working_time::overlap_notices;

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineView {
    /// Live participations, in the order they were enrolled.
    pub participations: Vec<Participation>,
    /// The hand-edited fields of each live participation.
    pub details: BTreeMap<ParticipationId, ParticipationDetails>,
    /// Removed participations, with the action that removed them.
    pub removed: BTreeMap<ParticipationId, EntityId>,
    /// Every action that applied.
    pub applied: BTreeSet<EntityId>,
    /// Every action that did not, and why.
    pub rejected: BTreeMap<EntityId, Rejection>,
    /// The yearly vacation summary.
    pub vacation: BTreeMap<i32, YearSummary>,
}

impl TimelineView {
    pub fn participation(&self, id: &ParticipationId) -> Option<&Participation> {
        self.participations.iter().find(|p| &p.id == id)
    }

    /// What settling stores for each action.
    pub fn outcomes(&self) -> BTreeMap<EntityId, ActionOutcome> {
        let applied = self.applied.iter().map(|id| {
            (
                id.clone(),
                ActionOutcome {
                    applied: true,
                    reason: None,
                },
            )
        });
        let rejected = self.rejected.iter().map(|(id, reason)| {
            (
                id.clone(),
                ActionOutcome {
                    applied: false,
                    reason: Some(reason.code()),
                },
            )
        });
        applied.chain(rejected).collect()
    }
}

/// Every action of a timeline replayed in order through the status machine: the state
/// reached, and the ids that applied or did not (with the reason).
pub(crate) fn replay(
    actions: &BTreeMap<EntityId, AssistantAction>,
) -> (State, BTreeSet<EntityId>, BTreeMap<EntityId, Rejection>) {
    let mut state = State::default();
    let mut applied = BTreeSet::new();
    let mut rejected = BTreeMap::new();
    for (id, action) in ordered(actions) {
        match step(&mut state, id, action) {
            Ok(()) => {
                applied.insert(id.clone());
            }
            Err(reason) => {
                rejected.insert(id.clone(), reason);
            }
        }
    }
    (state, applied, rejected)
}

pub fn fold_timeline(timeline: &Timeline) -> (TimelineView, Vec<Notice>) {
    let (state, applied, rejected) = replay(&timeline.actions);
    let mut notices = Vec::new();
    for (id, action) in ordered(&timeline.actions) {
        match rejected.get(id) {
            None => {}
            Some(reason) => {
                notices.push(Notice::new(
                    format!("rejected:{id}"),
                    NoticeKind::ActionRejected {
                        action: id.clone(),
                        participation: action.participation.clone(),
                        action_name: action.kind.name(),
                        reason: reason.clone(),
                    },
                    [action.author.clone()],
                ));
            }
        }
    }

    notices.extend(overtaking_notices(&timeline.actions, &applied));

    let mut removed = BTreeMap::new();
    for (pid, (remover_id, actions)) in &state.removed {
        removed.insert(pid.clone(), remover_id.clone());
        let Some(remover) = timeline.actions.get(remover_id) else {
            continue;
        };
        let others: Vec<EntityId> = actions
            .iter()
            .filter(|id| {
                timeline
                    .actions
                    .get(*id)
                    .is_some_and(|a| a.author != remover.author)
            })
            .cloned()
            .collect();
        if others.is_empty() {
            continue;
        }
        let concerns: Vec<UserId> = others
            .iter()
            .filter_map(|id| timeline.actions.get(id).map(|a| a.author.clone()))
            .chain([remover.author.clone()])
            .collect();
        notices.push(Notice::new(
            format!("removed:{pid}"),
            NoticeKind::ParticipationRemoved {
                participation: pid.clone(),
                removed_by: remover.author.clone(),
                actions: others,
            },
            concerns,
        ));
    }

    notices.extend(overlap_notices(
        RuleLevel::Participant,
        &timeline.working_time,
    ));

    let mut participations: Vec<Participation> = state.participations.into_values().collect();
    participations.sort_by(|a, b| a.enrolled.cmp(&b.enrolled).then_with(|| a.id.cmp(&b.id)));
    let details = participations
        .iter()
        .filter_map(|p| {
            timeline
                .details
                .get(&p.id)
                .map(|d| (p.id.clone(), d.clone()))
        })
        .collect();
    let mut notices: Vec<Notice> = notices
        .into_iter()
        .map(|n| n.with_acknowledgements(&timeline.acknowledgements))
        .collect();
    sort_notices(&mut notices);
    (
        TimelineView {
            participations,
            details,
            removed,
            applied,
            rejected,
            vacation: summary(&timeline.vacation),
        },
        notices,
    )
}

/// A notice for the author of each applied dated action that overtook later work: steps
/// of the same participation recorded before it (earlier stamp) but dated after it, which
/// the order by business date now applies after it. Its id names the action and the steps,
/// so a step that arrives later makes a new notice.
fn overtaking_notices(
    actions: &BTreeMap<EntityId, AssistantAction>,
    applied: &BTreeSet<EntityId>,
) -> Vec<Notice> {
    let mut by_participation: BTreeMap<&ParticipationId, Vec<(&EntityId, &AssistantAction)>> =
        BTreeMap::new();
    for (id, action) in ordered(actions) {
        if !action.kind.is_correction() {
            by_participation
                .entry(&action.participation)
                .or_default()
                .push((id, action));
        }
    }
    let mut notices = Vec::new();
    for steps in by_participation.values() {
        for (i, (id, action)) in steps.iter().enumerate() {
            if !applied.contains(*id) {
                continue;
            }
            let overtaken: Vec<OvertakenStep> = steps[i + 1..]
                .iter()
                .filter(|(_, later)| {
                    later.business_date > action.business_date && later.stamp < action.stamp
                })
                .map(|(later_id, later)| OvertakenStep {
                    action: (*later_id).clone(),
                    action_name: later.kind.name(),
                    business_date: later.business_date,
                    applied: applied.contains(*later_id),
                })
                .collect();
            if overtaken.is_empty() {
                continue;
            }
            let steps_digest = digest(overtaken.iter().map(|s| s.action.as_str()));
            notices.push(Notice::new(
                format!("overtook:{id}:{steps_digest}"),
                NoticeKind::OvertookLaterSteps {
                    action: (*id).clone(),
                    participation: action.participation.clone(),
                    action_name: action.kind.name(),
                    business_date: action.business_date,
                    overtaken,
                },
                [action.author.clone()],
            ));
        }
    }
    notices
}

#[cfg(test)]
mod tests;
