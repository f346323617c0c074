//! How the client may reach its server: TLS through rustls with ring, trusting the
//! system's roots plus an organisation's own CA (a PEM file the person names under
//! „Erweitert“ at sign-in), and plain `http://` only to this computer unless the person
//! allows it for a protected network. Problems become German sentences that say what to
//! do; a certificate that does not verify is never accepted anyway.
//!
//! The HTTP client (`api`) and the websocket (`engine/websocket`) share the one
//! [`rustls::ClientConfig`] built here.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::{CertificateError, ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde::{Deserialize, Serialize};

/// What the person set under „Erweitert“ at sign-in; kept in the sealed profile and used
/// for every connection to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSettings {
    /// A PEM file with the organisation's own CA certificate(s), trusted beside the
    /// system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Plain `http://` to another machine ("Unverschlüsselte Verbindung erlauben (nur im
    /// geschützten Netz)"). Loopback addresses never need it.
    #[serde(default)]
    pub allow_unencrypted: bool,
}

impl ConnectionSettings {
    /// These settings with what a later sign-in entered: a CA file named there replaces
    /// the stored one, and a ticked box allows plain connections. Fields left empty keep
    /// what was stored, since the form does not know it.
    pub fn updated_by(&self, entered: &ConnectionSettings) -> ConnectionSettings {
        ConnectionSettings {
            ca_file: entered.ca_file.clone().or_else(|| self.ca_file.clone()),
            allow_unencrypted: self.allow_unencrypted || entered.allow_unencrypted,
        }
    }
}

/// Why no connection is made. The texts are for the person, in German.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "Unverschlüsselte Verbindungen (http://) sind nur zu diesem Computer erlaubt. Verwenden Sie https:// oder erlauben Sie unter „Erweitert“ die unverschlüsselte Verbindung (nur im geschützten Netz)."
    )]
    Unencrypted,
    #[error("Die CA-Datei „{}“ kann nicht gelesen werden: {reason}", path.display())]
    CaFileUnreadable { path: PathBuf, reason: String },
    #[error("Die CA-Datei „{}“ enthält kein Zertifikat im PEM-Format (-----BEGIN CERTIFICATE-----).", path.display())]
    CaFileEmpty { path: PathBuf },
    #[error("Die CA-Datei „{}“ enthält ein ungültiges Zertifikat: {reason}", path.display())]
    CaFileInvalid { path: PathBuf, reason: String },
    #[error("TLS kann nicht eingerichtet werden: {0}")]
    Setup(String),
}

/// Whether `scheme://host` may be reached with these settings: `https` always, `http`
/// only to this computer or when the person allowed it.
pub fn check_scheme(
    scheme: &str,
    host: &str,
    settings: &ConnectionSettings,
) -> Result<(), TlsError> {
    match scheme {
        "https" | "wss" => Ok(()),
        _ if settings.allow_unencrypted || is_loopback(host) => Ok(()),
        _ => Err(TlsError::Unencrypted),
    }
}

/// `localhost`, 127.0.0.0/8 or ::1 (also as an IPv4-mapped address), with or without the
/// brackets of a URL's IPv6 host.
pub fn is_loopback(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The system's root certificates, read once per process: reading and parsing them
/// takes milliseconds, and every workspace would otherwise do it again.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::warn!(
                errors = found.errors.len(),
                loaded = found.certs.len(),
                "some of the system's root certificates cannot be read"
            );
        }
        found.certs
    })
}

/// The TLS configuration for these settings: the system's roots and the CA file's
/// certificates, ring as the only provider. Reads files: call it off the UI thread.
pub fn client_config(settings: &ConnectionSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    let (_, ignored) = roots.add_parsable_certificates(system_roots().iter().cloned());
    if ignored > 0 {
        tracing::debug!(ignored, "system root certificates rustls cannot use");
    }
    if let Some(path) = &settings.ca_file {
        for certificate in ca_certificates(path)? {
            roots
                .add(certificate)
                .map_err(|e| TlsError::CaFileInvalid {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
    }
    let provider = Arc::new(ring_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// rustls's provider over ring, our crypto library already.
///
/// rustls 0.23.48 deprecated it for lacking the post-quantum hybrid key exchange
/// (X25519MLKEM768), which only its aws-lc-rs provider has; that one needs cmake and a C
/// toolchain to build, which our packaging and CI avoid. The exchange falls back to
/// X25519, as with most servers today.
#[allow(deprecated)]
pub fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Every certificate of a PEM file; none is an error (a DER file, a key, a typo).
fn ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls_pki_types::pem::Error as PemError;
    let unreadable = |reason: String| TlsError::CaFileUnreadable {
        path: path.to_owned(),
        reason,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| match e {
            PemError::Io(io) => unreadable(io.to_string()),
            other => unreadable(other.to_string()),
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certificates.is_empty() {
        return Err(TlsError::CaFileEmpty {
            path: path.to_owned(),
        });
    }
    Ok(certificates)
}

/// The German sentence for a TLS failure somewhere in `error`'s chain (an I/O error
/// that wraps one included), or `None` when TLS did not fail. `host` is the address the
/// person typed, named when the certificate is for another.
pub fn explain(error: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(german(tls, host));
        }
        // An I/O error's `source` skips the error it wraps; look at that one first.
        let wrapped = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        next = wrapped.or_else(|| error.source());
    }
    None
}

/// What a TLS failure means for the person, and what to do about it.
pub fn german(error: &rustls::Error, host: &str) -> String {
    let ask_it = "Bitte wenden Sie sich an Ihre IT; bis dahin bleibt die Verbindung gesperrt.";
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => "Das Zertifikat des Servers ist nicht vertrauenswürdig (unbekannte Zertifizierungsstelle). Fragen Sie Ihre IT nach dem CA-Zertifikat und tragen Sie es unter „Erweitert“ ein.".into(),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("Das Zertifikat des Servers ist abgelaufen. {ask_it}")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("Das Zertifikat des Servers ist noch nicht gültig. Stimmen Datum und Uhrzeit dieses Computers? Sonst: {ask_it}")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("Das Zertifikat des Servers gilt nicht für die Adresse „{host}“. Prüfen Sie die Serveradresse; stimmt sie: {ask_it}")
            }
            CertificateError::Revoked => {
                format!("Das Zertifikat des Servers wurde widerrufen. {ask_it}")
            }
            other => format!("Das Zertifikat des Servers wird nicht angenommen ({other}). {ask_it}"),
        },
        other => format!(
            "Es kam keine sichere Verbindung zum Server zustande ({other}). Spricht der Server unter dieser Adresse https://?"
        ),
    }
}

#[cfg(test)]
mod tests;
