//! The automerge-repo websocket over real sockets on 127.0.0.1, with a real SQLite file:
//! samod clients dialing through tokio-tungstenite, and raw websockets for what a
//! well-behaved client never sends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};
use futures::{SinkExt, StreamExt};
use samod::{DialError, Dialer, DocumentId, PeerId, Repo, Transport};
use sync_server::Config;
use sync_server::accounts::{AccountState, Role};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

mod common;

use common::{PASSWORD, Server, config};

const WAIT: Duration = Duration::from_secs(20);

/// What the sync tests ask of the shared test server beyond HTTP.
trait SyncServer {
    async fn session(&self, login: &str) -> Session;
    async fn register(
        &self,
        session: &Session,
        id: &DocumentId,
        kind: &str,
        person: Option<&DocumentId>,
    ) -> u16;
    async fn register_record(&self, session: &Session, record: &samod::DocHandle) -> u16;
    fn url(&self) -> String;
    async fn has(&self, doc: &DocumentId);
    fn stored_keys_of(&self, doc: &DocumentId) -> i64;
}

impl SyncServer for Server {
    async fn session(&self, login: &str) -> Session {
        let (status, body) = self.login(login, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        Session {
            token: body["token"].as_str().unwrap().to_owned(),
            peer_id: body["peer_id"].as_str().unwrap().to_owned(),
            directory_id: body["directory_id"].as_str().unwrap().parse().unwrap(),
        }
    }

    async fn register(
        &self,
        session: &Session,
        id: &DocumentId,
        kind: &str,
        person: Option<&DocumentId>,
    ) -> u16 {
        let body = serde_json::json!({
            "id": id.to_string(),
            "kind": kind,
            "person": person.map(|p| p.to_string()),
        });
        self.request(
            "POST",
            "/api/documents",
            Some(&session.token),
            &body.to_string(),
        )
        .await
        .0
    }

    /// Registers a client record with the hash of its creating change.
    async fn register_record(&self, session: &Session, record: &samod::DocHandle) -> u16 {
        let creation = record.with_document(|doc| {
            doc.get_changes(&[])
                .into_iter()
                .find(|c| c.deps().is_empty())
                .map(|c| c.hash().to_string())
        });
        let body = serde_json::json!({
            "id": record.document_id().to_string(),
            "kind": "client-record",
            "creation": creation,
        });
        self.request(
            "POST",
            "/api/documents",
            Some(&session.token),
            &body.to_string(),
        )
        .await
        .0
    }

    fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// Waits until the server has stored something of `doc`.
    async fn has(&self, doc: &DocumentId) {
        until(|| match self.stored_keys_of(doc) {
            0 => Err(format!("the server never got {doc}")),
            _ => Ok(()),
        })
        .await;
    }

    fn stored_keys_of(&self, doc: &DocumentId) -> i64 {
        let conn = rusqlite::Connection::open(self.state.config.database_path()).unwrap();
        conn.query_row(
            "SELECT count(*) FROM repo_storage WHERE key LIKE ?1",
            [format!("{doc}/%")],
            |r| r.get(0),
        )
        .unwrap()
    }
}

#[derive(Clone)]
struct Session {
    token: String,
    peer_id: String,
    directory_id: DocumentId,
}

/// Dials the server's websocket with a bearer token, as the desktop client will.
struct WsDialer {
    url: String,
    token: String,
}

impl Dialer for WsDialer {
    type Error = std::io::Error;

    fn url(&self) -> samod::Url {
        samod::Url::parse(&self.url).unwrap()
    }

    fn connect(
        &self,
    ) -> futures::future::BoxFuture<'static, Result<Transport, DialError<Self::Error>>> {
        let url = self.url.clone();
        let token = self.token.clone();
        Box::pin(async move {
            let mut request = url.into_client_request().map_err(DialError::transient)?;
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            let (ws, _) = tokio_tungstenite::connect_async(request)
                .await
                .map_err(DialError::transient)?;
            let (sink, stream) = ws.split();
            let stream = stream.filter_map(|m| async move {
                match m {
                    Ok(Message::Binary(b)) => Some(Ok(b.to_vec())),
                    Ok(Message::Close(_)) => None,
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                }
            });
            let sink = sink.with(|b: Vec<u8>| async move {
                Ok::<_, tungstenite::Error>(Message::Binary(b.into()))
            });
            Ok(Transport::new(Box::pin(stream), Box::pin(sink))
                .with_expected_peer_id(PeerId::from("sync-server")))
        })
    }
}

struct Client {
    repo: Repo,
    dialer: samod::DialerHandle<std::io::Error>,
}

impl Client {
    async fn connect(server: &Server, session: &Session) -> Self {
        let repo = Repo::build_tokio()
            .with_peer_id(PeerId::from(session.peer_id.as_str()))
            .load()
            .await;
        let dialer = repo
            .dial(
                // samod 0.16 may try the first dial before it has stored the dialer
                // ("no dialer registered"); a retry or two gets past that race.
                samod::BackoffConfig {
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(100),
                    max_retries: Some(5),
                },
                Arc::new(WsDialer {
                    url: server.url(),
                    token: session.token.clone(),
                }),
            )
            .unwrap();
        tokio::time::timeout(WAIT, dialer.established())
            .await
            .expect("handshake in time")
            .expect("connected");
        Self { repo, dialer }
    }

    async fn create(&self, key: &str, value: &str) -> samod::DocHandle {
        let mut doc = Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, key, value)?;
            Ok(())
        })
        .unwrap();
        self.repo.create(doc).await.unwrap()
    }

    async fn find(&self, id: &DocumentId) -> Option<samod::DocHandle> {
        tokio::time::timeout(WAIT, self.repo.find(id.clone()))
            .await
            .expect("an answer in time")
            .unwrap()
    }

    async fn stop(self) {
        self.dialer.close();
        self.repo.stop().await;
    }
}

fn read(handle: &samod::DocHandle, key: &str) -> Option<String> {
    handle.with_document(|doc| {
        doc.get(automerge::ROOT, key)
            .unwrap()
            .and_then(|(value, _)| value.into_string().ok())
    })
}

fn write(handle: &samod::DocHandle, key: &str, value: &str) {
    handle.with_document(|doc| {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, key, value)?;
            Ok(())
        })
        .unwrap();
    });
}

/// Polls `check` until it holds; after the timeout, fails with what its last `Err` said.
async fn until(mut check: impl FnMut() -> Result<(), String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check() {
            Ok(()) => return,
            Err(why) => assert!(tokio::time::Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A samod copy, read through the model.
fn read_as<T: model::Schema>(handle: &samod::DocHandle) -> T {
    let bytes = handle.with_document(|doc| doc.save());
    model::Document::<T>::load(&bytes).unwrap().read().unwrap()
}

/// Polls until `key` reads `value`, or fails after the timeout.
async fn eventually(handle: &samod::DocHandle, key: &str, value: &str) {
    until(|| match read(handle, key) {
        Some(read) if read == value => Ok(()),
        other => Err(format!("{key} never became {value}: {other:?}")),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_converge_through_the_server_and_a_restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;

    let a = Client::connect(&server, &anna).await;
    let record = a.create("pseudonym", "Kiesel").await;
    let id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    assert_eq!(
        server.register_record(&anna, &record).await,
        200,
        "a retry is harmless"
    );

    server.has(&id).await;
    let b = Client::connect(&server, &ben).await;
    let seen = b.find(&id).await.expect("ben may read every record");
    eventually(&seen, "pseudonym", "Kiesel").await;
    write(&seen, "language", "Deutsch");
    eventually(&record, "language", "Deutsch").await;
    write(&record, "pseudonym", "Kiesel2");
    eventually(&seen, "pseudonym", "Kiesel2").await;
    a.stop().await;
    b.stop().await;
    server.stop().await;

    let server = Server::start(&config(&dir)).await;
    let ben = server.session("ben").await;
    let b = Client::connect(&server, &ben).await;
    let again = b.find(&id).await.expect("kept across the restart");
    assert_eq!(read(&again, "pseudonym").as_deref(), Some("Kiesel2"));
    assert_eq!(read(&again, "language").as_deref(), Some("Deutsch"));
    b.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_unregistered_documents_stay_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    server.account("t2", "fremd", Role::Admin);
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;
    let fremd = server.session("fremd").await;

    let a = Client::connect(&server, &anna).await;
    let bookmarks = a.create("list", "anna's").await;
    let bookmarks_id = bookmarks.document_id().clone();
    assert_eq!(
        server
            .register(&anna, bookmarks.document_id(), "bookmarks", None)
            .await,
        201
    );
    let record = a.create("pseudonym", "Kiesel").await;
    let record_id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    server.has(&bookmarks_id).await;
    server.has(&record_id).await;
    let secret = a.create("pseudonym", "nie registriert").await;
    let secret_id = secret.document_id().clone();

    // Anna's own reads work, so the server has her documents.
    let a2 = Client::connect(&server, &anna).await;
    a2.find(&bookmarks_id)
        .await
        .expect("the owner reads her bookmarks");
    a2.stop().await;

    let b = Client::connect(&server, &ben).await;
    assert!(b.find(&bookmarks_id).await.is_none(), "another's bookmarks");
    assert!(
        b.find(&secret_id).await.is_none(),
        "an unregistered document"
    );
    b.find(&record_id).await.expect("a record of the tenant");
    let f = Client::connect(&server, &fremd).await;
    assert!(
        f.find(&record_id).await.is_none(),
        "another tenant's record"
    );
    assert_eq!(
        server.stored_keys_of(&secret_id),
        0,
        "an unregistered document is never stored"
    );

    // On the wire, a forbidden document and one that never existed look the same.
    let mut raw = RawClient::connect(&server, &ben).await;
    let forbidden = raw.request(&bookmarks_id).await;
    let random = unused_id(7);
    let missing = raw.request(&random).await;
    assert_eq!(forbidden, "doc-unavailable");
    assert_eq!(missing, "doc-unavailable");

    a.stop().await;
    b.stop().await;
    f.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_users_change_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    server.account("t1", "ben", Role::Counsellor);
    let chefin = server.session("chefin").await;
    let ben = server.session("ben").await;

    let admin = Client::connect(&server, &chefin).await;
    let catalogue = admin.create("deletion", "365").await;
    let id = catalogue.document_id().clone();
    assert_eq!(
        server
            .register(&chefin, catalogue.document_id(), "catalogue", None)
            .await,
        201
    );
    server.has(&id).await;
    assert_eq!(
        server.register_record(&ben, &catalogue).await,
        409,
        "the id is taken"
    );
    let other = unused_id(8);
    assert_eq!(
        server.register(&ben, &other, "catalogue", None).await,
        403,
        "only admins create catalogues"
    );

    let b = Client::connect(&server, &ben).await;
    let seen = b.find(&id).await.expect("staff read the catalogue");
    eventually(&seen, "deletion", "365").await;
    write(&seen, "deletion", "1");
    // The admin's later edit still reaches the reader...
    write(&catalogue, "sites", "Nord");
    eventually(&seen, "sites", "Nord").await;
    // ...but the reader's edit never reached the server: a fresh admin does not see it.
    admin.stop().await;
    let fresh = Client::connect(&server, &chefin).await;
    let check = fresh.find(&id).await.expect("admin reads");
    eventually(&check, "sites", "Nord").await;
    assert_eq!(read(&check, "deletion").as_deref(), Some("365"));
    fresh.stop().await;
    b.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_needs_a_valid_token_and_an_ended_session_ends_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    let ben_id = server.account("t1", "ben", Role::Counsellor);
    let ben = server.session("ben").await;

    let status = |r: Result<_, tungstenite::Error>| match r {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => 101,
    };
    let no_token = tokio_tungstenite::connect_async(server.url()).await;
    assert_eq!(status(no_token), 401);
    let forged = tokio_tungstenite::connect_async(format!("{}?token=forged", server.url())).await;
    assert_eq!(status(forged), 401);
    let by_query =
        tokio_tungstenite::connect_async(format!("{}?token={}", server.url(), ben.token)).await;
    assert_eq!(
        status(by_query),
        101,
        "the token may come as a query parameter"
    );

    // A peer id that is not the session's own is refused at the handshake.
    let mut impostor = RawClient::connect_as(&server, &ben, "someone:0123456789abcdef").await;
    assert!(
        impostor.closed().await,
        "an impostor's connection is closed"
    );

    let mut raw = RawClient::connect(&server, &ben).await;
    server
        .state
        .accounts
        .set_state(None, &ben_id, AccountState::Locked)
        .unwrap();
    server.state.session_ended();
    assert_eq!(raw.error().await.as_deref(), Some("session ended"));
    assert!(raw.closed().await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_floods_and_oversized_messages_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&Config {
        max_message_bytes: 64 * 1024,
        message_burst: 50,
        messages_per_second: 1,
        ..config(&dir)
    })
    .await;
    server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;
    let a = Client::connect(&server, &anna).await;
    let record = a.create("pseudonym", "Kiesel").await;
    let id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    server.has(&id).await;
    let b = Client::connect(&server, &ben).await;
    let seen = b.find(&id).await.unwrap();

    let mut garbage = RawClient::connect(&server, &ben).await;
    garbage.send(vec![0xff, 0x00, 0x42]).await;
    assert_eq!(
        garbage.error().await.as_deref(),
        Some("malformed message: not a CBOR map")
    );
    assert!(garbage.closed().await);

    let mut text = RawClient::connect(&server, &ben).await;
    text.ws.send(Message::Text("hallo".into())).await.unwrap();
    assert_eq!(
        text.error().await.as_deref(),
        Some("text frames are not part of the protocol")
    );

    let mut big = RawClient::connect(&server, &ben).await;
    let _ = big
        .ws
        .send(Message::Binary(vec![0u8; 128 * 1024].into()))
        .await;
    assert!(
        big.closed().await,
        "an oversized message closes the connection"
    );

    let mut flood = RawClient::connect(&server, &ben).await;
    let request = flood.request_frame(&unused_id(9));
    for _ in 0..200 {
        if flood
            .ws
            .send(Message::Binary(request.clone().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(flood.error().await.as_deref(), Some("too many messages"));

    // The well-behaved clients carry on.
    write(&record, "language", "Deutsch");
    eventually(&seen, "language", "Deutsch").await;
    let (_, metrics) = server
        .request("GET", "/metrics", Some(common::METRICS_TOKEN), "")
        .await;
    assert!(
        metrics.contains("sync_server_connections_ended_total{reason=\"flood\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sync_server_connections_ended_total{reason=\"malformed\"} 2"),
        "{metrics}"
    );
    a.stop().await;
    b.stop().await;
    server.stop().await;
}

// --- raw protocol ---------------------------------------------------------------------

enum Value<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Texts(&'a [&'a str]),
}
use Value::{Bytes, Text, Texts};

fn cbor_map(entries: &[(&str, Value<'_>)]) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = minicbor::Encoder::new(&mut buffer);
    e.map(entries.len() as u64).unwrap();
    for (key, value) in entries {
        e.str(key).unwrap();
        match value {
            Text(s) => e.str(s).unwrap(),
            Bytes(b) => e.bytes(b).unwrap(),
            Texts(items) => {
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

/// The `type`, the `documentId` and, for errors, the `message` of a frame.
fn frame_fields(bytes: &[u8]) -> (String, Option<String>, Option<String>) {
    let mut d = minicbor::Decoder::new(bytes);
    let n = d.map().unwrap().unwrap();
    let (mut kind, mut doc, mut message) = (String::new(), None, None);
    for _ in 0..n {
        let key = d.str().unwrap().to_owned();
        match key.as_str() {
            "type" => kind = d.str().unwrap().to_owned(),
            "documentId" => doc = Some(d.str().unwrap().to_owned()),
            "message" => message = Some(d.str().unwrap().to_owned()),
            _ => d.skip().unwrap(),
        }
    }
    (kind, doc, message)
}

/// A document id nobody registered.
fn unused_id(seed: u8) -> DocumentId {
    DocumentId::try_from(vec![seed; 16]).unwrap()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct RawClient {
    ws: Ws,
    peer_id: String,
}

impl RawClient {
    async fn connect(server: &Server, session: &Session) -> Self {
        Self::connect_as(server, session, &session.peer_id).await
    }

    async fn connect_as(server: &Server, session: &Session, peer_id: &str) -> Self {
        let mut request = server.url().into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", session.token).parse().unwrap(),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut client = Self {
            ws,
            peer_id: peer_id.to_owned(),
        };
        let join = cbor_map(&[
            ("type", Text("join")),
            ("senderId", Text(peer_id)),
            ("supportedProtocolVersions", Texts(&["1"])),
        ]);
        client.send(join).await;
        client
    }

    async fn send(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::Binary(bytes.into())).await;
    }

    /// The next binary frame's type, document and message, skipping `peer`.
    async fn next(&mut self) -> Option<(String, Option<String>, Option<String>)> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time")
            {
                Some(Ok(Message::Binary(b))) => {
                    let fields = frame_fields(&b);
                    if fields.0 != "peer" {
                        return Some(fields);
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    async fn error(&mut self) -> Option<String> {
        loop {
            let (kind, _, message) = self.next().await?;
            if kind == "error" {
                return message;
            }
        }
    }

    async fn closed(&mut self) -> bool {
        loop {
            if self.next().await.is_none() {
                return true;
            }
        }
    }

    /// Requests `doc` with an empty sync message; returns the type of the answer about
    /// it (the server may meanwhile announce documents the user may read).
    async fn request(&mut self, doc: &DocumentId) -> String {
        self.send(self.request_frame(doc)).await;
        loop {
            let (kind, about, _) = self.next().await.expect("an answer");
            if about.as_deref() == Some(doc.to_string().as_str()) {
                return kind;
            }
        }
    }

    fn request_frame(&self, doc: &DocumentId) -> Vec<u8> {
        let empty = Automerge::new();
        use automerge::sync::SyncDoc;
        let message = empty
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap()
            .encode();
        cbor_map(&[
            ("type", Text("request")),
            ("senderId", Text(&self.peer_id)),
            ("targetId", Text("sync-server")),
            ("documentId", Text(&doc.to_string())),
            ("data", Bytes(&message)),
        ])
    }
}

// --- settling and the timeline restriction ---------------------------------------------

fn editor(user: &str) -> model::Editor {
    model::Editor::with_stepping_clock(
        model::UserId::new(user),
        model::NodeId::new(format!("node-{user}")),
        1_000,
    )
}

async fn registry_says(
    server: &Server,
    doc: &DocumentId,
    account: &str,
    expected: sync_server::access::Access,
) {
    until(|| {
        match server
            .state
            .registry
            .access(&doc.to_string().parse().unwrap(), &account.into())
        {
            access if access == expected => Ok(()),
            access => Err(format!("access stayed {access:?}, expected {expected:?}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_settles_rival_claims_and_enforces_the_timeline_restriction() {
    use model::Document;
    use model::catalogue::Catalogue;
    use model::client_record::{ClientRecord, NewClient};
    use model::timeline::Timeline;
    use sync_server::access::Access;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    let chefin_id = server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    let ben_id = server.account("t1", "ben", Role::Counsellor);
    let chefin = server.session("chefin").await;
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;

    // The tenant restricts timelines to staff with a responsibility.
    let admin = Client::connect(&server, &chefin).await;
    let mut catalogue =
        Document::<Catalogue>::create_catalogue(model::TenantId::new("t1")).unwrap();
    catalogue.set_restrict_timeline(true).unwrap();
    let catalogue = admin.repo.create(catalogue.into_automerge()).await.unwrap();
    assert_eq!(
        server
            .register(&chefin, catalogue.document_id(), "catalogue", None)
            .await,
        201
    );

    // Anna and Ben each made themselves primary caretaker while offline.
    let new = NewClient {
        pseudonym: "Kiesel".into(),
        ..NewClient::default()
    };
    let mut record = Document::<ClientRecord>::create_client(
        &mut editor(&anna_id),
        &model::DocumentId::from_bytes([1; 16]),
        model::TenantId::new("t1"),
        new,
    )
    .unwrap();
    let mut bens = record.fork();
    record
        .claim_primary(&mut editor(&anna_id), model::UserId::new(&anna_id))
        .unwrap();
    bens.claim_primary(&mut editor(&ben_id), model::UserId::new(&ben_id))
        .unwrap();
    record.merge(&mut bens).unwrap();
    let a = Client::connect(&server, &anna).await;
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let record_id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    let person = model::DocumentId::from_bytes(record_id.as_bytes().try_into().unwrap());
    let timeline =
        Document::<Timeline>::create_timeline(model::TenantId::new("t1"), person).unwrap();
    let timeline = a.repo.create(timeline.into_automerge()).await.unwrap();
    let timeline_id = timeline.document_id().clone();
    assert_eq!(
        server
            .register(&anna, timeline.document_id(), "timeline", Some(&record_id))
            .await,
        201
    );

    // The server settles the record: one claim wins, the other stays as caretaker, and
    // both may now read the timeline; the admin, with no responsibility, may not.
    registry_says(&server, &timeline_id, &chefin_id, Access::None).await;
    registry_says(&server, &timeline_id, &anna_id, Access::Write).await;
    registry_says(&server, &timeline_id, &ben_id, Access::Write).await;
    // A fresh connection: one that saw the timeline before the restriction arrived is
    // told of lost access by its directory, not by the protocol.
    let admin2 = Client::connect(&server, &chefin).await;
    assert!(
        admin2.find(&timeline_id).await.is_none(),
        "the admin has no responsibility"
    );
    server.has(&timeline_id).await;
    let b = Client::connect(&server, &ben).await;
    b.find(&timeline_id).await.expect("ben is caretaker now");
    let settled = b.find(&record_id).await.unwrap();
    until(|| {
        read_as::<ClientRecord>(&settled)
            .primary_claims
            .keys()
            .any(|id| id.as_str().starts_with("settled-"))
            .then_some(())
            .ok_or_else(|| "the server never settled the claims".to_owned())
    })
    .await;
    a.stop().await;
    b.stop().await;
    admin.stop().await;
    admin2.stop().await;
    server.stop().await;
}

// --- directories --------------------------------------------------------------------

/// Polls `directory` until `done` holds for its entries.
async fn directory_shows(
    directory: &samod::DocHandle,
    what: &str,
    done: impl Fn(&std::collections::BTreeMap<String, model::directory::DirectoryEntry>) -> bool,
) {
    until(|| {
        let entries = read_as::<model::directory::Directory>(directory).entries;
        match done(&entries) {
            true => Ok(()),
            false => Err(format!("the directory never showed {what}: {entries:?}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_list_what_each_user_may_read_and_follow_lost_access() {
    use model::Document;
    use model::catalogue::Catalogue;
    use model::client_record::{ClientRecord, NewClient};
    use model::directory::Access as Entry;
    use model::timeline::Timeline;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    server.account("t2", "fremd", Role::Counsellor);
    let chefin = server.session("chefin").await;
    let anna = server.session("anna").await;
    let fremd = server.session("fremd").await;
    assert_eq!(
        server.session("anna").await.directory_id,
        anna.directory_id,
        "one directory per account, whatever the session"
    );
    assert_ne!(anna.directory_id, chefin.directory_id);

    let a = Client::connect(&server, &anna).await;
    let c = Client::connect(&server, &chefin).await;
    let f = Client::connect(&server, &fremd).await;
    let annas = a.find(&anna.directory_id).await.expect("her own directory");
    let chefins = c.find(&chefin.directory_id).await.unwrap();
    let fremds = f.find(&fremd.directory_id).await.unwrap();
    assert!(
        a.find(&chefin.directory_id).await.is_none(),
        "another user's directory is not hers to read"
    );

    // Anna creates a person (record and timeline), primary caretaker herself.
    let mut record = Document::<ClientRecord>::create_client(
        &mut editor(&anna_id),
        &model::DocumentId::from_bytes([2; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Wacholder".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    record
        .claim_primary(&mut editor(&anna_id), model::UserId::new(&anna_id))
        .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let record_id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    let person = model::DocumentId::from_bytes(record_id.as_bytes().try_into().unwrap());
    let timeline = Document::<Timeline>::create_timeline(model::TenantId::new("t1"), person);
    let timeline = a
        .repo
        .create(timeline.unwrap().into_automerge())
        .await
        .unwrap();
    let timeline_id = timeline.document_id().to_string();
    assert_eq!(
        server
            .register(&anna, timeline.document_id(), "timeline", Some(&record_id))
            .await,
        201
    );
    let record_key = record_id.to_string();
    for (directory, who) in [(&annas, "anna"), (&chefins, "chefin")] {
        directory_shows(directory, &format!("{who}: record and timeline"), |e| {
            e.get(&record_key).is_some_and(|entry| {
                entry.kind == model::DocKind::ClientRecord
                    && entry.access == Entry::ReadWrite
                    && entry.person.map(|p| p.to_string()) == Some(record_key.clone())
            }) && e.get(&timeline_id).is_some_and(|entry| {
                entry.person.map(|p| p.to_string()) == Some(record_key.clone())
            })
        })
        .await;
    }

    // The tenant restricts timelines: the admin, with no responsibility, loses this one;
    // Anna, the primary caretaker, keeps it.
    let mut catalogue =
        Document::<Catalogue>::create_catalogue(model::TenantId::new("t1")).unwrap();
    catalogue.set_restrict_timeline(true).unwrap();
    let catalogue = c.repo.create(catalogue.into_automerge()).await.unwrap();
    let catalogue_id = catalogue.document_id().to_string();
    assert_eq!(
        server
            .register(&chefin, catalogue.document_id(), "catalogue", None)
            .await,
        201
    );
    directory_shows(&chefins, "the catalogue, and no timeline", |e| {
        e.get(&catalogue_id).map(|entry| entry.access) == Some(Entry::ReadWrite)
            && !e.contains_key(&timeline_id)
            && e.contains_key(&record_key)
    })
    .await;
    directory_shows(&annas, "the catalogue read-only, and the timeline", |e| {
        e.get(&catalogue_id).map(|entry| entry.access) == Some(Entry::ReadOnly)
            && e.contains_key(&timeline_id)
    })
    .await;

    // Another tenant's directory never names any of it.
    let fremd_entries = read_as::<model::directory::Directory>(&fremds).entries;
    assert!(fremd_entries.is_empty(), "{fremd_entries:?}");

    // Anna's own writes to her directory are not taken.
    write(&annas, "forged", "yes");
    let a2 = Client::connect(&server, &anna).await;
    let fresh = a2.find(&anna.directory_id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(read(&fresh, "forged"), None);

    for client in [a, a2, c, f] {
        client.stop().await;
    }
    server.stop().await;

    // After a restart the directory is the same document and still current.
    let server = Server::start(&config(&dir)).await;
    let again = server.session("anna").await;
    assert_eq!(again.directory_id, anna.directory_id);
    let a = Client::connect(&server, &again).await;
    let annas = a.find(&again.directory_id).await.unwrap();
    directory_shows(&annas, "the same entries after a restart", |e| {
        e.contains_key(&record_key) && e.contains_key(&timeline_id)
    })
    .await;
    a.stop().await;
    server.stop().await;
}

// --- operations the server carries out as its own actor ----------------------------

/// The record's status as every replica folds it, once it is `expected`.
async fn status_becomes(
    handle: &samod::DocHandle,
    expected: impl Fn(&conflict_rules::record::ClientStatus) -> bool,
    what: &str,
) {
    until(|| {
        let record = read_as::<model::client_record::ClientRecord>(handle);
        let (view, _) = conflict_rules::record::fold_record(&record);
        match expected(&view.status) {
            true => Ok(()),
            false => Err(format!("the status never became {what}: {:?}", view.status)),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_delete_and_restore_through_the_server_and_nobody_forges_it() {
    use conflict_rules::record::ClientStatus;
    use model::Document;
    use model::client_record::{ClientRecord, NewClient};

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    server.account("t2", "fremdchefin", Role::Admin);
    let chefin = server.session("chefin").await;
    let anna = server.session("anna").await;
    let fremd = server.session("fremdchefin").await;

    let a = Client::connect(&server, &anna).await;
    let record = Document::<ClientRecord>::create_client(
        &mut editor(&anna_id),
        &model::DocumentId::from_bytes([4; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Holunder".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    server.has(&id).await;
    let delete = format!("/api/clients/{id}/delete");

    let (status, body) = server.request("POST", &delete, Some(&anna.token), "").await;
    assert_eq!((status, body.as_str()), (403, r#"{"error":"forbidden"}"#));
    let (status, _) = server
        .request("POST", &delete, Some(&fremd.token), "")
        .await;
    assert_eq!(status, 404, "another tenant's record is not found");
    let (status, _) = server
        .request(
            "POST",
            &format!("/api/clients/{}/delete", unused_id(7)),
            Some(&chefin.token),
            "",
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server.request("POST", &delete, None, "").await;
    assert_eq!(status, 401);

    let (status, body) = server
        .request("POST", &delete, Some(&chefin.token), "")
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("deleted_on"), "{body}");
    status_becomes(
        &record,
        |s| matches!(s, ClientStatus::Deleted { .. }),
        "deleted",
    )
    .await;

    // Anna restores the person on her own copy: the server refuses the change and ends
    // her connection; everybody else still sees the person deleted.
    let before = server
        .request("GET", "/metrics", Some(common::METRICS_TOKEN), "")
        .await
        .1;
    assert!(!before.contains("reason=\"refused\""), "{before}");
    record.with_document(|doc| {
        let mut typed = Document::<ClientRecord>::load(&doc.save()).unwrap();
        let heads = typed.heads();
        typed.restore(&mut editor(&anna_id)).unwrap();
        doc.apply_changes(typed.automerge().get_changes(&heads))
            .unwrap();
    });
    // Refused whenever her client offers it: it reconnects and offers it again.
    until(|| {
        let endings = server.state.metrics.endings.lock().unwrap();
        match endings.get("refused") {
            Some(n) if *n >= 1 => Ok(()),
            _ => Err(format!("no refusal: {endings:?}")),
        }
    })
    .await;
    let c = Client::connect(&server, &chefin).await;
    let seen = c.find(&id).await.unwrap();
    status_becomes(
        &seen,
        |s| matches!(s, ClientStatus::Deleted { .. }),
        "still deleted",
    )
    .await;

    // The admin restores it, through the server.
    let restore = format!("/api/clients/{id}/restore");
    let (status, body) = server
        .request("POST", &restore, Some(&chefin.token), "")
        .await;
    assert_eq!((status, body.as_str()), (200, r#"{"deleted_on":null}"#));
    status_becomes(&seen, |s| *s == ClientStatus::Active, "active again").await;

    a.stop().await;
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_data_goes_through_the_server_to_admins_only() {
    use model::client_contact::{ClientContact, ContactChannel};

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    let chefin = server.session("chefin").await;
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;
    let a = Client::connect(&server, &anna).await;
    let record = a.create("kind", "client-record").await;
    let id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    let contact = format!("/api/clients/{id}/contact");

    let (status, body) = server
        .request(
            "PUT",
            &contact,
            Some(&ben.token),
            r#"{"email":"kim@example.org"}"#,
        )
        .await;
    assert_eq!(
        status, 403,
        "only the record's creator hands over contact data: {body}"
    );
    let (status, body) = server
        .request(
            "PUT",
            &contact,
            Some(&anna.token),
            r#"{"email":"kein-at-zeichen"}"#,
        )
        .await;
    assert_eq!((status, body.as_str()), (422, r#"{"error":"bad-email"}"#));
    let (status, body) = server
        .request(
            "PUT",
            &contact,
            Some(&anna.token),
            r#"{"email":"kim@example.org"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let contact_id: DocumentId = body["contact_id"].as_str().unwrap().parse().unwrap();
    let (status, _) = server
        .request(
            "PUT",
            &contact,
            Some(&anna.token),
            r#"{"email":"anders@example.org"}"#,
        )
        .await;
    assert_eq!(status, 403, "once handed over, contact data is the admins'");
    assert!(
        a.find(&contact_id).await.is_none(),
        "a counsellor never receives the contact document"
    );

    let (status, _) = server
        .request(
            "PUT",
            &contact,
            Some(&chefin.token),
            r#"{"email":null,"phone":"+49 30 1234567"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let c = Client::connect(&server, &chefin).await;
    let held = c.find(&contact_id).await.expect("admins read contact data");
    until(|| match read_as::<ClientContact>(&held) {
        read if read.phone.as_deref() == Some("+49 30 1234567") => Ok(()),
        read => Err(format!("{read:?}")),
    })
    .await;
    let read = read_as::<ClientContact>(&held);
    assert_eq!(read.email, None);
    assert_eq!(read.channel, ContactChannel::Sms);
    assert_eq!(read.person.to_string(), id.to_string());
    a.stop().await;
    c.stop().await;
    server.stop().await;
}

// --- a JavaScript automerge-repo 2.x client ----------------------------------------

/// A string at `key`, stored as a scalar (Rust writes those) or as text (JavaScript
/// writes strings as text by default).
fn read_any_string(handle: &samod::DocHandle, key: &str) -> Option<String> {
    handle.with_document(|doc| match doc.get(automerge::ROOT, key).unwrap()? {
        (automerge::Value::Object(automerge::ObjType::Text), id) => doc.text(&id).ok(),
        (value, _) => value.into_string().ok(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_automerge_repo_client_syncs_both_ways() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js");
    assert!(
        js.join("node_modules/@automerge/automerge-repo").is_dir(),
        "the JavaScript client is not installed: run `npm ci` in tests/js (scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    let anna = server.session("anna").await;
    let ben = server.session("ben").await;

    let mut node = tokio::process::Command::new("node")
        .arg("interop.mjs")
        .arg(server.addr.to_string())
        .arg(&anna.token)
        .arg(&anna.peer_id)
        .current_dir(&js)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut to_js = node.stdin.take().unwrap();
    let mut from_js = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut said = async |word: &str| -> String {
        let line = tokio::time::timeout(WAIT, from_js.next_line())
            .await
            .expect("the JavaScript client answers in time")
            .unwrap()
            .expect("the JavaScript client is still running");
        line.strip_prefix(&format!("{word} "))
            .unwrap_or_else(|| panic!("expected {word}, got {line}"))
            .to_owned()
    };

    // JavaScript creates, Rust reads and answers, JavaScript sees the answer.
    let id: DocumentId = said("created").await.parse().unwrap();
    server.has(&id).await;
    let b = Client::connect(&server, &ben).await;
    let theirs = b
        .find(&id)
        .await
        .expect("the Rust client finds the JS document");
    until(|| match read_any_string(&theirs, "greeting") {
        Some(_) => Ok(()),
        None => Err("the JavaScript greeting never arrived".to_owned()),
    })
    .await;
    assert_eq!(
        read_any_string(&theirs, "greeting").as_deref(),
        Some("Grüße aus JavaScript")
    );
    write(&theirs, "answer", "Antwort aus Rust");
    assert_eq!(said("answer").await, "Antwort aus Rust");

    // Rust creates, JavaScript finds it and replies.
    let mine = b.create("greeting", "Grüße aus Rust").await;
    let mine_id = mine.document_id().clone();
    assert_eq!(server.register_record(&ben, &mine).await, 201);
    server.has(&mine_id).await;
    to_js
        .write_all(format!("{mine_id}\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(said("found").await, "Grüße aus Rust");
    until(|| match read_any_string(&mine, "reply").as_deref() {
        Some("gelesen") => Ok(()),
        _ => Err("the JavaScript reply never arrived".to_owned()),
    })
    .await;
    to_js.write_all(b"bye\n").await.unwrap();
    let status = tokio::time::timeout(WAIT, node.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    b.stop().await;
    server.stop().await;
}

/// The UUID spelling samod also accepts for `id`.
fn uuid_spelling(id: &DocumentId) -> String {
    let hex: String = id.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_id_counts_only_in_its_canonical_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "anna", Role::Counsellor);
    server.account("t2", "fremdchefin", Role::Admin);
    let anna = server.session("anna").await;
    let fremd = server.session("fremdchefin").await;
    let a = Client::connect(&server, &anna).await;
    let record = a.create("pseudonym", "Schlehe").await;
    let id = record.document_id().clone();
    assert_eq!(server.register_record(&anna, &record).await, 201);
    let uuid = uuid_spelling(&id);
    assert_eq!(uuid.parse::<DocumentId>().unwrap(), id, "samod takes both");

    // Another tenant cannot register the same document under its other spelling, nor
    // reach it through an admin route.
    let body = serde_json::json!({ "id": uuid, "kind": "client-record" }).to_string();
    let (status, answer) = server
        .request("POST", "/api/documents", Some(&fremd.token), &body)
        .await;
    assert_eq!(
        (status, answer.as_str()),
        (400, r#"{"error":"bad-document-id"}"#)
    );
    let (status, _) = server
        .request(
            "POST",
            &format!("/api/clients/{uuid}/delete"),
            Some(&fremd.token),
            "",
        )
        .await;
    assert_eq!(status, 404);

    // A frame naming it so is refused before samod sees it.
    let mut raw = RawClient::connect(&server, &anna).await;
    let frame = cbor_map(&[
        ("type", Text("request")),
        ("senderId", Text(&anna.peer_id)),
        ("targetId", Text("sync-server")),
        ("documentId", Text(&uuid)),
        ("data", Bytes(&[0x42, 0x00, 0x00, 0x00, 0x00])),
    ]);
    raw.send(frame).await;
    assert_eq!(
        raw.error().await.as_deref(),
        Some("malformed message: a documentId not in its canonical bs58check form")
    );
    a.stop().await;
    server.stop().await;
}
