//! "Maßnahmetypspezifische Angaben": the fields of a participation that only some
//! programme types have (manual 004): AGH defaults, abH target hours, a BvB before BaE
//! and AuW, the DTZ language test.

use model::timeline::{ProgrammeType, TypeSpecific};

use super::input::optional_date;
use super::widgets::field;

/// Which part a programme type has, with the values as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSpecificForm {
    Agh {
        hours: String,
        allowance: String,
        activity: String,
    },
    Abh {
        target_hours: String,
    },
    PreviousBvb {
        attended: bool,
        months: String,
    },
    Dtz {
        test_date: String,
        level: String,
        bamf_number: String,
    },
}

/// `19,5` as hundredths; empty is 0.
fn hundredths(text: &str, what: &str) -> Result<u64, String> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1e9)
        .map(|v| (v * 100.0).round() as u64)
        .ok_or_else(|| format!("{what}: bitte eine Zahl angeben"))
}

fn whole(text: &str, what: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("{what}: bitte eine ganze Zahl angeben"))
}

/// `19,5` hours; money keeps its cents (`1,50`).
fn decimal(hundredths: u64, money: bool) -> String {
    if hundredths == 0 {
        return String::new();
    }
    if hundredths.is_multiple_of(100) && !money {
        return (hundredths / 100).to_string();
    }
    let text = format!("{:.2}", hundredths as f64 / 100.0).replace('.', ",");
    if money {
        text
    } else {
        text.trim_end_matches('0').to_owned()
    }
}

impl TypeSpecificForm {
    /// The part `programme_type` has, filled from `fields`; `None` for types without one.
    pub fn of(programme_type: &ProgrammeType, fields: &TypeSpecific) -> Option<Self> {
        Some(match programme_type {
            ProgrammeType::Agh => Self::Agh {
                hours: decimal(fields.agh.hours_per_week_hundredths, false),
                allowance: decimal(fields.agh.allowance_cents_per_hour, true),
                activity: fields.agh.activity.clone(),
            },
            ProgrammeType::AbH => Self::Abh {
                target_hours: match fields.abh.target_hours {
                    0 => String::new(),
                    n => n.to_string(),
                },
            },
            ProgrammeType::BaE | ProgrammeType::AuW => Self::PreviousBvb {
                attended: fields.previous_bvb.attended,
                months: match fields.previous_bvb.months {
                    0 => String::new(),
                    n => n.to_string(),
                },
            },
            ProgrammeType::Dtz => Self::Dtz {
                test_date: fields.dtz.test_date.map(|d| d.german()).unwrap_or_default(),
                level: fields.dtz.level.clone(),
                bamf_number: fields.dtz.bamf_number.clone(),
            },
            _ => return None,
        })
    }

    /// The part as read-only lines, for the participation's data.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Agh {
                hours,
                allowance,
                activity,
            } => vec![
                format!("AGH: {hours} Stunden pro Woche"),
                format!("Mehraufwandsentschädigung: {allowance} € pro Stunde"),
                format!("Tätigkeit: {activity}"),
            ],
            Self::Abh { target_hours } => vec![format!("abH: {target_hours} Soll-Stunden")],
            Self::PreviousBvb { attended, months } => vec![if *attended {
                format!("Vorher eine BvB besucht: ja, {months} Monate")
            } else {
                "Vorher eine BvB besucht: nein".into()
            }],
            Self::Dtz {
                test_date,
                level,
                bamf_number,
            } => vec![format!(
                "DTZ: Test am {test_date}, Niveau {level}, BAMF-Nummer {bamf_number}"
            )],
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("Maßnahmetypspezifische Angaben").strong());
        match self {
            Self::Agh {
                hours,
                allowance,
                activity,
            } => {
                field(ui, "Stunden pro Woche (AGH)", hours);
                field(ui, "Mehraufwandsentschädigung (€ pro Stunde)", allowance);
                field(ui, "Tätigkeit", activity);
            }
            Self::Abh { target_hours } => {
                field(ui, "Soll-Stunden", target_hours);
            }
            Self::PreviousBvb { attended, months } => {
                ui.checkbox(attended, "Vorher eine BvB-Maßnahme besucht");
                field(ui, "Dauer der BvB (Monate)", months);
            }
            Self::Dtz {
                test_date,
                level,
                bamf_number,
            } => {
                field(ui, "Testdatum", test_date);
                field(ui, "Niveau", level);
                field(ui, "BAMF-Nummer", bamf_number);
            }
        }
    }

    /// `fields` with this part replaced by what was typed.
    pub fn apply(&self, fields: &TypeSpecific) -> Result<TypeSpecific, String> {
        let mut out = fields.clone();
        match self {
            Self::Agh {
                hours,
                allowance,
                activity,
            } => {
                out.agh.hours_per_week_hundredths = hundredths(hours, "Stunden pro Woche")?;
                out.agh.allowance_cents_per_hour =
                    hundredths(allowance, "Mehraufwandsentschädigung")?;
                out.agh.activity = activity.trim().to_owned();
            }
            Self::Abh { target_hours } => {
                out.abh.target_hours = whole(target_hours, "Soll-Stunden")?;
            }
            Self::PreviousBvb { attended, months } => {
                out.previous_bvb.attended = *attended;
                out.previous_bvb.months = whole(months, "Dauer der BvB")?;
            }
            Self::Dtz {
                test_date,
                level,
                bamf_number,
            } => {
                out.dtz.test_date = optional_date(test_date)?;
                out.dtz.level = level.trim().to_owned();
                out.dtz.bamf_number = bamf_number.trim().to_owned();
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_round_trip() {
        let form = TypeSpecificForm::Agh {
            hours: "19,5".into(),
            allowance: "1,50".into(),
            activity: " Grünpflege ".into(),
        };
        let fields = form.apply(&TypeSpecific::default()).unwrap();
        assert_eq!(fields.agh.hours_per_week_hundredths, 1950);
        assert_eq!(fields.agh.allowance_cents_per_hour, 150);
        assert_eq!(fields.agh.activity, "Grünpflege");
        assert_eq!(
            TypeSpecificForm::of(&ProgrammeType::Agh, &fields),
            Some(TypeSpecificForm::Agh {
                hours: "19,5".into(),
                allowance: "1,50".into(),
                activity: "Grünpflege".into(),
            })
        );
        let bad = TypeSpecificForm::Abh {
            target_hours: "viele".into(),
        };
        assert!(bad.apply(&fields).is_err());
        assert_eq!(TypeSpecificForm::of(&ProgrammeType::BvB, &fields), None);
    }
}
