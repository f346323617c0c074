//! The HTTP API over a real socket on 127.0.0.1, with a real SQLite file in a temporary
//! data directory: login, logout, password rules, locked accounts, restarts, bad input.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sync_server::accounts::{AccountState, Role};

mod common;

use common::{PASSWORD, Server, config};

fn token_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["token"].as_str().unwrap().to_owned()
}

fn error_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn login_logout_and_wrong_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server
        .state
        .accounts
        .create(None, "t", "admin", Role::Admin, PASSWORD)
        .unwrap();

    let (status, body) = server.login("admin", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = token_of(&body);
    let (status, body) = server.login("admin", "Falsch!123").await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (401, "wrong-credentials")
    );

    let (status, _) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!(status, 204);
    let (status, body) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!((status, error_of(&body).as_str()), (401, "no-session"));
    let (status, _) = server
        .request("POST", "/api/logout", Some("forged"), "")
        .await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn locked_accounts_and_weak_passwords_are_refused_with_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    let id = server
        .state
        .accounts
        .create(None, "t", "berater", Role::Counsellor, PASSWORD)
        .unwrap();
    let token = token_of(&server.login("berater", PASSWORD).await.1);

    let weak = serde_json::json!({ "old": PASSWORD, "new": "Passwort1!" }).to_string();
    let (status, body) = server
        .request("POST", "/api/password", Some(&token), &weak)
        .await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (422, "password-too-common")
    );

    server
        .state
        .accounts
        .set_state(None, &id, AccountState::Locked)
        .unwrap();
    let (status, body) = server.login("berater", PASSWORD).await;
    assert_eq!((status, error_of(&body).as_str()), (403, "account-locked"));
    let (status, _) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!(status, 401, "the locked account's session ended at once");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_accounts_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server
        .state
        .accounts
        .create(None, "t", "admin", Role::Admin, PASSWORD)
        .unwrap();
    let token = token_of(&server.login("admin", PASSWORD).await.1);
    server.stop().await;

    let server = Server::start(&config(&dir)).await;
    assert_eq!(server.state.accounts.count().unwrap(), 1);
    let changed = serde_json::json!({ "old": PASSWORD, "new": "Neu!Pass2026x" }).to_string();
    let (status, _) = server
        .request("POST", "/api/password", Some(&token), &changed)
        .await;
    assert_eq!(status, 204, "the session survived the restart");
    assert_eq!(server.login("admin", "Neu!Pass2026x").await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_server_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server
        .state
        .accounts
        .create(None, "t", "admin", Role::Admin, PASSWORD)
        .unwrap();
    for body in ["not json", "{\"login\": 5}", "{}", &"x".repeat(100_000)] {
        let (status, _) = server.request("POST", "/api/login", None, body).await;
        assert!((400..500).contains(&status), "{status} for {:.20}", body);
    }
    let (status, body) = server.request("GET", "/healthz", None, "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(server.login("admin", PASSWORD).await.0, 200);
    let (status, metrics) = server.request("GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("sync_server_logins_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}
