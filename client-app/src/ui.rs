//! The screens, in German: sign-in, the member management ("Mitgliederverwaltung") with
//! its tabs Benutzer:in / Merkliste / Gruppen, "Klient:in anlegen", the client window
//! with Profil / Notizen / Dokumente / Monitoring / Teilnahmeverlauf (with the assistant)
//! and its ⋮ menu, "Aufträge" for admins (programmes, sites, the tenant's working time
//! and settings), "Berater:innen-Accounts" for admins, and the status line (online or
//! offline, changes not yet synced, last sync, "Passwort ändern", "Eigenen Account
//! löschen"). Whatever deletes something asks first, with a red button
//! (`widgets::confirm`).
//!
//! Every input has an accessible name (`labelled_by`), which the kittest harness checks
//! and screen readers need.

mod accounts;
mod assistant;
mod catalogue;
mod client;
mod input;
mod members;
mod own_account;
mod profile_form;
mod responsibilities;
mod timeline;
mod type_specific;
mod vacation;
mod widgets;
mod working_time;

use std::path::PathBuf;

use egui::{Color32, RichText};

use crate::german;
use crate::tls::ConnectionSettings;
use crate::workspace::{SignIn, SignInError, Workspace};

pub use client::ClientWindow;
pub use members::Members;
pub use widgets::{error_line, field};

/// The whole app: signing in, then working.
pub struct App {
    data_dir: PathBuf,
    screen: Screen,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

#[allow(clippy::large_enum_variant)]
enum Screen {
    SignIn(SignInForm),
    Work(Work),
}

#[derive(Default)]
pub struct SignInForm {
    pub server: String,
    pub login: String,
    pub password: String,
    /// „Erweitert“: the organisation's CA file (a path, empty for none).
    pub ca_file: String,
    /// „Erweitert“: plain `http://` to another machine.
    pub allow_unencrypted: bool,
    pub error: Option<String>,
    /// What the app says after signing out by itself (the own account was deleted).
    pub notice: Option<String>,
    /// A sign-in under way on its own thread: opening the store derives a key, the
    /// first time (and after a password reset) it asks the server, and the window keeps
    /// drawing meanwhile.
    pending: Option<std::sync::mpsc::Receiver<Result<Workspace, SignInError>>>,
}

impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInForm")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Everything after signing in.
pub struct Work {
    pub workspace: Workspace,
    pub members: Members,
    pub client: Option<ClientWindow>,
    /// "Passwort ändern", while open.
    own_password: Option<OwnPasswordForm>,
    password_changed: bool,
    /// "Eigenen Account löschen", while open.
    own_deletion: Option<own_account::OwnAccountDeletion>,
    /// The server deleted the own account: the app signs out and forgets the profile.
    account_deleted: bool,
}

/// "Passwort ändern": the three fields as typed, and what went wrong.
#[derive(Default)]
struct OwnPasswordForm {
    old: String,
    new: String,
    repeat: String,
    error: Option<String>,
}

impl std::fmt::Debug for OwnPasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OwnPasswordForm { .. }")
    }
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work").finish_non_exhaustive()
    }
}

impl App {
    pub fn new(data_dir: PathBuf, server: String) -> Self {
        Self {
            data_dir,
            screen: Screen::SignIn(SignInForm {
                server,
                ..SignInForm::default()
            }),
        }
    }

    /// An app already signed in (tests, the screenshot tour).
    pub fn working(data_dir: PathBuf, workspace: Workspace) -> Self {
        Self {
            data_dir,
            screen: Screen::Work(Work::new(workspace)),
        }
    }

    pub fn work(&mut self) -> Option<&mut Work> {
        match &mut self.screen {
            Screen::Work(work) => Some(work),
            Screen::SignIn(_) => None,
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        match &mut self.screen {
            Screen::SignIn(form) => {
                if let Some(workspace) = sign_in(ui, form, &self.data_dir) {
                    let wake = ctx.clone();
                    workspace.set_waker(std::sync::Arc::new(move || wake.request_repaint()));
                    self.screen = Screen::Work(Work::new(workspace));
                }
            }
            Screen::Work(work) => {
                work.show(ui);
                if work.account_deleted {
                    self.forget_profile();
                }
            }
        }
    }

    /// After the own account was deleted: back to "Anmelden", the sync stopped and the
    /// local store of that profile removed.
    fn forget_profile(&mut self) {
        let form = SignInForm::default();
        let Screen::Work(work) = std::mem::replace(&mut self.screen, Screen::SignIn(form)) else {
            return;
        };
        let server = work.workspace.profile().server.clone();
        let notice = match work.workspace.remove_local_store() {
            Ok(_) => {
                "Ihr Account wurde gelöscht. Seine Daten auf diesem Gerät sind entfernt.".into()
            }
            Err(error) => format!("Ihr Account wurde gelöscht. {error}"),
        };
        if let Screen::SignIn(form) = &mut self.screen {
            form.server = server;
            form.notice = Some(notice);
        }
    }
}

fn sign_in(
    ui: &mut egui::Ui,
    form: &mut SignInForm,
    data_dir: &std::path::Path,
) -> Option<Workspace> {
    let mut signed_in = None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(60.0);
            ui.heading("Anmelden");
            if let Some(notice) = &form.notice {
                ui.label(RichText::new(notice).strong());
            }
            ui.label("Beim ersten Mal auf diesem Gerät braucht es eine Verbindung zum Server; danach geht es auch offline.");
            ui.add_space(12.0);
            let entered = egui::Grid::new("sign-in").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
                field(ui, "Server", &mut form.server);
                ui.end_row();
                field(ui, "Benutzername", &mut form.login);
                ui.end_row();
                let label = ui.label("Passwort");
                let password = ui
                    .add(egui::TextEdit::singleline(&mut form.password).password(true).desired_width(260.0))
                    .labelled_by(label.id);
                ui.end_row();
                password.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
            });
            ui.add_space(8.0);
            advanced(ui, form);
            ui.add_space(8.0);
            if let Some(pending) = &form.pending {
                match pending.try_recv() {
                    Ok(Ok(workspace)) => {
                        form.pending = None;
                        signed_in = Some(workspace);
                    }
                    Ok(Err(error)) => {
                        form.pending = None;
                        form.error = Some(error.to_string());
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Anmeldung läuft …");
                        });
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        form.pending = None;
                        form.error = Some("Die Anmeldung wurde abgebrochen".into());
                    }
                }
            }
            let idle = form.pending.is_none();
            if ui.add_enabled(idle, egui::Button::new("Anmelden")).clicked() || (idle && entered.inner) {
                let ca_file = form.ca_file.trim();
                let how = SignIn {
                    data_dir: data_dir.to_owned(),
                    server: form.server.clone(),
                    login: form.login.clone(),
                    password: std::mem::take(&mut form.password),
                    iterations: iterations(),
                    connection: ConnectionSettings {
                        ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
                        allow_unencrypted: form.allow_unencrypted,
                    },
                };
                form.error = None;
                let (done, pending) = std::sync::mpsc::channel();
                let wake = ui.ctx().clone();
                let started = std::thread::Builder::new()
                    .name("sign-in".into())
                    .spawn(move || {
                        let _ = done.send(Workspace::sign_in(&how));
                        wake.request_repaint();
                    });
                match started {
                    Ok(_) => form.pending = Some(pending),
                    Err(error) => form.error = Some(format!("Anmeldung nicht möglich: {error}")),
                }
            }
            error_line(ui, &form.error);
        });
    });
    signed_in
}

/// „Erweitert“, closed until opened: the organisation's CA file and plain connections.
/// What is entered is kept with the profile and used for every later connection.
fn advanced(ui: &mut egui::Ui, form: &mut SignInForm) {
    egui::CollapsingHeader::new("Erweitert")
        .default_open(false)
        .show(ui, |ui| {
            egui::Grid::new("sign-in-advanced")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .show(ui, |ui| {
                    field(ui, "CA-Zertifikat (PEM-Datei)", &mut form.ca_file)
                        .on_hover_text("Nur nötig, wenn Ihre Organisation eine eigene Zertifizierungsstelle betreibt: der Pfad zur Datei, die Ihre IT Ihnen gibt.");
                    ui.end_row();
                });
            ui.checkbox(
                &mut form.allow_unencrypted,
                "Unverschlüsselte Verbindung erlauben (nur im geschützten Netz)",
            )
            .on_hover_text("Passwörter und Daten gehen dann lesbar durchs Netz. Zu diesem Computer selbst (localhost) ist http:// immer erlaubt.");
        });
}

/// PBKDF2 rounds for new local stores: the full count, unless the environment lowers it
/// for a demo data set (`CASE_RECORDS_STORE_ROUNDS`).
fn iterations() -> std::num::NonZeroU32 {
    std::env::var("CASE_RECORDS_STORE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .and_then(std::num::NonZeroU32::new)
        .unwrap_or(crate::crypto::ITERATIONS)
}

impl Work {
    pub fn new(workspace: Workspace) -> Self {
        Self {
            workspace,
            members: Members::default(),
            client: None,
            own_password: None,
            password_changed: false,
            own_deletion: None,
            account_deleted: false,
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.workspace.refresh();
        egui::Panel::bottom("status").show(ui, |ui| self.status_line(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Mitgliederverwaltung");
            if let Some(open) = self.members.show(ui, &mut self.workspace) {
                self.client = Some(ClientWindow::new(open));
            }
        });
        if let Some(client) = &mut self.client
            && !client.show(ui.ctx(), &mut self.workspace)
        {
            self.client = None;
        }
        self.own_password_window(ui.ctx());
        if let Some(dialog) = &mut self.own_deletion {
            match dialog.show(ui.ctx(), &self.workspace) {
                own_account::Outcome::Open => {}
                own_account::Outcome::Cancelled => self.own_deletion = None,
                own_account::Outcome::Deleted => {
                    self.own_deletion = None;
                    self.account_deleted = true;
                }
            }
        }
    }

    pub fn close_password_window(&mut self) {
        self.own_password = None;
    }

    /// "Passwort ändern": the server's password and the local store's key together.
    fn own_password_window(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.own_password else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new("Passwort ändern")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                for (label, value) in [
                    ("Bisheriges Passwort", &mut form.old),
                    ("Neues Passwort", &mut form.new),
                    ("Neues Passwort wiederholen", &mut form.repeat),
                ] {
                    let label = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).password(true))
                        .labelled_by(label.id);
                }
                error_line(ui, &form.error);
                if ui.button("Passwort speichern").clicked() {
                    form.error = if form.new != form.repeat {
                        Some("Die beiden neuen Passwörter stimmen nicht überein".into())
                    } else {
                        self.workspace
                            .change_own_password(&form.old, &form.new)
                            .err()
                            .map(|e| e.to_string())
                    };
                    done = form.error.is_none();
                }
            });
        if done {
            self.password_changed = true;
        }
        if done || !open {
            self.own_password = None;
        }
    }

    fn status_line(&mut self, ui: &mut egui::Ui) {
        let status = self.workspace.status();
        ui.horizontal(|ui| {
            if status.online {
                ui.label(RichText::new("Online").color(Color32::from_rgb(20, 130, 60)));
            } else {
                ui.label(RichText::new("Offline").color(Color32::from_rgb(170, 90, 0)));
                if ui.small_button("Jetzt verbinden").clicked() {
                    self.workspace.reconnect();
                }
            }
            ui.separator();
            let unsynced = self.workspace.unsynced_changes();
            ui.label(match unsynced {
                0 => "Alle Änderungen synchronisiert".to_owned(),
                1 => "1 Änderung nicht synchronisiert".to_owned(),
                n => format!("{n} Änderungen nicht synchronisiert"),
            });
            let requests = self.workspace.pending_requests().len();
            if requests > 0 {
                ui.separator();
                ui.label(format!("{requests} Anfrage(n) an den Server ausstehend"));
            }
            ui.separator();
            ui.label(match self.workspace.profile().last_sync_ms {
                Some(ms) => format!("Letzte Synchronisation: {}", german::date_time(ms)),
                None => "Noch nie synchronisiert".into(),
            });
            ui.separator();
            ui.label(format!("Angemeldet: {}", self.workspace.profile().login));
            if ui.small_button("Passwort ändern").clicked() {
                self.own_password = Some(OwnPasswordForm::default());
                self.password_changed = false;
            }
            if self.password_changed {
                ui.label("Passwort geändert");
            }
            ui.separator();
            if ui.small_button("Eigenen Account löschen").clicked() {
                self.own_deletion = Some(own_account::OwnAccountDeletion::default());
            }
            if let Some(problem) = &status.problem
                && !status.online
            {
                ui.separator();
                ui.label(RichText::new(problem).weak());
            }
        });
        if !status.refused.is_empty() {
            ui.horizontal(|ui| {
                for refusal in &status.refused {
                    ui.colored_label(Color32::from_rgb(190, 30, 30), refusal);
                }
                if ui.small_button("Schließen").clicked() {
                    self.workspace.dismiss_refusals();
                }
            });
        }
        // Local changes lost with a document this device forgot (access taken away,
        // purged): said until the person closes each.
        let lost: Vec<(i64, String)> = self
            .workspace
            .lost_edits()
            .iter()
            .map(|(id, lost)| (*id, german::lost_edit(lost)))
            .collect();
        for (id, text) in lost {
            ui.horizontal(|ui| {
                ui.colored_label(Color32::from_rgb(190, 30, 30), text);
                if ui.small_button("Schließen").clicked()
                    && let Err(error) = self.workspace.dismiss_lost_edit(id)
                {
                    tracing::error!(%error, "cannot dismiss a lost edit");
                }
            });
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}
