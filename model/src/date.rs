//! Calendar values as the domain uses them: business dates, periods with open ends, times
//! of day, and amounts of vacation days. Stored as ISO strings, so any automerge-repo
//! client can read them.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{Datelike, NaiveDate};

/// A calendar day. Stored as `2022-02-11`; shown by the client as `11.02.2022`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, day).map(Self)
    }

    pub fn naive(self) -> NaiveDate {
        self.0
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The day before; saturates at the smallest date chrono knows.
    pub fn pred(self) -> Self {
        Self(self.0.pred_opt().unwrap_or(self.0))
    }

    /// The day after; saturates at the largest date chrono knows.
    pub fn succ(self) -> Self {
        Self(self.0.succ_opt().unwrap_or(self.0))
    }

    /// The day `days` later; saturates at the largest date chrono knows.
    pub fn plus_days(self, days: u64) -> Self {
        Self(
            self.0
                .checked_add_days(chrono::Days::new(days))
                .unwrap_or(self.0),
        )
    }

    /// The day `days` later; `None` past the largest date chrono knows.
    pub fn checked_plus_days(self, days: u64) -> Option<Self> {
        self.0.checked_add_days(chrono::Days::new(days)).map(Self)
    }

    /// The German form the UI shows: `11.02.2022`.
    pub fn german(self) -> String {
        self.0.format("%d.%m.%Y").to_string()
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Self(date)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl FromStr for Date {
    type Err = chrono::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Self)
    }
}

impl Hydrate for Date {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("a date YYYY-MM-DD", s.to_owned()))
    }
}

impl Reconcile for Date {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

/// A span of days, both ends included, either end open. Stored as one string,
/// `2024-01-01..2024-06-30` (an open end left empty), so that two people's edits never
/// merge into one's start and the other's end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Period {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Period {
    pub fn new(from: Option<Date>, to: Option<Date>) -> Self {
        Self { from, to }
    }

    pub fn open() -> Self {
        Self::default()
    }

    /// A period whose end lies before its start is no period at all.
    pub fn is_valid(&self) -> bool {
        match (self.from, self.to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        }
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from.is_none_or(|from| from <= day) && self.to.is_none_or(|to| day <= to)
    }

    /// Whether some day lies in both periods; open ends reach forever.
    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        let other_starts_before_self_ends = match (other.from, self.to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        write!(f, "{}..{}", end(self.from), end(self.to))
    }
}

impl FromStr for Period {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (from, to) = s.split_once("..").ok_or(())?;
        let end = |e: &str| {
            if e.is_empty() {
                Ok(None)
            } else {
                e.parse().map(Some).map_err(|_| ())
            }
        };
        Ok(Self::new(end(from)?, end(to)?))
    }
}

crate::scalar::scalar_via_string!(Period, "a period YYYY-MM-DD..YYYY-MM-DD");

/// A time of day in minutes after midnight. Stored as `08:30`; shown as `08:30 Uhr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn from_hm(hour: u16, minute: u16) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self(hour * 60 + minute))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for ClockTime {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (h, m) = s.split_once(':').ok_or(())?;
        let hour = h.parse().map_err(|_| ())?;
        let minute = m.parse().map_err(|_| ())?;
        Self::from_hm(hour, minute).ok_or(())
    }
}

impl Hydrate for ClockTime {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|()| HydrateError::unexpected("a time HH:MM", s.to_owned()))
    }
}

impl Reconcile for ClockTime {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

/// Vacation days in hundredths, so half days add up exactly on every replica.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub struct Days(pub i64);

impl Days {
    pub fn whole(days: i64) -> Self {
        Self(days * 100)
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl std::ops::Add for Days {
    type Output = Days;
    fn add(self, rhs: Days) -> Days {
        Days(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub for Days {
    type Output = Days;
    fn sub(self, rhs: Days) -> Days {
        Days(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Days {
    /// German decimal comma: `2,5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        match abs % 100 {
            0 => write!(f, "{sign}{}", abs / 100),
            frac if frac % 10 == 0 => write!(f, "{sign}{},{}", abs / 100, frac / 10),
            frac => write!(f, "{sign}{},{frac:02}", abs / 100),
        }
    }
}

#[cfg(test)]
mod tests;
