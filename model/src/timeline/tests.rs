//! Tests of `timeline`.

use super::*;
use crate::ids::{NodeId, UserId};

fn editor() -> Editor {
    Editor::with_stepping_clock(UserId::new("berater"), NodeId::new("n1"), 1_700_000_000_000)
}

fn day(d: u32) -> Date {
    Date::from_ymd(2024, 3, d).unwrap()
}

fn bvb() -> ProgrammeSnapshot {
    ProgrammeSnapshot {
        id: ProgrammeId::new("p-bvb"),
        name: "BvB 2024".into(),
        programme_type: ProgrammeType::BvB,
        stages: StageDef::bvb(),
    }
}

fn enrolment(stage: Option<&str>) -> ActionKind {
    ActionKind::Enrol(Enrolment {
        programme: bvb(),
        stage: stage.map(str::to_owned),
        section_name: None,
        site: None,
        funding_period: Period::open(),
        planned_period: Period::new(Some(day(1)), Some(day(30))),
        entry_date: Some(day(1)),
        waiting_list: false,
    })
}

fn timeline() -> Document<Timeline> {
    Document::create_timeline(TenantId::new("t"), DocumentId::from_bytes([1; 16])).unwrap()
}

#[test]
fn an_enrolment_starts_a_participation_with_the_actions_id() {
    let mut doc = timeline();
    let mut e = editor();
    let id = doc
        .record_action(&mut e, None, day(1), enrolment(Some("EA")))
        .unwrap();
    let t = doc.read().unwrap();
    assert_eq!(t.actions[&id].participation, id);
    assert!(t.details.contains_key(&id));
}

#[test]
fn input_that_no_status_could_make_valid_is_refused() {
    let mut doc = timeline();
    let mut e = editor();
    assert!(matches!(
        doc.record_action(&mut e, None, day(1), enrolment(None)),
        Err(TimelineError::StageRequired)
    ));
    assert!(matches!(
        doc.record_action(&mut e, None, day(1), enrolment(Some("XY"))),
        Err(TimelineError::UnknownStage(_))
    ));
    let pid = doc
        .record_action(&mut e, None, day(1), enrolment(Some("EA")))
        .unwrap();
    assert!(matches!(
        doc.record_action(&mut e, Some(&pid), day(2), enrolment(Some("EA"))),
        Err(TimelineError::EnrolmentNamesParticipation)
    ));
    assert!(matches!(
        doc.record_action(&mut e, None, day(2), ActionKind::Remove),
        Err(TimelineError::NoParticipation)
    ));
    assert!(matches!(
        doc.record_action(
            &mut e,
            Some(&EntityId::new("nope")),
            day(2),
            ActionKind::Remove
        ),
        Err(TimelineError::UnknownParticipation)
    ));
    let empty_result = ParticipationResult {
        outcome: " ".into(),
        remarks: String::new(),
    };
    assert!(matches!(
        doc.record_action(
            &mut e,
            Some(&pid),
            day(2),
            ActionKind::End {
                result: empty_result
            }
        ),
        Err(TimelineError::Empty(_))
    ));
    let transfer = Transfer {
        successor: EntityId::new(""),
        programme: bvb(),
        stage: Some("GS".into()),
        site: None,
        funding_period: Period::open(),
        planned_period: Period::open(),
        quick: false,
        result: None,
    };
    assert!(matches!(
        doc.record_action(
            &mut e,
            Some(&pid),
            day(3),
            ActionKind::Transfer(transfer.clone())
        ),
        Err(TimelineError::ResultRequired)
    ));
    let id = doc
        .record_action(
            &mut e,
            Some(&pid),
            day(3),
            ActionKind::Transfer(Transfer {
                quick: true,
                ..transfer
            }),
        )
        .unwrap();
    let t = doc.read().unwrap();
    let ActionKind::Transfer(recorded) = &t.actions[&id].kind else {
        panic!("not a transfer")
    };
    assert!(t.details.contains_key(&recorded.successor));
}

#[test]
fn hand_edited_fields_are_written_one_by_one() {
    let mut doc = timeline();
    let mut e = editor();
    let pid = doc
        .record_action(&mut e, None, day(1), enrolment(Some("EA")))
        .unwrap();
    let mut other = doc.fork();
    doc.set_remarks(&pid, "Geplant: GS ab Mai").unwrap();
    other
        .set_cost_bearer(&pid, "Agentur für Arbeit Köln", "Frau Beispiel")
        .unwrap();
    doc.merge(&mut other).unwrap();
    let details = &doc.read().unwrap().details[&pid];
    assert_eq!(details.remarks.as_str(), "Geplant: GS ab Mai");
    assert_eq!(details.cost_bearer, "Agentur für Arbeit Köln");
    assert!(matches!(
        doc.set_funding_period(&pid, Period::new(Some(day(5)), Some(day(4)))),
        Err(TimelineError::InvalidPeriod)
    ));
}

#[test]
fn writing_the_same_outcomes_twice_changes_nothing() {
    let mut doc = timeline();
    let mut outcomes = BTreeMap::new();
    outcomes.insert(
        EntityId::new("a"),
        ActionOutcome {
            applied: true,
            reason: None,
        },
    );
    assert!(doc.write_outcomes(&outcomes).unwrap());
    let heads = doc.heads();
    assert!(!doc.write_outcomes(&outcomes).unwrap());
    assert_eq!(doc.heads(), heads);
}
