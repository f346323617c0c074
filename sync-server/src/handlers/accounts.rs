//! The tenant's accounts.
//!
//! - `GET /api/staff` (staff): the active admins and counsellors of the caller's tenant,
//!   for names in lists and for choosing a primary caretaker.
//! - `GET /api/accounts`, `POST /api/accounts` (admins): the tenant's accounts; a new
//!   staff account either with the password the admin hands over once ("Passwort
//!   vergeben"), or without one and with an invitation e-mail to set it (the address is
//!   used for the mail only: a sent mail row keeps no recipient).
//! - `POST /api/accounts/{id}/invitation` (admins): a new invitation for a staff
//!   account that has no password yet.
//! - `POST /api/accounts/{id}/lock|unlock|delete`, `PUT /api/accounts/{id}/password`
//!   (admins, their tenant's accounts; not their own): locking, deleting and a new
//!   password end the account's sessions and live connections at once; deleting also
//!   forgets its recovery keys.
//! - `POST /api/account/delete` (staff): one's own account, confirmed with the password
//!   (checked through the throttle like a login); never the tenant's last active admin.
//!
//! Whenever the tenant's staff changes, its directories note it
//! ([`crate::registry::Registry::staff_changed`]) and clients ask for the staff list again.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{
    AccountCreated, AccountState, AccountSummary, DeleteOwnAccount, ErrorCode, NewAccount,
    NewPassword, StaffInvitation, StaffMember,
};

use model::UserId;

use crate::access::Viewer;
use crate::accounts::AccountError;
use crate::auth::{Admin, Staff};
use crate::blocking::{blocking, patiently};
use crate::error::ApiError;
use crate::extract::{AccountPath, ApiJson, ClientIp};
use crate::state::AppState;

/// After an account of `who`'s tenant was created or changed state: access is decided
/// anew, connections re-check their sessions, and colleagues' staff lists ask again.
async fn account_changed(
    state: &Arc<AppState>,
    who: &Viewer,
    account: UserId,
) -> Result<(), ApiError> {
    let registry = state.registry.clone();
    blocking(move || registry.refresh_account(&account)).await?;
    state.session_ended();
    state.registry.staff_changed(&who.tenant);
    Ok(())
}

/// An e-mail address for an invitation, or `bad-email`.
fn checked_email(email: &str) -> Result<String, ApiError> {
    model::client_contact::checked_email(email)
        .map_err(|_| ApiError::unprocessable(ErrorCode::BadEmail))
}

/// Creates an invitation for the staff account `account` and queues its e-mail.
async fn invite_staff(
    state: &Arc<AppState>,
    account: &UserId,
    email: String,
) -> Result<(), ApiError> {
    let worker = state.clone();
    let id = account.clone();
    let days = state.config.invitation_days;
    let token = blocking(move || {
        worker.accounts.invite(
            id.as_str(),
            None,
            std::time::Duration::from_secs(days.saturating_mul(24 * 3600)),
        )
    })
    .await?;
    super::invitations::queue(state, &token, email, None).await?;
    tracing::info!(account = %account, "a staff invitation was queued");
    Ok(())
}

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
    // Either a password handed over once, or an address to invite: exactly one.
    let email = match (&request.password, &request.email) {
        (Some(_), None) => None,
        (None, Some(email)) => Some(checked_email(email)?),
        _ => return Err(ApiError::unprocessable(ErrorCode::InvalidRequest)),
    };
    let worker = state.clone();
    let actor = who.account_id.clone();
    let tenant = who.tenant.clone();
    let account_id = blocking(move || {
        let NewAccount {
            login,
            role,
            password,
            ..
        } = request;
        match password {
            Some(password) => worker.accounts.create(
                Some(actor.as_str()),
                tenant.as_str(),
                &login,
                role,
                &password,
            ),
            None => worker.accounts.create_without_password(
                Some(actor.as_str()),
                tenant.as_str(),
                &login,
                role,
            ),
        }
    })
    .await?;
    let account = UserId::new(account_id.clone());
    if let Some(email) = email {
        invite_staff(&state, &account, email).await?;
    }
    account_changed(&state, &who, account).await?;
    Ok((StatusCode::CREATED, Json(AccountCreated { account_id })))
}

/// A new invitation e-mail for a staff account that has not set its password.
pub async fn invitation(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    AccountPath(account): AccountPath,
    ApiJson(request): ApiJson<StaffInvitation>,
) -> Result<StatusCode, ApiError> {
    of_tenant(&state, &who, &account).await?;
    let email = checked_email(&request.email)?;
    let worker = state.clone();
    let id = account.clone();
    let (summary, has_password) = blocking(move || {
        let summary = worker
            .accounts
            .list(Some(who.tenant.as_str()))?
            .into_iter()
            .find(|a| a.id == id.as_str());
        Ok::<_, AccountError>((summary, worker.accounts.has_password(id.as_str())?))
    })
    .await?;
    let summary = summary.ok_or(ApiError::not_found())?;
    if !summary.role.is_staff() {
        // A person is invited through their record: `handlers::invitations`.
        return Err(ApiError::unprocessable(ErrorCode::UnknownRole));
    }
    if summary.state == AccountState::Deleted {
        return Err(ApiError::not_found());
    }
    if has_password {
        // The password is set: "Passwort vergeben" resets it.
        return Err(ApiError::unprocessable(ErrorCode::InvalidRequest));
    }
    invite_staff(&state, &account, email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One's own account, deleted by its owner with the password.
pub async fn delete_own(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    Staff(who): Staff,
    ApiJson(request): ApiJson<DeleteOwnAccount>,
) -> Result<StatusCode, ApiError> {
    let worker = state.clone();
    let id = who.account_id.clone();
    let login = blocking(move || worker.accounts.login_of(id.as_str()))
        .await?
        .ok_or(AccountError::NoSession)?;
    let worker = state.clone();
    let id = who.account_id.clone();
    patiently(&state.password_checks, move || {
        let principal = worker
            .accounts
            .verify_login(&login, &request.password, address)?;
        if principal.account_id != id {
            // The login now names another account (renamed meanwhile): not this one's
            // password.
            return Err(AccountError::WrongCredentials);
        }
        worker.accounts.delete_own(id.as_str())
    })
    .await?;
    tracing::info!(account = %who.account_id, "an account was deleted by its owner");
    account_changed(&state, &who, who.account_id.clone()).await?;
    Ok(StatusCode::NO_CONTENT)
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
    let actor = who.account_id.clone();
    blocking(move || {
        worker
            .accounts
            .set_state(Some(actor.as_str()), id.as_str(), target)
    })
    .await?;
    account_changed(&state, &who, account).await?;
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
