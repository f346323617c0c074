//! Local changes lost with a document this device forgot (access taken away, or purged
//! on the server): the sync records them in the store; the status line shows them until
//! the person closes each.

use super::{WorkError, Workspace};
use crate::store::LostEdit;

impl Workspace {
    /// Lost local changes not yet dismissed, oldest first, each with its id for
    /// [`Workspace::dismiss_lost_edit`]; [`crate::german::lost_edit`] says it in German.
    pub fn lost_edits(&self) -> &[(i64, LostEdit)] {
        &self.lost
    }

    /// The person closed the message about one lost change.
    pub fn dismiss_lost_edit(&mut self, id: i64) -> Result<(), WorkError> {
        self.store.dismiss_lost_edit(id)?;
        self.lost.retain(|(lost, _)| *lost != id);
        Ok(())
    }
}
