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
        match (key, d.datatype().map_err(|_| WireError::Malformed)?) {
            (Some("type"), Type::String) => kind = Some(d.str().map_err(|_| WireError::Malformed)?),
            (Some("documentId"), Type::String) => {
                document_id = Some(d.str().map_err(|_| WireError::Malformed)?)
            }
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
