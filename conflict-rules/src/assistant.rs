//! The assistant ("Assistent für Maßnahmeänderungen"): what it offers in each status
//! ([`offers`], [`available_actions`]), and [`apply`], which records an action only if the
//! status machine ([`crate::participation`]) applies it in the state the timeline has
//! reached and it leaves every later action applying, so a person is never allowed to
//! record what could not apply. Nor what would apply but not as recorded: placed at its
//! business date, the action must make of the timeline exactly what it makes of the
//! current state, or it is refused as [`AssistantError::Overtaken`] with the date from
//! which it would (an end dated before a later resume would otherwise be re-opened by it,
//! and cut the interruption short). [`earliest_date`] is the date the screens propose.
//! The machine's types are re-exported here, because they are the assistant's vocabulary
//! for the screens.

use std::collections::BTreeSet;

use model::timeline::{ActionKind, AssistantAction, Timeline, TimelineError};
use model::{Date, Document, Editor, EntityId, NodeId, ParticipationId, Stamp};

use crate::participation::step;
pub use crate::participation::{Participation, Rejection, Section, SectionKind, Status};
use crate::timeline::{TimelineView, fold_timeline, replay};

/// An entry of the assistant's first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offer {
    /// "Teilnehmer in eine (neue) Maßnahme einbuchen", always offered.
    Enrol,
    Activate,
    /// "in eine andere XXX-Maßnahme umbuchen".
    Transfer,
    End,
    Abort,
    Suspend,
    Resume,
    Remove,
    CorrectProgramme,
    CorrectEntry,
    ChangeStage,
    RecordResult,
}

/// What the assistant offers for a participation in `status`, in the manual's order.
/// Stage changes only where the programme has stages; no resuming what a successor
/// carries on.
pub fn offers(status: Status, has_stages: bool, transferred: bool) -> Vec<Offer> {
    let mut offers = vec![Offer::Enrol];
    offers.extend(match status {
        Status::WaitingList => vec![Offer::Activate],
        Status::Active => vec![Offer::Transfer, Offer::End, Offer::Abort, Offer::Suspend],
        Status::Inactive => vec![Offer::Resume, Offer::End, Offer::Abort],
        Status::Ended | Status::Aborted if transferred => vec![Offer::RecordResult],
        Status::Ended | Status::Aborted => vec![Offer::Resume, Offer::RecordResult],
    });
    if status == Status::Active && has_stages {
        offers.push(Offer::ChangeStage);
    }
    offers.extend([Offer::Remove, Offer::CorrectProgramme, Offer::CorrectEntry]);
    offers
}

/// What the assistant offers for a participation of a folded timeline; for a person in no
/// participation, only enrolment.
pub fn available_actions(
    view: &TimelineView,
    participation: Option<&ParticipationId>,
) -> Vec<Offer> {
    match participation.and_then(|id| view.participation(id)) {
        Some(p) => offers(
            p.status,
            !p.programme.stages.is_empty(),
            p.successor.is_some(),
        ),
        None => vec![Offer::Enrol],
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    #[error(transparent)]
    Input(#[from] TimelineError),
    #[error("the assistant cannot do this now: {}", .0.code())]
    Rejected(Rejection),
    #[error("dated like this, it would undo {} later step(s); choose a later date", .0.len())]
    WouldUndo(Vec<EntityId>),
    /// Placed at its business date it would still apply, but later steps of the
    /// participation would change what it does (a resume re-opening what it ends, a
    /// section it closes cut short): the view would not show it as recorded.
    #[error("dated like this, later steps would change it; choose a later date")]
    Overtaken {
        later: Vec<EntityId>,
        /// The earliest date from which it would apply as recorded, if known.
        not_before: Option<Date>,
    },
    #[error(transparent)]
    Document(#[from] model::DocumentError),
}

/// Records an action through the assistant: only if it applies in the current state, only
/// if, placed at its business date, it leaves every action that applied before still
/// applying, and only if the fold then shows exactly what applying it to the current state
/// shows (the same participations, sections, status and result): an action is never
/// recorded as "saved" while later steps hide or change it. Returns the action's id.
pub fn apply(
    doc: &mut Document<Timeline>,
    editor: &mut Editor,
    participation: Option<&ParticipationId>,
    business_date: Date,
    kind: ActionKind,
) -> Result<EntityId, AssistantError> {
    model::timeline::check_action_input(&kind)?;
    let mut timeline = doc.read()?;
    let (before, _) = fold_timeline(&timeline);
    if participation.is_some_and(|p| before.removed.contains_key(p)) {
        return Err(AssistantError::Rejected(Rejection::Removed));
    }
    // The stamp the action will get is later than every stamp in the document, so a
    // stamp from the end of time orders it the same way.
    let probe_id = EntityId::new("~probe");
    let mut probe_kind = kind.clone();
    if let ActionKind::Transfer(t) = &mut probe_kind {
        t.successor = EntityId::new("~probe.next");
    }
    let probe = AssistantAction {
        participation: participation.cloned().unwrap_or_else(|| probe_id.clone()),
        business_date,
        stamp: Stamp::new(u64::MAX, u64::MAX, NodeId::new("~")),
        author: editor.user().clone(),
        kind: probe_kind,
    };
    timeline.actions.insert(probe_id.clone(), probe);
    let (after, _) = fold_timeline(&timeline);
    if let Some(reason) = after.rejected.get(&probe_id) {
        return Err(AssistantError::Rejected(reason.clone()));
    }
    let undone: Vec<EntityId> = before
        .applied
        .difference(&after.applied)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !undone.is_empty() {
        return Err(AssistantError::WouldUndo(undone));
    }
    // As recorded: the state the fold reaches with the action placed at its date must be
    // the state the action makes of the current one.
    let mut expected = replay(&timeline.actions).0;
    let probe = timeline.actions.remove(&probe_id);
    let (mut current, _, _) = replay(&timeline.actions);
    if let Some(probe) = &probe {
        let now = step(&mut current, &probe_id, probe);
        if let Err(reason) = &now
            && *reason != Rejection::BeforeSectionStart
        {
            return Err(AssistantError::Rejected(reason.clone()));
        }
        std::mem::swap(&mut expected, &mut current);
        // `expected` is now the current state with the action applied to it, `current`
        // the fold with the action at its date. An action that ends the current section
        // before it started is dated before the step that started it.
        if now.is_err() || expected != current {
            let target = participation.cloned().unwrap_or(probe_id.clone());
            let later = later_actions(&timeline.actions, &target, business_date);
            let from_sections = offer_of(&probe.kind).and_then(|offer| {
                before
                    .participation(&target)
                    .and_then(|p| earliest_date(p, offer))
            });
            let not_before = later
                .iter()
                .filter_map(|id| timeline.actions.get(id))
                .map(|a| a.business_date)
                .chain(from_sections)
                .max()
                .filter(|d| *d > business_date);
            return Err(AssistantError::Overtaken { later, not_before });
        }
    }
    Ok(doc.record_action(editor, participation, business_date, kind)?)
}

/// The offer that records an action of this kind.
fn offer_of(kind: &ActionKind) -> Option<Offer> {
    Some(match kind {
        ActionKind::Enrol(_) => Offer::Enrol,
        ActionKind::Activate { .. } => Offer::Activate,
        ActionKind::Transfer(_) => Offer::Transfer,
        ActionKind::End { .. } => Offer::End,
        ActionKind::Abort { .. } => Offer::Abort,
        ActionKind::Suspend { .. } => Offer::Suspend,
        ActionKind::Resume { .. } => Offer::Resume,
        ActionKind::ChangeStage { .. } => Offer::ChangeStage,
        ActionKind::RecordResult { .. } => Offer::RecordResult,
        ActionKind::Remove
        | ActionKind::CorrectProgramme { .. }
        | ActionKind::CorrectEntry { .. }
        | ActionKind::CorrectSection(_) => return None,
    })
}

/// The dated actions of `participation` that applied and come after `business_date`:
/// the steps an action dated then would be placed before.
fn later_actions(
    actions: &std::collections::BTreeMap<EntityId, AssistantAction>,
    participation: &ParticipationId,
    business_date: Date,
) -> Vec<EntityId> {
    let (state, applied, _) = replay(actions);
    let mine: BTreeSet<&EntityId> = state
        .participations
        .get(participation)
        .map(|p| p.actions.iter().collect())
        .unwrap_or_default();
    actions
        .iter()
        .filter(|(id, a)| {
            mine.contains(id)
                && applied.contains(*id)
                && !a.kind.is_correction()
                && a.business_date > business_date
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The earliest date the assistant proposes for `offer` on `p`: no earlier than the
/// days its sections already reached, so the action comes after every step that shaped
/// them. An action that ends the current section may do so on its latest day; one that
/// starts a new section starts the day after. None where the date is free.
pub fn earliest_date(p: &Participation, offer: Offer) -> Option<Date> {
    // An interruption still open began the day after the suspension: the suspension's
    // day is the one reached.
    let latest = p
        .sections
        .iter()
        .flat_map(|s| match (s.kind, s.actual_end) {
            (SectionKind::Interruption, None) => [s.actual_start.map(Date::pred), None],
            _ => [s.actual_start, s.actual_end],
        })
        .flatten()
        .max()?;
    match offer {
        Offer::End | Offer::Abort | Offer::Suspend | Offer::RecordResult => Some(latest),
        Offer::Activate | Offer::Transfer | Offer::Resume | Offer::ChangeStage => {
            Some(latest.succ())
        }
        Offer::Enrol | Offer::Remove | Offer::CorrectProgramme | Offer::CorrectEntry => None,
    }
}

#[cfg(test)]
mod tests;
