//! What handlers take from a request, as axum extractors, so that a handler's signature
//! says what it needs and a bad request is refused before the handler runs:
//!
//! - [`ApiJson`]: a JSON body; a malformed, mistyped or oversized one gets a stable code
//!   (`malformed-json`, `not-json`, `too-large`), never axum's plain-text message;
//! - [`Authenticated`]: the active account behind the bearer token. Extractors of the
//!   request's parts run before the body is read, so a request without a valid token
//!   is refused without its body ever being read (an upload of 25 MB included);
//! - [`ClientIp`]: the client's address, the peer's or, behind a trusted proxy, the one
//!   it forwarded.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::access::Viewer;
use crate::accounts::AccountError;
use crate::http::{ApiError, AppState, bearer};

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
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-json")
        }
        JsonRejection::JsonDataError(_) => ApiError::unprocessable("invalid-request"),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("malformed-json"),
        JsonRejection::BytesRejection(bytes) if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large")
        }
        _ => ApiError::bad_request("malformed-request"),
    }
}

/// The active account of the request's bearer token.
#[derive(Debug)]
pub struct Authenticated(pub Viewer);

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(AccountError::NoSession)?;
        Ok(Self(crate::http::viewer(state, &token).await?))
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
        Ok(Self(crate::listener::client_address(
            *peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}
