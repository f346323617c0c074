//! Tests of `password`.

use super::*;

#[test]
fn the_policy_of_the_manual_and_its_limits() {
    let cases: &[(&str, Result<(), PolicyError>)] = &[
        ("9TGCJ##qk0", Ok(())),
        ("K0chL4mp3nsch1rmS0nn3!", Ok(())),
        ("Kurz1!", Err(PolicyError::TooShort)),
        ("nouppercase1!", Err(PolicyError::MissingClass)),
        ("NOLOWERCASE1!", Err(PolicyError::MissingClass)),
        ("NoDigitsHere!", Err(PolicyError::MissingClass)),
        ("NoSpecial123", Err(PolicyError::MissingClass)),
        ("passwort1!", Err(PolicyError::MissingClass)),
        ("Passwort1!", Err(PolicyError::Common)),
        ("pASSWORT1!", Err(PolicyError::Common)),
    ];
    for (password, expected) in cases {
        assert_eq!(check_policy(password), *expected, "{password}");
    }
    let long = format!("Aa1!{}", "x".repeat(MAX_CHARS));
    assert_eq!(check_policy(&long), Err(PolicyError::TooLong));
    // Characters, not bytes: eight umlaut-heavy characters are enough.
    assert_eq!(check_policy("Äöü1!Ößä"), Ok(()));
}

#[test]
fn a_hash_verifies_its_password_only() {
    let rng = SystemRandom::new();
    let stored = hash("9TGCJ##qk0", &rng).unwrap();
    assert_eq!(stored.iterations, 600_000);
    assert!(verify("9TGCJ##qk0", &stored));
    assert!(!verify("9TGCJ##qk1", &stored));
    let again = hash("9TGCJ##qk0", &rng).unwrap();
    assert_ne!(again.salt, stored.salt, "every hash has its own salt");
}
