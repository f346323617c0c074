//! Accounts from the app and the web (issue 15), against the real server on 127.0.0.1:
//! staff accounts with a password or an invitation e-mail (through the pickup
//! directory), what locking, unlocking, a new password and deletion end, one's own
//! account's deletion, device recovery keys, the person's account page, and directories
//! that note a change of staff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use model::directory::Directory;
use sync_server::accounts::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::peer::{self, Client, Session, until};
use common::{PASSWORD, Server, config};

const NEW_PASSWORD: &str = "Wolke#Kranich26";

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

/// One HTTP/1.1 request with a form body; returns the status, the head and the body.
async fn form(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (
        response[9..12].parse().unwrap(),
        head.to_owned(),
        body.to_owned(),
    )
}

/// Every e-mail in the pickup directory to `recipient`, soft line breaks undone.
fn mails_to(dir: &tempfile::TempDir, recipient: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.path().join("outbox")) else {
        return Vec::new();
    };
    entries
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .map(|m| m.replace("=\r\n", ""))
        .filter(|m| m.contains(&format!("\r\nTo: {recipient}\r\n")))
        .collect()
}

/// Waits for the `n`th invitation e-mail to `recipient`; returns the links' paths.
async fn invitation_links(dir: &tempfile::TempDir, recipient: &str, n: usize) -> Vec<String> {
    until(|| {
        let found = mails_to(dir, recipient).len();
        (found >= n)
            .then_some(())
            .ok_or_else(|| format!("{found} of {n} invitations to {recipient}"))
    })
    .await;
    mails_to(dir, recipient)
        .iter()
        .filter_map(|mail| {
            mail.split_whitespace()
                .find_map(|word| word.find("/invitation/").map(|at| word[at..].to_owned()))
        })
        .collect()
}

fn recovery_keys_of(server: &Server, account: &str) -> i64 {
    server.state.accounts.recovery_devices(account).unwrap()
}

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const DEVICE: &str = "laptop-0123456789abcdef";

async fn store_key(server: &Server, token: &str, device: &str, key: &str) -> u16 {
    let body = serde_json::json!({ "key": key }).to_string();
    server
        .request(
            "PUT",
            &format!("/api/recovery/{device}"),
            Some(token),
            &body,
        )
        .await
        .0
}

async fn new_account(server: &Server, token: &str, body: serde_json::Value) -> (u16, String) {
    server
        .request("POST", "/api/accounts", Some(token), &body.to_string())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_accounts_come_with_a_password_or_an_invitation_and_changes_end_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let chefin = peer::session(&server, "chefin").await;
    let admin = chefin.token.as_str();

    // Exactly one of a password and an address; the address must look like one.
    for (body, code) in [
        (
            serde_json::json!({"login": "x", "role": "counsellor"}),
            "invalid-request",
        ),
        (
            serde_json::json!({"login": "x", "role": "counsellor", "password": NEW_PASSWORD, "email": "x@example.org"}),
            "invalid-request",
        ),
        (
            serde_json::json!({"login": "x", "role": "counsellor", "email": "kein-at"}),
            "bad-email",
        ),
    ] {
        let (status, answer) = new_account(&server, admin, body).await;
        assert_eq!((status, json(&answer)["error"].as_str()), (422, Some(code)));
    }

    // A counsellor invited by e-mail: listed at once, but nobody can sign in yet.
    let (status, answer) = new_account(
        &server,
        admin,
        serde_json::json!({"login": "berta", "role": "counsellor", "email": "berta@example.org"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let berta = json(&answer)["account_id"].as_str().unwrap().to_owned();
    let (_, staff) = server.request("GET", "/api/staff", Some(admin), "").await;
    assert!(staff.contains("\"berta\""), "{staff}");
    assert_eq!(server.login("berta", PASSWORD).await.0, 401);
    let links = invitation_links(&dir, "berta@example.org", 1).await;
    assert_eq!(links.len(), 1);

    // The address is not kept: the queue row, once sent, has no recipient, and the
    // accounts table has no column for one.
    let conn = rusqlite::Connection::open(server.state.config.database_path()).unwrap();
    until(|| {
        let kept: i64 = conn
            .query_row(
                "SELECT count(*) FROM mail_queue WHERE recipient LIKE '%berta@%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (kept == 0)
            .then_some(())
            .ok_or_else(|| "the sent invitation still names its recipient".into())
    })
    .await;

    // A new invitation: only its link works, the first one is revoked at once.
    let path = format!("/api/accounts/{berta}/invitation");
    let again = serde_json::json!({"email": "berta@example.org"}).to_string();
    assert_eq!(
        server.request("POST", &path, Some(admin), &again).await.0,
        204
    );
    let first = links[0].clone();
    let links = invitation_links(&dir, "berta@example.org", 2).await;
    assert_eq!(links.len(), 2);
    let newer = links
        .iter()
        .find(|link| **link != first)
        .expect("a second link")
        .clone();
    assert_eq!(
        form(server.addr, "GET", &first, "").await.0,
        404,
        "the older link is revoked by the new invitation"
    );
    let (status, page) = form(server.addr, "GET", &newer, "")
        .await
        .into_status_body();
    assert_eq!(status, 200);
    assert!(page.contains("Passwort festlegen"));
    let set = format!("password={0}&repeat={0}", NEW_PASSWORD.replace('#', "%23"));
    let (status, _, page) = form(server.addr, "POST", &newer, &set).await;
    assert_eq!(status, 200, "{page}");
    for link in &links {
        assert_eq!(form(server.addr, "GET", link, "").await.0, 404, "used up");
    }
    assert_eq!(server.login("berta", NEW_PASSWORD).await.0, 200);
    let (status, answer) = server.request("POST", &path, Some(admin), &again).await;
    assert_eq!(
        (status, json(&answer)["error"].as_str()),
        (422, Some("invalid-request")),
        "her password is set: no more invitations"
    );

    // Locking ends her session; unlocking lets her sign in again; a new password ends
    // the sessions she had.
    let session = |password: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server.login("berta", password).await;
            assert_eq!(status, 200, "{body}");
            json(&body)["token"].as_str().unwrap().to_owned()
        }
    };
    let token = session(NEW_PASSWORD).await;
    assert_eq!(store_key(&server, &token, DEVICE, KEY).await, 204);
    assert_eq!(recovery_keys_of(&server, &berta), 1);
    let lock = format!("/api/accounts/{berta}/lock");
    assert_eq!(server.request("POST", &lock, Some(admin), "").await.0, 204);
    assert_eq!(
        server
            .request("GET", "/api/staff", Some(&token), "")
            .await
            .0,
        401
    );
    assert_eq!(server.login("berta", NEW_PASSWORD).await.0, 401);
    let unlock = format!("/api/accounts/{berta}/unlock");
    assert_eq!(
        server.request("POST", &unlock, Some(admin), "").await.0,
        204
    );
    let token = session(NEW_PASSWORD).await;
    let reset = format!("/api/accounts/{berta}/password");
    let body = serde_json::json!({ "password": PASSWORD }).to_string();
    assert_eq!(
        server.request("PUT", &reset, Some(admin), &body).await.0,
        204
    );
    assert_eq!(
        server
            .request("GET", "/api/staff", Some(&token), "")
            .await
            .0,
        401
    );
    assert_eq!(
        recovery_keys_of(&server, &berta),
        1,
        "a reset keeps the key: it is what lets her device re-key"
    );

    // Deleting ends her session and forgets her recovery keys.
    let token = session(PASSWORD).await;
    let delete = format!("/api/accounts/{berta}/delete");
    assert_eq!(
        server.request("POST", &delete, Some(admin), "").await.0,
        204
    );
    assert_eq!(
        server
            .request("GET", "/api/staff", Some(&token), "")
            .await
            .0,
        401
    );
    assert_eq!(recovery_keys_of(&server, &berta), 0);
    assert_eq!(server.login("berta", PASSWORD).await.0, 401);
    let (status, _) = server.request("POST", &path, Some(admin), &again).await;
    assert_eq!(status, 404, "no invitation for a deleted account");
    server.stop().await;
}

trait StatusBody {
    fn into_status_body(self) -> (u16, String);
}

impl StatusBody for (u16, String, String) {
    fn into_status_body(self) -> (u16, String) {
        (self.0, self.2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_accounts_are_deleted_with_the_password_but_never_the_last_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    server.account("t2", "fremd", Role::Admin);
    let chefin = peer::session(&server, "chefin").await;
    let anna = peer::session(&server, "anna").await;
    assert_eq!(store_key(&server, &anna.token, DEVICE, KEY).await, 204);

    let own = |password: &str| serde_json::json!({ "password": password }).to_string();
    let (status, answer) = server
        .request(
            "POST",
            "/api/account/delete",
            Some(&anna.token),
            &own("falsch"),
        )
        .await;
    assert_eq!(
        (status, json(&answer)["error"].as_str()),
        (401, Some("wrong-credentials"))
    );
    assert_eq!(
        server
            .request("GET", "/api/staff", Some(&anna.token), "")
            .await
            .0,
        200,
        "a wrong password deletes nothing"
    );
    let (status, _) = server
        .request(
            "POST",
            "/api/account/delete",
            Some(&anna.token),
            &own(PASSWORD),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        server
            .request("GET", "/api/staff", Some(&anna.token), "")
            .await
            .0,
        401
    );
    assert_eq!(server.login("anna", PASSWORD).await.0, 401);
    assert_eq!(recovery_keys_of(&server, &anna_id), 0);

    // The tenant's only admin stays; with a second one, she may go. Another tenant's
    // admin counts for nothing here.
    let (status, answer) = server
        .request(
            "POST",
            "/api/account/delete",
            Some(&chefin.token),
            &own(PASSWORD),
        )
        .await;
    assert_eq!(
        (status, json(&answer)["error"].as_str()),
        (409, Some("last-admin"))
    );
    let (status, _) = new_account(
        &server,
        &chefin.token,
        serde_json::json!({"login": "zweite", "role": "admin", "password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = server
        .request(
            "POST",
            "/api/account/delete",
            Some(&chefin.token),
            &own(PASSWORD),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = server.login("zweite", NEW_PASSWORD).await;
    assert_eq!(status, 200);
    let zweite = json(&body)["token"].as_str().unwrap().to_owned();
    let (status, answer) = server
        .request(
            "POST",
            "/api/account/delete",
            Some(&zweite),
            &own(NEW_PASSWORD),
        )
        .await;
    assert_eq!(
        (status, json(&answer)["error"].as_str()),
        (409, Some("last-admin")),
        "now she is the last"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_keys_go_back_only_to_their_account_and_survive_a_password_reset() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    server.account("t1", "ben", Role::Counsellor);
    let chefin = peer::session(&server, "chefin").await;
    let anna = peer::session(&server, "anna").await;
    let ben = peer::session(&server, "ben").await;
    let path = format!("/api/recovery/{DEVICE}");

    assert_eq!(server.request("GET", &path, None, "").await.0, 401);
    assert_eq!(store_key(&server, "", DEVICE, KEY).await, 401);
    assert_eq!(
        server.request("GET", &path, Some(&anna.token), "").await.0,
        404
    );
    // Malformed device ids and keys are refused: too short, a character outside the
    // alphabet, a key of 31 bytes, one in a non-canonical spelling, padding.
    assert_eq!(store_key(&server, &anna.token, "kurz", KEY).await, 400);
    assert_eq!(
        store_key(&server, &anna.token, "laptop.0123456789abcdef", KEY).await,
        400
    );
    for bad in [
        &KEY[..42],
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",
    ] {
        assert_eq!(
            store_key(&server, &anna.token, DEVICE, bad).await,
            422,
            "{bad}"
        );
    }

    assert_eq!(store_key(&server, &anna.token, DEVICE, KEY).await, 204);
    let (status, body) = server.request("GET", &path, Some(&anna.token), "").await;
    assert_eq!((status, json(&body)["key"].as_str()), (200, Some(KEY)));
    assert_eq!(
        server.request("GET", &path, Some(&ben.token), "").await.0,
        404,
        "another account's device key is nobody else's"
    );
    assert_eq!(
        server
            .request("GET", &path, Some(&chefin.token), "")
            .await
            .0,
        404,
        "not even an admin's"
    );

    // After an admin reset her password, her device signs in with the new one and gets
    // its key back; the old session is gone.
    let reset = format!("/api/accounts/{anna_id}/password");
    let body = serde_json::json!({ "password": NEW_PASSWORD }).to_string();
    assert_eq!(
        server
            .request("PUT", &reset, Some(&chefin.token), &body)
            .await
            .0,
        204
    );
    assert_eq!(
        server.request("GET", &path, Some(&anna.token), "").await.0,
        401
    );
    let (status, body) = server.login("anna", NEW_PASSWORD).await;
    assert_eq!(status, 200);
    let token = json(&body)["token"].as_str().unwrap().to_owned();
    let (status, body) = server.request("GET", &path, Some(&token), "").await;
    assert_eq!((status, json(&body)["key"].as_str()), (200, Some(KEY)));

    // At most 16 devices per account: the one stored longest ago goes.
    for n in 0..20 {
        let device = format!("device-{n:02}-0123456789abcdef");
        assert_eq!(store_key(&server, &token, &device, KEY).await, 204);
    }
    assert_eq!(recovery_keys_of(&server, &anna_id), 16);
    assert_eq!(
        server.request("GET", &path, Some(&token), "").await.0,
        404,
        "the first device's key was the oldest"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_deletes_their_own_account_on_the_account_page() {
    use model::Document;
    use model::client_record::{ClientRecord, NewClient};

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    let anna = peer::session(&server, "anna").await;
    let a = Client::connect(&server, &anna).await;
    let record = Document::<ClientRecord>::create_client(
        &mut peer::editor(&anna_id),
        &model::DocumentId::from_bytes([7; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Kiesel".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    assert_eq!(peer::register_record(&server, &anna, &record).await, 201);
    let record_id = peer::model_id(record.document_id());
    peer::stored(&server, record.document_id()).await;
    let body = serde_json::json!({ "password": NEW_PASSWORD }).to_string();
    let path = format!("/api/clients/{record_id}/password");
    assert_eq!(
        server
            .request("PUT", &path, Some(&anna.token), &body)
            .await
            .0,
        204
    );
    assert_eq!(server.login("Kiesel", NEW_PASSWORD).await.0, 200);

    // The page: a form, in German, with the security headers of every answer.
    let (status, head, page) = form(server.addr, "GET", "/account", "").await;
    assert_eq!(status, 200);
    assert!(page.contains("Eigenes Konto löschen") && page.contains("name=\"confirm\""));
    let head = head.to_ascii_lowercase();
    assert!(head.contains("x-frame-options: deny"), "{head}");
    assert!(head.contains("frame-ancestors 'none'"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");

    let password = NEW_PASSWORD.replace('#', "%23");
    let (status, _, page) = form(
        server.addr,
        "POST",
        "/account",
        &format!("login=Kiesel&password={password}"),
    )
    .await;
    assert_eq!(status, 422, "no confirmation");
    assert!(page.contains("bestätigen"), "{page}");
    let (status, _, page) = form(
        server.addr,
        "POST",
        "/account",
        "login=Kiesel&password=falsch&confirm=ja",
    )
    .await;
    assert_eq!(status, 401);
    assert!(page.contains("Login oder Passwort stimmen nicht"), "{page}");
    let (status, _, page) = form(
        server.addr,
        "POST",
        "/account",
        &format!(
            "login=anna&password={}&confirm=ja",
            PASSWORD.replace('#', "%23")
        ),
    )
    .await;
    assert_eq!(status, 403, "staff delete their account in the app");
    assert!(page.contains("in der App"), "{page}");
    assert_eq!(server.login("anna", PASSWORD).await.0, 200);

    let (status, _, page) = form(
        server.addr,
        "POST",
        "/account",
        &format!("login=Kiesel&password={password}&confirm=ja"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Konto gelöscht"));
    assert_eq!(server.login("Kiesel", NEW_PASSWORD).await.0, 401);
    // The record reads as deleted everywhere, by the server's own deletion event.
    let read: ClientRecord = server.state.author.read(record_id).await.unwrap();
    let (view, _) = conflict_rules::record::fold_record(&read);
    assert!(
        matches!(
            view.status,
            conflict_rules::record::ClientStatus::Deleted { .. }
        ),
        "{:?}",
        view.status
    );
    // And her colleague's copy learns it through sync.
    until(|| {
        let (view, _) =
            conflict_rules::record::fold_record(&peer::read_as::<ClientRecord>(&record));
        matches!(
            view.status,
            conflict_rules::record::ClientStatus::Deleted { .. }
        )
        .then_some(())
        .ok_or_else(|| format!("still {:?}", view.status))
    })
    .await;
    a.stop().await;
    server.stop().await;
}

/// The directory's `staff_changed_ms`, as the client's copy has it.
fn staff_changed(directory: &samod::DocHandle) -> Option<u64> {
    peer::read_as::<Directory>(directory).staff_changed_ms
}

async fn staff_change_seen(directory: &samod::DocHandle, after: Option<u64>) -> Option<u64> {
    until(|| match staff_changed(directory) {
        now if now > after => Ok(()),
        now => Err(format!("staff_changed_ms stayed {now:?}")),
    })
    .await;
    staff_changed(directory)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_colleague_sees_the_staff_change_in_their_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    server.account("t1", "anna", Role::Counsellor);
    server.account("t2", "fremd", Role::Counsellor);
    let chefin = peer::session(&server, "chefin").await;
    let anna: Session = peer::session(&server, "anna").await;
    let fremd = peer::session(&server, "fremd").await;
    let a = Client::connect(&server, &anna).await;
    let f = Client::connect(&server, &fremd).await;
    let annas = a.find(&anna.directory_id).await.unwrap();
    let fremds = f.find(&fremd.directory_id).await.unwrap();
    let before = staff_changed(&annas);

    let (status, answer) = new_account(
        &server,
        &chefin.token,
        serde_json::json!({"login": "carl", "role": "counsellor", "password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let created = staff_change_seen(&annas, before).await;
    let (_, staff) = server
        .request("GET", "/api/staff", Some(&anna.token), "")
        .await;
    assert!(staff.contains("\"carl\""), "{staff}");

    let carl = json(&answer)["account_id"].as_str().unwrap().to_owned();
    let lock = format!("/api/accounts/{carl}/lock");
    assert_eq!(
        server
            .request("POST", &lock, Some(&chefin.token), "")
            .await
            .0,
        204
    );
    staff_change_seen(&annas, created).await;
    let (_, staff) = server
        .request("GET", "/api/staff", Some(&anna.token), "")
        .await;
    assert!(!staff.contains("\"carl\""), "{staff}");

    // Another tenant's directory never moved.
    assert_eq!(staff_changed(&fremds), None);
    a.stop().await;
    f.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_person_gets_no_new_deletion_on_the_account_page() {
    use model::Document;
    use model::client_record::{ClientRecord, NewClient};

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let chefin = peer::session(&server, "chefin").await;
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    let anna = peer::session(&server, "anna").await;
    let a = Client::connect(&server, &anna).await;
    let record = Document::<ClientRecord>::create_client(
        &mut peer::editor(&anna_id),
        &model::DocumentId::from_bytes([8; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Kiesel".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    assert_eq!(peer::register_record(&server, &anna, &record).await, 201);
    let record_id = peer::model_id(record.document_id());
    peer::stored(&server, record.document_id()).await;
    let body = serde_json::json!({ "password": NEW_PASSWORD }).to_string();
    let path = format!("/api/clients/{record_id}/password");
    assert_eq!(
        server
            .request("PUT", &path, Some(&anna.token), &body)
            .await
            .0,
        204
    );
    let (status, _, page) = form(server.addr, "GET", "/account", "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<title>Eigenes Konto löschen</title>"),
        "{page}"
    );

    // An admin deleted the record: the person's own deletion would restart the
    // interval. She gets the answer a wrong password gets, as at a login.
    let path = format!("/api/clients/{record_id}/delete");
    assert_eq!(
        server
            .request("POST", &path, Some(&chefin.token), "")
            .await
            .0,
        200
    );
    let events = |read: &ClientRecord| read.deletion_events.len();
    let before: ClientRecord = server.state.author.read(record_id).await.unwrap();
    assert_eq!(events(&before), 1);
    let password = NEW_PASSWORD.replace('#', "%23");
    let (status, _, page) = form(
        server.addr,
        "POST",
        "/account",
        &format!("login=Kiesel&password={password}&confirm=ja"),
    )
    .await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("Login oder Passwort stimmen nicht"), "{page}");
    let after: ClientRecord = server.state.author.read(record_id).await.unwrap();
    assert_eq!(events(&after), 1, "no new deletion event");
    // Written to the access log like a login.
    let logged = server
        .state
        .accounts
        .access_log()
        .unwrap()
        .into_iter()
        .filter(|entry| entry.event.starts_with("account-page"))
        .count();
    assert_eq!(logged, 1);
    a.stop().await;
    server.stop().await;
}
