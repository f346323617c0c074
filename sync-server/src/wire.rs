//! The edge of the automerge-repo protocol: every frame a client sends is checked here
//! before samod sees it, and every sync frame the server sends is read here to learn
//! which changes it reflects. This is the part of the protocol we parse ourselves;
//! everything else stays samod's.
//!
//! A frame is one CBOR map of known length with a text `type` and, for document
//! messages, a text `documentId` and a byte string `data` (an Automerge sync message for
//! `sync` and `request`, read by [`crate::sync_message`]). Every field is bounded here:
//! text and bytes by length, the few nested fields (protocol versions, peer metadata,
//! remote heads) by depth and item count, and fields samod does not know may only be
//! scalars, so that samod's own decoding never allocates more than a small multiple of
//! the frame.

use automerge::ChangeHash;
use minicbor::Decoder;
use minicbor::data::Type;

#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("not a CBOR map")]
    NotAMap,
    #[error("malformed CBOR")]
    Malformed,
    #[error("a message without a type")]
    NoType,
    #[error("unknown message type")]
    UnknownType,
    #[error("bytes after the message")]
    Trailing,
    #[error("a key given twice")]
    RepeatedKey,
    #[error("a documentId that is not text")]
    DocumentIdNotText,
    #[error("a documentId not in its canonical bs58check form")]
    NonCanonicalId,
    #[error("too many fields")]
    TooManyFields,
    #[error("a field of the wrong type or size")]
    BadField,
}

/// The message types of version 1 of the protocol.
/// The peer id the server introduces itself with; account peer ids contain a `:`.
pub const SERVER_PEER_ID: &str = "sync-server";

const TYPES: &[&str] = &[
    "join",
    "peer",
    "leave",
    "request",
    "sync",
    "doc-unavailable",
    "ephemeral",
    "remote-heads-changed",
    "remote-subscription-change",
    "error",
];

/// A protocol message has a handful of fields.
const MAX_FIELDS: u64 = 16;
/// Peer ids, session ids, storage ids, protocol versions: short text.
const MAX_TEXT: usize = 1_024;
/// An error message's text.
const MAX_MESSAGE_TEXT: usize = 16 * 1024;
/// Arrays and maps inside a message (protocol versions, peer metadata, remote heads):
/// how deep, and how many items in all.
const MAX_DEPTH: usize = 4;
const MAX_ITEMS: u64 = 1_024;

#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub kind: &'a str,
    pub sender: Option<&'a str>,
    pub target: Option<&'a str>,
    pub document_id: Option<&'a str>,
    pub data: Option<&'a [u8]>,
}

/// Checks that `bytes` is one well-formed protocol message whose every field has its
/// type and a bounded size, and returns its envelope. samod decodes the fields it knows
/// into strings and vectors; here each is bounded before it does, and fields it does not
/// know may only be scalars.
pub fn inspect(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
    let malformed = |_| WireError::Malformed;
    let mut d = Decoder::new(bytes);
    match d.datatype().map_err(malformed)? {
        Type::Map => {}
        // samod reads only maps of a known length.
        Type::MapIndef => return Err(WireError::Malformed),
        _ => return Err(WireError::NotAMap),
    }
    let len = d.map().map_err(malformed)?.ok_or(WireError::Malformed)?;
    if len > MAX_FIELDS {
        return Err(WireError::TooManyFields);
    }
    let mut frame = Frame {
        kind: "",
        sender: None,
        target: None,
        document_id: None,
        data: None,
    };
    let mut kind = None;
    let mut seen: Vec<&str> = Vec::new();
    for _ in 0..len {
        let key = match d.datatype().map_err(malformed)? {
            Type::String => d.str().map_err(malformed)?,
            _ => return Err(WireError::BadField),
        };
        if seen.contains(&key) {
            return Err(WireError::RepeatedKey);
        }
        seen.push(key);
        let datatype = d.datatype().map_err(malformed)?;
        match (key, datatype) {
            ("type", Type::String) => kind = Some(text(&mut d, MAX_TEXT)?),
            ("senderId", Type::String) => frame.sender = Some(text(&mut d, MAX_TEXT)?),
            ("targetId", Type::String) => frame.target = Some(text(&mut d, MAX_TEXT)?),
            ("documentId", Type::String) => frame.document_id = Some(text(&mut d, MAX_TEXT)?),
            // samod would take a byte-string id too; we let only one spelling through,
            // so that what we check is what samod uses.
            ("documentId", _) => return Err(WireError::DocumentIdNotText),
            ("data", Type::Bytes) => frame.data = Some(d.bytes().map_err(malformed)?),
            ("message", Type::String) => {
                text(&mut d, MAX_MESSAGE_TEXT)?;
            }
            (
                "supportedProtocolVersions"
                | "peerMetadata"
                | "metadata"
                | "newHeads"
                | "add"
                | "remove",
                Type::Array | Type::Map,
            ) => nested(&mut d)?,
            (
                "type"
                | "senderId"
                | "targetId"
                | "data"
                | "message"
                | "supportedProtocolVersions"
                | "peerMetadata"
                | "metadata"
                | "newHeads",
                _,
            ) => return Err(WireError::BadField),
            // Anything else (counts, timestamps, session ids, `undefined` fields of
            // JavaScript peers): a scalar.
            _ => scalar(&mut d)?,
        }
    }
    if d.position() != bytes.len() {
        return Err(WireError::Trailing);
    }
    let kind = kind.ok_or(WireError::NoType)?;
    if !TYPES.contains(&kind) {
        return Err(WireError::UnknownType);
    }
    frame.kind = kind;
    Ok(frame)
}

fn text<'a>(d: &mut Decoder<'a>, max: usize) -> Result<&'a str, WireError> {
    let text = d.str().map_err(|_| WireError::Malformed)?;
    if text.len() > max {
        return Err(WireError::BadField);
    }
    Ok(text)
}

/// A scalar: a number, a simple value, or short text or bytes.
fn scalar(d: &mut Decoder<'_>) -> Result<(), WireError> {
    let malformed = |_| WireError::Malformed;
    match d.datatype().map_err(malformed)? {
        Type::String => {
            text(d, MAX_TEXT)?;
        }
        Type::Bytes => {
            if d.bytes().map_err(malformed)?.len() > MAX_TEXT {
                return Err(WireError::BadField);
            }
        }
        Type::Bool
        | Type::Null
        | Type::Undefined
        | Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::F16
        | Type::F32
        | Type::F64
        | Type::Simple => d.skip().map_err(malformed)?,
        _ => return Err(WireError::BadField),
    }
    Ok(())
}

/// An array or a map of definite length, at most [`MAX_DEPTH`] deep and of
/// [`MAX_ITEMS`] items in all, holding maps, arrays and scalars.
fn nested(d: &mut Decoder<'_>) -> Result<(), WireError> {
    let malformed = |_| WireError::Malformed;
    // How many values are still to come at each level.
    let mut pending: Vec<u64> = vec![1];
    let mut items = 0u64;
    while let Some(left) = pending.last_mut() {
        if *left == 0 {
            pending.pop();
            continue;
        }
        *left -= 1;
        items += 1;
        if items > MAX_ITEMS {
            return Err(WireError::TooManyFields);
        }
        let children = match d.datatype().map_err(malformed)? {
            Type::Array => d.array().map_err(malformed)?.ok_or(WireError::BadField)?,
            Type::Map => d
                .map()
                .map_err(malformed)?
                .ok_or(WireError::BadField)?
                .checked_mul(2)
                .ok_or(WireError::TooManyFields)?,
            _ => {
                scalar(d)?;
                continue;
            }
        };
        if children > MAX_ITEMS {
            return Err(WireError::TooManyFields);
        }
        if pending.len() > MAX_DEPTH {
            return Err(WireError::BadField);
        }
        pending.push(children);
    }
    Ok(())
}

/// `id` parsed as samod parses it, if that is also how it is spelled. samod accepts a
/// UUID spelling too; the registry, the share policy and the guard know only this one.
pub fn canonical(id: &str) -> Option<samod::DocumentId> {
    id.parse::<samod::DocumentId>()
        .ok()
        .filter(|parsed| parsed.to_string() == id)
}

/// Our id of a document, only from its canonical spelling.
pub fn document_id(id: &str) -> Option<model::DocumentId> {
    canonical(id).map(|id| from_samod(&id))
}

/// samod's id as ours: both are the same 16 bytes.
pub fn from_samod(id: &samod::DocumentId) -> model::DocumentId {
    let mut bytes = [0u8; 16];
    // samod's ids are UUIDs: always 16 bytes.
    if let Some(source) = id.as_bytes().get(..16) {
        bytes.copy_from_slice(source);
    }
    model::DocumentId::from_bytes(bytes)
}

/// Our id as samod's.
pub fn to_samod(id: model::DocumentId) -> samod::DocumentId {
    match samod::DocumentId::try_from(id.as_bytes().to_vec()) {
        Ok(id) => id,
        // Sixteen bytes are always a UUID.
        Err(_) => unreachable!("16 bytes make a document id"),
    }
}

/// The heads an outgoing `sync` or `request` frame tells the peer we have: the changes
/// the frame reflects. `None` for frames that reflect no document state.
pub fn reflected_heads(frame: &Frame<'_>) -> Option<Vec<ChangeHash>> {
    if !matches!(frame.kind, "sync" | "request") {
        return None;
    }
    let message = automerge::sync::Message::decode(frame.data?).ok()?;
    Some(message.heads)
}

/// The answer about a document this peer may not read, or that does not exist: the
/// same answer samod gives, from the edge (so that nothing is spawned for it).
pub fn unavailable_frame(peer: &str, document: &str) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = minicbor::Encoder::new(&mut buffer);
    // Writing into a Vec cannot fail.
    let _ = e
        .map(4)
        .and_then(|e| e.str("type")?.str("doc-unavailable"))
        .and_then(|e| e.str("senderId")?.str(SERVER_PEER_ID))
        .and_then(|e| e.str("targetId")?.str(peer))
        .and_then(|e| e.str("documentId")?.str(document));
    buffer
}

/// The protocol's `error` message, sent before the server closes a connection.
pub fn error_frame(message: &str) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = minicbor::Encoder::new(&mut buffer);
    // Writing into a Vec cannot fail.
    let _ = e
        .map(2)
        .and_then(|e| e.str("type"))
        .and_then(|e| e.str("error"))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str(message));
    buffer
}

#[cfg(test)]
mod tests;
