//! The few JSON calls the client makes to the server's HTTP API (login, colleagues,
//! document registration, admins' operations, the device's recovery key). Paths,
//! bodies, answers and error codes are the server's own contract ([`model::api`]).
//! Everything else travels over the sync protocol.
//!
//! A [`Server`] is one server as this client reaches it: its address, checked against
//! the connection settings (`https://`, or `http://` only where `tls` allows it), and one
//! pooled HTTP/1.1 client (hyper-util's, over hyper-rustls) that keeps its connections
//! alive between calls. The workspace and the sync share one per profile
//! ([`LazyServer`]); the websocket dials with the same TLS configuration.
//!
//! Errors separate what may work later ([`ApiError::Unreachable`]: keep the request
//! queued) from what the server decided ([`ApiError::Refused`] with its stable code), and
//! from a connection this client will not make ([`ApiError::Insecure`]: an untrusted
//! certificate, plain `http://` to another machine; nothing was sent).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use model::api::{
    AccountCreated, Contact, DeleteOwnAccount, ErrorBody, ErrorCode, Login, NewAccount,
    NewPassword, PasswordChange, Registration, StaffInvitation, paths,
};
use serde::{Deserialize, Serialize};

use crate::tls::{self, ConnectionSettings};

pub use model::api::{AccountState, AccountSummary, LoginAnswer, Role, StaffMember};

/// How long a TCP connection may take to open.
const CONNECT: Duration = Duration::from_secs(10);
/// How long a call may take until the answer's head (the TLS handshake included).
const ANSWER: Duration = Duration::from_secs(30);
/// Kept-alive connections are dropped after this long unused: before the server's
/// `header_read_timeout_seconds` (10 s by default) closes them from its side, so a call
/// never races a connection the server is just closing.
const IDLE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server refused ({status}): {code}")]
    Refused { status: u16, code: ErrorCode },
    #[error("the server's answer was not understood: {0}")]
    Garbled(String),
    /// No connection was made because it would not be safe, or the settings for one
    /// cannot be used (a CA file that does not read). Nothing was sent; a queued request
    /// stays queued. The text is German and says what to do.
    #[error("{0}")]
    Insecure(String),
}

impl ApiError {
    /// A refusal that says the session has ended (log in again).
    pub fn is_no_session(&self) -> bool {
        matches!(
            self,
            ApiError::Refused {
                status: 401,
                code: ErrorCode::NoSession
            }
        )
    }

    /// The server's stable code, if it refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<tls::TlsError> for ApiError {
    fn from(error: tls::TlsError) -> Self {
        ApiError::Insecure(error.to_string())
    }
}

/// `http://host:port` of a server, from what a person typed.
pub fn base_url(server: &str) -> String {
    let server = server.trim().trim_end_matches('/');
    if server.starts_with("http://") || server.starts_with("https://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    }
}

/// The websocket URL of a server's sync endpoint.
pub fn sync_url(server: &str) -> String {
    let base = base_url(server);
    let rest = base
        .strip_prefix("https://")
        .map(|rest| format!("wss://{rest}"))
        .or_else(|| {
            base.strip_prefix("http://")
                .map(|rest| format!("ws://{rest}"))
        })
        .unwrap_or(base);
    format!("{rest}{}", paths::SYNC)
}

/// One server as this client reaches it: the checked address, the TLS configuration,
/// and a pooled client that keeps connections alive. Cheap to clone (the pool is
/// shared).
#[derive(Clone)]
pub struct Server {
    base: String,
    host: String,
    tls: Arc<rustls::ClientConfig>,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The server at `address` (as typed), if the settings allow reaching it: plain
    /// `http://` only to this computer unless allowed. Reads the system's roots (once per
    /// process) and the CA file: call it off the UI thread ([`LazyServer`]).
    pub fn new(address: &str, settings: &ConnectionSettings) -> Result<Self, ApiError> {
        let base = base_url(address);
        let uri: hyper::Uri = base
            .parse()
            .map_err(|e| ApiError::Unreachable(format!("bad server address: {e}")))?;
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(ApiError::Unreachable("bad server address".into()));
        };
        if scheme != "http" && scheme != "https" {
            return Err(ApiError::Unreachable(format!(
                "bad server address: {scheme}:// is neither http:// nor https://"
            )));
        }
        tls::check_scheme(scheme, host, settings)?;
        let host = host.to_owned();
        let tls = tls::client_config(settings)?;
        let mut http = HttpConnector::new();
        // The TLS connector around it hands it https:// addresses too.
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT));
        http.set_nodelay(true);
        let connector = HttpsConnector::from((http, tls.clone()));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            base,
            host,
            tls,
            client,
        })
    }

    /// `https://host:port` (or `http://`), without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The websocket URL of the sync endpoint: `wss://` for an `https://` server.
    pub fn sync_url(&self) -> String {
        sync_url(&self.base)
    }

    /// The TLS configuration, for the websocket.
    pub fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// The host as typed, for messages about its certificate.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// A failed connection or call: [`ApiError::Insecure`] with the German reason when
    /// TLS failed, else [`ApiError::Unreachable`].
    pub fn failed(&self, error: &(dyn std::error::Error + 'static)) -> ApiError {
        match tls::explain(error, &self.host) {
            Some(german) => ApiError::Insecure(german),
            None => ApiError::Unreachable(chain(error)),
        }
    }
}

/// An error and its sources, one after the other.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        let more = source.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = source.source();
    }
    text
}

/// A profile's [`Server`], built on first use on tokio's blocking pool (it reads the
/// system's roots and the CA file) and shared from then on by the workspace and the
/// sync. A failure is not kept: the next use tries again, so a CA file put in place
/// meanwhile is found.
#[derive(Debug, Clone)]
pub struct LazyServer {
    address: String,
    settings: ConnectionSettings,
    built: Arc<tokio::sync::OnceCell<Server>>,
}

impl LazyServer {
    pub fn new(address: &str, settings: &ConnectionSettings) -> Self {
        Self {
            address: address.to_owned(),
            settings: settings.clone(),
            built: Arc::default(),
        }
    }

    pub async fn get(&self) -> Result<Server, ApiError> {
        self.built
            .get_or_try_init(|| {
                let address = self.address.clone();
                let settings = self.settings.clone();
                async move {
                    tokio::task::spawn_blocking(move || Server::new(&address, &settings))
                        .await
                        .map_err(|e| ApiError::Unreachable(e.to_string()))?
                }
            })
            .await
            .cloned()
    }
}

async fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&'static str, Bytes)>,
) -> Result<(u16, Bytes), ApiError> {
    let url: hyper::Uri = format!("{}{path}", server.base)
        .parse()
        .map_err(|e| ApiError::Unreachable(format!("bad server address: {e}")))?;
    let (content_type, body) = body.unwrap_or(("application/json", Bytes::new()));
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let answer = tokio::time::timeout(ANSWER, server.client.request(request))
        .await
        .map_err(|_| ApiError::Unreachable("timed out".into()))?
        .map_err(|e| server.failed(&e))?;
    let status = answer.status().as_u16();
    let bytes = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| server.failed(&e))?
        .to_bytes();
    Ok((status, bytes))
}

/// A JSON body of the contract.
fn json(body: &impl Serialize) -> Result<Option<(&'static str, Bytes)>, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Garbled(e.to_string()))?;
    Ok(Some(("application/json", Bytes::from(bytes))))
}

async fn call_json<T: for<'de> Deserialize<'de>>(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&'static str, Bytes)>,
) -> Result<T, ApiError> {
    let (status, bytes) = call(server, method, path, token, body).await?;
    checked(status, &bytes)?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Garbled(e.to_string()))
}

fn checked(status: u16, bytes: &[u8]) -> Result<(), ApiError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let code = serde_json::from_slice::<ErrorBody>(bytes)
        .map(|body| body.error)
        .unwrap_or(ErrorCode::Unknown);
    Err(ApiError::Refused { status, code })
}

pub async fn login(server: &Server, login: &str, password: &str) -> Result<LoginAnswer, ApiError> {
    let body = json(&Login {
        login: login.to_owned(),
        password: password.to_owned(),
    })?;
    call_json(server, "POST", paths::LOGIN, None, body).await
}

pub async fn staff(server: &Server, token: &str) -> Result<Vec<StaffMember>, ApiError> {
    call_json(server, "GET", paths::STAFF, Some(token), None).await
}

/// What the client asks the server to do; queued in the outbox (sealed) while offline.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request")]
pub enum Request {
    /// A new document, before its first sync. A client record names its creating
    /// change (hex), the only change but the server's that may write its server-only
    /// fields.
    Register {
        doc: String,
        kind: String,
        person: Option<String>,
        #[serde(default)]
        creation: Option<String>,
    },
    DeleteClient {
        record: String,
    },
    RestoreClient {
        record: String,
    },
    /// Contact data for a person (admins; or the creator, at "Klient:in anlegen").
    SetContact {
        record: String,
        email: Option<String>,
        phone: Option<String>,
    },
    /// "Passwort vergeben": the person's own account.
    SetPersonPassword {
        record: String,
        password: String,
    },
    /// "Einladung versenden": an e-mail with a link to set a password.
    SendInvitation {
        record: String,
    },
    /// An uploaded file's content, kept in the store until the server has it.
    UploadBlob {
        record: String,
        sha256: String,
    },
}

/// Names the request and its record, never contact data or a password.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Request::Register { .. } => "Register",
            Request::DeleteClient { .. } => "DeleteClient",
            Request::RestoreClient { .. } => "RestoreClient",
            Request::SetContact { .. } => "SetContact",
            Request::SetPersonPassword { .. } => "SetPersonPassword",
            Request::SendInvitation { .. } => "SendInvitation",
            Request::UploadBlob { .. } => "UploadBlob",
        };
        f.debug_struct(name)
            .field("record", &self.record())
            .finish_non_exhaustive()
    }
}

/// Why the server refused a request, in German, where the code is one people meet.
pub fn refusal_german(error: &ApiError) -> String {
    match error {
        ApiError::Refused { code, .. } => match code {
            ErrorCode::NoEmail => "für die Person ist keine E-Mail-Adresse hinterlegt".into(),
            ErrorCode::ClientNotActive => "die Person ist gesperrt oder gelöscht".into(),
            ErrorCode::LoginTaken => "der Accountname ist schon vergeben".into(),
            ErrorCode::Forbidden => "dafür fehlt die Berechtigung".into(),
            ErrorCode::PasswordTooWeak | ErrorCode::PasswordTooCommon => {
                "das Passwort ist zu leicht zu erraten (kein Name, kein Wort mit Jahreszahl)".into()
            }
            ErrorCode::PasswordControlCharacter => "das Passwort enthält ein Steuerzeichen".into(),
            code if code.is_password_policy() => "das Passwort erfüllt die Regeln nicht".into(),
            other => other.as_str().to_owned(),
        },
        other => other.to_string(),
    }
}

impl Request {
    /// What the status line and the client window say while it waits.
    pub fn german(&self) -> &'static str {
        match self {
            Request::Register { .. } => "Neuer Datensatz wird angemeldet",
            Request::DeleteClient { .. } => "Löschen wartet auf den Server",
            Request::RestoreClient { .. } => "Wiederherstellen wartet auf den Server",
            Request::SetContact { .. } => "Kontaktdaten warten auf den Server",
            Request::SetPersonPassword { .. } => "Passwort wartet auf den Server",
            Request::SendInvitation { .. } => "Einladung wartet auf den Server",
            Request::UploadBlob { .. } => "Dokument wartet auf das Hochladen",
        }
    }

    /// The client record the request is about, if any.
    pub fn record(&self) -> Option<&str> {
        match self {
            Request::Register { person, .. } => person.as_deref(),
            Request::DeleteClient { record }
            | Request::RestoreClient { record }
            | Request::SetContact { record, .. }
            | Request::SetPersonPassword { record, .. }
            | Request::SendInvitation { record }
            | Request::UploadBlob { record, .. } => Some(record),
        }
    }
}

/// Carries out one request.
pub async fn send(server: &Server, token: &str, request: &Request) -> Result<(), ApiError> {
    let (method, path, body) = match request {
        Request::Register {
            doc,
            kind,
            person,
            creation,
        } => (
            "POST",
            paths::DOCUMENTS.to_owned(),
            json(&Registration {
                id: doc.clone(),
                kind: kind.clone(),
                person: person.clone(),
                creation: creation.clone(),
            })?,
        ),
        Request::DeleteClient { record } => {
            ("POST", paths::fill(paths::CLIENT_DELETE, record), None)
        }
        Request::RestoreClient { record } => {
            ("POST", paths::fill(paths::CLIENT_RESTORE, record), None)
        }
        Request::SetContact {
            record,
            email,
            phone,
        } => (
            "PUT",
            paths::fill(paths::CLIENT_CONTACT, record),
            json(&Contact {
                email: email.clone(),
                phone: phone.clone(),
            })?,
        ),
        Request::SetPersonPassword { record, password } => (
            "PUT",
            paths::fill(paths::CLIENT_PASSWORD, record),
            json(&NewPassword {
                password: password.clone(),
            })?,
        ),
        Request::SendInvitation { record } => {
            ("POST", paths::fill(paths::CLIENT_INVITATION, record), None)
        }
        Request::UploadBlob { .. } => {
            return Err(ApiError::Garbled(
                "an upload's content comes from the store: see engine::flush".into(),
            ));
        }
    };
    let (status, bytes) = call(server, method, &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// The user's own password (`POST /api/password`); the server ends the sessions.
pub async fn change_password(
    server: &Server,
    token: &str,
    old: &str,
    new: &str,
) -> Result<(), ApiError> {
    let body = json(&PasswordChange {
        old: old.to_owned(),
        new: new.to_owned(),
    })?;
    let (status, bytes) = call(server, "POST", paths::PASSWORD, Some(token), body).await?;
    checked(status, &bytes)
}

/// The tenant's accounts, as admins see them (`GET /api/accounts`).
pub async fn accounts(server: &Server, token: &str) -> Result<Vec<AccountSummary>, ApiError> {
    call_json(server, "GET", paths::ACCOUNTS, Some(token), None).await
}

/// A new staff account (`POST /api/accounts`): with a password or an invitation e-mail.
pub async fn create_account(
    server: &Server,
    token: &str,
    account: &NewAccount,
) -> Result<AccountCreated, ApiError> {
    call_json(server, "POST", paths::ACCOUNTS, Some(token), json(account)?).await
}

/// What an admin does to a staff account without saying more than which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Lock,
    Unlock,
    Delete,
}

/// Locks, unlocks or deletes a staff account (`POST /api/accounts/{account}/…`).
pub async fn account_action(
    server: &Server,
    token: &str,
    account: &str,
    action: AccountAction,
) -> Result<(), ApiError> {
    let template = match action {
        AccountAction::Lock => paths::ACCOUNT_LOCK,
        AccountAction::Unlock => paths::ACCOUNT_UNLOCK,
        AccountAction::Delete => paths::ACCOUNT_DELETE,
    };
    let path = paths::fill(template, account);
    let (status, bytes) = call(server, "POST", &path, Some(token), None).await?;
    checked(status, &bytes)
}

/// "Passwort vergeben" for a member of staff (`PUT /api/accounts/{account}/password`).
pub async fn set_account_password(
    server: &Server,
    token: &str,
    account: &str,
    password: &str,
) -> Result<(), ApiError> {
    let path = paths::fill(paths::ACCOUNT_PASSWORD, account);
    let body = json(&NewPassword {
        password: password.to_owned(),
    })?;
    let (status, bytes) = call(server, "PUT", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// A new invitation e-mail for a staff account (`POST /api/accounts/{account}/invitation`).
pub async fn invite_staff(
    server: &Server,
    token: &str,
    account: &str,
    email: &str,
) -> Result<(), ApiError> {
    let path = paths::fill(paths::ACCOUNT_INVITATION, account);
    let body = json(&StaffInvitation {
        email: email.to_owned(),
    })?;
    let (status, bytes) = call(server, "POST", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// The signed-in member of staff deletes their own account (`POST /api/account/delete`).
pub async fn delete_own_account(
    server: &Server,
    token: &str,
    password: &str,
) -> Result<(), ApiError> {
    let body = json(&DeleteOwnAccount {
        password: password.to_owned(),
    })?;
    let (status, bytes) =
        call(server, "POST", paths::OWN_ACCOUNT_DELETE, Some(token), body).await?;
    checked(status, &bytes)
}

/// Uploads a file's content to its address (`PUT /api/blobs/{sha256}`).
pub async fn put_blob(
    server: &Server,
    token: &str,
    sha256: &str,
    data: Vec<u8>,
) -> Result<(), ApiError> {
    let path = paths::fill(paths::BLOB, sha256);
    let body = Some(("application/octet-stream", Bytes::from(data)));
    let (status, bytes) = call(server, "PUT", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// Stores this device's recovery key on the server (`PUT /api/recovery/{device}`).
pub async fn put_recovery(
    server: &Server,
    token: &str,
    device: &str,
    key: &str,
) -> Result<(), ApiError> {
    let path = paths::fill(paths::RECOVERY, device);
    let body = json(&model::api::RecoveryKey {
        key: key.to_owned(),
    })?;
    let (status, bytes) = call(server, "PUT", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// This device's recovery key as the server keeps it (`GET /api/recovery/{device}`),
/// for a store the new password does not open after a reset.
pub async fn get_recovery(server: &Server, token: &str, device: &str) -> Result<String, ApiError> {
    let path = paths::fill(paths::RECOVERY, device);
    let answer: model::api::RecoveryKey =
        call_json(server, "GET", &path, Some(token), None).await?;
    Ok(answer.key)
}

/// A file's content, if the server gives it to this user.
pub async fn get_blob(server: &Server, token: &str, sha256: &str) -> Result<Vec<u8>, ApiError> {
    let path = paths::fill(paths::BLOB, sha256);
    let (status, bytes) = call(server, "GET", &path, Some(token), None).await?;
    checked(status, &bytes)?;
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_become_urls() {
        assert_eq!(base_url("127.0.0.1:8470/"), "http://127.0.0.1:8470");
        assert_eq!(sync_url("127.0.0.1:8470"), "ws://127.0.0.1:8470/sync");
        assert_eq!(
            sync_url("https://sync.example.org"),
            "wss://sync.example.org/sync"
        );
    }

    #[test]
    fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
        let strict = ConnectionSettings::default();
        let refused = Server::new("http://10.1.2.3:8470", &strict).expect_err("refused");
        assert!(
            matches!(&refused, ApiError::Insecure(text) if text.contains("„Erweitert“")),
            "{refused}"
        );
        assert!(Server::new("10.1.2.3:8470", &strict).is_err(), "bare: http");
        let server = Server::new("127.0.0.1:8470", &strict).expect("loopback");
        assert_eq!(server.sync_url(), "ws://127.0.0.1:8470/sync");
        let allowed = ConnectionSettings {
            allow_unencrypted: true,
            ..ConnectionSettings::default()
        };
        assert!(Server::new("http://10.1.2.3:8470", &allowed).is_ok());
        let server = Server::new("https://sync.example.org/", &strict).expect("https");
        assert_eq!(server.base_url(), "https://sync.example.org");
        assert_eq!(server.sync_url(), "wss://sync.example.org/sync");
    }
}
