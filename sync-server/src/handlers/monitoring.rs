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
/// there are no metrics to see on the main address.
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if state.config.metrics_token.is_none() || !token_given(&state, &headers) {
        return ApiError::not_found().into_response();
    }
    render(&state)
}

/// The same on the monitoring address, where the token is asked only if one is set.
pub async fn internal_metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if state.config.metrics_token.is_some() && !token_given(&state, &headers) {
        return ApiError::not_found().into_response();
    }
    render(&state)
}

/// Whether the request bears `metrics_token`.
fn token_given(state: &AppState, headers: &HeaderMap) -> bool {
    match (&state.config.metrics_token, bearer(headers)) {
        // Digests compared, so the comparison's time tells nothing about the token.
        (Some(expected), Some(given)) => token_digest(expected) == token_digest(&given),
        _ => false,
    }
}

fn render(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.persisted.failed_writes()),
    )
        .into_response()
}
