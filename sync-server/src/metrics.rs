//! What `/metrics` counts: requests, logins, connections, frames, failed writes, and
//! connections the server ended, by reason. Counters only, no personal data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub requests: AtomicU64,
    pub sync_connections: AtomicI64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub endings: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn count_ending(&self, reason: &'static str) {
        *self
            .endings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(reason)
            .or_default() += 1;
    }

    /// The Prometheus text format; `failed_writes` comes from the storage.
    pub fn render(&self, failed_writes: u64) -> String {
        let mut body = format!(
            "# TYPE sync_server_requests_total counter\nsync_server_requests_total {}\n\
             # TYPE sync_server_logins_total counter\n\
             sync_server_logins_total{{result=\"ok\"}} {}\nsync_server_logins_total{{result=\"failed\"}} {}\n\
             # TYPE sync_server_connections gauge\nsync_server_connections {}\n\
             # TYPE sync_server_frames_total counter\n\
             sync_server_frames_total{{direction=\"in\"}} {}\nsync_server_frames_total{{direction=\"out\"}} {}\n\
             # TYPE sync_server_storage_failed_writes_total counter\nsync_server_storage_failed_writes_total {}\n\
             # TYPE sync_server_connections_ended_total counter\n",
            self.requests.load(Ordering::Relaxed),
            self.logins_ok.load(Ordering::Relaxed),
            self.logins_failed.load(Ordering::Relaxed),
            self.sync_connections.load(Ordering::Relaxed),
            self.frames_in.load(Ordering::Relaxed),
            self.frames_out.load(Ordering::Relaxed),
            failed_writes,
        );
        for (reason, count) in self
            .endings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
        {
            // Writing into a String cannot fail.
            let _ = writeln!(
                body,
                "sync_server_connections_ended_total{{reason=\"{reason}\"}} {count}"
            );
        }
        body
    }
}
