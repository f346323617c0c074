//! Device recovery keys (`PUT`/`GET /api/recovery/{device}`, staff): the desktop app
//! stores its device's recovery key at a sign-in and fetches it after an admin reset
//! its password, to re-key its local store (ARCHITECTURE.md, "Recovery after a password
//! reset"). A key is handed back only to the account that stored it; anyone else, and
//! a device that stored none, gets 404. Keys never reach a log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{ErrorCode, RecoveryKey};

use crate::accounts::{decode_key, encode_key};
use crate::auth::Staff;
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::{ApiJson, DevicePath};
use crate::state::AppState;

/// Stores (or replaces) the signed-in account's key for this device.
pub async fn store(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
    DevicePath(device): DevicePath,
    ApiJson(request): ApiJson<RecoveryKey>,
) -> Result<StatusCode, ApiError> {
    let key = decode_key(&request.key).ok_or(ApiError::unprocessable(ErrorCode::InvalidRequest))?;
    let worker = state.clone();
    blocking(move || {
        worker
            .accounts
            .store_recovery_key(who.account_id.as_str(), &device, &key)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account's key for this device.
pub async fn fetch(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
    DevicePath(device): DevicePath,
) -> Result<Json<RecoveryKey>, ApiError> {
    let worker = state.clone();
    let key = blocking(move || {
        worker
            .accounts
            .recovery_key(who.account_id.as_str(), &device)
    })
    .await?
    .ok_or(ApiError::not_found())?;
    Ok(Json(RecoveryKey {
        key: encode_key(&key),
    }))
}
