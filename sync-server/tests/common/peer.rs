//! A staff member's sync client for the account and access tests: a session from the
//! real login, a samod repo dialing the server's websocket with the bearer token (as
//! the desktop client does), and polling helpers. `sync.rs` has its own, older copy.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use samod::{DialError, Dialer, DocumentId, PeerId, Repo, Transport};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{PASSWORD, Server};

/// How long a poll waits before it fails: generous, never a claim about speed.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub account_id: String,
    pub peer_id: String,
    pub directory_id: DocumentId,
}

/// Signs in with [`PASSWORD`].
pub async fn session(server: &Server, login: &str) -> Session {
    let (status, body) = server.login(login, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    Session {
        token: body["token"].as_str().unwrap().to_owned(),
        account_id: body["account_id"].as_str().unwrap().to_owned(),
        peer_id: body["peer_id"].as_str().unwrap().to_owned(),
        directory_id: body["directory_id"].as_str().unwrap().parse().unwrap(),
    }
}

/// Registers a document; returns the status.
pub async fn register(
    server: &Server,
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
    server
        .request(
            "POST",
            "/api/documents",
            Some(&session.token),
            &body.to_string(),
        )
        .await
        .0
}

/// Registers a client record with the hash of its creating change.
pub async fn register_record(server: &Server, session: &Session, record: &samod::DocHandle) -> u16 {
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
    server
        .request(
            "POST",
            "/api/documents",
            Some(&session.token),
            &body.to_string(),
        )
        .await
        .0
}

/// Waits until the server has stored something of `doc`.
pub async fn stored(server: &Server, doc: &DocumentId) {
    let path = server.state.config.database_path();
    let key = format!("{doc}/%");
    until(|| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM repo_storage WHERE key LIKE ?1",
                [&key],
                |r| r.get(0),
            )
            .unwrap();
        (count > 0)
            .then_some(())
            .ok_or_else(|| format!("the server never got {doc}"))
    })
    .await;
}

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

pub struct Client {
    pub repo: Repo,
    dialer: samod::DialerHandle<std::io::Error>,
}

impl Client {
    pub async fn connect(server: &Server, session: &Session) -> Self {
        let repo = Repo::build_tokio()
            .with_peer_id(PeerId::from(session.peer_id.as_str()))
            .load()
            .await;
        let dialer = repo
            .dial(
                // samod 0.16 may try the first dial before it has stored the dialer;
                // a retry or two gets past that race.
                samod::BackoffConfig {
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(100),
                    max_retries: Some(5),
                },
                Arc::new(WsDialer {
                    url: format!("ws://{}/sync", server.addr),
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

    pub async fn find(&self, id: &DocumentId) -> Option<samod::DocHandle> {
        tokio::time::timeout(WAIT, self.repo.find(id.clone()))
            .await
            .expect("an answer in time")
            .unwrap()
    }

    pub async fn stop(self) {
        self.dialer.close();
        self.repo.stop().await;
    }
}

/// Polls `check` until it holds; after [`WAIT`], fails with what its last `Err` said.
pub async fn until(check: impl FnMut() -> Result<(), String>) {
    until_within(WAIT, check).await;
}

/// [`until`] with a bound of its own.
pub async fn until_within(bound: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        match check() {
            Ok(()) => return,
            Err(why) => assert!(tokio::time::Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A samod copy, read through the model.
pub fn read_as<T: model::Schema>(handle: &samod::DocHandle) -> T {
    let bytes = handle.with_document(|doc| doc.save());
    model::Document::<T>::load(&bytes).unwrap().read().unwrap()
}

/// The model's id of a samod document id.
pub fn model_id(id: &DocumentId) -> model::DocumentId {
    model::DocumentId::from_bytes(id.as_bytes().try_into().unwrap())
}

/// An editor for test changes, with a clock that steps by itself.
pub fn editor(user: &str) -> model::Editor {
    model::Editor::with_stepping_clock(
        model::UserId::new(user),
        model::NodeId::new(format!("node-{user}")),
        1_000,
    )
}
