//! Tests of `password`.

use super::*;

#[test]
fn the_policy_of_the_manual_and_its_limits() {
    let cases: &[(&str, Result<(), PolicyError>)] = &[
        // The manual's examples of good passwords.
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
        // A NUL or a line break is not a special character.
        ("Abcdefg1\0", Err(PolicyError::ControlCharacter)),
        ("Abc\ndefgh1!", Err(PolicyError::ControlCharacter)),
    ];
    for (password, expected) in cases {
        assert_eq!(check_policy(password, &[]), *expected, "{password:?}");
    }
    let long = format!("Aa1!{}", "x".repeat(MAX_CHARS));
    assert_eq!(check_policy(&long, &[]), Err(PolicyError::TooLong));
    // Characters, not bytes.
    assert_eq!(check_policy("Äöü1!Ößä-Kranich7", &[]), Ok(()));
}

#[test]
fn passwords_that_meet_the_rule_but_are_easy_to_guess_are_refused() {
    let weak = [
        // Seen accepted before zxcvbn.
        "Passwort2!",
        "Sommer2027!",
        "Changeme2!",
        "Aaaaaaa1!",
        // The manual's examples of what not to do, with what the rule asks added.
        "Leon1998!",
        "Schatz75!",
        "sicheresPasswort1!",
        "Traumauto911!",
        // Keyboard walks, sequences, dates.
        "Qwertz123456!",
        "Abcdefgh1!",
        "01.01.1990Ab!",
    ];
    for password in weak {
        assert_eq!(
            check_policy(password, &[]),
            Err(PolicyError::TooWeak),
            "{password}"
        );
    }
}

#[test]
fn a_password_made_of_the_persons_own_login_or_tenant_is_refused() {
    assert_eq!(check_policy("Holunderbusch-Weg7", &[]), Ok(()));
    assert_eq!(
        check_policy("Holunderbusch-Weg7", &["holunderbusch-weg", "default"]),
        Err(PolicyError::TooWeak)
    );
    assert_eq!(
        check_policy("Jugendhilfe-Nord1", &["Anna", "jugendhilfe-nord"]),
        Err(PolicyError::TooWeak)
    );
}

#[test]
fn generated_passwords_pass() {
    let rng = SystemRandom::new();
    for _ in 0..20 {
        let generated = format!("Aa1!{}", random_hex(&rng, 12).unwrap());
        assert_eq!(check_policy(&generated, &["admin", "default"]), Ok(()));
    }
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
