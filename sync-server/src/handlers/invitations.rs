//! "Einladung versenden" and the page behind its link.
//!
//! - `POST /api/clients/{record}/invitation` (staff of the tenant): needs the person's
//!   e-mail address (from the contact document, which only admins read: a counsellor
//!   learns only that there is none); creates the person's account if needed, with an
//!   unknown password, and queues an e-mail with a link valid for `invitation_days`.
//!   The record then says the invitation waits, and once the mail queue is done with
//!   it, that it was sent or failed.
//! - `GET /invitation/{token}`, `POST /invitation/{token}`: the page behind the link, in
//!   German, plain HTML without scripts; the form sets the password, which uses the
//!   invitation up.
//!
//! Staff accounts are invited the same way ([`queue`], from `handlers::accounts`):
//! the same token, e-mail and page, without a record to note anything in; a member of
//! staff who sets their password shows up in colleagues' staff lists.

use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use model::DocumentId;
use model::api::{ErrorCode, paths};
use model::client_contact::ClientContact;
use serde::Deserialize;

use super::record_of;
use crate::accounts::AccountError;
use crate::auth::Staff;
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::DocPath;
use crate::mail::{About, Channel, Outgoing};
use crate::person::{may_have_account, set_account};
use crate::state::AppState;

/// "Einladung versenden".
pub async fn send(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
    DocPath(record): DocPath,
) -> Result<StatusCode, ApiError> {
    let entry = record_of(&state, &who, record)?;
    let read = may_have_account(&state, record).await?;
    let email = match state.registry.contact_of(&record) {
        Some(id) => state.author.read::<ClientContact>(id).await?.email,
        None => None,
    }
    .ok_or(ApiError::unprocessable(ErrorCode::NoEmail))?;
    let worker = state.clone();
    let id = record.to_string();
    let actor = who.account_id.clone();
    let days = state.config.invitation_days;
    let token = blocking(move || {
        let (account, _) = worker.accounts.ensure_person_account(
            Some(actor.as_str()),
            entry.tenant.as_str(),
            &id,
            &read.pseudonym,
            None,
        )?;
        worker.accounts.invite(
            &account,
            Some(&id),
            Duration::from_secs(days.saturating_mul(24 * 3600)),
        )
    })
    .await?;
    // Before queuing: the worker shows an invitation's outcome only if no invitation was
    // queued after it, and this one's queue time is not earlier than this.
    let now = crate::accounts::now_ms();
    queue(&state, &token, email, Some(About::Invitation(record))).await?;
    set_account(&state, record, |account| {
        account.invitation_queued_ms = Some(now);
    })
    .await?;
    tracing::info!(document = %record, "an invitation was queued");
    Ok(StatusCode::NO_CONTENT)
}

/// Queues the invitation e-mail with the link for `token` to `email`.
pub(super) async fn queue(
    state: &Arc<AppState>,
    token: &str,
    email: String,
    about: Option<About>,
) -> Result<(), ApiError> {
    let days = state.config.invitation_days;
    let link = format!(
        "{}{}",
        state.config.public_base_url(),
        paths::fill(paths::INVITATION_PAGE, token)
    );
    let message = Outgoing {
        key: format!("invite:{}", crate::password::token_digest(token)),
        channel: Channel::Email,
        recipient: email,
        subject: "Einladung: Passwort festlegen".into(),
        body: format!(
            "Guten Tag,\n\nSie wurden eingeladen, sich ein Passwort für Ihren Zugang zu setzen. \
             Öffnen Sie dazu diesen Link (gültig {days} Tage):\n\n{link}\n\n\
             Das Passwort braucht mindestens 8 Zeichen mit Klein- und Großbuchstaben, einer \
             Ziffer und einem Sonderzeichen.\n"
        ),
        about,
    };
    let mail = state.mail.clone();
    blocking(move || {
        mail.queue(&message).map_err(|error| {
            tracing::error!(%error, "cannot queue an invitation");
            ApiError::internal()
        })
    })
    .await?;
    Ok(())
}

pub(super) fn html(status: StatusCode, body: &str) -> Response {
    titled(status, "Passwort festlegen", body)
}

/// A page of `body` titled `title`, as the invitation and account pages answer.
pub(super) fn titled(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">{body}</body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

const FORM: &str = "<h1>Passwort festlegen</h1>\
    <form method=\"post\">\
    <p><label>Neues Passwort<br><input type=\"password\" name=\"password\" autocomplete=\"new-password\" required></label></p>\
    <p><label>Passwort wiederholen<br><input type=\"password\" name=\"repeat\" autocomplete=\"new-password\" required></label></p>\
    <p>Mindestens 8 Zeichen mit Klein- und Großbuchstaben, einer Ziffer und einem Sonderzeichen.</p>\
    <p><button type=\"submit\">Speichern</button></p></form>";

const EXPIRED: &str = "<h1>Link ungültig</h1><p>Diese Einladung ist abgelaufen oder wurde schon \
    verwendet. Bitte fragen Sie bei der Stelle, die Sie eingeladen hat, nach einer neuen.</p>";

/// The page behind the invitation link.
pub async fn page(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    let worker = state.clone();
    match blocking(move || worker.accounts.invitation(&token)).await {
        Ok(true) => html(StatusCode::OK, FORM),
        Ok(false) => html(StatusCode::NOT_FOUND, EXPIRED),
        Err(_) => html(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>"),
    }
}

/// The invitation form sent: sets the password.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let Ok(Form(PasswordForm { password, repeat })) = form else {
        return html(StatusCode::UNPROCESSABLE_ENTITY, FORM);
    };
    if password != repeat {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("<p><strong>Die beiden Passwörter stimmen nicht überein.</strong></p>{FORM}"),
        );
    }
    let worker = state.clone();
    let redeemed =
        tokio::task::spawn_blocking(move || worker.accounts.redeem_invitation(&token, &password))
            .await;
    match redeemed {
        Ok(Ok(redeemed)) => {
            state.session_ended();
            if let Some(person) = redeemed.person {
                let noted = match person.parse::<DocumentId>() {
                    Ok(record) => {
                        set_account(&state, record, |account| account.has_password = true).await
                    }
                    Err(_) => Err(ApiError::internal()),
                };
                if noted.is_err() {
                    tracing::error!(document = %person, "cannot note the new password in the record");
                }
            } else if redeemed.role.is_staff() {
                // A colleague who can sign in now: staff lists ask again.
                state
                    .registry
                    .staff_changed(&model::TenantId::new(redeemed.tenant));
            }
            html(
                StatusCode::OK,
                "<h1>Passwort gespeichert</h1><p>Sie können sich jetzt anmelden.</p>",
            )
        }
        Ok(Err(AccountError::NoSession)) => html(StatusCode::NOT_FOUND, EXPIRED),
        Ok(Err(AccountError::PasswordAlreadySet)) => html(
            StatusCode::CONFLICT,
            "<h1>Passwort bereits festgelegt</h1><p>Für diesen Zugang ist schon ein Passwort \
             festgelegt; der Link gilt nicht mehr. Wenn Sie es vergessen haben, wenden Sie \
             sich bitte an die Administration.</p>",
        ),
        Ok(Err(AccountError::Policy(
            crate::password::PolicyError::TooWeak | crate::password::PolicyError::Common,
        ))) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "<p><strong>Das Passwort ist zu leicht zu erraten: bitte keinen Namen und kein \
                 Wort mit Jahreszahl, lieber mehrere unzusammenhängende Wörter.</strong></p>{FORM}"
            ),
        ),
        Ok(Err(AccountError::Policy(_))) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("<p><strong>Das Passwort erfüllt die Regeln nicht.</strong></p>{FORM}"),
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "an invitation could not be redeemed");
            html(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>")
        }
        Err(_) => html(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>"),
    }
}

/// The form on the page. Fields a browser leaves out count as empty.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}
