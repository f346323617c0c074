//! The yearly vacation summary ("jahresbezogene Zusammenfassung"): per year, the days
//! earned (entitlements), credited, and taken (deductions), and what remains.

use std::collections::BTreeMap;

use model::vacation::{VacationEntry, VacationKind};
use model::{Days, EntityId};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct YearSummary {
    pub earned: Days,
    pub credited: Days,
    pub taken: Days,
}

impl YearSummary {
    pub fn remaining(&self) -> Days {
        self.earned + self.credited - self.taken
    }
}

/// An entry counts in the year of its first day; entries without one (which the model
/// refuses, but a foreign client might write) count nowhere.
pub fn summary(ledger: &BTreeMap<EntityId, VacationEntry>) -> BTreeMap<i32, YearSummary> {
    let mut years: BTreeMap<i32, YearSummary> = BTreeMap::new();
    for entry in ledger.values() {
        let Some(from) = entry.period.from else {
            continue;
        };
        let year = years.entry(from.year()).or_default();
        match entry.kind {
            VacationKind::Entitlement => year.earned = year.earned + entry.days,
            VacationKind::Credit => year.credited = year.credited + entry.days,
            VacationKind::Deduction => year.taken = year.taken + entry.days,
        }
    }
    years
}
