//! The background sync: one task on the workspace's tokio runtime that keeps a session,
//! sends queued requests, and syncs every readable document with the server through
//! samod, reconnecting with backoff when the network goes.
//!
//! # One round
//! 1. A session: the stored token if the server still takes it, else a new login with
//!    the password the person typed (held in memory only).
//! 2. The outbox, in order: a new document is registered before samod ever sees it.
//! 3. samod's repo, under the session's peer id (a new session means a new repo over
//!    the same storage), dialed over a websocket with the bearer token.
//! 4. Every document of the user's directory, and every local one, opened; the
//!    directory followed; local changes the server has not confirmed waited for.
//!
//! When the connection ends the task waits (1 s, doubling to 30 s) and starts again. Local
//! edits keep arriving meanwhile; they are already on disk, and samod takes them from
//! there or from the command channel.
//!
//! A new login also hands the server this device's recovery key (see `store/recovery`),
//! and whenever the directory's `staff_changed_ms` moves the colleagues are fetched
//! again.
//!
//! Beside this file: `outbox` (step 2), `websocket` (the transport samod dials in
//! step 3) and `forget` (what the directory took away, step 4).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use model::directory::Directory;
use samod::{DocHandle, DocumentId, PeerId, Repo};
use tokio::sync::mpsc;

use crate::api::{self, ApiError};
use crate::storage::{Changed, EncryptedStorage};
use crate::store::{Profile, Session, Store, StoreError};
use model::api::ErrorCode;

mod forget;
mod outbox;
mod websocket;

use outbox::{flush, unregistered};
use websocket::WsDialer;

const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(30);
const HANDSHAKE: Duration = Duration::from_secs(15);

/// What the window shows about the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub online: bool,
    /// Why the last attempt failed, in German, for the status line.
    pub problem: Option<String>,
    /// Requests the server refused, in German; shown until the person closes them.
    pub refused: Vec<String>,
}

pub enum Command {
    /// A local edit, already in the store: these change chunks, for samod's copy.
    Local {
        doc: String,
        chunks: Vec<Vec<u8>>,
    },
    /// Something new in the outbox.
    Requests,
    /// Try to connect now, without waiting for the backoff.
    Reconnect,
    /// The person changed their password (the store is already resealed).
    Password(String),
    Stop,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Local { doc, .. } => write!(f, "Local({doc})"),
            Command::Requests => f.write_str("Requests"),
            Command::Reconnect => f.write_str("Reconnect"),
            Command::Password(_) => f.write_str("Password(..)"),
            Command::Stop => f.write_str("Stop"),
        }
    }
}

pub struct Context {
    pub store: Arc<Store>,
    pub changed: Arc<Changed>,
    pub status: Arc<Mutex<SyncStatus>>,
    /// The password the person typed, for logging in again; a password change replaces it.
    pub password: Mutex<String>,
    /// The server, with its one pooled HTTP client and TLS configuration.
    pub server: api::LazyServer,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    fn set_status(&self, change: impl FnOnce(&mut SyncStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
        self.changed.poke();
    }
}

enum Ended {
    Stop,
    Lost(String),
}

struct Repos {
    repo: Option<(Repo, String)>,
    handles: HashMap<String, DocHandle>,
}

pub async fn run(ctx: Context, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut repos = Repos {
        repo: None,
        handles: HashMap::new(),
    };
    let mut delay = FIRST_DELAY;
    loop {
        let started = std::time::Instant::now();
        match round(&ctx, &mut repos, &mut commands).await {
            Ended::Stop => break,
            Ended::Lost(why) => {
                tracing::info!("offline: {why}");
                ctx.set_status(|s| {
                    s.online = false;
                    s.problem = Some(why);
                });
            }
        }
        if started.elapsed() > MAX_DELAY {
            delay = FIRST_DELAY;
        }
        let wait = tokio::time::sleep(delay);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                command = commands.recv() => match command {
                    None | Some(Command::Stop) => {
                        stop(repos).await;
                        return;
                    }
                    Some(Command::Local { doc, chunks }) => apply_local(&repos, &doc, &chunks),
                    Some(Command::Password(new)) => {
                        *ctx.password.lock().unwrap_or_else(|p| p.into_inner()) = new;
                        break;
                    }
                    Some(Command::Reconnect) => break,
                    Some(Command::Requests) => {}
                },
            }
        }
        delay = (delay * 2).min(MAX_DELAY);
    }
    stop(repos).await;
}

async fn stop(repos: Repos) {
    if let Some((repo, _)) = repos.repo {
        repo.stop().await;
    }
}

fn apply_local(repos: &Repos, doc: &str, chunks: &[Vec<u8>]) {
    if let Some(handle) = repos.handles.get(doc) {
        handle.with_document(|am| {
            for chunk in chunks {
                if let Err(error) = am.load_incremental(chunk) {
                    tracing::error!(%error, "a local change does not apply to samod's copy");
                }
            }
        });
    }
}

fn store_problem(error: StoreError) -> Ended {
    Ended::Lost(format!("Lokaler Speicher: {error}"))
}

fn offline(error: &ApiError) -> String {
    match error {
        ApiError::Unreachable(_) => "Server nicht erreichbar".into(),
        // Why the connection is not made, and what to do: the person has to act.
        ApiError::Insecure(why) => why.clone(),
        // Also the answer for a locked account: the server does not say which.
        ApiError::Refused {
            code: ErrorCode::WrongCredentials,
            ..
        } => "Der Server nimmt das Passwort nicht an (wurde es geändert oder der Zugang gesperrt?)"
            .into(),
        ApiError::Refused {
            code: ErrorCode::RateLimited,
            ..
        } => "Zu viele Anmeldeversuche, bitte später erneut".into(),
        other => format!("Server: {other}"),
    }
}

/// A valid session, logging in again when the stored one has ended.
async fn session(ctx: &Context, server: &api::Server) -> Result<(Session, Profile), Ended> {
    let mut profile = ctx.store.profile().map_err(store_problem)?;
    if let Some(session) = profile.session.clone() {
        match api::staff(server, &session.token).await {
            Ok(staff) => {
                if staff != profile.staff {
                    profile.staff = staff;
                    ctx.store.set_profile(&profile).map_err(store_problem)?;
                }
                keep_recovery(ctx, server, &session.token, false).await;
                return Ok((session, profile));
            }
            Err(error) if error.is_no_session() => {}
            Err(error) => return Err(Ended::Lost(offline(&error))),
        }
    }
    let password = ctx
        .password
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let answer = api::login(server, &profile.login, &password)
        .await
        .map_err(|e| Ended::Lost(offline(&e)))?;
    if answer.account_id != profile.account_id {
        return Err(Ended::Lost(
            "Der Server kennt dieses Konto unter einer anderen Kennung".into(),
        ));
    }
    let session = Session {
        token: answer.token,
        peer_id: answer.peer_id,
    };
    profile.session = Some(session.clone());
    profile.directory_id = answer.directory_id;
    profile.role = answer.role;
    if let Ok(staff) = api::staff(server, &session.token).await {
        profile.staff = staff;
    }
    ctx.store.set_profile(&profile).map_err(store_problem)?;
    keep_recovery(ctx, server, &session.token, true).await;
    Ok((session, profile))
}

/// Hands the server this device's recovery key (drawn now if the store has none): at
/// every new login, and otherwise until the server took it once. A failure only waits
/// for the next login; the sync goes on.
async fn keep_recovery(ctx: &Context, server: &api::Server, token: &str, login: bool) {
    let (device, key, stored) = match ctx.store.recovery() {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "no recovery key for this device");
            return;
        }
    };
    if stored && !login {
        return;
    }
    match api::put_recovery(server, token, &device, &key.encoded()).await {
        Ok(()) => {
            if let Err(error) = ctx.store.set_recovery_stored() {
                tracing::error!(%error, "cannot note that the server has the recovery key");
            }
        }
        Err(error) => tracing::warn!(%error, "the server did not take the recovery key"),
    }
}

async fn round(
    ctx: &Context,
    repos: &mut Repos,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    let server = match ctx.server.get().await {
        Ok(server) => server,
        Err(error) => return Ended::Lost(offline(&error)),
    };
    let (session, profile) = match session(ctx, &server).await {
        Ok(found) => found,
        Err(ended) => return ended,
    };
    if let Err(ended) = flush(ctx, &server, &session.token).await {
        return ended;
    }
    // Before samod syncs the directory: the listing as this device last saw it.
    forget::seed_listing(ctx, &profile.directory_id);
    if repos.repo.as_ref().map(|(_, peer)| peer) != Some(&session.peer_id) {
        if let Some((old, _)) = repos.repo.take() {
            old.stop().await;
        }
        repos.handles.clear();
        tracing::debug!("a new session: samod starts again over the same storage");
        let storage = EncryptedStorage::new(ctx.store.clone(), ctx.changed.clone());
        let repo = Repo::build_tokio()
            .with_storage(storage)
            .with_peer_id(PeerId::from(session.peer_id.as_str()))
            .load()
            .await;
        repos.repo = Some((repo, session.peer_id.clone()));
    }
    let Some((repo, _)) = repos.repo.as_ref() else {
        return Ended::Lost("kein Repo".into());
    };
    let repo = repo.clone();
    let dialer = match repo.dial(
        samod::BackoffConfig {
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(500),
            max_retries: Some(3),
        },
        Arc::new(WsDialer::new(&server, &session.token)),
    ) {
        Ok(dialer) => dialer,
        Err(_) => return Ended::Lost("kein Repo".into()),
    };
    match tokio::time::timeout(HANDSHAKE, dialer.established()).await {
        Ok(Ok(_)) => {}
        // The websocket's TLS failed (the dialer said why, in German).
        Ok(Err(samod::DialerFailed::PermanentFailure(why))) => {
            dialer.close();
            return Ended::Lost(why.to_string());
        }
        _ => {
            dialer.close();
            return Ended::Lost("Server nicht erreichbar".into());
        }
    }
    let mut events = dialer.events();
    tracing::info!("connected to the sync server");
    ctx.set_status(|s| {
        s.online = true;
        s.problem = None;
    });
    let ended = synced(
        ctx,
        repos,
        &repo,
        &dialer,
        &server,
        &profile,
        &session,
        commands,
        &mut events,
    )
    .await;
    dialer.close();
    ended
}

#[allow(clippy::too_many_arguments)]
async fn synced(
    ctx: &Context,
    repos: &mut Repos,
    repo: &Repo,
    dialer: &samod::DialerHandle<std::io::Error>,
    server: &api::Server,
    profile: &Profile,
    session: &Session,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mut (impl futures::Stream<Item = samod::DialerEvent> + Unpin),
) -> Ended {
    let Some(connection) = dialer.connection_id() else {
        return Ended::Lost("Verbindung verloren".into());
    };
    let (confirmed_tx, mut confirmed) = mpsc::unbounded_channel::<()>();
    let directory = match profile.directory_id.parse::<DocumentId>() {
        Ok(id) => tokio::time::timeout(HANDSHAKE, repo.find(id))
            .await
            .ok()
            .and_then(|r| r.ok())
            .flatten(),
        Err(_) => None,
    };
    let mut directory_changes = directory.as_ref().map(|handle| handle.changes().boxed());
    let mut known: BTreeSet<String> = ctx.store.listed().ok().flatten().unwrap_or_default();
    let online = Online {
        server,
        token: &session.token,
    };
    open_all(ctx, repos, repo, directory.as_ref(), &mut known, &online).await;
    wait_for_confirmations(ctx, repos, connection, &confirmed_tx);
    note_synced(ctx);
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(samod::DialerEvent::Connected { .. }) => tracing::info!("dialer connected"),
                Some(samod::DialerEvent::Reconnecting { .. }) => tracing::info!("dialer reconnecting"),
                Some(samod::DialerEvent::Disconnected { reason }) => return Ended::Lost(format!("Verbindung verloren: {reason}")),
                Some(_) | None => return Ended::Lost("Verbindung verloren".into()),
            },
            Some(_) = async {
                match directory_changes.as_mut() {
                    Some(stream) => stream.next().await,
                    None => std::future::pending().await,
                }
            } => {
                open_all(ctx, repos, repo, directory.as_ref(), &mut known, &online).await;
                wait_for_confirmations(ctx, repos, connection, &confirmed_tx);
            }
            Some(()) = confirmed.recv() => note_synced(ctx),
            command = commands.recv() => match command {
                None | Some(Command::Stop) => return Ended::Stop,
                Some(Command::Local { doc, chunks }) => {
                    if !repos.handles.contains_key(&doc)
                        && !unregistered(ctx).contains(&doc)
                        && let Some(handle) = find(repo, &doc).await
                    {
                        repos.handles.insert(doc.clone(), handle);
                    }
                    apply_local(repos, &doc, &chunks);
                    wait_for_confirmations(ctx, repos, connection, &confirmed_tx);
                }
                Some(Command::Requests) => {
                    if let Err(ended) = flush(ctx, server, &session.token).await {
                        return ended;
                    }
                    open_all(ctx, repos, repo, directory.as_ref(), &mut known, &online).await;
                    wait_for_confirmations(ctx, repos, connection, &confirmed_tx);
                }
                Some(Command::Reconnect) => {}
                Some(Command::Password(new)) => {
                    *ctx.password.lock().unwrap_or_else(|p| p.into_inner()) = new;
                    // The server ended the sessions: log in again with the new one.
                    return Ended::Lost("Passwort geändert, neue Anmeldung".into());
                }
            },
            _ = tick.tick() => {
                if let Err(ended) = flush(ctx, server, &session.token).await {
                    return ended;
                }
                // A document the server could not give us before (its access was still
                // being decided) is asked for again.
                open_all(ctx, repos, repo, directory.as_ref(), &mut known, &online).await;
                wait_for_confirmations(ctx, repos, connection, &confirmed_tx);
            }
        }
    }
}

/// Some changes were confirmed: the count moved, and once nothing is left unsynced the
/// time of the last sync is now.
fn note_synced(ctx: &Context) {
    if ctx.store.unsynced_count().unwrap_or(1) == 0
        && let Ok(mut profile) = ctx.store.profile()
    {
        profile.last_sync_ms = Some(model::editor::system_time_ms());
        let _ = ctx.store.set_profile(&profile);
    }
    ctx.changed.poke();
}

/// The server as this round reaches it.
struct Online<'a> {
    server: &'a api::Server,
    token: &'a str,
}

/// Opens every document of the directory and every local one that is registered;
/// forgets what the directory took away or purged (see `forget`), and fetches the
/// colleagues again when the directory says they changed.
async fn open_all(
    ctx: &Context,
    repos: &mut Repos,
    repo: &Repo,
    directory: Option<&DocHandle>,
    known: &mut BTreeSet<String>,
    online: &Online<'_>,
) {
    let mut wanted: BTreeSet<String> = ctx
        .store
        .row_docs()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let waiting = unregistered(ctx);
    if let Some(handle) = directory {
        let directory_id = handle.document_id().to_string();
        let listed_at = ctx.store.listed_at().ok().flatten();
        let (bytes, heads, fresh) = handle.with_document(|am| {
            let fresh = forget::listing_applies(am, &directory_id, listed_at.as_ref());
            let heads: Vec<String> = am.get_heads().iter().map(ToString::to_string).collect();
            (am.save(), heads, fresh)
        });
        if let Ok(read) = model::Document::<Directory>::load(&bytes).and_then(|d| d.read()) {
            let listed: BTreeSet<String> = read.entries.keys().cloned().collect();
            let purged: BTreeSet<String> = read.purged.keys().cloned().collect();
            ctx.store.listed_again(&listed);
            let judged = if fresh {
                known.clone()
            } else {
                BTreeSet::new()
            };
            let gone = forget::decide(&judged, &listed, &purged, &wanted, &waiting);
            let gone = forget::forget_all(ctx, &gone);
            if ctx.store.note_purged(&purged).unwrap_or(false) {
                ctx.changed.poke();
            }
            for (doc, _) in &gone {
                repos.handles.remove(doc);
                wanted.remove(doc);
            }
            if fresh {
                let added: BTreeSet<String> = listed.difference(known).cloned().collect();
                let removed: BTreeSet<String> = known.difference(&listed).cloned().collect();
                let moved = listed_at.as_ref() != Some(&(directory_id.clone(), heads.clone()));
                if (moved || !added.is_empty() || !removed.is_empty())
                    && let Err(error) =
                        ctx.store
                            .update_listed(&added, &removed, &directory_id, &heads)
                {
                    tracing::error!(%error, "cannot keep the directory's listing");
                }
                *known = listed.clone();
            } else {
                tracing::debug!("the directory is older than its listing here; waiting for it");
            }
            wanted.extend(listed);
            refresh_staff(ctx, read.staff_changed_ms, online).await;
        }
    }
    for doc in waiting {
        wanted.remove(&doc);
    }
    let missing: Vec<String> = wanted
        .into_iter()
        .filter(|doc| !repos.handles.contains_key(doc))
        .collect();
    let found: Vec<(String, Option<DocHandle>)> = futures::stream::iter(missing)
        .map(|doc| {
            let repo = repo.clone();
            async move {
                let handle = find(&repo, &doc).await;
                (doc, handle)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let unavailable = found.iter().filter(|(_, handle)| handle.is_none()).count();
    tracing::info!(
        opened = found.len() - unavailable,
        unavailable,
        "documents opened"
    );
    for (doc, handle) in found {
        if let Some(handle) = handle {
            ctx.changed.mark(&doc);
            repos.handles.insert(doc, handle);
        }
    }
}

/// The colleagues again, when the directory's `staff_changed_ms` is not the one they
/// were last fetched at; tried again at the next look if the server does not answer.
async fn refresh_staff(ctx: &Context, changed_ms: Option<u64>, online: &Online<'_>) {
    let Some(changed_ms) = changed_ms else {
        return;
    };
    if ctx.store.profile().ok().and_then(|p| p.staff_changed_ms) == Some(changed_ms) {
        return;
    }
    match api::staff(online.server, online.token).await {
        Ok(staff) => {
            if let Ok(mut profile) = ctx.store.profile() {
                profile.staff = staff;
                profile.staff_changed_ms = Some(changed_ms);
                if let Err(error) = ctx.store.set_profile(&profile) {
                    tracing::error!(%error, "cannot keep the colleagues");
                }
                ctx.changed.poke();
            }
        }
        Err(error) => tracing::warn!(%error, "the colleagues did not come"),
    }
}

/// samod's handle of a document, if it is stored here or the server has it in time.
async fn find(repo: &Repo, doc: &str) -> Option<DocHandle> {
    let id = doc.parse::<DocumentId>().ok()?;
    tokio::time::timeout(HANDSHAKE, repo.find(id))
        .await
        .ok()?
        .ok()?
}

/// Whether samod's copy of a document holds every change in `heads`.
fn holds(handle: &DocHandle, heads: &[String]) -> bool {
    use automerge::ReadDoc as _;
    handle.with_document(|am| {
        heads.iter().all(|head| {
            head.parse::<automerge::ChangeHash>()
                .is_ok_and(|hash| am.get_change_by_hash(&hash).is_some())
        })
    })
}

/// For every document with unconfirmed local changes that samod holds: once the server
/// has everything we have, the changes count as synced.
///
/// First samod's copy is made to hold the local changes: an edit made while samod had
/// the document loaded but this task had no handle for it (the server had not yet
/// decided the access when it was first asked for) reached only the store. Asking
/// whether the server has "our" changes is only meaningful once samod's are ours.
fn wait_for_confirmations(
    ctx: &Context,
    repos: &Repos,
    connection: samod::ConnectionId,
    confirmed: &mpsc::UnboundedSender<()>,
) {
    for unsynced in ctx.store.unsynced().unwrap_or_default() {
        let Some(handle) = repos.handles.get(&unsynced.doc) else {
            continue;
        };
        if !holds(handle, &unsynced.heads) {
            let chunks = ctx.store.document_chunks(&unsynced.doc).unwrap_or_default();
            tracing::debug!("local changes samod had not seen are handed to it");
            apply_local(repos, &unsynced.doc, &chunks);
            if !holds(handle, &unsynced.heads) {
                tracing::error!("local changes do not load into samod's copy");
                continue;
            }
        }
        let wait = handle.they_have_our_changes(connection);
        let store = ctx.store.clone();
        let confirmed = confirmed.clone();
        tokio::spawn(async move {
            wait.await;
            if store
                .confirm_synced(&unsynced.doc, &unsynced.heads)
                .unwrap_or(false)
            {
                let _ = confirmed.send(());
            }
        });
    }
}
