//! The participation status machine, exactly as the participation manual's table: one
//! [`step`] per assistant action, which either applies it to the state a timeline has
//! reached or says why it cannot ([`Rejection`]), and [`ordered`], the order in which the
//! actions of a timeline apply. The fold ([`crate::timeline`]) replays every action
//! through it; the assistant ([`crate::assistant`]) runs the fold before it records one.
//!
//! # Dates and order
//! Actions apply in the order (business date, stamp, id); corrections and removal are not
//! dated and apply after all dated actions, in stamp order. The business date of an action
//! is the day it takes effect. End, abort and suspend end the current section on that day
//! (its last day). Activation, a stage change, a transfer and resuming start a new section
//! on that day and end the previous one the day before; a participation section cannot end
//! before it started (two stage changes on one day are refused), while a waiting-list or
//! interruption section may last no day at all. An action recorded (by stamp) after steps
//! dated later than it, typically offline, is still placed by its date, before them: they
//! apply after it or no longer at all, and the fold tells its author what it overtook
//! ([`crate::notice::NoticeKind::OvertookLaterSteps`]); the assistant refuses to record
//! such an action on a replica that has the later steps. Resuming an ended or aborted
//! participation clears its result; the end or abort that recorded it stays applied in the
//! history.

use std::collections::BTreeMap;

use model::timeline::{
    ActionKind, AssistantAction, Interruption, ParticipationResult, ProgrammeSnapshot,
};
use model::{Date, EntityId, ParticipationId, SectionId, SiteId, Stamp};

/// The status of a participation ("Teilnahmestatus").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    WaitingList,
    Active,
    Inactive,
    Ended,
    Aborted,
}

impl Status {
    pub fn german(self) -> &'static str {
        match self {
            Status::WaitingList => "Warteliste",
            Status::Active => "Aktiv",
            Status::Inactive => "Inaktiv",
            Status::Ended => "Beendet",
            Status::Aborted => "Abgebrochen",
        }
    }
}

/// Why an action did not apply. Stable codes, because settling stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    UnknownParticipation,
    Removed,
    AlreadyExists,
    NotAllowed {
        status: Status,
    },
    DifferentProgrammeType,
    NoStages,
    UnknownStage,
    UnknownSection,
    /// The current section would end before it started.
    BeforeSectionStart,
    /// The participation was transferred; its successor carries it on.
    Transferred,
}
impl Rejection {
    pub fn code(&self) -> String {
        match self {
            Rejection::UnknownParticipation => "unknown-participation".into(),
            Rejection::Removed => "removed".into(),
            Rejection::AlreadyExists => "already-exists".into(),
            Rejection::NotAllowed { status } => {
                format!("not-allowed-when-{}", status.german().to_lowercase())
            }
            Rejection::DifferentProgrammeType => "different-programme-type".into(),
            Rejection::NoStages => "no-stages".into(),
            Rejection::UnknownStage => "unknown-stage".into(),
            Rejection::UnknownSection => "unknown-section".into(),
            Rejection::BeforeSectionStart => "before-section-start".into(),
            Rejection::Transferred => "transferred".into(),
        }
    }
}

/// What kind of section this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    WaitingList,
    Participation,
    Interruption,
}

/// A section ("Maßnahmeabschnitt"). The status is the one the person had in it, shown by
/// its symbol; it is set by the assistant only, never corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub kind: SectionKind,
    pub name: String,
    pub stage: Option<String>,
    pub site: Option<SiteId>,
    pub actual_start: Option<Date>,
    pub planned_start: Option<Date>,
    pub planned_end: Option<Date>,
    pub actual_end: Option<Date>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub id: ParticipationId,
    pub programme: ProgrammeSnapshot,
    pub status: Status,
    pub entry_date: Option<Date>,
    pub planned_period: model::Period,
    pub sections: Vec<Section>,
    /// The section the person is in now: exactly one while active or on the waiting list,
    /// the interruption section (if any) while inactive, none once ended.
    pub current_section: Option<SectionId>,
    pub predecessor: Option<ParticipationId>,
    pub successor: Option<ParticipationId>,
    /// The participation whose documentation this one carries on (itself if none).
    pub documentation_of: ParticipationId,
    pub result: Option<ParticipationResult>,
    /// The actions that applied to it, in the order they applied.
    pub actions: Vec<EntityId>,
    /// The order of enrolment, for display.
    pub enrolled: (Date, Stamp),
}

impl Participation {
    pub fn current(&self) -> Option<&Section> {
        let id = self.current_section.as_ref()?;
        self.sections.iter().find(|s| &s.id == id)
    }

    fn current_mut(&mut self) -> Option<&mut Section> {
        let id = self.current_section.clone()?;
        self.sections.iter_mut().find(|s| s.id == id)
    }

    /// Whether the current section may end on `last_day`.
    fn can_close(&self, last_day: Date) -> Result<(), Rejection> {
        match self.current() {
            Some(s)
                if s.kind == SectionKind::Participation
                    && s.actual_end.is_none()
                    && s.actual_start.is_some_and(|start| last_day < start) =>
            {
                Err(Rejection::BeforeSectionStart)
            }
            _ => Ok(()),
        }
    }

    /// Ends the current section on `last_day`, if there is one still open. A waiting-list
    /// or interruption section that ends before it began lasted no day: it ends on its
    /// first.
    fn close_current(&mut self, last_day: Date) {
        if let Some(section) = self.current_mut()
            && section.actual_end.is_none()
        {
            let last_day = match (section.kind, section.actual_start) {
                (SectionKind::Participation, _) | (_, None) => last_day,
                (_, Some(start)) => last_day.max(start),
            };
            section.actual_end = Some(last_day);
        }
        self.current_section = None;
    }
    fn open(&mut self, section: Section) {
        self.current_section = Some(section.id.clone());
        self.sections.push(section);
    }

    fn last_site(&self) -> Option<SiteId> {
        self.sections.iter().rev().find_map(|s| s.site.clone())
    }

    fn last_stage(&self) -> Option<String> {
        self.sections.iter().rev().find_map(|s| s.stage.clone())
    }
}

/// The state the fold reaches: live participations and removed ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub participations: BTreeMap<ParticipationId, Participation>,
    /// Removed participations, with the action that removed them and everything that had
    /// applied to them.
    pub removed: BTreeMap<ParticipationId, (EntityId, Vec<EntityId>)>,
}

fn section(id: String, kind: SectionKind, name: String, status: Status) -> Section {
    Section {
        id: EntityId::new(id),
        kind,
        name,
        stage: None,
        site: None,
        actual_start: None,
        planned_start: None,
        planned_end: None,
        actual_end: None,
        status,
    }
}

fn name_or(name: &Option<String>, default: &str) -> String {
    match name {
        Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => default.to_owned(),
    }
}

fn interruption_section(
    id: &EntityId,
    suffix: &str,
    interruption: &Interruption,
    start: Option<Date>,
) -> Section {
    Section {
        actual_start: start,
        planned_start: interruption.planned.from,
        planned_end: interruption.planned.to,
        ..section(
            format!("{id}{suffix}"),
            SectionKind::Interruption,
            interruption.reason.trim().to_owned(),
            Status::Inactive,
        )
    }
}

/// Applies one action to the state, or says why it cannot.
pub fn step(state: &mut State, id: &EntityId, action: &AssistantAction) -> Result<(), Rejection> {
    let date = action.business_date;
    let pid = &action.participation;
    if let ActionKind::Enrol(e) = &action.kind {
        if state.participations.contains_key(pid) || state.removed.contains_key(pid) {
            return Err(Rejection::AlreadyExists);
        }
        let (kind, status, default_name) = if e.waiting_list {
            (SectionKind::WaitingList, Status::WaitingList, "Warteliste")
        } else {
            (SectionKind::Participation, Status::Active, "Teilnahme")
        };
        let mut first = section(
            id.to_string(),
            kind,
            name_or(&e.section_name, default_name),
            status,
        );
        first.stage = e.stage.clone();
        first.site = e.site.clone();
        first.planned_start = e.planned_period.from;
        if e.waiting_list {
            first.actual_start = Some(date);
        } else {
            first.actual_start = e.entry_date;
            first.planned_end = e.planned_period.to;
        }
        let mut participation = Participation {
            id: pid.clone(),
            programme: e.programme.clone(),
            status,
            entry_date: if e.waiting_list { None } else { e.entry_date },
            planned_period: e.planned_period,
            sections: Vec::new(),
            current_section: None,
            predecessor: None,
            successor: None,
            documentation_of: pid.clone(),
            result: None,
            actions: vec![id.clone()],
            enrolled: (date, action.stamp.clone()),
        };
        participation.open(first);
        state.participations.insert(pid.clone(), participation);
        return Ok(());
    }

    if state.removed.contains_key(pid) {
        return Err(Rejection::Removed);
    }
    let successor_taken = match &action.kind {
        ActionKind::Transfer(t) => {
            state.participations.contains_key(&t.successor)
                || state.removed.contains_key(&t.successor)
        }
        _ => false,
    };
    let Some(p) = state.participations.get_mut(pid) else {
        return Err(Rejection::UnknownParticipation);
    };
    let not_allowed = Err(Rejection::NotAllowed { status: p.status });
    match &action.kind {
        // Enrolments returned above; one naming an existing participation would land here.
        ActionKind::Enrol(_) => return Err(Rejection::AlreadyExists),
        ActionKind::Activate { section_name, site } => {
            if p.status != Status::WaitingList {
                return not_allowed;
            }
            p.can_close(date.pred())?;
            let stage = p.last_stage();
            let site = site.clone().or_else(|| p.last_site());
            p.close_current(date.pred());
            let mut next = section(
                id.to_string(),
                SectionKind::Participation,
                name_or(section_name, "Teilnahme"),
                Status::Active,
            );
            next.stage = stage;
            next.site = site;
            next.actual_start = Some(date);
            next.planned_start = p.planned_period.from;
            next.planned_end = p.planned_period.to;
            p.open(next);
            p.status = Status::Active;
            p.entry_date = p.entry_date.or(Some(date));
        }
        ActionKind::Transfer(t) => {
            if p.status != Status::Active {
                return not_allowed;
            }
            if t.programme.programme_type != p.programme.programme_type {
                return Err(Rejection::DifferentProgrammeType);
            }
            if successor_taken {
                return Err(Rejection::AlreadyExists);
            }
            p.can_close(date.pred())?;
            let documentation_of = p.documentation_of.clone();
            let site = t.site.clone().or_else(|| p.last_site());
            p.close_current(date.pred());
            p.status = Status::Ended;
            p.result = t.result.clone();
            p.successor = Some(t.successor.clone());
            p.actions.push(id.clone());
            let mut first = section(
                format!("{id}.next"),
                SectionKind::Participation,
                "Teilnahme".into(),
                Status::Active,
            );
            first.stage = t.stage.clone();
            first.site = site;
            first.actual_start = Some(date);
            first.planned_start = t.planned_period.from;
            first.planned_end = t.planned_period.to;
            let mut successor = Participation {
                id: t.successor.clone(),
                programme: t.programme.clone(),
                status: Status::Active,
                entry_date: Some(date),
                planned_period: t.planned_period,
                sections: Vec::new(),
                current_section: None,
                predecessor: Some(pid.clone()),
                successor: None,
                documentation_of,
                result: None,
                actions: vec![id.clone()],
                enrolled: (date, action.stamp.clone()),
            };
            successor.open(first);
            state.participations.insert(t.successor.clone(), successor);
            return Ok(());
        }
        ActionKind::End { result } | ActionKind::Abort { result } => {
            if !matches!(p.status, Status::Active | Status::Inactive) {
                return not_allowed;
            }
            p.can_close(date)?;
            p.close_current(date);
            p.status = if matches!(action.kind, ActionKind::End { .. }) {
                Status::Ended
            } else {
                Status::Aborted
            };
            p.result = Some(result.clone());
        }
        ActionKind::Suspend { interruption } => {
            if p.status != Status::Active {
                return not_allowed;
            }
            p.can_close(date)?;
            p.close_current(date);
            p.status = Status::Inactive;
            if let Some(interruption) = interruption {
                p.open(interruption_section(
                    id,
                    ".break",
                    interruption,
                    Some(date.succ()),
                ));
            }
        }
        ActionKind::Resume {
            section_name,
            site,
            planned_exit,
            interruption,
        } => {
            if !matches!(p.status, Status::Inactive | Status::Ended | Status::Aborted) {
                return not_allowed;
            }
            if p.successor.is_some() {
                return Err(Rejection::Transferred);
            }
            let had_break = p
                .current()
                .is_some_and(|s| s.kind == SectionKind::Interruption);
            p.close_current(date.pred());
            if let (Some(interruption), false) = (interruption, had_break) {
                let mut gap =
                    interruption_section(id, ".break", interruption, interruption.planned.from);
                gap.actual_end = Some(date.pred());
                p.sections.push(gap);
            }
            let mut next = section(
                id.to_string(),
                SectionKind::Participation,
                name_or(section_name, "Teilnahme"),
                Status::Active,
            );
            next.stage = p.last_stage();
            next.site = site.clone().or_else(|| p.last_site());
            next.actual_start = Some(date);
            next.planned_end = *planned_exit;
            p.open(next);
            // Re-opened: the result of the end or abort no longer describes it (the
            // action that recorded it stays in the history).
            p.result = None;
            p.status = Status::Active;
        }
        ActionKind::Remove => {
            let gone = state.participations.remove(pid);
            // Removing the first of a transfer chain makes its successor the first: the
            // rest of the chain keeps documenting together.
            let new_root = gone
                .as_ref()
                .filter(|g| &g.documentation_of == pid)
                .and_then(|g| g.successor.clone());
            let mut removed = gone.map(|p| p.actions).unwrap_or_default();
            removed.push(id.clone());
            for other in state.participations.values_mut() {
                if other.predecessor.as_ref() == Some(pid) {
                    other.predecessor = None;
                }
                if other.successor.as_ref() == Some(pid) {
                    other.successor = None;
                }
                if &other.documentation_of == pid {
                    other.documentation_of = new_root.clone().unwrap_or_else(|| other.id.clone());
                }
            }
            state.removed.insert(pid.clone(), (id.clone(), removed));
            return Ok(());
        }
        ActionKind::CorrectProgramme { programme } => {
            p.programme = programme.clone();
        }
        ActionKind::CorrectEntry { entry_date } => {
            p.entry_date = Some(*entry_date);
            if let Some(first) = p
                .sections
                .iter_mut()
                .find(|s| s.kind == SectionKind::Participation)
            {
                first.actual_start = Some(*entry_date);
            }
        }
        ActionKind::ChangeStage {
            stage,
            site,
            planned_end,
        } => {
            if p.status != Status::Active {
                return not_allowed;
            }
            if p.programme.stages.is_empty() {
                return Err(Rejection::NoStages);
            }
            if !p.programme.has_stage(stage) {
                return Err(Rejection::UnknownStage);
            }
            p.can_close(date.pred())?;
            let site = site.clone().or_else(|| p.last_site());
            p.close_current(date.pred());
            let mut next = section(
                id.to_string(),
                SectionKind::Participation,
                "Teilnahme".into(),
                Status::Active,
            );
            next.stage = Some(stage.clone());
            next.site = site;
            next.actual_start = Some(date);
            next.planned_end = *planned_end;
            p.open(next);
        }
        ActionKind::CorrectSection(c) => {
            let Some(s) = p.sections.iter_mut().find(|s| s.id == c.section) else {
                return Err(Rejection::UnknownSection);
            };
            if let Some(name) = &c.name {
                s.name = name.trim().to_owned();
            }
            if let Some(site) = &c.site {
                s.site = Some(site.clone());
            }
            s.actual_start = c.actual_start.or(s.actual_start);
            s.planned_end = c.planned_end.or(s.planned_end);
            s.actual_end = c.actual_end.or(s.actual_end);
        }
        ActionKind::RecordResult { result } => {
            if !matches!(p.status, Status::Ended | Status::Aborted) {
                return not_allowed;
            }
            p.result = Some(result.clone());
        }
    }
    p.actions.push(id.clone());
    Ok(())
}

/// The order in which actions apply: dated actions by business date, then stamp, then id;
/// after them, corrections by stamp, then id.
pub fn ordered(
    actions: &BTreeMap<EntityId, AssistantAction>,
) -> Vec<(&EntityId, &AssistantAction)> {
    let mut ordered: Vec<_> = actions.iter().collect();
    let key = |a: &AssistantAction| {
        let dated = if a.kind.is_correction() {
            None
        } else {
            Some(a.business_date)
        };
        (dated.is_none(), dated)
    };
    ordered.sort_by(|(a_id, a), (b_id, b)| (key(a), &a.stamp, a_id).cmp(&(key(b), &b.stamp, b_id)));
    ordered
}
