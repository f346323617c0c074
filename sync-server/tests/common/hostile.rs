//! What a hostile peer sends, written by hand: automerge sync messages with absurd
//! Bloom filters and lists, protocol frames with forged fields, a change that forges a
//! record's server-only maps, HTTP requests from a chosen source address on loopback,
//! and a raw websocket that syncs one document by hand. Shared by the hostile-input
//! tests (`tests/hostile.rs`) and the attack benchmark (`benches/attack.rs`), which
//! include this file.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use automerge::sync::{self, SyncDoc as _};
use automerge::transaction::Transactable as _;
use automerge::{ActorId, Automerge, ChangeHash, ObjType};
use futures::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

pub const SERVER_PEER: &str = "sync-server";

/// An unsigned LEB128 number, as automerge's binary formats write them.
pub fn leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A Bloom filter as automerge encodes it, with whatever parameters the caller likes:
/// `bits` bytes follow the three numbers, however many the numbers call for.
pub fn bloom(entries: u64, bits_per_entry: u64, probes: u64, bits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    leb(&mut out, entries);
    leb(&mut out, bits_per_entry);
    leb(&mut out, probes);
    out.extend(std::iter::repeat_n(0xffu8, bits));
    out
}

/// One `have` of a sync message: the heads it was last in sync at, and a Bloom filter.
#[derive(Debug, Clone)]
pub struct Have {
    pub last_sync: Vec<[u8; 32]>,
    pub bloom: Vec<u8>,
}

fn hashes(out: &mut Vec<u8>, list: &[[u8; 32]]) {
    leb(out, list.len() as u64);
    for hash in list {
        out.extend_from_slice(hash);
    }
}

/// A version 1 automerge sync message, field by field.
pub fn sync_message(
    heads: &[[u8; 32]],
    need: &[[u8; 32]],
    have: &[Have],
    changes: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = vec![0x42];
    hashes(&mut out, heads);
    hashes(&mut out, need);
    leb(&mut out, have.len() as u64);
    for h in have {
        hashes(&mut out, &h.last_sync);
        leb(&mut out, h.bloom.len() as u64);
        out.extend_from_slice(&h.bloom);
    }
    leb(&mut out, changes.len() as u64);
    for change in changes {
        leb(&mut out, change.len() as u64);
        out.extend_from_slice(change);
    }
    out
}

/// `count` distinct made-up change hashes.
pub fn made_up_hashes(count: usize) -> Vec<[u8; 32]> {
    (0..count as u64)
        .map(|i| {
            let mut hash = [0x5a; 32];
            hash[..8].copy_from_slice(&i.to_le_bytes());
            hash
        })
        .collect()
}

/// A sync message asking for everything, whose one `have` carries `bloom`.
pub fn with_bloom(bloom: Vec<u8>) -> Vec<u8> {
    sync_message(
        &[],
        &[],
        &[Have {
            last_sync: Vec::new(),
            bloom,
        }],
        &[],
    )
}

/// A CBOR map of text keys, as protocol frames are.
pub enum Cbor<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Texts(&'a [&'a str]),
    Uint(u64),
}

pub fn cbor_map(entries: &[(&str, Cbor<'_>)]) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = minicbor::Encoder::new(&mut buffer);
    e.map(entries.len() as u64).unwrap();
    for (key, value) in entries {
        e.str(key).unwrap();
        match value {
            Cbor::Text(s) => e.str(s).unwrap(),
            Cbor::Bytes(b) => e.bytes(b).unwrap(),
            Cbor::Uint(n) => e.u64(*n).unwrap(),
            Cbor::Texts(items) => {
                e.array(items.len() as u64).unwrap();
                for item in *items {
                    e.str(item).unwrap();
                }
                &mut e
            }
        };
    }
    buffer
}

pub fn join(me: &str) -> Vec<u8> {
    cbor_map(&[
        ("type", Cbor::Text("join")),
        ("senderId", Cbor::Text(me)),
        ("supportedProtocolVersions", Cbor::Texts(&["1"])),
    ])
}

/// A `sync` or `request` frame about `doc`.
pub fn doc_frame(kind: &str, me: &str, doc: &str, data: &[u8]) -> Vec<u8> {
    cbor_map(&[
        ("type", Cbor::Text(kind)),
        ("senderId", Cbor::Text(me)),
        ("targetId", Cbor::Text(SERVER_PEER)),
        ("documentId", Cbor::Text(doc)),
        ("data", Cbor::Bytes(data)),
    ])
}

/// The empty sync message a peer that has nothing sends first.
pub fn empty_request() -> Vec<u8> {
    Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode()
}

/// A document id (bs58check, as automerge-repo spells it) from 16 bytes.
pub fn doc_id(bytes: [u8; 16]) -> String {
    samod::DocumentId::try_from(bytes.to_vec())
        .unwrap()
        .to_string()
}

/// A change with no dependencies, from a made-up actor, that creates the maps
/// `keys` at the root of a document, each as a fresh, empty map. `filler` operations
/// come first, so that the new maps' operation ids sort above those of the record's
/// creating change and win the conflict at those keys.
pub fn forged_root_change(keys: &[&str], filler: usize) -> automerge::Change {
    let mut doc = Automerge::new();
    doc.set_actor(ActorId::from(b"forged-actor-0001".to_vec()));
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let junk = tx.put_object(automerge::ROOT, "zz_filler", ObjType::List)?;
        for i in 0..filler {
            tx.insert(&junk, i, i as i64)?;
        }
        for key in keys {
            tx.put_object(automerge::ROOT, *key, ObjType::Map)?;
        }
        Ok(())
    })
    .unwrap();
    doc.get_changes(&[]).into_iter().next().unwrap()
}

/// The hash of a document's dependency-free change: the one that created it.
pub fn creating_change(doc: &Automerge) -> ChangeHash {
    doc.get_changes(&[])
        .into_iter()
        .find(|c| c.deps().is_empty())
        .map(|c| c.hash())
        .unwrap()
}

/// Registers the client record `id` (held in `doc`) with its creating change; the
/// status and the body of the answer.
pub async fn register_record(
    server: SocketAddr,
    token: &str,
    id: &str,
    doc: &Automerge,
) -> (u16, String) {
    let body = serde_json::json!({
        "id": id,
        "kind": "client-record",
        "creation": creating_change(doc).to_string(),
    });
    http_from(
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        server,
        "POST",
        "/api/documents",
        Some(token),
        &body.to_string(),
    )
    .await
}

/// A TCP connection to `server` from `source` (any 127.x.y.z address on Linux).
pub async fn connect_from(source: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(server).await
}

/// One HTTP/1.1 request from `source`; the status and the body (status 0 when the
/// server closed the connection without answering).
pub async fn http_from(
    source: IpAddr,
    server: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let Ok(mut stream) = connect_from(source, server).await else {
        return (0, String::new());
    };
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub async fn login_from(
    source: IpAddr,
    server: SocketAddr,
    login: &str,
    password: &str,
) -> (u16, String) {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    http_from(source, server, "POST", "/api/login", None, &body).await
}

/// A session as the login answers it.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: String,
    pub peer_id: String,
    pub directory_id: String,
}

impl Login {
    pub fn parse(body: &str) -> Self {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        Self {
            token: body["token"].as_str().unwrap().to_owned(),
            peer_id: body["peer_id"].as_str().unwrap().to_owned(),
            directory_id: body["directory_id"].as_str().unwrap().to_owned(),
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// What came in on a raw connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Doc {
        kind: String,
        doc: String,
        data: Option<Vec<u8>>,
    },
    Error(String),
    Other(String),
    Closed,
}

/// A websocket that speaks the protocol by hand.
pub struct Raw {
    pub ws: Ws,
    pub me: String,
}

impl Raw {
    /// Upgrades with `token` as a bearer header, and sends `join` as `me` unless
    /// `me` is empty.
    pub async fn connect(server: SocketAddr, token: &str, me: &str) -> Result<Self, String> {
        let mut request = format!("ws://{server}/sync").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Self {
            ws,
            me: me.to_owned(),
        };
        if !me.is_empty() {
            raw.send(join(me)).await;
        }
        Ok(raw)
    }

    /// Like [`Raw::connect`], over a socket whose receive buffer is tiny: a client that
    /// reads nothing then really holds the server's writes up.
    pub async fn connect_reading_nothing(
        server: SocketAddr,
        token: &str,
        me: &str,
    ) -> Result<Self, String> {
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .set_recv_buffer_size(4096)
            .map_err(|e| e.to_string())?;
        let stream = socket.connect(server).await.map_err(|e| e.to_string())?;
        let mut request = format!("ws://{server}/sync").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Self {
            ws: tokio_tungstenite::WebSocketStream::from_raw_socket(
                tokio_tungstenite::MaybeTlsStream::Plain(ws.into_inner()),
                tokio_tungstenite::tungstenite::protocol::Role::Client,
                None,
            )
            .await,
            me: me.to_owned(),
        };
        raw.send(join(me)).await;
        Ok(raw)
    }

    pub async fn send(&mut self, bytes: Vec<u8>) -> bool {
        self.ws.send(Message::Binary(bytes.into())).await.is_ok()
    }

    /// The next frame but `peer`, or [`Frame::Closed`]; `None` after `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let message = match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return None,
                Ok(message) => message,
            };
            match message {
                Some(Ok(Message::Binary(bytes))) => {
                    let frame = parse_frame(&bytes);
                    if frame != Frame::Other("peer".into()) {
                        return Some(frame);
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Some(Frame::Closed),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The `error` message the server ends this connection with, if it does so
    /// within `wait`; frames before it are skipped.
    pub async fn error_within(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await? {
                Frame::Error(message) => return Some(message),
                Frame::Closed => return None,
                _ => {}
            }
        }
    }

    /// Whether the server closes this connection within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                None => return false,
                Some(Frame::Closed) => return true,
                Some(_) => {}
            }
        }
    }

    /// Syncs `doc` with the server by hand until both have the same heads, or `wait`
    /// passes; true when they do.
    pub async fn sync_doc(
        &mut self,
        id: &str,
        doc: &mut Automerge,
        state: &mut sync::State,
        wait: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        let mut first = true;
        loop {
            while let Some(message) = doc.generate_sync_message(state) {
                let kind = if first && doc.get_heads().is_empty() {
                    "request"
                } else {
                    "sync"
                };
                first = false;
                if !self
                    .send(doc_frame(kind, &self.me.clone(), id, &message.encode()))
                    .await
                {
                    return false;
                }
            }
            let mut theirs = state.their_heads.clone().unwrap_or_default();
            theirs.sort();
            let mut ours = doc.get_heads();
            ours.sort();
            if state.their_heads.is_some() && theirs == ours && !ours.is_empty() {
                return true;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                None | Some(Frame::Closed) | Some(Frame::Error(_)) => return false,
                Some(Frame::Doc {
                    doc: about,
                    data: Some(data),
                    ..
                }) if about == id => {
                    let Ok(message) = sync::Message::decode(&data) else {
                        return false;
                    };
                    if doc.receive_sync_message(state, message).is_err() {
                        return false;
                    }
                }
                Some(Frame::Doc {
                    kind, doc: about, ..
                }) if about == id && kind == "doc-unavailable" => {
                    return false;
                }
                Some(_) => {}
            }
        }
    }
}

pub fn parse_frame(bytes: &[u8]) -> Frame {
    let mut d = minicbor::Decoder::new(bytes);
    let Ok(Some(n)) = d.map() else {
        return Frame::Other(String::new());
    };
    let (mut kind, mut doc, mut data, mut message) = (String::new(), None, None, None);
    for _ in 0..n {
        let Ok(key) = d.str() else {
            return Frame::Other(String::new());
        };
        match key {
            "type" => kind = d.str().unwrap_or_default().to_owned(),
            "documentId" => doc = d.str().ok().map(str::to_owned),
            "data" => data = d.bytes().ok().map(<[u8]>::to_vec),
            "message" => message = d.str().ok().map(str::to_owned),
            _ => {
                let _ = d.skip();
            }
        }
    }
    match (kind.as_str(), doc) {
        ("error", _) => Frame::Error(message.unwrap_or_default()),
        (_, Some(doc)) => Frame::Doc { kind, doc, data },
        _ => Frame::Other(kind),
    }
}
