//! Running the server: open the database and the repo, bind, serve until `shutdown`
//! resolves, then stop accepting, close the sync connections with a goodbye, wait for
//! them to drain, and stop the repo once its storage writes are done.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::accounts::Accounts;
use crate::authoring::Author;
use crate::config::Config;
use crate::db;
use crate::directory::{self, Directories};
use crate::listener::{self, Gate};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::settle::{self, ChangeObserver};
use crate::share::Policy;
use crate::state::AppState;
use crate::storage::SqliteStorage;
use crate::wire::SERVER_PEER_ID;

/// The state a server runs on, opened from its configuration.
pub async fn open_state(config: &Config) -> anyhow::Result<Arc<AppState>> {
    // First: a certificate that does not read stops the start before anything opens.
    let tls = crate::tls::server_config(config)?;
    let path = config.database_path();
    let accounts = Accounts::new(db::open(&path)?, config);
    if config.clock_offset_days != 0 {
        // For drills and tests only: in service it would purge early (or late).
        tracing::warn!(
            days = config.clock_offset_days,
            "clock_offset_days is set: the server's day, and with it the purge, is shifted"
        );
        accounts.audit_clock_offset(config.clock_offset_days)?;
    }
    let registry = Arc::new(
        Registry::open(db::open(&path)?, config.timezone)?
            .with_clock_offset(config.clock_offset_days),
    );
    let storage = SqliteStorage::new(db::open(&path)?);
    let persisted = storage.persisted();
    let mail = Arc::new(crate::mail::Mail::open(db::open(&path)?, config)?);
    let blobs = Arc::new(crate::blobs::Blobs::new(db::open(&path)?));
    let (observer, changed) = ChangeObserver::new();
    let repo = samod::Repo::build_tokio()
        .with_peer_id(samod::PeerId::from(SERVER_PEER_ID))
        .with_storage(storage)
        .with_share_policy(Policy::new(registry.clone()))
        .with_observer(observer)
        .load()
        .await;
    let mut random = [0u8; 8];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| anyhow::anyhow!("no randomness for the server's actor id"))?;
    let server_actor = model::server_actor(random);
    tokio::spawn(settle::run(
        changed,
        repo.clone(),
        registry.clone(),
        mail.clone(),
        blobs.clone(),
        server_actor.clone(),
    ));
    let directories = Arc::new(Directories::new(
        registry.clone(),
        repo.clone(),
        persisted.clone(),
    ));
    if let Some(changes) = registry.take_changes() {
        tokio::spawn(directory::run(directories.clone(), changes));
    }
    let url = url_for(config.listen);
    let acceptor = repo
        .make_acceptor(url)
        .map_err(|_| anyhow::anyhow!("the repo stopped while starting"))?;
    let author = Author::new(
        repo.clone(),
        persisted.clone(),
        registry.clone(),
        server_actor,
        Duration::from_secs(config.persist_timeout_seconds),
    );
    let state = Arc::new(AppState {
        config: config.clone(),
        tls,
        accounts,
        registry,
        directories,
        author,
        server_writes: tokio::sync::Mutex::new(()),
        deletions: tokio::sync::Mutex::new(()),
        repo,
        acceptor,
        persisted,
        mail,
        blobs,
        sessions_changed: watch::channel(0).0,
        shutdown: watch::channel(false).0,
        websockets: Arc::default(),
        metrics: Metrics::default(),
        password_checks: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_logins.max(1),
        )),
    });
    tokio::spawn(forget_old_accesses(Arc::downgrade(&state)));
    tokio::spawn(crate::purge::run(Arc::downgrade(&state)));
    Ok(state)
}

/// IP addresses older than 24 hours go, also on days nobody logs in, and throttle state
/// that no longer counts; ends with the server's state.
async fn forget_old_accesses(state: std::sync::Weak<AppState>) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        every.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        let purged = tokio::task::spawn_blocking(move || {
            state.accounts.prune_throttle();
            state.accounts.purge_access_log()
        })
        .await;
        if !matches!(purged, Ok(Ok(()))) {
            tracing::error!("cannot purge the access log");
        }
    }
}

/// The connection limits of `config`, within the descriptors this process may open (a
/// reserve kept for the database, the listener and samod).
fn connection_limits(config: &Config) -> listener::Limits {
    const RESERVE: usize = 64;
    let mut max_connections = config.max_connections;
    if let Some(limit) = descriptor_limit() {
        let available = limit.saturating_sub(RESERVE).max(1);
        if available < max_connections {
            tracing::warn!(
                descriptors = limit,
                connections = available,
                "the descriptor limit allows fewer connections than configured"
            );
            max_connections = available;
        }
    }
    listener::Limits {
        max_connections,
        max_connections_per_address: config.max_connections_per_address,
        header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
        trusted_proxies: config.trusted_proxies.clone(),
    }
}

/// The soft limit of open files of this process (Linux: `/proc/self/limits`).
fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn url_for(listen: SocketAddr) -> samod::Url {
    // "ws://" plus a socket address always parses.
    samod::Url::parse(&format!("ws://{listen}/sync"))
        .unwrap_or_else(|e| unreachable!("a socket address makes a URL: {e}"))
}

/// Serves on `listener` until `shutdown` resolves; the binary passes ctrl-c, tests a
/// oneshot.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = crate::routes::router(state.clone());
    let gate = Gate::new(connection_limits(&state.config));
    if state.tls.is_some() {
        tracing::info!("speaking TLS with tls_cert and tls_key");
    }
    if let Some(address) = state.config.metrics_listen {
        let monitor = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} for metrics"))?;
        tracing::info!(listen = %address, "serving metrics");
        // Through our own accept loop like the main address, with a small gate of its
        // own: a few scrapers at a time, and the same header timeout, so idle
        // connections here cannot take the descriptors the main address needs.
        let gate = Gate::new(listener::Limits {
            max_connections: 16,
            max_connections_per_address: 16,
            header_read_timeout: Duration::from_secs(state.config.header_read_timeout_seconds),
            trusted_proxies: Default::default(),
        });
        tokio::spawn(listener::serve(
            monitor,
            crate::routes::monitoring(state.clone()),
            gate,
            None,
            state.shutdown.subscribe(),
            Duration::from_secs(2),
        ));
    }
    let mailer = tokio::spawn(crate::mail::run(
        state.mail.clone(),
        state.author.clone(),
        state.shutdown.subscribe(),
    ));
    let stopping = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.shutdown.send_replace(true);
    });
    listener::serve(
        listener,
        app,
        gate,
        state.tls.clone().map(tokio_rustls::TlsAcceptor::from),
        state.shutdown.subscribe(),
        Duration::from_secs(10),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state.metrics.sync_connections.load(Ordering::Relaxed) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if mailer.await.is_err() {
        tracing::error!("the mail queue's worker failed");
    }
    state.repo.stop().await;
    Ok(())
}
