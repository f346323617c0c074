//! What handlers take from a request besides who asks (that is [`crate::auth`]), as
//! axum extractors, so that a bad request is refused before the handler runs:
//!
//! - [`ApiJson`]: a JSON body; a malformed, mistyped or oversized one gets a stable code
//!   (`malformed-json`, `not-json`, `too-large`), never axum's plain-text message;
//! - [`ClientIp`]: the client's address, the peer's or, behind a trusted proxy, the one
//!   it forwarded;
//! - [`DocPath`], [`AccountPath`]: the id a route's path names, typed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use model::api::ErrorCode;
use model::{DocumentId, UserId};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, refused with a stable code.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_refused(&rejection)),
        }
    }
}

fn json_refused(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::NotJson)
        }
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(ErrorCode::InvalidRequest),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(ErrorCode::MalformedJson),
        JsonRejection::BytesRejection(bytes) if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::too_large()
        }
        _ => ApiError::bad_request(ErrorCode::MalformedRequest),
    }
}

/// The address the request comes from, as far as this server can tell.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Err(ApiError::internal());
        };
        Ok(Self(crate::proxies::client_address(
            *peer,
            &parts.headers,
            &state.config.trusted_proxies,
            state.config.forwarded_header,
        )))
    }
}

/// The one parameter of a route's path, as text; a path without it is 404.
async fn path_text<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, ApiError> {
    let Path(text) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found())?;
    Ok(text)
}

/// The document id a route's path names (`{record}`), in its one canonical spelling;
/// any other spelling, or no id at all, is 404 like an id that does not exist.
#[derive(Debug, Clone, Copy)]
pub struct DocPath(pub DocumentId);

impl<S: Send + Sync> FromRequestParts<S> for DocPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = path_text(parts, state).await?;
        crate::wire::document_id(&id)
            .map(Self)
            .ok_or(ApiError::not_found())
    }
}

/// The account id a route's path names (`{account}`).
#[derive(Debug, Clone)]
pub struct AccountPath(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for AccountPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(UserId::new(path_text(parts, state).await?)))
    }
}

/// The device id a route's path names (`{device}`): 22 to 64 characters of
/// `[A-Za-z0-9_-]` ([`crate::accounts::check_device`]), else 400 `invalid-request`.
#[derive(Debug, Clone)]
pub struct DevicePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DevicePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let device = path_text(parts, state).await?;
        if crate::accounts::check_device(&device) {
            Ok(Self(device))
        } else {
            Err(ApiError::bad_request(model::api::ErrorCode::InvalidRequest))
        }
    }
}
