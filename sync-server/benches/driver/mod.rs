//! A protocol-level driver for automerge-repo sync servers, shared by the scenario
//! benchmarks `side_by_side` and `load`: clients that speak the protocol themselves
//! ([`client`], [`frame`]), the server processes under test ([`servers`]), and TLS for
//! ours when its cost is measured ([`tls`]).
//!
//! The workload is what staff do most: client records ("Klient:in anlegen") and notes
//! on them ("Notiz hinzufügen"), written through `model` as the desktop client writes
//! them, so that our server does its real work on them (authorization, the guard,
//! settling, directories) while the reference server stores and forwards them.

#![allow(dead_code)] // each benchmark uses part of the driver

pub mod client;
pub mod frame;
pub mod servers;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use model::client_record::{ClientRecord, NewClient};
use model::{Document, Editor, NodeId, TenantId, UserId};

/// Document ids for one scenario: 8 bytes naming the scenario, 8 counting.
#[derive(Debug)]
pub struct Ids {
    tag: u64,
    next: u64,
}

impl Ids {
    pub fn new(tag: u64) -> Self {
        Self { tag, next: 0 }
    }

    pub fn next(&mut self) -> model::DocumentId {
        self.next += 1;
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.tag.to_be_bytes());
        bytes[8..].copy_from_slice(&self.next.to_be_bytes());
        model::DocumentId::from_bytes(bytes)
    }
}

pub fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("bench-{user}")),
        1_000,
    )
}

/// A new client record, as "Klient:in anlegen" writes it.
pub fn record(editor: &mut Editor, id: &model::DocumentId, i: usize) -> Document<ClientRecord> {
    let new = NewClient {
        pseudonym: format!("Bench{i:05}"),
        name: "Muster".into(),
        first_name: "Alex".into(),
        take_up: true,
        ..NewClient::default()
    };
    Document::<ClientRecord>::create_client(editor, id, TenantId::new(servers::TENANT), new)
        .expect("a valid new client")
}

/// `n` new records by `author`, with the ids `ids` gives, as (wire id, record).
pub fn records(
    ids: &mut Ids,
    author: &mut Editor,
    n: usize,
) -> Vec<(String, Document<ClientRecord>)> {
    (0..n)
        .map(|i| {
            let id = ids.next();
            let record = record(author, &id, i);
            (id.to_string(), record)
        })
        .collect()
}

/// The hash of a record's creating change, which its registration names.
pub fn creation(record: &mut Document<ClientRecord>) -> String {
    record
        .automerge()
        .get_changes(&[])
        .iter()
        .find(|change| change.deps().is_empty())
        .map(|change| change.hash().to_string())
        .unwrap_or_default()
}

/// What ours registers of `records`: each id with its creating change.
pub fn registrations(records: &mut [(String, Document<ClientRecord>)]) -> Vec<(String, String)> {
    records
        .iter_mut()
        .map(|(id, record)| (id.clone(), creation(record)))
        .collect()
}

/// Every client's own record, and `groups` shared ones (the first `groups` clients each
/// make one), registered with the server and created at their makers: the own records'
/// ids, then the shared ones'.
pub async fn own_and_shared(
    server: &servers::ServerProcess,
    clients: &[Arc<client::Client>],
    sessions: &[servers::Session],
    logins: &[String],
    groups: usize,
    tag: u64,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut ids = Ids::new(tag);
    let own: Vec<model::DocumentId> = clients.iter().map(|_| ids.next()).collect();
    let shared: Vec<model::DocumentId> = (0..groups).map(|_| ids.next()).collect();
    for (i, client) in clients.iter().enumerate() {
        let mut mine = vec![&own[i]];
        if i < groups {
            mine.push(&shared[i]);
        }
        let mut author = editor(&logins[i]);
        let mut made: Vec<(String, _)> = mine
            .into_iter()
            .enumerate()
            .map(|(k, id)| (id.to_string(), record(&mut author, id, i * 2 + k)))
            .collect();
        server
            .register(&sessions[i], &registrations(&mut made))
            .await?;
        for (id, record) in made {
            client.create(&id, record);
        }
    }
    Ok((
        own.iter().map(ToString::to_string).collect(),
        shared.iter().map(ToString::to_string).collect(),
    ))
}

/// Every client asks for every one of `ids` it lacks, and holds each, confirmed.
pub async fn everywhere(clients: &[Arc<client::Client>], ids: &[String], within: Duration) {
    for client in clients {
        for id in ids {
            client.request(id);
        }
    }
    for client in clients {
        client
            .until("every document at every client", within, |s| {
                ids.iter().all(|id| s.is_confirmed(id))
            })
            .await
            .expect("every document arrives");
    }
}

/// The value at `p` (0 to 1) of sorted durations, nearest rank, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    ms(sorted[rank - 1])
}

pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Rounded for reading: two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
