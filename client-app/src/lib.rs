//! The desktop client: a local-first workspace over an encrypted local store, a
//! background sync with the server, and the egui screens of both manuals, in German.
//!
//! # Layout
//! From the disk up to the screen: each module uses only modules listed above it, and
//! no two modules use each other. The screens never talk to [`api`] or [`engine`]
//! themselves; they ask [`workspace`].
//! - [`crypto`]: the key from the password (PBKDF2) and AES-256-GCM for every stored value.
//! - `owner_only`: the store's files and directory readable by their owner only.
//! - [`tls`]: how the server may be reached: rustls with ring over the system's roots
//!   and an organisation's CA file, plain `http://` only to this computer unless the
//!   person allows it, and certificate failures in German.
//! - [`store`]: the SQLite file: documents (samod's chunks), derived rows, unsynced
//!   changes, queued requests; one transaction per local edit. Beside it `store/profile`
//!   (who the store belongs to), `store/reseal` (a password change), `store/lost`
//!   (forgetting a document with every trace, the directory's listing, lost edits) and
//!   `store/recovery` (the device's recovery key, for a password reset).
//! - [`storage`]: samod's storage over the store.
//! - [`rows`]: what the lists need of each document.
//! - [`german`]: dates, times and messages as the screens show them.
//! - [`api`]: the server's HTTP API (login, colleagues, registration, admins' requests),
//!   one pooled client per server.
//! - [`engine`]: the background sync (session, outbox, samod, reconnect with backoff);
//!   `engine/outbox` sends the queued requests, `engine/websocket` is samod's transport,
//!   `engine/forget` carries out what the directory took away.
//! - [`workspace`]: what the screens use: the workspace and the one path every edit
//!   takes, with `workspace/account` (sign-in, own password), `workspace/lists` (member
//!   list, bookmarks, groups, contacts), `workspace/outbox` (server requests by name: only
//!   the workspace builds an `api::Request`), `workspace/files` (uploaded documents),
//!   `workspace/participation` (timelines, catalogue, working time, vacation),
//!   `workspace/online` (calls that need the server now, off the UI thread),
//!   `workspace/staff` (admins' work on staff accounts), `workspace/own_account`
//!   (deleting one's own account and this device's copy) and `workspace/lost` (local
//!   changes lost with a document this device forgot).
//! - [`ui`]: the screens (eframe/egui): the app, sign-in and status line in `ui` itself;
//!   under every screen `ui/widgets` (field, error line, site choice, the confirmation
//!   with the red button) and `ui/input` (field text read as dates, periods, times,
//!   days); `ui/members` (Mitgliederverwaltung) with `ui/catalogue` (Aufträge and the
//!   tenant's settings) and `ui/accounts` (Berater:innen-Accounts); `ui/own_account`
//!   ("Eigenen Account löschen"); `ui/client` (the client
//!   window) with a file per tab and for the ⋮ menu (`profile`, `notes`, `documents`,
//!   `monitoring`, `menu`, `message`) and `ui/profile_form`; `ui/timeline`
//!   (Teilnahmeverlauf, with `details` and `correction`) over `ui/assistant` (with
//!   `action`), `ui/responsibilities`, `ui/type_specific`, `ui/working_time` and
//!   `ui/vacation`.

pub mod api;
pub mod crypto;
pub mod engine;
pub mod german;
mod owner_only;
pub mod rows;
pub mod storage;
pub mod store;
pub mod tls;
pub mod ui;
pub mod workspace;

pub use workspace::{SignIn, Workspace};
