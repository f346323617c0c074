//! The participation timeline (Qualli.life "Teilnahmeverlauf"): a person's participations
//! in programmes, recorded as [`AssistantAction`]s, plus the fields that are edited by hand,
//! the person's working-time rules and vacation ledger.
//!
//! The document stores what people did, never a status. `conflict-rules` replays the
//! actions in the order (business date, stamp, id) through the status machine and derives
//! the status and sections every screen shows.
//!
//! The file is long because it is one document kind, its schema and its mutations;
//! working time and vacation, which have rules of their own, are modules of their own.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use crate::clock::Stamp;
use crate::date::{Date, Period};
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{DocumentId, EntityId, ParticipationId, ProgrammeId, SectionId, SiteId, TenantId};
use crate::vacation::{VacationEntry, VacationError};
use crate::working_time::{WorkingTimeError, WorkingTimeRule};

/// Longest free text of a timeline field (a remark, a reason, a section name).
pub const TIMELINE_TEXT_MAX_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Timeline {
    pub tenant: TenantId,
    /// The client record of the person.
    pub person: DocumentId,
    pub actions: BTreeMap<EntityId, AssistantAction>,
    /// The hand-edited fields of each participation, created with it.
    pub details: BTreeMap<ParticipationId, ParticipationDetails>,
    /// Participant-level working-time rules.
    pub working_time: BTreeMap<EntityId, WorkingTimeRule>,
    pub vacation: BTreeMap<EntityId, VacationEntry>,
    /// Keys are `notice-id|user-id`, as in the client record.
    pub acknowledgements: BTreeMap<String, Stamp>,
    /// Written by settling: whether each action applied, for consumers that do not run
    /// the conflict rules themselves.
    pub outcomes: BTreeMap<EntityId, ActionOutcome>,
}

impl Schema for Timeline {
    const KIND: DocKind = DocKind::Timeline;
}

/// Programme types of the German Federal Employment Agency that the manual names, and
/// room for the tenant's own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub enum ProgrammeType {
    /// Berufsvorbereitende Bildungsmaßnahme, incl. BvB-Reha.
    BvB,
    /// Ausbildungsbegleitende Hilfen.
    AbH,
    /// Arbeitsgelegenheiten.
    Agh,
    /// Berufsausbildung in außerbetrieblichen Einrichtungen.
    BaE,
    /// Außerbetriebliche Ausbildung (AuW).
    AuW,
    /// Berufseinstiegsbegleitung.
    BerEb,
    /// Deutsch-Test für Zuwanderer.
    Dtz,
    Other(String),
}

impl ProgrammeType {
    /// The short name the assistant shows ("in eine andere BvB-Maßnahme umbuchen").
    pub fn short(&self) -> &str {
        match self {
            ProgrammeType::BvB => "BvB",
            ProgrammeType::AbH => "abH",
            ProgrammeType::Agh => "AGH",
            ProgrammeType::BaE => "BaE",
            ProgrammeType::AuW => "AuW",
            ProgrammeType::BerEb => "BerEb",
            ProgrammeType::Dtz => "DTZ",
            ProgrammeType::Other(name) => name,
        }
    }
}

/// A qualification stage ("Qualifizierungsstufe").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct StageDef {
    /// The short form the timeline shows, e.g. `EA`.
    pub code: String,
    pub name: String,
}

impl StageDef {
    pub fn new(code: &str, name: &str) -> Self {
        Self {
            code: code.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The BvB stages of the manual.
    pub fn bvb() -> Vec<StageDef> {
        vec![
            StageDef::new("EA", "Eignungsanalyse"),
            StageDef::new("GS", "Grundstufe"),
            StageDef::new("FS", "Förderstufe"),
            StageDef::new("ÜQ", "Übergangsqualifizierung"),
            StageDef::new("ST", "Stabilisierungsstufe"),
        ]
    }
}

/// What an action knew of the programme when it was recorded, so that the fold needs no
/// other document to check "a programme of the same type" or "a stage of this programme".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct ProgrammeSnapshot {
    pub id: ProgrammeId,
    pub name: String,
    pub programme_type: ProgrammeType,
    /// Empty when the programme has no stages.
    pub stages: Vec<StageDef>,
}

impl ProgrammeSnapshot {
    pub fn has_stage(&self, code: &str) -> bool {
        self.stages.iter().any(|s| s.code == code)
    }
}

/// "Maßnahmeergebnis".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct ParticipationResult {
    pub outcome: String,
    pub remarks: String,
}

/// An interruption section ("Unterbrechungsabschnitt").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct Interruption {
    pub reason: String,
    pub planned: Period,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct Enrolment {
    pub programme: ProgrammeSnapshot,
    /// The entry stage, for programmes with stages.
    pub stage: Option<String>,
    /// Left empty, the section is called "Teilnahme" or "Warteliste".
    pub section_name: Option<String>,
    pub site: Option<SiteId>,
    pub funding_period: Period,
    pub planned_period: Period,
    /// The actual entry; empty while it is unknown or in the future.
    pub entry_date: Option<Date>,
    pub waiting_list: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct Transfer {
    /// The new participation; filled in when the action is recorded.
    pub successor: ParticipationId,
    pub programme: ProgrammeSnapshot,
    pub stage: Option<String>,
    pub site: Option<SiteId>,
    pub funding_period: Period,
    pub planned_period: Period,
    /// "Teilnehmer schnell umbuchen": no result now, it can be recorded later.
    pub quick: bool,
    pub result: Option<ParticipationResult>,
}

/// A correction of a section by hand: name, site and dates, never the status. Only the
/// fields given change, so a correction never undoes what someone else did to the other
/// fields meanwhile (a stage change that closed the section, say).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct SectionCorrection {
    pub section: SectionId,
    pub name: Option<String>,
    pub site: Option<SiteId>,
    pub actual_start: Option<Date>,
    pub planned_end: Option<Date>,
    pub actual_end: Option<Date>,
}

/// What the assistant ("Assistent für Maßnahmeänderungen") can do. The business date of
/// the action is the day it takes effect: the entry, the last day, the re-entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum ActionKind {
    /// "Teilnehmer in eine neue Maßnahme einbuchen".
    Enrol(Enrolment),
    /// Waiting list to active.
    Activate {
        section_name: Option<String>,
        site: Option<SiteId>,
    },
    /// "in eine andere XXX-Maßnahme umbuchen": this one ends on the day before, the
    /// successor starts on the business date and carries the documentation on.
    Transfer(Transfer),
    /// "Beendigung der Maßnahme"; the business date is the last day.
    End { result: ParticipationResult },
    /// "Abbruch der Maßnahme"; the business date is the last day.
    Abort { result: ParticipationResult },
    /// "Aussetzung der Maßnahme"; the business date is the current section's last day.
    Suspend { interruption: Option<Interruption> },
    /// "Teilnehmer setzt die aktuelle Maßnahme fort"; the business date is the re-entry.
    Resume {
        section_name: Option<String>,
        site: Option<SiteId>,
        planned_exit: Option<Date>,
        interruption: Option<Interruption>,
    },
    /// "Teilnehmer aus der Maßnahme entfernen": error correction, deletes everything.
    /// Like every correction it is not dated: it applies after all dated actions.
    Remove,
    /// "Aktuelle Maßnahme korrigieren".
    CorrectProgramme { programme: ProgrammeSnapshot },
    /// "Eintritt korrigieren".
    CorrectEntry { entry_date: Date },
    /// "Abschnittswechsel durchführen": the current stage ends the day before the business
    /// date, the new one starts on it.
    ChangeStage {
        stage: String,
        site: Option<SiteId>,
        planned_end: Option<Date>,
    },
    /// "Abschnitt korrigieren".
    CorrectSection(SectionCorrection),
    /// The result of an ended participation, recorded later ("nacherfassen").
    RecordResult { result: ParticipationResult },
}

impl ActionKind {
    /// Corrections and removal fix mistakes whatever their date ("any" in the status
    /// table): they apply after every dated action, in stamp order, so that removing a
    /// participation entered for next month works today.
    pub fn is_correction(&self) -> bool {
        matches!(
            self,
            ActionKind::Remove
                | ActionKind::CorrectProgramme { .. }
                | ActionKind::CorrectEntry { .. }
                | ActionKind::CorrectSection(_)
        )
    }

    /// A stable, language-neutral name, used in notices and tests.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::Enrol(e) if e.waiting_list => "enrol-waiting-list",
            ActionKind::Enrol(_) => "enrol",
            ActionKind::Activate { .. } => "activate",
            ActionKind::Transfer(t) if t.quick => "quick-transfer",
            ActionKind::Transfer(_) => "transfer",
            ActionKind::End { .. } => "end",
            ActionKind::Abort { .. } => "abort",
            ActionKind::Suspend { .. } => "suspend",
            ActionKind::Resume { .. } => "resume",
            ActionKind::Remove => "remove",
            ActionKind::CorrectProgramme { .. } => "correct-programme",
            ActionKind::CorrectEntry { .. } => "correct-entry",
            ActionKind::ChangeStage { .. } => "change-stage",
            ActionKind::CorrectSection(_) => "correct-section",
            ActionKind::RecordResult { .. } => "record-result",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub struct AssistantAction {
    pub participation: ParticipationId,
    pub business_date: Date,
    pub stamp: Stamp,
    pub author: crate::ids::UserId,
    pub kind: ActionKind,
}

/// Fields of a participation that are edited by hand rather than through the assistant.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct ParticipationDetails {
    pub remarks: Text,
    /// "Kostenträger".
    pub cost_bearer: String,
    /// "Ansprechpartner beim Kostenträger".
    pub cost_bearer_contact: String,
    /// "Förderzeitraum".
    pub funding_period: Period,
    /// Registered through the BA interface; read-only, written by the server.
    pub ba_registered: bool,
    pub type_specific: TypeSpecific,
}

/// "Maßnahmetypspezifische Angaben". Every part exists from the participation's first
/// change on, empty, so that two people filling in the same part offline edit one map
/// rather than each creating their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct TypeSpecific {
    pub agh: AghDefaults,
    pub abh: AbhInfo,
    pub previous_bvb: PreviousBvb,
    pub dtz: DtzTest,
}

/// AGH defaults, used when a work opportunity is created and in the monthly billing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct AghDefaults {
    pub hours_per_week_hundredths: u64,
    /// "Mehraufwandsentschädigung" per hour, in cents.
    pub allowance_cents_per_hour: u64,
    pub activity: String,
}

/// abH: target hours for the progress record ("Soll-Stunden").
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct AbhInfo {
    pub target_hours: u64,
}

/// BaE and AuW: whether the person attended a BvB before, and for how long.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct PreviousBvb {
    pub attended: bool,
    pub months: u64,
}

/// DTZ: what is reported to the BAMF.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct DtzTest {
    pub test_date: Option<Date>,
    pub level: String,
    pub bamf_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct ActionOutcome {
    pub applied: bool,
    /// Why it did not apply, as a stable code.
    pub reason: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("a period ends before it starts")]
    InvalidPeriod,
    #[error("the {0} is longer than {TIMELINE_TEXT_MAX_CHARS} characters")]
    TooLong(&'static str),
    #[error("the {0} needs some text")]
    Empty(&'static str),
    #[error("an enrolment starts a new participation and names none")]
    EnrolmentNamesParticipation,
    #[error("this action needs the participation it acts on")]
    NoParticipation,
    #[error("no participation with this id")]
    UnknownParticipation,
    #[error("the stage {0} is not a stage of the programme")]
    UnknownStage(String),
    #[error("the programme has stages: choose the entry stage")]
    StageRequired,
    #[error("a transfer needs a result unless it is a quick transfer")]
    ResultRequired,
    #[error(transparent)]
    WorkingTime(#[from] WorkingTimeError),
    #[error(transparent)]
    Vacation(#[from] VacationError),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

fn check_text(text: &str, what: &'static str) -> Result<(), TimelineError> {
    if text.chars().count() > TIMELINE_TEXT_MAX_CHARS {
        return Err(TimelineError::TooLong(what));
    }
    Ok(())
}

fn check_period(period: &Period) -> Result<(), TimelineError> {
    if period.is_valid() {
        Ok(())
    } else {
        Err(TimelineError::InvalidPeriod)
    }
}

fn check_result(result: &ParticipationResult) -> Result<(), TimelineError> {
    if result.outcome.trim().is_empty() {
        return Err(TimelineError::Empty("result"));
    }
    check_text(&result.outcome, "result")?;
    check_text(&result.remarks, "remarks")
}

fn check_interruption(interruption: &Option<Interruption>) -> Result<(), TimelineError> {
    if let Some(interruption) = interruption {
        if interruption.reason.trim().is_empty() {
            return Err(TimelineError::Empty("reason of the interruption"));
        }
        check_text(&interruption.reason, "reason")?;
        check_period(&interruption.planned)?;
    }
    Ok(())
}

fn check_stage(programme: &ProgrammeSnapshot, stage: &Option<String>) -> Result<(), TimelineError> {
    match stage {
        Some(code) if !programme.has_stage(code) => Err(TimelineError::UnknownStage(code.clone())),
        None if !programme.stages.is_empty() => Err(TimelineError::StageRequired),
        _ => Ok(()),
    }
}

/// Checks what can be checked of an action without knowing the participation's state:
/// the shape of its input. Whether it is valid in the current status is the assistant's
/// question, answered in `conflict-rules`.
pub fn check_action_input(kind: &ActionKind) -> Result<(), TimelineError> {
    match kind {
        ActionKind::Enrol(e) => {
            check_period(&e.funding_period)?;
            check_period(&e.planned_period)?;
            check_stage(&e.programme, &e.stage)?;
            check_text(e.section_name.as_deref().unwrap_or(""), "section name")
        }
        ActionKind::Activate { section_name, .. } => {
            check_text(section_name.as_deref().unwrap_or(""), "section name")
        }
        ActionKind::Transfer(t) => {
            check_period(&t.funding_period)?;
            check_period(&t.planned_period)?;
            check_stage(&t.programme, &t.stage)?;
            match (&t.result, t.quick) {
                (Some(result), _) => check_result(result),
                (None, true) => Ok(()),
                (None, false) => Err(TimelineError::ResultRequired),
            }
        }
        ActionKind::End { result }
        | ActionKind::Abort { result }
        | ActionKind::RecordResult { result } => check_result(result),
        ActionKind::Suspend { interruption } => check_interruption(interruption),
        ActionKind::Resume {
            section_name,
            interruption,
            ..
        } => {
            check_text(section_name.as_deref().unwrap_or(""), "section name")?;
            check_interruption(interruption)
        }
        ActionKind::Remove | ActionKind::CorrectEntry { .. } => Ok(()),
        ActionKind::CorrectProgramme { programme } => check_text(&programme.name, "programme name"),
        ActionKind::ChangeStage { stage, .. } => {
            if stage.trim().is_empty() {
                Err(TimelineError::Empty("stage"))
            } else {
                Ok(())
            }
        }
        ActionKind::CorrectSection(c) => {
            check_text(c.name.as_deref().unwrap_or(""), "section name")?;
            if let (Some(start), Some(end)) = (c.actual_start, c.actual_end)
                && end < start
            {
                return Err(TimelineError::InvalidPeriod);
            }
            Ok(())
        }
    }
}

impl Document<Timeline> {
    pub fn create_timeline(tenant: TenantId, person: DocumentId) -> Result<Self, TimelineError> {
        Ok(Self::create(&Timeline {
            tenant,
            person,
            actions: BTreeMap::new(),
            details: BTreeMap::new(),
            working_time: BTreeMap::new(),
            vacation: BTreeMap::new(),
            acknowledgements: BTreeMap::new(),
            outcomes: BTreeMap::new(),
        })?)
    }

    /// Records an assistant action, after checking its input. An enrolment names no
    /// participation: it starts one, whose id is the action's. A transfer's successor gets
    /// an id of its own. Returns the action's id.
    ///
    /// This does not ask whether the action is valid in the current status: use
    /// `conflict_rules::assistant::apply`, which does, and then calls this.
    pub fn record_action(
        &mut self,
        editor: &mut Editor,
        participation: Option<&ParticipationId>,
        business_date: Date,
        mut kind: ActionKind,
    ) -> Result<EntityId, TimelineError> {
        check_action_input(&kind)?;
        let timeline = self.read()?;
        editor.observe(timeline.actions.values().map(|a| &a.stamp));
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let participation = match (&kind, participation) {
            (ActionKind::Enrol(_), None) => id.clone(),
            (ActionKind::Enrol(_), Some(_)) => {
                return Err(TimelineError::EnrolmentNamesParticipation);
            }
            (_, None) => return Err(TimelineError::NoParticipation),
            (_, Some(p)) if !timeline.details.contains_key(p) => {
                return Err(TimelineError::UnknownParticipation);
            }
            (_, Some(p)) => p.clone(),
        };
        let new_details = match &mut kind {
            ActionKind::Enrol(e) => Some((participation.clone(), e.funding_period)),
            ActionKind::Transfer(t) => {
                t.successor = EntityId::new(format!("{id}.next"));
                Some((t.successor.clone(), t.funding_period))
            }
            _ => None,
        };
        if let Some((pid, funding_period)) = new_details {
            let details = ParticipationDetails {
                remarks: Text::with_value(""),
                cost_bearer: String::new(),
                cost_bearer_contact: String::new(),
                funding_period,
                ba_registered: false,
                type_specific: TypeSpecific::default(),
            };
            self.put(&["details"], pid.as_str(), &details)?;
        }
        let action = AssistantAction {
            participation,
            business_date,
            stamp,
            author: editor.user().clone(),
            kind,
        };
        self.put(&["actions"], id.as_str(), &action)?;
        self.commit();
        Ok(id)
    }

    fn details_path<'a>(
        &self,
        participation: &'a ParticipationId,
    ) -> Result<[&'a str; 2], TimelineError> {
        if self.has(&["details"], participation.as_str()) {
            Ok(["details", participation.as_str()])
        } else {
            Err(TimelineError::UnknownParticipation)
        }
    }

    /// "Bemerkungen": merges character by character with concurrent edits.
    pub fn set_remarks(
        &mut self,
        participation: &ParticipationId,
        remarks: &str,
    ) -> Result<(), TimelineError> {
        check_text(remarks, "remarks")?;
        let path = self.details_path(participation)?;
        let timeline = self.read()?;
        let mut text = timeline
            .details
            .get(participation)
            .map(|d| d.remarks.clone())
            .ok_or(TimelineError::UnknownParticipation)?;
        text.update(remarks);
        self.put_field(&path, "remarks", &text)?;
        self.commit();
        Ok(())
    }

    pub fn set_cost_bearer(
        &mut self,
        participation: &ParticipationId,
        cost_bearer: &str,
        contact: &str,
    ) -> Result<(), TimelineError> {
        check_text(cost_bearer, "cost bearer")?;
        check_text(contact, "contact")?;
        let path = self.details_path(participation)?;
        self.put_field(&path, "cost_bearer", cost_bearer.trim())?;
        self.put_field(&path, "cost_bearer_contact", contact.trim())?;
        self.commit();
        Ok(())
    }

    pub fn set_funding_period(
        &mut self,
        participation: &ParticipationId,
        period: Period,
    ) -> Result<(), TimelineError> {
        check_period(&period)?;
        let path = self.details_path(participation)?;
        self.put_field(&path, "funding_period", period)?;
        self.commit();
        Ok(())
    }

    pub fn set_type_specific(
        &mut self,
        participation: &ParticipationId,
        fields: &TypeSpecific,
    ) -> Result<(), TimelineError> {
        let path = self.details_path(participation)?;
        let [a, b] = path;
        let base = [a, b, "type_specific"];
        self.put_field(&base, "agh", &fields.agh)?;
        self.put_field(&base, "abh", &fields.abh)?;
        self.put_field(&base, "previous_bvb", &fields.previous_bvb)?;
        self.put_field(&base, "dtz", &fields.dtz)?;
        self.commit();
        Ok(())
    }

    /// Written by the server only, from the BA interface.
    pub fn set_ba_registered(
        &mut self,
        participation: &ParticipationId,
        registered: bool,
    ) -> Result<(), TimelineError> {
        let path = self.details_path(participation)?;
        self.put_field(&path, "ba_registered", registered)?;
        self.commit();
        Ok(())
    }

    /// Adds a participant-level working-time rule; refuses one whose validity overlaps
    /// an existing rule, because rules are never overwritten.
    pub fn add_working_time_rule(
        &mut self,
        editor: &mut Editor,
        rule: WorkingTimeRule,
    ) -> Result<EntityId, TimelineError> {
        let timeline = self.read()?;
        crate::working_time::check_new_rule(&rule, &timeline.working_time)?;
        let id = editor.stamp().entity_id();
        self.put(&["working_time"], id.as_str(), &rule)?;
        self.commit();
        Ok(id)
    }

    /// Ends a rule on its last day, so a new one can follow. Only shortens.
    pub fn end_working_time_rule(
        &mut self,
        id: &EntityId,
        last_day: Date,
    ) -> Result<(), TimelineError> {
        let timeline = self.read()?;
        let rule = timeline
            .working_time
            .get(id)
            .ok_or(DocumentError::NoSuchEntity("working-time rule"))?;
        let valid = crate::working_time::ended(rule, last_day)?;
        self.put_field(&["working_time", id.as_str()], "valid", valid)?;
        self.commit();
        Ok(())
    }

    pub fn add_vacation_entry(
        &mut self,
        editor: &mut Editor,
        entry: VacationEntry,
    ) -> Result<EntityId, TimelineError> {
        let timeline = self.read()?;
        crate::vacation::check_entry(&entry, &timeline.vacation)?;
        let id = editor.stamp().entity_id();
        self.put(&["vacation"], id.as_str(), &entry)?;
        self.commit();
        Ok(id)
    }

    pub fn acknowledge(&mut self, editor: &mut Editor, notice: &str) -> Result<(), TimelineError> {
        let stamp = editor.stamp();
        let key = crate::client_record::acknowledgement_key(notice, editor.user());
        self.put(&["acknowledgements"], &key, &stamp)?;
        self.commit();
        Ok(())
    }

    /// Settling: records whether actions applied. Writes only outcomes that differ from
    /// what is stored, so writing the same outcomes twice changes nothing. Returns whether
    /// it wrote anything.
    pub fn write_outcomes(
        &mut self,
        outcomes: &BTreeMap<EntityId, ActionOutcome>,
    ) -> Result<bool, TimelineError> {
        let stored = self.read()?.outcomes;
        let mut wrote = false;
        for (id, outcome) in outcomes {
            if stored.get(id) != Some(outcome) {
                self.put(&["outcomes"], id.as_str(), outcome)?;
                wrote = true;
            }
        }
        if wrote {
            self.commit();
        }
        Ok(wrote)
    }
}

#[cfg(test)]
mod tests;
