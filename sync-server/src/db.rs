//! The embedded SQLite database: opened in WAL mode with foreign keys, and migrated to the
//! schema this build expects. Every write is committed before the server answers.

use std::path::Path;

use rusqlite::Connection;

/// Each step takes the schema from version `i` to `i + 1`; never edit a step once shipped.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        login TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'counsellor', 'client')),
        state TEXT NOT NULL CHECK (state IN ('active', 'locked', 'deleted')),
        salt BLOB,
        iterations INTEGER,
        password_hash BLOB,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_digest TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_account ON sessions(account_id);
    -- Who did what to which account; ids only, no names.
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
                subject TEXT
    );
"#,
    r#"
    -- The automerge-repo storage: samod's keys joined with '/', and their bytes.
    CREATE TABLE repo_storage (
        key TEXT PRIMARY KEY,
        data BLOB NOT NULL
    ) WITHOUT ROWID;
"#,
    r#"
    -- Every document the server will sync, and what access depends on. A document that
    -- is not here is nobody's.
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        tenant TEXT NOT NULL,
        person TEXT,
        owner TEXT,
        created_by TEXT,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX documents_by_tenant ON documents(tenant);
    -- Facts the server read out of documents: a tenant's timeline restriction (from its
    -- catalogue) and each record's responsibilities (from the record's view).
    CREATE TABLE tenant_settings (
        tenant TEXT PRIMARY KEY,
        restrict_timelines INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE responsibility_grants (
        person TEXT NOT NULL,
        user TEXT NOT NULL,
        valid TEXT NOT NULL,
        deactivated INTEGER NOT NULL
    );
    CREATE INDEX grants_by_person ON responsibility_grants(person);
"#,
    r#"
    -- Logins and sync connections with their IP address, for maintenance only, kept for
    -- 24 hours, the only place addresses are kept: every insert deletes what is older.
    CREATE TABLE access_log (
        at_ms INTEGER NOT NULL,
        ip TEXT NOT NULL,
        account_id TEXT,
        event TEXT NOT NULL
    );
    CREATE INDEX access_log_by_time ON access_log(at_ms);
"#,
    r#"
    -- The outbound mail queue (mail.rs): recipient, subject and body are cleared once
    -- the message is delivered.
    CREATE TABLE mail_queue (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        doc TEXT,
        message TEXT,
        sent_ms INTEGER
    );
    CREATE INDEX mail_queue_waiting ON mail_queue(sent_ms);
"#,
    r#"
    -- The account of a person (role 'client'), by client record; and the invitations
    -- to set its password, by the digest of their token.
    CREATE TABLE person_accounts (
        person TEXT PRIMARY KEY,
        account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE invitations (
        token_digest TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        person TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
"#,
    r#"
    -- Uploaded files by tenant and SHA-256 (blobs.rs), and which notebook references which.
    CREATE TABLE blobs (
        tenant TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, sha256)
    ) WITHOUT ROWID;
    CREATE TABLE blob_refs (
        notebook TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (notebook, sha256)
    ) WITHOUT ROWID;
"#,
    r#"
    -- Who uploaded which content: only they may download it (a notebook's reference
    -- alone is not enough, because notebook content is written by its owner).
    CREATE TABLE blob_uploaders (
        tenant TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        account TEXT NOT NULL,
        PRIMARY KEY (tenant, sha256, account)
    ) WITHOUT ROWID;
"#,
    r#"
    -- The hash of a client record's creating change, named at registration: the only
    -- change but the server's that may write the record's server-only maps (guard.rs).
    ALTER TABLE documents ADD COLUMN creation TEXT;
"#,
    r#"
    -- Delivery with retries (mail.rs): the attempts so far, when the next one is due,
    -- and when the message was given up (its recipient, subject and body are then
    -- cleared as after sending). An invitation's row names its client record in `doc`
    -- and has no `message`.
    ALTER TABLE mail_queue ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mail_queue ADD COLUMN next_attempt_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mail_queue ADD COLUMN failed_ms INTEGER;
    DROP INDEX mail_queue_waiting;
    CREATE INDEX mail_queue_due ON mail_queue(next_attempt_ms)
        WHERE sent_ms IS NULL AND failed_ms IS NULL;
"#,
    r#"
    -- Purging (purge.rs). Facts read out of documents, as for access: each client
    -- record's effective deletion day (the fold's view; no row when not deleted) and each
    -- tenant's deletion interval (its catalogue).
    CREATE TABLE deletion_days (
        person TEXT PRIMARY KEY,
        day TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE deletion_intervals (
        tenant TEXT PRIMARY KEY,
        days INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- A purge, recorded before anything is deleted: the client record, its tenant, the
    -- ids of the documents it removes (space-separated), the day it ran on; finished
    -- once everything is gone. Ids only.
    CREATE TABLE purges (
        person TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        documents TEXT NOT NULL,
        day TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER
    ) WITHOUT ROWID;
    -- Every purged document id: never registered again, listed as purged in every
    -- directory of its tenant.
    CREATE TABLE purged_documents (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        purged_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX purged_by_tenant ON purged_documents(tenant);
"#,
    r#"
    -- Device recovery keys (accounts/recovery.rs): per account and device, the random
    -- key a device's local store is also sealed under, handed back only to the same
    -- account after a password reset. Deleted with the account.
    CREATE TABLE recovery_keys (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        device TEXT NOT NULL,
        key BLOB NOT NULL,
        stored_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, device)
    ) WITHOUT ROWID;
"#,
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the data directory {0}")]
    DataDir(String, #[source] std::io::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database has schema version {0}, newer than this build knows; update the server")]
    NewerSchema(i64),
}

pub fn open(path: &Path) -> Result<Connection, DbError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DbError::DataDir(dir.display().to_string(), e))?;
        owner_only(dir, 0o700)?;
    }
    let mut conn = Connection::open(path)?;
    owner_only(path, 0o600)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted values (a purged person, an ended session) are overwritten, not left in
    // the file's free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Writes a consistent copy of the database at `path` into `target` with SQLite's online
/// backup API, also while the server writes: the copy is one read transaction, which in
/// WAL mode blocks no writer. `target` must not exist yet; it is created owner-only
/// before a byte is written, and removed again if the copy fails. IP addresses are not
/// copied: the access log keeps them for 24 hours only, and a backup may live for years.
pub fn backup(path: &Path, target: &Path) -> Result<(), DbError> {
    let created =
        create_owner_only(target).map_err(|e| DbError::DataDir(target.display().to_string(), e))?;
    drop(created);
    let copied = copy_into(path, target);
    if copied.is_err() {
        let _ = std::fs::remove_file(target);
    }
    copied
}

fn copy_into(path: &Path, target: &Path) -> Result<(), DbError> {
    let source = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut copy = Connection::open(target)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        // All pages in one step: one read transaction, a consistent copy.
        loop {
            match backup.step(-1)? {
                rusqlite::backup::StepResult::Done => break,
                _ => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    }
    copy.pragma_update(None, "secure_delete", "ON")?;
    copy.execute("DELETE FROM access_log", [])?;
    // The copy is one file, whatever journal mode the source had.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    copy.execute_batch("VACUUM")?;
    Ok(())
}

/// A new file only its owner may read, refused if anything is at `path` already (a file
/// or a link someone placed there).
#[cfg(unix)]
fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// SQLite's integrity check of the database at `path`: the problems it names, none when
/// the file is sound. Opens the file read-only.
pub fn check(path: &Path) -> Result<Vec<String>, DbError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = conn.prepare("PRAGMA integrity_check")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let found: Vec<String> = rows.collect::<Result<_, _>>()?;
    Ok(found.into_iter().filter(|line| line != "ok").collect())
}

/// Social-work data: only the server's own user may read the data directory and database.
#[cfg(unix)]
fn owner_only(path: &Path, mode: u32) -> Result<(), DbError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| DbError::DataDir(path.display().to_string(), e))
}

#[cfg(not(unix))]
fn owner_only(_path: &Path, _mode: u32) -> Result<(), DbError> {
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(DbError::NewerSchema(version));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
