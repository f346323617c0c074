//! Working-time rules across the three levels: which rule applies on a day (the most
//! specific level that has one, each level inheriting from the one above), and notices
//! for rules of one level whose validity overlaps after a merge.

use std::collections::BTreeMap;

use model::working_time::WorkingTimeRule;
use model::{Date, EntityId};

use crate::notice::{Notice, NoticeKind, RuleLevel};

/// Pairs of rules of one level that share a day. Each pair is reported once, to the two
/// people who made the rules.
pub fn overlap_notices(
    level: RuleLevel,
    rules: &BTreeMap<EntityId, WorkingTimeRule>,
) -> Vec<Notice> {
    let rules: Vec<(&EntityId, &WorkingTimeRule)> = rules.iter().collect();
    let mut notices = Vec::new();
    for (i, (a_id, a)) in rules.iter().enumerate() {
        for (b_id, b) in &rules[i + 1..] {
            if a.valid.overlaps(&b.valid) {
                notices.push(Notice::new(
                    format!("overlap:{}:{a_id}:{b_id}", level.as_str()),
                    NoticeKind::OverlappingWorkingTimeRules {
                        level,
                        rules: ((*a_id).clone(), (*b_id).clone()),
                    },
                    [a.created_by.clone(), b.created_by.clone()],
                ));
            }
        }
    }
    notices
}

/// The rule valid on `day` within one level. Where a merge left two valid on the same day,
/// the one created last applies (and a notice says so).
fn valid_on(
    rules: &BTreeMap<EntityId, WorkingTimeRule>,
    day: Date,
) -> Option<(&EntityId, &WorkingTimeRule)> {
    rules
        .iter()
        .filter(|(_, r)| r.valid.contains(day))
        .max_by(|(a_id, a), (b_id, b)| (&a.created, a_id).cmp(&(&b.created, b_id)))
}

/// The rule that applies on a day, and the level it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRule<'a> {
    pub level: RuleLevel,
    pub id: &'a EntityId,
    pub rule: &'a WorkingTimeRule,
}

/// The most specific rule for `day`: the participant's, else the programme's, else the
/// tenant's. `programme` is the rule set of the programme the person is in that day.
pub fn effective_rule<'a>(
    day: Date,
    participant: &'a BTreeMap<EntityId, WorkingTimeRule>,
    programme: Option<&'a BTreeMap<EntityId, WorkingTimeRule>>,
    tenant: &'a BTreeMap<EntityId, WorkingTimeRule>,
) -> Option<EffectiveRule<'a>> {
    let levels = [
        (RuleLevel::Participant, Some(participant)),
        (RuleLevel::Programme, programme),
        (RuleLevel::Tenant, Some(tenant)),
    ];
    levels.into_iter().find_map(|(level, rules)| {
        valid_on(rules?, day).map(|(id, rule)| EffectiveRule { level, id, rule })
    })
}

#[cfg(test)]
mod tests;
