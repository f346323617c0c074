//! The HTTP API: login, logout, password change, document registration, the sync
//! websocket, health and metrics. Errors leave as a stable code with an HTTP status,
//! never as a message with personal data in it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
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
use crate::extract::{ApiJson, ClientIp};
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
    /// Sync websockets open, per session and per account.
    pub websockets: Arc<crate::sync::Websockets>,
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

/// The largest body of any request but an upload: every JSON request is small.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    // Requests that must be done within `request_timeout_seconds`: all but uploads,
    // which may take long on a slow line and end when they stall instead (`blobs`).
    let timed = Router::new()
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
        .route("/api/blobs/{sha256}", get(crate::blobs::download))
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
        .route_layer(middleware::from_fn_with_state(state.clone(), deadline));
    let counted = Router::new()
        .route("/api/blobs/{sha256}", put(crate::blobs::upload))
        .merge(timed)
        .route_layer(middleware::from_fn_with_state(state.clone(), count_request));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(counted)
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(secure_headers))
        .with_state(state)
}

/// Ends a request that takes longer than `request_timeout_seconds` (a client that
/// sends its body slowly, or not at all) with `408 {"error":"timeout"}`.
async fn deadline(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let limit = std::time::Duration::from_secs(state.config.request_timeout_seconds);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout").into_response(),
    }
}

/// Headers every answer carries: nothing is sniffed, framed, cached, or told where it
/// came from (an invitation link holds its token in the path).
async fn secure_headers(request: axum::extract::Request, next: middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    response
}

/// `/healthz`: answers only when the database does.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let worker = state.clone();
    match blocking(move || worker.accounts.count()).await {
        Ok(_) => "ok".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
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
    /// Seconds to wait, for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let retry_after = match &e {
            AccountError::RateLimited(wait) => Some(wait.as_secs_f64().ceil() as u64),
            _ => None,
        };
        let retry_after = match &e {
            AccountError::Busy => Some(1),
            _ => retry_after,
        };
        let status = match &e {
            AccountError::WrongCredentials | AccountError::NoSession => StatusCode::UNAUTHORIZED,
            AccountError::RateLimited(_) | AccountError::Busy => StatusCode::TOO_MANY_REQUESTS,
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
            retry_after,
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Taken => StatusCode::CONFLICT,
            RegistryError::Forbidden => StatusCode::FORBIDDEN,
            RegistryError::CreationMissing => StatusCode::BAD_REQUEST,
            RegistryError::Sqlite(_) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self {
            status,
            code: e.code(),
            retry_after: None,
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            retry_after: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }

    pub fn unprocessable(code: &'static str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }

    pub fn bad_request(code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(serde_json::json!({ "error": self.code }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
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

/// How long a password check waits for its turn while as many checks for its login or
/// address run as may run at once (`throttle`'s `Refused::Busy`).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs a password check off the async workers, again and again a moment later while
/// it is [`AccountError::Busy`], for up to [`PATIENCE`].
pub async fn patiently<T: Send + 'static>(
    check: impl Fn() -> Result<T, AccountError> + Send + Sync + 'static,
) -> Result<T, ApiError> {
    let check = Arc::new(check);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let attempt = check.clone();
        match tokio::task::spawn_blocking(move || attempt()).await {
            Ok(Err(AccountError::Busy)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(result) => return result.map_err(Into::into),
            Err(_) => return Err(ApiError::internal()),
        }
    }
}

async fn login(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let worker = state.clone();
    let result = patiently(move || {
        let result = worker
            .accounts
            .login(&request.login, &request.password, address);
        let (account, event) = match &result {
            Err(AccountError::Busy) => return result,
            Ok(login) => (Some(login.account_id.as_str()), "login"),
            Err(_) => (None, "login-failed"),
        };
        if let Err(error) = worker.accounts.record_access(address, account, event) {
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
    ClientIp(address): ClientIp,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(AccountError::NoSession)?;
    let worker = state.clone();
    patiently(move || {
        worker
            .accounts
            .change_password(&token, &request.old, &request.new, address)
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
    /// A client record's creating change (hex): the only change but the server's that
    /// may write the record's server-only fields.
    creation: Option<String>,
}

/// `POST /api/documents`: a client announces a document it created, before syncing it.
/// 201 when new, 200 for the same registration again, 403 when the rules forbid it,
/// 409 when the id is taken.
async fn register_document(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RegisterRequest>,
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
    let creation = match request.creation.as_deref() {
        Some(hex) => Some(
            hex.parse::<automerge::ChangeHash>()
                .map_err(|_| ApiError::bad_request("bad-creation"))?,
        ),
        None => None,
    };
    let viewer = viewer(&state, &token).await?;
    let registry = state.registry.clone();
    let id = request.id.clone();
    let registered = blocking(move || {
        registry.register(&id, kind, request.person.as_deref(), creation, &viewer)
    })
    .await?;
    Ok(match registered {
        Registered::New => {
            // The server looks for the new document among its peers at once: a client
            // that announced it before registering it was told it is unavailable (the
            // edge answers for unknown documents, and samod never heard of it), and
            // now samod asks it again, as it asks every peer that may read it.
            if let Some(doc_id) = crate::wire::canonical(&request.id) {
                let repo = state.repo.clone();
                tokio::spawn(async move {
                    let _ = repo.find(doc_id).await;
                });
            }
            StatusCode::CREATED
        }
        Registered::Again => StatusCode::OK,
    })
}

/// Prometheus text format, for the bearer of `metrics_token` only; without the setting
/// there are no metrics to see.
async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let allowed = match (&state.config.metrics_token, bearer(&headers)) {
        // Digests compared, so the comparison's time tells nothing about the token.
        (Some(expected), Some(given)) => {
            crate::password::token_digest(expected) == crate::password::token_digest(&given)
        }
        _ => false,
    };
    if !allowed {
        return ApiError::not_found().into_response();
    }
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
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
