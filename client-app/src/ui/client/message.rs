//! "Direkt-Nachricht" (admins): a message to the person, written into their contact
//! document so that it works offline too; the server's mail queue sends it by e-mail or
//! SMS, as the person registered, and marks it sent, or failed when it gives it up.

use egui::RichText;
use model::client_contact::{ClientContact, ContactChannel, Delivery};

use super::ClientWindow;
use crate::german;
use crate::rows::Row;
use crate::ui::widgets::{error_line, field};
use crate::workspace::Workspace;

#[derive(Debug, Default)]
pub struct MessageForm {
    pub subject: String,
    pub text: String,
    pub error: Option<String>,
}

impl ClientWindow {
    /// "Direkt-Nachricht": written into the person's contact document (so it works
    /// offline too); the server's mail queue sends it by e-mail or SMS, as the person
    /// registered, and marks it sent. Sent messages are listed newest first.
    pub(super) fn message_window(&mut self, ctx: &egui::Context, workspace: &mut Workspace) {
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
                        Delivery::Failed => "Versand fehlgeschlagen",
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
}
