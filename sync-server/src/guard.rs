//! Server-only fields, guarded at the edge. The rules (`model`'s `Schema::vet`) count a
//! client record's deletion events and account state only where a server actor wrote
//! them; here the server makes sure that only it writes under a server actor, and that
//! nobody else changes, removes or hides what it wrote:
//!
//! - a change under a server actor ([`model::is_server_actor`]) that this server does
//!   not already have is refused;
//! - a change that touches the `account` or `deletion_events` map of a client record,
//!   or anything inside them, is refused, unless it is the record's creating change:
//!   the one whose hash its creator named at registration (which writes both maps; the
//!   rules ignore whatever else it puts there). Having no dependencies is not enough:
//!   anyone can write a change without dependencies, from a made-up actor, that makes
//!   the maps anew and wins over the server's at their keys.
//!
//! Only messages of peers that may write the record are checked (samod drops the others'
//! changes anyway, and checking them would tell them the record exists). A refused
//! message ends the connection with an `error`: a well-behaved client never writes these
//! fields, so this is a bug or an attack, never a person's edit.

use std::collections::HashSet;

use automerge::sync::Message;
use automerge::{ActorId, Automerge, Change, ChangeHash, ObjId, ReadDoc};

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

/// What [`check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Passed,
    Refused(Refusal),
    /// The changes build on changes the server has not stored yet: check again against
    /// the server's copy.
    NeedsHeld,
    /// Passed, and this change, the record's creation, is the first the server sees of
    /// a record registered before creating changes were recorded (see [`check`]).
    Created(ChangeHash),
}

/// Checks an incoming `sync` or `request` message's data for a client record; `held` is
/// (a copy of) the server's document, when it has one, and `creation` the hash of the
/// record's creating change as its registration named it. The message's changes are
/// worked out exactly as samod will apply them: loaded incrementally onto the server's
/// copy.
///
/// A record registered before registrations named their creating change has none:
/// then the first dependency-free change that reaches a server holding nothing of the
/// record counts as its creation ([`Check::Created`]), and no other change may touch
/// the maps.
pub fn check(data: &[u8], held: Option<Automerge>, creation: Option<ChangeHash>) -> Check {
    let Ok(message) = Message::decode(data) else {
        return Check::Refused(Refusal::Undecodable);
    };
    if message.changes.is_empty() {
        return Check::Passed;
    }
    let held_nothing = held.is_none();
    let mut scratch = held.unwrap_or_default();
    let before = scratch.get_heads();
    let joined: Vec<u8> = message.changes.iter().flatten().copied().collect();
    if scratch.load_incremental(&joined).is_err() {
        return Check::Refused(Refusal::Undecodable);
    }
    if held_nothing && !scratch.get_missing_deps(&[]).is_empty() {
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
    let mut created = None;
    for change in new.iter().filter(|c| touches_server_only(c, &guarded)) {
        match creation {
            Some(hash) if change.hash() == hash => {}
            None if held_nothing && created.is_none() && change.deps().is_empty() => {
                created = Some(change.hash());
            }
            _ => return Check::Refused(Refusal::ServerOnlyField),
        }
    }
    created.map_or(Check::Passed, Check::Created)
}

/// Whether `change` writes a server-only map's key at the root, or into one of
/// `guarded` (the objects inside those maps).
fn touches_server_only(change: &Change, guarded: &HashSet<(u64, ActorId)>) -> bool {
    change.decode().operations.iter().any(|op| match &op.obj {
        automerge::legacy::ObjectId::Root => match &op.key {
            automerge::legacy::Key::Map(key) => SERVER_ONLY.contains(&key.as_str()),
            automerge::legacy::Key::Seq(_) => false,
        },
        automerge::legacy::ObjectId::Id(id) => guarded.contains(&(id.0, id.1.clone())),
    })
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
