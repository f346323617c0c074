//! The outbox, sent: queued requests go to the server in order before samod starts, and
//! documents still waiting for their registration are kept from samod until then.

use std::collections::BTreeSet;

use super::{Context, Ended, store_problem};
use crate::api::{self, ApiError, Request};

/// Sends the outbox in order. Stops at the first request the server cannot be asked
/// now; a refused one is dropped and reported.
pub(super) async fn flush(ctx: &Context, server: &api::Server, token: &str) -> Result<(), Ended> {
    for (id, json) in ctx.store.requests().map_err(store_problem)? {
        let Ok(request) = serde_json::from_slice::<Request>(&json) else {
            tracing::error!(id, "an unreadable request in the outbox is dropped");
            ctx.store.finish_request(id).map_err(store_problem)?;
            continue;
        };
        let sent = match &request {
            Request::UploadBlob { sha256, .. } => match ctx.store.blob(sha256) {
                Ok(Some(data)) => api::put_blob(server, token, sha256, data).await,
                _ => {
                    tracing::error!(id, "an upload's content is missing from the store");
                    ctx.store.finish_request(id).map_err(store_problem)?;
                    continue;
                }
            },
            other => api::send(server, token, other).await,
        };
        match sent {
            Ok(()) => ctx.store.finish_request(id).map_err(store_problem)?,
            Err(ApiError::Unreachable(why)) => {
                return Err(Ended::Lost(format!("Server nicht erreichbar: {why}")));
            }
            // Nothing was sent: the request waits until the connection is safe.
            Err(ApiError::Insecure(why)) => return Err(Ended::Lost(why)),
            Err(error) if error.is_no_session() => {
                return Err(Ended::Lost("Sitzung abgelaufen".into()));
            }
            Err(error) => {
                tracing::warn!(%error, "the server refused a request");
                ctx.store.finish_request(id).map_err(store_problem)?;
                ctx.set_status(|s| {
                    s.refused.push(format!(
                        "{} – vom Server abgelehnt: {}",
                        request.german(),
                        api::refusal_german(&error)
                    ))
                });
            }
        }
        ctx.changed.poke();
    }
    Ok(())
}

/// Documents that wait for their registration must not reach samod yet.
pub(super) fn unregistered(ctx: &Context) -> BTreeSet<String> {
    ctx.store
        .requests()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, json)| match serde_json::from_slice(&json) {
            Ok(Request::Register { doc, .. }) => Some(doc),
            _ => None,
        })
        .collect()
}
