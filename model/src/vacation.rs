//! The vacation ledger ("Urlaub"): entitlements earned over a period, further credits
//! ("Gutschrift") and deductions ("Abzug") for days taken. The yearly summary is derived in
//! `conflict-rules`.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::clock::Stamp;
use crate::date::{Days, Period};
use crate::ids::{EntityId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum VacationKind {
    /// "Urlaubsanspruch": days earned over `period`.
    Entitlement,
    /// "Gutschrift": further days, attached to an entitlement.
    Credit,
    /// "Abzug": days taken, attached to an entitlement.
    Deduction,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct VacationEntry {
    pub kind: VacationKind,
    /// For an entitlement the period it was earned in; for a credit or a deduction the
    /// days it concerns. The year of its first day is the year it counts in.
    pub period: Period,
    pub days: Days,
    pub reason: String,
    /// The entitlement a credit or a deduction belongs to.
    pub entitlement: Option<EntityId>,
    pub created: Stamp,
    pub created_by: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VacationError {
    #[error("the period needs a first day, which decides the year it counts in")]
    NoStart,
    #[error("the period ends before it starts")]
    InvalidPeriod,
    #[error("the number of days must be more than zero")]
    NotPositive,
    #[error("a credit or a deduction belongs to an existing entitlement")]
    NoEntitlement,
    #[error("an entitlement belongs to no other entry")]
    EntitlementOfEntitlement,
}

pub fn check_entry(
    entry: &VacationEntry,
    ledger: &BTreeMap<EntityId, VacationEntry>,
) -> Result<(), VacationError> {
    if entry.period.from.is_none() {
        return Err(VacationError::NoStart);
    }
    if !entry.period.is_valid() {
        return Err(VacationError::InvalidPeriod);
    }
    if entry.days.hundredths() <= 0 {
        return Err(VacationError::NotPositive);
    }
    match (entry.kind, &entry.entitlement) {
        (VacationKind::Entitlement, None) => Ok(()),
        (VacationKind::Entitlement, Some(_)) => Err(VacationError::EntitlementOfEntitlement),
        (_, Some(id))
            if ledger
                .get(id)
                .is_some_and(|e| e.kind == VacationKind::Entitlement) =>
        {
            Ok(())
        }
        _ => Err(VacationError::NoEntitlement),
    }
}
