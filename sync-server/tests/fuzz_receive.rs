//! Structured fuzzing of what reaches automerge, through the server's real receive path:
//! sync messages built field by field (Bloom filters with extreme parameters, huge and
//! empty lists, real and broken chunks, DEFLATE bombs, documents of real automerge
//! writers) sent over a websocket to the real server binary, which runs under a memory
//! cap of 2 GiB. After every message the server must still run; at the end, colleagues
//! must still sync and the memory cap must never have been reached (the process would
//! have died of it).
//!
//! `PROPTEST_CASES=N` for more messages (64 by default).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use automerge::transaction::Transactable as _;
use common::hostile::{self, Have, Login, Raw};
use common::process::ServerProcess;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A count: mostly small, sometimes at and just past the limits, sometimes absurd.
fn count() -> impl Strategy<Value = usize> {
    prop_oneof![
        20 => 0usize..4,
        1 => Just(1_024usize),
        1 => Just(1_025usize),
        1 => 2_000usize..3_000,
    ]
}

fn hashes() -> impl Strategy<Value = Vec<[u8; 32]>> {
    count().prop_map(hostile::made_up_hashes)
}

/// A number of the extremes automerge's Bloom filter meets.
fn extreme() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(7),
        Just(10),
        Just(33),
        Just(65),
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) + 1),
        any::<u32>().prop_map(u64::from),
    ]
}

fn bloom() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => Just(Vec::new()),
        // As automerge writes them: 10 bits per entry, 7 probes, every bit there.
        4 => (1u64..200).prop_map(|entries| {
            hostile::bloom(entries, 10, 7, (entries as usize * 10).div_ceil(8))
        }),
        2 => (extreme(), extreme(), extreme(), prop_oneof![Just(0usize), Just(2), 0usize..4096])
            .prop_map(|(entries, bits, probes, len)| hostile::bloom(entries, bits, probes, len)),
    ]
}

fn have() -> impl Strategy<Value = Have> {
    (hashes(), bloom()).prop_map(|(last_sync, bloom)| Have { last_sync, bloom })
}

/// A change chunk from a real automerge writer, with some text in it.
fn real_change(text: String) -> Vec<u8> {
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "text", text).unwrap();
    doc.commit();
    doc.get_changes(&[])[0].raw_bytes().to_vec()
}

/// A compressed-change chunk that inflates to `megabytes` of zeros.
fn deflate_bomb(megabytes: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..megabytes {
        encoder.write_all(&zeros).unwrap();
    }
    let body = encoder.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    hostile::leb(&mut chunk, body.len() as u64);
    chunk.extend(body);
    chunk
}

fn chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..256),
        8 => ".{0,64}".prop_map(real_change),
        1 => ".{0,64}".prop_map(|text| {
            let mut doc = automerge::AutoCommit::new();
            doc.put(automerge::ROOT, "text", text).unwrap();
            doc.save()
        }),
        1 => (".{0,64}", 0usize..64).prop_map(|(text, cut)| {
            let mut bytes = real_change(text);
            bytes.truncate(bytes.len().saturating_sub(cut));
            bytes
        }),
        1 => prop_oneof![Just(1usize), Just(200)].prop_map(deflate_bomb),
        // The chunk header of a document claiming more columns than there are bytes.
        1 => Just({
            let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 12, 0, 0];
            chunk.extend([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0]);
            chunk
        }),
    ]
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0x42u8), Just(0x43)],
        hashes(),
        hashes(),
        prop_oneof![4 => proptest::collection::vec(have(), 0..2), 1 => proptest::collection::vec(have(), 2..6)],
        proptest::collection::vec(chunk(), 0..4),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
    )
        .prop_map(|(version, heads, need, haves, changes, flags)| {
            let mut bytes = hostile::sync_message(&heads, &need, &haves, &changes);
            bytes[0] = version;
            if let Some(flags) = flags {
                hostile::leb(&mut bytes, flags.len() as u64);
                bytes.extend(flags);
            }
            bytes
        })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

#[test]
fn structured_sync_messages_through_the_real_receive_path_under_a_memory_cap() {
    let mut server = ServerProcess::new(
        "max_websockets_per_session = 1000\nmessage_burst = 100000\nmessages_per_second = 100000",
    )
    .limited(&["--as=2147483648"]);
    let password = server.account("t1", "anna", "counsellor");
    let ben_password = server.account("t1", "ben", "counsellor");
    server.start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = server.addr;
    let login = |login: &str, password: &str| {
        let (status, body) = runtime.block_on(hostile::login_from(HOME, addr, login, password));
        assert_eq!(status, 200, "{body}");
        Login::parse(&body)
    };
    let anna = login("anna", &password);
    // A record anna may write, and her directory, which she may only read.
    let record = runtime.block_on(async {
        let id = hostile::doc_id([0x42; 16]);
        let mut doc = automerge::Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "kind", "client-record")
        })
        .unwrap();
        let (status, _) = hostile::register_record(addr, &anna.token, &id, &doc).await;
        assert_eq!(status, 201);
        let mut raw = Raw::connect(addr, &anna.token, &anna.peer_id)
            .await
            .unwrap();
        assert!(
            raw.sync_doc(
                &id,
                &mut doc,
                &mut automerge::sync::State::new(),
                Duration::from_secs(20)
            )
            .await
        );
        id
    });
    let targets = [record, anna.directory_id.clone()];

    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let refused = std::cell::Cell::new(0usize);
    let taken = std::cell::Cell::new(0usize);
    let server = std::cell::RefCell::new(server);
    let result = runner.run(&(message(), 0usize..2), |(data, target)| {
        let outcome = runtime.block_on(async {
            let mut raw = Raw::connect(addr, &anna.token, &anna.peer_id)
                .await
                .unwrap();
            raw.send(hostile::doc_frame(
                "sync",
                &anna.peer_id,
                &targets[target],
                &data,
            ))
            .await;
            raw.error_within(Duration::from_millis(300)).await
        });
        let counter = if outcome.is_some() { &refused } else { &taken };
        counter.set(counter.get() + 1);
        let mut server = server.borrow_mut();
        prop_assert!(server.alive(), "the server died: {}", server.log());
        Ok(())
    });
    result.unwrap();
    let mut server = server.into_inner();
    eprintln!(
        "fuzz_receive: {} refused, {} taken",
        refused.get(),
        taken.get()
    );

    // Colleagues still sync.
    let ben = login("ben", &ben_password);
    runtime.block_on(async {
        let mut copy = automerge::Automerge::new();
        let mut raw = Raw::connect(addr, &ben.token, &ben.peer_id).await.unwrap();
        assert!(
            raw.sync_doc(
                &targets[0],
                &mut copy,
                &mut automerge::sync::State::new(),
                Duration::from_secs(20)
            )
            .await
        );
    });
    assert!(server.alive());
    assert!(
        server.interrupt(Duration::from_secs(15)),
        "it still stops on SIGINT"
    );
}
