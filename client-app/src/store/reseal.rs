//! Changing the store's password: every sealed value (chunks, rows, files, outbox, lost
//! edits, the profile, the recovery key) opened with the old key and sealed with the new
//! one, with a new salt and check value, and the new key sealed under the recovery key,
//! in one transaction, while the vault is held for writing. The same re-sealing follows
//! an admin's password reset, once the store was opened with the recovery key.

use rusqlite::params;

use super::{CHECK, Store, StoreError, corrupt, parse_iterations};
use crate::crypto::{self, SALT_LEN, Vault};

impl Store {
    /// Re-seals the whole store under a new password, in one transaction.
    pub fn change_password(&self, new_password: &str) -> Result<(), StoreError> {
        let mut current = self.vault.write().unwrap_or_else(|p| p.into_inner());
        let salt: [u8; SALT_LEN] = crypto::random()?;
        let text: Vec<u8> =
            self.conn()
                .query_row("SELECT value FROM meta WHERE key = 'iterations'", [], |r| {
                    r.get(0)
                })?;
        let iterations =
            parse_iterations(&text).ok_or_else(|| corrupt(&self.path, "bad key parameters"))?;
        let vault = Vault::derive(new_password, &salt, iterations);
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT key, value FROM chunks",
                "chunks/",
                "UPDATE chunks SET value = ?2 WHERE key = ?1",
            )?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT doc, value FROM rows",
                "rows/",
                "UPDATE rows SET value = ?2 WHERE doc = ?1",
            )?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT sha256, value FROM blobs",
                "blobs/",
                "UPDATE blobs SET value = ?2 WHERE sha256 = ?1",
            )?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT CAST(id AS TEXT), value FROM outbox",
                "outbox/",
                "UPDATE outbox SET value = ?2 WHERE id = CAST(?1 AS INTEGER)",
            )?;
            // Before the recovery key is re-sealed: it opens with the current key.
            super::recovery::rewrap(&tx, &current, &vault)?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT key, value FROM meta WHERE key IN ('profile', 'recovery_key')",
                "meta/",
                "UPDATE meta SET value = ?2 WHERE key = ?1",
            )?;
            reseal(
                &tx,
                &current,
                &vault,
                "SELECT CAST(id AS TEXT), value FROM lost_edits",
                "lost_edits/",
                "UPDATE lost_edits SET value = ?2 WHERE id = CAST(?1 AS INTEGER)",
            )?;

            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'salt'",
                params![salt.to_vec()],
            )?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'check'",
                params![vault.seal(b"meta/check", CHECK)?],
            )?;
            tx.commit()?;
        }
        *current = vault;
        Ok(())
    }
}

fn reseal(
    tx: &rusqlite::Transaction<'_>,
    old: &Vault,
    new: &Vault,
    select: &str,
    place: &str,
    update: &str,
) -> Result<(), StoreError> {
    let mut values = Vec::new();
    {
        let mut statement = tx.prepare(select)?;
        let rows = statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            values.push(row?);
        }
    }
    for (key, sealed) in values {
        let at = format!("{place}{key}");
        let plain = old
            .open(at.as_bytes(), &sealed)
            .map_err(|_| StoreError::Damaged(at.clone()))?;
        tx.execute(update, params![key, new.seal(at.as_bytes(), &plain)?])?;
    }
    Ok(())
}
