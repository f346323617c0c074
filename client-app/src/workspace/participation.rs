//! The participation timeline ("Teilnahmeverlauf") and the tenant catalogue it needs:
//! reading a person's timelines folded by the conflict rules, recording assistant
//! actions (only what the assistant allows in the current state), the hand-edited fields,
//! working-time rules on three levels and the vacation ledger.
//!
//! Two people offline may each start a person's timeline, or two admins each a catalogue:
//! nothing is merged away. Every timeline of a person is shown, and the catalogue is the
//! union of the tenant's catalogue documents.

use std::collections::BTreeMap;
use std::sync::Arc;

use conflict_rules::assistant::{self, AssistantError, Rejection};
use conflict_rules::notice::Notice;
use conflict_rules::timeline::{TimelineView, fold_timeline};
use model::catalogue::{Catalogue, Programme, Site};
use model::timeline::{ActionKind, ProgrammeType, StageDef, Timeline};
use model::working_time::WorkingTimeRule;
use model::{
    Date, Document, DocumentId, EntityId, ParticipationId, ProgrammeId, SiteId, TenantId, UserId,
};

use super::{WorkError, Workspace};
use crate::rows::Row;

/// The merged catalogue, with what it was read from.
#[derive(Debug)]
pub(super) struct CachedCatalogue {
    /// The catalogue documents and their generations when it was read.
    read_at: Vec<(String, u64)>,
    view: Arc<CatalogueView>,
}

/// The tenant's catalogue as this device knows it.
#[derive(Debug, Clone, Default)]
pub struct CatalogueView {
    /// The catalogue documents, oldest id first; admins write to the first.
    pub docs: Vec<String>,
    pub programmes: BTreeMap<ProgrammeId, Programme>,
    pub sites: BTreeMap<SiteId, Site>,
    /// Tenant-level working-time rules.
    pub working_time: BTreeMap<EntityId, WorkingTimeRule>,
    /// The tenant's name for the primary caretaker.
    pub primary_label: Option<String>,
    /// "Stammdaten" fields and filter criteria the tenant defined.
    pub master_data_fields: BTreeMap<String, model::catalogue::MasterDataField>,
    pub filter_criteria: BTreeMap<String, String>,
    /// The tenant's settings (deletion interval, timeline restriction), from the
    /// catalogue document admins write to; none before there is one.
    pub settings: Option<model::catalogue::Settings>,
}

impl CatalogueView {
    pub fn site_name(&self, site: Option<&SiteId>) -> Option<&str> {
        site.and_then(|s| self.sites.get(s))
            .map(|s| s.name.as_str())
    }

    /// Programmes that can be chosen: not archived, by name.
    pub fn choosable(&self) -> Vec<(&ProgrammeId, &Programme)> {
        let mut found: Vec<_> = self
            .programmes
            .iter()
            .filter(|(_, p)| !p.archived)
            .collect();
        found.sort_by_cached_key(|(id, p)| (p.name.to_lowercase(), (*id).clone()));
        found
    }
}

/// The hand-edited fields of a participation, as the form has them.
#[derive(Debug, Clone)]
pub struct ParticipationEdit {
    pub remarks: String,
    pub cost_bearer: String,
    pub contact: String,
    pub funding: model::Period,
    pub type_specific: Option<model::timeline::TypeSpecific>,
}

/// One timeline document of a person, folded.
#[derive(Debug, Clone)]
pub struct TimelineRead {
    pub doc: String,
    pub timeline: Timeline,
    pub view: TimelineView,
    /// Notices that concern this user and are not yet acknowledged.
    pub notices: Vec<Notice>,
}

/// What the assistant says when it cannot do something, in German.
pub fn refusal(error: &AssistantError) -> String {
    match error {
        AssistantError::Input(e) => crate::german::timeline_error(e),
        AssistantError::Rejected(rejection) => rejection_text(rejection),
        AssistantError::WouldUndo(undone) => format!(
            "So datiert würde dieser Schritt {} spätere(n) Schritt(e) aufheben; bitte ein späteres Datum wählen",
            undone.len()
        ),
        AssistantError::Overtaken { later, not_before } => format!(
            "So datiert läge dieser Schritt vor {} späteren Schritt(en) dieser Teilnahme, die ihn verändern würden; bitte {} wählen",
            later.len().max(1),
            match not_before {
                Some(date) => format!("ein Datum ab dem {}", date.german()),
                None => "ein späteres Datum".to_owned(),
            }
        ),
        AssistantError::Document(_) => "Der Teilnahmeverlauf ist beschädigt".into(),
    }
}

/// Why an action did not apply (the assistant's refusal, or a notice after a merge).
pub fn rejection_text(rejection: &Rejection) -> String {
    match rejection {
        Rejection::UnknownParticipation => "Diese Teilnahme gibt es nicht".into(),
        Rejection::Removed => "Die Teilnahme wurde entfernt".into(),
        Rejection::AlreadyExists => "Diese Teilnahme gibt es schon".into(),
        Rejection::NotAllowed { status } => {
            format!("Im Status „{}“ ist das nicht möglich", status.german())
        }
        Rejection::DifferentProgrammeType => {
            "Umbuchen geht nur in eine Maßnahme gleichen Typs".into()
        }
        Rejection::NoStages => "Diese Maßnahme hat keine Qualifizierungsstufen".into(),
        Rejection::UnknownStage => "Diese Stufe gehört nicht zur Maßnahme".into(),
        Rejection::UnknownSection => "Diesen Abschnitt gibt es nicht".into(),
        Rejection::BeforeSectionStart => {
            "Der aktuelle Abschnitt würde enden, bevor er begonnen hat".into()
        }
        Rejection::Transferred => {
            "Die Teilnahme wurde umgebucht; die Folgemaßnahme führt sie fort".into()
        }
    }
}

impl Workspace {
    /// The tenant catalogue: every catalogue document this device holds, merged. Kept
    /// until a catalogue document changes, because screens ask for it every frame.
    pub fn catalogue(&self) -> Arc<CatalogueView> {
        let docs = self.docs_where(|row| matches!(row, Row::Catalogue));
        let key: Vec<(String, u64)> = docs
            .iter()
            .map(|doc| (doc.clone(), self.generation_of(doc)))
            .collect();
        if let Some(cached) = &*self.catalogue_cache.borrow()
            && cached.read_at == key
        {
            return cached.view.clone();
        }
        let mut view = CatalogueView::default();
        for doc in docs {
            let Ok(catalogue) = self.read::<Catalogue>(&doc) else {
                continue;
            };
            view.programmes.extend(catalogue.programmes);
            view.sites.extend(catalogue.sites);
            view.working_time.extend(catalogue.working_time);
            view.master_data_fields.extend(catalogue.master_data_fields);
            view.filter_criteria.extend(catalogue.filter_criteria);
            view.settings.get_or_insert(catalogue.settings.clone());
            view.primary_label
                .get_or_insert(catalogue.settings.primary_label);
            view.docs.push(doc);
        }
        let view = Arc::new(view);
        *self.catalogue_cache.borrow_mut() = Some(CachedCatalogue {
            read_at: key,
            view: view.clone(),
        });
        view
    }

    /// Moves whenever a catalogue document or one of `person`'s timelines changes.
    pub fn timeline_generation(&self, person: &str) -> u64 {
        self.docs_where(|row| match row {
            Row::Catalogue => true,
            Row::Timeline { person: p } => p == person,
            _ => false,
        })
        .iter()
        .map(|doc| self.generation_of(doc) + 1)
        .sum()
    }

    /// Every timeline of `person`, oldest document id first, folded.
    pub fn timelines(&self, person: &str) -> Vec<TimelineRead> {
        let me = UserId::new(self.me());
        self.docs_where(|row| matches!(row, Row::Timeline { person: p } if p == person))
            .into_iter()
            .filter_map(|doc| {
                let timeline = self.read::<Timeline>(&doc).ok()?;
                let (view, notices) = fold_timeline(&timeline);
                let notices = notices
                    .into_iter()
                    .filter(|n| n.is_pending_for(&me))
                    .collect();
                Some(TimelineRead {
                    doc,
                    timeline,
                    view,
                    notices,
                })
            })
            .collect()
    }

    fn docs_where(&self, wanted: impl Fn(&Row) -> bool) -> Vec<String> {
        self.rows
            .iter()
            .filter(|(_, row)| wanted(row))
            .map(|(doc, _)| doc.clone())
            .collect()
    }

    /// Records an assistant action on `doc` (for an enrolment, `None`: the person's
    /// first timeline, started here if there is none). Returns the timeline document and
    /// the action's id (an enrolment's id is the new participation's).
    pub fn assist(
        &mut self,
        person: &str,
        doc: Option<&str>,
        participation: Option<&ParticipationId>,
        business_date: Date,
        kind: ActionKind,
    ) -> Result<(String, EntityId), WorkError> {
        let doc = match doc {
            Some(doc) => doc.to_owned(),
            None => self.timeline_of(person)?,
        };
        let action = self.edit_with::<Timeline, _>(&doc, |typed, editor| {
            assistant::apply(typed, editor, participation, business_date, kind)
                .map_err(|e| WorkError::Invalid(refusal(&e)))
        })?;
        Ok((doc, action))
    }

    /// The person's first timeline document, started now if there is none yet.
    pub fn timeline_of(&mut self, person: &str) -> Result<String, WorkError> {
        if let Some(doc) = self
            .docs_where(|row| matches!(row, Row::Timeline { person: p } if p == person))
            .into_iter()
            .next()
        {
            return Ok(doc);
        }
        let person_id: DocumentId = person.parse().map_err(|_| WorkError::Missing)?;
        let id = self.new_id()?;
        let tenant = TenantId::new(self.profile.tenant.clone());
        let typed =
            Document::<Timeline>::create_timeline(tenant, person_id).map_err(model::Error::from)?;
        self.create(&id, typed, Some(person))?;
        Ok(id.to_string())
    }

    /// The catalogue document an admin writes to, started now if there is none yet.
    fn catalogue_for_writing(&mut self) -> Result<String, WorkError> {
        if !self.is_admin() {
            return Err(WorkError::Invalid(
                "Nur Administrator:innen pflegen die Aufträge".into(),
            ));
        }
        if let Some(doc) = self.catalogue().docs.first().cloned() {
            return Ok(doc);
        }
        let id = self.new_id()?;
        let tenant = TenantId::new(self.profile.tenant.clone());
        let typed = Document::<Catalogue>::create_catalogue(tenant).map_err(model::Error::from)?;
        self.create(&id, typed, None)?;
        Ok(id.to_string())
    }

    /// "Löschintervall (Tage)": how long a person marked deleted is kept before the
    /// purge; at least one day.
    pub fn set_deletion_interval(&mut self, days: u64) -> Result<(), WorkError> {
        if days == 0 {
            return Err(WorkError::Invalid(
                "Das Löschintervall beträgt mindestens 1 Tag".into(),
            ));
        }
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, _| Ok(d.set_deletion_interval(days)?))
    }

    /// Whether only staff with a valid responsibility read a person's timeline.
    pub fn set_timeline_restriction(&mut self, on: bool) -> Result<(), WorkError> {
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, _| Ok(d.set_restrict_timeline(on)?))
    }

    /// "ORGANISATION→Aufträge": a new programme.
    pub fn add_programme(
        &mut self,
        name: &str,
        programme_type: ProgrammeType,
        stages: Vec<StageDef>,
    ) -> Result<ProgrammeId, WorkError> {
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, e| {
            Ok(d.add_programme(e, name, programme_type, stages)?)
        })
    }

    /// A master-data field ("Stammdaten") every person's profile offers; its key is
    /// derived from the label.
    pub fn add_master_data_field(&mut self, label: &str) -> Result<(), WorkError> {
        let key = key_of(label)?;
        let position = self.catalogue().master_data_fields.len() as u64;
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, _| {
            Ok(d.add_master_data_field(&key, label.trim(), position)?)
        })
    }

    /// A filter criterion people can be marked with.
    pub fn add_filter_criterion(&mut self, label: &str) -> Result<(), WorkError> {
        let key = key_of(label)?;
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, _| Ok(d.add_filter_criterion(&key, label.trim())?))
    }

    /// A site ("Standort") of the tenant.
    pub fn add_site(&mut self, name: &str) -> Result<SiteId, WorkError> {
        let doc = self.catalogue_for_writing()?;
        self.edit::<Catalogue, _>(&doc, |d, e| Ok(d.add_site(e, name)?))
    }

    /// A working-time rule of the tenant (`programme: None`) or of a programme.
    pub fn add_catalogue_working_time(
        &mut self,
        programme: Option<&ProgrammeId>,
        rule: WorkingTimeRule,
    ) -> Result<EntityId, WorkError> {
        let doc = match programme {
            None => self.catalogue_for_writing()?,
            Some(p) => self
                .catalogue()
                .docs
                .iter()
                .find(|doc| {
                    self.read::<Catalogue>(doc)
                        .is_ok_and(|c| c.programmes.contains_key(p))
                })
                .cloned()
                .ok_or(WorkError::Missing)?,
        };
        self.edit::<Catalogue, _>(&doc, |d, e| match programme {
            None => Ok(d.add_tenant_working_time_rule(e, rule)?),
            Some(p) => Ok(d.add_programme_working_time_rule(e, p, rule)?),
        })
    }

    /// A rule of the person's own level.
    pub fn add_participant_working_time(
        &mut self,
        person: &str,
        rule: WorkingTimeRule,
    ) -> Result<EntityId, WorkError> {
        let doc = self.timeline_of(person)?;
        self.edit::<Timeline, _>(&doc, |d, e| Ok(d.add_working_time_rule(e, rule)?))
    }

    /// A rule of the person's level ends on `last_day`, so a new one can follow.
    pub fn end_participant_working_time(
        &mut self,
        doc: &str,
        rule: &EntityId,
        last_day: Date,
    ) -> Result<(), WorkError> {
        self.edit::<Timeline, _>(doc, |d, _| Ok(d.end_working_time_rule(rule, last_day)?))
    }

    /// A line of the vacation ledger: an entitlement, or a credit or deduction of one.
    pub fn add_vacation(
        &mut self,
        doc: &str,
        entry: model::vacation::VacationEntry,
    ) -> Result<EntityId, WorkError> {
        self.edit::<Timeline, _>(doc, |d, e| Ok(d.add_vacation_entry(e, entry)?))
    }

    /// The user has read a notice of a timeline; it is not shown to them again.
    pub fn acknowledge_timeline(&mut self, doc: &str, notice: &str) -> Result<(), WorkError> {
        self.edit::<Timeline, _>(doc, |d, e| Ok(d.acknowledge(e, notice)?))
    }

    /// The hand-edited fields of a participation: "Bemerkungen", "Kostenträger",
    /// "Ansprechpartner beim Kostenträger", "Förderzeitraum", and the programme type's
    /// own ones.
    pub fn set_participation_details(
        &mut self,
        doc: &str,
        participation: &ParticipationId,
        edit: &ParticipationEdit,
    ) -> Result<(), WorkError> {
        self.edit::<Timeline, _>(doc, |d, _| {
            d.set_remarks(participation, &edit.remarks)?;
            d.set_cost_bearer(participation, &edit.cost_bearer, &edit.contact)?;
            d.set_funding_period(participation, edit.funding)?;
            if let Some(fields) = &edit.type_specific {
                d.set_type_specific(participation, fields)?;
            }
            Ok(())
        })
    }

    /// A new editor stamp's author, for rules and ledger lines made here.
    pub fn new_stamp(&mut self) -> (model::Stamp, UserId) {
        (self.editor.stamp(), self.editor.user().clone())
    }
}

/// A stable key from a label: lower case, letters and digits, dashes between.
fn key_of(label: &str) -> Result<String, WorkError> {
    let key = label
        .trim()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if key.is_empty() {
        Err(WorkError::Invalid("Bitte eine Bezeichnung angeben".into()))
    } else {
        Ok(key)
    }
}
