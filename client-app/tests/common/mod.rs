//! A real sync server for the client's tests: in this process, on its own tokio runtime
//! and thread, on a real socket on 127.0.0.1, with a real SQLite file. And what the
//! client's tests share around it: signing in, waiting for the sync, new client records;
//! [`kit`] drives the app's window under egui_kittest.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod kit;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_app::{SignIn, Workspace};
use model::client_record::NewClient;
use sync_server::accounts::Role;
use sync_server::state::AppState;
use sync_server::{Config, open_state, run};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "9TGCJ##qk0";

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    runtime: tokio::runtime::Runtime,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Starts a server on `data_dir`, at `addr` if given (a restart), else on a free port.
    pub fn start(data_dir: &Path, addr: Option<SocketAddr>) -> Self {
        Self::start_with(data_dir, addr, |_| {})
    }

    /// The same, with settings changed by `configure` (TLS, for one).
    pub fn start_with(
        data_dir: &Path,
        addr: Option<SocketAddr>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        trace();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            ..Config::default()
        };
        configure(&mut config);
        let (state, listener) = runtime.block_on(async {
            let state = open_state(&config).await.unwrap();
            let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
            let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
            (state, listener)
        });
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let task = runtime.spawn(run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            state,
            runtime,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://` or, when the server speaks TLS itself, `https://`.
    pub fn url(&self) -> String {
        let scheme = if self.state.config.serves_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    pub fn account(&self, tenant: &str, login: &str, role: Role) -> String {
        self.state
            .accounts
            .create(None, tenant, login, role, PASSWORD)
            .unwrap()
    }

    /// The heads of `doc` in the server's repo, in hex.
    pub fn heads(&self, doc: &str) -> Vec<String> {
        let repo = self.state.repo.clone();
        let Ok(id) = doc.parse::<samod::DocumentId>() else {
            return Vec::new();
        };
        self.runtime.block_on(async move {
            match repo.find(id).await {
                Ok(Some(handle)) => handle
                    .with_document(|am| am.get_heads().iter().map(ToString::to_string).collect()),
                _ => Vec::new(),
            }
        })
    }

    /// Frames in and out, connections and why connections ended.
    pub fn metrics(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let m = &self.state.metrics;
        format!(
            "in {} out {} connections {} endings {:?}",
            m.frames_in.load(Relaxed),
            m.frames_out.load(Relaxed),
            m.sync_connections.load(Relaxed),
            m.endings.lock().map(|e| e.clone()).unwrap_or_default()
        )
    }

    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.runtime.block_on(task).unwrap().unwrap();
        }
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

/// `CASE_RECORDS_TEST_TRACE=debug` (or info, trace) prints the server's and the client's
/// tracing with the test's output, to find out why a run failed.
fn trace() {
    let level = match std::env::var("CASE_RECORDS_TEST_TRACE").as_deref() {
        Ok("trace") => tracing::Level::TRACE,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("info") => tracing::Level::INFO,
        _ => return,
    };
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let ours = tracing_subscriber::filter::Targets::new()
        .with_target("client_app", level)
        .with_target("sync_server", level);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_test_writer()
        .finish()
        .with(ours)
        .try_init();
}

pub fn sign_in(data_dir: &Path, server: &str, login: &str) -> Workspace {
    Workspace::sign_in(&how(data_dir, server, login, PASSWORD)).unwrap()
}

pub fn how(data_dir: &Path, server: &str, login: &str, password: &str) -> SignIn {
    SignIn {
        data_dir: data_dir.to_owned(),
        server: server.to_owned(),
        login: login.to_owned(),
        password: password.to_owned(),
        iterations: NonZeroU32::new(1_000).unwrap(),
        connection: Default::default(),
    }
}

/// The server's HTTP API at `url`, as the client library reaches it (default settings).
pub fn api(url: &str) -> client_app::api::Server {
    client_app::api::Server::new(url, &Default::default()).unwrap()
}

/// Refreshes `workspace` until `check` holds; fails with `what` after 30 s.
pub fn until(workspace: &mut Workspace, what: &str, mut check: impl FnMut(&Workspace) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        workspace.refresh();
        if check(workspace) {
            return;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A new client record with `pseudonym`, taken up.
pub fn new_client(pseudonym: &str) -> NewClient {
    NewClient {
        pseudonym: pseudonym.into(),
        take_up: true,
        ..NewClient::default()
    }
}

/// The texts of the notes in the client record `doc`, as `workspace` shows them.
pub fn notes(workspace: &Workspace, doc: &str) -> Vec<String> {
    workspace
        .record(doc)
        .map(|(_, view, _)| view.notes.into_iter().map(|n| n.text).collect())
        .unwrap_or_default()
}
