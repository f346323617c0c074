//! "Zuständigkeiten" (manual 004): the primary caretaker (exactly one, decided by the
//! conflict rules; its name is the tenant's label) and any number of further
//! responsibilities with kind, label, linked user, period and "Deaktiviert". A merge
//! never loses one: two concurrent primary claims leave the losing user on as a
//! caretaker, shown here like any other.

use conflict_rules::record::RecordView;
use egui::RichText;
use model::client_record::{ClientRecord, NewResponsibility, ResponsibilityKind};
use model::{EntityId, TenantId, UserId};

use super::input::{date_text, period};
use super::widgets::field;
use crate::workspace::Workspace;

/// The kind chosen in the form: the primary caretaker, or one of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Primary,
    Other(ResponsibilityKind),
}

#[derive(Debug)]
struct Form {
    /// The responsibility edited; `None` for a new one.
    editing: Option<EntityId>,
    kind: Kind,
    label: String,
    user: Option<String>,
    from: String,
    to: String,
}

#[derive(Debug, Default)]
pub struct Responsibilities {
    form: Option<Form>,
}

impl Responsibilities {
    /// Shows the section; returns an error to show, if an edit failed.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        record: &ClientRecord,
        view: &RecordView,
        primary_label: &str,
    ) -> Option<String> {
        let mut error = None;
        egui::CollapsingHeader::new(RichText::new("Zuständigkeiten").strong())
            .id_salt("responsibilities")
            .default_open(true)
            .show(ui, |ui| {
                match &view.primary {
                    Some(primary) => ui.label(format!(
                        "{primary_label}: {}",
                        workspace.staff_name(primary.user.as_str())
                    )),
                    None => ui.label(format!("{primary_label}: – (bitte zuweisen)")),
                };
                for (id, r) in &view.responsibilities {
                    ui.horizontal(|ui| {
                        let label = if r.label.is_empty() {
                            r.kind.german().to_owned()
                        } else {
                            r.label.clone()
                        };
                        let mut text =
                            format!("{label}: {}", workspace.staff_name(r.user.as_str()));
                        if r.valid.from.is_some() || r.valid.to.is_some() {
                            text.push_str(&format!(
                                " ({} – {})",
                                date_text(r.valid.from),
                                date_text(r.valid.to)
                            ));
                        }
                        if r.deactivated {
                            ui.label(RichText::new(format!("{text} – deaktiviert")).weak());
                        } else {
                            ui.label(text);
                        }
                        // Caretakers left by a lost primary claim live in the view only.
                        if !record.responsibilities.contains_key(id) {
                            return;
                        }
                        if ui.small_button("Diese Zuständigkeit bearbeiten").clicked() {
                            self.form = Some(Form {
                                editing: Some(id.clone()),
                                kind: Kind::Other(r.kind),
                                label: r.label.clone(),
                                user: Some(r.user.to_string()),
                                from: date_text(r.valid.from),
                                to: date_text(r.valid.to),
                            });
                        }
                        let toggle = if r.deactivated {
                            "Aktivieren"
                        } else {
                            "Deaktivieren"
                        };
                        if ui.small_button(toggle).clicked() {
                            let on = !r.deactivated;
                            error = workspace
                                .edit::<ClientRecord, _>(person, |d, _| {
                                    Ok(d.set_responsibility_deactivated(id, on)?)
                                })
                                .err()
                                .map(|e| e.to_string());
                        }
                    });
                }
                match &mut self.form {
                    None => {
                        if ui.button("+ Zuständigkeit hinzufügen").clicked() {
                            self.form = Some(Form {
                                editing: None,
                                kind: Kind::Other(ResponsibilityKind::Caretaker),
                                label: String::new(),
                                user: None,
                                from: String::new(),
                                to: String::new(),
                            });
                        }
                    }
                    Some(form) => {
                        if let Some(done) = form.show(ui, workspace, person, primary_label) {
                            match done {
                                Ok(()) => self.form = None,
                                Err(e) => error = Some(e),
                            }
                        }
                    }
                }
            });
        error
    }
}

impl Form {
    /// The form; `Some` once saved (or cancelled: `Ok`).
    fn show(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        person: &str,
        primary_label: &str,
    ) -> Option<Result<(), String>> {
        let kind_text = |kind: Kind| match kind {
            Kind::Primary => primary_label.to_owned(),
            Kind::Other(k) => k.german().to_owned(),
        };
        ui.horizontal(|ui| {
            let label = ui.label("Art der Zuständigkeit");
            egui::ComboBox::from_id_salt("responsibility-kind")
                .selected_text(kind_text(self.kind))
                .show_ui(ui, |ui| {
                    if self.editing.is_none() {
                        ui.selectable_value(
                            &mut self.kind,
                            Kind::Primary,
                            kind_text(Kind::Primary),
                        );
                    }
                    for k in ResponsibilityKind::ALL {
                        ui.selectable_value(&mut self.kind, Kind::Other(k), k.german());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if self.kind != Kind::Primary {
            field(ui, "Bezeichnung", &mut self.label);
        }
        if self.editing.is_none() {
            ui.horizontal(|ui| {
                let label = ui.label("Verknüpfte:r Benutzer:in");
                let selected = self
                    .user
                    .as_deref()
                    .map(|u| workspace.staff_name(u))
                    .unwrap_or_else(|| "bitte wählen".into());
                egui::ComboBox::from_id_salt("responsibility-user")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        for member in workspace.profile().staff.clone() {
                            if member.role.is_staff() {
                                ui.selectable_value(
                                    &mut self.user,
                                    Some(member.id.clone()),
                                    member.login.clone(),
                                );
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
        }
        if self.kind != Kind::Primary {
            ui.horizontal(|ui| {
                field(ui, "Zuständig von", &mut self.from);
                field(ui, "bis", &mut self.to);
            });
        }
        let (save, cancel) = ui
            .horizontal(|ui| {
                (
                    ui.button("Speichern").clicked(),
                    ui.button("Abbrechen").clicked(),
                )
            })
            .inner;
        if cancel {
            return Some(Ok(()));
        }
        if !save {
            return None;
        }
        Some(self.save(workspace, person))
    }

    fn save(&self, workspace: &mut Workspace, person: &str) -> Result<(), String> {
        let user = || {
            self.user
                .clone()
                .map(UserId::new)
                .ok_or_else(|| "Bitte eine:n Mitarbeiter:in wählen".to_owned())
        };
        let tenant = TenantId::new(workspace.profile().tenant.clone());
        match (self.kind, &self.editing) {
            (Kind::Primary, _) => {
                let user = user()?;
                workspace
                    .edit::<ClientRecord, _>(person, |d, e| {
                        Ok(d.claim_primary(e, user).map(|_| ())?)
                    })
                    .map_err(|e| e.to_string())
            }
            (Kind::Other(kind), Some(id)) => {
                let valid = period(&self.from, &self.to)?;
                workspace
                    .edit::<ClientRecord, _>(person, |d, _| {
                        Ok(d.update_responsibility(id, kind, self.label.trim(), valid)?)
                    })
                    .map_err(|e| e.to_string())
            }
            (Kind::Other(kind), None) => {
                let new = NewResponsibility {
                    kind,
                    label: Some(self.label.trim().to_owned()).filter(|l| !l.is_empty()),
                    user: user()?,
                    user_tenant: tenant,
                    valid: period(&self.from, &self.to)?,
                };
                workspace
                    .edit::<ClientRecord, _>(person, |d, e| {
                        Ok(d.add_responsibility(e, new).map(|_| ())?)
                    })
                    .map_err(|e| e.to_string())
            }
        }
    }
}
