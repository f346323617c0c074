//! Who may read and write which document, as one pure function. Everything the server
//! sends or accepts goes through [`decide`]; the UI's hiding of things is a courtesy,
//! not the control.
//!
//! Rules, for a user of the document's tenant (any other tenant gets nothing):
//!
//! | kind | admin | counsellor |
//! | --- | --- | --- |
//! | client record | write | write |
//! | client contact | write | nothing |
//! | timeline | write | write; where the tenant restricts timelines, only with a valid responsibility (admins too) |
//! | notebook | its author writes; other admins read (monitorings are for admins) | its author writes |
//! | group | write | its creator writes, others read |
//! | bookmarks | its owner | its owner |
//! | catalogue | write | read |
//! | directory | its owner reads | its owner reads |
//!
//! Accounts with the role `client` (the people themselves) reach no document through sync.
//! A document the registry does not know is nobody's: it is neither sent nor accepted.

use std::collections::{HashMap, HashSet};

use model::{Date, DocKind, DocumentId, Period, TenantId, UserId};

use model::api::Role;

/// A remote user's access to one document. Ordered: more is greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    None,
    Read,
    Write,
}

/// What the registry knows of a document without opening it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocEntry {
    pub kind: DocKind,
    pub tenant: TenantId,
    /// The client record a per-person document belongs to (a record names itself).
    pub person: Option<DocumentId>,
    /// The author of a notebook, the owner of bookmarks and directories, the creator of
    /// a group.
    pub owner: Option<UserId>,
}

/// The user asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub account_id: UserId,
    pub tenant: TenantId,
    pub role: Role,
}

/// One person's responsibility for a client, as far as access goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user: UserId,
    pub valid: Period,
    pub deactivated: bool,
}

/// Facts the server read out of documents (the catalogue's setting, the records'
/// responsibilities) that some rules depend on.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub restricted_tenants: HashSet<TenantId>,
    /// By client record id.
    pub responsibilities: HashMap<DocumentId, Vec<Grant>>,
}

impl Facts {
    fn responsible(&self, person: Option<&DocumentId>, user: &UserId, today: Date) -> bool {
        let Some(person) = person else {
            return false;
        };
        self.responsibilities.get(person).is_some_and(|grants| {
            grants
                .iter()
                .any(|g| &g.user == user && !g.deactivated && g.valid.contains(today))
        })
    }
}

pub fn decide(doc: &DocEntry, who: &Viewer, facts: &Facts, today: Date) -> Access {
    if doc.tenant != who.tenant {
        return Access::None;
    }
    let owns = doc.owner.as_ref() == Some(&who.account_id);
    if doc.kind == DocKind::Directory {
        return if owns { Access::Read } else { Access::None };
    }
    let admin = match who.role {
        Role::Admin => true,
        Role::Counsellor => false,
        Role::Client => return Access::None,
    };
    match doc.kind {
        DocKind::ClientRecord => Access::Write,
        DocKind::ClientContact if admin => Access::Write,
        DocKind::ClientContact => Access::None,
        DocKind::Timeline => {
            if facts.restricted_tenants.contains(&doc.tenant)
                && !facts.responsible(doc.person.as_ref(), &who.account_id, today)
            {
                Access::None
            } else {
                Access::Write
            }
        }
        DocKind::Notebook if owns => Access::Write,
        DocKind::Notebook if admin => Access::Read,
        DocKind::Notebook => Access::None,
        DocKind::Group if owns || admin => Access::Write,
        DocKind::Group => Access::Read,
        DocKind::Bookmarks if owns => Access::Write,
        DocKind::Bookmarks => Access::None,
        DocKind::Catalogue if admin => Access::Write,
        DocKind::Catalogue => Access::Read,
        DocKind::Directory => Access::None,
    }
}

/// Whether `who` may register a new document of this kind; `person` is the registered
/// record it belongs to, where the kind needs one.
pub fn may_register(kind: DocKind, who: &Viewer, person: Option<&DocEntry>) -> bool {
    let staff = matches!(who.role, Role::Admin | Role::Counsellor);
    let person_ok =
        person.is_some_and(|p| p.kind == DocKind::ClientRecord && p.tenant == who.tenant);
    match kind {
        DocKind::ClientRecord | DocKind::Group | DocKind::Bookmarks => staff,
        DocKind::Timeline | DocKind::Notebook => staff && person_ok,
        DocKind::ClientContact => who.role == Role::Admin && person_ok,
        DocKind::Catalogue => who.role == Role::Admin,
        DocKind::Directory => false,
    }
}

#[cfg(test)]
mod tests;
