//! Scenario benchmark: a fault campaign. Writers keep adding notes to their own records
//! and to records they share while the server is killed (SIGKILL) and started again,
//! over and over. Every change the server acknowledged (announced heads that contain it,
//! which it does only once they are on disk) must afterwards be on the server (a fresh
//! client fetches everything) and at every client holding the record, and every replica
//! must converge. One JSON line: cycles, notes written, changes acknowledged, lost,
//! converged; the process fails if anything was lost or did not converge.
//!
//! `cargo bench -p sync-server --bench faults` runs 100 cycles; `cargo test` runs 3.
//! `FAULT_CYCLES=N` sets the count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use driver::client::{Client, SentLog};
use driver::servers::{Flavour, ServerProcess, Session};
use driver::{editor, own_and_shared};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(120);

/// Writers: each has its own record, and the first few create the shared ones.
const WRITERS: usize = 6;
const SHARED: usize = 2;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cycles: usize = std::env::var("FAULT_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 100 } else { 3 });
    let work = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::new(Flavour::Ours, work.path()).unwrap();
    server.start().unwrap();
    let sent = Arc::new(SentLog::default());
    let started = Instant::now();

    // Writers, two devices of three people, and their records.
    let logins: Vec<String> = (0..WRITERS).map(|i| format!("w{}", i / 2)).collect();
    let sessions: Vec<Session> = server.sessions(&logins).await.unwrap();
    let clients: Vec<Arc<Client>> = (0..WRITERS)
        .map(|_| Arc::new(Client::new(sent.clone()).tracking_acknowledged()))
        .collect();
    for (i, client) in clients.iter().enumerate() {
        client.connect(&sessions[i].endpoint).await.unwrap();
    }
    let (own, shared) = own_and_shared(&server, &clients, &sessions, &logins, SHARED, 7_000_000)
        .await
        .unwrap();
    // Everyone holds the shared records.
    for client in &clients {
        for id in &shared {
            client.request(id);
        }
    }
    for (i, client) in clients.iter().enumerate() {
        client
            .until_reconnecting(&sessions[i].endpoint, "setup", PATIENCE, |s| {
                shared.iter().all(|id| s.is_confirmed(id)) && s.is_confirmed(&own[i])
            })
            .await
            .unwrap();
    }

    // The writers write all along, connected or not.
    let writing = Arc::new(AtomicBool::new(true));
    let written = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, writing, written) = (client.clone(), writing.clone(), written.clone());
        let targets = [own[i].clone(), shared[i % SHARED].clone()];
        let login = logins[i].clone();
        writers.push(tokio::spawn(async move {
            let mut author = editor(&format!("{login}-{i}"));
            let mut n = 0usize;
            while writing.load(Ordering::Relaxed) {
                let id = &targets[n % targets.len()];
                if client
                    .add_note(id, &mut author, &format!("Notiz {i}/{n}"))
                    .is_ok()
                {
                    written.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        }));
    }

    // Kill and start again, at a varying moment of the writing.
    let mut reconnects = 0usize;
    for cycle in 0..cycles {
        let run = Duration::from_millis(200 + (cycle as u64 * 7_919) % 900);
        let deadline = Instant::now() + run;
        while Instant::now() < deadline {
            for (i, client) in clients.iter().enumerate() {
                if !client.connected() && client.connect(&sessions[i].endpoint).await.is_ok() {
                    reconnects += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            server.signal("-KILL", Duration::from_secs(10)).unwrap(),
            "the server did not die"
        );
        server.start().unwrap();
    }
    writing.store(false, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    // Everyone connects once more and syncs everything it holds.
    for (i, client) in clients.iter().enumerate() {
        if !client.connected() {
            client.connect(&sessions[i].endpoint).await.unwrap();
        }
    }
    let mine = |i: usize| -> Vec<String> {
        let mut ids = shared.clone();
        ids.push(own[i].clone());
        ids
    };
    for (i, client) in clients.iter().enumerate() {
        let docs = mine(i);
        client
            .until_reconnecting(&sessions[i].endpoint, "final sync", PATIENCE, |s| {
                s.unconfirmed() == 0 && docs.iter().all(|id| s.is_confirmed(id))
            })
            .await
            .unwrap();
    }
    // The shared records settle to the same heads everywhere.
    let converge_deadline = Instant::now() + PATIENCE;
    let converged = loop {
        let same = shared.iter().all(|id| {
            let heads: BTreeSet<Vec<_>> = clients
                .iter()
                .map(|c| {
                    let mut h = c.heads(id);
                    h.sort();
                    h
                })
                .collect();
            heads.len() == 1
        });
        if same || Instant::now() > converge_deadline {
            break same;
        }
        for (i, client) in clients.iter().enumerate() {
            if !client.connected() {
                let _ = client.connect(&sessions[i].endpoint).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // What was acknowledged is on the server (a fresh device fetches it) and at every
    // client that holds the record.
    let acknowledged: Vec<(String, automerge::ChangeHash)> = clients
        .iter()
        .flat_map(|c| c.acknowledged_changes())
        .collect();
    let fresh_session = server.session("w9").await.unwrap();
    let fresh = Client::new(sent.clone());
    fresh.connect(&fresh_session.endpoint).await.unwrap();
    let all: Vec<String> = own.iter().chain(shared.iter()).cloned().collect();
    for id in &all {
        fresh.request(id);
    }
    fresh
        .until_reconnecting(&fresh_session.endpoint, "a fresh device", PATIENCE, |s| {
            all.iter().all(|id| s.is_confirmed(id))
        })
        .await
        .unwrap();
    let mut lost = 0usize;
    for (id, hash) in &acknowledged {
        if !fresh.has_change(id, hash) {
            lost += 1;
        }
        for (i, client) in clients.iter().enumerate() {
            if mine(i).contains(id) && !client.has_change(id, hash) {
                lost += 1;
            }
        }
    }
    let line = json!({
        "scenario": "fault_campaign",
        "cycles": cycles,
        "writers": WRITERS,
        "notes_written": written.load(Ordering::Relaxed),
        "acknowledged": acknowledged.len(),
        "lost": lost,
        "converged": converged,
        "reconnects": reconnects,
        "seconds": started.elapsed().as_secs(),
    });
    println!("{line}");
    server.stop().unwrap();
    assert!(
        lost == 0 && converged,
        "acknowledged changes lost or replicas apart: {line}"
    );
}
