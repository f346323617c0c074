//! The conflict rules: a pure, deterministic fold from a document to the view every screen
//! shows and the notices that explain what merges decided, and settling, which writes the
//! outcome back.
//!
//! Pure means: no IO, no clock, no randomness, no replica identity. A merged document is
//! never an error, only something to explain, so folds return `(view, Vec<Notice>)`.
//! Two replicas with the same changes compute the same view, whatever order they merged in.
//!
//! # Layout
//! - [`record`]: the client record: status, the one primary caretaker, responsibilities,
//!   notes. Its module docs state the resolution rules.
//! - [`assistant`]: the participation status machine, what the assistant offers, and
//!   [`assistant::apply`], which records an action only if it applies.
//! - [`timeline`]: the fold of a timeline through the status machine.
//! - [`working_time`]: the rule that applies on a day across three levels; overlaps.
//! - [`vacation`]: the yearly vacation summary.
//! - [`tenant`]: uniqueness of pseudonyms and client ids across a tenant's records.
//! - [`settle`]: writing the outcome back, idempotently.
//! - [`notice`]: notices and who they concern.

pub mod assistant;
pub mod notice;
pub mod record;
pub mod settle;
pub mod tenant;
#[cfg(test)]
mod testing;
pub mod timeline;
pub mod vacation;
pub mod working_time;

pub use assistant::{Participation, Rejection, Section, Status};
pub use notice::{Notice, NoticeKind, RuleLevel};
pub use record::{ClientStatus, RecordView, fold_record};
pub use settle::{settle_record, settle_timeline};
pub use timeline::{TimelineView, fold_timeline};
