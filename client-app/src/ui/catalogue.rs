//! "Aufträge" (the manual's ORGANISATION→Aufträge and →Stammdaten→Arbeitszeiten), for
//! admins: the tenant's programmes with their type and qualification stages, its sites,
//! the working-time rules of the tenant and of each programme, and the tenant's
//! settings (Löschintervall, who reads a Teilnahmeverlauf). A programme must
//! exist before anyone can be enrolled in it.

use egui::RichText;
use model::ProgrammeId;
use model::catalogue::{DEFAULT_DELETION_INTERVAL_DAYS, Settings};
use model::timeline::{ProgrammeType, StageDef};

use super::widgets::{error_line, field};
use super::working_time::{CatalogueWorkingTime, rule_line};
use crate::workspace::Workspace;

const TYPES: [ProgrammeType; 7] = [
    ProgrammeType::BvB,
    ProgrammeType::AbH,
    ProgrammeType::Agh,
    ProgrammeType::BaE,
    ProgrammeType::AuW,
    ProgrammeType::BerEb,
    ProgrammeType::Dtz,
];

#[derive(Debug)]
pub struct CatalogueScreen {
    name: String,
    programme_type: ProgrammeType,
    /// Stages as `EA Eignungsanalyse, GS Grundstufe`; BvB proposes its five.
    stages: String,
    site: String,
    master_field: String,
    criterion: String,
    tenant_rule: CatalogueWorkingTime,
    programme_rule: Option<(ProgrammeId, CatalogueWorkingTime)>,
    error: Option<String>,
    message: Option<String>,
    /// "Löschintervall (Tage)" as typed; `None` shows the catalogue's.
    interval: Option<String>,
}

impl Default for CatalogueScreen {
    fn default() -> Self {
        Self {
            name: String::new(),
            programme_type: ProgrammeType::BvB,
            stages: stages_text(&StageDef::bvb()),
            site: String::new(),
            master_field: String::new(),
            criterion: String::new(),
            tenant_rule: CatalogueWorkingTime::default(),
            programme_rule: None,
            error: None,
            message: None,
            interval: None,
        }
    }
}

fn stages_text(stages: &[StageDef]) -> String {
    stages
        .iter()
        .map(|s| format!("{} {}", s.code, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `EA Eignungsanalyse, GS Grundstufe`: a code, then the name.
fn parse_stages(text: &str) -> Vec<StageDef> {
    text.split(',')
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            let (code, name) = part.split_once(' ').unwrap_or((part, part));
            Some(StageDef::new(code.trim(), name.trim()))
        })
        .collect()
}

impl CatalogueScreen {
    pub fn show(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        let catalogue = workspace.catalogue();
        error_line(ui, &self.error);
        if let Some(message) = &self.message {
            ui.label(message);
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label(RichText::new("Aufträge").strong());
            if catalogue.programmes.is_empty() {
                ui.label("Noch keine Aufträge angelegt.");
            }
            for (id, programme) in catalogue.choosable() {
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{} ({}){}",
                        programme.name,
                        programme.programme_type.short(),
                        if programme.stages.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " – Stufen: {}",
                                programme
                                    .stages
                                    .iter()
                                    .map(|s| s.code.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    ));
                    if ui.small_button("Arbeitszeiten").clicked() {
                        self.programme_rule = Some((id.clone(), CatalogueWorkingTime::default()));
                    }
                });
                for rule in programme.working_time.values() {
                    ui.label(format!("    Arbeitszeit: {}", rule_line(rule)));
                }
                if let Some((chosen, form)) = &mut self.programme_rule
                    && chosen == id
                {
                    let id = id.clone();
                    if let Some(rule) = form.show(ui, workspace, "Arbeitszeitregelung hinzufügen")
                    {
                        match rule.and_then(|rule| {
                            workspace
                                .add_catalogue_working_time(Some(&id), rule)
                                .map_err(|e| e.to_string())
                        }) {
                            Ok(_) => {
                                self.programme_rule = None;
                                self.error = None;
                            }
                            Err(error) => self.error = Some(error),
                        }
                    }
                }
            }
            ui.separator();
            ui.label(RichText::new("Auftrag anlegen").strong());
            field(ui, "Name des Auftrags", &mut self.name);
            ui.horizontal(|ui| {
                let label = ui.label("Maßnahmetyp");
                let before = self.programme_type.clone();
                egui::ComboBox::from_id_salt("programme-type")
                    .selected_text(self.programme_type.short())
                    .show_ui(ui, |ui| {
                        for t in TYPES {
                            let text = t.short().to_owned();
                            ui.selectable_value(&mut self.programme_type, t, text);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                if self.programme_type != before {
                    self.stages = if self.programme_type == ProgrammeType::BvB {
                        stages_text(&StageDef::bvb())
                    } else {
                        String::new()
                    };
                }
            });
            field(ui, "Qualifizierungsstufen (leer: keine)", &mut self.stages);
            if ui.button("Auftrag anlegen").clicked() {
                match workspace.add_programme(
                    &self.name,
                    self.programme_type.clone(),
                    parse_stages(&self.stages),
                ) {
                    Ok(_) => {
                        self.message = Some(format!("Auftrag „{}“ angelegt.", self.name.trim()));
                        self.name.clear();
                        self.error = None;
                    }
                    Err(error) => self.error = Some(error.to_string()),
                }
            }
            ui.separator();
            ui.label(RichText::new("Standorte").strong());
            for site in catalogue.sites.values() {
                ui.label(&site.name);
            }
            ui.horizontal(|ui| {
                field(ui, "Neuer Standort", &mut self.site);
                if ui.button("Standort anlegen").clicked() {
                    match workspace.add_site(&self.site) {
                        Ok(_) => {
                            self.site.clear();
                            self.error = None;
                        }
                        Err(error) => self.error = Some(error.to_string()),
                    }
                }
            });
            ui.separator();
            ui.label(RichText::new("Stammdatenfelder und Filterkriterien").strong());
            let mut fields: Vec<_> = catalogue.master_data_fields.values().collect();
            fields.sort_by_key(|f| f.position);
            for f in fields {
                ui.label(format!("Stammdatenfeld: {}", f.label));
            }
            for label in catalogue.filter_criteria.values() {
                ui.label(format!("Filterkriterium: {label}"));
            }
            ui.horizontal(|ui| {
                field(ui, "Neues Stammdatenfeld", &mut self.master_field);
                if ui.button("Feld anlegen").clicked() {
                    match workspace.add_master_data_field(&self.master_field) {
                        Ok(()) => {
                            self.master_field.clear();
                            self.error = None;
                        }
                        Err(error) => self.error = Some(error.to_string()),
                    }
                }
            });
            ui.horizontal(|ui| {
                field(ui, "Neues Filterkriterium", &mut self.criterion);
                if ui.button("Kriterium anlegen").clicked() {
                    match workspace.add_filter_criterion(&self.criterion) {
                        Ok(()) => {
                            self.criterion.clear();
                            self.error = None;
                        }
                        Err(error) => self.error = Some(error.to_string()),
                    }
                }
            });
            self.settings(ui, workspace, catalogue.settings.as_ref());
            ui.separator();
            ui.label(RichText::new("Arbeitszeiten des Mandanten").strong());
            for rule in catalogue.working_time.values() {
                ui.label(rule_line(rule));
            }
            if let Some(rule) =
                self.tenant_rule
                    .show(ui, workspace, "Arbeitszeitregelung hinzufügen")
            {
                match rule.and_then(|rule| {
                    workspace
                        .add_catalogue_working_time(None, rule)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(_) => {
                        self.tenant_rule.close();
                        self.error = None;
                    }
                    Err(error) => self.error = Some(error),
                }
            }
        });
    }
}

impl CatalogueScreen {
    /// "Einstellungen der Einrichtung": the deletion interval (days between "gelöscht"
    /// and the purge, at least 1) and whether a person's Teilnahmeverlauf is read only by
    /// staff responsible for them.
    fn settings(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        settings: Option<&Settings>,
    ) {
        ui.separator();
        ui.label(RichText::new("Einstellungen der Einrichtung").strong());
        let days = settings.map_or(DEFAULT_DELETION_INTERVAL_DAYS, |s| s.deletion_interval_days);
        ui.horizontal(|ui| {
            let mut typed = self.interval.clone().unwrap_or_else(|| days.to_string());
            let label = ui.label("Löschintervall (Tage)");
            let edit = ui
                .add(egui::TextEdit::singleline(&mut typed).desired_width(60.0))
                .labelled_by(label.id);
            if edit.changed() {
                self.interval = Some(typed.clone());
            }
            if ui.button("Löschintervall speichern").clicked() {
                let saved = match typed.trim().parse::<u64>() {
                    Ok(days) => workspace
                        .set_deletion_interval(days)
                        .map(|()| days)
                        .map_err(|e| e.to_string()),
                    Err(_) => Err(format!(
                        "„{}“ ist keine Zahl von Tagen (mindestens 1)",
                        typed.trim()
                    )),
                };
                match saved {
                    Ok(days) => {
                        self.interval = None;
                        self.error = None;
                        self.message = Some(format!("Löschintervall: {days} Tage."));
                    }
                    Err(error) => self.error = Some(error),
                }
            }
        });
        ui.label(
            RichText::new(
                "So viele Tage nach dem Löschen werden die Daten einer Person endgültig \
                 entfernt; bis dahin lässt sie sich wiederherstellen.",
            )
            .weak(),
        );
        let mut restricted = settings.is_some_and(|s| s.restrict_timeline_to_responsibles);
        if ui
            .checkbox(
                &mut restricted,
                "Teilnahmeverlauf nur für zuständige Mitarbeiter:innen sichtbar",
            )
            .changed()
        {
            self.error = workspace
                .set_timeline_restriction(restricted)
                .err()
                .map(|e| e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_as_code_then_name() {
        let stages = parse_stages(" EA Eignungsanalyse, GS Grundstufe ,, ST");
        assert_eq!(
            stages,
            vec![
                StageDef::new("EA", "Eignungsanalyse"),
                StageDef::new("GS", "Grundstufe"),
                StageDef::new("ST", "ST"),
            ]
        );
        assert_eq!(
            parse_stages(&stages_text(&StageDef::bvb())),
            StageDef::bvb()
        );
    }
}
