//! Sync messages as automerge writes them pass; every way the numbers in one can be
//! absurd is refused, each by the check that names it.

use std::io::Write as _;

use automerge::sync::{ChunkList, Message, MessageVersion, SyncDoc as _};
use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, Automerge};

use super::*;

const LIMITS: Limits = Limits {
    max_hashes: 8,
    max_haves: 2,
    max_changes: 100,
    max_inflated_bytes: 1 << 20,
};

fn check_with(data: &[u8], expected: Result<(), SyncMessageError>) {
    assert_eq!(check(data, &LIMITS).map(|_| ()), expected, "{data:02x?}");
    // Whatever passes, automerge decodes.
    if expected.is_ok() {
        Message::decode(data).expect("automerge decodes what passed");
    }
}

fn leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A message of `heads`, `need`, one have with `bloom`, and `changes`.
fn message(heads: usize, need: usize, bloom: Option<Vec<u8>>, changes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x42];
    for n in [heads, need] {
        leb(&mut out, n as u64);
        out.extend(std::iter::repeat_n(7u8, n * 32));
    }
    match bloom {
        Some(bloom) => {
            leb(&mut out, 1);
            leb(&mut out, 0);
            leb(&mut out, bloom.len() as u64);
            out.extend(bloom);
        }
        None => leb(&mut out, 0),
    }
    leb(&mut out, changes.len() as u64);
    for change in changes {
        leb(&mut out, change.len() as u64);
        out.extend(change);
    }
    out
}

fn bloom(entries: u64, bits_per_entry: u64, probes: u64, bits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in [entries, bits_per_entry, probes] {
        leb(&mut out, n);
    }
    out.extend(std::iter::repeat_n(0xffu8, bits));
    out
}

fn doc_with(text: &str) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "text", text).unwrap();
    doc.commit();
    doc
}

#[test]
fn what_automerge_writes_passes() {
    let mut doc = doc_with("Kiesel");
    // A first message, with its Bloom filter, and one that carries changes.
    let mut state = automerge::sync::State::new();
    let first = doc.sync().generate_sync_message(&mut state).unwrap();
    check_with(&first.encode(), Ok(()));
    let mut other = doc_with("Holunder");
    let mut theirs = automerge::sync::State::new();
    let mut ours = automerge::sync::State::new();
    for _ in 0..4 {
        if let Some(m) = doc.sync().generate_sync_message(&mut ours) {
            let bytes = m.encode();
            check_with(&bytes, Ok(()));
            other
                .sync()
                .receive_sync_message(&mut theirs, Message::decode(&bytes).unwrap())
                .unwrap();
        }
        if let Some(m) = other.sync().generate_sync_message(&mut theirs) {
            let bytes = m.encode();
            check_with(&bytes, Ok(()));
            doc.sync()
                .receive_sync_message(&mut ours, Message::decode(&bytes).unwrap())
                .unwrap();
        }
    }
    assert_eq!(doc.get_heads().len(), 2, "the two synced");
    // A whole document (version 2, compressed columns) and a compressed change.
    let long = "Lebenslauf ".repeat(2_000);
    let mut big = doc_with(&long);
    let whole = Message {
        heads: big.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::from(big.save()),
        flags: None,
        version: MessageVersion::V2,
    };
    check_with(&whole.encode(), Ok(()));
    let mut change = big.get_changes(&[]).into_iter().next().unwrap();
    let compressed = change.bytes().to_vec();
    assert_eq!(compressed[8], 2, "automerge compressed the change");
    check_with(&message(0, 0, None, &[compressed]), Ok(()));
}

#[test]
fn bloom_filters_with_impossible_parameters_are_refused() {
    let cases: &[(Vec<u8>, Result<(), SyncMessageError>)] = &[
        (bloom(3, 10, 7, 4), Ok(())),
        (Vec::new(), Ok(())),
        // Empty filters are never probed, whatever they claim.
        (bloom(0, 0, u64::from(u32::MAX), 0), Ok(())),
        // Seen crash the server: 17 GB of probes, and a division by zero.
        (
            bloom(1, 10, u64::from(u32::MAX), 2),
            Err(SyncMessageError::Bloom),
        ),
        (bloom(1, 0, 7, 0), Err(SyncMessageError::Bloom)),
        (bloom(1, 10, 0, 2), Err(SyncMessageError::Bloom)),
        (bloom(1, 65, 7, 9), Err(SyncMessageError::Bloom)),
        (bloom(1, 10, 33, 2), Err(SyncMessageError::Bloom)),
        // Fewer bits than the numbers call for.
        (bloom(100, 10, 7, 124), Err(SyncMessageError::Bloom)),
        (bloom(100, 10, 7, 125), Ok(())),
        (bloom(1 << 33, 10, 7, 0), Err(SyncMessageError::Bloom)),
    ];
    for (filter, expected) in cases {
        check_with(&message(0, 0, Some(filter.clone()), &[]), *expected);
    }
}

#[test]
fn lists_beyond_the_limits_are_refused() {
    check_with(&message(8, 8, None, &[]), Ok(()));
    check_with(
        &message(9, 0, None, &[]),
        Err(SyncMessageError::TooManyHashes),
    );
    check_with(
        &message(0, 9, None, &[]),
        Err(SyncMessageError::TooManyHashes),
    );
    // A count far beyond what follows.
    let mut lying = vec![0x42];
    leb(&mut lying, u64::MAX);
    check_with(&lying, Err(SyncMessageError::TooManyHashes));
    let mut haves = vec![0x42, 0, 0];
    leb(&mut haves, 3);
    check_with(&haves, Err(SyncMessageError::TooManyHaves));
    let mut changes = vec![0x42, 0, 0, 0];
    leb(&mut changes, 101);
    check_with(&changes, Err(SyncMessageError::TooManyChanges));
}

#[test]
fn broken_messages_are_refused() {
    check_with(&[], Err(SyncMessageError::Truncated));
    check_with(&[0x41, 0, 0, 0, 0], Err(SyncMessageError::NotASyncMessage));
    check_with(&[0x42, 1, 0, 0, 0], Err(SyncMessageError::Truncated));
    check_with(
        &[
            0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
        Err(SyncMessageError::Number),
    );
    check_with(
        &message(0, 0, None, &[b"not a chunk".to_vec()]),
        Err(SyncMessageError::Chunk),
    );
    let mut unknown_kind = doc_with("x").save();
    unknown_kind[8] = 9;
    check_with(
        &message(0, 0, None, &[unknown_kind]),
        Err(SyncMessageError::Chunk),
    );
}

/// A compressed-change chunk whose body is `inflated` zeros, deflated.
fn deflate_bomb(inflated: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 16];
    for _ in 0..inflated / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    let body = encoder.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    leb(&mut chunk, body.len() as u64);
    chunk.extend(body);
    chunk
}

#[test]
fn compressed_data_is_counted_as_it_inflates() {
    let bomb = deflate_bomb(64 << 20);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    assert_eq!(
        check(&message(0, 0, None, &[bomb]), &LIMITS).map(|_| ()),
        Err(SyncMessageError::Inflates)
    );
    // Within the limit, but all streams of a message count together.
    let small = deflate_bomb(640 << 10);
    assert!(check(&message(0, 0, None, std::slice::from_ref(&small)), &LIMITS).is_ok());
    assert_eq!(
        check(&message(0, 0, None, &[small.clone(), small]), &LIMITS).map(|_| ()),
        Err(SyncMessageError::Inflates)
    );
    // A document's compressed columns count too.
    let mut big = doc_with(&"Lebenslauf ".repeat(20_000));
    let tight = Limits {
        max_inflated_bytes: 1_000,
        ..LIMITS
    };
    assert_eq!(
        check(&message(0, 0, None, &[big.save()]), &tight).map(|_| ()),
        Err(SyncMessageError::Inflates)
    );
}

#[test]
fn the_summary_counts_what_the_sender_state_holds() {
    let summary = check(&message(3, 2, Some(bloom(3, 10, 7, 4)), &[]), &LIMITS).unwrap();
    assert_eq!(
        summary,
        Summary {
            hashes: 5,
            bloom_bytes: 7,
            changes: 0
        }
    );
    assert_eq!(summary.held_bytes(), 5 * 32 + 7);
    let empty = Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    assert_eq!(check(&empty.encode(), &LIMITS).unwrap().changes, 0);
}
