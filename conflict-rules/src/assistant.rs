//! The assistant ("Assistent für Maßnahmeänderungen"): what it offers in each status
//! ([`offers`], [`available_actions`]), and [`apply`], which records an action only if the
//! status machine ([`crate::participation`]) applies it in the state the timeline has
//! reached and it leaves every later action applying, so a person is never allowed to
//! record what could not apply. The machine's types are re-exported here, because they are
//! the assistant's vocabulary for the screens.

use std::collections::BTreeSet;

use model::timeline::{ActionKind, AssistantAction, Timeline, TimelineError};
use model::{Date, Document, Editor, EntityId, NodeId, ParticipationId, Stamp};

pub use crate::participation::{Participation, Rejection, Section, SectionKind, Status};
use crate::timeline::{TimelineView, fold_timeline};

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
    #[error(transparent)]
    Document(#[from] model::DocumentError),
}

/// Records an action through the assistant: only if it applies in the current state, and
/// only if, placed at its business date, it leaves every action that applied before still
/// applying. Returns the action's id.
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
    Ok(doc.record_action(editor, participation, business_date, kind)?)
}

#[cfg(test)]
mod tests;
