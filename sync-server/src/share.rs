//! The share policy samod asks for every (document, peer) pair: the registry's access
//! decision, re-decided whenever access to that document may have changed.
//!
//! Peer ids are bound to sessions: `<account id>:<session tag>`, checked against the
//! token at the websocket upgrade, so the account named in a peer id is authenticated.

use std::sync::Arc;

use futures::Stream;
use model::UserId;
use samod::{DocumentId, PeerId, ShareConfig};

use crate::access::Access;
use crate::password;
use crate::registry::Registry;

/// The peer id a session must use: its account, and a tag derived from (not revealing)
/// its token, so that two devices of one person are two peers.
pub fn peer_id_for(account_id: &UserId, token: &str) -> String {
    let digest = password::token_digest(token);
    format!("{account_id}:{}", &digest[..16])
}

/// The account a peer id names, if it has the form [`peer_id_for`] makes.
pub fn account_of(peer: &PeerId) -> Option<&str> {
    let (account, tag) = peer.as_str().split_once(':')?;
    (!account.is_empty() && tag.len() == 16).then_some(account)
}

pub fn config_for(access: Access) -> ShareConfig {
    match access {
        Access::None => ShareConfig::none(),
        Access::Read => ShareConfig::read_only(),
        Access::Write => ShareConfig::read_write(),
    }
}

#[derive(Clone, Debug)]
pub struct Policy {
    registry: Arc<Registry>,
}

impl Policy {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self { registry }
    }
}

impl samod::SharePolicy for Policy {
    fn share(
        &self,
        doc_id: DocumentId,
        peer_id: PeerId,
    ) -> impl Stream<Item = ShareConfig> + Send + 'static {
        let registry = self.registry.clone();
        let account = account_of(&peer_id).map(UserId::new);
        let doc = crate::wire::from_samod(&doc_id);
        let generation = registry.watch(&doc);
        futures::stream::unfold(
            (generation, None::<Access>),
            move |(mut generation, last)| {
                let registry = registry.clone();
                let account = account.clone();
                async move {
                    loop {
                        // The first decision comes at once; later ones when access may
                        // have changed, and only when it did.
                        if last.is_some() && !generation.changed().await {
                            return None;
                        }
                        let access = match &account {
                            Some(account) => registry.access(&doc, account),
                            None => Access::None,
                        };
                        if Some(access) != last {
                            return Some((config_for(access), (generation, Some(access))));
                        }
                    }
                }
            },
        )
    }
}
