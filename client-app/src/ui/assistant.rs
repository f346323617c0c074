//! "Assistent für Maßnahmeänderungen": the only way a participation's status changes.
//! The first page offers what the conflict rules allow in the participation's status
//! (`conflict_rules::assistant::offers`); each choice leads through its pages to
//! "Fertigstellen", which records the action only if it applies
//! (`conflict_rules::assistant::apply`). Ending, aborting and a standard transfer ask
//! for the result ("Maßnahmeergebnis") on a page of their own.
//!
//! This file holds the assistant's state and its pages; `action` turns what the pages
//! hold into the recorded action.

mod action;

use conflict_rules::assistant::{Offer, Participation, SectionKind, Status};
use egui::RichText;
use model::timeline::ProgrammeSnapshot;
use model::{ParticipationId, ProgrammeId, SiteId};

use super::widgets::{Answer, confirm, error_line, field, site_choice};
use crate::german;
use crate::workspace::{CatalogueView, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Choose,
    /// "Teilnehmer:in beendet die aktuelle Teilnahme oder setzt diese aus".
    Leave,
    Form(Offer),
    Result(Offer),
}

/// A participation by id, with the timeline document that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipationRef {
    /// The timeline document.
    pub doc: String,
    pub id: ParticipationId,
}

impl ParticipationRef {
    pub fn of(timeline: &crate::workspace::TimelineRead, participation: &Participation) -> Self {
        Self {
            doc: timeline.doc.clone(),
            id: participation.id.clone(),
        }
    }
}

/// The participation the assistant works on, as folded, with its timeline document.
#[derive(Debug, Clone)]
pub struct Assisted {
    pub doc: String,
    pub participation: Participation,
}

/// What became of the assistant this frame.
#[derive(Debug)]
pub enum Outcome {
    Open,
    Cancelled,
    Done {
        message: String,
        /// The participation to document from now on, if it changed.
        current: Option<ParticipationRef>,
    },
}

#[derive(Debug)]
pub struct Assistant {
    /// The participation it works on; none for a person in no participation.
    on: Option<Assisted>,
    page: Page,
    leave: Option<Offer>,
    programme: Option<ProgrammeId>,
    stage: Option<String>,
    section_name: String,
    site: Option<SiteId>,
    funding_from: String,
    funding_to: String,
    planned_from: String,
    planned_to: String,
    /// The entry, the last day, the re-entry, the first day of a new stage.
    date: String,
    waiting_list: bool,
    outcome: String,
    remarks: String,
    interruption: bool,
    reason: String,
    interruption_from: String,
    interruption_to: String,
    planned_exit: String,
    quick: bool,
    error: Option<String>,
    /// "Teilnehmer:in aus der Maßnahme entfernen" was finished and waits for the red
    /// button: the removal deletes the participation's documentation.
    confirm_remove: bool,
}

fn offer_label(offer: Offer, on: Option<&Participation>) -> String {
    match offer {
        Offer::Enrol => "Teilnehmer:in in eine neue Maßnahme einbuchen".into(),
        Offer::Activate => "Teilnehmer:in aktivieren (von der Warteliste)".into(),
        Offer::Transfer => format!(
            "Teilnehmer:in in eine andere {}-Maßnahme umbuchen",
            on.map(|p| p.programme.programme_type.short().to_owned())
                .unwrap_or_default()
        ),
        Offer::End => "Beendigung der Maßnahme".into(),
        Offer::Abort => "Abbruch der Maßnahme".into(),
        Offer::Suspend => "Aussetzung der Maßnahme".into(),
        Offer::Remove => "Teilnehmer:in aus der Maßnahme entfernen".into(),
        Offer::Resume => "Teilnehmer:in setzt die aktuelle Maßnahme fort".into(),
        Offer::RecordResult => "Maßnahmeergebnis nacherfassen".into(),
        Offer::ChangeStage => "Abschnittswechsel durchführen".into(),
        Offer::CorrectProgramme => "Aktuelle Maßnahme korrigieren".into(),
        Offer::CorrectEntry => "Eintritt korrigieren".into(),
    }
}

/// A qualification stage of the programme, by code, shown with its name.
fn stage_choice(
    ui: &mut egui::Ui,
    label: &str,
    none: &str,
    stages: &[model::timeline::StageDef],
    stage: &mut Option<String>,
) {
    ui.horizontal(|ui| {
        let label_id = ui.label(label).id;
        egui::ComboBox::from_id_salt(("assistant-stage", label))
            .selected_text(stage.clone().unwrap_or_else(|| none.into()))
            .show_ui(ui, |ui| {
                for s in stages {
                    ui.selectable_value(
                        stage,
                        Some(s.code.clone()),
                        format!("{} – {}", s.code, s.name),
                    );
                }
            })
            .response
            .labelled_by(label_id);
    });
}

const LEAVING: [Offer; 4] = [Offer::End, Offer::Abort, Offer::Suspend, Offer::Remove];

impl Assistant {
    pub fn new(on: Option<Assisted>) -> Self {
        let today = german::today().german();
        let mut assistant = Self {
            on,
            page: Page::Choose,
            leave: None,
            programme: None,
            stage: None,
            section_name: String::new(),
            site: None,
            funding_from: String::new(),
            funding_to: String::new(),
            planned_from: String::new(),
            planned_to: String::new(),
            date: today,
            waiting_list: false,
            outcome: String::new(),
            remarks: String::new(),
            interruption: false,
            reason: String::new(),
            interruption_from: String::new(),
            interruption_to: String::new(),
            planned_exit: String::new(),
            quick: false,
            error: None,
            confirm_remove: false,
        };
        if let Some(on) = &assistant.on {
            assistant.site = on.participation.current().and_then(|s| s.site.clone());
        }
        assistant
    }

    /// Opened at a given page, e.g. from a section's "Abschnittswechsel durchführen".
    pub fn at(on: Assisted, offer: Offer) -> Self {
        let mut assistant = Self::new(Some(on));
        assistant.open(offer);
        assistant
    }

    fn participation(&self) -> Option<&Participation> {
        self.on.as_ref().map(|on| &on.participation)
    }

    fn offers(&self) -> Vec<Offer> {
        match self.participation() {
            Some(p) => conflict_rules::assistant::offers(
                p.status,
                !p.programme.stages.is_empty(),
                p.successor.is_some(),
            ),
            None => vec![Offer::Enrol],
        }
    }

    /// Goes to an offer's form, with the assistant's proposals filled in.
    fn open(&mut self, offer: Offer) {
        if let Some(p) = self.participation().cloned() {
            match offer {
                Offer::Resume => {
                    // After an end or abort the assistant proposes an interruption
                    // section; after a suspension only if none was stored then.
                    let had_interruption = p
                        .sections
                        .last()
                        .is_some_and(|s| s.kind == SectionKind::Interruption);
                    self.interruption = match p.status {
                        Status::Ended | Status::Aborted => true,
                        _ => !had_interruption,
                    };
                    if self.interruption {
                        self.interruption_from = p
                            .sections
                            .last()
                            .and_then(|s| s.actual_end)
                            .map(|d| d.succ().german())
                            .unwrap_or_default();
                    }
                }
                Offer::Suspend => self.interruption = true,
                Offer::CorrectProgramme => self.programme = Some(p.programme.id.clone()),
                Offer::CorrectEntry => {
                    self.date = p.entry_date.map(|d| d.german()).unwrap_or_default();
                }
                _ => {}
            }
            // A date before the steps that shaped the sections would be refused (or, placed
            // before a later step, would not show as recorded): propose none earlier.
            if let Some(earliest) = conflict_rules::assistant::earliest_date(&p, offer)
                && earliest > german::today()
            {
                self.date = earliest.german();
            }
        }
        self.page = Page::Form(offer);
        self.error = None;
    }

    pub fn show(
        &mut self,
        ctx: &egui::Context,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
    ) -> Outcome {
        let mut open = true;
        let mut outcome = Outcome::Open;
        egui::Window::new("Assistent für Maßnahmeänderungen")
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            .show(ctx, |ui| {
                if let Some(p) = self.participation() {
                    ui.label(format!(
                        "Teilnahme: {} – {}",
                        p.programme.name,
                        p.status.german()
                    ));
                } else {
                    ui.label("Die Person ist in keinem Auftrag eingebucht.");
                }
                ui.separator();
                match self.page {
                    Page::Choose => self.choose(ui),
                    Page::Leave => self.leave_page(ui),
                    Page::Form(offer) => {
                        outcome = self.form(ui, workspace, person, catalogue, offer);
                    }
                    Page::Result(offer) => {
                        outcome = self.result_page(ui, workspace, person, catalogue, offer);
                    }
                }
                error_line(ui, &self.error);
            });
        if self.confirm_remove {
            let text = format!(
                "Die Teilnahme an „{}“ wird aus den Maßnahmedaten dieser Person entfernt, mit \
                 allen dazugehörigen Dokumentationsdaten. Das dient der Fehlerkorrektur und \
                 lässt sich nicht rückgängig machen.",
                self.participation()
                    .map(|p| p.programme.name.clone())
                    .unwrap_or_default()
            );
            match confirm(ctx, "Teilnahme entfernen", &text, "Endgültig entfernen") {
                Answer::Open => {}
                Answer::Cancelled => self.confirm_remove = false,
                Answer::Confirmed => {
                    self.confirm_remove = false;
                    outcome = self.finish(workspace, person, catalogue, Offer::Remove);
                }
            }
        }
        if !open {
            return Outcome::Cancelled;
        }
        outcome
    }

    fn choose(&mut self, ui: &mut egui::Ui) {
        let offers = self.offers();
        let on = self.participation().cloned();
        let mut leaving_shown = false;
        for offer in offers {
            if LEAVING.contains(&offer) {
                if leaving_shown {
                    continue;
                }
                leaving_shown = true;
                let text = if offer == Offer::Remove {
                    offer_label(Offer::Remove, on.as_ref())
                } else {
                    "Teilnehmer:in beendet die aktuelle Teilnahme oder setzt diese aus".into()
                };
                if ui.button(text).clicked() {
                    self.page = Page::Leave;
                    self.leave = None;
                }
                continue;
            }
            if ui.button(offer_label(offer, on.as_ref())).clicked() {
                self.open(offer);
            }
        }
    }

    fn leave_page(&mut self, ui: &mut egui::Ui) {
        let on = self.participation().cloned();
        ui.label("Wie verlässt die Person die Maßnahme?");
        for offer in self.offers().into_iter().filter(|o| LEAVING.contains(o)) {
            ui.radio_value(
                &mut self.leave,
                Some(offer),
                offer_label(offer, on.as_ref()),
            );
        }
        ui.horizontal(|ui| {
            if ui.button("Zurück").clicked() {
                self.page = Page::Choose;
            }
            if let Some(offer) = self.leave
                && ui.button("Weiter").clicked()
            {
                self.open(offer);
            }
        });
    }

    fn programme_choice(
        &mut self,
        ui: &mut egui::Ui,
        catalogue: &CatalogueView,
        same_type_as: Option<&ProgrammeSnapshot>,
    ) {
        let label = ui.label("Maßnahme");
        let selected = self
            .programme
            .as_ref()
            .and_then(|id| catalogue.programmes.get(id))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "bitte wählen".into());
        let before = self.programme.clone();
        egui::ComboBox::from_id_salt("assistant-programme")
            .selected_text(selected)
            .width(280.0)
            .show_ui(ui, |ui| {
                for (id, programme) in catalogue.choosable() {
                    if same_type_as.is_some_and(|s| s.programme_type != programme.programme_type) {
                        continue;
                    }
                    ui.selectable_value(
                        &mut self.programme,
                        Some(id.clone()),
                        format!("{} ({})", programme.name, programme.programme_type.short()),
                    );
                }
            })
            .response
            .labelled_by(label.id);
        if self.programme != before {
            self.stage = None;
        }
        let stages = self
            .programme
            .as_ref()
            .and_then(|id| catalogue.programmes.get(id))
            .map(|p| p.stages.clone())
            .unwrap_or_default();
        ui.add_enabled_ui(!stages.is_empty(), |ui| {
            stage_choice(
                ui,
                "Einstiegsqualifizierungsstufe",
                "–",
                &stages,
                &mut self.stage,
            );
        });
    }

    fn periods(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            field(ui, "Förderzeitraum von", &mut self.funding_from);
            field(ui, "bis", &mut self.funding_to);
        });
        ui.horizontal(|ui| {
            field(
                ui,
                "Geplanter Teilnahmezeitraum von",
                &mut self.planned_from,
            );
            field(ui, "bis", &mut self.planned_to);
        });
    }

    fn interruption_fields(&mut self, ui: &mut egui::Ui) {
        ui.checkbox(&mut self.interruption, "Maßnahmeunterbrechung speichern");
        if self.interruption {
            field(ui, "Unterbrechungsgrund", &mut self.reason);
            ui.horizontal(|ui| {
                field(
                    ui,
                    "Geplante Unterbrechung von",
                    &mut self.interruption_from,
                );
                field(ui, "bis", &mut self.interruption_to);
            });
        }
    }

    fn form(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
        offer: Offer,
    ) -> Outcome {
        ui.label(RichText::new(offer_label(offer, self.participation())).strong());
        let on = self.participation().cloned();
        let mut needs_result = false;
        match offer {
            Offer::Enrol => {
                self.programme_choice(ui, catalogue, None);
                field(ui, "Abschnittsname", &mut self.section_name);
                site_choice(ui, "assistant-site", catalogue, &mut self.site);
                self.periods(ui);
                field(ui, "Einstiegsdatum", &mut self.date);
                ui.radio_value(&mut self.waiting_list, false, "Teilnehmer:in aktivieren");
                ui.radio_value(&mut self.waiting_list, true, "Auf die Warteliste setzen");
            }
            Offer::Activate => {
                field(ui, "Einstiegsdatum", &mut self.date);
                field(ui, "Abschnittsname", &mut self.section_name);
                site_choice(ui, "assistant-site", catalogue, &mut self.site);
            }
            Offer::Transfer => {
                self.programme_choice(ui, catalogue, on.as_ref().map(|p| &p.programme));
                site_choice(ui, "assistant-site", catalogue, &mut self.site);
                self.periods(ui);
                field(ui, "Eintritt in die neue Maßnahme", &mut self.date);
                ui.radio_value(
                    &mut self.quick,
                    false,
                    "Teilnehmer:in jetzt umbuchen (Standard)",
                );
                ui.radio_value(
                    &mut self.quick,
                    true,
                    "Teilnehmer:in schnell umbuchen (Ergebnis später nacherfassen)",
                );
                needs_result = !self.quick;
            }
            Offer::End | Offer::Abort => {
                field(ui, "Letzter Tag", &mut self.date);
                needs_result = true;
            }
            Offer::Suspend => {
                field(ui, "Letzter Tag vor der Unterbrechung", &mut self.date);
                self.interruption_fields(ui);
            }
            Offer::Resume => {
                field(ui, "Wiedereinstiegsdatum", &mut self.date);
                field(ui, "Planmäßiges Ausstiegsdatum", &mut self.planned_exit);
                field(ui, "Abschnittsname", &mut self.section_name);
                site_choice(ui, "assistant-site", catalogue, &mut self.site);
                self.interruption_fields(ui);
            }
            Offer::Remove => {
                ui.label(
                    "Die Maßnahme wird aus den Maßnahmedaten dieser Person gelöscht, mit allen \
                     dazugehörigen Dokumentationsdaten. Diese Funktion dient der Fehlerkorrektur.",
                );
            }
            Offer::RecordResult => {
                field(ui, "Maßnahmeergebnis", &mut self.outcome);
                field(ui, "Bemerkungen", &mut self.remarks);
            }
            Offer::ChangeStage => {
                let stages = on
                    .as_ref()
                    .map(|p| p.programme.stages.clone())
                    .unwrap_or_default();
                stage_choice(
                    ui,
                    "Neue Qualifizierungsstufe",
                    "bitte wählen",
                    &stages,
                    &mut self.stage,
                );
                site_choice(ui, "assistant-site", catalogue, &mut self.site);
                field(ui, "Beginn der neuen Stufe", &mut self.date);
                field(ui, "Planmäßiges Ende", &mut self.planned_exit);
            }
            Offer::CorrectProgramme => {
                self.programme_choice(ui, catalogue, None);
            }
            Offer::CorrectEntry => {
                field(ui, "Tatsächliches Eintrittsdatum", &mut self.date);
            }
        }
        let mut outcome = Outcome::Open;
        ui.horizontal(|ui| {
            if ui.button("Zurück").clicked() {
                self.page = if LEAVING.contains(&offer) {
                    Page::Leave
                } else {
                    Page::Choose
                };
                self.error = None;
            }
            if needs_result {
                if ui.button("Weiter").clicked() {
                    match self.check(catalogue, offer) {
                        Ok(()) => {
                            self.page = Page::Result(offer);
                            self.error = None;
                        }
                        Err(error) => self.error = Some(error),
                    }
                }
            } else if ui.button("Fertigstellen").clicked() {
                if offer == Offer::Remove {
                    // Asked first: see `show`.
                    self.confirm_remove = true;
                } else {
                    outcome = self.finish(workspace, person, catalogue, offer);
                }
            }
        });
        outcome
    }

    fn result_page(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
        offer: Offer,
    ) -> Outcome {
        ui.label(RichText::new("Maßnahmeergebnis erfassen").strong());
        field(ui, "Maßnahmeergebnis", &mut self.outcome);
        field(ui, "Bemerkungen", &mut self.remarks);
        let mut outcome = Outcome::Open;
        ui.horizontal(|ui| {
            if ui.button("Zurück").clicked() {
                self.page = Page::Form(offer);
            }
            if ui.button("Fertigstellen").clicked() {
                outcome = self.finish(workspace, person, catalogue, offer);
            }
        });
        outcome
    }
}
