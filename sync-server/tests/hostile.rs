//! Every way one client was seen to hurt the server for everyone, tried again against
//! the real binary over real sockets: each test is one finding of the attack on the
//! server, and shows the answer it gets now and that everyone else is still served.
//! `docs/security.md` lists them with what the server promises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync;
use automerge::sync::SyncDoc as _;
use common::hostile::{self, Frame, Login, Raw};
use common::process::ServerProcess;
use model::client_record::{ClientRecord, NewClient};
use model::{Document, Editor, NodeId, TenantId, UserId};

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(20);

/// A started server of tenant `t1` with an admin ("chefin") and two counsellors ("anna",
/// "ben"), their passwords by login.
struct Setup {
    server: ServerProcess,
    passwords: std::collections::HashMap<&'static str, String>,
}

impl Setup {
    fn new(settings: &str, limits: &[&str]) -> Self {
        let mut server = ServerProcess::new(settings);
        if !limits.is_empty() {
            server = server.limited(limits);
        }
        let mut passwords = std::collections::HashMap::new();
        for (login, role) in [
            ("chefin", "admin"),
            ("anna", "counsellor"),
            ("ben", "counsellor"),
        ] {
            passwords.insert(login, server.account("t1", login, role));
        }
        server.start();
        Self { server, passwords }
    }

    async fn login(&self, login: &str) -> Login {
        self.login_from(HOME, login).await
    }

    async fn login_from(&self, from: IpAddr, login: &str) -> Login {
        let (status, body) =
            hostile::login_from(from, self.server.addr, login, &self.passwords[login]).await;
        assert_eq!(status, 200, "{login}: {body}");
        Login::parse(&body)
    }

    async fn raw(&self, who: &Login) -> Raw {
        Raw::connect(self.server.addr, &who.token, &who.peer_id)
            .await
            .unwrap()
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        hostile::http_from(HOME, self.server.addr, method, path, token, body).await
    }

    /// Registers a new record of anna's and syncs it; its id and anna's copy.
    async fn record(&self, anna: &Login, pseudonym: &str) -> (String, Automerge, sync::State, Raw) {
        let id = hostile::doc_id(rand_bytes());
        let mut record = Document::<ClientRecord>::create_client(
            &mut editor("anna"),
            &id.parse().unwrap(),
            TenantId::new("t1"),
            NewClient {
                pseudonym: pseudonym.into(),
                ..NewClient::default()
            },
        )
        .unwrap()
        .into_automerge();
        let (status, answer) =
            hostile::register_record(self.server.addr, &anna.token, &id, &record).await;
        assert_eq!(status, 201, "{answer}");
        let mut raw = self.raw(anna).await;
        let mut state = sync::State::new();
        assert!(raw.sync_doc(&id, &mut record, &mut state, WAIT).await);
        (id, record, state, raw)
    }

    /// `raw` is ended with `error`, and everyone else is still served.
    async fn ends_only(&mut self, raw: &mut Raw, error: &str) {
        assert_eq!(raw.error_within(WAIT).await.as_deref(), Some(error));
        assert!(self.others_served().await);
    }

    /// Whether a colleague's new record still reaches another colleague, and
    /// `/healthz` answers.
    async fn others_served(&mut self) -> bool {
        assert!(
            self.server.alive(),
            "the server died: {}",
            self.server.log()
        );
        let anna = self.login("anna").await;
        let ben = self.login("ben").await;
        let (id, record, _, _raw) = self.record(&anna, "Kolleg").await;
        let mut copy = Automerge::new();
        let mut b = self.raw(&ben).await;
        let synced = b
            .sync_doc(&id, &mut copy, &mut sync::State::new(), WAIT)
            .await;
        let (status, _) = self.http("GET", "/healthz", None, "").await;
        synced && copy.get_heads() == record.get_heads() && status == 200
    }
}

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("n-{user}")),
        1_700_000_000_000,
    )
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    bytes.copy_from_slice(&nanos.to_le_bytes());
    bytes
}

const MEMORY_CAP: &str = "--as=2147483648";

/// Sends `data` as a sync message for the sender's own directory; the error it ends with.
async fn about_own_directory(setup: &Setup, data: Vec<u8>) -> Option<String> {
    let anna = setup.login("anna").await;
    let mut raw = setup.raw(&anna).await;
    raw.send(hostile::doc_frame(
        "sync",
        &anna.peer_id,
        &anna.directory_id,
        &data,
    ))
    .await;
    raw.error_within(WAIT).await
}

// --- 1. sync messages that make automerge allocate or divide by zero ---------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bloom_filter_claiming_billions_of_probes_is_refused_under_a_memory_cap() {
    let mut setup = Setup::new("", &[MEMORY_CAP]);
    let error = about_own_directory(
        &setup,
        hostile::with_bloom(hostile::bloom(1, 10, u64::from(u32::MAX), 2)),
    )
    .await;
    assert_eq!(
        error.as_deref(),
        Some("malformed sync message: a Bloom filter with impossible parameters")
    );
    assert!(setup.others_served().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bloom_filter_of_zero_bits_ends_its_connection_only_and_the_server_still_stops() {
    let mut setup = Setup::new("", &[]);
    let error = about_own_directory(&setup, hostile::with_bloom(hostile::bloom(1, 0, 7, 0))).await;
    assert_eq!(
        error.as_deref(),
        Some("malformed sync message: a Bloom filter with impossible parameters")
    );
    assert!(setup.others_served().await);
    assert!(
        setup.server.interrupt(Duration::from_secs(15)),
        "SIGINT stops it"
    );
}

// --- 2. the guard of server-only fields ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_change_without_dependencies_cannot_undo_a_deletion() {
    let mut setup = Setup::new("", &[]);
    let anna = setup.login("anna").await;
    let chefin = setup.login("chefin").await;
    let (id, mut record, mut state, mut raw) = setup.record(&anna, "Holunder").await;
    let (status, body) = setup
        .http(
            "POST",
            &format!("/api/clients/{id}/delete"),
            Some(&chefin.token),
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Anna takes the deletion, then sends a change of no dependencies from a made-up
    // actor that makes both server-only maps anew (and would win at their keys).
    tokio::time::sleep(Duration::from_millis(300)).await;
    raw.sync_doc(&id, &mut record, &mut state, WAIT).await;
    record
        .apply_changes([hostile::forged_root_change(
            &["deletion_events", "account"],
            200,
        )])
        .unwrap();
    while let Some(message) = record.generate_sync_message(&mut state) {
        raw.send(hostile::doc_frame(
            "sync",
            &anna.peer_id,
            &id,
            &message.encode(),
        ))
        .await;
    }
    assert_eq!(
        raw.error_within(WAIT).await.as_deref(),
        Some("change refused: this field is written by the server only")
    );
    // A fresh device still reads the record, and sees it deleted.
    let ben = setup.login("ben").await;
    let mut fresh = setup.raw(&ben).await;
    let mut copy = Automerge::new();
    assert!(
        fresh
            .sync_doc(&id, &mut copy, &mut sync::State::new(), WAIT)
            .await
    );
    let read = Document::<ClientRecord>::load(&copy.save())
        .unwrap()
        .read()
        .unwrap();
    let (view, _) = conflict_rules::record::fold_record(&read);
    assert!(
        matches!(
            view.status,
            conflict_rules::record::ClientStatus::Deleted { .. }
        ),
        "{:?}",
        view.status
    );
    assert!(setup.others_served().await);
}

/// A client record as another client might write it: every field but the two maps only
/// the server writes.
#[derive(autosurgeon::Reconcile)]
struct WithoutServerMaps {
    kind: String,
    schema: u64,
    tenant: TenantId,
    client_id: model::ClientId,
    pseudonym: String,
    name: String,
    first_name: String,
    language: Option<String>,
    master_data: std::collections::BTreeMap<String, String>,
    filter_criteria: std::collections::BTreeMap<String, bool>,
    primary_label: Option<String>,
    created: model::Stamp,
    created_by: UserId,
    lock_events: std::collections::BTreeMap<model::EntityId, model::client_record::LockEvent>,
    notes: std::collections::BTreeMap<model::EntityId, model::client_record::Note>,
    responsibilities:
        std::collections::BTreeMap<model::EntityId, model::client_record::Responsibility>,
    primary_claims: std::collections::BTreeMap<model::EntityId, model::client_record::PrimaryClaim>,
    acknowledgements: std::collections::BTreeMap<String, model::Stamp>,
}

async fn status_seen_by(
    setup: &Setup,
    who: &str,
    id: &str,
) -> conflict_rules::record::ClientStatus {
    let reader = setup.login(who).await;
    let mut raw = setup.raw(&reader).await;
    let mut copy = Automerge::new();
    assert!(
        raw.sync_doc(id, &mut copy, &mut sync::State::new(), WAIT)
            .await
    );
    let read = Document::<ClientRecord>::load(&copy.save())
        .unwrap()
        .read()
        .unwrap();
    conflict_rules::record::fold_record(&read).0.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_made_without_server_only_maps_can_still_be_deleted_and_restored() {
    use conflict_rules::record::ClientStatus;
    let mut setup = Setup::new("", &[]);
    let anna = setup.login("anna").await;
    let chefin = setup.login("chefin").await;
    let id = hostile::doc_id(rand_bytes());
    let full = Document::<ClientRecord>::create_client(
        &mut editor("anna"),
        &id.parse().unwrap(),
        TenantId::new("t1"),
        NewClient {
            pseudonym: "Ohne Karten".into(),
            ..NewClient::default()
        },
    )
    .unwrap()
    .read()
    .unwrap();
    let mut bare = automerge::AutoCommit::new();
    autosurgeon::reconcile(
        &mut bare,
        &WithoutServerMaps {
            kind: "client-record".into(),
            schema: model::document::SCHEMA_VERSION,
            tenant: full.tenant,
            client_id: full.client_id,
            pseudonym: full.pseudonym,
            name: full.name,
            first_name: full.first_name,
            language: full.language,
            master_data: full.master_data,
            filter_criteria: full.filter_criteria,
            primary_label: full.primary_label,
            created: full.created,
            created_by: full.created_by,
            lock_events: full.lock_events,
            notes: full.notes,
            responsibilities: full.responsibilities,
            primary_claims: full.primary_claims,
            acknowledgements: full.acknowledgements,
        },
    )
    .unwrap();
    bare.commit();
    let mut record = bare.document().clone();
    let (status, _) = hostile::register_record(setup.server.addr, &anna.token, &id, &record).await;
    assert_eq!(status, 201);
    let mut raw = setup.raw(&anna).await;
    assert!(
        raw.sync_doc(&id, &mut record, &mut sync::State::new(), WAIT)
            .await
    );
    assert_eq!(
        status_seen_by(&setup, "ben", &id).await,
        ClientStatus::Active
    );
    for (action, expected) in [("delete", true), ("restore", false)] {
        let (status, body) = setup
            .http(
                "POST",
                &format!("/api/clients/{id}/{action}"),
                Some(&chefin.token),
                "",
            )
            .await;
        assert_eq!(status, 200, "{action}: {body}");
        let deadline = Instant::now() + WAIT;
        loop {
            let deleted = matches!(
                status_seen_by(&setup, "ben", &id).await,
                ClientStatus::Deleted { .. }
            );
            if deleted == expected {
                break;
            }
            assert!(Instant::now() < deadline, "{action} never showed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (status, _) = setup
        .http(
            "POST",
            &format!("/api/clients/{id}/invitation"),
            Some(&chefin.token),
            "",
        )
        .await;
    assert_ne!(
        status, 500,
        "an invitation is refused or sent, never a server error"
    );
    assert!(setup.others_served().await);
}

// --- 3. connections that are only held ------------------------------------------------------

/// How many of `streams` the server has not closed.
fn still_open(streams: &mut [tokio::net::TcpStream]) -> usize {
    let mut byte = [0u8; 1];
    streams
        .iter_mut()
        .filter(|s| matches!(s.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_from_one_address_cannot_fill_the_descriptors() {
    let mut setup = Setup::new(
        "max_connections_per_address = 50\nheader_read_timeout_seconds = 2",
        &["--nofile=512"],
    );
    let mut held = Vec::new();
    for _ in 0..1_000 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_millis(500),
            hostile::connect_from(HOME, setup.server.addr),
        )
        .await
        {
            held.push(stream);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = still_open(&mut held);
    assert!(open <= 50, "{open} of {} idle connections held", held.len());
    assert!(
        setup.server.fds() < 150,
        "{} descriptors",
        setup.server.fds()
    );
    // Someone else is served meanwhile.
    let elsewhere = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let (status, _) =
        hostile::http_from(elsewhere, setup.server.addr, "GET", "/healthz", None, "").await;
    assert_eq!(status, 200);
    // The idle ones end after the header timeout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(still_open(&mut held), 0);
    drop(held);
    assert!(setup.others_served().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_end_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt as _;
    let mut setup = Setup::new("header_read_timeout_seconds = 2", &[]);
    let mut held = Vec::new();
    for i in 0..200u32 {
        let from = IpAddr::V4(Ipv4Addr::new(127, 3, (i / 200) as u8, (i % 200) as u8 + 1));
        let mut stream = hostile::connect_from(from, setup.server.addr)
            .await
            .unwrap();
        stream
            .write_all(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    // And bodies that never come: the request ends after its timeout.
    let mut body_held = hostile::connect_from(HOME, setup.server.addr)
        .await
        .unwrap();
    body_held
        .write_all(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(still_open(&mut held), 0, "every half-sent request ended");
    assert!(setup.others_served().await);
}

// --- 4. what a client can make the server keep ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_with_huge_names_keep_nothing() {
    let mut setup = Setup::new("", &[]);
    let (status, body) = setup
        .http(
            "POST",
            "/api/login",
            None,
            &serde_json::json!({ "login": "x".repeat(1_000_000), "password": "Falsch-9TGCJ##" })
                .to_string(),
        )
        .await;
    assert_eq!((status, body.as_str()), (413, r#"{"error":"too-large"}"#));
    let before = setup.server.rss_mb();
    let name = "y".repeat(60_000);
    for i in 0..200u32 {
        let from = IpAddr::V4(Ipv4Addr::new(127, 4, (i / 200) as u8, (i % 200) as u8 + 1));
        let (status, _) = hostile::login_from(
            from,
            setup.server.addr,
            &format!("{i}{name}"),
            "Falsch-9TGCJ##",
        )
        .await;
        assert!(status == 401 || status == 429, "{status}");
    }
    let kept = setup.server.rss_mb() - before;
    assert!(
        kept < 20.0,
        "{kept:.1} MB kept for 200 long names (12 MB of names)"
    );
    assert!(setup.others_served().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_unknown_documents_costs_nothing_and_has_a_budget() {
    let mut setup = Setup::new("message_burst = 50000\nmessages_per_second = 50000", &[]);
    let anna = setup.login("anna").await;
    let mut raw = setup.raw(&anna).await;
    let before = setup.server.rss_mb();
    let request = hostile::empty_request();
    let mut unavailable = 0;
    let mut ended = None;
    for i in 0..10_500u64 {
        let mut id = [0x77u8; 16];
        id[..8].copy_from_slice(&i.to_le_bytes());
        if !raw
            .send(hostile::doc_frame(
                "request",
                &anna.peer_id,
                &hostile::doc_id(id),
                &request,
            ))
            .await
        {
            break;
        }
    }
    while let Some(frame) = raw.next_within(Duration::from_secs(5)).await {
        match frame {
            Frame::Doc { kind, .. } if kind == "doc-unavailable" => unavailable += 1,
            Frame::Error(message) => ended = Some(message),
            Frame::Closed => break,
            _ => {}
        }
    }
    assert_eq!(unavailable, 10_000);
    assert_eq!(
        ended.as_deref(),
        Some("too many requests for documents that are not available")
    );
    let grown = setup.server.rss_mb() - before;
    assert!(grown < 40.0, "{grown:.1} MB for 10,000 unknown documents");
    assert!(setup.others_served().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_a_million_heads_is_refused() {
    let mut setup = Setup::new("", &[MEMORY_CAP]);
    let heads = hostile::made_up_hashes(900_000);
    let error = about_own_directory(&setup, hostile::sync_message(&heads, &[], &[], &[])).await;
    assert_eq!(
        error.as_deref(),
        Some("malformed sync message: too many hashes in a list")
    );
    assert!(setup.others_served().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_state_over_many_documents_has_a_budget() {
    let mut setup = Setup::new("message_burst = 50000\nmessages_per_second = 50000", &[]);
    let anna = setup.login("anna").await;
    // 600 groups anna may read, and for each the most heads one message may carry.
    let mut ids = Vec::new();
    for i in 0..600u32 {
        let mut bytes = [0x31u8; 16];
        bytes[..4].copy_from_slice(&i.to_le_bytes());
        let id = hostile::doc_id(bytes);
        let body = serde_json::json!({ "id": id, "kind": "group" }).to_string();
        let (status, _) = setup
            .http("POST", "/api/documents", Some(&anna.token), &body)
            .await;
        assert_eq!(status, 201);
        ids.push(id);
    }
    let mut raw = setup.raw(&anna).await;
    let heads = hostile::made_up_hashes(1_024);
    let message = hostile::sync_message(&heads, &[], &[], &[]);
    for id in &ids {
        if !raw
            .send(hostile::doc_frame("sync", &anna.peer_id, id, &message))
            .await
        {
            break;
        }
    }
    setup.ends_only(&mut raw, "too much announced state").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_refused_before_their_body_is_read() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut setup = Setup::new("upload_idle_seconds = 2", &[]);
    let addr = setup.server.addr;
    let path = format!("/api/blobs/{}", "0".repeat(64));
    // Without a token: the answer comes while the body is still being sent.
    let before = setup.server.rss_mb();
    let mut uploads = Vec::new();
    for _ in 0..20 {
        let path = path.clone();
        uploads.push(tokio::spawn(async move {
            let mut stream = hostile::connect_from(HOME, addr).await.unwrap();
            let head = format!(
                "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                25 * 1024 * 1024
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let _ = stream.write_all(&vec![b'a'; 64 * 1024]).await;
            let mut answer = vec![0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
                .await
                .unwrap()
                .unwrap_or(0);
            String::from_utf8_lossy(&answer[..n]).into_owned()
        }));
    }
    for upload in uploads {
        let answer = upload.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
    let grown = setup.server.rss_mb() - before;
    assert!(
        grown < 30.0,
        "{grown:.1} MB for 20 refused uploads of 25 MiB"
    );
    // With a token: an announced length beyond the limit is refused at once, and an
    // upload that stalls ends.
    let anna = setup.login("anna").await;
    let (status, body) = {
        let mut stream = hostile::connect_from(HOME, addr).await.unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
            anna.token,
            26 * 1024 * 1024
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        (answer[9..12].to_owned(), answer)
    };
    assert_eq!(status, "413", "{body}");
    let started = Instant::now();
    let mut stream = hostile::connect_from(HOME, addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1000\r\n\r\nabc",
        anna.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(setup.others_served().await);
}

// --- 5. logins ---------------------------------------------------------------------------

const WRONG: &str = "Falsch-9TGCJ##qk0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_elsewhere_does_not_lock_the_person_out() {
    let setup = Setup::new("", &[]);
    let addr = setup.server.addr;
    let attacker = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 66));
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(hostile::login_from(attacker, addr, "anna", WRONG).await.0);
    }
    assert_eq!(answers, [401, 401, 401, 429, 429], "the attacker waits");
    setup.login_from(HOME, "anna").await;
    // Twenty failures from one office address: colleagues who logged in there before
    // still get in; someone new there waits.
    let office = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 77));
    setup.login_from(office, "ben").await;
    for i in 0..20 {
        hostile::login_from(office, addr, &format!("niemand{i}"), WRONG).await;
    }
    setup.login_from(office, "ben").await;
    let (status, body) =
        hostile::login_from(office, addr, "chefin", &setup.passwords["chefin"]).await;
    assert_eq!(
        (status, body.as_str()),
        (429, r#"{"error":"rate-limited"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_cannot_race_past_the_limit() {
    let setup = Setup::new("", &[]);
    let addr = setup.server.addr;
    let tries: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(async move { hostile::login_from(HOME, addr, "anna", WRONG).await.0 })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for attempt in tries {
        *answers.entry(attempt.await.unwrap()).or_default() += 1;
    }
    // The allowance, and at most one more should a waiting try come back only after
    // the first wait (a second) has passed.
    let evaluated = answers.get(&401).copied().unwrap_or(0);
    assert!((3..=4).contains(&evaluated), "{answers:?}");
    assert_eq!(
        evaluated + answers.get(&429).copied().unwrap_or(0),
        50,
        "{answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ever_new_addresses_buy_only_the_accounts_allowance() {
    let setup = Setup::new("", &[]);
    setup.login_from(HOME, "anna").await;
    let addr = setup.server.addr;
    let tries: Vec<_> = (0..40u8)
        .map(|i| {
            tokio::spawn(async move {
                let from = IpAddr::V4(Ipv4Addr::new(127, 5, 0, i + 1));
                hostile::login_from(from, addr, "anna", WRONG).await.0
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for attempt in tries {
        *answers.entry(attempt.await.unwrap()).or_default() += 1;
    }
    // The account's allowance, and at most one more per wait that passed meanwhile.
    let evaluated = answers.get(&401).copied().unwrap_or(0);
    assert!((10..=11).contains(&evaluated), "{answers:?}");
    assert_eq!(
        evaluated + answers.get(&429).copied().unwrap_or(0),
        40,
        "{answers:?}"
    );
    setup.login_from(HOME, "anna").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_password_of_a_change_is_throttled_too() {
    let setup = Setup::new("", &[]);
    let anna = setup.login("anna").await;
    let mut answers = Vec::new();
    for _ in 0..5 {
        let body = serde_json::json!({ "old": WRONG, "new": "Neu!Kranich-Weide7" });
        answers.push(
            setup
                .http(
                    "POST",
                    "/api/password",
                    Some(&anna.token),
                    &body.to_string(),
                )
                .await
                .0,
        );
    }
    assert_eq!(answers, [401, 401, 401, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_account_answers_like_a_wrong_password() {
    let mut server = ServerProcess::new("");
    let password = server.account("t1", "anna", "counsellor");
    let locked = server.command_output(&["admin", "lock", "--login", "anna"]);
    assert!(locked.contains("locked"), "{locked}");
    server.start();
    let right = hostile::login_from(HOME, server.addr, "anna", &password).await;
    let wrong = hostile::login_from(HOME, server.addr, "anna", WRONG).await;
    let unknown = hostile::login_from(HOME, server.addr, "niemand", WRONG).await;
    assert_eq!(right, (401, r#"{"error":"wrong-credentials"}"#.to_owned()));
    assert_eq!(wrong, right);
    assert_eq!(unknown, right);
}

// --- 6. the smaller ones ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_opens_a_few_websockets_only() {
    let setup = Setup::new("max_websockets_per_session = 4", &[]);
    let anna = setup.login("anna").await;
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..20 {
        match Raw::connect(setup.server.addr, &anna.token, &anna.peer_id).await {
            Ok(raw) => open.push(raw),
            Err(error) => {
                assert!(error.contains("429"), "{error}");
                refused += 1;
            }
        }
    }
    assert_eq!((open.len(), refused), (4, 16));
    drop(open);
    tokio::time::sleep(Duration::from_millis(300)).await;
    setup.raw(&anna).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_peer_id_is_refused_and_never_logged() {
    let mut setup = Setup::new("", &[]);
    let anna = setup.login("anna").await;
    for forged in [
        format!("{}\nINJECTED-LINE forged", anna.peer_id),
        format!("INJECTED-LONG{}", "x".repeat(200_000)),
    ] {
        let mut raw = Raw::connect(setup.server.addr, &anna.token, "")
            .await
            .unwrap();
        raw.send(hostile::join(&forged)).await;
        let error = raw.error_within(WAIT).await.unwrap();
        assert!(
            error == "the message is not from this session's peer id"
                || error.starts_with("malformed message"),
            "{error}"
        );
    }
    assert!(setup.others_served().await);
    let log = setup.server.log();
    assert!(!log.contains("INJECTED"), "{log}");
}

/// A header of an HTTP answer, lower-cased name.
fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

async fn raw_answer(setup: &Setup, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = hostile::connect_from(HOME, setup.server.addr)
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cannot_be_framed_and_nothing_is_sniffed() {
    let setup = Setup::new("", &[]);
    let page = raw_answer(
        &setup,
        "GET /invitation/abcdef HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(header(&page, "x-frame-options"), Some("DENY"), "{page}");
    assert!(
        header(&page, "content-security-policy")
            .is_some_and(|p| p.contains("frame-ancestors 'none'")),
        "{page}"
    );
    assert_eq!(header(&page, "referrer-policy"), Some("no-referrer"));
    let anna = setup.login("anna").await;
    let blob = raw_answer(
        &setup,
        &format!(
            "GET /api/blobs/{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            "0".repeat(64),
            anna.token
        ),
    )
    .await;
    assert_eq!(
        header(&blob, "x-content-type-options"),
        Some("nosniff"),
        "{blob}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_gets_a_stable_code() {
    let setup = Setup::new("", &[]);
    let cases = [
        ("not json", "400", r#"{"error":"malformed-json"}"#),
        (
            r#"{"login": 5, "password": "x"}"#,
            "422",
            r#"{"error":"invalid-request"}"#,
        ),
    ];
    for (body, status, answer) in cases {
        let (got, text) = setup.http("POST", "/api/login", None, body).await;
        assert_eq!((got.to_string().as_str(), text.as_str()), (status, answer));
    }
    let plain = raw_answer(
        &setup,
        "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 415"), "{plain}");
    assert!(plain.ends_with(r#"{"error":"not-json"}"#), "{plain}");
    let (status, body) = setup.http("GET", "/nirgends", None, "").await;
    assert_eq!((status, body.as_str()), (404, r#"{"error":"not-found"}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_the_bearer_of_their_token_only() {
    let open = Setup::new("", &[]);
    assert_eq!(
        open.http("GET", "/metrics", None, "").await.0,
        404,
        "off without a token"
    );
    let setup = Setup::new("metrics_token = \"s3cret-scrape\"", &[]);
    assert_eq!(setup.http("GET", "/metrics", None, "").await.0, 404);
    assert_eq!(
        setup.http("GET", "/metrics", Some("wrong"), "").await.0,
        404
    );
    let (status, body) = setup
        .http("GET", "/metrics", Some("s3cret-scrape"), "")
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("sync_server_connections"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_that_meet_the_rule_but_are_easy_to_guess_are_refused() {
    let setup = Setup::new("", &[]);
    let chefin = setup.login("chefin").await;
    for (password, code) in [
        ("Passwort2!", "password-too-weak"),
        ("Sommer2027!", "password-too-weak"),
        ("Changeme2!", "password-too-weak"),
        ("Aaaaaaa1!", "password-too-weak"),
        ("Schatz75!", "password-too-weak"),
        ("Abcdefg1\u{0}", "password-control-character"),
    ] {
        let body =
            serde_json::json!({ "login": "neu", "role": "counsellor", "password": password });
        let (status, answer) = setup
            .http(
                "POST",
                "/api/accounts",
                Some(&chefin.token),
                &body.to_string(),
            )
            .await;
        assert_eq!(
            (status, answer),
            (422, format!(r#"{{"error":"{code}"}}"#)),
            "{password:?}"
        );
    }
}

// --- 7. a silent websocket (slow: the session's idle time is a minute at least) ------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_websocket_does_not_keep_its_session_alive() {
    if std::env::var_os("CASE_RECORDS_SLOW").is_none() {
        return;
    }
    let setup = Setup::new("session_idle_minutes = 1", &[]);
    let anna = setup.login("anna").await;
    let mut raw = setup.raw(&anna).await;
    assert_eq!(
        raw.error_within(Duration::from_secs(150)).await.as_deref(),
        Some("session ended")
    );
    let (status, _) = setup
        .http("POST", "/api/logout", Some(&anna.token), "")
        .await;
    assert_eq!(status, 401, "the session expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_messages_relayed_to_everyone_have_a_budget() {
    let mut setup = Setup::new("", &[]);
    let anna = setup.login("anna").await;
    let (id, _, _, _keep) = setup.record(&anna, "Weide").await;
    let mut raw = setup.raw(&anna).await;
    let data = vec![0xa0u8; 1_000];
    for i in 0..300u64 {
        let frame = hostile::cbor_map(&[
            ("type", hostile::Cbor::Text("ephemeral")),
            ("senderId", hostile::Cbor::Text(&anna.peer_id)),
            ("targetId", hostile::Cbor::Text(hostile::SERVER_PEER)),
            ("documentId", hostile::Cbor::Text(&id)),
            ("sessionId", hostile::Cbor::Text("s1")),
            ("count", hostile::Cbor::Uint(i)),
            ("data", hostile::Cbor::Bytes(&data)),
        ]);
        if !raw.send(frame).await {
            break;
        }
    }
    setup
        .ends_only(&mut raw, "too many ephemeral messages")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_ended_instead_of_queued_for() {
    use automerge::transaction::Transactable as _;
    let mut setup = Setup::new("write_timeout_seconds = 2\nmetrics_token = \"m\"", &[]);
    let anna = setup.login("anna").await;
    let ben = setup.login("ben").await;
    // A group of anna's with 8 MB in it that does not compress.
    let id = hostile::doc_id(rand_bytes());
    let mut big = Automerge::new();
    big.transact::<_, _, automerge::AutomergeError>(|tx| {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..8 {
            let noise: Vec<u8> = (0..1 << 20)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            tx.put(
                automerge::ROOT,
                format!("part{i}"),
                automerge::ScalarValue::Bytes(noise),
            )?;
        }
        Ok(())
    })
    .unwrap();
    let body = serde_json::json!({ "id": id, "kind": "group" }).to_string();
    assert_eq!(
        setup
            .http("POST", "/api/documents", Some(&anna.token), &body)
            .await
            .0,
        201
    );
    let mut a = setup.raw(&anna).await;
    assert!(
        a.sync_doc(
            &id,
            &mut big,
            &mut sync::State::new(),
            Duration::from_secs(60)
        )
        .await
    );
    // Ben asks for it and reads nothing.
    let mut slow = Raw::connect_reading_nothing(setup.server.addr, &ben.token, &ben.peer_id)
        .await
        .unwrap();
    slow.send(hostile::doc_frame(
        "request",
        &ben.peer_id,
        &id,
        &hostile::empty_request(),
    ))
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, metrics) = setup.http("GET", "/metrics", Some("m"), "").await;
        if metrics.contains("reason=\"too-slow\"} 1") {
            break;
        }
        assert!(Instant::now() < deadline, "never ended: {metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(slow);
    assert!(setup.others_served().await);
}
