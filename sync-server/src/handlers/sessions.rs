//! `POST /api/login`, `POST /api/logout`, `POST /api/password`: sessions and one's own
//! password. Every password check waits its turn at the throttle ([`patiently`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{Login, LoginAnswer, PasswordChange, Role};

use crate::accounts::AccountError;
use crate::auth::Session;
use crate::blocking::{blocking, patiently};
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientIp};
use crate::share::peer_id_for;
use crate::state::AppState;

pub async fn login(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    ApiJson(request): ApiJson<Login>,
) -> Result<Json<LoginAnswer>, ApiError> {
    let worker = state.clone();
    let result = patiently(&state.password_checks, move || {
        let result = worker
            .accounts
            .login(&request.login, &request.password, address);
        let (account, event) = match &result {
            Err(AccountError::Busy) => return result,
            Ok(login) => (Some(login.account_id.as_str()), "login"),
            Err(_) => (None, "login-failed"),
        };
        if let Err(error) = worker.accounts.record_access(address, account, event) {
            tracing::error!(%error, "cannot write the access log");
        }
        result
    })
    .await;
    let counter = if result.is_ok() {
        &state.metrics.logins_ok
    } else {
        &state.metrics.logins_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let login = result?;
    if login.role == Role::Client {
        crate::person::logged_in(&state, &login.account_id, &login.token).await?;
    }
    let directory_id = state
        .directories
        .ensure(&login.account_id)
        .await
        .map_err(|error| {
            tracing::error!(account = %login.account_id, %error, "no directory at login");
            ApiError::internal()
        })?;
    Ok(Json(LoginAnswer {
        peer_id: peer_id_for(&login.account_id, &login.token),
        directory_id: directory_id.to_string(),
        account_id: login.account_id.to_string(),
        token: login.token,
        tenant: login.tenant.to_string(),
        role: login.role,
    }))
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    let worker = state.clone();
    blocking(move || worker.accounts.logout(&session.token)).await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}

pub async fn change_password(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    session: Session,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let worker = state.clone();
    patiently(&state.password_checks, move || {
        worker
            .accounts
            .change_password(&session.token, &request.old, &request.new, address)
    })
    .await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}
