//! Who a store belongs to: the profile sealed in its `meta` table (server, login, account,
//! role, this installation's device id, the session, the colleagues as last heard, how
//! to reach the server). The sync and the workspace read it; the API client fills in the
//! colleagues.

use model::api::Role;
use serde::{Deserialize, Serialize};

use crate::tls::ConnectionSettings;

/// Who this store belongs to and how to reach their server. Sealed in `meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub server: String,
    pub login: String,
    pub account_id: String,
    pub tenant: String,
    pub role: Role,
    pub directory_id: String,
    /// This installation's id: the node of its clock stamps, the actor of its changes.
    pub device: String,
    pub session: Option<Session>,
    /// Colleagues of the tenant, as last heard from the server (names in lists).
    pub staff: Vec<StaffMember>,
    /// When the server last had all our changes (milliseconds since the epoch).
    pub last_sync_ms: Option<u64>,
    /// How to reach the server (the CA file, plain `http://` allowed), as set under
    /// „Erweitert“ at sign-in. Stores written before it existed read the defaults.
    #[serde(default)]
    pub connection: ConnectionSettings,
    /// The directory's `staff_changed_ms` when `staff` was last fetched: when the
    /// directory's moves on, the colleagues are asked for again.
    #[serde(default)]
    pub staff_changed_ms: Option<u64>,
}

impl Profile {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub peer_id: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

/// Colleagues as the server lists them; stored as the contract writes them.
pub use model::api::StaffMember;

#[cfg(test)]
mod tests;
