//! The server the integration tests run: a real socket on 127.0.0.1, a real SQLite file
//! in a temporary data directory, and plain HTTP/1.1 requests written by hand.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use sync_server::accounts::Role;
use sync_server::state::AppState;
use sync_server::{Config, open_state, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub mod hostile;
pub mod peer;
pub mod process;

pub const PASSWORD: &str = "9TGCJ##qk0";

/// What the test servers' `/metrics` answers to.
pub const METRICS_TOKEN: &str = "metrics-test-token";

pub fn config(dir: &tempfile::TempDir) -> Config {
    Config {
        data_dir: dir.path().to_owned(),
        metrics_token: Some(METRICS_TOKEN.into()),
        ..Config::default()
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    pub async fn start(config: &Config) -> Self {
        let state = open_state(config).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            state,
            stop: Some(stop),
            task,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap().unwrap();
    }

    /// Creates an account with [`PASSWORD`]; returns its id.
    pub fn account(&self, tenant: &str, login: &str, role: Role) -> String {
        self.state
            .accounts
            .create(None, tenant, login, role, PASSWORD)
            .unwrap()
    }

    /// One HTTP/1.1 request; returns the status and the body.
    pub async fn request(
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

    pub async fn login(&self, login: &str, password: &str) -> (u16, String) {
        let body = serde_json::json!({ "login": login, "password": password }).to_string();
        self.request("POST", "/api/login", None, &body).await
    }
}
