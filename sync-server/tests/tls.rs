//! The server speaking TLS itself (`tls_cert`, `tls_key`), with a certificate of a CA made
//! for the test: the API over HTTPS and the sync websocket over WSS; plain HTTP to the
//! TLS port fails cleanly, frees its slot and leaves the server serving; a client that
//! connects and stays silent is closed after the header-read timeout; and TLS settings
//! that do not work stop the start, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/pki.rs"]
mod pki;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{PASSWORD, Server};
use pki::Certificates;

/// The names the test certificates are for.
const LOOPBACK: &[&str] = &["127.0.0.1", "localhost"];
use futures::{SinkExt as _, StreamExt as _};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use sync_server::Config;
use sync_server::accounts::Role;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

fn tls_config(dir: &tempfile::TempDir, certificates: &Certificates) -> Config {
    Config {
        tls_cert: Some(certificates.cert.clone()),
        tls_key: Some(certificates.key.clone()),
        ..common::config(dir)
    }
}

/// A TLS connection to `addr` that trusts only `ca`.
async fn connect(addr: SocketAddr, ca: &Path) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    #[allow(deprecated)] // ring, as the server and the client app use it (see src/tls.rs)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap()
}

/// One HTTP/1.1 request over `stream`; the status and the body.
async fn request(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // A peer that closes without TLS's close_notify ends the read with an error; what
    // came before it counts.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).into_owned();
    assert!(response.starts_with("HTTP/1.1 "), "{response}");
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn https(server: &Server, ca: &Path, method: &str, path: &str, body: &str) -> (u16, String) {
    request(connect(server.addr, ca).await, method, path, body).await
}

/// Writes plain HTTP to the TLS port; what comes back before the server closes.
async fn plain_http(addr: SocketAddr) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
    assert!(
        read.await.is_ok(),
        "the server did not close the connection"
    );
    answer
}

#[tokio::test]
async fn https_serves_the_api_and_wss_the_sync_protocol() {
    let (dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = pki::certificates(pki.path(), LOOPBACK, false);
    let config = tls_config(&dir, &certificates);
    assert_eq!(
        config.public_base_url(),
        "https://127.0.0.1:8470",
        "links in e-mails"
    );
    let server = Server::start(&config).await;
    server.account("t", "anna", Role::Counsellor);
    let (status, _) = https(&server, &certificates.ca, "GET", "/healthz", "").await;
    assert_eq!(status, 200);
    let login = serde_json::json!({ "login": "anna", "password": PASSWORD }).to_string();
    let (status, body) = https(&server, &certificates.ca, "POST", "/api/login", &login).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (token, peer_id) = (
        answer["token"].as_str().unwrap(),
        answer["peer_id"].as_str().unwrap(),
    );

    // The sync websocket, upgraded inside TLS, answers a join with the server's peer.
    let mut upgrade = format!("wss://{}/sync", server.addr)
        .into_client_request()
        .unwrap();
    upgrade
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let stream = connect(server.addr, &certificates.ca).await;
    let (mut ws, response) = tokio_tungstenite::client_async(upgrade, stream)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    let mut join = Vec::new();
    minicbor::Encoder::new(&mut join)
        .map(3)
        .unwrap()
        .str("type")
        .unwrap()
        .str("join")
        .unwrap()
        .str("senderId")
        .unwrap()
        .str(peer_id)
        .unwrap()
        .str("supportedProtocolVersions")
        .unwrap()
        .array(1)
        .unwrap()
        .str("1")
        .unwrap();
    ws.send(Message::Binary(join.into())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Binary(reply) = reply else {
        panic!("not a binary frame: {reply:?}");
    };
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.contains("peer") && text.contains("sync-server"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_fails_cleanly_and_the_server_keeps_serving() {
    let (dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = pki::certificates(pki.path(), LOOPBACK, false);
    let config = Config {
        // Each failed connection must give its slot back, or the third would be refused.
        max_connections_per_address: 2,
        ..tls_config(&dir, &certificates)
    };
    let server = Server::start(&config).await;
    for _ in 0..5 {
        let answer = plain_http(server.addr).await;
        assert!(
            !answer.starts_with(b"HTTP/"),
            "plain HTTP was answered: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    let (status, _) = https(&server, &certificates.ca, "GET", "/healthz", "").await;
    assert_eq!(status, 200, "still serving");
    server.stop().await;
}

#[tokio::test]
async fn a_client_silent_before_its_handshake_is_closed_after_the_header_read_timeout() {
    let (dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = pki::certificates(pki.path(), LOOPBACK, false);
    let config = Config {
        header_read_timeout_seconds: 1,
        max_connections_per_address: 1,
        ..tls_config(&dir, &certificates)
    };
    let server = Server::start(&config).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // While it holds the address's only slot, another connection is closed at once.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut other = TcpStream::connect(server.addr).await.unwrap();
    let mut byte = [0u8; 1];
    let refused = tokio::time::timeout(Duration::from_millis(500), other.read(&mut byte)).await;
    assert!(
        matches!(refused, Ok(Ok(0)) | Ok(Err(_))),
        "the slot was not held"
    );
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut byte)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "a silent client kept its connection"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    let (status, _) = https(&server, &certificates.ca, "GET", "/healthz", "").await;
    assert_eq!(status, 200, "the slot is free again");
    server.stop().await;
}

#[tokio::test]
async fn tls_settings_that_do_not_work_stop_the_start_naming_the_file() {
    let (dir, pki) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let certificates = pki::certificates(pki.path(), LOOPBACK, false);
    let refused = |config: Config| async move {
        let error = sync_server::open_state(&config)
            .await
            .expect_err("started anyway");
        format!("{error:#}")
    };
    let only_cert = Config {
        tls_key: None,
        ..tls_config(&dir, &certificates)
    };
    let error = refused(only_cert).await;
    assert!(
        error.contains("tls_cert is set but tls_key is not"),
        "{error}"
    );
    let only_key = Config {
        tls_cert: None,
        ..tls_config(&dir, &certificates)
    };
    let error = refused(only_key).await;
    assert!(
        error.contains("tls_key is set but tls_cert is not"),
        "{error}"
    );

    let not_pem = pki.path().join("not-a-certificate.pem");
    std::fs::write(&not_pem, "nothing here\n").unwrap();
    let error = refused(Config {
        tls_cert: Some(not_pem.clone()),
        ..tls_config(&dir, &certificates)
    })
    .await;
    assert!(error.contains(&not_pem.display().to_string()), "{error}");
    let missing = pki.path().join("missing.pem");
    let error = refused(Config {
        tls_key: Some(missing.clone()),
        ..tls_config(&dir, &certificates)
    })
    .await;
    assert!(error.contains(&missing.display().to_string()), "{error}");
    // The certificate as the key: no private key in it.
    let error = refused(Config {
        tls_key: Some(certificates.cert.clone()),
        ..tls_config(&dir, &certificates)
    })
    .await;
    assert!(error.contains("cannot read tls_key"), "{error}");
    // A key of another certificate.
    let other = tempfile::tempdir().unwrap();
    let other = pki::certificates(other.path(), LOOPBACK, false);
    let error = refused(Config {
        tls_key: Some(other.key.clone()),
        ..tls_config(&dir, &certificates)
    })
    .await;
    assert!(error.contains("does not fit"), "{error}");
    assert!(
        !dir.path().join("sync-server.sqlite3").exists(),
        "nothing opened before the check"
    );
}

#[test]
fn the_tls_files_come_from_the_environment_too() {
    let vars = [
        ("SYNC_SERVER_TLS_CERT", "/etc/sync-server/chain.pem"),
        ("SYNC_SERVER_TLS_KEY", "/etc/sync-server/key.pem"),
        ("SYNC_SERVER_LISTEN", "0.0.0.0:8470"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = Config::load(None, vars).unwrap();
    assert_eq!(
        config.tls_cert.as_deref(),
        Some(Path::new("/etc/sync-server/chain.pem"))
    );
    assert!(config.serves_tls());
    assert_eq!(config.public_base_url(), "https://0.0.0.0:8470");
    let plain = Config::load(None, Vec::new()).unwrap();
    assert!(!plain.serves_tls());
    assert!(plain.public_base_url().starts_with("http://"));
}
