//! The repo's document storage in SQLite: samod's key/value [`Storage`] trait over the
//! table `repo_storage`. Keys are samod's path components joined with `/` (components
//! never contain one), so a prefix range is a simple range of strings.
//!
//! # Nothing acknowledged is lost
//! samod hands a document's storage writes and its outgoing sync messages to two
//! different tasks, so by itself it may send a reply before the change it reflects is on
//! disk. [`Persisted`] closes that gap: it records which changes of each document are
//! committed (the change hash in an incremental key; the heads in a snapshot's header;
//! both again when a document is loaded), and the connection's send path waits until
//! every head a sync message announces is committed and no write of that document is in
//! flight ([`Persisted::wait_for`]).
//!
//! All operations run in call order on one worker thread, so a write that samod issued
//! earlier is committed before one it issued later: a committed head implies its
//! ancestors, which samod writes first, are committed too.
//!
//! samod's trait has no error channel: a failed write is logged, counted in
//! `failed_writes`, and its changes never count as persisted, so nothing that reflects
//! them is ever sent.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use automerge::ChangeHash;
use rusqlite::{Connection, params};
use samod::storage::{Storage, StorageKey};
use tokio::sync::{Notify, oneshot};

type Job = Box<dyn FnOnce(&Connection) + Send>;

#[derive(Clone)]
pub struct SqliteStorage {
    jobs: mpsc::Sender<Job>,
    persisted: Arc<Persisted>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("failed_writes", &self.failed_writes())
            .finish_non_exhaustive()
    }
}

fn parse_key(text: &str) -> Option<StorageKey> {
    StorageKey::from_parts(text.split('/')).ok()
}

/// What a stored value tells about the changes of its document.
enum Content {
    Change(String, ChangeHash),
    Snapshot(String, Vec<ChangeHash>),
    Other,
}

fn content_of(key: &str, data: &[u8]) -> Content {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(doc), Some("incremental"), Some(hash), None) => match hash.parse() {
            Ok(hash) => Content::Change(doc.to_owned(), hash),
            Err(_) => Content::Other,
        },
        (Some(doc), Some("snapshot"), Some(_), None) => {
            Content::Snapshot(doc.to_owned(), snapshot_heads(data))
        }
        _ => Content::Other,
    }
}

/// The heads of a saved document: read from its first chunk's header, or, should that
/// fail, by loading the whole document.
fn snapshot_heads(data: &[u8]) -> Vec<ChangeHash> {
    header_heads(data).unwrap_or_else(|| {
        automerge::Automerge::load(data)
            .map(|doc| doc.get_heads())
            .unwrap_or_default()
    })
}

/// Automerge's binary format: magic (4 bytes), checksum (4), chunk type (1; 0 is a
/// document), chunk length (uLEB128), actors (count, then length-prefixed bytes), heads
/// (count, then 32 bytes each).
fn header_heads(data: &[u8]) -> Option<Vec<ChangeHash>> {
    fn uleb(data: &[u8], at: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *data.get(*at)?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    if data.get(..4)? != [0x85, 0x6f, 0x4a, 0x83] || *data.get(8)? != 0 {
        return None;
    }
    let mut at = 9;
    uleb(data, &mut at)?;
    for _ in 0..uleb(data, &mut at)? {
        let len = usize::try_from(uleb(data, &mut at)?).ok()?;
        at = at.checked_add(len)?;
    }
    let count = uleb(data, &mut at)?;
    let mut heads = Vec::new();
    for _ in 0..count {
        let bytes: [u8; 32] = data.get(at..at.checked_add(32)?)?.try_into().ok()?;
        heads.push(ChangeHash(bytes));
        at += 32;
    }
    Some(heads)
}

/// Which changes of each document are committed, and how many writes are in flight.
#[derive(Debug, Default)]
pub struct Persisted {
    docs: Mutex<HashMap<String, DocState>>,
    changed: Notify,
    failed_writes: AtomicU64,
}

#[derive(Debug, Default)]
struct DocState {
    committed: HashSet<ChangeHash>,
    in_flight: usize,
}

impl Persisted {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DocState>> {
        self.docs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn started(&self, content: &Content) {
        if let Content::Change(doc, _) | Content::Snapshot(doc, _) = content {
            self.lock().entry(doc.clone()).or_default().in_flight += 1;
        }
    }

    fn finished(&self, content: Content, committed: bool) {
        {
            let mut docs = self.lock();
            let (doc, hashes) = match content {
                Content::Change(doc, hash) => (doc, vec![hash]),
                Content::Snapshot(doc, heads) => (doc, heads),
                Content::Other => return,
            };
            let state = docs.entry(doc).or_default();
            state.in_flight = state.in_flight.saturating_sub(1);
            if committed {
                state.committed.extend(hashes);
            }
        }
        self.changed.notify_waiters();
    }

    fn loaded(&self, content: Content) {
        let (doc, hashes) = match content {
            Content::Change(doc, hash) => (doc, vec![hash]),
            Content::Snapshot(doc, heads) => (doc, heads),
            Content::Other => return,
        };
        self.lock().entry(doc).or_default().committed.extend(hashes);
        self.changed.notify_waiters();
    }

    /// Whether any write or load of `doc` was seen since start.
    pub fn knows(&self, doc: &str) -> bool {
        self.lock().contains_key(doc)
    }

    /// Writes (and deletions) that failed since start.
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes.load(Ordering::Relaxed)
    }

    fn is_persisted(&self, doc: &str, heads: &[ChangeHash]) -> bool {
        let docs = self.lock();
        match docs.get(doc) {
            Some(state) => {
                state.in_flight == 0 && heads.iter().all(|h| state.committed.contains(h))
            }
            None => heads.is_empty(),
        }
    }

    /// Waits until every change in `heads` of `doc` is committed and no write of `doc` is
    /// in flight. False if that takes longer than `timeout`.
    pub async fn wait_for(&self, doc: &str, heads: &[ChangeHash], timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.is_persisted(doc, heads) {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

impl SqliteStorage {
    /// `conn` is a connection of its own to the server's database (WAL lets it write
    /// beside the other connections). Its operations run on a thread of their own.
    pub fn new(conn: Connection) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("repo-storage".into())
            .spawn(move || {
                for job in queue {
                    job(&conn);
                }
            })
            // Without its thread the server cannot store anything: failing to start is
            // the only sensible outcome, and it happens at start-up.
            .unwrap_or_else(|e| panic!("cannot start the storage thread: {e}"));
        Self {
            jobs,
            persisted: Arc::new(Persisted::default()),
        }
    }

    pub fn failed_writes(&self) -> u64 {
        self.persisted.failed_writes()
    }

    pub fn persisted(&self) -> Arc<Persisted> {
        self.persisted.clone()
    }

    /// Queues `f` now (in call order) and returns a future of its result.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> impl Future<Output = Option<T>> + Send + 'static {
        let (reply, result) = oneshot::channel();
        let queued = self.jobs.send(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        }));
        async move {
            if queued.is_err() {
                tracing::error!("document storage thread is gone");
                return None;
            }
            match result.await {
                Ok(Ok(value)) => Some(value),
                Ok(Err(error)) => {
                    tracing::error!(%error, "document storage failed");
                    None
                }
                Err(_) => {
                    tracing::error!("document storage dropped a request");
                    None
                }
            }
        }
    }
}

impl Storage for SqliteStorage {
    fn load(&self, key: StorageKey) -> impl Future<Output = Option<Vec<u8>>> + Send {
        let key = key.to_string();
        let persisted = self.persisted.clone();
        let loaded = self.run(move |conn| {
            conn.query_row(
                "SELECT data FROM repo_storage WHERE key = ?1",
                params![key],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .map(|data| Some((key, data)))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
        });
        async move {
            let (key, data) = loaded.await.flatten()?;
            persisted.loaded(content_of(&key, &data));
            Some(data)
        }
    }

    fn load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = HashMap<StorageKey, Vec<u8>>> + Send {
        let exact = prefix.to_string();
        // Every key below `a/b` lies in ["a/b/", "a/b0"): '0' follows '/' in ASCII.
        let low = format!("{exact}/");
        let high = format!("{exact}0");
        let persisted = self.persisted.clone();
        let loaded = self.run(move |conn| {
            let mut statement = conn.prepare(
                "SELECT key, data FROM repo_storage WHERE key = ?1 OR (key >= ?2 AND key < ?3)",
            )?;
            let rows = statement.query_map(params![exact, low, high], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            rows.collect::<Result<Vec<_>, _>>()
        });
        async move {
            let mut found = HashMap::new();
            for (key, data) in loaded.await.unwrap_or_default() {
                persisted.loaded(content_of(&key, &data));
                if let Some(key) = parse_key(&key) {
                    found.insert(key, data);
                }
            }
            found
        }
    }

    fn put(&self, key: StorageKey, data: Vec<u8>) -> impl Future<Output = ()> + Send {
        let key = key.to_string();
        let content = content_of(&key, &data);
        self.persisted.started(&content);
        let written = self.run(move |conn| {
            conn.execute(
                "INSERT INTO repo_storage (key, data) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET data = excluded.data",
                params![key, data],
            )
        });
        let persisted = self.persisted.clone();
        async move {
            let ok = written.await.is_some();
            if !ok {
                persisted.failed_writes.fetch_add(1, Ordering::Relaxed);
            }
            persisted.finished(content, ok);
        }
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        let key = key.to_string();
        let deleted = self
            .run(move |conn| conn.execute("DELETE FROM repo_storage WHERE key = ?1", params![key]));
        let persisted = self.persisted.clone();
        async move {
            if deleted.await.is_none() {
                persisted.failed_writes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests;
