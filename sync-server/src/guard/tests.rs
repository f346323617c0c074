use automerge::sync::{ChunkList, Message, MessageVersion};
use model::client_record::{ClientRecord, NewClient};
use model::{Date, Document, Editor, NodeId, TenantId, UserId};

use super::*;

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(UserId::new(user), NodeId::new("n"), 1_000)
}

fn record() -> Document<ClientRecord> {
    Document::<ClientRecord>::create_client(
        &mut editor("anna"),
        &model::DocumentId::from_bytes([3; 16]),
        TenantId::new("t1"),
        NewClient {
            pseudonym: "Wacholder".into(),
            ..NewClient::default()
        },
    )
    .unwrap()
}

/// A sync message carrying the changes `doc` made after `since`, as change chunks, or
/// as one document chunk.
fn message(
    doc: &mut Document<ClientRecord>,
    since: &[automerge::ChangeHash],
    whole: bool,
) -> Vec<u8> {
    let chunks: Vec<Vec<u8>> = if whole {
        vec![doc.save()]
    } else {
        doc.automerge()
            .get_changes(since)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect()
    };
    Message {
        heads: doc.heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::from(chunks),
        flags: None,
        version: if whole {
            MessageVersion::V2
        } else {
            MessageVersion::V1
        },
    }
    .encode()
}

fn day() -> Date {
    Date::from_ymd(2026, 11, 24).unwrap()
}

#[test]
fn a_new_record_passes_and_ordinary_edits_pass() {
    let mut client = record();
    let created = message(&mut client, &[], true);
    assert_eq!(check(&created, None), Check::Passed);

    let server = client.fork().into_automerge();
    let before = client.heads();
    client
        .add_note(&mut editor("anna"), "Erstgespräch")
        .unwrap();
    client.lock(&mut editor("anna"), None).unwrap();
    let edit = message(&mut client, &before, false);
    assert_eq!(check(&edit, Some(&server)), Check::Passed);
}

#[test]
fn nobody_else_writes_under_a_server_actor() {
    let mut forger = record();
    let earlier = forger.fork().into_automerge();
    forger.act_as(model::server_actor([1; 8]));
    let before = forger.heads();
    forger.mark_deleted(&mut editor("chefin"), day()).unwrap();
    let forged = message(&mut forger, &before, false);
    assert_eq!(
        check(&forged, Some(&earlier)),
        Check::Refused(Refusal::ServerActor)
    );
    assert_eq!(
        check(&forged, None),
        Check::NeedsHeld,
        "it builds on changes the server has not stored: check against its copy"
    );
    let holding = forger.fork().into_automerge();
    assert_eq!(
        check(&forged, Some(&holding)),
        Check::Passed,
        "a change the server already has is only repeated"
    );
}

#[test]
fn a_client_cannot_touch_what_only_the_server_writes() {
    let mut server = record();
    server.act_as(model::server_actor([1; 8]));
    server.mark_deleted(&mut editor("chefin"), day()).unwrap();
    let mut client = server.fork();
    let held = server.into_automerge();

    // Restoring (or deleting) by itself.
    let before = client.heads();
    client.restore(&mut editor("anna")).unwrap();
    let restore = message(&mut client, &before, false);
    assert_eq!(
        check(&restore, Some(&held)),
        Check::Refused(Refusal::ServerOnlyField)
    );

    // Claiming an account state.
    let mut client = Document::<ClientRecord>::load(&held.save()).unwrap();
    let before = client.heads();
    client
        .set_account_state(&model::client_record::AccountState {
            last_login_ms: Some(1),
            invitation_sent_ms: None,
            has_password: true,
        })
        .unwrap();
    let account = message(&mut client, &before, false);
    assert_eq!(
        check(&account, Some(&held)),
        Check::Refused(Refusal::ServerOnlyField)
    );
}

#[test]
fn a_change_hidden_behind_a_whole_document_chunk_is_still_seen() {
    let mut client = record();
    let held = client.fork().into_automerge();
    let before = client.heads();
    client.restore(&mut editor("anna")).unwrap();
    let whole = {
        let mut copy = Document::<ClientRecord>::load(&held.save()).unwrap();
        copy.save()
    };
    let change = client.automerge().get_changes(&before)[0]
        .raw_bytes()
        .to_vec();
    let sneaky = Message {
        heads: client.heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::from(vec![whole, change]),
        flags: None,
        version: MessageVersion::V2,
    }
    .encode();
    assert_eq!(
        check(&sneaky, Some(&held)),
        Check::Refused(Refusal::ServerOnlyField)
    );
}

#[test]
fn garbage_is_refused() {
    assert_eq!(
        check(&[0xff, 0x01], None),
        Check::Refused(Refusal::Undecodable)
    );
}
