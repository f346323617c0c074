//! The server's own TLS, for a site without a proxy in front: `tls_cert` and `tls_key`
//! (PEM) read once at start, rustls with ring (our crypto library already; no C
//! toolchain, unlike aws-lc-rs), for the acceptor `listener` wraps each connection in.
//! Without both settings the server speaks plain HTTP, for IT's TLS proxy in front.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{set} is set but {missing} is not: set both (PEM files) to serve TLS, or neither")]
    OnlyOne {
        set: &'static str,
        missing: &'static str,
    },
    #[error("cannot read tls_cert {path}")]
    Certificate {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("tls_cert {path} holds no certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: PathBuf },
    #[error("cannot read tls_key {path} (a PEM private key: PKCS#8, PKCS#1 or SEC1)")]
    Key {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("tls_key {key} does not fit tls_cert {cert}, or cannot be used")]
    Rejected {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

/// The TLS configuration for `config`'s certificate and key, or `None` when TLS is off.
pub fn server_config(config: &Config) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let (cert, key) = match (&config.tls_cert, &config.tls_key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => {
            return Err(TlsError::OnlyOne {
                set: "tls_cert",
                missing: "tls_key",
            });
        }
        (None, Some(_)) => {
            return Err(TlsError::OnlyOne {
                set: "tls_key",
                missing: "tls_cert",
            });
        }
    };
    let chain = chain(cert)?;
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.clone(),
        source,
    })?;
    let rejected = |source| TlsError::Rejected {
        cert: cert.clone(),
        key: key.clone(),
        source,
    };
    let mut server = ServerConfig::builder_with_provider(Arc::new(ring_provider()))
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(rejected)?;
    // HTTP/1.1 only (websockets upgrade from it); a client that offers h2 is told so.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(server)))
}

/// The certificates of the PEM file, the server's own first.
fn chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let unreadable = |source| TlsError::Certificate {
        path: path.to_owned(),
        source,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

/// rustls's provider over ring.
///
/// rustls 0.23.48 deprecated it for lacking the post-quantum hybrid key exchange
/// (X25519MLKEM768), which only its aws-lc-rs provider has; that one needs cmake and a C
/// toolchain to build, which our packaging and CI avoid. Key exchange is X25519 or the
/// NIST curves, as with most servers today.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
