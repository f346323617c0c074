//! The small widgets every screen shares: a labelled text field, the red error line,
//! the choice of a site, and the confirmation before anything is deleted (the manual's
//! "Nach Bestätigung auf dem roten Button"). They live apart from the screens so that
//! no screen has to reach into another (or into `ui` itself) for them.

use egui::{Color32, RichText};

/// The red of errors and of buttons that delete.
pub const RED: Color32 = Color32::from_rgb(190, 30, 30);

use crate::workspace::CatalogueView;

/// A labelled one-line text field.
pub fn field(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(260.0))
        .labelled_by(label.id)
}

pub fn error_line(ui: &mut egui::Ui, error: &Option<String>) {
    if let Some(error) = error {
        ui.colored_label(RED, error);
    }
}

/// A choice of the tenant's sites, or none.
pub fn site_choice(
    ui: &mut egui::Ui,
    id: &str,
    catalogue: &CatalogueView,
    site: &mut Option<model::SiteId>,
) {
    ui.horizontal(|ui| {
        let label = ui.label("Standort");
        egui::ComboBox::from_id_salt(id)
            .selected_text(catalogue.site_name(site.as_ref()).unwrap_or("–"))
            .show_ui(ui, |ui| {
                ui.selectable_value(site, None, "–");
                for (id, s) in &catalogue.sites {
                    ui.selectable_value(site, Some(id.clone()), &s.name);
                }
            })
            .response
            .labelled_by(label.id);
    });
}

/// A red button for what cannot be undone ("Endgültig löschen").
pub fn danger_button(ui: &mut egui::Ui, text: &str, enabled: bool) -> egui::Response {
    ui.add_enabled(
        enabled,
        egui::Button::new(RichText::new(text).color(Color32::WHITE).strong()).fill(RED),
    )
}

/// What a confirmation dialog was answered this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Still open: show it again next frame.
    Open,
    /// "Abbrechen", Escape or a click beside the dialog: nothing happens.
    Cancelled,
    /// The red button: go ahead.
    Confirmed,
}

/// Asks before something is deleted: a modal dialog (the rest of the window waits) with
/// `title`, a `text` that names what goes, "Abbrechen", and the red `button`. Show it
/// every frame while the question stands; act only on [`Answer::Confirmed`].
pub fn confirm(ctx: &egui::Context, title: &str, text: &str, button: &str) -> Answer {
    confirm_with(ctx, title, button, true, |ui| {
        ui.label(text);
    })
}

/// [`confirm`] with a body of its own (a password to type, say); the red button works
/// only while `enabled`.
pub fn confirm_with(
    ctx: &egui::Context,
    title: &str,
    button: &str,
    enabled: bool,
    body: impl FnOnce(&mut egui::Ui),
) -> Answer {
    let mut answer = Answer::Open;
    let modal = egui::Modal::new(egui::Id::unique(("confirm", title))).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading(title);
        ui.add_space(6.0);
        body(ui);
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            if ui.button("Abbrechen").clicked() {
                answer = Answer::Cancelled;
            }
            ui.add_space(12.0);
            if danger_button(ui, button, enabled).clicked() {
                answer = Answer::Confirmed;
            }
        });
    });
    if answer == Answer::Open && modal.should_close() {
        answer = Answer::Cancelled;
    }
    answer
}
