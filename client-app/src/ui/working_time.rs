//! Working time ("Arbeitszeiten"): the editor of a working-time rule, used on all three
//! levels (a participant's in the timeline, a programme's and the tenant's under
//! "Aufträge"), the one-line summary of a rule, and the participant's section that says
//! which rule applies today.

use std::collections::BTreeMap;

use conflict_rules::assistant::Status;
use conflict_rules::notice::RuleLevel;
use conflict_rules::working_time::effective_rule;
use egui::RichText;
use model::EntityId;
use model::working_time::{
    ScheduleException, TimeSpan, Weekday, WeekdayKey, WeeklySchedule, WorkingTimeRule,
};

use super::input::{date_text, hours_text, parse_clock, parse_spans, period, required_date};
use super::widgets::field;
use crate::german;
use crate::workspace::{CatalogueView, TimelineRead, Workspace};

/// A working-time rule as typed, before it reads.
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
    exceptions: Vec<ExceptionRow>,
}

/// "Ausnahme hinzufügen": one day that differs from the weekly schedule.
#[derive(Debug, Default)]
struct ExceptionRow {
    /// `TT.MM.JJJJ`; a row left empty is ignored.
    day: String,
    /// Empty: the day is free.
    spans: String,
    note: String,
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

/// The level a rule comes from, as notices and the section name it.
pub fn level_text(level: RuleLevel) -> &'static str {
    match level {
        RuleLevel::Participant => "Teilnehmer:in",
        RuleLevel::Programme => "Auftrag",
        RuleLevel::Tenant => "Mandant",
    }
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
            let ExceptionRow { day, spans, note } = exception;
            field(ui, &format!("Ausnahme {} am", i + 1), day);
            field(ui, &format!("Zeiten (leer: frei) {}", i + 1), spans);
            field(ui, &format!("Hinweis {}", i + 1), note);
        });
    }
    if ui.link("Ausnahme hinzufügen").clicked() {
        form.exceptions.push(ExceptionRow::default());
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
            let mut days = BTreeMap::new();
            for (day, text) in Weekday::ALL.iter().zip(&self.day_spans) {
                let spans = parse_spans(text)?;
                if !spans.is_empty() {
                    days.insert(WeekdayKey::from(*day), spans);
                }
            }
            days
        };
        let mut exceptions = BTreeMap::new();
        for ExceptionRow { day, spans, note } in &self.exceptions {
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

/// The timeline's "Arbeitszeiten": the rule that applies today (three levels), the
/// person's own rules, and a form for a new one.
#[derive(Debug, Default)]
pub struct WorkingTimeSection {
    form: Option<WorkingTimeForm>,
}

impl WorkingTimeSection {
    /// Shows the section; `error` is the timeline tab's error line, set or cleared by
    /// what was done here.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        timelines: &[TimelineRead],
        catalogue: &CatalogueView,
        error: &mut Option<String>,
    ) {
        egui::CollapsingHeader::new(RichText::new("Arbeitszeiten").strong())
            .id_salt("working-time")
            .show(ui, |ui| {
                let today = german::today();
                let own: BTreeMap<EntityId, (String, WorkingTimeRule)> = timelines
                    .iter()
                    .flat_map(|t| {
                        t.timeline
                            .working_time
                            .iter()
                            .map(|(id, r)| (id.clone(), (t.doc.clone(), r.clone())))
                    })
                    .collect();
                let participant: BTreeMap<EntityId, WorkingTimeRule> = own
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
                        if rule.level != RuleLevel::Participant {
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
                            *error = workspace
                                .end_participant_working_time(doc, id, today)
                                .err()
                                .map(|e| e.to_string());
                        }
                    });
                }
                if self.form.is_none() {
                    if ui.button("Arbeitszeitregelung hinzufügen").clicked() {
                        self.form = Some(WorkingTimeForm::default());
                    }
                } else if let Some(rule) = self.form(ui, workspace, error) {
                    match workspace.add_participant_working_time(person, rule) {
                        Ok(_) => {
                            self.form = None;
                            *error = None;
                        }
                        Err(e) => *error = Some(e.to_string()),
                    }
                }
            });
    }

    /// The rule the form describes, once "Speichern" was clicked and it reads.
    fn form(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        error: &mut Option<String>,
    ) -> Option<WorkingTimeRule> {
        let form = self.form.as_mut()?;
        let rule = working_time_editor(ui, form, workspace);
        match rule {
            Some(Ok(rule)) => Some(rule),
            Some(Err(e)) => {
                *error = Some(e);
                None
            }
            None => {
                if ui.button("Abbrechen").clicked() {
                    self.form = None;
                }
                None
            }
        }
    }
}
