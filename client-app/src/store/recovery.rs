//! The device's recovery: a password reset by an admin must not cost the laptop its
//! data. Once per store the app draws a random device id and a random 32-byte recovery
//! key R; the store keeps its own key K sealed under R (`recovery_wrap`) and R sealed
//! under K (`recovery_key`), and R goes to the server (`PUT /api/recovery/{device}`).
//! With a password that no longer opens the store but that the server accepts, the app
//! fetches R, unwraps K and opens the store ([`Store::open_with_recovery`]), then
//! re-seals it under the new password.
//!
//! Neither R nor K is on the disk in clear: R opens only with K, K only with R, and the
//! server hands R only to a valid session of the store's account.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Store, StoreError, corrupt};
use crate::crypto::{self, KEY_LEN, Vault};

pub const RECOVERY_KEY_LEN: usize = KEY_LEN;

const WRAP_PLACE: &[u8] = b"meta/recovery_wrap";
const KEY_PLACE: &[u8] = b"meta/recovery_key";

/// A device's recovery key; never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey([u8; RECOVERY_KEY_LEN]);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey { .. }")
    }
}

impl RecoveryKey {
    pub fn random() -> Result<Self, StoreError> {
        Ok(Self(crypto::random()?))
    }

    /// As the contract writes it: base64url without padding.
    pub fn encoded(&self) -> String {
        base64url_encode(&self.0)
    }

    pub fn decode(text: &str) -> Option<Self> {
        base64url_decode(text)?.try_into().ok().map(Self)
    }

    fn vault(&self) -> Vault {
        Vault::from_key(self.0)
    }
}

impl Store {
    /// The device id for recovery of the store at `path`, read without its password
    /// (a random id, stored in plain text); `None` for a store without recovery.
    pub fn recovery_device(path: &std::path::Path) -> Result<Option<String>, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| corrupt(path, e))?;
        let device: Option<Vec<u8>> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'recovery_device'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| corrupt(path, e))?;
        Ok(device.and_then(|d| String::from_utf8(d).ok()))
    }

    /// Opens the store at `path` with its key unwrapped by the recovery key. A key that
    /// does not unwrap it is [`StoreError::WrongPassword`].
    pub fn open_with_recovery(
        path: &std::path::Path,
        key: &RecoveryKey,
    ) -> Result<Self, StoreError> {
        Self::open_with(path, |meta| {
            Vault::unwrap_with(&key.vault(), WRAP_PLACE, &meta("recovery_wrap")?)
                .map_err(|_| StoreError::WrongPassword)
        })
    }

    /// The device id and recovery key, drawn now if the store has none yet; and whether
    /// the server is known to hold the key.
    pub fn recovery(&self) -> Result<(String, RecoveryKey, bool), StoreError> {
        let vault = self.vault();
        let mut conn = self.conn();
        let read = |conn: &Connection, key: &str| -> rusqlite::Result<Option<Vec<u8>>> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        };
        if let (Some(device), Some(sealed)) = (
            read(&conn, "recovery_device")?,
            read(&conn, "recovery_key")?,
        ) {
            let plain = vault
                .open(KEY_PLACE, &sealed)
                .map_err(|_| StoreError::Damaged("recovery key".into()))?;
            let key = RecoveryKey(
                plain
                    .try_into()
                    .map_err(|_| StoreError::Damaged("recovery key".into()))?,
            );
            let device =
                String::from_utf8(device).map_err(|_| StoreError::Damaged("device".into()))?;
            let stored = read(&conn, "recovery_stored")?.is_some();
            return Ok((device, key, stored));
        }
        let id: [u8; 16] = crypto::random()?;
        let device: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let key = RecoveryKey::random()?;
        let tx = conn.transaction()?;
        for (name, value) in [
            ("recovery_device", device.as_bytes().to_vec()),
            ("recovery_key", vault.seal(KEY_PLACE, &key.0)?),
            ("recovery_wrap", vault.wrap(&key.vault(), WRAP_PLACE)?),
        ] {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![name, value],
            )?;
        }
        tx.execute("DELETE FROM meta WHERE key = 'recovery_stored'", [])?;
        tx.commit()?;
        Ok((device, key, false))
    }

    /// The server took the recovery key.
    pub fn set_recovery_stored(&self) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('recovery_stored', x'31')",
            [],
        )?;
        Ok(())
    }
}

/// Inside a password change's transaction: the new key sealed under the recovery key,
/// which `old` opens (the recovery key itself is re-sealed with the other values).
pub(super) fn rewrap(
    tx: &rusqlite::Transaction<'_>,
    old: &Vault,
    new: &Vault,
) -> Result<(), StoreError> {
    let sealed: Option<Vec<u8>> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'recovery_key'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let Some(sealed) = sealed else {
        return Ok(());
    };
    let plain = old
        .open(KEY_PLACE, &sealed)
        .map_err(|_| StoreError::Damaged("recovery key".into()))?;
    let key = RecoveryKey(
        plain
            .try_into()
            .map_err(|_| StoreError::Damaged("recovery key".into()))?,
    );
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'recovery_wrap'",
        params![new.wrap(&key.vault(), WRAP_PLACE)?],
    )?;
    Ok(())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let values: Vec<u32> = text
        .bytes()
        .map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    for chunk in values.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    // Only the canonical form: leftover bits must be zero.
    (base64url_encode(&out) == text).then_some(out)
}

#[cfg(test)]
mod tests;
