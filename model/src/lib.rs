//! The document model: schemas of every document kind, ids, the hybrid logical clock, and
//! typed, validated mutations over Automerge documents.
//!
//! `model` knows no sockets, no SQLite, no screen and no async runtime. It draws no
//! randomness, and mutations read time only through the [`Editor`] their caller hands
//! them (`Editor::with_system_clock` for the binaries, a stepping clock for tests).
//!
//! # Layout
//! - [`api`]: the HTTP contract between the sync server and its clients: paths, request
//!   and response types, error codes.
//! - [`ids`]: document ids (bs58check), user, tenant and entity ids, short client ids.
//! - [`clock`]: the hybrid logical clock and its [`Stamp`]s.
//! - [`date`]: business dates, periods, times of day, vacation days.
//! - [`editor`]: the acting user and their clock; every mutation takes one.
//! - [`document`]: [`Document<T>`], which loads, checks, reads and writes one document,
//!   and [`Supersedes`], the "what I saw" link that lets the rules spot concurrency.
//! - `scalar`: values stored as one string (stamps, periods, note edits), so that a
//!   concurrent write replaces them whole instead of mixing two people's fields.
//! - One module per document kind, named after it: [`client_record`], [`client_contact`],
//!   [`timeline`] (with [`working_time`] and [`vacation`]), [`notebook`], [`group`],
//!   [`bookmarks`], [`catalogue`], [`directory`].
//!
//! Mutations are methods of `Document<Kind>` named after what a person does
//! (`claim_primary`, `add_note`, `record_action`, …). They refuse invalid input with the
//! module's error type; [`Error`] joins them.

pub mod api;
pub mod bookmarks;
pub mod catalogue;
pub mod client_contact;
pub mod client_record;
pub mod clock;
pub mod date;
pub mod directory;
pub mod document;
pub mod editor;
pub mod group;
pub mod ids;
pub mod notebook;
mod scalar;
pub mod timeline;
pub mod vacation;
pub mod working_time;

pub use automerge::ActorId;
pub use automerge::ChangeHash;
pub use autosurgeon::Text;
pub use clock::{Hlc, Stamp};
pub use date::{ClockTime, Date, Days, Period};
pub use document::{
    DocKind, Document, DocumentError, SERVER_ACTOR_PREFIX, Schema, Supersedes, Written, heads,
    is_server_actor, server_actor,
};
pub use editor::Editor;
pub use ids::{
    ClientId, DocumentId, EntityId, NodeId, ParticipationId, ProgrammeId, SectionId, SiteId,
    TenantId, UserId,
};

/// Every error a mutation or a load can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Id(#[from] ids::IdError),
    #[error(transparent)]
    Record(#[from] client_record::RecordError),
    #[error(transparent)]
    Contact(#[from] client_contact::ContactError),
    #[error(transparent)]
    Timeline(#[from] timeline::TimelineError),
    #[error(transparent)]
    WorkingTime(#[from] working_time::WorkingTimeError),
    #[error(transparent)]
    Vacation(#[from] vacation::VacationError),
    #[error(transparent)]
    Notebook(#[from] notebook::NotebookError),
    #[error(transparent)]
    Group(#[from] group::GroupError),
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
}
