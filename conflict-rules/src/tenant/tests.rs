//! Tests of `tenant`.

use super::*;
use model::client_record::NewClient;
use model::{Document, Editor, NodeId, TenantId, UserId};

fn created(pseudonym: &str, by: &str, at_ms: u64, id_byte: u8) -> (DocumentId, ClientRecord) {
    let mut editor = Editor::with_stepping_clock(UserId::new(by), NodeId::new(by), at_ms);
    let doc_id = DocumentId::from_bytes([id_byte; 16]);
    let new = NewClient {
        pseudonym: pseudonym.into(),
        take_up: true,
        ..NewClient::default()
    };
    let doc = Document::create_client(&mut editor, &doc_id, TenantId::new("t"), new).unwrap();
    (doc_id, doc.read().unwrap())
}

#[test]
fn the_same_person_created_twice_offline_keeps_the_name_on_the_older_record() {
    let older = created("Testklient", "anna", 1_000, 1);
    let newer = created(" testklient ", "ben", 2_000, 2);
    let other = created("Anderer Name", "ben", 3_000, 3);
    let records = [&newer, &other, &older];
    let notices = duplicate_notices(records.iter().map(|(id, r)| (id, r)));
    let pseudonym: Vec<&Notice> = notices
        .iter()
        .filter(|n| n.kind.code() == "duplicate-pseudonym")
        .collect();
    assert_eq!(pseudonym.len(), 1);
    assert_eq!(
        pseudonym[0].kind,
        NoticeKind::DuplicatePseudonym {
            kept: older.0,
            duplicate: newer.0
        }
    );
    assert_eq!(pseudonym[0].concerns, vec![UserId::new("ben")]);
}

#[test]
fn colliding_client_ids_are_reported_too() {
    let a = created("Erste Person", "anna", 1_000, 9);
    let mut b = created("Zweite Person", "ben", 2_000, 10);
    b.1.client_id = a.1.client_id.clone();
    let notices = duplicate_notices([(&a.0, &a.1), (&b.0, &b.1)]);
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].kind,
        NoticeKind::DuplicateClientId {
            kept: a.0,
            duplicate: b.0
        }
    );
}

#[test]
fn distinct_records_raise_nothing() {
    let a = created("Erste Person", "anna", 1_000, 4);
    let b = created("Zweite Person", "ben", 2_000, 5);
    assert!(duplicate_notices([(&a.0, &a.1), (&b.0, &b.1)]).is_empty());
}
