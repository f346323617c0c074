//! What the screens say, in German: dates (`11.02.2022`), times (`10:49 Uhr`), statuses
//! and the model's refusals.

use chrono::{Local, TimeZone};
use model::client_record::RecordError;

/// `11.02.2022, 10:49 Uhr` in the machine's time zone.
pub fn date_time(ms: u64) -> String {
    match Local.timestamp_millis_opt(ms as i64).single() {
        Some(at) => at.format("%d.%m.%Y, %H:%M Uhr").to_string(),
        None => "–".into(),
    }
}

/// Today in the machine's time zone.
pub fn today() -> model::Date {
    model::Date::from(Local::now().date_naive())
}

/// A date as typed: `11.02.2022` (or ISO `2022-02-11`).
pub fn parse_date(text: &str) -> Option<model::Date> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
        .map(model::Date::from)
}

pub fn error(error: &model::Error) -> String {
    match error {
        model::Error::Record(record) => match record {
            RecordError::PseudonymTooShort => format!(
                "Das Pseudonym braucht mindestens {} Zeichen",
                model::client_record::PSEUDONYM_MIN_CHARS
            ),
            RecordError::TooLong(_) => "Der Text ist zu lang".into(),
            RecordError::EmptyNote => "Die Notiz ist leer".into(),
            RecordError::NoteTooLong => "Die Notiz ist zu lang".into(),
            RecordError::NoteDeleted => "Die Notiz wurde inzwischen gelöscht".into(),
            RecordError::InvalidPeriod => "Der Zeitraum endet vor seinem Beginn".into(),
            RecordError::NoLinkedUser => "Bitte eine:n Mitarbeiter:in wählen".into(),
            RecordError::Document(_) => "Der Datensatz ist beschädigt".into(),
        },
        model::Error::Group(model::group::GroupError::NoName) => {
            "Die Gruppe braucht einen Namen".into()
        }
        model::Error::Notebook(model::notebook::NotebookError::NoTopic) => {
            "Das Monitoring braucht ein Thema".into()
        }
        model::Error::Notebook(model::notebook::NotebookError::BadDuration) => {
            "Die Dauer liegt zwischen 1 Minute und 24 Stunden".into()
        }
        other => format!("Nicht möglich: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_print_the_german_way() {
        let day = parse_date("11.02.2022").unwrap();
        assert_eq!(day.german(), "11.02.2022");
        assert_eq!(parse_date("2022-02-11"), Some(day));
        assert_eq!(parse_date("31.02.2022"), None);
        assert!(date_time(1_644_572_940_000).ends_with(" Uhr"));
    }
}
