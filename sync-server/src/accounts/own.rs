//! Deleting one's own account: a member of staff in the app, a person on the account
//! page. The password is checked as a login's is ([`Accounts::verify_login`]); the
//! deletion ends the account's sessions and forgets its recovery keys and invitations
//! in one transaction, and a tenant never loses its last active admin this way.

use rusqlite::{OptionalExtension, params};

use super::{AccountError, AccountState, Accounts, Role};

impl Accounts {
    /// The login of an account, whatever its state.
    pub fn login_of(&self, account_id: &str) -> Result<Option<String>, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT login FROM accounts WHERE id = ?1",
                params![account_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Deletes `account_id` at its owner's request (the password was checked before):
    /// its sessions end, its recovery keys and invitations go. The tenant's last active
    /// admin is refused ([`AccountError::LastAdmin`]); an admin only invited, without a
    /// password yet, does not count (the invitation may never be used).
    pub fn delete_own(&self, account_id: &str) -> Result<(), AccountError> {
        let mut conn = self.conn();
        // Immediate: two admins deleting themselves at once cannot both be "not the last".
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (tenant, role, state): (String, String, String) = tx
            .query_row(
                "SELECT tenant, role, state FROM accounts WHERE id = ?1",
                params![account_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(AccountError::NoSuchAccount)?;
        if state == AccountState::Deleted.as_str() {
            return Err(AccountError::NoSuchAccount);
        }
        if role == Role::Admin.as_str() {
            let others: i64 = tx.query_row(
                "SELECT COUNT(*) FROM accounts
                 WHERE tenant = ?1 AND role = 'admin' AND state = 'active' AND id != ?2
                   AND password_hash IS NOT NULL",
                params![tenant, account_id],
                |r| r.get(0),
            )?;
            if others == 0 {
                return Err(AccountError::LastAdmin);
            }
        }
        tx.execute(
            "UPDATE accounts SET state = 'deleted' WHERE id = ?1",
            params![account_id],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1",
            params![account_id],
        )?;
        Self::forget_in(&tx, account_id)?;
        Self::audit(
            &tx,
            Some(account_id),
            "account-deleted-by-owner",
            Some(account_id),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets what a deleted account leaves besides its row: its recovery keys and
    /// its open invitations.
    pub(super) fn forget_in(
        conn: &rusqlite::Connection,
        account_id: &str,
    ) -> Result<(), AccountError> {
        conn.execute(
            "DELETE FROM recovery_keys WHERE account_id = ?1",
            params![account_id],
        )?;
        conn.execute(
            "DELETE FROM invitations WHERE account_id = ?1",
            params![account_id],
        )?;
        Ok(())
    }
}
