//! The client window's "Monitoring" tab: contacts with the person (date, channel,
//! duration, topic, text), recorded in this user's notebook of the person; admins also see
//! everyone else's, read-only.

use egui::RichText;
use model::notebook::{ContactKind, MonitoringInput, Notebook};

use super::{ClientWindow, EntryKind, EntryToDelete, MonitoringRef};
use crate::german;
use crate::ui::widgets::field;
use crate::workspace::Workspace;

#[derive(Debug, Default)]
pub struct MonitoringForm {
    /// The entry being edited; `None` for a new one.
    pub editing: Option<MonitoringRef>,
    pub date: String,
    pub channel: Option<ContactKind>,
    pub minutes: String,
    pub topic: String,
    pub text: String,
}

impl ClientWindow {
    pub(super) fn monitorings(&mut self, ui: &mut egui::Ui, workspace: &mut Workspace) {
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
                                Some(entry) => entry.notebook.clone(),
                                None => {
                                    workspace.own_notebook(&person).map_err(|e| e.to_string())?
                                }
                            };
                            let editing = form.editing.clone();
                            workspace
                                .edit::<Notebook, _>(&notebook, |d, e| match &editing {
                                    Some(entry) => Ok(d.edit_monitoring(e, &entry.id, input)?),
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
                            editing: Some(MonitoringRef {
                                notebook: doc.clone(),
                                id: id.clone(),
                            }),
                            date: monitoring.date.german(),
                            channel: Some(monitoring.channel),
                            minutes: monitoring.duration_minutes.to_string(),
                            topic: monitoring.topic.clone(),
                            text: monitoring.text.as_str().to_owned(),
                        });
                    }
                    if ui.small_button("Löschen").clicked() {
                        self.confirm_entry = Some(EntryToDelete {
                            notebook: doc.clone(),
                            id: id.clone(),
                            kind: EntryKind::Monitoring,
                            name: format!("{} · {}", monitoring.date.german(), monitoring.topic),
                        });
                    }
                }
            });
            ui.label(monitoring.text.as_str());
        }
    }
}
