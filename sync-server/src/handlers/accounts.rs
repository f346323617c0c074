//! The tenant's accounts.
//!
//! - `GET /api/staff` (staff): the active admins and counsellors of the caller's tenant,
//!   for names in lists and for choosing a primary caretaker.
//! - `GET /api/accounts`, `POST /api/accounts` (admins): the tenant's accounts; a new
//!   staff account with the password the admin hands over ("Passwort vergeben").
//! - `POST /api/accounts/{id}/lock|unlock|delete`, `PUT /api/accounts/{id}/password`
//!   (admins, their tenant's accounts; not their own): locking and deleting end the
//!   account's sessions and live connections at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{
    AccountCreated, AccountState, AccountSummary, ErrorCode, NewAccount, NewPassword, StaffMember,
};

use model::UserId;

use crate::access::Viewer;
use crate::auth::{Admin, Staff};
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::{AccountPath, ApiJson};
use crate::state::AppState;

/// The account `id` must be of the admin's tenant (else 404, as if it did not exist).
async fn of_tenant(
    state: &Arc<AppState>,
    who: &Viewer,
    account_id: &UserId,
) -> Result<(), ApiError> {
    let worker = state.clone();
    let id = account_id.clone();
    let tenant = blocking(move || worker.accounts.tenant_of(id.as_str())).await?;
    if tenant.as_deref() == Some(who.tenant.as_str()) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    let worker = state.clone();
    Ok(Json(
        blocking(move || worker.accounts.list(Some(who.tenant.as_str()))).await?,
    ))
}

/// The active staff of the caller's tenant: no state, no people's own accounts.
pub async fn staff(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    let worker = state.clone();
    let accounts = blocking(move || worker.accounts.list(Some(who.tenant.as_str()))).await?;
    Ok(Json(
        accounts
            .into_iter()
            .filter(|a| a.state == AccountState::Active && a.role.is_staff())
            .map(|a| StaffMember {
                id: a.id,
                login: a.login,
                role: a.role,
            })
            .collect(),
    ))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    ApiJson(request): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<AccountCreated>), ApiError> {
    if !request.role.is_staff() {
        // A person's own account comes with their record: `handlers::clients`.
        return Err(ApiError::unprocessable(ErrorCode::UnknownRole));
    }
    // An invitation by e-mail instead of a password is not built yet.
    let Some(password) = request.password else {
        return Err(ApiError::unprocessable(ErrorCode::InvalidRequest));
    };
    let worker = state.clone();
    let account_id = blocking(move || {
        worker.accounts.create(
            Some(who.account_id.as_str()),
            who.tenant.as_str(),
            &request.login,
            request.role,
            &password,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(AccountCreated { account_id })))
}

pub async fn lock(
    state: State<Arc<AppState>>,
    who: Admin,
    account: AccountPath,
) -> Result<StatusCode, ApiError> {
    set_state(state, who, account, AccountState::Locked).await
}

pub async fn unlock(
    state: State<Arc<AppState>>,
    who: Admin,
    account: AccountPath,
) -> Result<StatusCode, ApiError> {
    set_state(state, who, account, AccountState::Active).await
}

pub async fn delete(
    state: State<Arc<AppState>>,
    who: Admin,
    account: AccountPath,
) -> Result<StatusCode, ApiError> {
    set_state(state, who, account, AccountState::Deleted).await
}

async fn set_state(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    AccountPath(account): AccountPath,
    target: AccountState,
) -> Result<StatusCode, ApiError> {
    of_tenant(&state, &who, &account).await?;
    if account == who.account_id && target != AccountState::Active {
        return Err(ApiError::unprocessable(ErrorCode::NotYourself));
    }
    let worker = state.clone();
    let id = account.clone();
    blocking(move || {
        worker
            .accounts
            .set_state(Some(who.account_id.as_str()), id.as_str(), target)
    })
    .await?;
    let registry = state.registry.clone();
    blocking(move || registry.refresh_account(&account)).await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}

/// "Passwort vergeben" for a member of staff.
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    AccountPath(account): AccountPath,
    ApiJson(request): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    of_tenant(&state, &who, &account).await?;
    if account == who.account_id {
        // Your own password needs the old one: `POST /api/password`.
        return Err(ApiError::unprocessable(ErrorCode::NotYourself));
    }
    let worker = state.clone();
    blocking(move || {
        worker.accounts.set_password(
            Some(who.account_id.as_str()),
            account.as_str(),
            &request.password,
        )
    })
    .await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}
