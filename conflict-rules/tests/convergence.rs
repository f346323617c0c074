//! Convergence under concurrency: several replicas of one person's client record and
//! timeline make random edits (claims, taking up, notes, responsibilities, locks, assistant
//! actions) and merge in random orders; replica 0 stands for the server and settles now
//! and then, as only the server does. After every merge the invariants hold;
//! replicas with the same heads show the same view; in the end every replica agrees,
//! every action made anywhere is applied or explained by a notice, and settling is
//! idempotent and convergent.
//!
//! `PROPTEST_CASES` raises the number of cases (256 by default). A failure prints the
//! minimal failing steps, and proptest stores its seed under `proptest-regressions/`, from
//! where every later run replays it first.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use conflict_rules::assistant::{self, SectionKind};
use conflict_rules::{
    NoticeKind, Status, fold_record, fold_timeline, settle_record, settle_timeline,
};
use model::client_record::{
    ClaimOrigin, ClientRecord, NewClient, NewResponsibility, ResponsibilityKind,
};
use model::timeline::{
    ActionKind, Enrolment, Interruption, ParticipationResult, ProgrammeSnapshot, ProgrammeType,
    SectionCorrection, StageDef, Timeline, Transfer,
};
use model::{
    ChangeHash, Date, Document, DocumentId, Editor, EntityId, NodeId, Period, ProgrammeId,
    TenantId, UserId,
};
use proptest::prelude::*;

const USERS: [&str; 4] = ["anna", "ben", "carla", "deniz"];

#[derive(Debug, Clone)]
enum Op {
    TakeUp {
        by: usize,
    },
    Claim {
        by: usize,
        user: usize,
    },
    AddNote {
        by: usize,
    },
    EditNote {
        by: usize,
        note: usize,
    },
    DeleteNote {
        by: usize,
        note: usize,
    },
    AddResponsibility {
        by: usize,
        user: usize,
    },
    Deactivate {
        responsibility: usize,
    },
    Lock {
        by: usize,
        until: Option<u8>,
    },
    Unlock {
        by: usize,
    },
    Action {
        by: usize,
        participation: usize,
        kind: u8,
        day: u16,
        checked: bool,
    },
    Settle,
}

#[derive(Debug, Clone)]
enum Step {
    Edit { replica: usize, op: Op },
    Merge { into: usize, from: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    prop_oneof![
        2 => user.clone().prop_map(|by| Op::TakeUp { by }),
        3 => (user.clone(), user.clone()).prop_map(|(by, user)| Op::Claim { by, user }),
        2 => user.clone().prop_map(|by| Op::AddNote { by }),
        2 => (user.clone(), 0..8usize).prop_map(|(by, note)| Op::EditNote { by, note }),
        1 => (user.clone(), 0..8usize).prop_map(|(by, note)| Op::DeleteNote { by, note }),
        1 => (user.clone(), user.clone()).prop_map(|(by, user)| Op::AddResponsibility { by, user }),
        1 => (0..4usize).prop_map(|responsibility| Op::Deactivate { responsibility }),
        1 => (user.clone(), proptest::option::of(0..30u8)).prop_map(|(by, until)| Op::Lock { by, until }),
        1 => user.clone().prop_map(|by| Op::Unlock { by }),
        10 => (user, 0..4usize, 0..17u8, 0..120u16, proptest::bool::weighted(0.7))
            .prop_map(|(by, participation, kind, day, checked)| Op::Action { by, participation, kind, day, checked }),
        1 => Just(Op::Settle),
    ]
}

fn steps(replicas: usize) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => (0..replicas, op()).prop_map(|(replica, op)| Step::Edit { replica, op }),
        1 => (0..replicas, 0..replicas).prop_map(|(into, from)| Step::Merge { into, from }),
    ];
    proptest::collection::vec(step, 10..70)
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (3..=5usize).prop_flat_map(|n| (Just(n), steps(n)))
}

fn day(offset: u16) -> Date {
    Date::from_ymd(2024, 1, 1)
        .unwrap()
        .plus_days(u64::from(offset))
}

fn programme(kind: ProgrammeType) -> ProgrammeSnapshot {
    let stages = if kind == ProgrammeType::BvB {
        StageDef::bvb()
    } else {
        Vec::new()
    };
    ProgrammeSnapshot {
        id: ProgrammeId::new(kind.short()),
        name: kind.short().into(),
        programme_type: kind,
        stages,
    }
}

fn result() -> ParticipationResult {
    ParticipationResult {
        outcome: "Ergebnis".into(),
        remarks: String::new(),
    }
}

/// The assistant action `kind` selects, for `target` (its programme type and a section).
fn action(kind: u8, target: Option<&conflict_rules::Participation>, d: u16) -> ActionKind {
    let programme_type = target
        .map(|p| p.programme.programme_type.clone())
        .unwrap_or(ProgrammeType::BvB);
    let bvb = programme_type == ProgrammeType::BvB;
    let other_type = if bvb {
        ProgrammeType::AbH
    } else {
        ProgrammeType::BvB
    };
    let interruption = Some(Interruption {
        reason: "Elternzeit".into(),
        planned: Period::new(Some(day(d + 1)), None),
    });
    let transfer = |programme_type: ProgrammeType| {
        let bvb = programme_type == ProgrammeType::BvB;
        ActionKind::Transfer(Transfer {
            successor: EntityId::new(""),
            programme: programme(programme_type),
            stage: if bvb { Some("FS".into()) } else { None },
            site: None,
            funding_period: Period::open(),
            planned_period: Period::open(),
            quick: d.is_multiple_of(2),
            result: (!d.is_multiple_of(2)).then(result),
        })
    };
    match kind {
        0 | 1 => {
            let programme = programme(if kind == 0 {
                ProgrammeType::BvB
            } else {
                ProgrammeType::AbH
            });
            ActionKind::Enrol(Enrolment {
                stage: programme.stages.first().map(|s| s.code.clone()),
                programme,
                section_name: None,
                site: None,
                funding_period: Period::open(),
                planned_period: Period::new(Some(day(d)), Some(day(d + 200))),
                entry_date: Some(day(d)),
                waiting_list: d.is_multiple_of(3),
            })
        }
        2 => ActionKind::Activate {
            section_name: None,
            site: None,
        },
        3 => ActionKind::End { result: result() },
        4 => ActionKind::Abort { result: result() },
        5 => ActionKind::Suspend { interruption },
        6 => ActionKind::Suspend { interruption: None },
        7 => ActionKind::Resume {
            section_name: None,
            site: None,
            planned_exit: None,
            interruption: None,
        },
        8 => ActionKind::Remove,
        9 => ActionKind::ChangeStage {
            stage: if bvb { "GS".into() } else { "EA".into() },
            site: None,
            planned_end: None,
        },
        10 => transfer(programme_type),
        11 => ActionKind::CorrectEntry { entry_date: day(d) },
        12 => ActionKind::RecordResult { result: result() },
        13 => ActionKind::Resume {
            section_name: Some("Wiedereinstieg".into()),
            site: None,
            planned_exit: Some(day(d + 90)),
            interruption,
        },
        14 => ActionKind::CorrectProgramme {
            programme: programme(other_type),
        },
        15 => {
            let sections = target.map(|p| p.sections.clone()).unwrap_or_default();
            let section = sections
                .get(usize::from(d) % sections.len().max(1))
                .map(|s| s.id.clone())
                .unwrap_or_else(|| EntityId::new("none"));
            ActionKind::CorrectSection(SectionCorrection {
                section,
                name: Some(format!("Abschnitt {d}")),
                site: None,
                actual_start: None,
                planned_end: Some(day(d + 30)),
                actual_end: None,
            })
        }
        _ => transfer(other_type),
    }
}

struct Replica {
    node: NodeId,
    clock_ms: u64,
    record: Document<ClientRecord>,
    timeline: Document<Timeline>,
}

impl Replica {
    fn editor(&mut self, user: usize) -> Editor {
        self.clock_ms += 100;
        Editor::with_stepping_clock(UserId::new(USERS[user]), self.node.clone(), self.clock_ms)
    }
}

/// Everything made on any replica, so the end can check that nothing vanished.
#[derive(Default)]
struct Made {
    actions: BTreeSet<EntityId>,
    notes: BTreeSet<EntityId>,
    /// Words appended to notes: each must still be in the note after every merge.
    note_words: Vec<(EntityId, String)>,
    deactivated: BTreeSet<EntityId>,
    counter: u64,
}

fn nth<T: Clone>(items: impl IntoIterator<Item = T>, n: usize) -> Option<T> {
    let items: Vec<T> = items.into_iter().collect();
    (!items.is_empty()).then(|| items[n % items.len()].clone())
}

fn edit(r: &mut Replica, op: &Op, made: &mut Made) {
    match op {
        Op::TakeUp { by } => {
            let mut e = r.editor(*by);
            r.record.take_up(&mut e).unwrap();
        }
        Op::Claim { by, user } => {
            let mut e = r.editor(*by);
            r.record
                .claim_primary(&mut e, UserId::new(USERS[*user]))
                .unwrap();
        }
        Op::AddNote { by } => {
            let mut e = r.editor(*by);
            made.notes
                .insert(r.record.add_note(&mut e, "Notiz").unwrap());
        }
        Op::EditNote { by, note } => {
            let record = r.record.read().unwrap();
            let live = record
                .notes
                .iter()
                .filter(|(_, n)| n.deleted.is_none())
                .map(|(id, _)| id.clone());
            if let Some(id) = nth(live, *note) {
                made.counter += 1;
                let word = format!("+{}{}", USERS[*by], made.counter);
                let text = format!("{} {word}", record.notes[&id].text.as_str());
                let mut e = r.editor(*by);
                r.record.edit_note(&mut e, &id, &text).unwrap();
                made.note_words.push((id, word));
            }
        }
        Op::DeleteNote { by, note } => {
            if let Some(id) = nth(r.record.read().unwrap().notes.into_keys(), *note) {
                let mut e = r.editor(*by);
                r.record.delete_note(&mut e, &id).unwrap();
            }
        }
        Op::AddResponsibility { by, user } => {
            let mut e = r.editor(*by);
            let new = NewResponsibility {
                kind: ResponsibilityKind::ALL[*user % ResponsibilityKind::ALL.len()],
                label: None,
                user: UserId::new(USERS[*user]),
                user_tenant: TenantId::new("t"),
                valid: Period::open(),
            };
            r.record.add_responsibility(&mut e, new).unwrap();
        }
        Op::Deactivate { responsibility } => {
            if let Some(id) = nth(
                r.record.read().unwrap().responsibilities.into_keys(),
                *responsibility,
            ) {
                r.record.set_responsibility_deactivated(&id, true).unwrap();
                made.deactivated.insert(id);
            }
        }
        Op::Lock { by, until } => {
            let mut e = r.editor(*by);
            r.record
                .lock(&mut e, until.map(|d| day(u16::from(d))))
                .unwrap();
        }
        Op::Unlock { by } => {
            let mut e = r.editor(*by);
            r.record.unlock(&mut e).unwrap();
        }
        Op::Action {
            by,
            participation,
            kind,
            day: d,
            checked,
        } => {
            let view = fold_timeline(&r.timeline.read().unwrap()).0;
            let target = nth(view.participations.iter(), *participation);
            let kind = action(*kind, target, *d);
            let pid = match (&kind, target) {
                (ActionKind::Enrol(_), _) => None,
                (_, Some(p)) => Some(p.id.clone()),
                (_, None) => return,
            };
            let mut e = r.editor(*by);
            let recorded = if *checked {
                assistant::apply(&mut r.timeline, &mut e, pid.as_ref(), day(*d), kind).ok()
            } else {
                r.timeline
                    .record_action(&mut e, pid.as_ref(), day(*d), kind)
                    .ok()
            };
            made.actions.extend(recorded);
        }
        Op::Settle => {
            settle_record(&mut r.record).unwrap();
            settle_timeline(&mut r.timeline).unwrap();
        }
    }
}

/// Every invariant a single replica's state must satisfy, whatever merged into it.
fn check_invariants(record: &ClientRecord, timeline: &Timeline) -> Result<(), TestCaseError> {
    let (view, notices) = fold_record(record);
    let ids: BTreeSet<&String> = notices.iter().map(|n| &n.id).collect();
    prop_assert_eq!(ids.len(), notices.len(), "notice ids are unique");

    // Exactly one primary caretaker once anybody claimed, and it is a person's claim.
    prop_assert_eq!(view.primary.is_some(), !record.primary_claims.is_empty());
    if let Some(primary) = &view.primary {
        let claim = &record.primary_claims[&primary.claim];
        prop_assert_eq!(claim.origin, ClaimOrigin::Person);
        prop_assert_eq!(&claim.user, &primary.user);
    }
    // Every claim is the primary, was seen by a later claim, or is explained by a notice.
    for (id, claim) in &record.primary_claims {
        if claim.origin == ClaimOrigin::Settlement {
            continue;
        }
        let is_primary = view.primary.as_ref().is_some_and(|p| &p.claim == id);
        let seen = record
            .primary_claims
            .values()
            .any(|c| c.origin == ClaimOrigin::Person && c.supersedes.contains(id));
        let explained = notices.iter().any(|n| match &n.kind {
            NoticeKind::PrimaryConflict {
                winner_claim,
                losers,
                winner,
            } => winner_claim == id || losers.iter().any(|(l, _)| l == id) || *winner == claim.user,
            _ => false,
        });
        let same_user_as_primary = view.primary.as_ref().is_some_and(|p| p.user == claim.user);
        // Rivals that all named one user need no notice: the settlement restated that user.
        let settled_as_wanted = record.primary_claims.values().any(|s| {
            s.origin == ClaimOrigin::Settlement && s.supersedes.contains(id) && s.user == claim.user
        });
        prop_assert!(
            is_primary || seen || explained || same_user_as_primary || settled_as_wanted,
            "claim {} vanished",
            id
        );
    }
    // The loser of every conflict stays on as caretaker, unless primary after all.
    for notice in &notices {
        if let NoticeKind::PrimaryConflict { losers, .. } = &notice.kind {
            for (_, user) in losers {
                let primary = view.primary.as_ref().is_some_and(|p| &p.user == user);
                let caretaker = view
                    .responsibilities
                    .values()
                    .any(|r| &r.user == user && r.kind == ResponsibilityKind::Caretaker);
                prop_assert!(
                    primary || caretaker,
                    "{} lost a claim and is no caretaker",
                    user
                );
            }
        }
    }

    // The timeline: every action applied or rejected, never both; rejections explained.
    let (tl, tl_notices) = fold_timeline(timeline);
    let all: BTreeSet<&EntityId> = timeline.actions.keys().collect();
    let decided: BTreeSet<&EntityId> = tl.applied.iter().chain(tl.rejected.keys()).collect();
    prop_assert_eq!(&all, &decided);
    prop_assert!(tl.applied.iter().all(|id| !tl.rejected.contains_key(id)));
    for id in tl.rejected.keys() {
        let explained = tl_notices
            .iter()
            .any(|n| matches!(&n.kind, NoticeKind::ActionRejected { action, .. } if action == id));
        prop_assert!(explained, "rejected action {} has no notice", id);
    }
    // One participation per transfer chain is open at a time, and documentation is always
    // kept under a live participation.
    let mut open_per_chain: BTreeMap<&EntityId, usize> = BTreeMap::new();
    for p in &tl.participations {
        prop_assert!(
            tl.participation(&p.documentation_of).is_some(),
            "{} documents under a gone one",
            p.id
        );
        if matches!(
            p.status,
            Status::Active | Status::Inactive | Status::WaitingList
        ) {
            *open_per_chain.entry(&p.documentation_of).or_default() += 1;
        }
    }
    prop_assert!(
        open_per_chain.values().all(|n| *n <= 1),
        "{:?}",
        open_per_chain
    );
    // Each participation is one the assistant could have produced.
    let live: BTreeMap<&EntityId, &conflict_rules::Participation> =
        tl.participations.iter().map(|p| (&p.id, p)).collect();
    for p in &tl.participations {
        let current = p.current();
        match p.status {
            Status::Active | Status::WaitingList => {
                prop_assert!(
                    current.is_some(),
                    "{} is {:?} without a current section",
                    p.id,
                    p.status
                )
            }
            Status::Inactive => {
                prop_assert!(current.is_none_or(|s| s.kind == SectionKind::Interruption))
            }
            Status::Ended | Status::Aborted => prop_assert!(current.is_none()),
        }
        if let Some(section) = current {
            prop_assert_eq!(p.sections.iter().filter(|s| s.id == section.id).count(), 1);
        }
        prop_assert!(
            timeline.details.contains_key(&p.id),
            "{} has no details",
            p.id
        );
        if let Some(next) = &p.successor {
            prop_assert_eq!(
                live.get(next).and_then(|n| n.predecessor.as_ref()),
                Some(&p.id)
            );
        }
        if let Some(previous) = &p.predecessor {
            prop_assert_eq!(
                live.get(previous).and_then(|n| n.successor.as_ref()),
                Some(&p.id)
            );
        }
    }
    Ok(())
}

fn views_of(r: &Replica) -> (String, String) {
    let record = fold_record(&r.record.read().unwrap());
    let timeline = fold_timeline(&r.timeline.read().unwrap());
    (format!("{record:?}"), format!("{timeline:?}"))
}

fn heads_of(r: &mut Replica) -> (Vec<ChangeHash>, Vec<ChangeHash>) {
    (r.record.heads(), r.timeline.heads())
}

fn merge(replicas: &mut [Replica], into: usize, from: usize) {
    if into == from {
        return;
    }
    let (a, b) = if into < from {
        let (left, right) = replicas.split_at_mut(from);
        (&mut left[into], &mut right[0])
    } else {
        let (left, right) = replicas.split_at_mut(into);
        (&mut right[0], &mut left[from])
    };
    a.record.merge(&mut b.record).unwrap();
    a.timeline.merge(&mut b.timeline).unwrap();
}

fn run(n: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut founder = Editor::with_stepping_clock(UserId::new(USERS[0]), NodeId::new("r0"), 1_000);
    let new = NewClient {
        pseudonym: "Testklient".into(),
        take_up: false,
        ..NewClient::default()
    };
    let doc_id = DocumentId::from_bytes([7; 16]);
    let mut record =
        Document::create_client(&mut founder, &doc_id, TenantId::new("t"), new).unwrap();
    let mut timeline = Document::create_timeline(TenantId::new("t"), doc_id).unwrap();
    let mut replicas: Vec<Replica> = (0..n)
        .map(|i| Replica {
            node: NodeId::new(format!("r{i}")),
            // Laptop clocks disagree by minutes.
            clock_ms: 1_000_000 + (i as u64 * 7_919) % 5 * 60_000,
            record: record.fork(),
            timeline: timeline.fork(),
        })
        .collect();
    let mut made = Made::default();

    for step in steps {
        match step {
            // Only the server (replica 0) settles.
            Step::Edit {
                replica,
                op: Op::Settle,
            } if *replica != 0 => {}
            Step::Edit { replica, op } => edit(&mut replicas[*replica], op, &mut made),
            Step::Merge { into, from } => {
                merge(&mut replicas, *into, *from);
                let r = &replicas[*into];
                check_invariants(&r.record.read().unwrap(), &r.timeline.read().unwrap())?;
                // Replicas with the same heads show the same view.
                let mut by_heads: BTreeMap<(Vec<ChangeHash>, Vec<ChangeHash>), Vec<usize>> =
                    BTreeMap::new();
                for (i, r) in replicas.iter_mut().enumerate() {
                    by_heads.entry(heads_of(r)).or_default().push(i);
                }
                for same in by_heads.values().filter(|same| same.len() > 1) {
                    let first = views_of(&replicas[same[0]]);
                    for i in &same[1..] {
                        prop_assert_eq!(&views_of(&replicas[*i]), &first);
                    }
                }
            }
        }
    }

    // Everyone meets: merge all into the first, then the first into all.
    for i in 1..n {
        merge(&mut replicas, 0, i);
    }
    for i in 1..n {
        merge(&mut replicas, i, 0);
    }
    let final_views = views_of(&replicas[0]);
    let final_heads = heads_of(&mut replicas[0]);
    for r in replicas.iter_mut().skip(1) {
        prop_assert_eq!(heads_of(r), final_heads.clone());
    }
    for r in &replicas {
        prop_assert_eq!(&views_of(r), &final_views);
    }
    let record0 = replicas[0].record.read().unwrap();
    let timeline0 = replicas[0].timeline.read().unwrap();
    check_invariants(&record0, &timeline0)?;

    // Nothing vanished: every action is decided, every note is there (if deleted, as a
    // tombstone with its text).
    let (tl, _) = fold_timeline(&timeline0);
    for id in &made.actions {
        prop_assert!(
            tl.applied.contains(id) || tl.rejected.contains_key(id),
            "action {} vanished",
            id
        );
    }
    for id in &made.notes {
        prop_assert!(record0.notes.contains_key(id), "note {} vanished", id);
    }
    for (id, word) in &made.note_words {
        prop_assert!(
            record0.notes[id].text.as_str().contains(word.as_str()),
            "edit {} of note {} vanished",
            word,
            id
        );
    }
    for id in &made.deactivated {
        prop_assert!(
            record0.responsibilities[id].deactivated,
            "deactivation of {} vanished",
            id
        );
    }

    // Settling: never changes the view, twice changes nothing, two replicas converge.
    let before = views_of(&replicas[0]);
    for r in replicas.iter_mut().take(2) {
        settle_record(&mut r.record).unwrap();
        settle_timeline(&mut r.timeline).unwrap();
        prop_assert_eq!(&views_of(r), &before, "settling changed the view");
        prop_assert!(
            !settle_record(&mut r.record).unwrap(),
            "settling twice wrote again"
        );
        prop_assert!(
            !settle_timeline(&mut r.timeline).unwrap(),
            "settling twice wrote again"
        );
    }
    merge(&mut replicas, 0, 1);
    merge(&mut replicas, 1, 0);
    prop_assert_eq!(views_of(&replicas[0]), views_of(&replicas[1]));
    prop_assert_eq!(&views_of(&replicas[0]), &before);
    for r in replicas.iter_mut().take(2) {
        prop_assert!(
            !settle_record(&mut r.record).unwrap(),
            "settled replicas disagree"
        );
        prop_assert!(
            !settle_timeline(&mut r.timeline).unwrap(),
            "settled replicas disagree"
        );
    }
    Ok(())
}

/// A person who only ever uses the assistant, on one replica, never sees a rejection.
fn assistant_only(actions: &[(usize, u8, u16)]) -> Result<(), TestCaseError> {
    let mut timeline =
        Document::create_timeline(TenantId::new("t"), DocumentId::from_bytes([9; 16])).unwrap();
    let mut editor = Editor::with_stepping_clock(UserId::new("anna"), NodeId::new("solo"), 1_000);
    for (participation, kind, d) in actions {
        let view = fold_timeline(&timeline.read().unwrap()).0;
        let target = nth(view.participations.iter(), *participation);
        let kind = action(*kind, target, *d);
        let pid = match (&kind, target) {
            (ActionKind::Enrol(_), _) => None,
            (_, Some(p)) => Some(p.id.clone()),
            (_, None) => continue,
        };
        let _ = assistant::apply(&mut timeline, &mut editor, pid.as_ref(), day(*d), kind);
        let (view, notices) = fold_timeline(&timeline.read().unwrap());
        prop_assert!(view.rejected.is_empty(), "{:?}", view.rejected);
        prop_assert!(notices.is_empty(), "{:?}", notices);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn replicas_converge_and_nothing_vanishes((n, steps) in scenario()) {
        run(n, &steps)?;
    }

    #[test]
    fn the_assistant_alone_never_records_what_it_then_rejects(
        actions in proptest::collection::vec((0..3usize, 0..17u8, 0..120u16), 1..30)
    ) {
        assistant_only(&actions)?;
    }
}
