//! The workspace: what the screens work with. It signs a person in (online the first
//! time on a machine, offline from then on), owns the local store and the background
//! sync, keeps the derived rows in memory for the lists, and carries out edits: each
//! edit goes through `model`, lands in the store in one transaction (changes, row,
//! unsynced count) and is handed to the sync.
//!
//! This file holds the workspace itself and the one path every edit takes (read, edit,
//! commit, create). What it offers the screens is split by noun beside it:
//! `account` (signing in, the own password), `lists` (what the lists read), `outbox`
//! (requests for the server, by name: the screens never build one), `files` (uploaded
//! documents), `participation` (timelines, the catalogue, working time, vacation),
//! `online` (calls that need the server now, off the UI thread), `staff` (admins' work
//! on staff accounts), `own_account` (deleting one's own account and this device's
//! copy) and `lost` (local changes lost with a document this device forgot).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use automerge::ActorId;
use conflict_rules::notice::Notice;
use conflict_rules::record::{RecordView, fold_record};
use model::bookmarks::Bookmarks;
use model::client_record::{ClientRecord, NewClient};
use model::group::Group;
use model::{DocKind, Document, DocumentId, Editor, NodeId, Schema, TenantId, UserId};
use tokio::sync::mpsc;

use crate::api::{LazyServer, Request};
use crate::engine::{self, Command, SyncStatus};
use crate::rows::{self, GroupRow, Row};
use crate::storage::Changed;
use crate::store::{Profile, Store, StoreError};

mod account;
mod files;
mod lists;
mod lost;
mod online;
mod outbox;
mod own_account;
mod participation;
mod staff;

pub use account::{SignIn, SignInError, password_problem, store_path};
pub use lists::{ContactData, Filter, MemberQuery, Sort};
pub use online::Pending;
use participation::CachedCatalogue;
pub use participation::{CatalogueView, ParticipationEdit, TimelineRead, refusal, rejection_text};
pub use staff::Access;

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("{0}")]
    Invalid(String),
    #[error("Den Datensatz gibt es auf diesem Gerät nicht (mehr)")]
    Missing,
    #[error("Lokaler Speicher: {0}")]
    Store(#[from] StoreError),
}

impl From<model::Error> for WorkError {
    fn from(error: model::Error) -> Self {
        WorkError::Invalid(crate::german::error(&error))
    }
}

impl From<model::DocumentError> for WorkError {
    fn from(error: model::DocumentError) -> Self {
        WorkError::from(model::Error::from(error))
    }
}

pub struct Workspace {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
    /// The server with its pooled client, shared with the sync.
    server: LazyServer,
    profile: Profile,
    changed: Arc<Changed>,
    status: Arc<Mutex<SyncStatus>>,
    commands: mpsc::UnboundedSender<Command>,
    editor: Editor,
    actor: ActorId,
    rows: BTreeMap<String, Row>,
    generations: HashMap<String, u64>,
    /// Moves whenever any row changes; lists cache what they computed until it moves.
    rows_version: u64,
    /// Read from the store when the engine pokes or after an edit, not every frame.
    unsynced: u64,
    requests: Vec<Request>,
    /// Local changes lost with a forgotten document, read with the counts.
    lost: Vec<(i64, crate::store::LostEdit)>,
    /// The merged catalogue, with the catalogue documents and generations it was read at.
    catalogue_cache: std::cell::RefCell<Option<CachedCatalogue>>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    fn start(
        runtime: tokio::runtime::Runtime,
        store: Arc<Store>,
        password: String,
        server: LazyServer,
    ) -> Result<Self, SignInError> {
        let profile = store.profile()?;
        let changed = Arc::new(Changed::default());
        let status = Arc::new(Mutex::new(SyncStatus::default()));
        let (commands, receiver) = mpsc::unbounded_channel();
        runtime.spawn(engine::run(
            engine::Context {
                store: store.clone(),
                changed: changed.clone(),
                status: status.clone(),
                password: Mutex::new(password),
                server: server.clone(),
            },
            receiver,
        ));
        let device = hex_bytes(&profile.device);
        let editor = Editor::with_system_clock(
            UserId::new(profile.account_id.clone()),
            NodeId::new(profile.device.clone()),
        );
        let mut workspace = Self {
            runtime,
            store,
            server,
            profile,
            changed,
            status,
            commands,
            editor,
            actor: ActorId::from(device),
            rows: BTreeMap::new(),
            generations: HashMap::new(),
            rows_version: 0,
            unsynced: 0,
            requests: Vec::new(),
            lost: Vec::new(),
            catalogue_cache: Default::default(),
        };
        workspace.load_rows()?;
        workspace.reload_counts();
        Ok(workspace)
    }

    fn load_rows(&mut self) -> Result<(), StoreError> {
        for kind in DocKind::ALL {
            for (doc, json) in self.store.rows(kind.as_str())? {
                match serde_json::from_slice::<Row>(&json) {
                    Ok(row) => {
                        self.rows.insert(doc, row);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a row does not read; it is derived again")
                    }
                }
            }
        }
        Ok(())
    }

    /// Called (from any thread) when something changed in the background: the window
    /// asks for a repaint with it.
    pub fn set_waker(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        self.changed.set_waker(wake);
    }

    /// Takes in what the sync changed: derives rows again, moves generations, reads the
    /// profile and the counts again. Returns whether anything changed.
    pub fn refresh(&mut self) -> bool {
        let (docs, any) = self.changed.take();
        if !any {
            return false;
        }
        if let Ok(profile) = self.store.profile() {
            self.profile = profile;
        }
        for doc in docs {
            self.derive(&doc);
        }
        self.reload_counts();
        true
    }

    fn reload_counts(&mut self) {
        self.unsynced = self.store.unsynced_count().unwrap_or(0);
        self.requests = self
            .store
            .requests()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(_, json)| serde_json::from_slice(&json).ok())
            .collect();
        self.lost = self.store.lost_edits().unwrap_or_default();
    }

    fn derive(&mut self, doc: &str) {
        let chunks = match self.store.document_chunks(doc) {
            Ok(chunks) => chunks,
            Err(error) => {
                tracing::error!(%error, "cannot read a document");
                return;
            }
        };
        if chunks.is_empty() {
            self.rows.remove(doc);
        } else if let Some(row) = rows::derive(&chunks) {
            if let Ok(json) = serde_json::to_vec(&row)
                && let Err(error) = self.store.put_row(doc, row.kind().as_str(), &json)
            {
                tracing::error!(%error, "cannot store a row");
            }
            self.rows.insert(doc.to_owned(), row);
        }
        *self.generations.entry(doc.to_owned()).or_default() += 1;
        self.rows_version += 1;
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn me(&self) -> &str {
        &self.profile.account_id
    }

    pub fn is_admin(&self) -> bool {
        self.profile.is_admin()
    }

    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn dismiss_refusals(&self) {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .refused
            .clear();
    }

    pub fn unsynced_changes(&self) -> u64 {
        self.unsynced
    }

    pub fn rows_version(&self) -> u64 {
        self.rows_version
    }

    /// Moves whenever the document changed; screens cache what they read until it moves.
    pub fn generation_of(&self, doc: &str) -> u64 {
        self.generations.get(doc).copied().unwrap_or(0)
    }

    pub fn reconnect(&self) {
        let _ = self.commands.send(Command::Reconnect);
    }

    /// A colleague's name as lists show it.
    pub fn staff_name(&self, id: &str) -> String {
        self.profile
            .staff
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.login.clone())
            .unwrap_or_else(|| {
                if id == self.profile.account_id {
                    self.profile.login.clone()
                } else {
                    format!("Mitarbeiter:in {}", id.chars().take(6).collect::<String>())
                }
            })
    }

    // --- documents -------------------------------------------------------------------

    pub fn read<T: Schema>(&self, doc: &str) -> Result<T, WorkError> {
        let chunks = self.store.document_chunks(doc)?;
        if chunks.is_empty() {
            return Err(WorkError::Missing);
        }
        Ok(rows::load::<T>(&chunks)?.read()?)
    }

    /// The heads of a document as stored here, in hex: to compare with the server's
    /// when something seems not to arrive.
    pub fn heads(&self, doc: &str) -> Vec<String> {
        let chunks = self.store.document_chunks(doc).unwrap_or_default();
        automerge::Automerge::load(&chunks.concat())
            .map(|am| am.get_heads().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// A client record with its view and the notices that concern this user.
    pub fn record(&self, doc: &str) -> Result<(ClientRecord, RecordView, Vec<Notice>), WorkError> {
        let record: ClientRecord = self.read(doc)?;
        let (view, notices) = fold_record(&record);
        let me = UserId::new(self.me());
        let mine = notices
            .into_iter()
            .filter(|n| n.is_pending_for(&me))
            .collect();
        Ok((record, view, mine))
    }

    /// Edits one document through `model`; the changes are on disk when this returns.
    pub fn edit<T: Schema, R>(
        &mut self,
        doc: &str,
        edit: impl FnOnce(&mut Document<T>, &mut Editor) -> Result<R, model::Error>,
    ) -> Result<R, WorkError> {
        self.edit_with(doc, |typed, editor| {
            edit(typed, editor).map_err(WorkError::from)
        })
    }

    /// [`Self::edit`] for an edit that says itself why it fails.
    fn edit_with<T: Schema, R>(
        &mut self,
        doc: &str,
        edit: impl FnOnce(&mut Document<T>, &mut Editor) -> Result<R, WorkError>,
    ) -> Result<R, WorkError> {
        let chunks = self.store.document_chunks(doc)?;
        if chunks.is_empty() {
            return Err(WorkError::Missing);
        }
        let mut typed = rows::load::<T>(&chunks)?;
        typed.act_as(self.actor.clone());
        let before = typed.heads();
        let result = edit(&mut typed, &mut self.editor)?;
        let changes = typed.automerge().get_changes(&before);
        self.commit(doc, &mut typed, changes)?;
        Ok(result)
    }

    fn commit<T: Schema>(
        &mut self,
        doc: &str,
        typed: &mut Document<T>,
        changes: Vec<automerge::Change>,
    ) -> Result<(), WorkError> {
        if changes.is_empty() {
            return Ok(());
        }
        let encoded: Vec<(String, Vec<u8>)> = changes
            .iter()
            .map(|c| (c.hash().to_string(), c.raw_bytes().to_vec()))
            .collect();
        let heads: Vec<String> = typed.heads().iter().map(|h| h.to_string()).collect();
        let row = rows::derive_as(T::KIND, &[typed.save()]);
        let json = row.as_ref().and_then(|r| serde_json::to_vec(r).ok());
        self.store
            .record_local(
                doc,
                &encoded,
                &heads,
                row.as_ref()
                    .zip(json.as_deref())
                    .map(|(r, j)| (r.kind().as_str(), j)),
            )
            .map_err(|error| match error {
                // Access ended (or the record was purged) while the edit was made.
                StoreError::Forgotten => WorkError::Missing,
                other => WorkError::Store(other),
            })?;
        if let Some(row) = row {
            self.rows.insert(doc.to_owned(), row);
        }
        *self.generations.entry(doc.to_owned()).or_default() += 1;
        self.rows_version += 1;
        self.reload_counts();
        let _ = self.commands.send(Command::Local {
            doc: doc.to_owned(),
            chunks: encoded.into_iter().map(|(_, bytes)| bytes).collect(),
        });
        Ok(())
    }

    /// A new document: stored, queued for registration, then synced.
    fn create<T: Schema>(
        &mut self,
        id: &DocumentId,
        mut typed: Document<T>,
        person: Option<&str>,
    ) -> Result<(), WorkError> {
        let doc = id.to_string();
        let changes = typed.automerge().get_changes(&[]);
        let creation = changes
            .iter()
            .find(|change| change.deps().is_empty())
            .map(|change| change.hash().to_string());
        self.request_quietly(&Request::Register {
            doc: doc.clone(),
            kind: T::KIND.as_str().to_owned(),
            person: person.map(str::to_owned),
            creation,
        })?;
        self.commit(&doc, &mut typed, changes)?;
        let _ = self.commands.send(Command::Requests);
        Ok(())
    }

    fn new_id(&self) -> Result<DocumentId, WorkError> {
        Ok(DocumentId::from_bytes(
            crate::crypto::random().map_err(StoreError::from)?,
        ))
    }

    /// "Klient:in anlegen": the record (and the contact data, through the server).
    pub fn create_client(
        &mut self,
        new: NewClient,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<String, WorkError> {
        let normalized = conflict_rules::tenant::normalized_pseudonym(&new.pseudonym);
        if self.rows.values().any(|row| {
            matches!(row, Row::Member(m) if conflict_rules::tenant::normalized_pseudonym(&m.pseudonym) == normalized)
        }) {
            return Err(WorkError::Invalid("Dieses Pseudonym ist bereits vergeben".into()));
        }
        let id = self.new_id()?;
        let tenant = TenantId::new(self.profile.tenant.clone());
        let typed = Document::<ClientRecord>::create_client(&mut self.editor, &id, tenant, new)
            .map_err(model::Error::from)?;
        self.create(&id, typed, None)?;
        let doc = id.to_string();
        if email.is_some() || phone.is_some() {
            self.request(Request::SetContact {
                record: doc.clone(),
                email,
                phone,
            })?;
        }
        Ok(doc)
    }

    pub fn toggle_bookmark(&mut self, person: &str) -> Result<(), WorkError> {
        let person_id: DocumentId = person.parse().map_err(|_| WorkError::Missing)?;
        let on = self.bookmarks().contains(person);
        let own: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, row)| matches!(row, Row::Bookmarks { owner, .. } if owner == self.me()))
            .map(|(doc, _)| doc.clone())
            .collect();
        if on {
            for doc in own {
                self.edit::<Bookmarks, _>(&doc, |d, _| Ok(d.unbookmark(&person_id)?))?;
            }
            return Ok(());
        }
        match own.first() {
            Some(doc) => self.edit::<Bookmarks, _>(doc, |d, e| Ok(d.bookmark(e, &person_id)?)),
            None => {
                let id = self.new_id()?;
                let mut typed = Document::<Bookmarks>::create_bookmarks(UserId::new(self.me()))?;
                typed.bookmark(&mut self.editor, &person_id)?;
                self.create(&id, typed, None)
            }
        }
    }

    pub fn create_group(&mut self, name: &str, description: &str) -> Result<String, WorkError> {
        let id = self.new_id()?;
        let tenant = TenantId::new(self.profile.tenant.clone());
        let typed = Document::<Group>::create_group(&mut self.editor, tenant, name, description)
            .map_err(model::Error::from)?;
        self.create(&id, typed, None)?;
        Ok(id.to_string())
    }

    /// Whether this user may change a group: its creator, and admins.
    pub fn may_edit_group(&self, group: &GroupRow) -> bool {
        self.is_admin() || group.created_by == self.me()
    }

    /// The notebook of this user for a person, created when first needed.
    pub fn own_notebook(&mut self, person: &str) -> Result<String, WorkError> {
        if let Some(doc) = self.rows.iter().find_map(|(doc, row)| match row {
            Row::Notebook { person: p, author } if p == person && author == self.me() => {
                Some(doc.clone())
            }
            _ => None,
        }) {
            return Ok(doc);
        }
        let person_id: DocumentId = person.parse().map_err(|_| WorkError::Missing)?;
        let id = self.new_id()?;
        let typed = Document::<model::notebook::Notebook>::create_notebook(
            person_id,
            UserId::new(self.me()),
        )
        .map_err(model::Error::from)?;
        self.create(&id, typed, Some(person))?;
        Ok(id.to_string())
    }

    /// Stops the sync (after handing samod what it holds to the store).
    pub fn shut_down(self) {
        let _ = self.commands.send(Command::Stop);
        self.runtime
            .shutdown_timeout(std::time::Duration::from_secs(3));
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}
