//! Bookmarks ("Merkliste"): each member of staff's own list of clients.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::clock::Stamp;
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{DocumentId, UserId};

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Bookmarks {
    pub owner: UserId,
    /// Client-record document ids, with when they were bookmarked.
    pub items: BTreeMap<String, Stamp>,
}

impl Schema for Bookmarks {
    const KIND: DocKind = DocKind::Bookmarks;
}

impl Document<Bookmarks> {
    pub fn create_bookmarks(owner: UserId) -> Result<Self, DocumentError> {
        Self::create(&Bookmarks {
            owner,
            items: BTreeMap::new(),
        })
    }

    /// "merken".
    pub fn bookmark(
        &mut self,
        editor: &mut Editor,
        person: &DocumentId,
    ) -> Result<(), DocumentError> {
        let key = person.to_string();
        if !self.has(&["items"], &key) {
            self.put(&["items"], &key, editor.stamp())?;
            self.commit();
        }
        Ok(())
    }

    pub fn unbookmark(&mut self, person: &DocumentId) -> Result<(), DocumentError> {
        let key = person.to_string();
        if self.has(&["items"], &key) {
            self.delete(&["items"], &key)?;
            self.commit();
        }
        Ok(())
    }
}
