//! The HTTP API: login, logout, password change, health and metrics. Errors leave as a
//! stable code with an HTTP status, never as a message with personal data in it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::accounts::{AccountError, Accounts};

/// Everything a request handler may need, built once at start.
#[derive(Debug)]
pub struct AppState {
    pub accounts: Accounts,
    pub metrics: Metrics,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub requests: AtomicU64,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/password", post(change_password))
        .with_state(state)
}

/// An error as the client sees it: `{"error": "wrong-credentials"}` with a status.
#[derive(Debug)]
pub struct ApiError(AccountError);

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            AccountError::WrongCredentials | AccountError::NoSession => StatusCode::UNAUTHORIZED,
            AccountError::Locked => StatusCode::FORBIDDEN,
            AccountError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AccountError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountError::LoginTaken => StatusCode::CONFLICT,
            AccountError::NoSuchAccount => StatusCode::NOT_FOUND,
            AccountError::Random(_) | AccountError::Sqlite(_) => {
                tracing::error!(error = %self.0, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(serde_json::json!({ "error": self.0.code() }))).into_response()
    }
}

#[derive(Deserialize)]
struct LoginRequest {
    login: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
}

/// Runs blocking work (SQLite, PBKDF2) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AccountError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError),
        Err(_) => Err(ApiError(AccountError::Sqlite(
            rusqlite::Error::InvalidQuery,
        ))),
    }
}

async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let worker = state.clone();
    let result = blocking(move || {
        worker
            .accounts
            .login(&request.login, &request.password, peer.ip())
    })
    .await;
    let counter = if result.is_ok() {
        &state.metrics.logins_ok
    } else {
        &state.metrics.logins_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
    Ok(Json(LoginResponse { token: result? }))
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let token = bearer(&headers).ok_or(ApiError(AccountError::NoSession))?;
    blocking(move || {
        state.accounts.authenticate(&token)?;
        state.accounts.logout(&token)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PasswordRequest {
    old: String,
    new: String,
}

async fn change_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(request): Json<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let token = bearer(&headers).ok_or(ApiError(AccountError::NoSession))?;
    blocking(move || {
        state
            .accounts
            .change_password(&token, &request.old, &request.new)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Prometheus text format.
async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &state.metrics;
    let body = format!(
        "# TYPE sync_server_requests_total counter\nsync_server_requests_total {}\n\
         # TYPE sync_server_logins_total counter\n\
         sync_server_logins_total{{result=\"ok\"}} {}\nsync_server_logins_total{{result=\"failed\"}} {}\n",
        m.requests.load(Ordering::Relaxed),
        m.logins_ok.load(Ordering::Relaxed),
        m.logins_failed.load(Ordering::Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
