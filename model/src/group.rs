//! A group of clients ("Klient:innen-Gruppe"): its name and description are visible to the
//! clients; it is edited by its creator and by admins (checked by the server).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::client_record::SHORT_TEXT_MAX_CHARS;
use crate::clock::Stamp;
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{DocumentId, TenantId, UserId};

pub const DESCRIPTION_MAX_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Group {
    pub tenant: TenantId,
    pub name: String,
    pub description: String,
    pub created_by: UserId,
    pub created: Stamp,
    /// Client-record document ids (as bs58check strings), with when they were added.
    pub members: BTreeMap<String, Stamp>,
    pub deleted: Option<Stamp>,
}

impl Schema for Group {
    const KIND: DocKind = DocKind::Group;
}

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("a group needs a name")]
    NoName,
    #[error("the {0} is too long")]
    TooLong(&'static str),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

fn checked(name: &str, description: &str) -> Result<(String, String), GroupError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(GroupError::NoName);
    }
    if name.chars().count() > SHORT_TEXT_MAX_CHARS {
        return Err(GroupError::TooLong("name"));
    }
    if description.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(GroupError::TooLong("description"));
    }
    Ok((name.to_owned(), description.trim().to_owned()))
}

impl Document<Group> {
    pub fn create_group(
        editor: &mut Editor,
        tenant: TenantId,
        name: &str,
        description: &str,
    ) -> Result<Self, GroupError> {
        let (name, description) = checked(name, description)?;
        Ok(Self::create(&Group {
            tenant,
            name,
            description,
            created_by: editor.user().clone(),
            created: editor.stamp(),
            members: BTreeMap::new(),
            deleted: None,
        })?)
    }

    pub fn edit_group(&mut self, name: &str, description: &str) -> Result<(), GroupError> {
        let (name, description) = checked(name, description)?;
        self.put(&[], "name", name)?;
        self.put(&[], "description", description)?;
        self.commit();
        Ok(())
    }

    pub fn add_member(
        &mut self,
        editor: &mut Editor,
        person: &DocumentId,
    ) -> Result<(), GroupError> {
        let key = person.to_string();
        if !self.has(&["members"], &key) {
            self.put(&["members"], &key, editor.stamp())?;
            self.commit();
        }
        Ok(())
    }

    pub fn remove_member(&mut self, person: &DocumentId) -> Result<(), GroupError> {
        let key = person.to_string();
        if self.has(&["members"], &key) {
            self.delete(&["members"], &key)?;
            self.commit();
        }
        Ok(())
    }

    /// "Klient:innen-Gruppe löschen": a tombstone; the server drops the group from every
    /// directory.
    pub fn delete_group(&mut self, editor: &mut Editor) -> Result<(), GroupError> {
        self.put(&[], "deleted", Some(editor.stamp()))?;
        self.commit();
        Ok(())
    }
}
