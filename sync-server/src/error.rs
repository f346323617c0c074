//! Errors as the API answers them: a stable code from the contract
//! ([`model::api::ErrorCode`]) with an HTTP status, never a message with personal data
//! in it. Every error of the layers below maps here once.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::api::{ErrorBody, ErrorCode};
use model::client_contact::ContactError;
use model::client_record::RecordError;

use crate::accounts::AccountError;
use crate::registry::RegistryError;

/// An error as the client sees it: `{"error": "wrong-credentials"}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    /// Seconds to wait, for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode) -> Self {
        Self {
            status,
            code,
            retry_after: None,
        }
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    }

    pub fn unprocessable(code: ErrorCode) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
    }

    pub fn bad_request(code: ErrorCode) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }

    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
    }

    pub fn timeout() -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout)
    }

    pub fn too_many_connections() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyConnections)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorBody { error: self.code })).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let retry_after = match &e {
            AccountError::RateLimited(wait) => Some(wait.as_secs_f64().ceil() as u64),
            AccountError::Busy => Some(1),
            _ => None,
        };
        let status = match &e {
            AccountError::WrongCredentials | AccountError::NoSession => StatusCode::UNAUTHORIZED,
            AccountError::RateLimited(_) | AccountError::Busy => StatusCode::TOO_MANY_REQUESTS,
            AccountError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountError::LoginTaken => StatusCode::CONFLICT,
            AccountError::NoSuchAccount => StatusCode::NOT_FOUND,
            AccountError::LastAdmin | AccountError::PasswordAlreadySet => StatusCode::CONFLICT,
            AccountError::Random(_) | AccountError::Sqlite(_) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self {
            status,
            code: e.code(),
            retry_after,
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Taken => StatusCode::CONFLICT,
            RegistryError::Forbidden => StatusCode::FORBIDDEN,
            RegistryError::CreationMissing => StatusCode::BAD_REQUEST,
            RegistryError::Sqlite(_) => {
                tracing::error!(error = %e, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self::new(status, e.code())
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        tracing::error!(error = %e, "a record edit failed");
        ApiError::internal()
    }
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::BadEmail => ApiError::unprocessable(ErrorCode::BadEmail),
            ContactError::BadPhone => ApiError::unprocessable(ErrorCode::BadPhone),
            other => {
                tracing::error!(error = %other, "a contact edit failed");
                ApiError::internal()
            }
        }
    }
}
