//! A client of any automerge-repo sync server: it keeps its own replicas of documents
//! (client records, as our desktop client does) with a sync state each, and speaks the
//! protocol over one websocket at a time. It can go offline and come back, like a
//! laptop: its edits wait in its replicas, and a new connection syncs everything it has.
//!
//! Every incoming frame is handled on the connection's reader task: the sync message is
//! applied and answered at once, under one lock, so replies leave in order. Scenarios
//! wait for conditions on [`State`] with [`Client::until`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use automerge::sync::{self, SyncDoc as _};
use automerge::{AutoCommit, ChangeHash};
use futures::{SinkExt as _, StreamExt as _};
use model::client_record::ClientRecord;
use model::{Document, Editor};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::frame::{self, Incoming};

/// Where and as whom a client connects.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    /// The session token, for servers that want one (ours).
    pub bearer: Option<String>,
    pub peer_id: String,
    /// For a `wss://` URL: the TLS configuration that trusts the server.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

/// When each change was made, so that the clients that receive it can tell how long it
/// took to reach them. Shared by every client of a scenario (one process, one clock).
#[derive(Debug, Default)]
pub struct SentLog(Mutex<HashMap<ChangeHash, Instant>>);

impl SentLog {
    fn record(&self, hash: ChangeHash) {
        lock(&self.0).insert(hash, Instant::now());
    }

    fn sent(&self, hash: &ChangeHash) -> Option<Instant> {
        lock(&self.0).get(hash).copied()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock fails the benchmark anyway; keep going meanwhile.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Body {
    /// A document as it arrived, not yet read as a client record.
    Plain(Box<AutoCommit>),
    Record(Box<Document<ClientRecord>>),
}

impl Body {
    fn automerge(&mut self) -> &mut AutoCommit {
        match self {
            Body::Plain(doc) => doc,
            Body::Record(record) => record.automerge(),
        }
    }
}

struct Replica {
    body: Body,
    sync: sync::State,
}

impl Replica {
    fn heads(&mut self) -> Vec<ChangeHash> {
        self.body.automerge().get_heads()
    }

    /// The server said it has exactly what we have.
    fn confirmed(&mut self) -> bool {
        let ours = self.heads();
        let Some(mut theirs) = self.sync.their_heads.clone() else {
            return false;
        };
        theirs.sort();
        !ours.is_empty() && theirs == ours
    }

    fn record(&mut self) -> anyhow::Result<&mut Document<ClientRecord>> {
        if let Body::Plain(doc) = &mut self.body {
            let record = Document::<ClientRecord>::load(&doc.save())?;
            self.body = Body::Record(Box::new(record));
        }
        match &mut self.body {
            Body::Record(record) => Ok(record),
            Body::Plain(_) => unreachable!("converted above"),
        }
    }
}

struct Link {
    me: String,
    server: String,
    out: mpsc::UnboundedSender<Vec<u8>>,
}

/// What a client knows: its replicas, which of them the server has confirmed, and
/// what happened on its connection.
#[derive(Default)]
pub struct State {
    docs: HashMap<String, Replica>,
    unconfirmed: HashSet<String>,
    unavailable: HashSet<String>,
    arrivals: Vec<Duration>,
    link: Option<Link>,
    /// At most this many documents offered on this connection and not yet confirmed
    /// (`in_flight`; 0: no limit); the rest wait in `queued`, in order, while they are
    /// in `waiting`.
    window: usize,
    in_flight: HashSet<String>,
    queued: VecDeque<String>,
    waiting: HashSet<String>,
    /// Why the last connection ended, when the server said so or it broke.
    pub ended: Option<String>,
    /// The changes this client made, by document, and those of them the server has
    /// acknowledged: announced heads that contain them (the server announces only
    /// heads it has on disk).
    authored: HashMap<ChangeHash, String>,
    acknowledged: HashSet<ChangeHash>,
    /// Whether to work out `acknowledged` (a walk of the document per message, so only
    /// where a scenario asks for it: it would distort timings).
    track_acknowledged: bool,
}

impl State {
    pub fn unconfirmed(&self) -> usize {
        self.unconfirmed.len()
    }

    pub fn is_confirmed(&self, document: &str) -> bool {
        self.docs.contains_key(document) && !self.unconfirmed.contains(document)
    }

    pub fn unavailable(&self) -> usize {
        self.unavailable.len()
    }

    pub fn arrivals(&self) -> usize {
        self.arrivals.len()
    }

    /// The changes this client made that the server has acknowledged.
    pub fn acknowledged(&self) -> &HashSet<ChangeHash> {
        &self.acknowledged
    }

    /// How many changes this client made.
    pub fn authored(&self) -> usize {
        self.authored.len()
    }

    /// Offers `document` to the server now, or, when the window is full, once enough
    /// documents before it are confirmed.
    fn offer(&mut self, document: &str) {
        if self.window == 0 || self.in_flight.len() < self.window || self.link.is_none() {
            self.push(document);
        } else if self.waiting.insert(document.to_owned()) {
            self.unconfirmed.insert(document.to_owned());
            self.queued.push_back(document.to_owned());
        }
    }

    /// Offers queued documents while the window has room.
    fn drain(&mut self) {
        while self.window > 0 && self.in_flight.len() < self.window {
            let Some(document) = self.queued.pop_front() else {
                return;
            };
            // One the server sent something for meanwhile was pushed then.
            if self.waiting.contains(&document) {
                self.push(&document);
            }
        }
    }

    /// Sends the next sync message for `document`, if the protocol has one to send.
    fn push(&mut self, document: &str) {
        let State {
            docs,
            link,
            unconfirmed,
            in_flight,
            waiting,
            ..
        } = self;
        let Some(replica) = docs.get_mut(document) else {
            return;
        };
        let confirmed = replica.confirmed();
        if confirmed {
            unconfirmed.remove(document);
        } else {
            unconfirmed.insert(document.to_owned());
        }
        let Some(link) = link else { return };
        waiting.remove(document);
        if confirmed {
            in_flight.remove(document);
        } else {
            in_flight.insert(document.to_owned());
        }
        let empty = replica.heads().is_empty();
        let message = replica
            .body
            .automerge()
            .sync()
            .generate_sync_message(&mut replica.sync);
        if let Some(message) = message {
            let kind = if empty { "request" } else { "sync" };
            let bytes = frame::document(kind, &link.me, &link.server, document, &message.encode());
            let _ = link.out.send(bytes);
        }
    }

    fn receive(&mut self, incoming: Incoming, sent: &SentLog) {
        match incoming {
            Incoming::Sync { document, data } => {
                let message = match sync::Message::decode(&data) {
                    Ok(message) => message,
                    Err(e) => {
                        self.ended = Some(format!("an undecodable sync message: {e}"));
                        return;
                    }
                };
                let replica = self
                    .docs
                    .entry(document.clone())
                    .or_insert_with(|| Replica {
                        body: Body::Plain(Box::new(AutoCommit::new())),
                        sync: sync::State::new(),
                    });
                let before = replica.heads();
                let doc = replica.body.automerge();
                if let Err(e) = doc.sync().receive_sync_message(&mut replica.sync, message) {
                    self.ended = Some(format!("a sync message that does not apply: {e}"));
                    return;
                }
                // What the server announced it has, of what we made.
                if self.track_acknowledged
                    && let Some(theirs) = replica.sync.their_heads.clone()
                {
                    let known: Vec<ChangeHash> = theirs
                        .into_iter()
                        .filter(|h| doc.get_change_by_hash(h).is_some())
                        .collect();
                    let later: HashSet<ChangeHash> = doc
                        .get_changes_meta(&known)
                        .iter()
                        .map(|c| c.hash)
                        .collect();
                    for (hash, of) in &self.authored {
                        if *of == document
                            && !later.contains(hash)
                            && doc.get_change_by_hash(hash).is_some()
                        {
                            self.acknowledged.insert(*hash);
                        }
                    }
                }
                if doc.get_heads() != before {
                    let now = Instant::now();
                    for change in doc.get_changes_meta(&before) {
                        if let Some(at) = sent.sent(&change.hash) {
                            self.arrivals.push(now - at);
                        }
                    }
                }
                self.unavailable.remove(&document);
                self.push(&document);
                self.drain();
            }
            Incoming::Unavailable { document } => {
                self.in_flight.remove(&document);
                self.unavailable.insert(document);
                self.drain();
            }
            Incoming::Error { message } => self.ended = Some(format!("the server said: {message}")),
            Incoming::Peer { .. } | Incoming::Other => {}
        }
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    progress: watch::Sender<u64>,
    sent: Arc<SentLog>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("docs", &self.docs.len())
            .field("unconfirmed", &self.unconfirmed.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct Client {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Client {
    pub fn new(sent: Arc<SentLog>) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                progress: watch::Sender::new(0),
                sent,
            }),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Works out which of its changes the server acknowledged (see
    /// [`Self::acknowledged_changes`]).
    pub fn tracking_acknowledged(self) -> Self {
        self.state().track_acknowledged = true;
        self
    }

    /// Offers at most `window` documents at a time (0: all at once, as automerge-repo
    /// clients do).
    pub fn windowed(self, window: usize) -> Self {
        self.state().window = window;
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Opens a websocket, says `join`, waits for `peer`, then offers every document it
    /// holds (a sync message each, from the sync state a client keeps between sessions).
    pub async fn connect(&self, endpoint: &Endpoint) -> anyhow::Result<()> {
        self.disconnect();
        let mut request = endpoint.url.as_str().into_client_request()?;
        if let Some(token) = &endpoint.bearer {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
        }
        let port = request
            .uri()
            .port_u16()
            .context("the endpoint's URL names its port")?;
        let stream = super::tls::connect(port, endpoint.tls.as_ref())
            .await
            .with_context(|| format!("connecting to {}", endpoint.url))?;
        let (ws, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .with_context(|| format!("connecting to {}", endpoint.url))?;
        let (mut sink, mut stream) = ws.split();
        sink.send(Message::Binary(frame::join(&endpoint.peer_id).into()))
            .await?;
        let server = loop {
            let next = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .context("no answer to join")?;
            match next {
                Some(Ok(Message::Binary(bytes))) => match frame::decode(&bytes)? {
                    Incoming::Peer { sender } => break sender,
                    Incoming::Error { message } => bail!("the server refused join: {message}"),
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None => bail!("closed before peer"),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(_)) => {}
            }
        };

        let (out, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
        let writer = tokio::spawn(async move {
            while let Some(bytes) = outgoing.recv().await {
                if sink.send(Message::Binary(bytes.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        // The link is in place before the reader starts, so that whatever the server
        // sends first is answered, and an early end of the connection is not undone.
        let mut state = self.state();
        state.ended = None;
        state.link = Some(Link {
            me: endpoint.peer_id.clone(),
            server,
            out,
        });
        let ids: Vec<String> = state.docs.keys().cloned().collect();
        // Everything is offered anew on this connection.
        state.queued.clear();
        state.waiting.clear();
        state.in_flight.clear();
        state.unconfirmed.clear();
        for id in ids {
            if let Some(replica) = state.docs.get_mut(&id) {
                // A new session with the server: what a client keeps of a sync state
                // between sessions is what the encoding keeps (the shared heads).
                replica.sync = sync::State::decode(&replica.sync.encode())
                    .unwrap_or_else(|_| sync::State::new());
            }
            state.offer(&id);
        }
        drop(state);
        let shared = self.shared.clone();
        let reader = tokio::spawn(async move {
            let ended = loop {
                match stream.next().await {
                    Some(Ok(Message::Binary(bytes))) => {
                        let incoming = match frame::decode(&bytes) {
                            Ok(incoming) => incoming,
                            Err(e) => break format!("an undecodable frame: {e}"),
                        };
                        lock(&shared.state).receive(incoming, &shared.sent);
                        shared.progress.send_modify(|n| *n += 1);
                    }
                    Some(Ok(Message::Close(frame))) => break format!("closed: {frame:?}"),
                    None => break "closed".into(),
                    Some(Err(e)) => break format!("broken: {e}"),
                    Some(Ok(_)) => {}
                }
            };
            let mut state = lock(&shared.state);
            state.link = None;
            state.ended.get_or_insert(ended);
            drop(state);
            shared.progress.send_modify(|n| *n += 1);
        });

        *lock(&self.tasks) = vec![writer, reader];
        Ok(())
    }

    /// Goes offline: the connection is dropped, the replicas stay.
    pub fn disconnect(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        self.state().link = None;
    }

    /// A new document of ours, offered to the server at once when connected.
    pub fn create(&self, id: &str, record: Document<ClientRecord>) {
        let mut state = self.state();
        state.docs.insert(
            id.to_owned(),
            Replica {
                body: Body::Record(Box::new(record)),
                sync: sync::State::new(),
            },
        );
        state.offer(id);
    }

    /// Asks for a document we do not have (nothing if we have it).
    pub fn request(&self, id: &str) {
        let mut state = self.state();
        if state.docs.contains_key(id) {
            return;
        }
        state.docs.insert(
            id.to_owned(),
            Replica {
                body: Body::Plain(Box::new(AutoCommit::new())),
                sync: sync::State::new(),
            },
        );
        state.offer(id);
    }

    /// "Notiz hinzufügen" on a record we hold; the change's time is logged for arrivals.
    pub fn add_note(&self, id: &str, editor: &mut Editor, text: &str) -> anyhow::Result<()> {
        let mut state = self.state();
        let replica = state.docs.get_mut(id).context("no such document here")?;
        let record = replica.record()?;
        let before = record.heads();
        record.add_note(editor, text)?;
        for head in record.heads() {
            self.shared.sent.record(head);
        }
        let made: Vec<ChangeHash> = record
            .automerge()
            .get_changes(&before)
            .iter()
            .map(|c| c.hash())
            .collect();
        for hash in made {
            state.authored.insert(hash, id.to_owned());
        }
        state.push(id);
        Ok(())
    }

    /// Whether our replica of `id` holds the change `hash`.
    pub fn has_change(&self, id: &str, hash: &ChangeHash) -> bool {
        self.state()
            .docs
            .get_mut(id)
            .is_some_and(|replica| replica.body.automerge().get_change_by_hash(hash).is_some())
    }

    /// The changes this client made that the server has acknowledged, by document.
    pub fn acknowledged_changes(&self) -> Vec<(String, ChangeHash)> {
        let state = self.state();
        state
            .acknowledged
            .iter()
            .filter_map(|hash| Some((state.authored.get(hash)?.clone(), *hash)))
            .collect()
    }

    /// Whether this client is connected now.
    pub fn connected(&self) -> bool {
        self.state().link.is_some()
    }

    pub fn heads(&self, id: &str) -> Vec<ChangeHash> {
        self.state()
            .docs
            .get_mut(id)
            .map(Replica::heads)
            .unwrap_or_default()
    }

    /// The notes of a record we hold, sorted, to compare replicas.
    pub fn notes(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let mut state = self.state();
        let replica = state.docs.get_mut(id).context("no such document here")?;
        let mut notes: Vec<String> = replica
            .record()?
            .read()?
            .notes
            .values()
            .map(|note| note.text.as_str().to_owned())
            .collect();
        notes.sort();
        Ok(notes)
    }

    pub fn take_arrivals(&self) -> Vec<Duration> {
        std::mem::take(&mut self.state().arrivals)
    }

    /// Waits until `done` holds, failing after `within` or when the connection ends.
    pub async fn until(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&State) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        let mut progress = self.shared.progress.subscribe();
        loop {
            {
                let state = self.state();
                if done(&state) {
                    return Ok(());
                }
                if state.link.is_none() || state.ended.is_some() {
                    bail!(
                        "{what}: the connection ended ({})",
                        state.ended.as_deref().unwrap_or("not connected")
                    );
                }
            }
            if tokio::time::timeout_at(deadline, progress.changed())
                .await
                .is_err()
            {
                let state = self.state();
                bail!(
                    "{what}: not within {within:?} ({} of {} documents unconfirmed)",
                    state.unconfirmed.len(),
                    state.docs.len()
                );
            }
        }
    }
}

impl Client {
    /// [`Self::until`], but when the server ends the connection, connects again and
    /// goes on, as automerge-repo clients do; returns how many times it had to.
    pub async fn until_reconnecting(
        &self,
        endpoint: &Endpoint,
        what: &str,
        within: Duration,
        done: impl Fn(&State) -> bool,
    ) -> anyhow::Result<usize> {
        let deadline = Instant::now() + within;
        let mut reconnects = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.until(what, left, &done).await {
                Ok(()) => return Ok(reconnects),
                Err(e) if self.state().link.is_none() && reconnects < 100 => {
                    eprintln!("{e}; connecting again");
                    reconnects += 1;
                    self.connect(endpoint).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.disconnect();
    }
}
