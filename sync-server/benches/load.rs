//! Load: many authenticated clients at once against one of our servers, on 127.0.0.1.
//!
//! 200 websocket clients (40 counsellor accounts, five devices each, every one logged in
//! with its own session) each create a client record of their own; ten records are shared
//! by groups of twenty. Every client holds every record, as the desktop client does (all
//! staff of a tenant read every record). Then each writes notes at its own pace, in turn
//! on its own record and on its group's, and every note is timed from its writing to its
//! arrival at each of the other 199 clients. At the end every client must hold the same
//! heads of every record, with every note in it.
//!
//! One JSON line: p50/p95/p99 edit-to-arrival, the server's peak memory and CPU seconds
//! (the whole run, and the writing phase alone), and whether every document converged;
//! the process exits non-zero when one did not.
//!
//! `cargo bench -p sync-server --bench load` runs 200 clients; `cargo test` runs 12.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use driver::client::{Client, SentLog};
use driver::servers::{Flavour, ServerProcess};
use driver::{editor, everywhere, ms, own_and_shared, percentile_ms, round2};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(900);

#[derive(Debug, Clone, Copy)]
struct Sizes {
    clients: usize,
    devices_each: usize,
    groups: usize,
    notes_each: usize,
    /// Between two notes of one client.
    interval: Duration,
}

const FULL: Sizes = Sizes {
    clients: 200,
    devices_each: 5,
    groups: 10,
    notes_each: 2,
    interval: Duration::from_secs(20),
};

const SMALL: Sizes = Sizes {
    clients: 12,
    devices_each: 3,
    groups: 3,
    notes_each: 2,
    interval: Duration::from_millis(300),
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes = if std::env::args().any(|a| a == "--bench") {
        FULL
    } else {
        SMALL
    };
    let work = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::new(Flavour::Ours, work.path()).unwrap();
    // Every client runs on this machine, so every connection comes from one address:
    // more than the default cap per address allows before the websockets authenticate.
    server
        .configure("max_connections_per_address = 1000")
        .unwrap();
    server.start().unwrap();
    let sent = Arc::new(SentLog::default());

    // Sign-ins: the accounts first, then every device's login at once.
    let started = Instant::now();
    let logins: Vec<String> = (0..sizes.clients)
        .map(|i| format!("c{:03}", i / sizes.devices_each))
        .collect();
    let sessions = server.sessions(&logins).await.unwrap();
    let signed_in = started.elapsed();
    let mut clients = Vec::new();
    for session in &sessions {
        let client = Arc::new(Client::new(sent.clone()));
        client.connect(&session.endpoint).await.unwrap();
        clients.push(client);
    }

    // Every client's own record, and the groups' shared ones (made by the group's first).
    let (own, shared) = own_and_shared(
        &server,
        &clients,
        &sessions,
        &logins,
        sizes.groups,
        3_000_000,
    )
    .await
    .unwrap();
    let everything: Vec<String> = own.iter().chain(&shared).cloned().collect();
    everywhere(&clients, &everything, PATIENCE).await;
    let set_up = started.elapsed();

    // Writing: each client a note every interval, in turn on its own record and its
    // group's, the clients spread evenly over the interval.
    let before = server.usage().unwrap();
    server.reset_peak().unwrap();
    let writing = Instant::now();
    let writers: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, client)| {
            let client = client.clone();
            let targets = [own[i].clone(), shared[i % sizes.groups].clone()];
            let login = logins[i].clone();
            tokio::spawn(async move {
                let mut author = editor(&format!("{login}-{i}"));
                tokio::time::sleep(sizes.interval * i as u32 / sizes.clients as u32).await;
                let mut tick = tokio::time::interval(sizes.interval);
                for k in 0..sizes.notes_each {
                    tick.tick().await;
                    let text = format!("Notiz {k} von Gerät {i}");
                    client
                        .add_note(&targets[k % 2], &mut author, &text)
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let notes = sizes.clients * sizes.notes_each;
    let each = notes - sizes.notes_each;
    for client in &clients {
        client
            .until("every note at every client", PATIENCE, |s| {
                s.arrivals() >= each
            })
            .await
            .unwrap();
    }
    let written = writing.elapsed();
    let during = server.usage().unwrap();
    for client in &clients {
        client
            .until("every change confirmed", PATIENCE, |s| s.unconfirmed() == 0)
            .await
            .unwrap();
    }

    let mut arrivals = Vec::new();
    for client in &clients {
        arrivals.extend(client.take_arrivals());
    }
    arrivals.sort();
    let converged = everything.iter().all(|id| {
        let heads = clients[0].heads(id);
        clients.iter().all(|client| client.heads(id) == heads)
    });
    let noted: usize = everything
        .iter()
        .map(|id| clients[0].notes(id).unwrap().len())
        .sum();
    let line = json!({
        "scenario": "load",
        "clients": sizes.clients,
        "accounts": sizes.clients.div_ceil(sizes.devices_each),
        "records": everything.len(),
        "notes": notes,
        "notes_per_s": round2(sizes.clients as f64 / sizes.interval.as_secs_f64()),
        "arrivals": arrivals.len(),
        "p50_ms": percentile_ms(&arrivals, 0.5),
        "p95_ms": percentile_ms(&arrivals, 0.95),
        "p99_ms": percentile_ms(&arrivals, 0.99),
        "max_ms": percentile_ms(&arrivals, 1.0),
        "sign_in_ms": ms(signed_in),
        "set_up_ms": ms(set_up),
        "writing_ms": ms(written),
        "server_cpu_s": round2(during.cpu_s),
        "server_cpu_writing_s": round2(during.cpu_s - before.cpu_s),
        "server_peak_rss_mb_set_up": round2(before.peak_rss_mb),
        "server_peak_rss_mb_writing": round2(during.peak_rss_mb),
        "converged": converged && noted == notes && arrivals.len() == sizes.clients * each,
    });
    println!("{line}");
    assert!(
        converged,
        "every client holds the same heads of every record"
    );
    assert_eq!(noted, notes, "every note is in its record");
    assert_eq!(
        arrivals.len(),
        sizes.clients * each,
        "every note arrived once at every other client"
    );
    for client in &clients {
        client.disconnect();
    }
    server.stop().unwrap();
}
