//! What people type into fields, read as values, and values written back as the fields
//! show them: dates (`TT.MM.JJJJ`), periods, clock times and spans (`08:00-12:00`), and
//! decimals kept in hundredths (`2,5` days). Every form under `ui` reads its text here,
//! so a date means the same in the assistant, the timeline and the responsibilities.

use model::working_time::TimeSpan;
use model::{ClockTime, Date, Days, Period};

use crate::german;

#[cfg(test)]
mod tests;

/// `dd.mm.yyyy`, or empty for none; `Err` for something that is not a date.
pub fn optional_date(text: &str) -> Result<Option<Date>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    german::parse_date(text)
        .map(Some)
        .ok_or_else(|| format!("„{}“ ist kein Datum (TT.MM.JJJJ)", text.trim()))
}

pub fn required_date(text: &str, what: &str) -> Result<Date, String> {
    optional_date(text)?.ok_or_else(|| format!("Bitte {what} angeben"))
}

pub fn period(from: &str, to: &str) -> Result<Period, String> {
    Ok(Period {
        from: optional_date(from)?,
        to: optional_date(to)?,
    })
}

/// A date as a field shows it; empty for none.
pub fn date_text(date: Option<Date>) -> String {
    date.map(|d| d.german()).unwrap_or_default()
}

/// `2,5` or `2.5` days, in hundredths.
pub fn parse_days(text: &str) -> Option<Days> {
    let value: f64 = text.trim().replace(',', ".").parse().ok()?;
    (value.is_finite() && value > 0.0).then(|| Days((value * 100.0).round() as i64))
}

pub fn days_text(days: Days) -> String {
    hundredths_text(days.hundredths())
}

pub fn hours_text(hundredths: u64) -> String {
    hundredths_text(i64::try_from(hundredths).unwrap_or(i64::MAX))
}

/// `2`, or `2,5` for a value kept in hundredths.
fn hundredths_text(hundredths: i64) -> String {
    if hundredths % 100 == 0 {
        format!("{}", hundredths / 100)
    } else {
        format!("{:.2}", hundredths as f64 / 100.0).replace('.', ",")
    }
}

pub fn parse_clock(text: &str) -> Option<ClockTime> {
    let (h, m) = text.trim().split_once(':')?;
    ClockTime::from_hm(h.parse().ok()?, m.parse().ok()?)
}

/// `08:00-12:00, 13:00-16:00`; empty is no span (a free day).
pub fn parse_spans(text: &str) -> Result<Vec<TimeSpan>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (start, end) = part.split_once('-').unwrap_or((part, ""));
            match (parse_clock(start), parse_clock(end)) {
                (Some(start), Some(end)) => Ok(TimeSpan { start, end }),
                _ => Err(format!("„{part}“: bitte Zeiten wie 08:00-12:00 angeben")),
            }
        })
        .collect()
}
