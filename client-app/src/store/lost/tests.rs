//! Forgetting leaves nothing of the document, records a lost edit only for changes the
//! server never confirmed, and the listing survives a reopen.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use super::*;
use crate::store::Profile;

const PASSWORD: &str = "Lokal#Geheim1";

fn store(dir: &std::path::Path) -> Store {
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
        &dir.join("s.store"),
        PASSWORD,
        &profile,
        NonZeroU32::new(1_000).expect("not zero"),
    )
    .expect("created")
}

fn lost(reason: LostReason) -> LostEdit {
    LostEdit {
        kind: "timeline".into(),
        pseudonym: Some("Sonnenblume".into()),
        at_ms: 1_700_000_000_000,
        reason,
        changes: 0,
        doc: "gone".into(),
        person: Some("record".into()),
    }
}

#[test]
fn forgetting_removes_every_trace_and_records_unsynced_changes() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path());
    store
        .record_local(
            "gone",
            &[("h1".into(), b"change".to_vec())],
            &["h1".into()],
            Some(("timeline", b"{}")),
        )
        .expect("edit");
    store.put_chunk("gone/snapshot/s", b"snap").expect("chunk");
    store.put_chunk("kept/snapshot/s", b"other").expect("chunk");
    store.put_blob("aa", b"content").expect("blob");
    store.put_blob("bb", b"kept").expect("blob");
    let request = store.push_request(b"{}").expect("request");
    let other = store.push_request(b"{}").expect("request");
    store
        .update_listed(
            &["gone".into(), "kept".into()].into(),
            &BTreeSet::new(),
            "dir",
            &["h1".into()],
        )
        .expect("listed");

    let recorded = store
        .forget(&Forget {
            doc: "gone".into(),
            blobs: vec!["aa".into()],
            requests: vec![request],
            lost: Some(lost(LostReason::AccessRevoked)),
        })
        .expect("forgotten");
    assert_eq!(recorded.map(|l| l.changes), Some(1));
    assert!(store.document_chunks("gone").expect("read").is_empty());
    assert_eq!(store.document_chunks("kept").expect("read").len(), 1);
    assert_eq!(store.row("gone").expect("read"), None);
    assert!(store.unsynced().expect("read").is_empty());
    assert_eq!(store.blob("aa").expect("read"), None);
    assert_eq!(
        store.blob("bb").expect("read").as_deref(),
        Some(&b"kept"[..])
    );
    let ids: Vec<i64> = store
        .requests()
        .expect("read")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, [other]);
    assert_eq!(
        store.listed().expect("read"),
        Some(["kept".to_owned()].into())
    );
    let edits = store.lost_edits().expect("read");
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].1.pseudonym.as_deref(), Some("Sonnenblume"));
    assert_eq!(edits[0].1.reason.german(), "Zugriff entzogen");
    // The directory lists it as purged only in its next change: the report says so.
    assert!(
        !store
            .note_purged(&["other".to_owned()].into())
            .expect("noted")
    );
    assert!(
        store
            .note_purged(&["gone".to_owned()].into())
            .expect("noted")
    );
    assert_eq!(
        store.lost_edits().expect("read")[0].1.reason,
        LostReason::Purged
    );
    assert!(
        !store
            .note_purged(&["gone".to_owned()].into())
            .expect("noted")
    );
}

#[test]
fn a_synced_document_is_forgotten_without_a_lost_edit() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path());
    store
        .record_local("doc", &[("h1".into(), b"c".to_vec())], &["h1".into()], None)
        .expect("edit");
    assert!(
        store
            .confirm_synced("doc", &["h1".into()])
            .expect("confirm")
    );
    let recorded = store
        .forget(&Forget {
            doc: "doc".into(),
            lost: Some(lost(LostReason::Purged)),
            ..Forget::default()
        })
        .expect("forgotten");
    assert_eq!(recorded, None);
    assert!(store.lost_edits().expect("read").is_empty());
}

#[test]
fn lost_edits_survive_a_password_change_and_go_when_dismissed() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path());
    assert_eq!(store.listed().expect("read"), None, "never written yet");
    assert_eq!(store.listed_at().expect("read"), None);
    store
        .update_listed(&BTreeSet::new(), &BTreeSet::new(), "dir", &[])
        .expect("listed");
    assert_eq!(store.listed().expect("read"), Some(BTreeSet::new()));
    assert_eq!(
        store.listed_at().expect("read"),
        Some(("dir".into(), vec![]))
    );
    store
        .update_listed(
            &BTreeSet::new(),
            &BTreeSet::new(),
            "dir",
            &["a".into(), "b".into()],
        )
        .expect("listed");
    assert_eq!(
        store.listed_at().expect("read"),
        Some(("dir".into(), vec!["a".into(), "b".into()]))
    );
    store
        .record_local("doc", &[("h1".into(), b"c".to_vec())], &["h1".into()], None)
        .expect("edit");
    store
        .forget(&Forget {
            doc: "doc".into(),
            lost: Some(lost(LostReason::Purged)),
            ..Forget::default()
        })
        .expect("forgotten");
    store.change_password("Neu#Passwort2").expect("resealed");
    drop(store);
    let store = Store::open(&dir.path().join("s.store"), "Neu#Passwort2").expect("opens");
    let edits = store.lost_edits().expect("read");
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].1.reason, LostReason::Purged);
    assert_eq!(edits[0].1.reason.german(), "endgültig gelöscht");
    store.dismiss_lost_edit(edits[0].0).expect("dismissed");
    assert!(store.lost_edits().expect("read").is_empty());
}

#[test]
fn a_forgotten_document_is_not_written_again_until_it_is_listed_again() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path());
    store.put_chunk("doc/snapshot/a", b"x").expect("chunk");
    store.forget_document("doc").expect("forgotten");
    // samod storing its copy, the workspace deriving a row, an edit under way.
    store.put_chunk("doc/snapshot/b", b"y").expect("ignored");
    store.put_row("doc", "timeline", b"{}").expect("ignored");
    assert!(matches!(
        store.record_local("doc", &[("h".into(), b"c".to_vec())], &["h".into()], None),
        Err(StoreError::Forgotten)
    ));
    assert!(store.document_chunks("doc").expect("read").is_empty());
    assert_eq!(store.row("doc").expect("read"), None);
    assert!(store.unsynced().expect("read").is_empty());
    store
        .put_chunk("other/snapshot/a", b"z")
        .expect("others are written");
    assert_eq!(store.document_chunks("other").expect("read").len(), 1);

    store.listed_again(&["doc".to_owned()].into());
    store.put_chunk("doc/snapshot/c", b"w").expect("written");
    assert_eq!(store.document_chunks("doc").expect("read").len(), 1);
}
