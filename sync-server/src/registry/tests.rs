//! The registry over a real SQLite file: registration rules, retries, access from facts,
//! the watches that wake when access may change, and everything still there after
//! reopening.

use super::*;
use crate::config::Config;
use crate::db;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    admin: UserId,
    counsellor: UserId,
    other_tenant: UserId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let path = config.database_path();
    let accounts = crate::accounts::Accounts::new(db::open(&path).expect("db"), &config);
    let create = |tenant: &str, login: &str, role| {
        UserId::new(
            accounts
                .create(None, tenant, login, role, "Correct-Horse-7-Battery")
                .expect("account"),
        )
    };
    Fixture {
        admin: create("t1", "admin", Role::Admin),
        counsellor: create("t1", "counsellor", Role::Counsellor),
        other_tenant: create("t2", "stranger", Role::Admin),
        path,
        _dir: dir,
    }
}

/// The document id of a name the test uses: its bytes, padded.
fn doc(name: &str) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    DocumentId::from_bytes(bytes)
}

/// The creating change a client record is registered with.
const CREATION: automerge::ChangeHash = automerge::ChangeHash([7; 32]);

fn open(f: &Fixture) -> Registry {
    Registry::open(db::open(&f.path).expect("db"), chrono_tz::Europe::Berlin).expect("registry")
}

#[test]
fn registration_checks_the_rules_and_is_idempotent() {
    let f = fixture();
    let registry = open(&f);
    let counsellor = registry.viewer(&f.counsellor).expect("active");
    let admin = registry.viewer(&f.admin).expect("active");
    assert_eq!(
        registry
            .register(
                doc("rec"),
                DocKind::ClientRecord,
                None,
                Some(CREATION),
                &counsellor
            )
            .expect("record"),
        Registered::New
    );
    assert_eq!(
        registry
            .register(
                doc("rec"),
                DocKind::ClientRecord,
                None,
                Some(CREATION),
                &counsellor
            )
            .expect("retry"),
        Registered::Again
    );
    assert!(matches!(
        registry.register(doc("rec"), DocKind::Group, None, None, &counsellor),
        Err(RegistryError::Taken)
    ));
    assert!(
        matches!(
            registry.register(
                doc("rec"),
                DocKind::ClientRecord,
                None,
                Some(automerge::ChangeHash([8; 32])),
                &counsellor
            ),
            Err(RegistryError::Taken)
        ),
        "the same id with another creating change"
    );
    assert!(matches!(
        registry.register(doc("rec2"), DocKind::ClientRecord, None, None, &counsellor),
        Err(RegistryError::CreationMissing)
    ));
    assert_eq!(registry.creation(&doc("rec")), Some(CREATION));
    assert!(matches!(
        registry.register(
            doc("contact"),
            DocKind::ClientContact,
            Some(doc("rec")),
            None,
            &counsellor
        ),
        Err(RegistryError::Forbidden)
    ));
    assert!(matches!(
        registry.register(
            doc("tl"),
            DocKind::Timeline,
            Some(doc("nope")),
            None,
            &counsellor
        ),
        Err(RegistryError::Forbidden)
    ));
    registry
        .register(
            doc("contact"),
            DocKind::ClientContact,
            Some(doc("rec")),
            None,
            &admin,
        )
        .expect("admin registers contact data");
    registry
        .register(
            doc("notes"),
            DocKind::Notebook,
            Some(doc("rec")),
            None,
            &counsellor,
        )
        .expect("notebook");
    let stranger = registry.viewer(&f.other_tenant).expect("active");
    assert!(matches!(
        registry.register(
            doc("tl2"),
            DocKind::Timeline,
            Some(doc("rec")),
            None,
            &stranger
        ),
        Err(RegistryError::Forbidden)
    ));

    assert_eq!(registry.access(&doc("rec"), &f.counsellor), Access::Write);
    assert_eq!(
        registry.access(&doc("contact"), &f.counsellor),
        Access::None
    );
    assert_eq!(registry.access(&doc("contact"), &f.admin), Access::Write);
    assert_eq!(registry.access(&doc("notes"), &f.admin), Access::Read);
    assert_eq!(registry.access(&doc("rec"), &f.other_tenant), Access::None);
    assert_eq!(registry.access(&doc("unknown"), &f.admin), Access::None);

    let reopened = open(&f);
    assert_eq!(reopened.entry(&doc("notes")), registry.entry(&doc("notes")));
    assert_eq!(reopened.creation(&doc("rec")), Some(CREATION));
    assert_eq!(reopened.creation(&doc("notes")), None);
    assert_eq!(
        reopened
            .readable_by(&f.counsellor)
            .into_iter()
            .map(|(id, _, access)| (id, access))
            .collect::<Vec<_>>(),
        vec![(doc("notes"), Access::Write), (doc("rec"), Access::Write)]
    );
}

#[test]
fn facts_that_change_access_wake_watches_and_survive_a_restart() {
    let f = fixture();
    let registry = open(&f);
    let counsellor = registry.viewer(&f.counsellor).expect("active");
    registry
        .register(
            doc("rec"),
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("record");
    registry
        .register(
            doc("tl"),
            DocKind::Timeline,
            Some(doc("rec")),
            None,
            &counsellor,
        )
        .expect("timeline");
    let mut watch = registry.watch(&doc("tl"));

    registry
        .set_timeline_restriction(&TenantId::new("t1"), true)
        .expect("restrict");
    assert!(woken(&mut watch));
    assert_eq!(registry.access(&doc("tl"), &f.counsellor), Access::None);
    assert_eq!(registry.access(&doc("rec"), &f.counsellor), Access::Write);

    registry
        .set_responsibilities(
            doc("rec"),
            vec![Grant {
                user: f.counsellor.clone(),
                valid: Period::open(),
                deactivated: false,
            }],
        )
        .expect("grant");
    assert_eq!(registry.access(&doc("tl"), &f.counsellor), Access::Write);
    assert_eq!(registry.access(&doc("tl"), &f.admin), Access::None);

    woken(&mut watch);
    registry
        .set_timeline_restriction(&TenantId::new("t1"), true)
        .expect("same again");
    assert!(
        !woken(&mut watch),
        "an unchanged fact does not wake anybody"
    );

    let reopened = open(&f);
    assert_eq!(reopened.access(&doc("tl"), &f.counsellor), Access::Write);
    assert_eq!(reopened.access(&doc("tl"), &f.admin), Access::None);
}

#[test]
fn a_locked_account_reads_nothing() {
    let f = fixture();
    let registry = open(&f);
    let counsellor = registry.viewer(&f.counsellor).expect("active");
    registry
        .register(
            doc("rec"),
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("record");
    let config = Config::default();
    let accounts = crate::accounts::Accounts::new(db::open(&f.path).expect("db"), &config);
    accounts
        .set_state(None, f.counsellor.as_str(), AccountState::Locked)
        .expect("lock");
    registry.refresh_account(&f.counsellor).expect("refresh");
    assert_eq!(registry.access(&doc("rec"), &f.counsellor), Access::None);
    assert!(registry.readable_by(&f.counsellor).is_empty());
}

/// Whether `watch` was woken since the last look (and marks it seen).
fn woken(watch: &mut AccessWatch) -> bool {
    let woken = watch.everything.has_changed().expect("open")
        || watch.document.has_changed().expect("open");
    watch.everything.mark_unchanged();
    watch.document.mark_unchanged();
    woken
}

#[test]
fn a_document_is_watched_for_what_can_change_its_access_and_nothing_else() {
    let f = fixture();
    let registry = open(&f);
    let counsellor = registry.viewer(&f.counsellor).expect("active");
    let grant = |user: &UserId| Grant {
        user: user.clone(),
        valid: Period::open(),
        deactivated: false,
    };
    registry
        .register(
            doc("rec"),
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("record");
    registry
        .register(
            doc("rec2"),
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("another record");
    // A client may ask for a document before it is registered.
    let mut timeline = registry.watch(&doc("tl"));
    let mut record = registry.watch(&doc("rec"));

    registry
        .register(
            doc("tl"),
            DocKind::Timeline,
            Some(doc("rec")),
            None,
            &counsellor,
        )
        .expect("timeline");
    assert!(woken(&mut timeline), "its registration");
    assert!(!woken(&mut record), "another document's registration");

    registry
        .register(
            doc("other"),
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("other");
    registry
        .set_responsibilities(doc("rec2"), vec![grant(&f.counsellor)])
        .expect("someone else's caretaker");
    assert!(!woken(&mut timeline), "nothing of its person's");

    registry
        .set_responsibilities(doc("rec"), vec![grant(&f.counsellor)])
        .expect("its person's caretaker");
    assert!(woken(&mut timeline), "its person's responsibilities");
    assert!(woken(&mut record), "the person's own record too");

    registry
        .set_timeline_restriction(&TenantId::new("t1"), true)
        .expect("restrict");
    assert!(woken(&mut timeline), "the tenant's restriction");
    assert!(
        woken(&mut record),
        "the tenant's restriction wakes everyone"
    );
}

#[test]
fn only_a_persons_own_documents_name_them_and_none_once_their_purge_started() {
    let f = fixture();
    let registry = open(&f);
    let counsellor = registry.viewer(&f.counsellor).expect("active");
    let admin = registry.viewer(&f.admin).expect("active");
    let person = doc("rec");
    registry
        .register(
            person,
            DocKind::ClientRecord,
            None,
            Some(CREATION),
            &counsellor,
        )
        .expect("record");
    for (id, kind, who) in [
        (doc("group"), DocKind::Group, &counsellor),
        (doc("marks"), DocKind::Bookmarks, &counsellor),
        (doc("cat"), DocKind::Catalogue, &admin),
    ] {
        registry
            .register(id, kind, Some(person), None, who)
            .expect("registered");
        assert_eq!(registry.entry(&id).expect("entry").person, None, "{kind:?}");
        assert!(!registry.documents_of(&person).contains(&id), "{kind:?}");
    }
    registry
        .register(
            doc("nb1"),
            DocKind::Notebook,
            Some(person),
            None,
            &counsellor,
        )
        .expect("notebook");
    assert_eq!(
        registry.entry(&doc("nb1")).expect("entry").person,
        Some(person)
    );

    // The purge has started: nothing more is registered for the person.
    db::open(&f.path)
        .expect("db")
        .execute(
            "INSERT INTO purges (person, tenant, documents, day, started_ms)
             VALUES (?1, 't1', '', '2024-01-01', 1)",
            params![person.to_string()],
        )
        .expect("purge row");
    assert!(matches!(
        registry.register(
            doc("nb2"),
            DocKind::Notebook,
            Some(person),
            None,
            &counsellor
        ),
        Err(RegistryError::Forbidden)
    ));
    assert!(registry.entry(&doc("nb2")).is_none());
}
