//! TLS end to end: the real server speaking HTTPS and WSS itself, with a certificate
//! signed by a CA made for the test (rcgen), and the client library signing in and
//! syncing through it when given the CA file; refused, in German and before anything is
//! sent, without it, for a certificate of another name and for an expired one; and
//! plain `http://` only to this computer unless the person allows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../sync-server/tests/common/pki.rs"]
mod pki;

use std::path::Path;
use std::sync::atomic::Ordering;

use client_app::Workspace;
use client_app::tls::ConnectionSettings;
use client_app::workspace::{MemberQuery, SignInError};
use common::{TestServer, how, until};
use model::client_record::NewClient;
use pki::{Certificates, certificates};
use sync_server::accounts::Role;

fn tls_server(dir: &Path, certificates: &Certificates) -> TestServer {
    TestServer::start_with(dir, None, |config| {
        config.tls_cert = Some(certificates.cert.clone());
        config.tls_key = Some(certificates.key.clone());
    })
}

fn trusting(ca: &Path) -> ConnectionSettings {
    ConnectionSettings {
        ca_file: Some(ca.to_owned()),
        allow_unencrypted: false,
    }
}

fn sign_in(
    dir: &Path,
    server: &str,
    login: &str,
    connection: ConnectionSettings,
) -> Result<Workspace, SignInError> {
    let mut how = how(dir, server, login, common::PASSWORD);
    how.connection = connection;
    Workspace::sign_in(&how)
}

/// Nothing reached the server's HTTP layer: no request, no login, no access log line.
fn nothing_sent(server: &TestServer) {
    let metrics = &server.state.metrics;
    assert_eq!(metrics.requests.load(Ordering::Relaxed), 0, "a request");
    assert_eq!(metrics.logins_ok.load(Ordering::Relaxed), 0);
    assert_eq!(metrics.logins_failed.load(Ordering::Relaxed), 0);
    assert!(server.state.accounts.access_log().unwrap().is_empty());
}

fn no_store(dir: &Path) {
    let stores = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(stores, 0, "a store was created");
}

#[test]
fn signs_in_and_syncs_over_https_and_wss_with_the_organisations_ca() {
    let (server_dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = certificates(pki.path(), &["127.0.0.1", "localhost"], false);
    let server = tls_server(server_dir.path(), &certificates);
    assert!(server.url().starts_with("https://"), "{}", server.url());
    server.account("t", "anna", Role::Counsellor);
    server.account("t", "ben", Role::Counsellor);
    let (anna_dir, ben_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ca = trusting(&certificates.ca);
    let mut anna = sign_in(anna_dir.path(), &server.url(), "anna", ca.clone()).unwrap();
    let mut ben = sign_in(ben_dir.path(), &server.url(), "ben", ca.clone()).unwrap();
    assert_eq!(anna.profile().connection, ca, "kept in the sealed profile");

    // The sync runs over wss:// only: the server speaks nothing else.
    let doc = anna
        .create_client(
            NewClient {
                pseudonym: "Sonnenblume".into(),
                take_up: true,
                ..NewClient::default()
            },
            None,
            None,
        )
        .unwrap();
    until(&mut anna, "anna online over wss", |w| w.status().online);
    until(&mut anna, "anna's changes confirmed", |w| {
        w.unsynced_changes() == 0 && w.pending_requests().is_empty()
    });
    until(&mut ben, "ben sees the new client over wss", |w| {
        w.members(&MemberQuery::default())
            .iter()
            .any(|(id, _)| *id == doc)
    });
    anna.shut_down();

    // A later sign-in enters nothing under „Erweitert“: the stored CA file still counts.
    let mut anna = sign_in(
        anna_dir.path(),
        &server.url(),
        "anna",
        ConnectionSettings::default(),
    )
    .unwrap();
    until(&mut anna, "online again with the stored CA", |w| {
        w.status().online
    });
    anna.shut_down();

    // The CA file gone: the store still opens offline, and the status line says why the
    // sync does not connect.
    std::fs::remove_file(&certificates.ca).unwrap();
    let mut anna = sign_in(
        anna_dir.path(),
        &server.url(),
        "anna",
        ConnectionSettings::default(),
    )
    .unwrap();
    until(&mut anna, "the missing CA file named", |w| {
        w.status()
            .problem
            .is_some_and(|p| p.contains("CA-Datei") && p.contains("ca.pem"))
    });
    anna.shut_down();
    ben.shut_down();
    server.stop();
}

#[test]
fn without_the_ca_the_client_is_refused_in_german_and_sends_nothing() {
    let (server_dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = certificates(pki.path(), &["127.0.0.1", "localhost"], false);
    let server = tls_server(server_dir.path(), &certificates);
    server.account("t", "anna", Role::Counsellor);
    let anna_dir = tempfile::tempdir().unwrap();
    let refused = sign_in(
        anna_dir.path(),
        &server.url(),
        "anna",
        ConnectionSettings::default(),
    );
    let Err(SignInError::Connection(message)) = refused else {
        panic!("not refused for the certificate: {:?}", refused.err());
    };
    assert_eq!(
        message,
        "Das Zertifikat des Servers ist nicht vertrauenswürdig (unbekannte \
         Zertifizierungsstelle). Fragen Sie Ihre IT nach dem CA-Zertifikat und tragen Sie es \
         unter „Erweitert“ ein."
    );
    // Nor does allowing plain connections bypass a certificate.
    let unencrypted = ConnectionSettings {
        ca_file: None,
        allow_unencrypted: true,
    };
    assert!(matches!(
        sign_in(anna_dir.path(), &server.url(), "anna", unencrypted),
        Err(SignInError::Connection(_))
    ));
    // The library's own calls say the same.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = common::api(&server.url());
    let answer = runtime.block_on(client_app::api::login(&api, "anna", common::PASSWORD));
    assert!(
        matches!(&answer, Err(client_app::api::ApiError::Insecure(m)) if m.contains("unbekannte Zertifizierungsstelle")),
        "{answer:?}"
    );
    nothing_sent(&server);
    no_store(anna_dir.path());
    server.stop();
}

#[test]
fn a_certificate_for_another_name_or_an_expired_one_is_refused_and_said_so() {
    let check = |names: &[&str], expired: bool, says: &str| {
        let (server_dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let certificates = certificates(pki.path(), names, expired);
        let server = tls_server(server_dir.path(), &certificates);
        server.account("t", "anna", Role::Counsellor);
        let anna_dir = tempfile::tempdir().unwrap();
        let refused = sign_in(
            anna_dir.path(),
            &server.url(),
            "anna",
            trusting(&certificates.ca),
        );
        match refused {
            Err(SignInError::Connection(message)) => {
                assert!(message.contains(says), "{message}")
            }
            other => panic!("not refused: {:?}", other.err()),
        }
        nothing_sent(&server);
        no_store(anna_dir.path());
        server.stop();
    };
    check(
        &["localhost"],
        false,
        "Das Zertifikat des Servers gilt nicht für die Adresse „127.0.0.1“",
    );
    check(
        &["127.0.0.1", "localhost"],
        true,
        "Das Zertifikat des Servers ist abgelaufen",
    );
}

/// This machine's own address on its network (not loopback): the one it would use
/// towards the documentation range 203.0.113.0/24. A UDP "connection" sends nothing.
fn own_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("203.0.113.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn plain_http_goes_only_to_this_computer_unless_the_person_allows_it() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        server_dir.path(),
        Some("0.0.0.0:0".parse().unwrap()),
        |_| {},
    );
    server.account("t", "anna", Role::Counsellor);
    let anna_dir = tempfile::tempdir().unwrap();
    // Refused before any address is even looked at: the check needs no network.
    for address in ["http://10.0.0.5:8470", "http://beratung.example.org"] {
        let refused = sign_in(
            anna_dir.path(),
            address,
            "anna",
            ConnectionSettings::default(),
        );
        let Err(SignInError::Connection(message)) = refused else {
            panic!("{address} not refused: {:?}", refused.err());
        };
        assert!(
            message.contains("nur zu diesem Computer erlaubt") && message.contains("„Erweitert“"),
            "{message}"
        );
    }
    // This machine's own network address: refused, then allowed.
    let Some(ip) = own_address() else {
        eprintln!("no network address besides loopback: the allowed case is not run");
        server.stop();
        return;
    };
    let url = format!(
        "http://{}",
        std::net::SocketAddr::new(ip, server.addr.port())
    );
    assert!(matches!(
        sign_in(anna_dir.path(), &url, "anna", ConnectionSettings::default()),
        Err(SignInError::Connection(_))
    ));
    nothing_sent(&server);
    no_store(anna_dir.path());
    let allowed = ConnectionSettings {
        ca_file: None,
        allow_unencrypted: true,
    };
    let mut anna = sign_in(anna_dir.path(), &url, "anna", allowed.clone()).unwrap();
    assert_eq!(anna.profile().connection, allowed);
    until(&mut anna, "online over plain http, as allowed", |w| {
        w.status().online
    });
    anna.shut_down();
    server.stop();
}

/// The sign-in screen's „Erweitert“: closed at first, then a labelled field for the CA
/// file and a labelled checkbox, whose values reach the sign-in and the stored profile.
#[test]
fn the_sign_in_screens_advanced_part_reaches_the_sign_in() {
    use client_app::ui::App;
    use egui::accesskit::Role as A11y;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    let (server_dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = certificates(pki.path(), &["127.0.0.1", "localhost"], false);
    let server = tls_server(server_dir.path(), &certificates);
    server.account("t", "anna", Role::Counsellor);
    let data_dir = tempfile::tempdir().unwrap();
    let app = App::new(data_dir.path().to_owned(), server.url());
    let mut harness = Harness::builder()
        .with_max_steps(32)
        .with_size(egui::vec2(900.0, 640.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    harness.run();
    let ca_label = "CA-Zertifikat (PEM-Datei)";
    let allow_label = "Unverschlüsselte Verbindung erlauben (nur im geschützten Netz)";
    assert!(
        harness.query_by_label(ca_label).is_none(),
        "„Erweitert“ starts closed"
    );
    let type_into = |harness: &mut Harness<'_, App>, label: &str, text: &str| {
        harness.get_by_label(label).focus();
        harness.get_by_label(label).type_text(text);
        harness.run();
    };
    type_into(&mut harness, "Benutzername", "anna");
    type_into(&mut harness, "Passwort", common::PASSWORD);

    // Without the CA: refused, in German, on the sign-in screen.
    harness
        .get_by_role_and_label(A11y::Button, "Anmelden")
        .click();
    // The sign-in runs on its own thread: wait for its answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while harness.query_by_label("Anmeldung läuft …").is_some()
        || harness.query_by_label_contains("unbekannte").is_none()
            && std::time::Instant::now() < deadline
    {
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    harness.run();
    assert!(
        harness
            .query_by_label_contains("unbekannte Zertifizierungsstelle")
            .is_some()
    );

    harness.get_by_label("Erweitert").click();
    harness.run();
    type_into(
        &mut harness,
        ca_label,
        &certificates.ca.display().to_string(),
    );
    let checkbox = harness.get_by_role_and_label(A11y::CheckBox, allow_label);
    checkbox.click();
    harness.run();
    type_into(&mut harness, "Passwort", common::PASSWORD);
    harness
        .get_by_role_and_label(A11y::Button, "Anmelden")
        .click();
    harness.step();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while harness.query_by_label("Online").is_none() {
        assert!(std::time::Instant::now() < deadline, "never online");
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let connection = harness
        .state_mut()
        .work()
        .unwrap()
        .workspace
        .profile()
        .connection
        .clone();
    assert_eq!(
        connection,
        ConnectionSettings {
            ca_file: Some(certificates.ca.clone()),
            allow_unencrypted: true,
        }
    );
    drop(harness);
    server.stop();
}
