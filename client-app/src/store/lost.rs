//! Forgetting: a document this user may no longer read, or one purged on the server,
//! leaves the store with every trace (samod's chunks, its row, its unsynced count, the
//! content of files only it referenced, requests about it) in one transaction. A local
//! change it still held that the server never confirmed is not dropped silently: a
//! sealed [`LostEdit`] says what was lost, until the person closes the message.
//!
//! A forgotten document is not written again while the store is open (samod may still
//! hold it in memory and store it; an edit may have been under way), until the
//! directory lists it again.
//!
//! The `listed` table is the directory's listing as last acted upon: what it stops
//! listing is forgotten even when that happened while the app was closed. `meta` keeps
//! the directory's id and heads that listing was read at (`listed`), so a directory
//! older than the listing (samod had not stored its newest changes when the app ended)
//! is not taken for one that stopped listing something.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, open_json, seal_json};

/// Why a document was forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LostReason {
    /// The directory stopped listing it: access was taken away.
    AccessRevoked,
    /// The server purged it (the deletion routine).
    Purged,
}

impl LostReason {
    pub fn german(self) -> &'static str {
        match self {
            LostReason::AccessRevoked => "Zugriff entzogen",
            LostReason::Purged => "endgültig gelöscht",
        }
    }
}

/// A local change that never reached the server, of a document this device forgot.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostEdit {
    /// The document's kind (`model::DocKind::as_str`).
    pub kind: String,
    /// The person's pseudonym, where the document belongs to a person known here.
    pub pseudonym: Option<String>,
    /// When it was forgotten (milliseconds since the epoch).
    pub at_ms: u64,
    pub reason: LostReason,
    /// How many local changes were lost.
    pub changes: u64,
    /// The document's id (sealed like the rest): a document first forgotten for lost
    /// access and then listed as purged is reported as purged.
    #[serde(default)]
    pub doc: String,
    /// The client record of the person the document belongs to (the record's own id
    /// for a record), where known: a document that went with its person is reported as
    /// purged once the person is.
    #[serde(default)]
    pub person: Option<String>,
}

/// Without the pseudonym: no personal data reaches a log through `{:?}`.
impl std::fmt::Debug for LostEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LostEdit")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .field("changes", &self.changes)
            .field("at_ms", &self.at_ms)
            .finish_non_exhaustive()
    }
}

/// One document to forget, and what goes with it.
#[derive(Debug, Clone, Default)]
pub struct Forget {
    pub doc: String,
    /// Files' content (by SHA-256) that no document left here references.
    pub blobs: Vec<String>,
    /// Outbox entries about the document.
    pub requests: Vec<i64>,
    /// Recorded if, inside the transaction, the document still has unsynced changes
    /// (their count is filled in then).
    pub lost: Option<LostEdit>,
}

impl Store {
    /// Removes every trace of one document in one transaction. Returns the lost edit
    /// it recorded, if the document held changes the server never confirmed.
    pub fn forget(&self, forget: &Forget) -> Result<Option<LostEdit>, StoreError> {
        let doc = forget.doc.as_str();
        let vault = self.vault();
        let prefix = format!("{doc}/");
        let end = format!("{prefix}\u{10FFFF}");
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let unsynced: Option<i64> = tx
            .query_row("SELECT changes FROM unsynced WHERE doc = ?1", [doc], |r| {
                r.get(0)
            })
            .optional()?;
        let mut recorded = None;
        if let (Some(changes), Some(lost)) = (unsynced, &forget.lost)
            && changes > 0
        {
            let lost = LostEdit {
                changes: changes as u64,
                ..lost.clone()
            };
            tx.execute("INSERT INTO lost_edits (value) VALUES (x'')", [])?;
            let id = tx.last_insert_rowid();
            let sealed = seal_json(&vault, format!("lost_edits/{id}").as_bytes(), &lost)?;
            tx.execute(
                "UPDATE lost_edits SET value = ?1 WHERE id = ?2",
                params![sealed, id],
            )?;
            recorded = Some(lost);
        }
        tx.execute(
            "DELETE FROM chunks WHERE key >= ?1 AND key < ?2",
            params![prefix, end],
        )?;
        // samod may have stored the document under its bare id too.
        tx.execute("DELETE FROM chunks WHERE key = ?1", [doc])?;
        tx.execute("DELETE FROM rows WHERE doc = ?1", [doc])?;
        tx.execute("DELETE FROM unsynced WHERE doc = ?1", [doc])?;
        tx.execute("DELETE FROM listed WHERE doc = ?1", [doc])?;
        for sha256 in &forget.blobs {
            tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [sha256])?;
        }
        for id in &forget.requests {
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        // Still holding the connection: no write of it can come between.
        self.forgotten_docs().insert(doc.to_owned());
        Ok(recorded)
    }

    /// After forgetting: the WAL's pages are copied into the file (where `secure_delete`
    /// has overwritten what went) and the WAL is truncated, so no old page of a forgotten
    /// document stays in it.
    pub fn truncate_wal(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Whether `doc` was forgotten while this store is open; call holding the connection.
    pub(super) fn was_forgotten(&self, doc: &str) -> bool {
        self.forgotten_docs().contains(doc)
    }

    fn forgotten_docs(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.forgotten.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The directory lists these documents (again): they may be written again.
    pub fn listed_again(&self, listed: &BTreeSet<String>) {
        let _conn = self.conn();
        self.forgotten_docs().retain(|doc| !listed.contains(doc));
    }

    /// Removes every trace of a document that has nothing else to go with it.
    pub fn forget_document(&self, doc: &str) -> Result<(), StoreError> {
        self.forget(&Forget {
            doc: doc.to_owned(),
            ..Forget::default()
        })
        .map(|_| ())
    }

    /// Lost edits not yet dismissed, oldest first, with their ids.
    pub fn lost_edits(&self) -> Result<Vec<(i64, LostEdit)>, StoreError> {
        let vault = self.vault();
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT id, value FROM lost_edits ORDER BY id")?;
        let rows =
            statement.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut found = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            found.push((
                id,
                open_json(&vault, format!("lost_edits/{id}").as_bytes(), &sealed)?,
            ));
        }
        Ok(found)
    }

    /// Lost edits of documents the directory now lists as purged say so (the server
    /// may take a record away in one change and list it as purged in the next).
    /// Returns whether any changed.
    pub fn note_purged(&self, purged: &BTreeSet<String>) -> Result<bool, StoreError> {
        let revoked: Vec<(i64, LostEdit)> = self
            .lost_edits()?
            .into_iter()
            .filter(|(_, lost)| {
                lost.reason == LostReason::AccessRevoked
                    && (purged.contains(&lost.doc)
                        || lost.person.as_ref().is_some_and(|p| purged.contains(p)))
            })
            .collect();
        if revoked.is_empty() {
            return Ok(false);
        }
        let vault = self.vault();
        let conn = self.conn();
        for (id, lost) in revoked {
            let lost = LostEdit {
                reason: LostReason::Purged,
                ..lost
            };
            let sealed = seal_json(&vault, format!("lost_edits/{id}").as_bytes(), &lost)?;
            conn.execute(
                "UPDATE lost_edits SET value = ?1 WHERE id = ?2",
                params![sealed, id],
            )?;
        }
        Ok(true)
    }

    pub fn dismiss_lost_edit(&self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM lost_edits WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The directory's listing as last acted upon; `None` until it was first written.
    pub fn listed(&self) -> Result<Option<BTreeSet<String>>, StoreError> {
        let conn = self.conn();
        let written: Option<Vec<u8>> = conn
            .query_row("SELECT value FROM meta WHERE key = 'listed'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if written.is_none() {
            return Ok(None);
        }
        let mut statement = conn.prepare("SELECT doc FROM listed")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        Ok(Some(rows.collect::<Result<_, _>>()?))
    }

    /// The directory's id and heads the listing was last read at, if recorded.
    pub fn listed_at(&self) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let value: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'listed'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(value.and_then(|v| {
            let text = String::from_utf8(v).ok()?;
            let (directory, heads) = text.split_once(':')?;
            Some((
                directory.to_owned(),
                heads
                    .split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ))
        }))
    }

    /// Changes the listing by what was added and what went, read from `directory` at
    /// `heads`, in one transaction.
    pub fn update_listed(
        &self,
        added: &BTreeSet<String>,
        removed: &BTreeSet<String>,
        directory: &str,
        heads: &[String],
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('listed', ?1)",
            [format!("{directory}:{}", heads.join(",")).into_bytes()],
        )?;
        for doc in added {
            tx.execute("INSERT OR IGNORE INTO listed (doc) VALUES (?1)", [doc])?;
        }
        for doc in removed {
            tx.execute("DELETE FROM listed WHERE doc = ?1", [doc])?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
