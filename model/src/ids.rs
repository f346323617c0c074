//! Identifiers: documents (bs58check, as automerge-repo spells them), users, tenants, the
//! short client id people read out on the phone, and the ids of entities inside documents.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};

/// Declares a string-backed id that can key an Automerge map.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        // By hand: the derived impls do not read a plain string inside an `Option`.
        impl Hydrate for $name {
            fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
                Ok(Self(s.to_owned()))
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;

            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(&self.0)
            }
        }

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// An account on the sync server. Unique across tenants, because a responsibility may
    /// link a user of another tenant.
    UserId
);
string_id!(
    /// A tenant: one counselling or training provider.
    TenantId
);
string_id!(
    /// An entity inside a document: a note, a claim, an assistant action, a participation,
    /// a rule. Made from a [`crate::Stamp`], so unique without coordination.
    EntityId
);
string_id!(
    /// A programme ("Maßnahme", "Auftrag") in the tenant catalogue.
    ProgrammeId
);
string_id!(
    /// A site ("Standort") of the tenant.
    SiteId
);
string_id!(
    /// A replica: one installation of the desktop app, or the server. Random, chosen once.
    NodeId
);

/// A participation is an entity of the timeline; the alias keeps signatures readable.
pub type ParticipationId = EntityId;
/// A section ("Maßnahmeabschnitt") is derived by the fold; its id is that of the action
/// that opened it, with a suffix for interruption sections.
pub type SectionId = EntityId;

/// A document id: 16 random bytes, written in bs58check like automerge-repo does, so that
/// the same id names the same document in our server, our client and JavaScript clients.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("not a bs58check document id")]
    NotBs58Check,
    #[error("a document id has 16 bytes, this one has {0}")]
    WrongLength(usize),
}

impl DocumentId {
    /// The caller supplies the randomness: the model draws none itself.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| IdError::NotBs58Check)?;
        let array: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| IdError::WrongLength(bytes.len()))?;
        Ok(Self(array))
    }
}

impl Hydrate for DocumentId {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|e: IdError| HydrateError::unexpected("a document id", e.to_string()))
    }
}

impl Reconcile for DocumentId {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

/// The alphabet of client ids: digits and capitals without 0, 1, I and O, which people
/// confuse when they read an id aloud.
const CLIENT_ID_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

string_id!(
    /// The short, human-readable client id ("Klient:in ID"), e.g. `75QJYD`.
    ClientId
);

impl ClientId {
    /// Derived from the record's document id, so every replica computes the same one and
    /// nobody has to hand ids out. 30 bits leave collisions rare but possible; the tenant
    /// check in `conflict-rules` reports them.
    pub fn for_document(doc: &DocumentId) -> Self {
        let bytes = doc.as_bytes();
        let mut bits =
            u64::from_be_bytes([0, 0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]]);
        let mut id = String::with_capacity(6);
        for _ in 0..6 {
            id.push(char::from(CLIENT_ID_ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        Self(id)
    }
}

#[cfg(test)]
mod tests;
