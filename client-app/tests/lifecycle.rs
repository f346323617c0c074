//! The data lifecycle on a device, against a real server: what the user lost access to
//! leaves the device, even one that was closed meanwhile, and an unsynced edit to it is
//! reported; the colleagues follow the directory; an admin's password reset keeps the
//! laptop's data (the recovery key), and a wrong password leaves the store sealed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use client_app::Workspace;
use client_app::store::{LostReason, Store, StoreError};
use client_app::workspace::{SignInError, store_path};
use common::{PASSWORD, TestServer, api, how, new_client, notes, sign_in, until};
use model::catalogue::Catalogue;
use model::client_record::{ClientRecord, NewClient};
use model::timeline::Timeline;
use sync_server::accounts::Role;

/// What the admin sets when the person forgot their password.
const RESET: &str = "Kx7#mPq2!wZr";

/// Opens the store file beside the running app (SQLite in WAL mode allows it) until
/// `check` holds; fails with `what` after 30 s.
fn until_stored(path: &Path, password: &str, what: &str, check: impl Fn(&Store) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(store) = Store::open(path, password)
            && check(&store)
        {
            return;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The store file and its WAL, as bytes.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(file)) {
            all.extend(bytes);
        }
    }
    all
}

/// What seals the store: its salt, check value and recovery wrap, as stored.
fn sealing(path: &Path) -> Vec<Vec<u8>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    ["salt", "check", "recovery_wrap", "recovery_key"]
        .iter()
        .map(|key| {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .unwrap()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn login(url: &str, who: &str, password: &str) -> model::api::LoginAnswer {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client_app::api::login(&api(url), who, password))
        .unwrap()
}

#[test]
fn lost_access_empties_a_device_that_was_closed_and_reports_its_unsynced_edit() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "chef", Role::Admin);
    let anna_id = server.account("t", "anna", Role::Counsellor);
    let url = server.url();
    let (anna_dir, chef_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let anna_store = store_path(anna_dir.path(), &url, "anna");
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    // Not taken up: a primary caretaker counts as responsible for the timeline.
    let person = anna
        .create_client(
            NewClient {
                take_up: false,
                ..new_client("Sonnenblume")
            },
            None,
            None,
        )
        .unwrap();
    let timeline = anna.timeline_of(&person).unwrap();
    anna.acknowledge_timeline(&timeline, "Vermerk-Wasserturm")
        .unwrap();
    until(&mut anna, "anna's changes confirmed", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });
    until_stored(
        &anna_store,
        PASSWORD,
        "the directory lists the timeline",
        |s| {
            s.listed()
                .ok()
                .flatten()
                .is_some_and(|l| l.contains(&timeline))
        },
    );

    // Offline, Anna edits the timeline once more, and closes the app.
    let addr = server.addr;
    server.stop();
    until(&mut anna, "anna goes offline", |w| !w.status().online);
    anna.acknowledge_timeline(&timeline, "Vermerk-Offline")
        .unwrap();
    assert_eq!(anna.unsynced_changes(), 1);
    anna.shut_down();

    // Meanwhile the tenant restricts timelines to those responsible: Anna is not.
    let server = TestServer::start(server_dir.path(), Some(addr));
    let mut chef = sign_in(chef_dir.path(), &url, "chef");
    chef.add_site("Hauptstelle").unwrap();
    let catalogue = chef.catalogue().docs[0].clone();
    chef.edit::<Catalogue, _>(&catalogue, |d, _| Ok(d.set_restrict_timeline(true)?))
        .unwrap();
    until(&mut chef, "the restriction reached the server", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });

    // Anna's device comes back only once the server decided: an edit it took before
    // would not be lost.
    let (doc_id, anna_id): (model::DocumentId, _) =
        (timeline.parse().unwrap(), model::UserId::new(anna_id));
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.state.registry.access(&doc_id, &anna_id) != sync_server::access::Access::None {
        assert!(
            Instant::now() < deadline,
            "never happened: the restriction holds"
        );
        std::thread::sleep(Duration::from_millis(25));
    }

    // Anna opens the app again: the timeline goes, and her edit is reported as lost.
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    until(&mut anna, "the timeline is forgotten", |w| {
        w.timelines(&person).is_empty() && !w.lost_edits().is_empty()
    });
    // The WAL is truncated right after the documents went (the screens may see them
    // gone a moment before).
    let deadline = Instant::now() + Duration::from_secs(10);
    while contains(&file_bytes(&anna_store), timeline.as_bytes()) {
        assert!(
            Instant::now() < deadline,
            "while the app runs, the file or its WAL keeps the timeline's id"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let lost = anna.lost_edits().to_vec();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0].1.reason, LostReason::AccessRevoked);
    assert_eq!(lost[0].1.kind, "timeline");
    assert_eq!(lost[0].1.pseudonym.as_deref(), Some("Sonnenblume"));
    assert_eq!(lost[0].1.changes, 1);
    let line = client_app::german::lost_edit(&lost[0].1);
    assert!(
        line.contains("Teilnahmeverlauf")
            && line.contains("Sonnenblume")
            && line.contains("Zugriff entzogen"),
        "{line}"
    );
    assert_eq!(anna.unsynced_changes(), 0, "the lost edit no longer waits");
    assert!(anna.member(&person).is_some(), "the record stays readable");
    // The server never got the lost edit.
    assert!(
        !server.heads(&timeline).is_empty(),
        "the server still has the timeline"
    );
    let repo = server.state.repo.clone();
    let id: samod::DocumentId = timeline.parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let saved = runtime.block_on(async move {
        repo.find(id)
            .await
            .unwrap()
            .unwrap()
            .with_document(|am| am.save())
    });
    let acks = format!(
        "{:?}",
        model::Document::<Timeline>::load(&saved)
            .unwrap()
            .read()
            .unwrap()
            .acknowledgements
            .keys()
            .collect::<Vec<_>>()
    );
    assert!(acks.contains("Vermerk-Wasserturm"), "{acks}");
    assert!(
        !acks.contains("Vermerk-Offline"),
        "the lost edit was pushed: {acks}"
    );

    // Dismissed, the report goes and stays gone.
    anna.dismiss_lost_edit(lost[0].0).unwrap();
    assert!(anna.lost_edits().is_empty());
    anna.shut_down();
    chef.shut_down();
    server.stop();

    let store = Store::open(&anna_store, PASSWORD).unwrap();
    assert!(store.document_chunks(&timeline).unwrap().is_empty());
    assert_eq!(store.row(&timeline).unwrap(), None);
    assert!(store.unsynced().unwrap().is_empty());
    assert!(!store.listed().unwrap().unwrap().contains(&timeline));
    assert!(store.lost_edits().unwrap().is_empty());
    assert!(store.row(&person).unwrap().is_some());
    drop(store);
    let bytes = file_bytes(&anna_store);
    assert!(
        !contains(&bytes, timeline.as_bytes()),
        "the timeline's id is still in the store file"
    );
    assert!(contains(&bytes, person.as_bytes()), "the check can see ids");
}

#[test]
fn the_staff_list_follows_the_directory_while_online() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "chef", Role::Admin);
    server.account("t", "anna", Role::Counsellor);
    let url = server.url();
    let anna_dir = tempfile::tempdir().unwrap();
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    until(&mut anna, "online", |w| w.status().online);
    assert!(!anna.profile().staff.iter().any(|s| s.login == "carla"));

    let chef = login(&url, "chef", PASSWORD);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client_app::api::create_account(
            &api(&url),
            &chef.token,
            &model::api::NewAccount {
                login: "carla".into(),
                role: model::api::Role::Counsellor,
                password: Some("Qw8#zLp3!vTn".into()),
                email: None,
            },
        ))
        .unwrap();
    until(&mut anna, "carla is among the colleagues", |w| {
        w.profile().staff.iter().any(|s| s.login == "carla")
    });
    assert!(anna.status().online, "without a new session");
    anna.shut_down();
    server.stop();
}

#[test]
fn password_reset_keeps_the_laptops_data_and_its_unsynced_edit() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "chef", Role::Admin);
    let anna_id = server.account("t", "anna", Role::Counsellor);
    let url = server.url();
    let (laptop, chef_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let anna_store = store_path(laptop.path(), &url, "anna");
    let mut anna = sign_in(laptop.path(), &url, "anna");
    let doc = anna
        .create_client(new_client("Regenbogen"), None, None)
        .unwrap();
    until(&mut anna, "synced", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });
    until_stored(
        &anna_store,
        PASSWORD,
        "the server has the recovery key",
        |s| s.recovery().is_ok_and(|(_, _, stored)| stored),
    );

    // An edit the server has not seen, and the app closed.
    let addr = server.addr;
    server.stop();
    until(&mut anna, "offline", |w| !w.status().online);
    anna.edit::<ClientRecord, _>(&doc, |d, e| Ok(d.add_note(e, "Vor dem Zurücksetzen")?))
        .unwrap();
    // And a new person, whose registration waits in the outbox.
    let late = anna
        .create_client(new_client("Nachzügler"), None, None)
        .unwrap();
    assert_eq!(anna.unsynced_changes(), 2);
    assert_eq!(anna.pending_requests().len(), 1);
    anna.shut_down();

    // Anna forgot her password; an admin sets a new one.
    let server = TestServer::start(server_dir.path(), Some(addr));
    let chef = login(&url, "chef", PASSWORD);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client_app::api::set_account_password(
            &api(&url),
            &chef.token,
            &anna_id,
            RESET,
        ))
        .unwrap();

    // The new password opens the laptop's store: the edit is there, and it syncs.
    let mut anna = Workspace::sign_in(&how(laptop.path(), &url, "anna", RESET)).unwrap();
    assert_eq!(anna.unsynced_changes(), 2);
    assert_eq!(anna.pending_requests().len(), 1, "the outbox is kept");
    assert_eq!(notes(&anna, &doc), ["Vor dem Zurücksetzen"]);
    until(
        &mut anna,
        "the edits and the registration reached the server",
        |w| w.unsynced_changes() == 0 && w.pending_requests().is_empty(),
    );
    let mut chef_app = sign_in(chef_dir.path(), &url, "chef");
    until(
        &mut chef_app,
        "a colleague sees the edit and the new person",
        |w| {
            notes(w, &doc) == ["Vor dem Zurücksetzen"]
                && w.member(&late).is_some_and(|m| m.pseudonym == "Nachzügler")
        },
    );
    anna.shut_down();
    chef_app.shut_down();
    server.stop();

    // From now on the new password opens it offline, and the old one does not.
    assert!(matches!(
        Store::open(&anna_store, PASSWORD),
        Err(StoreError::WrongPassword)
    ));
    let anna = Workspace::sign_in(&how(laptop.path(), &url, "anna", RESET)).unwrap();
    assert_eq!(notes(&anna, &doc), ["Vor dem Zurücksetzen"]);
    anna.shut_down();
}

#[test]
fn password_reset_a_wrong_password_leaves_the_store_sealed() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", Role::Counsellor);
    server.account("t", "ben", Role::Counsellor);
    let url = server.url();
    let laptop = tempfile::tempdir().unwrap();
    let anna_store = store_path(laptop.path(), &url, "anna");
    let mut anna = sign_in(laptop.path(), &url, "anna");
    anna.create_client(new_client("Regenbogen"), None, None)
        .unwrap();
    until(&mut anna, "synced", |w| w.unsynced_changes() == 0);
    until_stored(
        &anna_store,
        PASSWORD,
        "the server has the recovery key",
        |s| s.recovery().is_ok_and(|(_, _, stored)| stored),
    );
    anna.shut_down();
    let before = sealing(&anna_store);

    // The server gives the key to Anna's session only (that it is not on the laptop in
    // clear is the store's unit test).
    let device = Store::recovery_device(&anna_store).unwrap().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let anna_session = login(&url, "anna", PASSWORD);
    let key = runtime
        .block_on(client_app::api::get_recovery(
            &api(&url),
            &anna_session.token,
            &device,
        ))
        .unwrap();
    assert!(client_app::store::RecoveryKey::decode(&key).is_some());
    let ben = login(&url, "ben", PASSWORD);
    let refused = runtime.block_on(client_app::api::get_recovery(
        &api(&url),
        &ben.token,
        &device,
    ));
    assert!(
        matches!(
            refused,
            Err(client_app::api::ApiError::Refused { status: 404, .. })
        ),
        "{refused:?}"
    );

    // A password the server refuses: the store stays sealed, and unchanged.
    assert!(matches!(
        Workspace::sign_in(&how(laptop.path(), &url, "anna", "Falsch#Passwort9")),
        Err(SignInError::WrongPassword)
    ));
    // No server at all: the same.
    server.stop();
    assert!(matches!(
        Workspace::sign_in(&how(laptop.path(), &url, "anna", "Falsch#Passwort9")),
        Err(SignInError::WrongPasswordOffline)
    ));
    assert!(matches!(
        Store::open(&anna_store, "Falsch#Passwort9"),
        Err(StoreError::WrongPassword)
    ));
    assert_eq!(sealing(&anna_store), before, "not re-sealed");
    assert!(Store::open(&anna_store, PASSWORD).is_ok(), "not re-keyed");
}

#[test]
fn purge_empties_the_device_of_the_person_and_reports_an_unsynced_edit() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "chef", Role::Admin);
    server.account("t", "anna", Role::Counsellor);
    let url = server.url();
    let (anna_dir, chef_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let anna_store = store_path(anna_dir.path(), &url, "anna");
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    let person = anna
        .create_client(new_client("Mondschein"), None, None)
        .unwrap();
    let other = anna
        .create_client(new_client("Morgenrot"), None, None)
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let upload = files.path().join("Bericht.txt");
    let content = b"Bericht Mondschein, vertraulich, Stand Dezember";
    std::fs::write(&upload, content).unwrap();
    anna.upload_document(&person, &upload).unwrap();
    let notebook = anna.own_notebook(&person).unwrap();
    let sha256: String = ring::digest::digest(&ring::digest::SHA256, content)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    until(&mut anna, "anna's changes confirmed", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });
    until_stored(&anna_store, PASSWORD, "the directory lists them", |s| {
        s.listed()
            .ok()
            .flatten()
            .is_some_and(|l| [&person, &notebook].iter().all(|d| l.contains(*d)))
    });

    // An admin deletes the record; Anna, offline, writes a note into it, starts the
    // person's timeline (its registration waits in the outbox) and closes.
    let mut chef = sign_in(chef_dir.path(), &url, "chef");
    until(&mut chef, "chef sees the record", |w| {
        w.member(&person).is_some()
    });
    chef.delete_client(&person).unwrap();
    until(&mut chef, "the deletion reached the server", |w| {
        w.pending_requests().is_empty()
    });
    chef.shut_down();
    let addr = server.addr;
    server.stop();
    until(&mut anna, "anna goes offline", |w| !w.status().online);
    anna.edit::<ClientRecord, _>(&person, |d, e| {
        Ok(d.add_note(e, "Nach dem Löschen notiert")?)
    })
    .unwrap();
    let timeline = anna.timeline_of(&person).unwrap();
    assert_eq!(anna.unsynced_changes(), 2);
    assert_eq!(anna.pending_requests().len(), 1);
    anna.shut_down();

    // The deletion interval has passed: the server purges at start.
    let days = i64::try_from(model::catalogue::DEFAULT_DELETION_INTERVAL_DAYS).unwrap() + 2;
    let server = TestServer::start_with(server_dir.path(), Some(addr), |config| {
        config.clock_offset_days = days;
    });
    // Anna's device comes back only after the purge: an edit the server took before
    // it would not be lost, only purged with the rest.
    let record: model::DocumentId = person.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.state.registry.purged_ids().contains(&record) {
        assert!(Instant::now() < deadline, "never happened: the purge");
        std::thread::sleep(Duration::from_millis(25));
    }
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        anna.refresh();
        let gone = anna.member(&person).is_none()
            && anna.timelines(&person).is_empty()
            && anna.documents_of(&person).is_empty();
        // The directory may take the record away one change before it lists it as
        // purged: the report follows.
        let reported = anna
            .lost_edits()
            .iter()
            .any(|(_, l)| l.reason == LostReason::Purged);
        if gone && reported {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never happened: everything of the person forgotten and reported: \
             member {:?}, timelines {}, documents {:?}, lost {:?}",
            anna.member(&person).map(|m| &m.pseudonym),
            anna.timelines(&person).len(),
            anna.documents_of(&person),
            anna.lost_edits(),
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let mut lost: Vec<(String, LostReason, Option<String>)> = anna
        .lost_edits()
        .iter()
        .map(|(_, l)| (l.kind.clone(), l.reason, l.pseudonym.clone()))
        .collect();
    lost.sort_by(|a, b| a.0.cmp(&b.0));
    let mondschein = Some("Mondschein".to_owned());
    assert_eq!(
        lost,
        [
            (
                "client-record".into(),
                LostReason::Purged,
                mondschein.clone()
            ),
            // Its registration refused, listed nowhere: it goes with the person.
            ("timeline".into(), LostReason::Purged, mondschein),
        ]
    );
    assert!(client_app::german::lost_edit(&anna.lost_edits()[0].1).contains("endgültig gelöscht"));
    assert!(anna.member(&other).is_some(), "another person stays");
    assert_eq!(anna.unsynced_changes(), 0);
    anna.shut_down();
    server.stop();

    let store = Store::open(&anna_store, PASSWORD).unwrap();
    for doc in [&person, &timeline, &notebook] {
        assert!(store.document_chunks(doc).unwrap().is_empty());
        assert_eq!(store.row(doc).unwrap(), None);
    }
    assert_eq!(
        store.blob(&sha256).unwrap(),
        None,
        "the uploaded file's content"
    );
    assert!(store.unsynced().unwrap().is_empty());
    assert!(store.requests().unwrap().is_empty());
    assert!(store.row(&other).unwrap().is_some());
    drop(store);
    let bytes = file_bytes(&anna_store);
    for doc in [&person, &timeline, &notebook] {
        assert!(
            !contains(&bytes, doc.as_bytes()),
            "an id is still in the store file"
        );
    }
    assert!(contains(&bytes, other.as_bytes()), "the check can see ids");
}
