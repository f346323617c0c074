//! Tests of `timeline`.

use super::*;
use crate::testing::editor;
use model::timeline::{
    ActionKind, Enrolment, ParticipationResult, ProgrammeSnapshot, ProgrammeType, SectionCorrection,
};
use model::vacation::{VacationEntry, VacationKind};
use model::{Date, Days, Document, DocumentId, NodeId, Period, ProgrammeId, TenantId};

use crate::participation::Status;
use crate::settle::settle_timeline;

fn day(m: u32, d: u32) -> Date {
    Date::from_ymd(2024, m, d).unwrap()
}

fn result() -> ParticipationResult {
    ParticipationResult {
        outcome: "Ziel erreicht".into(),
        remarks: String::new(),
    }
}

fn enrolled() -> (Document<Timeline>, ParticipationId) {
    let mut doc =
        Document::create_timeline(TenantId::new("t"), DocumentId::from_bytes([4; 16])).unwrap();
    let kind = ActionKind::Enrol(Enrolment {
        programme: ProgrammeSnapshot {
            id: ProgrammeId::new("abh"),
            name: "abH Köln".into(),
            programme_type: ProgrammeType::AbH,
            stages: Vec::new(),
        },
        stage: None,
        section_name: None,
        site: None,
        funding_period: Period::open(),
        planned_period: Period::open(),
        entry_date: Some(day(1, 8)),
        waiting_list: false,
    });
    let pid = doc
        .record_action(&mut editor("anna", 1_000), None, day(1, 8), kind)
        .unwrap();
    (doc, pid)
}

/// Anna ends the participation on 1 March on one replica; Ben suspends it on 4 March on
/// another. Returns both replicas (not yet merged) and the two actions.
fn ended_here_suspended_there() -> (Document<Timeline>, Document<Timeline>, EntityId, EntityId) {
    let (mut a, pid) = enrolled();
    let mut b = a.fork();
    let end = a
        .record_action(
            &mut editor("anna", 5_000),
            Some(&pid),
            day(3, 1),
            ActionKind::End { result: result() },
        )
        .unwrap();
    let suspend = b
        .record_action(
            &mut editor("ben", 6_000),
            Some(&pid),
            day(3, 4),
            ActionKind::Suspend { interruption: None },
        )
        .unwrap();
    (a, b, end, suspend)
}

fn both_ways(
    a: &mut Document<Timeline>,
    b: &mut Document<Timeline>,
) -> (TimelineView, Vec<Notice>) {
    a.merge(b).unwrap();
    b.merge(a).unwrap();
    let view = fold_timeline(&a.read().unwrap());
    assert_eq!(view, fold_timeline(&b.read().unwrap()));
    view
}

#[test]
fn ended_here_and_suspended_there_applies_the_earlier_and_reports_the_other() {
    let (mut a, mut b, end, suspend) = ended_here_suspended_there();
    let (view, notices) = both_ways(&mut a, &mut b);
    assert_eq!(view.participations[0].status, Status::Ended);
    assert!(view.applied.contains(&end));
    assert_eq!(
        view.rejected.get(&suspend),
        Some(&Rejection::NotAllowed {
            status: Status::Ended
        })
    );
    let rejected: Vec<&Notice> = notices
        .iter()
        .filter(|n| n.kind.code() == "action-rejected")
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].concerns, vec![UserId::new("ben")]);
}

#[test]
fn a_removal_takes_concurrent_work_with_it_and_tells_its_authors() {
    let (mut a, pid) = enrolled();
    let section = fold_timeline(&a.read().unwrap()).0.participations[0].sections[0]
        .id
        .clone();
    let mut b = a.fork();
    a.record_action(
        &mut editor("anna", 5_000),
        Some(&pid),
        day(3, 1),
        ActionKind::Remove,
    )
    .unwrap();
    let dated = b
        .record_action(
            &mut editor("ben", 6_000),
            Some(&pid),
            day(2, 1),
            ActionKind::Suspend { interruption: None },
        )
        .unwrap();
    let correction = ActionKind::CorrectSection(SectionCorrection {
        section,
        name: Some("Teilnahme".into()),
        site: None,
        actual_start: Some(day(1, 9)),
        planned_end: None,
        actual_end: None,
    });
    let corrected = b
        .record_action(&mut editor("ben", 7_000), Some(&pid), day(3, 2), correction)
        .unwrap();
    let (view, notices) = both_ways(&mut a, &mut b);
    assert!(view.participations.is_empty());
    assert!(view.removed.contains_key(&pid));
    assert_eq!(view.rejected.get(&corrected), Some(&Rejection::Removed));
    let removed = notices
        .iter()
        .find(|n| n.kind.code() == "participation-removed")
        .unwrap();
    match &removed.kind {
        NoticeKind::ParticipationRemoved {
            actions,
            removed_by,
            ..
        } => {
            assert_eq!(actions, &vec![dated]);
            assert_eq!(removed_by, &UserId::new("anna"));
        }
        other => panic!("{other:?}"),
    }
    assert!(removed.is_pending_for(&UserId::new("ben")));
}

#[test]
fn settling_a_timeline_stores_every_outcome_once() {
    let (mut a, mut b, _, suspend) = ended_here_suspended_there();
    both_ways(&mut a, &mut b);
    assert!(settle_timeline(&mut a).unwrap());
    assert!(!settle_timeline(&mut a).unwrap());
    let stored = a.read().unwrap().outcomes;
    assert_eq!(stored.len(), 3);
    assert_eq!(
        stored[&suspend].reason.as_deref(),
        Some("not-allowed-when-beendet")
    );
}

#[test]
fn the_vacation_summary_adds_up_per_year() {
    let (mut doc, _) = enrolled();
    let mut e = editor("anna", 2_000);
    let entry = |kind, from: Date, days: i64, entitlement: Option<EntityId>| VacationEntry {
        kind,
        period: Period::new(Some(from), None),
        days: Days(days),
        reason: String::new(),
        entitlement,
        created: model::Stamp::new(0, 0, NodeId::new("n")),
        created_by: UserId::new("anna"),
    };
    let y24 = doc
        .add_vacation_entry(
            &mut e,
            entry(VacationKind::Entitlement, day(1, 1), 2_400, None),
        )
        .unwrap();
    doc.add_vacation_entry(
        &mut e,
        entry(VacationKind::Credit, day(6, 1), 250, Some(y24.clone())),
    )
    .unwrap();
    doc.add_vacation_entry(
        &mut e,
        entry(VacationKind::Deduction, day(7, 1), 1_000, Some(y24.clone())),
    )
    .unwrap();
    doc.add_vacation_entry(
        &mut e,
        entry(
            VacationKind::Entitlement,
            Date::from_ymd(2025, 1, 1).unwrap(),
            2_400,
            None,
        ),
    )
    .unwrap();
    let bad = doc.add_vacation_entry(&mut e, entry(VacationKind::Deduction, day(8, 1), 100, None));
    assert!(bad.is_err());
    let summary = fold_timeline(&doc.read().unwrap()).0.vacation;
    assert_eq!(summary[&2024].remaining(), Days(1_650));
    assert_eq!(summary[&2024].taken, Days(1_000));
    assert_eq!(summary[&2025].remaining(), Days(2_400));
    assert_eq!(summary[&2024].remaining().to_string(), "16,5");
}

/// Issue 16: a device offline since March ends the participation "15.03." while the others
/// meanwhile suspended it (01.04.) and resumed it (01.05.). The merge places the end first:
/// the suspension no longer applies (Ben is told), the resume re-opens the participation
/// from "Beendet" without the end's result, and Anna is told what her end overtook.
#[test]
fn an_end_made_offline_long_after_its_date_tells_its_author_what_it_overtook() {
    let (mut a, pid) = enrolled();
    let mut b = a.fork();
    let suspend = b
        .record_action(
            &mut editor("ben", 6_000),
            Some(&pid),
            day(4, 1),
            ActionKind::Suspend { interruption: None },
        )
        .unwrap();
    let resume = b
        .record_action(
            &mut editor("ben", 7_000),
            Some(&pid),
            day(5, 1),
            ActionKind::Resume {
                section_name: None,
                site: None,
                planned_exit: None,
                interruption: None,
            },
        )
        .unwrap();
    let end = a
        .record_action(
            &mut editor("anna", 9_000),
            Some(&pid),
            day(3, 15),
            ActionKind::End { result: result() },
        )
        .unwrap();
    let (view, notices) = both_ways(&mut a, &mut b);
    let p = view.participation(&pid).unwrap();
    assert_eq!(p.status, Status::Active);
    assert_eq!(p.result, None, "the resume cleared the end's result");
    assert!(view.applied.contains(&end) && view.applied.contains(&resume));
    assert!(view.rejected.contains_key(&suspend));

    let anna = UserId::new("anna");
    let told_anna: Vec<&Notice> = notices.iter().filter(|n| n.is_pending_for(&anna)).collect();
    assert_eq!(told_anna.len(), 1, "{notices:?}");
    let NoticeKind::OvertookLaterSteps {
        action,
        business_date,
        overtaken,
        ..
    } = &told_anna[0].kind
    else {
        panic!("{:?}", told_anna[0]);
    };
    assert_eq!((action, *business_date), (&end, day(3, 15)));
    let named: Vec<(&EntityId, &str, bool)> = overtaken
        .iter()
        .map(|s| (&s.action, s.action_name, s.applied))
        .collect();
    assert_eq!(
        named,
        vec![(&suspend, "suspend", false), (&resume, "resume", true)]
    );
    let ben = UserId::new("ben");
    assert!(notices.iter().filter(|n| n.is_pending_for(&ben)).all(
        |n| matches!(&n.kind, NoticeKind::ActionRejected { action, .. } if action == &suspend)
    ));
    let ids: Vec<&str> = notices.iter().map(|n| n.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    // An end recorded before the others' steps (stamp earlier) overtook nothing: their
    // authors are told, as before.
    let (mut c, d, _, _) = ended_here_suspended_there();
    let mut d = d;
    let (_, notices) = both_ways(&mut c, &mut d);
    assert!(
        notices
            .iter()
            .all(|n| !matches!(n.kind, NoticeKind::OvertookLaterSteps { .. }))
    );
}
