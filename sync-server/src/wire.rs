//! The edge of the automerge-repo protocol: every frame a client sends is checked here
//! before samod sees it, and every sync frame the server sends is read here to learn
//! which changes it reflects. This is the part of the protocol we parse ourselves
//! (DESIGN.md section 1's seam); everything else stays samod's.
//!
//! A frame is one CBOR map with a text `type` and, for document messages, a text
//! `documentId` and a byte string `data` (an Automerge sync message for `sync` and
//! `request`).

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
}

/// The message types of version 1 of the protocol.
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

#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub kind: &'a str,
    pub document_id: Option<&'a str>,
    pub data: Option<&'a [u8]>,
}

/// Checks that `bytes` is one well-formed protocol message and returns its envelope.
pub fn inspect(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
    let mut d = Decoder::new(bytes);
    if d.datatype().map_err(|_| WireError::Malformed)? != Type::Map
        && d.datatype().map_err(|_| WireError::Malformed)? != Type::MapIndef
    {
        return Err(WireError::NotAMap);
    }
    let len = d.map().map_err(|_| WireError::Malformed)?;
    let mut kind = None;
    let mut document_id = None;
    let mut data = None;
    let mut seen = 0u64;
    loop {
        match len {
            Some(n) if seen == n => break,
            None if d.datatype().map_err(|_| WireError::Malformed)? == Type::Break => {
                d.skip().map_err(|_| WireError::Malformed)?;
                break;
            }
            _ => {}
        }
        seen += 1;
        let key = match d.datatype().map_err(|_| WireError::Malformed)? {
            Type::String => Some(d.str().map_err(|_| WireError::Malformed)?),
            _ => {
                d.skip().map_err(|_| WireError::Malformed)?;
                None
            }
        };
        let repeated = match key {
            Some("type") => kind.is_some(),
            Some("documentId") => document_id.is_some(),
            Some("data") => data.is_some(),
            _ => false,
        };
        if repeated {
            return Err(WireError::RepeatedKey);
        }
        match (key, d.datatype().map_err(|_| WireError::Malformed)?) {
            (Some("type"), Type::String) => kind = Some(d.str().map_err(|_| WireError::Malformed)?),
            (Some("documentId"), Type::String) => {
                document_id = Some(d.str().map_err(|_| WireError::Malformed)?)
            }
            // samod would take a byte-string id too; we let only one spelling through,
            // so that what we check is what samod uses.
            (Some("documentId"), _) => return Err(WireError::DocumentIdNotText),
            (Some("data"), Type::Bytes) => {
                data = Some(d.bytes().map_err(|_| WireError::Malformed)?)
            }
            _ => d.skip().map_err(|_| WireError::Malformed)?,
        }
    }
    if d.position() != bytes.len() {
        return Err(WireError::Trailing);
    }
    let kind = kind.ok_or(WireError::NoType)?;
    if !TYPES.contains(&kind) {
        return Err(WireError::UnknownType);
    }
    Ok(Frame {
        kind,
        document_id,
        data,
    })
}

/// `id` parsed as samod parses it, if that is also how it is spelled. samod accepts a
/// UUID spelling too; the registry, the share policy and the guard know only this one.
pub fn canonical(id: &str) -> Option<samod::DocumentId> {
    id.parse::<samod::DocumentId>()
        .ok()
        .filter(|parsed| parsed.to_string() == id)
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
