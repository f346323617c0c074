//! One Automerge document with a schema: [`Document<T>`] loads, checks, reads (hydrates)
//! and writes it. Writes go to one path at a time, never "reconcile the whole struct": two
//! replicas that edit different fields must produce changes that touch only those fields,
//! or a merge would resurrect old values.
//!
//! Every container map of a schema is created by the document's first change. Creating
//! a map lazily would let two offline replicas create two maps at the same key, and a merge
//! would hide one of them with everything in it.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, Automerge, ChangeHash, LoadOptions, ObjId, ObjType, ReadDoc, TextEncoding,
    Value,
};
use autosurgeon::{Hydrate, HydrateError, Reconcile, ReconcileError};

use crate::ids::EntityId;

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: u64 = 1;
const KIND_KEY: &str = "kind";
const SCHEMA_KEY: &str = "schema";
/// autosurgeon's `Text::update` counts in UTF-8 bytes, so every document is opened with
/// UTF-8 indexing. The encoding only says how this process counts; the stored document is
/// the same, and JavaScript replicas keep counting in UTF-16.
const TEXT_ENCODING: TextEncoding = TextEncoding::Utf8CodeUnit;

/// The document kinds (ARCHITECTURE.md, "Documents follow who may read them").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub enum DocKind {
    ClientRecord,
    ClientContact,
    Timeline,
    Notebook,
    Group,
    Bookmarks,
    Catalogue,
    Directory,
}

impl DocKind {
    pub const ALL: [DocKind; 8] = [
        DocKind::ClientRecord,
        DocKind::ClientContact,
        DocKind::Timeline,
        DocKind::Notebook,
        DocKind::Group,
        DocKind::Bookmarks,
        DocKind::Catalogue,
        DocKind::Directory,
    ];

    /// The name stored under the document's `kind` key.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::ClientRecord => "client-record",
            DocKind::ClientContact => "client-contact",
            DocKind::Timeline => "timeline",
            DocKind::Notebook => "notebook",
            DocKind::Group => "group",
            DocKind::Bookmarks => "bookmarks",
            DocKind::Catalogue => "catalogue",
            DocKind::Directory => "directory",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// A document schema: the plain Rust value a document hydrates to.
pub trait Schema: Hydrate + Reconcile {
    const KIND: DocKind;

    /// Drops what the document holds but must not count: values of fields only the
    /// server may write that somebody else wrote. Runs on every read.
    fn vet(&mut self, _written: &Written<'_>) {}
}

/// Actor ids the sync server writes its own changes with start with this; the rest is
/// drawn at each start, so a server restored from a backup never reuses a sequence
/// number it had already sent. The server refuses changes under such an actor from
/// anyone else, so only the server's own writes carry it.
pub const SERVER_ACTOR_PREFIX: &[u8] = b"sync-server/";

/// A server actor id from the random part drawn at the server's start.
pub fn server_actor(random: [u8; 8]) -> ActorId {
    let mut bytes = SERVER_ACTOR_PREFIX.to_vec();
    bytes.extend_from_slice(&random);
    ActorId::from(bytes)
}

pub fn is_server_actor(actor: &ActorId) -> bool {
    actor.to_bytes().starts_with(SERVER_ACTOR_PREFIX)
}

/// Who wrote the values of a document, for [`Schema::vet`].
#[derive(Debug)]
pub struct Written<'a> {
    doc: &'a AutoCommit,
}

impl Written<'_> {
    fn object_at(&self, path: &[&str]) -> Option<ObjId> {
        let mut obj = automerge::ROOT;
        for segment in path {
            obj = match self.doc.get(&obj, *segment) {
                Ok(Some((Value::Object(_), id))) => id,
                _ => return None,
            };
        }
        Some(obj)
    }

    /// Whether the current value at `key` of the map at `path` was written by the
    /// server. Of concurrent values, the one the document shows counts.
    pub fn by_server(&self, path: &[&str], key: &str) -> bool {
        let Some(obj) = self.object_at(path) else {
            return false;
        };
        match self.doc.get(&obj, key) {
            Ok(Some((_, ObjId::Id(_, actor, _)))) => is_server_actor(&actor),
            _ => false,
        }
    }

    /// The scalar the server wrote at `key` of the map at `path`, even where somebody
    /// else wrote a concurrent value that the document shows instead.
    pub fn server_scalar(&self, path: &[&str], key: &str) -> Option<automerge::ScalarValue> {
        let obj = self.object_at(path)?;
        self.doc
            .get_all(&obj, key)
            .ok()?
            .into_iter()
            .find_map(|(value, id)| match (value, id) {
                (Value::Scalar(scalar), ObjId::Id(_, actor, _)) if is_server_actor(&actor) => {
                    Some(scalar.into_owned())
                }
                _ => None,
            })
    }
}

/// Automerge's and autosurgeon's errors are large; they are boxed so that every `Result`
/// of the model stays small.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not a readable Automerge document")]
    Load(#[source] Box<automerge::AutomergeError>),
    #[error("expected a {expected} document, found {found}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("written by a newer schema (version {0}); update this program")]
    NewerSchema(u64),
    #[error("the document does not match its schema")]
    Schema(#[source] Box<HydrateError>),
    #[error("the document lacks its {0} map")]
    MissingPath(String),
    #[error("no {0} with this id")]
    NoSuchEntity(&'static str),
    #[error(transparent)]
    Automerge(Box<automerge::AutomergeError>),
    #[error(transparent)]
    Reconcile(Box<ReconcileError>),
}

impl From<HydrateError> for DocumentError {
    fn from(e: HydrateError) -> Self {
        Self::Schema(Box::new(e))
    }
}

impl From<automerge::AutomergeError> for DocumentError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Automerge(Box::new(e))
    }
}

impl From<ReconcileError> for DocumentError {
    fn from(e: ReconcileError) -> Self {
        Self::Reconcile(Box::new(e))
    }
}

/// Something recorded at a stamp that names the intents its author saw and replaced.
/// The intents nobody supersedes are the heads: more than one head means concurrent intents
/// that the conflict rules must decide between.
pub trait Supersedes {
    fn supersedes(&self) -> &[EntityId];
}

/// The ids of intents that no other intent supersedes, in id order.
pub fn heads<E: Supersedes>(intents: &BTreeMap<EntityId, E>) -> Vec<EntityId> {
    let superseded: std::collections::BTreeSet<&EntityId> =
        intents.values().flat_map(|e| e.supersedes()).collect();
    intents
        .keys()
        .filter(|id| !superseded.contains(id))
        .cloned()
        .collect()
}

pub struct Document<T> {
    doc: AutoCommit,
    schema: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Document<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("actor", self.doc.get_actor())
            .finish_non_exhaustive()
    }
}

impl<T: Schema> Document<T> {
    /// A new document holding `initial`, written in one change.
    pub fn create(initial: &T) -> Result<Self, DocumentError> {
        let mut doc = AutoCommit::new_with_encoding(TEXT_ENCODING);
        autosurgeon::reconcile(&mut doc, initial)?;
        doc.put(automerge::ROOT, KIND_KEY, T::KIND.as_str())?;
        doc.put(automerge::ROOT, SCHEMA_KEY, SCHEMA_VERSION)?;
        doc.commit();
        Ok(Self::wrap(doc))
    }

    /// Loads saved bytes and checks that they hold a document of this kind.
    pub fn load(bytes: &[u8]) -> Result<Self, DocumentError> {
        let options = LoadOptions::new().text_encoding(TEXT_ENCODING);
        let doc = AutoCommit::load_with_options(bytes, options)
            .map_err(|e| DocumentError::Load(Box::new(e)))?;
        Self::checked(doc)
    }

    fn checked(doc: AutoCommit) -> Result<Self, DocumentError> {
        let kind = match doc.get(automerge::ROOT, KIND_KEY)? {
            Some((Value::Scalar(s), _)) => s.as_str().unwrap_or_default().to_owned(),
            _ => String::new(),
        };
        if kind != T::KIND.as_str() {
            return Err(DocumentError::WrongKind {
                expected: T::KIND.as_str(),
                found: if kind.is_empty() {
                    "nothing".into()
                } else {
                    kind
                },
            });
        }
        if let Some((Value::Scalar(s), _)) = doc.get(automerge::ROOT, SCHEMA_KEY)?
            && let Some(version) = s.as_u64()
            && version > SCHEMA_VERSION
        {
            return Err(DocumentError::NewerSchema(version));
        }
        Ok(Self::wrap(doc))
    }

    fn wrap(doc: AutoCommit) -> Self {
        Self {
            doc,
            schema: PhantomData,
        }
    }

    /// The document as plain data.
    pub fn read(&self) -> Result<T, DocumentError> {
        let mut value: T = autosurgeon::hydrate(&self.doc)?;
        value.vet(&Written { doc: &self.doc });
        Ok(value)
    }

    /// From here on this copy writes as `actor`. The sync server writes as one of its
    /// [`server_actor`]s; nobody else has a reason to call this.
    pub fn act_as(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// Another replica of this document, with its own actor.
    pub fn fork(&mut self) -> Self {
        Self::wrap(self.doc.fork())
    }

    pub fn merge(&mut self, other: &mut Self) -> Result<(), DocumentError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The underlying document, for the sync machinery.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn into_automerge(mut self) -> Automerge {
        self.doc.commit();
        self.doc.document().clone()
    }

    /// Writes `value` at `key` of the map at `path`, touching only what differs.
    pub(crate) fn put<V: Reconcile>(
        &mut self,
        path: &[&str],
        key: &str,
        value: V,
    ) -> Result<(), DocumentError> {
        let obj = self.map_at(path)?;
        autosurgeon::reconcile_prop(&mut self.doc, obj, key, value)?;
        Ok(())
    }

    /// Writes a field of an existing entity: `path` leads to the entity's map.
    pub(crate) fn put_field<V: Reconcile>(
        &mut self,
        path: &[&str],
        field: &str,
        value: V,
    ) -> Result<(), DocumentError> {
        self.put(path, field, value)
    }

    pub(crate) fn delete(&mut self, path: &[&str], key: &str) -> Result<(), DocumentError> {
        let obj = self.map_at(path)?;
        self.doc.delete(obj, key)?;
        Ok(())
    }

    /// Whether `key` of the map at `path` holds a map.
    pub(crate) fn is_map(&self, path: &[&str], key: &str) -> bool {
        self.map_at(path)
            .ok()
            .and_then(|obj| self.doc.get(obj, key).ok().flatten())
            .is_some_and(|(value, _)| matches!(value, Value::Object(ObjType::Map)))
    }

    /// Whether the map at `path` has `key`; a missing path counts as absent.
    pub(crate) fn has(&self, path: &[&str], key: &str) -> bool {
        self.map_at(path)
            .ok()
            .and_then(|obj| self.doc.get(obj, key).ok().flatten())
            .is_some()
    }

    /// Ends the current mutation: each person's action is one change.
    pub(crate) fn commit(&mut self) {
        self.doc.commit();
    }

    fn map_at(&self, path: &[&str]) -> Result<ObjId, DocumentError> {
        let mut obj = automerge::ROOT;
        for segment in path {
            obj = match self.doc.get(&obj, *segment)? {
                Some((Value::Object(ObjType::Map), id)) => id,
                _ => return Err(DocumentError::MissingPath(path.join("/"))),
            };
        }
        Ok(obj)
    }
}

#[cfg(test)]
mod tests;
