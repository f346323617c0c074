//! Benchmarks of the folds: one timeline with 1,000 assistant actions, and 10,000 client
//! records. Each is measured on plain data (the fold alone) and from the Automerge
//! document (reading it as well), because a consumer does both.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use conflict_rules::{fold_record, fold_timeline};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use model::client_record::{
    AccountState, ClaimKind, ClaimOrigin, ClientRecord, Note, PrimaryClaim, Responsibility,
    ResponsibilityKind,
};
use model::timeline::{
    ActionKind, AssistantAction, Enrolment, Interruption, ParticipationDetails,
    ParticipationResult, ProgrammeSnapshot, ProgrammeType, StageDef, Timeline, TypeSpecific,
};
use model::{
    ClientId, Date, Document, DocumentId, NodeId, Period, ProgrammeId, Stamp, TenantId, Text,
    UserId,
};

fn stamp(n: u64) -> Stamp {
    Stamp::new(1_700_000_000_000 + n, 0, NodeId::new(format!("n{}", n % 7)))
}

/// 1,000 actions: 100 participations, each enrolled, moved through stages, suspended,
/// resumed, corrected and ended, with some actions that the rules reject.
fn timeline_with_1000_actions() -> Timeline {
    let programme = ProgrammeSnapshot {
        id: ProgrammeId::new("bvb"),
        name: "BvB".into(),
        programme_type: ProgrammeType::BvB,
        stages: StageDef::bvb(),
    };
    let start = Date::from_ymd(2020, 1, 1).unwrap();
    let result = ParticipationResult {
        outcome: "Ziel erreicht".into(),
        remarks: String::new(),
    };
    let mut actions = BTreeMap::new();
    let mut details = BTreeMap::new();
    let mut n = 0u64;
    for p in 0..100u64 {
        let pid = stamp(n * 10).entity_id();
        let day0 = start.plus_days(p * 5);
        let kinds = [
            ActionKind::Enrol(Enrolment {
                programme: programme.clone(),
                stage: Some("EA".into()),
                section_name: None,
                site: None,
                funding_period: Period::open(),
                planned_period: Period::new(Some(day0), Some(day0.plus_days(300))),
                entry_date: Some(day0),
                waiting_list: false,
            }),
            ActionKind::ChangeStage {
                stage: "GS".into(),
                site: None,
                planned_end: None,
            },
            ActionKind::Suspend {
                interruption: Some(Interruption {
                    reason: "Elternzeit".into(),
                    planned: Period::open(),
                }),
            },
            ActionKind::Activate {
                section_name: None,
                site: None,
            }, // rejected: not on the waiting list
            ActionKind::Resume {
                section_name: None,
                site: None,
                planned_exit: None,
                interruption: None,
            },
            ActionKind::ChangeStage {
                stage: "FS".into(),
                site: None,
                planned_end: None,
            },
            ActionKind::CorrectEntry {
                entry_date: day0.plus_days(1),
            },
            ActionKind::ChangeStage {
                stage: "ÜQ".into(),
                site: None,
                planned_end: None,
            },
            ActionKind::End {
                result: result.clone(),
            },
            ActionKind::RecordResult {
                result: result.clone(),
            },
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let s = stamp(n * 10);
            let id = s.entity_id();
            actions.insert(
                id,
                AssistantAction {
                    participation: pid.clone(),
                    business_date: day0.plus_days(i as u64 * 20),
                    stamp: s,
                    author: UserId::new(format!("u{}", p % 5)),
                    kind,
                },
            );
            n += 1;
        }
        details.insert(
            pid,
            ParticipationDetails {
                remarks: Text::with_value(""),
                cost_bearer: "Agentur für Arbeit".into(),
                cost_bearer_contact: String::new(),
                funding_period: Period::open(),
                ba_registered: false,
                type_specific: TypeSpecific::default(),
            },
        );
    }
    Timeline {
        tenant: TenantId::new("t"),
        person: DocumentId::from_bytes([1; 16]),
        actions,
        details,
        working_time: BTreeMap::new(),
        vacation: BTreeMap::new(),
        acknowledgements: BTreeMap::new(),
        outcomes: BTreeMap::new(),
    }
}

/// A record as they come: a few notes, a responsibility, and two concurrent claims on
/// every tenth record.
fn record(i: u64) -> ClientRecord {
    let mut primary_claims = BTreeMap::new();
    let claim = |n: u64, kind| PrimaryClaim {
        user: UserId::new(format!("u{}", n % 20)),
        kind,
        origin: ClaimOrigin::Person,
        stamp: stamp(n),
        by: UserId::new(format!("u{}", n % 20)),
        supersedes: Vec::new(),
    };
    primary_claims.insert(
        stamp(i * 10).entity_id(),
        claim(i * 10, ClaimKind::Automatic),
    );
    if i.is_multiple_of(10) {
        primary_claims.insert(
            stamp(i * 10 + 1).entity_id(),
            claim(i * 10 + 1, ClaimKind::Manual),
        );
    }
    let notes = (0..3)
        .map(|k| {
            let s = stamp(i * 10 + 2 + k);
            let note = Note {
                text: Text::with_value("Gespräch geführt, nächster Termin vereinbart."),
                author: UserId::new("u1"),
                created: s.clone(),
                edited: None,
                deleted: None,
            };
            (s.entity_id(), note)
        })
        .collect();
    let mut responsibilities = BTreeMap::new();
    responsibilities.insert(
        stamp(i * 10 + 6).entity_id(),
        Responsibility {
            kind: ResponsibilityKind::Teacher,
            label: "Lehrkraft".into(),
            user: UserId::new("u3"),
            user_tenant: TenantId::new("t"),
            valid: Period::open(),
            deactivated: false,
            created: stamp(i * 10 + 6),
            created_by: UserId::new("u1"),
        },
    );
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&i.to_be_bytes());
    ClientRecord {
        tenant: TenantId::new("t"),
        client_id: ClientId::for_document(&DocumentId::from_bytes(bytes)),
        pseudonym: format!("Klient:in {i:05}"),
        name: String::new(),
        first_name: String::new(),
        language: None,
        master_data: BTreeMap::new(),
        filter_criteria: BTreeMap::new(),
        primary_label: None,
        created: stamp(i * 10),
        created_by: UserId::new("u1"),
        account: AccountState::default(),
        lock_events: BTreeMap::new(),
        deletion_events: BTreeMap::new(),
        notes,
        responsibilities,
        primary_claims,
        acknowledgements: BTreeMap::new(),
    }
}

fn timeline(c: &mut Criterion) {
    let timeline = timeline_with_1000_actions();
    let (view, _) = fold_timeline(&timeline);
    assert_eq!(view.applied.len() + view.rejected.len(), 1_000);
    let doc = Document::create(&timeline).unwrap();
    let mut group = c.benchmark_group("timeline, 1,000 actions");
    group.bench_function("fold", |b| {
        b.iter(|| fold_timeline(std::hint::black_box(&timeline)))
    });
    group.bench_function("read and fold", |b| {
        b.iter(|| fold_timeline(&doc.read().unwrap()))
    });
    group.finish();
}

fn records(c: &mut Criterion) {
    let records: Vec<ClientRecord> = (0..10_000).map(record).collect();
    let docs: Vec<Document<ClientRecord>> = records
        .iter()
        .map(|r| Document::create(r).unwrap())
        .collect();
    let mut group = c.benchmark_group("10,000 client records");
    group.sample_size(10);
    group.bench_function("fold", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|r| fold_record(std::hint::black_box(r)).1.len())
                .sum::<usize>()
        })
    });
    group.bench_function("read and fold", |b| {
        b.iter_batched(
            || (),
            |()| {
                docs.iter()
                    .map(|d| fold_record(&d.read().unwrap()).1.len())
                    .sum::<usize>()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, timeline, records);
criterion_main!(benches);
