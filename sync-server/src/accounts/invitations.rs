//! Invitations ("Einladung versenden"): a token for the link in the e-mail, stored as
//! its digest, valid for a while, and used up in the transaction that sets the password.
//! A person's account is invited with its client record; a staff account without one
//! (the table's `person` is empty then).

use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::{AccountError, Accounts, Role, now_ms};
use crate::password;

/// Whose password an invitation set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub account_id: String,
    pub tenant: String,
    pub role: Role,
    /// The client record of a person's account; none for staff.
    pub person: Option<String>,
}

impl Accounts {
    /// An invitation to set the password of `account` (the person's, with their client
    /// record, or a member of staff's): the token for the link (only its digest is
    /// stored), valid for `valid_for`.
    pub fn invite(
        &self,
        account: &str,
        person: Option<&str>,
        valid_for: Duration,
    ) -> Result<String, AccountError> {
        let person = person.unwrap_or("");
        let token = password::random_hex(&self.rng, 32)?;
        let valid_for = u64::try_from(valid_for.as_millis()).unwrap_or(u64::MAX);
        let expires = now_ms().saturating_add(valid_for).min(i64::MAX as u64);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Only the newest link works: an older one, perhaps in a mailbox someone else
        // reads now, must not set the password.
        tx.execute("DELETE FROM invitations WHERE account_id = ?1", [account])?;
        tx.execute(
            "INSERT INTO invitations (token_digest, account_id, person, expires_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                password::token_digest(&token),
                account,
                person,
                expires as i64
            ],
        )?;
        tx.commit()?;
        Ok(token)
    }

    /// Whether an invitation is valid.
    pub fn invitation(&self, token: &str) -> Result<bool, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM invitations WHERE token_digest = ?1 AND expires_ms > ?2",
                params![password::token_digest(token), now_ms() as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Whether the account has a password set.
    pub fn has_password(&self, account_id: &str) -> Result<bool, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT password_hash IS NOT NULL FROM accounts WHERE id = ?1",
                params![account_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// Sets the password through an invitation, which is then used up (with every other
    /// invitation of the account) in the same transaction, so two submissions at once
    /// cannot both use it. Returns whose password it set. A member of staff whose
    /// password is set already gets [`AccountError::PasswordAlreadySet`] (and the
    /// invitation is used up all the same).
    pub fn redeem_invitation(&self, token: &str, new: &str) -> Result<Redeemed, AccountError> {
        let (login, tenant): (String, String) = self
            .conn()
            .query_row(
                "SELECT a.login, a.tenant FROM invitations i JOIN accounts a ON a.id = i.account_id
                 WHERE i.token_digest = ?1 AND i.expires_ms > ?2",
                params![password::token_digest(token), now_ms() as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(AccountError::NoSession)?;
        password::check_policy(new, &[&login, &tenant])?;
        let stored = password::hash(new, &self.rng)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: Option<(String, String)> = tx
            .query_row(
                "DELETE FROM invitations WHERE token_digest = ?1 AND expires_ms > ?2
                 RETURNING account_id, person",
                params![password::token_digest(token), now_ms() as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (account, person) = found.ok_or(AccountError::NoSession)?;
        tx.execute("DELETE FROM invitations WHERE account_id = ?1", [&account])?;
        // A member of staff's password is set once by invitation; later an admin sets
        // it ("Passwort vergeben"). A link still around must not take the account over.
        // A person's invitation may set a new password: it is how staff give a person
        // who forgot theirs access again (the earlier links are gone by then).
        let (role, has_password): (String, bool) = tx.query_row(
            "SELECT role, password_hash IS NOT NULL FROM accounts WHERE id = ?1",
            [&account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if has_password && Role::parse(&role).is_some_and(|role| role.is_staff()) {
            tx.commit()?;
            return Err(AccountError::PasswordAlreadySet);
        }
        // A deleted account's invitations are gone with it; this is belt and braces.
        let changed = tx.execute(
            "UPDATE accounts SET salt = ?1, iterations = ?2, password_hash = ?3
             WHERE id = ?4 AND state != 'deleted'",
            params![stored.salt, stored.iterations, stored.hash, account],
        )?;
        if changed == 0 {
            return Err(AccountError::NoSession);
        }
        let role: String =
            tx.query_row("SELECT role FROM accounts WHERE id = ?1", [&account], |r| {
                r.get(0)
            })?;
        tx.execute("DELETE FROM sessions WHERE account_id = ?1", [&account])?;
        Self::audit(&tx, None, "password-set-by-invitation", Some(&account))?;
        tx.commit()?;
        Ok(Redeemed {
            account_id: account,
            tenant,
            role: Role::parse(&role).unwrap_or(Role::Client),
            person: (!person.is_empty()).then_some(person),
        })
    }
}
