//! What the directory took away: a document it stopped listing (access lost) or lists as
//! purged leaves this device with every trace. The listing it is compared with is the
//! one last acted upon, kept in the store, so a device that was closed while access
//! ended forgets at its next sync just the same. A document created here that the
//! directory never listed (not yet registered, or registered and not yet listed) is
//! never forgotten for being absent.

use std::collections::BTreeSet;

use model::directory::Directory;

use super::Context;
use crate::api::Request;
use crate::rows::{self, Row};
use crate::store::{Forget, LostEdit, LostReason};

/// Which documents to forget, and why. `known`: the listing last acted upon; `listed`
/// and `purged`: the directory now; `held`: documents stored here; `unregistered`:
/// documents waiting for their registration.
pub(super) fn decide(
    known: &BTreeSet<String>,
    listed: &BTreeSet<String>,
    purged: &BTreeSet<String>,
    held: &BTreeSet<String>,
    unregistered: &BTreeSet<String>,
) -> Vec<(String, LostReason)> {
    let purged_here = purged
        .iter()
        .filter(|doc| held.contains(*doc) || known.contains(*doc))
        .map(|doc| (doc.clone(), LostReason::Purged));
    let revoked = known
        .iter()
        .filter(|doc| !listed.contains(*doc) && !purged.contains(*doc))
        .map(|doc| (doc.clone(), LostReason::AccessRevoked));
    purged_here
        .chain(revoked)
        .filter(|(doc, _)| !unregistered.contains(doc))
        .collect()
}

/// Whether the directory `am` may decide what it stopped listing: it holds every change
/// the listing here was read at (`listed_at`: directory id and heads), so it is not an
/// older state (samod may not have stored its newest changes when the app last ended).
/// Another directory (the server made a new one) decides.
pub(super) fn listing_applies(
    am: &automerge::Automerge,
    directory_id: &str,
    listed_at: Option<&(String, Vec<String>)>,
) -> bool {
    use automerge::ReadDoc as _;
    match listed_at {
        Some((id, heads)) if id == directory_id => heads.iter().all(|head| {
            head.parse::<automerge::ChangeHash>()
                .is_ok_and(|hash| am.get_change_by_hash(&hash).is_some())
        }),
        _ => true,
    }
}

/// The listing of the directory as stored here, for a store that has none yet (made
/// before the listing was kept): read before samod syncs the directory, so what the
/// server took away while the app was closed is still in it.
pub(super) fn seed_listing(ctx: &Context, directory_id: &str) {
    if !matches!(ctx.store.listed(), Ok(None)) {
        return;
    }
    let chunks = ctx.store.document_chunks(directory_id).unwrap_or_default();
    let (listed, heads) = if chunks.is_empty() {
        (BTreeSet::new(), Vec::new())
    } else {
        match rows::load::<Directory>(&chunks).and_then(|mut d| Ok((d.read()?, d.heads()))) {
            Ok((read, heads)) => (
                read.entries.into_keys().collect(),
                heads.iter().map(ToString::to_string).collect(),
            ),
            Err(error) => {
                tracing::warn!(%error, "the stored directory does not read");
                return;
            }
        }
    };
    if let Err(error) = ctx
        .store
        .update_listed(&listed, &BTreeSet::new(), directory_id, &heads)
    {
        tracing::error!(%error, "cannot keep the directory's listing");
    }
}

/// Forgets each document with every trace, recording lost local changes; with a
/// client record, every document here that belongs to the person (a notebook made
/// offline whose registration the server refused is listed nowhere). Returns what it
/// forgot.
pub(super) fn forget_all(
    ctx: &Context,
    gone: &[(String, LostReason)],
) -> Vec<(String, LostReason)> {
    if gone.is_empty() {
        return Vec::new();
    }
    let gone = with_dependents(ctx, gone);
    let gone = gone.as_slice();
    let gone_docs: BTreeSet<&str> = gone.iter().map(|(doc, _)| doc.as_str()).collect();
    let blobs = orphaned_blobs(ctx, &gone_docs);
    let requests: Vec<(i64, Request)> = ctx
        .store
        .requests()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, json)| Some((id, serde_json::from_slice::<Request>(&json).ok()?)))
        .collect();
    let now = model::editor::system_time_ms();
    // All decided before anything goes: a timeline's pseudonym is read from its record,
    // which may be forgotten in the same pass.
    let mut forgets = Vec::with_capacity(gone.len());
    for (doc, reason) in gone {
        let row = row_of(ctx, doc);
        let mine: Vec<String> = blobs
            .iter()
            .filter(|(owner, _)| owner == doc)
            .map(|(_, sha256)| sha256.clone())
            .collect();
        let about: Vec<i64> = requests
            .iter()
            .filter(|(_, request)| match request {
                Request::UploadBlob { sha256, .. } => mine.contains(sha256),
                Request::Register {
                    doc: registered, ..
                } => registered == doc,
                other => other.record() == Some(doc.as_str()),
            })
            .map(|(id, _)| *id)
            .collect();
        let lost = LostEdit {
            kind: row
                .as_ref()
                .map(|r| r.kind().as_str().to_owned())
                .or_else(|| {
                    let chunks = ctx.store.document_chunks(doc).unwrap_or_default();
                    rows::kind_of(&chunks).map(|k| k.as_str().to_owned())
                })
                .unwrap_or_default(),
            pseudonym: row.as_ref().and_then(|r| pseudonym(ctx, doc, r)),
            person: row.as_ref().and_then(|r| match r {
                Row::Member(_) => Some(doc.clone()),
                Row::Contact { person, .. }
                | Row::Timeline { person }
                | Row::Notebook { person, .. } => Some(person.clone()),
                _ => None,
            }),
            at_ms: now,
            reason: *reason,
            changes: 0,
            doc: doc.clone(),
        };
        forgets.push((
            Forget {
                doc: doc.clone(),
                blobs: mine,
                requests: about,
                lost: Some(lost),
            },
            *reason,
        ));
    }
    for (forget, reason) in &forgets {
        match ctx.store.forget(forget) {
            Ok(Some(lost)) => tracing::warn!(
                kind = %lost.kind,
                changes = lost.changes,
                reason = ?lost.reason,
                "local changes of a forgotten document were never synced"
            ),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot forget a document"),
        }
        tracing::info!(reason = ?reason, "a document was forgotten");
    }
    if let Err(error) = ctx.store.truncate_wal() {
        tracing::warn!(%error, "the store's WAL was not truncated after forgetting");
    }
    // The screens hear of it once it is gone from the WAL too.
    for (forget, _) in &forgets {
        ctx.changed.mark(&forget.doc);
    }
    ctx.changed.poke();
    gone.to_vec()
}

/// `gone`, and for each client record in it every other document held here that
/// belongs to the same person, for the same reason.
fn with_dependents(ctx: &Context, gone: &[(String, LostReason)]) -> Vec<(String, LostReason)> {
    let records: Vec<(&str, LostReason)> = gone
        .iter()
        .filter(|(doc, _)| matches!(row_of(ctx, doc), Some(Row::Member(_))))
        .map(|(doc, reason)| (doc.as_str(), *reason))
        .collect();
    let mut all = gone.to_vec();
    if records.is_empty() {
        return all;
    }
    for kind in [
        model::DocKind::Timeline,
        model::DocKind::Notebook,
        model::DocKind::ClientContact,
    ] {
        for (doc, json) in ctx.store.rows(kind.as_str()).unwrap_or_default() {
            let person = match serde_json::from_slice::<Row>(&json) {
                Ok(Row::Timeline { person })
                | Ok(Row::Notebook { person, .. })
                | Ok(Row::Contact { person, .. }) => person,
                _ => continue,
            };
            if let Some((_, reason)) = records.iter().find(|(record, _)| *record == person)
                && !all.iter().any(|(gone, _)| *gone == doc)
            {
                all.push((doc, *reason));
            }
        }
    }
    all
}

fn row_of(ctx: &Context, doc: &str) -> Option<Row> {
    let json = ctx.store.row(doc).ok()??;
    serde_json::from_slice(&json).ok()
}

/// The pseudonym of the person a document belongs to, where it is known here.
fn pseudonym(ctx: &Context, doc: &str, row: &Row) -> Option<String> {
    let person = match row {
        Row::Member(member) => return Some(member.pseudonym.clone()),
        Row::Contact { person, .. } | Row::Timeline { person } | Row::Notebook { person, .. } => {
            person
        }
        _ => return None,
    };
    if person == doc {
        return None;
    }
    match row_of(ctx, person)? {
        Row::Member(member) => Some(member.pseudonym),
        _ => None,
    }
}

/// The files' content (by SHA-256) that only forgotten notebooks referenced, with the
/// notebook that referenced each.
fn orphaned_blobs(ctx: &Context, gone: &BTreeSet<&str>) -> Vec<(String, String)> {
    let references = |doc: &str| -> Vec<String> {
        let chunks = ctx.store.document_chunks(doc).unwrap_or_default();
        rows::load::<model::notebook::Notebook>(&chunks)
            .and_then(|d| d.read())
            .map(|notebook| {
                notebook
                    .documents
                    .into_values()
                    .map(|meta| meta.sha256)
                    .collect()
            })
            .unwrap_or_default()
    };
    let notebooks: Vec<String> = ctx
        .store
        .rows(model::DocKind::Notebook.as_str())
        .unwrap_or_default()
        .into_iter()
        .map(|(doc, _)| doc)
        .collect();
    let candidates: Vec<(String, String)> = notebooks
        .iter()
        .filter(|doc| gone.contains(doc.as_str()))
        .flat_map(|doc| {
            references(doc)
                .into_iter()
                .map(move |sha256| (doc.clone(), sha256))
        })
        .collect();
    if candidates.is_empty() {
        return candidates;
    }
    let kept: BTreeSet<String> = notebooks
        .iter()
        .filter(|doc| !gone.contains(doc.as_str()))
        .flat_map(|doc| references(doc))
        .collect();
    candidates
        .into_iter()
        .filter(|(_, sha256)| !kept.contains(sha256))
        .collect()
}

#[cfg(test)]
mod tests;
