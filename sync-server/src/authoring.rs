//! The server's own changes to a document samod holds: a typed copy is edited through
//! `model` under the server's actor, and the changes it made are applied to samod's
//! document, which stores and syncs them like anyone's.

use automerge::{ActorId, Automerge, Change, ChangeHash};
use model::{Document, Schema};

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
