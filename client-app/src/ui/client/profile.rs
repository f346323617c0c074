//! The client window's "Profil" tab: the record's fields, the pseudonym edited in place,
//! the primary caretaker ("Stammberater:in") chosen from the colleagues, status, account,
//! responsibilities, master data and filter criteria; "Profil bearbeiten" opens
//! [`crate::ui::profile_form`].

use model::UserId;
use model::client_record::ClientRecord;

use super::ClientWindow;
use crate::ui::members::{account_words, status_text};
use crate::ui::profile_form::{Action, ProfileForm};
use crate::workspace::{ContactData, Workspace};

impl ClientWindow {
    pub(super) fn profile(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        record: &ClientRecord,
        view: &conflict_rules::record::RecordView,
    ) {
        let doc = self.doc.clone();
        if let Some(form) = &mut self.profile_form {
            let catalogue = workspace.catalogue();
            match form.show(ui, &catalogue) {
                Action::None => {}
                Action::Cancel => self.profile_form = None,
                Action::Save => match form.save(workspace, &doc, record) {
                    Ok(()) => self.profile_form = None,
                    Err(error) => form.error = Some(error),
                },
            }
            return;
        }
        if ui.button("Profil bearbeiten").clicked() {
            self.profile_form = Some(ProfileForm::of(record));
        }
        egui::Grid::new("profile")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                ui.label("Klienten ID");
                ui.label(record.client_id.to_string());
                ui.end_row();
                ui.label("Accountname / Pseudonym");
                ui.horizontal(|ui| match &mut self.pseudonym {
                    Some(draft) => {
                        let label = ui.label("Neues Pseudonym");
                        ui.add(egui::TextEdit::singleline(draft).desired_width(200.0))
                            .labelled_by(label.id);
                        if ui.small_button("Speichern").clicked() {
                            let text = draft.clone();
                            match workspace
                                .edit::<ClientRecord, _>(&doc, |d, _| Ok(d.set_pseudonym(&text)?))
                            {
                                Ok(()) => self.pseudonym = None,
                                Err(error) => self.error = Some(error.to_string()),
                            }
                        }
                    }
                    None => {
                        ui.label(&record.pseudonym);
                        if ui.small_button("Bearbeiten").clicked() {
                            self.pseudonym = Some(record.pseudonym.clone());
                        }
                    }
                });
                ui.end_row();
                ui.label("Name, Vorname");
                ui.label(format!("{}, {}", record.name, record.first_name));
                ui.end_row();
                ui.label("Sprache");
                ui.label(record.language.clone().unwrap_or_else(|| "–".into()));
                ui.end_row();
                if workspace.is_admin() {
                    let ContactData { email, phone } =
                        workspace.contact_of(&doc).unwrap_or_default();
                    ui.label("E-Mail-Adresse");
                    ui.label(email.unwrap_or_else(|| "–".into()));
                    ui.end_row();
                    ui.label("Telefonnummer");
                    ui.label(phone.unwrap_or_else(|| "–".into()));
                    ui.end_row();
                }
                let label = ui.label("Stammberater:in");
                let current = view.primary.as_ref().map(|p| p.user.to_string());
                let mut chosen = current.clone();
                egui::ComboBox::from_id_salt("primary")
                    .selected_text(
                        current
                            .as_deref()
                            .map(|u| workspace.staff_name(u))
                            .unwrap_or_else(|| "–".into()),
                    )
                    .show_ui(ui, |ui| {
                        for member in workspace.profile().staff.clone() {
                            if member.role.is_staff() {
                                ui.selectable_value(
                                    &mut chosen,
                                    Some(member.id.clone()),
                                    member.login.clone(),
                                );
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                if chosen != current
                    && let Some(user) = chosen
                {
                    self.error = workspace
                        .edit::<ClientRecord, _>(&doc, |d, e| {
                            Ok(d.claim_primary(e, UserId::new(user)).map(|_| ())?)
                        })
                        .err()
                        .map(|e| e.to_string());
                }
                ui.end_row();
                ui.label("Status");
                ui.label(
                    workspace
                        .member(&doc)
                        .map(|m| status_text(&m.status))
                        .unwrap_or_default(),
                );
                ui.end_row();
                ui.label("Account / Letztes Login");
                ui.label(account_words(&record.account));
                ui.end_row();
                ui.label("Zuständigkeiten");
                ui.vertical(|ui| {
                    if view.responsibilities.is_empty() {
                        ui.label("–");
                    }
                    for responsibility in view.responsibilities.values() {
                        ui.label(format!(
                            "{}: {}{}",
                            if responsibility.label.is_empty() {
                                responsibility.kind.german().to_owned()
                            } else {
                                responsibility.label.clone()
                            },
                            workspace.staff_name(responsibility.user.as_str()),
                            if responsibility.deactivated {
                                " (deaktiviert)"
                            } else {
                                ""
                            }
                        ));
                    }
                });
                ui.end_row();
                let on: Vec<&String> = record
                    .filter_criteria
                    .iter()
                    .filter(|(_, on)| **on)
                    .map(|(key, _)| key)
                    .collect();
                if !record.master_data.is_empty() || !on.is_empty() {
                    let catalogue = workspace.catalogue();
                    if !record.master_data.is_empty() {
                        ui.label("Stammdaten");
                        ui.vertical(|ui| {
                            for (key, value) in &record.master_data {
                                let label = catalogue
                                    .master_data_fields
                                    .get(key)
                                    .map_or(key.as_str(), |f| f.label.as_str());
                                ui.label(format!("{label}: {value}"));
                            }
                        });
                        ui.end_row();
                    }
                    if !on.is_empty() {
                        ui.label("Filterkriterien");
                        ui.label(
                            on.iter()
                                .map(|key| {
                                    catalogue
                                        .filter_criteria
                                        .get(*key)
                                        .map_or(key.as_str(), String::as_str)
                                })
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                        ui.end_row();
                    }
                }
            });
    }
}
