//! "Berater:innen-Accounts", for admins: the tenant's staff accounts with role and state
//! as the server has them; "+ Account anlegen" with an invitation e-mail or a password
//! given once; and for the account chosen in the list: sperren, entsperren, Passwort
//! vergeben, Einladung erneut senden and löschen (after the red button). Every one of
//! these needs the server: it runs in the background ([`Pending`]) and the screen shows
//! that it waits, never freezing the window.

use egui::{Color32, RichText};
use model::api::{AccountState, AccountSummary, Role};

use super::widgets::{Answer, confirm, error_line, field};
use crate::workspace::{Access, Pending, WorkError, Workspace};

/// "Rolle" as the screens say it.
pub fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::Counsellor => "Berater:in",
        Role::Client => "Klient:in",
    }
}

/// The account's state as the list says it.
pub fn state_text(state: AccountState) -> &'static str {
    match state {
        AccountState::Active => "aktiv",
        AccountState::Locked => "gesperrt",
        AccountState::Deleted => "gelöscht",
    }
}

#[derive(Debug, Default)]
pub struct AccountsScreen {
    /// The list as the server last answered it.
    accounts: Option<Vec<AccountSummary>>,
    loading: Option<Pending<Vec<AccountSummary>>>,
    /// The account chosen in the list, by id.
    chosen: Option<String>,
    /// An action on an account, running: what to say when it worked.
    running: Option<(Pending<()>, String)>,
    create: Option<CreateForm>,
    password: Option<PasswordForm>,
    invite: Option<InviteForm>,
    /// "löschen", asked and not yet answered: the account's id and login.
    confirm_delete: Option<(String, String)>,
    error: Option<String>,
    message: Option<String>,
}

/// "Account anlegen" as typed.
#[derive(Default)]
struct CreateForm {
    login: String,
    role: Option<Role>,
    /// "Passwort vergeben" rather than "Einladung per E-Mail".
    with_password: bool,
    email: String,
    password: String,
    repeat: String,
    error: Option<String>,
    pending: Option<Pending<String>>,
}

impl std::fmt::Debug for CreateForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CreateForm { .. }")
    }
}

/// "Passwort vergeben" for one account.
struct PasswordForm {
    account: String,
    login: String,
    password: String,
    repeat: String,
    error: Option<String>,
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordForm { .. }")
    }
}

/// "Einladung erneut senden": the address, which the server does not keep.
#[derive(Debug)]
struct InviteForm {
    account: String,
    login: String,
    email: String,
    error: Option<String>,
}

impl AccountsScreen {
    pub fn show(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        self.poll(workspace);
        ui.horizontal(|ui| {
            if ui.button("+ Account anlegen").clicked() {
                self.create = Some(CreateForm::default());
            }
            if ui
                .add_enabled(self.loading.is_none(), egui::Button::new("Aktualisieren"))
                .clicked()
            {
                self.load(workspace);
            }
            if self.loading.is_some() || self.running.is_some() {
                ui.spinner();
                ui.label(RichText::new("Wartet auf den Server …").weak());
            }
        });
        error_line(ui, &self.error);
        if let Some(message) = &self.message {
            ui.colored_label(Color32::from_rgb(20, 130, 60), message);
        }
        ui.label(
            RichText::new(
                "Einen Account anklicken, um ihn zu sperren, zu löschen oder ein Passwort zu \
                 vergeben.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        match &self.accounts {
            None if self.loading.is_none() => {
                ui.label("Die Accounts kommen vom Server; ohne Verbindung lassen sie sich nicht anzeigen.");
            }
            None => {}
            Some(accounts) => {
                let me = workspace.me().to_owned();
                let chosen = self.list(ui, accounts, &me);
                if chosen.is_some() {
                    self.chosen = chosen;
                    self.message = None;
                }
            }
        }
        self.chosen_account(ui, workspace);
        let ctx = ui.ctx().clone();
        self.create_window(&ctx, workspace);
        self.password_window(&ctx, workspace);
        self.invite_window(&ctx, workspace);
        self.delete_confirmation(&ctx, workspace);
    }

    fn load(&mut self, workspace: &Workspace) {
        self.loading = Some(workspace.staff_accounts());
    }

    /// Takes in what the server answered since the last frame.
    fn poll(&mut self, workspace: &Workspace) {
        if self.accounts.is_none() && self.loading.is_none() && self.error.is_none() {
            self.load(workspace);
        }
        if let Some(answer) = self.loading.as_mut().and_then(Pending::poll) {
            self.loading = None;
            match answer {
                Ok(accounts) => {
                    // A first list after a failed one: the failure is over.
                    if self.accounts.is_none() {
                        self.error = None;
                    }
                    self.accounts = Some(accounts);
                }
                Err(error) => self.error = Some(error.to_string()),
            }
        }
        if let Some((pending, done)) = &mut self.running
            && let Some(answer) = pending.poll()
        {
            match answer {
                Ok(()) => {
                    self.message = Some(done.clone());
                    self.error = None;
                }
                Err(error) => {
                    self.error = Some(error.to_string());
                    self.message = None;
                }
            }
            self.running = None;
            self.load(workspace);
        }
    }

    /// The list: Accountname, Rolle, Status. Returns the account clicked.
    fn list(&self, ui: &mut egui::Ui, accounts: &[AccountSummary], me: &str) -> Option<String> {
        let count = match accounts.len() {
            1 => "1 Account".to_owned(),
            n => format!("{n} Accounts"),
        };
        ui.label(RichText::new(count).weak());
        let mut clicked = None;
        egui::Grid::new("staff-accounts")
            .num_columns(3)
            .min_col_width(180.0)
            .striped(true)
            .show(ui, |ui| {
                for heading in ["Accountname", "Rolle", "Status"] {
                    ui.label(RichText::new(heading).strong());
                }
                ui.end_row();
                for account in accounts {
                    let mut name = RichText::new(if account.id == me {
                        format!("{} (Sie)", account.login)
                    } else {
                        account.login.clone()
                    });
                    if account.state == AccountState::Deleted {
                        name = name.strikethrough();
                    }
                    if self.chosen.as_deref() == Some(account.id.as_str()) {
                        name = name.strong();
                    }
                    let mut link = ui.link(name);
                    if account.id == me {
                        link = link.on_hover_text("Ihr eigener Account");
                    }
                    if link.clicked() {
                        clicked = Some(account.id.clone());
                    }
                    ui.label(role_text(account.role));
                    let state = RichText::new(state_text(account.state));
                    ui.label(match account.state {
                        AccountState::Active => state,
                        AccountState::Locked => state.color(Color32::from_rgb(200, 110, 0)),
                        AccountState::Deleted => state.weak(),
                    });
                    ui.end_row();
                }
            });
        clicked
    }

    /// What can be done to the account chosen in the list.
    fn chosen_account(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        let Some(account) = self
            .chosen
            .as_ref()
            .and_then(|id| self.accounts.as_ref()?.iter().find(|a| &a.id == id))
            .cloned()
        else {
            return;
        };
        ui.separator();
        ui.heading(format!("Account „{}“", account.login));
        ui.label(format!(
            "{} · {}",
            role_text(account.role),
            state_text(account.state)
        ));
        if account.id == workspace.me() {
            ui.label(
                "Das ist Ihr eigener Account: das Passwort ändert „Passwort ändern“, löschen \
                 lässt er sich mit „Eigenen Account löschen“ unten in der Statuszeile.",
            );
            return;
        }
        if account.state == AccountState::Deleted {
            ui.label("Der Account ist gelöscht.");
            return;
        }
        let idle = self.running.is_none();
        ui.horizontal_wrapped(|ui| {
            let lock = account.state == AccountState::Active;
            if ui
                .add_enabled(
                    idle,
                    egui::Button::new(if lock { "Sperren" } else { "Entsperren" }),
                )
                .clicked()
            {
                self.running = Some(if lock {
                    (
                        workspace.lock_staff_account(&account.id),
                        format!("Account „{}“ gesperrt.", account.login),
                    )
                } else {
                    (
                        workspace.unlock_staff_account(&account.id),
                        format!("Account „{}“ entsperrt.", account.login),
                    )
                });
            }
            if ui
                .add_enabled(idle, egui::Button::new("Passwort vergeben"))
                .clicked()
            {
                self.password = Some(PasswordForm {
                    account: account.id.clone(),
                    login: account.login.clone(),
                    password: String::new(),
                    repeat: String::new(),
                    error: None,
                });
            }
            if ui
                .add_enabled(idle, egui::Button::new("Einladung erneut senden"))
                .clicked()
            {
                self.invite = Some(InviteForm {
                    account: account.id.clone(),
                    login: account.login.clone(),
                    email: String::new(),
                    error: None,
                });
            }
            if ui
                .add_enabled(idle, egui::Button::new("Account löschen"))
                .clicked()
            {
                self.confirm_delete = Some((account.id.clone(), account.login.clone()));
            }
        });
        if account.state == AccountState::Locked {
            ui.label(RichText::new("Gesperrt: der Account kann sich nicht anmelden.").weak());
        }
    }

    fn create_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.create else {
            return;
        };
        let mut close = false;
        let mut created = None;
        if let Some(answer) = form.pending.as_mut().and_then(Pending::poll) {
            form.pending = None;
            match answer {
                Ok(_) => created = Some(form.login.trim().to_owned()),
                Err(error) => form.error = Some(error.to_string()),
            }
        }
        let waiting = form.pending.is_some();
        egui::Window::new("Account anlegen")
            .id(egui::Id::unique("staff-account-create"))
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.add_enabled_ui(!waiting, |ui| {
                    field(ui, "Accountname*", &mut form.login);
                    ui.horizontal(|ui| {
                        let label = ui.label("Rolle*");
                        egui::ComboBox::from_id_salt("staff-account-role")
                            .selected_text(form.role.map_or("bitte wählen", role_text))
                            .show_ui(ui, |ui| {
                                for role in [Role::Counsellor, Role::Admin] {
                                    ui.selectable_value(
                                        &mut form.role,
                                        Some(role),
                                        role_text(role),
                                    );
                                }
                            })
                            .response
                            .labelled_by(label.id);
                    });
                    ui.radio_value(&mut form.with_password, false, "Einladung per E-Mail");
                    ui.radio_value(&mut form.with_password, true, "Passwort vergeben");
                    if form.with_password {
                        for (label, value) in [
                            ("Passwort", &mut form.password),
                            ("Passwort wiederholen", &mut form.repeat),
                        ] {
                            let label = ui.label(label);
                            ui.add(egui::TextEdit::singleline(value).password(true))
                                .labelled_by(label.id);
                        }
                        ui.label(
                            RichText::new(
                                "Mindestens 8 Zeichen mit Klein- und Großbuchstaben, einer \
                                 Ziffer und einem Sonderzeichen. Die Weitergabe muss über einen \
                                 geschützten Kommunikationskanal erfolgen; die Person sollte es \
                                 nach der Anmeldung ändern.",
                            )
                            .italics(),
                        );
                    } else {
                        field(ui, "E-Mail-Adresse", &mut form.email);
                        ui.label(
                            RichText::new(
                                "Die Person bekommt einen Link, mit dem sie ihr Passwort selbst \
                                 festlegt. Die Adresse wird nur dafür verwendet und nicht \
                                 gespeichert.",
                            )
                            .italics(),
                        );
                    }
                });
                error_line(ui, &form.error);
                ui.horizontal(|ui| {
                    if ui.button("Abbrechen").clicked() {
                        close = true;
                    }
                    if ui
                        .add_enabled(!waiting, egui::Button::new("Anlegen"))
                        .clicked()
                    {
                        match start_create(form, workspace) {
                            Ok(pending) => {
                                form.error = None;
                                form.pending = Some(pending);
                            }
                            Err(error) => form.error = Some(error.to_string()),
                        }
                    }
                    if waiting {
                        ui.spinner();
                    }
                });
            });
        if let Some(login) = created {
            let how = if form.with_password {
                "das Passwort bitte über einen geschützten Kanal weitergeben"
            } else {
                "die Einladung geht per E-Mail hinaus"
            };
            self.message = Some(format!("Account „{login}“ angelegt; {how}."));
            self.error = None;
            self.create = None;
            self.load(workspace);
        } else if close {
            self.create = None;
        }
    }

    fn password_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.password else {
            return;
        };
        let mut open = true;
        let mut started = None;
        egui::Window::new(format!("Passwort vergeben: {}", form.login))
            .id(egui::Id::unique("staff-account-password"))
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
                         Kommunikationskanal erfolgen. Die Sitzungen des Accounts enden.",
                    )
                    .italics(),
                );
                error_line(ui, &form.error);
                if ui.button("Passwort speichern").clicked() {
                    if form.password != form.repeat {
                        form.error = Some("Die beiden Passwörter stimmen nicht überein".into());
                    } else {
                        match workspace.set_staff_password(&form.account, &form.password) {
                            Ok(pending) => started = Some(pending),
                            Err(error) => form.error = Some(error.to_string()),
                        }
                    }
                }
            });
        if let Some(pending) = started {
            self.running = Some((
                pending,
                format!("Neues Passwort für „{}“ gespeichert.", form.login),
            ));
            self.password = None;
        } else if !open {
            self.password = None;
        }
    }

    fn invite_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.invite else {
            return;
        };
        let mut open = true;
        let mut started = None;
        egui::Window::new(format!("Einladung erneut senden: {}", form.login))
            .id(egui::Id::unique("staff-account-invite"))
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                field(ui, "E-Mail-Adresse", &mut form.email);
                ui.label(
                    RichText::new(
                        "Für einen Account, der noch kein Passwort festgelegt hat: ein neuer \
                         Link; der alte gilt nicht mehr.",
                    )
                    .italics(),
                );
                error_line(ui, &form.error);
                if ui.button("Einladung senden").clicked() {
                    match workspace.invite_staff(&form.account, &form.email) {
                        Ok(pending) => started = Some(pending),
                        Err(error) => form.error = Some(error.to_string()),
                    }
                }
            });
        if let Some(pending) = started {
            self.running = Some((pending, format!("Einladung an „{}“ versandt.", form.login)));
            self.invite = None;
        } else if !open {
            self.invite = None;
        }
    }

    fn delete_confirmation(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some((account, login)) = &self.confirm_delete else {
            return;
        };
        let text = format!(
            "Der Account „{login}“ wird gelöscht: mit ihm ist keine Anmeldung mehr möglich, \
             alle seine Sitzungen enden sofort. Die Klient:innen und ihre Daten bleiben \
             erhalten."
        );
        match confirm(ctx, "Account löschen", &text, "Endgültig löschen") {
            Answer::Open => {}
            Answer::Cancelled => self.confirm_delete = None,
            Answer::Confirmed => {
                self.running = Some((
                    workspace.delete_staff_account(account),
                    format!("Account „{login}“ gelöscht."),
                ));
                self.confirm_delete = None;
            }
        }
    }
}

/// "Anlegen": the form as the workspace takes it, or why not.
fn start_create(form: &CreateForm, workspace: &Workspace) -> Result<Pending<String>, WorkError> {
    let Some(role) = form.role else {
        return Err(WorkError::Invalid("Bitte die Rolle wählen".into()));
    };
    let access = if form.with_password {
        if form.password != form.repeat {
            return Err(WorkError::Invalid(
                "Die beiden Passwörter stimmen nicht überein".into(),
            ));
        }
        Access::Password(form.password.clone())
    } else {
        Access::Invitation {
            email: form.email.clone(),
        }
    };
    workspace.create_staff_account(&form.login, role, access)
}
