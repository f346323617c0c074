//! The access log: logins, failed logins and sync connections with their IP address,
//! for maintenance only and for 24 hours (every insert, and the server every few
//! minutes, deletes what is older). Shown by `sync-server admin access-log` and by no
//! HTTP route.

use std::net::IpAddr;
use std::time::Duration;

use rusqlite::{Connection, params};

use super::{AccountError, Accounts, now_ms};

/// How long IP addresses stay in the access log.
pub const ACCESS_LOG_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub at_ms: u64,
    pub ip: String,
    pub account_id: Option<String>,
    pub event: String,
}

impl Accounts {
    /// Records an access with its IP address, and forgets accesses older than
    /// [`ACCESS_LOG_RETENTION`].
    pub fn record_access(
        &self,
        address: IpAddr,
        account_id: Option<&str>,
        event: &str,
    ) -> Result<(), AccountError> {
        let now = now_ms();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO access_log (at_ms, ip, account_id, event) VALUES (?1, ?2, ?3, ?4)",
            params![now as i64, address.to_string(), account_id, event],
        )?;
        Self::forget_old_accesses(&conn, now)
    }

    /// Deletes access-log entries older than [`ACCESS_LOG_RETENTION`]; the server runs
    /// this at start and every few minutes, so quiet days keep nothing longer.
    pub fn purge_access_log(&self) -> Result<(), AccountError> {
        Self::forget_old_accesses(&self.conn(), now_ms())
    }

    fn forget_old_accesses(conn: &Connection, now: u64) -> Result<(), AccountError> {
        let cutoff = now.saturating_sub(ACCESS_LOG_RETENTION.as_millis() as u64);
        conn.execute(
            "DELETE FROM access_log WHERE at_ms < ?1",
            params![cutoff as i64],
        )?;
        Ok(())
    }

    /// The access log of the last 24 hours, oldest first (for IT, through the command
    /// line only).
    pub fn access_log(&self) -> Result<Vec<AccessEntry>, AccountError> {
        let cutoff = now_ms().saturating_sub(ACCESS_LOG_RETENTION.as_millis() as u64);
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT at_ms, ip, account_id, event FROM access_log WHERE at_ms >= ?1 ORDER BY at_ms",
        )?;
        let rows = statement.query_map(params![cutoff as i64], |r| {
            Ok(AccessEntry {
                at_ms: r.get::<_, i64>(0)? as u64,
                ip: r.get(1)?,
                account_id: r.get(2)?,
                event: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
