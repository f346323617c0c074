//! The person's own account ("ratsuchende Person"): staff give it a password ("Passwort
//! vergeben") or send an invitation with a link to set one ("Einladung versenden"), as
//! the ⋮ menu of the client window does (manual 000).
//!
//! - `PUT /api/clients/{record}/password` (staff of the tenant): creates the person's
//!   account (role `client`, login = the pseudonym) if needed and sets its password; the
//!   record's account state then says "has a password".
//! - `POST /api/clients/{record}/invitation` (staff of the tenant): needs the person's
//!   e-mail address (from the contact document, which only admins read: a counsellor
//!   learns only that there is none); creates the account if needed, with an unknown
//!   password, and queues an e-mail with a link valid for `invitation_days`. The record
//!   then says "Einladung versandt".
//! - `GET /invitation/{token}`, `POST /invitation/{token}`: the page behind the link, in
//!   German, plain HTML without scripts; the form sets the password, which uses the
//!   invitation up.
//!
//! Locked and deleted people get neither, and cannot log in ([`logged_in`], which also
//! writes "Letztes Login" into the record). Nothing here logs a name, an address or a
//! token.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use model::Document;
use model::client_contact::ClientContact;
use model::client_record::{AccountState, ClientRecord};

use crate::access::{DocEntry, Viewer};
use crate::accounts::AccountError;
use crate::http::{ApiError, AppState, blocking};
use crate::mail::{Channel, Outgoing};
use crate::operations::{NewPassword, edit_as_server, read_as_server, record_of, viewer_of};

/// The record, if the person may have an account: not locked (or locked until a day
/// that has passed), not deleted.
async fn person(state: &AppState, record: &str) -> Result<ClientRecord, ApiError> {
    let read: ClientRecord = read_as_server(state, record).await?;
    let (view, _) = conflict_rules::record::fold_record(&read);
    if view.status.may_log_in(crate::registry::today()) {
        Ok(read)
    } else {
        Err(ApiError::unprocessable("client-not-active"))
    }
}

/// A member of staff of the record's tenant asks about an active person: who asks, the
/// record's registry entry, and the record.
async fn staff_asking_about(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    record: &str,
) -> Result<(Viewer, DocEntry, ClientRecord), ApiError> {
    let who = viewer_of(state, headers).await?;
    if who.role == crate::accounts::Role::Client {
        return Err(ApiError::forbidden());
    }
    let entry = record_of(state, &who, record)?;
    let read = person(state, record).await?;
    Ok((who, entry, read))
}

/// Changes the record's account state as the server.
async fn set_account(
    state: &Arc<AppState>,
    record: &str,
    change: impl FnOnce(&mut AccountState) + Send,
) -> Result<(), ApiError> {
    edit_as_server(state, record, |doc: &mut Document<ClientRecord>| {
        let mut account = doc.read()?.account;
        change(&mut account);
        doc.set_account_state(&account)
    })
    .await
}

/// "Passwort vergeben".
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(record): Path<String>,
    crate::extract::ApiJson(request): crate::extract::ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let (who, entry, read) = staff_asking_about(&state, &headers, &record).await?;
    crate::password::check_policy(&request.password, &[&read.pseudonym, &entry.tenant])
        .map_err(AccountError::from)?;
    let worker = state.clone();
    let id = record.clone();
    let actor = who.account_id.clone();
    blocking(move || {
        let (account, created) = worker.accounts.ensure_person_account(
            Some(&actor),
            &entry.tenant,
            &id,
            &read.pseudonym,
            Some(&request.password),
        )?;
        if created {
            return Ok(());
        }
        worker
            .accounts
            .set_password(Some(&actor), &account, &request.password)
    })
    .await?;
    state.session_ended();
    set_account(&state, &record, |account| account.has_password = true).await?;
    tracing::info!(document = %record, "a person's password was set");
    Ok(StatusCode::NO_CONTENT)
}

/// "Einladung versenden".
pub async fn send_invitation(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(record): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (who, entry, read) = staff_asking_about(&state, &headers, &record).await?;
    let email = match state.registry.contact_of(&record) {
        Some(id) => read_as_server::<ClientContact>(&state, &id).await?.email,
        None => None,
    }
    .ok_or(ApiError::unprocessable("no-email"))?;
    let worker = state.clone();
    let id = record.clone();
    let actor = who.account_id.clone();
    let days = state.config.invitation_days;
    let token = blocking(move || {
        let (account, _) = worker.accounts.ensure_person_account(
            Some(&actor),
            &entry.tenant,
            &id,
            &read.pseudonym,
            None,
        )?;
        worker.accounts.invite(
            &account,
            &id,
            Duration::from_secs(days.saturating_mul(24 * 3600)),
        )
    })
    .await?;
    let link = format!("{}/invitation/{token}", state.config.public_base_url());
    let message = Outgoing {
        key: format!("invite:{}", crate::password::token_digest(&token)),
        channel: Channel::Email,
        recipient: email,
        subject: "Einladung: Passwort festlegen".into(),
        body: format!(
            "Guten Tag,\n\nSie wurden eingeladen, sich ein Passwort für Ihren Zugang zu setzen. \
             Öffnen Sie dazu diesen Link (gültig {days} Tage):\n\n{link}\n\n\
             Das Passwort braucht mindestens 8 Zeichen mit Klein- und Großbuchstaben, einer \
             Ziffer und einem Sonderzeichen.\n"
        ),
        direct_message: None,
    };
    let mail = state.mail.clone();
    blocking(move || {
        mail.queue(&message).map_err(|error| {
            tracing::error!(%error, "cannot queue an invitation");
            ApiError::internal()
        })
    })
    .await?;
    let now = crate::accounts::now_ms();
    set_account(&state, &record, |account| {
        account.invitation_sent_ms = Some(now);
    })
    .await?;
    tracing::info!(document = %record, "an invitation was queued");
    Ok(StatusCode::NO_CONTENT)
}

/// A person logged in with their own account: refused (and the new session ended) while
/// their record is locked or deleted, with the answer a wrong password gets (which
/// people are locked is nobody's business, and the answer must not confirm the
/// password); otherwise the record's "Letztes Login" moves.
pub async fn logged_in(state: &Arc<AppState>, account: &str, token: &str) -> Result<(), ApiError> {
    let worker = state.clone();
    let id = account.to_owned();
    let record = blocking(move || worker.accounts.person_of(&id)).await?;
    let Some(record) = record else {
        return Ok(());
    };
    if person(state, &record).await.is_err() {
        let worker = state.clone();
        let token = token.to_owned();
        blocking(move || worker.accounts.logout(&token)).await?;
        return Err(AccountError::WrongCredentials.into());
    }
    let now = crate::accounts::now_ms();
    set_account(state, &record, |account| account.last_login_ms = Some(now)).await
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>Passwort festlegen</title></head>\
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
    verwendet. Bitte fragen Sie Ihre Beraterin oder Ihren Berater nach einer neuen.</p>";

/// The page behind the invitation link.
pub async fn invitation_page(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    let worker = state.clone();
    match blocking(move || worker.accounts.invitation(&token)).await {
        Ok(Some(_)) => page(StatusCode::OK, FORM),
        Ok(None) => page(StatusCode::NOT_FOUND, EXPIRED),
        Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>"),
    }
}

/// The invitation form sent: sets the password.
pub async fn invitation_submit(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    body: String,
) -> Response {
    let field = |name: &str| form_field(&body, name).unwrap_or_default();
    let (password, repeat) = (field("password"), field("repeat"));
    if password != repeat {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("<p><strong>Die beiden Passwörter stimmen nicht überein.</strong></p>{FORM}"),
        );
    }
    let worker = state.clone();
    let redeemed =
        tokio::task::spawn_blocking(move || worker.accounts.redeem_invitation(&token, &password))
            .await;
    match redeemed {
        Ok(Ok(person)) => {
            state.session_ended();
            if set_account(&state, &person, |account| account.has_password = true)
                .await
                .is_err()
            {
                tracing::error!(document = %person, "cannot note the new password in the record");
            }
            page(
                StatusCode::OK,
                "<h1>Passwort gespeichert</h1><p>Sie können sich jetzt anmelden.</p>",
            )
        }
        Ok(Err(AccountError::NoSession)) => page(StatusCode::NOT_FOUND, EXPIRED),
        Ok(Err(AccountError::Policy(
            crate::password::PolicyError::TooWeak | crate::password::PolicyError::Common,
        ))) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "<p><strong>Das Passwort ist zu leicht zu erraten: bitte keinen Namen und kein \
                 Wort mit Jahreszahl, lieber mehrere unzusammenhängende Wörter.</strong></p>{FORM}"
            ),
        ),
        Ok(Err(AccountError::Policy(_))) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("<p><strong>Das Passwort erfüllt die Regeln nicht.</strong></p>{FORM}"),
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "an invitation could not be redeemed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>")
        }
        Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Fehler</h1>"),
    }
}

/// One field of an `application/x-www-form-urlencoded` body.
fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (decode(key)? == name).then(|| decode(value)).flatten()
    })
}

fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [input.next()?, input.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let body = "password=Gr%C3%BCn%2B9%21x&repeat=a+b";
        assert_eq!(form_field(body, "password").as_deref(), Some("Grün+9!x"));
        assert_eq!(form_field(body, "repeat").as_deref(), Some("a b"));
        assert_eq!(form_field(body, "other"), None);
        assert_eq!(form_field("password=%zz", "password"), None);
    }
}
