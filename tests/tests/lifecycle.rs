//! End to end, the data lifecycle (issue 15): the real `sync-server` binary and headless
//! clients (the client-app library, no screens).
//!
//! - A person is deleted, the tenant's deletion interval passes (the server restarted a
//!   few days later with `clock_offset_days`), the deletion routine purges them: a device
//!   that was online and one that was closed during the purge both lose every trace, and
//!   so does the server's database.
//! - Access lost while a device was closed: when it opens again its copy is gone, and
//!   the change it had not synced is reported, not pushed.
//!
//! The devices' files are searched for the documents' ids (the stores keep them in
//! clear, as keys), the pseudonym and a note's text (sealed in the stores); the
//! server's for the pseudonym and the note (it keeps purged ids on purpose).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::num::NonZeroU32;
use std::path::Path;

use client_app::Workspace;
use client_app::workspace::SignIn;
use common::{Server, all_synced, until};
use conflict_rules::record::ClientStatus;
use model::client_record::{ClientRecord, NewClient};

fn sign_in(dir: &Path, server: &Server, login: &str, password: &str) -> Workspace {
    Workspace::sign_in(&SignIn {
        data_dir: dir.to_owned(),
        server: server.url(),
        login: login.into(),
        password: password.into(),
        iterations: NonZeroU32::new(1_000).unwrap(),
        connection: Default::default(),
    })
    .unwrap()
}

fn new_client(pseudonym: &str) -> NewClient {
    NewClient {
        pseudonym: pseudonym.into(),
        take_up: false,
        ..NewClient::default()
    }
}

/// Every file under `dir` (the stores with their `-wal` and `-shm`, the server's
/// database) whose bytes contain one of `needles`, with the needle.
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for needle in needles {
                if bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
                {
                    found.push(format!("{} holds {needle}", path.display()));
                }
            }
        }
    }
    found
}

/// The server, restarted `days` days later.
fn restart_later(server: &mut Server, days: u32) {
    server.kill();
    server
        .extra_env
        .push(("SYNC_SERVER_CLOCK_OFFSET_DAYS".into(), days.to_string()));
    server.start();
}

/// Whether this replica still has anything of `docs`: a row, a member, a change.
fn knows_any(w: &Workspace, person: &str, docs: &[&str]) -> bool {
    w.member(person).is_some()
        || !w.documents_of(person).is_empty()
        || !w.timelines(person).is_empty()
        || docs.iter().any(|doc| !w.heads(doc).is_empty())
}

#[test]
fn purge_reaches_an_online_device_and_one_that_was_closed() {
    let server_dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(server_dir.path());
    let ada_password = server.account("ada", "admin");
    let anna_password = server.account("anna", "counsellor");
    server.start();
    let (ada_dir, anna_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let pseudonym = "Eisvogel4711";
    let note = "Notiz-Zaunkoenig-0815";
    let mut ada = sign_in(ada_dir.path(), &server, "ada", &ada_password);
    ada.set_deletion_interval(1).unwrap();
    let person = ada
        .create_client(new_client(pseudonym), None, None)
        .unwrap();
    ada.edit::<ClientRecord, _>(&person, |d, e| Ok(d.add_note(e, note)?))
        .unwrap();
    let timeline = ada.timeline_of(&person).unwrap();
    let notebook = ada.own_notebook(&person).unwrap();
    until(&mut ada, "ada's person reached the server", all_synced);
    let docs = [person.as_str(), timeline.as_str(), notebook.as_str()];

    // Anna's laptop learns of the person, then is closed for the rest of the story.
    let mut anna = sign_in(anna_dir.path(), &server, "anna", &anna_password);
    until(&mut anna, "anna has the person and the timeline", |w| {
        w.member(&person).is_some() && !w.heads(&timeline).is_empty()
    });
    anna.shut_down();

    ada.delete_client(&person).unwrap();
    until(&mut ada, "the deletion reached the server", |w| {
        all_synced(w)
            && w.record(&person)
                .is_ok_and(|(_, view, _)| matches!(view.status, ClientStatus::Deleted { .. }))
    });
    // The interval is one day: two days later the routine purges at start.
    restart_later(&mut server, 2);
    until(&mut ada, "ada's device forgot the purged person", |w| {
        !knows_any(w, &person, &docs)
    });
    ada.shut_down();

    let mut anna = sign_in(anna_dir.path(), &server, "anna", &anna_password);
    until(
        &mut anna,
        "anna's device, closed during the purge, forgot",
        |w| !knows_any(w, &person, &docs),
    );
    assert!(
        anna.lost_edits().is_empty(),
        "anna had changed nothing, so nothing is reported lost"
    );
    anna.shut_down();
    server.kill();

    let needles = [
        person.as_str(),
        timeline.as_str(),
        notebook.as_str(),
        pseudonym,
        note,
    ];
    for (who, dir) in [
        ("ada's device", ada_dir.path()),
        ("anna's device", anna_dir.path()),
    ] {
        let found = files_containing(dir, &needles);
        assert!(found.is_empty(), "{who} keeps traces: {found:#?}");
    }
    // The server keeps the purged ids (random, naming nobody) so that directories can
    // tell devices that were away, and so that nobody registers them again; nothing
    // else.
    let found = files_containing(server_dir.path(), &[pseudonym, note]);
    assert!(found.is_empty(), "the server keeps traces: {found:#?}");
}

#[test]
fn lost_access_while_closed_empties_the_device_and_reports_the_unsynced_change() {
    let server_dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(server_dir.path());
    let ada_password = server.account("ada", "admin");
    let anna_password = server.account("anna", "counsellor");
    server.start();
    let (ada_dir, anna_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let mut ada = sign_in(ada_dir.path(), &server, "ada", &ada_password);
    let person = ada
        .create_client(new_client("Kranich2202"), None, None)
        .unwrap();
    let timeline = ada.timeline_of(&person).unwrap();
    until(&mut ada, "ada's person reached the server", all_synced);

    let mut anna = sign_in(anna_dir.path(), &server, "anna", &anna_password);
    until(&mut anna, "anna has the timeline", |w| {
        !w.heads(&timeline).is_empty()
    });
    // Offline, anna changes the timeline, and closes the laptop with it unsynced.
    server.kill();
    until(&mut anna, "anna is offline", |w| !w.status().online);
    anna.acknowledge_timeline(&timeline, "notice-read-offline")
        .unwrap();
    assert!(anna.unsynced_changes() > 0);
    let anna_heads = anna.heads(&timeline);
    anna.shut_down();

    // Meanwhile the tenant restricts timelines to those responsible: anna is not.
    server.start();
    until(&mut ada, "ada is back online", |w| w.status().online);
    ada.set_timeline_restriction(true).unwrap();
    until(&mut ada, "the restriction reached the server", all_synced);

    let mut anna = sign_in(anna_dir.path(), &server, "anna", &anna_password);
    until(&mut anna, "anna's device dropped the timeline", |w| {
        w.heads(&timeline).is_empty() && w.timelines(&person).is_empty()
    });
    until(&mut anna, "the lost change is reported", |w| {
        !w.lost_edits().is_empty()
    });
    let lost = &anna.lost_edits()[0].1;
    assert_eq!(lost.kind, model::DocKind::Timeline.as_str());
    assert!(lost.changes > 0);
    assert_eq!(anna.unsynced_changes(), 0, "nothing left to push");
    // The record is still hers to read: only the timeline went.
    assert!(anna.member(&person).is_some());

    // The change never reached the server: ada's copy has none of anna's heads.
    let ada_heads = ada.heads(&timeline);
    assert!(
        anna_heads.iter().all(|head| !ada_heads.contains(head)),
        "anna's offline change was pushed after she lost access"
    );
    anna.shut_down();
    ada.shut_down();
    server.kill();
    let found = files_containing(anna_dir.path(), &[timeline.as_str()]);
    assert!(found.is_empty(), "anna's device keeps traces: {found:#?}");
}
