//! The desktop client: a local-first workspace over an encrypted local store, a
//! background sync with the server, and the egui screens of both manuals, in German.
//!
//! # Layout
//! - [`crypto`]: the key from the password (PBKDF2) and AES-256-GCM for every stored value.
//! - [`store`]: the SQLite file: documents (samod's chunks), derived rows, unsynced
//!   changes, queued requests; one transaction per local edit.
//! - `owner_only`: the store's files and directory readable by their owner only.
//! - [`storage`]: samod's storage over the store.
//! - [`rows`]: what the lists need of each document.
//! - [`api`]: the server's HTTP API (login, colleagues, registration, admins' requests).
//! - [`engine`]: the background sync (session, outbox, samod, reconnect with backoff).
//! - [`workspace`]: what the screens use: sign-in, lists, reads, edits.
//! - [`german`]: dates, times and messages as the screens show them.
//! - [`ui`]: the screens (eframe/egui).

pub mod api;
pub mod crypto;
pub mod engine;
pub mod german;
mod owner_only;
pub mod rows;
pub mod storage;
pub mod store;
pub mod ui;
pub mod workspace;

pub use workspace::{SignIn, Workspace};
