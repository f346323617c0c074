//! The screens, clicked and typed into with egui_kittest, against a real server:
//! create a client (and be refused a short pseudonym), add a note, change the
//! Stammberater:in, and write offline: the status line counts the change, and it syncs
//! when the server is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use client_app::ui::App;
use common::{TestServer, sign_in};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use sync_server::accounts::Role as AccountRole;

/// Steps the harness until `label` shows (the sync works in the background).
fn until_shown(harness: &mut Harness<'_, App>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        harness.step();
        if harness.query_by_label_contains(label).is_some() {
            return;
        }
        assert!(Instant::now() < deadline, "never shown: {label}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn create_a_client_add_a_note_change_the_primary_and_write_offline() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", AccountRole::Counsellor);
    server.account("t", "ben", AccountRole::Counsellor);
    let anna_dir = tempfile::tempdir().unwrap();
    let workspace = sign_in(anna_dir.path(), &server.url(), "anna");
    let app = App::working(anna_dir.path().to_owned(), workspace);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    until_shown(&mut harness, "Online");

    // "Klient:in anlegen": too short a pseudonym is refused, a good one is listed.
    harness.get_by_label("+ Klient:in anlegen").click();
    harness.run();
    let pseudonym = "Accountname / Pseudonym (min. 5 Zeichen)*";
    harness.get_by_label(pseudonym).focus();
    harness.get_by_label(pseudonym).type_text("Mia");
    harness.run();
    harness.get_by_label("Speichern").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("mindestens 5 Zeichen")
            .is_some()
    );
    harness.get_by_label(pseudonym).focus();
    harness.get_by_label(pseudonym).type_text(" Sonne");
    harness.run();
    harness.get_by_label("Speichern").click();
    harness.run();
    assert!(
        harness.query_by_label("Klient:in anlegen").is_none(),
        "the form closed"
    );
    harness.get_by_label("Mia Sonne").click();
    harness.run();

    // A note, newest first, in the client window.
    harness.get_by_label("Notizen").click();
    harness.run();
    harness.get_by_label("Neue Notiz").focus();
    harness
        .get_by_label("Neue Notiz")
        .type_text("Erstgespräch am Telefon");
    harness.run();
    harness.get_by_label("Speichern").click();
    harness.run();
    assert!(harness.query_by_label("Erstgespräch am Telefon").is_some());
    until_shown(&mut harness, "Alle Änderungen synchronisiert");

    // Stammberater:in: anna took the person up; she hands over to ben.
    harness.get_by_label("Profil").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::ComboBox, "Stammberater:in")
        .click();
    harness.run();
    harness.get_by_label("ben").click();
    harness.run();
    let doc = harness
        .state_mut()
        .work()
        .unwrap()
        .client
        .as_ref()
        .unwrap()
        .doc
        .clone();
    let primary = {
        let work = harness.state_mut().work().unwrap();
        let row = work
            .workspace
            .member(&doc)
            .unwrap()
            .primary
            .clone()
            .unwrap();
        work.workspace.staff_name(&row)
    };
    assert_eq!(primary, "ben");

    // Offline: the server goes; the next note waits, counted in the status line.
    let addr = server.addr;
    server.stop();
    until_shown(&mut harness, "Offline");
    harness.get_by_label("Notizen").click();
    harness.run();
    harness.get_by_label("Neue Notiz").focus();
    harness
        .get_by_label("Neue Notiz")
        .type_text("Hausbesuch ohne Netz");
    harness.run();
    harness.get_by_label("Speichern").click();
    harness.run();
    assert!(harness.query_by_label("Hausbesuch ohne Netz").is_some());
    assert!(
        harness
            .query_by_label("1 Änderung nicht synchronisiert")
            .is_some()
    );

    let server = TestServer::start(server_dir.path(), Some(addr));
    harness.get_by_label("Jetzt verbinden").click();
    until_shown(&mut harness, "Alle Änderungen synchronisiert");
    assert!(
        harness
            .query_by_label_contains("Letzte Synchronisation:")
            .is_some()
    );
    drop(harness);
    server.stop();
}
