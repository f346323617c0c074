//! The sync server: accounts and sessions, the automerge-repo protocol through samod
//! with storage in SQLite, and per-document authorization.
//!
//! # Layout
//! - [`config`]: defaults, the TOML file, environment variables.
//! - [`db`]: the embedded SQLite database and its migrations.
//! - [`password`]: the password policy, PBKDF2 hashing, tokens.
//! - [`accounts`]: accounts, sessions, the audit log.
//! - [`throttle`]: growing delays for failed password checks, never a lock.
//! - [`http`]: the routes, and errors as stable codes.
//! - [`extract`]: what handlers take from a request: JSON, the account, the address.
//! - [`server`]: binding and graceful shutdown.
//! - [`listener`]: accepting connections: caps per address and in all, header timeouts.
//! - [`storage`]: the automerge-repo (samod) document storage in SQLite, and which
//!   changes are on disk.
//! - [`access`]: who may read and write which document.
//! - [`registry`]: every document the server syncs, and the facts access depends on.
//! - [`share`]: samod's share policy over the registry; peer ids bound to sessions.
//! - [`wire`]: the protocol frames, checked at the edge.
//! - [`sync_message`]: automerge sync messages, checked before automerge decodes them.
//! - [`inbound`]: every frame a client sends, judged before samod sees it.
//! - [`sync`]: the websocket, between the socket and samod.
//! - [`settle`]: settling after merges, and the facts access depends on.
//! - [`authoring`]: the server's own changes, under its own actor.
//! - [`operations`]: what admins ask the server to do (delete, restore, contact data).
//! - [`guard`]: server-only fields, refused from anyone else at the edge.
//! - [`directory`]: each user's directory of readable documents, kept current.

pub mod access;
pub mod accounts;
pub mod authoring;
pub mod blobs;
pub mod config;
pub mod db;
pub mod directory;
pub mod extract;
pub mod guard;
pub mod http;
pub mod inbound;
pub mod listener;
pub mod mail;
pub mod operations;
pub mod password;
pub mod person;
pub mod registry;
pub mod server;
pub mod settle;
pub mod share;
pub mod storage;
pub mod sync;
pub mod sync_message;
pub mod throttle;
pub mod wire;

pub use config::Config;
pub use server::{open_state, run};
