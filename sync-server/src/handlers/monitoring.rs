//! `GET /healthz` and `GET /metrics`, for IT's monitoring.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::bearer;
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::password::token_digest;
use crate::state::AppState;

/// Answers only when the database does.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let worker = state.clone();
    match blocking(move || worker.accounts.count()).await {
        Ok(_) => "ok".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// Prometheus text format, for the bearer of `metrics_token` only; without the setting
/// there are no metrics to see.
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let allowed = match (&state.config.metrics_token, bearer(&headers)) {
        // Digests compared, so the comparison's time tells nothing about the token.
        (Some(expected), Some(given)) => token_digest(expected) == token_digest(&given),
        _ => false,
    };
    if !allowed {
        return ApiError::not_found().into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.persisted.failed_writes()),
    )
        .into_response()
}
