//! Accounts and sessions: creating accounts, logging in and out, changing passwords,
//! locking, and the checks every authenticated request goes through. Every password
//! check goes through the [`Throttle`] first (growing delays, never a lock); addresses
//! are held in memory for that only, and written down only in the 24-hour access log.
//! A locked account, an unknown login and a wrong password get the same answer after
//! the same work, so that the answer tells nobody which logins exist or which password
//! is right.
//!
//! Long because accounts, sessions and the audit trail share one connection and one
//! transaction per operation; the access log and invitations are already files of
//! their own (`accounts/`).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::{TenantId, UserId};
use ring::rand::SystemRandom;
use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Config;
use crate::password::{self, PasswordHash, PolicyError};
use crate::throttle::{Allowance, Refused, Throttle};

use model::api::ErrorCode;
/// Roles and account states are the contract's: the API answers them as they are.
pub use model::api::{AccountState, AccountSummary, Role};

/// Who a valid session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: UserId,
    pub tenant: TenantId,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong login or wrong password: deliberately the same error.
    #[error("wrong login or password")]
    WrongCredentials,
    #[error("too many failed logins; try again later")]
    RateLimited(Duration),
    /// Password checks for this login or address are in progress, as many as may run
    /// at once: the HTTP layer tries again shortly ([`crate::blocking::patiently`]).
    #[error("too many password checks at once")]
    Busy,
    #[error("the session is unknown or has expired")]
    NoSession,
    #[error("the password does not meet the policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("the login is taken")]
    LoginTaken,
    #[error("no such account")]
    NoSuchAccount,
    /// The tenant's last active admin cannot delete their own account.
    #[error("the last active admin of the tenant")]
    LastAdmin,
    /// An invitation for a member of staff whose password is set already.
    #[error("the password is set already")]
    PasswordAlreadySet,
    #[error(transparent)]
    Random(#[from] password::RandomError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl AccountError {
    /// The stable code the API returns.
    pub fn code(&self) -> ErrorCode {
        match self {
            AccountError::WrongCredentials => ErrorCode::WrongCredentials,
            AccountError::RateLimited(_) | AccountError::Busy => ErrorCode::RateLimited,
            AccountError::NoSession => ErrorCode::NoSession,
            AccountError::Policy(p) => p.code(),
            AccountError::LoginTaken => ErrorCode::LoginTaken,
            AccountError::NoSuchAccount => ErrorCode::NoSuchAccount,
            AccountError::LastAdmin => ErrorCode::LastAdmin,
            AccountError::PasswordAlreadySet => ErrorCode::InvalidRequest,
            AccountError::Random(_) | AccountError::Sqlite(_) => ErrorCode::Internal,
        }
    }
}

/// An account as the login needs it; `hash` is empty while no password is set.
struct StoredAccount {
    id: String,
    tenant: String,
    role: String,
    state: String,
    hash: Option<PasswordHash>,
}

/// A new session: its token (shown once, stored only as a digest) and its account.
#[derive(Debug)]
pub struct Login {
    pub token: String,
    pub account_id: UserId,
    pub tenant: TenantId,
    pub role: Role,
}

pub struct Accounts {
    conn: Mutex<Connection>,
    rng: SystemRandom,
    throttle: Throttle,
    idle: Duration,
    absolute: Duration,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

fn refused(refused: Refused) -> AccountError {
    match refused {
        Refused::Wait(wait) => AccountError::RateLimited(wait),
        Refused::Busy => AccountError::Busy,
    }
}

/// What an unknown login's password is checked against: the same work as a real one.
fn dummy_hash() -> PasswordHash {
    PasswordHash {
        salt: vec![0; 16],
        iterations: password::ITERATIONS,
        hash: vec![0; 32],
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Accounts {
    pub fn new(conn: Connection, config: &Config) -> Self {
        Self {
            conn: Mutex::new(conn),
            rng: SystemRandom::new(),
            throttle: Throttle::new(Allowance {
                pair: config.login_failures_before_delay,
                address: config.login_failures_before_delay_per_address,
                account: config.login_failures_before_delay_per_login,
            }),
            idle: config.session_idle(),
            absolute: config.session_absolute(),
        }
    }

    /// Forgets throttle state that no longer counts (the server calls this every few
    /// minutes).
    pub fn prune_throttle(&self) {
        self.throttle.prune(now_ms());
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every write is one
        // statement or one transaction), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes in the audit log that the server runs with its day shifted
    /// (`clock_offset_days`): the purge decides by that day.
    pub fn audit_clock_offset(&self, days: i64) -> Result<(), AccountError> {
        Self::audit(
            &self.conn(),
            None,
            "clock-offset",
            Some(&format!("days={days}")),
        )
    }

    fn audit(
        conn: &Connection,
        actor: Option<&str>,
        action: &str,
        subject: Option<&str>,
    ) -> Result<(), AccountError> {
        conn.execute(
            "INSERT INTO audit_log (at_ms, actor, action, subject) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms() as i64, actor, action, subject],
        )?;
        Ok(())
    }

    /// Creates an account with a password that meets the policy. Returns its id.
    pub fn create(
        &self,
        actor: Option<&str>,
        tenant: &str,
        login: &str,
        role: Role,
        password: &str,
    ) -> Result<String, AccountError> {
        password::check_policy(password, &[login, tenant])?;
        let stored = password::hash(password, &self.rng)?;
        self.insert(actor, tenant, login, role, Some(stored))
    }

    /// Creates an account without a password: nobody can sign in to it until its owner
    /// sets one through an invitation ([`Accounts::invite`]). Returns its id.
    pub fn create_without_password(
        &self,
        actor: Option<&str>,
        tenant: &str,
        login: &str,
        role: Role,
    ) -> Result<String, AccountError> {
        self.insert(actor, tenant, login, role, None)
    }

    fn insert(
        &self,
        actor: Option<&str>,
        tenant: &str,
        login: &str,
        role: Role,
        stored: Option<PasswordHash>,
    ) -> Result<String, AccountError> {
        let id = password::random_hex(&self.rng, 12)?;
        let (salt, iterations, hash) = match stored {
            Some(s) => (Some(s.salt), Some(s.iterations), Some(s.hash)),
            None => (None, None, None),
        };
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO accounts (id, tenant, login, role, state, salt, iterations, password_hash, created_ms)
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8)",
            params![id, tenant, login.trim(), role.as_str(), salt, iterations, hash, now_ms() as i64],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(AccountError::LoginTaken);
            }
            other => {
                other?;
            }
        }
        Self::audit(&conn, actor, "account-created", Some(&id))?;
        Ok(id)
    }

    /// The account of the person with client record `person`, if there is one.
    pub fn person_account(&self, person: &str) -> Result<Option<String>, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT account_id FROM person_accounts WHERE person = ?1",
                [person],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The person's account, and whether it was created now (role `client`, login
    /// `login`); `password` is a new account's first password, or, for an invitation, an
    /// unknown random one the person replaces.
    pub fn ensure_person_account(
        &self,
        actor: Option<&str>,
        tenant: &str,
        person: &str,
        login: &str,
        password: Option<&str>,
    ) -> Result<(String, bool), AccountError> {
        if let Some(account) = self.person_account(person)? {
            return Ok((account, false));
        }
        let unknown;
        let password = match password {
            Some(password) => password,
            None => {
                unknown = format!("{}Aa1!", password::random_hex(&self.rng, 24)?);
                &unknown
            }
        };
        let id = self.create(actor, tenant, login, Role::Client, password)?;
        let linked = self.conn().execute(
            "INSERT OR IGNORE INTO person_accounts (person, account_id) VALUES (?1, ?2)",
            params![person, id],
        )?;
        if linked == 0 {
            // Another request linked an account first: that one is the person's.
            self.conn()
                .execute("DELETE FROM accounts WHERE id = ?1", [&id])?;
            return Ok((
                self.person_account(person)?
                    .ok_or(AccountError::NoSuchAccount)?,
                false,
            ));
        }
        Ok((id, true))
    }

    /// The client record of a person's account.
    pub fn person_of(&self, account: &str) -> Result<Option<String>, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT person FROM person_accounts WHERE account_id = ?1",
                [account],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn find_by_login(&self, login: &str) -> Result<Option<StoredAccount>, AccountError> {
        let found = self
            .conn()
            .query_row(
                "SELECT id, state, salt, iterations, password_hash, tenant, role
                 FROM accounts WHERE login = ?1",
                params![login.trim()],
                |r| {
                    let salt: Option<Vec<u8>> = r.get(2)?;
                    let iterations: Option<u32> = r.get(3)?;
                    let hash: Option<Vec<u8>> = r.get(4)?;
                    Ok(StoredAccount {
                        id: r.get(0)?,
                        tenant: r.get(5)?,
                        role: r.get(6)?,
                        state: r.get(1)?,
                        hash: match (salt, iterations, hash) {
                            (Some(salt), Some(iterations), Some(hash)) => Some(PasswordHash {
                                salt,
                                iterations,
                                hash,
                            }),
                            _ => None,
                        },
                    })
                },
            )
            .optional()?;
        Ok(found)
    }

    pub fn count(&self) -> Result<u64, AccountError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Logs in; returns a new session token. Each attempt goes through the throttle
    /// first, which may answer that it must wait.
    pub fn login(
        &self,
        login: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<Login, AccountError> {
        let now = now_ms();
        let principal = self.verify_login(login, password, address)?;
        let id = principal.account_id.as_str();
        let token = password::random_hex(&self.rng, 32)?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO sessions (token_digest, account_id, created_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?3)",
            params![password::token_digest(&token), id, now as i64],
        )?;
        Self::audit(&conn, Some(id), "login", None)?;
        Ok(Login {
            token,
            account_id: principal.account_id,
            tenant: principal.tenant,
            role: principal.role,
        })
    }

    /// Checks a login and its password as a login does, without starting a session:
    /// through the throttle first, with the same answer and the same work for an unknown
    /// login, an account without a password, a locked one and a wrong password.
    pub fn verify_login(
        &self,
        login: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<Principal, AccountError> {
        let attempt = self
            .throttle
            .begin(login, address, now_ms())
            .map_err(refused)?;
        let found = self.find_by_login(login)?;
        // An unknown login, an account without a password and a locked one are checked
        // against a dummy hash at the same cost, and answer as a wrong password does, so
        // that neither the answer nor its time tells which logins exist, which are
        // locked, or whether the password was right.
        let (account, stored) = match found {
            Some(StoredAccount {
                id,
                tenant,
                role,
                state,
                hash: Some(hash),
            }) => {
                let active = state == AccountState::Active.as_str();
                (active.then_some((id, tenant, role)), hash)
            }
            _ => (None, dummy_hash()),
        };
        let right = password::verify(password, &stored);
        let Some((id, tenant, role)) = account.filter(|_| right) else {
            // The wait counts from when the failure is known, not from the start of a
            // check that may have taken a second on a busy server.
            self.throttle.failed(attempt, now_ms());
            return Err(AccountError::WrongCredentials);
        };
        self.throttle.succeeded(attempt, now_ms());
        Ok(Principal {
            account_id: UserId::new(id),
            tenant: TenantId::new(tenant),
            // An unknown role gets the least: authenticate() refuses it anyway.
            role: Role::parse(&role).unwrap_or(Role::Client),
        })
    }

    /// The principal of a valid session; refreshes its idle timer. Expired sessions and
    /// sessions of accounts that are no longer active are ended here.
    pub fn authenticate(&self, token: &str) -> Result<Principal, AccountError> {
        self.check_session(token, true)
    }

    /// The principal of a valid session, leaving its idle timer as it is: for checks
    /// that are not the client's doing (a sync connection's periodic re-check).
    pub fn session(&self, token: &str) -> Result<Principal, AccountError> {
        self.check_session(token, false)
    }

    fn check_session(&self, token: &str, refresh: bool) -> Result<Principal, AccountError> {
        let now = now_ms() as i64;
        let digest = password::token_digest(token);
        let conn = self.conn();
        let row: Option<(String, i64, i64, String, String, String)> = conn
            .query_row(
                "SELECT a.id, s.created_ms, s.last_seen_ms, a.tenant, a.role, a.state
                 FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_digest = ?1",
                params![digest],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((account_id, created, last_seen, tenant, role, state)) = row else {
            return Err(AccountError::NoSession);
        };
        let expired = now - last_seen > self.idle.as_millis() as i64
            || now - created > self.absolute.as_millis() as i64;
        if expired || state != AccountState::Active.as_str() {
            conn.execute(
                "DELETE FROM sessions WHERE token_digest = ?1",
                params![digest],
            )?;
            return Err(AccountError::NoSession);
        }
        if refresh {
            conn.execute(
                "UPDATE sessions SET last_seen_ms = ?1 WHERE token_digest = ?2",
                params![now, digest],
            )?;
        }
        let role = Role::parse(&role).ok_or(AccountError::NoSession)?;
        Ok(Principal {
            account_id: UserId::new(account_id),
            tenant: TenantId::new(tenant),
            role,
        })
    }

    pub fn logout(&self, token: &str) -> Result<(), AccountError> {
        self.conn().execute(
            "DELETE FROM sessions WHERE token_digest = ?1",
            params![password::token_digest(token)],
        )?;
        Ok(())
    }

    /// Changes the password of the session's account; ends all its other sessions. The
    /// old password is checked as a login's is: through the throttle, from `address`.
    pub fn change_password(
        &self,
        token: &str,
        old: &str,
        new: &str,
        address: IpAddr,
    ) -> Result<(), AccountError> {
        let principal = self.authenticate(token)?;
        let (login, stored): (String, Option<PasswordHash>) = self.conn().query_row(
            "SELECT login, salt, iterations, password_hash FROM accounts WHERE id = ?1",
            params![principal.account_id.as_str()],
            |r| {
                Ok((
                    r.get(0)?,
                    match (r.get(1)?, r.get(2)?, r.get(3)?) {
                        (Some(salt), Some(iterations), Some(hash)) => Some(PasswordHash {
                            salt,
                            iterations,
                            hash,
                        }),
                        _ => None,
                    },
                ))
            },
        )?;
        password::check_policy(new, &[&login, principal.tenant.as_str()])?;
        let now = now_ms();
        let attempt = self.throttle.begin(&login, address, now).map_err(refused)?;
        let right = password::verify(old, &stored.unwrap_or_else(dummy_hash));
        if !right {
            // The wait counts from when the failure is known, not from the start of a
            // check that may have taken a second on a busy server.
            self.throttle.failed(attempt, now_ms());
            return Err(AccountError::WrongCredentials);
        }
        self.throttle.succeeded(attempt, now_ms());
        let fresh = password::hash(new, &self.rng)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE accounts SET salt = ?1, iterations = ?2, password_hash = ?3 WHERE id = ?4",
            params![
                fresh.salt,
                fresh.iterations,
                fresh.hash,
                principal.account_id.as_str()
            ],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1 AND token_digest != ?2",
            params![principal.account_id.as_str(), password::token_digest(token)],
        )?;
        Self::audit(
            &tx,
            Some(principal.account_id.as_str()),
            "password-changed",
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The tenant of the account `account_id`.
    pub fn tenant_of(&self, account_id: &str) -> Result<Option<String>, AccountError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT tenant FROM accounts WHERE id = ?1",
                params![account_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The id of the account with this login.
    pub fn id_of(&self, login: &str) -> Result<String, AccountError> {
        self.find_by_login(login)?
            .map(|a| a.id)
            .ok_or(AccountError::NoSuchAccount)
    }

    /// One account, or every account of `tenant` (all tenants with `None`), by login.
    pub fn list(&self, tenant: Option<&str>) -> Result<Vec<AccountSummary>, AccountError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, tenant, login, role, state FROM accounts
             WHERE ?1 IS NULL OR tenant = ?1 ORDER BY login",
        )?;
        let rows = statement.query_map(params![tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (id, tenant, login, role, state) = row?;
            found.push(AccountSummary {
                id,
                tenant,
                login,
                // The server writes only known names; anything else counts as the least
                // an account can be.
                role: Role::parse(&role).unwrap_or(Role::Client),
                state: AccountState::parse(&state).unwrap_or(AccountState::Deleted),
            });
        }
        Ok(found)
    }

    /// "Passwort vergeben": sets a new password for an account and ends its sessions.
    pub fn set_password(
        &self,
        actor: Option<&str>,
        account_id: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        let (login, tenant): (String, String) = self
            .conn()
            .query_row(
                "SELECT login, tenant FROM accounts WHERE id = ?1",
                params![account_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(AccountError::NoSuchAccount)?;
        password::check_policy(new, &[&login, &tenant])?;
        let stored = password::hash(new, &self.rng)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE accounts SET salt = ?1, iterations = ?2, password_hash = ?3 WHERE id = ?4",
            params![stored.salt, stored.iterations, stored.hash, account_id],
        )?;
        if changed == 0 {
            return Err(AccountError::NoSuchAccount);
        }
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1",
            params![account_id],
        )?;
        // A link sent before must not set the password again (and take the account).
        tx.execute(
            "DELETE FROM invitations WHERE account_id = ?1",
            params![account_id],
        )?;
        Self::audit(&tx, actor, "password-set", Some(account_id))?;
        tx.commit()?;
        Ok(())
    }

    /// Locks, unlocks or deletes an account; locking and deleting end its sessions at once.
    pub fn set_state(
        &self,
        actor: Option<&str>,
        account_id: &str,
        state: AccountState,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // A deleted account stays deleted.
        let changed = tx.execute(
            "UPDATE accounts SET state = ?1 WHERE id = ?2 AND state != 'deleted'",
            params![state.as_str(), account_id],
        )?;
        if changed == 0 {
            return Err(AccountError::NoSuchAccount);
        }
        if state != AccountState::Active {
            tx.execute(
                "DELETE FROM sessions WHERE account_id = ?1",
                params![account_id],
            )?;
        }
        if state == AccountState::Deleted {
            Self::forget_in(&tx, account_id)?;
        }
        Self::audit(
            &tx,
            actor,
            &format!("account-{}", state.as_str()),
            Some(account_id),
        )?;
        tx.commit()?;
        Ok(())
    }
}

mod access_log;
mod invitations;
mod own;
mod recovery;
pub use access_log::{ACCESS_LOG_RETENTION, AccessEntry};
pub use invitations::Redeemed;
pub use recovery::{MAX_DEVICES, check_device, decode_key, encode_key};

#[cfg(test)]
mod tests;
