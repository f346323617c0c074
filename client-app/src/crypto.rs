//! Encryption at rest: a key derived from the user's password (PBKDF2-HMAC-SHA256), and
//! AES-256-GCM over every value the local store keeps. A lost laptop must not leak
//! social-work data.
//!
//! Each sealed value is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, with a fresh
//! random nonce, and carries its place in the store (table and key) as associated data:
//! a value copied to another row does not open there.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// PBKDF2 rounds for a new store: the same work factor as the server's password hashes.
pub const ITERATIONS: NonZeroU32 = NonZeroU32::new(600_000).expect("not zero");
pub const SALT_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Wrong key, or the bytes were changed: GCM cannot tell which.
    #[error("a stored value does not open with this key")]
    DoesNotOpen,
    #[error("the system's random number generator failed")]
    Random,
}

/// The key of one store, held only in memory.
pub struct Vault {
    key: LessSafeKey,
    /// The same key's bytes, to seal it under a recovery key ([`Vault::wrap`]).
    raw: [u8; KEY_LEN],
    rng: SystemRandom,
}

/// AES-256: a key is 32 bytes, a recovery key too.
pub const KEY_LEN: usize = 32;

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { .. }")
    }
}

impl Vault {
    /// Derives the key from `password`; costs `iterations` rounds of PBKDF2.
    pub fn derive(password: &str, salt: &[u8], iterations: NonZeroU32) -> Self {
        let mut key = [0u8; KEY_LEN];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            password.as_bytes(),
            &mut key,
        );
        Self::from_key(key)
    }

    /// A vault over a key that is not derived from a password: a device's recovery key,
    /// or a store's key unwrapped with one.
    pub fn from_key(key: [u8; KEY_LEN]) -> Self {
        // A 32-byte key is exactly what AES-256-GCM takes, so this cannot fail.
        #[allow(clippy::expect_used)]
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
            raw: key,
            rng: SystemRandom::new(),
        }
    }

    /// This vault's key, sealed under `wrapper` at `place`: the store keeps its key so
    /// under the device's recovery key.
    pub fn wrap(&self, wrapper: &Vault, place: &[u8]) -> Result<Vec<u8>, CryptoError> {
        wrapper.seal(place, &self.raw)
    }

    /// The vault whose key [`Vault::wrap`] sealed under `wrapper`.
    pub fn unwrap_with(wrapper: &Vault, place: &[u8], sealed: &[u8]) -> Result<Self, CryptoError> {
        let plain = wrapper.open(place, sealed)?;
        let key: [u8; KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::DoesNotOpen)?;
        Ok(Self::from_key(key))
    }

    pub fn seal(&self, place: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + plain.len() + 16);
        sealed.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(place),
                &mut body,
            )
            .map_err(|_| CryptoError::DoesNotOpen)?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    pub fn open(&self, place: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::DoesNotOpen);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::DoesNotOpen)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(place), &mut body)
            .map_err(|_| CryptoError::DoesNotOpen)?;
        Ok(plain.to_vec())
    }

    pub fn random<const N: usize>(&self) -> Result<[u8; N], CryptoError> {
        let mut bytes = [0u8; N];
        self.rng.fill(&mut bytes).map_err(|_| CryptoError::Random)?;
        Ok(bytes)
    }
}

/// Random bytes outside any vault (salts, device ids).
pub fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(password: &str) -> Vault {
        Vault::derive(
            password,
            b"0123456789abcdef",
            NonZeroU32::new(1000).unwrap(),
        )
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_place() {
        let vault = vault("Geheim#123");
        let sealed = vault.seal(b"rows/a", b"Mia Sonnenschein").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"Sonne"));
        assert_eq!(vault.open(b"rows/a", &sealed).unwrap(), b"Mia Sonnenschein");
        assert_eq!(
            vault.open(b"rows/b", &sealed),
            Err(CryptoError::DoesNotOpen)
        );
        assert_eq!(
            self::vault("Falsch#123").open(b"rows/a", &sealed),
            Err(CryptoError::DoesNotOpen)
        );
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert_eq!(
            vault.open(b"rows/a", &flipped),
            Err(CryptoError::DoesNotOpen)
        );
        assert_eq!(
            vault.open(b"rows/a", &sealed[..10]),
            Err(CryptoError::DoesNotOpen)
        );
        assert_ne!(
            vault.seal(b"rows/a", b"x").unwrap(),
            vault.seal(b"rows/a", b"x").unwrap()
        );
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_wrapper_and_place() {
        let store = vault("Geheim#123");
        let sealed = store.seal(b"rows/a", b"Mia Sonnenschein").unwrap();
        let recovery = Vault::from_key([7; KEY_LEN]);
        let wrapped = store.wrap(&recovery, b"meta/recovery").unwrap();
        assert!(!wrapped.windows(KEY_LEN).any(|w| w == store.raw));
        let unwrapped = Vault::unwrap_with(&recovery, b"meta/recovery", &wrapped).unwrap();
        assert_eq!(
            unwrapped.open(b"rows/a", &sealed).unwrap(),
            b"Mia Sonnenschein"
        );
        assert!(
            Vault::unwrap_with(&Vault::from_key([8; KEY_LEN]), b"meta/recovery", &wrapped).is_err()
        );
        assert!(Vault::unwrap_with(&recovery, b"meta/other", &wrapped).is_err());
    }
}
