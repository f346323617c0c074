//! What the purge (`crate::purge`) needs of the registry: each client record's
//! effective deletion day and each tenant's deletion interval, read out of documents as
//! the access facts are; and the purged documents, forgotten here (deny by default) and
//! remembered by id only, so that nobody registers them again and every directory of
//! their tenant lists them as purged.

use std::collections::BTreeMap;

use model::{Date, DocKind, DocumentId, TenantId};
use rusqlite::{Connection, params};

use super::{AccessChange, Index, Registry, RegistryError};

/// Loads the purge's facts and the purged ids into `index` at start.
pub(super) fn load_purge_facts(conn: &Connection, index: &mut Index) -> Result<(), RegistryError> {
    let mut statement = conn.prepare("SELECT person, day FROM deletion_days")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (person, day) = row?;
        if let (Ok(person), Ok(day)) = (person.parse::<DocumentId>(), day.parse::<Date>()) {
            index.deletions.insert(person, day);
        }
    }
    let mut statement = conn.prepare("SELECT tenant, days FROM deletion_intervals")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (tenant, days) = row?;
        index
            .intervals
            .insert(TenantId::new(tenant), u64::try_from(days).unwrap_or(0));
    }
    let mut statement = conn.prepare("SELECT id, tenant, purged_ms FROM purged_documents")?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (id, tenant, at_ms) = row?;
        if let Ok(id) = id.parse::<DocumentId>() {
            let at_ms = u64::try_from(at_ms).unwrap_or(0);
            index.purged.insert(id, (TenantId::new(tenant), at_ms));
        }
    }
    Ok(())
}

/// A client record that is marked deleted: when, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub person: DocumentId,
    pub tenant: TenantId,
    pub day: Date,
}

impl Registry {
    /// Records the effective deletion day of the client record `person` (its fold's
    /// view): `None` when it is not deleted (never, or restored).
    pub fn set_deletion_day(
        &self,
        person: DocumentId,
        day: Option<Date>,
    ) -> Result<(), RegistryError> {
        // Settling that read the record just before its purge changes nothing after it.
        if self.read().deletions.get(&person) == day.as_ref() || self.is_purged(&person) {
            return Ok(());
        }
        match day {
            Some(day) => self.conn().execute(
                "INSERT INTO deletion_days (person, day) VALUES (?1, ?2)
                 ON CONFLICT (person) DO UPDATE SET day = excluded.day",
                params![person.to_string(), day.to_string()],
            )?,
            None => self.conn().execute(
                "DELETE FROM deletion_days WHERE person = ?1",
                params![person.to_string()],
            )?,
        };
        let mut index = self.write();
        match day {
            Some(day) => index.deletions.insert(person, day),
            None => index.deletions.remove(&person),
        };
        Ok(())
    }

    /// The client records the registry knows no deletion day of: not deleted, or
    /// deleted in a way nothing has told it yet (read once at start, [`crate::purge`]).
    pub fn records_without_deletion_day(&self) -> Vec<DocumentId> {
        let index = self.read();
        index
            .docs
            .iter()
            .filter(|(id, entry)| {
                entry.kind == DocKind::ClientRecord && !index.deletions.contains_key(id)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Records a tenant's deletion interval, read from its catalogue.
    pub fn set_deletion_interval(&self, tenant: &TenantId, days: u64) -> Result<(), RegistryError> {
        if self.read().intervals.get(tenant) == Some(&days) {
            return Ok(());
        }
        self.conn().execute(
            "INSERT INTO deletion_intervals (tenant, days) VALUES (?1, ?2)
             ON CONFLICT (tenant) DO UPDATE SET days = excluded.days",
            params![tenant.as_str(), i64::try_from(days).unwrap_or(i64::MAX)],
        )?;
        self.write().intervals.insert(tenant.clone(), days);
        Ok(())
    }

    /// The tenant's deletion interval as its catalogue said when last settled.
    pub fn deletion_interval(&self, tenant: &TenantId) -> Option<u64> {
        self.read().intervals.get(tenant).copied()
    }

    /// Every client record marked deleted, with its day (sorted by record).
    pub fn deletions(&self) -> Vec<Deletion> {
        let index = self.read();
        let mut found: Vec<Deletion> = index
            .deletions
            .iter()
            .filter_map(|(person, day)| {
                let entry = index.docs.get(person)?;
                Some(Deletion {
                    person: *person,
                    tenant: entry.tenant.clone(),
                    day: *day,
                })
            })
            .collect();
        found.sort_by_key(|d| d.person);
        found
    }

    /// The documents of `kind` in `tenant` (a scan of the index; for groups, bookmarks
    /// and catalogues, which are few).
    pub fn documents_of_kind(&self, tenant: &TenantId, kind: DocKind) -> Vec<DocumentId> {
        let mut found: Vec<DocumentId> = self
            .read()
            .docs
            .iter()
            .filter(|(_, e)| e.kind == kind && &e.tenant == tenant)
            .map(|(id, _)| *id)
            .collect();
        found.sort();
        found
    }

    /// Whether the purge of `person` has started (or is done): documents are no longer
    /// registered for them, they would be left over.
    pub fn purge_started(&self, person: &DocumentId) -> Result<bool, RegistryError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM purges WHERE person = ?1",
                params![person.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Forgets the documents `ids` of the person of client record `person` in `tenant`:
    /// their rows, the facts about the person, and, in memory, everything; from now on
    /// they are nobody's (deny by default). Remembers their ids as purged at `at_ms`.
    /// Doing it again changes nothing.
    pub fn forget_purged(
        &self,
        person: DocumentId,
        tenant: &TenantId,
        ids: &[DocumentId],
        at_ms: u64,
    ) -> Result<(), RegistryError> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            for id in ids {
                tx.execute(
                    "DELETE FROM documents WHERE id = ?1",
                    params![id.to_string()],
                )?;
                tx.execute(
                    "INSERT INTO purged_documents (id, tenant, purged_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO NOTHING",
                    params![
                        id.to_string(),
                        tenant.as_str(),
                        i64::try_from(at_ms).unwrap_or(i64::MAX)
                    ],
                )?;
            }
            tx.execute(
                "DELETE FROM responsibility_grants WHERE person = ?1",
                params![person.to_string()],
            )?;
            tx.execute(
                "DELETE FROM deletion_days WHERE person = ?1",
                params![person.to_string()],
            )?;
            tx.commit()?;
        }
        {
            let mut index = self.write();
            for id in ids {
                if let Some(entry) = index.docs.remove(id)
                    && entry.kind == DocKind::Directory
                    && let Some(owner) = &entry.owner
                    && index.directories.get(owner) == Some(id)
                {
                    index.directories.remove(owner);
                }
                index.creations.remove(id);
                index.purged.entry(*id).or_insert((tenant.clone(), at_ms));
            }
            index.by_person.remove(&person);
            index.facts.responsibilities.remove(&person);
            index.deletions.remove(&person);
        }
        self.wake(ids.iter());
        self.bump(AccessChange::Purged(tenant.clone()));
        Ok(())
    }

    /// Whether `id` was purged.
    pub fn is_purged(&self, id: &DocumentId) -> bool {
        self.read().purged.contains_key(id)
    }

    /// Every purged id.
    pub fn purged_ids(&self) -> Vec<DocumentId> {
        let mut ids: Vec<DocumentId> = self.read().purged.keys().copied().collect();
        ids.sort();
        ids
    }

    /// The documents of `tenant` purged so far, with the time of their purge.
    pub fn purged_in(&self, tenant: &TenantId) -> BTreeMap<String, u64> {
        self.read()
            .purged
            .iter()
            .filter(|(_, (t, _))| t == tenant)
            .map(|(id, (_, at_ms))| (id.to_string(), *at_ms))
            .collect()
    }
}
