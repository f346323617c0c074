//! Sync websockets open per session and per account, so that one stolen token or one
//! account cannot open websockets without bound (`max_websockets_per_session`,
//! `max_websockets_per_account`).

use std::sync::Arc;

/// Sync websockets open per session and per account.
#[derive(Debug, Default)]
pub struct Websockets {
    counts: std::sync::Mutex<WebsocketCounts>,
}

#[derive(Debug, Default)]
struct WebsocketCounts {
    by_account: std::collections::HashMap<String, usize>,
    by_session: std::collections::HashMap<String, usize>,
}

impl Websockets {
    fn counts(&self) -> std::sync::MutexGuard<'_, WebsocketCounts> {
        // Counts only; a panic elsewhere leaves them consistent.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for one more websocket of `account` on the session of `token`, if the
    /// limits allow it.
    pub fn admit(
        self: &Arc<Self>,
        account: &str,
        token: &str,
        per_session: usize,
        per_account: usize,
    ) -> Option<OwnedWebsocketPermit> {
        let session = crate::password::token_digest(token);
        let mut counts = self.counts();
        let of_account = counts.by_account.get(account).copied().unwrap_or(0);
        let of_session = counts.by_session.get(&session).copied().unwrap_or(0);
        if of_account >= per_account || of_session >= per_session {
            return None;
        }
        *counts.by_account.entry(account.to_owned()).or_default() += 1;
        *counts.by_session.entry(session.clone()).or_default() += 1;
        Some(OwnedWebsocketPermit {
            websockets: self.clone(),
            account: account.to_owned(),
            session,
        })
    }
}

/// An open websocket's place in [`Websockets`], given back when dropped.
#[derive(Debug)]
pub struct OwnedWebsocketPermit {
    websockets: Arc<Websockets>,
    account: String,
    session: String,
}

impl Drop for OwnedWebsocketPermit {
    fn drop(&mut self) {
        let mut counts = self.websockets.counts();
        let WebsocketCounts {
            by_account,
            by_session,
        } = &mut *counts;
        for (map, key) in [(by_account, &self.account), (by_session, &self.session)] {
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}
