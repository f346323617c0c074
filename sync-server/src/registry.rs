//! The document registry: every document the server syncs, with what access to it depends
//! on, kept in SQLite and mirrored in memory so that the share policy answers without a
//! query. Every change that can alter some user's access wakes the watches of the
//! documents it concerns ([`Registry::watch`]); the share policy re-decides a (document,
//! user) pair when its document's watch wakes.
//!
//! The file is long because the index, its SQLite rows and the watches change together
//! under one lock and one connection; splitting them would spread one invariant (the
//! memory mirrors the table) over several files.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use automerge::ChangeHash;
use model::{Date, DocKind, DocumentId, Period, TenantId, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, watch};

use crate::access::{self, Access, DocEntry, Facts, Grant, Viewer};
use crate::accounts::{AccountState, Role, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("this id is taken")]
    Taken,
    #[error("not allowed")]
    Forbidden,
    #[error("a client record is registered with the hash of its creating change")]
    CreationMissing,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl RegistryError {
    pub fn code(&self) -> model::api::ErrorCode {
        use model::api::ErrorCode;
        match self {
            RegistryError::Taken => ErrorCode::DocumentIdTaken,
            RegistryError::Forbidden => ErrorCode::Forbidden,
            RegistryError::CreationMissing => ErrorCode::CreationMissing,
            RegistryError::Sqlite(_) => ErrorCode::Internal,
        }
    }
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    New,
    /// The same registration again (a retry): nothing changed.
    Again,
}

/// [`Registry::watch`]: wakes when access to one document may have changed.
#[derive(Debug)]
pub struct AccessWatch {
    everything: watch::Receiver<u64>,
    document: watch::Receiver<u64>,
}

impl AccessWatch {
    /// Waits for the next change; false once the registry is gone.
    pub async fn changed(&mut self) -> bool {
        tokio::select! {
            changed = self.everything.changed() => changed.is_ok(),
            changed = self.document.changed() => changed.is_ok(),
        }
    }
}

/// What moved when the generation moved: the directory writer updates only the
/// directories this can touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessChange {
    /// A document was registered.
    Document(DocumentId),
    /// The responsibilities of this client record changed.
    Person(DocumentId),
    /// The tenant's timeline restriction changed.
    Tenant(TenantId),
    /// The account was created, locked, unlocked or deleted.
    Account(UserId),
    /// The tenant's staff changed (an account created, locked, unlocked, deleted, or
    /// its password set through an invitation): every directory of the tenant notes the
    /// time, so that clients ask for the staff list again. Nobody's access changes.
    Staff(TenantId),
    /// Documents of the tenant were purged (`purge`): every directory of the tenant
    /// lists them as purged.
    Purged(TenantId),
}

#[derive(Debug, Default)]
struct Index {
    docs: HashMap<DocumentId, DocEntry>,
    /// Client record id to the documents that belong to that person.
    by_person: HashMap<DocumentId, Vec<DocumentId>>,
    /// Account id to its directory document.
    directories: HashMap<UserId, DocumentId>,
    /// Active accounts only; a locked or deleted account reads nothing.
    viewers: HashMap<UserId, Viewer>,
    /// Client record id to the hash of its creating change, the only change but the
    /// server's that may write its server-only maps (`guard`).
    creations: HashMap<DocumentId, ChangeHash>,
    facts: Facts,
    /// For the purge: each client record's effective deletion day (the fold's view;
    /// absent when not deleted), each tenant's deletion interval (from its catalogue),
    /// and the documents purged so far, by tenant, with the time of their purge.
    deletions: HashMap<DocumentId, Date>,
    intervals: HashMap<TenantId, u64>,
    purged: HashMap<DocumentId, (TenantId, u64)>,
}

#[derive(Debug)]
pub struct Registry {
    conn: Mutex<Connection>,
    /// Whose "today" decides which responsibilities are valid.
    timezone: chrono_tz::Tz,
    /// Days added to today (`clock_offset_days`, for drills and tests); 0 in service.
    clock_offset_days: i64,
    index: RwLock<Index>,
    /// Moves when access to any document may have changed (an account, a tenant's
    /// restriction, a new day).
    generation: watch::Sender<u64>,
    /// Per document: moves when access to that document alone may have changed (its
    /// registration, its person's responsibilities). Waking every document's watchers
    /// for these made each registration cost O(documents x peers).
    watchers: Mutex<HashMap<DocumentId, watch::Sender<u64>>>,
    changes: mpsc::UnboundedSender<AccessChange>,
    changes_out: Mutex<Option<mpsc::UnboundedReceiver<AccessChange>>>,
    /// How many changes went to the directory writer: numbered and sent under one lock,
    /// so that the writer's count of what it received is a sequence number.
    sent: Mutex<u64>,
}

/// Today in the time zone `tz`: responsibilities are valid by whole days, and a
/// deletion at 00:30 in Germany happens on that day, not the one before in UTC.
pub fn today_in(tz: chrono_tz::Tz) -> Date {
    use chrono::Datelike as _;
    let local = chrono::Utc::now().with_timezone(&tz).date_naive();
    // chrono's dates are valid calendar dates, which `from_ymd` takes.
    Date::from_ymd(local.year(), local.month(), local.day())
        .unwrap_or_else(|| unreachable!("a calendar date is a date"))
}

impl Index {
    fn add(&mut self, id: DocumentId, entry: DocEntry) {
        if let Some(person) = entry.person {
            self.by_person.entry(person).or_default().push(id);
        }
        if entry.kind == DocKind::Directory
            && let Some(owner) = &entry.owner
        {
            self.directories.insert(owner.clone(), id);
        }
        self.docs.insert(id, entry);
    }
}

impl Registry {
    /// Loads the registry from `conn` (a connection of its own to the server database).
    pub fn open(conn: Connection, timezone: chrono_tz::Tz) -> Result<Self, RegistryError> {
        let mut index = Index::default();
        {
            let mut statement =
                conn.prepare("SELECT id, kind, tenant, person, owner, creation FROM documents")?;
            let rows = statement.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?;
            for row in rows {
                let (id, kind, tenant, person, owner, creation) = row?;
                // Only canonical ids are ever registered; anything else is not ours.
                let (Some(kind), Ok(id)) = (DocKind::parse(&kind), id.parse::<DocumentId>()) else {
                    tracing::warn!(document = %id, "a registry row that is no document ignored");
                    continue;
                };
                if let Some(hash) = creation.and_then(|c| c.parse().ok()) {
                    index.creations.insert(id, hash);
                }
                index.add(
                    id,
                    DocEntry {
                        kind,
                        tenant: TenantId::new(tenant),
                        person: person.and_then(|p| p.parse().ok()),
                        owner: owner.map(UserId::new),
                    },
                );
            }
            let mut statement =
                conn.prepare("SELECT tenant FROM tenant_settings WHERE restrict_timelines = 1")?;
            for tenant in statement.query_map([], |r| r.get::<_, String>(0))? {
                index
                    .facts
                    .restricted_tenants
                    .insert(TenantId::new(tenant?));
            }
            let mut statement =
                conn.prepare("SELECT person, user, valid, deactivated FROM responsibility_grants")?;
            let rows = statement.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?;
            for row in rows {
                let (person, user, valid, deactivated) = row?;
                let Ok(person) = person.parse::<DocumentId>() else {
                    continue;
                };
                let valid = valid.parse::<Period>().unwrap_or_default();
                index
                    .facts
                    .responsibilities
                    .entry(person)
                    .or_default()
                    .push(Grant {
                        user: UserId::new(user),
                        valid,
                        deactivated,
                    });
            }
        }
        load_purge_facts(&conn, &mut index)?;
        let (generation, _) = watch::channel(0);
        let (changes, changes_out) = mpsc::unbounded_channel();
        Ok(Self {
            conn: Mutex::new(conn),
            timezone,
            clock_offset_days: 0,
            index: RwLock::new(index),
            generation,
            watchers: Mutex::new(HashMap::new()),
            changes,
            changes_out: Mutex::new(Some(changes_out)),
            sent: Mutex::new(0),
        })
    }

    /// Shifts [`Registry::today`] by `days` (`clock_offset_days`: drills and tests
    /// let time pass without waiting for it).
    pub fn with_clock_offset(mut self, days: i64) -> Self {
        self.clock_offset_days = days;
        self
    }

    /// Today in the organisation's time zone (shifted by `clock_offset_days`).
    pub fn today(&self) -> Date {
        let today = today_in(self.timezone);
        if self.clock_offset_days == 0 {
            return today;
        }
        today
            .naive()
            .checked_add_signed(chrono::TimeDelta::days(self.clock_offset_days))
            .map(Date::from)
            .unwrap_or(today)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Every write is one statement or one transaction: a poisoned lock is consistent.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self, change: AccessChange) {
        match &change {
            AccessChange::Document(id) => self.wake(std::iter::once(id)),
            AccessChange::Person(person) => {
                let index = self.read();
                let belonging = index.by_person.get(person).into_iter().flatten();
                self.wake(belonging.chain([person]));
            }
            AccessChange::Tenant(_) | AccessChange::Account(_) => {
                self.generation.send_modify(|g| *g += 1);
            }
            // `forget_purged` wakes the purged documents' watchers itself.
            AccessChange::Purged(_) => {}
            AccessChange::Staff(_) => {}
        }
        // Nobody listening (a test without a directory writer) is fine.
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        *sent += 1;
        let _ = self.changes.send(change);
    }

    /// How many access changes have gone to the directory writer so far: wait for
    /// [`crate::directory::Directories::caught_up`] with it.
    pub fn changes_sent(&self) -> u64 {
        *self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn watchers(&self) -> std::sync::MutexGuard<'_, HashMap<DocumentId, watch::Sender<u64>>> {
        self.watchers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes whoever watches access to `documents`; forgets documents nobody watches.
    fn wake<'a>(&self, documents: impl Iterator<Item = &'a DocumentId>) {
        let mut watchers = self.watchers();
        for doc in documents {
            if let Some(sender) = watchers.get(doc) {
                if sender.receiver_count() == 0 {
                    watchers.remove(doc);
                } else {
                    sender.send_modify(|g| *g += 1);
                }
            }
        }
    }

    /// Tells the directory writer that the staff of `tenant` changed.
    pub fn staff_changed(&self, tenant: &TenantId) {
        let _ = self.changes.send(AccessChange::Staff(tenant.clone()));
    }

    /// Tells the directory writer that `account_id` needs a complete update.
    pub fn account_changed(&self, account_id: &UserId) {
        let _ = self.changes.send(AccessChange::Account(account_id.clone()));
    }

    /// Moves the generation without a change of facts: a new day, on which
    /// responsibilities may have begun or ended.
    pub fn new_day(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// What changed, in order, for the one directory writer; `None` after the first call.
    pub fn take_changes(&self) -> Option<mpsc::UnboundedReceiver<AccessChange>> {
        self.changes_out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// Wakes whenever access to `doc_id` may have changed: for everyone's documents, or
    /// for this one.
    pub fn watch(&self, doc_id: &DocumentId) -> AccessWatch {
        let mut watchers = self.watchers();
        // Peers may ask for ids nobody registered, which no change will ever wake and
        // prune: so forget unwatched documents whenever the map has doubled.
        if watchers.len() >= 1024 && watchers.len().is_power_of_two() {
            watchers.retain(|_, sender| sender.receiver_count() > 0);
        }
        let document = watchers
            .entry(*doc_id)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        AccessWatch {
            everything: self.generation.subscribe(),
            document,
        }
    }

    pub fn entry(&self, id: &DocumentId) -> Option<DocEntry> {
        self.read().docs.get(id).cloned()
    }

    /// The active account `account_id` as a viewer; looked up in the database when not
    /// yet cached (an account created by `sync-server admin` while the server runs).
    pub fn viewer(&self, account_id: &UserId) -> Option<Viewer> {
        if let Some(viewer) = self.read().viewers.get(account_id) {
            return Some(viewer.clone());
        }
        // Filling the cache changes nobody's access: no event.
        self.load_account(account_id, false).ok().flatten()
    }

    /// Re-reads one account after it was created, locked, unlocked or deleted.
    pub fn refresh_account(&self, account_id: &UserId) -> Result<Option<Viewer>, RegistryError> {
        self.load_account(account_id, true)
    }

    fn load_account(
        &self,
        account_id: &UserId,
        announce: bool,
    ) -> Result<Option<Viewer>, RegistryError> {
        let row: Option<(String, String, String)> = self
            .conn()
            .query_row(
                "SELECT tenant, role, state FROM accounts WHERE id = ?1",
                params![account_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let viewer = row.and_then(|(tenant, role, state)| {
            (state == AccountState::Active.as_str())
                .then_some(())
                .and(Role::parse(&role))
                .map(|role| Viewer {
                    account_id: account_id.clone(),
                    tenant: TenantId::new(tenant),
                    role,
                })
        });
        let changed = {
            let mut index = self.write();
            match &viewer {
                Some(v) => index.viewers.insert(account_id.clone(), v.clone()).as_ref() != Some(v),
                None => index.viewers.remove(account_id).is_some(),
            }
        };
        if changed && announce {
            self.bump(AccessChange::Account(account_id.clone()));
        }
        Ok(viewer)
    }

    /// The access of `account_id` to `doc_id` today.
    pub fn access(&self, doc_id: &DocumentId, account_id: &UserId) -> Access {
        let Some(viewer) = self.viewer(account_id) else {
            return Access::None;
        };
        let index = self.read();
        match index.docs.get(doc_id) {
            Some(entry) => access::decide(entry, &viewer, &index.facts, self.today()),
            None => Access::None,
        }
    }

    /// Registers a document for `who`. `person` names the client record a per-person
    /// document belongs to; a client record names the hash of its creating change.
    pub fn register(
        &self,
        id: DocumentId,
        kind: DocKind,
        person: Option<DocumentId>,
        creation: Option<ChangeHash>,
        who: &Viewer,
    ) -> Result<Registered, RegistryError> {
        if self.is_purged(&id) {
            // A purged id never comes back, whoever asks: every directory lists it as
            // purged.
            return Err(RegistryError::Taken);
        }
        let person_entry = person.and_then(|p| self.entry(&p));
        if !access::may_register(kind, who, person_entry.as_ref()) {
            return Err(RegistryError::Forbidden);
        }
        let creation = match kind {
            DocKind::ClientRecord => Some(creation.ok_or(RegistryError::CreationMissing)?),
            _ => None,
        };
        // Only a person's own documents name them; a group, bookmarks or a catalogue
        // does not, whatever the client sent (the purge takes what names the person).
        let person = match kind {
            DocKind::ClientRecord => Some(id),
            DocKind::ClientContact | DocKind::Timeline | DocKind::Notebook => person,
            DocKind::Group | DocKind::Bookmarks | DocKind::Catalogue | DocKind::Directory => None,
        };
        if kind != DocKind::ClientRecord
            && let Some(person) = &person
            && self.purge_started(person)?
        {
            // The purge has read the person's documents already: this one would stay.
            return Err(RegistryError::Forbidden);
        }
        let entry = DocEntry {
            kind,
            tenant: who.tenant.clone(),
            person,
            owner: match kind {
                DocKind::Notebook | DocKind::Bookmarks | DocKind::Group => {
                    Some(who.account_id.clone())
                }
                _ => None,
            },
        };
        self.insert(id, entry, Some(&who.account_id), creation)
    }

    /// Registers a document the server itself owns (a user's directory).
    pub fn register_own(
        &self,
        id: DocumentId,
        entry: DocEntry,
    ) -> Result<Registered, RegistryError> {
        self.insert(id, entry, None, None)
    }

    fn insert(
        &self,
        id: DocumentId,
        entry: DocEntry,
        by: Option<&UserId>,
        creation: Option<ChangeHash>,
    ) -> Result<Registered, RegistryError> {
        if self.read().purged.contains_key(&id) {
            // A purged id never comes back: every directory lists it as purged.
            return Err(RegistryError::Taken);
        }
        if let Some(existing) = self.entry(&id) {
            let same_creation = creation.is_none_or(|hash| self.creation(&id) == Some(hash));
            return if existing == entry && same_creation {
                Ok(Registered::Again)
            } else {
                Err(RegistryError::Taken)
            };
        }
        let inserted = self.conn().execute(
            "INSERT INTO documents (id, kind, tenant, person, owner, created_by, created_ms, creation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            params![
                id.to_string(),
                entry.kind.as_str(),
                entry.tenant.as_str(),
                entry.person.map(|p| p.to_string()),
                entry.owner.as_ref().map(UserId::as_str),
                by.map(UserId::as_str),
                now_ms() as i64,
                creation.map(|hash| hash.to_string()),
            ],
        )?;
        if inserted == 0 {
            return Err(RegistryError::Taken);
        }
        {
            let mut index = self.write();
            if let Some(hash) = creation {
                index.creations.insert(id, hash);
            }
            index.add(id, entry);
        }
        self.bump(AccessChange::Document(id));
        Ok(Registered::New)
    }

    /// Records a tenant's timeline restriction, read from its catalogue.
    pub fn set_timeline_restriction(
        &self,
        tenant: &TenantId,
        restrict: bool,
    ) -> Result<(), RegistryError> {
        if self.read().facts.restricted_tenants.contains(tenant) == restrict {
            return Ok(());
        }
        self.conn().execute(
            "INSERT INTO tenant_settings (tenant, restrict_timelines) VALUES (?1, ?2)
             ON CONFLICT (tenant) DO UPDATE SET restrict_timelines = excluded.restrict_timelines",
            params![tenant.as_str(), restrict],
        )?;
        {
            let mut index = self.write();
            if restrict {
                index.facts.restricted_tenants.insert(tenant.clone());
            } else {
                index.facts.restricted_tenants.remove(tenant);
            }
        }
        self.bump(AccessChange::Tenant(tenant.clone()));
        Ok(())
    }

    /// Records the responsibilities of the client record `person`, read from its view.
    pub fn set_responsibilities(
        &self,
        person: DocumentId,
        grants: Vec<Grant>,
    ) -> Result<(), RegistryError> {
        if self.read().facts.responsibilities.get(&person) == Some(&grants) {
            return Ok(());
        }
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM responsibility_grants WHERE person = ?1",
                params![person.to_string()],
            )?;
            for grant in &grants {
                tx.execute(
                    "INSERT INTO responsibility_grants (person, user, valid, deactivated)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        person.to_string(),
                        grant.user.as_str(),
                        grant.valid.to_string(),
                        grant.deactivated
                    ],
                )?;
            }
            tx.commit()?;
        }
        self.write().facts.responsibilities.insert(person, grants);
        self.bump(AccessChange::Person(person));
        Ok(())
    }

    /// Every document `account_id` may read today, with its entry and access.
    pub fn readable_by(&self, account_id: &UserId) -> Vec<(DocumentId, DocEntry, Access)> {
        let Some(viewer) = self.viewer(account_id) else {
            return Vec::new();
        };
        let today = self.today();
        let index = self.read();
        let mut found: Vec<_> = index
            .docs
            .iter()
            .filter(|(_, entry)| entry.tenant == viewer.tenant)
            .filter_map(|(id, entry)| {
                let access = access::decide(entry, &viewer, &index.facts, today);
                (access != Access::None).then(|| (*id, entry.clone(), access))
            })
            .collect();
        found.sort_by_key(|(id, _, _)| *id);
        found
    }

    /// The hash of the creating change of the client record `doc_id`, as registered.
    pub fn creation(&self, doc_id: &DocumentId) -> Option<ChangeHash> {
        self.read().creations.get(doc_id).copied()
    }

    /// Records the creating change of a record registered before registrations named it
    /// (the guard takes the first one it sees); never replaces one.
    pub fn set_creation(&self, doc_id: DocumentId, hash: ChangeHash) -> Result<(), RegistryError> {
        self.conn().execute(
            "UPDATE documents SET creation = ?2 WHERE id = ?1 AND creation IS NULL",
            params![doc_id.to_string(), hash.to_string()],
        )?;
        self.write().creations.entry(doc_id).or_insert(hash);
        Ok(())
    }

    /// The account that registered `doc_id` (none for the server's own documents).
    pub fn created_by(&self, doc_id: &DocumentId) -> Result<Option<UserId>, RegistryError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT created_by FROM documents WHERE id = ?1",
                params![doc_id.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten()
            .map(UserId::new))
    }

    /// Whether the server's document storage holds anything of `doc_id`.
    pub fn stored(&self, doc_id: &DocumentId) -> bool {
        // Keys are `<document id>/…`; '0' follows '/', so this is a range on the key.
        self.conn()
            .query_row(
                "SELECT 1 FROM repo_storage WHERE key >= ?1 AND key < ?2 LIMIT 1",
                params![format!("{doc_id}/"), format!("{doc_id}0")],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    /// The directory document of `account_id`, once it has one.
    pub fn directory_of(&self, account_id: &UserId) -> Option<DocumentId> {
        self.read().directories.get(account_id).copied()
    }

    /// Every account that has a directory.
    pub fn accounts_with_directories(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self.read().directories.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The contact document of the person of client record `person`, if there is one.
    pub fn contact_of(&self, person: &DocumentId) -> Option<DocumentId> {
        self.documents_of(person)
            .into_iter()
            .find(|id| self.entry(id).map(|e| e.kind) == Some(DocKind::ClientContact))
    }

    /// The staff notebooks `account` owns (a scan of the index: notebooks are few per
    /// person, but the index holds every document).
    pub fn owned_notebooks(&self, account: &UserId) -> Vec<DocumentId> {
        self.read()
            .docs
            .iter()
            .filter(|(_, e)| e.kind == DocKind::Notebook && e.owner.as_ref() == Some(account))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The documents that belong to the person of client record `person` (the record
    /// included).
    pub fn documents_of(&self, person: &DocumentId) -> Vec<DocumentId> {
        self.read()
            .by_person
            .get(person)
            .cloned()
            .unwrap_or_default()
    }

    /// The access of `account_id` today to each of `ids` (unknown ids: none), with
    /// their entries.
    pub fn decide_many(
        &self,
        account_id: &UserId,
        ids: &[DocumentId],
    ) -> Vec<(DocumentId, Option<(DocEntry, Access)>)> {
        let viewer = self.viewer(account_id);
        let today = self.today();
        let index = self.read();
        ids.iter()
            .map(|id| {
                let decided = viewer.as_ref().and_then(|viewer| {
                    let entry = index.docs.get(id)?;
                    let access = access::decide(entry, viewer, &index.facts, today);
                    (access != Access::None).then(|| (entry.clone(), access))
                });
                (*id, decided)
            })
            .collect()
    }

    /// The active accounts of a tenant.
    pub fn tenant_accounts(&self, tenant: &TenantId) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self
            .conn()
            .prepare("SELECT id FROM accounts WHERE tenant = ?1 AND state = 'active'")
            .and_then(|mut s| {
                s.query_map(params![tenant.as_str()], |r| {
                    r.get::<_, String>(0).map(UserId::new)
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

mod purged;
pub use purged::Deletion;
use purged::load_purge_facts;

#[cfg(test)]
mod tests;
