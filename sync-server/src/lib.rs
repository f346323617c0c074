//! The sync server: accounts and sessions, the automerge-repo protocol through samod
//! with storage in SQLite, and per-document authorization.
//!
//! # Layout
//! The foundations, which know nothing of HTTP:
//! - [`config`]: defaults, the TOML file, environment variables.
//! - [`tls`]: the server's own TLS, when `tls_cert` and `tls_key` are set.
//! - [`db`]: the embedded SQLite database and its migrations.
//! - [`password`]: the password policy, PBKDF2 hashing, tokens.
//! - [`throttle`]: growing delays for failed password checks, never a lock.
//! - [`accounts`]: accounts, sessions, the audit log and the access log.
//! - [`access`]: who may read and write which document.
//! - [`registry`]: every document the server syncs, and the facts access depends on.
//! - [`storage`]: the automerge-repo (samod) document storage in SQLite, and which
//!   changes are on disk.
//! - [`authoring`]: the server's own reads and writes of documents, under its own actor.
//! - [`guard`]: server-only fields, refused from anyone else at the edge.
//! - [`settle`]: settling after merges, and the facts access depends on.
//! - [`directory`]: each user's directory of readable documents, kept current.
//! - [`mail`]: the outbound mail queue and its worker.
//! - [`blobs`]: uploaded files' content.
//! - [`person`]: a counselled person's own account, and what their login does.
//!
//! The sync protocol:
//! - [`wire`]: the protocol frames, checked at the edge.
//! - [`sync_message`]: automerge sync messages, checked before automerge decodes them.
//! - [`share`]: samod's share policy over the registry; peer ids bound to sessions.
//! - [`inbound`]: every frame a client sends, judged before samod sees it.
//! - [`websockets`]: sync websockets counted per session and per account.
//! - [`sync`]: the websocket, between the socket and samod.
//!
//! The HTTP edge:
//! - [`state`]: [`state::AppState`], everything handlers and connections need.
//! - [`metrics`]: what `/metrics` counts.
//! - [`error`]: errors as stable codes of the contract ([`model::api`]).
//! - [`blocking`]: blocking work off the async workers.
//! - [`auth`]: who asks, as extractors: a session, staff, an admin.
//! - [`extract`]: the rest of a request: a JSON body, the client's address.
//! - [`handlers`]: the handlers, one file for each thing served.
//! - [`layers`]: deadlines, counting and security headers around every route.
//! - [`routes`]: the router.
//! - [`listener`]: accepting connections: caps per address and in all, header timeouts.
//! - [`proxies`]: trusted proxies, and the client's address behind them.
//! - [`purge`]: the deletion routine: everything of a person, once the tenant's
//!   deletion interval has passed.
//! - [`server`]: opening the state, binding and graceful shutdown.
//!
//! Modules the binary, the tests and the benchmarks use are public; the rest are the
//! crate's own.

pub mod access;
pub mod accounts;
pub(crate) mod auth;
pub(crate) mod authoring;
pub(crate) mod blobs;
pub(crate) mod blocking;
pub mod config;
pub mod db;
pub(crate) mod directory;
pub(crate) mod error;
pub(crate) mod extract;
pub mod guard;
pub(crate) mod handlers;
pub(crate) mod inbound;
pub(crate) mod layers;
pub(crate) mod listener;
pub(crate) mod mail;
pub(crate) mod metrics;
pub mod password;
pub(crate) mod person;
pub(crate) mod proxies;
pub(crate) mod purge;
pub(crate) mod registry;
pub(crate) mod routes;
pub(crate) mod server;
pub(crate) mod settle;
pub(crate) mod share;
pub mod state;
pub(crate) mod storage;
pub(crate) mod sync;
pub mod sync_message;
pub(crate) mod throttle;
pub mod tls;
pub(crate) mod websockets;
pub mod wire;

pub use config::Config;
pub use model::api::{AccountState, Role};
pub use server::{open_state, run};
