//! The client window's "Notizen" tab: a new note, and the notes newest first with their
//! author, each edited in place or deleted.

use egui::RichText;
use model::client_record::ClientRecord;

use super::{ClientWindow, NoteDraft};
use crate::german;
use crate::workspace::Workspace;

impl ClientWindow {
    pub(super) fn notes(
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
                        self.editing_note = Some(NoteDraft {
                            id: note.id.clone(),
                            text: note.text.clone(),
                        });
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
            let editing_this = matches!(&self.editing_note, Some(draft) if draft.id == note.id);
            match self.editing_note.take() {
                Some(NoteDraft {
                    id,
                    text: mut draft,
                }) if editing_this => {
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
                                self.editing_note = Some(NoteDraft { id, text: draft });
                            }
                        }
                    } else if !cancel {
                        self.editing_note = Some(NoteDraft { id, text: draft });
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
}
