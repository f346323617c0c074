//! Vacation ("Urlaub"): the yearly summary (earned, credited, taken, remaining) over all
//! of a person's timelines, the ledger's entries, and the form for an entitlement, or a
//! credit or deduction against one.

use std::collections::BTreeMap;

use egui::RichText;
use model::EntityId;
use model::vacation::{VacationEntry, VacationKind};

use super::input::{date_text, days_text, parse_days, period};
use super::widgets::field;
use crate::german;
use crate::workspace::{TimelineRead, Workspace};

/// The timeline's "Urlaub" section, with the entry being added.
#[derive(Debug, Default)]
pub struct VacationSection {
    form: Option<VacationForm>,
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

impl VacationSection {
    /// Shows the section; `error` is the timeline tab's error line, set or cleared by
    /// what was done here.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        timelines: &[TimelineRead],
        error: &mut Option<String>,
    ) {
        egui::CollapsingHeader::new(RichText::new("Urlaub").strong())
            .id_salt("vacation")
            .show(ui, |ui| {
                let mut years = BTreeMap::new();
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
                                    self.form = Some(VacationForm::new(
                                        &t.doc,
                                        VacationKind::Credit,
                                        Some(id.clone()),
                                    ));
                                }
                                if ui.small_button("Abzug hinzufügen").clicked() {
                                    self.form = Some(VacationForm::new(
                                        &t.doc,
                                        VacationKind::Deduction,
                                        Some(id.clone()),
                                    ));
                                }
                            }
                        });
                    }
                }
                match &mut self.form {
                    None => {
                        if ui.button("Urlaubsanspruch hinzufügen").clicked() {
                            match workspace.timeline_of(person) {
                                Ok(doc) => {
                                    self.form = Some(VacationForm::new(
                                        &doc,
                                        VacationKind::Entitlement,
                                        None,
                                    ));
                                }
                                Err(e) => *error = Some(e.to_string()),
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
                                        self.form = None;
                                        *error = None;
                                    }
                                    Err(e) => *error = Some(e),
                                }
                            } else if cancel {
                                self.form = None;
                            }
                        }
                    }
                }
            });
    }
}
