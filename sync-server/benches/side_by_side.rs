//! Scenario benchmark: our sync server side by side with the reference, the JavaScript
//! automerge-repo 2.x (`tests/js/reference-server.mjs`: its websocket server adapter and
//! file-system storage), with the same workload over the same protocol, one server
//! after the other in one run. Each server is its own process on 127.0.0.1.
//!
//! Scenarios (client records, notes on them; see `driver`):
//! - `upload`: a client uploads N new records over one connection, until the server has
//!   confirmed every one (ours: after registering each, and its confirmation means on
//!   disk; both figures are given);
//! - `fetch`: a fresh client asks for all N and has them;
//! - `restart`: the server is stopped and started on its data, and the first client
//!   syncs its N records with it (everything already there: heads only);
//! - `latency`: C connections hold the same 5 records and each writes a note every
//!   C × 20 ms (50 notes a second in all); the time from a note to its arrival at each
//!   other connection;
//! - `offline_burst`: a client writes 10 notes on each of 100 records offline, then
//!   reconnects; until the server confirmed all, and until a second client has all.
//!
//! Each JSON line holds one scenario: both servers' figures (time, server CPU seconds
//! and peak resident memory while it ran) and their ratios (ours / reference; below 1
//! means ours needed less).
//!
//! What TLS costs: `upload_tls`, `fetch_tls` and `restart_tls` run ours again with
//! `tls_cert` and `tls_key` (HTTPS and WSS, rustls with ring, a CA made for the run) and
//! give its figures beside the plain run's (`wss`, `ws`, and wss / ws). `BENCH_TLS=0`
//! leaves them out; `BENCH_REFERENCE=0` runs only them (no Node.js needed).
//!
//! `cargo bench -p sync-server --bench side_by_side` runs N = 1,000 and 10,000,
//! C = 10 and 50; `cargo test` runs every scenario once small, to prove it still works.
//! Needs Node.js and `npm ci` in tests/js (scripts/test does it). For a part of it:
//! `BENCH_N=1000` (a comma-separated list of N), `BENCH_C=50` (of C), `BENCH_BURST=0`.
//! `BENCH_KEEP=1` keeps the servers' data and logs (their directory is printed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use driver::client::{Client, SentLog};
use driver::servers::{Flavour, ServerProcess, Usage};
use driver::{Ids, editor, everywhere, ms, percentile_ms, records, registrations, round2};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(600);

/// Documents a client offers at a time in `upload`, `fetch` and `restart`. Without a
/// window (as automerge-repo clients offer everything at once) the reference server,
/// single-threaded, falls behind on 10,000 documents: it ends the connection when a
/// heartbeat's answer waits too long in its queue, and then stops with an unhandled
/// timeout. `BENCH_WINDOW=0` offers everything at once.
const WINDOW: usize = 256;

#[derive(Debug, Clone, Copy)]
struct Sizes {
    uploads: &'static [usize],
    connections: &'static [usize],
    notes_each: usize,
    burst_records: usize,
    burst_notes: usize,
}

const FULL: Sizes = Sizes {
    uploads: &[1_000, 10_000],
    connections: &[10, 50],
    notes_each: 20,
    burst_records: 100,
    burst_notes: 10,
};

const SMALL: Sizes = Sizes {
    uploads: &[40],
    connections: &[3],
    notes_each: 3,
    burst_records: 5,
    burst_notes: 2,
};

/// One server's figures for one scenario.
#[derive(Debug, Default)]
struct Figures {
    fields: serde_json::Map<String, Value>,
}

impl Figures {
    fn time(&mut self, name: &str, took: Duration) {
        self.fields.insert(name.into(), json!(ms(took)));
    }

    fn value(&mut self, name: &str, value: Value) {
        self.fields.insert(name.into(), value);
    }

    fn usage(&mut self, before: Usage, after: Usage) {
        self.value("cpu_s", json!(round2(after.cpu_s - before.cpu_s)));
        self.value("peak_rss_mb", json!(round2(after.peak_rss_mb)));
    }
}

/// Prints a scenario's line: both servers' figures, and the ratio of every time, CPU
/// time and memory figure (ours / reference).
fn report(scenario: &str, params: Value, ours: &Figures, reference: &Figures) {
    report_as(scenario, params, ("ours", ours), ("reference", reference));
}

/// A line of two runs named `a` and `b`, with the ratios a / b.
fn report_as(scenario: &str, params: Value, a: (&str, &Figures), b: (&str, &Figures)) {
    let mut ratio = serde_json::Map::new();
    let measure = |name: &str| name.ends_with("ms") || name == "cpu_s" || name == "peak_rss_mb";
    for (name, value) in a.1.fields.iter().filter(|(name, _)| measure(name)) {
        if let (Some(x), Some(y)) = (value.as_f64(), b.1.fields.get(name).and_then(Value::as_f64))
            && y > 0.0
        {
            ratio.insert(name.clone(), json!(round2(x / y)));
        }
    }
    let line = json!({
        "scenario": scenario,
        "params": params,
        a.0: a.1.fields,
        b.0: b.1.fields,
        "ratio": ratio,
    });
    println!("{line}");
}

/// One server's figures, on stderr, as soon as they are measured.
fn progress(scenario: &str, server: &str, figures: &[Figures]) {
    for f in figures {
        eprintln!(
            "{scenario} {server}: {}",
            serde_json::Value::Object(f.fields.clone())
        );
    }
}

/// `upload`, `fetch` and `restart` of N records on one server; over HTTPS and WSS when
/// `tls` (ours only).
async fn documents(
    flavour: Flavour,
    n: usize,
    window: usize,
    dir: &std::path::Path,
    tls: bool,
) -> [Figures; 3] {
    let mut server = ServerProcess::new(flavour, dir).unwrap();
    if tls {
        server.with_tls().unwrap();
    }
    server.start().unwrap();
    let sent = Arc::new(SentLog::default());
    let mut records = records(&mut Ids::new(n as u64), &mut editor("anna"), n);
    let names: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
    let registrations = registrations(&mut records);

    // upload
    let mut upload = Figures::default();
    let session = server.session("anna").await.unwrap();
    let before = server.usage().unwrap();
    let started = Instant::now();
    server.register(&session, &registrations).await.unwrap();
    if flavour == Flavour::Ours {
        upload.time("register_ms", started.elapsed());
    }
    let uploader = Client::new(sent.clone()).windowed(window);
    uploader.connect(&session.endpoint).await.unwrap();
    for (id, record) in records {
        uploader.create(&id, record);
    }
    let reconnects = uploader
        .until_reconnecting(&session.endpoint, "upload", PATIENCE, |s| {
            s.unconfirmed() == 0
        })
        .await
        .unwrap();
    upload.time("ms", started.elapsed());
    upload.value("reconnects", json!(reconnects));
    upload.usage(before, server.usage().unwrap());

    // fetch, by a fresh client
    let mut fetch = Figures::default();
    server.reset_peak().unwrap();
    let session = server.session("ben").await.unwrap();
    let before = server.usage().unwrap();
    let started = Instant::now();
    let fetcher = Client::new(sent.clone()).windowed(window);
    fetcher.connect(&session.endpoint).await.unwrap();
    for id in &names {
        fetcher.request(id);
    }
    let reconnects = fetcher
        .until_reconnecting(&session.endpoint, "fetch", PATIENCE, |s| {
            names.iter().all(|id| s.is_confirmed(id))
        })
        .await
        .unwrap();
    fetch.time("ms", started.elapsed());
    fetch.value("reconnects", json!(reconnects));
    fetch.usage(before, server.usage().unwrap());
    for id in names.iter().step_by((n / 20).max(1)) {
        assert_eq!(fetcher.heads(id), uploader.heads(id), "{id} arrived whole");
    }
    fetcher.disconnect();

    // restart, then the uploader's first sync
    let mut restart = Figures::default();
    uploader.disconnect();
    server.stop().unwrap();
    let started_in = server.start().unwrap();
    restart.time("start_ms", started_in);
    let session = server.session("anna").await.unwrap();
    let started = Instant::now();
    uploader.connect(&session.endpoint).await.unwrap();
    let reconnects = uploader
        .until_reconnecting(
            &session.endpoint,
            "first sync after the restart",
            PATIENCE,
            |s| s.unconfirmed() == 0,
        )
        .await
        .unwrap();
    restart.time("ms", started.elapsed());
    restart.value("reconnects", json!(reconnects));
    restart.usage(Usage::default(), server.usage().unwrap());
    uploader.disconnect();
    server.stop().unwrap();
    [upload, fetch, restart]
}

/// C connections on the same 5 records, a note each every C × 20 ms.
async fn latency(flavour: Flavour, c: usize, notes_each: usize, dir: &std::path::Path) -> Figures {
    let mut server = ServerProcess::new(flavour, dir).unwrap();
    server.start().unwrap();
    let sent = Arc::new(SentLog::default());
    let mut shared = records(&mut Ids::new(1_000_000 + c as u64), &mut editor("u0"), 5);
    let names: Vec<String> = shared.iter().map(|(id, _)| id.clone()).collect();
    let registered = registrations(&mut shared);

    let mut clients = Vec::new();
    for i in 0..c {
        let session = server.session(&format!("u{i}")).await.unwrap();
        let client = Arc::new(Client::new(sent.clone()));
        client.connect(&session.endpoint).await.unwrap();
        if i == 0 {
            server.register(&session, &registered).await.unwrap();
        }
        clients.push(client);
    }
    for (id, record) in shared {
        clients[0].create(&id, record);
    }
    clients[0]
        .until("the shared records uploaded", PATIENCE, |s| {
            s.unconfirmed() == 0
        })
        .await
        .unwrap();
    everywhere(&clients, &names, PATIENCE).await;

    let before = server.usage().unwrap();
    server.reset_peak().unwrap();
    let interval = Duration::from_millis(20 * c as u64);
    let started = Instant::now();
    let writers: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, client)| {
            let client = client.clone();
            let names = names.clone();
            tokio::spawn(async move {
                let mut editor = editor(&format!("u{i}"));
                // Spread the writers evenly over one interval.
                tokio::time::sleep(interval * i as u32 / c as u32).await;
                let mut tick = tokio::time::interval(interval);
                for k in 0..notes_each {
                    tick.tick().await;
                    let id = &names[(i + k) % names.len()];
                    client
                        .add_note(id, &mut editor, &format!("Notiz {k} von u{i}"))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let expected = c * notes_each * (c - 1);
    let mut arrived = 0;
    for client in &clients {
        let all = expected / c;
        client
            .until("every note everywhere", PATIENCE, |s| s.arrivals() >= all)
            .await
            .unwrap();
    }
    let took = started.elapsed();
    let mut arrivals = Vec::with_capacity(expected);
    for client in &clients {
        arrivals.extend(client.take_arrivals());
        arrived = arrivals.len();
    }
    arrivals.sort();
    // Converged: every connection holds the same notes on every record.
    let converged = names.iter().all(|id| {
        let first = clients[0].notes(id).unwrap();
        clients
            .iter()
            .all(|client| client.notes(id).unwrap() == first)
    });
    let mut figures = Figures::default();
    figures.value("p50_ms", json!(percentile_ms(&arrivals, 0.5)));
    figures.value("p95_ms", json!(percentile_ms(&arrivals, 0.95)));
    figures.value("p99_ms", json!(percentile_ms(&arrivals, 0.99)));
    figures.value("arrivals", json!(arrived));
    figures.time("ms", took);
    figures.usage(before, server.usage().unwrap());
    figures.value("converged", json!(converged && arrived == expected));
    assert!(converged, "every connection holds the same notes");
    assert_eq!(
        arrived, expected,
        "every note arrived once at every other connection"
    );
    for client in &clients {
        client.disconnect();
    }
    server.stop().unwrap();
    figures
}

/// 10 notes on each of 100 records written offline, then one reconnection.
async fn offline_burst(flavour: Flavour, sizes: Sizes, dir: &std::path::Path) -> Figures {
    let mut server = ServerProcess::new(flavour, dir).unwrap();
    server.start().unwrap();
    let sent = Arc::new(SentLog::default());
    let mut anna = editor("anna");
    let mut records = records(&mut Ids::new(2_000_000), &mut anna, sizes.burst_records);
    let names: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
    let session = server.session("anna").await.unwrap();
    server
        .register(&session, &registrations(&mut records))
        .await
        .unwrap();
    let laptop = Client::new(sent.clone());
    laptop.connect(&session.endpoint).await.unwrap();
    for (id, record) in records {
        laptop.create(&id, record);
    }
    laptop
        .until("uploaded", PATIENCE, |s| s.unconfirmed() == 0)
        .await
        .unwrap();
    let office = Client::new(sent.clone());
    office
        .connect(&server.session("ben").await.unwrap().endpoint)
        .await
        .unwrap();
    for id in &names {
        office.request(id);
    }
    office
        .until("fetched", PATIENCE, |s| {
            names.iter().all(|id| s.is_confirmed(id))
        })
        .await
        .unwrap();

    laptop.disconnect();
    for k in 0..sizes.burst_notes {
        for id in &names {
            laptop
                .add_note(id, &mut anna, &format!("Unterwegs {k}"))
                .unwrap();
        }
    }
    let notes = sizes.burst_records * sizes.burst_notes;
    server.reset_peak().unwrap();
    let before = server.usage().unwrap();
    let session = server.session("anna").await.unwrap();
    let started = Instant::now();
    laptop.connect(&session.endpoint).await.unwrap();
    laptop
        .until("the burst confirmed", PATIENCE, |s| s.unconfirmed() == 0)
        .await
        .unwrap();
    let confirmed = started.elapsed();
    office
        .until("the burst at a colleague", PATIENCE, |s| {
            s.arrivals() >= notes
        })
        .await
        .unwrap();
    let arrived = started.elapsed();
    let mut figures = Figures::default();
    figures.time("confirmed_ms", confirmed);
    figures.time("arrived_ms", arrived);
    figures.usage(before, server.usage().unwrap());
    for id in &names {
        assert_eq!(office.heads(id), laptop.heads(id), "{id} converged");
    }
    laptop.disconnect();
    office.disconnect();
    server.stop().unwrap();
    figures
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes = if std::env::args().any(|a| a == "--bench") {
        FULL
    } else {
        SMALL
    };
    let with_reference = std::env::var("BENCH_REFERENCE").map_or(true, |r| r != "0");
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js");
    assert!(
        !with_reference
            || js
                .join("node_modules/@automerge/automerge-repo-storage-nodefs")
                .is_dir(),
        "the reference server is not installed: run `npm ci` in tests/js (scripts/test does)"
    );
    let list = |name: &str, default: &[usize]| -> Vec<usize> {
        match std::env::var(name) {
            Ok(list) if list.trim().is_empty() => Vec::new(),
            Ok(list) => list.split(',').map(|n| n.trim().parse().unwrap()).collect(),
            Err(_) => default.to_vec(),
        }
    };
    let uploads = list("BENCH_N", sizes.uploads);
    let connections = list("BENCH_C", sizes.connections);
    let burst = std::env::var("BENCH_BURST").map_or(true, |b| b != "0");
    let tls = std::env::var("BENCH_TLS").map_or(true, |b| b != "0");
    let window = list("BENCH_WINDOW", &[WINDOW])[0];
    let kept = std::env::var_os("BENCH_KEEP").map(|_| {
        let kept = tempfile::tempdir().unwrap().keep();
        eprintln!("the servers' data and logs: {}", kept.display());
        kept
    });
    let work = tempfile::tempdir().unwrap();
    let dir = |name: String| kept.as_deref().unwrap_or(work.path()).join(name);

    for n in uploads {
        let ours = documents(
            Flavour::Ours,
            n,
            window,
            &dir(format!("documents-{n}-ours")),
            false,
        )
        .await;
        progress("documents", "ours", &ours);
        if tls {
            let wss = documents(
                Flavour::Ours,
                n,
                window,
                &dir(format!("documents-{n}-ours-tls")),
                true,
            )
            .await;
            progress("documents", "ours over TLS", &wss);
            for (scenario, (wss, ws)) in ["upload_tls", "fetch_tls", "restart_tls"]
                .into_iter()
                .zip(wss.iter().zip(ours.iter()))
            {
                report_as(
                    scenario,
                    json!({ "n": n, "window": window }),
                    ("wss", wss),
                    ("ws", ws),
                );
            }
        }
        if !with_reference {
            continue;
        }
        let reference = documents(
            Flavour::Reference,
            n,
            window,
            &dir(format!("documents-{n}-reference")),
            false,
        )
        .await;
        for (scenario, (ours, reference)) in ["upload", "fetch", "restart"]
            .into_iter()
            .zip(ours.iter().zip(reference.iter()))
        {
            report(
                scenario,
                json!({ "n": n, "window": window }),
                ours,
                reference,
            );
        }
    }
    if !with_reference {
        return;
    }
    for c in connections {
        let ours = latency(
            Flavour::Ours,
            c,
            sizes.notes_each,
            &dir(format!("latency-{c}-ours")),
        )
        .await;
        let reference = latency(
            Flavour::Reference,
            c,
            sizes.notes_each,
            &dir(format!("latency-{c}-reference")),
        )
        .await;
        report(
            "latency",
            json!({ "connections": c, "notes_each": sizes.notes_each, "notes_per_s": 50 }),
            &ours,
            &reference,
        );
    }
    if !burst {
        return;
    }
    let ours = offline_burst(Flavour::Ours, sizes, &dir("burst-ours".into())).await;
    let reference = offline_burst(Flavour::Reference, sizes, &dir("burst-reference".into())).await;
    report(
        "offline_burst",
        json!({ "records": sizes.burst_records, "notes_each": sizes.burst_notes }),
        &ours,
        &reference,
    );
}
