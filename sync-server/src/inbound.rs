//! Every frame a client sends on its sync connection, judged before samod sees it:
//!
//! - the envelope ([`wire::inspect`]): one bounded CBOR map; frames that carry no
//!   document state (`join`, `leave`, `ephemeral`, …) are small;
//! - who it claims to be: `join` and every document message must name the peer id the
//!   session was given, and document messages must be addressed to the server (samod
//!   would otherwise log whatever a client calls itself);
//! - access: a message about a document this peer may not read, or that does not exist,
//!   is answered `doc-unavailable` here, exactly as samod would answer it, and samod
//!   never hears of it (samod starts an actor for every id it is asked about and keeps
//!   it, about 20 KB each);
//! - the automerge sync message of `request` and `sync` ([`sync_message::check`]);
//! - budgets per connection: how many unavailable documents it may ask about, and how
//!   much announced state (heads, needs, Bloom filters) it may make the server hold;
//! - the guard ([`guard`]) on changes to client records.
//!
//! Gossip samod ignores (`remote-heads-changed`, `remote-subscription-change`) is
//! dropped here. A frame that breaks a rule ends the connection; everyone else's carry on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{DocumentId, UserId};

use crate::access::Access;
use crate::guard::{self, Check, Refusal};
use crate::state::AppState;
use crate::sync_message::{self, Limits, SyncMessageError};
use crate::wire::{self, SERVER_PEER_ID, WireError};

/// Frames that carry no document state are small: a `join` is about 150 bytes, an
/// `ephemeral` presence message a few hundred.
pub const MAX_SMALL_FRAME: usize = 64 * 1024;

/// Documents a connection may ask about that it cannot have. A client asks for what its
/// directory lists; it meets an unavailable document only when it lost access or a
/// document was purged since it last synced.
pub const MAX_UNAVAILABLE: usize = 10_000;

/// Bytes of announced state (32 per hash, plus Bloom filters) a connection may make the
/// server hold, over all its documents, counting each document's latest message. A
/// client holding 100,000 documents with a head each announces about 3 MB.
pub const MAX_HELD_BYTES: usize = 16 * 1024 * 1024;

/// A token bucket of inbound messages.
#[derive(Debug)]
pub struct Budget {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last: Instant,
}

impl Budget {
    pub fn new(burst: u32, per_second: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_second: f64::from(per_second),
            last: Instant::now(),
        }
    }

    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Ephemeral messages (presence, cursors) are relayed to every other peer of the
/// document, so each costs the server many times over: a burst of 100, then 20 a second.
const EPHEMERAL_BURST: u32 = 100;
const EPHEMERAL_PER_SECOND: u32 = 20;

/// Why a frame ends its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Breach {
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    #[error("malformed sync message: {0}")]
    SyncMessage(#[from] SyncMessageError),
    #[error("the message is not from this session's peer id")]
    Impostor,
    #[error("message too large")]
    TooLarge,
    #[error("too many requests for documents that are not available")]
    TooManyUnavailable,
    #[error("too much announced state")]
    TooMuchHeld,
    #[error("too many ephemeral messages")]
    EphemeralFlood,
    #[error("change refused: {0}")]
    Refused(#[from] Refusal),
}

/// What to do with a frame that broke no rule.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to samod.
    Forward,
    /// Answer it here, with these bytes; samod never sees it.
    Answer(Vec<u8>),
    /// Drop it.
    Ignore,
}

/// One connection's view of what its client sent.
#[derive(Debug)]
pub struct Inbound {
    peer: String,
    account: UserId,
    limits: Limits,
    unavailable: usize,
    held: HashMap<String, usize>,
    held_total: usize,
    ephemeral: Budget,
}

impl Inbound {
    pub fn new(peer: String, account: UserId, limits: Limits) -> Self {
        Self {
            peer,
            account,
            limits,
            unavailable: 0,
            held: HashMap::new(),
            held_total: 0,
            ephemeral: Budget::new(EPHEMERAL_BURST, EPHEMERAL_PER_SECOND),
        }
    }

    /// Judges one binary frame from the client.
    pub async fn judge(&mut self, state: &Arc<AppState>, bytes: &[u8]) -> Result<Verdict, Breach> {
        let frame = wire::inspect(bytes)?;
        let carries_state = matches!(frame.kind, "request" | "sync");
        if !carries_state && bytes.len() > MAX_SMALL_FRAME {
            return Err(Breach::TooLarge);
        }
        if frame.sender.is_some_and(|sender| sender != self.peer)
            || (frame.kind == "join" && frame.sender.is_none())
        {
            return Err(Breach::Impostor);
        }
        match frame.kind {
            "remote-heads-changed" | "remote-subscription-change" => return Ok(Verdict::Ignore),
            // The server sends `peer`; a client never does.
            "peer" => return Err(Breach::Malformed(WireError::UnknownType)),
            _ => {}
        }
        let Some(doc) = frame.document_id else {
            return Ok(Verdict::Forward);
        };
        let Some(id) = wire::document_id(doc) else {
            return Err(WireError::NonCanonicalId.into());
        };
        if frame.sender.is_none() || frame.target != Some(SERVER_PEER_ID) {
            return Err(Breach::Impostor);
        }
        let access = state.registry.access(&id, &self.account);
        if access == Access::None {
            if !carries_state {
                return Ok(Verdict::Ignore);
            }
            self.unavailable += 1;
            if self.unavailable > MAX_UNAVAILABLE {
                return Err(Breach::TooManyUnavailable);
            }
            return Ok(Verdict::Answer(wire::unavailable_frame(&self.peer, doc)));
        }
        if !carries_state {
            if frame.kind == "ephemeral" && !self.ephemeral.take() {
                return Err(Breach::EphemeralFlood);
            }
            return Ok(Verdict::Forward);
        }
        let data = frame.data.ok_or(WireError::BadField)?;
        let summary = sync_message::check(data, &self.limits)?;
        self.hold(doc, summary.held_bytes())?;
        if summary.changes > 0 && access == Access::Write {
            guarded(state, id, data).await?;
        }
        Ok(Verdict::Forward)
    }

    /// Counts what the latest message about `doc` makes the server hold.
    fn hold(&mut self, doc: &str, bytes: usize) -> Result<(), Breach> {
        let before = self.held.insert(doc.to_owned(), bytes).unwrap_or(0);
        self.held_total = self.held_total - before + bytes;
        if self.held_total > MAX_HELD_BYTES {
            return Err(Breach::TooMuchHeld);
        }
        Ok(())
    }
}

/// Runs [`guard::check`] on a sync message for a client record that carries changes
/// (the sender may write the record; samod drops anyone else's changes). The check runs
/// on a copy of the server's document, off the async workers, and a panic in it refuses
/// the message instead of taking anything else down.
async fn guarded(state: &Arc<AppState>, doc: DocumentId, data: &[u8]) -> Result<(), Refusal> {
    let is_record = state
        .registry
        .entry(&doc)
        .is_some_and(|entry| entry.kind == model::DocKind::ClientRecord);
    if !is_record {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(state.config.persist_timeout_seconds);
    loop {
        let held = held_copy(state, doc).await?;
        let creation = state.registry.creation(&doc);
        let data = data.to_vec();
        let checked = tokio::task::spawn_blocking(move || {
            // The copy is dropped after a panic, so nothing half-changed is seen again.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                guard::check(&data, held, creation)
            }))
        })
        .await;
        let checked = match checked {
            Ok(Ok(checked)) => checked,
            _ => {
                tracing::error!(document = %doc, "the guard failed on a message");
                return Err(Refusal::Undecodable);
            }
        };
        match checked {
            Check::Passed => return Ok(()),
            Check::Refused(refusal) => return Err(refusal),
            Check::Created(hash) => {
                // A record registered before creating changes were recorded: the first
                // one to arrive is its creation from now on.
                let registry = state.registry.clone();
                let recorded =
                    tokio::task::spawn_blocking(move || registry.set_creation(doc, hash)).await;
                return match recorded {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(Refusal::Unavailable),
                };
            }
            // The changes build on earlier ones samod has taken but not yet stored.
            Check::NeedsHeld if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Check::NeedsHeld => return Err(Refusal::Unavailable),
        }
    }
}

/// A copy of samod's document `doc`, if the server has stored anything of it; never
/// asks peers. Copied under samod's lock, checked outside it.
async fn held_copy(
    state: &Arc<AppState>,
    doc: DocumentId,
) -> Result<Option<automerge::Automerge>, Refusal> {
    let registry = state.registry.clone();
    let stored = state.persisted.knows(&doc.to_string())
        || tokio::task::spawn_blocking(move || registry.stored(&doc))
            .await
            .unwrap_or(false);
    if !stored {
        return Ok(None);
    }
    match state.repo.find(wire::to_samod(doc)).await {
        Ok(Some(handle)) => crate::authoring::held(&handle, |held| held.clone())
            .map(Some)
            .map_err(|_| Refusal::Unavailable),
        // Stored but not found: stopping, or storage failing; refuse rather than guess.
        _ => Err(Refusal::Unavailable),
    }
}
