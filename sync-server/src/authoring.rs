//! The server's own changes to a document samod holds: a typed copy is edited through
//! `model` under the server's actor, and the changes it made are applied to samod's
//! document, which stores and syncs them like anyone's. And the server's own documents
//! (directories, contacts it creates): created, stored, then registered.

use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, Automerge, Change, ChangeHash};
use model::{Document, Schema};

use crate::access::DocEntry;
use crate::registry::{Registry, RegistryError};
use crate::storage::Persisted;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the repo has stopped")]
    Stopped,
    #[error("the new document was not stored in time")]
    NotStored,
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("a background task failed")]
    Task,
}

/// Creates a document of the server's own from `initial`, waits until it is on disk,
/// then registers it as `entry`: a registered document is never missing. Returns its id.
pub async fn create_registered(
    repo: &samod::Repo,
    persisted: &Persisted,
    registry: &Arc<Registry>,
    initial: Automerge,
    entry: DocEntry,
    timeout: Duration,
) -> Result<String, CreateError> {
    let handle = repo
        .create(initial)
        .await
        .map_err(|_| CreateError::Stopped)?;
    let id = handle.document_id().to_string();
    let heads = handle.with_document(|doc| doc.get_heads());
    if !persisted.wait_for(&id, &heads, timeout).await {
        return Err(CreateError::NotStored);
    }
    let registry = registry.clone();
    let doc = id.clone();
    tokio::task::spawn_blocking(move || registry.register_own(&doc, entry))
        .await
        .map_err(|_| CreateError::Task)??;
    Ok(id)
}

/// The server's own work on a document panicked; nothing else was hurt.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the server's own work on a document failed")]
pub struct Panicked;

/// Runs `f` on samod's copy of a document, under samod's lock on it. A panic in `f` (a
/// bug meeting a document nobody foresaw) is caught here: unwinding through samod's
/// lock would poison it, and every later use of the document, and the task that runs
/// every document actor, would panic too.
pub fn held<R>(
    handle: &samod::DocHandle,
    f: impl FnOnce(&mut Automerge) -> R,
) -> Result<R, Panicked> {
    let result = handle
        .with_document(|doc| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(doc))));
    result.map_err(|_| {
        tracing::error!(document = %handle.document_id(), "the server's work on a document panicked");
        Panicked
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AuthoringError<E> {
    #[error(transparent)]
    Document(#[from] model::DocumentError),
    #[error(transparent)]
    Apply(#[from] automerge::AutomergeError),
    /// The edit itself refused (invalid input, nothing to do).
    #[error("the edit was refused")]
    Edit(E),
}

/// Edits `doc` as `actor` through `edit`; returns what `edit` returned and the heads
/// after it (the edit's changes are on disk once these are).
pub fn edit<T: Schema, R, E>(
    doc: &mut Automerge,
    actor: &ActorId,
    edit: impl FnOnce(&mut Document<T>) -> Result<R, E>,
) -> Result<(R, Vec<ChangeHash>), AuthoringError<E>> {
    let mut typed = Document::<T>::load(&doc.save_nocompress())?;
    typed.act_as(actor.clone());
    let before = typed.heads();
    let result = edit(&mut typed).map_err(AuthoringError::Edit)?;
    let changes: Vec<Change> = typed.automerge().get_changes(&before);
    doc.apply_changes(changes)?;
    Ok((result, doc.get_heads()))
}
