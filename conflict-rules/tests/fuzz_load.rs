//! Fuzzing the path from outside bytes to what the screens show: a document is loaded
//! (`model::Document::load`, which the client's store and the server both use), read,
//! and folded by the conflict rules. Arbitrary bytes and damaged real documents are
//! refused with an error or folded; nothing panics.
//!
//! `PROPTEST_CASES=N` for a longer run; CI runs the default.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conflict_rules::record::fold_record;
use conflict_rules::timeline::fold_timeline;
use model::client_record::{ClientRecord, NewClient};
use model::timeline::{
    ActionKind, Enrolment, ProgrammeSnapshot, ProgrammeType, StageDef, Timeline,
};
use model::{Date, Document, DocumentId, Editor, NodeId, Period, ProgrammeId, TenantId, UserId};
use proptest::prelude::*;

fn editor() -> Editor {
    Editor::with_stepping_clock(UserId::new("anna"), NodeId::new("fuzz"), 1_000)
}

/// A real client record with a note, saved.
fn record_bytes() -> Vec<u8> {
    let mut editor = editor();
    let id = DocumentId::from_bytes([7; 16]);
    let mut doc = Document::<ClientRecord>::create_client(
        &mut editor,
        &id,
        TenantId::new("t"),
        NewClient {
            pseudonym: "Sonnenblume".into(),
            take_up: true,
            ..NewClient::default()
        },
    )
    .unwrap();
    doc.add_note(&mut editor, "Erstgespräch").unwrap();
    doc.save()
}

/// A real timeline with an enrolment, saved.
fn timeline_bytes() -> Vec<u8> {
    let mut editor = editor();
    let mut doc =
        Document::<Timeline>::create_timeline(TenantId::new("t"), DocumentId::from_bytes([7; 16]))
            .unwrap();
    let day: Date = "2026-09-01".parse().unwrap();
    doc.record_action(
        &mut editor,
        None,
        day,
        ActionKind::Enrol(Enrolment {
            programme: ProgrammeSnapshot {
                id: ProgrammeId::new("p"),
                name: "BvB".into(),
                programme_type: ProgrammeType::BvB,
                stages: StageDef::bvb(),
            },
            stage: Some("EA".into()),
            section_name: None,
            site: None,
            funding_period: Period::default(),
            planned_period: Period::default(),
            entry_date: Some(day),
            waiting_list: false,
        }),
    )
    .unwrap();
    doc.save()
}

fn load_and_fold(bytes: &[u8]) {
    if let Ok(doc) = Document::<ClientRecord>::load(bytes)
        && let Ok(record) = doc.read()
    {
        let _ = fold_record(&record);
    }
    if let Ok(doc) = Document::<Timeline>::load(bytes)
        && let Ok(timeline) = doc.read()
    {
        let _ = fold_timeline(&timeline);
    }
}

fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 1..6),
        0..=len,
    )
        .prop_map(move |(flips, keep)| {
            let mut bytes = base.clone();
            for (at, value) in flips {
                bytes[at] = value;
            }
            bytes.truncate(keep.max(1));
            bytes
        })
}

proptest! {

    #[test]
    fn arbitrary_bytes_are_refused_or_folded(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        load_and_fold(&bytes);
    }

    #[test]
    fn damaged_records_are_refused_or_folded(bytes in mutated(record_bytes())) {
        load_and_fold(&bytes);
    }

    #[test]
    fn damaged_timelines_are_refused_or_folded(bytes in mutated(timeline_bytes())) {
        load_and_fold(&bytes);
    }
}

#[test]
fn the_undamaged_documents_fold() {
    let record = Document::<ClientRecord>::load(&record_bytes())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(fold_record(&record).0.notes.len(), 1);
    let timeline = Document::<Timeline>::load(&timeline_bytes())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(fold_timeline(&timeline).0.participations.len(), 1);
}
