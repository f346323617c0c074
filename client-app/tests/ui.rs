//! The screens, clicked and typed into with egui_kittest, against a real server:
//! create a client (and be refused a short pseudonym), add a note, change the
//! Stammberater:in, upload a document, and write offline: the status line counts the change, and it syncs
//! when the server is back. And the participation timeline: an admin sets up a
//! programme, the assistant enrols, suspends, resumes and ends; responsibilities,
//! working time and vacation.
//!
//! Why this file stays long (over 700 lines): each test is one workflow of the manuals
//! clicked through end to end against one real server, and its steps build on each other
//! (the programme the admin sets up is the one the assistant enrols into). Cut into
//! smaller tests, every piece would need the setup of all the steps before it; the shared
//! helpers (`click`, `type_into`, `choose`, `until_shown`) are in `common::kit`, shared
//! with the account screens' tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use client_app::ui::App;
use common::kit::strict::{add_client, choose, click, type_into};
use common::kit::{open_client, signed_in, until_shown};
use common::{TestServer, sign_in};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use sync_server::accounts::Role as AccountRole;

#[test]
fn create_a_client_add_a_note_change_the_primary_and_write_offline() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "anna", AccountRole::Counsellor);
    server.account("t", "ben", AccountRole::Counsellor);
    let anna_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(anna_dir.path(), &server, "anna", egui::vec2(1100.0, 720.0));

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
    let doc = open_client(&mut harness);
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

    // A document: uploaded from a path, listed newest first with its date and size.
    let files = tempfile::tempdir().unwrap();
    let cv = files.path().join("Lebenslauf.txt");
    std::fs::write(&cv, "Lebenslauf").unwrap();
    harness.get_by_label("Dokumente").click();
    harness.run();
    harness.get_by_label("Datei").focus();
    harness
        .get_by_label("Datei")
        .type_text(&cv.display().to_string());
    // A path longer than the field scrolls it, and the upload changes the status line:
    // a few frames each, not a settled state at once.
    harness.run_steps(10);
    harness.get_by_label("Hochladen").click();
    harness.run_steps(10);
    assert!(
        harness
            .query_by_label_contains("Lebenslauf.txt ·")
            .is_some()
    );
    until_shown(&mut harness, "Alle Änderungen synchronisiert");

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

    // "Passwort ändern": a wrong old one is refused; then the server and the local store
    // both take the new one, and the sync goes on with it.
    click(&mut harness, "Passwort ändern");
    type_into(&mut harness, "Bisheriges Passwort", "Falsch#123x");
    type_into(&mut harness, "Neues Passwort", "Neu#Kranich-Weide7");
    type_into(
        &mut harness,
        "Neues Passwort wiederholen",
        "Neu#Kranich-Weide7",
    );
    click(&mut harness, "Passwort speichern");
    assert!(
        harness
            .query_by_label("Das bisherige Passwort stimmt nicht")
            .is_some()
    );
    close_password_window(&mut harness);
    click(&mut harness, "Passwort ändern");
    type_into(&mut harness, "Bisheriges Passwort", common::PASSWORD);
    type_into(&mut harness, "Neues Passwort", "Neu#Kranich-Weide7");
    type_into(
        &mut harness,
        "Neues Passwort wiederholen",
        "Neu#Kranich-Weide7",
    );
    click(&mut harness, "Passwort speichern");
    assert!(harness.query_by_label("Passwort geändert").is_some());
    click(&mut harness, "Notizen");
    type_into(&mut harness, "Neue Notiz", "Nach dem Passwortwechsel");
    click(&mut harness, "Speichern");
    until_shown(&mut harness, "Online");
    until_shown(&mut harness, "Alle Änderungen synchronisiert");
    drop(harness);
    let how = |password: &str| common::how(anna_dir.path(), &server.url(), "anna", password);
    assert!(matches!(
        client_app::Workspace::sign_in(&how(common::PASSWORD)),
        Err(client_app::workspace::SignInError::WrongPassword)
    ));
    let again = client_app::Workspace::sign_in(&how("Neu#Kranich-Weide7")).unwrap();
    again.shut_down();
    server.stop();
}

/// Closes "Passwort ändern" (its close button and others share the name).
fn close_password_window(harness: &mut Harness<'_, App>) {
    harness.state_mut().work().unwrap().close_password_window();
    harness.run();
}

/// Clicks the assistant's button and the first page's entry `choice`.
fn assistant(harness: &mut Harness<'_, App>, choice: &str) {
    harness
        .get_by_role_and_label(Role::Button, "Assistent für Maßnahmeänderungen")
        .click();
    harness.run();
    harness.get_by_label(choice).click();
    harness.run();
}

#[test]
fn an_admin_sets_up_a_programme_and_the_assistant_enrols_suspends_resumes_and_ends() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "ada", AccountRole::Admin);
    server.account("t", "ben", AccountRole::Counsellor);
    let ada_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ada_dir.path(), &server, "ada", egui::vec2(1280.0, 900.0));

    // "Aufträge": a BvB programme with its five stages, and a site.
    click(&mut harness, "Aufträge");
    type_into(&mut harness, "Name des Auftrags", "BvB Köln 2026");
    click(&mut harness, "Auftrag anlegen");
    assert!(
        harness
            .query_by_label_contains("Auftrag „BvB Köln 2026“ angelegt")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Stufen: EA, GS, FS, ÜQ, ST")
            .is_some()
    );
    type_into(&mut harness, "Neuer Standort", "Zentrale");
    click(&mut harness, "Standort anlegen");
    type_into(&mut harness, "Neues Stammdatenfeld", "Geburtsort");
    click(&mut harness, "Feld anlegen");
    type_into(&mut harness, "Neues Filterkriterium", "Jugendberufsagentur");
    click(&mut harness, "Kriterium anlegen");

    // A person, and her timeline: in no programme yet, only enrolment is offered.
    click(&mut harness, "Benutzer:in");
    add_client(&mut harness, "Lina Berg");

    // Profil bearbeiten: names, language, the tenant's Stammdaten and filter criteria.
    click(&mut harness, "Profil bearbeiten");
    type_into(&mut harness, "Name", "Berg");
    type_into(&mut harness, "Vorname", "Lina");
    type_into(&mut harness, "Geburtsort", "Köln");
    click(&mut harness, "Jugendberufsagentur");
    click(&mut harness, "Profil speichern");
    assert!(harness.query_by_label("Berg, Lina").is_some());
    assert!(harness.query_by_label("Geburtsort: Köln").is_some());
    assert!(harness.query_by_label("Jugendberufsagentur").is_some());

    click(&mut harness, "Teilnahmeverlauf");
    assert!(
        harness
            .query_by_label("Die Person ist in keinem Auftrag eingebucht.")
            .is_some()
    );
    harness
        .get_by_role_and_label(Role::Button, "Assistent für Maßnahmeänderungen")
        .click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("beendet die aktuelle Teilnahme")
            .is_none(),
        "nothing to end before an enrolment"
    );
    click(
        &mut harness,
        "Teilnehmer:in in eine neue Maßnahme einbuchen",
    );

    // Enrol, directly active, at the entry stage EA, at the Zentrale (entry today).
    choose(&mut harness, "Maßnahme", "BvB Köln 2026 (BvB)");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Einstiegsstufe wählen")
            .is_some(),
        "a programme with stages needs the entry stage"
    );
    choose(
        &mut harness,
        "Einstiegsqualifizierungsstufe",
        "EA – Eignungsanalyse",
    );
    choose(&mut harness, "Standort", "Zentrale");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Die Person ist eingebucht und aktiv")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Teilnahmestatus: Aktiv   BA-Anmeldung: nein")
            .is_some()
    );
    assert!(harness.query_by_label("Teilnahme EA").is_some());
    assert!(harness.query_by_label("(Zentrale)").is_some());

    // Suspend, with an interruption section.
    assistant(
        &mut harness,
        "Teilnehmer:in beendet die aktuelle Teilnahme oder setzt diese aus",
    );
    click(&mut harness, "Aussetzung der Maßnahme");
    click(&mut harness, "Weiter");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label("Bitte den Unterbrechungsgrund angeben")
            .is_some()
    );
    type_into(&mut harness, "Unterbrechungsgrund", "Elternzeit");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Teilnahmestatus: Inaktiv")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Unterbrechung: Elternzeit")
            .is_some()
    );

    // Resume: while inactive, the assistant offers no activation and no transfer.
    harness
        .get_by_role_and_label(Role::Button, "Assistent für Maßnahmeänderungen")
        .click();
    harness.run();
    assert!(harness.query_by_label_contains("umbuchen").is_none());
    click(
        &mut harness,
        "Teilnehmer:in setzt die aktuelle Maßnahme fort",
    );
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Teilnahmestatus: Aktiv")
            .is_some()
    );

    // End, with the result on a page of its own; without one it is refused.
    assistant(
        &mut harness,
        "Teilnehmer:in beendet die aktuelle Teilnahme oder setzt diese aus",
    );
    click(&mut harness, "Beendigung der Maßnahme");
    click(&mut harness, "Weiter");
    click(&mut harness, "Weiter");
    assert!(
        harness
            .query_by_label("Maßnahmeergebnis erfassen")
            .is_some()
    );
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label("Bitte das Maßnahmeergebnis angeben")
            .is_some()
    );
    type_into(&mut harness, "Maßnahmeergebnis", "Ausbildung aufgenommen");
    click(&mut harness, "Fertigstellen");
    assert!(
        harness
            .query_by_label_contains("Teilnahmestatus: Beendet")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Maßnahmeergebnis: Ausbildung aufgenommen")
            .is_some()
    );

    // Zuständigkeiten: Ben as a caretaker, then deactivated.
    click(&mut harness, "+ Zuständigkeit hinzufügen");
    choose(&mut harness, "Verknüpfte:r Benutzer:in", "ben");
    click(&mut harness, "Speichern");
    assert!(harness.query_by_label("Betreuer:in: ben").is_some());
    click(&mut harness, "Deaktivieren");
    assert!(
        harness
            .query_by_label("Betreuer:in: ben – deaktiviert")
            .is_some()
    );

    // Working time: none applies, until the person gets a rule of her own.
    click(&mut harness, "Arbeitszeiten");
    assert!(
        harness
            .query_by_label("Heute gilt keine Arbeitszeitregelung.")
            .is_some()
    );
    click(&mut harness, "Arbeitszeitregelung hinzufügen");
    click(&mut harness, "Regelmäßige Arbeitszeiten");
    type_into(&mut harness, "Zeiten am Mo", "08:00-12:00, 13:00-16:00");
    type_into(&mut harness, "Zeiten am Di", "8");
    click(&mut harness, "Ausnahme hinzufügen");
    type_into(&mut harness, "Ausnahme 1 am", "24.12.2026");
    click(&mut harness, "Speichern");
    assert!(
        harness
            .query_by_label("„8“: bitte Zeiten wie 08:00-12:00 angeben")
            .is_some()
    );
    // Typing appends: Tuesday now reads 8:00-12:00.
    type_into(&mut harness, "Zeiten am Di", ":00-12:00");
    click(&mut harness, "Speichern");
    assert!(
        harness
            .query_by_label_contains(
                "Heute gilt die Regelung der Ebene Teilnehmer:in: Vollzeit, 39"
            )
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("unregelmäßige Arbeitszeiten, 1 Ausnahme")
            .is_some()
    );

    // Vacation: an entitlement of 24 days, and the yearly summary.
    click(&mut harness, "Urlaub");
    click(&mut harness, "Urlaubsanspruch hinzufügen");
    type_into(&mut harness, "Tage", "24");
    click(&mut harness, "OK");
    assert!(
        harness
            .query_by_label_contains("Urlaubsanspruch: 24 Tage")
            .is_some()
    );
    assert_eq!(
        harness.query_all_by_label("24").count(),
        2,
        "earned and remaining"
    );

    // The timeline reached the server: Ben reads the same folded state.
    until_shown(&mut harness, "Alle Änderungen synchronisiert");
    let person = open_client(&mut harness);
    drop(harness);
    let ben_dir = tempfile::tempdir().unwrap();
    let mut ben = sign_in(ben_dir.path(), &server.url(), "ben");
    common::until(&mut ben, "ben reads the ended participation", |w| {
        w.timelines(&person).iter().any(|t| {
            t.view.participations.iter().any(|p| {
                p.status == conflict_rules::assistant::Status::Ended
                    && p.sections.len() == 3
                    && p.result.as_ref().map(|r| r.outcome.as_str())
                        == Some("Ausbildung aufgenommen")
            })
        })
    });
    common::until(&mut ben, "staff read the catalogue", |w| {
        w.catalogue().programmes.len() == 1
    });
    ben.shut_down();
    server.stop();
}

#[test]
fn direct_message_invitation_and_password_for_a_person() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path(), None);
    server.account("t", "ada", AccountRole::Admin);
    let ada_dir = tempfile::tempdir().unwrap();
    let mut harness = signed_in(ada_dir.path(), &server, "ada", egui::vec2(1280.0, 900.0));

    click(&mut harness, "+ Klient:in anlegen");
    type_into(
        &mut harness,
        "Accountname / Pseudonym (min. 5 Zeichen)*",
        "Mia Sonne",
    );
    type_into(&mut harness, "E-Mail-Adresse", "mia@example.org");
    click(&mut harness, "Speichern");
    click(&mut harness, "Mia Sonne");
    // The contact document comes from the server once it took the hand-over.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        click(&mut harness, "…");
        click(&mut harness, "Direkt-Nachricht");
        if harness
            .query_by_label("Angeschrieben wird: mia@example.org")
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the contact data never arrived");
        close_message_window(&mut harness);
        std::thread::sleep(Duration::from_millis(100));
    }
    click(&mut harness, "Senden");
    assert!(
        harness
            .query_by_label("Bitte einen Betreff angeben")
            .is_some()
    );
    type_into(&mut harness, "Betreff", "Termin am Dienstag");
    type_into(&mut harness, "Nachricht", "Der Termin ist um 10:00 Uhr.");
    click(&mut harness, "Senden");
    until_shown(&mut harness, "Termin am Dienstag (versandt)");

    let outbox: Vec<_> = std::fs::read_dir(server_dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(outbox.len(), 1, "one e-mail in the pickup directory");
    let mail = std::fs::read_to_string(&outbox[0]).unwrap();
    assert!(mail.contains("\r\nTo: mia@example.org\r\n"));
    assert!(mail.contains("Subject: Termin am Dienstag\r\n"));
    assert!(mail.contains("Der Termin ist um 10:00 Uhr."));
    close_message_window(&mut harness);

    // "Einladung versenden": an e-mail with a link; the page behind it sets the password.
    let doc = open_client(&mut harness);
    click(&mut harness, "…");
    click(&mut harness, "Einladung versenden");
    until_shown(&mut harness, "Einladung versandt");
    let invitation = std::fs::read_dir(server_dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        // Quoted-printable: long lines end in a soft break ("=" before the line end).
        .map(|m| m.replace("=\r\n", ""))
        .find(|m| m.contains("/invitation/"))
        .expect("the invitation e-mail");
    let path = invitation
        .split_whitespace()
        .find_map(|word| word.find("/invitation/").map(|at| word[at..].to_owned()))
        .unwrap();
    let (status, page) = http(server.addr, "GET", &path, "");
    assert_eq!(status, 200);
    assert!(page.contains("Passwort festlegen"));
    let (status, page) = http(
        server.addr,
        "POST",
        &path,
        "password=Wolke%23Kranich26&repeat=x",
    );
    assert_eq!(status, 422);
    assert!(page.contains("stimmen nicht überein"));
    let (status, page) = http(
        server.addr,
        "POST",
        &path,
        "password=Wolke%23Kranich26&repeat=Wolke%23Kranich26",
    );
    assert_eq!(status, 200);
    assert!(page.contains("Passwort gespeichert"));
    assert_eq!(http(server.addr, "GET", &path, "").0, 404, "used up");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let login = |password: &str| {
        runtime.block_on(client_app::api::login(
            &common::api(&server.url()),
            "Mia Sonne",
            password,
        ))
    };
    assert_eq!(login("Wolke#Kranich26").unwrap().role.as_str(), "client");
    let last_login = |harness: &mut Harness<'_, App>| {
        harness.step();
        harness
            .state_mut()
            .work()
            .unwrap()
            .workspace
            .member(&doc)
            .and_then(|m| m.last_login_ms)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while last_login(&mut harness).is_none() {
        assert!(
            Instant::now() < deadline,
            "the login never reached the record"
        );
        std::thread::sleep(Duration::from_millis(25));
    }

    // "Passwort vergeben": checked here first, then queued for the server.
    click(&mut harness, "…");
    click(&mut harness, "Passwort vergeben");
    type_into(&mut harness, "Neues Passwort", "kurz");
    type_into(&mut harness, "Passwort wiederholen", "kurz");
    click(&mut harness, "Speichern");
    assert!(
        harness
            .query_by_label("Das Passwort braucht mindestens 8 Zeichen")
            .is_some()
    );
    // Typing appends: the password is now "kurzMond#77abc", in both fields.
    type_into(&mut harness, "Neues Passwort", "Mond#77abc");
    type_into(&mut harness, "Passwort wiederholen", "Mond#77abc");
    click(&mut harness, "Speichern");
    assert!(
        harness
            .query_by_label("Das Passwort braucht mindestens 8 Zeichen")
            .is_none(),
        "the window closed"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while login("kurzMond#77abc").is_err() {
        harness.step();
        assert!(Instant::now() < deadline, "the new password never worked");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        login("Wolke#Kranich26").is_err(),
        "the old one no longer works"
    );

    // A person locked until a day cannot log in.
    click(&mut harness, "…");
    click(&mut harness, "Sperren bis …");
    type_into(&mut harness, "Gesperrt bis", "31.12.2099");
    click(&mut harness, "Sperren");
    until_shown(&mut harness, "gesperrt bis 31.12.2099");
    until_shown(&mut harness, "Alle Änderungen synchronisiert");
    let deadline = Instant::now() + Duration::from_secs(30);
    while login("kurzMond#77abc").is_ok() {
        harness.step();
        assert!(
            Instant::now() < deadline,
            "a locked person could still log in"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(harness);
    server.stop();
}

/// Closes the Direkt-Nachricht window (its close button and the client window's are
/// both called "Close window").
fn close_message_window(harness: &mut Harness<'_, App>) {
    if let Some(client) = harness.state_mut().work().unwrap().client.as_mut() {
        client.message = None;
    }
    harness.run();
}

/// One plain HTTP/1.1 request; the status and the body.
fn http(addr: std::net::SocketAddr, method: &str, path: &str, form: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}
