//! Who is acting, and when: every mutation takes an [`Editor`], which stamps the intent it
//! records with the acting user and a hybrid-logical-clock stamp.

use std::fmt;

use crate::clock::{Hlc, Stamp};
use crate::ids::{NodeId, UserId};

/// The wall clock, in milliseconds since the Unix epoch. A function, so tests drive time.
pub type WallClock = Box<dyn FnMut() -> u64 + Send>;

pub struct Editor {
    user: UserId,
    hlc: Hlc,
    clock: WallClock,
}

impl fmt::Debug for Editor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Editor")
            .field("user", &self.user)
            .field("hlc", &self.hlc)
            .finish_non_exhaustive()
    }
}

impl Editor {
    pub fn new(user: UserId, node: NodeId, clock: WallClock) -> Self {
        Self {
            user,
            hlc: Hlc::new(node),
            clock,
        }
    }

    /// An editor on the system clock, for the binaries.
    pub fn with_system_clock(user: UserId, node: NodeId) -> Self {
        Self::new(user, node, Box::new(system_time_ms))
    }

    /// An editor whose clock starts at `start_ms` and moves on one millisecond per reading:
    /// deterministic, for tests and benchmarks.
    pub fn with_stepping_clock(user: UserId, node: NodeId, start_ms: u64) -> Self {
        let mut now = start_ms;
        Self::new(
            user,
            node,
            Box::new(move || {
                now += 1;
                now
            }),
        )
    }

    pub fn user(&self) -> &UserId {
        &self.user
    }

    pub fn node(&self) -> &NodeId {
        self.hlc.node()
    }

    pub fn stamp(&mut self) -> Stamp {
        let now = (self.clock)();
        self.hlc.tick(now)
    }

    /// Every stamp a mutation sees in the document passes through here first, so the
    /// intent it records is ordered after what its author saw.
    pub fn observe<'a>(&mut self, seen: impl IntoIterator<Item = &'a Stamp>) {
        for stamp in seen {
            self.hlc.observe(stamp);
        }
    }
}

/// Milliseconds since the Unix epoch; 0 if the system clock stands before 1970.
pub fn system_time_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
