//! What the screens say, in German: dates (`11.02.2022`), times (`10:49 Uhr`), statuses
//! and the model's refusals.

use chrono::{Local, TimeZone};
use model::client_contact::ContactError;
use model::client_record::RecordError;
use model::timeline::TimelineError;
use model::vacation::VacationError;
use model::working_time::WorkingTimeError;

/// `11.02.2022, 10:49 Uhr` in the machine's time zone.
pub fn date_time(ms: u64) -> String {
    match Local.timestamp_millis_opt(ms as i64).single() {
        Some(at) => at.format("%d.%m.%Y, %H:%M Uhr").to_string(),
        None => "–".into(),
    }
}

/// The status line's report of local changes lost with a forgotten document:
/// `Änderung am Teilnahmeverlauf von „Sonnenblume“ nicht übertragen (Zugriff entzogen,
/// 06.12.2026, 10:49 Uhr)`.
pub fn lost_edit(lost: &crate::store::LostEdit) -> String {
    let what = match model::DocKind::parse(&lost.kind) {
        Some(model::DocKind::ClientRecord) => "an der Klient:innenakte",
        Some(model::DocKind::ClientContact) => "an den Kontaktdaten",
        Some(model::DocKind::Timeline) => "am Teilnahmeverlauf",
        Some(model::DocKind::Notebook) => "an den eigenen Notizen und Dokumenten",
        Some(model::DocKind::Group) => "an einer Gruppe",
        Some(model::DocKind::Bookmarks) => "an den Merklisten",
        Some(model::DocKind::Catalogue) => "an den Aufträgen",
        Some(model::DocKind::Directory) | None => "an einem Datensatz",
    };
    let changes = if lost.changes == 1 {
        "Änderung".to_owned()
    } else {
        format!("{} Änderungen", lost.changes)
    };
    let whose = lost
        .pseudonym
        .as_ref()
        .map(|p| format!(" von „{p}“"))
        .unwrap_or_default();
    format!(
        "{changes} {what}{whose} nicht übertragen ({}, {})",
        lost.reason.german(),
        date_time(lost.at_ms)
    )
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
        model::Error::Contact(contact) => match contact {
            ContactError::BadEmail => "Das ist keine E-Mail-Adresse".into(),
            ContactError::BadPhone => "Das ist keine Telefonnummer".into(),
            ContactError::Empty("subject") => "Bitte einen Betreff angeben".into(),
            ContactError::Empty(_) => "Bitte eine Nachricht schreiben".into(),
            ContactError::TooLong(_) => "Der Text ist zu lang".into(),
            ContactError::Unreachable => {
                "Die Person ist weder per E-Mail noch per SMS erreichbar".into()
            }
            ContactError::Document(_) => "Die Kontaktdaten sind beschädigt".into(),
        },
        model::Error::Timeline(timeline) => timeline_error(timeline),
        model::Error::WorkingTime(working_time) => working_time_error(working_time),
        model::Error::Vacation(vacation) => vacation_error(vacation),
        model::Error::Catalogue(model::catalogue::CatalogueError::DuplicateStage(code)) => {
            format!("Die Stufe {code} steht zweimal in der Liste")
        }
        model::Error::Catalogue(model::catalogue::CatalogueError::DeletionIntervalTooLong) => {
            format!(
                "Das Löschintervall beträgt höchstens {} Tage",
                model::catalogue::MAX_DELETION_INTERVAL_DAYS
            )
        }
        other => format!("Nicht möglich: {other}"),
    }
}

pub fn timeline_error(error: &TimelineError) -> String {
    match error {
        TimelineError::InvalidPeriod => "Der Zeitraum endet vor seinem Beginn".into(),
        TimelineError::TooLong(_) => "Der Text ist zu lang".into(),
        TimelineError::Empty("result") => "Bitte das Maßnahmeergebnis angeben".into(),
        TimelineError::Empty("reason of the interruption") => {
            "Bitte den Unterbrechungsgrund angeben".into()
        }
        TimelineError::Empty("stage") => "Bitte die neue Stufe wählen".into(),
        TimelineError::Empty(_) => "Bitte alle Pflichtfelder ausfüllen".into(),
        TimelineError::StageRequired => {
            "Die Maßnahme hat Qualifizierungsstufen: bitte die Einstiegsstufe wählen".into()
        }
        TimelineError::UnknownStage(code) => format!("Die Stufe {code} gehört nicht zur Maßnahme"),
        TimelineError::ResultRequired => {
            "Beim Umbuchen (nicht schnell) braucht es das Maßnahmeergebnis".into()
        }
        TimelineError::WorkingTime(e) => working_time_error(e),
        TimelineError::Vacation(e) => vacation_error(e),
        TimelineError::NoParticipation | TimelineError::UnknownParticipation => {
            "Bitte eine Teilnahme wählen".into()
        }
        other => format!("Nicht möglich: {other}"),
    }
}

pub fn working_time_error(error: &WorkingTimeError) -> String {
    match error {
        WorkingTimeError::InvalidPeriod => "Die Gültigkeit endet vor ihrem Beginn".into(),
        WorkingTimeError::SpanEndsBeforeStart => "Eine Arbeitszeit endet vor ihrem Beginn".into(),
        WorkingTimeError::SpansOverlap => "Arbeitszeiten eines Tages überschneiden sich".into(),
        WorkingTimeError::IrregularSpansInRegularSchedule => {
            "Regelmäßige Arbeitszeiten haben an jedem Tag dieselbe eine Zeitspanne".into()
        }
        WorkingTimeError::UnknownWeekday(day) => format!("{day} ist kein Wochentag"),
        WorkingTimeError::BadExceptionDate(day) => format!("{day} ist kein Datum"),
        WorkingTimeError::Overlaps(valid) => format!(
            "Die Gültigkeit überschneidet sich mit der Regelung {valid}; diese bitte zuerst beenden"
        ),
        WorkingTimeError::CannotExtend => {
            "Eine Regelung kann nur verkürzt, nicht verlängert werden".into()
        }
    }
}

pub fn vacation_error(error: &VacationError) -> String {
    match error {
        VacationError::NoStart => "Bitte das erste Datum des Zeitraums angeben".into(),
        VacationError::InvalidPeriod => "Der Zeitraum endet vor seinem Beginn".into(),
        VacationError::NotPositive => "Die Anzahl der Tage muss größer als 0 sein".into(),
        VacationError::NoEntitlement => {
            "Gutschrift und Abzug gehören zu einem Urlaubsanspruch".into()
        }
        VacationError::EntitlementOfEntitlement => {
            "Ein Urlaubsanspruch gehört zu keinem anderen Eintrag".into()
        }
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

    #[test]
    fn a_too_long_deletion_interval_is_explained_in_german() {
        let wrong =
            model::Error::Catalogue(model::catalogue::CatalogueError::DeletionIntervalTooLong);
        assert_eq!(
            error(&wrong),
            "Das Löschintervall beträgt höchstens 36500 Tage"
        );
    }
}
