//! The HTTP API: login, logout, password change, document registration, the sync
//! websocket, health and metrics. Errors leave as a stable code with an HTTP status,
//! never as a message with personal data in it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::access::Viewer;
use crate::accounts::{AccountError, Accounts, Principal};
use crate::config::Config;
use crate::directory::Directories;
use crate::operations;
use crate::registry::{Registered, Registry, RegistryError};
use crate::share::peer_id_for;
use crate::storage::Persisted;

/// Everything a request handler may need, built once at start.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub accounts: Accounts,
    pub registry: Arc<Registry>,
    pub directories: Arc<Directories>,
    /// The actor of the server's own changes, drawn at start (`model::server_actor`).
    pub server_actor: model::ActorId,
    /// Held while the server creates a document of its own on a request, so that two
    /// requests at once create one.
    pub server_writes: tokio::sync::Mutex<()>,
    pub repo: samod::Repo,
    pub acceptor: samod::AcceptorHandle,
    pub persisted: Arc<Persisted>,
    /// The outbound mail queue.
    pub mail: Arc<crate::mail::Mail>,
    /// Uploaded files.
    pub blobs: Arc<crate::blobs::Blobs>,
    /// Moves whenever a session ends on this server, so that its connections re-check.
    pub sessions_changed: watch::Sender<u64>,
    /// Set once, when the server begins to shut down.
    pub shutdown: watch::Sender<bool>,
    pub metrics: Metrics,
}

impl AppState {
    pub fn session_ended(&self) {
        self.sessions_changed.send_modify(|n| *n += 1);
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub requests: AtomicU64,
    pub sync_connections: AtomicI64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub endings: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn count_ending(&self, reason: &'static str) {
        *self
            .endings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(reason)
            .or_default() += 1;
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let counted = Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/password", post(change_password))
        .route("/api/documents", post(register_document))
        .route(
            "/api/clients/{record}/delete",
            post(operations::delete_client),
        )
        .route(
            "/api/clients/{record}/restore",
            post(operations::restore_client),
        )
        .route(
            "/api/clients/{record}/contact",
            put(operations::set_contact),
        )
        .route(
            "/api/clients/{record}/password",
            put(crate::person::set_password),
        )
        .route(
            "/api/clients/{record}/invitation",
            post(crate::person::send_invitation),
        )
        .route(
            "/invitation/{token}",
            get(crate::person::invitation_page).post(crate::person::invitation_submit),
        )
        .route(
            "/api/blobs/{sha256}",
            put(crate::blobs::upload).get(crate::blobs::download).layer(
                axum::extract::DefaultBodyLimit::max(state.config.max_blob_bytes),
            ),
        )
        .route("/api/staff", get(operations::list_staff))
        .route(
            "/api/accounts",
            get(operations::list_accounts).post(operations::create_account),
        )
        .route(
            "/api/accounts/{account}/{action}",
            post(operations::account_action),
        )
        .route(
            "/api/accounts/{account}/password",
            put(operations::set_password),
        )
        .route("/sync", get(crate::sync::upgrade))
        .route_layer(middleware::from_fn_with_state(state.clone(), count_request));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(counted)
        .with_state(state)
}

/// Counts every API and sync request for `/metrics`.
async fn count_request(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    next.run(request).await
}

/// An error as the client sees it: `{"error": "wrong-credentials"}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let status = match &e {
            AccountError::WrongCredentials | AccountError::NoSession => StatusCode::UNAUTHORIZED,
            AccountError::Locked => StatusCode::FORBIDDEN,
            AccountError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AccountError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountError::LoginTaken => StatusCode::CONFLICT,
            AccountError::NoSuchAccount => StatusCode::NOT_FOUND,
            AccountError::Random(_) | AccountError::Sqlite(_) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self {
            status,
            code: e.code(),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Taken => StatusCode::CONFLICT,
            RegistryError::Forbidden => StatusCode::FORBIDDEN,
            RegistryError::Sqlite(_) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self {
            status,
            code: e.code(),
        }
    }
}

impl ApiError {
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not-found",
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
        }
    }

    pub fn unprocessable(code: &'static str) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
        }
    }

    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
        }
    }

    pub fn bad_request(code: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.code }))).into_response()
    }
}

#[derive(Deserialize)]
struct LoginRequest {
    login: String,
    password: String,
}

/// The session token, the account it belongs to, the peer id the sync websocket must use
/// for it, and the account's directory document (what it may read).
#[derive(Serialize)]
struct LoginResponse {
    token: String,
    account_id: String,
    peer_id: String,
    directory_id: String,
    tenant: String,
    role: &'static str,
}

/// Runs blocking work (SQLite, PBKDF2) off the async workers.
pub async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(AccountError::Sqlite(rusqlite::Error::InvalidQuery).into()),
    }
}

async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let worker = state.clone();
    let result = blocking(move || {
        let result = worker
            .accounts
            .login(&request.login, &request.password, peer.ip());
        let (account, event) = match &result {
            Ok(login) => (Some(login.account_id.as_str()), "login"),
            Err(_) => (None, "login-failed"),
        };
        if let Err(error) = worker.accounts.record_access(peer.ip(), account, event) {
            tracing::error!(%error, "cannot write the access log");
        }
        result
    })
    .await;
    let counter = if result.is_ok() {
        &state.metrics.logins_ok
    } else {
        &state.metrics.logins_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let login = result?;
    if login.role == crate::accounts::Role::Client {
        crate::person::logged_in(&state, &login.account_id, &login.token).await?;
    }
    let directory_id = state
        .directories
        .ensure(&login.account_id)
        .await
        .map_err(|error| {
            tracing::error!(account = %login.account_id, %error, "no directory at login");
            ApiError::internal()
        })?;
    Ok(Json(LoginResponse {
        peer_id: peer_id_for(&login.account_id, &login.token),
        directory_id,
        account_id: login.account_id,
        token: login.token,
        tenant: login.tenant,
        role: login.role.as_str(),
    }))
}

/// The principal of a valid session token, checked off the async workers.
pub async fn authenticated(state: &Arc<AppState>, token: &str) -> Result<Principal, ApiError> {
    let worker = state.clone();
    let token = token.to_owned();
    blocking(move || worker.accounts.authenticate(&token)).await
}

/// The active account of a valid session token, as the access rules see it.
pub async fn viewer(state: &Arc<AppState>, token: &str) -> Result<Viewer, ApiError> {
    let principal = authenticated(state, token).await?;
    Ok(state
        .registry
        .viewer(&principal.account_id)
        .ok_or(AccountError::NoSession)?)
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
    let token = bearer(&headers).ok_or(AccountError::NoSession)?;
    let worker = state.clone();
    blocking(move || {
        worker.accounts.authenticate(&token)?;
        worker.accounts.logout(&token)
    })
    .await?;
    state.session_ended();
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
    let token = bearer(&headers).ok_or(AccountError::NoSession)?;
    let worker = state.clone();
    blocking(move || {
        worker
            .accounts
            .change_password(&token, &request.old, &request.new)
    })
    .await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RegisterRequest {
    /// The automerge-repo document id (bs58check).
    id: String,
    /// One of `model::DocKind`'s names: `client-record`, `timeline`, …
    kind: String,
    /// The client record a per-person document belongs to.
    person: Option<String>,
}

/// `POST /api/documents`: a client announces a document it created, before syncing it.
/// 201 when new, 200 for the same registration again, 403 when the rules forbid it,
/// 409 when the id is taken.
async fn register_document(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(request): Json<RegisterRequest>,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(AccountError::NoSession)?;
    let kind = model::DocKind::parse(&request.kind).ok_or(ApiError::bad_request("unknown-kind"))?;
    // Only the canonical spelling: samod also takes a UUID spelling of the same id,
    // which would otherwise register one document twice under two tenants.
    if crate::wire::canonical(&request.id).is_none()
        || request
            .person
            .as_deref()
            .is_some_and(|p| crate::wire::canonical(p).is_none())
    {
        return Err(ApiError::bad_request("bad-document-id"));
    }
    let viewer = viewer(&state, &token).await?;
    let registry = state.registry.clone();
    let registered =
        blocking(move || registry.register(&request.id, kind, request.person.as_deref(), &viewer))
            .await?;
    Ok(match registered {
        Registered::New => StatusCode::CREATED,
        Registered::Again => StatusCode::OK,
    })
}

/// Prometheus text format.
async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &state.metrics;
    let mut body = format!(
        "# TYPE sync_server_requests_total counter\nsync_server_requests_total {}\n\
         # TYPE sync_server_logins_total counter\n\
         sync_server_logins_total{{result=\"ok\"}} {}\nsync_server_logins_total{{result=\"failed\"}} {}\n\
         # TYPE sync_server_connections gauge\nsync_server_connections {}\n\
         # TYPE sync_server_frames_total counter\n\
         sync_server_frames_total{{direction=\"in\"}} {}\nsync_server_frames_total{{direction=\"out\"}} {}\n\
         # TYPE sync_server_storage_failed_writes_total counter\nsync_server_storage_failed_writes_total {}\n\
         # TYPE sync_server_connections_ended_total counter\n",
        m.requests.load(Ordering::Relaxed),
        m.logins_ok.load(Ordering::Relaxed),
        m.logins_failed.load(Ordering::Relaxed),
        m.sync_connections.load(Ordering::Relaxed),
        m.frames_in.load(Ordering::Relaxed),
        m.frames_out.load(Ordering::Relaxed),
        state.persisted.failed_writes(),
    );
    for (reason, count) in m
        .endings
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
    {
        body.push_str(&format!(
            "sync_server_connections_ended_total{{reason=\"{reason}\"}} {count}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
