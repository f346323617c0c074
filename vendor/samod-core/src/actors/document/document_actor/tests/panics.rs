//! Case-records patch: a panic in automerge on one peer's message ends that peer's
//! connection, and the document and every other peer carry on.

use super::*;
use automerge::sync::Message;

/// A ready actor holding a document with a change, and two peers that may write it.
fn actor_with_two_peers() -> (DocumentActor, ConnectionId, ConnectionId) {
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "kept", true))
        .unwrap();
    let (a, b) = (ConnectionId::new(), ConnectionId::new());
    let args = SpawnArgs {
        local_peer_id: "local".into(),
        actor_id: DocumentActorId::new(),
        document_id: DocumentId::new(&mut rand::rng()),
        initial_content: Some(doc),
        initial_connections: HashMap::from([
            (a, ("attacker".into(), None)),
            (b, ("colleague".into(), None)),
        ]),
    };
    let (mut actor, result) = DocumentActor::new(UnixTimestamp::now(), args);
    for task in result
        .io_tasks
        .iter()
        .filter(|task| matches!(task.action, DocumentIoTask::CheckSharePolicy { .. }))
    {
        complete_policy(&mut actor, task.task_id, ShareConfig::read_write());
    }
    (actor, a, b)
}

fn send(actor: &mut DocumentActor, conn: ConnectionId, data: Vec<u8>) -> DocActorResult {
    actor
        .handle_message(
            UnixTimestamp::now(),
            HubToDocMsg(HubToDocMsgPayload::HandleDocMessage {
                connection_id: conn,
                message: DocMessage::Sync(SyncMessage::Sync { data }),
                received_at: UnixTimestamp::now(),
            }),
        )
        .unwrap()
}

fn disconnected(result: &DocActorResult) -> Vec<ConnectionId> {
    result
        .outgoing_messages
        .iter()
        .filter_map(|msg| match msg.0 {
            DocToHubMsgPayload::Disconnect { connection_id, .. } => Some(connection_id),
            _ => None,
        })
        .collect()
}

/// The document reaches a fresh peer through `conn`: it says hello, takes what comes.
fn reaches(actor: &mut DocumentActor, conn: ConnectionId) -> bool {
    let mut copy = Automerge::new();
    let mut state = sync::State::new();
    for _ in 0..6 {
        let Some(hello) = copy.generate_sync_message(&mut state) else {
            break;
        };
        let result = send(actor, conn, hello.encode());
        for msg in result.outgoing_messages {
            if let DocToHubMsgPayload::SendSyncMessage {
                connection_id,
                message: SyncMessage::Sync { data },
                ..
            } = msg.0
                && connection_id == conn
            {
                copy.receive_sync_message(&mut state, Message::decode(&data).unwrap())
                    .unwrap();
            }
        }
    }
    copy.get_heads() == actor.document().get_heads()
}

/// A Bloom filter of one entry and zero bits: automerge divides by zero when it probes
/// it, while generating its answer.
fn zero_bit_bloom() -> Vec<u8> {
    // heads: none; need: none; one have (no last sync; a filter of entries 1, bits per
    // entry 0, probes 7, no bits); no changes.
    vec![0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0]
}

#[test]
fn a_message_that_makes_automerge_panic_while_answering_ends_only_its_connection() {
    let (mut actor, attacker, colleague) = actor_with_two_peers();
    let before = actor.document().get_heads();
    assert!(
        std::panic::catch_unwind(|| {
            let mut doc = Automerge::new();
            doc.empty_commit(Default::default());
            let mut state = sync::State::new();
            doc.receive_sync_message(&mut state, Message::decode(&zero_bit_bloom()).unwrap())
                .unwrap();
            doc.generate_sync_message(&mut state)
        })
        .is_err(),
        "plain automerge panics on this message"
    );
    let result = send(&mut actor, attacker, zero_bit_bloom());
    assert_eq!(disconnected(&result), vec![attacker]);
    assert!(!actor.peers().contains_key(&attacker));
    assert_eq!(actor.document().get_heads(), before);
    assert!(reaches(&mut actor, colleague), "the colleague still syncs");
}

#[test]
fn a_panic_while_taking_a_message_leaves_the_document_as_it_was() {
    let (mut actor, attacker, colleague) = actor_with_two_peers();
    let before = actor.document().get_heads();
    let SyncMessage::Sync { data } = incoming_changes(false) else {
        unreachable!()
    };
    // The changes apply, then the panic comes: the document must not keep them.
    crate::actors::document::peer_doc_connection::tests::panic_after_next_receive();
    let result = send(&mut actor, attacker, data);
    assert_eq!(disconnected(&result), vec![attacker]);
    assert!(result.change_events.is_empty());
    assert_eq!(actor.document().get_heads(), before);
    assert!(actor.document().get(ROOT, "remote").unwrap().is_none());
    assert!(actor.document().get(ROOT, "kept").unwrap().is_some());
    assert!(reaches(&mut actor, colleague), "the colleague still syncs");
    // The same changes from a peer whose message does not panic are taken.
    let SyncMessage::Sync { data } = incoming_changes(false) else {
        unreachable!()
    };
    send(&mut actor, colleague, data);
    assert!(actor.document().get(ROOT, "remote").unwrap().is_some());
}
