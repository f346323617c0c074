//! Which documents the directory took away, case by case.

use std::collections::BTreeSet;

use super::*;

fn set(docs: &[&str]) -> BTreeSet<String> {
    docs.iter().map(|d| (*d).to_owned()).collect()
}

/// `known`, `listed`, `purged`, `held`, `unregistered` → what is forgotten, and why.
fn check(
    known: &[&str],
    listed: &[&str],
    purged: &[&str],
    held: &[&str],
    unregistered: &[&str],
    expected: &[(&str, LostReason)],
) {
    let mut found = decide(
        &set(known),
        &set(listed),
        &set(purged),
        &set(held),
        &set(unregistered),
    );
    found.sort();
    let mut expected: Vec<(String, LostReason)> = expected
        .iter()
        .map(|(d, r)| ((*d).to_owned(), *r))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

impl PartialOrd for LostReason {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LostReason {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

#[test]
fn what_the_directory_stops_listing_or_purges_is_forgotten() {
    use LostReason::{AccessRevoked, Purged};
    // Nothing changed.
    check(&["a", "b"], &["a", "b"], &[], &["a", "b"], &[], &[]);
    // Access lost: listed before, not now.
    check(
        &["a", "b"],
        &["a"],
        &[],
        &["a", "b"],
        &[],
        &[("b", AccessRevoked)],
    );
    // Lost while the device held no copy: still cleared (nothing to lose).
    check(
        &["a", "b"],
        &["a"],
        &[],
        &["a"],
        &[],
        &[("b", AccessRevoked)],
    );
    // Purged: held here, or listed before.
    check(
        &["a", "b"],
        &["a"],
        &["b"],
        &["a", "b"],
        &[],
        &[("b", Purged)],
    );
    check(&[], &[], &["c"], &["c"], &[], &[("c", Purged)]);
    // Purged long ago and never here: nothing to do.
    check(&["a"], &["a"], &["z"], &["a"], &[], &[]);
    // Created here, not yet listed (registered or not): never forgotten for that.
    check(&["a"], &["a"], &[], &["a", "new"], &[], &[]);
    check(&["a"], &["a"], &[], &["a", "new"], &["new"], &[]);
    // Waiting for registration is never forgotten, whatever the directory says.
    check(&["x"], &[], &["x"], &["x"], &["x"], &[]);
    // A first listing (a new device): nothing known, nothing forgotten.
    check(&[], &["a", "b"], &[], &[], &[], &[]);
}

#[test]
fn only_a_directory_as_new_as_the_listing_decides() {
    use automerge::transaction::Transactable as _;
    let mut older = automerge::AutoCommit::new();
    older.put(automerge::ROOT, "a", 1).expect("put");
    let mut newer = older.fork();
    newer.put(automerge::ROOT, "b", 2).expect("put");
    let heads = |doc: &mut automerge::AutoCommit| -> Vec<String> {
        doc.get_heads().iter().map(ToString::to_string).collect()
    };
    let listed_at_newer = ("dir".to_owned(), heads(&mut newer));
    let listed_at_older = ("dir".to_owned(), heads(&mut older));
    let (older, newer) = (older.document().clone(), newer.document().clone());
    assert!(listing_applies(&newer, "dir", Some(&listed_at_newer)));
    assert!(
        listing_applies(&newer, "dir", Some(&listed_at_older)),
        "a descendant"
    );
    assert!(
        !listing_applies(&older, "dir", Some(&listed_at_newer)),
        "older than the listing"
    );
    assert!(listing_applies(&older, "other-dir", Some(&listed_at_newer)));
    assert!(listing_applies(&older, "dir", None), "no listing yet");
    let garbled = ("dir".to_owned(), vec!["not-a-hash".to_owned()]);
    assert!(!listing_applies(&newer, "dir", Some(&garbled)));
}
