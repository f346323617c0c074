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

#[test]
fn snapshot_heads_come_from_the_header() {
    let mut a = automerge::AutoCommit::new();
    a.put(automerge::ROOT, "a", 1).unwrap();
    let mut b = a.fork();
    a.put(automerge::ROOT, "x", "from a").unwrap();
    b.put(automerge::ROOT, "y", "from b").unwrap();
    a.merge(&mut b).unwrap();
    let mut heads = a.get_heads();
    assert_eq!(heads.len(), 2, "two concurrent heads");
    let saved = a.save();
    let mut parsed = header_heads(&saved).expect("a document chunk");
    heads.sort();
    parsed.sort();
    assert_eq!(parsed, heads);
    assert_eq!(header_heads(b"not automerge"), None);
    assert!(snapshot_heads(b"not automerge").is_empty());
}

#[tokio::test]
async fn persisted_heads_are_known_after_a_write_and_after_a_load() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir);
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "k", "v").unwrap();
    let heads = doc.get_heads();
    let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    let persisted = s.persisted();
    let short = std::time::Duration::from_millis(50);
    assert!(!persisted.wait_for("docA", &heads, short).await);

    let write = s.put(key(&["docA", "incremental", &heads[0].to_string()]), change);
    assert!(
        !persisted.is_persisted("docA", &heads),
        "a write in flight is not persisted"
    );
    write.await;
    assert!(persisted.wait_for("docA", &heads, short).await);
    assert!(persisted.wait_for("docA", &[], short).await);

    // A snapshot written by another process is known once it is loaded.
    let mut other = automerge::AutoCommit::new();
    other.put(automerge::ROOT, "k", "w").unwrap();
    let other_heads = other.get_heads();
    s.put(key(&["docB", "snapshot", "h"]), other.save()).await;
    let fresh = storage(&dir);
    assert!(!fresh.persisted().is_persisted("docB", &other_heads));
    fresh.load_range(key(&["docB"])).await;
    assert!(fresh.persisted().is_persisted("docB", &other_heads));
}
