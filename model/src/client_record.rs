//! The client record (ARCHITECTURE.md, "Documents follow who may read them"): who the person is, their status, notes,
//! responsibilities and the claims to be their primary caretaker ("Stammberater:in",
//! "Primärer Betreuer"). Read by all staff of the tenant.
//!
//! Status changes and primary-caretaker assignments are stored as intents that name what
//! their author saw ([`Supersedes`]); `conflict-rules` folds them into the one status and
//! the one primary caretaker every screen shows.
//!
//! The file is long because it is one document kind: its schema and every mutation of
//! it, which share the record's private helpers; the lenient reading of server-only
//! fields already lives beside it (`client_record/`).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use crate::clock::Stamp;
use crate::date::{Date, Period};
use crate::document::{DocKind, Document, DocumentError, Schema, Supersedes, Written, heads};
use crate::editor::Editor;
use crate::ids::{ClientId, DocumentId, EntityId, TenantId, UserId};
use crate::scalar;

/// Pseudonyms ("Accountname / Pseudonym") have at least this many characters.
pub const PSEUDONYM_MIN_CHARS: usize = 5;
/// Longest pseudonym, name or label we keep; beyond it input is refused, not cut.
pub const SHORT_TEXT_MAX_CHARS: usize = 200;
/// Longest note; a note is prose, not a file.
pub const NOTE_MAX_CHARS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct ClientRecord {
    pub tenant: TenantId,
    pub client_id: ClientId,
    pub pseudonym: String,
    pub name: String,
    pub first_name: String,
    pub language: Option<String>,
    /// "Stammdaten": values of the tenant's configurable fields, by field key.
    pub master_data: BTreeMap<String, String>,
    /// "Filterkriterien" that apply to this person, by criterion key.
    pub filter_criteria: BTreeMap<String, bool>,
    /// The label the primary caretaker carries for this person, e.g. "Bildungsbegleiter".
    pub primary_label: Option<String>,
    pub created: Stamp,
    pub created_by: UserId,
    #[autosurgeon(hydrate = "lenient::account")]
    pub account: AccountState,
    pub lock_events: BTreeMap<EntityId, LockEvent>,
    #[autosurgeon(hydrate = "lenient::deletion_events")]
    pub deletion_events: BTreeMap<EntityId, DeletionEvent>,
    pub notes: BTreeMap<EntityId, Note>,
    pub responsibilities: BTreeMap<EntityId, Responsibility>,
    pub primary_claims: BTreeMap<EntityId, PrimaryClaim>,
    /// Who has seen which notice: keys are `notice-id|user-id`. Flat keys, because a map
    /// per notice, created lazily by two people at once, would lose one of them.
    pub acknowledgements: BTreeMap<String, Stamp>,
}

impl Schema for ClientRecord {
    const KIND: DocKind = DocKind::ClientRecord;

    /// Deletion events and the account state count only as the server wrote them: the
    /// server records them on an admin's authenticated request.
    fn vet(&mut self, written: &Written<'_>) {
        self.deletion_events
            .retain(|id, _| written.by_server(&["deletion_events"], id.as_str()));
        let millis = |key| written.server_scalar(&["account"], key)?.as_u64();
        self.account = AccountState {
            last_login_ms: millis("last_login_ms"),
            invitation_queued_ms: millis("invitation_queued_ms"),
            invitation_sent_ms: millis("invitation_sent_ms"),
            invitation_failed_ms: millis("invitation_failed_ms"),
            has_password: written
                .server_scalar(&["account"], "has_password")
                .and_then(|value| value.as_bool())
                .unwrap_or(false),
        };
    }
}

/// Written by the server only: the client's own account.
///
/// An invitation goes through the server's mail queue: `invitation_queued_ms` when staff
/// sent it off, then `invitation_sent_ms` once the mail relay took it, or
/// `invitation_failed_ms` once it was given up. Only the latest invitation's outcome is
/// written. Records from before the queue had states have `invitation_sent_ms` alone;
/// readers that know only that field ignore the others (autosurgeon skips unknown keys).
#[derive(Debug, Clone, Default, PartialEq, Hydrate, Reconcile)]
pub struct AccountState {
    /// Milliseconds since the epoch (UTC), like every time here.
    pub last_login_ms: Option<u64>,
    pub invitation_queued_ms: Option<u64>,
    pub invitation_sent_ms: Option<u64>,
    pub invitation_failed_ms: Option<u64>,
    pub has_password: bool,
}

/// Where the latest invitation stands, as [`AccountState`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invitation {
    /// Waiting in the server's mail queue.
    Queued,
    /// Taken by the mail relay.
    Sent,
    /// Given up: the relay refused it, or did not take it in the server's retry period.
    Failed,
}

impl AccountState {
    /// The latest invitation's state, if one was ever sent. An outcome counts when it is
    /// not older than the latest queuing; a record without `invitation_queued_ms` was
    /// written before the queue had states, and its invitation was sent.
    pub fn invitation(&self) -> Option<Invitation> {
        let queued = self.invitation_queued_ms;
        let after = |outcome: Option<u64>| outcome.is_some_and(|at| at >= queued.unwrap_or(0));
        if after(self.invitation_failed_ms) {
            Some(Invitation::Failed)
        } else if after(self.invitation_sent_ms) {
            Some(Invitation::Sent)
        } else if queued.is_some() {
            Some(Invitation::Queued)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub enum LockChange {
    /// Locked, until the end of the given day, or until unlocked.
    Lock {
        until: Option<Date>,
    },
    Unlock,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct LockEvent {
    pub change: LockChange,
    pub by: UserId,
    pub stamp: Stamp,
    pub supersedes: Vec<EntityId>,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub enum DeletionChange {
    /// Marked for deletion on this day; purged after the tenant's deletion interval.
    MarkDeleted {
        on: Date,
    },
    Restore,
}

/// Admin only; the server writes these on an admin's request and honours no other.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct DeletionEvent {
    pub change: DeletionChange,
    pub by: UserId,
    pub stamp: Stamp,
    pub supersedes: Vec<EntityId>,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Note {
    /// Text, not a string: two people editing one note offline both keep their words.
    pub text: Text,
    pub author: UserId,
    pub created: Stamp,
    pub edited: Option<NoteEdit>,
    pub deleted: Option<NoteDeletion>,
}

/// Stored as one string: a later edit replaces the whole record of who edited when.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteEdit {
    pub by: UserId,
    pub stamp: Stamp,
}

impl std::fmt::Display for NoteEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&scalar::join(&[self.by.as_str(), &self.stamp.to_string()]))
    }
}

impl std::str::FromStr for NoteEdit {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match scalar::split(s).ok_or(())?.as_slice() {
            [by, stamp] => Ok(Self {
                by: UserId::new(*by),
                stamp: stamp.parse()?,
            }),
            _ => Err(()),
        }
    }
}

scalar::scalar_via_string!(NoteEdit, "a note edit");

/// A deleted note stays as a tombstone that remembers which edit its deleter saw, so an
/// edit made concurrently is not lost without a word.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteDeletion {
    pub by: UserId,
    pub stamp: Stamp,
    pub saw_edit: Option<Stamp>,
}

impl std::fmt::Display for NoteDeletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let saw = self
            .saw_edit
            .as_ref()
            .map(Stamp::to_string)
            .unwrap_or_default();
        f.write_str(&scalar::join(&[
            self.by.as_str(),
            &self.stamp.to_string(),
            &saw,
        ]))
    }
}

impl std::str::FromStr for NoteDeletion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match scalar::split(s).ok_or(())?.as_slice() {
            [by, stamp, saw] => Ok(Self {
                by: UserId::new(*by),
                stamp: stamp.parse()?,
                saw_edit: if saw.is_empty() {
                    None
                } else {
                    Some(saw.parse()?)
                },
            }),
            _ => Err(()),
        }
    }
}

scalar::scalar_via_string!(NoteDeletion, "a note deletion");

/// The kinds of responsibility ("Zuständigkeit"). The primary caretaker is not among them:
/// it comes from [`PrimaryClaim`]s, because there must be exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub enum ResponsibilityKind {
    Caretaker,
    SocialPedagogue,
    Teacher,
    Trainer,
    PsychologistTherapist,
    Other,
}

impl ResponsibilityKind {
    pub const ALL: [ResponsibilityKind; 6] = [
        ResponsibilityKind::Caretaker,
        ResponsibilityKind::SocialPedagogue,
        ResponsibilityKind::Teacher,
        ResponsibilityKind::Trainer,
        ResponsibilityKind::PsychologistTherapist,
        ResponsibilityKind::Other,
    ];

    /// The label the manual uses, the default when a responsibility has none of its own.
    pub fn german(self) -> &'static str {
        match self {
            ResponsibilityKind::Caretaker => "Betreuer:in",
            ResponsibilityKind::SocialPedagogue => "Sozialpädagog:in",
            ResponsibilityKind::Teacher => "Lehrkraft",
            ResponsibilityKind::Trainer => "Ausbilder:in",
            ResponsibilityKind::PsychologistTherapist => "Psycholog:in, Therapeut:in",
            ResponsibilityKind::Other => "Sonstige:r Benutzer:in",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Responsibility {
    pub kind: ResponsibilityKind,
    pub label: String,
    pub user: UserId,
    /// The linked user may belong to another tenant that has access to this one.
    pub user_tenant: TenantId,
    pub valid: Period,
    pub deactivated: bool,
    pub created: Stamp,
    pub created_by: UserId,
}

impl Responsibility {
    /// A responsibility grants access while it is valid and not deactivated.
    pub fn grants_access_on(&self, day: Date) -> bool {
        !self.deactivated && self.valid.contains(day)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub enum ClaimKind {
    /// Somebody took the person up while nobody was primary.
    Automatic,
    /// Somebody assigned the primary caretaker by hand.
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum ClaimOrigin {
    Person,
    /// Written by settling: it restates the winner of concurrent claims so the record has
    /// one head again. Its kind and stamp are the winner's.
    Settlement,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct PrimaryClaim {
    pub user: UserId,
    pub kind: ClaimKind,
    pub origin: ClaimOrigin,
    pub stamp: Stamp,
    pub by: UserId,
    pub supersedes: Vec<EntityId>,
}

impl Supersedes for PrimaryClaim {
    fn supersedes(&self) -> &[EntityId] {
        &self.supersedes
    }
}

impl Supersedes for LockEvent {
    fn supersedes(&self) -> &[EntityId] {
        &self.supersedes
    }
}

impl Supersedes for DeletionEvent {
    fn supersedes(&self) -> &[EntityId] {
        &self.supersedes
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the pseudonym needs at least {PSEUDONYM_MIN_CHARS} characters")]
    PseudonymTooShort,
    #[error("the {0} is longer than {SHORT_TEXT_MAX_CHARS} characters")]
    TooLong(&'static str),
    #[error("a note needs some text")]
    EmptyNote,
    #[error("a note may have at most {NOTE_MAX_CHARS} characters")]
    NoteTooLong,
    #[error("the note has been deleted")]
    NoteDeleted,
    #[error("the validity period ends before it starts")]
    InvalidPeriod,
    #[error("a responsibility needs a linked user")]
    NoLinkedUser,
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// What a person enters in "Klient:in anlegen".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewClient {
    pub pseudonym: String,
    pub name: String,
    pub first_name: String,
    pub language: Option<String>,
    /// Whether the creator takes the person up, and so becomes primary caretaker.
    pub take_up: bool,
}

/// What a person enters for a new responsibility.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponsibility {
    pub kind: ResponsibilityKind,
    pub label: Option<String>,
    pub user: UserId,
    pub user_tenant: TenantId,
    pub valid: Period,
}

pub(crate) fn checked_pseudonym(pseudonym: &str) -> Result<String, RecordError> {
    let pseudonym = pseudonym.trim();
    let chars = pseudonym.chars().count();
    if chars < PSEUDONYM_MIN_CHARS {
        return Err(RecordError::PseudonymTooShort);
    }
    if chars > SHORT_TEXT_MAX_CHARS {
        return Err(RecordError::TooLong("pseudonym"));
    }
    Ok(pseudonym.to_owned())
}

fn checked_short(text: &str, what: &'static str) -> Result<String, RecordError> {
    let text = text.trim();
    if text.chars().count() > SHORT_TEXT_MAX_CHARS {
        return Err(RecordError::TooLong(what));
    }
    Ok(text.to_owned())
}

fn checked_note(text: &str) -> Result<&str, RecordError> {
    if text.trim().is_empty() {
        return Err(RecordError::EmptyNote);
    }
    if text.chars().count() > NOTE_MAX_CHARS {
        return Err(RecordError::NoteTooLong);
    }
    Ok(text)
}

fn note_key(notice: &str, user: &UserId) -> String {
    format!("{notice}|{user}")
}

impl Document<ClientRecord> {
    /// "Klient:in anlegen". The record's document id is chosen by the caller (it names the
    /// document in the repo), and the client id is derived from it.
    pub fn create_client(
        editor: &mut Editor,
        doc_id: &DocumentId,
        tenant: TenantId,
        new: NewClient,
    ) -> Result<Self, RecordError> {
        let created = editor.stamp();
        let mut primary_claims = BTreeMap::new();
        if new.take_up {
            let claim_stamp = editor.stamp();
            primary_claims.insert(
                claim_stamp.entity_id(),
                PrimaryClaim {
                    user: editor.user().clone(),
                    kind: ClaimKind::Automatic,
                    origin: ClaimOrigin::Person,
                    stamp: claim_stamp,
                    by: editor.user().clone(),
                    supersedes: Vec::new(),
                },
            );
        }
        let record = ClientRecord {
            tenant,
            client_id: ClientId::for_document(doc_id),
            pseudonym: checked_pseudonym(&new.pseudonym)?,
            name: checked_short(&new.name, "name")?,
            first_name: checked_short(&new.first_name, "first name")?,
            language: new
                .language
                .map(|l| checked_short(&l, "language"))
                .transpose()?,
            master_data: BTreeMap::new(),
            filter_criteria: BTreeMap::new(),
            primary_label: None,
            created,
            created_by: editor.user().clone(),
            account: AccountState::default(),
            lock_events: BTreeMap::new(),
            deletion_events: BTreeMap::new(),
            notes: BTreeMap::new(),
            responsibilities: BTreeMap::new(),
            primary_claims,
            acknowledgements: BTreeMap::new(),
        };
        Ok(Self::create(&record)?)
    }

    pub fn set_pseudonym(&mut self, pseudonym: &str) -> Result<(), RecordError> {
        let pseudonym = checked_pseudonym(pseudonym)?;
        self.put(&[], "pseudonym", pseudonym)?;
        self.commit();
        Ok(())
    }

    pub fn set_name(&mut self, name: &str, first_name: &str) -> Result<(), RecordError> {
        let name = checked_short(name, "name")?;
        let first_name = checked_short(first_name, "first name")?;
        self.put(&[], "name", name)?;
        self.put(&[], "first_name", first_name)?;
        self.commit();
        Ok(())
    }

    pub fn set_language(&mut self, language: Option<&str>) -> Result<(), RecordError> {
        let language = language.map(|l| checked_short(l, "language")).transpose()?;
        self.put(&[], "language", language)?;
        self.commit();
        Ok(())
    }

    /// Sets or clears one master-data field ("Stammdaten").
    pub fn set_master_data(&mut self, field: &str, value: Option<&str>) -> Result<(), RecordError> {
        match value {
            Some(value) => {
                let value = checked_short(value, "master data value")?;
                self.put(&["master_data"], field, value)?;
            }
            None => {
                if self.has(&["master_data"], field) {
                    self.delete(&["master_data"], field)?;
                }
            }
        }
        self.commit();
        Ok(())
    }

    pub fn set_filter_criterion(&mut self, criterion: &str, on: bool) -> Result<(), RecordError> {
        if on {
            self.put(&["filter_criteria"], criterion, true)?;
        } else if self.has(&["filter_criteria"], criterion) {
            self.delete(&["filter_criteria"], criterion)?;
        }
        self.commit();
        Ok(())
    }

    pub fn set_primary_label(&mut self, label: Option<&str>) -> Result<(), RecordError> {
        let label = label.map(|l| checked_short(l, "label")).transpose()?;
        self.put(&[], "primary_label", label)?;
        self.commit();
        Ok(())
    }

    /// A member of staff takes the person up. If nobody has claimed to be primary
    /// caretaker yet, they become it automatically; the claim's id is returned.
    pub fn take_up(&mut self, editor: &mut Editor) -> Result<Option<EntityId>, RecordError> {
        let record = self.read()?;
        if !record.primary_claims.is_empty() {
            return Ok(None);
        }
        let user = editor.user().clone();
        self.record_claim(editor, &record, user, ClaimKind::Automatic)
            .map(Some)
    }

    /// Assigns the primary caretaker by hand ("Stammberater:in ändern").
    pub fn claim_primary(
        &mut self,
        editor: &mut Editor,
        user: UserId,
    ) -> Result<EntityId, RecordError> {
        let record = self.read()?;
        self.record_claim(editor, &record, user, ClaimKind::Manual)
    }

    fn record_claim(
        &mut self,
        editor: &mut Editor,
        record: &ClientRecord,
        user: UserId,
        kind: ClaimKind,
    ) -> Result<EntityId, RecordError> {
        editor.observe(record.primary_claims.values().map(|c| &c.stamp));
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let claim = PrimaryClaim {
            user,
            kind,
            origin: ClaimOrigin::Person,
            stamp,
            by: editor.user().clone(),
            supersedes: heads(&record.primary_claims),
        };
        self.put(&["primary_claims"], id.as_str(), &claim)?;
        self.commit();
        Ok(id)
    }

    /// "sperren", optionally until a day ("vorübergehend sperren").
    pub fn lock(
        &mut self,
        editor: &mut Editor,
        until: Option<Date>,
    ) -> Result<EntityId, RecordError> {
        self.record_lock(editor, LockChange::Lock { until })
    }

    /// "entsperren".
    pub fn unlock(&mut self, editor: &mut Editor) -> Result<EntityId, RecordError> {
        self.record_lock(editor, LockChange::Unlock)
    }

    fn record_lock(
        &mut self,
        editor: &mut Editor,
        change: LockChange,
    ) -> Result<EntityId, RecordError> {
        let record = self.read()?;
        editor.observe(record.lock_events.values().map(|e| &e.stamp));
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let event = LockEvent {
            change,
            by: editor.user().clone(),
            stamp,
            supersedes: heads(&record.lock_events),
        };
        self.put(&["lock_events"], id.as_str(), &event)?;
        self.commit();
        Ok(id)
    }

    /// Marks the person for deletion. Admin only: the server calls this on an admin's
    /// request, as its own actor.
    pub fn mark_deleted(&mut self, editor: &mut Editor, on: Date) -> Result<EntityId, RecordError> {
        self.record_deletion(editor, DeletionChange::MarkDeleted { on })
    }

    /// Restores a person marked for deletion. Admin only, through the server.
    pub fn restore(&mut self, editor: &mut Editor) -> Result<EntityId, RecordError> {
        self.record_deletion(editor, DeletionChange::Restore)
    }

    fn record_deletion(
        &mut self,
        editor: &mut Editor,
        change: DeletionChange,
    ) -> Result<EntityId, RecordError> {
        let record = self.read()?;
        editor.observe(record.deletion_events.values().map(|e| &e.stamp));
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let event = DeletionEvent {
            change,
            by: editor.user().clone(),
            stamp,
            supersedes: heads(&record.deletion_events),
        };
        // Only the server writes here, so it may make the map where it is missing (a
        // record damaged before the server guarded these fields).
        if !self.is_map(&[], "deletion_events") {
            self.put(
                &[],
                "deletion_events",
                BTreeMap::<String, DeletionEvent>::new(),
            )?;
        }
        self.put(&["deletion_events"], id.as_str(), &event)?;
        self.commit();
        Ok(id)
    }

    /// Written by the server only.
    pub fn set_account_state(&mut self, account: &AccountState) -> Result<(), RecordError> {
        self.put(&[], "account", account)?;
        self.commit();
        Ok(())
    }

    pub fn add_note(&mut self, editor: &mut Editor, text: &str) -> Result<EntityId, RecordError> {
        let text = checked_note(text)?;
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let note = Note {
            text: Text::with_value(text),
            author: editor.user().clone(),
            created: stamp,
            edited: None,
            deleted: None,
        };
        self.put(&["notes"], id.as_str(), &note)?;
        self.commit();
        Ok(id)
    }

    /// Edits a note's text; concurrent edits of the same note merge character by character.
    pub fn edit_note(
        &mut self,
        editor: &mut Editor,
        id: &EntityId,
        text: &str,
    ) -> Result<(), RecordError> {
        let text = checked_note(text)?;
        let record = self.read()?;
        let note = record
            .notes
            .get(id)
            .ok_or(DocumentError::NoSuchEntity("note"))?;
        if note.deleted.is_some() {
            return Err(RecordError::NoteDeleted);
        }
        editor.observe(note.edited.iter().map(|e| &e.stamp));
        let mut body = note.text.clone();
        body.update(text);
        let edit = NoteEdit {
            by: editor.user().clone(),
            stamp: editor.stamp(),
        };
        self.put_field(&["notes", id.as_str()], "text", &body)?;
        self.put_field(&["notes", id.as_str()], "edited", Some(&edit))?;
        self.commit();
        Ok(())
    }

    pub fn delete_note(&mut self, editor: &mut Editor, id: &EntityId) -> Result<(), RecordError> {
        let record = self.read()?;
        let note = record
            .notes
            .get(id)
            .ok_or(DocumentError::NoSuchEntity("note"))?;
        if note.deleted.is_some() {
            return Ok(());
        }
        let deletion = NoteDeletion {
            by: editor.user().clone(),
            stamp: editor.stamp(),
            saw_edit: note.edited.as_ref().map(|e| e.stamp.clone()),
        };
        self.put_field(&["notes", id.as_str()], "deleted", Some(&deletion))?;
        self.commit();
        Ok(())
    }

    pub fn add_responsibility(
        &mut self,
        editor: &mut Editor,
        new: NewResponsibility,
    ) -> Result<EntityId, RecordError> {
        if !new.valid.is_valid() {
            return Err(RecordError::InvalidPeriod);
        }
        if new.user.as_str().is_empty() {
            return Err(RecordError::NoLinkedUser);
        }
        let label = match new.label {
            Some(label) if !label.trim().is_empty() => checked_short(&label, "label")?,
            _ => new.kind.german().to_owned(),
        };
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let responsibility = Responsibility {
            kind: new.kind,
            label,
            user: new.user,
            user_tenant: new.user_tenant,
            valid: new.valid,
            deactivated: false,
            created: stamp,
            created_by: editor.user().clone(),
        };
        self.put(&["responsibilities"], id.as_str(), &responsibility)?;
        self.commit();
        Ok(id)
    }

    /// Changes kind, label and validity of a responsibility; each field is written on its
    /// own so concurrent edits of different fields both survive.
    pub fn update_responsibility(
        &mut self,
        id: &EntityId,
        kind: ResponsibilityKind,
        label: &str,
        valid: Period,
    ) -> Result<(), RecordError> {
        if !valid.is_valid() {
            return Err(RecordError::InvalidPeriod);
        }
        if !self.has(&["responsibilities"], id.as_str()) {
            return Err(DocumentError::NoSuchEntity("responsibility").into());
        }
        let label = checked_short(label, "label")?;
        let path = ["responsibilities", id.as_str()];
        self.put_field(&path, "kind", kind)?;
        self.put_field(&path, "label", label)?;
        self.put_field(&path, "valid", valid)?;
        self.commit();
        Ok(())
    }

    /// "Deaktiviert": ends the access the responsibility grants, keeps the record of it.
    pub fn set_responsibility_deactivated(
        &mut self,
        id: &EntityId,
        deactivated: bool,
    ) -> Result<(), RecordError> {
        if !self.has(&["responsibilities"], id.as_str()) {
            return Err(DocumentError::NoSuchEntity("responsibility").into());
        }
        self.put_field(
            &["responsibilities", id.as_str()],
            "deactivated",
            deactivated,
        )?;
        self.commit();
        Ok(())
    }

    /// The user has seen a notice of the conflict rules; it is not shown to them again.
    pub fn acknowledge(&mut self, editor: &mut Editor, notice: &str) -> Result<(), RecordError> {
        let stamp = editor.stamp();
        self.put(
            &["acknowledgements"],
            &note_key(notice, editor.user()),
            &stamp,
        )?;
        self.commit();
        Ok(())
    }

    /// Settling: writes a claim with a deterministic id and content. Called by
    /// `conflict-rules` only; writing the same claim twice changes nothing.
    pub fn write_settled_claim(
        &mut self,
        id: &EntityId,
        claim: &PrimaryClaim,
    ) -> Result<bool, RecordError> {
        if self.has(&["primary_claims"], id.as_str()) {
            return Ok(false);
        }
        self.put(&["primary_claims"], id.as_str(), claim)?;
        self.commit();
        Ok(true)
    }

    /// Settling: writes the caretaker responsibility a losing claimant keeps.
    pub fn write_settled_responsibility(
        &mut self,
        id: &EntityId,
        responsibility: &Responsibility,
    ) -> Result<bool, RecordError> {
        if self.has(&["responsibilities"], id.as_str()) {
            return Ok(false);
        }
        self.put(&["responsibilities"], id.as_str(), responsibility)?;
        self.commit();
        Ok(true)
    }
}

/// The key under which `user` acknowledged `notice`.
pub fn acknowledgement_key(notice: &str, user: &UserId) -> String {
    note_key(notice, user)
}

mod lenient;

#[cfg(test)]
mod tests;
