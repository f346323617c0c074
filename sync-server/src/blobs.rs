//! Uploaded files: blobs, not CRDTs. Content-addressed by SHA-256,
//! kept in SQLite per tenant (so one tenant cannot learn what another stored), and
//! readable only by a counsellor who uploaded that content and owns a staff notebook
//! that references it: documents are visible only to the counsellor who uploaded them
//! (as the manual says). A reference alone is not enough: an admin reads every notebook and could
//! copy a hash into a notebook of their own.
//!
//! - `PUT /api/blobs/{sha256}` (staff): the body must hash to the address, and be at most
//!   `max_blob_bytes`; storing the same content again changes nothing.
//! - `GET /api/blobs/{sha256}`: the content, if the caller uploaded it and a notebook the
//!   caller owns references it; 404 otherwise, exactly as for content that does not exist.
//!
//! Settling a notebook records which hashes it references (`blob_refs`).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::Role;
use crate::extract::Authenticated;
use crate::http::{ApiError, AppState, blocking};

#[derive(Debug)]
pub struct Blobs {
    conn: Mutex<Connection>,
}

impl Blobs {
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Mutex::new(conn),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores content under its hash for a tenant, uploaded by `account`; `true` when the
    /// content is new.
    pub fn put(
        &self,
        tenant: &str,
        sha256: &str,
        account: &str,
        data: &[u8],
    ) -> rusqlite::Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO blobs (tenant, sha256, data, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![tenant, sha256, data, crate::accounts::now_ms() as i64],
        )? > 0;
        tx.execute(
            "INSERT OR IGNORE INTO blob_uploaders (tenant, sha256, account) VALUES (?1, ?2, ?3)",
            params![tenant, sha256, account],
        )?;
        tx.commit()?;
        Ok(added)
    }

    /// The content, if `account` uploaded it in this tenant and one of `notebooks` (the
    /// caller's own) references it.
    pub fn get(
        &self,
        tenant: &str,
        sha256: &str,
        account: &str,
        notebooks: &[String],
    ) -> rusqlite::Result<Option<Vec<u8>>> {
        let conn = self.conn();
        let uploaded = conn
            .query_row(
                "SELECT 1 FROM blob_uploaders WHERE tenant = ?1 AND sha256 = ?2 AND account = ?3",
                params![tenant, sha256, account],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !uploaded {
            return Ok(None);
        }
        let referenced = notebooks.iter().try_fold(false, |found, notebook| {
            if found {
                return Ok(true);
            }
            conn.query_row(
                "SELECT 1 FROM blob_refs WHERE notebook = ?1 AND sha256 = ?2",
                params![notebook, sha256],
                |_| Ok(()),
            )
            .optional()
            .map(|row| row.is_some())
        })?;
        if !referenced {
            return Ok(None);
        }
        conn.query_row(
            "SELECT data FROM blobs WHERE tenant = ?1 AND sha256 = ?2",
            params![tenant, sha256],
            |r| r.get(0),
        )
        .optional()
    }

    /// What a notebook references now.
    pub fn set_refs(&self, notebook: &str, hashes: &[String]) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM blob_refs WHERE notebook = ?1", [notebook])?;
        for hash in hashes {
            tx.execute(
                "INSERT OR IGNORE INTO blob_refs (notebook, sha256) VALUES (?1, ?2)",
                params![notebook, hash],
            )?;
        }
        tx.commit()
    }
}

fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex_sha256(data: &[u8]) -> String {
    crate::password::hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

fn internal(error: rusqlite::Error) -> ApiError {
    tracing::error!(%error, "the blob store failed");
    ApiError::internal()
}

/// `PUT /api/blobs/{sha256}`. The token is checked before a byte of the body is read
/// (the extractors of the request's parts run first); a body longer than
/// `max_blob_bytes` is refused by its announced length, or as soon as it grows past
/// it; and an upload that stalls for `upload_idle_seconds` ends.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    Authenticated(who): Authenticated,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    if who.role == Role::Client {
        return Err(ApiError::forbidden());
    }
    if !is_hash(&sha256) {
        return Err(ApiError::bad_request("bad-hash"));
    }
    let limit = state.config.max_blob_bytes;
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large");
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let idle = std::time::Duration::from_secs(state.config.upload_idle_seconds);
    let mut body = body.into_data_stream();
    let mut data = Vec::with_capacity(announced.unwrap_or(0).min(limit));
    loop {
        match tokio::time::timeout(idle, body.next()).await {
            Err(_) => return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout")),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(ApiError::bad_request("malformed-request")),
            Ok(Some(Ok(chunk))) => {
                if data.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                data.extend_from_slice(&chunk);
            }
        }
    }
    let worker = state.clone();
    let added = blocking(move || {
        if hex_sha256(&data) != sha256 {
            return Err(ApiError::unprocessable("hash-mismatch"));
        }
        worker
            .blobs
            .put(&who.tenant, &sha256, &who.account_id, &data)
            .map_err(internal)
    })
    .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

pub async fn download(
    State(state): State<Arc<AppState>>,
    Authenticated(who): Authenticated,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    if !is_hash(&sha256) {
        return Err(ApiError::not_found());
    }
    let notebooks = state.registry.owned_notebooks(&who.account_id);
    let worker = state.clone();
    let found = blocking(move || {
        worker
            .blobs
            .get(&who.tenant, &sha256, &who.account_id, &notebooks)
            .map_err(internal)
    })
    .await?
    .ok_or(ApiError::not_found())?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CONTENT_DISPOSITION, "attachment"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        found,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_readable_only_by_its_uploader_through_a_referencing_notebook() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(crate::db::open(&dir.path().join("db.sqlite")).unwrap());
        let data = b"Lebenslauf";
        let hash = hex_sha256(data);
        assert!(is_hash(&hash));
        assert!(blobs.put("t", &hash, "anna", data).unwrap());
        assert!(!blobs.put("t", &hash, "anna", data).unwrap(), "stored once");
        let mine = vec!["notebook-1".to_owned()];
        let get = |account: &str, notebooks: &[String]| {
            blobs.get("t", &hash, account, notebooks).unwrap()
        };
        assert_eq!(get("anna", &mine), None, "no reference yet");
        blobs
            .set_refs("notebook-1", std::slice::from_ref(&hash))
            .unwrap();
        assert_eq!(get("anna", &mine).as_deref(), Some(&data[..]));
        assert_eq!(
            blobs.get("other", &hash, "anna", &mine).unwrap(),
            None,
            "another tenant"
        );
        blobs
            .set_refs("notebook-2", std::slice::from_ref(&hash))
            .unwrap();
        assert_eq!(
            get("ada", &["notebook-2".to_owned()]),
            None,
            "a reference copied into someone else's notebook is not enough"
        );
        assert_eq!(
            get("anna", &["notebook-3".to_owned()]),
            None,
            "a notebook without it"
        );
        blobs.set_refs("notebook-1", &[]).unwrap();
        assert_eq!(get("anna", &mine), None, "reference removed");
    }
}
