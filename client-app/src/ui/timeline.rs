//! "Teilnahmeverlauf": the person's participations with their sections (actual dates
//! black, planned ones grey, the site in brackets), the participation being documented
//! ("in Bearbeitung"), its hand-edited fields, section corrections, the responsibilities,
//! the working time that applies (three levels) and the vacation ledger with its yearly
//! summary. The status changes only through the assistant ([`super::assistant`]).

use std::sync::Arc;

use conflict_rules::assistant::{Offer, Participation, SectionKind, Status};
use conflict_rules::notice::NoticeKind;
use conflict_rules::working_time::effective_rule;
use egui::{Color32, RichText};
use model::timeline::{ActionKind, SectionCorrection};
use model::vacation::{VacationEntry, VacationKind};
use model::working_time::{
    ScheduleException, TimeSpan, Weekday, WeekdayKey, WeeklySchedule, WorkingTimeRule,
};
use model::{ClockTime, Date, Days, EntityId, ParticipationId, Period, SiteId};

use super::assistant::Assistant;
use super::responsibilities::Responsibilities;
use super::type_specific::TypeSpecificForm;
use super::{error_line, field};
use crate::german;
use crate::workspace::{CatalogueView, ParticipationEdit, TimelineRead, Workspace, rejection_text};

const PLANNED: Color32 = Color32::from_gray(140);

/// The person's timelines and the catalogue, as read at one generation.
type Read = (Vec<TimelineRead>, Arc<CatalogueView>);

/// The tab's state within a client window.
#[derive(Debug, Default)]
pub struct TimelineTab {
    /// What was read, with the generation it was read at.
    read: Option<(u64, Arc<Read>)>,
    /// The participation being documented: (timeline document, participation).
    pub current: Option<(String, ParticipationId)>,
    pub assistant: Option<Assistant>,
    correction: Option<CorrectionForm>,
    details: Option<DetailsForm>,
    working_time: Option<WorkingTimeForm>,
    vacation: Option<VacationForm>,
    responsibilities: Responsibilities,
    pub message: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug)]
struct CorrectionForm {
    doc: String,
    participation: ParticipationId,
    section: EntityId,
    name: String,
    site: Option<SiteId>,
    actual_start: String,
    planned_end: String,
    actual_end: String,
    original: (String, Option<SiteId>, String, String, String),
}

#[derive(Debug)]
struct DetailsForm {
    doc: String,
    participation: ParticipationId,
    remarks: String,
    cost_bearer: String,
    contact: String,
    funding_from: String,
    funding_to: String,
    type_specific: Option<TypeSpecificForm>,
}

#[derive(Debug)]
struct WorkingTimeForm {
    valid_from: String,
    valid_to: String,
    form: String,
    hours: String,
    remarks: String,
    days: [bool; 7],
    start: String,
    end: String,
    /// "Regelmäßige Arbeitszeiten": one span on the chosen days; otherwise each day's
    /// own spans, typed as `08:00-12:00, 13:00-16:00`.
    regular: bool,
    day_spans: [String; 7],
    /// "Ausnahme hinzufügen": a day (`TT.MM.JJJJ`), its spans (empty: free), a note.
    exceptions: Vec<[String; 3]>,
}

impl Default for WorkingTimeForm {
    fn default() -> Self {
        Self {
            valid_from: german::today().german(),
            valid_to: String::new(),
            form: "Vollzeit".into(),
            hours: "39".into(),
            remarks: String::new(),
            days: [true, true, true, true, true, false, false],
            start: "08:00".into(),
            end: "16:00".into(),
            regular: true,
            day_spans: Default::default(),
            exceptions: Vec::new(),
        }
    }
}

/// `08:00-12:00, 13:00-16:00`; empty is no span (a free day).
fn parse_spans(text: &str) -> Result<Vec<TimeSpan>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (start, end) = part.split_once('-').unwrap_or((part, ""));
            match (parse_clock(start), parse_clock(end)) {
                (Some(start), Some(end)) => Ok(TimeSpan { start, end }),
                _ => Err(format!("„{part}“: bitte Zeiten wie 08:00-12:00 angeben")),
            }
        })
        .collect()
}

#[derive(Debug, Default)]
struct VacationForm {
    doc: String,
    kind: Option<VacationKind>,
    entitlement: Option<EntityId>,
    from: String,
    to: String,
    days: String,
    reason: String,
}

/// `dd.mm.yyyy`, or empty for none; `Err` for something that is not a date.
pub fn optional_date(text: &str) -> Result<Option<Date>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    german::parse_date(text)
        .map(Some)
        .ok_or_else(|| format!("„{}“ ist kein Datum (TT.MM.JJJJ)", text.trim()))
}

pub fn required_date(text: &str, what: &str) -> Result<Date, String> {
    optional_date(text)?.ok_or_else(|| format!("Bitte {what} angeben"))
}

pub fn period(from: &str, to: &str) -> Result<Period, String> {
    Ok(Period {
        from: optional_date(from)?,
        to: optional_date(to)?,
    })
}

fn date_text(date: Option<Date>) -> String {
    date.map(|d| d.german()).unwrap_or_default()
}

/// `2,5` or `2.5` days, in hundredths.
fn parse_days(text: &str) -> Option<Days> {
    let value: f64 = text.trim().replace(',', ".").parse().ok()?;
    (value.is_finite() && value > 0.0).then(|| Days((value * 100.0).round() as i64))
}

fn days_text(days: Days) -> String {
    hundredths_text(days.hundredths())
}

/// `2`, or `2,5` for a value kept in hundredths.
fn hundredths_text(hundredths: i64) -> String {
    if hundredths % 100 == 0 {
        format!("{}", hundredths / 100)
    } else {
        format!("{:.2}", hundredths as f64 / 100.0).replace('.', ",")
    }
}

fn parse_clock(text: &str) -> Option<ClockTime> {
    let (h, m) = text.trim().split_once(':')?;
    ClockTime::from_hm(h.parse().ok()?, m.parse().ok()?)
}

/// The status as the section symbol shows it.
pub fn status_mark(status: Status) -> &'static str {
    match status {
        Status::WaitingList => "[Warteliste]",
        Status::Active => "[Aktiv]",
        Status::Inactive => "[Inaktiv]",
        Status::Ended => "[Beendet]",
        Status::Aborted => "[Abgebrochen]",
    }
}

fn level_text(level: conflict_rules::notice::RuleLevel) -> &'static str {
    match level {
        conflict_rules::notice::RuleLevel::Participant => "Teilnehmer:in",
        conflict_rules::notice::RuleLevel::Programme => "Auftrag",
        conflict_rules::notice::RuleLevel::Tenant => "Mandant",
    }
}

impl TimelineTab {
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        record: &model::client_record::ClientRecord,
        view: &conflict_rules::record::RecordView,
    ) {
        let generation = workspace.timeline_generation(person);
        let read = match self.read.take() {
            Some((at, read)) if at == generation => read,
            _ => Arc::new((workspace.timelines(person), workspace.catalogue())),
        };
        self.read = Some((generation, read.clone()));
        let (timelines, catalogue) = &*read;
        let participations: Vec<(&TimelineRead, &Participation)> = timelines
            .iter()
            .flat_map(|t| t.view.participations.iter().map(move |p| (t, p)))
            .collect();
        if self
            .current
            .as_ref()
            .is_none_or(|(_, id)| !participations.iter().any(|(_, p)| &p.id == id))
        {
            self.current = participations
                .iter()
                .rev()
                .find(|(_, p)| matches!(p.status, Status::Active))
                .or(participations.last())
                .map(|(t, p)| (t.doc.clone(), p.id.clone()));
        }

        self.notices(ui, workspace, timelines);
        if let Some(message) = &self.message {
            ui.colored_label(Color32::from_rgb(20, 110, 40), message);
        }
        error_line(ui, &self.error);

        ui.horizontal(|ui| {
            let label = ui.label("in Bearbeitung");
            let selected = self
                .current
                .as_ref()
                .and_then(|(_, id)| participations.iter().find(|(_, p)| &p.id == id))
                .map(|(_, p)| format!("{} – {}", p.programme.name, p.status.german()))
                .unwrap_or_else(|| "keine Teilnahme".into());
            egui::ComboBox::from_id_salt("current-participation")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for (t, p) in &participations {
                        ui.selectable_value(
                            &mut self.current,
                            Some((t.doc.clone(), p.id.clone())),
                            format!("{} – {}", p.programme.name, p.status.german()),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Assistent für Maßnahmeänderungen").clicked() {
                let chosen = self.current.as_ref().and_then(|(doc, id)| {
                    participations
                        .iter()
                        .find(|(_, p)| &p.id == id)
                        .map(|(_, p)| (doc.clone(), (*p).clone()))
                });
                self.assistant = Some(Assistant::new(chosen));
                self.message = None;
                self.error = None;
            }
        });
        if let Some((_, p)) = self
            .current
            .as_ref()
            .and_then(|(_, id)| participations.iter().find(|(_, p)| &p.id == id))
        {
            let ba = timelines
                .iter()
                .find_map(|t| t.view.details.get(&p.id))
                .is_some_and(|d| d.ba_registered);
            ui.label(format!(
                "Teilnahmestatus: {}   BA-Anmeldung: {}",
                p.status.german(),
                if ba { "ja" } else { "nein" }
            ));
        }
        ui.separator();

        if participations.is_empty() {
            ui.label("Die Person ist in keinem Auftrag eingebucht.");
            if catalogue.programmes.is_empty() {
                ui.label(
                    RichText::new(
                        "Bevor jemand eingebucht werden kann, muss die Maßnahme unter „Aufträge“ angelegt sein.",
                    )
                    .italics(),
                );
            }
        }
        for (t, p) in participations.iter().rev() {
            self.participation(ui, workspace, catalogue, t, p);
        }
        for t in timelines {
            for pid in t.view.removed.keys() {
                ui.label(
                    RichText::new(format!("Teilnahme {pid} wurde entfernt (Fehlerkorrektur)"))
                        .italics()
                        .color(PLANNED),
                );
            }
        }
        ui.separator();
        let primary_label = catalogue
            .primary_label
            .clone()
            .unwrap_or_else(|| "Stammberater:in".into());
        if let Some(error) =
            self.responsibilities
                .show(ui, workspace, person, record, view, &primary_label)
        {
            self.error = Some(error);
        }
        ui.separator();
        self.working_time(ui, workspace, person, timelines, catalogue);
        ui.separator();
        self.vacation(ui, workspace, person, timelines);

        let ctx = ui.ctx().clone();
        self.correction_window(&ctx, workspace, person, catalogue);
        if let Some(assistant) = &mut self.assistant {
            match assistant.show(&ctx, workspace, person, catalogue) {
                super::assistant::Outcome::Open => {}
                super::assistant::Outcome::Cancelled => self.assistant = None,
                super::assistant::Outcome::Done { message, current } => {
                    self.message = Some(message);
                    if current.is_some() {
                        self.current = current;
                    }
                    self.assistant = None;
                }
            }
        }
    }

    fn notices(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        timelines: &[TimelineRead],
    ) {
        for t in timelines {
            for notice in &t.notices {
                let text = match &notice.kind {
                    NoticeKind::ActionRejected {
                        action_name,
                        reason,
                        ..
                    } => format!(
                        "Nach dem Abgleich ließ sich ein Schritt nicht anwenden ({}): {}. Der Schritt ist aufbewahrt, aber ohne Wirkung.",
                        action_label(action_name),
                        rejection_text(reason)
                    ),
                    NoticeKind::ParticipationRemoved {
                        removed_by,
                        actions,
                        ..
                    } => format!(
                        "{} hat eine Teilnahme entfernt; {} Schritt(e) von Ihnen waren darin.",
                        workspace.staff_name(removed_by.as_str()),
                        actions.len()
                    ),
                    NoticeKind::OverlappingWorkingTimeRules { level, .. } => format!(
                        "Zwei Arbeitszeitregelungen ({}) gelten nach dem Abgleich am selben Tag; bitte eine beenden.",
                        level_text(*level)
                    ),
                    other => format!("Hinweis: {}", other.code()),
                };
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(Color32::from_rgb(150, 80, 0), text);
                    if ui.small_button("Verstanden").clicked() {
                        self.error = workspace
                            .acknowledge_timeline(&t.doc, notice.id.as_str())
                            .err()
                            .map(|e| e.to_string());
                    }
                });
            }
        }
    }

    fn participation(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        catalogue: &CatalogueView,
        timeline: &TimelineRead,
        p: &Participation,
    ) {
        let title = format!(
            "{} ({}) – {}",
            p.programme.name,
            p.programme.programme_type.short(),
            p.status.german()
        );
        egui::CollapsingHeader::new(RichText::new(title).strong())
            .id_salt(("participation", p.id.as_str()))
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(format!(
                        "Eintritt: {}",
                        p.entry_date
                            .map(|d| d.german())
                            .unwrap_or_else(|| "–".into())
                    ));
                    ui.label(
                        RichText::new(format!(
                            "geplant: {} – {}",
                            date_text(p.planned_period.from),
                            date_text(p.planned_period.to)
                        ))
                        .color(PLANNED),
                    );
                });
                if let Some(pre) = &p.predecessor {
                    ui.label(format!("Folgemaßnahme von {}", programme_of(timeline, pre)));
                }
                if let Some(next) = &p.successor {
                    ui.label(format!("umgebucht in {}", programme_of(timeline, next)));
                }
                if let Some(result) = &p.result {
                    ui.label(format!("Maßnahmeergebnis: {}", result.outcome));
                    if !result.remarks.is_empty() {
                        ui.label(RichText::new(&result.remarks).italics());
                    }
                } else if matches!(p.status, Status::Ended | Status::Aborted) {
                    ui.label(RichText::new("Maßnahmeergebnis noch nicht erfasst").italics());
                }
                ui.label(RichText::new("Maßnahmeabschnitte/-stufen").strong());
                let offers = conflict_rules::assistant::offers(
                    p.status,
                    !p.programme.stages.is_empty(),
                    p.successor.is_some(),
                );
                egui::Grid::new(("sections", p.id.as_str()))
                    .num_columns(4)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for section in &p.sections {
                            ui.label(status_mark(section.status));
                            let name = match (&section.stage, section.kind) {
                                (Some(code), _) => format!("{} {code}", section.name),
                                (None, SectionKind::Interruption) => {
                                    format!("Unterbrechung: {}", section.name)
                                }
                                (None, _) => section.name.clone(),
                            };
                            let label = ui.label(name);
                            if let Some(code) = &section.stage
                                && let Some(stage) =
                                    p.programme.stages.iter().find(|s| &s.code == code)
                            {
                                label.on_hover_text(&stage.name);
                            }
                            ui.horizontal(|ui| {
                                ui.spacing_mut().item_spacing.x = 4.0;
                                match section.actual_start {
                                    Some(start) => ui.label(start.german()),
                                    None => ui.label(
                                        RichText::new(date_text(section.planned_start))
                                            .color(PLANNED),
                                    ),
                                };
                                ui.label("–");
                                match section.actual_end {
                                    Some(end) => ui.label(end.german()),
                                    None => ui.label(
                                        RichText::new(date_text(section.planned_end))
                                            .color(PLANNED),
                                    ),
                                };
                                if let Some(site) = catalogue.site_name(section.site.as_ref()) {
                                    ui.label(format!("({site})"));
                                }
                            });
                            ui.horizontal(|ui| {
                                if ui.small_button("Abschnitt korrigieren").clicked() {
                                    self.correction =
                                        Some(CorrectionForm::of(&timeline.doc, &p.id, section));
                                }
                                if p.current_section.as_ref() == Some(&section.id)
                                    && section.kind == SectionKind::Participation
                                    && offers.contains(&Offer::ChangeStage)
                                    && ui.small_button("Abschnittswechsel durchführen").clicked()
                                {
                                    self.assistant = Some(Assistant::at(
                                        (timeline.doc.clone(), p.clone()),
                                        Offer::ChangeStage,
                                    ));
                                }
                            });
                            ui.end_row();
                        }
                    });
                self.details(ui, workspace, timeline, p);
            });
    }

    fn details(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        timeline: &TimelineRead,
        p: &Participation,
    ) {
        let Some(details) = timeline.view.details.get(&p.id) else {
            return;
        };
        let editing = self
            .details
            .as_ref()
            .is_some_and(|d| d.participation == p.id);
        if !editing {
            egui::Grid::new(("details", p.id.as_str()))
                .num_columns(2)
                .show(ui, |ui| {
                    ui.label("Bemerkungen");
                    ui.label(details.remarks.as_str());
                    ui.end_row();
                    ui.label("Kostenträger");
                    ui.label(&details.cost_bearer);
                    ui.end_row();
                    ui.label("Ansprechpartner:in beim Kostenträger");
                    ui.label(&details.cost_bearer_contact);
                    ui.end_row();
                    ui.label("Förderzeitraum");
                    ui.label(format!(
                        "{} – {}",
                        date_text(details.funding_period.from),
                        date_text(details.funding_period.to)
                    ));
                    ui.end_row();
                });
            if let Some(specific) =
                TypeSpecificForm::of(&p.programme.programme_type, &details.type_specific)
            {
                for line in specific.lines() {
                    ui.label(line);
                }
            }
            if ui.small_button("Teilnahmedaten bearbeiten").clicked() {
                self.details = Some(DetailsForm {
                    doc: timeline.doc.clone(),
                    participation: p.id.clone(),
                    remarks: details.remarks.as_str().to_owned(),
                    cost_bearer: details.cost_bearer.clone(),
                    contact: details.cost_bearer_contact.clone(),
                    funding_from: date_text(details.funding_period.from),
                    funding_to: date_text(details.funding_period.to),
                    type_specific: TypeSpecificForm::of(
                        &p.programme.programme_type,
                        &details.type_specific,
                    ),
                });
            }
            return;
        }
        let Some(form) = &mut self.details else {
            return;
        };
        let label = ui.label("Bemerkungen");
        ui.add(egui::TextEdit::multiline(&mut form.remarks).desired_rows(3))
            .labelled_by(label.id);
        field(ui, "Kostenträger", &mut form.cost_bearer);
        field(
            ui,
            "Ansprechpartner:in beim Kostenträger",
            &mut form.contact,
        );
        ui.horizontal(|ui| {
            field(ui, "Förderzeitraum von", &mut form.funding_from);
            field(ui, "bis", &mut form.funding_to);
        });
        if let Some(specific) = &mut form.type_specific {
            specific.show(ui);
        }
        let (save, cancel) = ui
            .horizontal(|ui| {
                (
                    ui.button("Speichern").clicked(),
                    ui.button("Abbrechen").clicked(),
                )
            })
            .inner;
        {
            if save {
                let specific = form
                    .type_specific
                    .as_ref()
                    .map(|s| s.apply(&details.type_specific))
                    .transpose();
                let saved = period(&form.funding_from, &form.funding_to)
                    .and_then(|funding| Ok((funding, specific?)))
                    .and_then(|(funding, type_specific)| {
                        let edit = ParticipationEdit {
                            remarks: form.remarks.clone(),
                            cost_bearer: form.cost_bearer.clone(),
                            contact: form.contact.clone(),
                            funding,
                            type_specific,
                        };
                        workspace
                            .set_participation_details(&form.doc, &form.participation, &edit)
                            .map_err(|e| e.to_string())
                    });
                match saved {
                    Ok(()) => {
                        self.details = None;
                        self.error = None;
                    }
                    Err(error) => self.error = Some(error),
                }
            } else if cancel {
                self.details = None;
            }
        }
    }

    fn correction_window(
        &mut self,
        ctx: &egui::Context,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
    ) {
        let Some(form) = &mut self.correction else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new("Abschnitt korrigieren")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new("Der Status eines Abschnitts lässt sich nicht korrigieren.")
                        .italics(),
                );
                field(ui, "Abschnitt", &mut form.name);
                site_choice(ui, "correction-site", catalogue, &mut form.site);
                field(ui, "Tatsächlicher Beginn", &mut form.actual_start);
                field(ui, "Planmäßiges Ende", &mut form.planned_end);
                field(ui, "Tatsächliches Ende", &mut form.actual_end);
                error_line(ui, &self.error);
                if ui.button("Speichern").clicked() {
                    match form.correction() {
                        Err(error) => self.error = Some(error),
                        Ok(None) => done = true,
                        Ok(Some(correction)) => {
                            match workspace.assist(
                                person,
                                Some(&form.doc),
                                Some(&form.participation),
                                german::today(),
                                ActionKind::CorrectSection(correction),
                            ) {
                                Ok(_) => {
                                    done = true;
                                    self.error = None;
                                }
                                Err(error) => self.error = Some(error.to_string()),
                            }
                        }
                    }
                }
            });
        if done || !open {
            self.correction = None;
        }
    }

    fn working_time(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        timelines: &[TimelineRead],
        catalogue: &CatalogueView,
    ) {
        egui::CollapsingHeader::new(RichText::new("Arbeitszeiten").strong())
            .id_salt("working-time")
            .show(ui, |ui| {
                let today = german::today();
                let own: std::collections::BTreeMap<EntityId, (String, WorkingTimeRule)> =
                    timelines
                        .iter()
                        .flat_map(|t| {
                            t.timeline
                                .working_time
                                .iter()
                                .map(|(id, r)| (id.clone(), (t.doc.clone(), r.clone())))
                        })
                        .collect();
                let participant: std::collections::BTreeMap<EntityId, WorkingTimeRule> = own
                    .iter()
                    .map(|(id, (_, r))| (id.clone(), r.clone()))
                    .collect();
                let programme = timelines
                    .iter()
                    .flat_map(|t| t.view.participations.iter())
                    .filter(|p| p.status == Status::Active)
                    .find_map(|p| catalogue.programmes.get(&p.programme.id))
                    .map(|p| &p.working_time);
                match effective_rule(today, &participant, programme, &catalogue.working_time) {
                    Some(rule) => {
                        ui.label(format!(
                            "Heute gilt die Regelung der Ebene {}: {}, {} Stunden pro Woche",
                            level_text(rule.level),
                            rule.rule.form,
                            hours_text(rule.rule.hours_per_week_hundredths)
                        ));
                        if rule.level != conflict_rules::notice::RuleLevel::Participant {
                            ui.label(
                                RichText::new(
                                    "(übergeordnete Regelung; keine eigene für diese Person)",
                                )
                                .italics(),
                            );
                        }
                    }
                    None => {
                        ui.label("Heute gilt keine Arbeitszeitregelung.");
                    }
                }
                for (id, (doc, rule)) in &own {
                    ui.horizontal(|ui| {
                        ui.label(rule_line(rule));
                        if rule.valid.to.is_none_or(|to| to > today)
                            && ui.small_button("heute beenden").clicked()
                        {
                            self.error = workspace
                                .end_participant_working_time(doc, id, today)
                                .err()
                                .map(|e| e.to_string());
                        }
                    });
                }
                if self.working_time.is_none() {
                    if ui.button("Arbeitszeitregelung hinzufügen").clicked() {
                        self.working_time = Some(WorkingTimeForm::default());
                    }
                } else if let Some(rule) = self.working_time_form(ui, workspace) {
                    match workspace.add_participant_working_time(person, rule) {
                        Ok(_) => {
                            self.working_time = None;
                            self.error = None;
                        }
                        Err(error) => self.error = Some(error.to_string()),
                    }
                }
            });
    }

    /// The rule the form describes, once "Speichern" was clicked and it reads.
    fn working_time_form(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
    ) -> Option<WorkingTimeRule> {
        let form = self.working_time.as_mut()?;
        let rule = working_time_editor(ui, form, workspace);
        match rule {
            Some(Ok(rule)) => Some(rule),
            Some(Err(error)) => {
                self.error = Some(error);
                None
            }
            None => {
                if ui.button("Abbrechen").clicked() {
                    self.working_time = None;
                }
                None
            }
        }
    }

    fn vacation(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        timelines: &[TimelineRead],
    ) {
        egui::CollapsingHeader::new(RichText::new("Urlaub").strong())
            .id_salt("vacation")
            .show(ui, |ui| {
                let mut years = std::collections::BTreeMap::new();
                for t in timelines {
                    for (year, summary) in &t.view.vacation {
                        let entry: &mut conflict_rules::vacation::YearSummary =
                            years.entry(*year).or_default();
                        entry.earned = entry.earned + summary.earned;
                        entry.credited = entry.credited + summary.credited;
                        entry.taken = entry.taken + summary.taken;
                    }
                }
                egui::Grid::new("vacation-years")
                    .num_columns(5)
                    .show(ui, |ui| {
                        for heading in [
                            "Jahr",
                            "erworben",
                            "gutgeschrieben",
                            "genommen",
                            "verbleibend",
                        ] {
                            ui.label(RichText::new(heading).strong());
                        }
                        ui.end_row();
                        for (year, summary) in &years {
                            ui.label(year.to_string());
                            ui.label(days_text(summary.earned));
                            ui.label(days_text(summary.credited));
                            ui.label(days_text(summary.taken));
                            ui.label(days_text(summary.remaining()));
                            ui.end_row();
                        }
                    });
                for t in timelines {
                    let mut entries: Vec<_> = t.timeline.vacation.iter().collect();
                    entries.sort_by_key(|(id, e)| (e.period.from, (*id).clone()));
                    for (id, entry) in entries {
                        ui.horizontal(|ui| {
                            let kind = match entry.kind {
                                VacationKind::Entitlement => "Urlaubsanspruch",
                                VacationKind::Credit => "Gutschrift",
                                VacationKind::Deduction => "Abzug",
                            };
                            ui.label(format!(
                                "{kind}: {} Tage, {} – {} {}",
                                days_text(entry.days),
                                date_text(entry.period.from),
                                date_text(entry.period.to),
                                entry.reason
                            ));
                            if entry.kind == VacationKind::Entitlement {
                                if ui.small_button("Gutschrift hinzufügen").clicked() {
                                    self.vacation = Some(VacationForm::new(
                                        &t.doc,
                                        VacationKind::Credit,
                                        Some(id.clone()),
                                    ));
                                }
                                if ui.small_button("Abzug hinzufügen").clicked() {
                                    self.vacation = Some(VacationForm::new(
                                        &t.doc,
                                        VacationKind::Deduction,
                                        Some(id.clone()),
                                    ));
                                }
                            }
                        });
                    }
                }
                match &mut self.vacation {
                    None => {
                        if ui.button("Urlaubsanspruch hinzufügen").clicked() {
                            match workspace.timeline_of(person) {
                                Ok(doc) => {
                                    self.vacation = Some(VacationForm::new(
                                        &doc,
                                        VacationKind::Entitlement,
                                        None,
                                    ));
                                }
                                Err(error) => self.error = Some(error.to_string()),
                            }
                        }
                    }
                    Some(form) => {
                        ui.label(
                            RichText::new(match form.kind {
                                Some(VacationKind::Credit) => "Gutschrift hinzufügen",
                                Some(VacationKind::Deduction) => "Abzug hinzufügen",
                                _ => "Urlaubsanspruch hinzufügen",
                            })
                            .strong(),
                        );
                        ui.horizontal(|ui| {
                            field(ui, "Zeitraum von", &mut form.from);
                            field(ui, "bis", &mut form.to);
                        });
                        field(ui, "Tage", &mut form.days);
                        field(ui, "Grund", &mut form.reason);
                        let (ok, cancel) = ui
                            .horizontal(|ui| {
                                (ui.button("OK").clicked(), ui.button("Abbrechen").clicked())
                            })
                            .inner;
                        {
                            if ok {
                                let (created, created_by) = workspace.new_stamp();
                                let entry = period(&form.from, &form.to).and_then(|period| {
                                    Ok(VacationEntry {
                                        kind: form.kind.unwrap_or(VacationKind::Entitlement),
                                        period,
                                        days: parse_days(&form.days).ok_or_else(|| {
                                            "Die Anzahl der Tage muss größer als 0 sein".to_owned()
                                        })?,
                                        reason: form.reason.trim().to_owned(),
                                        entitlement: form.entitlement.clone(),
                                        created,
                                        created_by,
                                    })
                                });
                                let doc = form.doc.clone();
                                match entry.and_then(|e| {
                                    workspace.add_vacation(&doc, e).map_err(|e| e.to_string())
                                }) {
                                    Ok(_) => {
                                        self.vacation = None;
                                        self.error = None;
                                    }
                                    Err(error) => self.error = Some(error),
                                }
                            } else if cancel {
                                self.vacation = None;
                            }
                        }
                    }
                }
            });
    }
}

impl VacationForm {
    fn new(doc: &str, kind: VacationKind, entitlement: Option<EntityId>) -> Self {
        Self {
            doc: doc.to_owned(),
            kind: Some(kind),
            entitlement,
            from: german::today().german(),
            ..Self::default()
        }
    }
}

impl CorrectionForm {
    fn of(
        doc: &str,
        participation: &ParticipationId,
        section: &conflict_rules::assistant::Section,
    ) -> Self {
        let original = (
            section.name.clone(),
            section.site.clone(),
            date_text(section.actual_start),
            date_text(section.planned_end),
            date_text(section.actual_end),
        );
        Self {
            doc: doc.to_owned(),
            participation: participation.clone(),
            section: section.id.clone(),
            name: original.0.clone(),
            site: original.1.clone(),
            actual_start: original.2.clone(),
            planned_end: original.3.clone(),
            actual_end: original.4.clone(),
            original,
        }
    }

    /// Only what was changed, so that the correction does not undo what others did to
    /// the other fields; `None` when nothing was.
    fn correction(&self) -> Result<Option<SectionCorrection>, String> {
        let changed = |now: &str, before: &str| now.trim() != before.trim();
        let date_if = |now: &str, before: &str| -> Result<Option<Date>, String> {
            if changed(now, before) {
                required_date(now, "ein Datum").map(Some)
            } else {
                Ok(None)
            }
        };
        let correction = SectionCorrection {
            section: self.section.clone(),
            name: changed(&self.name, &self.original.0).then(|| self.name.trim().to_owned()),
            site: (self.site != self.original.1)
                .then(|| self.site.clone())
                .flatten(),
            actual_start: date_if(&self.actual_start, &self.original.2)?,
            planned_end: date_if(&self.planned_end, &self.original.3)?,
            actual_end: date_if(&self.actual_end, &self.original.4)?,
        };
        let nothing = correction.name.is_none()
            && correction.site.is_none()
            && correction.actual_start.is_none()
            && correction.planned_end.is_none()
            && correction.actual_end.is_none();
        Ok((!nothing).then_some(correction))
    }
}

fn programme_of(timeline: &TimelineRead, id: &ParticipationId) -> String {
    timeline
        .view
        .participation(id)
        .map(|p| p.programme.name.clone())
        .unwrap_or_else(|| "einer anderen Maßnahme".into())
}

/// The German name of an action, for notices.
pub fn action_label(name: &str) -> &'static str {
    match name {
        "enrol" => "Einbuchen",
        "activate" => "Aktivieren",
        "transfer" => "Umbuchen",
        "end" => "Beendigung",
        "abort" => "Abbruch",
        "suspend" => "Aussetzung",
        "resume" => "Fortsetzung",
        "remove" => "Entfernen",
        "correct-programme" => "Maßnahme korrigieren",
        "correct-entry" => "Eintritt korrigieren",
        "change-stage" => "Abschnittswechsel",
        "correct-section" => "Abschnitt korrigieren",
        "record-result" => "Ergebnis nacherfassen",
        _ => "Schritt",
    }
}

fn hours_text(hundredths: u64) -> String {
    hundredths_text(i64::try_from(hundredths).unwrap_or(i64::MAX))
}

/// A choice of the tenant's sites, or none.
pub fn site_choice(
    ui: &mut egui::Ui,
    id: &str,
    catalogue: &CatalogueView,
    site: &mut Option<SiteId>,
) {
    ui.horizontal(|ui| {
        let label = ui.label("Standort");
        egui::ComboBox::from_id_salt(id)
            .selected_text(catalogue.site_name(site.as_ref()).unwrap_or("–"))
            .show_ui(ui, |ui| {
                ui.selectable_value(site, None, "–");
                for (id, s) in &catalogue.sites {
                    ui.selectable_value(site, Some(id.clone()), &s.name);
                }
            })
            .response
            .labelled_by(label.id);
    });
}

/// The fields of a working-time rule; `Some` once "Speichern" was clicked.
fn working_time_editor(
    ui: &mut egui::Ui,
    form: &mut WorkingTimeForm,
    workspace: &mut Workspace,
) -> Option<Result<WorkingTimeRule, String>> {
    ui.horizontal(|ui| {
        field(ui, "Gültig von", &mut form.valid_from);
        field(ui, "bis", &mut form.valid_to);
    });
    field(ui, "Arbeitszeitform", &mut form.form);
    field(ui, "Stunden pro Woche", &mut form.hours);
    field(ui, "Bemerkungen", &mut form.remarks);
    ui.checkbox(&mut form.regular, "Regelmäßige Arbeitszeiten");
    if form.regular {
        ui.horizontal(|ui| {
            for (i, day) in Weekday::ALL.iter().enumerate() {
                ui.checkbox(&mut form.days[i], day.as_str());
            }
        });
        ui.horizontal(|ui| {
            field(ui, "Beginn", &mut form.start);
            field(ui, "Ende", &mut form.end);
        });
    } else {
        for (i, day) in Weekday::ALL.iter().enumerate() {
            field(
                ui,
                &format!("Zeiten am {}", day.as_str()),
                &mut form.day_spans[i],
            );
        }
    }
    for (i, exception) in form.exceptions.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let [day, spans, note] = exception;
            field(ui, &format!("Ausnahme {} am", i + 1), day);
            field(ui, &format!("Zeiten (leer: frei) {}", i + 1), spans);
            field(ui, &format!("Hinweis {}", i + 1), note);
        });
    }
    if ui.link("Ausnahme hinzufügen").clicked() {
        form.exceptions.push(Default::default());
    }
    if !ui.button("Speichern").clicked() {
        return None;
    }
    Some(form.rule(workspace))
}

impl WorkingTimeForm {
    fn rule(&self, workspace: &mut Workspace) -> Result<WorkingTimeRule, String> {
        let valid = period(&self.valid_from, &self.valid_to)?;
        let hours: f64 = self
            .hours
            .trim()
            .replace(',', ".")
            .parse()
            .ok()
            .filter(|h: &f64| h.is_finite() && *h >= 0.0 && *h <= 168.0)
            .ok_or("Bitte die Stunden pro Woche als Zahl angeben")?;
        let days = if self.regular {
            let span = match (parse_clock(&self.start), parse_clock(&self.end)) {
                (Some(start), Some(end)) => TimeSpan { start, end },
                _ => return Err("Bitte Beginn und Ende als Uhrzeit (08:00) angeben".into()),
            };
            Weekday::ALL
                .iter()
                .zip(self.days)
                .filter(|(_, on)| *on)
                .map(|(day, _)| (WeekdayKey::from(*day), vec![span]))
                .collect()
        } else {
            let mut days = std::collections::BTreeMap::new();
            for (day, text) in Weekday::ALL.iter().zip(&self.day_spans) {
                let spans = parse_spans(text)?;
                if !spans.is_empty() {
                    days.insert(WeekdayKey::from(*day), spans);
                }
            }
            days
        };
        let mut exceptions = std::collections::BTreeMap::new();
        for [day, spans, note] in &self.exceptions {
            if day.trim().is_empty() {
                continue;
            }
            let day = required_date(day, "den Tag der Ausnahme")?;
            exceptions.insert(
                day.to_string(),
                ScheduleException {
                    spans: parse_spans(spans)?,
                    note: note.trim().to_owned(),
                },
            );
        }
        let (created, created_by) = workspace.new_stamp();
        Ok(WorkingTimeRule {
            valid,
            form: self.form.trim().to_owned(),
            hours_per_week_hundredths: (hours * 100.0).round() as u64,
            remarks: self.remarks.trim().to_owned(),
            schedule: WeeklySchedule {
                regular: self.regular,
                days,
            },
            exceptions,
            created,
            created_by,
        })
    }
}

/// The catalogue's working-time form, shared with the "Aufträge" screen.
#[derive(Debug, Default)]
pub struct CatalogueWorkingTime(Option<WorkingTimeForm>);

impl CatalogueWorkingTime {
    /// A button, then the form; `Some(rule)` once saved.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        button: &str,
    ) -> Option<Result<WorkingTimeRule, String>> {
        match &mut self.0 {
            None => {
                if ui.button(button).clicked() {
                    self.0 = Some(WorkingTimeForm::default());
                }
                None
            }
            Some(form) => {
                let saved = working_time_editor(ui, form, workspace);
                if saved.is_none() && ui.button("Abbrechen").clicked() {
                    self.0 = None;
                }
                saved
            }
        }
    }

    pub fn close(&mut self) {
        self.0 = None;
    }
}

pub fn rule_line(rule: &WorkingTimeRule) -> String {
    let mut line = format!(
        "{} – {}: {}, {} Std./Woche",
        date_text(rule.valid.from),
        date_text(rule.valid.to),
        rule.form,
        hours_text(rule.hours_per_week_hundredths)
    );
    if !rule.schedule.regular {
        line.push_str(", unregelmäßige Arbeitszeiten");
    }
    match rule.exceptions.len() {
        0 => {}
        1 => line.push_str(", 1 Ausnahme"),
        n => line.push_str(&format!(", {n} Ausnahmen")),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_typed() {
        let spans = parse_spans(" 08:00-12:00, 13:30-16:00 ,").unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].start, ClockTime::from_hm(13, 30).unwrap());
        assert!(parse_spans("").unwrap().is_empty(), "empty is a free day");
        assert!(parse_spans("8 bis 12").is_err());
        assert_eq!(parse_days("2,5"), Some(Days(250)));
        assert_eq!(parse_days("0"), None);
        assert_eq!(days_text(Days(250)), "2,50");
        assert_eq!(days_text(Days::whole(24)), "24");
    }
}
