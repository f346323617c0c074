//! The person's account page (`GET`/`POST /account`): a person (role `client`) deletes
//! their own account there, in German, plain HTML without scripts, like the invitation
//! page. No session and no cookie: the form carries the login, the password and a
//! confirmation, so a page elsewhere cannot submit it for anyone (it would need the
//! password), and the security headers forbid framing it. The password is checked as a
//! login's is (the throttle, [`patiently`]). The person's client record is then marked
//! deleted exactly as an admin's `POST /api/clients/{record}/delete` does (a deletion
//! event by the server, which the purge later acts on), and the account is deleted:
//! sessions end, recovery keys and invitations go. Staff are refused here: they delete
//! their account in the app.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use model::api::Role;
use model::{DocumentId, UserId};
use serde::Deserialize;

use super::invitations::titled;
use crate::access::Viewer;
use crate::accounts::AccountError;
use crate::blocking::{blocking, patiently};
use crate::extract::ClientIp;
use crate::state::AppState;

const FORM: &str = "<h1>Eigenes Konto löschen</h1>\
    <p>Hier können Sie Ihren Zugang löschen. Ihre Daten bei der Beratungsstelle werden \
    dann als gelöscht markiert und nach der Löschfrist der Stelle vollständig entfernt.</p>\
    <form method=\"post\">\
    <p><label>Login<br><input name=\"login\" autocomplete=\"username\" required></label></p>\
    <p><label>Passwort<br><input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label></p>\
    <p><label><input type=\"checkbox\" name=\"confirm\" value=\"ja\" required> \
    Ja, mein Konto soll gelöscht werden. Das lässt sich nicht rückgängig machen.</label></p>\
    <p><button type=\"submit\">Konto löschen</button></p></form>";

fn html(status: StatusCode, body: &str) -> Response {
    titled(status, "Eigenes Konto löschen", body)
}

fn with_form(status: StatusCode, message: &str) -> Response {
    html(status, &format!("<p><strong>{message}</strong></p>{FORM}"))
}

/// The page with the form.
pub async fn page() -> Response {
    html(StatusCode::OK, FORM)
}

/// The form sent: checks the login and password, then deletes.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    form: Result<Form<DeleteForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return html(StatusCode::UNPROCESSABLE_ENTITY, FORM);
    };
    if form.confirm != "ja" {
        return with_form(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Bitte bestätigen Sie, dass Ihr Konto gelöscht werden soll.",
        );
    }
    let worker = state.clone();
    let DeleteForm {
        login, password, ..
    } = form;
    // In the access log as a login is.
    let checked = patiently(&state.password_checks, move || {
        let result = worker.accounts.verify_login(&login, &password, address);
        let (account, event) = match &result {
            Err(AccountError::Busy) => return result,
            Ok(principal) => (Some(principal.account_id.as_str()), "account-page"),
            Err(_) => (None, "account-page-failed"),
        };
        if let Err(error) = worker.accounts.record_access(address, account, event) {
            tracing::error!(%error, "cannot write the access log");
        }
        result
    })
    .await;
    let principal = match checked {
        Ok(principal) => principal,
        Err(error) if error.status() == StatusCode::TOO_MANY_REQUESTS => {
            return with_form(
                StatusCode::TOO_MANY_REQUESTS,
                "Zu viele Versuche. Bitte versuchen Sie es später noch einmal.",
            );
        }
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => {
            return with_form(
                StatusCode::UNAUTHORIZED,
                "Login oder Passwort stimmen nicht.",
            );
        }
        Err(_) => return html(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>"),
    };
    if principal.role != Role::Client {
        return with_form(
            StatusCode::FORBIDDEN,
            "Konten von Mitarbeitenden werden in der App gelöscht \
             (Menü „Mein Konto“), nicht auf dieser Seite.",
        );
    }
    match delete_person(&state, principal.account_id, principal.tenant).await {
        // Locked, or deleted already (a new deletion event would restart the interval):
        // the answer a wrong password gets, as at a login (person.rs).
        Err(Refused::NotActive) => with_form(
            StatusCode::UNAUTHORIZED,
            "Login oder Passwort stimmen nicht.",
        ),
        Ok(()) => html(
            StatusCode::OK,
            "<h1>Konto gelöscht</h1><p>Ihr Konto wurde gelöscht. Sie können sich nicht mehr \
             anmelden.</p>",
        ),
        Err(Refused::Failed) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<h1>Fehler</h1><p>Das Konto konnte gerade nicht gelöscht werden. Bitte versuchen \
             Sie es später noch einmal.</p>",
        ),
    }
}

/// Why [`delete_person`] did not delete.
enum Refused {
    /// The record is locked or deleted already.
    NotActive,
    Failed,
}

/// Marks the person's record deleted (as an admin's request would), then deletes their
/// account. The record comes first: should it fail, the account stays, and the person
/// can try again. A locked or deleted record is refused, as at a login.
async fn delete_person(
    state: &Arc<AppState>,
    account: UserId,
    tenant: model::TenantId,
) -> Result<(), Refused> {
    let worker = state.clone();
    let id = account.clone();
    let person = blocking(move || worker.accounts.person_of(id.as_str()))
        .await
        .map_err(|_| Refused::Failed)?;
    if let Some(record) = person.and_then(|p| p.parse::<DocumentId>().ok()) {
        if crate::person::may_have_account(state, record)
            .await
            .is_err()
        {
            return Err(Refused::NotActive);
        }
        let who = Viewer {
            account_id: account.clone(),
            tenant: tenant.clone(),
            role: Role::Client,
        };
        if let Err(error) = super::clients::mark_deleted(state, record, &who).await {
            tracing::error!(document = %record, ?error, "cannot mark a person's record deleted");
            return Err(Refused::Failed);
        }
        tracing::info!(document = %record, "client marked for deletion by the person");
    }
    let worker = state.clone();
    let id = account.clone();
    let deleted = blocking(move || match worker.accounts.delete_own(id.as_str()) {
        // Deleted meanwhile (a second submission): done all the same.
        Err(AccountError::NoSuchAccount) => Ok(()),
        other => other,
    })
    .await;
    if deleted.is_err() {
        return Err(Refused::Failed);
    }
    let registry = state.registry.clone();
    let _ = blocking(move || registry.refresh_account(&account)).await;
    state.session_ended();
    Ok(())
}

/// The form on the page. Fields a browser leaves out count as empty.
#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}
