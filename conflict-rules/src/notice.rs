//! Notices: what a merge decided, told to the people it concerns. A notice's id is a
//! function of the intents it is about, so it is the same on every replica and before and
//! after settling, and an acknowledgement of it stays valid.

use std::collections::BTreeMap;

use model::{Date, EntityId, ParticipationId, Stamp, UserId};

use crate::participation::Rejection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    /// Who is told, sorted and without repeats.
    pub concerns: Vec<UserId>,
    /// Who of them has acknowledged it.
    pub acknowledged_by: Vec<UserId>,
}

impl Notice {
    pub(crate) fn new(
        id: String,
        kind: NoticeKind,
        concerns: impl IntoIterator<Item = UserId>,
    ) -> Self {
        let mut concerns: Vec<UserId> = concerns.into_iter().collect();
        concerns.sort();
        concerns.dedup();
        Self {
            id,
            kind,
            concerns,
            acknowledged_by: Vec::new(),
        }
    }

    /// Whether `user` should still see this notice.
    pub fn is_pending_for(&self, user: &UserId) -> bool {
        self.concerns.contains(user) && !self.acknowledged_by.contains(user)
    }

    /// Fills `acknowledged_by` from a document's acknowledgements (`notice|user` keys).
    pub(crate) fn with_acknowledgements(mut self, acks: &BTreeMap<String, Stamp>) -> Self {
        self.acknowledged_by = self
            .concerns
            .iter()
            .filter(|user| {
                acks.contains_key(&model::client_record::acknowledgement_key(&self.id, user))
            })
            .cloned()
            .collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// Concurrent primary-caretaker claims: one won, the others' users stay on as
    /// caretakers.
    PrimaryConflict {
        winner_claim: EntityId,
        winner: UserId,
        losers: Vec<(EntityId, UserId)>,
    },
    /// An assistant action could not be applied in the state the merge reached.
    ActionRejected {
        action: EntityId,
        participation: ParticipationId,
        action_name: &'static str,
        reason: Rejection,
    },
    /// An action recorded after other steps of its participation but dated before them
    /// (typically made offline, long after its business date): the merge placed it first,
    /// and those steps now apply after it, or not at all. Told to its author, who had not
    /// seen them.
    OvertookLaterSteps {
        action: EntityId,
        participation: ParticipationId,
        action_name: &'static str,
        business_date: Date,
        /// In the order they apply.
        overtaken: Vec<OvertakenStep>,
    },
    /// A participation was removed (error correction) and took these actions of other
    /// people with it.
    ParticipationRemoved {
        participation: ParticipationId,
        removed_by: UserId,
        actions: Vec<EntityId>,
    },
    /// Concurrent lock and unlock: the one kept, and the ones that were not.
    LockConflict {
        kept: EntityId,
        overridden: Vec<EntityId>,
    },
    /// Concurrent deletion and restore: the one kept, and the ones that were not.
    DeletionConflict {
        kept: EntityId,
        overridden: Vec<EntityId>,
    },
    /// A note was deleted by someone who had not seen an edit of it; the edited text is
    /// kept in the tombstone.
    NoteEditedWhileDeleted {
        note: EntityId,
        editor: UserId,
        deleted_by: UserId,
    },
    /// Two working-time rules of one level are valid on a common day, after a merge.
    OverlappingWorkingTimeRules {
        level: RuleLevel,
        rules: (EntityId, EntityId),
    },
    /// Two client records of a tenant carry the same pseudonym; the older keeps it.
    DuplicatePseudonym {
        kept: model::DocumentId,
        duplicate: model::DocumentId,
    },
    /// Two client records of a tenant derived the same short client id.
    DuplicateClientId {
        kept: model::DocumentId,
        duplicate: model::DocumentId,
    },
}

impl NoticeKind {
    /// A stable, language-neutral code.
    pub fn code(&self) -> &'static str {
        match self {
            NoticeKind::PrimaryConflict { .. } => "primary-conflict",
            NoticeKind::ActionRejected { .. } => "action-rejected",
            NoticeKind::OvertookLaterSteps { .. } => "overtook-later-steps",
            NoticeKind::ParticipationRemoved { .. } => "participation-removed",
            NoticeKind::LockConflict { .. } => "lock-conflict",
            NoticeKind::DeletionConflict { .. } => "deletion-conflict",
            NoticeKind::NoteEditedWhileDeleted { .. } => "note-edited-while-deleted",
            NoticeKind::OverlappingWorkingTimeRules { .. } => "overlapping-working-time",
            NoticeKind::DuplicatePseudonym { .. } => "duplicate-pseudonym",
            NoticeKind::DuplicateClientId { .. } => "duplicate-client-id",
        }
    }
}

/// A step an earlier-dated, later-recorded action was placed before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvertakenStep {
    pub action: EntityId,
    pub action_name: &'static str,
    pub business_date: Date,
    /// Whether it still applied after the action it was overtaken by.
    pub applied: bool,
}

/// The three levels of working-time rules, most general first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleLevel {
    Tenant,
    Programme,
    Participant,
}

impl RuleLevel {
    /// A stable name: it is part of notice ids, which acknowledgements store.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleLevel::Tenant => "tenant",
            RuleLevel::Programme => "programme",
            RuleLevel::Participant => "participant",
        }
    }
}

/// The canonical order of notices, by id: a fold's output must not depend on the order
/// in which it found them.
pub(crate) fn sort_notices(notices: &mut [Notice]) {
    notices.sort_by(|a, b| a.id.cmp(&b.id));
}

/// FNV-1a, 64 bits: a stable digest for ids made of other ids. Written out here because
/// its output is stored in documents and must never change with a library upgrade.
pub(crate) fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
