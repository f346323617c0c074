//! What staff ask the server to do to a client record, because the document rules do
//! not let them do it themselves. The server checks the request and writes the change
//! as its own actor ([`crate::authoring`]), so the rules honour it; the answer comes
//! once the change is on disk.
//!
//! - `POST /api/clients/{record}/delete`, `…/restore` (admins): a deletion event in the
//!   client record; the record then reads as deleted everywhere, and a restore undoes
//!   it. The record's effective deletion day (its fold's, so a concurrent restore wins)
//!   goes to the registry at once; `crate::purge` removes everything of the person
//!   once the tenant's deletion interval has passed since that day.
//! - `PUT /api/clients/{record}/contact` (admins; and the member of staff who created
//!   the record, while the person has no contact document yet: the hand-over of contact
//!   data at "Klient:in anlegen"): e-mail and phone in the client contact, which the
//!   server creates if the person has none.
//! - `PUT /api/clients/{record}/password` (staff): "Passwort vergeben" for the person's
//!   own account (role `client`, login = the pseudonym), created if needed; the
//!   record's account state then says "has a password".
//!
//! A counsellor asking to delete or restore gets 403 before the record is looked up; a
//! record of another tenant is 404, exactly like one that does not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{Contact, ContactStored, Deletion, NewPassword, Role};
use model::client_contact::{ClientContact, ContactChannel};
use model::client_record::ClientRecord;
use model::{DocKind, Document, Editor, NodeId};

use super::record_of;
use crate::access::{DocEntry, Viewer};
use crate::accounts::AccountError;
use crate::auth::{Admin, Staff};
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::{ApiJson, DocPath};
use crate::state::AppState;

/// The node id in the stamps of the server's own intents.
const SERVER_NODE: &str = "sync-server";

/// The server's editor acting on `who`'s request: the intent names `who`.
fn server_editor(who: &Viewer) -> Editor {
    Editor::with_system_clock(who.account_id.clone(), NodeId::new(SERVER_NODE))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    DocPath(record): DocPath,
) -> Result<Json<Deletion>, ApiError> {
    record_of(&state, &who, record)?;
    let on = mark_deleted(&state, record, &who).await?;
    tracing::info!(document = %record, "client marked for deletion");
    Ok(Json(Deletion {
        deleted_on: Some(on.to_string()),
    }))
}

/// Marks the record deleted today as the server, at `who`'s request (an admin here; the
/// person themselves on the account page, `handlers::account_page`): the same deletion
/// event and the same fact for the purge either way.
pub(super) async fn mark_deleted(
    state: &Arc<AppState>,
    record: model::DocumentId,
    who: &Viewer,
) -> Result<model::Date, ApiError> {
    // Not while the purge forgets the person; once it has, the record is gone.
    let _deletions = state.deletions.lock().await;
    if state.registry.entry(&record).is_none() {
        return Err(ApiError::not_found());
    }
    let on = state.registry.today();
    let mut editor = server_editor(who);
    state
        .author
        .edit(record, |doc: &mut Document<ClientRecord>| {
            doc.mark_deleted(&mut editor, on)
        })
        .await?;
    note_deletion_day(state, record).await?;
    Ok(on)
}

pub async fn restore(
    State(state): State<Arc<AppState>>,
    Admin(who): Admin,
    DocPath(record): DocPath,
) -> Result<Json<Deletion>, ApiError> {
    // Not while the purge forgets the person: after it, the record is gone (404).
    let _deletions = state.deletions.lock().await;
    record_of(&state, &who, record)?;
    let mut editor = server_editor(&who);
    state
        .author
        .edit(record, |doc: &mut Document<ClientRecord>| {
            doc.restore(&mut editor)
        })
        .await?;
    note_deletion_day(&state, record).await?;
    tracing::info!(document = %record, "client restored");
    Ok(Json(Deletion { deleted_on: None }))
}

/// Hands the registry the record's effective deletion day as the fold now sees it, for
/// the purge (settling does the same whenever a client sends changes of the record).
async fn note_deletion_day(
    state: &Arc<AppState>,
    record: model::DocumentId,
) -> Result<(), ApiError> {
    let read: ClientRecord = state.author.read(record).await?;
    let (view, _) = conflict_rules::record::fold_record(&read);
    let day = crate::settle::deletion_day(&view);
    let registry = state.registry.clone();
    blocking(move || registry.set_deletion_day(record, day)).await?;
    Ok(())
}

pub async fn set_contact(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
    DocPath(record): DocPath,
    ApiJson(request): ApiJson<Contact>,
) -> Result<(StatusCode, Json<ContactStored>), ApiError> {
    let entry = record_of(&state, &who, record)?;
    // One contact document per person, even for two requests at once.
    let _one_at_a_time = state.server_writes.lock().await;
    let email = request.email.as_deref();
    let phone = request.phone.as_deref();
    if let Some(contact) = state.registry.contact_of(&record) {
        if who.role != Role::Admin {
            return Err(ApiError::forbidden());
        }
        state
            .author
            .edit(contact, |doc: &mut Document<ClientContact>| {
                doc.set_email(email)?;
                doc.set_phone(phone)?;
                let contact = doc.read()?;
                let channel = match (&contact.email, &contact.phone) {
                    (Some(_), _) => ContactChannel::Email,
                    (None, Some(_)) => ContactChannel::Sms,
                    (None, None) => ContactChannel::None,
                };
                doc.set_channel(channel)
            })
            .await?;
        return Ok((
            StatusCode::OK,
            Json(ContactStored {
                contact_id: contact.to_string(),
            }),
        ));
    }
    if who.role != Role::Admin {
        let registry = state.registry.clone();
        let creator = blocking(move || registry.created_by(&record)).await?;
        if creator.as_ref() != Some(&who.account_id) {
            return Err(ApiError::forbidden());
        }
    }
    let contact = Document::<ClientContact>::create_contact(record, email, phone)?;
    let contact_entry = DocEntry {
        kind: DocKind::ClientContact,
        tenant: entry.tenant,
        person: Some(record),
        owner: None,
    };
    let contact_id = state
        .author
        .create(contact.into_automerge(), contact_entry)
        .await
        .map_err(|error| {
            tracing::error!(document = %record, %error, "cannot create a contact document");
            ApiError::internal()
        })?;
    tracing::info!(document = %record, contact = %contact_id, "contact document created");
    Ok((
        StatusCode::CREATED,
        Json(ContactStored {
            contact_id: contact_id.to_string(),
        }),
    ))
}

/// "Passwort vergeben" for the person's own account.
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    Staff(who): Staff,
    DocPath(record): DocPath,
    ApiJson(request): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let entry = record_of(&state, &who, record)?;
    let read = crate::person::may_have_account(&state, record).await?;
    crate::password::check_policy(&request.password, &[&read.pseudonym, entry.tenant.as_str()])
        .map_err(AccountError::from)?;
    let worker = state.clone();
    let id = record.to_string();
    let actor = who.account_id.clone();
    blocking(move || {
        let (account, created) = worker.accounts.ensure_person_account(
            Some(actor.as_str()),
            entry.tenant.as_str(),
            &id,
            &read.pseudonym,
            Some(&request.password),
        )?;
        if created {
            return Ok(());
        }
        worker
            .accounts
            .set_password(Some(actor.as_str()), &account, &request.password)
    })
    .await?;
    state.session_ended();
    crate::person::set_account(&state, record, |account| account.has_password = true).await?;
    tracing::info!(document = %record, "a person's password was set");
    Ok(StatusCode::NO_CONTENT)
}
