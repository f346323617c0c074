//! The client window's ⋮ menu: merken, sperren (also "Sperren bis …") and entsperren,
//! "Passwort vergeben" and "Einladung versenden" for active people, and for admins
//! "Direkt-Nachricht" and löschen/wiederherstellen; with the small windows it opens
//! (the direct message has a file of its own, [`super::message`]).

use egui::RichText;
use model::client_record::ClientRecord;

use super::{ClientWindow, MessageForm};
use crate::german;
use crate::rows::RowStatus;
use crate::ui::widgets::{Answer, confirm, error_line, field};
use crate::workspace::Workspace;

#[derive(Default)]
pub struct PasswordForm {
    pub password: String,
    pub repeat: String,
    pub error: Option<String>,
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordForm { .. }")
    }
}

/// What the menu offers about locking: "Sperren" for an active person, "Entsperren" for
/// a locked one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockChoice {
    Lock,
    Unlock,
}

impl ClientWindow {
    pub(super) fn menu(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        let doc = self.doc.clone();
        let bookmarked = workspace.bookmarks().contains(&doc);
        let status = workspace.member(&doc).map(|m| m.status.clone());
        ui.menu_button("…", |ui| {
            if ui
                .button(if bookmarked {
                    "Nicht mehr merken"
                } else {
                    "Merken"
                })
                .clicked()
            {
                self.error = workspace.toggle_bookmark(&doc).err().map(|e| e.to_string());
                ui.close();
            }
            let lock = match status {
                Some(RowStatus::Locked(_)) => Some(LockChoice::Unlock),
                Some(RowStatus::Active) => Some(LockChoice::Lock),
                _ => None,
            };
            if lock == Some(LockChoice::Lock) && ui.button("Sperren bis …").clicked() {
                self.lock_until = Some(String::new());
                ui.close();
            }
            if let Some(lock) = lock
                && ui
                    .button(match lock {
                        LockChoice::Lock => "Sperren",
                        LockChoice::Unlock => "Entsperren",
                    })
                    .clicked()
            {
                self.error = workspace
                    .edit::<ClientRecord, _>(&doc, |d, e| {
                        match lock {
                            LockChoice::Lock => d.lock(e, None)?,
                            LockChoice::Unlock => d.unlock(e)?,
                        };
                        Ok(())
                    })
                    .err()
                    .map(|e| e.to_string());
                ui.close();
            }
            if status == Some(RowStatus::Active) {
                if ui.button("Passwort vergeben").clicked() {
                    self.password = Some(PasswordForm::default());
                    ui.close();
                }
                if ui.button("Einladung versenden").clicked() {
                    self.error = workspace.send_invitation(&doc).err().map(|e| e.to_string());
                    ui.close();
                }
            }
            if workspace.is_admin() && ui.button("Direkt-Nachricht").clicked() {
                self.message = Some(MessageForm::default());
                ui.close();
            }
            if workspace.is_admin() {
                let deleted = status == Some(RowStatus::Deleted);
                if ui
                    .button(if deleted {
                        "Wiederherstellen"
                    } else {
                        "Löschen"
                    })
                    .clicked()
                {
                    if deleted {
                        self.error = workspace.restore_client(&doc).err().map(|e| e.to_string());
                    } else {
                        // Asked first, with the red button (see `delete_confirmation`).
                        self.confirm_delete = Some(
                            workspace
                                .member(&doc)
                                .map(|m| m.pseudonym.clone())
                                .unwrap_or_default(),
                        );
                    }
                    ui.close();
                }
            }
        });
    }

    /// "löschen" asks first: the person is marked for deletion only after the red button.
    pub(super) fn delete_confirmation(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(pseudonym) = &self.confirm_delete else {
            return;
        };
        let interval = workspace
            .catalogue()
            .settings
            .as_ref()
            .map(|s| s.deletion_interval_days);
        let text = format!(
            "„{pseudonym}“ wird zum Löschen vorgemerkt und kann sich nicht mehr anmelden. {}",
            match interval {
                Some(1) => "Nach 1 Tag (Löschintervall der Einrichtung) werden die Daten \
                            endgültig gelöscht; bis dahin lässt sich die Person wiederherstellen."
                    .to_owned(),
                Some(days) => format!(
                    "Nach {days} Tagen (Löschintervall der Einrichtung) werden die Daten \
                     endgültig gelöscht; bis dahin lässt sich die Person wiederherstellen."
                ),
                None => "Nach dem Löschintervall der Einrichtung werden die Daten endgültig \
                         gelöscht; bis dahin lässt sich die Person wiederherstellen."
                    .to_owned(),
            }
        );
        match confirm(ctx, "Klient:in löschen", &text, "Zum Löschen vormerken") {
            Answer::Open => {}
            Answer::Cancelled => self.confirm_delete = None,
            Answer::Confirmed => {
                self.error = workspace
                    .delete_client(&self.doc)
                    .err()
                    .map(|e| e.to_string());
                self.confirm_delete = None;
            }
        }
    }

    /// "Sperren bis …": locked until the end of that day.
    pub(super) fn lock_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(until) = &mut self.lock_until else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new("Vorübergehend sperren")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                field(ui, "Gesperrt bis", until);
                if ui.button("Sperren").clicked() {
                    match german::parse_date(until) {
                        Some(day) if day >= german::today() => {
                            self.error = workspace
                                .edit::<ClientRecord, _>(&self.doc, |d, e| {
                                    Ok(d.lock(e, Some(day)).map(|_| ())?)
                                })
                                .err()
                                .map(|e| e.to_string());
                            done = true;
                        }
                        Some(_) => {
                            self.error = Some("Das Datum liegt in der Vergangenheit".into());
                        }
                        None => {
                            self.error =
                                Some(format!("„{}“ ist kein Datum (TT.MM.JJJJ)", until.trim()));
                        }
                    }
                }
            });
        if done || !open {
            self.lock_until = None;
        }
    }

    /// "Passwort vergeben": queued for the server like every request, so it works
    /// offline and waits, shown as pending.
    pub(super) fn password_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.password else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new("Passwort vergeben")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                for (label, value) in [
                    ("Neues Passwort", &mut form.password),
                    ("Passwort wiederholen", &mut form.repeat),
                ] {
                    let label = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).password(true))
                        .labelled_by(label.id);
                }
                ui.label(
                    RichText::new(
                        "Die Weitergabe des Passwortes muss über einen geschützten \
                         Kommunikationskanal erfolgen. Die Person sollte es nach der Anmeldung \
                         ändern.",
                    )
                    .italics(),
                );
                error_line(ui, &form.error);
                if ui.button("Speichern").clicked() {
                    form.error = if form.password != form.repeat {
                        Some("Die beiden Passwörter stimmen nicht überein".into())
                    } else {
                        workspace
                            .set_person_password(&self.doc, &form.password)
                            .err()
                            .map(|e| e.to_string())
                    };
                    done = form.error.is_none();
                }
            });
        if done || !open {
            self.password = None;
        }
    }
}
