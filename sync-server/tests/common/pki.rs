//! A CA made for a test, and a certificate it signed: the PEM files. Shared by the TLS
//! tests of sync-server and client-app and the proxy test (they include this file), so
//! all of them trust the same kind of certificate.

use std::path::{Path, PathBuf};

/// The PEM files of a CA and of a certificate it signed.
pub struct Certificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA, and a certificate it signed for `names` (the first is its common name), valid
/// now or, if `expired`, only during 2020.
pub fn certificates(dir: &Path, names: &[&str], expired: bool) -> Certificates {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: a certificate whose issuer equals its subject reads as self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test-CA der Beratungsstelle");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names.clone()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &issuer).unwrap();
    let certificates = Certificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&certificates.ca, ca_cert.pem()).unwrap();
    std::fs::write(&certificates.cert, cert.pem()).unwrap();
    std::fs::write(&certificates.key, key.serialize_pem()).unwrap();
    certificates
}
