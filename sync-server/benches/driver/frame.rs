//! The automerge-repo protocol's frames (version 1), as a client writes and reads them:
//! one CBOR map per websocket message. Only what a syncing client needs: `join` out,
//! `peer` in, `request` and `sync` both ways, `doc-unavailable` and `error` in.

use minicbor::Encoder;
use minicbor::data::Type;

/// What the server sent, as far as a syncing client cares.
#[derive(Debug)]
pub enum Incoming {
    /// The answer to `join`: the server's peer id.
    Peer {
        sender: String,
    },
    /// A sync message (`sync`, or `request` when the server asks for a document).
    Sync {
        document: String,
        data: Vec<u8>,
    },
    Unavailable {
        document: String,
    },
    Error {
        message: String,
    },
    /// Ephemeral messages, remote heads, and whatever a later version adds.
    Other,
}

/// `join`: who we are, which protocol version we speak. Ephemeral, like a client that
/// keeps no sync state of its own on the server's side.
pub fn join(me: &str) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = Encoder::new(&mut buffer);
    // Writing into a Vec cannot fail: minicbor's Vec writer is infallible.
    let _ = e
        .map(4)
        .and_then(|e| e.str("type")?.str("join"))
        .and_then(|e| e.str("senderId")?.str(me))
        .and_then(|e| e.str("supportedProtocolVersions")?.array(1)?.str("1"))
        .and_then(|e| {
            e.str("peerMetadata")?
                .map(1)?
                .str("isEphemeral")?
                .bool(true)
        });
    buffer
}

/// A `request` (we have nothing of the document yet) or a `sync` message.
pub fn document(kind: &str, me: &str, target: &str, document: &str, data: &[u8]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(data.len() + 128);
    let mut e = Encoder::new(&mut buffer);
    let _ = e
        .map(5)
        .and_then(|e| e.str("type")?.str(kind))
        .and_then(|e| e.str("senderId")?.str(me))
        .and_then(|e| e.str("targetId")?.str(target))
        .and_then(|e| e.str("documentId")?.str(document))
        .and_then(|e| e.str("data")?.bytes(data));
    buffer
}

pub fn decode(bytes: &[u8]) -> Result<Incoming, minicbor::decode::Error> {
    let mut d = minicbor::Decoder::new(bytes);
    let entries = d.map()?;
    let (mut kind, mut sender, mut document, mut data, mut message) =
        (String::new(), None, None, None, None);
    let mut seen = 0;
    loop {
        match entries {
            Some(n) if seen == n => break,
            None if d.datatype()? == Type::Break => break,
            _ => seen += 1,
        }
        match d.str()? {
            "type" => kind = d.str()?.to_owned(),
            "senderId" => sender = Some(d.str()?.to_owned()),
            "documentId" => document = Some(d.str()?.to_owned()),
            "data" => data = Some(d.bytes()?.to_vec()),
            "message" => message = Some(d.str()?.to_owned()),
            _ => d.skip()?,
        }
    }
    let missing = |field| minicbor::decode::Error::message(format!("{kind} without {field}"));
    Ok(match kind.as_str() {
        "peer" => Incoming::Peer {
            sender: sender.ok_or_else(|| missing("senderId"))?,
        },
        "sync" | "request" => Incoming::Sync {
            document: document.ok_or_else(|| missing("documentId"))?,
            data: data.ok_or_else(|| missing("data"))?,
        },
        "doc-unavailable" => Incoming::Unavailable {
            document: document.ok_or_else(|| missing("documentId"))?,
        },
        "error" => Incoming::Error {
            message: message.unwrap_or_default(),
        },
        _ => Incoming::Other,
    })
}
