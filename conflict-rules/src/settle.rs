//! Settling: after a merge, the server writes what the rules decided into the document as
//! its own change, so that every consumer, including ones that do not run these rules,
//! reads a clean record. What settling writes is a function of the document alone, with
//! deterministic ids, so settling twice writes nothing the second time and two servers
//! settling the same state write the same thing. Settling never changes the view.

use model::client_record::{ClaimOrigin, ClientRecord, PrimaryClaim};
use model::timeline::Timeline;
use model::{Document, DocumentError, EntityId, heads};

use crate::record::{conflict_id, fold_record, winning_claim};
use crate::timeline::fold_timeline;

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Record(#[from] model::client_record::RecordError),
    #[error(transparent)]
    Timeline(#[from] model::timeline::TimelineError),
}

/// Settles a client record: concurrent primary claims get a settlement claim that restates
/// the winner, and every caretaker the view derives from a losing claim is written down.
/// Returns whether anything was written.
pub fn settle_record(doc: &mut Document<ClientRecord>) -> Result<bool, SettleError> {
    let record = doc.read()?;
    let mut wrote = false;
    let claim_heads = heads(&record.primary_claims);
    if claim_heads.len() > 1
        && let Some(winner_id) = winning_claim(&record.primary_claims, &claim_heads)
        && let Some(winner) = record.primary_claims.get(winner_id)
    {
        let settlement = PrimaryClaim {
            origin: ClaimOrigin::Settlement,
            supersedes: claim_heads.clone(),
            ..winner.clone()
        };
        let id = EntityId::new(format!("settled-{}", conflict_id(&claim_heads)));
        wrote |= doc.write_settled_claim(&id, &settlement)?;
    }
    let (view, _) = fold_record(&record);
    for (id, responsibility) in &view.responsibilities {
        if !record.responsibilities.contains_key(id) {
            wrote |= doc.write_settled_responsibility(id, responsibility)?;
        }
    }
    Ok(wrote)
}

/// Settles a timeline: stores whether each action applied, and why not.
pub fn settle_timeline(doc: &mut Document<Timeline>) -> Result<bool, SettleError> {
    let timeline = doc.read()?;
    let (view, _) = fold_timeline(&timeline);
    Ok(doc.write_outcomes(&view.outcomes())?)
}

#[cfg(test)]
mod tests;
