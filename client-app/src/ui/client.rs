//! The client window: tabs Profil, Notizen, Dokumente, Monitoring and Teilnahmeverlauf,
//! and the ⋮ menu (merken, sperren/entsperren, Passwort vergeben, Einladung versenden;
//! for admins löschen/wiederherstellen and Direkt-Nachricht).
//! Notices from the conflict rules that concern this user stand at the top until
//! acknowledged.

use std::sync::Arc;

use conflict_rules::notice::{Notice, NoticeKind};
use conflict_rules::record::RecordView;
use egui::{Color32, RichText};
use model::client_contact::{ClientContact, ContactChannel, Delivery};
use model::client_record::ClientRecord;
use model::notebook::{ContactKind, MonitoringInput, Notebook};
use model::{EntityId, UserId};

use super::members::status_text;
use super::profile_form::{Action, ProfileForm};
use super::timeline::TimelineTab;
use super::widgets::{error_line, field};
use crate::german;
use crate::rows::{Row, RowStatus};
use crate::workspace::{ContactData, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Profile,
    Notes,
    Documents,
    Monitoring,
    Timeline,
}

#[derive(Debug, Default)]
pub struct MonitoringForm {
    pub editing: Option<(String, EntityId)>,
    pub date: String,
    pub channel: Option<ContactKind>,
    pub minutes: String,
    pub topic: String,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct MessageForm {
    pub subject: String,
    pub text: String,
    pub error: Option<String>,
}

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

/// `~/Downloads/Fallakten` where there is a home directory.
fn default_download_dir() -> String {
    std::env::var_os("HOME")
        .map(|home| {
            std::path::Path::new(&home)
                .join("Downloads")
                .join("Fallakten")
                .display()
                .to_string()
        })
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct ClientWindow {
    pub doc: String,
    pub tab: Tab,
    pub note: String,
    pub editing_note: Option<(EntityId, String)>,
    pub pseudonym: Option<String>,
    pub monitoring: Option<MonitoringForm>,
    pub timeline: TimelineTab,
    /// "Direkt-Nachricht" (admins): the window's draft, while it is open.
    pub message: Option<MessageForm>,
    /// "Passwort vergeben": the window's draft, while it is open.
    pub password: Option<PasswordForm>,
    /// "Dokumente": the file to upload, the folder for "Alle herunterladen", and what the
    /// last download did.
    pub upload_path: String,
    /// "Profil bearbeiten", while open.
    pub profile_form: Option<ProfileForm>,
    /// "Sperren bis …": the day typed, while the window is open.
    pub lock_until: Option<String>,
    pub download_dir: String,
    pub downloaded: Option<String>,
    pub error: Option<String>,
    /// The record as last read, with the document generation it was read at.
    read: Option<(u64, Arc<ReadRecord>)>,
}

type ReadRecord = (ClientRecord, RecordView, Vec<Notice>);

fn notice_text(notice: &Notice, workspace: &Workspace) -> String {
    match &notice.kind {
        NoticeKind::PrimaryConflict { winner, .. } => format!(
            "Zwei Stammberater:innen wurden gleichzeitig eingetragen. Stammberater:in ist jetzt {}; \
             die andere Eintragung bleibt als Betreuer:in erhalten.",
            workspace.staff_name(winner.as_str())
        ),
        NoticeKind::LockConflict { .. } => {
            "Sperren und Entsperren kamen gleichzeitig; es gilt die spätere Entscheidung.".into()
        }
        NoticeKind::DeletionConflict { .. } => {
            "Löschen und Wiederherstellen kamen gleichzeitig; es gilt die spätere Entscheidung."
                .into()
        }
        NoticeKind::NoteEditedWhileDeleted { deleted_by, .. } => format!(
            "Eine Notiz wurde von {} gelöscht, während sie bearbeitet wurde; der bearbeitete Text ist aufbewahrt.",
            workspace.staff_name(deleted_by.as_str())
        ),
        NoticeKind::DuplicatePseudonym { .. } => {
            "Dieses Pseudonym gibt es zweimal; bitte eines ändern.".into()
        }
        other => format!("Hinweis: {}", other.code()),
    }
}

impl ClientWindow {
    pub fn new(doc: String) -> Self {
        Self {
            doc,
            tab: Tab::default(),
            note: String::new(),
            editing_note: None,
            pseudonym: None,
            monitoring: None,
            timeline: TimelineTab::default(),
            message: None,
            password: None,
            upload_path: String::new(),
            profile_form: None,
            lock_until: None,
            download_dir: String::new(),
            downloaded: None,
            error: None,
            read: None,
        }
    }

    /// Shows the window; returns `false` once it was closed.
    pub fn show(&mut self, ctx: &egui::Context, workspace: &mut Workspace) -> bool {
        let generation = workspace.generation_of(&self.doc);
        let read = match self.read.take() {
            Some((at, read)) if at == generation => read,
            _ => match workspace.record(&self.doc) {
                Ok(read) => Arc::new(read),
                Err(_) => return false,
            },
        };
        self.read = Some((generation, read.clone()));
        let (record, view, notices) = &*read;
        let mut open = true;
        egui::Window::new(format!("Klient:in {}", record.pseudonym))
            .id(egui::Id::unique(("client", &self.doc)))
            .open(&mut open)
            .default_size([760.0, 600.0])
            .show(ctx, |ui| {
                for notice in notices {
                    ui.horizontal_wrapped(|ui| {
                        ui.colored_label(
                            Color32::from_rgb(150, 80, 0),
                            notice_text(notice, workspace),
                        );
                        if ui.small_button("Verstanden").clicked() {
                            let id = notice.id.clone();
                            self.error = workspace
                                .edit::<ClientRecord, _>(&self.doc, |d, e| {
                                    Ok(d.acknowledge(e, &id)?)
                                })
                                .err()
                                .map(|e| e.to_string());
                        }
                    });
                }
                for request in workspace.waiting_for(&self.doc) {
                    ui.label(RichText::new(format!("Wartet: {request}")).italics());
                }
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.tab, Tab::Profile, "Profil");
                    ui.selectable_value(&mut self.tab, Tab::Notes, "Notizen");
                    ui.selectable_value(&mut self.tab, Tab::Documents, "Dokumente");
                    ui.selectable_value(&mut self.tab, Tab::Monitoring, "Monitoring");
                    ui.selectable_value(&mut self.tab, Tab::Timeline, "Teilnahmeverlauf");
                    self.menu(ui, workspace);
                });
                ui.separator();
                error_line(ui, &self.error);
                egui::ScrollArea::vertical().show(ui, |ui| match self.tab {
                    Tab::Profile => self.profile(ui, workspace, record, view),
                    Tab::Notes => self.notes(ui, workspace, view),
                    Tab::Documents => self.documents(ui, workspace),
                    Tab::Monitoring => self.monitorings(ui, workspace),
                    Tab::Timeline => self.timeline.show(ui, workspace, &self.doc, record, view),
                });
            });
        self.message_window(ctx, workspace);
        self.password_window(ctx, workspace);
        self.lock_window(ctx, workspace);
        open
    }

    /// "Sperren bis …": locked until the end of that day.
    fn lock_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
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
    fn password_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
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
                        "Die Weitergabe des Passwortes muss über einen geschützten Kommunikationskanal                          erfolgen. Die Person sollte es nach der Anmeldung ändern.",
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

    /// "Direkt-Nachricht": written into the person's contact document (so it works
    /// offline too); the server's mail queue sends it by e-mail or SMS, as the person
    /// registered, and marks it sent. Sent messages are listed newest first.
    fn message_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(form) = &mut self.message else {
            return;
        };
        let contact_doc = workspace
            .documents_of(&self.doc)
            .into_iter()
            .find(|(_, row)| matches!(row, Row::Contact { .. }))
            .map(|(doc, _)| doc.to_owned());
        let contact = contact_doc
            .as_deref()
            .and_then(|doc| workspace.read::<ClientContact>(doc).ok());
        let mut open = true;
        let mut sent = false;
        egui::Window::new("Direkt-Nachricht")
            .open(&mut open)
            .collapsible(false)
            .default_width(480.0)
            .show(ctx, |ui| {
                let Some((doc, contact)) = contact_doc.zip(contact) else {
                    ui.label(
                        "Für diese Person sind keine Kontaktdaten hinterlegt: eine Direkt-Nachricht erreicht sie nicht.",
                    );
                    return;
                };
                field(ui, "Betreff", &mut form.subject);
                let label = ui.label("Nachricht");
                ui.add(egui::TextEdit::multiline(&mut form.text).desired_rows(5))
                    .labelled_by(label.id);
                match contact.channel {
                    ContactChannel::Email => {
                        ui.label(format!(
                            "Angeschrieben wird: {}",
                            contact.email.clone().unwrap_or_default()
                        ));
                        ui.label("Die/Der Teilnehmer:in wird per E-Mail angeschrieben.");
                    }
                    ContactChannel::Sms => {
                        ui.label(format!(
                            "Angeschrieben wird: {}",
                            contact.phone.clone().unwrap_or_default()
                        ));
                        ui.label("Die/Der Teilnehmer:in wird per SMS angeschrieben.");
                    }
                    ContactChannel::None => {
                        ui.label("Die Person ist weder per E-Mail noch per SMS erreichbar.");
                    }
                }
                error_line(ui, &form.error);
                if ui.button("Senden").clicked() {
                    let (subject, text) = (form.subject.clone(), form.text.clone());
                    match workspace.edit::<ClientContact, _>(&doc, |d, e| {
                        Ok(d.send_direct_message(e, &subject, &text).map(|_| ())?)
                    }) {
                        Ok(()) => sent = true,
                        Err(error) => form.error = Some(error.to_string()),
                    }
                }
                ui.separator();
                let mut messages: Vec<_> = contact.direct_messages.values().collect();
                messages.sort_by(|a, b| b.stamp.cmp(&a.stamp));
                for message in messages {
                    let delivery = match message.delivery {
                        Delivery::Queued => "wartet auf den Versand",
                        Delivery::Sent => "versandt",
                        Delivery::Failed => "nicht zustellbar",
                    };
                    ui.label(
                        RichText::new(format!(
                            "{} – {} ({delivery})",
                            german::date_time(message.stamp.wall_ms),
                            message.subject
                        ))
                        .strong(),
                    );
                    ui.label(&message.text);
                }
            });
        if sent {
            self.message = Some(MessageForm::default());
        }
        if !open {
            self.message = None;
        }
    }

    fn menu(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
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
                Some(RowStatus::Locked(_)) => Some(("Entsperren", false)),
                Some(RowStatus::Active) => Some(("Sperren", true)),
                _ => None,
            };
            if lock == Some(("Sperren", true)) && ui.button("Sperren bis …").clicked() {
                self.lock_until = Some(String::new());
                ui.close();
            }
            if let Some((text, locking)) = lock
                && ui.button(text).clicked()
            {
                self.error = workspace
                    .edit::<ClientRecord, _>(&doc, |d, e| {
                        if locking {
                            d.lock(e, None)?;
                        } else {
                            d.unlock(e)?;
                        }
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
                    let done = if deleted {
                        workspace.restore_client(&doc)
                    } else {
                        workspace.delete_client(&doc)
                    };
                    self.error = done.err().map(|e| e.to_string());
                    ui.close();
                }
            }
        });
    }

    fn profile(
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
                            if member.role != "client" {
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
                ui.label(super::members::account_words(
                    record.account.last_login_ms,
                    record.account.invitation_sent_ms,
                    record.account.has_password,
                ));
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

    fn notes(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        view: &conflict_rules::record::RecordView,
    ) {
        let doc = self.doc.clone();
        let label = ui.label("Neue Notiz");
        ui.add(
            egui::TextEdit::multiline(&mut self.note)
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        if ui.button("Speichern").clicked() {
            let text = self.note.clone();
            match workspace
                .edit::<ClientRecord, _>(&doc, |d, e| Ok(d.add_note(e, &text).map(|_| ())?))
            {
                Ok(()) => self.note.clear(),
                Err(error) => self.error = Some(error.to_string()),
            }
        }
        ui.separator();
        if view.notes.is_empty() {
            ui.label("Noch keine Notizen.");
        }
        for note in &view.notes {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{} · {}{}",
                        workspace.staff_name(note.author.as_str()),
                        german::date_time(note.created.wall_ms),
                        if note.edited.is_some() {
                            " · bearbeitet"
                        } else {
                            ""
                        }
                    ))
                    .weak(),
                );
                ui.menu_button("…", |ui| {
                    if ui.button("Bearbeiten").clicked() {
                        self.editing_note = Some((note.id.clone(), note.text.clone()));
                        ui.close();
                    }
                    if ui.button("Löschen").clicked() {
                        let id = note.id.clone();
                        self.error = workspace
                            .edit::<ClientRecord, _>(&doc, |d, e| Ok(d.delete_note(e, &id)?))
                            .err()
                            .map(|e| e.to_string());
                        ui.close();
                    }
                });
            });
            let editing_this = matches!(&self.editing_note, Some((id, _)) if *id == note.id);
            match self.editing_note.take() {
                Some((id, mut draft)) if editing_this => {
                    let label = ui.label("Notiz bearbeiten");
                    ui.add(
                        egui::TextEdit::multiline(&mut draft)
                            .desired_rows(3)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                    let (cancel, save) = ui
                        .horizontal(|ui| {
                            (
                                ui.button("Abbrechen").clicked(),
                                ui.button("Änderung speichern").clicked(),
                            )
                        })
                        .inner;
                    if save {
                        match workspace
                            .edit::<ClientRecord, _>(&doc, |d, e| Ok(d.edit_note(e, &id, &draft)?))
                        {
                            Ok(()) => {}
                            Err(error) => {
                                self.error = Some(error.to_string());
                                self.editing_note = Some((id, draft));
                            }
                        }
                    } else if !cancel {
                        self.editing_note = Some((id, draft));
                    }
                }
                other => {
                    self.editing_note = other;
                    ui.label(&note.text);
                }
            }
            ui.add_space(6.0);
        }
    }

    /// The notebooks of this person this user may read: their own, and for admins all.
    fn notebooks(&self, workspace: &Workspace) -> Vec<(String, Notebook)> {
        workspace
            .documents_of(&self.doc)
            .into_iter()
            .filter(|(_, row)| matches!(row, Row::Notebook { .. }))
            .filter_map(|(doc, _)| Some((doc.to_owned(), workspace.read::<Notebook>(doc).ok()?)))
            .collect()
    }

    fn documents(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        ui.label(
            RichText::new(
                "Dokumente sind nur für die/den Berater:in sichtbar, die/der sie hochgeladen hat.",
            )
            .weak(),
        );
        ui.horizontal(|ui| {
            field(ui, "Datei", &mut self.upload_path);
            if ui.button("Hochladen").clicked() {
                let path = std::path::PathBuf::from(self.upload_path.trim());
                match workspace.upload_document(&self.doc, &path) {
                    Ok(()) => {
                        self.upload_path.clear();
                        self.error = None;
                    }
                    Err(error) => self.error = Some(error.to_string()),
                }
            }
        });
        ui.horizontal(|ui| {
            if self.download_dir.is_empty() {
                self.download_dir = default_download_dir();
            }
            field(ui, "Zielordner", &mut self.download_dir);
            if ui.button("Alle herunterladen").clicked() {
                let dir = std::path::PathBuf::from(self.download_dir.trim());
                match workspace.download_documents(&self.doc, &dir) {
                    Ok(n) => {
                        self.error = None;
                        self.downloaded =
                            Some(format!("{n} Datei(en) gespeichert in {}", dir.display()));
                    }
                    Err(error) => self.error = Some(error.to_string()),
                }
            }
        });
        if let Some(done) = &self.downloaded {
            ui.label(done);
        }
        let me = workspace.me().to_owned();
        let mut listed = 0;
        for (doc, notebook) in self.notebooks(workspace) {
            if notebook.author.as_str() != me {
                continue;
            }
            let mut files: Vec<_> = notebook.documents.iter().collect();
            files.sort_by(|a, b| b.1.uploaded.cmp(&a.1.uploaded));
            for (id, meta) in files {
                listed += 1;
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{} · {} · {} KB",
                        meta.file_name,
                        german::date_time(meta.uploaded.wall_ms),
                        meta.size / 1024
                    ));
                    if ui.small_button("Löschen").clicked() {
                        let id = id.clone();
                        self.error = workspace
                            .edit::<Notebook, _>(&doc, |d, _| Ok(d.delete_document(&id)?))
                            .err()
                            .map(|e| e.to_string());
                    }
                });
            }
        }
        if listed == 0 {
            ui.label("Keine Dokumente.");
        }
    }

    fn monitorings(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
        if ui.button("+ Monitoring anlegen").clicked() {
            self.monitoring = Some(MonitoringForm {
                date: german::today().german(),
                minutes: "30".into(),
                ..MonitoringForm::default()
            });
        }
        if let Some(mut form) = self.monitoring.take() {
            let person = self.doc.clone();
            let mut failed = None;
            let done = egui::Frame::group(ui.style()).show(ui, |ui| {
                field(ui, "Datum", &mut form.date);
                let label = ui.label("Kanal");
                egui::ComboBox::from_id_salt("channel")
                    .selected_text(
                        form.channel
                            .map(ContactKind::german)
                            .unwrap_or("bitte wählen"),
                    )
                    .show_ui(ui, |ui| {
                        for kind in ContactKind::ALL {
                            ui.selectable_value(&mut form.channel, Some(kind), kind.german());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                field(ui, "Dauer (Minuten)", &mut form.minutes);
                field(ui, "Thema", &mut form.topic);
                let label = ui.label("Text");
                ui.add(egui::TextEdit::multiline(&mut form.text).desired_rows(3))
                    .labelled_by(label.id);
                let mut done = false;
                ui.horizontal(|ui| {
                    if ui.button("Abbrechen").clicked() {
                        done = true;
                    }
                    if ui.button("Monitoring speichern").clicked() {
                        let input = match (
                            german::parse_date(&form.date),
                            form.minutes.trim().parse::<u64>(),
                            form.channel,
                        ) {
                            (Some(date), Ok(minutes), Some(channel)) => Ok(MonitoringInput {
                                date,
                                channel,
                                duration_minutes: minutes,
                                topic: form.topic.clone(),
                                text: form.text.clone(),
                                participation: None,
                            }),
                            (None, _, _) => Err("Datum bitte als TT.MM.JJJJ".to_owned()),
                            (_, Err(_), _) => Err("Dauer bitte in Minuten".to_owned()),
                            (_, _, None) => Err("Bitte einen Kanal wählen".to_owned()),
                        };
                        let result = input.and_then(|input| {
                            let notebook = match &form.editing {
                                Some((doc, _)) => doc.clone(),
                                None => {
                                    workspace.own_notebook(&person).map_err(|e| e.to_string())?
                                }
                            };
                            let editing = form.editing.clone();
                            workspace
                                .edit::<Notebook, _>(&notebook, |d, e| match &editing {
                                    Some((_, id)) => Ok(d.edit_monitoring(e, id, input)?),
                                    None => Ok(d.add_monitoring(e, input).map(|_| ())?),
                                })
                                .map_err(|e| e.to_string())
                        });
                        match result {
                            Ok(()) => done = true,
                            Err(error) => failed = Some(error),
                        }
                    }
                });
                done
            });
            if failed.is_some() {
                self.error = failed;
            }
            if !done.inner {
                self.monitoring = Some(form);
            }
        }
        let mut all = Vec::new();
        for (doc, notebook) in self.notebooks(workspace) {
            for (id, monitoring) in notebook.monitorings {
                all.push((doc.clone(), notebook.author.clone(), id, monitoring));
            }
        }
        all.sort_by(|a, b| (b.3.date, &b.3.created).cmp(&(a.3.date, &a.3.created)));
        if all.is_empty() {
            ui.label("Keine Monitorings.");
        }
        let me = workspace.me().to_owned();
        for (doc, author, id, monitoring) in all {
            ui.separator();
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{} · {} · {} Min. · {}",
                        monitoring.date.german(),
                        monitoring.channel.german(),
                        monitoring.duration_minutes,
                        monitoring.topic
                    ))
                    .strong(),
                );
                if author.as_str() != me {
                    ui.label(
                        RichText::new(format!("von {}", workspace.staff_name(author.as_str())))
                            .weak(),
                    );
                } else {
                    if ui.small_button("Bearbeiten").clicked() {
                        self.monitoring = Some(MonitoringForm {
                            editing: Some((doc.clone(), id.clone())),
                            date: monitoring.date.german(),
                            channel: Some(monitoring.channel),
                            minutes: monitoring.duration_minutes.to_string(),
                            topic: monitoring.topic.clone(),
                            text: monitoring.text.as_str().to_owned(),
                        });
                    }
                    if ui.small_button("Löschen").clicked() {
                        let id = id.clone();
                        self.error = workspace
                            .edit::<Notebook, _>(&doc, |d, _| Ok(d.delete_monitoring(&id)?))
                            .err()
                            .map(|e| e.to_string());
                    }
                }
            });
            ui.label(monitoring.text.as_str());
        }
    }
}
