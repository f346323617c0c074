//! [`AppState`]: everything a request handler and a connection may need, built once at
//! start (`server::open_state`) and handed around in an `Arc`.

use std::sync::Arc;

use tokio::sync::watch;

use crate::accounts::Accounts;
use crate::authoring::Author;
use crate::blobs::Blobs;
use crate::config::Config;
use crate::directory::Directories;
use crate::mail::Mail;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::storage::Persisted;
use crate::websockets::Websockets;

#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    /// The certificate and key the listener speaks TLS with, read at start; `None`
    /// serves plain HTTP (for a proxy in front).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub accounts: Accounts,
    pub registry: Arc<Registry>,
    pub directories: Arc<Directories>,
    /// The server's own reads and writes of documents, under its actor.
    pub author: Author,
    /// Held while the server creates a document of its own on a request, so that two
    /// requests at once create one.
    pub server_writes: tokio::sync::Mutex<()>,
    /// Held while a record is marked deleted or restored, and while the purge forgets
    /// a person: a restore either comes first (and the purge is dropped) or finds the
    /// record gone.
    pub deletions: tokio::sync::Mutex<()>,
    pub repo: samod::Repo,
    pub acceptor: samod::AcceptorHandle,
    pub persisted: Arc<Persisted>,
    /// The outbound mail queue.
    pub mail: Arc<Mail>,
    /// Uploaded files.
    pub blobs: Arc<Blobs>,
    /// Moves whenever a session ends on this server, so that its connections re-check.
    pub sessions_changed: watch::Sender<u64>,
    /// Set once, when the server begins to shut down.
    pub shutdown: watch::Sender<bool>,
    /// Sync websockets open, per session and per account.
    pub websockets: Arc<Websockets>,
    pub metrics: Metrics,
    /// Permits for password checks running at once (`max_concurrent_logins`).
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn session_ended(&self) {
        self.sessions_changed.send_modify(|n| *n += 1);
    }
}
