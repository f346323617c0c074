//! The server's own changes to a document samod holds: a typed copy is edited through
//! `model` under the server's actor, and the changes it made are applied to samod's
//! document, which stores and syncs them like anyone's. And the server's own documents
//! (directories, contacts it creates): created, stored, then registered.
//!
//! [`Author`] is what request handlers and workers use: it reads a document as the
//! server holds it, and edits it as the server, answering once the change is on disk.

use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, Automerge, Change, ChangeHash};
use model::{Document, DocumentId, Schema};

use crate::access::DocEntry;
use crate::error::ApiError;
use crate::registry::{Registry, RegistryError};
use crate::storage::Persisted;

/// The server as the author of documents: samod's repo, where its writes are
/// committed, the registry its own documents go into, and its actor.
#[derive(Debug, Clone)]
pub struct Author {
    repo: samod::Repo,
    persisted: Arc<Persisted>,
    registry: Arc<Registry>,
    /// The actor of the server's own changes, drawn at start (`model::server_actor`).
    actor: ActorId,
    /// How long an answer waits for the disk.
    persist_timeout: Duration,
}

impl Author {
    pub fn new(
        repo: samod::Repo,
        persisted: Arc<Persisted>,
        registry: Arc<Registry>,
        actor: ActorId,
        persist_timeout: Duration,
    ) -> Self {
        Self {
            repo,
            persisted,
            registry,
            actor,
            persist_timeout,
        }
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// samod's handle of a document the server holds.
    async fn handle(&self, id: DocumentId) -> Result<samod::DocHandle, ApiError> {
        match self.repo.find(crate::wire::to_samod(id)).await {
            Ok(Some(handle)) => Ok(handle),
            // Registered but never synced: there is nothing to read or change yet.
            Ok(None) => Err(ApiError::not_found()),
            Err(_) => Err(ApiError::internal()),
        }
    }

    /// A document as the server holds it now, read through `model`.
    pub async fn read<T: Schema>(&self, id: DocumentId) -> Result<T, ApiError> {
        let handle = self.handle(id).await?;
        let bytes = held(&handle, |doc| doc.save_nocompress()).map_err(|_| ApiError::internal())?;
        Document::<T>::load(&bytes)
            .and_then(|d| d.read())
            .map_err(|_| ApiError::internal())
    }

    /// Edits the document `id` as the server and waits until the change is on disk.
    pub async fn edit<T: Schema, R, E>(
        &self,
        id: DocumentId,
        change: impl FnOnce(&mut Document<T>) -> Result<R, E>,
    ) -> Result<R, ApiError>
    where
        E: Into<ApiError>,
    {
        let handle = self.handle(id).await?;
        let (result, heads) = held(&handle, |doc| edit(doc, &self.actor, change))
            .map_err(|_| ApiError::internal())?
            .map_err(|error| match error {
                AuthoringError::Edit(e) => e.into(),
                other => {
                    tracing::error!(document = %id, error = %other, "cannot write as the server");
                    ApiError::internal()
                }
            })?;
        if !self
            .persisted
            .wait_for(&id.to_string(), &heads, self.persist_timeout)
            .await
        {
            tracing::error!(document = %id, "the server's change was not stored in time");
            return Err(ApiError::internal());
        }
        Ok(result)
    }

    /// Creates a document of the server's own and registers it ([`create_registered`]).
    pub async fn create(
        &self,
        initial: Automerge,
        entry: DocEntry,
    ) -> Result<DocumentId, CreateError> {
        create_registered(
            &self.repo,
            &self.persisted,
            &self.registry,
            initial,
            entry,
            self.persist_timeout,
        )
        .await
    }
}

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
) -> Result<DocumentId, CreateError> {
    let handle = repo
        .create(initial)
        .await
        .map_err(|_| CreateError::Stopped)?;
    let id = crate::wire::from_samod(handle.document_id());
    let heads = handle.with_document(|doc| doc.get_heads());
    if !persisted.wait_for(&id.to_string(), &heads, timeout).await {
        return Err(CreateError::NotStored);
    }
    let registry = registry.clone();
    tokio::task::spawn_blocking(move || registry.register_own(id, entry))
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
