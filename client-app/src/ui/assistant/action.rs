//! What the assistant's pages describe, as the action `model` records: the programme
//! snapshot, dates and periods read from the fields, the result, the interruption; and
//! "Fertigstellen", which records it through the workspace and says what changed.

use conflict_rules::assistant::Offer;
use model::timeline::{
    ActionKind, Enrolment, Interruption, ParticipationResult, ProgrammeSnapshot, Transfer,
};
use model::{Date, EntityId};

use super::{Assistant, Outcome, ParticipationRef, offer_label};
use crate::german;
use crate::ui::input::{optional_date, period, required_date};
use crate::workspace::{CatalogueView, Workspace};

impl Assistant {
    fn snapshot(&self, catalogue: &CatalogueView) -> Result<ProgrammeSnapshot, String> {
        let id = self.programme.as_ref().ok_or("Bitte die Maßnahme wählen")?;
        let programme = catalogue
            .programmes
            .get(id)
            .ok_or("Diese Maßnahme gibt es nicht mehr")?;
        Ok(programme.snapshot(id))
    }

    fn interruption(&self) -> Result<Option<Interruption>, String> {
        if !self.interruption {
            return Ok(None);
        }
        Ok(Some(Interruption {
            reason: self.reason.trim().to_owned(),
            planned: period(&self.interruption_from, &self.interruption_to)?,
        }))
    }

    fn section_name(&self) -> Option<String> {
        Some(self.section_name.trim().to_owned()).filter(|n| !n.is_empty())
    }

    /// What can be checked before the result page: the dates and the programme.
    pub(super) fn check(&self, catalogue: &CatalogueView, offer: Offer) -> Result<(), String> {
        required_date(&self.date, "das Datum")?;
        if offer == Offer::Transfer {
            self.snapshot(catalogue)?;
            period(&self.funding_from, &self.funding_to)?;
            period(&self.planned_from, &self.planned_to)?;
        }
        Ok(())
    }

    fn result(&self) -> ParticipationResult {
        ParticipationResult {
            outcome: self.outcome.trim().to_owned(),
            remarks: self.remarks.trim().to_owned(),
        }
    }

    /// The action the pages describe, and its business date.
    fn action(
        &self,
        catalogue: &CatalogueView,
        offer: Offer,
    ) -> Result<(Date, ActionKind), String> {
        let today = german::today();
        let dated = |what: &str| required_date(&self.date, what);
        Ok(match offer {
            Offer::Enrol => {
                let entry = optional_date(&self.date)?;
                let kind = ActionKind::Enrol(Enrolment {
                    programme: self.snapshot(catalogue)?,
                    stage: self.stage.clone(),
                    section_name: self.section_name(),
                    site: self.site.clone(),
                    funding_period: period(&self.funding_from, &self.funding_to)?,
                    planned_period: period(&self.planned_from, &self.planned_to)?,
                    entry_date: entry,
                    waiting_list: self.waiting_list,
                });
                (entry.unwrap_or(today), kind)
            }
            Offer::Activate => (
                dated("das Einstiegsdatum")?,
                ActionKind::Activate {
                    section_name: self.section_name(),
                    site: self.site.clone(),
                },
            ),
            Offer::Transfer => (
                dated("den Eintritt in die neue Maßnahme")?,
                ActionKind::Transfer(Transfer {
                    successor: EntityId::new("new"),
                    programme: self.snapshot(catalogue)?,
                    stage: self.stage.clone(),
                    site: self.site.clone(),
                    funding_period: period(&self.funding_from, &self.funding_to)?,
                    planned_period: period(&self.planned_from, &self.planned_to)?,
                    quick: self.quick,
                    result: (!self.quick).then(|| self.result()),
                }),
            ),
            Offer::End => (
                dated("den letzten Tag")?,
                ActionKind::End {
                    result: self.result(),
                },
            ),
            Offer::Abort => (
                dated("den letzten Tag")?,
                ActionKind::Abort {
                    result: self.result(),
                },
            ),
            Offer::Suspend => (
                dated("den letzten Tag")?,
                ActionKind::Suspend {
                    interruption: self.interruption()?,
                },
            ),
            Offer::Resume => (
                dated("das Wiedereinstiegsdatum")?,
                ActionKind::Resume {
                    section_name: self.section_name(),
                    site: self.site.clone(),
                    planned_exit: optional_date(&self.planned_exit)?,
                    interruption: self.interruption()?,
                },
            ),
            Offer::Remove => (today, ActionKind::Remove),
            // Undated in the form: recorded today, or after a future end it belongs to.
            Offer::RecordResult => (
                self.participation()
                    .and_then(|p| conflict_rules::assistant::earliest_date(p, offer))
                    .map_or(today, |d| d.max(today)),
                ActionKind::RecordResult {
                    result: self.result(),
                },
            ),
            Offer::ChangeStage => (
                dated("den Beginn der neuen Stufe")?,
                ActionKind::ChangeStage {
                    stage: self.stage.clone().unwrap_or_default(),
                    site: self.site.clone(),
                    planned_end: optional_date(&self.planned_exit)?,
                },
            ),
            Offer::CorrectProgramme => (
                today,
                ActionKind::CorrectProgramme {
                    programme: self.snapshot(catalogue)?,
                },
            ),
            Offer::CorrectEntry => (
                today,
                ActionKind::CorrectEntry {
                    entry_date: dated("das Eintrittsdatum")?,
                },
            ),
        })
    }

    pub(super) fn finish(
        &mut self,
        workspace: &mut Workspace,
        person: &str,
        catalogue: &CatalogueView,
        offer: Offer,
    ) -> Outcome {
        let (date, kind) = match self.action(catalogue, offer) {
            Ok(action) => action,
            Err(error) => {
                self.error = Some(error);
                return Outcome::Open;
            }
        };
        let waiting = matches!(&kind, ActionKind::Enrol(e) if e.waiting_list);
        let (doc, participation) = match &self.on {
            Some(on) if offer != Offer::Enrol => {
                (Some(on.doc.clone()), Some(on.participation.id.clone()))
            }
            _ => (None, None),
        };
        match workspace.assist(person, doc.as_deref(), participation.as_ref(), date, kind) {
            Err(error) => {
                self.error = Some(error.to_string());
                Outcome::Open
            }
            Ok((doc, action)) => {
                // "Gespeichert" only for what the view shows: the assistant refuses what
                // would not apply as recorded, and this checks the view it leads to.
                let shown = workspace
                    .timelines(person)
                    .iter()
                    .any(|t| t.doc == doc && t.view.applied.contains(&action));
                if !shown {
                    return Outcome::Done {
                        message: "Der Schritt ist eingetragen, wirkt im Teilnahmeverlauf aber nicht; bitte den Verlauf prüfen."
                            .to_owned(),
                        current: None,
                    };
                }
                let (message, current) = match offer {
                    Offer::Enrol if waiting => (
                        "Die Person steht auf der Warteliste der Maßnahme.".to_owned(),
                        Some(ParticipationRef { doc, id: action }),
                    ),
                    Offer::Enrol => (
                        "Die Person ist eingebucht und aktiv. Die neue Maßnahme ist jetzt „in Bearbeitung“: \
                         alle Einträge werden zu ihr gespeichert."
                            .to_owned(),
                        Some(ParticipationRef { doc, id: action }),
                    ),
                    Offer::Transfer => (
                        "Umgebucht: die Folgemaßnahme ist jetzt aktiv und führt die Dokumentation fort."
                            .to_owned(),
                        Some(ParticipationRef {
                            doc,
                            id: EntityId::new(format!("{action}.next")),
                        }),
                    ),
                    Offer::Remove => ("Die Teilnahme wurde entfernt.".to_owned(), None),
                    other => (
                        format!("Gespeichert: {}.", offer_label(other, self.participation())),
                        None,
                    ),
                };
                Outcome::Done { message, current }
            }
        }
    }
}
