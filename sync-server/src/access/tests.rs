//! Every row of the access table, for the owner, another admin, another counsellor, a
//! client account and a user of another tenant.

use super::*;

const TODAY: (i32, u32, u32) = (2026, 11, 24);

fn today() -> Date {
    let (y, m, d) = TODAY;
    Date::from_ymd(y, m, d).expect("valid date")
}

/// The client record of the person every per-person document here belongs to.
fn record() -> DocumentId {
    DocumentId::from_bytes([7; 16])
}

fn viewer(id: &str, tenant: &str, role: Role) -> Viewer {
    Viewer {
        account_id: id.into(),
        tenant: tenant.into(),
        role,
    }
}

fn doc(kind: DocKind) -> DocEntry {
    DocEntry {
        kind,
        tenant: "t1".into(),
        person: Some(record()),
        owner: Some("owner".into()),
    }
}

use Access::{None as N, Read as R, Write as W};

/// (kind, owner as counsellor, other admin, other counsellor)
const TABLE: &[(DocKind, Access, Access, Access)] = &[
    (DocKind::ClientRecord, W, W, W),
    (DocKind::ClientContact, N, W, N),
    (DocKind::Timeline, W, W, W),
    (DocKind::Notebook, W, R, N),
    (DocKind::Group, W, W, R),
    (DocKind::Bookmarks, W, N, N),
    (DocKind::Catalogue, R, W, R),
    (DocKind::Directory, R, N, N),
];

#[test]
fn the_table_for_staff_of_the_tenant() {
    let facts = Facts::default();
    for &(kind, owner, admin, counsellor) in TABLE {
        let d = doc(kind);
        let cases = [
            (viewer("owner", "t1", Role::Counsellor), owner),
            (viewer("a2", "t1", Role::Admin), admin),
            (viewer("c2", "t1", Role::Counsellor), counsellor),
        ];
        for (who, expected) in cases {
            assert_eq!(
                decide(&d, &who, &facts, today()),
                expected,
                "{kind:?} for {who:?}"
            );
        }
    }
}

#[test]
fn other_tenants_and_client_accounts_get_nothing_but_their_own_directory() {
    let facts = Facts::default();
    for kind in DocKind::ALL {
        let d = doc(kind);
        let stranger = viewer("owner", "t2", Role::Admin);
        assert_eq!(decide(&d, &stranger, &facts, today()), N, "{kind:?}");
        let client = viewer("owner", "t1", Role::Client);
        let expected = if kind == DocKind::Directory { R } else { N };
        assert_eq!(decide(&d, &client, &facts, today()), expected, "{kind:?}");
    }
}

#[test]
fn restricted_timelines_need_a_valid_responsibility() {
    let d = doc(DocKind::Timeline);
    let mut facts = Facts::default();
    facts.restricted_tenants.insert("t1".into());
    let grant = |user: &str, valid: Period, deactivated| Grant {
        user: user.into(),
        valid,
        deactivated,
    };
    let past = Period::new(None, Some(today().pred()));
    let current = Period::new(Some(today()), Some(today()));
    facts.responsibilities.insert(
        record(),
        vec![
            grant("current", current, false),
            grant("expired", past, false),
            grant("deactivated", Period::open(), true),
        ],
    );
    for (user, role, expected) in [
        ("current", Role::Counsellor, W),
        ("expired", Role::Counsellor, N),
        ("deactivated", Role::Counsellor, N),
        ("nobody", Role::Counsellor, N),
        ("admin-without", Role::Admin, N),
    ] {
        assert_eq!(
            decide(&d, &viewer(user, "t1", role), &facts, today()),
            expected,
            "{user}"
        );
    }
    // The responsibility ends tomorrow for "current"; another tenant's setting is not ours.
    assert_eq!(
        decide(
            &d,
            &viewer("current", "t1", Role::Counsellor),
            &facts,
            today().succ()
        ),
        N
    );
    facts.restricted_tenants.clear();
    facts.restricted_tenants.insert("t2".into());
    assert_eq!(
        decide(
            &d,
            &viewer("nobody", "t1", Role::Counsellor),
            &facts,
            today()
        ),
        W
    );
}

#[test]
fn who_may_register_what() {
    let record = DocEntry {
        kind: DocKind::ClientRecord,
        tenant: "t1".into(),
        person: Some(record()),
        owner: None,
    };
    let foreign_record = DocEntry {
        tenant: "t2".into(),
        ..record.clone()
    };
    let group = doc(DocKind::Group);
    let admin = viewer("a", "t1", Role::Admin);
    let counsellor = viewer("c", "t1", Role::Counsellor);
    let client = viewer("x", "t1", Role::Client);
    let rows: &[(DocKind, Option<&DocEntry>, bool, bool, bool)] = &[
        // kind, person, admin, counsellor, client
        (DocKind::ClientRecord, None, true, true, false),
        (DocKind::Group, None, true, true, false),
        (DocKind::Bookmarks, None, true, true, false),
        (DocKind::Catalogue, None, true, false, false),
        (DocKind::Timeline, Some(&record), true, true, false),
        (DocKind::Timeline, None, false, false, false),
        (
            DocKind::Timeline,
            Some(&foreign_record),
            false,
            false,
            false,
        ),
        (DocKind::Timeline, Some(&group), false, false, false),
        (DocKind::Notebook, Some(&record), true, true, false),
        (DocKind::ClientContact, Some(&record), true, false, false),
        (DocKind::Directory, None, false, false, false),
    ];
    for &(kind, person, a, c, x) in rows {
        assert_eq!(may_register(kind, &admin, person), a, "{kind:?} admin");
        assert_eq!(
            may_register(kind, &counsellor, person),
            c,
            "{kind:?} counsellor"
        );
        assert_eq!(may_register(kind, &client, person), x, "{kind:?} client");
    }
}
