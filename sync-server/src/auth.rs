//! Who is asking, as axum extractors, so that a handler's signature says who may call
//! it and a request is refused before the handler runs:
//!
//! - [`Session`]: a valid session token and whose it is (logout, a password change);
//! - [`Signed`]: the active account of a valid session, any role;
//! - [`Staff`]: an admin or a counsellor (a person's own account gets 403);
//! - [`Admin`]: an admin (everyone else gets 403).
//!
//! Extractors of the request's parts run before the body is read, so a request without
//! a valid token is refused without its body ever being read (an upload included).
//! Whether the caller may touch a particular record or account (its tenant) is the
//! handler's question: it needs the path.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::access::Viewer;
use crate::accounts::{AccountError, Principal, Role};
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::state::AppState;

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// The principal of a valid session token, checked off the async workers; the check
/// refreshes the session's idle time.
pub async fn authenticated(state: &Arc<AppState>, token: &str) -> Result<Principal, ApiError> {
    let worker = state.clone();
    let token = token.to_owned();
    blocking(move || worker.accounts.authenticate(&token)).await
}

/// The active account of a valid session token, as the access rules see it.
async fn viewer(state: &Arc<AppState>, token: &str) -> Result<Viewer, ApiError> {
    let principal = authenticated(state, token).await?;
    Ok(state
        .registry
        .viewer(&principal.account_id)
        .ok_or(AccountError::NoSession)?)
}

async fn viewer_of(parts: &Parts, state: &Arc<AppState>) -> Result<Viewer, ApiError> {
    let token = bearer(&parts.headers).ok_or(AccountError::NoSession)?;
    viewer(state, &token).await
}

/// The viewer of the request if `allowed` lets their role in; 403 otherwise.
async fn viewer_allowed(
    parts: &Parts,
    state: &Arc<AppState>,
    allowed: fn(Role) -> bool,
) -> Result<Viewer, ApiError> {
    let who = viewer_of(parts, state).await?;
    if allowed(who.role) {
        Ok(who)
    } else {
        Err(ApiError::forbidden())
    }
}

/// The token of a valid session.
pub struct Session {
    pub token: String,
}

/// Tokens never reach a log.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session { .. }")
    }
}

impl FromRequestParts<Arc<AppState>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(AccountError::NoSession)?;
        authenticated(state, &token).await?;
        Ok(Self { token })
    }
}

/// The active account of the request's bearer token, whatever its role.
#[derive(Debug)]
pub struct Signed(pub Viewer);

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(viewer_of(parts, state).await?))
    }
}

/// An admin or a counsellor.
#[derive(Debug)]
pub struct Staff(pub Viewer);

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        viewer_allowed(parts, state, Role::is_staff).await.map(Self)
    }
}

/// An admin of their tenant.
#[derive(Debug)]
pub struct Admin(pub Viewer);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        viewer_allowed(parts, state, |role| role == Role::Admin)
            .await
            .map(Self)
    }
}
