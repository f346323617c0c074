//! "Eigenen Account löschen": confirmed by typing the own password and the red button.
//! The server deletes the account (not the last active admin of a tenant); then the app
//! signs out and this device forgets the profile ([`crate::ui::App`] does that part).

use egui::RichText;

use super::widgets::{Answer, confirm_with, error_line};
use crate::workspace::{Pending, Workspace};

/// What became of the dialog this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Cancelled,
    /// The server deleted the account: sign out and remove the local store.
    Deleted,
}

#[derive(Default)]
pub struct OwnAccountDeletion {
    password: String,
    error: Option<String>,
    pending: Option<Pending<()>>,
}

impl std::fmt::Debug for OwnAccountDeletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OwnAccountDeletion { .. }")
    }
}

impl OwnAccountDeletion {
    pub fn show(&mut self, ctx: &egui::Context, workspace: &Workspace) -> Outcome {
        if let Some(answer) = self.pending.as_mut().and_then(Pending::poll) {
            self.pending = None;
            match answer {
                Ok(()) => return Outcome::Deleted,
                Err(error) => {
                    self.error = Some(error.to_string());
                    self.password.clear();
                }
            }
        }
        let waiting = self.pending.is_some();
        let unsynced = workspace.unsynced_changes();
        let answer = confirm_with(
            ctx,
            "Eigenen Account löschen",
            "Account endgültig löschen",
            !waiting && !self.password.is_empty(),
            |ui| {
                ui.label(format!(
                    "Der Account „{}“ wird gelöscht: Sie können sich danach nicht mehr \
                     anmelden, und die Daten dieses Accounts auf diesem Gerät werden entfernt. \
                     Die Klient:innen und ihre Daten bleiben für die Kolleg:innen erhalten.",
                    workspace.profile().login
                ));
                if unsynced > 0 {
                    ui.label(
                        RichText::new(format!(
                            "Achtung: {unsynced} Änderung(en) auf diesem Gerät sind noch nicht \
                             synchronisiert und gehen verloren."
                        ))
                        .strong(),
                    );
                }
                ui.add_space(6.0);
                let label = ui.label("Zur Bestätigung Ihr Passwort");
                ui.add_enabled(
                    !waiting,
                    egui::TextEdit::singleline(&mut self.password).password(true),
                )
                .labelled_by(label.id);
                error_line(ui, &self.error);
                if waiting {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Wartet auf den Server …");
                    });
                }
            },
        );
        match answer {
            Answer::Open => Outcome::Open,
            // While the server decides, the dialog stays.
            Answer::Cancelled if waiting => Outcome::Open,
            Answer::Cancelled => Outcome::Cancelled,
            Answer::Confirmed => {
                match workspace.delete_own_account(&self.password) {
                    Ok(pending) => {
                        self.error = None;
                        self.pending = Some(pending);
                    }
                    Err(error) => self.error = Some(error.to_string()),
                }
                Outcome::Open
            }
        }
    }
}
