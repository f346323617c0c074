//! Tests of `client_record`.

use super::*;
use crate::ids::NodeId;

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("n-{user}")),
        1_700_000_000_000,
    )
}

fn create(
    editor: &mut Editor,
    pseudonym: &str,
    take_up: bool,
) -> Result<Document<ClientRecord>, RecordError> {
    let new = NewClient {
        pseudonym: pseudonym.into(),
        take_up,
        ..NewClient::default()
    };
    Document::create_client(
        editor,
        &DocumentId::from_bytes([42; 16]),
        TenantId::new("t"),
        new,
    )
}

#[test]
fn pseudonyms_need_five_characters_counted_as_people_count_them() {
    let mut e = editor("a");
    assert!(matches!(
        create(&mut e, "Mia", true),
        Err(RecordError::PseudonymTooShort)
    ));
    assert!(matches!(
        create(&mut e, "  abcd  ", true),
        Err(RecordError::PseudonymTooShort)
    ));
    // Five letters, one of them two bytes long in UTF-8.
    let doc = create(&mut e, "Jürgn", true).unwrap();
    assert_eq!(doc.read().unwrap().pseudonym, "Jürgn");
    let mut doc = doc;
    assert!(matches!(
        doc.set_pseudonym("x".repeat(201).as_str()),
        Err(RecordError::TooLong(_))
    ));
}

#[test]
fn the_creator_who_takes_the_person_up_becomes_primary_automatically() {
    let mut e = editor("berater");
    let doc = create(&mut e, "Testklient", true).unwrap();
    let record = doc.read().unwrap();
    let claims: Vec<_> = record.primary_claims.values().collect();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].user, UserId::new("berater"));
    assert_eq!(claims[0].kind, ClaimKind::Automatic);
    assert_eq!(
        record.client_id,
        ClientId::for_document(&DocumentId::from_bytes([42; 16]))
    );
}

#[test]
fn taking_up_a_person_with_a_primary_caretaker_claims_nothing() {
    let mut admin = editor("admin");
    let mut doc = create(&mut admin, "Testklient", false).unwrap();
    let mut first = editor("erste");
    let mut second = editor("zweite");
    assert!(doc.take_up(&mut first).unwrap().is_some());
    assert_eq!(doc.take_up(&mut second).unwrap(), None);
    assert_eq!(doc.read().unwrap().primary_claims.len(), 1);
}

#[test]
fn a_manual_claim_supersedes_the_heads_its_author_saw() {
    let mut e = editor("berater");
    let mut a = create(&mut e, "Testklient", true).unwrap();
    let mut b = a.fork();
    let x = a.claim_primary(&mut editor("x"), UserId::new("x")).unwrap();
    let y = b.claim_primary(&mut editor("y"), UserId::new("y")).unwrap();
    a.merge(&mut b).unwrap();
    let record = a.read().unwrap();
    let mut both = vec![x.clone(), y.clone()];
    both.sort();
    assert_eq!(heads(&record.primary_claims), both);
    let z = a.claim_primary(&mut editor("z"), UserId::new("z")).unwrap();
    let record = a.read().unwrap();
    assert_eq!(heads(&record.primary_claims), vec![z.clone()]);
    assert_eq!(record.primary_claims[&z].supersedes, both);
}

#[test]
fn notes_are_edited_in_place_and_deleted_as_tombstones() {
    let mut e = editor("berater");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    assert!(matches!(
        doc.add_note(&mut e, "   "),
        Err(RecordError::EmptyNote)
    ));
    let id = doc.add_note(&mut e, "Erstgespräch geführt").unwrap();
    doc.edit_note(&mut e, &id, "Erstgespräch geführt, Termin vereinbart")
        .unwrap();
    let note = &doc.read().unwrap().notes[&id];
    assert_eq!(
        note.text.as_str(),
        "Erstgespräch geführt, Termin vereinbart"
    );
    let saw = note.edited.as_ref().map(|e| e.stamp.clone());
    doc.delete_note(&mut e, &id).unwrap();
    let note = &doc.read().unwrap().notes[&id];
    assert_eq!(note.deleted.as_ref().map(|d| d.saw_edit.clone()), Some(saw));
    assert!(matches!(
        doc.edit_note(&mut e, &id, "zu spät"),
        Err(RecordError::NoteDeleted)
    ));
}

#[test]
fn concurrent_edits_of_one_note_keep_both_peoples_words() {
    let mut e = editor("a");
    let mut a = create(&mut e, "Testklient", true).unwrap();
    let id = a.add_note(&mut e, "Termin am Montag.").unwrap();
    let mut b = a.fork();
    a.edit_note(&mut editor("a"), &id, "Termin am Montag. Mutter kommt mit.")
        .unwrap();
    b.edit_note(&mut editor("b"), &id, "Wichtig: Termin am Montag.")
        .unwrap();
    a.merge(&mut b).unwrap();
    let text = a.read().unwrap().notes[&id].text.as_str().to_owned();
    assert_eq!(text, "Wichtig: Termin am Montag. Mutter kommt mit.");
}

#[test]
fn responsibilities_check_their_period_and_user_and_default_their_label() {
    let mut e = editor("admin");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    let d = |m| Date::from_ymd(2024, m, 1).unwrap();
    let bad = NewResponsibility {
        kind: ResponsibilityKind::Teacher,
        label: None,
        user: UserId::new("lehrer"),
        user_tenant: TenantId::new("t"),
        valid: Period::new(Some(d(5)), Some(d(4))),
    };
    assert!(matches!(
        doc.add_responsibility(&mut e, bad.clone()),
        Err(RecordError::InvalidPeriod)
    ));
    let no_user = NewResponsibility {
        user: UserId::new(""),
        valid: Period::open(),
        ..bad.clone()
    };
    assert!(matches!(
        doc.add_responsibility(&mut e, no_user),
        Err(RecordError::NoLinkedUser)
    ));
    let id = doc
        .add_responsibility(
            &mut e,
            NewResponsibility {
                valid: Period::new(Some(d(1)), Some(d(6))),
                ..bad
            },
        )
        .unwrap();
    let r = doc.read().unwrap().responsibilities[&id].clone();
    assert_eq!(r.label, "Lehrkraft");
    assert!(r.grants_access_on(d(3)));
    assert!(!r.grants_access_on(Date::from_ymd(2024, 7, 1).unwrap()));
    doc.set_responsibility_deactivated(&id, true).unwrap();
    assert!(!doc.read().unwrap().responsibilities[&id].grants_access_on(d(3)));
}

#[test]
fn lock_and_deletion_events_chain_through_what_their_author_saw() {
    let mut e = editor("berater");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    let lock = doc
        .lock(&mut e, Some(Date::from_ymd(2030, 1, 1).unwrap()))
        .unwrap();
    let unlock = doc.unlock(&mut e).unwrap();
    let record = doc.read().unwrap();
    assert_eq!(record.lock_events[&unlock].supersedes, vec![lock]);
    assert_eq!(heads(&record.lock_events), vec![unlock]);
    doc.act_as(crate::server_actor([1; 8]));
    let del = doc
        .mark_deleted(&mut e, Date::from_ymd(2024, 1, 1).unwrap())
        .unwrap();
    assert_eq!(heads(&doc.read().unwrap().deletion_events), vec![del]);
}

#[test]
fn server_only_fields_count_only_as_the_server_wrote_them() {
    let mut e = editor("berater");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    let mut forged = doc.fork();
    forged
        .mark_deleted(&mut e, Date::from_ymd(2024, 1, 1).unwrap())
        .unwrap();
    forged
        .set_account_state(&AccountState {
            last_login_ms: Some(1),
            invitation_queued_ms: Some(2),
            invitation_sent_ms: Some(3),
            invitation_failed_ms: Some(4),
            has_password: true,
        })
        .unwrap();
    let read = forged.read().unwrap();
    assert!(read.deletion_events.is_empty(), "written by a client");
    assert_eq!(read.account, AccountState::default());

    doc.act_as(crate::server_actor([7; 8]));
    doc.set_account_state(&AccountState {
        last_login_ms: Some(5),
        has_password: true,
        ..AccountState::default()
    })
    .unwrap();
    let del = doc
        .mark_deleted(&mut e, Date::from_ymd(2024, 1, 2).unwrap())
        .unwrap();
    doc.merge(&mut forged).unwrap();
    let read = Document::<ClientRecord>::load(&doc.save())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(read.deletion_events.keys().collect::<Vec<_>>(), vec![&del]);
    assert_eq!(read.account.last_login_ms, Some(5));
    assert!(read.account.has_password);
}

/// A change of no dependencies from a made-up actor that makes `keys` anew at the root,
/// with enough operations before them that its maps win the conflict at those keys.
fn forge_root_maps(doc: &mut Document<ClientRecord>, keys: &[&str]) {
    use automerge::transaction::Transactable as _;
    let mut forger = automerge::Automerge::new();
    forger.set_actor(automerge::ActorId::from(b"forger".to_vec()));
    forger
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            let junk = tx.put_object(automerge::ROOT, "filler", automerge::ObjType::List)?;
            for i in 0..200 {
                tx.insert(&junk, i, i as i64)?;
            }
            for key in keys {
                tx.put_object(automerge::ROOT, *key, automerge::ObjType::Map)?;
            }
            Ok(())
        })
        .unwrap();
    doc.automerge()
        .apply_changes(forger.get_changes(&[]))
        .unwrap();
}

#[test]
fn a_record_whose_server_only_maps_were_forged_or_lost_still_reads_and_the_server_repairs_it() {
    let mut e = editor("berater");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    doc.act_as(crate::server_actor([3; 8]));
    doc.mark_deleted(&mut e, Date::from_ymd(2024, 1, 2).unwrap())
        .unwrap();
    forge_root_maps(&mut doc, &["deletion_events", "account"]);
    let read = doc
        .read()
        .expect("an empty account map does not make it unreadable");
    assert!(
        read.deletion_events.is_empty(),
        "the forged, empty map won the conflict at its key"
    );
    // The server records the deletion again, into the map that shows.
    let again = doc
        .mark_deleted(&mut e, Date::from_ymd(2024, 1, 3).unwrap())
        .unwrap();
    doc.set_account_state(&AccountState {
        last_login_ms: Some(9),
        has_password: true,
        ..AccountState::default()
    })
    .unwrap();
    let read = Document::<ClientRecord>::load(&doc.save())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(
        read.deletion_events.keys().collect::<Vec<_>>(),
        vec![&again]
    );
    assert_eq!(read.account.last_login_ms, Some(9));

    // Without the maps at all.
    let mut bare = create(&mut e, "Ohne Karten", true).unwrap();
    bare.delete(&[], "deletion_events").unwrap();
    bare.delete(&[], "account").unwrap();
    bare.commit();
    assert_eq!(bare.read().unwrap().deletion_events.len(), 0);
    bare.act_as(crate::server_actor([4; 8]));
    let marked = bare
        .mark_deleted(&mut e, Date::from_ymd(2024, 1, 4).unwrap())
        .unwrap();
    assert_eq!(
        bare.read()
            .unwrap()
            .deletion_events
            .keys()
            .collect::<Vec<_>>(),
        vec![&marked]
    );
}

#[test]
fn concurrent_changes_of_one_period_keep_one_whole_period() {
    let mut e = editor("admin");
    let mut a = create(&mut e, "Testklient", true).unwrap();
    let d = |m| Date::from_ymd(2024, m, 1).unwrap();
    let new = NewResponsibility {
        kind: ResponsibilityKind::Trainer,
        label: None,
        user: UserId::new("ausbilder"),
        user_tenant: TenantId::new("t"),
        valid: Period::open(),
    };
    let id = a.add_responsibility(&mut e, new).unwrap();
    let mut b = a.fork();
    let early = Period::new(Some(d(1)), Some(d(2)));
    let late = Period::new(Some(d(6)), Some(d(9)));
    a.update_responsibility(&id, ResponsibilityKind::Trainer, "Ausbilder", early)
        .unwrap();
    b.update_responsibility(&id, ResponsibilityKind::Trainer, "Ausbilder", late)
        .unwrap();
    a.merge(&mut b).unwrap();
    let merged = a.read().unwrap().responsibilities[&id].valid;
    assert!(
        merged == early || merged == late,
        "{merged:?} mixes two people's periods"
    );
}

#[test]
fn an_invitation_shows_its_latest_state() {
    let state = |queued, sent, failed| AccountState {
        invitation_queued_ms: queued,
        invitation_sent_ms: sent,
        invitation_failed_ms: failed,
        ..AccountState::default()
    };
    let check = |account: AccountState, expected| assert_eq!(account.invitation(), expected);
    check(state(None, None, None), None);
    check(state(Some(5), None, None), Some(Invitation::Queued));
    check(state(Some(5), Some(6), None), Some(Invitation::Sent));
    check(state(Some(5), None, Some(6)), Some(Invitation::Failed));
    // Sent again after a failure, or after it arrived: waiting again.
    check(state(Some(7), None, Some(6)), Some(Invitation::Queued));
    check(state(Some(7), Some(6), None), Some(Invitation::Queued));
    check(state(Some(7), Some(8), Some(6)), Some(Invitation::Sent));
    // The same millisecond counts as after.
    check(state(Some(5), Some(5), None), Some(Invitation::Sent));
    // Written before the queue had states.
    check(state(None, Some(3), None), Some(Invitation::Sent));
}

/// How a reader that knows only the account's first fields reads a record that has the
/// later ones: they are skipped, the others read as before.
#[test]
fn readers_of_the_older_account_state_read_the_newer_one() {
    #[derive(Debug, PartialEq, autosurgeon::Hydrate)]
    struct Older {
        last_login_ms: Option<u64>,
        invitation_sent_ms: Option<u64>,
        has_password: bool,
    }
    let mut e = editor("berater");
    let mut doc = create(&mut e, "Testklient", true).unwrap();
    doc.act_as(crate::server_actor([5; 8]));
    doc.set_account_state(&AccountState {
        invitation_queued_ms: Some(1),
        invitation_sent_ms: Some(2),
        invitation_failed_ms: Some(3),
        ..AccountState::default()
    })
    .unwrap();
    let older: Older =
        autosurgeon::hydrate_prop(doc.automerge(), automerge::ROOT, "account").unwrap();
    assert_eq!(
        older,
        Older {
            last_login_ms: None,
            invitation_sent_ms: Some(2),
            has_password: false,
        }
    );
}
