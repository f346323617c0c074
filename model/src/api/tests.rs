//! Each route's JSON, both ways: what the server writes, the client reads, and the
//! other way round, with the field names the README documents.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::*;

/// `value` written as `expected`, and `expected` read back as `value`.
fn check<T>(value: T, expected: serde_json::Value)
where
    T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
{
    let written = serde_json::to_value(&value).expect("serializable");
    assert_eq!(written, expected);
    let read: T = serde_json::from_value(expected).expect("readable");
    assert_eq!(read, value);
}

#[test]
fn sessions() {
    check(
        Login {
            login: "anna".into(),
            password: "Geheim#1".into(),
        },
        json!({"login": "anna", "password": "Geheim#1"}),
    );
    check(
        LoginAnswer {
            token: "t".into(),
            account_id: "a1".into(),
            peer_id: "a1:x".into(),
            directory_id: "d".into(),
            tenant: "t1".into(),
            role: Role::Counsellor,
        },
        json!({"token": "t", "account_id": "a1", "peer_id": "a1:x", "directory_id": "d",
               "tenant": "t1", "role": "counsellor"}),
    );
    check(
        PasswordChange {
            old: "a".into(),
            new: "b".into(),
        },
        json!({"old": "a", "new": "b"}),
    );
}

#[test]
fn documents_and_clients() {
    check(
        Registration {
            id: "2x".into(),
            kind: "client-record".into(),
            person: None,
            creation: Some("ab".into()),
        },
        json!({"id": "2x", "kind": "client-record", "person": null, "creation": "ab"}),
    );
    // Older clients leave out what they do not send.
    let minimal: Registration =
        serde_json::from_value(json!({"id": "2x", "kind": "timeline"})).expect("readable");
    assert_eq!((minimal.person, minimal.creation), (None, None));
    check(
        Deletion {
            deleted_on: Some("2026-12-05".into()),
        },
        json!({"deleted_on": "2026-12-05"}),
    );
    check(Deletion { deleted_on: None }, json!({"deleted_on": null}));
    check(
        Contact {
            email: Some("a@b.de".into()),
            phone: None,
        },
        json!({"email": "a@b.de", "phone": null}),
    );
    check(
        ContactStored {
            contact_id: "c".into(),
        },
        json!({"contact_id": "c"}),
    );
    check(
        NewPassword {
            password: "p".into(),
        },
        json!({"password": "p"}),
    );
}

#[test]
fn accounts() {
    check(
        vec![StaffMember {
            id: "a1".into(),
            login: "anna".into(),
            role: Role::Admin,
        }],
        json!([{"id": "a1", "login": "anna", "role": "admin"}]),
    );
    check(
        AccountSummary {
            id: "a1".into(),
            tenant: "t1".into(),
            login: "anna".into(),
            role: Role::Client,
            state: AccountState::Locked,
        },
        json!({"id": "a1", "tenant": "t1", "login": "anna", "role": "client", "state": "locked"}),
    );
    check(
        NewAccount {
            login: "neu".into(),
            role: Role::Counsellor,
            password: Some("p".into()),
            email: None,
        },
        json!({"login": "neu", "role": "counsellor", "password": "p", "email": null}),
    );
    check(
        AccountCreated {
            account_id: "a2".into(),
        },
        json!({"account_id": "a2"}),
    );
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
        assert_eq!(
            serde_json::to_value(role).expect("ok"),
            json!(role.as_str())
        );
    }
    for state in AccountState::ALL {
        assert_eq!(AccountState::parse(state.as_str()), Some(state));
        assert_eq!(
            serde_json::to_value(state).expect("ok"),
            json!(state.as_str())
        );
    }
}

#[test]
fn error_codes_are_written_as_their_names_and_unknown_ones_are_read() {
    use ErrorCode::*;
    for code in [
        WrongCredentials,
        RateLimited,
        NoSession,
        PasswordTooShort,
        PasswordTooLong,
        PasswordMissingClass,
        PasswordControlCharacter,
        PasswordTooCommon,
        PasswordTooWeak,
        LoginTaken,
        NoSuchAccount,
        UnknownRole,
        NotYourself,
        DocumentIdTaken,
        CreationMissing,
        BadCreation,
        BadDocumentId,
        UnknownKind,
        BadEmail,
        BadPhone,
        NoEmail,
        ClientNotActive,
        BadHash,
        HashMismatch,
        Forbidden,
        NotFound,
        NotJson,
        MalformedJson,
        InvalidRequest,
        MalformedRequest,
        TooLarge,
        Timeout,
        TooManyConnections,
        Internal,
        Unknown,
    ] {
        check(ErrorBody { error: code }, json!({"error": code.as_str()}));
    }
    let newer: ErrorBody =
        serde_json::from_value(json!({"error": "a-code-from-the-future"})).expect("readable");
    assert_eq!(newer.error, Unknown);
}

#[test]
fn paths_are_filled_in() {
    assert_eq!(
        paths::fill(paths::CLIENT_DELETE, "2x"),
        "/api/clients/2x/delete"
    );
    assert_eq!(paths::fill(paths::BLOB, "ab"), "/api/blobs/ab");
    assert_eq!(paths::fill(paths::LOGIN, "x"), "/api/login");
}

#[test]
fn secrets_stay_out_of_debug() {
    let login = Login {
        login: "anna".into(),
        password: "Geheim#1".into(),
    };
    assert_eq!(format!("{login:?}"), "Login { .. }");
    let answer = LoginAnswer {
        token: "secret-token".into(),
        account_id: "a1".into(),
        peer_id: "p".into(),
        directory_id: "d".into(),
        tenant: "t".into(),
        role: Role::Admin,
    };
    assert!(!format!("{answer:?}").contains("secret-token"));
}
