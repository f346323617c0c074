//! A demo data set for screenshots and trying the app: signs in as the given user and
//! creates clients with notes, a group and bookmarks, then waits until the server has
//! everything.
//!
//! `cargo run -p client-app --example seed -- SERVER DATA_DIR LOGIN PASSWORD`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use client_app::{SignIn, Workspace};
use model::client_record::{ClientRecord, NewClient};

const PEOPLE: [(&str, &str, &str); 12] = [
    ("Sonnenblume", "Berger", "Mia"),
    ("Regenbogen", "Yilmaz", "Deniz"),
    ("Nordlicht", "Schulz", "Jonas"),
    ("Wanderfalke", "Nowak", "Lena"),
    ("Kastanie", "Fischer", "Emil"),
    ("Leuchtturm", "Haddad", "Sami"),
    ("Morgentau", "Wagner", "Clara"),
    ("Seestern", "Kovač", "Ivana"),
    ("Brombeere", "Richter", "Paul"),
    ("Sternschnuppe", "Özdemir", "Elif"),
    ("Feldlerche", "Braun", "Tim"),
    ("Abendrot", "Lange", "Sophie"),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, data_dir, login, password] = &args[..] else {
        eprintln!("usage: seed SERVER DATA_DIR LOGIN PASSWORD");
        std::process::exit(2);
    };
    let mut workspace = Workspace::sign_in(&SignIn {
        data_dir: data_dir.into(),
        server: server.clone(),
        login: login.clone(),
        password: password.clone(),
        iterations: client_app::crypto::ITERATIONS,
    })
    .expect("sign in");
    let mut docs = Vec::new();
    for (i, (pseudonym, name, first_name)) in PEOPLE.iter().enumerate() {
        let doc = workspace
            .create_client(
                NewClient {
                    pseudonym: (*pseudonym).into(),
                    name: (*name).into(),
                    first_name: (*first_name).into(),
                    language: Some(if i % 3 == 0 { "Türkisch" } else { "Deutsch" }.into()),
                    take_up: i % 2 == 0,
                },
                (i % 4 == 0).then(|| format!("{}@example.org", pseudonym.to_lowercase())),
                None,
            )
            .expect("create");
        workspace
            .edit::<ClientRecord, _>(&doc, |d, e| {
                d.add_note(e, "Erstgespräch geführt; Ziele besprochen.")?;
                Ok(())
            })
            .expect("note");
        docs.push(doc);
    }
    workspace
        .edit::<ClientRecord, _>(&docs[0], |d, e| {
            d.add_note(e, "Bewerbungsunterlagen gemeinsam überarbeitet.")?;
            Ok(())
        })
        .unwrap();
    workspace
        .edit::<ClientRecord, _>(&docs[3], |d, e| Ok(d.lock(e, None).map(|_| ())?))
        .unwrap();
    let group = workspace
        .create_group("Bewerbungstraining", "Dienstags, 10:00 Uhr")
        .unwrap();
    for doc in &docs[..4] {
        let id: model::DocumentId = doc.parse().unwrap();
        workspace
            .edit::<model::group::Group, _>(&group, |d, e| Ok(d.add_member(e, &id)?))
            .unwrap();
    }
    workspace.toggle_bookmark(&docs[1]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while workspace.unsynced_changes() > 0 || !workspace.pending_requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the server did not take the demo data in time"
        );
        workspace.refresh();
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("seeded {} clients", docs.len());
    workspace.shut_down();
}
