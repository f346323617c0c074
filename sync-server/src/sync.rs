//! `GET /sync`: the automerge-repo websocket. The upgrade needs a valid session token
//! (`Authorization: Bearer …`, or `?token=…` for clients that can only pass a URL; the
//! query string is never logged). The connection then runs through [`connection`], which
//! stands between the socket and samod:
//!
//! - inbound, every frame must be a binary frame no larger than `max_message_bytes`,
//!   within the connection's message budget, and pass [`Inbound::judge`] (envelope,
//!   identity, access, the sync message, budgets, the guard); otherwise the client gets
//!   an `error` message and the connection is closed. Other connections carry on.
//! - outbound, a sync message waits until the changes it announces are committed to
//!   SQLite ([`Persisted::wait_for`]).
//! - the session is re-checked whenever sessions change on this server and every minute,
//!   so a logout, a lock or an expiry ends the connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use samod::{PeerId, Transport};
use tokio::sync::watch;

use crate::accounts::{AccountError, Principal};
use crate::auth::{authenticated, bearer};
use crate::blocking::blocking;
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::inbound::{Breach, Budget, Inbound, Verdict};
use crate::listener::Slot;
use crate::share::peer_id_for;
use crate::state::AppState;
use crate::storage::Persisted;
use crate::sync_message::Limits;
use crate::wire;

/// The token of an upgrade request: the header, else the `token` query parameter.
fn token_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    bearer(headers).or_else(|| {
        query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    })
}

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    ClientIp(address): ClientIp,
    slot: Option<Extension<Slot>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(token) = token_of(&headers, query.as_deref()) else {
        return ApiError::from(AccountError::NoSession).into_response();
    };
    // Subscribed before the token is checked: a session that ends between the check and
    // the relay's start is still noticed.
    let sessions = state.sessions_changed.subscribe();
    let principal = match authenticated(&state, &token).await {
        Ok(principal) => principal,
        Err(e) => return e.into_response(),
    };
    let Some(permit) = state.websockets.admit(
        principal.account_id.as_str(),
        &token,
        state.config.max_websockets_per_session,
        state.config.max_websockets_per_account,
    ) else {
        return ApiError::too_many_connections().into_response();
    };
    // From here on it counts against its account, not its address.
    let slot = slot.map(|Extension(slot)| slot);
    if let Some(slot) = &slot {
        slot.authenticated();
    }
    let worker = state.clone();
    let account = principal.account_id.clone();
    let logged = blocking(move || {
        worker
            .accounts
            .record_access(address, Some(account.as_str()), "sync")
    })
    .await;
    if logged.is_err() {
        tracing::error!("cannot write the access log");
    }
    let limit = state.config.max_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            // Held as long as the websocket is open.
            let _held = (permit, slot);
            connection(state, socket, token, principal, sessions).await;
        })
}

/// Why the server ends a connection; the text goes to the client in an `error` message.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Breach(Breach),
    TextFrame,
    TooLarge,
    Flood,
    SessionEnded,
    NotStored,
    ShuttingDown,
    /// samod ended the connection (a message it could not take).
    Closed,
    /// The client did not take what the server sent for `write_timeout_seconds`.
    TooSlow,
}

impl Ending {
    fn message(self) -> String {
        match self {
            Ending::Breach(breach) => breach.to_string(),
            Ending::TextFrame => "text frames are not part of the protocol".into(),
            Ending::TooLarge => "message too large".into(),
            Ending::Flood => "too many messages".into(),
            Ending::SessionEnded => "session ended".into(),
            Ending::NotStored => "the server cannot store changes right now".into(),
            Ending::ShuttingDown => "the server is shutting down".into(),
            Ending::Closed => "the server ended the connection".into(),
            Ending::TooSlow => "the connection does not take what it is sent".into(),
        }
    }

    fn code(self) -> u16 {
        match self {
            Ending::Breach(Breach::Malformed(_) | Breach::SyncMessage(_)) | Ending::TextFrame => {
                close_code::PROTOCOL
            }
            Ending::TooLarge | Ending::Breach(Breach::TooLarge) => close_code::SIZE,
            Ending::Breach(_) | Ending::Flood | Ending::SessionEnded | Ending::TooSlow => {
                close_code::POLICY
            }
            Ending::NotStored | Ending::Closed => close_code::ERROR,
            Ending::ShuttingDown => close_code::AWAY,
        }
    }

    fn metric(self) -> &'static str {
        match self {
            Ending::Breach(Breach::Malformed(_) | Breach::SyncMessage(_)) | Ending::TextFrame => {
                "malformed"
            }
            Ending::Breach(Breach::Impostor) => "impostor",
            Ending::Breach(Breach::TooLarge) | Ending::TooLarge => "too-large",
            Ending::Breach(Breach::TooManyUnavailable) => "unavailable",
            Ending::Breach(Breach::TooMuchHeld) => "held",
            Ending::Breach(Breach::Refused(_)) => "refused",
            Ending::Breach(Breach::EphemeralFlood) => "flood",
            Ending::Flood => "flood",
            Ending::SessionEnded => "session-ended",
            Ending::NotStored => "not-stored",
            Ending::ShuttingDown => "shutdown",
            Ending::Closed => "closed",
            Ending::TooSlow => "too-slow",
        }
    }
}

type SamodInbound = futures::channel::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

async fn connection(
    state: Arc<AppState>,
    socket: WebSocket,
    token: String,
    who: Principal,
    sessions: watch::Receiver<u64>,
) {
    let peer_id = peer_id_for(&who.account_id, &token);
    let peer = PeerId::from(peer_id.as_str());
    let (to_samod, samod_in) = futures::channel::mpsc::channel(16);
    let (samod_out, mut from_samod) = futures::channel::mpsc::channel::<Vec<u8>>(16);
    let transport = Transport::new(
        samod_in,
        samod_out.sink_map_err(|_| std::io::Error::other("connection closed")),
    )
    .with_expected_peer_id(peer);
    if state.acceptor.accept(transport).is_err() {
        return;
    }
    state
        .metrics
        .sync_connections
        .fetch_add(1, Ordering::Relaxed);
    let (mut ws_out, mut ws_in) = socket.split();
    let limits = Limits::for_messages_of(
        state.config.max_message_bytes,
        state.config.max_inflated_bytes,
    );
    let edge = Inbound::new(peer_id, who.account_id.clone(), limits);
    let ending = relay(
        &state,
        &token,
        edge,
        &mut ws_in,
        &mut from_samod,
        to_samod,
        &mut ws_out,
        sessions,
    )
    .await;
    if let Some(ending) = ending {
        state.metrics.count_ending(ending.metric());
        // A client that does not read gets a moment for the goodbye, not more.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            ws_out
                .send(Message::Binary(wire::error_frame(&ending.message()).into()))
                .await?;
            ws_out
                .send(Message::Close(Some(CloseFrame {
                    code: ending.code(),
                    reason: ending.metric().into(),
                })))
                .await
        })
        .await;
        // A closing handshake, not a hang-up: read (and drop) what the client still
        // sends until it closes too, for a moment at most. Closing a socket with unread
        // data makes the kernel reset the connection, and the client may then never
        // read the error message above (seen with a flooding client).
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(message)) = ws_in.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws_out.close()).await;
    state
        .metrics
        .sync_connections
        .fetch_sub(1, Ordering::Relaxed);
}

/// Moves frames both ways until either side ends; `Some` when the server ends it.
#[allow(clippy::too_many_arguments)]
async fn relay(
    state: &Arc<AppState>,
    token: &str,
    mut edge: Inbound,
    ws_in: &mut (impl futures::Stream<Item = Result<Message, axum::Error>> + Unpin),
    from_samod: &mut futures::channel::mpsc::Receiver<Vec<u8>>,
    mut to_samod: SamodInbound,
    ws_out: &mut (impl futures::Sink<Message, Error = axum::Error> + Unpin),
    mut sessions: watch::Receiver<u64>,
) -> Option<Ending> {
    let config = &state.config;
    let persisted: &Persisted = &state.persisted;
    let persist_timeout = Duration::from_secs(config.persist_timeout_seconds);
    // A client that stops reading would otherwise make samod queue, without bound,
    // everything the connection is sent.
    let write_timeout = Duration::from_secs(config.write_timeout_seconds);
    let mut budget = Budget::new(config.message_burst, config.messages_per_second);
    let mut shutdown = state.shutdown.subscribe();
    let mut recheck = tokio::time::interval(Duration::from_secs(60));
    recheck.tick().await;
    // A frame read from the client that samod has not taken yet. While one waits, no
    // further frame is read, but samod's answers keep flowing out: waiting for samod
    // while samod waits for us to take its answers would stall the connection (seen
    // with a client that sent many requests at once).
    let mut waiting: Option<Vec<u8>> = None;
    // Whether the client sent anything since the last re-check.
    let mut active = false;
    loop {
        tokio::select! {
            ready = futures::future::poll_fn(|cx| to_samod.poll_ready(cx)), if waiting.is_some() => {
                if ready.is_err() {
                    return None;
                }
                if let Some(bytes) = waiting.take()
                    && to_samod.start_send(Ok(bytes)).is_err()
                {
                    return None;
                }
            }
            inbound = ws_in.next(), if waiting.is_none() => match inbound {
                Some(Ok(Message::Binary(bytes))) => {
                    if !budget.take() {
                        return Some(Ending::Flood);
                    }
                    active = true;
                    match edge.judge(state, &bytes).await {
                        Err(breach) => return Some(Ending::Breach(breach)),
                        Ok(Verdict::Ignore) => {}
                        Ok(Verdict::Answer(answer)) => {
                            let sent = tokio::time::timeout(
                                write_timeout,
                                ws_out.send(Message::Binary(answer.into())),
                            )
                            .await;
                            match sent {
                                Err(_) => return Some(Ending::TooSlow),
                                Ok(Err(_)) => return None,
                                Ok(Ok(())) => {}
                            }
                        }
                        Ok(Verdict::Forward) => {
                            state.metrics.frames_in.fetch_add(1, Ordering::Relaxed);
                            waiting = Some(bytes.to_vec());
                        }
                    }
                }
                Some(Ok(Message::Text(_))) => return Some(Ending::TextFrame),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Err(e)) => {
                    // tungstenite reports an oversized message as a capacity error.
                    let text = e.to_string();
                    return (text.contains("too long") || text.contains("Space limit"))
                        .then_some(Ending::TooLarge);
                }
            },
            outbound = from_samod.next() => {
                let Some(bytes) = outbound else {
                    return Some(Ending::Closed);
                };
                if let Ok(frame) = wire::inspect(&bytes)
                    && let (Some(doc), Some(heads)) = (frame.document_id, wire::reflected_heads(&frame))
                    && !persisted.wait_for(doc, &heads, persist_timeout).await
                {
                    return Some(Ending::NotStored);
                }
                state.metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                match tokio::time::timeout(write_timeout, ws_out.send(Message::Binary(bytes.into()))).await {
                    Err(_) => return Some(Ending::TooSlow),
                    Ok(Err(_)) => return None,
                    Ok(Ok(())) => {}
                }
            }
            changed = sessions.changed() => {
                if changed.is_err() || !session_valid(state, token, false).await {
                    return Some(Ending::SessionEnded);
                }
            }
            _ = recheck.tick() => {
                // Only what the client sends keeps its session alive: an open but
                // silent connection ends when the session's idle time is up.
                if !session_valid(state, token, std::mem::take(&mut active)).await {
                    return Some(Ending::SessionEnded);
                }
            }
            _ = shutdown.changed() => return Some(Ending::ShuttingDown),
        }
    }
}

/// Whether the session of `token` is still valid; `used` refreshes its idle time.
async fn session_valid(state: &Arc<AppState>, token: &str, used: bool) -> bool {
    let worker = state.clone();
    let token = token.to_owned();
    blocking(move || {
        if used {
            worker.accounts.authenticate(&token)
        } else {
            worker.accounts.session(&token)
        }
    })
    .await
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_header_or_the_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            token_of(&headers, Some("token=abc&x=1")).as_deref(),
            Some("abc")
        );
        assert_eq!(token_of(&headers, Some("x=1&token=")), None);
        assert_eq!(token_of(&headers, None), None);
        headers.insert("authorization", "Bearer hdr".parse().unwrap());
        assert_eq!(
            token_of(&headers, Some("token=abc")).as_deref(),
            Some("hdr")
        );
    }

    #[test]
    fn the_budget_allows_a_burst_then_a_rate() {
        let mut budget = Budget::new(3, 0);
        assert!(budget.take() && budget.take() && budget.take());
        assert!(!budget.take());
    }
}
