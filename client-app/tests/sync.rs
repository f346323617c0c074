//! The sync engine against a real server: edits travel both ways, an edit made offline
//! waits as unsynced and goes when the server is back, and a second start works
//! without any network.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use client_app::Workspace;
use client_app::workspace::{MemberQuery, SignInError};
use common::{TestServer, how, new_client, notes, sign_in, until};
use model::client_record::ClientRecord;
use sync_server::accounts::Role;

#[test]
fn edits_travel_both_ways_and_offline_edits_wait_until_the_server_is_back() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", Role::Counsellor);
    let ben_id = server.account("t", "ben", Role::Counsellor);
    let (anna_dir, ben_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut anna = sign_in(anna_dir.path(), &server.url(), "anna");
    let mut ben = sign_in(ben_dir.path(), &server.url(), "ben");

    let doc = anna
        .create_client(new_client("Sonnenblume"), None, None)
        .unwrap();
    anna.edit::<ClientRecord, _>(&doc, |d, e| Ok(d.add_note(e, "Erstgespräch geführt")?))
        .unwrap();
    assert!(anna.unsynced_changes() >= 2);
    until(&mut anna, "anna's changes confirmed", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });
    until(&mut ben, "ben sees the new client", |w| {
        w.members(&MemberQuery::default()).len() == 1
    });
    until(&mut ben, "ben sees the note", |w| {
        notes(w, &doc) == ["Erstgespräch geführt"]
    });
    assert_eq!(
        ben.member(&doc).unwrap().primary.as_deref(),
        Some(anna.me())
    );

    // The server goes away; Ben writes on, and his change waits.
    let addr = server.addr;
    server.stop();
    until(&mut ben, "ben goes offline", |w| !w.status().online);
    ben.edit::<ClientRecord, _>(&doc, |d, e| Ok(d.add_note(e, "Offline notiert")?))
        .unwrap();
    assert_eq!(ben.unsynced_changes(), 1);
    assert_eq!(
        notes(&ben, &doc)[0],
        "Offline notiert",
        "newest first, at once"
    );

    // Back: the change arrives at Anna, and Ben's count goes to zero.
    let server = TestServer::start(server_dir.path(), Some(addr));
    ben.reconnect();
    anna.reconnect();
    until(&mut ben, "ben's offline change confirmed", |w| {
        w.unsynced_changes() == 0
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while notes(&anna, &doc).len() != 2 {
        anna.refresh();
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: anna sees ben's offline note; anna {:?} {:?}, ben {:?}, server {:?} {:?}",
            anna.status(),
            anna.heads(&doc),
            ben.heads(&doc),
            server.heads(&doc),
            server.metrics(),
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(ben.profile().last_sync_ms.is_some());
    let _ = ben_id;
    anna.shut_down();
    ben.shut_down();
    server.stop();
}

#[test]
fn the_second_start_works_offline_and_refuses_a_wrong_password() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", Role::Admin);
    let anna_dir = tempfile::tempdir().unwrap();
    let url = server.url();

    // No server, no store yet: the first login needs the server.
    let nowhere = "http://127.0.0.1:9";
    assert!(matches!(
        Workspace::sign_in(&how(anna_dir.path(), nowhere, "anna", common::PASSWORD)),
        Err(SignInError::FirstLoginNeedsServer)
    ));
    assert!(matches!(
        Workspace::sign_in(&how(anna_dir.path(), &url, "anna", "Falsch#123")),
        Err(SignInError::WrongPassword)
    ));

    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    let doc = anna
        .create_client(new_client("Regenbogen"), None, None)
        .unwrap();
    until(&mut anna, "synced", |w| w.unsynced_changes() == 0);
    anna.shut_down();
    server.stop();

    // Offline: the store opens with the password, and refuses another (it might be a
    // reset password, which the server would have to confirm).
    assert!(matches!(
        Workspace::sign_in(&how(anna_dir.path(), &url, "anna", "Falsch#123")),
        Err(SignInError::WrongPasswordOffline)
    ));
    let mut anna = sign_in(anna_dir.path(), &url, "anna");
    assert!(!anna.status().online);
    assert_eq!(
        anna.members(&MemberQuery::default())[0].1.pseudonym,
        "Regenbogen"
    );
    anna.edit::<ClientRecord, _>(&doc, |d, e| Ok(d.add_note(e, "Ohne Netz")?))
        .unwrap();
    assert_eq!(anna.unsynced_changes(), 1);
    anna.shut_down();
}

#[test]
fn a_document_reaches_its_uploaders_other_device_and_nobody_else() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", Role::Counsellor);
    server.account("t", "ben", Role::Counsellor);
    let (laptop, desktop) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut anna = sign_in(laptop.path(), &server.url(), "anna");
    let doc = anna
        .create_client(new_client("Sonnenblume"), None, None)
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let cv = files.path().join("Lebenslauf.txt");
    std::fs::write(&cv, "Lebenslauf von Mia, Stand November").unwrap();
    anna.upload_document(&doc, &cv).unwrap();
    until(
        &mut anna,
        "the upload and the notebook reached the server",
        |w| w.unsynced_changes() == 0 && w.pending_requests().is_empty(),
    );

    // Anna's second device has the notebook, not the content: it asks the server.
    let mut desktop_anna = sign_in(desktop.path(), &server.url(), "anna");
    until(&mut desktop_anna, "the notebook arrives", |w| {
        w.documents_of(&doc)
            .iter()
            .any(|(_, row)| matches!(row, client_app::rows::Row::Notebook { .. }))
    });
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        desktop_anna.download_documents(&doc, out.path()).unwrap(),
        1
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("Lebenslauf.txt")).unwrap(),
        "Lebenslauf von Mia, Stand November"
    );
    assert_eq!(
        desktop_anna.download_documents(&doc, out.path()).unwrap(),
        1
    );
    assert!(
        out.path().join("Lebenslauf (2).txt").exists(),
        "a second download does not overwrite the first"
    );

    // Ben is staff of the same tenant but did not upload it: the server does not give it.
    let sha: String =
        ring::digest::digest(&ring::digest::SHA256, b"Lebenslauf von Mia, Stand November")
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ben = runtime
        .block_on(client_app::api::login(
            &common::api(&server.url()),
            "ben",
            common::PASSWORD,
        ))
        .unwrap();
    let refused = runtime.block_on(client_app::api::get_blob(
        &common::api(&server.url()),
        &ben.token,
        &sha,
    ));
    assert!(
        matches!(
            refused,
            Err(client_app::api::ApiError::Refused { status: 404, .. })
        ),
        "{refused:?}"
    );
    let wrong = runtime.block_on(client_app::api::put_blob(
        &common::api(&server.url()),
        &ben.token,
        &sha,
        b"something else".to_vec(),
    ));
    assert!(
        matches!(
            wrong,
            Err(client_app::api::ApiError::Refused { status: 422, .. })
        ),
        "content that does not match its address is refused: {wrong:?}"
    );
    anna.shut_down();
    desktop_anna.shut_down();
    server.stop();
}
