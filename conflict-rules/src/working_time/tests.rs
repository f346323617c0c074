//! Tests of `working_time`.

use super::*;
use model::working_time::WeeklySchedule;
use model::{NodeId, Period, Stamp, UserId};

fn d(m: u32, day: u32) -> Date {
    Date::from_ymd(2024, m, day).unwrap()
}

fn rule(
    from: Option<Date>,
    to: Option<Date>,
    form: &str,
    created_ms: u64,
    by: &str,
) -> WorkingTimeRule {
    WorkingTimeRule {
        valid: Period::new(from, to),
        form: form.into(),
        hours_per_week_hundredths: 3_900,
        remarks: String::new(),
        schedule: WeeklySchedule::default(),
        exceptions: BTreeMap::new(),
        created: Stamp::new(created_ms, 0, NodeId::new("n")),
        created_by: UserId::new(by),
    }
}

fn level(rules: &[(&str, WorkingTimeRule)]) -> BTreeMap<EntityId, WorkingTimeRule> {
    rules
        .iter()
        .map(|(id, r)| (EntityId::new(*id), r.clone()))
        .collect()
}

#[test]
fn the_most_specific_level_with_a_rule_for_the_day_applies() {
    let tenant = level(&[("t", rule(None, None, "Mandant", 1, "admin"))]);
    let programme = level(&[(
        "p",
        rule(Some(d(3, 1)), Some(d(3, 31)), "Maßnahme", 2, "admin"),
    )]);
    let participant = level(&[(
        "tn",
        rule(Some(d(3, 15)), Some(d(3, 20)), "Teilnehmer", 3, "anna"),
    )]);
    let cases = [
        (d(2, 1), RuleLevel::Tenant, "Mandant"),
        (d(3, 1), RuleLevel::Programme, "Maßnahme"),
        (d(3, 15), RuleLevel::Participant, "Teilnehmer"),
        (d(3, 21), RuleLevel::Programme, "Maßnahme"),
        (d(4, 1), RuleLevel::Tenant, "Mandant"),
    ];
    for (day, expected_level, form) in cases {
        let effective = effective_rule(day, &participant, Some(&programme), &tenant).unwrap();
        assert_eq!(
            (effective.level, effective.rule.form.as_str()),
            (expected_level, form),
            "{day}"
        );
    }
    assert!(effective_rule(d(1, 1), &participant, None, &BTreeMap::new()).is_none());
}

#[test]
fn rules_of_one_level_that_overlap_after_a_merge_are_reported_and_the_newer_applies() {
    let rules = level(&[
        ("a", rule(Some(d(1, 1)), None, "Vollzeit", 10, "anna")),
        ("b", rule(Some(d(6, 1)), None, "Schicht", 20, "ben")),
        ("c", rule(None, Some(d(1, 31)), "Alt", 5, "carla")),
    ]);
    let notices = overlap_notices(RuleLevel::Participant, &rules);
    let pairs: Vec<(String, String)> = notices
        .iter()
        .map(|n| match &n.kind {
            NoticeKind::OverlappingWorkingTimeRules { rules: (a, b), .. } => {
                (a.to_string(), b.to_string())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        pairs,
        vec![("a".into(), "b".into()), ("a".into(), "c".into())]
    );
    assert_eq!(
        notices[0].concerns,
        vec![UserId::new("anna"), UserId::new("ben")]
    );
    let no_tenant_rules = BTreeMap::new();
    let effective = effective_rule(d(7, 1), &rules, None, &no_tenant_rules).unwrap();
    assert_eq!(effective.rule.form, "Schicht");
}
