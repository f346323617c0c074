//! The hybrid logical clock. Every intent stored in a document carries a [`Stamp`], and the
//! conflict rules order intents by stamps, so stamps must be unique and must grow along
//! causality even when laptop clocks disagree.

use std::fmt;

use crate::ids::{EntityId, NodeId};

/// A point in hybrid logical time. Ordered by wall time, then counter, then node, which
/// makes the order total and the same on every replica.
/// Stored as one string, `wall.counter@node`, so that it is replaced whole.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch (UTC), as the author's clock saw them, or later
    /// when the author had already seen a later stamp.
    pub wall_ms: u64,
    pub counter: u64,
    pub node: NodeId,
}

impl Stamp {
    pub fn new(wall_ms: u64, counter: u64, node: NodeId) -> Self {
        Self {
            wall_ms,
            counter,
            node,
        }
    }

    /// The id of the entity created at this stamp: unique because the stamp is.
    pub fn entity_id(&self) -> EntityId {
        EntityId::new(format!(
            "{:011x}-{:x}-{}",
            self.wall_ms, self.counter, self.node
        ))
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}@{}", self.wall_ms, self.counter, self.node)
    }
}

impl std::str::FromStr for Stamp {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (wall, rest) = s.split_once('.').ok_or(())?;
        let (counter, node) = rest.split_once('@').ok_or(())?;
        Ok(Self::new(
            wall.parse().map_err(|_| ())?,
            counter.parse().map_err(|_| ())?,
            NodeId::new(node),
        ))
    }
}

crate::scalar::scalar_via_string!(Stamp, "a stamp wall.counter@node");

/// Hands out stamps for one replica.
#[derive(Debug, Clone)]
pub struct Hlc {
    node: NodeId,
    last_wall_ms: u64,
    last_counter: u64,
}

impl Hlc {
    pub fn new(node: NodeId) -> Self {
        Self {
            node,
            last_wall_ms: 0,
            last_counter: 0,
        }
    }

    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// A stamp later than every stamp this clock made or observed. `now_ms` is the wall
    /// clock; the caller reads it, so tests can drive time.
    pub fn tick(&mut self, now_ms: u64) -> Stamp {
        if now_ms > self.last_wall_ms {
            self.last_wall_ms = now_ms;
            self.last_counter = 0;
        } else {
            self.last_counter += 1;
        }
        Stamp::new(self.last_wall_ms, self.last_counter, self.node.clone())
    }

    /// Takes note of a stamp seen in a document, so the next tick comes after it.
    pub fn observe(&mut self, seen: &Stamp) {
        if (seen.wall_ms, seen.counter) > (self.last_wall_ms, self.last_counter) {
            self.last_wall_ms = seen.wall_ms;
            self.last_counter = seen.counter;
        }
    }
}

#[cfg(test)]
mod tests;
