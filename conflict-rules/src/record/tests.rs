//! Tests of `record`.

use super::*;
use crate::testing::{editor, rival_claims};
use model::Document;

fn base(take_up: bool) -> Document<ClientRecord> {
    crate::testing::record(take_up)
}

fn merged(
    mut a: Document<ClientRecord>,
    mut b: Document<ClientRecord>,
) -> (RecordView, Vec<Notice>) {
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let from_a = fold_record(&a.read().unwrap());
    assert_eq!(
        from_a,
        fold_record(&b.read().unwrap()),
        "both replicas must see the same"
    );
    from_a
}

#[derive(Clone, Copy, Debug)]
enum Claim {
    TakeUp,
    Manual,
}

/// Two people act concurrently on a person without a primary caretaker; `expected` is
/// who ends up primary.
fn check(a: (Claim, u64), b: (Claim, u64), expected: &str) {
    let mut doc_a = base(false);
    let mut doc_b = doc_a.fork();
    let act = |doc: &mut Document<ClientRecord>, user: &str, (claim, at): (Claim, u64)| {
        let mut e = editor(user, at);
        match claim {
            Claim::TakeUp => doc.take_up(&mut e).unwrap().unwrap(),
            Claim::Manual => doc.claim_primary(&mut e, UserId::new(user)).unwrap(),
        };
    };
    act(&mut doc_a, "anna", a);
    act(&mut doc_b, "ben", b);
    let (view, notices) = merged(doc_a, doc_b);
    let primary = view.primary.as_ref().map(|p| p.user.as_str());
    assert_eq!(primary, Some(expected), "{a:?} vs {b:?}");
    let loser = if expected == "anna" { "ben" } else { "anna" };
    let caretakers: Vec<&str> = view
        .responsibilities
        .values()
        .filter(|r| r.kind == ResponsibilityKind::Caretaker)
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(caretakers, vec![loser], "the loser stays on as caretaker");
    let conflict: Vec<&Notice> = notices
        .iter()
        .filter(|n| n.kind.code() == "primary-conflict")
        .collect();
    assert_eq!(conflict.len(), 1);
    assert!(
        conflict[0].is_pending_for(&UserId::new("anna"))
            && conflict[0].is_pending_for(&UserId::new("ben"))
    );
}

#[test]
fn concurrent_claims_are_decided_by_kind_then_stamp() {
    // A manual claim beats taking up, whenever it was made.
    check((Claim::Manual, 5_000), (Claim::TakeUp, 9_000), "anna");
    check((Claim::TakeUp, 5_000), (Claim::Manual, 2_000), "ben");
    // Between manual claims, the later wins.
    check((Claim::Manual, 5_000), (Claim::Manual, 9_000), "ben");
    check((Claim::Manual, 9_000), (Claim::Manual, 5_000), "anna");
    // Between automatic ones, the earlier: the first to take the person up.
    check((Claim::TakeUp, 5_000), (Claim::TakeUp, 9_000), "anna");
    check((Claim::TakeUp, 9_000), (Claim::TakeUp, 5_000), "ben");
}

#[test]
fn a_conflict_stays_explained_when_someone_moves_on_before_any_settling() {
    let (mut a, _) = rival_claims(true);
    let before = fold_record(&a.read().unwrap()).1;
    a.claim_primary(&mut editor("chef", 7_000), UserId::new("carla"))
        .unwrap();
    let (view, notices) = fold_record(&a.read().unwrap());
    assert_eq!(view.primary.map(|p| p.user), Some(UserId::new("carla")));
    assert_eq!(notices, before, "the same notice, whenever it is read");
    let caretakers: Vec<&str> = view
        .responsibilities
        .values()
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(
        caretakers,
        vec!["anna"],
        "the loser of the merge stays caretaker"
    );
}

#[test]
fn concurrent_claims_for_the_same_person_are_no_conflict() {
    let mut a = base(false);
    let mut b = a.fork();
    a.claim_primary(&mut editor("anna", 5_000), UserId::new("dora"))
        .unwrap();
    b.claim_primary(&mut editor("ben", 6_000), UserId::new("dora"))
        .unwrap();
    let (view, notices) = merged(a, b);
    assert_eq!(view.primary.map(|p| p.user), Some(UserId::new("dora")));
    assert!(notices.is_empty());
    assert!(view.responsibilities.is_empty());
}

#[test]
fn an_acknowledged_notice_is_no_longer_pending_for_that_person() {
    let (mut a, _) = rival_claims(false);
    let notice = fold_record(&a.read().unwrap()).1.remove(0);
    a.acknowledge(&mut editor("anna", 7_000), &notice.id)
        .unwrap();
    let notice = fold_record(&a.read().unwrap()).1.remove(0);
    assert!(!notice.is_pending_for(&UserId::new("anna")));
    assert!(notice.is_pending_for(&UserId::new("ben")));
}

#[test]
fn concurrent_lock_and_unlock_keep_the_lock_and_say_so() {
    let mut a = base(true);
    let until = Date::from_ymd(2030, 6, 1).unwrap();
    a.lock(&mut editor("anna", 2_000), Some(until)).unwrap();
    let mut b = a.fork();
    a.unlock(&mut editor("anna", 9_000)).unwrap();
    b.lock(&mut editor("ben", 3_000), None).unwrap();
    let (view, notices) = merged(a, b);
    assert_eq!(view.status, ClientStatus::Locked { until: None });
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.kind.code() == "lock-conflict")
            .count(),
        1
    );
    let today = Date::from_ymd(2024, 1, 1).unwrap();
    assert!(!view.status.may_log_in(today));
}

#[test]
fn a_lock_until_a_day_ends_after_that_day() {
    let until = Date::from_ymd(2024, 3, 31).unwrap();
    let status = ClientStatus::Locked { until: Some(until) };
    assert_eq!(status.on(until), EffectiveStatus::Locked);
    assert_eq!(status.on(until.succ()), EffectiveStatus::Active);
}

#[test]
fn concurrent_deletion_and_restore_keep_the_person() {
    // Deletion events count only as a server wrote them; concurrent ones come from
    // a server restored from a backup, which writes under a new actor.
    let mut a = base(true);
    a.act_as(model::server_actor([1; 8]));
    let on = Date::from_ymd(2024, 2, 1).unwrap();
    a.mark_deleted(&mut editor("admin1", 2_000), on).unwrap();
    let mut b = a.fork();
    b.act_as(model::server_actor([2; 8]));
    a.restore(&mut editor("admin1", 3_000)).unwrap();
    b.mark_deleted(&mut editor("admin2", 9_000), on).unwrap();
    let (view, notices) = merged(a, b);
    assert_eq!(view.status, ClientStatus::Active);
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.kind.code() == "deletion-conflict")
            .count(),
        1
    );
}

#[test]
fn deleting_a_note_someone_else_edited_meanwhile_is_reported_and_keeps_the_text() {
    let mut a = base(true);
    let id = a
        .add_note(&mut editor("anna", 2_000), "Erstgespräch")
        .unwrap();
    let mut b = a.fork();
    a.delete_note(&mut editor("anna", 3_000), &id).unwrap();
    b.edit_note(
        &mut editor("ben", 4_000),
        &id,
        "Erstgespräch, Mutter anwesend",
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    let record = a.read().unwrap();
    let (view, notices) = fold_record(&record);
    assert!(view.notes.is_empty());
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].concerns,
        vec![UserId::new("anna"), UserId::new("ben")]
    );
    assert_eq!(
        record.notes[&id].text.as_str(),
        "Erstgespräch, Mutter anwesend"
    );
}

#[test]
fn notes_are_listed_newest_first() {
    let mut doc = base(true);
    let mut e = editor("anna", 2_000);
    let first = doc.add_note(&mut e, "eins").unwrap();
    let second = doc.add_note(&mut e, "zwei").unwrap();
    let ids: Vec<EntityId> = fold_record(&doc.read().unwrap())
        .0
        .notes
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(ids, vec![second, first]);
}
