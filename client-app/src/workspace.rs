//! The workspace: what the screens work with. It signs a person in (online the first
//! time on a machine, offline from then on), owns the local store and the background
//! sync, keeps the derived rows in memory for the lists, and carries out edits: each
//! edit goes through `model`, lands in the store in one transaction (changes, row,
//! unsynced count) and is handed to the sync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use automerge::ActorId;
use conflict_rules::notice::Notice;
use conflict_rules::record::{RecordView, fold_record};
use model::bookmarks::Bookmarks;
use model::client_record::{ClientRecord, NewClient};
use model::group::Group;
use model::{DocKind, Document, DocumentId, Editor, NodeId, Schema, TenantId, UserId};
use tokio::sync::mpsc;

use crate::api::{self, ApiError, Request};
use crate::engine::{self, Command, SyncStatus};
use crate::rows::{self, GroupRow, MemberRow, Row};
use crate::storage::Changed;
use crate::store::{Profile, Session, Store, StoreError};

mod participation;
pub use participation::{CatalogueView, ParticipationEdit, TimelineRead, refusal, rejection_text};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Benutzername oder Passwort falsch")]
    WrongPassword,
    #[error("Für die erste Anmeldung auf diesem Gerät braucht es eine Verbindung zum Server")]
    FirstLoginNeedsServer,
    #[error("Zu viele Anmeldeversuche, bitte etwas später erneut versuchen")]
    RateLimited,
    #[error("Der Server lehnt die Anmeldung ab: {0}")]
    Refused(String),
    #[error("Lokaler Speicher: {0}")]
    Store(#[from] StoreError),
    #[error("Die Hintergrund-Synchronisation startet nicht: {0}")]
    Runtime(String),
}

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

/// How to sign in.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub data_dir: PathBuf,
    pub server: String,
    pub login: String,
    pub password: String,
    /// PBKDF2 rounds for a new local store ([`crate::crypto::ITERATIONS`]); tests lower it.
    pub iterations: NonZeroU32,
}

/// The store file of one login on one server. Its name tells neither.
pub fn store_path(data_dir: &Path, server: &str, login: &str) -> PathBuf {
    let who = format!("{}\n{}", api::base_url(server), login.trim().to_lowercase());
    let digest = ring::digest::digest(&ring::digest::SHA256, who.as_bytes());
    let name: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    data_dir.join(format!("{name}.store"))
}

/// The member list's filter ("eigene", "alle", a given counsellor's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    Own,
    #[default]
    All,
    Of(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    LastLogin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberQuery {
    pub search: String,
    pub filter: Filter,
    pub sort: Sort,
    /// Only bookmarked people ("Merkliste").
    pub bookmarked: bool,
}

/// The merged catalogue and the (document, generation) pairs it was read from.
type CachedCatalogue = (Vec<(String, u64)>, Arc<CatalogueView>);

pub struct Workspace {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
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

fn refused(error: ApiError) -> SignInError {
    match error {
        ApiError::Unreachable(_) => SignInError::FirstLoginNeedsServer,
        ApiError::Refused { code, .. } if code == "wrong-credentials" => SignInError::WrongPassword,
        ApiError::Refused { code, .. } if code == "rate-limited" => SignInError::RateLimited,
        other => SignInError::Refused(other.to_string()),
    }
}

impl Workspace {
    /// Signs in: opens this machine's store with the password, or, the first time,
    /// logs in online and creates it. Then starts the background sync.
    pub fn sign_in(how: &SignIn) -> Result<Self, SignInError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("sync")
            .build()
            .map_err(|e| SignInError::Runtime(e.to_string()))?;
        let path = store_path(&how.data_dir, &how.server, &how.login);
        let store = if path.exists() {
            match Store::open(&path, &how.password) {
                Err(StoreError::WrongPassword) => return Err(SignInError::WrongPassword),
                other => other?,
            }
        } else {
            let answer = runtime
                .block_on(api::login(&how.server, &how.login, &how.password))
                .map_err(refused)?;
            if answer.role == "client" {
                return Err(SignInError::Refused(
                    "Klient:innen-Zugänge arbeiten nicht mit dieser App".into(),
                ));
            }
            let staff = runtime
                .block_on(api::staff(&how.server, &answer.token))
                .unwrap_or_default();
            let device: [u8; 16] = crate::crypto::random().map_err(StoreError::from)?;
            let profile = Profile {
                server: api::base_url(&how.server),
                login: how.login.trim().to_owned(),
                account_id: answer.account_id,
                tenant: answer.tenant,
                role: answer.role,
                directory_id: answer.directory_id,
                device: device.iter().map(|b| format!("{b:02x}")).collect(),
                session: Some(Session {
                    token: answer.token,
                    peer_id: answer.peer_id,
                }),
                staff,
                last_sync_ms: None,
            };
            Store::create(&path, &how.password, &profile, how.iterations)?
        };
        Self::start(runtime, Arc::new(store), how.password.clone())
    }

    fn start(
        runtime: tokio::runtime::Runtime,
        store: Arc<Store>,
        password: String,
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

    /// Requests waiting for the server, oldest first.
    pub fn pending_requests(&self) -> &[Request] {
        &self.requests
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

    // --- lists -------------------------------------------------------------------

    pub fn member(&self, doc: &str) -> Option<&MemberRow> {
        match self.rows.get(doc)? {
            Row::Member(row) => Some(row),
            _ => None,
        }
    }

    /// The member list: search by pseudonym, name or client id; filter; sort.
    pub fn members(&self, query: &MemberQuery) -> Vec<(&str, &MemberRow)> {
        let needle = query.search.trim().to_lowercase();
        let bookmarked = if query.bookmarked {
            self.bookmarks()
        } else {
            BTreeSet::new()
        };
        let mut found: Vec<(&str, &MemberRow)> = self
            .rows
            .iter()
            .filter_map(|(doc, row)| match row {
                Row::Member(member) => Some((doc.as_str(), member)),
                _ => None,
            })
            .filter(|(doc, row)| {
                (!query.bookmarked || bookmarked.contains(*doc))
                    && match &query.filter {
                        Filter::All => true,
                        Filter::Own => row.primary.as_deref() == Some(self.me()),
                        Filter::Of(user) => row.primary.as_deref() == Some(user.as_str()),
                    }
                    && (needle.is_empty()
                        || row.pseudonym.to_lowercase().contains(&needle)
                        || row.name.to_lowercase().contains(&needle)
                        || row.first_name.to_lowercase().contains(&needle)
                        || row.client_id.to_lowercase().contains(&needle))
            })
            .collect();
        match query.sort {
            Sort::Name => found
                .sort_by_cached_key(|(doc, row)| (row.pseudonym.to_lowercase(), doc.to_string())),
            Sort::LastLogin => {
                found.sort_by(|a, b| b.1.last_login_ms.cmp(&a.1.last_login_ms).then(a.0.cmp(b.0)))
            }
        }
        found
    }

    /// The people this user bookmarked ("Merkliste").
    pub fn bookmarks(&self) -> BTreeSet<String> {
        self.rows
            .values()
            .filter_map(|row| match row {
                Row::Bookmarks { owner, persons } if owner == self.me() => {
                    Some(persons.iter().cloned())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn groups(&self, search: &str) -> Vec<(&str, &GroupRow)> {
        let needle = search.trim().to_lowercase();
        let mut found: Vec<(&str, &GroupRow)> = self
            .rows
            .iter()
            .filter_map(|(doc, row)| match row {
                Row::Group(group) if !group.deleted => Some((doc.as_str(), group)),
                _ => None,
            })
            .filter(|(_, g)| needle.is_empty() || g.name.to_lowercase().contains(&needle))
            .collect();
        found.sort_by_cached_key(|(doc, g)| (g.name.to_lowercase(), doc.to_string()));
        found
    }

    /// A person's other documents: `(doc, row)` of contact, timeline and own notebook.
    pub fn documents_of(&self, person: &str) -> Vec<(&str, &Row)> {
        self.rows
            .iter()
            .filter(|(_, row)| match row {
                Row::Contact { person: p, .. } | Row::Timeline { person: p } => p == person,
                Row::Notebook { person: p, .. } => p == person,
                _ => false,
            })
            .map(|(doc, row)| (doc.as_str(), row))
            .collect()
    }

    /// Every person's contact data (admins read contact documents), by person.
    pub fn contacts(&self) -> HashMap<&str, (Option<String>, Option<String>)> {
        self.rows
            .values()
            .filter_map(|row| match row {
                Row::Contact {
                    person,
                    email,
                    phone,
                } => Some((person.as_str(), (email.clone(), phone.clone()))),
                _ => None,
            })
            .collect()
    }

    pub fn contact_of(&self, person: &str) -> Option<(Option<String>, Option<String>)> {
        self.rows.values().find_map(|row| match row {
            Row::Contact {
                person: p,
                email,
                phone,
            } if p == person => Some((email.clone(), phone.clone())),
            _ => None,
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
        self.store.record_local(
            doc,
            &encoded,
            &heads,
            row.as_ref()
                .zip(json.as_deref())
                .map(|(r, j)| (r.kind().as_str(), j)),
        )?;
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

    fn request_quietly(&self, request: &Request) -> Result<(), WorkError> {
        let json = serde_json::to_vec(request).map_err(|e| WorkError::Invalid(e.to_string()))?;
        self.store.push_request(&json)?;
        Ok(())
    }

    /// Queues a request for the server; it goes as soon as the server is reachable.
    pub fn request(&mut self, request: Request) -> Result<(), WorkError> {
        self.request_quietly(&request)?;
        let _ = self.commands.send(Command::Requests);
        self.reload_counts();
        Ok(())
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

    /// "Hochladen": the file's content is kept here (sealed) and queued for the server;
    /// its name, hash and size go into this user's notebook of the person. Works offline.
    pub fn upload_document(&mut self, person: &str, path: &Path) -> Result<(), WorkError> {
        const MAX_BYTES: u64 = 25 * 1024 * 1024;
        let unreadable = |e: std::io::Error| {
            WorkError::Invalid(format!("Die Datei lässt sich nicht lesen: {e}"))
        };
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > MAX_BYTES {
            return Err(WorkError::Invalid("Die Datei ist größer als 25 MB".into()));
        }
        let data = std::fs::read(path).map_err(unreadable)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sha256: String = ring::digest::digest(&ring::digest::SHA256, &data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.store.put_blob(&sha256, &data)?;
        let notebook = self.own_notebook(person)?;
        let media_type = media_type(&file_name);
        self.edit::<model::notebook::Notebook, _>(&notebook, |d, e| {
            Ok(
                d.add_document(e, &file_name, &sha256, data.len() as u64, media_type)
                    .map(|_| ())?,
            )
        })?;
        self.request(Request::UploadBlob {
            record: person.to_owned(),
            sha256,
        })
    }

    /// "Alle herunterladen": every document of this user's notebook of the person into
    /// `dir`, from the store or, where this device does not have it, from the server.
    /// Returns how many files were written.
    pub fn download_documents(&mut self, person: &str, dir: &Path) -> Result<usize, WorkError> {
        let notebooks: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, row)| {
                matches!(row, Row::Notebook { person: p, author } if p == person && author == self.me())
            })
            .map(|(doc, _)| doc.clone())
            .collect();
        let cannot_write = |e: std::io::Error| {
            WorkError::Invalid(format!("Der Ordner ist nicht beschreibbar: {e}"))
        };
        std::fs::create_dir_all(dir).map_err(cannot_write)?;
        let mut written = 0;
        for notebook in notebooks {
            let read: model::notebook::Notebook = self.read(&notebook)?;
            for meta in read.documents.values() {
                let data = match self.store.blob(&meta.sha256)? {
                    Some(data) => data,
                    None => {
                        let data = self.fetch_blob(&meta.sha256)?;
                        self.store.put_blob(&meta.sha256, &data)?;
                        data
                    }
                };
                let target = free_name(dir, &meta.file_name);
                std::fs::write(&target, data).map_err(cannot_write)?;
                written += 1;
            }
        }
        Ok(written)
    }

    fn fetch_blob(&self, sha256: &str) -> Result<Vec<u8>, WorkError> {
        let offline = || {
            WorkError::Invalid(
                "Ein Dokument liegt nicht auf diesem Gerät; zum Herunterladen braucht es den Server"
                    .into(),
            )
        };
        let token = self
            .profile
            .session
            .as_ref()
            .ok_or_else(offline)?
            .token
            .clone();
        self.runtime
            .block_on(api::get_blob(&self.profile.server, &token, sha256))
            .map_err(|_| offline())
    }

    /// "Passwort ändern": on the server (which needs the current password and ends the
    /// sessions), then the local store is resealed under the new one in one transaction,
    /// and the sync logs in again with it. Needs the server.
    pub fn change_own_password(&mut self, old: &str, new: &str) -> Result<(), WorkError> {
        if let Some(problem) = password_problem(new) {
            return Err(WorkError::Invalid(problem.into()));
        }
        let token = self
            .profile
            .session
            .as_ref()
            .map(|s| s.token.clone())
            .unwrap_or_default();
        let changed =
            self.runtime
                .block_on(api::change_password(&self.profile.server, &token, old, new));
        match changed {
            Ok(()) => {}
            Err(ApiError::Unreachable(_)) => {
                return Err(WorkError::Invalid(
                    "Zum Ändern des Passworts braucht es den Server".into(),
                ));
            }
            Err(ApiError::Refused { code, .. }) if code == "wrong-credentials" => {
                return Err(WorkError::Invalid(
                    "Das bisherige Passwort stimmt nicht".into(),
                ));
            }
            Err(error) if error.is_no_session() => {
                return Err(WorkError::Invalid(
                    "Die Sitzung ist abgelaufen; bitte warten, bis die Verbindung wieder steht"
                        .into(),
                ));
            }
            Err(error) => {
                return Err(WorkError::Invalid(format!(
                    "Der Server lehnt ab: {}",
                    api::refusal_german(&error)
                )));
            }
        }
        self.store.change_password(new)?;
        let _ = self.commands.send(Command::Password(new.to_owned()));
        Ok(())
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

/// A guess from the file name, for the notebook's metadata.
fn media_type(file_name: &str) -> &'static str {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

/// `dir/name`, or `dir/name (2)` and so on when that exists.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    let mut candidate = dir.join(name);
    let mut n = 2;
    while candidate.exists() {
        candidate = dir.join(format!("{stem} ({n}){extension}"));
        n += 1;
    }
    candidate
}

/// The password rules of the manuals (at least 8 characters with a lower-case and an
/// upper-case letter, a digit and a special character), checked before the server is
/// asked (it checks them again).
pub fn password_problem(password: &str) -> Option<&'static str> {
    let has = |f: fn(char) -> bool| password.chars().any(f);
    if password.chars().count() < 8 {
        Some("Das Passwort braucht mindestens 8 Zeichen")
    } else if !(has(char::is_lowercase)
        && has(char::is_uppercase)
        && has(|c| c.is_ascii_digit())
        && has(|c| !c.is_alphanumeric()))
    {
        Some("Das Passwort braucht Klein- und Großbuchstaben, eine Ziffer und ein Sonderzeichen")
    } else {
        None
    }
}
