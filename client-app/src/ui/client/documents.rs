//! The client window's "Dokumente" tab: upload a file, download all of them into a
//! folder, and the list of this user's own uploads (documents are visible only to the
//! counsellor who uploaded them).

use egui::RichText;
use model::EntityId;
use model::notebook::Notebook;

use super::ClientWindow;
use crate::german;
use crate::ui::widgets::{Answer, confirm, field};
use crate::workspace::Workspace;

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

/// What a notebook entry is, for the question before it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Document,
    Monitoring,
}

/// An uploaded document or a monitoring whose deletion waits for the red button.
#[derive(Debug, Clone)]
pub struct EntryToDelete {
    /// The notebook document that holds it.
    pub notebook: String,
    pub id: EntityId,
    pub kind: EntryKind,
    /// The file name, or the monitoring's date and topic.
    pub name: String,
}

impl ClientWindow {
    /// "Dokument löschen" and "Monitoring löschen", after the red button.
    pub(super) fn entry_confirmation(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
        let Some(entry) = &self.confirm_entry else {
            return;
        };
        let (title, text) = match entry.kind {
            EntryKind::Document => (
                "Dokument löschen",
                format!(
                    "Das Dokument „{}“ wird gelöscht und ist danach für niemanden mehr abrufbar.",
                    entry.name
                ),
            ),
            EntryKind::Monitoring => (
                "Monitoring löschen",
                format!("Das Monitoring „{}“ wird gelöscht.", entry.name),
            ),
        };
        match confirm(ctx, title, &text, "Endgültig löschen") {
            Answer::Open => {}
            Answer::Cancelled => self.confirm_entry = None,
            Answer::Confirmed => {
                let id = entry.id.clone();
                let kind = entry.kind;
                self.error = workspace
                    .edit::<Notebook, _>(&entry.notebook, |d, _| match kind {
                        EntryKind::Document => Ok(d.delete_document(&id)?),
                        EntryKind::Monitoring => Ok(d.delete_monitoring(&id)?),
                    })
                    .err()
                    .map(|e| e.to_string());
                self.confirm_entry = None;
            }
        }
    }

    pub(super) fn documents(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
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
                        self.confirm_entry = Some(EntryToDelete {
                            notebook: doc.clone(),
                            id: id.clone(),
                            kind: EntryKind::Document,
                            name: meta.file_name.clone(),
                        });
                    }
                });
            }
        }
        if listed == 0 {
            ui.label("Keine Dokumente.");
        }
    }
}
