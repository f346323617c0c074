//! The person's own account ("ratsuchende Person"): who may have one, what the record
//! says about it, and what a person's login does. Staff give the account a password or
//! send an invitation ([`crate::handlers::clients`], [`crate::handlers::invitations`]);
//! locked and deleted people get neither and cannot log in ([`logged_in`], which also
//! writes "Letztes Login" into the record). Nothing here logs a name, an address or a
//! token.

use std::sync::Arc;

use model::api::ErrorCode;
use model::client_record::{AccountState, ClientRecord};
use model::{Document, DocumentId, UserId};

use crate::accounts::AccountError;
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::state::AppState;

/// The record, if the person may have an account: not locked (or locked until a day
/// that has passed), not deleted.
pub async fn may_have_account(
    state: &AppState,
    record: DocumentId,
) -> Result<ClientRecord, ApiError> {
    let read: ClientRecord = state.author.read(record).await?;
    let (view, _) = conflict_rules::record::fold_record(&read);
    if view.status.may_log_in(state.registry.today()) {
        Ok(read)
    } else {
        Err(ApiError::unprocessable(ErrorCode::ClientNotActive))
    }
}

/// Changes the record's account state as the server.
pub async fn set_account(
    state: &Arc<AppState>,
    record: DocumentId,
    change: impl FnOnce(&mut AccountState) + Send,
) -> Result<(), ApiError> {
    state
        .author
        .edit(record, |doc: &mut Document<ClientRecord>| {
            let mut account = doc.read()?.account;
            change(&mut account);
            doc.set_account_state(&account)
        })
        .await
}

/// A person logged in with their own account: refused (and the new session ended) while
/// their record is locked or deleted, with the answer a wrong password gets (which
/// people are locked is nobody's business, and the answer must not confirm the
/// password); otherwise the record's "Letztes Login" moves.
pub async fn logged_in(
    state: &Arc<AppState>,
    account: &UserId,
    token: &str,
) -> Result<(), ApiError> {
    let worker = state.clone();
    let id = account.clone();
    let record = blocking(move || worker.accounts.person_of(id.as_str())).await?;
    let Some(record) = record else {
        return Ok(());
    };
    // A person's account names a record the server registered; one that names anything
    // else cannot be checked, so it is refused like a locked person.
    let allowed = match record.parse::<DocumentId>() {
        Ok(record) => may_have_account(state, record)
            .await
            .is_ok()
            .then_some(record),
        Err(_) => None,
    };
    let Some(record) = allowed else {
        let worker = state.clone();
        let token = token.to_owned();
        blocking(move || worker.accounts.logout(&token)).await?;
        return Err(AccountError::WrongCredentials.into());
    };
    let now = crate::accounts::now_ms();
    set_account(state, record, |account| account.last_login_ms = Some(now)).await
}
