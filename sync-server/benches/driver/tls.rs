//! TLS for the driver, to measure what HTTPS and WSS cost: a CA and a certificate for
//! 127.0.0.1 made with rcgen into the server's data directory (ours then serves with
//! `tls_cert` and `tls_key`), and a client configuration that trusts only that CA. The
//! same rustls with ring as the desktop client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The server's PEM files and a client configuration that trusts their CA.
#[derive(Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("cert", &self.cert).finish()
    }
}

impl Tls {
    /// A new CA, and a certificate it signed for 127.0.0.1, written into `dir`.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Benchmark CA");
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = params.signed_by(&key, &issuer)?;
        let (cert_path, key_path) = (dir.join("tls-cert.pem"), dir.join("tls-key.pem"));
        std::fs::write(&cert_path, cert.pem())?;
        std::fs::write(&key_path, key.serialize_pem())?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone())?;
        #[allow(deprecated)] // ring, as the server and the desktop client use it
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            cert: cert_path,
            key: key_path,
            client: Arc::new(client),
        })
    }
}

/// A connection's bytes: the socket, or TLS over it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// A connection to 127.0.0.1:`port`, inside TLS when `tls` is given.
pub async fn connect(
    port: u16,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> anyhow::Result<Box<dyn Stream>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    Ok(match tls {
        None => Box::new(tcp),
        Some(config) => Box::new(
            tokio_rustls::TlsConnector::from(config.clone())
                .connect(ServerName::try_from("127.0.0.1")?, tcp)
                .await?,
        ),
    })
}
