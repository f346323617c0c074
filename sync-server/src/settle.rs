//! Settling after merges, and the facts access depends on.
//!
//! samod tells the [`ChangeObserver`] of every sync message a client sent; the
//! [`run`] worker then, per document and at most once per batch:
//! - client records: `conflict_rules::settle_record` writes the outcome of concurrent
//!   primary claims back as the server's own change; the record's responsibilities (and
//!   its primary caretaker) go to the registry, for the timeline restriction, and so
//!   does its effective deletion day, for the purge;
//! - timelines: `conflict_rules::settle_timeline` stores whether each action applied;
//! - catalogues: the tenant's timeline restriction and deletion interval go to the
//!   registry;
//! - contact documents: direct messages still marked `Queued` go to the mail queue;
//! - notebooks: which uploaded files they reference, for the blob store's access check.
//!
//! The server is the only settler (conflict-rules' single-writer invariant). A document
//! that does not load as its registered kind is left alone and logged by id.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use automerge::{ActorId, Automerge, ChangeHash};
use model::catalogue::Catalogue;
use model::client_contact::{ClientContact, Delivery};
use model::client_record::ClientRecord;
use model::timeline::Timeline;
use model::{Date, DocKind, Document, Period, TenantId};
use samod::{DocumentId, RepoEvent, RepoObserver};
use tokio::sync::mpsc;

use crate::access::Grant;
use crate::authoring::{self, AuthoringError};
use crate::mail::{About, State};
use crate::registry::Registry;
use crate::wire::{from_samod, to_samod};

/// Forwards the id of every document a client sent changes for.
#[derive(Debug)]
pub struct ChangeObserver {
    changed: mpsc::UnboundedSender<DocumentId>,
}

impl ChangeObserver {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<DocumentId>) {
        let (changed, receiver) = mpsc::unbounded_channel();
        (Self { changed }, receiver)
    }
}

impl RepoObserver for ChangeObserver {
    fn observe(&self, event: &RepoEvent) {
        if let RepoEvent::SyncMessageReceived { document_id, .. } = event {
            let _ = self.changed.send(document_id.clone());
        }
    }
}

/// What settling learned, for the registry or the mail queue.
enum Fact {
    /// A client record's responsibilities and its effective deletion day.
    Record(Vec<Grant>, Option<Date>),
    /// A tenant's timeline restriction and deletion interval.
    Catalogue(TenantId, bool, u64),
    Mail(Vec<crate::mail::Outgoing>),
    BlobRefs(Vec<String>),
}

/// Settles changed documents until the repo stops.
pub async fn run(
    mut changed: mpsc::UnboundedReceiver<DocumentId>,
    repo: samod::Repo,
    registry: Arc<Registry>,
    mail: Arc<crate::mail::Mail>,
    blobs: Arc<crate::blobs::Blobs>,
    actor: ActorId,
) {
    // The heads each document had when it was last settled (the server's own change
    // included): a document that has not changed since needs no settling.
    let mut settled = HashMap::new();
    while let Some(first) = changed.recv().await {
        let mut batch = BTreeSet::from([from_samod(&first)]);
        while let Ok(more) = changed.try_recv() {
            batch.insert(from_samod(&more));
        }
        for id in batch {
            settle_one(&repo, &registry, (&mail, &blobs), &actor, id, &mut settled).await;
        }
    }
}

async fn settle_one(
    repo: &samod::Repo,
    registry: &Arc<Registry>,
    (mail, blobs): (&Arc<crate::mail::Mail>, &Arc<crate::blobs::Blobs>),
    actor: &ActorId,
    id: model::DocumentId,
    settled: &mut HashMap<model::DocumentId, Vec<ChangeHash>>,
) {
    let Some(entry) = registry.entry(&id) else {
        return;
    };
    if !matches!(
        entry.kind,
        DocKind::ClientRecord
            | DocKind::Timeline
            | DocKind::Catalogue
            | DocKind::ClientContact
            | DocKind::Notebook
    ) {
        return;
    }
    let Ok(Some(handle)) = repo.find(to_samod(id)).await else {
        return;
    };
    let kind = entry.kind;
    // Settling is a function of the document alone (conflict-rules' invariant), so a
    // document whose heads have not moved since it was last settled (a client's
    // acknowledgement, which is most messages) would settle to the same facts and write
    // nothing. Not so for contact documents: settling one also marks the messages the
    // queue delivered since, which the document does not show.
    let unchanged = kind != DocKind::ClientContact
        && settled
            .get(&id)
            .is_some_and(|heads| handle.with_document(|doc| doc.get_heads()) == *heads);
    if unchanged {
        return;
    }
    let settled_now = authoring::held(&handle, |doc| {
        let fact = match settle_in(doc, id, kind, &entry.tenant, actor) {
            Ok(fact) => fact,
            Err(error) => {
                tracing::warn!(document = %id, kind = kind.as_str(), %error, "cannot settle");
                None
            }
        };
        (fact, doc.get_heads())
    });
    let Ok((fact, heads)) = settled_now else {
        return;
    };
    settled.insert(id, heads);
    let stored = match fact {
        Some(Fact::Record(grants, deleted_on)) => {
            // SQLite off the async workers.
            let registry = registry.clone();
            match tokio::task::spawn_blocking(move || {
                registry
                    .set_responsibilities(id, grants)
                    .and_then(|()| registry.set_deletion_day(id, deleted_on))
            })
            .await
            {
                Ok(stored) => stored,
                Err(_) => Ok(()),
            }
        }
        Some(Fact::Catalogue(tenant, on, interval)) => {
            // A tenant may have several catalogues (two admins who each started one
            // offline); the restriction holds while any of them sets it. Taking this
            // catalogue's value alone let whichever catalogue was settled last decide,
            // so an untouched older catalogue, settled again at a client's next message
            // or after a restart, lifted the restriction another one had just set.
            // Likewise the fallback interval is the longest any catalogue says.
            let (elsewhere, longest) = other_catalogues(repo, registry, &tenant, id).await;
            let on = on || elsewhere;
            let interval = interval.max(longest);
            let registry = registry.clone();
            match tokio::task::spawn_blocking(move || {
                registry
                    .set_timeline_restriction(&tenant, on)
                    .and_then(|()| registry.set_deletion_interval(&tenant, interval))
            })
            .await
            {
                Ok(stored) => stored,
                Err(_) => Ok(()),
            }
        }
        Some(Fact::Mail(messages)) => {
            let mail = mail.clone();
            let doc = id;
            // Queued now, or, if the queue is done with one already, its id and outcome:
            // the mark did not reach the document, so it is written here.
            let queued = tokio::task::spawn_blocking(move || {
                let mut done = Vec::new();
                for message in messages {
                    if let Err(error) = mail.queue(&message) {
                        tracing::error!(document = %doc, %error, "cannot queue a direct message");
                    }
                    let delivery = match mail.state(&message.key) {
                        Ok(Some(State::Sent)) => Delivery::Sent,
                        Ok(Some(State::Failed)) => Delivery::Failed,
                        _ => continue,
                    };
                    if let Some(About::DirectMessage(direct)) = message.about {
                        done.push((direct.message, delivery));
                    }
                }
                done
            })
            .await;
            for (message, delivery) in queued.unwrap_or_default() {
                let message = model::EntityId::new(message);
                let marked = authoring::held(&handle, |doc| {
                    authoring::edit(doc, actor, |d: &mut Document<ClientContact>| {
                        d.set_delivery(&message, delivery)
                    })
                });
                if !matches!(marked, Ok(Ok(_))) {
                    tracing::error!(document = %id, "cannot mark a direct message's delivery");
                }
            }
            Ok(())
        }
        Some(Fact::BlobRefs(hashes)) => {
            let blobs = blobs.clone();
            let doc = id.to_string();
            match tokio::task::spawn_blocking(move || blobs.set_refs(&doc, &hashes)).await {
                Ok(stored) => stored.map_err(Into::into),
                Err(_) => Ok(()),
            }
        }
        None => Ok(()),
    };
    if let Err(error) = stored {
        tracing::error!(document = %id, %error, "cannot record what settling learned");
    }
}

/// Whether a catalogue of `tenant` other than `this` restricts timelines, and the
/// longest deletion interval any of them says, as the server holds them now. A
/// catalogue that cannot be read counts as neither (and is logged): it could not have
/// been settled either.
async fn other_catalogues(
    repo: &samod::Repo,
    registry: &Registry,
    tenant: &TenantId,
    this: model::DocumentId,
) -> (bool, u64) {
    let mut restricted = false;
    let mut longest = 0;
    for other in registry.documents_of_kind(tenant, DocKind::Catalogue) {
        if other == this {
            continue;
        }
        let Ok(Some(handle)) = repo.find(to_samod(other)).await else {
            continue;
        };
        let read = authoring::held(&handle, |doc| {
            Document::<Catalogue>::load(&doc.save_nocompress())
                .and_then(|typed| typed.read())
                .map(|catalogue| {
                    (
                        catalogue.settings.restrict_timeline_to_responsibles,
                        catalogue.settings.deletion_interval_days,
                    )
                })
        });
        match read {
            Ok(Ok((on, days))) => {
                restricted |= on;
                longest = longest.max(days);
            }
            Ok(Err(error)) => {
                tracing::warn!(document = %other, %error, "cannot read a catalogue");
            }
            Err(_) => {}
        }
    }
    (restricted, longest)
}

#[derive(Debug, thiserror::Error)]
enum SettleFailure {
    #[error(transparent)]
    Document(#[from] model::DocumentError),
    #[error(transparent)]
    Authoring(#[from] AuthoringError<conflict_rules::settle::SettleError>),
}

/// Settles `doc` (samod's copy) through the model, as the server's own change.
fn settle_in(
    doc: &mut Automerge,
    id: model::DocumentId,
    kind: DocKind,
    tenant: &TenantId,
    actor: &ActorId,
) -> Result<Option<Fact>, SettleFailure> {
    match kind {
        DocKind::ClientRecord => {
            let (record, _) = authoring::edit(doc, actor, |typed: &mut Document<ClientRecord>| {
                conflict_rules::settle::settle_record(typed)?;
                Ok(typed.read()?)
            })?;
            let (view, _) = conflict_rules::record::fold_record(&record);
            let deleted_on = deletion_day(&view);
            let mut grants: Vec<Grant> = view
                .responsibilities
                .values()
                .map(|r| Grant {
                    user: r.user.clone(),
                    valid: r.valid,
                    deactivated: r.deactivated,
                })
                .collect();
            if let Some(primary) = view.primary {
                grants.push(Grant {
                    user: primary.user.clone(),
                    valid: Period::open(),
                    deactivated: false,
                });
            }
            Ok(Some(Fact::Record(grants, deleted_on)))
        }
        DocKind::Timeline => {
            authoring::edit(doc, actor, |typed: &mut Document<Timeline>| {
                conflict_rules::settle::settle_timeline(typed).map(|_| ())
            })?;
            Ok(None)
        }
        DocKind::Catalogue => {
            let catalogue = Document::<Catalogue>::load(&doc.save_nocompress())?.read()?;
            // The tenant is the registry's, never what the document claims.
            Ok(Some(Fact::Catalogue(
                tenant.clone(),
                catalogue.settings.restrict_timeline_to_responsibles,
                catalogue.settings.deletion_interval_days,
            )))
        }
        DocKind::Notebook => {
            let notebook =
                Document::<model::notebook::Notebook>::load(&doc.save_nocompress())?.read()?;
            Ok(Some(Fact::BlobRefs(
                notebook.documents.into_values().map(|d| d.sha256).collect(),
            )))
        }
        DocKind::ClientContact => {
            let contact = Document::<ClientContact>::load(&doc.save_nocompress())?.read()?;
            Ok(Some(Fact::Mail(crate::mail::direct_messages(id, &contact))))
        }
        _ => Ok(None),
    }
}

/// The effective deletion day of a record's view: the day of the deletion that wins the
/// fold; none when it is not deleted (never, or restored since).
pub fn deletion_day(view: &conflict_rules::record::RecordView) -> Option<Date> {
    match view.status {
        conflict_rules::record::ClientStatus::Deleted { on } => Some(on),
        _ => None,
    }
}
