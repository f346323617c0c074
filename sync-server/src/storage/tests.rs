//! Tests of `storage`: the key/value contract, and a samod repo that keeps its documents
//! across a restart.

use super::*;
use automerge::ReadDoc;
use automerge::transaction::Transactable;

fn storage(dir: &tempfile::TempDir) -> SqliteStorage {
    SqliteStorage::new(crate::db::open(&dir.path().join("db.sqlite3")).unwrap())
}

fn key(parts: &[&str]) -> StorageKey {
    StorageKey::from_parts(parts).unwrap()
}

#[tokio::test]
async fn keys_load_and_ranges_stop_at_their_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir);
    s.put(key(&["doc1", "incremental", "a"]), vec![1]).await;
    s.put(key(&["doc1", "snapshot", "b"]), vec![2]).await;
    s.put(key(&["doc10", "incremental", "c"]), vec![3]).await;
    s.put(key(&["doc1"]), vec![4]).await;
    assert_eq!(s.load(key(&["doc1", "snapshot", "b"])).await, Some(vec![2]));
    assert_eq!(s.load(key(&["doc2"])).await, None);
    let range = s.load_range(key(&["doc1"])).await;
    let mut found: Vec<(String, Vec<u8>)> =
        range.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("doc1".into(), vec![4]),
            ("doc1/incremental/a".into(), vec![1]),
            ("doc1/snapshot/b".into(), vec![2]),
        ],
        "doc10 is not below doc1"
    );
    s.put(key(&["doc1", "snapshot", "b"]), vec![5]).await;
    assert_eq!(s.load(key(&["doc1", "snapshot", "b"])).await, Some(vec![5]));
    s.delete(key(&["doc1", "snapshot", "b"])).await;
    assert_eq!(s.load(key(&["doc1", "snapshot", "b"])).await, None);
    assert_eq!(s.failed_writes(), 0);
}

#[tokio::test]
async fn a_samod_repo_keeps_its_documents_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let repo = samod::Repo::build_tokio()
        .with_storage(storage(&dir))
        .load()
        .await;
    let mut doc = automerge::Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "pseudonym", "Testklient")?;
        Ok(())
    })
    .unwrap();
    let handle = repo.create(doc).await.unwrap();
    let id = handle.document_id().clone();
    repo.stop().await;

    let repo = samod::Repo::build_tokio()
        .with_storage(storage(&dir))
        .load()
        .await;
    let handle = repo
        .find(id)
        .await
        .unwrap()
        .expect("the document survived the restart");
    let pseudonym = handle.with_document(|doc| {
        doc.get(automerge::ROOT, "pseudonym")
            .unwrap()
            .and_then(|(value, _)| value.into_string().ok())
    });
    assert_eq!(pseudonym.as_deref(), Some("Testklient"));
    repo.stop().await;
}
