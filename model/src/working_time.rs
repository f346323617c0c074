//! Working-time rules ("Arbeitszeitregelungen"). They exist on three levels (tenant and
//! programme in the catalogue, participant in the timeline); the most specific level that
//! has a rule for a day applies. Rules are never overwritten: a change adds a new rule,
//! and the rules of one level must not overlap in validity.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::clock::Stamp;
use crate::date::{ClockTime, Date, Period};
use crate::ids::{EntityId, UserId};

/// Weekdays in German order, stored by their German two-letter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mo,
    Di,
    Mi,
    Do,
    Fr,
    Sa,
    So,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mo,
        Weekday::Di,
        Weekday::Mi,
        Weekday::Do,
        Weekday::Fr,
        Weekday::Sa,
        Weekday::So,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mo => "Mo",
            Weekday::Di => "Di",
            Weekday::Mi => "Mi",
            Weekday::Do => "Do",
            Weekday::Fr => "Fr",
            Weekday::Sa => "Sa",
            Weekday::So => "So",
        }
    }

    pub fn of(date: Date) -> Self {
        use chrono::Datelike;
        Self::ALL[date.naive().weekday().num_days_from_monday() as usize]
    }
}

/// Map keys are weekday names; parsing an unknown name keeps it as written, so a document
/// from a newer client still loads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekdayKey(pub String);

impl From<String> for WeekdayKey {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl AsRef<str> for WeekdayKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Weekday> for WeekdayKey {
    fn from(day: Weekday) -> Self {
        Self(day.as_str().to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub struct TimeSpan {
    pub start: ClockTime,
    pub end: ClockTime,
}

/// The weekly schedule: regular (one span, the same on every chosen weekday) or irregular
/// (several spans per weekday).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hydrate, Reconcile)]
pub struct WeeklySchedule {
    pub regular: bool,
    pub days: BTreeMap<WeekdayKey, Vec<TimeSpan>>,
}

/// A dated exception ("Ausnahme"): on that day, these spans instead; none means free.
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct ScheduleException {
    pub spans: Vec<TimeSpan>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct WorkingTimeRule {
    pub valid: Period,
    /// "Arbeitszeitform", e.g. Vollzeit, Teilzeit, Schichtbetrieb.
    pub form: String,
    /// "Stunden pro Woche", in hundredths of an hour.
    pub hours_per_week_hundredths: u64,
    pub remarks: String,
    pub schedule: WeeklySchedule,
    /// Keyed by the day (`2024-05-01`).
    pub exceptions: BTreeMap<String, ScheduleException>,
    pub created: Stamp,
    pub created_by: UserId,
}

impl WorkingTimeRule {
    /// The spans that apply on `day` under this rule, exceptions first.
    pub fn spans_on(&self, day: Date) -> Vec<TimeSpan> {
        if let Some(exception) = self.exceptions.get(&day.to_string()) {
            return exception.spans.clone();
        }
        self.schedule
            .days
            .get(&WeekdayKey::from(Weekday::of(day)))
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkingTimeError {
    #[error("the validity ends before it starts")]
    InvalidPeriod,
    #[error("a working time ends before it starts")]
    SpanEndsBeforeStart,
    #[error("working times on one day overlap")]
    SpansOverlap,
    #[error("regular working times have one span, the same on every chosen day")]
    IrregularSpansInRegularSchedule,
    #[error("{0} is not a weekday")]
    UnknownWeekday(String),
    #[error("{0} is not a date")]
    BadExceptionDate(String),
    #[error("the validity overlaps the rule valid {0}; end that rule first")]
    Overlaps(String),
    #[error("a rule can only be ended earlier, not extended")]
    CannotExtend,
}

fn check_spans(spans: &[TimeSpan]) -> Result<(), WorkingTimeError> {
    let mut sorted = spans.to_vec();
    sorted.sort();
    for span in &sorted {
        if span.end <= span.start {
            return Err(WorkingTimeError::SpanEndsBeforeStart);
        }
    }
    if sorted.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(WorkingTimeError::SpansOverlap);
    }
    Ok(())
}

fn describe(period: &Period) -> String {
    let from = period
        .from
        .map(|d| d.german())
        .unwrap_or_else(|| "…".into());
    let to = period.to.map(|d| d.german()).unwrap_or_else(|| "…".into());
    format!("{from} – {to}")
}

/// The shape of a rule on its own: spans, weekdays, exceptions.
pub fn check_rule(rule: &WorkingTimeRule) -> Result<(), WorkingTimeError> {
    if !rule.valid.is_valid() {
        return Err(WorkingTimeError::InvalidPeriod);
    }
    let mut first_span: Option<&Vec<TimeSpan>> = None;
    for (day, spans) in &rule.schedule.days {
        if !Weekday::ALL.iter().any(|w| w.as_str() == day.0) {
            return Err(WorkingTimeError::UnknownWeekday(day.0.clone()));
        }
        check_spans(spans)?;
        if rule.schedule.regular {
            if spans.len() > 1 || first_span.is_some_and(|first| first != spans) {
                return Err(WorkingTimeError::IrregularSpansInRegularSchedule);
            }
            first_span = Some(spans);
        }
    }
    for (day, exception) in &rule.exceptions {
        if day.parse::<Date>().is_err() {
            return Err(WorkingTimeError::BadExceptionDate(day.clone()));
        }
        check_spans(&exception.spans)?;
    }
    Ok(())
}

/// A new rule must be well formed and must not overlap any rule of its level.
pub fn check_new_rule(
    rule: &WorkingTimeRule,
    level: &BTreeMap<EntityId, WorkingTimeRule>,
) -> Result<(), WorkingTimeError> {
    check_rule(rule)?;
    if let Some(other) = level
        .values()
        .find(|other| other.valid.overlaps(&rule.valid))
    {
        return Err(WorkingTimeError::Overlaps(describe(&other.valid)));
    }
    Ok(())
}

/// The validity of `rule` ended on `last_day`; refuses to lengthen it.
pub fn ended(rule: &WorkingTimeRule, last_day: Date) -> Result<Period, WorkingTimeError> {
    if rule.valid.to.is_some_and(|to| last_day > to) {
        return Err(WorkingTimeError::CannotExtend);
    }
    let valid = Period::new(rule.valid.from, Some(last_day));
    if !valid.is_valid() {
        return Err(WorkingTimeError::InvalidPeriod);
    }
    Ok(valid)
}

#[cfg(test)]
mod tests;
