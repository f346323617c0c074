//! What the lists read, from the derived rows in memory: the member list with its search,
//! filter and sort, the bookmarks ("Merkliste"), the groups, a person's other documents and
//! the contact data admins see.

use std::collections::{BTreeSet, HashMap};

use super::Workspace;
use crate::rows::{GroupRow, MemberRow, Row};

/// The member list's filter ("eigene", "alle", a given counsellor's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    Own,
    #[default]
    All,
    Of(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    LastLogin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberQuery {
    pub search: String,
    pub filter: Filter,
    pub sort: Sort,
    /// Only bookmarked people ("Merkliste").
    pub bookmarked: bool,
}

/// A person's contact data, as far as this device knows it (admins read it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactData {
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Workspace {
    pub fn member(&self, doc: &str) -> Option<&MemberRow> {
        match self.rows.get(doc)? {
            Row::Member(row) => Some(row),
            _ => None,
        }
    }

    /// The member list: search by pseudonym, name or client id; filter; sort.
    pub fn members(&self, query: &MemberQuery) -> Vec<(&str, &MemberRow)> {
        let needle = query.search.trim().to_lowercase();
        let bookmarked = if query.bookmarked {
            self.bookmarks()
        } else {
            BTreeSet::new()
        };
        let mut found: Vec<(&str, &MemberRow)> = self
            .rows
            .iter()
            .filter_map(|(doc, row)| match row {
                Row::Member(member) => Some((doc.as_str(), member)),
                _ => None,
            })
            .filter(|(doc, row)| {
                (!query.bookmarked || bookmarked.contains(*doc))
                    && match &query.filter {
                        Filter::All => true,
                        Filter::Own => row.primary.as_deref() == Some(self.me()),
                        Filter::Of(user) => row.primary.as_deref() == Some(user.as_str()),
                    }
                    && (needle.is_empty()
                        || row.pseudonym.to_lowercase().contains(&needle)
                        || row.name.to_lowercase().contains(&needle)
                        || row.first_name.to_lowercase().contains(&needle)
                        || row.client_id.to_lowercase().contains(&needle))
            })
            .collect();
        match query.sort {
            Sort::Name => found
                .sort_by_cached_key(|(doc, row)| (row.pseudonym.to_lowercase(), doc.to_string())),
            Sort::LastLogin => {
                found.sort_by(|a, b| b.1.last_login_ms.cmp(&a.1.last_login_ms).then(a.0.cmp(b.0)))
            }
        }
        found
    }

    /// The people this user bookmarked ("Merkliste").
    pub fn bookmarks(&self) -> BTreeSet<String> {
        self.rows
            .values()
            .filter_map(|row| match row {
                Row::Bookmarks { owner, persons } if owner == self.me() => {
                    Some(persons.iter().cloned())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn groups(&self, search: &str) -> Vec<(&str, &GroupRow)> {
        let needle = search.trim().to_lowercase();
        let mut found: Vec<(&str, &GroupRow)> = self
            .rows
            .iter()
            .filter_map(|(doc, row)| match row {
                Row::Group(group) if !group.deleted => Some((doc.as_str(), group)),
                _ => None,
            })
            .filter(|(_, g)| needle.is_empty() || g.name.to_lowercase().contains(&needle))
            .collect();
        found.sort_by_cached_key(|(doc, g)| (g.name.to_lowercase(), doc.to_string()));
        found
    }

    /// A person's other documents: `(doc, row)` of contact, timeline and own notebook.
    pub fn documents_of(&self, person: &str) -> Vec<(&str, &Row)> {
        self.rows
            .iter()
            .filter(|(_, row)| match row {
                Row::Contact { person: p, .. } | Row::Timeline { person: p } => p == person,
                Row::Notebook { person: p, .. } => p == person,
                _ => false,
            })
            .map(|(doc, row)| (doc.as_str(), row))
            .collect()
    }

    /// Every person's contact data (admins read contact documents), by person.
    pub fn contacts(&self) -> HashMap<&str, ContactData> {
        self.rows
            .values()
            .filter_map(|row| match row {
                Row::Contact {
                    person,
                    email,
                    phone,
                } => Some((
                    person.as_str(),
                    ContactData {
                        email: email.clone(),
                        phone: phone.clone(),
                    },
                )),
                _ => None,
            })
            .collect()
    }

    pub fn contact_of(&self, person: &str) -> Option<ContactData> {
        self.rows.values().find_map(|row| match row {
            Row::Contact {
                person: p,
                email,
                phone,
            } if p == person => Some(ContactData {
                email: email.clone(),
                phone: phone.clone(),
            }),
            _ => None,
        })
    }
}
