//! Tests of `document`.

use super::*;
use crate::bookmarks::Bookmarks;
use crate::client_record::{ClientRecord, NewClient};
use crate::editor::Editor;
use crate::ids::{DocumentId, NodeId, TenantId, UserId};

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(UserId::new(user), NodeId::new(user), 1_700_000_000_000)
}

fn record() -> Document<ClientRecord> {
    let new = NewClient {
        pseudonym: "Testklient.in".into(),
        take_up: true,
        ..NewClient::default()
    };
    Document::create_client(
        &mut editor("berater"),
        &DocumentId::from_bytes([3; 16]),
        TenantId::new("t"),
        new,
    )
    .unwrap()
}

#[test]
fn a_document_loads_back_as_what_was_saved() {
    let mut doc = record();
    let bytes = doc.save();
    let loaded = Document::<ClientRecord>::load(&bytes).unwrap();
    assert_eq!(loaded.read().unwrap(), doc.read().unwrap());
}

#[test]
fn loading_checks_the_kind_and_refuses_garbage() {
    let bytes = record().save();
    let err = Document::<Bookmarks>::load(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DocumentError::WrongKind {
                expected: "bookmarks",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        Document::<ClientRecord>::load(b"not automerge"),
        Err(DocumentError::Load(_))
    ));
    let empty = automerge::AutoCommit::new().save();
    assert!(matches!(
        Document::<ClientRecord>::load(&empty),
        Err(DocumentError::WrongKind { .. })
    ));
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let mut doc = record();
    doc.automerge()
        .put(automerge::ROOT, "schema", SCHEMA_VERSION + 1)
        .unwrap();
    let bytes = doc.save();
    assert!(matches!(
        Document::<ClientRecord>::load(&bytes),
        Err(DocumentError::NewerSchema(v)) if v == SCHEMA_VERSION + 1
    ));
}

#[test]
fn concurrent_edits_of_different_fields_both_survive_a_merge() {
    let mut a = record();
    let mut b = a.fork();
    a.set_pseudonym("Neuer Name").unwrap();
    b.set_language(Some("Türkisch")).unwrap();
    b.set_master_data("schule", Some("Realschule")).unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let (ra, rb) = (a.read().unwrap(), b.read().unwrap());
    assert_eq!(ra, rb);
    assert_eq!(ra.pseudonym, "Neuer Name");
    assert_eq!(ra.language.as_deref(), Some("Türkisch"));
    assert_eq!(
        ra.master_data.get("schule").map(String::as_str),
        Some("Realschule")
    );
}

#[test]
fn doc_kinds_round_trip_through_their_names() {
    for kind in DocKind::ALL {
        assert_eq!(DocKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(DocKind::parse("spreadsheet"), None);
}
