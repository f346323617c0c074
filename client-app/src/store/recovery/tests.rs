//! The recovery key: drawn once, opens the store after its password changed, and only it.

use std::num::NonZeroU32;

use super::*;
use crate::store::Profile;

const PASSWORD: &str = "Lokal#Geheim1";

fn store(path: &std::path::Path) -> Store {
    let profile = Profile {
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
        connection: Default::default(),
        staff_changed_ms: None,
    };
    Store::create(
        path,
        PASSWORD,
        &profile,
        NonZeroU32::new(1_000).expect("not zero"),
    )
    .expect("created")
}

#[test]
fn base64url_without_padding_as_the_contract_writes_it() {
    // RFC 4648's test vectors, in the URL alphabet without padding.
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64url_encode(plain.as_bytes()), encoded);
        assert_eq!(base64url_decode(encoded).as_deref(), Some(plain.as_bytes()));
    }
    assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
    let key = RecoveryKey([0xfe; RECOVERY_KEY_LEN]);
    assert_eq!(key.encoded().len(), 43);
    assert_eq!(RecoveryKey::decode(&key.encoded()), Some(key));
    for bad in ["Zm9v=", "Zm9v+", "Z", "Zh", "AAAA"] {
        assert_eq!(RecoveryKey::decode(bad), None, "{bad}");
    }
    assert_eq!(base64url_decode("Zh"), None, "leftover bits not zero");
}

#[test]
fn the_recovery_key_opens_the_store_after_a_password_change_and_nothing_else_does() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.store");
    let store = store(&path);
    assert_eq!(Store::recovery_device(&path).expect("read"), None);
    store.put_row("doc", "timeline", b"{\"x\":1}").expect("row");
    let (device, key, stored) = store.recovery().expect("drawn");
    assert!(!stored);
    assert_eq!(device.len(), 32);
    let (again, same, _) = store.recovery().expect("read");
    assert_eq!(
        (again.as_str(), &same),
        (device.as_str(), &key),
        "drawn once"
    );
    store.set_recovery_stored().expect("noted");
    assert!(store.recovery().expect("read").2);
    assert_eq!(
        Store::recovery_device(&path).expect("read").as_deref(),
        Some(device.as_str()),
        "readable without the password"
    );
    // The person's own password change re-wraps the new key under the same recovery key.
    store.change_password("Zweites#Pass3").expect("resealed");
    drop(store);

    let opened = Store::open_with_recovery(&path, &key).expect("opens with the recovery key");
    assert_eq!(
        opened.row("doc").expect("read").as_deref(),
        Some(&b"{\"x\":1}"[..])
    );
    assert_eq!(opened.recovery().expect("read").1, key);
    // An admin's reset: resealed under the new password, which opens it from then on.
    opened.change_password("Neu#Passwort4").expect("resealed");
    drop(opened);
    let store = Store::open(&path, "Neu#Passwort4").expect("opens with the new password");
    assert_eq!(
        store.row("doc").expect("read").as_deref(),
        Some(&b"{\"x\":1}"[..])
    );
    drop(store);
    assert!(matches!(
        Store::open_with_recovery(&path, &RecoveryKey([1; RECOVERY_KEY_LEN])),
        Err(StoreError::WrongPassword)
    ));
    assert!(matches!(
        Store::open(&path, PASSWORD),
        Err(StoreError::WrongPassword)
    ));
    let bytes = std::fs::read(&path).expect("file");
    assert!(
        !bytes.windows(RECOVERY_KEY_LEN).any(|w| w == key.0),
        "the recovery key is not in the file in clear"
    );
}
