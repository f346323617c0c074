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
    /// When the tenant's staff last changed (an account created, renamed, locked,
    /// unlocked or deleted; milliseconds since the epoch): a client that sees it move
    /// asks for the staff list again. Absent in directories written before it existed.
    pub staff_changed_ms: Option<u64>,
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
            staff_changed_ms: None,
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

/// What [`update_in_place`] should make of one document's entry: its entry, or `None`
/// when the user lost access.
pub type Wanted = BTreeMap<String, Option<DirectoryEntry>>;

/// Brings the entries of a directory held as a plain Automerge document (the server's
/// copy, owned by the sync machinery) in line with `wanted`, in one change. With
/// `complete`, every entry not named in `wanted` is removed too. Writes nothing when
/// nothing differs; returns how many entries changed.
///
/// Reads only the entries it compares (all of them when `complete`), so a new record
/// costs one lookup per directory, not a reading of the whole directory.
pub fn update_in_place(
    doc: &mut automerge::Automerge,
    wanted: &Wanted,
    complete: bool,
) -> Result<usize, DocumentError> {
    use automerge::{ObjType, ReadDoc, Value, transaction::Transactable};

    let entries = match doc.get(automerge::ROOT, "entries")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => return Err(DocumentError::MissingPath("entries".into())),
    };
    let mut removals: Vec<String> = Vec::new();
    if complete {
        removals = doc
            .keys(&entries)
            .filter(|key| !matches!(wanted.get(key), Some(Some(_))))
            .collect();
    }
    let mut puts: Vec<(&String, &DirectoryEntry)> = Vec::new();
    for (key, entry) in wanted {
        let current: Option<DirectoryEntry> = match doc.get(&entries, key.as_str())? {
            Some(_) => Some(autosurgeon::hydrate_prop(doc, &entries, key.as_str())?),
            None => None,
        };
        match entry {
            Some(entry) if current.as_ref() != Some(entry) => puts.push((key, entry)),
            None if current.is_some() && !complete => removals.push(key.clone()),
            _ => {}
        }
    }
    let changed = puts.len() + removals.len();
    if changed == 0 {
        return Ok(0);
    }
    doc.transact::<_, _, DocumentError>(|tx| {
        for (key, entry) in &puts {
            autosurgeon::reconcile_prop(tx, &entries, key.as_str(), *entry)?;
        }
        for key in &removals {
            tx.delete(&entries, key.as_str())?;
        }
        Ok(())
    })
    .map_err(|failure| failure.error)?;
    Ok(changed)
}

/// Lists every document of `purged` (id to the time of its purge) as purged in a
/// directory held as a plain Automerge document (the server's copy), in one change,
/// and removes their entries. Writes nothing for ids it lists already; returns how many
/// it added.
pub fn purge_in_place(
    doc: &mut automerge::Automerge,
    purged: &BTreeMap<String, u64>,
) -> Result<usize, DocumentError> {
    use automerge::{ObjType, ReadDoc, Value, transaction::Transactable};

    let map = |doc: &automerge::Automerge, name: &str| match doc.get(automerge::ROOT, name)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(DocumentError::MissingPath(name.into())),
    };
    let listed = map(doc, "purged")?;
    let entries = map(doc, "entries")?;
    let missing: Vec<(&String, u64)> = purged
        .iter()
        .filter(|(key, _)| !matches!(doc.get(&listed, key.as_str()), Ok(Some(_))))
        .map(|(key, at_ms)| (key, *at_ms))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    doc.transact::<_, _, DocumentError>(|tx| {
        for (key, at_ms) in &missing {
            if tx.get(&entries, key.as_str())?.is_some() {
                tx.delete(&entries, key.as_str())?;
            }
            autosurgeon::reconcile_prop(tx, &listed, key.as_str(), *at_ms)?;
        }
        Ok(())
    })
    .map_err(|failure| failure.error)?;
    Ok(missing.len())
}
