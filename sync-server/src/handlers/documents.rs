//! `POST /api/documents`: a client announces a document it created, before syncing it.
//! 201 when new, 200 for the same registration again, 403 when the rules forbid it,
//! 409 when the id is taken.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use model::api::{ErrorCode, Registration};

use crate::auth::Signed;
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::registry::Registered;
use crate::state::AppState;
use crate::wire::{canonical, document_id, from_samod};

pub async fn register(
    State(state): State<Arc<AppState>>,
    Signed(viewer): Signed,
    ApiJson(request): ApiJson<Registration>,
) -> Result<StatusCode, ApiError> {
    let kind = model::DocKind::parse(&request.kind)
        .ok_or(ApiError::bad_request(ErrorCode::UnknownKind))?;
    // Only the canonical spelling: samod also takes a UUID spelling of the same id,
    // which would otherwise register one document twice under two tenants.
    let Some(doc_id) = canonical(&request.id) else {
        return Err(ApiError::bad_request(ErrorCode::BadDocumentId));
    };
    let person = match request.person.as_deref() {
        Some(person) => {
            Some(document_id(person).ok_or(ApiError::bad_request(ErrorCode::BadDocumentId))?)
        }
        None => None,
    };
    let creation = match request.creation.as_deref() {
        Some(hex) => Some(
            hex.parse::<automerge::ChangeHash>()
                .map_err(|_| ApiError::bad_request(ErrorCode::BadCreation))?,
        ),
        None => None,
    };
    let registry = state.registry.clone();
    let id = from_samod(&doc_id);
    let registered =
        blocking(move || registry.register(id, kind, person, creation, &viewer)).await?;
    Ok(match registered {
        Registered::New => {
            // The server looks for the new document among its peers at once: a client
            // that announced it before registering it was told it is unavailable (the
            // edge answers for unknown documents, and samod never heard of it), and
            // now samod asks it again, as it asks every peer that may read it.
            let repo = state.repo.clone();
            tokio::spawn(async move {
                let _ = repo.find(doc_id).await;
            });
            StatusCode::CREATED
        }
        Registered::Again => StatusCode::OK,
    })
}
