//! Directories: each user's list of the documents they may read, written by the server
//! only. A client learns from it that a record exists, that it
//! lost access, or that a record was purged; samod by itself announces none of these.
//!
//! A directory is created, empty, at the user's first login ([`Directories::ensure`]);
//! the [`run`] worker, its only writer, fills it at once and from then on keeps it current from the registry's [`AccessChange`]s, touching
//! only what a change can affect: a new document is decided for each account of its
//! tenant, a person's changed responsibilities for that person's documents; a tenant's
//! restriction or an account's state means a complete update of the directories
//! concerned. Changes are taken in batches, so a burst of registrations costs one change
//! per directory. At start and on each new day (responsibilities begin and end by date)
//! every directory gets a complete update. A purge (`crate::purge`) means a complete
//! update of its tenant's directories; every complete update also lists the tenant's
//! purged documents as purged, so a directory created after a purge, or a device that
//! was offline during it, learns what to delete.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use model::directory::{self, Access as EntryAccess, Directory, DirectoryEntry, Wanted};
use model::{Document, DocumentId, TenantId, UserId};
use tokio::sync::mpsc;

use crate::access::{Access, DocEntry};
use crate::authoring::{self, CreateError};
use crate::registry::{AccessChange, Registry};
use crate::storage::Persisted;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("no active account")]
    NoAccount,
    #[error("the repo has stopped")]
    Stopped,
    #[error(transparent)]
    Document(#[from] model::DocumentError),
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error(transparent)]
    Panicked(#[from] authoring::Panicked),
}

const PERSIST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a registration or a first login waits for the directories at most.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the worker waits for more changes before it writes.
const BATCH_WINDOW: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct Directories {
    registry: Arc<Registry>,
    repo: samod::Repo,
    persisted: Arc<Persisted>,
    /// One creation at a time, so two first logins at once make one directory.
    creating: tokio::sync::Mutex<()>,
    /// How many of the registry's changes the worker has written into directories
    /// (see [`Directories::caught_up`]); `None` while no worker runs.
    applied: tokio::sync::watch::Sender<Option<u64>>,
}

impl Directories {
    pub fn new(registry: Arc<Registry>, repo: samod::Repo, persisted: Arc<Persisted>) -> Self {
        Self {
            registry,
            repo,
            persisted,
            creating: tokio::sync::Mutex::new(()),
            applied: tokio::sync::watch::Sender::new(None),
        }
    }

    /// Waits (a few seconds at most) until the worker has written every access change
    /// the registry had sent when `sent` was read ([`Registry::changes_sent`]). A first
    /// login waits for it before it answers, so a new directory is filled before the
    /// device syncs: samod hands a peer every document the registry allows, and a
    /// device that received a document its directory did not list yet could not tell,
    /// after losing access, that it had ever been given it. A registration does not
    /// wait (it would cost every new document the batch window), so the same gap stays
    /// open for a document registered while a colleague's device is connected.
    pub async fn caught_up(&self, sent: u64) {
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(
            CATCH_UP_TIMEOUT,
            applied.wait_for(|applied| applied.is_none_or(|applied| applied >= sent)),
        )
        .await;
        if reached.is_err() {
            tracing::warn!("directories did not catch up in time");
        }
    }

    /// The directory of `account_id`, created (complete and current) if it has none.
    pub async fn ensure(&self, account_id: &UserId) -> Result<DocumentId, DirectoryError> {
        if let Some(id) = self.registry.directory_of(account_id) {
            return Ok(id);
        }
        let _one_at_a_time = self.creating.lock().await;
        if let Some(id) = self.registry.directory_of(account_id) {
            return Ok(id);
        }
        let viewer = self
            .registry
            .viewer(account_id)
            .ok_or(DirectoryError::NoAccount)?;
        let initial = Document::<Directory>::create_directory(account_id.clone())?.into_automerge();
        let entry = DocEntry {
            kind: model::DocKind::Directory,
            tenant: viewer.tenant,
            person: None,
            owner: Some(account_id.clone()),
        };
        let id = authoring::create_registered(
            &self.repo,
            &self.persisted,
            &self.registry,
            initial,
            entry,
            PERSIST_TIMEOUT,
        )
        .await?;
        // The worker fills it: one writer per directory, so an older complete list
        // never overwrites a newer change.
        self.registry.account_changed(account_id);
        self.caught_up(self.registry.changes_sent()).await;
        Ok(id)
    }

    /// Every document `account_id` may read, as directory entries.
    fn everything_for(&self, account_id: &UserId) -> Wanted {
        self.registry
            .readable_by(account_id)
            .into_iter()
            .filter_map(|(id, entry, access)| {
                Some((id.to_string(), Some(entry_for(&entry, access)?)))
            })
            .collect()
    }

    /// Writes `wanted` into the directory `directory_id` of `account_id`.
    async fn write(
        &self,
        account_id: &UserId,
        directory_id: DocumentId,
        wanted: &Wanted,
        complete: bool,
    ) -> Result<usize, DirectoryError> {
        let handle = match self.repo.find(crate::wire::to_samod(directory_id)).await {
            Ok(Some(handle)) => handle,
            Ok(None) => {
                tracing::error!(account = %account_id, directory = %directory_id, "directory missing from storage");
                return Ok(0);
            }
            Err(_) => return Err(DirectoryError::Stopped),
        };
        let updated = authoring::held(&handle, |doc| {
            directory::update_in_place(doc, wanted, complete)
        })?;
        Ok(updated?)
    }

    /// Brings every directory `changes` can affect up to date.
    async fn apply(&self, changes: BTreeSet<Scope>) {
        let mut complete: BTreeSet<UserId> = BTreeSet::new();
        let mut partial: BTreeMap<UserId, BTreeSet<DocumentId>> = BTreeMap::new();
        for change in changes {
            match change {
                Scope::All => complete.extend(self.registry.accounts_with_directories()),
                Scope::Account(account) => {
                    complete.insert(account);
                }
                Scope::Tenant(tenant) => complete.extend(self.accounts_of(&tenant)),
                Scope::Staff(tenant) => self.note_staff_change(&tenant).await,
                Scope::Documents(tenant, ids) => {
                    for account in self.accounts_of(&tenant) {
                        partial
                            .entry(account)
                            .or_default()
                            .extend(ids.iter().copied());
                    }
                }
            }
        }
        let mut purged_by_tenant: BTreeMap<TenantId, BTreeMap<String, u64>> = BTreeMap::new();
        for account in &complete {
            partial.remove(account);
            let wanted = self.everything_for(account);
            self.write_logged(account, &wanted, true).await;
            // Only staff hear of purged documents: a person's directory would learn
            // other people's ids.
            if let Some(viewer) = self.registry.viewer(account)
                && viewer.role.is_staff()
            {
                let purged = purged_by_tenant
                    .entry(viewer.tenant.clone())
                    .or_insert_with(|| self.registry.purged_in(&viewer.tenant));
                self.write_purged(account, purged).await;
            }
        }
        for (account, ids) in partial {
            let ids: Vec<DocumentId> = ids.into_iter().collect();
            let wanted: Wanted = self
                .registry
                .decide_many(&account, &ids)
                .into_iter()
                .map(|(id, decided)| {
                    let entry = decided.and_then(|(entry, access)| entry_for(&entry, access));
                    (id.to_string(), entry)
                })
                .collect();
            self.write_logged(&account, &wanted, false).await;
        }
    }

    async fn write_logged(&self, account_id: &UserId, wanted: &Wanted, complete: bool) {
        let Some(directory_id) = self.registry.directory_of(account_id) else {
            return;
        };
        match self.write(account_id, directory_id, wanted, complete).await {
            Ok(0) => {}
            Ok(changed) => {
                tracing::debug!(account = %account_id, changed, "directory updated");
            }
            Err(error) => {
                tracing::error!(account = %account_id, %error, "cannot update a directory");
            }
        }
    }

    /// Notes in the directory of each member of staff of `tenant` that its staff
    /// changed (`staff_changed_ms`, always later than the value it replaces), so that
    /// their clients ask for the staff list again without reconnecting.
    async fn note_staff_change(&self, tenant: &TenantId) {
        let now = crate::accounts::now_ms();
        // Who is staff may need the database (an account not cached yet): off the async
        // workers.
        let registry = self.registry.clone();
        let accounts = self.accounts_of(tenant);
        let staff = tokio::task::spawn_blocking(move || {
            accounts
                .into_iter()
                .filter(|account| {
                    registry
                        .viewer(account)
                        .is_some_and(|viewer| viewer.role.is_staff())
                })
                .filter_map(|account| {
                    let directory = registry.directory_of(&account)?;
                    Some((account, directory))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for (account, directory_id) in staff {
            let handle = match self.repo.find(crate::wire::to_samod(directory_id)).await {
                Ok(Some(handle)) => handle,
                _ => {
                    tracing::error!(account = %account, directory = %directory_id, "directory missing from storage");
                    continue;
                }
            };
            match authoring::held(&handle, |doc| stamp_staff_change(doc, now)) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(account = %account, %error, "cannot note a staff change");
                }
                Err(_) => {}
            }
        }
    }

    /// Lists `purged` as purged in the directory of `account_id`.
    async fn write_purged(&self, account_id: &UserId, purged: &BTreeMap<String, u64>) {
        if purged.is_empty() {
            return;
        }
        let Some(directory_id) = self.registry.directory_of(account_id) else {
            return;
        };
        let Ok(Some(handle)) = self.repo.find(crate::wire::to_samod(directory_id)).await else {
            return;
        };
        match authoring::held(&handle, |doc| directory::purge_in_place(doc, purged)) {
            Ok(Ok(0)) => {}
            Ok(Ok(added)) => {
                tracing::debug!(account = %account_id, added, "purged documents listed")
            }
            Ok(Err(error)) => {
                tracing::error!(account = %account_id, %error, "cannot list purged documents");
            }
            Err(_) => {}
        }
    }

    /// The accounts of `tenant` that have a directory.
    fn accounts_of(&self, tenant: &TenantId) -> Vec<UserId> {
        self.registry
            .tenant_accounts(tenant)
            .into_iter()
            .filter(|account| self.registry.directory_of(account).is_some())
            .collect()
    }
}

/// A directory lists what its owner reads, except directories themselves.
fn entry_for(entry: &DocEntry, access: Access) -> Option<DirectoryEntry> {
    let access = match access {
        Access::None => return None,
        Access::Read => EntryAccess::ReadOnly,
        Access::Write => EntryAccess::ReadWrite,
    };
    if entry.kind == model::DocKind::Directory {
        return None;
    }
    Some(DirectoryEntry {
        kind: entry.kind,
        access,
        person: entry.person,
    })
}

/// Writes `staff_changed_ms` into a directory: `now`, or one more than the value there
/// if that is not earlier (a clock that stepped back must still move it).
fn stamp_staff_change(
    doc: &mut automerge::Automerge,
    now: u64,
) -> Result<(), automerge::AutomergeError> {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, Value};

    let current = match doc.get(automerge::ROOT, "staff_changed_ms")? {
        Some((Value::Scalar(value), _)) => value.as_u64(),
        _ => None,
    };
    let at = current.map_or(now, |current| now.max(current.saturating_add(1)));
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "staff_changed_ms", at)?;
        Ok(())
    })
    .map_err(|failure| failure.error)?;
    Ok(())
}

/// What one batch must look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    All,
    Account(UserId),
    Tenant(TenantId),
    /// Documents of one tenant, decided for each of its accounts.
    Documents(TenantId, Vec<DocumentId>),
    /// The tenant's staff changed: its directories note when.
    Staff(TenantId),
}

fn scope_of(registry: &Registry, change: AccessChange) -> Option<Scope> {
    match change {
        AccessChange::Account(account) => Some(Scope::Account(account)),
        AccessChange::Tenant(tenant) | AccessChange::Purged(tenant) => Some(Scope::Tenant(tenant)),
        AccessChange::Staff(tenant) => Some(Scope::Staff(tenant)),
        AccessChange::Document(id) => {
            let entry = registry.entry(&id)?;
            // Directories are in no directory.
            (entry.kind != model::DocKind::Directory)
                .then(|| Scope::Documents(entry.tenant, vec![id]))
        }
        AccessChange::Person(person) => {
            let entry = registry.entry(&person)?;
            Some(Scope::Documents(
                entry.tenant,
                registry.documents_of(&person),
            ))
        }
    }
}

/// Keeps directories current until the registry's change stream ends; takes the stream.
pub async fn run(
    directories: Arc<Directories>,
    mut changes: mpsc::UnboundedReceiver<AccessChange>,
) {
    let registry = directories.registry.clone();
    // Counts every change taken off the stream, in the order the registry numbered them.
    let mut received: u64 = 0;
    directories.applied.send_replace(Some(received));
    directories.apply(BTreeSet::from([Scope::All])).await;
    let mut day = registry.today();
    let mut clock = tokio::time::interval(Duration::from_secs(60));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut batch = BTreeSet::new();
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { return };
                received += 1;
                batch.extend(scope_of(&registry, change));
                tokio::time::sleep(BATCH_WINDOW).await;
                while let Ok(more) = changes.try_recv() {
                    received += 1;
                    batch.extend(scope_of(&registry, more));
                }
            }
            _ = clock.tick() => {
                let today = registry.today();
                if today == day {
                    continue;
                }
                day = today;
                registry.new_day();
                batch.insert(Scope::All);
            }
        }
        directories.apply(batch).await;
        directories.applied.send_replace(Some(received));
    }
}
