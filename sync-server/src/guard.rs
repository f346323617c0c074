//! Server-only fields, guarded at the edge. The rules (`model`'s `Schema::vet`) count a
//! client record's deletion events and account state only where a server actor wrote
//! them; here the server makes sure that only it writes under a server actor, and that
//! nobody else changes, removes or hides what it wrote:
//!
//! - a change under a server actor ([`model::is_server_actor`]) that this server does
//!   not already have is refused, from anyone;
//! - in a client record the server holds, a change that touches the `account` or
//!   `deletion_events` map, or anything inside them, is refused. The change that
//!   creates a record writes both maps empty; the rules ignore whatever else it puts
//!   there, so it is let through.
//!
//! A refused message ends the connection with an `error`: a well-behaved client never
//! writes these fields, so this is a bug or an attack, never a person's edit.

use std::collections::HashSet;

use automerge::sync::Message;
use automerge::{ActorId, Automerge, Change, ObjId, ReadDoc};
use model::DocKind;

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

/// The changes a sync message carries: change chunks, or a whole document.
fn changes_of(message: &Message) -> Result<Vec<Change>, Refusal> {
    let mut changes = Vec::new();
    for chunk in message.changes.iter() {
        match Change::from_bytes(chunk.to_vec()) {
            Ok(change) => changes.push(change),
            Err(_) => {
                let doc = Automerge::load(chunk).map_err(|_| Refusal::Undecodable)?;
                changes.extend(doc.get_changes(&[]));
            }
        }
    }
    Ok(changes)
}

/// Checks an incoming `sync` or `request` message's data for a document of `kind`;
/// `server` is the server's copy, when it has one.
pub fn check(data: &[u8], kind: DocKind, server: Option<&Automerge>) -> Result<(), Refusal> {
    let message = Message::decode(data).map_err(|_| Refusal::Undecodable)?;
    if message.changes.is_empty() {
        return Ok(());
    }
    let changes = changes_of(&message)?;
    let known = |change: &Change| {
        server.is_some_and(|doc| doc.get_change_by_hash(&change.hash()).is_some())
    };
    if changes
        .iter()
        .any(|change| model::is_server_actor(change.actor_id()) && !known(change))
    {
        return Err(Refusal::ServerActor);
    }
    let (DocKind::ClientRecord, Some(doc)) = (kind, server) else {
        return Ok(());
    };
    let guarded = guarded_objects(doc);
    let present: Vec<&str> = SERVER_ONLY
        .into_iter()
        .filter(|key| matches!(doc.get(automerge::ROOT, *key), Ok(Some(_))))
        .collect();
    for change in changes.iter().filter(|change| !known(change)) {
        for op in change.decode().operations {
            let touches = match &op.obj {
                automerge::legacy::ObjectId::Root => match &op.key {
                    automerge::legacy::Key::Map(key) => present.contains(&key.as_str()),
                    automerge::legacy::Key::Seq(_) => false,
                },
                automerge::legacy::ObjectId::Id(id) => guarded.contains(&(id.0, id.1.clone())),
            };
            if touches {
                return Err(Refusal::ServerOnlyField);
            }
        }
    }
    Ok(())
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
