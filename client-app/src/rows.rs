//! Derived rows: what the list views need of each document, computed when the document
//! changes and kept (sealed) in the store, so that a list of 10,000 people opens and
//! filters without loading 10,000 documents.

use conflict_rules::record::{ClientStatus, fold_record};
use model::bookmarks::Bookmarks;
use model::client_contact::ClientContact;
use model::client_record::ClientRecord;
use model::group::Group;
use model::notebook::Notebook;
use model::timeline::Timeline;
use model::{DocKind, Document, Schema};
use serde::{Deserialize, Serialize};

/// One row per document, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "row")]
pub enum Row {
    Member(MemberRow),
    Contact {
        person: String,
        email: Option<String>,
        phone: Option<String>,
    },
    Timeline {
        person: String,
    },
    Notebook {
        person: String,
        author: String,
    },
    Group(GroupRow),
    Bookmarks {
        owner: String,
        persons: Vec<String>,
    },
    Catalogue,
    Directory,
}

impl Row {
    pub fn kind(&self) -> DocKind {
        match self {
            Row::Member(_) => DocKind::ClientRecord,
            Row::Contact { .. } => DocKind::ClientContact,
            Row::Timeline { .. } => DocKind::Timeline,
            Row::Notebook { .. } => DocKind::Notebook,
            Row::Group(_) => DocKind::Group,
            Row::Bookmarks { .. } => DocKind::Bookmarks,
            Row::Catalogue => DocKind::Catalogue,
            Row::Directory => DocKind::Directory,
        }
    }
}

/// A line of the member list ("Benutzer:in", "Stammberater:in", "Account/Letztes Login",
/// "Status").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub pseudonym: String,
    pub name: String,
    pub first_name: String,
    pub client_id: String,
    pub primary: Option<String>,
    pub status: RowStatus,
    pub last_login_ms: Option<u64>,
    /// The invitation's state, as `model::client_record::AccountState` has it. Rows
    /// stored before these fields read without them.
    #[serde(default)]
    pub invitation_queued_ms: Option<u64>,
    pub invitation_sent_ms: Option<u64>,
    #[serde(default)]
    pub invitation_failed_ms: Option<u64>,
    pub has_password: bool,
    pub created_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowStatus {
    Active,
    /// Until the end of this day (`yyyy-mm-dd`), or until unlocked.
    Locked(Option<String>),
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub name: String,
    pub description: String,
    pub created_by: String,
    pub members: Vec<String>,
    pub deleted: bool,
}

/// Loads one document from its stored chunks.
pub fn load<T: Schema>(chunks: &[Vec<u8>]) -> Result<Document<T>, model::DocumentError> {
    Document::<T>::load(&chunks.concat())
}

/// The kind a document says it is.
pub fn kind_of(chunks: &[Vec<u8>]) -> Option<DocKind> {
    let doc = automerge::Automerge::load(&chunks.concat()).ok()?;
    use automerge::ReadDoc as _;
    let (value, _) = doc.get(automerge::ROOT, "kind").ok()??;
    DocKind::parse(value.into_scalar().ok()?.as_str()?)
}

pub fn member(record: &ClientRecord) -> MemberRow {
    let (view, _) = fold_record(record);
    MemberRow {
        pseudonym: record.pseudonym.clone(),
        name: record.name.clone(),
        first_name: record.first_name.clone(),
        client_id: record.client_id.to_string(),
        primary: view.primary.map(|p| p.user.to_string()),
        status: match view.status {
            ClientStatus::Active => RowStatus::Active,
            ClientStatus::Locked { until } => RowStatus::Locked(until.map(|d| d.to_string())),
            ClientStatus::Deleted { .. } => RowStatus::Deleted,
        },
        last_login_ms: record.account.last_login_ms,
        invitation_queued_ms: record.account.invitation_queued_ms,
        invitation_sent_ms: record.account.invitation_sent_ms,
        invitation_failed_ms: record.account.invitation_failed_ms,
        has_password: record.account.has_password,
        created_ms: record.created.wall_ms,
    }
}

/// The row of a stored document, or `None` when it does not load (it is then left out
/// of the lists, and the sync goes on).
pub fn derive(chunks: &[Vec<u8>]) -> Option<Row> {
    derive_as(kind_of(chunks)?, chunks)
}

/// The row of a document whose kind is known.
pub fn derive_as(kind: DocKind, chunks: &[Vec<u8>]) -> Option<Row> {
    let row = match kind {
        DocKind::ClientRecord => {
            Row::Member(member(&load::<ClientRecord>(chunks).ok()?.read().ok()?))
        }
        DocKind::ClientContact => {
            let contact = load::<ClientContact>(chunks).ok()?.read().ok()?;
            Row::Contact {
                person: contact.person.to_string(),
                email: contact.email,
                phone: contact.phone,
            }
        }
        DocKind::Timeline => Row::Timeline {
            person: load::<Timeline>(chunks)
                .ok()?
                .read()
                .ok()?
                .person
                .to_string(),
        },
        DocKind::Notebook => {
            let notebook = load::<Notebook>(chunks).ok()?.read().ok()?;
            Row::Notebook {
                person: notebook.person.to_string(),
                author: notebook.author.to_string(),
            }
        }
        DocKind::Group => {
            let group = load::<Group>(chunks).ok()?.read().ok()?;
            Row::Group(GroupRow {
                name: group.name,
                description: group.description,
                created_by: group.created_by.to_string(),
                members: group.members.into_keys().collect(),
                deleted: group.deleted.is_some(),
            })
        }
        DocKind::Bookmarks => {
            let bookmarks = load::<Bookmarks>(chunks).ok()?.read().ok()?;
            Row::Bookmarks {
                owner: bookmarks.owner.to_string(),
                persons: bookmarks.items.into_keys().collect(),
            }
        }
        DocKind::Catalogue => Row::Catalogue,
        DocKind::Directory => Row::Directory,
    };
    Some(row)
}

#[cfg(test)]
mod tests;
