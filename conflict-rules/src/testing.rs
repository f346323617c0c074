//! Helpers shared by the unit tests of this crate: editors on a stepping clock, and a
//! client record with two concurrent primary claims, the setup many rules start from.

use model::client_record::{ClientRecord, NewClient};
use model::{Document, DocumentId, Editor, NodeId, TenantId, UserId};

pub fn editor(user: &str, start_ms: u64) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("node-{user}")),
        start_ms,
    )
}

/// A new record, created by "gründerin", who takes the person up if `take_up`.
pub fn record(take_up: bool) -> Document<ClientRecord> {
    let new = NewClient {
        pseudonym: "Testklient".into(),
        take_up,
        ..NewClient::default()
    };
    let doc_id = DocumentId::from_bytes([8; 16]);
    Document::create_client(
        &mut editor("gründerin", 1_000),
        &doc_id,
        TenantId::new("t"),
        new,
    )
    .unwrap()
}

/// Two replicas on which anna (at 5 s) and ben (at 6 s) each made themselves primary
/// caretaker by hand, merged both ways.
pub fn rival_claims(take_up: bool) -> (Document<ClientRecord>, Document<ClientRecord>) {
    let mut a = record(take_up);
    let mut b = a.fork();
    a.claim_primary(&mut editor("anna", 5_000), UserId::new("anna"))
        .unwrap();
    b.claim_primary(&mut editor("ben", 6_000), UserId::new("ben"))
        .unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    (a, b)
}
