//! The sync server: accounts, sessions and the HTTP API today; the automerge-repo
//! protocol, per-document authorization, settling and directories next (issue 3).
//!
//! # Layout
//! - [`config`]: defaults, the TOML file, environment variables.
//! - [`db`]: the embedded SQLite database and its migrations.
//! - [`password`]: the password policy, PBKDF2 hashing, tokens.
//! - [`accounts`]: accounts, sessions, login rate limits, the audit log.
//! - [`http`]: the routes, and errors as stable codes.
//! - [`server`]: binding and graceful shutdown.
//! - [`storage`]: the automerge-repo (samod) document storage in SQLite.

pub mod accounts;
pub mod config;
pub mod db;
pub mod http;
pub mod password;
pub mod server;
pub mod storage;

pub use config::Config;
pub use server::{open_state, run};
