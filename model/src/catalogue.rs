//! The tenant catalogue: programmes with their types and stages, sites, the tenant- and
//! programme-level working-time rules, master-data fields, filter criteria, the deletion
//! interval and settings. Read by all staff, written by admins.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::client_record::SHORT_TEXT_MAX_CHARS;
use crate::date::Date;
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{EntityId, ProgrammeId, SiteId, TenantId};
use crate::timeline::{ProgrammeSnapshot, ProgrammeType, StageDef};
use crate::working_time::{WorkingTimeError, WorkingTimeRule, check_new_rule, ended};

/// The default deletion interval ("Löschintervall") in days.
pub const DEFAULT_DELETION_INTERVAL_DAYS: u64 = 30;

/// The longest deletion interval a catalogue accepts (about a hundred years); the
/// server treats anything longer, e.g. from an older client, as this.
pub const MAX_DELETION_INTERVAL_DAYS: u64 = 36_500;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Catalogue {
    pub tenant: TenantId,
    pub programmes: BTreeMap<ProgrammeId, Programme>,
    pub sites: BTreeMap<SiteId, Site>,
    /// Tenant-level working-time rules.
    pub working_time: BTreeMap<EntityId, WorkingTimeRule>,
    pub master_data_fields: BTreeMap<String, MasterDataField>,
    pub filter_criteria: BTreeMap<String, String>,
    pub settings: Settings,
}

impl Schema for Catalogue {
    const KIND: DocKind = DocKind::Catalogue;
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Programme {
    pub name: String,
    pub programme_type: ProgrammeType,
    pub stages: Vec<StageDef>,
    /// Programme-level working-time rules.
    pub working_time: BTreeMap<EntityId, WorkingTimeRule>,
    /// What the primary caretaker is called in this programme, e.g. "Bildungsbegleiter".
    pub primary_label: Option<String>,
    pub archived: bool,
}

impl Programme {
    pub fn snapshot(&self, id: &ProgrammeId) -> ProgrammeSnapshot {
        ProgrammeSnapshot {
            id: id.clone(),
            name: self.name.clone(),
            programme_type: self.programme_type.clone(),
            stages: self.stages.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Site {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct MasterDataField {
    pub label: String,
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Settings {
    /// Days between "gelöscht" and the purge.
    pub deletion_interval_days: u64,
    /// When on, only staff with a valid responsibility read a person's timeline.
    pub restrict_timeline_to_responsibles: bool,
    /// The tenant's name for the primary caretaker.
    pub primary_label: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("a {0} needs a name")]
    NoName(&'static str),
    #[error("the name is longer than {SHORT_TEXT_MAX_CHARS} characters")]
    TooLong,
    #[error("two stages share the code {0}")]
    DuplicateStage(String),
    #[error("the deletion interval is at least one day")]
    NoDeletionInterval,
    #[error("the deletion interval is at most {MAX_DELETION_INTERVAL_DAYS} days")]
    DeletionIntervalTooLong,
    #[error(transparent)]
    WorkingTime(#[from] WorkingTimeError),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

fn checked_name(name: &str, what: &'static str) -> Result<String, CatalogueError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CatalogueError::NoName(what));
    }
    if name.chars().count() > SHORT_TEXT_MAX_CHARS {
        return Err(CatalogueError::TooLong);
    }
    Ok(name.to_owned())
}

impl Document<Catalogue> {
    pub fn create_catalogue(tenant: TenantId) -> Result<Self, CatalogueError> {
        Ok(Self::create(&Catalogue {
            tenant,
            programmes: BTreeMap::new(),
            sites: BTreeMap::new(),
            working_time: BTreeMap::new(),
            master_data_fields: BTreeMap::new(),
            filter_criteria: BTreeMap::new(),
            settings: Settings {
                deletion_interval_days: DEFAULT_DELETION_INTERVAL_DAYS,
                restrict_timeline_to_responsibles: false,
                primary_label: "Stammberater:in".into(),
            },
        })?)
    }

    /// "ORGANISATION → Aufträge": a programme must exist before anyone is enrolled in it.
    pub fn add_programme(
        &mut self,
        editor: &mut Editor,
        name: &str,
        programme_type: ProgrammeType,
        stages: Vec<StageDef>,
    ) -> Result<ProgrammeId, CatalogueError> {
        let name = checked_name(name, "programme")?;
        for (i, stage) in stages.iter().enumerate() {
            checked_name(&stage.code, "stage")?;
            if stages[..i].iter().any(|s| s.code == stage.code) {
                return Err(CatalogueError::DuplicateStage(stage.code.clone()));
            }
        }
        let id = ProgrammeId::new(editor.stamp().entity_id().as_str());
        let programme = Programme {
            name,
            programme_type,
            stages,
            working_time: BTreeMap::new(),
            primary_label: None,
            archived: false,
        };
        self.put(&["programmes"], id.as_str(), &programme)?;
        self.commit();
        Ok(id)
    }

    pub fn add_site(&mut self, editor: &mut Editor, name: &str) -> Result<SiteId, CatalogueError> {
        let site = Site {
            name: checked_name(name, "site")?,
        };
        let id = SiteId::new(editor.stamp().entity_id().as_str());
        self.put(&["sites"], id.as_str(), &site)?;
        self.commit();
        Ok(id)
    }

    pub fn add_master_data_field(
        &mut self,
        key: &str,
        label: &str,
        position: u64,
    ) -> Result<(), CatalogueError> {
        let field = MasterDataField {
            label: checked_name(label, "master-data field")?,
            position,
        };
        self.put(
            &["master_data_fields"],
            &checked_name(key, "field key")?,
            &field,
        )?;
        self.commit();
        Ok(())
    }

    pub fn add_filter_criterion(&mut self, key: &str, label: &str) -> Result<(), CatalogueError> {
        let label = checked_name(label, "filter criterion")?;
        self.put(
            &["filter_criteria"],
            &checked_name(key, "criterion key")?,
            label,
        )?;
        self.commit();
        Ok(())
    }

    pub fn set_deletion_interval(&mut self, days: u64) -> Result<(), CatalogueError> {
        if days == 0 {
            return Err(CatalogueError::NoDeletionInterval);
        }
        if days > MAX_DELETION_INTERVAL_DAYS {
            return Err(CatalogueError::DeletionIntervalTooLong);
        }
        self.put_field(&["settings"], "deletion_interval_days", days)?;
        self.commit();
        Ok(())
    }

    pub fn set_restrict_timeline(&mut self, on: bool) -> Result<(), CatalogueError> {
        self.put_field(&["settings"], "restrict_timeline_to_responsibles", on)?;
        self.commit();
        Ok(())
    }

    pub fn set_primary_label(&mut self, label: &str) -> Result<(), CatalogueError> {
        let label = checked_name(label, "label")?;
        self.put_field(&["settings"], "primary_label", label)?;
        self.commit();
        Ok(())
    }

    pub fn add_tenant_working_time_rule(
        &mut self,
        editor: &mut Editor,
        rule: WorkingTimeRule,
    ) -> Result<EntityId, CatalogueError> {
        check_new_rule(&rule, &self.read()?.working_time)?;
        let id = editor.stamp().entity_id();
        self.put(&["working_time"], id.as_str(), &rule)?;
        self.commit();
        Ok(id)
    }

    pub fn add_programme_working_time_rule(
        &mut self,
        editor: &mut Editor,
        programme: &ProgrammeId,
        rule: WorkingTimeRule,
    ) -> Result<EntityId, CatalogueError> {
        let catalogue = self.read()?;
        let existing = catalogue
            .programmes
            .get(programme)
            .ok_or(DocumentError::NoSuchEntity("programme"))?;
        check_new_rule(&rule, &existing.working_time)?;
        let id = editor.stamp().entity_id();
        self.put(
            &["programmes", programme.as_str(), "working_time"],
            id.as_str(),
            &rule,
        )?;
        self.commit();
        Ok(id)
    }

    /// Ends a tenant-level rule (`programme` is `None`) or a programme-level one.
    pub fn end_working_time_rule(
        &mut self,
        programme: Option<&ProgrammeId>,
        id: &EntityId,
        last_day: Date,
    ) -> Result<(), CatalogueError> {
        let catalogue = self.read()?;
        let level = match programme {
            None => &catalogue.working_time,
            Some(p) => {
                &catalogue
                    .programmes
                    .get(p)
                    .ok_or(DocumentError::NoSuchEntity("programme"))?
                    .working_time
            }
        };
        let rule = level
            .get(id)
            .ok_or(DocumentError::NoSuchEntity("working-time rule"))?;
        let valid = ended(rule, last_day)?;
        match programme {
            None => self.put_field(&["working_time", id.as_str()], "valid", valid)?,
            Some(p) => self.put_field(
                &["programmes", p.as_str(), "working_time", id.as_str()],
                "valid",
                valid,
            )?,
        }
        self.commit();
        Ok(())
    }
}
