//! The conflict rules: a pure, deterministic fold from a document to the view every screen
//! shows and the notices that explain what merges decided, and settling, which writes the
//! outcome back.
//!
//! Pure means: no IO, no clock, no randomness, no replica identity. A merged document is
//! never an error, only something to explain, so folds return `(view, Vec<Notice>)`.
//! Two replicas with the same changes compute the same view, whatever order they merged in.
//!
//! # Layout
//! Each module uses only modules listed above it; the architecture test refuses circles.
//! - [`participation`]: the participation status machine: [`participation::step`] applies
//!   one assistant action or says why not ([`Rejection`]), in the order
//!   [`participation::ordered`] gives. Its module docs state the rules for dates and order.
//! - [`notice`]: notices, who they concern, and their stable ids.
//! - [`vacation`]: the yearly vacation summary.
//! - [`working_time`]: the rule that applies on a day across three levels; overlaps.
//! - [`record`]: the client record: status, the one primary caretaker, responsibilities,
//!   notes. Its module docs state the resolution rules.
//! - [`timeline`]: the fold of a timeline through the status machine.
//! - [`assistant`]: what the assistant offers, and [`assistant::apply`], which records an
//!   action only if it applies.
//! - [`tenant`]: uniqueness of pseudonyms and client ids across a tenant's records.
//! - [`settle`]: writing the outcome back, idempotently.
//! - `testing` (unit tests only): editors on a stepping clock and records the tests share.

pub mod assistant;
pub mod notice;
pub mod participation;
pub mod record;
pub mod settle;
pub mod tenant;
#[cfg(test)]
mod testing;
pub mod timeline;
pub mod vacation;
pub mod working_time;

pub use notice::{Notice, NoticeKind, OvertakenStep, RuleLevel};
pub use participation::{Participation, Rejection, Section, Status};
pub use record::{ClientStatus, RecordView, fold_record};
pub use settle::{settle_record, settle_timeline};
pub use timeline::{TimelineView, fold_timeline};
