//! The router: every route of the contract ([`model::api::paths`]) to its handler, and
//! the layers around them. Who may call a handler is in its signature
//! ([`crate::auth`]); what it takes and gives is in [`model::api`].

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};
use model::api::paths;

use crate::error::ApiError;
use crate::handlers::{
    account_page, accounts, blobs, clients, documents, invitations, monitoring, recovery, sessions,
};
use crate::layers::{self, MAX_JSON_BYTES};
use crate::state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    // Requests that must be done within `request_timeout_seconds`: all but uploads,
    // which may take long on a slow line and end when they stall instead.
    let timed = Router::new()
        .route(paths::LOGIN, post(sessions::login))
        .route(paths::LOGOUT, post(sessions::logout))
        .route(paths::PASSWORD, post(sessions::change_password))
        .route(paths::DOCUMENTS, post(documents::register))
        .route(paths::CLIENT_DELETE, post(clients::delete))
        .route(paths::CLIENT_RESTORE, post(clients::restore))
        .route(paths::CLIENT_CONTACT, put(clients::set_contact))
        .route(paths::CLIENT_PASSWORD, put(clients::set_password))
        .route(paths::CLIENT_INVITATION, post(invitations::send))
        .route(
            paths::INVITATION_PAGE,
            get(invitations::page).post(invitations::submit),
        )
        .route(paths::BLOB, get(blobs::download))
        .route(paths::STAFF, get(accounts::staff))
        .route(paths::ACCOUNTS, get(accounts::list).post(accounts::create))
        .route(paths::ACCOUNT_LOCK, post(accounts::lock))
        .route(paths::ACCOUNT_UNLOCK, post(accounts::unlock))
        .route(paths::ACCOUNT_DELETE, post(accounts::delete))
        .route(paths::ACCOUNT_PASSWORD, put(accounts::set_password))
        .route(paths::ACCOUNT_INVITATION, post(accounts::invitation))
        .route(paths::OWN_ACCOUNT_DELETE, post(accounts::delete_own))
        .route(paths::RECOVERY, get(recovery::fetch).put(recovery::store))
        .route(
            paths::ACCOUNT_PAGE,
            get(account_page::page).post(account_page::submit),
        )
        .route(paths::SYNC, get(crate::sync::upgrade))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            layers::deadline,
        ));
    let counted = Router::new()
        .route(paths::BLOB, put(blobs::upload))
        .merge(timed)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            layers::count_request,
        ));
    Router::new()
        .route(paths::HEALTH, get(monitoring::health))
        .route(paths::METRICS, get(monitoring::metrics))
        .merge(counted)
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(layers::secure_headers))
        .with_state(state)
}

/// The monitoring address (`metrics_listen`): `/healthz`, and `/metrics` without a
/// token unless `metrics_token` is set.
pub fn monitoring(state: Arc<AppState>) -> Router {
    Router::new()
        .route(paths::HEALTH, get(monitoring::health))
        .route(paths::METRICS, get(monitoring::internal_metrics))
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn(layers::secure_headers))
        .with_state(state)
}
