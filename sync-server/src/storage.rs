//! The repo's document storage in SQLite: samod's key/value [`Storage`] trait over the
//! table `repo_storage`. Keys are samod's path components joined with `/` (components
//! never contain one), so a prefix range is a simple range of strings.
//!
//! samod's trait has no error channel: a failed write cannot be reported to the repo.
//! Such a failure is logged at error level and counted in `failed_writes`; the server
//! must not acknowledge what it could not store (issue 3 wires this to the health check).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};
use samod::storage::{Storage, StorageKey};

#[derive(Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    failed_writes: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("failed_writes", &self.failed_writes.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn key_text(key: &StorageKey) -> String {
    key.to_string()
}

fn parse_key(text: &str) -> Option<StorageKey> {
    StorageKey::from_parts(text.split('/')).ok()
}

impl SqliteStorage {
    /// `conn` is a connection of its own to the server's database (WAL lets it write
    /// beside the accounts connection).
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
            failed_writes: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn failed_writes(&self) -> u64 {
        self.failed_writes.load(Ordering::Relaxed)
    }

    /// Runs `f` on the connection off the async workers.
    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<T> {
        let conn = self.conn.clone();
        let result = tokio::task::spawn_blocking(move || {
            // Every write is one statement, so a poisoned lock leaves SQLite consistent.
            let conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&conn)
        })
        .await;
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                tracing::error!(%error, "document storage failed");
                None
            }
            Err(error) => {
                tracing::error!(%error, "document storage task failed");
                None
            }
        }
    }

    async fn write(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<usize> + Send + 'static) {
        if self.with_conn(f).await.is_none() {
            self.failed_writes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Storage for SqliteStorage {
    async fn load(&self, key: StorageKey) -> Option<Vec<u8>> {
        let key = key_text(&key);
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT data FROM repo_storage WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
        })
        .await
        .flatten()
    }

    async fn load_range(&self, prefix: StorageKey) -> HashMap<StorageKey, Vec<u8>> {
        let exact = key_text(&prefix);
        // Every key below `a/b` lies in ["a/b/", "a/b0"): '0' follows '/' in ASCII.
        let low = format!("{exact}/");
        let high = format!("{exact}0");
        self.with_conn(move |conn| {
            let mut statement = conn.prepare(
                "SELECT key, data FROM repo_storage WHERE key = ?1 OR (key >= ?2 AND key < ?3)",
            )?;
            let rows = statement.query_map(params![exact, low, high], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            let mut found = HashMap::new();
            for row in rows {
                let (key, data) = row?;
                if let Some(key) = parse_key(&key) {
                    found.insert(key, data);
                }
            }
            Ok(found)
        })
        .await
        .unwrap_or_default()
    }

    async fn put(&self, key: StorageKey, data: Vec<u8>) {
        let key = key_text(&key);
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO repo_storage (key, data) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET data = excluded.data",
                params![key, data],
            )
        })
        .await;
    }

    async fn delete(&self, key: StorageKey) {
        let key = key_text(&key);
        self.write(move |conn| {
            conn.execute("DELETE FROM repo_storage WHERE key = ?1", params![key])
        })
        .await;
    }
}

#[cfg(test)]
mod tests;
