//! Tests of `assistant`.

use super::*;
use model::timeline::{
    Enrolment, Interruption, ParticipationResult, ProgrammeSnapshot, ProgrammeType,
    SectionCorrection, StageDef, Transfer,
};
use model::{DocumentId, Period, ProgrammeId, SiteId, TenantId, UserId};

fn day(d: u32) -> Date {
    Date::from_ymd(2024, 1, 1).unwrap().plus_days(u64::from(d))
}

fn programme(kind: ProgrammeType, stages: bool) -> ProgrammeSnapshot {
    ProgrammeSnapshot {
        id: ProgrammeId::new(format!("p-{}", kind.short())),
        name: format!("{} 2024", kind.short()),
        programme_type: kind,
        stages: if stages { StageDef::bvb() } else { Vec::new() },
    }
}

fn result() -> ParticipationResult {
    ParticipationResult {
        outcome: "Ziel erreicht".into(),
        remarks: String::new(),
    }
}

fn enrol(waiting: bool) -> ActionKind {
    ActionKind::Enrol(Enrolment {
        programme: programme(ProgrammeType::BvB, true),
        stage: Some("EA".into()),
        section_name: None,
        site: Some(SiteId::new("zentrale")),
        funding_period: Period::open(),
        planned_period: Period::new(Some(day(0)), Some(day(300))),
        entry_date: if waiting { None } else { Some(day(0)) },
        waiting_list: waiting,
    })
}

fn transfer(kind: ProgrammeType) -> ActionKind {
    ActionKind::Transfer(Transfer {
        successor: EntityId::new(""),
        programme: programme(kind, false),
        stage: None,
        site: None,
        funding_period: Period::open(),
        planned_period: Period::new(None, Some(day(200))),
        quick: false,
        result: Some(result()),
    })
}

fn interruption() -> Option<Interruption> {
    Some(Interruption {
        reason: "Elternzeit".into(),
        planned: Period::new(Some(day(11)), Some(day(40))),
    })
}

fn resume() -> ActionKind {
    ActionKind::Resume {
        section_name: None,
        site: None,
        planned_exit: Some(day(300)),
        interruption: None,
    }
}

/// A person's timeline with one participation, driven by the raw model, so that the tests
/// see what the fold makes of any sequence, valid or not.
struct Fixture {
    doc: Document<Timeline>,
    editor: Editor,
    pid: Option<ParticipationId>,
    next_day: u32,
}

impl Fixture {
    fn new() -> Self {
        Self {
            doc: Document::create_timeline(TenantId::new("t"), DocumentId::from_bytes([5; 16]))
                .unwrap(),
            editor: Editor::with_stepping_clock(
                UserId::new("berater"),
                NodeId::new("n"),
                1_700_000_000_000,
            ),
            pid: None,
            next_day: 1,
        }
    }

    /// Records an action on the next day and returns its id.
    fn record(&mut self, kind: ActionKind) -> EntityId {
        let date = day(self.next_day);
        self.next_day += 10;
        let target = if matches!(kind, ActionKind::Enrol(_)) {
            None
        } else {
            self.pid.clone()
        };
        let id = self
            .doc
            .record_action(&mut self.editor, target.as_ref(), date, kind)
            .unwrap();
        if self.pid.is_none() {
            self.pid = Some(id.clone());
        }
        id
    }

    fn view(&self) -> TimelineView {
        fold_timeline(&self.doc.read().unwrap()).0
    }

    fn status(&self) -> Option<Status> {
        self.view()
            .participation(self.pid.as_ref()?)
            .map(|p| p.status)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Nothing,
    Waiting,
    Active,
    Inactive,
    Ended,
    Aborted,
    Removed,
}

fn bring_to(from: From) -> Fixture {
    let mut f = Fixture::new();
    let path: Vec<ActionKind> = match from {
        From::Nothing => vec![],
        From::Waiting => vec![enrol(true)],
        From::Active => vec![enrol(false)],
        From::Inactive => vec![
            enrol(false),
            ActionKind::Suspend {
                interruption: interruption(),
            },
        ],
        From::Ended => vec![enrol(false), ActionKind::End { result: result() }],
        From::Aborted => vec![enrol(false), ActionKind::Abort { result: result() }],
        From::Removed => vec![enrol(false), ActionKind::Remove],
    };
    for kind in path {
        f.record(kind);
    }
    f
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Becomes(Status),
    IsRemoved,
    Rejected(Rejection),
}
use Expect::*;

fn no(status: Status) -> Expect {
    Rejected(Rejection::NotAllowed { status })
}

fn check(from: From, kind: ActionKind, expected: Expect) {
    let mut f = bring_to(from);
    let name = kind.name();
    let id = f.record(kind);
    let view = f.view();
    let actual = match (view.rejected.get(&id), f.pid.as_ref()) {
        (Some(reason), _) => Rejected(reason.clone()),
        (None, Some(pid)) if view.removed.contains_key(pid) => IsRemoved,
        (None, Some(pid)) => Becomes(view.participation(pid).map(|p| p.status).unwrap()),
        (None, None) => unreachable!("an action without a participation was recorded"),
    };
    assert_eq!(actual, expected, "{from:?} --{name}-->");
    assert!(view.applied.contains(&id) != view.rejected.contains_key(&id));
}

fn stage(code: &str) -> ActionKind {
    ActionKind::ChangeStage {
        stage: code.into(),
        site: None,
        planned_end: None,
    }
}

fn corrections() -> [ActionKind; 2] {
    [
        ActionKind::CorrectProgramme {
            programme: programme(ProgrammeType::BvB, true),
        },
        ActionKind::CorrectEntry { entry_date: day(2) },
    ]
}

#[test]
fn enrolment_starts_active_or_on_the_waiting_list() {
    check(From::Nothing, enrol(false), Becomes(Status::Active));
    check(From::Nothing, enrol(true), Becomes(Status::WaitingList));
}

#[test]
fn from_the_waiting_list_only_activation_moves_on() {
    use Status::WaitingList as W;
    check(
        From::Waiting,
        ActionKind::Activate {
            section_name: None,
            site: None,
        },
        Becomes(Status::Active),
    );
    check(From::Waiting, transfer(ProgrammeType::BvB), no(W));
    check(From::Waiting, ActionKind::End { result: result() }, no(W));
    check(From::Waiting, ActionKind::Abort { result: result() }, no(W));
    check(
        From::Waiting,
        ActionKind::Suspend { interruption: None },
        no(W),
    );
    check(From::Waiting, resume(), no(W));
    check(From::Waiting, stage("GS"), no(W));
    check(
        From::Waiting,
        ActionKind::RecordResult { result: result() },
        no(W),
    );
    check(From::Waiting, ActionKind::Remove, IsRemoved);
    for c in corrections() {
        check(From::Waiting, c, Becomes(W));
    }
}

#[test]
fn an_active_participation_transfers_ends_aborts_suspends_and_changes_stage() {
    use Status::Active as A;
    check(
        From::Active,
        ActionKind::Activate {
            section_name: None,
            site: None,
        },
        no(A),
    );
    check(
        From::Active,
        transfer(ProgrammeType::BvB),
        Becomes(Status::Ended),
    );
    check(
        From::Active,
        transfer(ProgrammeType::AbH),
        Rejected(Rejection::DifferentProgrammeType),
    );
    check(
        From::Active,
        ActionKind::End { result: result() },
        Becomes(Status::Ended),
    );
    check(
        From::Active,
        ActionKind::Abort { result: result() },
        Becomes(Status::Aborted),
    );
    check(
        From::Active,
        ActionKind::Suspend {
            interruption: interruption(),
        },
        Becomes(Status::Inactive),
    );
    check(
        From::Active,
        ActionKind::Suspend { interruption: None },
        Becomes(Status::Inactive),
    );
    check(From::Active, resume(), no(A));
    check(From::Active, stage("GS"), Becomes(A));
    check(From::Active, stage("XX"), Rejected(Rejection::UnknownStage));
    check(
        From::Active,
        ActionKind::RecordResult { result: result() },
        no(A),
    );
    check(From::Active, ActionKind::Remove, IsRemoved);
    for c in corrections() {
        check(From::Active, c, Becomes(A));
    }
}

#[test]
fn an_inactive_participation_resumes_ends_or_aborts() {
    use Status::Inactive as I;
    check(From::Inactive, resume(), Becomes(Status::Active));
    check(
        From::Inactive,
        ActionKind::End { result: result() },
        Becomes(Status::Ended),
    );
    check(
        From::Inactive,
        ActionKind::Abort { result: result() },
        Becomes(Status::Aborted),
    );
    check(
        From::Inactive,
        ActionKind::Activate {
            section_name: None,
            site: None,
        },
        no(I),
    );
    check(From::Inactive, transfer(ProgrammeType::BvB), no(I));
    check(
        From::Inactive,
        ActionKind::Suspend { interruption: None },
        no(I),
    );
    check(From::Inactive, stage("GS"), no(I));
    check(
        From::Inactive,
        ActionKind::RecordResult { result: result() },
        no(I),
    );
    check(From::Inactive, ActionKind::Remove, IsRemoved);
    for c in corrections() {
        check(From::Inactive, c, Becomes(I));
    }
}

#[test]
fn ended_and_aborted_participations_resume_or_get_their_result() {
    for (from, status) in [
        (From::Ended, Status::Ended),
        (From::Aborted, Status::Aborted),
    ] {
        check(from, resume(), Becomes(Status::Active));
        check(
            from,
            ActionKind::RecordResult { result: result() },
            Becomes(status),
        );
        check(from, ActionKind::End { result: result() }, no(status));
        check(from, ActionKind::Abort { result: result() }, no(status));
        check(from, ActionKind::Suspend { interruption: None }, no(status));
        check(from, transfer(ProgrammeType::BvB), no(status));
        check(
            from,
            ActionKind::Activate {
                section_name: None,
                site: None,
            },
            no(status),
        );
        check(from, stage("GS"), no(status));
        check(from, ActionKind::Remove, IsRemoved);
        for c in corrections() {
            check(from, c, Becomes(status));
        }
    }
}

#[test]
fn a_removal_applies_after_every_dated_action_and_refuses_later_corrections() {
    // A correction made after the removal finds nothing to correct.
    for kind in [
        ActionKind::Remove,
        ActionKind::CorrectEntry { entry_date: day(3) },
    ] {
        check(From::Removed, kind, Rejected(Rejection::Removed));
    }
    // Dated work recorded on another replica still applies, and goes with the removal.
    let mut f = bring_to(From::Removed);
    let late = f.record(ActionKind::Suspend { interruption: None });
    let view = f.view();
    assert!(view.applied.contains(&late));
    assert!(view.participations.is_empty());
    // The assistant offers nothing on a removed participation.
    let pid = f.pid.clone().unwrap();
    let err = apply(&mut f.doc, &mut f.editor, Some(&pid), day(200), resume()).unwrap_err();
    assert!(
        matches!(err, AssistantError::Rejected(Rejection::Removed)),
        "{err}"
    );
}

#[test]
fn a_future_enrolment_can_be_removed_today() {
    let mut f = Fixture::new();
    let future = day(90);
    let pid = apply(&mut f.doc, &mut f.editor, None, future, enrol(false)).unwrap();
    apply(
        &mut f.doc,
        &mut f.editor,
        Some(&pid),
        day(1),
        ActionKind::Remove,
    )
    .unwrap();
    assert!(f.view().removed.contains_key(&pid));
}

#[test]
fn a_transferred_participation_is_not_resumed() {
    let mut f = bring_to(From::Active);
    f.record(transfer(ProgrammeType::BvB));
    let id = f.record(resume());
    assert_eq!(f.view().rejected.get(&id), Some(&Rejection::Transferred));
    let offers = available_actions(&f.view(), f.pid.as_ref());
    assert!(!offers.contains(&Offer::Resume) && offers.contains(&Offer::RecordResult));
}

#[test]
fn removing_the_first_of_a_transfer_chain_keeps_the_rest_documenting_together() {
    let mut f = bring_to(From::Active);
    let first = f.pid.clone().unwrap();
    f.record(transfer(ProgrammeType::BvB));
    let second = f.view().participations[1].id.clone();
    f.pid = Some(second.clone());
    f.record(transfer(ProgrammeType::BvB));
    let third = f.view().participations[2].id.clone();
    f.pid = Some(first);
    f.record(ActionKind::Remove);
    let view = f.view();
    assert_eq!(
        view.participation(&second)
            .map(|p| p.documentation_of.clone()),
        Some(second.clone())
    );
    assert_eq!(
        view.participation(&third)
            .map(|p| p.documentation_of.clone()),
        Some(second)
    );
}

#[test]
fn a_section_never_ends_before_it_started() {
    let mut f = bring_to(From::Active); // entered day 0, recorded day 1
    let date = day(11);
    let pid = f.pid.clone().unwrap();
    f.doc
        .record_action(&mut f.editor, Some(&pid), date, stage("GS"))
        .unwrap();
    let again = f
        .doc
        .record_action(&mut f.editor, Some(&pid), date, stage("FS"))
        .unwrap();
    assert_eq!(
        f.view().rejected.get(&again),
        Some(&Rejection::BeforeSectionStart)
    );
    let err = apply(&mut f.doc, &mut f.editor, Some(&pid), date, stage("FS")).unwrap_err();
    assert!(matches!(
        err,
        AssistantError::Rejected(Rejection::BeforeSectionStart)
    ));
    // A waiting list left on the day it began lasted no day, and that is fine.
    let mut w = Fixture::new();
    let waiting = apply(&mut w.doc, &mut w.editor, None, day(5), enrol(true)).unwrap();
    apply(
        &mut w.doc,
        &mut w.editor,
        Some(&waiting),
        day(5),
        ActionKind::Activate {
            section_name: None,
            site: None,
        },
    )
    .unwrap();
    let sections = w.view().participations[0].sections.clone();
    assert_eq!(
        (sections[0].actual_start, sections[0].actual_end),
        (Some(day(5)), Some(day(5)))
    );
}

#[test]
fn a_section_correction_changes_only_the_fields_it_names() {
    let mut f = bring_to(From::Active);
    let section = f.view().participations[0].sections[0].id.clone();
    f.record(stage("GS")); // closes the first section on day 10
    f.record(ActionKind::CorrectSection(SectionCorrection {
        section,
        name: Some("Eignungsanalyse".into()),
        site: None,
        actual_start: None,
        planned_end: None,
        actual_end: None,
    }));
    let first = f.view().participations[0].sections[0].clone();
    assert_eq!(first.name, "Eignungsanalyse");
    assert_eq!(
        first.actual_end,
        Some(day(10)),
        "the stage change's end stays"
    );
}

#[test]
fn a_programme_without_stages_has_no_stage_change() {
    let mut f = Fixture::new();
    let mut kind = enrol(false);
    if let ActionKind::Enrol(e) = &mut kind {
        e.programme = programme(ProgrammeType::AbH, false);
        e.stage = None;
    }
    f.record(kind);
    let id = f.record(stage("GS"));
    assert_eq!(f.view().rejected.get(&id), Some(&Rejection::NoStages));
    let offers = available_actions(&f.view(), f.pid.as_ref());
    assert!(!offers.contains(&Offer::ChangeStage));
}

#[test]
fn suspending_and_resuming_write_the_sections_the_manual_shows() {
    let mut f = Fixture::new();
    f.record(enrol(false)); // day 1, entry day 0
    f.record(ActionKind::Suspend {
        interruption: interruption(),
    }); // day 11
    f.record(resume()); // day 21
    f.record(ActionKind::End { result: result() }); // day 31
    let view = f.view();
    let p = view.participation(f.pid.as_ref().unwrap()).unwrap();
    type Row<'a> = (SectionKind, &'a str, Option<Date>, Option<Date>, Status);
    let sections: Vec<Row> = p
        .sections
        .iter()
        .map(|s| {
            (
                s.kind,
                s.name.as_str(),
                s.actual_start,
                s.actual_end,
                s.status,
            )
        })
        .collect();
    assert_eq!(
        sections,
        vec![
            (
                SectionKind::Participation,
                "Teilnahme",
                Some(day(0)),
                Some(day(11)),
                Status::Active
            ),
            (
                SectionKind::Interruption,
                "Elternzeit",
                Some(day(12)),
                Some(day(20)),
                Status::Inactive
            ),
            (
                SectionKind::Participation,
                "Teilnahme",
                Some(day(21)),
                Some(day(31)),
                Status::Active
            ),
        ]
    );
    assert_eq!(p.status, Status::Ended);
    assert_eq!(p.current_section, None);
    assert_eq!(p.result, Some(result()));
    assert_eq!(p.sections[0].stage.as_deref(), Some("EA"));
    assert_eq!(p.sections[2].stage.as_deref(), Some("EA"));
    assert_eq!(p.sections[2].site, Some(SiteId::new("zentrale")));
}

#[test]
fn resuming_an_ended_participation_adds_the_proposed_interruption() {
    let mut f = Fixture::new();
    f.record(enrol(false));
    f.record(ActionKind::End { result: result() });
    f.record(ActionKind::Resume {
        section_name: Some("Wiedereinstieg".into()),
        site: None,
        planned_exit: None,
        interruption: Some(Interruption {
            reason: "Krankheit".into(),
            planned: Period::new(Some(day(12)), None),
        }),
    });
    let p = f.view().participations[0].clone();
    let names: Vec<&str> = p.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Teilnahme", "Krankheit", "Wiedereinstieg"]);
    assert_eq!(p.sections[1].actual_end, Some(day(20)));
    assert_eq!(p.current().map(|s| s.name.as_str()), Some("Wiedereinstieg"));
}

#[test]
fn a_stage_change_closes_the_current_section_the_day_before() {
    let mut f = Fixture::new();
    f.record(enrol(false));
    f.record(stage("GS")); // day 11
    let p = f.view().participations[0].clone();
    assert_eq!(p.sections.len(), 2);
    assert_eq!(p.sections[0].actual_end, Some(day(10)));
    assert_eq!(p.sections[1].stage.as_deref(), Some("GS"));
    assert_eq!(p.sections[1].actual_start, Some(day(11)));
    assert_eq!(p.current().map(|s| s.stage.as_deref()), Some(Some("GS")));
}

#[test]
fn a_transfer_links_the_successor_which_carries_the_documentation_on() {
    let mut f = Fixture::new();
    let first = f.record(enrol(false));
    f.record(transfer(ProgrammeType::BvB)); // day 11
    let view = f.view();
    assert_eq!(view.participations.len(), 2);
    let (old, new) = (&view.participations[0], &view.participations[1]);
    assert_eq!(old.id, first);
    assert_eq!(old.status, Status::Ended);
    assert_eq!(old.successor.as_ref(), Some(&new.id));
    assert_eq!(old.sections[0].actual_end, Some(day(10)));
    assert_eq!(new.status, Status::Active);
    assert_eq!(new.predecessor.as_ref(), Some(&first));
    assert_eq!(new.documentation_of, first);
    assert_eq!(new.entry_date, Some(day(11)));
    assert!(view.details.contains_key(&new.id));
}

#[test]
fn a_section_is_corrected_by_hand_but_keeps_its_status() {
    let mut f = Fixture::new();
    f.record(enrol(false));
    let section = f.view().participations[0].sections[0].id.clone();
    f.record(ActionKind::CorrectSection(SectionCorrection {
        section: section.clone(),
        name: Some("Teilnahme (korrigiert)".into()),
        site: None,
        actual_start: Some(day(3)),
        planned_end: Some(day(99)),
        actual_end: None,
    }));
    let s = f.view().participations[0].sections[0].clone();
    assert_eq!(
        (s.name.as_str(), s.actual_start, s.planned_end, s.status),
        (
            "Teilnahme (korrigiert)",
            Some(day(3)),
            Some(day(99)),
            Status::Active
        )
    );
    let id = f.record(ActionKind::CorrectSection(SectionCorrection {
        section: EntityId::new("no-such-section"),
        name: Some("x".into()),
        site: None,
        actual_start: None,
        planned_end: None,
        actual_end: None,
    }));
    assert_eq!(f.view().rejected.get(&id), Some(&Rejection::UnknownSection));
}

#[test]
fn the_assistant_offers_exactly_what_applies() {
    let statuses = [
        From::Waiting,
        From::Active,
        From::Inactive,
        From::Ended,
        From::Aborted,
    ];
    for from in statuses {
        let f = bring_to(from);
        let status = f.status().unwrap();
        let offered = available_actions(&f.view(), f.pid.as_ref());
        for (offer, kind) in [
            (
                Offer::Activate,
                ActionKind::Activate {
                    section_name: None,
                    site: None,
                },
            ),
            (Offer::Transfer, transfer(ProgrammeType::BvB)),
            (Offer::End, ActionKind::End { result: result() }),
            (Offer::Abort, ActionKind::Abort { result: result() }),
            (Offer::Suspend, ActionKind::Suspend { interruption: None }),
            (Offer::Resume, resume()),
            (Offer::ChangeStage, stage("GS")),
            (
                Offer::RecordResult,
                ActionKind::RecordResult { result: result() },
            ),
        ] {
            let mut f = bring_to(from);
            let id = f.record(kind);
            let applies = f.view().applied.contains(&id);
            assert_eq!(offered.contains(&offer), applies, "{status:?}: {offer:?}");
        }
    }
}

#[test]
fn apply_records_only_what_applies_and_never_undoes_later_steps() {
    let mut f = Fixture::new();
    let pid = apply(&mut f.doc, &mut f.editor, None, day(1), enrol(false)).unwrap();
    let err = apply(&mut f.doc, &mut f.editor, Some(&pid), day(2), resume()).unwrap_err();
    assert!(matches!(
        err,
        AssistantError::Rejected(Rejection::NotAllowed {
            status: Status::Active
        })
    ));
    apply(
        &mut f.doc,
        &mut f.editor,
        Some(&pid),
        day(30),
        ActionKind::End { result: result() },
    )
    .unwrap();
    // Suspending before the end would make the end (of an inactive participation) still
    // apply, but aborting before it would undo it.
    let err = apply(
        &mut f.doc,
        &mut f.editor,
        Some(&pid),
        day(20),
        ActionKind::Abort { result: result() },
    )
    .unwrap_err();
    assert!(
        matches!(err, AssistantError::WouldUndo(ref undone) if undone.len() == 1),
        "{err}"
    );
    let err = apply(
        &mut f.doc,
        &mut f.editor,
        Some(&pid),
        day(40),
        ActionKind::End {
            result: ParticipationResult {
                outcome: "".into(),
                remarks: "".into(),
            },
        },
    )
    .unwrap_err();
    assert!(matches!(err, AssistantError::Input(_)));
    assert_eq!(f.doc.read().unwrap().actions.len(), 2);
}

fn ymd(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

/// Issue 16: enrolled 01.12.2026, suspended (break 02.12.2026–28.02.2027), resumed
/// 01.03.2027, then ended with the last day 01.12.2026. Placed at its date the end would
/// apply, but the resume after it would re-open the participation: it is refused, and
/// the document is unchanged.
#[test]
fn an_end_dated_before_a_resume_is_refused_not_recorded_as_overtaken() {
    let mut f = Fixture::new();
    let start = ymd(2026, 12, 1);
    let mut enrolment = enrol(false);
    if let ActionKind::Enrol(e) = &mut enrolment {
        e.entry_date = Some(start);
    }
    let pid = apply(&mut f.doc, &mut f.editor, None, start, enrolment).unwrap();
    let suspend = ActionKind::Suspend {
        interruption: Some(Interruption {
            reason: "Krankheit".into(),
            planned: Period::new(Some(ymd(2026, 12, 2)), Some(ymd(2027, 2, 28))),
        }),
    };
    apply(&mut f.doc, &mut f.editor, Some(&pid), start, suspend).unwrap();
    let suspended = f.view().participation(&pid).unwrap().clone();
    assert_eq!(
        earliest_date(&suspended, Offer::Resume),
        Some(ymd(2026, 12, 2))
    );
    assert_eq!(earliest_date(&suspended, Offer::End), Some(start));
    apply(
        &mut f.doc,
        &mut f.editor,
        Some(&pid),
        ymd(2027, 3, 1),
        resume(),
    )
    .unwrap();
    let before = f.doc.read().unwrap();
    let view_before = f.view();
    let end = ActionKind::End {
        result: ParticipationResult {
            outcome: "Ausbildung aufgenommen".into(),
            remarks: String::new(),
        },
    };
    let err = apply(&mut f.doc, &mut f.editor, Some(&pid), start, end.clone()).unwrap_err();
    assert!(
        matches!(&err, AssistantError::Overtaken { not_before, .. } if *not_before == Some(ymd(2027, 3, 1))),
        "{err:?}"
    );
    assert_eq!(f.doc.read().unwrap(), before);
    assert_eq!(f.view(), view_before);
    // The assistant proposes the resume's date, and there it applies, as recorded.
    let p = f.view().participation(&pid).unwrap().clone();
    assert_eq!(earliest_date(&p, Offer::End), Some(ymd(2027, 3, 1)));
    assert_eq!(earliest_date(&p, Offer::ChangeStage), Some(ymd(2027, 3, 2)));
    let id = apply(&mut f.doc, &mut f.editor, Some(&pid), ymd(2027, 3, 1), end).unwrap();
    let view = f.view();
    assert!(view.applied.contains(&id));
    let p = view.participation(&pid).unwrap();
    assert_eq!(p.status, Status::Ended);
    let brk = p
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Interruption)
        .unwrap();
    assert_eq!(brk.actual_end, Some(ymd(2027, 2, 28)));
}

/// The state a view shows, as the status machine's input: what applying one more action
/// to what the person sees makes of it.
fn state_of(view: &TimelineView) -> crate::participation::State {
    crate::participation::State {
        participations: view
            .participations
            .iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect(),
        removed: view
            .removed
            .iter()
            .map(|(pid, by)| (pid.clone(), (by.clone(), Vec::new())))
            .collect(),
    }
}

fn any_kind(pick: u8, d: u32) -> ActionKind {
    match pick % 12 {
        0 => enrol(d.is_multiple_of(2)),
        1 => ActionKind::Activate {
            section_name: None,
            site: None,
        },
        2 => transfer(ProgrammeType::BvB),
        3 => ActionKind::End { result: result() },
        4 => ActionKind::Abort { result: result() },
        5 => ActionKind::Suspend {
            interruption: if d.is_multiple_of(2) {
                interruption()
            } else {
                None
            },
        },
        6 => ActionKind::Resume {
            section_name: None,
            site: None,
            planned_exit: None,
            interruption: if d.is_multiple_of(3) {
                interruption()
            } else {
                None
            },
        },
        7 => stage(["EA", "BE", "BK"][(d % 3) as usize]),
        8 => ActionKind::RecordResult { result: result() },
        9 => ActionKind::CorrectEntry { entry_date: day(d) },
        10 => ActionKind::Remove,
        _ => ActionKind::CorrectSection(SectionCorrection {
            section: EntityId::new("unknown"),
            name: Some("Korrigiert".into()),
            site: None,
            actual_start: None,
            planned_end: None,
            actual_end: Some(day(d)),
        }),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// On one replica, whatever the assistant accepts shows in the fold exactly as the
    /// action makes it of the state the person saw (sections, status, result, and nothing
    /// else changed); whatever it refuses leaves the document as it was.
    #[test]
    fn what_apply_accepts_shows_as_recorded_and_a_refusal_changes_nothing(
        steps in proptest::collection::vec((0u8..12, 0u32..60, 0u8..3), 1..25)
    ) {
        let mut f = Fixture::new();
        let mut pids: Vec<ParticipationId> = Vec::new();
        for (pick, d, target) in steps {
            let kind = any_kind(pick, d);
            let participation = if matches!(kind, ActionKind::Enrol(_)) {
                None
            } else {
                pids.get(usize::from(target) % pids.len().max(1)).cloned()
            };
            let doc_before = f.doc.read().unwrap();
            let before = f.view();
            match apply(&mut f.doc, &mut f.editor, participation.as_ref(), day(d), kind) {
                Ok(id) => {
                    let timeline = f.doc.read().unwrap();
                    let action = timeline.actions.get(&id).unwrap().clone();
                    let after = f.view();
                    proptest::prop_assert!(after.applied.contains(&id));
                    proptest::prop_assert_eq!(&after.rejected, &before.rejected);
                    let mut expected = state_of(&before);
                    proptest::prop_assert!(crate::participation::step(&mut expected, &id, &action).is_ok());
                    proptest::prop_assert_eq!(state_of(&after).participations, expected.participations);
                    proptest::prop_assert_eq!(
                        after.removed.keys().collect::<Vec<_>>(),
                        expected.removed.keys().collect::<Vec<_>>()
                    );
                    if participation.is_none() {
                        pids.push(id);
                    }
                    if let ActionKind::Transfer(t) = &action.kind {
                        pids.push(t.successor.clone());
                    }
                }
                Err(_) => {
                    proptest::prop_assert_eq!(f.doc.read().unwrap(), doc_before);
                }
            }
        }
    }
}

#[test]
fn resuming_an_ended_participation_clears_its_result_but_keeps_the_end() {
    for from in [From::Ended, From::Aborted] {
        let mut f = bring_to(from);
        let pid = f.pid.clone().unwrap();
        assert_eq!(f.view().participation(&pid).unwrap().result, Some(result()));
        let id = f.record(resume());
        let view = f.view();
        let p = view.participation(&pid).unwrap();
        assert!(view.applied.contains(&id));
        assert_eq!((p.status, &p.result), (Status::Active, &None), "{from:?}");
        assert_eq!(p.actions.len(), 3, "the end stays in the history");
    }
}

#[test]
fn an_end_before_a_future_entry_is_refused_and_the_entry_is_proposed() {
    let mut f = Fixture::new();
    let mut enrolment = enrol(false);
    if let ActionKind::Enrol(e) = &mut enrolment {
        e.entry_date = Some(day(30));
    }
    let pid = apply(&mut f.doc, &mut f.editor, None, day(1), enrolment).unwrap();
    let end = ActionKind::End { result: result() };
    let err = apply(&mut f.doc, &mut f.editor, Some(&pid), day(10), end.clone()).unwrap_err();
    assert!(
        matches!(
            &err,
            AssistantError::Rejected(Rejection::BeforeSectionStart)
        ),
        "{err:?}"
    );
    let p = f.view().participation(&pid).unwrap().clone();
    assert_eq!(earliest_date(&p, Offer::End), Some(day(30)));
    apply(&mut f.doc, &mut f.editor, Some(&pid), day(30), end).unwrap();
}
