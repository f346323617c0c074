//! The admin's and the own account's screens, clicked through with egui_kittest against
//! a real server: "Berater:innen-Accounts" (create with an invitation or a password,
//! sperren, entsperren, Passwort vergeben, Einladung erneut senden, löschen after the red
//! button), the deletion interval under "Aufträge", deleting a document, a
//! participation, a client and a group only after the red button, and "Eigenen Account löschen" (refused for the last admin; for a
//! counsellor the app signs out and the device forgets the profile).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use client_app::ui::App;
use common::TestServer;
use common::kit::patient::{add_client, choose, click, replace_in, settle, type_into};
use common::kit::{self, open_client, until_shown};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use sync_server::accounts::Role as AccountRole;

/// The app of `login`, signed in against `server`, once it shows "Online".
fn signed_in(
    data_dir: &std::path::Path,
    server: &TestServer,
    login: &str,
) -> Harness<'static, App> {
    kit::signed_in(data_dir, server, login, egui::vec2(1280.0, 900.0))
}

/// Whether `login` may sign in on the server with `password`.
fn logs_in(server: &TestServer, login: &str, password: &str) -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client_app::api::login(
            &common::api(&server.url()),
            login,
            password,
        ))
        .is_ok()
}

/// Waits until the server wrote an e-mail to `to` into its pickup directory; fails with
/// `what` after 30 s.
fn until_mailed(server_dir: &std::path::Path, to: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mails(server_dir)
        .iter()
        .any(|m| m.contains(&format!("To: {to}")))
    {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The e-mails the server wrote into its pickup directory.
fn mails(server_dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(server_dir.join("outbox"))
        .map(|dir| {
            dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_admin_creates_locks_unlocks_and_deletes_staff_accounts() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "ada", AccountRole::Admin);
    let ada_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ada_dir.path(), &server, "ada");

    click(&mut harness, "Berater:innen-Accounts");
    until_shown(&mut harness, "1 Account");
    click(&mut harness, "ada (Sie)");
    assert!(
        harness
            .query_by_label_contains("Das ist Ihr eigener Account")
            .is_some()
    );
    assert!(
        harness.query_by_label("Sperren").is_none(),
        "nothing to lock or delete on one's own account"
    );

    // With an invitation: the server mails a link to the address.
    click(&mut harness, "+ Account anlegen");
    type_into(&mut harness, "Accountname*", "ben");
    click(&mut harness, "Anlegen");
    assert!(harness.query_by_label("Bitte die Rolle wählen").is_some());
    choose(&mut harness, "Rolle*", "Berater:in");
    type_into(&mut harness, "E-Mail-Adresse", "ben");
    click(&mut harness, "Anlegen");
    assert!(
        harness
            .query_by_label("Bitte eine gültige E-Mail-Adresse angeben")
            .is_some()
    );
    type_into(&mut harness, "E-Mail-Adresse", "@example.org");
    click(&mut harness, "Anlegen");
    until_shown(&mut harness, "Account „ben“ angelegt");
    until_shown(&mut harness, "2 Accounts");
    until_mailed(
        server_dir.path(),
        "ben@example.org",
        "no invitation e-mail for ben",
    );

    // The same login again: the server refuses it, in German.
    click(&mut harness, "+ Account anlegen");
    type_into(&mut harness, "Accountname*", "ben");
    choose(&mut harness, "Rolle*", "Berater:in");
    type_into(&mut harness, "E-Mail-Adresse", "ben2@example.org");
    click(&mut harness, "Anlegen");
    until_shown(&mut harness, "Dieser Accountname ist bereits vergeben");
    click(&mut harness, "Abbrechen");

    // With a password given once: the manual's rule is checked before anything is sent.
    click(&mut harness, "+ Account anlegen");
    type_into(&mut harness, "Accountname*", "cleo");
    choose(&mut harness, "Rolle*", "Admin");
    click(&mut harness, "Passwort vergeben");
    type_into(&mut harness, "Passwort", "kurz");
    type_into(&mut harness, "Passwort wiederholen", "kurz");
    click(&mut harness, "Anlegen");
    assert!(
        harness
            .query_by_label("Das Passwort braucht mindestens 8 Zeichen")
            .is_some()
    );
    // Typing appends: both fields now hold "kurzWolke#Kranich26".
    type_into(&mut harness, "Passwort", "Wolke#Kranich26");
    type_into(&mut harness, "Passwort wiederholen", "Wolke#Kranich26");
    click(&mut harness, "Anlegen");
    until_shown(&mut harness, "Account „cleo“ angelegt");
    until_shown(&mut harness, "3 Accounts");
    assert!(logs_in(&server, "cleo", "kurzWolke#Kranich26"));

    // Sperren and entsperren: a locked account cannot sign in.
    click(&mut harness, "cleo");
    click(&mut harness, "Sperren");
    until_shown(&mut harness, "Account „cleo“ gesperrt.");
    until_shown(
        &mut harness,
        "Gesperrt: der Account kann sich nicht anmelden.",
    );
    assert!(!logs_in(&server, "cleo", "kurzWolke#Kranich26"));
    click(&mut harness, "Entsperren");
    until_shown(&mut harness, "Account „cleo“ entsperrt.");
    assert!(logs_in(&server, "cleo", "kurzWolke#Kranich26"));

    // Löschen asks first: "Abbrechen" keeps the account, the red button deletes it.
    click(&mut harness, "Account löschen");
    assert!(
        harness
            .query_by_label_contains("Der Account „cleo“ wird gelöscht")
            .is_some()
    );
    click(&mut harness, "Abbrechen");
    assert!(
        harness
            .query_by_label_contains("Der Account „cleo“ wird gelöscht")
            .is_none()
    );
    harness.run_steps(5);
    assert!(logs_in(&server, "cleo", "kurzWolke#Kranich26"), "kept");
    click(&mut harness, "Account löschen");
    click(&mut harness, "Endgültig löschen");
    until_shown(&mut harness, "Account „cleo“ gelöscht.");
    until_shown(&mut harness, "Der Account ist gelöscht.");
    assert!(!logs_in(&server, "cleo", "kurzWolke#Kranich26"));

    // Ben: a new invitation, then a password set by the admin.
    click(&mut harness, "ben");
    click(&mut harness, "Einladung erneut senden");
    type_into(&mut harness, "E-Mail-Adresse", "ben.neu@example.org");
    click(&mut harness, "Einladung senden");
    until_shown(&mut harness, "Einladung an „ben“ versandt.");
    until_mailed(
        server_dir.path(),
        "ben.neu@example.org",
        "no second invitation for ben",
    );
    click(&mut harness, "Passwort vergeben");
    type_into(&mut harness, "Neues Passwort", "Mond#77abcX");
    type_into(&mut harness, "Passwort wiederholen", "Mond#77abcX");
    click(&mut harness, "Passwort speichern");
    until_shown(&mut harness, "Neues Passwort für „ben“ gespeichert.");
    assert!(logs_in(&server, "ben", "Mond#77abcX"));

    // Without the server the screen says so, and the list it had stays.
    server.stop();
    click(&mut harness, "Aktualisieren");
    until_shown(&mut harness, "Dafür braucht es eine Verbindung zum Server");
    assert!(harness.query_by_label("3 Accounts").is_some());
    drop(harness);
}

#[test]
fn the_deletion_interval_is_set_and_every_deletion_needs_the_red_button() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "ada", AccountRole::Admin);
    let ada_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ada_dir.path(), &server, "ada");

    // "Löschintervall (Tage)": at least one day.
    click(&mut harness, "Aufträge");
    assert_eq!(
        harness
            .get_by_label("Löschintervall (Tage)")
            .value()
            .as_deref(),
        Some("30"),
        "the default before anything is set"
    );
    replace_in(&mut harness, "Löschintervall (Tage)", "0");
    click(&mut harness, "Löschintervall speichern");
    assert!(
        harness
            .query_by_label("Das Löschintervall beträgt mindestens 1 Tag")
            .is_some()
    );
    replace_in(&mut harness, "Löschintervall (Tage)", "14");
    click(&mut harness, "Löschintervall speichern");
    assert!(harness.query_by_label("Löschintervall: 14 Tage.").is_some());
    let interval = |harness: &mut Harness<'_, App>| {
        harness
            .state_mut()
            .work()
            .unwrap()
            .workspace
            .catalogue()
            .settings
            .as_ref()
            .map(|s| s.deletion_interval_days)
    };
    assert_eq!(interval(&mut harness), Some(14));
    click(
        &mut harness,
        "Teilnahmeverlauf nur für zuständige Mitarbeiter:innen sichtbar",
    );
    let restricted = harness
        .state_mut()
        .work()
        .unwrap()
        .workspace
        .catalogue()
        .settings
        .as_ref()
        .is_some_and(|s| s.restrict_timeline_to_responsibles);
    assert!(restricted);
    type_into(&mut harness, "Name des Auftrags", "AbH Köln");
    choose(&mut harness, "Maßnahmetyp", "abH");
    click(&mut harness, "Auftrag anlegen");

    // A client: "Löschen" in the ⋮ menu only asks; the red button marks her deleted.
    click(&mut harness, "Benutzer:in");
    add_client(&mut harness, "Mia Sonne");
    until_shown(&mut harness, "Alle Änderungen synchronisiert");
    let doc = open_client(&mut harness);
    let status = |harness: &mut Harness<'_, App>| {
        harness
            .state_mut()
            .work()
            .unwrap()
            .workspace
            .member(&doc)
            .map(|m| m.status.clone())
    };

    // A document: "Löschen" asks; the red button deletes it.
    let files = tempfile::tempdir().unwrap();
    let cv = files.path().join("Lebenslauf.txt");
    std::fs::write(&cv, "Lebenslauf").unwrap();
    click(&mut harness, "Dokumente");
    type_into(&mut harness, "Datei", &cv.display().to_string());
    click(&mut harness, "Hochladen");
    assert!(
        harness
            .query_by_label_contains("Lebenslauf.txt ·")
            .is_some()
    );
    click(&mut harness, "Löschen");
    assert!(
        harness
            .query_by_label_contains("Das Dokument „Lebenslauf.txt“ wird gelöscht")
            .is_some()
    );
    click(&mut harness, "Abbrechen");
    assert!(
        harness
            .query_by_label_contains("Lebenslauf.txt ·")
            .is_some(),
        "kept"
    );
    click(&mut harness, "Löschen");
    click(&mut harness, "Endgültig löschen");
    assert!(harness.query_by_label("Keine Dokumente.").is_some());

    // A participation: the assistant's "entfernen" asks before it removes.
    click(&mut harness, "Teilnahmeverlauf");
    click(&mut harness, "Assistent für Maßnahmeänderungen");
    click(
        &mut harness,
        "Teilnehmer:in in eine neue Maßnahme einbuchen",
    );
    choose(&mut harness, "Maßnahme", "AbH Köln (abH)");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Teilnahmestatus: Aktiv")
            .is_some()
    );
    click(&mut harness, "Assistent für Maßnahmeänderungen");
    click(
        &mut harness,
        "Teilnehmer:in beendet die aktuelle Teilnahme oder setzt diese aus",
    );
    click(&mut harness, "Teilnehmer:in aus der Maßnahme entfernen");
    click(&mut harness, "Weiter");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Die Teilnahme an „AbH Köln“ wird")
            .is_some()
    );
    click(&mut harness, "Abbrechen");
    let participations = |harness: &mut Harness<'_, App>| {
        harness
            .state_mut()
            .work()
            .unwrap()
            .workspace
            .timelines(&doc)
            .iter()
            .map(|t| t.view.participations.len())
            .sum::<usize>()
    };
    assert_eq!(participations(&mut harness), 1, "kept");
    click(&mut harness, "Fertigstellen");
    click(&mut harness, "Endgültig entfernen");
    assert!(
        harness
            .query_by_label("Die Teilnahme wurde entfernt.")
            .is_some()
    );
    assert_eq!(participations(&mut harness), 0, "removed");

    click(&mut harness, "Profil");
    click(&mut harness, "…");
    click(&mut harness, "Löschen");
    assert!(
        harness
            .query_by_label_contains("„Mia Sonne“ wird zum Löschen vorgemerkt")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Nach 14 Tagen (Löschintervall der Einrichtung)")
            .is_some()
    );
    let waiting = |harness: &mut Harness<'_, App>| {
        harness
            .state_mut()
            .work()
            .unwrap()
            .workspace
            .pending_requests()
            .len()
    };
    assert_eq!(waiting(&mut harness), 0, "one click deletes nothing");
    click(&mut harness, "Abbrechen");
    harness.run_steps(5);
    assert_eq!(waiting(&mut harness), 0, "cancelled");
    assert_eq!(
        status(&mut harness),
        Some(client_app::rows::RowStatus::Active)
    );
    click(&mut harness, "…");
    click(&mut harness, "Löschen");
    click(&mut harness, "Zum Löschen vormerken");
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(&mut harness) != Some(client_app::rows::RowStatus::Deleted) {
        assert!(Instant::now() < deadline, "the client was never deleted");
        harness.step();
        std::thread::sleep(Duration::from_millis(25));
    }
    harness.state_mut().work().unwrap().client = None;
    settle(&mut harness);

    // A group: "Löschen" asks, "Abbrechen" keeps it, the red button deletes it.
    click(&mut harness, "Gruppen");
    click(&mut harness, "+ Gruppe anlegen");
    type_into(
        &mut harness,
        "Name (für Klient:innen sichtbar)*",
        "Dienstagsgruppe",
    );
    click(&mut harness, "Speichern");
    assert!(harness.query_by_label("Dienstagsgruppe").is_some());
    click(&mut harness, "Löschen");
    assert!(
        harness
            .query_by_label_contains("Die Gruppe „Dienstagsgruppe“ wird gelöscht")
            .is_some()
    );
    click(&mut harness, "Abbrechen");
    assert!(harness.query_by_label("Dienstagsgruppe").is_some(), "kept");
    click(&mut harness, "Löschen");
    click(&mut harness, "Endgültig löschen");
    assert!(
        harness.query_by_label("Dienstagsgruppe").is_none(),
        "deleted"
    );
    drop(harness);
    server.stop();
}

#[test]
fn own_account_deletion_refuses_the_last_admin_and_signs_a_counsellor_out() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "ada", AccountRole::Admin);
    server.account("t", "ben", AccountRole::Counsellor);

    // The tenant's only admin is refused, in German, and stays signed in.
    let ada_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ada_dir.path(), &server, "ada");
    click(&mut harness, "Eigenen Account löschen");
    type_into(
        &mut harness,
        "Zur Bestätigung Ihr Passwort",
        common::PASSWORD,
    );
    click(&mut harness, "Account endgültig löschen");
    until_shown(&mut harness, "letzte aktive Admin-Account");
    assert!(harness.state_mut().work().is_some());
    assert!(logs_in(&server, "ada", common::PASSWORD));
    drop(harness);

    // A counsellor: a wrong password is refused; the right one deletes the account, the
    // app returns to "Anmelden" and the local store is gone.
    let ben_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ben_dir.path(), &server, "ben");
    let store = client_app::workspace::store_path(ben_dir.path(), &server.url(), "ben");
    assert!(store.exists());
    click(&mut harness, "Eigenen Account löschen");
    click(&mut harness, "Abbrechen");
    assert!(
        harness
            .query_by_label("Zur Bestätigung Ihr Passwort")
            .is_none(),
        "cancelled"
    );
    click(&mut harness, "Eigenen Account löschen");
    type_into(&mut harness, "Zur Bestätigung Ihr Passwort", "Falsch#123x");
    click(&mut harness, "Account endgültig löschen");
    until_shown(&mut harness, "Das Passwort stimmt nicht");
    assert!(logs_in(&server, "ben", common::PASSWORD));
    type_into(
        &mut harness,
        "Zur Bestätigung Ihr Passwort",
        common::PASSWORD,
    );
    click(&mut harness, "Account endgültig löschen");
    until_shown(&mut harness, "Ihr Account wurde gelöscht");
    assert!(harness.state_mut().work().is_none(), "signed out");
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Anmelden")
            .is_some()
    );
    assert!(!store.exists(), "the local store is removed");
    assert!(!logs_in(&server, "ben", common::PASSWORD));
    drop(harness);
    server.stop();
}
