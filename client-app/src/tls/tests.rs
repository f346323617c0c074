//! Which addresses may go without TLS, what a CA file must hold, and what each
//! certificate failure says.

use super::*;

fn check(scheme: &str, host: &str, allow_unencrypted: bool, allowed: bool) {
    let settings = ConnectionSettings {
        ca_file: None,
        allow_unencrypted,
    };
    assert_eq!(
        check_scheme(scheme, host, &settings).is_ok(),
        allowed,
        "{scheme}://{host} (allow_unencrypted: {allow_unencrypted})"
    );
}

#[test]
fn plain_http_only_to_this_computer_unless_allowed() {
    check("https", "beratung.example.org", false, true);
    check("https", "10.0.0.5", false, true);
    check("http", "127.0.0.1", false, true);
    check("http", "127.8.9.10", false, true);
    check("http", "localhost", false, true);
    check("http", "LOCALHOST", false, true);
    check("http", "[::1]", false, true);
    check("http", "::1", false, true);
    check("http", "[::ffff:127.0.0.1]", false, true);
    check("http", "10.0.0.5", false, false);
    check("http", "128.0.0.1", false, false);
    check("http", "beratung.example.org", false, false);
    check("http", "localhost.example.org", false, false);
    check("http", "[::2]", false, false);
    check("http", "0.0.0.0", false, false);
    check("http", "10.0.0.5", true, true);
    check("http", "beratung.example.org", true, true);
}

#[test]
fn a_later_sign_in_adds_but_never_silently_clears() {
    let stored = ConnectionSettings {
        ca_file: Some("/etc/ca.pem".into()),
        allow_unencrypted: true,
    };
    assert_eq!(stored.updated_by(&ConnectionSettings::default()), stored);
    let entered = ConnectionSettings {
        ca_file: Some("/neu/ca.pem".into()),
        allow_unencrypted: false,
    };
    assert_eq!(
        ConnectionSettings::default().updated_by(&entered),
        entered,
        "the first values"
    );
    assert_eq!(
        stored.updated_by(&entered).ca_file,
        Some(PathBuf::from("/neu/ca.pem"))
    );
}

#[test]
fn a_ca_file_must_hold_a_pem_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("fehlt.pem");
    let settings = |path: &Path| ConnectionSettings {
        ca_file: Some(path.to_owned()),
        allow_unencrypted: false,
    };
    let error = client_config(&settings(&missing)).expect_err("no file");
    assert!(
        matches!(error, TlsError::CaFileUnreadable { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("fehlt.pem"), "{error}");
    let empty = dir.path().join("leer.pem");
    std::fs::write(&empty, "kein Zertifikat\n").expect("written");
    let error = client_config(&settings(&empty)).expect_err("no certificate");
    assert!(matches!(error, TlsError::CaFileEmpty { .. }), "{error}");
    let garbage = dir.path().join("kaputt.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("written");
    let error = client_config(&settings(&garbage)).expect_err("not a certificate");
    assert!(matches!(error, TlsError::CaFileInvalid { .. }), "{error}");
    assert!(client_config(&ConnectionSettings::default()).is_ok());
}

#[test]
fn each_certificate_failure_says_what_it_is() {
    let says = |error: CertificateError, part: &str| {
        let text = german(
            &rustls::Error::InvalidCertificate(error),
            "sync.example.org",
        );
        assert!(text.contains(part), "{text}");
    };
    says(
        CertificateError::UnknownIssuer,
        "unbekannte Zertifizierungsstelle",
    );
    says(CertificateError::UnknownIssuer, "„Erweitert“");
    says(CertificateError::Expired, "abgelaufen");
    says(CertificateError::NotValidYet, "noch nicht gültig");
    says(CertificateError::NotValidForName, "„sync.example.org“");
    says(CertificateError::Revoked, "widerrufen");
    says(CertificateError::BadSignature, "nicht angenommen");
}

#[test]
fn a_tls_failure_is_found_inside_io_errors() {
    let inner = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
    );
    let outer = std::io::Error::other(inner);
    let text = explain(&outer, "127.0.0.1").expect("found");
    assert!(text.contains("nicht vertrauenswürdig"), "{text}");
    let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    assert!(explain(&plain, "127.0.0.1").is_none());
}
