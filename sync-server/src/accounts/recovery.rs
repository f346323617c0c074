//! Device recovery keys: per account and device, the random 32-byte key the desktop
//! app also seals its local store's key under. The server hands it back only to a
//! valid session of the same account, so after an admin reset the password, the device
//! signs in with the new one, fetches the key and re-keys its store; a thief with the
//! laptop but without a valid password gets nothing. Keys are never logged, and they go
//! with the account ([`Accounts::forget_recovery_keys`], and in the transaction that
//! deletes it).

use rusqlite::{OptionalExtension, params};

use super::{AccountError, Accounts, now_ms};

/// At most this many devices keep a key per account; storing one more forgets the key
/// stored longest ago (each device stores its key again at every sign-in, so that is
/// the device unused the longest).
pub const MAX_DEVICES: i64 = 16;

/// A device id: 22 to 64 characters of `[A-Za-z0-9_-]` (the device's own random id).
pub fn check_device(device: &str) -> bool {
    (22..=64).contains(&device.len())
        && device
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A key as the contract writes it: 32 bytes, base64url without padding (43
/// characters), in its one canonical spelling (the unused low bits zero).
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    if text.len() != 43 {
        return None;
    }
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(32);
    for b in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == b)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    // 43 characters carry 258 bits: the last 2 must be zero.
    if bits != 0 {
        return None;
    }
    out.try_into().ok()
}

/// The contract's spelling of a key ([`decode_key`]'s inverse).
pub fn encode_key(key: &[u8; 32]) -> String {
    let mut text = String::with_capacity(43);
    let mut bits: u32 = 0;
    let mut count = 0;
    for &byte in key {
        bits = (bits << 8) | u32::from(byte);
        count += 8;
        while count >= 6 {
            count -= 6;
            text.push(ALPHABET[((bits >> count) & 63) as usize] as char);
        }
        bits &= (1 << count) - 1;
    }
    if count > 0 {
        text.push(ALPHABET[((bits << (6 - count)) & 63) as usize] as char);
    }
    text
}

impl Accounts {
    /// Stores (or replaces) the recovery key of `device` for `account_id`.
    pub fn store_recovery_key(
        &self,
        account_id: &str,
        device: &str,
        key: &[u8; 32],
    ) -> Result<(), AccountError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let active: Option<String> = tx
            .query_row(
                "SELECT state FROM accounts WHERE id = ?1",
                params![account_id],
                |r| r.get(0),
            )
            .optional()?;
        if active.as_deref() != Some("active") {
            return Err(AccountError::NoSuchAccount);
        }
        tx.execute(
            "INSERT INTO recovery_keys (account_id, device, key, stored_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account_id, device) DO UPDATE SET key = excluded.key, stored_ms = excluded.stored_ms",
            params![account_id, device, key.as_slice(), now_ms() as i64],
        )?;
        tx.execute(
            "DELETE FROM recovery_keys WHERE account_id = ?1 AND device IN (
                 SELECT device FROM recovery_keys WHERE account_id = ?1
                 ORDER BY stored_ms DESC, device LIMIT -1 OFFSET ?2)",
            params![account_id, MAX_DEVICES],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The recovery key of `device` for `account_id`, if it stored one.
    pub fn recovery_key(
        &self,
        account_id: &str,
        device: &str,
    ) -> Result<Option<[u8; 32]>, AccountError> {
        let key: Option<Vec<u8>> = self
            .conn()
            .query_row(
                "SELECT key FROM recovery_keys WHERE account_id = ?1 AND device = ?2",
                params![account_id, device],
                |r| r.get(0),
            )
            .optional()?;
        Ok(key.and_then(|key| key.try_into().ok()))
    }

    /// Forgets every recovery key of `account_id` (when the account is deleted or
    /// purged).
    pub fn forget_recovery_keys(&self, account_id: &str) -> Result<(), AccountError> {
        self.conn().execute(
            "DELETE FROM recovery_keys WHERE account_id = ?1",
            params![account_id],
        )?;
        Ok(())
    }

    /// How many devices of `account_id` keep a recovery key.
    pub fn recovery_devices(&self, account_id: &str) -> Result<i64, AccountError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM recovery_keys WHERE account_id = ?1",
            params![account_id],
            |r| r.get(0),
        )?)
    }
}
