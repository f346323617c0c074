//! Passwords: the policy of the manual (at least 8 characters with a lower-case letter, an
//! upper-case letter, a digit and a special character), at most 128 characters and no
//! control characters, and then hard to guess: zxcvbn's estimate of the guesses needed
//! must reach [`MIN_GUESSES_LOG10`], with the person's login and tenant and the German words people build
//! passwords from (the manual's bad examples among them) as its dictionary besides its
//! English ones, so that "Sommer2027!" or "Schatz75!" is refused although it meets the
//! composition rule. Stored as PBKDF2-HMAC-SHA256 with 600,000 iterations and a random
//! salt, and compared in constant time (ring's `pbkdf2::verify`).

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, pbkdf2};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;
pub const ITERATIONS: u32 = 600_000;
const SALT_BYTES: usize = 16;

/// At least 10^9 guesses by zxcvbn's estimate, between its scores 3 (10^8) and 4 (10^10):
/// the manual's own example "9TGCJ##qk0" (10^10) passes; a dictionary word with a year
/// and a sign ("Sommer2027!", 10^7) or "Abcdefgh1!" (10^8) does not.
pub const MIN_GUESSES_LOG10: f64 = 9.0;

/// The most common passwords that the character rules alone would let through, and a few
/// German classics. Compared without case; refused as "too common" whatever zxcvbn says.
const COMMON: &[&str] = &[
    "Passwort1!",
    "Password1!",
    "Passw0rd!",
    "P@ssw0rd",
    "P@ssword1",
    "Passwort123!",
    "Password123!",
    "Qwertz123!",
    "Qwerty123!",
    "Hallo123!",
    "Welcome1!",
    "Willkommen1!",
    "Admin123!",
    "Test1234!",
    "Abc12345!",
    "Aa123456!",
    "Schatz123!",
    "Fussball1!",
    "Iloveyou1!",
    "Letmein1!",
    "Geheim123!",
    "Start123!",
    "Changeme1!",
];

/// German words people build passwords from, most common first: zxcvbn's dictionaries
/// are English. The manual's examples of what not to do are here ("Leon1998",
/// "Schatz75", "sicheresPasswort", "Traumauto911").
const GERMAN_WORDS: &[&str] = &[
    "passwort",
    "kennwort",
    "hallo",
    "schatz",
    "sommer",
    "winter",
    "herbst",
    "fruehling",
    "frühling",
    "sonne",
    "liebe",
    "geheim",
    "willkommen",
    "start",
    "anfang",
    "test",
    "benutzer",
    "zugang",
    "login",
    "admin",
    "fussball",
    "fußball",
    "bayern",
    "borussia",
    "schalke",
    "werder",
    "hertha",
    "dortmund",
    "deutschland",
    "berlin",
    "hamburg",
    "muenchen",
    "münchen",
    "koeln",
    "köln",
    "frankfurt",
    "stuttgart",
    "leipzig",
    "dresden",
    "mausi",
    "maus",
    "hase",
    "hasi",
    "engel",
    "prinzessin",
    "schnucki",
    "baerchen",
    "bärchen",
    "liebling",
    "familie",
    "mama",
    "papa",
    "oma",
    "opa",
    "kinder",
    "hund",
    "katze",
    "pferd",
    "blume",
    "himmel",
    "stern",
    "herz",
    "glueck",
    "glück",
    "freiheit",
    "freund",
    "freundin",
    "arbeit",
    "schule",
    "beratung",
    "klient",
    "klientin",
    "berater",
    "beraterin",
    "sicheres",
    "sicherespasswort",
    "sicher",
    "traumauto",
    "traum",
    "auto",
    "leon",
    "lukas",
    "lena",
    "anna",
    "mia",
    "emma",
    "paul",
    "jonas",
    "ben",
    "finn",
    "lea",
    "laura",
    "julia",
    "sarah",
    "lisa",
    "michael",
    "thomas",
    "andreas",
    "stefan",
    "sabine",
    "petra",
    "monika",
    "januar",
    "februar",
    "maerz",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
    "montag",
    "freitag",
    "wochenende",
    "urlaub",
    "weihnachten",
    "ostern",
    "geburtstag",
    "qwertz",
    "asdfgh",
    "yxcvbn",
    "abcdef",
    "aendern",
    "ändern",
    "neu",
    "neues",
    "mein",
    "meins",
    "ich",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("at least {MIN_CHARS} characters")]
    TooShort,
    #[error("at most {MAX_CHARS} characters")]
    TooLong,
    #[error("a lower-case letter, an upper-case letter, a digit and a special character")]
    MissingClass,
    #[error("no control characters")]
    ControlCharacter,
    #[error("one of the most common passwords")]
    Common,
    #[error("too easy to guess")]
    TooWeak,
}

impl PolicyError {
    /// The stable code the API returns.
    pub fn code(self) -> model::api::ErrorCode {
        use model::api::ErrorCode;
        match self {
            PolicyError::TooShort => ErrorCode::PasswordTooShort,
            PolicyError::TooLong => ErrorCode::PasswordTooLong,
            PolicyError::MissingClass => ErrorCode::PasswordMissingClass,
            PolicyError::ControlCharacter => ErrorCode::PasswordControlCharacter,
            PolicyError::Common => ErrorCode::PasswordTooCommon,
            PolicyError::TooWeak => ErrorCode::PasswordTooWeak,
        }
    }
}

/// Checks `password` against the policy; `personal` are words of the person's own
/// (login, tenant) that make a password guessable.
pub fn check_policy(password: &str, personal: &[&str]) -> Result<(), PolicyError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PolicyError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PolicyError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PolicyError::ControlCharacter);
    }
    let lower = password.chars().any(char::is_lowercase);
    let upper = password.chars().any(char::is_uppercase);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let special = password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace());
    if !(lower && upper && digit && special) {
        return Err(PolicyError::MissingClass);
    }
    if COMMON
        .iter()
        .any(|common| common.eq_ignore_ascii_case(password))
    {
        return Err(PolicyError::Common);
    }
    let words: Vec<&str> = personal
        .iter()
        .copied()
        .filter(|word| !word.is_empty())
        .chain(GERMAN_WORDS.iter().copied())
        .collect();
    if zxcvbn::zxcvbn(password, &words).guesses_log10() < MIN_GUESSES_LOG10 {
        return Err(PolicyError::TooWeak);
    }
    Ok(())
}

/// A stored password: salt, iteration count and derived key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub hash: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("the system's random number generator failed")]
pub struct RandomError;

fn iterations(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

pub fn hash(password: &str, rng: &SystemRandom) -> Result<PasswordHash, RandomError> {
    let mut salt = vec![0u8; SALT_BYTES];
    rng.fill(&mut salt).map_err(|_| RandomError)?;
    let mut hash = vec![0u8; digest::SHA256_OUTPUT_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(ITERATIONS),
        &salt,
        password.as_bytes(),
        &mut hash,
    );
    Ok(PasswordHash {
        salt,
        iterations: ITERATIONS,
        hash,
    })
}

/// Constant-time comparison, inside ring.
pub fn verify(password: &str, stored: &PasswordHash) -> bool {
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(stored.iterations),
        &stored.salt,
        password.as_bytes(),
        &stored.hash,
    )
    .is_ok()
}

/// Random bytes as lower-case hex: session tokens.
pub fn random_hex(rng: &SystemRandom, bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf).map_err(|_| RandomError)?;
    Ok(hex::encode(buf))
}

/// Tokens are stored as their SHA-256, so a stolen database holds no usable token.
pub fn token_digest(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

#[cfg(test)]
mod tests;
