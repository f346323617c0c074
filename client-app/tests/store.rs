//! The local store on disk: nothing personal in plain text, a wrong password refused,
//! a damaged file reported without being touched, and a process killed mid-write leaves
//! a store that opens with every committed write in it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use client_app::store::{Profile, Store, StoreError};

const PASSWORD: &str = "Lokal#Geheim1";

fn profile() -> Profile {
    Profile {
        server: "http://127.0.0.1:8470".into(),
        login: "anna".into(),
        account_id: "acc-1".into(),
        tenant: "t".into(),
        role: model::api::Role::Counsellor,
        directory_id: "dir".into(),
        device: "00112233445566778899aabbccddeeff".into(),
        session: None,
        staff: Vec::new(),
        last_sync_ms: None,
        staff_changed_ms: None,
        connection: Default::default(),
    }
}

fn create(path: &Path) -> Store {
    Store::create(path, PASSWORD, &profile(), NonZeroU32::new(1_000).unwrap()).unwrap()
}

fn file_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn the_file_holds_no_plaintext_and_opens_only_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.store");
    let store = create(&path);
    store
        .record_local(
            "docA",
            &[("hash1".into(), b"Pseudonym Sonnenblume".to_vec())],
            &["hash1".into()],
            Some(("client-record", br#"{"pseudonym":"Sonnenblume"}"#)),
        )
        .unwrap();
    store
        .push_request(br#"{"email":"mia@example.org"}"#)
        .unwrap();
    store.put_blob("ab12", b"Lebenslauf von Mia").unwrap();
    drop(store);
    let bytes = file_bytes(dir.path());
    for secret in [
        &b"Sonnenblume"[..],
        b"mia@example.org",
        b"anna",
        b"8470",
        b"Lebenslauf",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "{} in plain text",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(matches!(
        Store::open(&path, "Falsch#123"),
        Err(StoreError::WrongPassword)
    ));
    let store = Store::open(&path, PASSWORD).unwrap();
    assert_eq!(store.profile().unwrap(), profile());
    assert_eq!(
        store.document_chunks("docA").unwrap(),
        [b"Pseudonym Sonnenblume".to_vec()]
    );
    assert_eq!(store.unsynced_count().unwrap(), 1);
    assert_eq!(
        store.blob("ab12").unwrap().as_deref(),
        Some(&b"Lebenslauf von Mia"[..])
    );
}

#[test]
fn a_new_password_reseals_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.store");
    let store = create(&path);
    store.put_chunk("docA/incremental/h", b"eins").unwrap();
    store.put_row("docA", "client-record", b"{}").unwrap();
    store.put_blob("ab12", b"Datei").unwrap();
    store.change_password("Neu#Passwort2").unwrap();
    drop(store);
    assert!(matches!(
        Store::open(&path, PASSWORD),
        Err(StoreError::WrongPassword)
    ));
    let store = Store::open(&path, "Neu#Passwort2").unwrap();
    assert_eq!(
        store.load_chunk("docA/incremental/h").unwrap().unwrap(),
        b"eins"
    );
    assert_eq!(store.row("docA").unwrap().unwrap(), b"{}");
    assert_eq!(store.blob("ab12").unwrap().unwrap(), b"Datei");
}

#[test]
fn a_damaged_or_foreign_file_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.store");
    let garbage = b"this is not a SQLite database, just bytes".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let error = Store::open(&path, PASSWORD).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("garbage.store"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "nothing written");

    // A value flipped inside a good store: that value is refused, the rest reads.
    let path = dir.path().join("flipped.store");
    let store = create(&path);
    store
        .put_row("docA", "client-record", b"{\"a\":1}")
        .unwrap();
    store
        .put_row("docB", "client-record", b"{\"b\":2}")
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE rows SET value = x'00112233445566778899aabbccddeeff00112233445566778899' WHERE doc = 'docA'", [])
        .unwrap();
    drop(conn);
    let store = Store::open(&path, PASSWORD).unwrap();
    assert!(matches!(store.row("docA"), Err(StoreError::Damaged(_))));
    assert_eq!(store.row("docB").unwrap().unwrap(), b"{\"b\":2}");
}

/// The child: writes local edits in a loop until it is killed.
#[test]
#[ignore = "run by a_process_killed_mid_write_leaves_a_readable_store"]
fn writer_until_killed() {
    let Ok(path) = std::env::var("STORE_UNDER_TEST") else {
        return;
    };
    let store = Store::open(Path::new(&path), PASSWORD).unwrap();
    for i in 0u64.. {
        let payload = vec![(i % 251) as u8; 64 * 1024];
        store
            .record_local(
                &format!("doc{}", i % 7),
                &[(format!("h{i}"), payload)],
                &[format!("h{i}")],
                None,
            )
            .unwrap();
        // Tells the parent how far it got (a line per committed write).
        println!("{i}");
    }
}

#[test]
fn a_process_killed_mid_write_leaves_a_readable_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.store");
    drop(create(&path));
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "writer_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STORE_UNDER_TEST", &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    let output = child.wait_with_output().unwrap();
    let committed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .max()
        .expect("the writer committed something before it was killed");

    let store = Store::open(&path, PASSWORD).unwrap();
    for i in 0..=committed {
        let chunk = store
            .load_chunk(&format!("doc{}/incremental/h{i}", i % 7))
            .unwrap();
        assert_eq!(
            chunk.map(|c| c.len()),
            Some(64 * 1024),
            "write {i} of {committed} lost"
        );
    }
    let total: u64 = store.unsynced().unwrap().iter().map(|u| u.changes).sum();
    assert!(
        total > committed,
        "every committed write counted: {total} vs {committed}"
    );
}

/// A store file, damaged in a few random bytes (after the owner closed it), or replaced by
/// random bytes: opening it reports an error or opens; reading it then reports errors or
/// reads; nothing panics (fuzzing the load path, issue 5).
mod damaged {
    use super::*;
    use proptest::prelude::*;

    fn reading_is_total(path: &Path) {
        if let Ok(store) = Store::open(path, PASSWORD) {
            let _ = store.profile();
            let _ = store.rows("client-record");
            let _ = store.document_chunks("docA");
            let _ = store.requests();
            let _ = store.unsynced();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn a_store_with_flipped_bytes_never_panics(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.store");
            let store = create(&path);
            store
                .record_local(
                    "docA",
                    &[("h1".into(), b"Pseudonym Sonnenblume".to_vec())],
                    &["h1".into()],
                    Some(("client-record", br#"{"row":"Directory"}"#)),
                )
                .unwrap();
            store.push_request(b"{}").unwrap();
            drop(store);
            let mut bytes = std::fs::read(&path).unwrap();
            for (at, value) in flips {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            std::fs::write(&path, &bytes).unwrap();
            reading_is_total(&path);
        }

        #[test]
        fn a_file_of_random_bytes_is_refused_and_left_alone(
            bytes in proptest::collection::vec(any::<u8>(), 0..8192)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("b.store");
            std::fs::write(&path, &bytes).unwrap();
            prop_assert!(Store::open(&path, PASSWORD).is_err());
            prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
        }
    }
}

#[cfg(unix)]
#[test]
fn the_store_and_its_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile").join("store.sqlite3");
    let store = create(&path);
    store
        .put_chunk("doc/incremental/1", b"Erstgespraech")
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
        let file = entry.unwrap().path();
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(store);
    // A store made before: opening it tightens what it finds.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = Store::open(&path, PASSWORD).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn what_is_deleted_is_overwritten_not_left_in_free_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let store = create(&path);
    // A large value, sealed: its ciphertext must be gone from every file once deleted.
    let value = vec![b'x'; 64 * 1024];
    store.put_chunk("doc/incremental/1", &value).unwrap();
    let sealed: Vec<u8> = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row(
            "SELECT value FROM chunks WHERE key = 'doc/incremental/1'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let probe = &sealed[sealed.len() / 2..sealed.len() / 2 + 64];
    let contains = |all: &[u8]| all.windows(probe.len()).any(|w| w == probe);
    assert!(
        contains(&file_bytes(dir.path())),
        "the sealed value is on disk"
    );
    store.forget_document("doc").unwrap();
    drop(store);
    // Closing the last connection checkpoints the write-ahead log into the file.
    assert!(
        !contains(&file_bytes(dir.path())),
        "the deleted value is gone"
    );
}
