//! Every document kind round-trips through save and load, and its mutations refuse what a
//! person must not enter.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use model::bookmarks::Bookmarks;
use model::catalogue::{Catalogue, CatalogueError};
use model::directory::{Access, Directory, DirectoryEntry};
use model::group::{Group, GroupError};
use model::notebook::{ContactKind, MonitoringInput, Notebook, NotebookError};
use model::timeline::{ProgrammeType, StageDef, Timeline, TimelineError};
use model::vacation::{VacationEntry, VacationError, VacationKind};
use model::working_time::{WeeklySchedule, WorkingTimeError, WorkingTimeRule};
use model::{
    Date, Days, DocKind, Document, DocumentId, Editor, EntityId, NodeId, Period, Schema, Stamp,
    TenantId, UserId,
};

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("n-{user}")),
        1_700_000_000_000,
    )
}

fn person() -> DocumentId {
    DocumentId::from_bytes([11; 16])
}

/// Saves and loads `doc`, checks that the content survived.
fn round_trip<T: Schema + PartialEq + std::fmt::Debug>(doc: &mut Document<T>) {
    let loaded = Document::<T>::load(&doc.save()).unwrap();
    assert_eq!(loaded.read().unwrap(), doc.read().unwrap());
}

fn rule(from: Option<Date>, to: Option<Date>) -> WorkingTimeRule {
    WorkingTimeRule {
        valid: Period::new(from, to),
        form: "Vollzeit".into(),
        hours_per_week_hundredths: 3_950,
        remarks: String::new(),
        schedule: WeeklySchedule::default(),
        exceptions: Default::default(),
        created: Stamp::new(1, 0, NodeId::new("n")),
        created_by: UserId::new("admin"),
    }
}

fn day(m: u32, d: u32) -> Date {
    Date::from_ymd(2024, m, d).unwrap()
}

#[test]
fn catalogue_programmes_sites_rules_and_settings() {
    let mut e = editor("admin");
    let mut doc = Document::<Catalogue>::create_catalogue(TenantId::new("t")).unwrap();
    let bvb = doc
        .add_programme(&mut e, "BvB Köln 2024", ProgrammeType::BvB, StageDef::bvb())
        .unwrap();
    assert!(matches!(
        doc.add_programme(&mut e, "  ", ProgrammeType::AbH, vec![]),
        Err(CatalogueError::NoName(_))
    ));
    let twice = vec![
        StageDef::new("EA", "Eignungsanalyse"),
        StageDef::new("EA", "nochmal"),
    ];
    assert!(matches!(
        doc.add_programme(&mut e, "X", ProgrammeType::BvB, twice),
        Err(CatalogueError::DuplicateStage(_))
    ));
    doc.add_site(&mut e, "Zentrale").unwrap();
    doc.add_master_data_field("schule", "Schulabschluss", 1)
        .unwrap();
    doc.add_filter_criterion("reha", "Reha").unwrap();
    assert!(matches!(
        doc.set_deletion_interval(0),
        Err(CatalogueError::NoDeletionInterval)
    ));
    assert!(matches!(
        doc.set_deletion_interval(model::catalogue::MAX_DELETION_INTERVAL_DAYS + 1),
        Err(CatalogueError::DeletionIntervalTooLong)
    ));
    assert!(matches!(
        doc.set_deletion_interval(u64::MAX),
        Err(CatalogueError::DeletionIntervalTooLong)
    ));
    doc.set_deletion_interval(model::catalogue::MAX_DELETION_INTERVAL_DAYS)
        .unwrap();
    doc.set_deletion_interval(90).unwrap();
    doc.set_restrict_timeline(true).unwrap();
    let tenant_rule = doc
        .add_tenant_working_time_rule(&mut e, rule(Some(day(1, 1)), None))
        .unwrap();
    assert!(matches!(
        doc.add_tenant_working_time_rule(&mut e, rule(Some(day(6, 1)), None)),
        Err(CatalogueError::WorkingTime(WorkingTimeError::Overlaps(_)))
    ));
    doc.end_working_time_rule(None, &tenant_rule, day(5, 31))
        .unwrap();
    doc.add_tenant_working_time_rule(&mut e, rule(Some(day(6, 1)), None))
        .unwrap();
    doc.add_programme_working_time_rule(&mut e, &bvb, rule(None, None))
        .unwrap();
    round_trip(&mut doc);
    let catalogue = doc.read().unwrap();
    assert_eq!(catalogue.settings.deletion_interval_days, 90);
    assert!(catalogue.settings.restrict_timeline_to_responsibles);
    assert_eq!(catalogue.working_time.len(), 2);
    assert_eq!(catalogue.programmes[&bvb].working_time.len(), 1);
    assert_eq!(catalogue.programmes[&bvb].snapshot(&bvb).stages.len(), 5);
}

#[test]
fn notebook_documents_and_monitorings() {
    let mut e = editor("berater");
    let mut doc = Document::<Notebook>::create_notebook(person(), UserId::new("berater")).unwrap();
    let hash = "a".repeat(64);
    assert!(matches!(
        doc.add_document(&mut e, "../etc/passwd", &hash, 1, "text/plain"),
        Err(NotebookError::BadFileName)
    ));
    assert!(matches!(
        doc.add_document(&mut e, "bericht.pdf", "xyz", 1, "application/pdf"),
        Err(NotebookError::BadHash)
    ));
    let file = doc
        .add_document(&mut e, "bericht.pdf", &hash, 2_048, "application/pdf")
        .unwrap();
    let input = MonitoringInput {
        date: day(3, 1),
        channel: ContactKind::Chat,
        duration_minutes: 45,
        topic: "Bewerbung".into(),
        text: "Lebenslauf besprochen".into(),
        participation: None,
    };
    assert!(matches!(
        doc.add_monitoring(
            &mut e,
            MonitoringInput {
                duration_minutes: 0,
                ..input.clone()
            }
        ),
        Err(NotebookError::BadDuration)
    ));
    assert!(matches!(
        doc.add_monitoring(
            &mut e,
            MonitoringInput {
                topic: " ".into(),
                ..input.clone()
            }
        ),
        Err(NotebookError::NoTopic)
    ));
    let m = doc.add_monitoring(&mut e, input.clone()).unwrap();
    let edited = MonitoringInput {
        text: "Lebenslauf und Anschreiben".into(),
        ..input
    };
    doc.edit_monitoring(&mut e, &m, edited).unwrap();
    round_trip(&mut doc);
    let notebook = doc.read().unwrap();
    assert_eq!(
        notebook.monitorings[&m].text.as_str(),
        "Lebenslauf und Anschreiben"
    );
    assert!(notebook.monitorings[&m].edited.is_some());
    doc.delete_document(&file).unwrap();
    doc.delete_monitoring(&m).unwrap();
    let notebook = doc.read().unwrap();
    assert!(notebook.documents.is_empty() && notebook.monitorings.is_empty());
}

#[test]
fn groups_members_and_deletion() {
    let mut e = editor("berater");
    assert!(matches!(
        Document::<Group>::create_group(&mut e, TenantId::new("t"), " ", ""),
        Err(GroupError::NoName)
    ));
    let mut doc = Document::<Group>::create_group(&mut e, TenantId::new("t"), "test", "").unwrap();
    let mut other = doc.fork();
    doc.add_member(&mut e, &person()).unwrap();
    other
        .add_member(&mut editor("zweite"), &DocumentId::from_bytes([12; 16]))
        .unwrap();
    doc.merge(&mut other).unwrap();
    assert_eq!(
        doc.read().unwrap().members.len(),
        2,
        "concurrent additions both count"
    );
    doc.remove_member(&person()).unwrap();
    doc.edit_group("Bewerbungstraining", "Dienstags").unwrap();
    doc.delete_group(&mut e).unwrap();
    round_trip(&mut doc);
    let group = doc.read().unwrap();
    assert_eq!(
        (group.name.as_str(), group.members.len()),
        ("Bewerbungstraining", 1)
    );
    assert!(group.deleted.is_some());
}

#[test]
fn bookmarks_and_directory() {
    let mut e = editor("berater");
    let mut bookmarks = Document::<Bookmarks>::create_bookmarks(UserId::new("berater")).unwrap();
    bookmarks.bookmark(&mut e, &person()).unwrap();
    bookmarks.bookmark(&mut e, &person()).unwrap();
    assert_eq!(bookmarks.read().unwrap().items.len(), 1);
    round_trip(&mut bookmarks);
    bookmarks.unbookmark(&person()).unwrap();
    assert!(bookmarks.read().unwrap().items.is_empty());

    let mut directory = Document::<Directory>::create_directory(UserId::new("berater")).unwrap();
    let entry = DirectoryEntry {
        kind: DocKind::ClientRecord,
        access: Access::ReadWrite,
        person: None,
    };
    assert!(directory.grant(&person(), &entry).unwrap());
    assert!(
        !directory.grant(&person(), &entry).unwrap(),
        "granting twice changes nothing"
    );
    directory.purge(&person(), 42).unwrap();
    round_trip(&mut directory);
    let read = directory.read().unwrap();
    assert!(read.entries.is_empty());
    assert_eq!(read.purged.get(&person().to_string()), Some(&42));
}

#[test]
fn a_directory_is_updated_in_place_one_change_at_a_time() {
    use model::directory::{Wanted, update_in_place};

    let mut raw = Document::<Directory>::create_directory(UserId::new("berater"))
        .unwrap()
        .into_automerge();
    let entry = |kind, access| DirectoryEntry {
        kind,
        access,
        person: Some(person()),
    };
    let record = person().to_string();
    let timeline = DocumentId::from_bytes([12; 16]).to_string();
    let wanted: Wanted = [
        (
            record.clone(),
            Some(entry(DocKind::ClientRecord, Access::ReadWrite)),
        ),
        (
            timeline.clone(),
            Some(entry(DocKind::Timeline, Access::ReadWrite)),
        ),
    ]
    .into();
    assert_eq!(update_in_place(&mut raw, &wanted, false).unwrap(), 2);
    let heads = raw.get_heads();
    assert_eq!(
        update_in_place(&mut raw, &wanted, false).unwrap(),
        0,
        "nothing differs, nothing is written"
    );
    assert_eq!(raw.get_heads(), heads);

    // Access to the timeline lost, the record now read-only.
    let wanted: Wanted = [
        (
            record.clone(),
            Some(entry(DocKind::ClientRecord, Access::ReadOnly)),
        ),
        (timeline.clone(), None),
    ]
    .into();
    assert_eq!(update_in_place(&mut raw, &wanted, false).unwrap(), 2);
    let read = Document::<Directory>::load(&raw.save())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(read.entries.len(), 1);
    assert_eq!(read.entries[&record].access, Access::ReadOnly);

    // A complete update removes whatever it does not name.
    assert_eq!(update_in_place(&mut raw, &Wanted::new(), true).unwrap(), 1);
    let read = Document::<Directory>::load(&raw.save())
        .unwrap()
        .read()
        .unwrap();
    assert!(read.entries.is_empty());
}

#[test]
fn purged_documents_are_listed_in_place_once() {
    use model::directory::{Wanted, purge_in_place, update_in_place};

    let mut raw = Document::<Directory>::create_directory(UserId::new("berater"))
        .unwrap()
        .into_automerge();
    let record = person().to_string();
    let other = DocumentId::from_bytes([13; 16]).to_string();
    let wanted: Wanted = [(
        record.clone(),
        Some(DirectoryEntry {
            kind: DocKind::ClientRecord,
            access: Access::ReadWrite,
            person: Some(person()),
        }),
    )]
    .into();
    update_in_place(&mut raw, &wanted, false).unwrap();
    let purged = [(record.clone(), 42), (other.clone(), 43)].into();
    assert_eq!(purge_in_place(&mut raw, &purged).unwrap(), 2);
    let heads = raw.get_heads();
    assert_eq!(
        purge_in_place(&mut raw, &purged).unwrap(),
        0,
        "listed already"
    );
    assert_eq!(raw.get_heads(), heads, "nothing written the second time");
    let read = Document::<Directory>::load(&raw.save())
        .unwrap()
        .read()
        .unwrap();
    assert!(read.entries.is_empty(), "a purged document is no entry");
    assert_eq!(read.purged.get(&record), Some(&42));
    assert_eq!(read.purged.get(&other), Some(&43));
}

#[test]
fn vacation_entries_are_checked() {
    let mut e = editor("berater");
    let mut doc = Document::<Timeline>::create_timeline(TenantId::new("t"), person()).unwrap();
    let entry = |kind, from: Option<Date>, days: i64, entitlement| VacationEntry {
        kind,
        period: Period::new(from, None),
        days: Days(days),
        reason: String::new(),
        entitlement,
        created: Stamp::new(1, 0, NodeId::new("n")),
        created_by: UserId::new("berater"),
    };
    let refused = |result: Result<EntityId, TimelineError>| match result {
        Err(TimelineError::Vacation(reason)) => reason,
        other => panic!("{other:?}"),
    };
    let no_start = entry(VacationKind::Entitlement, None, 100, None);
    assert_eq!(
        refused(doc.add_vacation_entry(&mut e, no_start)),
        VacationError::NoStart
    );
    let nothing = entry(VacationKind::Entitlement, Some(day(1, 1)), 0, None);
    assert_eq!(
        refused(doc.add_vacation_entry(&mut e, nothing)),
        VacationError::NotPositive
    );
    let earned = entry(VacationKind::Entitlement, Some(day(1, 1)), 3_000, None);
    let id = doc.add_vacation_entry(&mut e, earned).unwrap();
    let orphan = entry(
        VacationKind::Credit,
        Some(day(2, 1)),
        100,
        Some(EntityId::new("nope")),
    );
    assert_eq!(
        refused(doc.add_vacation_entry(&mut e, orphan)),
        VacationError::NoEntitlement
    );
    let taken = entry(VacationKind::Deduction, Some(day(2, 1)), 500, Some(id));
    doc.add_vacation_entry(&mut e, taken).unwrap();
    round_trip(&mut doc);
}
