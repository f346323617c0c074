//! Accepting connections, before any request is read. axum's own `serve` sets no
//! timeouts and takes every connection, so that idle or half-sent connections from one
//! client could fill the server's file descriptors (20,000 idle ones did, and `/healthz`
//! stopped answering). Here:
//!
//! - every connection holds a [`Slot`]: at most `max_connections` in all, and at most
//!   `max_connections_per_address` from one address (IPv6 by /64) until a request on it
//!   authenticates a sync websocket, which then counts against its account and session
//!   (`sync`) instead. Trusted proxies are exempt from the per-address count: behind one,
//!   every connection comes from the proxy. Over a limit, the connection is closed at
//!   once;
//! - a request's head must arrive within `header_read_timeout_seconds`, and so must the
//!   next one on a kept-alive connection, so an idle connection ends too;
//! - with TLS (`tls_cert`, `tls_key`), the handshake comes first and must also finish
//!   within `header_read_timeout_seconds`: a client that connects and stays silent
//!   holds its slot no longer than one that sends no request. A failed handshake (plain
//!   HTTP to the TLS port, an untrusted certificate) closes that connection only;
//! - on shutdown, connections finish the request in flight and close.
//!
//! Bodies have their own limits (size, and a timeout per request) in `layers` and `handlers::blobs`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::proxies::TrustedProxies;
use crate::throttle::AddressKey;

/// What connections may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub header_read_timeout: Duration,
    pub trusted_proxies: TrustedProxies,
}

/// Counts connections, in all and per address.
#[derive(Debug)]
pub struct Gate {
    limits: Limits,
    total: AtomicUsize,
    by_address: Mutex<HashMap<AddressKey, usize>>,
}

/// A connection's place at the [`Gate`], given back when the last clone is dropped (the
/// websocket an upgrade became holds one).
#[derive(Debug, Clone)]
pub struct Slot(Arc<SlotInner>);

#[derive(Debug)]
struct SlotInner {
    gate: Arc<Gate>,
    /// Counted against its address until it authenticates.
    address: Option<AddressKey>,
    counted: AtomicBool,
}

impl Slot {
    /// The connection authenticated (a sync websocket): it no longer counts against its
    /// address, only against its account and session.
    pub fn authenticated(&self) {
        if let Some(address) = self.0.address
            && self.0.counted.swap(false, Ordering::AcqRel)
        {
            self.0.gate.release_address(address);
        }
    }
}

impl Drop for SlotInner {
    fn drop(&mut self) {
        if let Some(address) = self.address
            && self.counted.swap(false, Ordering::AcqRel)
        {
            self.gate.release_address(address);
        }
        self.gate.total.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            total: AtomicUsize::new(0),
            by_address: Mutex::new(HashMap::new()),
        })
    }

    fn addresses(&self) -> std::sync::MutexGuard<'_, HashMap<AddressKey, usize>> {
        // Counts only; a panic elsewhere leaves them consistent.
        self.by_address
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for a connection from `peer`, if the limits allow one.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let total = self.total.fetch_add(1, Ordering::AcqRel);
        let address =
            (!self.limits.trusted_proxies.contains(&peer)).then(|| AddressKey::from(peer));
        let slot = Slot(Arc::new(SlotInner {
            gate: self.clone(),
            address,
            counted: AtomicBool::new(false),
        }));
        if total >= self.limits.max_connections {
            return None;
        }
        if let Some(address) = address {
            let mut addresses = self.addresses();
            let count = addresses.entry(address).or_default();
            if *count >= self.limits.max_connections_per_address {
                return None;
            }
            *count += 1;
            slot.0.counted.store(true, Ordering::Release);
        }
        Some(slot)
    }

    fn release_address(&self, address: AddressKey) {
        let mut addresses = self.addresses();
        if let Some(count) = addresses.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                addresses.remove(&address);
            }
        }
    }

    /// Connections open now (sync websockets included).
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// A connection's bytes: the socket itself, or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// Accepts connections on `listener` and serves `app` on each (inside TLS when `tls` is
/// given) until `stop` turns true; then lets every connection finish its request in
/// flight, for `drain` at most.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    gate: Arc<Gate>,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let (closing, _) = watch::channel(false);
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors, or the peer went away before we took it: pause
                // instead of spinning on an error that will come again at once.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = gate.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        let tls = tls.clone();
        let header_timeout = gate.limits.header_read_timeout;
        let mut closing = closing.subscribe();
        let active = active.clone();
        active.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            let stream: Box<dyn Stream> = match tls {
                None => Box::new(stream),
                Some(tls) => match handshake(&tls, stream, header_timeout, &mut closing).await {
                    Some(stream) => stream,
                    None => {
                        // The slot goes with the task.
                        active.fetch_sub(1, Ordering::AcqRel);
                        return;
                    }
                },
            };
            let service = app.map_request(move |request: hyper::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(slot.clone());
                request
            });
            let service = TowerToHyperService::new(service);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { closing.wait_for(|closing| *closing).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            active.fetch_sub(1, Ordering::AcqRel);
        });
    }
    drop(listener);
    closing.send_replace(true);
    let deadline = tokio::time::Instant::now() + drain;
    while active.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// TLS over `stream` within `timeout` (the header-read timeout); `None` when the
/// handshake fails or times out, or the server begins to close meanwhile.
async fn handshake(
    tls: &TlsAcceptor,
    stream: tokio::net::TcpStream,
    timeout: Duration,
    closing: &mut watch::Receiver<bool>,
) -> Option<Box<dyn Stream>> {
    tokio::select! {
        done = tokio::time::timeout(timeout, tls.accept(stream)) => match done {
            Ok(Ok(stream)) => Some(Box::new(stream)),
            Ok(Err(error)) => {
                tracing::debug!(%error, "a TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!("a TLS handshake timed out");
                None
            }
        },
        _ = async { closing.wait_for(|closing| *closing).await.map(|_| ()) } => None,
    }
}

#[cfg(test)]
mod tests;
