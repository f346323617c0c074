//! The client window: tabs Profil, Notizen, Dokumente, Monitoring and Teilnahmeverlauf,
//! and the ⋮ menu (merken, sperren/entsperren, Passwort vergeben, Einladung versenden;
//! for admins löschen/wiederherstellen and Direkt-Nachricht). Deleting the person, a
//! document or a monitoring waits for the red button of a confirmation.
//! Notices from the conflict rules that concern this user stand at the top until
//! acknowledged.
//!
//! Each tab and the ⋮ menu's windows live in a file of their own under `client/`; this
//! file holds the window, its state and what it read.

mod documents;
mod menu;
mod message;
mod monitoring;
mod notes;
mod profile;

use std::sync::Arc;

use conflict_rules::notice::{Notice, NoticeKind};
use conflict_rules::record::RecordView;
use egui::{Color32, RichText};
use model::EntityId;
use model::client_record::ClientRecord;
use model::notebook::Notebook;

use super::profile_form::ProfileForm;
use super::timeline::TimelineTab;
use super::widgets::error_line;
use crate::rows::Row;
use crate::workspace::Workspace;

pub use documents::{EntryKind, EntryToDelete};
pub use menu::PasswordForm;
pub use message::MessageForm;
pub use monitoring::MonitoringForm;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Profile,
    Notes,
    Documents,
    Monitoring,
    Timeline,
}

/// A note being edited in place: which one, and the text as typed so far.
#[derive(Debug, Clone)]
pub struct NoteDraft {
    pub id: EntityId,
    pub text: String,
}

/// A monitoring entry by id, with the notebook document that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringRef {
    pub notebook: String,
    pub id: EntityId,
}

#[derive(Debug)]
pub struct ClientWindow {
    pub doc: String,
    pub tab: Tab,
    pub note: String,
    /// "Notizen": the note being edited in place.
    pub editing_note: Option<NoteDraft>,
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
    /// "löschen", asked and not yet answered: the pseudonym the question names.
    pub confirm_delete: Option<String>,
    /// "Dokumente" and "Monitoring": an entry whose deletion waits for the red button.
    pub confirm_entry: Option<EntryToDelete>,
    pub download_dir: String,
    pub downloaded: Option<String>,
    pub error: Option<String>,
    /// The record as last read, until the document moves on.
    read: Option<Arc<Read>>,
}

/// A client record with its view and the notices for this user, as read at one
/// generation of the document.
#[derive(Debug)]
struct Read {
    generation: u64,
    record: ClientRecord,
    view: RecordView,
    notices: Vec<Notice>,
}

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
            confirm_delete: None,
            confirm_entry: None,
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
            Some(read) if read.generation == generation => read,
            _ => match workspace.record(&self.doc) {
                Ok((record, view, notices)) => Arc::new(Read {
                    generation,
                    record,
                    view,
                    notices,
                }),
                Err(_) => return false,
            },
        };
        self.read = Some(read.clone());
        let Read {
            record,
            view,
            notices,
            ..
        } = &*read;
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
        self.delete_confirmation(ctx, workspace);
        self.entry_confirmation(ctx, workspace);
        open
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
}
