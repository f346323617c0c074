//! Tests of `working_time`.

use super::*;
use crate::ids::NodeId;

fn t(h: u16, m: u16) -> ClockTime {
    ClockTime::from_hm(h, m).unwrap()
}

fn span(a: (u16, u16), b: (u16, u16)) -> TimeSpan {
    TimeSpan {
        start: t(a.0, a.1),
        end: t(b.0, b.1),
    }
}

fn rule(valid: Period, regular: bool, days: &[(Weekday, Vec<TimeSpan>)]) -> WorkingTimeRule {
    WorkingTimeRule {
        valid,
        form: "Vollzeit".into(),
        hours_per_week_hundredths: 3900,
        remarks: String::new(),
        schedule: WeeklySchedule {
            regular,
            days: days
                .iter()
                .map(|(d, s)| (WeekdayKey::from(*d), s.clone()))
                .collect(),
        },
        exceptions: BTreeMap::new(),
        created: Stamp::new(1, 0, NodeId::new("n")),
        created_by: UserId::new("admin"),
    }
}

fn d(m: u32, day: u32) -> Date {
    Date::from_ymd(2024, m, day).unwrap()
}

#[test]
fn schedules_are_checked() {
    let nine_to_five = vec![span((9, 0), (17, 0))];
    let cases: Vec<(WorkingTimeRule, Result<(), WorkingTimeError>)> = vec![
        (
            rule(
                Period::open(),
                true,
                &[
                    (Weekday::Mo, nine_to_five.clone()),
                    (Weekday::Di, nine_to_five.clone()),
                ],
            ),
            Ok(()),
        ),
        (
            rule(
                Period::open(),
                true,
                &[
                    (Weekday::Mo, nine_to_five.clone()),
                    (Weekday::Di, vec![span((8, 0), (12, 0))]),
                ],
            ),
            Err(WorkingTimeError::IrregularSpansInRegularSchedule),
        ),
        (
            rule(
                Period::open(),
                true,
                &[(
                    Weekday::Mo,
                    vec![span((8, 0), (12, 0)), span((13, 0), (17, 0))],
                )],
            ),
            Err(WorkingTimeError::IrregularSpansInRegularSchedule),
        ),
        (
            rule(
                Period::open(),
                false,
                &[(
                    Weekday::Mo,
                    vec![span((8, 0), (12, 0)), span((13, 0), (17, 0))],
                )],
            ),
            Ok(()),
        ),
        (
            rule(
                Period::open(),
                false,
                &[(
                    Weekday::Mo,
                    vec![span((8, 0), (12, 0)), span((11, 0), (17, 0))],
                )],
            ),
            Err(WorkingTimeError::SpansOverlap),
        ),
        (
            rule(
                Period::open(),
                false,
                &[(Weekday::Fr, vec![span((12, 0), (8, 0))])],
            ),
            Err(WorkingTimeError::SpanEndsBeforeStart),
        ),
        (
            rule(Period::new(Some(d(2, 1)), Some(d(1, 1))), true, &[]),
            Err(WorkingTimeError::InvalidPeriod),
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(check_rule(&rule), expected, "{:?}", rule.schedule);
    }
}

#[test]
fn a_new_rule_must_not_overlap_its_level_and_an_old_one_can_only_be_ended() {
    let open = rule(Period::new(Some(d(1, 1)), None), true, &[]);
    let mut level = BTreeMap::new();
    level.insert(EntityId::new("r1"), open.clone());
    let later = rule(Period::new(Some(d(6, 1)), None), true, &[]);
    assert!(matches!(
        check_new_rule(&later, &level),
        Err(WorkingTimeError::Overlaps(_))
    ));
    let valid = ended(&open, d(5, 31)).unwrap();
    level.insert(EntityId::new("r1"), WorkingTimeRule { valid, ..open });
    assert_eq!(check_new_rule(&later, &level), Ok(()));
    let closed = &level[&EntityId::new("r1")];
    assert_eq!(ended(closed, d(7, 1)), Err(WorkingTimeError::CannotExtend));
}

#[test]
fn exceptions_replace_the_weekly_spans_of_their_day() {
    let mut r = rule(
        Period::open(),
        true,
        &[(Weekday::Mi, vec![span((9, 0), (17, 0))])],
    );
    // 2024-05-01 is a Wednesday.
    assert_eq!(r.spans_on(d(5, 1)), vec![span((9, 0), (17, 0))]);
    r.exceptions.insert(
        "2024-05-01".into(),
        ScheduleException {
            spans: vec![],
            note: "Feiertag".into(),
        },
    );
    assert_eq!(r.spans_on(d(5, 1)), vec![]);
    assert_eq!(r.spans_on(d(5, 8)), vec![span((9, 0), (17, 0))]);
    assert_eq!(check_rule(&r), Ok(()));
}
