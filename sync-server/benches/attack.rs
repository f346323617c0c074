//! Scenario benchmark: hostile clients against the real server binary, one attack at a
//! time on a fresh server, measuring what the server holds while and after it is
//! attacked (resident memory, its peak, open file descriptors) and whether everybody
//! else is still served (`/healthz`, a colleague's edit arriving, a login, a stop on
//! SIGINT). One JSON line per attack; nothing is asserted, so that the same binary can
//! measure an older build (`BENCH_SERVER_BIN=path/to/sync-server`) for before-and-after
//! figures. The regression tests that assert the answers are in `tests/hostile.rs`.
//!
//! The server runs under `prlimit`: at most 4 GiB of address space (an attack that makes
//! it allocate more ends it, instead of the machine), and 4,096 file descriptors.
//!
//! `cargo bench -p sync-server --bench attack` runs every attack at full size;
//! `ATTACK=bloom_probes,idle_tcp` picks some; `cargo test` runs two of them small.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;
#[path = "../tests/common/hostile.rs"]
mod hostile;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync;
use driver::servers::{Flavour, ServerProcess};
use hostile::{Login, Raw};
use serde_json::{Value, json};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const MEMORY_CAP: &str = "--as=4294967296";
const DESCRIPTORS: &str = "--nofile=4096";
const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy)]
struct Sizes {
    full: bool,
}

impl Sizes {
    fn pick(&self, full: usize, small: usize) -> usize {
        if self.full { full } else { small }
    }
}

type Attack = fn(&mut Target, Sizes) -> futures::future::BoxFuture<'_, anyhow::Result<Value>>;

const ATTACKS: &[(&str, Attack)] = &[
    ("bloom_probes", |t, s| Box::pin(bloom_probes(t, s))),
    ("bloom_zero_bits", |t, s| Box::pin(bloom_zero_bits(t, s))),
    ("forged_root_change", |t, s| {
        Box::pin(forged_root_change(t, s))
    }),
    ("idle_tcp", |t, s| Box::pin(idle_tcp(t, s))),
    ("half_sent_requests", |t, s| Box::pin(half_sent(t, s))),
    ("login_names", |t, s| Box::pin(login_names(t, s, 1_000_000))),
    ("login_names_60k", |t, s| {
        Box::pin(login_names(t, s, 60_000))
    }),
    ("unknown_ids", |t, s| Box::pin(unknown_ids(t, s))),
    ("big_heads", |t, s| Box::pin(big_heads(t, s))),
    ("blob_bodies", |t, s| Box::pin(blob_bodies(t, s))),
    ("lockout", |t, s| Box::pin(lockout(t, s))),
    ("concurrent_wrong", |t, s| Box::pin(concurrent_wrong(t, s))),
    ("rotating_addresses", |t, s| {
        Box::pin(rotating_addresses(t, s))
    }),
    ("old_password", |t, s| Box::pin(old_password(t, s))),
    ("websockets_per_session", |t, s| {
        Box::pin(websockets_per_session(t, s))
    }),
];

/// A fresh server with a counsellor, and what the attacks measure it by.
struct Target {
    server: ServerProcess,
    _work: tempfile::TempDir,
}

impl Target {
    async fn new(config: &str) -> anyhow::Result<Self> {
        let work = tempfile::tempdir()?;
        let mut server = ServerProcess::new(Flavour::Ours, work.path())?;
        server.wrap(&["prlimit", MEMORY_CAP, DESCRIPTORS, "--"]);
        if !config.is_empty() {
            server.configure(config)?;
        }
        server.start()?;
        server.account("anna", "counsellor").await?;
        server.account("ben", "counsellor").await?;
        Ok(Self {
            server,
            _work: work,
        })
    }

    async fn login(&self, login: &str) -> anyhow::Result<Login> {
        let password = format!("Bench-{login}-9TGCJ##qk0");
        let (status, body) =
            hostile::login_from(LOOPBACK, self.server.addr(), login, &password).await;
        anyhow::ensure!(status == 200, "login of {login}: {status} {body}");
        Ok(Login::parse(&body))
    }

    /// Resident memory now, its peak, and open descriptors; zeros once it has exited.
    fn resources(&self) -> (f64, f64, usize) {
        self.server.resources().unwrap_or((0.0, 0.0, 0))
    }

    /// Whether `/healthz` answers someone else (from another address than the
    /// attacker's, which may be capped).
    async fn healthy(&self) -> bool {
        let elsewhere = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            hostile::http_from(elsewhere, self.server.addr(), "GET", "/healthz", None, ""),
        )
        .await;
        matches!(answer, Ok((200, _)))
    }

    /// Whether a colleague's new record still reaches another colleague.
    async fn others_served(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(30), self.colleagues_sync())
            .await
            .unwrap_or(false)
    }

    async fn colleagues_sync(&self) -> bool {
        let (Ok(anna), Ok(ben)) = (self.login("anna").await, self.login("ben").await) else {
            return false;
        };
        let id = hostile::doc_id(rand_bytes());
        let mut record = new_record(&id);
        let (status, _) =
            hostile::register_record(self.server.addr(), &anna.token, &id, &record).await;
        if status != 201 {
            return false;
        }
        let Ok(mut a) = Raw::connect(self.server.addr(), &anna.token, &anna.peer_id).await else {
            return false;
        };
        if !a
            .sync_doc(&id, &mut record, &mut sync::State::new(), WAIT)
            .await
        {
            return false;
        }
        let Ok(mut b) = Raw::connect(self.server.addr(), &ben.token, &ben.peer_id).await else {
            return false;
        };
        let mut copy = Automerge::new();
        b.sync_doc(&id, &mut copy, &mut sync::State::new(), WAIT)
            .await
            && copy.get_heads() == record.get_heads()
    }

    fn alive(&mut self) -> bool {
        self.server.exited().is_none()
    }

    fn exit(&mut self) -> Value {
        match self.server.exited() {
            Some(status) => json!(status.to_string()),
            None => Value::Null,
        }
    }
}

fn rand_bytes() -> [u8; 16] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&nanos.to_le_bytes());
    bytes
}

fn new_record(id: &str) -> Automerge {
    let id: model::DocumentId = id.parse().unwrap();
    let mut author = driver::editor("anna");
    driver::record(&mut author, &id, 1).into_automerge()
}

fn mb(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// A sync message for the attacker's own directory, then how the server fares.
async fn directory_message(target: &mut Target, data: Vec<u8>) -> anyhow::Result<Value> {
    let anna = target.login("anna").await?;
    let before = target.resources();
    let mut raw = Raw::connect(target.server.addr(), &anna.token, &anna.peer_id)
        .await
        .map_err(anyhow::Error::msg)?;
    raw.send(hostile::doc_frame(
        "sync",
        &anna.peer_id,
        &anna.directory_id,
        &data,
    ))
    .await;
    let answer = raw.error_within(Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = target.resources();
    let others = target.alive() && target.others_served().await;
    let healthz = target.alive() && target.healthy().await;
    let stopped = target.alive()
        && target
            .server
            .signal("-INT", Duration::from_secs(15))
            .unwrap_or(false);
    Ok(json!({
        "refused_with": answer,
        "server_exit": target.exit(),
        "rss_before_mb": mb(before.0),
        "rss_after_mb": mb(during.0),
        "peak_mb": mb(during.1),
        "others_served": others,
        "healthz": healthz,
        "stops_on_sigint": stopped,
    }))
}

async fn bloom_probes(target: &mut Target, _: Sizes) -> anyhow::Result<Value> {
    let data = hostile::with_bloom(hostile::bloom(1, 10, u64::from(u32::MAX), 2));
    directory_message(target, data).await
}

async fn bloom_zero_bits(target: &mut Target, _: Sizes) -> anyhow::Result<Value> {
    let data = hostile::with_bloom(hostile::bloom(1, 0, 7, 0));
    directory_message(target, data).await
}

async fn big_heads(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    // 30 MB of heads, the most one message may carry by default being 32 MiB.
    let count = sizes.pick(30_000_000 / 32, 10_000);
    let heads = hostile::made_up_hashes(count);
    let data = hostile::sync_message(&heads, &[], &[], &[]);
    let mut figures = directory_message(target, data).await?;
    figures["heads"] = json!(count);
    Ok(figures)
}

/// A counsellor undoes an admin's deletion with a change of no dependencies.
async fn forged_root_change(target: &mut Target, _: Sizes) -> anyhow::Result<Value> {
    let anna = target.login("anna").await?;
    let id = hostile::doc_id(rand_bytes());
    let mut record = new_record(&id);
    let addr = target.server.addr();
    let (status, _) = hostile::register_record(addr, &anna.token, &id, &record).await;
    anyhow::ensure!(status == 201, "registration: {status}");
    let mut raw = Raw::connect(addr, &anna.token, &anna.peer_id)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut state = sync::State::new();
    anyhow::ensure!(raw.sync_doc(&id, &mut record, &mut state, WAIT).await);
    let admin = target.server.admin().await?;
    let (status, _) = hostile::http_from(
        LOOPBACK,
        addr,
        "POST",
        &format!("/api/clients/{id}/delete"),
        Some(&admin),
        "",
    )
    .await;
    anyhow::ensure!(status == 200, "delete: {status}");
    // Anna's copy takes the server's deletion, then she adds the forged change.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = raw.sync_doc(&id, &mut record, &mut state, WAIT).await;
    let forged = hostile::forged_root_change(&["deletion_events", "account"], 200);
    record.apply_changes([forged])?;
    let sent = raw.sync_doc(&id, &mut record, &mut state, WAIT).await;
    let refused = raw.error_within(Duration::from_secs(2)).await;
    let (deleted, loads) = fresh_read(target, &id).await;
    Ok(json!({
        "forged_change_taken": sent,
        "refused_with": refused,
        "fresh_device_sees_deleted": deleted,
        "record_loads": loads,
    }))
}

/// Whether a fresh device of a colleague's sees `id` deleted, and whether the record loads.
async fn fresh_read(target: &Target, id: &str) -> (Option<bool>, bool) {
    let Ok(ben) = target.login("ben").await else {
        return (None, false);
    };
    let Ok(mut raw) = Raw::connect(target.server.addr(), &ben.token, &ben.peer_id).await else {
        return (None, false);
    };
    let mut copy = Automerge::new();
    if !raw
        .sync_doc(id, &mut copy, &mut sync::State::new(), WAIT)
        .await
    {
        return (None, false);
    }
    let Ok(typed) = model::Document::<model::client_record::ClientRecord>::load(&copy.save())
    else {
        return (None, false);
    };
    match typed.read() {
        Ok(record) => {
            let (view, _) = conflict_rules::record::fold_record(&record);
            (
                Some(matches!(
                    view.status,
                    conflict_rules::record::ClientStatus::Deleted { .. }
                )),
                true,
            )
        }
        Err(_) => (None, false),
    }
}

/// Idle TCP connections from one address, more than the server has descriptors.
async fn idle_tcp(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let count = sizes.pick(6_000, 300);
    let addr = target.server.addr();
    let mut held = Vec::new();
    let started = Instant::now();
    for _ in 0..count {
        match tokio::time::timeout(
            Duration::from_secs(2),
            hostile::connect_from(LOOPBACK, addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = target.resources();
    let healthz_during = target.healthy().await;
    tokio::time::sleep(Duration::from_secs(sizes.pick(40, 3) as u64)).await;
    let later = target.resources();
    let healthz_later = target.healthy().await;
    let still_open = count_open(&mut held).await;
    Ok(json!({
        "opened": held.len(),
        "open_ms": started.elapsed().as_millis() as u64,
        "server_fds_during": during.2,
        "healthz_during": healthz_during,
        "server_fds_40s_later": later.2,
        "still_open_40s_later": still_open,
        "healthz_later": healthz_later,
    }))
}

/// How many of `streams` the server has not closed (a read that would block).
async fn count_open(streams: &mut [tokio::net::TcpStream]) -> usize {
    let mut open = 0;
    for stream in streams {
        let mut byte = [0u8; 1];
        match stream.try_read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            _ => {}
        }
    }
    open
}

/// Requests whose header never ends.
async fn half_sent(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    use tokio::io::AsyncWriteExt as _;
    let count = sizes.pick(2_000, 100);
    let addr = target.server.addr();
    let mut held = Vec::new();
    for _ in 0..count {
        if let Ok(mut stream) = hostile::connect_from(LOOPBACK, addr).await {
            let _ = stream
                .write_all(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
                .await;
            held.push(stream);
        }
    }
    let wait = sizes.pick(70, 3) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let later = target.resources();
    Ok(json!({
        "sent": held.len(),
        "seconds": wait,
        "still_open": count_open(&mut held).await,
        "server_fds": later.2,
        "healthz": target.healthy().await,
    }))
}

/// Failed logins with long made-up names (`length` bytes), each from another address.
async fn login_names(target: &mut Target, sizes: Sizes, length: usize) -> anyhow::Result<Value> {
    let count = sizes.pick(1_000, 20);
    let addr = target.server.addr();
    let before = target.resources();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    let filler = "x".repeat(length);
    for i in 0..count {
        let source = IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8));
        let (status, _) =
            hostile::login_from(source, addr, &format!("{i}{filler}"), "Falsch-9TGCJ##").await;
        *answers.entry(status).or_default() += 1;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = target.resources();
    Ok(json!({
        "attempts": count,
        "name_bytes": length,
        "answers": answers,
        "rss_before_mb": mb(before.0),
        "rss_after_mb": mb(after.0),
        "kept_mb": mb(after.0 - before.0),
    }))
}

/// One connection asks for many documents that do not exist.
async fn unknown_ids(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let count = sizes.pick(57_000, 500);
    let anna = target.login("anna").await?;
    let before = target.resources();
    let mut raw = Raw::connect(target.server.addr(), &anna.token, &anna.peer_id)
        .await
        .map_err(anyhow::Error::msg)?;
    let request = hostile::empty_request();
    let started = Instant::now();
    let mut sent = 0;
    let mut answered = 0;
    let mut ended = None;
    for i in 0..count as u64 {
        let mut id = [0x77u8; 16];
        id[..8].copy_from_slice(&i.to_le_bytes());
        let frame = hostile::doc_frame("request", &anna.peer_id, &hostile::doc_id(id), &request);
        if !raw.send(frame).await {
            break;
        }
        sent += 1;
        // Stay within the message rate a connection is allowed (2,000 a second).
        if sent % 1_000 == 0 {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        while let Some(frame) = raw.next_within(Duration::from_millis(0)).await {
            match frame {
                hostile::Frame::Doc { kind, .. } if kind == "doc-unavailable" => answered += 1,
                hostile::Frame::Error(message) => ended = Some(message),
                hostile::Frame::Closed => break,
                _ => {}
            }
        }
        if ended.is_some() {
            break;
        }
    }
    let elapsed = started.elapsed();
    drop(raw);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = target.resources();
    tokio::time::sleep(Duration::from_secs(sizes.pick(60, 1) as u64)).await;
    let later = target.resources();
    Ok(json!({
        "asked": sent,
        "answered_unavailable": answered,
        "ended_with": ended,
        "ask_ms": elapsed.as_millis() as u64,
        "rss_before_mb": mb(before.0),
        "rss_after_mb": mb(after.0),
        "rss_a_minute_later_mb": mb(later.0),
        "others_served": target.others_served().await,
    }))
}

/// Uploads of the largest allowed size without any token.
async fn blob_bodies(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let count = sizes.pick(40, 2);
    let body = vec![b'a'; 25 * 1024 * 1024];
    target.server.reset_peak()?;
    let before = target.resources();
    let addr = target.server.addr();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move {
                let mut stream = hostile::connect_from(LOOPBACK, addr).await.ok()?;
                let head = format!(
                    "PUT /api/blobs/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                     Content-Length: {}\r\n\r\n",
                    "0".repeat(64),
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.ok()?;
                let _ = stream.write_all(&body).await;
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer).await;
                String::from_utf8_lossy(&answer)
                    .get(9..12)
                    .and_then(|s| s.parse::<u16>().ok())
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for task in tasks {
        let status = task.await?.map_or("none".to_owned(), |s| s.to_string());
        *answers.entry(status).or_default() += 1;
    }
    let after = target.resources();
    Ok(json!({
        "uploads": count,
        "answers": answers,
        "rss_before_mb": mb(before.0),
        "peak_mb": mb(after.1),
    }))
}

/// Five wrong passwords from elsewhere, then the person from their own address; twenty
/// wrong ones from a colleague's address, then that colleague.
async fn lockout(target: &mut Target, _: Sizes) -> anyhow::Result<Value> {
    let addr = target.server.addr();
    let attacker = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 66));
    let office = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 77));
    for _ in 0..5 {
        hostile::login_from(attacker, addr, "anna", "Falsch-9TGCJ##qk0").await;
    }
    let (anna_after, _) =
        hostile::login_from(LOOPBACK, addr, "anna", "Bench-anna-9TGCJ##qk0").await;
    for i in 0..20 {
        hostile::login_from(office, addr, &format!("nobody{i}"), "Falsch-9TGCJ##qk0").await;
    }
    let (ben_at_office, _) = hostile::login_from(office, addr, "ben", "Bench-ben-9TGCJ##qk0").await;
    Ok(json!({
        "own_address_after_5_elsewhere": anna_after,
        "colleague_after_20_from_same_address": ben_at_office,
    }))
}

/// Many wrong passwords for one account at once, from one address.
async fn concurrent_wrong(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let count = sizes.pick(200, 20);
    let addr = target.server.addr();
    let attempts: Vec<_> = (0..count)
        .map(|i| {
            tokio::spawn(async move {
                hostile::login_from(LOOPBACK, addr, "anna", &format!("Falsch-{i}-9TGCJ##"))
                    .await
                    .0
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for attempt in attempts {
        *answers.entry(attempt.await?).or_default() += 1;
    }
    Ok(json!({ "attempts": count, "answers": answers }))
}

/// Wrong passwords for one account, each from another address, 32 at a time, for a
/// while.
async fn rotating_addresses(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let seconds = sizes.pick(60, 3) as u64;
    let addr = target.server.addr();
    let started = Instant::now();
    let workers: Vec<_> = (0..32u8)
        .map(|w| {
            tokio::spawn(async move {
                let mut answers = std::collections::BTreeMap::<u16, usize>::new();
                let mut i = 0u32;
                while started.elapsed() < Duration::from_secs(seconds) {
                    i += 1;
                    let source = IpAddr::V4(Ipv4Addr::new(
                        127,
                        2 + w,
                        (i / 250) as u8,
                        (i % 250) as u8 + 1,
                    ));
                    let (status, _) =
                        hostile::login_from(source, addr, "anna", &format!("Falsch-{i}-9TGCJ##"))
                            .await;
                    *answers.entry(status).or_default() += 1;
                }
                answers
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for worker in workers {
        for (status, n) in worker.await? {
            *answers.entry(status).or_default() += n;
        }
    }
    let evaluated = answers.get(&401).copied().unwrap_or(0);
    Ok(json!({
        "seconds": seconds,
        "answers": answers,
        "evaluated_per_minute": (evaluated as f64 * 60.0 / seconds as f64).round(),
    }))
}

/// Wrong old passwords at `POST /api/password`.
async fn old_password(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let count = sizes.pick(60, 6);
    let anna = target.login("anna").await?;
    let addr = target.server.addr();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..count {
        let body = json!({ "old": format!("Falsch-{i}-9TGCJ##"), "new": "Neu-9TGCJ##qk0-lang" });
        let (status, _) = hostile::http_from(
            LOOPBACK,
            addr,
            "POST",
            "/api/password",
            Some(&anna.token),
            &body.to_string(),
        )
        .await;
        *answers.entry(status).or_default() += 1;
    }
    Ok(json!({ "attempts": count, "answers": answers }))
}

/// Websockets on one session token.
async fn websockets_per_session(target: &mut Target, sizes: Sizes) -> anyhow::Result<Value> {
    let count = sizes.pick(300, 20);
    let anna = target.login("anna").await?;
    let mut open = Vec::new();
    for _ in 0..count {
        match Raw::connect(target.server.addr(), &anna.token, &anna.peer_id).await {
            Ok(raw) => open.push(raw),
            Err(_) => continue,
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut still = 0;
    for raw in &mut open {
        if !raw.closed_within(Duration::from_millis(50)).await {
            still += 1;
        }
    }
    Ok(json!({ "tried": count, "upgraded": open.len(), "still_open": still }))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = Sizes { full };
    let chosen: Option<Vec<String>> = std::env::var("ATTACK")
        .ok()
        .map(|list| list.split(',').map(str::to_owned).collect());
    for (name, attack) in ATTACKS {
        let wanted = match &chosen {
            Some(list) => list.iter().any(|n| n == name),
            None => full || matches!(*name, "bloom_zero_bits" | "unknown_ids"),
        };
        if !wanted {
            continue;
        }
        let mut target = match Target::new("").await {
            Ok(target) => target,
            Err(e) => {
                println!("{}", json!({ "attack": name, "error": e.to_string() }));
                continue;
            }
        };
        let started = Instant::now();
        let mut line = match attack(&mut target, sizes).await {
            Ok(figures) => figures,
            Err(e) => json!({ "error": e.to_string() }),
        };
        line["attack"] = json!(name);
        line["seconds"] = json!(started.elapsed().as_secs());
        println!("{line}");
        let _ = target.server.stop();
    }
}
