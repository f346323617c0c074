//! Tests of `settle`.

use super::*;
use model::UserId;

fn conflicted() -> (Document<ClientRecord>, Document<ClientRecord>) {
    crate::testing::rival_claims(true)
}

#[test]
fn settling_writes_the_outcome_without_changing_the_view() {
    let (mut a, _) = conflicted();
    let before = fold_record(&a.read().unwrap());
    assert!(settle_record(&mut a).unwrap());
    let record = a.read().unwrap();
    assert_eq!(heads(&record.primary_claims).len(), 1, "one head again");
    assert!(
        record
            .responsibilities
            .values()
            .any(|r| r.user == UserId::new("anna"))
    );
    assert_eq!(fold_record(&record), before);
}

#[test]
fn settling_twice_changes_nothing() {
    let (mut a, _) = conflicted();
    settle_record(&mut a).unwrap();
    let heads_after_first = a.heads();
    assert!(!settle_record(&mut a).unwrap());
    assert_eq!(a.heads(), heads_after_first);
}

#[test]
fn two_replicas_that_settle_the_same_state_converge() {
    let (mut a, mut b) = conflicted();
    settle_record(&mut a).unwrap();
    settle_record(&mut b).unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    assert_eq!(
        fold_record(&a.read().unwrap()),
        fold_record(&b.read().unwrap())
    );
    assert!(!settle_record(&mut a).unwrap());
    assert!(!settle_record(&mut b).unwrap());
}
