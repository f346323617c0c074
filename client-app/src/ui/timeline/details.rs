//! A participation's hand-edited fields ("Teilnahmedaten bearbeiten"): remarks, cost
//! bearer and contact, funding period, and the programme type's own fields. Shown read-only
//! under the participation until the button opens the form in place.

use conflict_rules::assistant::Participation;
use model::ParticipationId;

use super::TimelineTab;
use crate::ui::input::{date_text, period};
use crate::ui::type_specific::TypeSpecificForm;
use crate::ui::widgets::field;
use crate::workspace::{ParticipationEdit, TimelineRead, Workspace};

#[derive(Debug)]
pub(super) struct DetailsForm {
    doc: String,
    participation: ParticipationId,
    remarks: String,
    cost_bearer: String,
    contact: String,
    funding_from: String,
    funding_to: String,
    type_specific: Option<TypeSpecificForm>,
}

impl TimelineTab {
    pub(super) fn details(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &mut Workspace,
        timeline: &TimelineRead,
        p: &Participation,
    ) {
        let Some(details) = timeline.view.details.get(&p.id) else {
            return;
        };
        let editing = self
            .details
            .as_ref()
            .is_some_and(|d| d.participation == p.id);
        if !editing {
            egui::Grid::new(("details", p.id.as_str()))
                .num_columns(2)
                .show(ui, |ui| {
                    ui.label("Bemerkungen");
                    ui.label(details.remarks.as_str());
                    ui.end_row();
                    ui.label("Kostenträger");
                    ui.label(&details.cost_bearer);
                    ui.end_row();
                    ui.label("Ansprechpartner:in beim Kostenträger");
                    ui.label(&details.cost_bearer_contact);
                    ui.end_row();
                    ui.label("Förderzeitraum");
                    ui.label(format!(
                        "{} – {}",
                        date_text(details.funding_period.from),
                        date_text(details.funding_period.to)
                    ));
                    ui.end_row();
                });
            if let Some(specific) =
                TypeSpecificForm::of(&p.programme.programme_type, &details.type_specific)
            {
                for line in specific.lines() {
                    ui.label(line);
                }
            }
            if ui.small_button("Teilnahmedaten bearbeiten").clicked() {
                self.details = Some(DetailsForm {
                    doc: timeline.doc.clone(),
                    participation: p.id.clone(),
                    remarks: details.remarks.as_str().to_owned(),
                    cost_bearer: details.cost_bearer.clone(),
                    contact: details.cost_bearer_contact.clone(),
                    funding_from: date_text(details.funding_period.from),
                    funding_to: date_text(details.funding_period.to),
                    type_specific: TypeSpecificForm::of(
                        &p.programme.programme_type,
                        &details.type_specific,
                    ),
                });
            }
            return;
        }
        let Some(form) = &mut self.details else {
            return;
        };
        let label = ui.label("Bemerkungen");
        ui.add(egui::TextEdit::multiline(&mut form.remarks).desired_rows(3))
            .labelled_by(label.id);
        field(ui, "Kostenträger", &mut form.cost_bearer);
        field(
            ui,
            "Ansprechpartner:in beim Kostenträger",
            &mut form.contact,
        );
        ui.horizontal(|ui| {
            field(ui, "Förderzeitraum von", &mut form.funding_from);
            field(ui, "bis", &mut form.funding_to);
        });
        if let Some(specific) = &mut form.type_specific {
            specific.show(ui);
        }
        let (save, cancel) = ui
            .horizontal(|ui| {
                (
                    ui.button("Speichern").clicked(),
                    ui.button("Abbrechen").clicked(),
                )
            })
            .inner;
        {
            if save {
                let specific = form
                    .type_specific
                    .as_ref()
                    .map(|s| s.apply(&details.type_specific))
                    .transpose();
                let saved = period(&form.funding_from, &form.funding_to)
                    .and_then(|funding| Ok((funding, specific?)))
                    .and_then(|(funding, type_specific)| {
                        let edit = ParticipationEdit {
                            remarks: form.remarks.clone(),
                            cost_bearer: form.cost_bearer.clone(),
                            contact: form.contact.clone(),
                            funding,
                            type_specific,
                        };
                        workspace
                            .set_participation_details(&form.doc, &form.participation, &edit)
                            .map_err(|e| e.to_string())
                    });
                match saved {
                    Ok(()) => {
                        self.details = None;
                        self.error = None;
                    }
                    Err(error) => self.error = Some(error),
                }
            } else if cancel {
                self.details = None;
            }
        }
    }
}
