//! The few JSON calls the client makes to the server's HTTP API (login, colleagues,
//! document registration, admins' operations), over hyper's HTTP/1.1 client. Everything
//! else travels over the sync protocol.
//!
//! Errors separate what may work later ([`ApiError::Unreachable`]: keep the request
//! queued) from what the server decided ([`ApiError::Refused`] with its stable code).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

use crate::store::StaffMember;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server refused ({status}): {code}")]
    Refused { status: u16, code: String },
    #[error("the server's answer was not understood: {0}")]
    Garbled(String),
}

impl ApiError {
    /// A refusal that says the session has ended (log in again).
    pub fn is_no_session(&self) -> bool {
        matches!(self, ApiError::Refused { status: 401, code } if code == "no-session")
    }
}

#[derive(Clone, Deserialize)]
pub struct LoginAnswer {
    pub token: String,
    pub account_id: String,
    pub peer_id: String,
    pub directory_id: String,
    pub tenant: String,
    pub role: String,
}

impl std::fmt::Debug for LoginAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAnswer")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
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
    format!("{rest}/sync")
}

async fn call(
    server: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&'static str, Bytes)>,
) -> Result<(u16, Bytes), ApiError> {
    let url: hyper::Uri = format!("{}{path}", base_url(server))
        .parse()
        .map_err(|e| ApiError::Unreachable(format!("bad server address: {e}")))?;
    if url.scheme_str() != Some("http") {
        return Err(ApiError::Unreachable(
            "only http:// servers are supported so far".into(),
        ));
    }
    let host = url.host().unwrap_or("localhost").to_owned();
    let port = url.port_u16().unwrap_or(80);
    let stream = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| ApiError::Unreachable("timed out".into()))?
    .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (content_type, body) = body.unwrap_or(("application/json", Bytes::new()));
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("{host}:{port}"))
        .header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        sender.send_request(request),
    )
    .await
    .map_err(|_| ApiError::Unreachable("timed out".into()))?
    .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let status = answer.status().as_u16();
    let bytes = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?
        .to_bytes();
    Ok((status, bytes))
}

async fn call_json<T: for<'de> Deserialize<'de>>(
    server: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<T, ApiError> {
    let body = body.map(|b| ("application/json", Bytes::from(b)));
    let (status, bytes) = call(server, method, path, token, body).await?;
    checked(status, &bytes)?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Garbled(e.to_string()))
}

fn checked(status: u16, bytes: &[u8]) -> Result<(), ApiError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let code = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    Err(ApiError::Refused { status, code })
}

pub async fn login(server: &str, login: &str, password: &str) -> Result<LoginAnswer, ApiError> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    call_json(server, "POST", "/api/login", None, Some(body)).await
}

pub async fn staff(server: &str, token: &str) -> Result<Vec<StaffMember>, ApiError> {
    call_json(server, "GET", "/api/staff", Some(token), None).await
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
        ApiError::Refused { code, .. } => match code.as_str() {
            "no-email" => "für die Person ist keine E-Mail-Adresse hinterlegt".into(),
            "client-not-active" => "die Person ist gesperrt oder gelöscht".into(),
            "login-taken" => "der Accountname ist schon vergeben".into(),
            "forbidden" => "dafür fehlt die Berechtigung".into(),
            "password-too-weak" | "password-too-common" => {
                "das Passwort ist zu leicht zu erraten (kein Name, kein Wort mit Jahreszahl)".into()
            }
            "password-control-character" => "das Passwort enthält ein Steuerzeichen".into(),
            code if code.starts_with("password") || code.contains("policy") => {
                "das Passwort erfüllt die Regeln nicht".into()
            }
            other => other.to_owned(),
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
pub async fn send(server: &str, token: &str, request: &Request) -> Result<(), ApiError> {
    let (method, path, body) = match request {
        Request::Register {
            doc,
            kind,
            person,
            creation,
        } => (
            "POST",
            "/api/documents".to_owned(),
            serde_json::json!({ "id": doc, "kind": kind, "person": person, "creation": creation })
                .to_string(),
        ),
        Request::DeleteClient { record } => (
            "POST",
            format!("/api/clients/{record}/delete"),
            String::new(),
        ),
        Request::RestoreClient { record } => (
            "POST",
            format!("/api/clients/{record}/restore"),
            String::new(),
        ),
        Request::SetContact {
            record,
            email,
            phone,
        } => (
            "PUT",
            format!("/api/clients/{record}/contact"),
            serde_json::json!({ "email": email, "phone": phone }).to_string(),
        ),
        Request::SetPersonPassword { record, password } => (
            "PUT",
            format!("/api/clients/{record}/password"),
            serde_json::json!({ "password": password }).to_string(),
        ),
        Request::SendInvitation { record } => (
            "POST",
            format!("/api/clients/{record}/invitation"),
            String::new(),
        ),
        Request::UploadBlob { .. } => {
            return Err(ApiError::Garbled(
                "an upload's content comes from the store: see engine::flush".into(),
            ));
        }
    };
    let body = Some(("application/json", Bytes::from(body)));
    let (status, bytes) = call(server, method, &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// The user's own password (`POST /api/password`); the server ends the sessions.
pub async fn change_password(
    server: &str,
    token: &str,
    old: &str,
    new: &str,
) -> Result<(), ApiError> {
    let body = serde_json::json!({ "old": old, "new": new }).to_string();
    let body = Some(("application/json", Bytes::from(body)));
    let (status, bytes) = call(server, "POST", "/api/password", Some(token), body).await?;
    checked(status, &bytes)
}

/// Uploads a file's content to its address (`PUT /api/blobs/{sha256}`).
pub async fn put_blob(
    server: &str,
    token: &str,
    sha256: &str,
    data: Vec<u8>,
) -> Result<(), ApiError> {
    let path = format!("/api/blobs/{sha256}");
    let body = Some(("application/octet-stream", Bytes::from(data)));
    let (status, bytes) = call(server, "PUT", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// A file's content, if the server gives it to this user.
pub async fn get_blob(server: &str, token: &str, sha256: &str) -> Result<Vec<u8>, ApiError> {
    let path = format!("/api/blobs/{sha256}");
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
}
