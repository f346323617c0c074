//! samod's transport: the server's websocket dialed with the session's bearer token,
//! binary frames in both directions; `wss://` with the same TLS configuration as the
//! HTTP calls (`api::Server`).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use samod::{DialError, Dialer, PeerId, Transport};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::api::Server;
use crate::tls;

/// Dials the server's websocket with the session's bearer token.
pub(super) struct WsDialer {
    url: String,
    host: String,
    tls: Arc<rustls::ClientConfig>,
    token: String,
}

impl WsDialer {
    pub(super) fn new(server: &Server, token: &str) -> Self {
        Self {
            url: server.sync_url(),
            host: server.host().to_owned(),
            tls: server.tls_config(),
            token: token.to_owned(),
        }
    }
}

impl Dialer for WsDialer {
    type Error = std::io::Error;

    fn url(&self) -> samod::Url {
        samod::Url::parse(&self.url)
            .or_else(|_| samod::Url::parse("ws://invalid.invalid/sync"))
            .unwrap_or_else(|_| unreachable!("a constant URL parses"))
    }

    fn connect(
        &self,
    ) -> futures::future::BoxFuture<'static, Result<Transport, DialError<Self::Error>>> {
        let url = self.url.clone();
        let token = self.token.clone();
        let host = self.host.clone();
        let connector = Connector::Rustls(self.tls.clone());
        Box::pin(async move {
            let mut request = url
                .into_client_request()
                .map_err(|e| DialError::PermanentFailure(std::io::Error::other(e)))?;
            let header = format!("Bearer {token}")
                .parse()
                .map_err(|_| DialError::PermanentFailure(std::io::Error::other("bad token")))?;
            request.headers_mut().insert("authorization", header);
            let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
                request,
                None,
                false,
                Some(connector),
            )
            .await
            .map_err(|error| match tls::explain(&error, &host) {
                // Trying again would fail the same way: the person has to act.
                Some(german) => DialError::PermanentFailure(std::io::Error::other(german)),
                None => DialError::transient(std::io::Error::other(error)),
            })?;
            let (sink, stream) = ws.split();
            let stream = stream.filter_map(|message| async move {
                match message {
                    Ok(Message::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                    Ok(_) => None,
                    Err(e) => Some(Err(std::io::Error::other(e))),
                }
            });
            let sink = sink
                .with(|bytes: Vec<u8>| async move {
                    Ok::<_, tungstenite::Error>(Message::Binary(bytes.into()))
                })
                .sink_map_err(std::io::Error::other);
            Ok(Transport::new(Box::pin(stream), Box::pin(sink))
                .with_expected_peer_id(PeerId::from("sync-server")))
        })
    }
}
