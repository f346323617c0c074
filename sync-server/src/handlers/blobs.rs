//! Uploaded files.
//!
//! - `PUT /api/blobs/{sha256}` (staff): the body must hash to the address, and be at most
//!   `max_blob_bytes`; storing the same content again changes nothing.
//! - `GET /api/blobs/{sha256}`: the content, if the caller uploaded it and a notebook the
//!   caller owns references it; 404 otherwise, exactly as for content that does not exist.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use model::api::ErrorCode;

use crate::auth::{Signed, Staff};
use crate::blobs::{hex_sha256, is_hash};
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::state::AppState;

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
    Staff(who): Staff,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    if !is_hash(&sha256) {
        return Err(ApiError::bad_request(ErrorCode::BadHash));
    }
    let limit = state.config.max_blob_bytes;
    let too_large = ApiError::too_large;
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
            Err(_) => return Err(ApiError::timeout()),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(ApiError::bad_request(ErrorCode::MalformedRequest)),
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
            return Err(ApiError::unprocessable(ErrorCode::HashMismatch));
        }
        worker
            .blobs
            .put(who.tenant.as_str(), &sha256, who.account_id.as_str(), &data)
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
    Signed(who): Signed,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    if !is_hash(&sha256) {
        return Err(ApiError::not_found());
    }
    let notebooks: Vec<String> = state
        .registry
        .owned_notebooks(&who.account_id)
        .iter()
        .map(ToString::to_string)
        .collect();
    let worker = state.clone();
    let found = blocking(move || {
        worker
            .blobs
            .get(
                who.tenant.as_str(),
                &sha256,
                who.account_id.as_str(),
                &notebooks,
            )
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
