//! "Profil bearbeiten": name, first name, language, the tenant's master-data fields
//! ("Stammdaten") and filter criteria. Only what changed is written, field by field, so
//! an edit never undoes a colleague's concurrent change of another field.

use std::collections::BTreeMap;

use egui::RichText;
use model::client_record::ClientRecord;

use super::widgets::{error_line, field};
use crate::workspace::{CatalogueView, Workspace};

#[derive(Debug)]
pub struct ProfileForm {
    name: String,
    first_name: String,
    language: String,
    master_data: BTreeMap<String, String>,
    criteria: BTreeMap<String, bool>,
    pub error: Option<String>,
}

/// What the person did with the form this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    Save,
    Cancel,
}

impl ProfileForm {
    pub fn of(record: &ClientRecord) -> Self {
        Self {
            name: record.name.clone(),
            first_name: record.first_name.clone(),
            language: record.language.clone().unwrap_or_default(),
            master_data: record.master_data.clone(),
            criteria: record.filter_criteria.clone(),
            error: None,
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui, catalogue: &CatalogueView) -> Action {
        field(ui, "Name", &mut self.name);
        field(ui, "Vorname", &mut self.first_name);
        field(ui, "Sprache", &mut self.language);
        let mut fields: Vec<_> = catalogue.master_data_fields.iter().collect();
        fields.sort_by_key(|(key, f)| (f.position, (*key).clone()));
        if !fields.is_empty() {
            ui.label(RichText::new("Stammdaten").strong());
        }
        for (key, definition) in fields {
            let value = self.master_data.entry(key.clone()).or_default();
            field(ui, &definition.label, value);
        }
        if !catalogue.filter_criteria.is_empty() {
            ui.label(RichText::new("Filterkriterien").strong());
        }
        for (key, label) in &catalogue.filter_criteria {
            let on = self.criteria.entry(key.clone()).or_default();
            ui.checkbox(on, label);
        }
        error_line(ui, &self.error);
        let (save, cancel) = ui
            .horizontal(|ui| {
                (
                    ui.button("Profil speichern").clicked(),
                    ui.button("Abbrechen").clicked(),
                )
            })
            .inner;
        match (save, cancel) {
            (true, _) => Action::Save,
            (_, true) => Action::Cancel,
            _ => Action::None,
        }
    }

    /// Writes what differs from `record`, in one edit.
    pub fn save(
        &self,
        workspace: &mut Workspace,
        doc: &str,
        record: &ClientRecord,
    ) -> Result<(), String> {
        let name_changed =
            self.name.trim() != record.name || self.first_name.trim() != record.first_name;
        let language = Some(self.language.trim()).filter(|l| !l.is_empty());
        let language_changed = language != record.language.as_deref();
        let master: Vec<(&String, Option<&str>)> = self
            .master_data
            .iter()
            .map(|(key, value)| (key, Some(value.trim()).filter(|v| !v.is_empty())))
            .filter(|(key, value)| record.master_data.get(*key).map(String::as_str) != *value)
            .collect();
        let criteria: Vec<(&String, bool)> = self
            .criteria
            .iter()
            .filter(|(key, on)| record.filter_criteria.get(*key).copied().unwrap_or(false) != **on)
            .map(|(key, on)| (key, *on))
            .collect();
        workspace
            .edit::<ClientRecord, _>(doc, |d, _| {
                if name_changed {
                    d.set_name(self.name.trim(), self.first_name.trim())?;
                }
                if language_changed {
                    d.set_language(language)?;
                }
                for (key, value) in &master {
                    d.set_master_data(key, *value)?;
                }
                for (key, on) in &criteria {
                    d.set_filter_criterion(key, *on)?;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())
    }
}
