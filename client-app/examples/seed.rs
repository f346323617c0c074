//! A demo data set for screenshots and trying the app: signs in as the given user (an
//! admin) and creates programmes and a site, clients with notes, a group and bookmarks,
//! and a participation timeline (enrolment, stage change, a suspended second programme,
//! working time, vacation), then waits until the server has everything.
//!
//! `cargo run -p client-app --example seed -- SERVER DATA_DIR LOGIN PASSWORD`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use client_app::{SignIn, Workspace};
use model::client_record::{ClientRecord, NewClient};
use model::timeline::{ActionKind, Enrolment, Interruption, ProgrammeType, StageDef};
use model::vacation::{VacationEntry, VacationKind};
use model::{Date, Days, Period};

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
        connection: Default::default(),
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
    timeline(&mut workspace, &docs[0]);
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

fn day(text: &str) -> Date {
    client_app::german::parse_date(text).unwrap()
}

/// Sonnenblume: in a BvB since September (EA, then GS from November), and in an AGH that
/// is suspended; a working-time rule of the tenant and a vacation entitlement.
fn timeline(workspace: &mut Workspace, person: &str) {
    let bvb = workspace
        .add_programme("BvB Köln 2026", ProgrammeType::BvB, StageDef::bvb())
        .unwrap();
    let agh = workspace
        .add_programme("AGH Stadtgrün", ProgrammeType::Agh, Vec::new())
        .unwrap();
    let site = workspace.add_site("Zentrale").unwrap();
    let catalogue = workspace.catalogue();
    let enrol = |programme: &model::ProgrammeId, stage: Option<&str>, entry: &str| {
        ActionKind::Enrol(Enrolment {
            programme: catalogue.programmes[programme].snapshot(programme),
            stage: stage.map(str::to_owned),
            section_name: None,
            site: Some(site.clone()),
            funding_period: Period {
                from: Some(day("01.09.2026")),
                to: Some(day("31.07.2027")),
            },
            planned_period: Period {
                from: Some(day(entry)),
                to: Some(day("31.07.2027")),
            },
            entry_date: Some(day(entry)),
            waiting_list: false,
        })
    };
    let (doc, first) = workspace
        .assist(
            person,
            None,
            None,
            day("01.09.2026"),
            enrol(&bvb, Some("EA"), "01.09.2026"),
        )
        .unwrap();
    workspace
        .assist(
            person,
            Some(&doc),
            Some(&first),
            day("02.11.2026"),
            ActionKind::ChangeStage {
                stage: "GS".into(),
                site: Some(site.clone()),
                planned_end: Some(day("30.04.2027")),
            },
        )
        .unwrap();
    let (_, second) = workspace
        .assist(
            person,
            Some(&doc),
            None,
            day("14.09.2026"),
            enrol(&agh, None, "14.09.2026"),
        )
        .unwrap();
    workspace
        .assist(
            person,
            Some(&doc),
            Some(&second),
            day("30.10.2026"),
            ActionKind::Suspend {
                interruption: Some(Interruption {
                    reason: "Elternzeit".into(),
                    planned: Period {
                        from: Some(day("31.10.2026")),
                        to: Some(day("31.01.2027")),
                    },
                }),
            },
        )
        .unwrap();
    let (created, created_by) = workspace.new_stamp();
    workspace
        .add_vacation(
            &doc,
            VacationEntry {
                kind: VacationKind::Entitlement,
                period: Period {
                    from: Some(day("01.01.2026")),
                    to: Some(day("31.12.2026")),
                },
                days: Days::whole(24),
                reason: "Jahresurlaub".into(),
                entitlement: None,
                created,
                created_by,
            },
        )
        .unwrap();
}
