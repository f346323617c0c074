//! Scenario benchmark: the member list with many client records in the local store.
//!
//! A store is filled with N real client records (documents and their derived rows), then
//! measured, R times each, medians printed as one JSON line:
//! - `open_ms`: signing in offline (the key derivation with the production PBKDF2 rounds,
//!   the rows read and opened) until the first frame of the member list is drawn;
//! - `filter_ms`: the member list filtered by a search string (no cache);
//! - `frame_ms`: one frame of the list view (the window as it stands, virtualised rows);
//! - `documents_ms`: for comparison, what the list would cost if it loaded every
//!   document instead of its row.
//!
//! `cargo bench -p client-app --bench member_list` runs N = 10,000, R = 5; `cargo test`
//! runs it once with N = 300, R = 1, to prove it still works.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use client_app::store::{Profile, StaffMember, Store};
use client_app::ui::App;
use client_app::workspace::{MemberQuery, store_path};
use client_app::{SignIn, Workspace};
use egui_kittest::Harness;
use model::client_record::{ClientRecord, NewClient};
use model::{Document, DocumentId, Editor, NodeId, TenantId, UserId};

const SERVER: &str = "http://127.0.0.1:9";
const PASSWORD: &str = "9TGCJ##qk0";

const SYLLABLES: [&str; 16] = [
    "son", "ne", "wind", "stern", "berg", "see", "mo", "ra", "lin", "da", "fal", "ke", "nord",
    "licht", "ro", "sa",
];

fn pseudonym(i: usize) -> String {
    let mut name = String::new();
    let mut n = i;
    for _ in 0..3 {
        name.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    let mut chars = name.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{}{i}", chars.as_str())
}

/// A store with `n` client records of counsellor `anna`, half taken up by her.
fn fill(dir: &std::path::Path, n: usize) {
    let profile = Profile {
        server: SERVER.into(),
        login: "anna".into(),
        account_id: "anna-id".into(),
        tenant: "t".into(),
        role: model::api::Role::Counsellor,
        directory_id: "none".into(),
        device: "00112233445566778899aabbccddeeff".into(),
        session: None,
        staff: vec![StaffMember {
            id: "anna-id".into(),
            login: "anna".into(),
            role: model::api::Role::Counsellor,
        }],
        last_sync_ms: None,
        staff_changed_ms: None,
        connection: Default::default(),
    };
    let store = Store::create(
        &store_path(dir, SERVER, "anna"),
        PASSWORD,
        &profile,
        client_app::crypto::ITERATIONS,
    )
    .unwrap();
    let mut editor = Editor::with_system_clock(UserId::new("anna-id"), NodeId::new("bench"));
    for i in 0..n {
        let id = DocumentId::from_bytes(client_app::crypto::random().unwrap());
        let mut doc = Document::<ClientRecord>::create_client(
            &mut editor,
            &id,
            TenantId::new("t"),
            NewClient {
                pseudonym: pseudonym(i),
                name: format!("Name{i}"),
                first_name: "Vorname".into(),
                language: Some("Deutsch".into()),
                take_up: i % 2 == 0,
            },
        )
        .unwrap();
        let record = doc.read().unwrap();
        let row = client_app::rows::Row::Member(client_app::rows::member(&record));
        store
            .put_chunk(&format!("{id}/snapshot/seed"), &doc.save())
            .unwrap();
        store
            .put_row(
                &id.to_string(),
                "client-record",
                &serde_json::to_vec(&row).unwrap(),
            )
            .unwrap();
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, runs) = if full { (10_000, 5) } else { (300, 1) };
    let dir = tempfile::tempdir().unwrap();
    let seeding = Instant::now();
    fill(dir.path(), n);
    let seed_ms = ms(seeding);
    let how = SignIn {
        data_dir: dir.path().to_owned(),
        server: SERVER.into(),
        login: "anna".into(),
        password: PASSWORD.into(),
        iterations: client_app::crypto::ITERATIONS,
        connection: Default::default(),
    };

    let (mut open, mut filter, mut frame, mut documents) = (vec![], vec![], vec![], vec![]);
    let mut listed = 0;
    let mut matched = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let workspace = Workspace::sign_in(&how).unwrap();
        let app = App::working(dir.path().to_owned(), workspace);
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .build_ui_state(|ui, app: &mut App| app.show(ui), app);
        harness.step();
        open.push(ms(started));

        for _ in 0..30 {
            let started = Instant::now();
            harness.step();
            frame.push(ms(started));
        }

        let workspace = &harness.state_mut().work().unwrap().workspace;
        listed = workspace.members(&MemberQuery::default()).len();
        let query = MemberQuery {
            search: "stern".into(),
            ..MemberQuery::default()
        };
        let started = Instant::now();
        matched = workspace.members(&query).len();
        filter.push(ms(started));

        let docs: Vec<String> = workspace
            .members(&MemberQuery::default())
            .into_iter()
            .map(|(doc, _)| doc.to_owned())
            .collect();
        let started = Instant::now();
        for doc in &docs {
            let _: ClientRecord = workspace.read(doc).unwrap();
        }
        documents.push(ms(started));
        drop(harness);
    }
    assert_eq!(listed, n, "every record is listed");
    assert!(matched > 0 && matched < n, "the search narrows the list");
    println!(
        "{{\"bench\":\"member_list\",\"records\":{n},\"runs\":{runs},\"seed_ms\":{seed_ms:.0},\
         \"open_ms\":{:.1},\"filter_ms\":{:.2},\"frame_ms\":{:.2},\"documents_ms\":{:.1},\
         \"matched\":{matched}}}",
        median(open),
        median(filter),
        median(frame),
        median(documents),
    );
}
