use automerge::sync::{ChunkList, Message, MessageVersion};
use model::client_record::{ClientRecord, NewClient};
use model::{Date, Document, Editor, NodeId, TenantId, UserId};

use super::*;
use automerge::ChangeHash;
use automerge::transaction::Transactable as _;

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

/// The hash of a record's creating change, as its registration names it.
fn creation_of(record: &mut Document<ClientRecord>) -> ChangeHash {
    record
        .automerge()
        .get_changes(&[])
        .into_iter()
        .find(|c| c.deps().is_empty())
        .unwrap()
        .hash()
}

fn day() -> Date {
    Date::from_ymd(2026, 11, 24).unwrap()
}

#[test]
fn a_new_record_passes_and_ordinary_edits_pass() {
    let mut client = record();
    let creation = creation_of(&mut client);
    let created = message(&mut client, &[], true);
    assert_eq!(check(&created, None, Some(creation)), Check::Passed);

    let server = client.fork().into_automerge();
    let before = client.heads();
    client
        .add_note(&mut editor("anna"), "Erstgespräch")
        .unwrap();
    client.lock(&mut editor("anna"), None).unwrap();
    let edit = message(&mut client, &before, false);
    assert_eq!(
        check(&edit, Some(server.clone()), Some(creation)),
        Check::Passed
    );
}

#[test]
fn nobody_else_writes_under_a_server_actor() {
    let mut forger = record();
    let creation = creation_of(&mut forger);
    let earlier = forger.fork().into_automerge();
    forger.act_as(model::server_actor([1; 8]));
    let before = forger.heads();
    forger.mark_deleted(&mut editor("chefin"), day()).unwrap();
    let forged = message(&mut forger, &before, false);
    assert_eq!(
        check(&forged, Some(earlier.clone()), Some(creation)),
        Check::Refused(Refusal::ServerActor)
    );
    assert_eq!(
        check(&forged, None, Some(creation)),
        Check::NeedsHeld,
        "it builds on changes the server has not stored: check against its copy"
    );
    let holding = forger.fork().into_automerge();
    assert_eq!(
        check(&forged, Some(holding.clone()), Some(creation)),
        Check::Passed,
        "a change the server already has is only repeated"
    );
}

#[test]
fn a_client_cannot_touch_what_only_the_server_writes() {
    let mut server = record();
    let creation = creation_of(&mut server);
    server.act_as(model::server_actor([1; 8]));
    server.mark_deleted(&mut editor("chefin"), day()).unwrap();
    let mut client = server.fork();
    let held = server.into_automerge();

    // Restoring (or deleting) by itself.
    let before = client.heads();
    client.restore(&mut editor("anna")).unwrap();
    let restore = message(&mut client, &before, false);
    assert_eq!(
        check(&restore, Some(held.clone()), Some(creation)),
        Check::Refused(Refusal::ServerOnlyField)
    );

    // Claiming an account state.
    let mut client = Document::<ClientRecord>::load(&held.save()).unwrap();
    let before = client.heads();
    client
        .set_account_state(&model::client_record::AccountState {
            last_login_ms: Some(1),
            has_password: true,
            ..Default::default()
        })
        .unwrap();
    let account = message(&mut client, &before, false);
    assert_eq!(
        check(&account, Some(held.clone()), Some(creation)),
        Check::Refused(Refusal::ServerOnlyField)
    );
}

#[test]
fn a_change_hidden_behind_a_whole_document_chunk_is_still_seen() {
    let mut client = record();
    let creation = creation_of(&mut client);
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
        check(&sneaky, Some(held.clone()), Some(creation)),
        Check::Refused(Refusal::ServerOnlyField)
    );
}

#[test]
fn garbage_is_refused() {
    assert_eq!(
        check(&[0xff, 0x01], None, None),
        Check::Refused(Refusal::Undecodable)
    );
}

/// A change of no dependencies from a made-up actor that makes the server-only maps
/// anew: enough operations before them that its maps win the conflict at their keys.
fn forged_root(keys: &[&str]) -> Vec<u8> {
    let mut doc = Automerge::new();
    doc.set_actor(ActorId::from(b"forged-actor".to_vec()));
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let junk = tx.put_object(automerge::ROOT, "filler", automerge::ObjType::List)?;
        for i in 0..200 {
            tx.insert(&junk, i, i as i64)?;
        }
        for key in keys {
            tx.put_object(automerge::ROOT, *key, automerge::ObjType::Map)?;
        }
        Ok(())
    })
    .unwrap();
    let change = doc.get_changes(&[]).remove(0);
    Message {
        heads: vec![change.hash()],
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::from(vec![change.raw_bytes().to_vec()]),
        flags: None,
        version: MessageVersion::V1,
    }
    .encode()
}

#[test]
fn only_the_registered_creation_may_write_the_maps_however_it_is_made() {
    let mut server = record();
    let creation = creation_of(&mut server);
    server.act_as(model::server_actor([1; 8]));
    server.mark_deleted(&mut editor("chefin"), day()).unwrap();
    let held = server.into_automerge();
    for keys in [
        &["deletion_events", "account"][..],
        &["deletion_events"],
        &["account"],
    ] {
        let forged = forged_root(keys);
        assert_eq!(
            check(&forged, Some(held.clone()), Some(creation)),
            Check::Refused(Refusal::ServerOnlyField),
            "{keys:?}"
        );
        assert_eq!(
            check(&forged, None, Some(creation)),
            Check::Refused(Refusal::ServerOnlyField),
            "{keys:?}, before the server holds anything"
        );
    }
    // A change of no dependencies that leaves the maps alone is nobody's concern.
    assert_eq!(
        check(
            &forged_root(&["elsewhere"]),
            Some(held.clone()),
            Some(creation)
        ),
        Check::Passed
    );
    // Another record's creation is not this one's.
    let mut other = Document::<ClientRecord>::create_client(
        &mut editor("ben"),
        &model::DocumentId::from_bytes([9; 16]),
        TenantId::new("t1"),
        NewClient {
            pseudonym: "Schlehe".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    let foreign = message(&mut other, &[], true);
    assert_eq!(
        check(&foreign, None, Some(creation)),
        Check::Refused(Refusal::ServerOnlyField)
    );
}

#[test]
fn a_record_registered_without_its_creation_takes_the_first_one_it_sees() {
    let mut client = record();
    let creation = creation_of(&mut client);
    let created = message(&mut client, &[], true);
    assert_eq!(check(&created, None, None), Check::Created(creation));
    let held = client.fork().into_automerge();
    assert_eq!(
        check(&forged_root(&["deletion_events"]), Some(held), None),
        Check::Refused(Refusal::ServerOnlyField),
        "once the server holds the record, no other change may touch the maps"
    );
    // Two creations at once: only one can be the record's.
    let mut genuine = record();
    let mut chunks: Vec<Vec<u8>> = genuine
        .automerge()
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let forged = Message::decode(&forged_root(&["account"])).unwrap();
    chunks.extend(forged.changes.iter().map(<[u8]>::to_vec));
    let both = Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::from(chunks),
        flags: None,
        version: MessageVersion::V1,
    }
    .encode();
    assert_eq!(
        check(&both, None, None),
        Check::Refused(Refusal::ServerOnlyField)
    );
}
