//! The few JSON calls the client makes to the server's HTTP API (login, colleagues,
//! document registration, admins' operations), over hyper's HTTP/1.1 client. Paths,
//! bodies, answers and error codes are the server's own contract ([`model::api`]).
//! Everything else travels over the sync protocol.
//!
//! Errors separate what may work later ([`ApiError::Unreachable`]: keep the request
//! queued) from what the server decided ([`ApiError::Refused`] with its stable code).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use model::api::{
    Contact, ErrorBody, ErrorCode, Login, NewPassword, PasswordChange, Registration, paths,
};
use serde::{Deserialize, Serialize};

pub use model::api::{LoginAnswer, Role, StaffMember};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server refused ({status}): {code}")]
    Refused { status: u16, code: ErrorCode },
    #[error("the server's answer was not understood: {0}")]
    Garbled(String),
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

/// A JSON body of the contract.
fn json(body: &impl Serialize) -> Result<Option<(&'static str, Bytes)>, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Garbled(e.to_string()))?;
    Ok(Some(("application/json", Bytes::from(bytes))))
}

async fn call_json<T: for<'de> Deserialize<'de>>(
    server: &str,
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

pub async fn login(server: &str, login: &str, password: &str) -> Result<LoginAnswer, ApiError> {
    let body = json(&Login {
        login: login.to_owned(),
        password: password.to_owned(),
    })?;
    call_json(server, "POST", paths::LOGIN, None, body).await
}

pub async fn staff(server: &str, token: &str) -> Result<Vec<StaffMember>, ApiError> {
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
pub async fn send(server: &str, token: &str, request: &Request) -> Result<(), ApiError> {
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
    server: &str,
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

/// Uploads a file's content to its address (`PUT /api/blobs/{sha256}`).
pub async fn put_blob(
    server: &str,
    token: &str,
    sha256: &str,
    data: Vec<u8>,
) -> Result<(), ApiError> {
    let path = paths::fill(paths::BLOB, sha256);
    let body = Some(("application/octet-stream", Bytes::from(data)));
    let (status, bytes) = call(server, "PUT", &path, Some(token), body).await?;
    checked(status, &bytes)
}

/// A file's content, if the server gives it to this user.
pub async fn get_blob(server: &str, token: &str, sha256: &str) -> Result<Vec<u8>, ApiError> {
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
}
