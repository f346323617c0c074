//! "Mitgliederverwaltung": the tabs Benutzer:in, Merkliste and Gruppen (and Aufträge and
//! Berater:innen-Accounts for admins), the member list with search, filter and sort,
//! "Klient:in anlegen", and the groups (deleted after the red button).

use egui::RichText;
use model::client_record::{AccountState, Invitation, NewClient};
use model::group::Group;

use super::widgets::{Answer, confirm, error_line, field};
use crate::german;
use crate::rows::{MemberRow, RowStatus};
use crate::workspace::{Filter, MemberQuery, Sort, Workspace};

/// Header and rows are two grids (the rows scroll, virtualised): one fixed width keeps
/// their columns in line.
const COLUMN_WIDTH: f32 = 190.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Users,
    Bookmarks,
    Groups,
    /// "Aufträge": the tenant catalogue, for admins.
    Catalogue,
    /// "Berater:innen-Accounts": the tenant's staff accounts, for admins.
    Accounts,
}

#[derive(Debug, Default)]
pub struct Members {
    pub tab: Tab,
    pub query: MemberQuery,
    pub create: Option<CreateForm>,
    pub group_search: String,
    pub group_form: Option<GroupForm>,
    pub open_group: Option<String>,
    pub member_search: String,
    pub catalogue: super::catalogue::CatalogueScreen,
    pub accounts: super::accounts::AccountsScreen,
    pub error: Option<String>,
    /// The list as last computed, kept while the query and the rows stay the same.
    found: Option<Found>,
    /// "Klient:innen-Gruppe löschen", asked and not yet answered: the group and its name.
    confirm_group: Option<(String, String)>,
}

/// The member list as computed for one query at one version of the rows.
#[derive(Debug)]
struct Found {
    query: MemberQuery,
    rows_version: u64,
    listed: Vec<Listed>,
}

/// A line of the member list.
#[derive(Debug)]
struct Listed {
    /// The client record's document id.
    doc: String,
    row: MemberRow,
    /// For admins, "E-Mail / Telefon" as one line.
    contact: String,
}

#[derive(Debug, Default)]
pub struct CreateForm {
    pub pseudonym: String,
    pub email: String,
    pub phone: String,
    pub name: String,
    pub first_name: String,
    pub language: String,
    pub take_up: bool,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct GroupForm {
    /// The group being edited; `None` for a new one.
    pub doc: Option<String>,
    pub name: String,
    pub description: String,
    pub error: Option<String>,
}

fn account_text(row: &MemberRow) -> String {
    account_words(&AccountState {
        last_login_ms: row.last_login_ms,
        invitation_queued_ms: row.invitation_queued_ms,
        invitation_sent_ms: row.invitation_sent_ms,
        invitation_failed_ms: row.invitation_failed_ms,
        has_password: row.has_password,
    })
}

/// "Account / Letztes Login": the last login, else whether a password was given, else
/// where the latest invitation stands (the server's mail queue writes it), else
/// "kein Zugang".
pub fn account_words(account: &AccountState) -> String {
    match (
        account.last_login_ms,
        account.has_password,
        account.invitation(),
    ) {
        (Some(ms), _, _) => german::date_time(ms),
        (None, true, _) => "noch nicht eingeloggt".into(),
        (None, false, Some(Invitation::Queued)) => "Einladung wartet auf den Versand".into(),
        (None, false, Some(Invitation::Sent)) => "Einladung versandt".into(),
        (None, false, Some(Invitation::Failed)) => "Einladung fehlgeschlagen".into(),
        (None, false, None) => "kein Zugang".into(),
    }
}

pub fn status_text(status: &RowStatus) -> String {
    match status {
        RowStatus::Active => "aktiviert".into(),
        RowStatus::Locked(None) => "gesperrt".into(),
        RowStatus::Locked(Some(until)) => match until.parse::<model::Date>() {
            Ok(day) if day < german::today() => "aktiviert".into(),
            Ok(day) => format!("gesperrt bis {}", day.german()),
            Err(_) => "gesperrt".into(),
        },
        RowStatus::Deleted => "gelöscht".into(),
    }
}

impl Members {
    /// Shows the tabs; returns the client record to open, if one was clicked.
    pub fn show(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) -> Option<String> {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Users, "Benutzer:in");
            ui.selectable_value(&mut self.tab, Tab::Bookmarks, "Merkliste");
            ui.selectable_value(&mut self.tab, Tab::Groups, "Gruppen");
            if workspace.is_admin() {
                ui.selectable_value(&mut self.tab, Tab::Catalogue, "Aufträge");
                ui.selectable_value(&mut self.tab, Tab::Accounts, "Berater:innen-Accounts");
            }
        });
        ui.separator();
        let open = match self.tab {
            Tab::Users => self.users(ui, workspace, false),
            Tab::Bookmarks => self.users(ui, workspace, true),
            Tab::Groups => {
                self.groups(ui, workspace);
                None
            }
            Tab::Catalogue => {
                self.catalogue.show(ui, workspace);
                None
            }
            Tab::Accounts => {
                self.accounts.show(ui, workspace);
                None
            }
        };
        self.create_window(ui.ctx(), workspace);
        self.group_window(ui.ctx(), workspace);
        self.group_confirmation(ui.ctx(), workspace);
        open
    }

    /// "Klient:innen-Gruppe löschen": only after the red button.
    fn group_confirmation(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some((doc, name)) = &self.confirm_group else {
            return;
        };
        let text =
            format!("Die Gruppe „{name}“ wird gelöscht. Die Klient:innen selbst bleiben erhalten.");
        match confirm(
            ctx,
            "Klient:innen-Gruppe löschen",
            &text,
            "Endgültig löschen",
        ) {
            Answer::Open => {}
            Answer::Cancelled => self.confirm_group = None,
            Answer::Confirmed => {
                self.error = workspace
                    .edit::<Group, _>(doc, |d, e| Ok(d.delete_group(e)?))
                    .err()
                    .map(|e| e.to_string());
                if self.open_group.as_ref() == Some(doc) {
                    self.open_group = None;
                }
                self.confirm_group = None;
            }
        }
    }

    fn users(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        bookmarked: bool,
    ) -> Option<String> {
        self.query.bookmarked = bookmarked;
        ui.horizontal(|ui| {
            let label = ui.label("Suche");
            ui.add(
                egui::TextEdit::singleline(&mut self.query.search)
                    .hint_text("Name, Pseudonym oder Klienten ID")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            if ui.button("+ Klient:in anlegen").clicked() {
                self.create = Some(CreateForm {
                    take_up: true,
                    ..CreateForm::default()
                });
            }
            let filter_text = match &self.query.filter {
                Filter::Own => "Eigene Stammklient:innen".to_owned(),
                Filter::All => "Alle Klient:innen".to_owned(),
                Filter::Of(user) => format!("Klient:innen von {}", workspace.staff_name(user)),
            };
            let label = ui.label("Filter");
            egui::ComboBox::from_id_salt("filter")
                .selected_text(filter_text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut self.query.filter,
                        Filter::Own,
                        "Eigene Stammklient:innen",
                    );
                    ui.selectable_value(&mut self.query.filter, Filter::All, "Alle Klient:innen");
                    for member in workspace.profile().staff.clone() {
                        ui.selectable_value(
                            &mut self.query.filter,
                            Filter::Of(member.id.clone()),
                            format!("Klient:innen von {}", member.login),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
        });
        ui.add_space(6.0);
        let admin = workspace.is_admin();
        let version = workspace.rows_version();
        let cached = self
            .found
            .take()
            .filter(|found| found.query == self.query && found.rows_version == version);
        let (query, found) = match cached {
            Some(cached) => (cached.query, cached.listed),
            None => {
                let contacts = if admin {
                    workspace.contacts()
                } else {
                    Default::default()
                };
                let found = workspace
                    .members(&self.query)
                    .into_iter()
                    .map(|(doc, row)| {
                        let contact = contacts.get(doc).map(|contact| {
                            [contact.email.as_deref(), contact.phone.as_deref()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" / ")
                        });
                        Listed {
                            doc: doc.to_owned(),
                            row: row.clone(),
                            contact: contact.unwrap_or_default(),
                        }
                    })
                    .collect();
                (self.query.clone(), found)
            }
        };
        ui.label(RichText::new(format!("{} Klient:innen", found.len())).weak());
        let mut open = None;
        let columns = if admin { 5 } else { 4 };
        egui::Grid::new("member-header")
            .num_columns(columns)
            .min_col_width(COLUMN_WIDTH)
            .max_col_width(COLUMN_WIDTH)
            .show(ui, |ui| {
                let arrow = |on: bool| if on { " (sortiert)" } else { "" };
                if ui
                    .button(
                        RichText::new(format!(
                            "Benutzer:in{}",
                            arrow(self.query.sort == Sort::Name)
                        ))
                        .strong(),
                    )
                    .clicked()
                {
                    self.query.sort = Sort::Name;
                }
                if admin {
                    ui.label(RichText::new("E-Mail / Telefon").strong());
                }
                ui.label(RichText::new("Stammberater:in").strong());
                if ui
                    .button(
                        RichText::new(format!(
                            "Account / Letztes Login{}",
                            arrow(self.query.sort == Sort::LastLogin)
                        ))
                        .strong(),
                    )
                    .clicked()
                {
                    self.query.sort = Sort::LastLogin;
                }
                ui.label(RichText::new("Status").strong());
                ui.end_row();
            });
        let row_height = ui.spacing().interact_size.y + 4.0;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, found.len(), |ui, range| {
                egui::Grid::new("members")
                    .num_columns(columns)
                    .min_col_width(COLUMN_WIDTH)
                    .max_col_width(COLUMN_WIDTH)
                    .striped(true)
                    .show(ui, |ui| {
                        for Listed { doc, row, contact } in &found[range] {
                            let mut name = RichText::new(&row.pseudonym);
                            if row.status == RowStatus::Deleted {
                                name = name.strikethrough();
                            }
                            if ui.link(name).clicked() {
                                open = Some(doc.clone());
                            }
                            if admin {
                                ui.label(contact);
                            }
                            ui.label(
                                row.primary
                                    .as_deref()
                                    .map(|p| workspace.staff_name(p))
                                    .unwrap_or_else(|| "–".into()),
                            );
                            ui.label(account_text(row));
                            ui.label(status_text(&row.status));
                            ui.end_row();
                        }
                    });
            });
        self.found = Some(Found {
            query,
            rows_version: version,
            listed: found,
        });
        open
    }

    fn create_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.create else {
            return;
        };
        let mut close = false;
        egui::Window::new("Klient:in anlegen")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(RichText::new("Accountdaten").strong());
                field(
                    ui,
                    "Accountname / Pseudonym (min. 5 Zeichen)*",
                    &mut form.pseudonym,
                );
                field(ui, "E-Mail-Adresse", &mut form.email);
                ui.label(RichText::new("Kontaktdaten").strong());
                field(ui, "Telefonnummer", &mut form.phone);
                ui.label(RichText::new("Stammdaten").strong());
                field(ui, "Name", &mut form.name);
                field(ui, "Vorname", &mut form.first_name);
                field(ui, "Sprache", &mut form.language);
                ui.checkbox(&mut form.take_up, "Ich werde Stammberater:in");
                error_line(ui, &form.error);
                ui.horizontal(|ui| {
                    if ui.button("Schließen").clicked() {
                        close = true;
                    }
                    if ui.button("Speichern").clicked() {
                        let optional =
                            |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
                        let new = NewClient {
                            pseudonym: form.pseudonym.clone(),
                            name: form.name.clone(),
                            first_name: form.first_name.clone(),
                            language: optional(&form.language),
                            take_up: form.take_up,
                        };
                        match workspace.create_client(
                            new,
                            optional(&form.email),
                            optional(&form.phone),
                        ) {
                            Ok(_) => close = true,
                            Err(error) => form.error = Some(error.to_string()),
                        }
                    }
                });
            });
        if close {
            self.create = None;
        }
    }

    fn groups(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        ui.horizontal(|ui| {
            let label = ui.label("Gruppen suchen");
            ui.add(egui::TextEdit::singleline(&mut self.group_search).desired_width(260.0))
                .labelled_by(label.id);
            if ui.button("+ Gruppe anlegen").clicked() {
                self.group_form = Some(GroupForm::default());
            }
        });
        error_line(ui, &self.error);
        let groups: Vec<(String, crate::rows::GroupRow)> = workspace
            .groups(&self.group_search)
            .into_iter()
            .map(|(d, g)| (d.to_owned(), g.clone()))
            .collect();
        egui::Grid::new("groups")
            .num_columns(4)
            .min_col_width(140.0)
            .striped(true)
            .show(ui, |ui| {
                for heading in ["Name", "Erstellt von", "Mitglieder", ""] {
                    ui.label(RichText::new(heading).strong());
                }
                ui.end_row();
                for (doc, group) in &groups {
                    if ui.link(&group.name).clicked() {
                        self.open_group = Some(doc.clone());
                    }
                    ui.label(workspace.staff_name(&group.created_by));
                    ui.label(group.members.len().to_string());
                    if workspace.may_edit_group(group) {
                        ui.horizontal(|ui| {
                            if ui.small_button("Bearbeiten").clicked() {
                                self.group_form = Some(GroupForm {
                                    doc: Some(doc.clone()),
                                    name: group.name.clone(),
                                    description: group.description.clone(),
                                    error: None,
                                });
                            }
                            if ui.small_button("Löschen").clicked() {
                                self.confirm_group = Some((doc.clone(), group.name.clone()));
                            }
                        });
                    } else {
                        ui.label("");
                    }
                    ui.end_row();
                }
            });
        if let Some(doc) = self.open_group.clone()
            && let Some((_, group)) = groups.iter().find(|(d, _)| *d == doc)
        {
            ui.separator();
            ui.heading(&group.name);
            if !group.description.is_empty() {
                ui.label(&group.description);
            }
            let editable = workspace.may_edit_group(group);
            for person in &group.members {
                ui.horizontal(|ui| {
                    ui.label(
                        workspace
                            .member(person)
                            .map(|m| m.pseudonym.clone())
                            .unwrap_or_else(|| "–".into()),
                    );
                    if editable
                        && ui.small_button("Entfernen").clicked()
                        && let Ok(id) = person.parse::<model::DocumentId>()
                    {
                        self.error = workspace
                            .edit::<Group, _>(&doc, |d, _| Ok(d.remove_member(&id)?))
                            .err()
                            .map(|e| e.to_string());
                    }
                });
            }
            if editable {
                ui.horizontal(|ui| {
                    let label = ui.label("Mitglied hinzufügen");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.member_search).desired_width(200.0),
                    )
                    .labelled_by(label.id);
                });
                if self.member_search.trim().len() >= 2 {
                    let query = MemberQuery {
                        search: self.member_search.clone(),
                        ..MemberQuery::default()
                    };
                    let candidates: Vec<(String, String)> = workspace
                        .members(&query)
                        .into_iter()
                        .filter(|(d, _)| !group.members.iter().any(|m| m == d))
                        .take(8)
                        .map(|(d, r)| (d.to_owned(), r.pseudonym.clone()))
                        .collect();
                    for (person, pseudonym) in candidates {
                        if ui.button(format!("+ {pseudonym}")).clicked()
                            && let Ok(id) = person.parse::<model::DocumentId>()
                        {
                            self.error = workspace
                                .edit::<Group, _>(&doc, |d, e| Ok(d.add_member(e, &id)?))
                                .err()
                                .map(|e| e.to_string());
                        }
                    }
                }
            }
        }
    }

    fn group_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.group_form else {
            return;
        };
        let mut close = false;
        let title = if form.doc.is_some() {
            "Gruppe bearbeiten"
        } else {
            "Gruppe anlegen"
        };
        egui::Window::new(title).collapsible(false).show(ctx, |ui| {
            field(ui, "Name (für Klient:innen sichtbar)*", &mut form.name);
            let label = ui.label("Beschreibung");
            ui.add(egui::TextEdit::multiline(&mut form.description).desired_rows(3))
                .labelled_by(label.id);
            error_line(ui, &form.error);
            ui.horizontal(|ui| {
                if ui.button("Schließen").clicked() {
                    close = true;
                }
                if ui.button("Speichern").clicked() {
                    let result = match &form.doc {
                        Some(doc) => workspace.edit::<Group, _>(doc, |d, _| {
                            Ok(d.edit_group(&form.name, &form.description)?)
                        }),
                        None => workspace
                            .create_group(&form.name, &form.description)
                            .map(|_| ()),
                    };
                    match result {
                        Ok(()) => close = true,
                        Err(error) => form.error = Some(error.to_string()),
                    }
                }
            });
        });
        if close {
            self.group_form = None;
        }
    }
}

#[cfg(test)]
mod tests;
