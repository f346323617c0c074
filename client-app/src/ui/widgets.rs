//! The small widgets every screen shares: a labelled text field, the red error line and
//! the choice of a site. They live apart from the screens so that no screen has to reach
//! into another (or into `ui` itself) for them.

use egui::Color32;

use crate::workspace::CatalogueView;

/// A labelled one-line text field.
pub fn field(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(260.0))
        .labelled_by(label.id)
}

pub fn error_line(ui: &mut egui::Ui, error: &Option<String>) {
    if let Some(error) = error {
        ui.colored_label(Color32::from_rgb(190, 30, 30), error);
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
