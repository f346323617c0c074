//! Uploaded files' content: blobs, not CRDTs. Content-addressed by SHA-256,
//! kept in SQLite per tenant (so one tenant cannot learn what another stored), and
//! readable only by a counsellor who uploaded that content and owns a staff notebook
//! that references it: documents are visible only to the counsellor who uploaded them
//! (as the manual says). A reference alone is not enough: an admin reads every notebook and could
//! copy a hash into a notebook of their own.
//!
//! Settling a notebook records which hashes it references (`blob_refs`); the routes
//! are in [`crate::handlers::blobs`].

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug)]
pub struct Blobs {
    conn: Mutex<Connection>,
}

impl Blobs {
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Mutex::new(conn),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores content under its hash for a tenant, uploaded by `account`; `true` when the
    /// content is new.
    pub fn put(
        &self,
        tenant: &str,
        sha256: &str,
        account: &str,
        data: &[u8],
    ) -> rusqlite::Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO blobs (tenant, sha256, data, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![tenant, sha256, data, crate::accounts::now_ms() as i64],
        )? > 0;
        if !added {
            // Uploaded again: as young as a new upload for the purge's sweep of files
            // no notebook references (its notebook change may still be on its way).
            tx.execute(
                "UPDATE blobs SET created_ms = ?3 WHERE tenant = ?1 AND sha256 = ?2",
                params![tenant, sha256, crate::accounts::now_ms() as i64],
            )?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO blob_uploaders (tenant, sha256, account) VALUES (?1, ?2, ?3)",
            params![tenant, sha256, account],
        )?;
        tx.commit()?;
        Ok(added)
    }

    /// The content, if `account` uploaded it in this tenant and one of `notebooks` (the
    /// caller's own) references it.
    pub fn get(
        &self,
        tenant: &str,
        sha256: &str,
        account: &str,
        notebooks: &[String],
    ) -> rusqlite::Result<Option<Vec<u8>>> {
        let conn = self.conn();
        let uploaded = conn
            .query_row(
                "SELECT 1 FROM blob_uploaders WHERE tenant = ?1 AND sha256 = ?2 AND account = ?3",
                params![tenant, sha256, account],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !uploaded {
            return Ok(None);
        }
        let referenced = notebooks.iter().try_fold(false, |found, notebook| {
            if found {
                return Ok(true);
            }
            conn.query_row(
                "SELECT 1 FROM blob_refs WHERE notebook = ?1 AND sha256 = ?2",
                params![notebook, sha256],
                |_| Ok(()),
            )
            .optional()
            .map(|row| row.is_some())
        })?;
        if !referenced {
            return Ok(None);
        }
        conn.query_row(
            "SELECT data FROM blobs WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant, sha256],
            |r| r.get(0),
        )
        .optional()
    }

    /// What a notebook references now.
    pub fn set_refs(&self, notebook: &str, hashes: &[String]) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM blob_refs WHERE notebook = ?1", [notebook])?;
        for hash in hashes {
            tx.execute(
                "INSERT OR IGNORE INTO blob_refs (notebook, sha256) VALUES (?1, ?2)",
                params![notebook, hash],
            )?;
        }
        tx.commit()
    }
}

/// Whether `text` is a SHA-256 as the API writes it: 64 lower-case hex digits.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The address of some content.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_readable_only_by_its_uploader_through_a_referencing_notebook() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(crate::db::open(&dir.path().join("db.sqlite")).unwrap());
        let data = b"Lebenslauf";
        let hash = hex_sha256(data);
        assert!(is_hash(&hash));
        assert!(blobs.put("t", &hash, "anna", data).unwrap());
        assert!(!blobs.put("t", &hash, "anna", data).unwrap(), "stored once");
        let mine = vec!["notebook-1".to_owned()];
        let get = |account: &str, notebooks: &[String]| {
            blobs.get("t", &hash, account, notebooks).unwrap()
        };
        assert_eq!(get("anna", &mine), None, "no reference yet");
        blobs
            .set_refs("notebook-1", std::slice::from_ref(&hash))
            .unwrap();
        assert_eq!(get("anna", &mine).as_deref(), Some(&data[..]));
        assert_eq!(
            blobs.get("other", &hash, "anna", &mine).unwrap(),
            None,
            "another tenant"
        );
        blobs
            .set_refs("notebook-2", std::slice::from_ref(&hash))
            .unwrap();
        assert_eq!(
            get("ada", &["notebook-2".to_owned()]),
            None,
            "a reference copied into someone else's notebook is not enough"
        );
        assert_eq!(
            get("anna", &["notebook-3".to_owned()]),
            None,
            "a notebook without it"
        );
        blobs.set_refs("notebook-1", &[]).unwrap();
        assert_eq!(get("anna", &mine), None, "reference removed");
    }
}
