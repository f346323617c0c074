//! The directory: one per user, written by the server only. It lists every document the
//! user may read, and the documents purged since, so that a client learns of new records,
//! of lost access, and of what it must delete locally.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::ids::{DocumentId, UserId};

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Directory {
    pub owner: UserId,
    /// By document id (bs58check).
    pub entries: BTreeMap<String, DirectoryEntry>,
    /// Document id to the time of the purge (milliseconds since the epoch).
    pub purged: BTreeMap<String, u64>,
}

impl Schema for Directory {
    const KIND: DocKind = DocKind::Directory;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct DirectoryEntry {
    pub kind: DocKind,
    pub access: Access,
    /// For documents that belong to a person (record, contact, timeline, notebook): the
    /// client record, so the client can group them without opening each.
    pub person: Option<DocumentId>,
}

impl Document<Directory> {
    pub fn create_directory(owner: UserId) -> Result<Self, DocumentError> {
        Self::create(&Directory {
            owner,
            entries: BTreeMap::new(),
            purged: BTreeMap::new(),
        })
    }

    /// Grants or changes access. Returns whether anything changed.
    pub fn grant(
        &mut self,
        doc: &DocumentId,
        entry: &DirectoryEntry,
    ) -> Result<bool, DocumentError> {
        let key = doc.to_string();
        if self.read()?.entries.get(&key) == Some(entry) {
            return Ok(false);
        }
        self.put(&["entries"], &key, entry)?;
        self.commit();
        Ok(true)
    }

    /// Access lost: the client drops its copy.
    pub fn revoke(&mut self, doc: &DocumentId) -> Result<bool, DocumentError> {
        let key = doc.to_string();
        if !self.has(&["entries"], &key) {
            return Ok(false);
        }
        self.delete(&["entries"], &key)?;
        self.commit();
        Ok(true)
    }

    /// The document was purged (deletion routine): every client deletes it.
    pub fn purge(&mut self, doc: &DocumentId, at_ms: u64) -> Result<(), DocumentError> {
        let key = doc.to_string();
        if self.has(&["entries"], &key) {
            self.delete(&["entries"], &key)?;
        }
        self.put(&["purged"], &key, at_ms)?;
        self.commit();
        Ok(())
    }
}
