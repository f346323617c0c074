//! The client window's "Dokumente" tab: upload a file, download all of them into a
//! folder, and the list of this user's own uploads (documents are visible only to the
//! counsellor who uploaded them).

use egui::RichText;
use model::notebook::Notebook;

use super::ClientWindow;
use crate::german;
use crate::ui::widgets::field;
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

impl ClientWindow {
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
}
