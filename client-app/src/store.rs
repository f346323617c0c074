//! The local store: one SQLite file per (server, login) that holds every document the
//! user may read, the derived rows the lists read, the changes not yet synced and the
//! requests waiting for the server. Everything personal in it is sealed with the
//! [`Vault`] of the user's password; what stays in plain text are random ids, document
//! kinds, change hashes and counts.
//!
//! # Tables
//! - `meta`: format, salt, rounds, a sealed check value, the sealed [`Profile`].
//! - `chunks`: samod's storage (`doc/incremental/hash`, `doc/snapshot/hash`), sealed.
//! - `rows`: one derived row per document for the list views, sealed JSON.
//! - `unsynced`: per document, how many local changes the server has not confirmed, and
//!   the heads that, once the server has them, confirm them all.
//! - `outbox`: requests for the server (registrations, admin operations), sealed JSON.
//! - `blobs`: uploaded files' content by SHA-256, sealed.
//! - `listed`: the document ids the user's directory listed when last read, so that what
//!   it stops listing is forgotten even if that happened while the app was closed.
//! - `lost_edits`: local changes that could not be synced because the document was
//!   forgotten (access lost, purged), sealed JSON, until the person closes the message.
//!
//! `meta` also holds the device's recovery: its random id (plain), the store's key sealed
//! under the recovery key, and the recovery key sealed under the store's key.
//!
//! # Crashes
//! Every write is one SQLite transaction in WAL mode with `synchronous=FULL`: a process
//! killed mid-write leaves the file as it was before or after that write, never between.
//! A local edit's changes, its derived row and its unsynced count commit together.
//!
//! Beside this file: `profile` (who the store belongs to, sealed in `meta`), `reseal`
//! (a password change re-seals every value in one transaction), `lost` (forgetting a
//! document with every trace, the listing it was forgotten by, and lost edits) and
//! `recovery` (the device's recovery key, and opening the store with it after a reset).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, CryptoError, SALT_LEN, Vault};

mod lost;
mod profile;
mod recovery;
mod reseal;

pub use lost::{Forget, LostEdit, LostReason};
pub use profile::{Profile, Session, StaffMember};
pub use recovery::{RECOVERY_KEY_LEN, RecoveryKey};

const FORMAT: &str = "case-records-store-1";
const CHECK: &[u8] = b"case-records: the password opens this store";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the password does not open this store")]
    WrongPassword,
    #[error("the local store {path} is damaged or not a store of this app: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("a local store already exists at {0}")]
    Exists(PathBuf),
    #[error("no local store at {0}")]
    Missing(PathBuf),
    #[error("a stored value is damaged: {0}")]
    Damaged(String),
    /// The document was forgotten (access lost, purged) while the edit was made.
    #[error("the document is no longer on this device")]
    Forgotten,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the local store failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One local change not yet confirmed by the server, per document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsynced {
    pub doc: String,
    pub changes: u64,
    pub heads: Vec<String>,
}

/// Lock order, everywhere: the vault, then the connection. A password change holds the
/// vault for writing while it reseals, so no value is sealed or opened with a key that is
/// about to change.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    vault: RwLock<Vault>,
    /// Documents forgotten while this store is open: nothing writes them again (samod
    /// may still hold one in memory and store it, an edit may have been under way), until
    /// the directory lists them again. Checked and changed only while holding `conn`;
    /// in memory only, so the file names nothing it forgot.
    forgotten: Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // What is deleted (a document this user lost access to) is overwritten, not left in
    // free pages of the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

const SCHEMA: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE chunks (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE rows (doc TEXT PRIMARY KEY, kind TEXT NOT NULL, value BLOB NOT NULL);
    CREATE INDEX rows_by_kind ON rows (kind);
    CREATE TABLE unsynced (doc TEXT PRIMARY KEY, changes INTEGER NOT NULL, heads TEXT NOT NULL);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, value BLOB NOT NULL);
";

/// Added after the first stores were made: created where missing when a store opens.
const ADDED: &str = "
    CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS listed (doc TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS lost_edits (id INTEGER PRIMARY KEY AUTOINCREMENT, value BLOB NOT NULL);
";

impl Store {
    /// Creates a new store at `path` for `profile`, sealed with `password`.
    pub fn create(
        path: &Path,
        password: &str,
        profile: &Profile,
        iterations: NonZeroU32,
    ) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists(path.to_owned()));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| corrupt(path, e))?;
            crate::owner_only::set(parent, 0o700).map_err(|e| corrupt(path, e))?;
        }
        crate::owner_only::create(path).map_err(|e| corrupt(path, e))?;
        let salt: [u8; SALT_LEN] = crypto::random()?;
        let vault = Vault::derive(password, &salt, iterations);
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(ADDED)?;
        let check = vault.seal(b"meta/check", CHECK)?;
        let sealed_profile = seal_json(&vault, b"meta/profile", profile)?;
        for (key, value) in [
            ("format", FORMAT.as_bytes().to_vec()),
            ("salt", salt.to_vec()),
            ("iterations", iterations.get().to_string().into_bytes()),
            ("check", check),
            ("profile", sealed_profile),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )?;
        }
        tx.commit()?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            vault: RwLock::new(vault),
            forgotten: Mutex::default(),
        })
    }

    /// Opens an existing store; refuses a wrong password, and reports a damaged or
    /// foreign file without writing to it.
    pub fn open(path: &Path, password: &str) -> Result<Self, StoreError> {
        Self::open_with(path, |meta| {
            let salt = meta("salt")?;
            let iterations = parse_iterations(&meta("iterations")?)
                .ok_or_else(|| corrupt(path, "bad key parameters"))?;
            Ok(Vault::derive(password, &salt, iterations))
        })
    }

    /// Opens an existing store with the vault `key` makes of its `meta` table (a key
    /// derived from the password, or one unwrapped with the recovery key), if the
    /// store's check value opens with it.
    fn open_with(
        path: &Path,
        key: impl FnOnce(&dyn Fn(&str) -> Result<Vec<u8>, StoreError>) -> Result<Vault, StoreError>,
    ) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| corrupt(path, e))?;
        let meta = |key: &str| -> Result<Vec<u8>, StoreError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| corrupt(path, e))?
                .ok_or_else(|| corrupt(path, format!("no {key}")))
        };
        if meta("format")? != FORMAT.as_bytes() {
            return Err(corrupt(path, "unknown format"));
        }
        let check = meta("check")?;
        let vault = key(&meta)?;
        match vault.open(b"meta/check", &check) {
            Ok(plain) if plain == CHECK => {}
            _ => return Err(StoreError::WrongPassword),
        }
        configure(&conn).map_err(|e| corrupt(path, e))?;
        conn.execute_batch(ADDED).map_err(|e| corrupt(path, e))?;
        // Stores made before their files were created owner-only.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                crate::owner_only::set(&file, 0o600).map_err(|e| corrupt(path, e))?;
            }
        }
        let store = Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            vault: RwLock::new(vault),
            forgotten: Mutex::default(),
        };
        store.profile()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn vault(&self) -> RwLockReadGuard<'_, Vault> {
        self.vault.read().unwrap_or_else(|p| p.into_inner())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn profile(&self) -> Result<Profile, StoreError> {
        let vault = self.vault();
        let sealed: Vec<u8> =
            self.conn()
                .query_row("SELECT value FROM meta WHERE key = 'profile'", [], |r| {
                    r.get(0)
                })?;
        open_json(&vault, b"meta/profile", &sealed)
    }

    pub fn set_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        let vault = self.vault();
        let sealed = seal_json(&vault, b"meta/profile", profile)?;
        self.conn().execute(
            "UPDATE meta SET value = ?1 WHERE key = 'profile'",
            params![sealed],
        )?;
        Ok(())
    }

    // --- uploaded files ----------------------------------------------------------

    /// Keeps a file's content here (sealed), under its hash, until the server has it and
    /// for downloads without a network.
    pub fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<(), StoreError> {
        let vault = self.vault();
        let sealed = vault.seal(format!("blobs/{sha256}").as_bytes(), data)?;
        self.conn().execute(
            "INSERT OR REPLACE INTO blobs (sha256, value) VALUES (?1, ?2)",
            params![sha256, sealed],
        )?;
        Ok(())
    }

    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let vault = self.vault();
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT value FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?;
        sealed
            .map(|s| {
                vault
                    .open(format!("blobs/{sha256}").as_bytes(), &s)
                    .map_err(StoreError::from)
            })
            .transpose()
    }

    // --- samod's storage ---------------------------------------------------------

    pub fn load_chunk(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let vault = self.vault();
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT value FROM chunks WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        sealed
            .map(|sealed| open_chunk(&vault, key, &sealed))
            .transpose()
    }

    /// Every chunk whose key starts with `prefix` (a whole path component: `doc/`).
    pub fn load_range(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let vault = self.vault();
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT key, value FROM chunks WHERE key >= ?1 AND key < ?2 ORDER BY key",
        )?;
        let end = format!("{prefix}\u{10FFFF}");
        let rows = statement.query_map(params![prefix, end], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (key, sealed) = row?;
            let plain = open_chunk(&vault, &key, &sealed)?;
            found.push((key, plain));
        }
        Ok(found)
    }

    pub fn put_chunk(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let vault = self.vault();
        let sealed = vault.seal(format!("chunks/{key}").as_bytes(), value)?;
        let conn = self.conn();
        if self.was_forgotten(key.split('/').next().unwrap_or(key)) {
            return Ok(());
        }
        conn.execute(PUT_CHUNK, params![key, sealed])?;
        Ok(())
    }

    pub fn delete_chunk(&self, key: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM chunks WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Every stored chunk of one document, to load it.
    pub fn document_chunks(&self, doc: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .load_range(&format!("{doc}/"))?
            .into_iter()
            .map(|(_, value)| value)
            .collect())
    }

    // --- local edits ---------------------------------------------------------------

    /// A local edit: its changes (as samod will store them), the document's new row,
    /// and one more unsynced count, in one transaction.
    pub fn record_local(
        &self,
        doc: &str,
        changes: &[(String, Vec<u8>)],
        heads: &[String],
        row: Option<(&str, &[u8])>,
    ) -> Result<(), StoreError> {
        let vault = self.vault();
        let mut sealed_changes = Vec::with_capacity(changes.len());
        for (hash, bytes) in changes {
            let key = format!("{doc}/incremental/{hash}");
            let sealed = vault.seal(format!("chunks/{key}").as_bytes(), bytes)?;
            sealed_changes.push((key, sealed));
        }
        let sealed_row = row
            .map(|(kind, json)| {
                vault
                    .seal(format!("rows/{doc}").as_bytes(), json)
                    .map(|sealed| (kind, sealed))
            })
            .transpose()?;
        let mut conn = self.conn();
        if self.was_forgotten(doc) {
            return Err(StoreError::Forgotten);
        }
        let tx = conn.transaction()?;
        for (key, sealed) in &sealed_changes {
            tx.execute(PUT_CHUNK, params![key, sealed])?;
        }
        if let Some((kind, sealed)) = sealed_row {
            tx.execute(PUT_ROW, params![doc, kind, sealed])?;
        }
        tx.execute(
            "INSERT INTO unsynced (doc, changes, heads) VALUES (?1, ?2, ?3)
             ON CONFLICT (doc) DO UPDATE SET changes = changes + excluded.changes,
                                             heads = excluded.heads",
            params![doc, changes.len() as i64, heads.join(",")],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn unsynced(&self) -> Result<Vec<Unsynced>, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT doc, changes, heads FROM unsynced ORDER BY doc")?;
        let rows = statement.query_map([], |r| {
            Ok(Unsynced {
                doc: r.get(0)?,
                changes: r.get::<_, i64>(1)?.max(0) as u64,
                heads: r
                    .get::<_, String>(2)?
                    .split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn unsynced_count(&self) -> Result<u64, StoreError> {
        let total: i64 =
            self.conn()
                .query_row("SELECT COALESCE(SUM(changes), 0) FROM unsynced", [], |r| {
                    r.get(0)
                })?;
        Ok(total.max(0) as u64)
    }

    /// The server has `heads` of `doc`: if no later local edit came since, nothing of
    /// this document is unsynced any more. Returns whether the entry went.
    pub fn confirm_synced(&self, doc: &str, heads: &[String]) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM unsynced WHERE doc = ?1 AND heads = ?2",
            params![doc, heads.join(",")],
        )? > 0)
    }

    // --- derived rows ----------------------------------------------------------

    pub fn put_row(&self, doc: &str, kind: &str, json: &[u8]) -> Result<(), StoreError> {
        let vault = self.vault();
        let sealed = vault.seal(format!("rows/{doc}").as_bytes(), json)?;
        let conn = self.conn();
        if self.was_forgotten(doc) {
            return Ok(());
        }
        conn.execute(PUT_ROW, params![doc, kind, sealed])?;
        Ok(())
    }

    /// All rows of one kind, opened: `(doc, json)`.
    pub fn rows(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let vault = self.vault();
        let conn = self.conn();
        let mut statement = conn.prepare_cached("SELECT doc, value FROM rows WHERE kind = ?1")?;
        let rows = statement.query_map([kind], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (doc, sealed) = row?;
            let json = vault
                .open(format!("rows/{doc}").as_bytes(), &sealed)
                .map_err(|_| StoreError::Damaged(format!("row {doc}")))?;
            found.push((doc, json));
        }
        Ok(found)
    }

    /// Every document that has a row: every document held locally that loaded.
    pub fn row_docs(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT doc FROM rows ORDER BY doc")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn row(&self, doc: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let vault = self.vault();
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT value FROM rows WHERE doc = ?1", [doc], |r| r.get(0))
            .optional()?;
        sealed
            .map(|sealed| {
                vault
                    .open(format!("rows/{doc}").as_bytes(), &sealed)
                    .map_err(|_| StoreError::Damaged(format!("row {doc}")))
            })
            .transpose()
    }

    // --- requests for the server -------------------------------------------------

    pub fn push_request(&self, json: &[u8]) -> Result<i64, StoreError> {
        let vault = self.vault();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO outbox (value) VALUES (x'')", [])?;
        let id = tx.last_insert_rowid();
        let sealed = vault.seal(format!("outbox/{id}").as_bytes(), json)?;
        tx.execute(
            "UPDATE outbox SET value = ?1 WHERE id = ?2",
            params![sealed, id],
        )?;
        tx.commit()?;
        Ok(id)
    }

    pub fn requests(&self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let vault = self.vault();
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT id, value FROM outbox ORDER BY id")?;
        let rows =
            statement.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut found = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            let json = vault
                .open(format!("outbox/{id}").as_bytes(), &sealed)
                .map_err(|_| StoreError::Damaged(format!("request {id}")))?;
            found.push((id, json));
        }
        Ok(found)
    }

    pub fn finish_request(&self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }
}

fn open_chunk(vault: &Vault, key: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    vault
        .open(format!("chunks/{key}").as_bytes(), sealed)
        .map_err(|_| StoreError::Damaged(format!("chunk {key}")))
}

fn parse_iterations(text: &[u8]) -> Option<NonZeroU32> {
    std::str::from_utf8(text)
        .ok()?
        .parse::<u32>()
        .ok()
        .and_then(NonZeroU32::new)
}

const PUT_CHUNK: &str = "INSERT INTO chunks (key, value) VALUES (?1, ?2)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const PUT_ROW: &str = "INSERT INTO rows (doc, kind, value) VALUES (?1, ?2, ?3)
     ON CONFLICT (doc) DO UPDATE SET kind = excluded.kind, value = excluded.value";

fn seal_json<T: Serialize>(vault: &Vault, place: &[u8], value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Damaged(e.to_string()))?;
    Ok(vault.seal(place, &json)?)
}

fn open_json<T: for<'de> Deserialize<'de>>(
    vault: &Vault,
    place: &[u8],
    sealed: &[u8],
) -> Result<T, StoreError> {
    let json = vault
        .open(place, sealed)
        .map_err(|_| StoreError::Damaged(String::from_utf8_lossy(place).into_owned()))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Damaged(e.to_string()))
}
