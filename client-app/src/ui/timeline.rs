//! "Teilnahmeverlauf": the person's participations with their sections (actual dates
//! black, planned ones grey, the site in brackets), the participation being documented
//! ("in Bearbeitung"), and below them the sections that have files of their own: the
//! responsibilities ([`super::responsibilities`]), the working time that applies
//! ([`super::working_time`]) and the vacation ledger ([`super::vacation`]). A
//! participation's hand-edited fields are in [`details`], section corrections in
//! [`correction`]. The status changes only through the assistant ([`super::assistant`]).

mod correction;
mod details;

use std::sync::Arc;

use conflict_rules::assistant::{Offer, Participation, SectionKind, Status};
use conflict_rules::notice::NoticeKind;
use egui::{Color32, RichText};
use model::ParticipationId;

use super::assistant::{Assistant, Assisted, Outcome, ParticipationRef};
use super::input::date_text;
use super::responsibilities::Responsibilities;
use super::vacation::VacationSection;
use super::widgets::error_line;
use super::working_time::{WorkingTimeSection, level_text};
use crate::workspace::{CatalogueView, TimelineRead, Workspace, rejection_text};
use correction::CorrectionForm;
use details::DetailsForm;

const PLANNED: Color32 = Color32::from_gray(140);

/// The person's timelines and the catalogue, as read at one generation.
#[derive(Debug)]
struct Read {
    generation: u64,
    timelines: Vec<TimelineRead>,
    catalogue: Arc<CatalogueView>,
}

/// The tab's state within a client window.
#[derive(Debug, Default)]
pub struct TimelineTab {
    /// What was read, until the person's timelines move on.
    read: Option<Arc<Read>>,
    /// The participation being documented.
    pub current: Option<ParticipationRef>,
    pub assistant: Option<Assistant>,
    correction: Option<CorrectionForm>,
    details: Option<DetailsForm>,
    working_time: WorkingTimeSection,
    vacation: VacationSection,
    responsibilities: Responsibilities,
    pub message: Option<String>,
    pub error: Option<String>,
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
            Some(read) if read.generation == generation => read,
            _ => Arc::new(Read {
                generation,
                timelines: workspace.timelines(person),
                catalogue: workspace.catalogue(),
            }),
        };
        self.read = Some(read.clone());
        let Read {
            timelines,
            catalogue,
            ..
        } = &*read;
        let participations: Vec<(&TimelineRead, &Participation)> = timelines
            .iter()
            .flat_map(|t| t.view.participations.iter().map(move |p| (t, p)))
            .collect();
        if self
            .current
            .as_ref()
            .is_none_or(|current| !participations.iter().any(|(_, p)| p.id == current.id))
        {
            self.current = participations
                .iter()
                .rev()
                .find(|(_, p)| matches!(p.status, Status::Active))
                .or(participations.last())
                .map(|(t, p)| ParticipationRef::of(t, p));
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
                .and_then(|current| participations.iter().find(|(_, p)| p.id == current.id))
                .map(|(_, p)| format!("{} – {}", p.programme.name, p.status.german()))
                .unwrap_or_else(|| "keine Teilnahme".into());
            egui::ComboBox::from_id_salt("current-participation")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for (t, p) in &participations {
                        ui.selectable_value(
                            &mut self.current,
                            Some(ParticipationRef::of(t, p)),
                            format!("{} – {}", p.programme.name, p.status.german()),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Assistent für Maßnahmeänderungen").clicked() {
                let chosen = self.current.as_ref().and_then(|current| {
                    participations
                        .iter()
                        .find(|(_, p)| p.id == current.id)
                        .map(|(_, p)| Assisted {
                            doc: current.doc.clone(),
                            participation: (*p).clone(),
                        })
                });
                self.assistant = Some(Assistant::new(chosen));
                self.message = None;
                self.error = None;
            }
        });
        if let Some((_, p)) = self
            .current
            .as_ref()
            .and_then(|current| participations.iter().find(|(_, p)| p.id == current.id))
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
        self.working_time
            .show(ui, workspace, person, timelines, catalogue, &mut self.error);
        ui.separator();
        self.vacation
            .show(ui, workspace, person, timelines, &mut self.error);

        let ctx = ui.ctx().clone();
        self.correction_window(&ctx, workspace, person, catalogue);
        if let Some(assistant) = &mut self.assistant {
            match assistant.show(&ctx, workspace, person, catalogue) {
                Outcome::Open => {}
                Outcome::Cancelled => self.assistant = None,
                Outcome::Done { message, current } => {
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
                    NoticeKind::OvertookLaterSteps {
                        action_name,
                        business_date,
                        overtaken,
                        ..
                    } => format!(
                        "Ihr Schritt „{}“ zum {} wurde erst nach späteren Schritten eingetragen und steht im Verlauf jetzt vor ihnen: {}. Bitte den Verlauf prüfen.",
                        action_label(action_name),
                        business_date.german(),
                        overtaken
                            .iter()
                            .map(|s| format!(
                                "{} zum {} ({})",
                                action_label(s.action_name),
                                s.business_date.german(),
                                if s.applied {
                                    "gilt danach"
                                } else {
                                    "jetzt ohne Wirkung"
                                }
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
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
                                        Assisted {
                                            doc: timeline.doc.clone(),
                                            participation: p.clone(),
                                        },
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
