//! What staff ask the server to do, over authenticated HTTP, because the document rules
//! do not let them do it themselves. The server checks the request and writes the change
//! as its own actor ([`crate::authoring`]), so the rules honour it; the answer comes once
//! the change is on disk.
//!
//! - `POST /api/clients/{record}/delete`, `…/restore` (admins): a deletion event in the
//!   client record. The person is purged after the tenant's deletion interval.
//! - `PUT /api/clients/{record}/contact` (admins; and the member of staff who created
//!   the record, while the person has no contact document yet: the hand-over of contact
//!   data at "Klient:in anlegen"): e-mail and phone in the client contact, which the
//!   server creates if the person has none.
//!
//! - `GET /api/accounts`, `POST /api/accounts` (admins): the tenant's accounts; a new
//!   account with the password the admin hands over ("Passwort vergeben").
//! - `POST /api/accounts/{id}/lock|unlock|delete`, `PUT /api/accounts/{id}/password`
//!   (admins, their tenant's accounts): locking and deleting end the account's sessions
//!   and live connections at once.
//!
//! A counsellor asking to delete or restore gets 403 before the record is looked up; a
//! record of another tenant is 404, exactly like one that does not exist.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use model::client_contact::{ClientContact, ContactChannel, ContactError};
use model::client_record::{ClientRecord, RecordError};
use model::{DocKind, Document, Editor, NodeId, Schema, UserId};
use serde::{Deserialize, Serialize};

use crate::access::{DocEntry, Viewer};
use crate::accounts::{AccountError, AccountState, AccountSummary, Role};
use crate::authoring::{self, AuthoringError};
use crate::http::{ApiError, AppState, bearer, blocking};
use crate::registry::today;

/// The node id in the stamps of the server's own intents.
const SERVER_NODE: &str = "sync-server";

pub(crate) async fn viewer_of(
    state: &Arc<AppState>,
    headers: &HeaderMap,
) -> Result<Viewer, ApiError> {
    let token = bearer(headers).ok_or(AccountError::NoSession)?;
    crate::http::viewer(state, &token).await
}

/// The record `id` if it is a client record of `who`'s tenant.
pub(crate) fn record_of(state: &AppState, who: &Viewer, id: &str) -> Result<DocEntry, ApiError> {
    crate::wire::canonical(id).ok_or(ApiError::not_found())?;
    state
        .registry
        .entry(id)
        .filter(|e| e.kind == DocKind::ClientRecord && e.tenant == who.tenant)
        .ok_or(ApiError::not_found())
}

/// samod's handle of a document the server holds.
async fn handle_of(state: &AppState, id: &str) -> Result<samod::DocHandle, ApiError> {
    let doc_id = id
        .parse::<samod::DocumentId>()
        .map_err(|_| ApiError::not_found())?;
    match state.repo.find(doc_id).await {
        Ok(Some(handle)) => Ok(handle),
        // Registered but never synced: there is nothing to read or change yet.
        Ok(None) => Err(ApiError::not_found()),
        Err(_) => Err(ApiError::internal()),
    }
}

/// A document as the server holds it now, read through `model`.
pub(crate) async fn read_as_server<T: Schema>(state: &AppState, id: &str) -> Result<T, ApiError> {
    let handle = handle_of(state, id).await?;
    let bytes =
        authoring::held(&handle, |doc| doc.save_nocompress()).map_err(|_| ApiError::internal())?;
    Document::<T>::load(&bytes)
        .and_then(|d| d.read())
        .map_err(|_| ApiError::internal())
}

/// Edits the document `id` as the server and waits until the change is on disk.
pub(crate) async fn edit_as_server<T: Schema, R, E>(
    state: &Arc<AppState>,
    id: &str,
    edit: impl FnOnce(&mut Document<T>) -> Result<R, E>,
) -> Result<R, ApiError>
where
    E: Into<ApiError>,
{
    let handle = handle_of(state, id).await?;
    let actor = state.server_actor.clone();
    let (result, heads) = authoring::held(&handle, |doc| authoring::edit(doc, &actor, edit))
        .map_err(|_| ApiError::internal())?
        .map_err(|error| match error {
            AuthoringError::Edit(e) => e.into(),
            other => {
                tracing::error!(document = %id, error = %other, "cannot write as the server");
                ApiError::internal()
            }
        })?;
    let timeout = Duration::from_secs(state.config.persist_timeout_seconds);
    if !state.persisted.wait_for(id, &heads, timeout).await {
        tracing::error!(document = %id, "the server's change was not stored in time");
        return Err(ApiError::internal());
    }
    Ok(result)
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
            ContactError::BadEmail => ApiError::unprocessable("bad-email"),
            ContactError::BadPhone => ApiError::unprocessable("bad-phone"),
            other => {
                tracing::error!(error = %other, "a contact edit failed");
                ApiError::internal()
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DeletionResponse {
    /// The day the person was marked for deletion (`YYYY-MM-DD`), or none after a
    /// restore.
    deleted_on: Option<String>,
}

fn admin(who: &Viewer) -> Result<(), ApiError> {
    if who.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

pub async fn delete_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(record): Path<String>,
) -> Result<Json<DeletionResponse>, ApiError> {
    let who = viewer_of(&state, &headers).await?;
    admin(&who)?;
    record_of(&state, &who, &record)?;
    let on = today();
    let mut editor = server_editor(&who);
    edit_as_server(&state, &record, |doc: &mut Document<ClientRecord>| {
        doc.mark_deleted(&mut editor, on)
    })
    .await?;
    tracing::info!(document = %record, "client marked for deletion");
    Ok(Json(DeletionResponse {
        deleted_on: Some(on.to_string()),
    }))
}

pub async fn restore_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(record): Path<String>,
) -> Result<Json<DeletionResponse>, ApiError> {
    let who = viewer_of(&state, &headers).await?;
    admin(&who)?;
    record_of(&state, &who, &record)?;
    let mut editor = server_editor(&who);
    edit_as_server(&state, &record, |doc: &mut Document<ClientRecord>| {
        doc.restore(&mut editor)
    })
    .await?;
    tracing::info!(document = %record, "client restored");
    Ok(Json(DeletionResponse { deleted_on: None }))
}

/// The server's editor acting on `who`'s request: the intent names `who`.
fn server_editor(who: &Viewer) -> Editor {
    Editor::with_system_clock(UserId::new(&who.account_id), NodeId::new(SERVER_NODE))
}

#[derive(Deserialize)]
pub struct ContactRequest {
    email: Option<String>,
    phone: Option<String>,
}

/// Personal data: never printed.
impl std::fmt::Debug for ContactRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactRequest { .. }")
    }
}

#[derive(Debug, Serialize)]
pub struct ContactResponse {
    contact_id: String,
}

pub async fn set_contact(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(record): Path<String>,
    crate::extract::ApiJson(request): crate::extract::ApiJson<ContactRequest>,
) -> Result<(StatusCode, Json<ContactResponse>), ApiError> {
    let who = viewer_of(&state, &headers).await?;
    if who.role == Role::Client {
        return Err(ApiError::forbidden());
    }
    let entry = record_of(&state, &who, &record)?;
    // One contact document per person, even for two requests at once.
    let _one_at_a_time = state.server_writes.lock().await;
    let existing = state.registry.contact_of(&record);
    let email = request.email.as_deref();
    let phone = request.phone.as_deref();
    if let Some(contact) = existing {
        admin(&who)?;
        edit_as_server(&state, &contact, |doc: &mut Document<ClientContact>| {
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
            Json(ContactResponse {
                contact_id: contact,
            }),
        ));
    }
    if who.role != Role::Admin {
        let registry = state.registry.clone();
        let id = record.clone();
        let creator = blocking(move || registry.created_by(&id)).await?;
        if creator.as_deref() != Some(who.account_id.as_str()) {
            return Err(ApiError::forbidden());
        }
    }
    let person = record
        .parse::<model::DocumentId>()
        .map_err(|_| ApiError::not_found())?;
    let contact = Document::<ClientContact>::create_contact(person, email, phone)?;
    let contact_entry = DocEntry {
        kind: DocKind::ClientContact,
        tenant: entry.tenant,
        person: Some(record.clone()),
        owner: None,
    };
    let contact_id = authoring::create_registered(
        &state.repo,
        &state.persisted,
        &state.registry,
        contact.into_automerge(),
        contact_entry,
        Duration::from_secs(state.config.persist_timeout_seconds),
    )
    .await
    .map_err(|error| {
        tracing::error!(document = %record, %error, "cannot create a contact document");
        ApiError::internal()
    })?;
    tracing::info!(document = %record, contact = %contact_id, "contact document created");
    Ok((StatusCode::CREATED, Json(ContactResponse { contact_id })))
}

/// `who` if an admin; the account `id` must be of their tenant (else 404).
async fn admin_over(state: &Arc<AppState>, who: &Viewer, account_id: &str) -> Result<(), ApiError> {
    admin(who)?;
    let worker = state.clone();
    let id = account_id.to_owned();
    let tenant = blocking(move || worker.accounts.tenant_of(&id)).await?;
    if tenant.as_deref() == Some(who.tenant.as_str()) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

pub async fn list_accounts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    let who = viewer_of(&state, &headers).await?;
    admin(&who)?;
    let worker = state.clone();
    Ok(Json(
        blocking(move || worker.accounts.list(Some(&who.tenant))).await?,
    ))
}

/// One member of staff as colleagues see them: for names in lists and for choosing a
/// primary caretaker. No state, no client accounts.
#[derive(Debug, Serialize)]
pub struct StaffMember {
    id: String,
    login: String,
    role: &'static str,
}

/// The active staff of the caller's tenant, for any member of staff.
pub async fn list_staff(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    let who = viewer_of(&state, &headers).await?;
    if who.role == Role::Client {
        return Err(ApiError::forbidden());
    }
    let worker = state.clone();
    let accounts = blocking(move || worker.accounts.list(Some(&who.tenant))).await?;
    Ok(Json(
        accounts
            .into_iter()
            .filter(|a| a.state == "active" && a.role != "client")
            .map(|a| StaffMember {
                id: a.id,
                login: a.login,
                role: a.role,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct NewAccount {
    login: String,
    role: String,
    password: String,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewAccount { .. }")
    }
}

#[derive(Debug, Serialize)]
pub struct Created {
    account_id: String,
}

pub async fn create_account(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    crate::extract::ApiJson(request): crate::extract::ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let who = viewer_of(&state, &headers).await?;
    admin(&who)?;
    let role = Role::parse(&request.role)
        .filter(|role| matches!(role, Role::Admin | Role::Counsellor))
        .ok_or(ApiError::unprocessable("unknown-role"))?;
    let worker = state.clone();
    let account_id = blocking(move || {
        worker.accounts.create(
            Some(&who.account_id),
            &who.tenant,
            &request.login,
            role,
            &request.password,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { account_id })))
}

pub async fn account_action(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((account, action)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = match action.as_str() {
        "lock" => AccountState::Locked,
        "unlock" => AccountState::Active,
        "delete" => AccountState::Deleted,
        _ => return Err(ApiError::not_found()),
    };
    let who = viewer_of(&state, &headers).await?;
    admin_over(&state, &who, &account).await?;
    if account == who.account_id && target != AccountState::Active {
        return Err(ApiError::unprocessable("not-yourself"));
    }
    let worker = state.clone();
    let id = account.clone();
    blocking(move || {
        worker
            .accounts
            .set_state(Some(&who.account_id), &id, target)
    })
    .await?;
    let registry = state.registry.clone();
    blocking(move || registry.refresh_account(&account)).await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}

/// A password set by someone else: for a staff account here, for a person's own
/// account in `person`.
#[derive(Deserialize)]
pub struct NewPassword {
    pub(crate) password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword { .. }")
    }
}

/// "Passwort vergeben".
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(account): Path<String>,
    crate::extract::ApiJson(request): crate::extract::ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let who = viewer_of(&state, &headers).await?;
    admin_over(&state, &who, &account).await?;
    if account == who.account_id {
        // Your own password needs the old one: `POST /api/password`.
        return Err(ApiError::unprocessable("not-yourself"));
    }
    let worker = state.clone();
    blocking(move || {
        worker
            .accounts
            .set_password(Some(&who.account_id), &account, &request.password)
    })
    .await?;
    state.session_ended();
    Ok(StatusCode::NO_CONTENT)
}
