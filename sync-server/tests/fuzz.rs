//! Fuzzing the server's decoders of outside bytes with proptest: the protocol envelope
//! (`wire::inspect`), the sync-message check (`sync_message::check`) and the guard
//! (`guard::check`) take arbitrary bytes and mutations of real frames, and never panic;
//! whatever passes the sync-message check, automerge decodes. The structured attack on
//! the real receive path, under a memory cap, is in `tests/hostile.rs`.
//!
//! `PROPTEST_CASES=N` for a longer run; CI runs the default.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, Automerge, ROOT};
use proptest::prelude::*;
use sync_server::sync_message::{self, Limits};
use sync_server::{guard, wire};

const LIMITS: Limits = Limits {
    max_hashes: 1_024,
    max_haves: 4,
    max_changes: 100_000,
    max_inflated_bytes: 1 << 24,
};

/// Whatever the check lets through decodes in automerge.
fn checked(bytes: &[u8]) {
    if sync_message::check(bytes, &LIMITS).is_ok() {
        assert!(automerge::sync::Message::decode(bytes).is_ok());
    }
}

/// A real sync message carrying a change, as a client would send it once the server
/// said what it has (the first message of a sync only announces heads).
fn real_sync_data() -> Vec<u8> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "pseudonym", "Sonnenblume").unwrap();
    let client: Automerge = doc.document().clone();
    let mut server = Automerge::new();
    let (mut ours, mut theirs) = (automerge::sync::State::new(), automerge::sync::State::new());
    loop {
        let message = client.generate_sync_message(&mut ours).unwrap();
        if !message.changes.is_empty() {
            return message.encode();
        }
        server.receive_sync_message(&mut theirs, message).unwrap();
        if let Some(reply) = server.generate_sync_message(&mut theirs) {
            let mut client_copy = client.clone();
            client_copy.receive_sync_message(&mut ours, reply).unwrap();
        }
    }
}

/// A real protocol frame (CBOR map) around that message.
fn real_frame(data: &[u8]) -> Vec<u8> {
    // {"type": "sync", "senderId": "a", "targetId": "b", "documentId": "x", "data": bytes}
    let mut out = vec![0xa5];
    let text = |out: &mut Vec<u8>, s: &str| {
        out.push(0x60 | u8::try_from(s.len()).unwrap());
        out.extend_from_slice(s.as_bytes());
    };
    for (key, value) in [
        ("type", "sync"),
        ("senderId", "a"),
        ("targetId", "b"),
        ("documentId", "x"),
    ] {
        text(&mut out, key);
        text(&mut out, value);
    }
    text(&mut out, "data");
    out.push(0x59);
    out.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(data);
    out
}

fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    proptest::collection::vec((0..len, any::<u8>()), 1..8).prop_map(move |flips| {
        let mut bytes = base.clone();
        for (at, value) in flips {
            bytes[at] = value;
        }
        bytes
    })
}

proptest! {

    #[test]
    fn the_envelope_decoder_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = wire::inspect(&bytes);
    }

    #[test]
    fn the_envelope_decoder_takes_damaged_frames(bytes in mutated(real_frame(&real_sync_data()))) {
        if let Ok(frame) = wire::inspect(&bytes) {
            let _ = wire::reflected_heads(&frame);
        }
    }

    #[test]
    fn the_guard_takes_any_sync_data(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        checked(&bytes);
        let _ = guard::check(&bytes, None, None);
    }

    #[test]
    fn the_guard_takes_damaged_sync_messages(bytes in mutated(real_sync_data())) {
        checked(&bytes);
        let _ = guard::check(&bytes, Some(Automerge::new()), None);
        let _ = guard::check(&bytes, None, None);
    }
}

#[test]
fn the_real_frame_is_read_as_a_sync_message() {
    let data = real_sync_data();
    let bytes = real_frame(&data);
    let frame = wire::inspect(&bytes).unwrap();
    assert_eq!(frame.kind, "sync");
    assert_eq!(frame.data, Some(&data[..]));
    assert_eq!(sync_message::check(&data, &LIMITS).unwrap().changes, 1);
}
