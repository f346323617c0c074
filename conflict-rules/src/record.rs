//! The fold of a client record: its status, the one primary caretaker, the
//! responsibilities (including the caretakers that losing claims leave behind), the notes
//! newest first, and the notices of what merges decided.
//!
//! # Rules
//! - **Primary caretaker.** Claims name the claims their author saw (`supersedes`); the
//!   claims nobody supersedes are the heads. One head is the primary caretaker. Between
//!   several heads (concurrent claims): a manual claim beats an automatic one; between
//!   manual claims the later stamp wins; between automatic ones the earlier wins (the
//!   first to take the person up); equal stamps cannot happen, ids break ties anyway. The
//!   users of the losing heads stay on as ordinary caretakers, and everyone involved gets a
//!   [`NoticeKind::PrimaryConflict`], unless every head names the same user.
//! - **Settlement.** A settlement claim restates the winner of the heads it supersedes, with
//!   the winner's kind and stamp. A conflict stays explained (notice, caretakers) once a
//!   later claim supersedes its heads, whether a server settled it first or a person
//!   assigned someone new: the outcome never depends on when settling ran.
//! - **Lock.** Between concurrent lock events the safer wins: an indefinite lock, then the
//!   lock that lasts longer, then unlocking. **Deletion.** Between concurrent deletion
//!   events restoring wins, because a purge cannot be undone. Both report a notice.
//! - **Notes.** Deleted notes are hidden; if the deleter had not seen the latest edit, the
//!   editor and the deleter are told, and the tombstone still holds the text.

use std::collections::{BTreeMap, BTreeSet};

use model::client_record::{
    ClaimKind, ClaimOrigin, ClientRecord, DeletionChange, LockChange, PrimaryClaim, Responsibility,
    ResponsibilityKind,
};
use model::{Date, EntityId, Period, Stamp, Supersedes, UserId, heads};

use crate::notice::{Notice, NoticeKind, digest, sort_notices};

#[derive(Debug, Clone, PartialEq)]
pub struct RecordView {
    pub primary: Option<PrimaryCaretaker>,
    /// Explicit responsibilities and the caretakers left by losing claims, by id.
    pub responsibilities: BTreeMap<EntityId, Responsibility>,
    pub status: ClientStatus,
    /// Notes that are not deleted, newest first.
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryCaretaker {
    pub user: UserId,
    pub claim: EntityId,
    pub kind: ClaimKind,
    pub since: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteView {
    pub id: EntityId,
    pub text: String,
    pub author: UserId,
    pub created: Stamp,
    pub edited: Option<Stamp>,
}

/// "aktiviert", "gesperrt", "gelöscht". A lock until a day needs today's date to tell
/// whether it still holds: [`ClientStatus::on`] asks for it, so the fold needs no clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    Locked { until: Option<Date> },
    Deleted { on: Date },
}

/// The status as it stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectiveStatus {
    Active,
    Locked,
    Deleted,
}

impl ClientStatus {
    pub fn on(self, today: Date) -> EffectiveStatus {
        match self {
            ClientStatus::Active => EffectiveStatus::Active,
            ClientStatus::Locked { until: Some(until) } if until < today => EffectiveStatus::Active,
            ClientStatus::Locked { .. } => EffectiveStatus::Locked,
            ClientStatus::Deleted { .. } => EffectiveStatus::Deleted,
        }
    }

    /// Locked and deleted clients cannot log in.
    pub fn may_log_in(self, today: Date) -> bool {
        self.on(today) == EffectiveStatus::Active
    }
}

/// Whether claim `a` beats claim `b` under the rules above.
fn claim_beats(a: (&EntityId, &PrimaryClaim), b: (&EntityId, &PrimaryClaim)) -> bool {
    let (a_id, a) = a;
    let (b_id, b) = b;
    match (a.kind, b.kind) {
        (ClaimKind::Manual, ClaimKind::Automatic) => true,
        (ClaimKind::Automatic, ClaimKind::Manual) => false,
        (ClaimKind::Manual, ClaimKind::Manual) => (&a.stamp, a_id) > (&b.stamp, b_id),
        (ClaimKind::Automatic, ClaimKind::Automatic) => (&a.stamp, a_id) < (&b.stamp, b_id),
    }
}

/// The winner among rival claims; `None` only for no rivals.
pub fn winning_claim<'a>(
    claims: &'a BTreeMap<EntityId, PrimaryClaim>,
    rivals: &[EntityId],
) -> Option<&'a EntityId> {
    let mut best: Option<(&EntityId, &PrimaryClaim)> = None;
    for id in rivals {
        let Some((id, claim)) = claims.get_key_value(id) else {
            continue;
        };
        best = match best {
            Some(current) if !claim_beats((id, claim), current) => Some(current),
            _ => Some((id, claim)),
        };
    }
    best.map(|(id, _)| id)
}

/// The claim a person made that `id` stands for: settlement claims restate the winner of
/// the claims they supersede, so the view never names a settlement as the claim.
fn restated<'a>(
    claims: &'a BTreeMap<EntityId, PrimaryClaim>,
    mut id: &'a EntityId,
) -> &'a EntityId {
    // Each step goes to a claim the previous one supersedes, so it ends; the bound only
    // guards against a document edited by hand into a cycle.
    for _ in 0..claims.len() {
        match claims.get(id) {
            Some(claim) if claim.origin == ClaimOrigin::Settlement => {
                match winning_claim(claims, &claim.supersedes) {
                    Some(next) => id = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    id
}

/// The id of the settlement of a set of rival claims, and of its notice.
pub fn conflict_id(rivals: &[EntityId]) -> String {
    let mut sorted: Vec<&str> = rivals.iter().map(EntityId::as_str).collect();
    sorted.sort_unstable();
    digest(sorted)
}

/// The id of the caretaker responsibility a losing claim leaves behind.
pub fn caretaker_id(losing_claim: &EntityId) -> EntityId {
    EntityId::new(format!("caretaker-{losing_claim}"))
}

/// One decided conflict among claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimConflict {
    pub rivals: Vec<EntityId>,
    pub winner: EntityId,
}

/// The conflicts to explain: every set of concurrent claims that a later claim (a person's
/// or a settlement) superseded together, and the current heads if there are several. A
/// conflict stays explained whether or not a server settled it before someone moved on.
pub fn claim_conflicts(claims: &BTreeMap<EntityId, PrimaryClaim>) -> Vec<ClaimConflict> {
    let mut rival_sets: BTreeSet<Vec<EntityId>> = claims
        .values()
        .filter(|c| c.supersedes.len() > 1)
        .map(|c| sorted(&c.supersedes))
        .collect();
    let current = heads(claims);
    if current.len() > 1 {
        rival_sets.insert(sorted(&current));
    }
    rival_sets
        .into_iter()
        .filter_map(|rivals| {
            let winner = winning_claim(claims, &rivals)?.clone();
            Some(ClaimConflict { rivals, winner })
        })
        .collect()
}

fn sorted(ids: &[EntityId]) -> Vec<EntityId> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// The caretaker responsibility a losing claim leaves, as settling writes it.
pub fn loser_caretaker(record: &ClientRecord, claim: &PrimaryClaim) -> Responsibility {
    Responsibility {
        kind: ResponsibilityKind::Caretaker,
        label: ResponsibilityKind::Caretaker.german().to_owned(),
        user: claim.user.clone(),
        user_tenant: record.tenant.clone(),
        valid: Period::open(),
        deactivated: false,
        created: claim.stamp.clone(),
        created_by: claim.by.clone(),
    }
}

/// The losers of a conflict that leave a caretaker: every losing claim whose user is not
/// the winner's and not already a caretaker by an explicit responsibility.
pub fn caretaking_losers<'a>(
    record: &'a ClientRecord,
    conflict: &ClaimConflict,
) -> Vec<(&'a EntityId, &'a PrimaryClaim)> {
    let Some(winner) = record.primary_claims.get(&conflict.winner) else {
        return Vec::new();
    };
    let explicit_caretakers: BTreeSet<&UserId> = record
        .responsibilities
        .iter()
        .filter(|(id, r)| {
            r.kind == ResponsibilityKind::Caretaker && !id.as_str().starts_with("caretaker-")
        })
        .map(|(_, r)| &r.user)
        .collect();
    conflict
        .rivals
        .iter()
        .filter(|id| **id != conflict.winner)
        .filter_map(|id| record.primary_claims.get_key_value(id))
        .filter(|(_, claim)| {
            claim.user != winner.user && !explicit_caretakers.contains(&claim.user)
        })
        .collect()
}

/// Resolves concurrent lock events: the safer change wins.
fn lock_rank(change: &LockChange) -> (u8, Option<Date>) {
    match change {
        LockChange::Lock { until: None } => (2, None),
        LockChange::Lock { until } => (1, *until),
        LockChange::Unlock => (0, None),
    }
}

/// Among several heads, the one `better` prefers, ids breaking ties.
fn pick<'a, E, K: Ord>(
    events: &'a BTreeMap<EntityId, E>,
    candidates: &[EntityId],
    key: impl Fn(&E) -> K,
) -> Option<(&'a EntityId, &'a E)> {
    candidates
        .iter()
        .filter_map(|id| events.get_key_value(id))
        .max_by(|(a_id, a), (b_id, b)| key(a).cmp(&key(b)).then_with(|| a_id.cmp(b_id)))
}

fn event_notice<E: Supersedes>(
    prefix: &str,
    events: &BTreeMap<EntityId, E>,
    heads: &[EntityId],
    kept: &EntityId,
    author: impl Fn(&E) -> UserId,
    kind: impl FnOnce(EntityId, Vec<EntityId>) -> NoticeKind,
) -> Option<Notice> {
    if heads.len() < 2 {
        return None;
    }
    let overridden: Vec<EntityId> = heads.iter().filter(|id| *id != kept).cloned().collect();
    let concerns: Vec<UserId> = heads
        .iter()
        .filter_map(|id| events.get(id))
        .map(&author)
        .collect();
    let id = format!("{prefix}:{}", conflict_id(heads));
    Some(Notice::new(id, kind(kept.clone(), overridden), concerns))
}

/// The fold: one client record to what every screen shows, and the notices.
pub fn fold_record(record: &ClientRecord) -> (RecordView, Vec<Notice>) {
    let mut notices = Vec::new();

    // The primary caretaker and the caretakers that losing claims leave.
    let claim_heads = heads(&record.primary_claims);
    let primary = winning_claim(&record.primary_claims, &claim_heads)
        .map(|id| restated(&record.primary_claims, id))
        .and_then(|id| {
            record.primary_claims.get(id).map(|claim| PrimaryCaretaker {
                user: claim.user.clone(),
                claim: id.clone(),
                kind: claim.kind,
                since: claim.stamp.clone(),
            })
        });
    let mut responsibilities = record.responsibilities.clone();
    for conflict in claim_conflicts(&record.primary_claims) {
        let Some(winner) = record.primary_claims.get(&conflict.winner) else {
            continue;
        };
        let losers: Vec<(EntityId, UserId)> = conflict
            .rivals
            .iter()
            .filter(|id| **id != conflict.winner)
            .filter_map(|id| {
                let person_claim = restated(&record.primary_claims, id);
                record
                    .primary_claims
                    .get(id)
                    .map(|c| (person_claim.clone(), c.user.clone()))
            })
            // A claim for the user who won lost nothing.
            .filter(|(_, user)| *user != winner.user)
            .collect();
        for (id, claim) in caretaking_losers(record, &conflict) {
            if primary.as_ref().is_some_and(|p| p.user == claim.user) {
                continue;
            }
            responsibilities
                .entry(caretaker_id(id))
                .or_insert_with(|| loser_caretaker(record, claim));
        }
        if losers.is_empty() {
            continue;
        }
        let concerns: Vec<UserId> = conflict
            .rivals
            .iter()
            .filter_map(|id| record.primary_claims.get(id))
            .flat_map(|c| [c.user.clone(), c.by.clone()])
            .collect();
        notices.push(Notice::new(
            format!("primary:{}", conflict_id(&conflict.rivals)),
            NoticeKind::PrimaryConflict {
                winner_claim: restated(&record.primary_claims, &conflict.winner).clone(),
                winner: winner.user.clone(),
                losers,
            },
            concerns,
        ));
    }

    // Status: deletion outranks a lock.
    let lock_heads = heads(&record.lock_events);
    let lock = pick(&record.lock_events, &lock_heads, |e| {
        (lock_rank(&e.change), e.stamp.clone())
    });
    let deletion_heads = heads(&record.deletion_events);
    let deletion = pick(&record.deletion_events, &deletion_heads, |e| {
        (matches!(e.change, DeletionChange::Restore), e.stamp.clone())
    });
    let status = match (
        deletion.map(|(_, e)| &e.change),
        lock.map(|(_, e)| &e.change),
    ) {
        (Some(DeletionChange::MarkDeleted { on }), _) => ClientStatus::Deleted { on: *on },
        (_, Some(LockChange::Lock { until })) => ClientStatus::Locked { until: *until },
        _ => ClientStatus::Active,
    };
    if let Some((kept, _)) = lock {
        notices.extend(event_notice(
            "lock",
            &record.lock_events,
            &lock_heads,
            kept,
            |e| e.by.clone(),
            |kept, overridden| NoticeKind::LockConflict { kept, overridden },
        ));
    }
    if let Some((kept, _)) = deletion {
        notices.extend(event_notice(
            "deletion",
            &record.deletion_events,
            &deletion_heads,
            kept,
            |e| e.by.clone(),
            |kept, overridden| NoticeKind::DeletionConflict { kept, overridden },
        ));
    }

    // Notes, newest first.
    let mut notes: Vec<NoteView> = Vec::new();
    for (id, note) in &record.notes {
        match &note.deleted {
            None => notes.push(NoteView {
                id: id.clone(),
                text: note.text.as_str().to_owned(),
                author: note.author.clone(),
                created: note.created.clone(),
                edited: note.edited.as_ref().map(|e| e.stamp.clone()),
            }),
            Some(deletion) => {
                if let Some(edit) = &note.edited
                    && deletion.saw_edit.as_ref() != Some(&edit.stamp)
                    && edit.by != deletion.by
                {
                    notices.push(Notice::new(
                        format!("note:{id}"),
                        NoticeKind::NoteEditedWhileDeleted {
                            note: id.clone(),
                            editor: edit.by.clone(),
                            deleted_by: deletion.by.clone(),
                        },
                        [edit.by.clone(), deletion.by.clone()],
                    ));
                }
            }
        }
    }
    notes.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));

    let mut notices: Vec<Notice> = notices
        .into_iter()
        .map(|n| n.with_acknowledgements(&record.acknowledgements))
        .collect();
    sort_notices(&mut notices);
    (
        RecordView {
            primary,
            responsibilities,
            status,
            notes,
        },
        notices,
    )
}

#[cfg(test)]
mod tests;
