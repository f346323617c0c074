//! The deletion routine against the real server binary: a person with everything a
//! person can have (record, contact, timeline, a notebook with a note and an uploaded
//! file, a group membership, a bookmark, an invitation in the mail queue, their own
//! account) is deleted, time passes (`clock_offset_days`, restarting the server), and
//! then nothing of the person can be reached, nothing of them is in the database's
//! files, and every directory lists their documents as purged. `cargo test -p
//! sync-server purge` runs these.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use model::bookmarks::Bookmarks;
use model::catalogue::Catalogue;
use model::client_record::{ClientRecord, NewClient};
use model::directory::Directory;
use model::group::Group;
use model::notebook::{ContactKind, MonitoringInput, Notebook};
use model::timeline::Timeline;
use model::{Document, Schema};
use samod::{DialError, Dialer, DocumentId, PeerId, Repo, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

mod common;

use common::process::ServerProcess;

const WAIT: Duration = Duration::from_secs(30);

/// Distinctive enough that a byte search of the database finds nothing else.
const PSEUDONYM: &str = "Zitronenfalter-Quarz-7431";
const NOTE: &str = "Notiz-Kiebitzgelege-5521";
const EMAIL: &str = "kiebitz.7431@example.org";
const BLOB: &[u8] = b"Hochgeladener Befund: Grasmueckenfeder-9902";
const PERSON_PASSWORD: &str = "Vq7#pLm2!xRz-Tannenhaeher";

// --- the server as a process, and HTTP ----------------------------------------------

fn database(server: &ServerProcess) -> PathBuf {
    server.dir.path().join("data").join("sync-server.sqlite3")
}

/// Sets `key` in the server's config file (for its next start).
fn set(server: &ServerProcess, key: &str, value: &str) {
    let path = server.dir.path().join("sync-server.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} =")))
        .map(str::to_owned)
        .collect();
    lines.push(format!("{key} = {value}"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// Restarts the server with `clock_offset_days = days`, and waits until its deletion
/// routine ran once.
async fn restart_at(server: &mut ServerProcess, days: i64) {
    assert!(server.interrupt(WAIT), "the server did not stop");
    set(server, "clock_offset_days", &days.to_string());
    server.start();
    let log = || server.log();
    until(|| match log().contains("deletion routine ran") {
        true => Ok(()),
        false => Err(format!("the deletion routine never ran: {}", log())),
    })
    .await;
}

fn query<T: rusqlite::types::FromSql>(server: &ServerProcess, sql: &str) -> T {
    let conn = rusqlite::Connection::open(database(server)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn json(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> u16 {
    http(addr, method, path, Some(token), body.to_string().as_bytes())
        .await
        .0
}

#[derive(Clone)]
struct Session {
    account: String,
    token: String,
    peer_id: String,
    directory_id: DocumentId,
}

async fn login(addr: SocketAddr, login: &str, password: &str) -> Result<Session, u16> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    let (status, body) = http(addr, "POST", "/api/login", None, body.as_bytes()).await;
    if status != 200 {
        return Err(status);
    }
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    Ok(Session {
        account: body["account_id"].as_str().unwrap_or_default().to_owned(),
        token: body["token"].as_str().unwrap().to_owned(),
        peer_id: body["peer_id"].as_str().unwrap().to_owned(),
        directory_id: body["directory_id"].as_str().unwrap().parse().unwrap(),
    })
}

/// Staff accounts made by `server()` log in with the password the CLI printed.
async fn staff(server: &ServerProcess, passwords: &Passwords, login_name: &str) -> Session {
    let password = match login_name {
        "chefin" => &passwords.chefin,
        _ => &passwords.anna,
    };
    login(server.addr, login_name, password).await.unwrap()
}

struct Passwords {
    chefin: String,
    anna: String,
}

/// A server with an admin and a counsellor, started.
fn started(settings: &str) -> (ServerProcess, Passwords) {
    let mut server = ServerProcess::new(settings);
    let chefin = server.account("t1", "chefin", "admin");
    let anna = server.account("t1", "anna", "counsellor");
    server.start();
    (server, Passwords { chefin, anna })
}

// --- a samod client -------------------------------------------------------------------

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

struct Client {
    repo: Repo,
    dialer: samod::DialerHandle<std::io::Error>,
}

impl Client {
    async fn connect(addr: SocketAddr, session: &Session) -> Self {
        let repo = Repo::build_tokio()
            .with_peer_id(PeerId::from(session.peer_id.as_str()))
            .load()
            .await;
        let dialer = repo
            .dial(
                samod::BackoffConfig {
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(100),
                    max_retries: Some(5),
                },
                Arc::new(WsDialer {
                    url: format!("ws://{addr}/sync"),
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

fn read_as<T: Schema>(handle: &samod::DocHandle) -> T {
    let bytes = handle.with_document(|doc| doc.save());
    Document::<T>::load(&bytes).unwrap().read().unwrap()
}

/// Polls `check` until it holds; after the timeout, fails with what its last `Err` said.
async fn until(mut check: impl FnMut() -> Result<(), String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check() {
            Ok(()) => return,
            Err(why) => assert!(tokio::time::Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn editor(user: &str) -> model::Editor {
    model::Editor::with_stepping_clock(
        model::UserId::new(user),
        model::NodeId::new(format!("node-{user}")),
        1_000,
    )
}

fn stored_keys(server: &ServerProcess, doc: &DocumentId) -> i64 {
    let conn = rusqlite::Connection::open(database(server)).unwrap();
    conn.query_row(
        "SELECT count(*) FROM repo_storage WHERE key LIKE ?1",
        [format!("{doc}/%")],
        |r| r.get(0),
    )
    .unwrap()
}

async fn stored(server: &ServerProcess, doc: &DocumentId) {
    until(|| match stored_keys(server, doc) {
        0 => Err(format!("the server never stored {doc}")),
        _ => Ok(()),
    })
    .await;
}

fn to_model(id: &DocumentId) -> model::DocumentId {
    id.to_string().parse().unwrap()
}

// --- the person -----------------------------------------------------------------------

/// Everything one person has.
struct Person {
    record: DocumentId,
    contact: DocumentId,
    timeline: DocumentId,
    notebook: DocumentId,
    /// The directory of the person's own account (made at its first login).
    directory: DocumentId,
    group: DocumentId,
    bookmarks: DocumentId,
    sha256: String,
}

impl Person {
    fn documents(&self) -> Vec<DocumentId> {
        vec![
            self.record.clone(),
            self.contact.clone(),
            self.timeline.clone(),
            self.notebook.clone(),
            self.directory.clone(),
        ]
    }
}

async fn register(
    addr: SocketAddr,
    session: &Session,
    handle: &samod::DocHandle,
    kind: &str,
    person: Option<&DocumentId>,
) {
    let creation = handle.with_document(|doc| {
        doc.get_changes(&[])
            .into_iter()
            .find(|c| c.deps().is_empty())
            .map(|c| c.hash().to_string())
    });
    let body = serde_json::json!({
        "id": handle.document_id().to_string(),
        "kind": kind,
        "person": person.map(ToString::to_string),
        "creation": if kind == "client-record" { creation } else { None },
    });
    let status = json(addr, "POST", "/api/documents", &session.token, body).await;
    assert_eq!(status, 201, "registering a {kind}");
}

/// Anna creates a person with everything, and the admin a catalogue with a deletion
/// interval of `interval` days.
async fn seed(server: &ServerProcess, passwords: &Passwords, interval: u64) -> Person {
    let addr = server.addr;
    let chefin = staff(server, passwords, "chefin").await;
    let anna = staff(server, passwords, "anna").await;
    let c = Client::connect(addr, &chefin).await;
    let a = Client::connect(addr, &anna).await;

    let mut catalogue =
        Document::<Catalogue>::create_catalogue(model::TenantId::new("t1")).unwrap();
    catalogue.set_deletion_interval(interval).unwrap();
    let catalogue = c.repo.create(catalogue.into_automerge()).await.unwrap();
    register(addr, &chefin, &catalogue, "catalogue", None).await;
    stored(server, catalogue.document_id()).await;

    let mut by_anna = editor(&anna.account);
    let record = Document::<ClientRecord>::create_client(
        &mut by_anna,
        &model::DocumentId::from_bytes([9; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: PSEUDONYM.into(),
            name: "Nachname".into(),
            first_name: "Vorname".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let id = record.document_id().clone();
    register(addr, &anna, &record, "client-record", None).await;
    stored(server, &id).await;

    let timeline =
        Document::<Timeline>::create_timeline(model::TenantId::new("t1"), to_model(&id)).unwrap();
    let timeline = a.repo.create(timeline.into_automerge()).await.unwrap();
    register(addr, &anna, &timeline, "timeline", Some(&id)).await;

    // The uploaded file, and the notebook that references it and holds a note.
    let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, BLOB));
    let (status, body) = http(
        addr,
        "PUT",
        &format!("/api/blobs/{sha256}"),
        Some(&anna.token),
        BLOB,
    )
    .await;
    assert!(
        status == 201 || status == 204 || status == 200,
        "{status} {body}"
    );
    let mut notebook =
        Document::<Notebook>::create_notebook(to_model(&id), model::UserId::new(&anna.account))
            .unwrap();
    notebook
        .add_monitoring(
            &mut by_anna,
            MonitoringInput {
                date: "2026-01-05".parse().unwrap(),
                channel: ContactKind::Phone,
                duration_minutes: 30,
                topic: "Erstgespräch".into(),
                text: NOTE.into(),
                participation: None,
            },
        )
        .unwrap();
    notebook
        .add_document(
            &mut by_anna,
            "befund.txt",
            &sha256,
            BLOB.len() as u64,
            "text/plain",
        )
        .unwrap();
    let notebook = a.repo.create(notebook.into_automerge()).await.unwrap();
    register(addr, &anna, &notebook, "notebook", Some(&id)).await;

    let mut group = Document::<Group>::create_group(
        &mut by_anna,
        model::TenantId::new("t1"),
        "Dienstagsgruppe",
        "",
    )
    .unwrap();
    group.add_member(&mut by_anna, &to_model(&id)).unwrap();
    let group = a.repo.create(group.into_automerge()).await.unwrap();
    register(addr, &anna, &group, "group", None).await;
    let mut bookmarks =
        Document::<Bookmarks>::create_bookmarks(model::UserId::new(&anna.account)).unwrap();
    bookmarks.bookmark(&mut by_anna, &to_model(&id)).unwrap();
    let bookmarks = a.repo.create(bookmarks.into_automerge()).await.unwrap();
    register(addr, &anna, &bookmarks, "bookmarks", None).await;

    // Contact data through the server, then the person's own account with a password
    // and an invitation (a row in the mail queue, a pickup file).
    let contact = format!("/api/clients/{id}/contact");
    let (status, body) = http(
        addr,
        "PUT",
        &contact,
        Some(&anna.token),
        serde_json::json!({ "email": EMAIL }).to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let contact: DocumentId =
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["contact_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let status = json(
        addr,
        "PUT",
        &format!("/api/clients/{id}/password"),
        &anna.token,
        serde_json::json!({ "password": PERSON_PASSWORD }),
    )
    .await;
    assert_eq!(status, 204);
    let status = json(
        addr,
        "POST",
        &format!("/api/clients/{id}/invitation"),
        &anna.token,
        serde_json::json!({}),
    )
    .await;
    assert!((200..300).contains(&status), "the invitation: {status}");
    let person = login(addr, PSEUDONYM, PERSON_PASSWORD)
        .await
        .expect("the person logs in");

    for doc in [
        &id,
        &contact,
        timeline.document_id(),
        notebook.document_id(),
    ] {
        stored(server, doc).await;
    }
    for doc in [
        group.document_id(),
        bookmarks.document_id(),
        &person.directory_id,
    ] {
        stored(server, doc).await;
    }
    // Settled: the notebook's reference to the file, and the catalogue's interval.
    until(
        || match query::<i64>(server, "SELECT count(*) FROM blob_refs") {
            1 => Ok(()),
            n => Err(format!("{n} references to uploaded files")),
        },
    )
    .await;
    until(|| {
        match query::<i64>(
            server,
            "SELECT count(*) FROM mail_queue WHERE sent_ms IS NOT NULL",
        ) {
            1 => Ok(()),
            n => Err(format!("{n} messages sent")),
        }
    })
    .await;
    let person = Person {
        record: id,
        contact,
        timeline: timeline.document_id().clone(),
        notebook: notebook.document_id().clone(),
        directory: person.directory_id,
        group: group.document_id().clone(),
        bookmarks: bookmarks.document_id().clone(),
        sha256,
    };
    a.stop().await;
    c.stop().await;
    person
}

async fn delete(server: &ServerProcess, passwords: &Passwords, person: &Person, what: &str) {
    let chefin = staff(server, passwords, "chefin").await;
    let (status, body) = http(
        server.addr,
        "POST",
        &format!("/api/clients/{}/{what}", person.record),
        Some(&chefin.token),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{what}: {body}");
}

/// Whether `needle` occurs anywhere in the database's files (the database, its WAL).
fn in_database_files(server: &ServerProcess, needle: &str) -> Vec<String> {
    let dir = database(server).parent().unwrap().to_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("sync-server.sqlite3") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(name);
        }
    }
    found
}

fn outbox_mentions(server: &ServerProcess, needle: &str) -> bool {
    let outbox = database(server).parent().unwrap().join("outbox");
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        std::fs::read(e.path())
            .map(|b| String::from_utf8_lossy(&b).contains(needle))
            .unwrap_or(false)
    })
}

fn purges_finished(server: &ServerProcess) -> i64 {
    query(
        server,
        "SELECT count(*) FROM purges WHERE finished_ms IS NOT NULL",
    )
}

/// Everything of the person is gone, as every way in sees it; `newcomer` is the login
/// of an account made now, whose new directory must list the purge too.
async fn assert_purged(
    server: &ServerProcess,
    passwords: &Passwords,
    person: &Person,
    newcomer: &str,
) {
    let addr = server.addr;
    assert_eq!(purges_finished(server), 1);
    // Nobody can sync any of the person's documents.
    let chefin = staff(server, passwords, "chefin").await;
    let anna = staff(server, passwords, "anna").await;
    let c = Client::connect(addr, &chefin).await;
    for doc in person.documents() {
        assert!(c.find(&doc).await.is_none(), "{doc} is still served");
        assert_eq!(stored_keys(server, &doc), 0, "{doc} is still stored");
    }
    // The HTTP routes do not know them, and nobody can register their ids again.
    let (status, _) = http(
        addr,
        "PUT",
        &format!("/api/clients/{}/contact", person.record),
        Some(&chefin.token),
        br#"{"email":"x@example.org"}"#,
    )
    .await;
    assert_eq!(status, 404);
    for (doc, kind) in [
        (&person.record, "client-record"),
        (&person.timeline, "timeline"),
    ] {
        let body =
            serde_json::json!({ "id": doc.to_string(), "kind": kind, "creation": "00".repeat(32) });
        assert_eq!(
            json(addr, "POST", "/api/documents", &chefin.token, body).await,
            409
        );
    }
    let (status, _) = http(
        addr,
        "GET",
        &format!("/api/blobs/{}", person.sha256),
        Some(&anna.token),
        b"",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(query::<i64>(server, "SELECT count(*) FROM blobs"), 0);
    assert_eq!(query::<i64>(server, "SELECT count(*) FROM blob_refs"), 0);
    assert_eq!(query::<i64>(server, "SELECT count(*) FROM mail_queue"), 0);
    assert_eq!(query::<i64>(server, "SELECT count(*) FROM invitations"), 0);
    assert_eq!(
        query::<i64>(server, "SELECT count(*) FROM person_accounts"),
        0
    );
    assert_eq!(
        query::<i64>(
            server,
            "SELECT count(*) FROM accounts WHERE role = 'client'"
        ),
        0
    );
    assert!(
        !outbox_mentions(server, EMAIL),
        "the invitation's pickup file is still there"
    );
    // The person's own account is gone.
    assert_eq!(
        login(addr, PSEUDONYM, PERSON_PASSWORD).await.err(),
        Some(401)
    );

    // Every directory lists the documents as purged: the admin's, the counsellor's,
    // and one made after the purge.
    let purged_everywhere = |handle: &samod::DocHandle| {
        let directory: Directory = read_as(handle);
        let ids = person.documents();
        match ids.iter().all(|id| {
            directory.purged.contains_key(&id.to_string())
                && !directory.entries.contains_key(&id.to_string())
        }) {
            true => Ok(()),
            false => Err(format!("not all listed as purged: {:?}", directory.purged)),
        }
    };
    let own = c.find(&chefin.directory_id).await.unwrap();
    until(|| purged_everywhere(&own)).await;
    let a = Client::connect(addr, &anna).await;
    let own = a.find(&anna.directory_id).await.unwrap();
    until(|| purged_everywhere(&own)).await;
    // The group and the bookmarks no longer name the person.
    let group = c.find(&person.group).await.unwrap();
    until(|| match read_as::<Group>(&group).members.is_empty() {
        true => Ok(()),
        false => Err("the group still names the person".into()),
    })
    .await;
    let bookmarks = a.find(&person.bookmarks).await.unwrap();
    until(|| match read_as::<Bookmarks>(&bookmarks).items.is_empty() {
        true => Ok(()),
        false => Err("the bookmarks still name the person".into()),
    })
    .await;
    a.stop().await;
    c.stop().await;
    let password = server.account("t1", newcomer, "counsellor");
    let bert = login(addr, newcomer, &password).await.unwrap();
    let b = Client::connect(addr, &bert).await;
    let own = b.find(&bert.directory_id).await.unwrap();
    until(|| purged_everywhere(&own)).await;
    b.stop().await;

    // The audit log notes the purge, with ids and counts only.
    let noted: String = query(
        server,
        "SELECT subject FROM audit_log WHERE action = 'purge'",
    );
    assert!(
        noted.starts_with(&person.record.to_string()) && noted.contains("documents=5"),
        "{noted}"
    );
    // Nothing of the person is left in the database's files.
    for needle in [PSEUDONYM, NOTE, EMAIL, std::str::from_utf8(BLOB).unwrap()] {
        let found = in_database_files(server, needle);
        assert!(found.is_empty(), "{needle:?} is still in {found:?}");
    }
}

/// The purge's traces: its rows, the purged ids, the audit entries.
fn purge_state(server: &ServerProcess) -> (String, i64, i64) {
    let purges: String = query(
        server,
        "SELECT group_concat(person || ':' || documents || ':' || finished_ms, ';') FROM purges",
    );
    (
        purges,
        query(server, "SELECT count(*) FROM purged_documents"),
        query(
            server,
            "SELECT count(*) FROM audit_log WHERE action = 'purge'",
        ),
    )
}

// --- the tests ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_everything_of_the_person_once_the_interval_has_passed() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    // Before: the person's data is in the database's files (so the search below can
    // find it).
    for needle in [PSEUDONYM, NOTE, EMAIL, std::str::from_utf8(BLOB).unwrap()] {
        assert!(
            !in_database_files(&server, needle).is_empty(),
            "{needle} not stored"
        );
    }
    delete(&server, &passwords, &person, "delete").await;

    // Four days later: the tenant's interval (five days) has not passed.
    restart_at(&mut server, 4).await;
    assert_eq!(query::<i64>(&server, "SELECT count(*) FROM purges"), 0);
    assert!(
        login(server.addr, PSEUDONYM, PERSON_PASSWORD)
            .await
            .is_err(),
        "deleted: no login"
    );
    assert!(stored_keys(&server, &person.record) > 0);

    // Five days later: purged.
    restart_at(&mut server, 5).await;
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished")),
    })
    .await;
    assert_purged(&server, &passwords, &person, "bert1").await;

    // Running again changes nothing.
    let before = purge_state(&server);
    restart_at(&mut server, 6).await;
    assert_eq!(purge_state(&server), before);
    assert_purged(&server, &passwords, &person, "bert2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_spares_a_person_restored_before_the_interval() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    delete(&server, &passwords, &person, "delete").await;
    delete(&server, &passwords, &person, "restore").await;
    restart_at(&mut server, 30).await;
    assert_eq!(query::<i64>(&server, "SELECT count(*) FROM purges"), 0);
    assert_eq!(
        query::<i64>(&server, "SELECT count(*) FROM purged_documents"),
        0
    );
    // Everything is still there and reachable.
    let session = login(server.addr, PSEUDONYM, PERSON_PASSWORD)
        .await
        .expect("logs in");
    assert_eq!(session.directory_id, person.directory);
    let chefin = staff(&server, &passwords, "chefin").await;
    let c = Client::connect(server.addr, &chefin).await;
    for doc in [
        &person.record,
        &person.contact,
        &person.timeline,
        &person.notebook,
    ] {
        assert!(c.find(doc).await.is_some(), "{doc} is gone");
    }
    let record: ClientRecord = read_as(&c.find(&person.record).await.unwrap());
    assert_eq!(record.pseudonym, PSEUDONYM);
    c.stop().await;
    assert_eq!(query::<i64>(&server, "SELECT count(*) FROM blobs"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_counts_from_the_last_deletion() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    // Deleted on day 0, restored and deleted again on day 3.
    delete(&server, &passwords, &person, "delete").await;
    restart_at(&mut server, 3).await;
    delete(&server, &passwords, &person, "restore").await;
    delete(&server, &passwords, &person, "delete").await;
    // Day 7: five days after the first deletion, four after the last one.
    restart_at(&mut server, 7).await;
    assert_eq!(query::<i64>(&server, "SELECT count(*) FROM purges"), 0);
    assert!(stored_keys(&server, &person.record) > 0);
    // Day 8: five days after the last one.
    restart_at(&mut server, 8).await;
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished")),
    })
    .await;
    assert_purged(&server, &passwords, &person, "bert3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_killed_in_the_middle_is_finished_at_the_next_start() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    delete(&server, &passwords, &person, "delete").await;
    // The purge stops after its first step; the server is killed there.
    assert!(server.interrupt(WAIT));
    set(&server, "purge_pause_seconds", "600");
    set(&server, "clock_offset_days", "5");
    server.start();
    until(|| {
        let started: i64 = query(
            &server,
            "SELECT count(*) FROM purges WHERE finished_ms IS NULL",
        );
        match (started, server.log().contains("the purge pauses")) {
            (1, true) => Ok(()),
            _ => Err("the purge never paused".into()),
        }
    })
    .await;
    server.kill();
    // Half done: the documents are forgotten, but the person's data is still stored.
    assert_eq!(purges_finished(&server), 0);
    let registered = format!(
        "SELECT count(*) FROM documents WHERE id = '{}'",
        person.record
    );
    assert_eq!(query::<i64>(&server, &registered), 0);
    assert!(stored_keys(&server, &person.record) > 0);
    assert_eq!(query::<i64>(&server, "SELECT count(*) FROM blobs"), 1);

    set(&server, "purge_pause_seconds", "0");
    server.start();
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished: {}", server.log())),
    })
    .await;
    assert_purged(&server, &passwords, &person, "bert4").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_recorded_before_a_restore_is_dropped_not_carried_out() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    delete(&server, &passwords, &person, "delete").await;
    delete(&server, &passwords, &person, "restore").await;
    assert!(server.interrupt(WAIT), "the server did not stop");
    // As if the purge had been recorded just before the restore and the server had
    // stopped before it forgot anything.
    let tenant: String = query(
        &server,
        &format!(
            "SELECT tenant FROM documents WHERE id = '{}'",
            person.record
        ),
    );
    let documents = [
        &person.record,
        &person.contact,
        &person.timeline,
        &person.notebook,
    ]
    .iter()
    .map(ToString::to_string)
    .collect::<Vec<_>>()
    .join(" ");
    rusqlite::Connection::open(database(&server))
        .unwrap()
        .execute(
            "INSERT INTO purges (person, tenant, documents, day, started_ms)
             VALUES (?1, ?2, ?3, '2020-01-01', 1)",
            rusqlite::params![person.record.to_string(), tenant, documents],
        )
        .unwrap();
    restart_at(&mut server, 30).await;
    until(
        || match query::<i64>(&server, "SELECT count(*) FROM purges") {
            0 => Ok(()),
            n => Err(format!("{n} purges: {}", server.log())),
        },
    )
    .await;
    assert_eq!(
        query::<i64>(&server, "SELECT count(*) FROM purged_documents"),
        0
    );
    let chefin = staff(&server, &passwords, "chefin").await;
    let c = Client::connect(server.addr, &chefin).await;
    for doc in [&person.record, &person.notebook] {
        assert!(c.find(doc).await.is_some(), "{doc} is gone");
    }
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_old_uploads_no_notebook_references_but_keeps_young_ones() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    delete(&server, &passwords, &person, "delete").await;
    assert!(server.interrupt(WAIT), "the server did not stop");
    // Two uploads no notebook references: one from last year (the person removed it
    // from their notebook), one from a moment ago (its notebook change not settled).
    let tenant: String = query(
        &server,
        &format!(
            "SELECT tenant FROM documents WHERE id = '{}'",
            person.record
        ),
    );
    let conn = rusqlite::Connection::open(database(&server)).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (hash, created_ms) in [("aa".repeat(32), 1_i64), ("bb".repeat(32), now_ms)] {
        conn.execute(
            "INSERT INTO blobs (tenant, sha256, data, created_ms) VALUES (?1, ?2, x'00', ?3)",
            rusqlite::params![tenant, hash, created_ms],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO blob_uploaders (tenant, sha256, account) VALUES (?1, ?2, 'x')",
            rusqlite::params![tenant, hash],
        )
        .unwrap();
    }
    drop(conn);
    restart_at(&mut server, 5).await;
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished")),
    })
    .await;
    let left: String = query(
        &server,
        "SELECT group_concat(substr(sha256, 1, 2)) FROM blobs",
    );
    assert_eq!(
        left, "bb",
        "the young upload stays, the old and the purged go"
    );
    // The shifted day is in the log and the audit log.
    assert!(server.log().contains("clock_offset_days is set"));
    assert!(
        query::<i64>(
            &server,
            "SELECT count(*) FROM audit_log WHERE action = 'clock-offset' AND subject = 'days=5'"
        ) >= 1
    );
    let uploaders: String = query(
        &server,
        "SELECT group_concat(substr(sha256, 1, 2)) FROM blob_uploaders",
    );
    assert_eq!(uploaders, "bb");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_learns_deletion_days_nothing_told_it_at_start() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    delete(&server, &passwords, &person, "delete").await;
    assert!(server.interrupt(WAIT), "the server did not stop");
    // As if the deletion had never been noted (an older server, a lost write).
    rusqlite::Connection::open(database(&server))
        .unwrap()
        .execute("DELETE FROM deletion_days", [])
        .unwrap();
    restart_at(&mut server, 5).await;
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished: {}", server.log())),
    })
    .await;
    assert_purged(&server, &passwords, &person, "bert5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purged_ids_reach_staff_directories_but_not_other_peoples() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    // A second person of the tenant, with an account and a directory.
    let addr = server.addr;
    let anna = staff(&server, &passwords, "anna").await;
    let a = Client::connect(addr, &anna).await;
    let record = Document::<ClientRecord>::create_client(
        &mut editor(&anna.account),
        &model::DocumentId::from_bytes([10; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Zweite".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let other = record.document_id().clone();
    register(addr, &anna, &record, "client-record", None).await;
    stored(&server, &other).await;
    a.stop().await;
    let status = json(
        addr,
        "PUT",
        &format!("/api/clients/{other}/password"),
        &anna.token,
        serde_json::json!({ "password": PERSON_PASSWORD }),
    )
    .await;
    assert_eq!(status, 204);
    login(addr, "Zweite", PERSON_PASSWORD)
        .await
        .expect("the second person logs in");

    delete(&server, &passwords, &person, "delete").await;
    restart_at(&mut server, 5).await;
    until(|| match purges_finished(&server) {
        1 => Ok(()),
        n => Err(format!("{n} purges finished")),
    })
    .await;
    // Staff directories list the purged ids ...
    let chefin = staff(&server, &passwords, "chefin").await;
    let c = Client::connect(server.addr, &chefin).await;
    let own = c.find(&chefin.directory_id).await.expect("her directory");
    until(|| {
        let directory: Directory = read_as(&own);
        match directory.purged.contains_key(&person.record.to_string()) {
            true => Ok(()),
            false => Err("the staff directory does not list the purge".into()),
        }
    })
    .await;
    c.stop().await;
    // ... the other person's does not: those are other people's ids.
    let zweite = login(server.addr, "Zweite", PERSON_PASSWORD)
        .await
        .expect("still logs in");
    let z = Client::connect(server.addr, &zweite).await;
    let own = z.find(&zweite.directory_id).await.expect("her directory");
    let directory: Directory = read_as(&own);
    assert!(directory.purged.is_empty(), "{:?}", directory.purged);
    z.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_purge_does_not_keep_the_others_from_running() {
    let (mut server, passwords) = started("");
    let person = seed(&server, &passwords, 5).await;
    // A second person, deleted the same day.
    let addr = server.addr;
    let anna = staff(&server, &passwords, "anna").await;
    let a = Client::connect(addr, &anna).await;
    let record = Document::<ClientRecord>::create_client(
        &mut editor(&anna.account),
        &model::DocumentId::from_bytes([11; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Zweite".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    let other = record.document_id().clone();
    register(addr, &anna, &record, "client-record", None).await;
    stored(&server, &other).await;
    a.stop().await;
    delete(&server, &passwords, &person, "delete").await;
    let chefin = staff(&server, &passwords, "chefin").await;
    let (status, body) = http(
        addr,
        "POST",
        &format!("/api/clients/{other}/delete"),
        Some(&chefin.token),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(server.interrupt(WAIT), "the server did not stop");
    // The first person's purge was started before and fails at its second step now,
    // every time (a trigger stands in for a broken database row).
    let tenant: String = query(
        &server,
        &format!(
            "SELECT tenant FROM documents WHERE id = '{}'",
            person.record
        ),
    );
    let conn = rusqlite::Connection::open(database(&server)).unwrap();
    conn.execute(
        "INSERT INTO purges (person, tenant, documents, day, started_ms)
         VALUES (?1, ?2, ?3, '2020-01-01', 1)",
        rusqlite::params![person.record.to_string(), tenant, person.record.to_string()],
    )
    .unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER broken BEFORE DELETE ON person_accounts
         WHEN old.person = '{}' BEGIN SELECT RAISE(ABORT, 'broken'); END;",
        person.record
    ))
    .unwrap();
    drop(conn);
    set(&server, "clock_offset_days", "5");
    server.start();
    until(|| {
        let purged: i64 = query(
            &server,
            &format!(
                "SELECT count(*) FROM purges WHERE person = '{other}' AND finished_ms IS NOT NULL"
            ),
        );
        match purged {
            1 => Ok(()),
            _ => Err(format!(
                "the second person was not purged: {}",
                server.log()
            )),
        }
    })
    .await;
    assert!(server.log().contains("a purge failed"));
    assert_eq!(
        query::<i64>(
            &server,
            &format!(
                "SELECT count(*) FROM purges WHERE person = '{}' AND finished_ms IS NULL",
                person.record
            ),
        ),
        1,
        "the failing purge stays unfinished, to be tried again"
    );
}
