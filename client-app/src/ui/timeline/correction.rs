//! "Abschnitt korrigieren": a section's name, site and dates, corrected by hand. Only what
//! was changed is recorded, so a correction does not undo what others did meanwhile to the
//! other fields; the status of a section cannot be corrected (that is the assistant's).

use egui::RichText;
use model::timeline::{ActionKind, SectionCorrection};
use model::{Date, EntityId, ParticipationId, SiteId};

use super::TimelineTab;
use crate::german;
use crate::ui::input::{date_text, required_date};
use crate::ui::widgets::{error_line, field, site_choice};
use crate::workspace::{CatalogueView, Workspace};

/// The window's state: which section, its fields as typed, and as they were read.
#[derive(Debug)]
pub(super) struct CorrectionForm {
    doc: String,
    participation: ParticipationId,
    section: EntityId,
    fields: SectionFields,
    /// The fields when the window opened: only what differs from them is recorded.
    original: SectionFields,
}

/// The fields of a section the window corrects, dates as typed.
#[derive(Debug, Clone)]
struct SectionFields {
    name: String,
    site: Option<SiteId>,
    actual_start: String,
    planned_end: String,
    actual_end: String,
}

impl CorrectionForm {
    pub(super) fn of(
        doc: &str,
        participation: &ParticipationId,
        section: &conflict_rules::assistant::Section,
    ) -> Self {
        let original = SectionFields {
            name: section.name.clone(),
            site: section.site.clone(),
            actual_start: date_text(section.actual_start),
            planned_end: date_text(section.planned_end),
            actual_end: date_text(section.actual_end),
        };
        Self {
            doc: doc.to_owned(),
            participation: participation.clone(),
            section: section.id.clone(),
            fields: original.clone(),
            original,
        }
    }

    /// Only what was changed, so that the correction does not undo what others did to
    /// the other fields; `None` when nothing was.
    fn correction(&self) -> Result<Option<SectionCorrection>, String> {
        let changed = |now: &str, before: &str| now.trim() != before.trim();
        let date_if = |now: &str, before: &str| -> Result<Option<Date>, String> {
            if changed(now, before) {
                required_date(now, "ein Datum").map(Some)
            } else {
                Ok(None)
            }
        };
        let (now, before) = (&self.fields, &self.original);
        let correction = SectionCorrection {
            section: self.section.clone(),
            name: changed(&now.name, &before.name).then(|| now.name.trim().to_owned()),
            site: (now.site != before.site)
                .then(|| now.site.clone())
                .flatten(),
            actual_start: date_if(&now.actual_start, &before.actual_start)?,
            planned_end: date_if(&now.planned_end, &before.planned_end)?,
            actual_end: date_if(&now.actual_end, &before.actual_end)?,
        };
        let nothing = correction.name.is_none()
            && correction.site.is_none()
            && correction.actual_start.is_none()
            && correction.planned_end.is_none()
            && correction.actual_end.is_none();
        Ok((!nothing).then_some(correction))
    }
}

impl TimelineTab {
    pub(super) fn correction_window(
        &mut self,
        ctx: &egui::Context,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
    ) {
        let Some(form) = &mut self.correction else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new("Abschnitt korrigieren")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new("Der Status eines Abschnitts lässt sich nicht korrigieren.")
                        .italics(),
                );
                field(ui, "Abschnitt", &mut form.fields.name);
                site_choice(ui, "correction-site", catalogue, &mut form.fields.site);
                field(ui, "Tatsächlicher Beginn", &mut form.fields.actual_start);
                field(ui, "Planmäßiges Ende", &mut form.fields.planned_end);
                field(ui, "Tatsächliches Ende", &mut form.fields.actual_end);
                error_line(ui, &self.error);
                if ui.button("Speichern").clicked() {
                    match form.correction() {
                        Err(error) => self.error = Some(error),
                        Ok(None) => done = true,
                        Ok(Some(correction)) => {
                            match workspace.assist(
                                person,
                                Some(&form.doc),
                                Some(&form.participation),
                                german::today(),
                                ActionKind::CorrectSection(correction),
                            ) {
                                Ok(_) => {
                                    done = true;
                                    self.error = None;
                                }
                                Err(error) => self.error = Some(error.to_string()),
                            }
                        }
                    }
                }
            });
        if done || !open {
            self.correction = None;
        }
    }
}
