//! The HTTP handlers, one file for each thing served. Each takes who asks from
//! [`crate::auth`] and its body as a type of the contract ([`model::api`]), and
//! answers with the contract's types or an [`ApiError`].
//!
//! - [`sessions`]: login, logout, one's own password;
//! - [`documents`]: registering a new document before it syncs;
//! - [`clients`]: what staff ask the server to do to a client record (delete, restore,
//!   contact data, the person's password), which the document rules do not let them
//!   do themselves;
//! - [`invitations`]: "Einladung versenden", and the page behind the link;
//! - [`accounts`]: the tenant's accounts for admins, its staff for everyone on it, and
//!   one's own account's deletion;
//! - [`account_page`]: the web page where a person deletes their own account;
//! - [`recovery`]: device recovery keys;
//! - [`blobs`]: uploaded files;
//! - [`monitoring`]: `/healthz` and `/metrics`.

use model::{DocKind, DocumentId};

use crate::access::{DocEntry, Viewer};
use crate::error::ApiError;
use crate::state::AppState;

pub mod account_page;
pub mod accounts;
pub mod blobs;
pub mod clients;
pub mod documents;
pub mod invitations;
pub mod monitoring;
pub mod recovery;
pub mod sessions;

/// The record `id` if it is a client record of `who`'s tenant; any other id, of another
/// tenant or none, is 404 alike.
fn record_of(state: &AppState, who: &Viewer, id: DocumentId) -> Result<DocEntry, ApiError> {
    state
        .registry
        .entry(&id)
        .filter(|e| e.kind == DocKind::ClientRecord && e.tenant == who.tenant)
        .ok_or(ApiError::not_found())
}
