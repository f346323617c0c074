//! The HTTP API over a real socket on 127.0.0.1, with a real SQLite file in a temporary
//! data directory: login, logout, password rules, locked accounts, restarts, bad input.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use sync_server::accounts::{AccountState, Role};
use sync_server::{Config, open_state, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const PASSWORD: &str = "9TGCJ##qk0";

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    state: std::sync::Arc<sync_server::http::AppState>,
}

impl Server {
    async fn start(config: &Config) -> Self {
        let state = open_state(config).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
            state,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap().unwrap();
    }

    /// One HTTP/1.1 request; returns the status and the body.
    async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    async fn login(&self, login: &str, password: &str) -> (u16, String) {
        let body = serde_json::json!({ "login": login, "password": password }).to_string();
        self.request("POST", "/api/login", None, &body).await
    }
}

fn config(dir: &tempfile::TempDir) -> Config {
    Config {
        data_dir: dir.path().to_owned(),
        ..Config::default()
    }
}

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
