//! Running the server: bind, serve until `shutdown` resolves, then stop accepting and let
//! the connections in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::accounts::Accounts;
use crate::config::Config;
use crate::db;
use crate::http::{self, AppState, Metrics};

/// The state a server runs on, opened from its configuration.
pub fn open_state(config: &Config) -> anyhow::Result<Arc<AppState>> {
    let conn = db::open(&config.database_path())?;
    Ok(Arc::new(AppState {
        accounts: Accounts::new(conn, config),
        metrics: Metrics::default(),
    }))
}

/// Serves on `listener` until `shutdown` resolves; the binary passes ctrl-c, tests a
/// oneshot.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
