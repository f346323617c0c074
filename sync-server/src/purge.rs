//! The deletion routine ("Löschroutine"): once the tenant's deletion interval has
//! passed since a client record's effective deletion day (the fold's view, as the
//! registry has it from settling and from the delete and restore routes), everything of
//! the person goes:
//!
//! 1. the record, its contact, its timeline, every notebook about the person (every
//!    document registered with the record as its `person`) and the directory of the
//!    person's own account are forgotten by the registry, and their ids are remembered
//!    as purged (`purged_documents`): from now on they are nobody's (deny by default),
//!    no one can register them again, and every directory of the tenant lists them as
//!    purged, so that each device deletes its copy;
//! 2. the person's own account (role `client`) with its sessions and invitations,
//!    the mail queue's rows about the person (invitations name the record, direct
//!    messages the contact document) and their pickup files not yet collected, and the
//!    uploaded files the person's notebooks referenced that no remaining notebook of the
//!    tenant references;
//! 3. the person's membership in every group and bookmark list of the tenant, removed
//!    as the server's own edit of those documents;
//! 4. samod's stored chunks of each document (`repo_storage`, keys `<id>/…`);
//! 5. the purge is marked finished, the audit log notes it (the record's id, how many
//!    documents, the day; no names), and the WAL is checkpointed and truncated, so
//!    that, with `secure_delete`, the bytes are gone from the database's files.
//!
//! A purge is recorded (`purges`, with its list of documents) before anything is
//! deleted, every step is a transaction or repeatable, and an unfinished purge is
//! finished first on every run, the first of which is at start: a crash in the middle
//! loses nothing that should go. Doing a purge again changes nothing.
//!
//! samod has no way to drop a document it holds in memory (samod 0.16's `Repo` has no
//! such call): a purged document's in-memory copy stays until the server restarts, but
//! nothing reaches it any more. The registry does not know it, so the share policy and
//! the edge refuse it to every peer, settling skips it, and nothing the server edits
//! finds it (every route looks documents up in the registry first); with no change,
//! samod writes nothing of it again. Each run also deletes any stored chunk of a purged
//! id that a write in flight during its purge may have left.
//!
//! The worker runs at start, every hour and at each new day. `purge_pause_seconds`
//! (drills and tests only) makes it wait after step 1, so a crash in the middle of a
//! purge can be tried.
//!
//! The file is long because its order is its invariant: what is recorded, forgotten,
//! deleted and swept, and in which transaction, is what makes a purge survive a crash;
//! every step works on the one connection and the `purges` row defined here. Splitting
//! the steps into files would spread that order over several; its tests are at the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use model::catalogue::{Catalogue, DEFAULT_DELETION_INTERVAL_DAYS, MAX_DELETION_INTERVAL_DAYS};
use model::client_record::ClientRecord;
use model::{Date, DocKind, Document, DocumentId, TenantId, UserId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::accounts::now_ms;
use crate::error::ApiError;
use crate::registry::Deletion;
use crate::state::AppState;

/// How often the worker looks for due purges (and at each new day).
const EVERY: Duration = Duration::from_secs(3600);

/// How often it looks whether the day changed.
const TICK: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("a document could not be edited or read")]
    Document,
    #[error("a background task failed")]
    Task,
}

/// One purge as recorded in `purges`.
#[derive(Debug, Clone)]
struct Recorded {
    person: DocumentId,
    tenant: TenantId,
    documents: Vec<DocumentId>,
    started_ms: u64,
}

/// How long an uploaded file no notebook references is kept: its notebook's change
/// may still be on its way to being settled.
const UNREFERENCED_BLOB_GRACE_MS: u64 = 24 * 3600 * 1000;

/// The worker's own connection to the database.
type Conn = Arc<Mutex<Connection>>;

fn lock(conn: &Conn) -> std::sync::MutexGuard<'_, Connection> {
    // Every write is one transaction: a poisoned lock is consistent.
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn on_conn<T: Send + 'static>(
    conn: &Conn,
    f: impl FnOnce(&mut Connection) -> Result<T, PurgeError> + Send + 'static,
) -> Result<T, PurgeError> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || f(&mut lock(&conn)))
        .await
        .map_err(|_| PurgeError::Task)?
}

/// Purges what is due, at start, every hour and at each new day, until the server's
/// state is gone or it shuts down.
pub async fn run(state: Weak<AppState>) {
    let Some(path) = state.upgrade().map(|s| s.config.database_path()) else {
        return;
    };
    let conn = match tokio::task::spawn_blocking(move || crate::db::open(&path)).await {
        Ok(Ok(conn)) => Arc::new(Mutex::new(conn)),
        _ => {
            tracing::error!("the purge cannot open the database; nothing will be purged");
            return;
        }
    };
    // Deletion days are learnt when something touches a record; one deleted while the
    // registry did not note it (an older server, a lost write) would never be purged.
    // So each record without one is read once, before the first run.
    if let Some(state) = state.upgrade() {
        learn_deletion_days(&state).await;
    }
    let mut clock = tokio::time::interval(TICK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(Date, Instant)> = None;
    loop {
        clock.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        if *state.shutdown.borrow() {
            return;
        }
        // A checkpoint a purge could not finish: deleted values may be in the WAL.
        if CHECKPOINT_OWED.load(Ordering::SeqCst) {
            let _ = on_conn(&conn, |c| Ok(settle_owed_checkpoint(c))).await;
        }
        let today = state.registry.today();
        let due = match last {
            Some((day, at)) => day != today || at.elapsed() >= EVERY,
            None => true,
        };
        if !due {
            continue;
        }
        last = Some((today, Instant::now()));
        match purge_due(&state, &conn).await {
            Ok(Outcome {
                finished,
                pending: 0,
            }) => {
                tracing::info!(purged = finished, "deletion routine ran");
            }
            Ok(Outcome { finished, pending }) => {
                tracing::warn!(
                    purged = finished,
                    pending,
                    "deletion routine ran; purges pending"
                );
                // Tried again at the next tick, not in an hour.
                last = None;
            }
            Err(error) => {
                tracing::error!(%error, "the purge did not finish; it is tried again");
                last = None;
            }
        }
    }
}

/// How many records [`learn_deletion_days`] reads at once.
const LEARN_CONCURRENCY: usize = 4;

/// Reads every client record the registry knows no deletion day of, a few at a time,
/// and notes the deletion day of those that are deleted.
async fn learn_deletion_days(state: &Arc<AppState>) {
    use futures::StreamExt as _;
    let unknown = state.registry.records_without_deletion_day();
    let found: Vec<(DocumentId, Date)> = futures::stream::iter(unknown)
        .map(|id| async move {
            let record: ClientRecord = state.author.read(id).await.ok()?;
            let (view, _) = conflict_rules::record::fold_record(&record);
            crate::settle::deletion_day(&view).map(|day| (id, day))
        })
        .buffer_unordered(LEARN_CONCURRENCY)
        .filter_map(|found| async move { found })
        .collect()
        .await;
    if found.is_empty() {
        return;
    }
    tracing::info!(
        records = found.len(),
        "deleted records the registry had no deletion day of"
    );
    let registry = state.registry.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for (id, day) in found {
            if let Err(error) = registry.set_deletion_day(id, Some(day)) {
                tracing::error!(document = %id, %error, "cannot note a deletion day");
            }
        }
    })
    .await;
}

/// What one run of the routine did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Purges finished.
    pub finished: usize,
    /// Purges started that could not finish yet (a document that names the person
    /// could not be edited); the next run tries again.
    pub pending: usize,
}

/// Finishes unfinished purges, then purges every person whose deletion interval has
/// passed.
pub async fn purge_due(state: &Arc<AppState>, conn: &Conn) -> Result<Outcome, PurgeError> {
    let mut outcome = Outcome {
        finished: 0,
        pending: 0,
    };
    // One purge that fails (logged) does not keep the others from running.
    let mut count = |person: DocumentId, done: Result<Step, PurgeError>| match done {
        Ok(Step::Finished) => outcome.finished += 1,
        Ok(Step::Pending) => outcome.pending += 1,
        Ok(Step::Dropped) => {}
        Err(error) => {
            tracing::error!(document = %person, %error, "a purge failed; it is tried again");
            outcome.pending += 1;
        }
    };
    let unfinished = on_conn(conn, unfinished).await?;
    for recorded in unfinished {
        tracing::info!(document = %recorded.person, "finishing an interrupted purge");
        count(recorded.person, carry_out(state, conn, &recorded).await);
    }
    let today = state.registry.today();
    for deletion in state.registry.deletions() {
        let Some(day) = due_day(state, &deletion, today).await else {
            continue;
        };
        let done = match record(state, conn, &deletion, day).await {
            Ok(recorded) => carry_out(state, conn, &recorded).await,
            Err(error) => Err(error),
        };
        count(deletion.person, done);
    }
    sweep_storage(state, conn).await?;
    Ok(outcome)
}

/// The deletion day of `deletion` if its purge is due `today`, checked against the
/// record as the server holds it now (a restore the registry has not heard of yet
/// keeps everything).
async fn due_day(state: &Arc<AppState>, deletion: &Deletion, today: Date) -> Option<Date> {
    // Not due on any interval (a day at least): no catalogue to read.
    if !is_due(deletion.day, 1, today) {
        return None;
    }
    let interval = interval_of(state, &deletion.tenant).await?;
    if !is_due(deletion.day, interval, today) {
        return None;
    }
    let record: ClientRecord = match state.author.read(deletion.person).await {
        Ok(record) => record,
        Err(_) => {
            tracing::warn!(document = %deletion.person, "a deleted record cannot be read; not purged");
            return None;
        }
    };
    let (view, _) = conflict_rules::record::fold_record(&record);
    let day = crate::settle::deletion_day(&view);
    if day != Some(deletion.day) {
        let registry = state.registry.clone();
        let person = deletion.person;
        let _ = tokio::task::spawn_blocking(move || registry.set_deletion_day(person, day)).await;
    }
    let day = day?;
    is_due(day, interval, today).then_some(day)
}

/// Whether a record deleted on `day` is due for its purge `today` after `interval`
/// days. A due day past the last date there is is never reached: not due (a
/// saturating addition would make it due at once).
pub(crate) fn is_due(day: Date, interval: u64, today: Date) -> bool {
    day.checked_plus_days(interval)
        .is_some_and(|due| due <= today)
}

/// The tenant's deletion interval (at least a day), never shorter than any of its
/// catalogues says: a tenant may have several (two admins who each started one
/// offline), and whichever was settled last must not purge early. Read from the
/// catalogues as the server holds them; where none can be read, as settling last said;
/// the default for a tenant without a catalogue. `None` while a catalogue exists that
/// cannot be read: nothing of the tenant is purged (one unreadable catalogue may say
/// the longest interval). Intervals are clamped to [`MAX_DELETION_INTERVAL_DAYS`].
async fn interval_of(state: &Arc<AppState>, tenant: &TenantId) -> Option<u64> {
    let settled = state.registry.deletion_interval(tenant);
    let catalogues = state.registry.documents_of_kind(tenant, DocKind::Catalogue);
    if catalogues.is_empty() {
        return Some(clamp_interval(
            settled.unwrap_or(DEFAULT_DELETION_INTERVAL_DAYS),
        ));
    }
    let mut longest: u64 = 0;
    for id in catalogues {
        match state.author.read::<Catalogue>(id).await {
            Ok(catalogue) => longest = longest.max(catalogue.settings.deletion_interval_days),
            Err(_) => {
                tracing::warn!(
                    document = %id,
                    "a catalogue cannot be read; nothing of its tenant is purged this run"
                );
                return None;
            }
        }
    }
    Some(clamp_interval(longest))
}

/// A deletion interval as the purge applies it: a day at least,
/// [`MAX_DELETION_INTERVAL_DAYS`] at most.
pub(crate) fn clamp_interval(days: u64) -> u64 {
    days.clamp(1, MAX_DELETION_INTERVAL_DAYS)
}

/// The documents registered for `person` that the purge takes: the record, its
/// contact, timelines and notebooks, of the person's tenant (a registration of another
/// kind that named the person, from before registering dropped that, is not theirs).
fn persons_documents(state: &AppState, person: &DocumentId, tenant: &TenantId) -> Vec<DocumentId> {
    state
        .registry
        .documents_of(person)
        .into_iter()
        .filter(|id| {
            state.registry.entry(id).is_some_and(|entry| {
                &entry.tenant == tenant
                    && matches!(
                        entry.kind,
                        DocKind::ClientRecord
                            | DocKind::ClientContact
                            | DocKind::Timeline
                            | DocKind::Notebook
                    )
            })
        })
        .collect()
}

/// Records the purge of `deletion`'s person before anything is deleted: the documents
/// it removes. Notebooks' references to uploaded files are brought up to date first.
async fn record(
    state: &Arc<AppState>,
    conn: &Conn,
    deletion: &Deletion,
    day: Date,
) -> Result<Recorded, PurgeError> {
    let person = deletion.person;
    let mut documents = persons_documents(state, &person, &deletion.tenant);
    if !documents.contains(&person) {
        documents.push(person);
    }
    let account = on_conn(conn, move |c| Ok(person_account(c, &person)?)).await?;
    if let Some(directory) = account.and_then(|a| state.registry.directory_of(&UserId::new(a))) {
        documents.push(directory);
    }
    documents.sort();
    documents.dedup();
    for id in &documents {
        if state.registry.entry(id).map(|e| e.kind) != Some(DocKind::Notebook) {
            continue;
        }
        if let Ok(notebook) = state.author.read::<model::notebook::Notebook>(*id).await {
            let hashes: Vec<String> = notebook.documents.into_values().map(|d| d.sha256).collect();
            let blobs = state.blobs.clone();
            let notebook = id.to_string();
            let _ = tokio::task::spawn_blocking(move || blobs.set_refs(&notebook, &hashes)).await;
        }
    }
    let tenant = deletion.tenant.clone();
    let started_ms = now_ms();
    let list = documents
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    on_conn(conn, move |c| {
        c.execute(
            "INSERT INTO purges (person, tenant, documents, day, started_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (person) DO NOTHING",
            params![
                person.to_string(),
                tenant.as_str(),
                list,
                day.to_string(),
                started_ms as i64
            ],
        )?;
        Ok(())
    })
    .await?;
    let recorded = on_conn(conn, move |c| recorded(c, &person)).await?;
    recorded.ok_or(PurgeError::Document)
}

/// Where one purge stands after [`carry_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Finished,
    /// Started; the next run goes on.
    Pending,
    /// Not started after all: the record was restored (or its deletion moved) before
    /// anything was forgotten.
    Dropped,
}

/// Whether `person`'s record, while still registered, is deleted and due today as the
/// server holds it now. Unreadable counts as not due.
async fn still_due(state: &Arc<AppState>, person: DocumentId, tenant: &TenantId) -> bool {
    let Ok(record) = state.author.read::<ClientRecord>(person).await else {
        return false;
    };
    let (view, _) = conflict_rules::record::fold_record(&record);
    let Some(day) = crate::settle::deletion_day(&view) else {
        return false;
    };
    match interval_of(state, tenant).await {
        Some(interval) => is_due(day, interval, state.registry.today()),
        None => false,
    }
}

/// Carries out a recorded purge, each step repeatable.
async fn carry_out(
    state: &Arc<AppState>,
    conn: &Conn,
    purge: &Recorded,
) -> Result<Step, PurgeError> {
    // 1. Nobody's from now on, and remembered as purged. Held against a restore (or a
    // new deletion) at the same moment: while the record is still registered, it is
    // read again, and a restore since the purge was recorded (say before a crash)
    // drops the purge. Once forgotten, a restore finds no record (404).
    let united = {
        let _deletions = state.deletions.lock().await;
        if state.registry.entry(&purge.person).is_some()
            && !still_due(state, purge.person, &purge.tenant).await
        {
            let person = purge.person.to_string();
            on_conn(conn, move |c| {
                c.execute(
                    "DELETE FROM purges WHERE person = ?1 AND finished_ms IS NULL",
                    params![person],
                )?;
                Ok(())
            })
            .await?;
            tracing::info!(document = %purge.person, "a recorded purge is no longer due; dropped");
            return Ok(Step::Dropped);
        }
        // Registered for the person after the purge was recorded (before registering
        // refused that): forgotten and deleted with the rest.
        let mut documents = purge.documents.clone();
        let before = documents.len();
        documents.extend(persons_documents(state, &purge.person, &purge.tenant));
        documents.sort();
        documents.dedup();
        if documents.len() != before {
            let (person, list) = (
                purge.person.to_string(),
                documents
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            on_conn(conn, move |c| {
                c.execute(
                    "UPDATE purges SET documents = ?2 WHERE person = ?1",
                    params![person, list],
                )?;
                Ok(())
            })
            .await?;
        }
        let united = Recorded {
            documents,
            ..purge.clone()
        };
        let registry = state.registry.clone();
        let (person, tenant, documents) = (
            united.person,
            united.tenant.clone(),
            united.documents.clone(),
        );
        let at_ms = united.started_ms;
        tokio::task::spawn_blocking(move || {
            registry.forget_purged(person, &tenant, &documents, at_ms)
        })
        .await
        .map_err(|_| PurgeError::Task)??;
        united
    };
    let purge = &united;
    if state.config.purge_pause_seconds > 0 {
        tracing::info!(document = %purge.person, "the purge pauses (purge_pause_seconds)");
        tokio::time::sleep(Duration::from_secs(state.config.purge_pause_seconds)).await;
    }

    // 2. The person's account, mail and uploaded files.
    let outbox = state.mail.outbox().to_owned();
    let (person, tenant, documents) = (purge.person, purge.tenant.clone(), purge.documents.clone());
    let account = on_conn(conn, move |c| {
        delete_rows(c, &person, &tenant, &documents, &outbox)
    })
    .await?;
    if let Some(account) = account {
        let registry = state.registry.clone();
        let id = UserId::new(account);
        tokio::task::spawn_blocking(move || registry.refresh_account(&id))
            .await
            .map_err(|_| PurgeError::Task)??;
        state.session_ended();
    }

    // 3. Memberships in groups and bookmarks, as the server's own edits.
    let memberships_gone = remove_memberships(state, &purge.tenant, &purge.person).await;

    // 4. samod's stored chunks, once no write of them is in flight.
    let timeout = Duration::from_secs(state.config.persist_timeout_seconds);
    for id in &purge.documents {
        if !state
            .persisted
            .wait_for(&id.to_string(), &[], timeout)
            .await
        {
            tracing::warn!(document = %id, "a write of a purged document is still in flight");
        }
    }
    let documents = purge.documents.clone();
    on_conn(conn, move |c| delete_stored(c, &documents)).await?;

    if !memberships_gone {
        return Ok(Step::Pending);
    }

    // 5. Finished, noted, and the bytes gone from the files.
    let (person, count) = (purge.person, purge.documents.len());
    let today = state.registry.today();
    on_conn(conn, move |c| {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let finished = tx.execute(
            "UPDATE purges SET finished_ms = ?2 WHERE person = ?1 AND finished_ms IS NULL",
            params![person.to_string(), now_ms() as i64],
        )?;
        if finished > 0 {
            tx.execute(
                "INSERT INTO audit_log (at_ms, actor, action, subject) VALUES (?1, NULL, 'purge', ?2)",
                params![
                    now_ms() as i64,
                    format!("{person} documents={count} day={today}")
                ],
            )?;
        }
        tx.commit()?;
        let _ = checkpoint(c);
        Ok(())
    })
    .await?;
    tracing::info!(document = %purge.person, documents = count, "person purged");
    Ok(Step::Finished)
}

/// Step 2 in one transaction: the person's account (its sessions, invitations and
/// link go with it), the mail queue's rows about the person's documents (and their
/// pickup files, removed before the rows so a crash leaves nothing unnamed), and
/// uploaded files no remaining notebook of the tenant references (those the purged
/// notebooks referenced at once, others once a day old). Returns the account's id.
fn delete_rows(
    conn: &mut Connection,
    person: &DocumentId,
    tenant: &TenantId,
    documents: &[DocumentId],
    outbox: &std::path::Path,
) -> Result<Option<String>, PurgeError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let account = person_account(&tx, person)?;
    tx.execute(
        "DELETE FROM invitations WHERE person = ?1",
        params![person.to_string()],
    )?;
    if let Some(account) = &account {
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1",
            params![account],
        )?;
        tx.execute(
            "DELETE FROM accounts WHERE id = ?1 AND role = 'client'",
            params![account],
        )?;
    }
    tx.execute(
        "DELETE FROM person_accounts WHERE person = ?1",
        params![person.to_string()],
    )?;
    let mut rows: Vec<i64> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    for id in documents {
        let id = id.to_string();
        let mut statement = tx.prepare("SELECT id FROM mail_queue WHERE doc = ?1")?;
        for row in statement.query_map(params![id], |r| r.get::<_, i64>(0))? {
            rows.push(row?);
        }
        let mut statement = tx.prepare("SELECT sha256 FROM blob_refs WHERE notebook = ?1")?;
        for hash in statement.query_map(params![id], |r| r.get::<_, String>(0))? {
            hashes.push(hash?);
        }
        tx.execute("DELETE FROM mail_queue WHERE doc = ?1", params![id])?;
        tx.execute("DELETE FROM blob_refs WHERE notebook = ?1", params![id])?;
    }
    hashes.sort();
    hashes.dedup();
    for hash in &hashes {
        // Still referenced by a notebook of the tenant that remains: kept.
        let kept = tx
            .query_row(
                "SELECT 1 FROM blob_refs r JOIN documents d ON d.id = r.notebook
                 WHERE r.sha256 = ?1 AND d.tenant = ?2 LIMIT 1",
                params![hash, tenant.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if kept {
            continue;
        }
        tx.execute(
            "DELETE FROM blobs WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant.as_str(), hash],
        )?;
        tx.execute(
            "DELETE FROM blob_uploaders WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant.as_str(), hash],
        )?;
    }
    // Uploaded files no remaining notebook of the tenant references, such as one the
    // person uploaded and then removed from their notebook. A file uploaded within the
    // last day is kept: its notebook change may not have been settled yet.
    let young = now_ms().saturating_sub(UNREFERENCED_BLOB_GRACE_MS);
    let unreferenced: Vec<String> = {
        let mut statement = tx.prepare(
            "SELECT b.sha256 FROM blobs b WHERE b.tenant = ?1 AND b.created_ms < ?2
             AND NOT EXISTS (SELECT 1 FROM blob_refs r JOIN documents d ON d.id = r.notebook
                             WHERE r.sha256 = b.sha256 AND d.tenant = ?1)",
        )?;
        statement
            .query_map(params![tenant.as_str(), young as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for hash in &unreferenced {
        tx.execute(
            "DELETE FROM blobs WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant.as_str(), hash],
        )?;
        tx.execute(
            "DELETE FROM blob_uploaders WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant.as_str(), hash],
        )?;
    }
    for row in rows {
        for name in [format!("{row:012}.eml"), format!("{row:012}.sms")] {
            for file in [outbox.join(&name), outbox.join(format!(".{name}.tmp"))] {
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => {
                        tracing::error!(row, %error, "a purged message's pickup file cannot be removed");
                    }
                }
            }
        }
    }
    tx.commit()?;
    Ok(account)
}

fn person_account(conn: &Connection, person: &DocumentId) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT account_id FROM person_accounts WHERE person = ?1",
        params![person.to_string()],
        |r| r.get(0),
    )
    .optional()
}

/// Step 3: the person leaves every group and bookmark list of the tenant. False if a
/// document that names the person could not be edited (the purge then stays
/// unfinished and is tried again).
async fn remove_memberships(state: &Arc<AppState>, tenant: &TenantId, person: &DocumentId) -> bool {
    use model::bookmarks::Bookmarks;
    use model::group::Group;

    let key = person.to_string();
    let mut done = true;
    for id in state.registry.documents_of_kind(tenant, DocKind::Group) {
        let Ok(group) = state.author.read::<Group>(id).await else {
            continue;
        };
        if group.members.contains_key(&key) {
            let edited = state
                .author
                .edit(id, |doc: &mut Document<Group>| {
                    doc.remove_member(person).map_err(|_| ApiError::internal())
                })
                .await;
            done &= edited.is_ok();
        }
    }
    for id in state.registry.documents_of_kind(tenant, DocKind::Bookmarks) {
        let Ok(bookmarks) = state.author.read::<Bookmarks>(id).await else {
            continue;
        };
        if bookmarks.items.contains_key(&key) {
            let edited = state
                .author
                .edit(id, |doc: &mut Document<Bookmarks>| {
                    doc.unbookmark(person).map_err(|_| ApiError::internal())
                })
                .await;
            done &= edited.is_ok();
        }
    }
    if !done {
        tracing::error!(document = %person, "a membership of a purged person cannot be removed");
    }
    done
}

/// Deletes samod's stored chunks of `documents`; returns how many went.
fn delete_stored(conn: &mut Connection, documents: &[DocumentId]) -> Result<usize, PurgeError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut deleted = 0;
    for id in documents {
        // Keys are `<id>/…`; '0' follows '/', so this is a range on the key.
        deleted += tx.execute(
            "DELETE FROM repo_storage WHERE key >= ?1 AND key < ?2",
            params![format!("{id}/"), format!("{id}0")],
        )?;
    }
    tx.commit()?;
    Ok(deleted)
}

/// Deletes any stored chunk of a purged id (a write that was in flight during its
/// purge), and facts about purged documents that settling, having read them just
/// before the purge, recorded just after it; checkpoints if it found a chunk.
async fn sweep_storage(state: &Arc<AppState>, conn: &Conn) -> Result<(), PurgeError> {
    let outbox = state.mail.outbox().to_owned();
    on_conn(conn, move |c| sweep_outbox(c, &outbox)).await?;
    on_conn(conn, |c| {
        c.execute_batch(
            "DELETE FROM blob_refs WHERE notebook IN (SELECT id FROM purged_documents);
             DELETE FROM responsibility_grants WHERE person IN (SELECT id FROM purged_documents);
             DELETE FROM deletion_days WHERE person IN (SELECT id FROM purged_documents);",
        )?;
        Ok(())
    })
    .await?;
    // Which purged ids still have stored chunks: SQLite, so on the purge's connection
    // off the async workers.
    let ids = state.registry.purged_ids();
    let purged: Vec<DocumentId> = on_conn(conn, move |c| {
        let mut statement =
            c.prepare("SELECT 1 FROM repo_storage WHERE key >= ?1 AND key < ?2 LIMIT 1")?;
        let mut stored = Vec::new();
        for id in ids {
            // Keys are `<document id>/…`; '0' follows '/', so this is a range on the key.
            if statement.exists(params![format!("{id}/"), format!("{id}0")])? {
                stored.push(id);
            }
        }
        Ok(stored)
    })
    .await?;
    if purged.is_empty() {
        return Ok(());
    }
    tracing::warn!(
        documents = purged.len(),
        "stored chunks of purged documents deleted"
    );
    on_conn(conn, move |c| {
        delete_stored(c, &purged)?;
        let _ = checkpoint(c);
        Ok(())
    })
    .await
}

/// Removes pickup files (`<id>.eml`, `<id>.sms` and their `.tmp` forms) whose queue
/// row is gone: the mail worker may have written one for a message of a person just
/// after their purge deleted its row and files. Other files are left alone. Returns
/// how many it removed.
fn sweep_outbox(conn: &Connection, outbox: &std::path::Path) -> Result<usize, PurgeError> {
    let entries = match std::fs::read_dir(outbox) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            tracing::error!(%error, "the outbox cannot be read");
            return Ok(0);
        }
    };
    let mut statement = conn.prepare("SELECT 1 FROM mail_queue WHERE id = ?1")?;
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let plain = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .unwrap_or(name);
        let Some(id) = plain
            .strip_suffix(".eml")
            .or_else(|| plain.strip_suffix(".sms"))
            .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|id| id.parse::<i64>().ok())
        else {
            continue;
        };
        if statement.exists(params![id])? {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::error!(id, %error, "a pickup file without a message cannot be removed");
            }
        }
    }
    if removed > 0 {
        tracing::warn!(removed, "pickup files of purged messages removed");
    }
    Ok(removed)
}

/// Set while a checkpoint after a purge could not truncate the WAL: deleted values
/// may still be in it. The routine tries again at every tick until one succeeds.
static CHECKPOINT_OWED: AtomicBool = AtomicBool::new(false);

/// Copies the WAL into the database and truncates it, so that deleted values (which
/// `secure_delete` overwrote in the database's pages) leave the WAL too. Readers can
/// hold it up for a moment; it is tried a few times, and if it still fails, it is owed
/// ([`CHECKPOINT_OWED`]). True once done.
fn checkpoint(conn: &Connection) -> bool {
    checkpoint_tries(conn, 50)
}

fn checkpoint_tries(conn: &Connection, tries: usize) -> bool {
    for attempt in 0..tries {
        let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        });
        match busy {
            Ok(0) => {
                CHECKPOINT_OWED.store(false, Ordering::SeqCst);
                return true;
            }
            Ok(_) if attempt + 1 < tries => std::thread::sleep(Duration::from_millis(100)),
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "cannot checkpoint the database after a purge");
                break;
            }
        }
    }
    if !CHECKPOINT_OWED.swap(true, Ordering::SeqCst) {
        tracing::warn!("the WAL could not be truncated after a purge; tried again every minute");
    }
    false
}

/// Tries an owed checkpoint once; true when none is owed (any more).
fn settle_owed_checkpoint(conn: &Connection) -> bool {
    if !CHECKPOINT_OWED.load(Ordering::SeqCst) {
        return true;
    }
    let done = checkpoint_tries(conn, 1);
    if done {
        tracing::info!("the owed WAL truncation after a purge is done");
    }
    done
}

fn unfinished(conn: &mut Connection) -> Result<Vec<Recorded>, PurgeError> {
    let mut statement =
        conn.prepare("SELECT person FROM purges WHERE finished_ms IS NULL ORDER BY started_ms")?;
    let people: Vec<String> = statement
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    drop(statement);
    Ok(people
        .iter()
        .filter_map(|p| p.parse::<DocumentId>().ok())
        .filter_map(|p| recorded(conn, &p).ok().flatten())
        .collect())
}

fn recorded(conn: &mut Connection, person: &DocumentId) -> Result<Option<Recorded>, PurgeError> {
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT tenant, documents, started_ms FROM purges WHERE person = ?1",
            params![person.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(tenant, documents, started_ms)| Recorded {
        person: *person,
        tenant: TenantId::new(tenant),
        documents: documents
            .split_whitespace()
            .filter_map(|id| id.parse().ok())
            .collect(),
        started_ms: u64::try_from(started_ms).unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).expect("a valid date")
    }

    #[test]
    fn a_checkpoint_a_reader_held_up_is_owed_until_it_succeeds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite3");
        let conn = crate::db::open(&path).expect("db");
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .expect("write");
        // A reader in the middle of a transaction keeps the WAL from being truncated.
        let reader = crate::db::open(&path).expect("db");
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM t;")
            .expect("read");
        conn.execute("INSERT INTO t VALUES (2)", []).expect("write");
        assert!(!checkpoint_tries(&conn, 2));
        assert!(CHECKPOINT_OWED.load(Ordering::SeqCst));
        assert!(!settle_owed_checkpoint(&conn), "still held up");
        reader.execute_batch("COMMIT;").expect("end");
        assert!(settle_owed_checkpoint(&conn));
        assert!(!CHECKPOINT_OWED.load(Ordering::SeqCst));
    }

    #[test]
    fn pickup_files_without_a_queue_row_are_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = crate::db::open(&dir.path().join("db.sqlite3")).expect("db");
        conn.execute(
            "INSERT INTO mail_queue (id, key, created_ms, channel, recipient, subject, body)
             VALUES (7, 'k', 0, 'email', '', '', '')",
            [],
        )
        .expect("row");
        let outbox = dir.path().join("outbox");
        std::fs::create_dir(&outbox).expect("outbox");
        for name in [
            "000000000007.eml",
            "000000000008.eml",
            "000000000009.sms",
            ".000000000010.eml.tmp",
            "notes.txt",
            "12.eml",
        ] {
            std::fs::write(outbox.join(name), "x").expect("file");
        }
        assert_eq!(sweep_outbox(&conn, &outbox).expect("swept"), 3);
        let mut left: Vec<String> = std::fs::read_dir(&outbox)
            .expect("outbox")
            .map(|e| e.expect("entry").file_name().into_string().expect("name"))
            .collect();
        left.sort();
        assert_eq!(left, ["000000000007.eml", "12.eml", "notes.txt"]);
        assert_eq!(
            sweep_outbox(&conn, &dir.path().join("none")).expect("no outbox"),
            0
        );
    }

    #[test]
    fn a_due_day_past_the_last_date_is_never_due() {
        let deleted = day(2024, 1, 1);
        assert!(is_due(deleted, 30, day(2024, 1, 31)));
        assert!(!is_due(deleted, 30, day(2024, 1, 30)));
        assert!(!is_due(deleted, u64::MAX, day(2024, 1, 31)));
        assert!(!is_due(deleted, 1 << 40, day(2024, 1, 31)));
    }

    #[test]
    fn intervals_are_clamped_to_a_day_and_a_century() {
        assert_eq!(clamp_interval(0), 1);
        assert_eq!(clamp_interval(90), 90);
        assert_eq!(clamp_interval(u64::MAX), MAX_DELETION_INTERVAL_DAYS);
        // Clamped, a huge interval from an older client is far from due.
        assert!(!is_due(
            day(2024, 1, 1),
            clamp_interval(u64::MAX),
            day(2030, 1, 1)
        ));
    }
}
