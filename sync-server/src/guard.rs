//! Server-only fields, guarded at the edge. The rules (`model`'s `Schema::vet`) count a
//! client record's deletion events and account state only where a server actor wrote
//! them; here the server makes sure that only it writes under a server actor, and that
//! nobody else changes, removes or hides what it wrote:
//!
//! - a change under a server actor ([`model::is_server_actor`]) that this server does
//!   not already have is refused;
//! - a change that touches the `account` or `deletion_events` map of a client record,
//!   or anything inside them, is refused, unless it is the change that creates the
//!   record (which writes both maps; the rules ignore whatever else it puts there).
//!
//! Only messages of peers that may write the record are checked (samod drops the others'
//! changes anyway, and checking them would tell them the record exists). A refused
//! message ends the connection with an `error`: a well-behaved client never writes these
//! fields, so this is a bug or an attack, never a person's edit.

use std::collections::HashSet;

use automerge::sync::Message;
use automerge::{ActorId, Automerge, ObjId, ReadDoc};

/// The top-level maps of a client record that only the server writes into.
const SERVER_ONLY: [&str; 2] = ["account", "deletion_events"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("changes under the server's actor id come from the server only")]
    ServerActor,
    #[error("this field is written by the server only")]
    ServerOnlyField,
    #[error("the sync message does not decode")]
    Undecodable,
    #[error("the document cannot be checked right now")]
    Unavailable,
}

/// Whether a sync message's data carries changes (undecodable data counts as carrying
/// some, so that [`check`] refuses it).
pub fn carries_changes(data: &[u8]) -> bool {
    Message::decode(data).map_or(true, |message| !message.changes.is_empty())
}

/// What [`check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Passed,
    Refused(Refusal),
    /// The changes build on changes the server has not stored yet: check again against
    /// the server's copy.
    NeedsHeld,
}

/// Checks an incoming `sync` or `request` message's data for a client record; `held` is
/// the server's copy, when it has one. The message's changes are worked out exactly as
/// samod will apply them: loaded incrementally onto a copy of what the server holds.
pub fn check(data: &[u8], held: Option<&Automerge>) -> Check {
    let Ok(message) = Message::decode(data) else {
        return Check::Refused(Refusal::Undecodable);
    };
    if message.changes.is_empty() {
        return Check::Passed;
    }
    let mut scratch = held.cloned().unwrap_or_default();
    let before = scratch.get_heads();
    let joined: Vec<u8> = message.changes.iter().flatten().copied().collect();
    if scratch.load_incremental(&joined).is_err() {
        return Check::Refused(Refusal::Undecodable);
    }
    if held.is_none() && !scratch.get_missing_deps(&[]).is_empty() {
        return Check::NeedsHeld;
    }
    let new = scratch.get_changes(&before);
    if new
        .iter()
        .any(|change| model::is_server_actor(change.actor_id()))
    {
        return Check::Refused(Refusal::ServerActor);
    }
    let guarded = guarded_objects(&scratch);
    // The change that creates a record writes both maps; what else it puts there the
    // rules ignore. Every later change must leave them alone.
    for change in new.iter().filter(|change| !change.deps().is_empty()) {
        for op in change.decode().operations {
            let touches = match &op.obj {
                automerge::legacy::ObjectId::Root => match &op.key {
                    automerge::legacy::Key::Map(key) => SERVER_ONLY.contains(&key.as_str()),
                    automerge::legacy::Key::Seq(_) => false,
                },
                automerge::legacy::ObjectId::Id(id) => guarded.contains(&(id.0, id.1.clone())),
            };
            if touches {
                return Check::Refused(Refusal::ServerOnlyField);
            }
        }
    }
    Check::Passed
}

/// Every object inside the server-only maps of a client record (the maps included),
/// as (counter, actor) of the operation that made it.
fn guarded_objects(doc: &Automerge) -> HashSet<(u64, ActorId)> {
    let mut found = HashSet::new();
    let mut stack: Vec<ObjId> = SERVER_ONLY
        .into_iter()
        .filter_map(|key| match doc.get(automerge::ROOT, key) {
            Ok(Some((automerge::Value::Object(_), id))) => Some(id),
            _ => None,
        })
        .collect();
    while let Some(obj) = stack.pop() {
        if let ObjId::Id(counter, actor, _) = &obj {
            found.insert((*counter, actor.clone()));
        }
        for item in doc.map_range(&obj, ..) {
            if let automerge::ValueRef::Object(_) = item.value {
                stack.push(item.id());
            }
        }
        for item in doc.list_range(&obj, ..) {
            if let automerge::ValueRef::Object(_) = item.value {
                stack.push(item.id());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
