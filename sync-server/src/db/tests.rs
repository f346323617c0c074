//! Tests of `db`.

use super::*;

#[test]
fn the_database_is_readable_by_its_owner_only_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("db.sqlite3");
    drop(open(&path).unwrap());
    let conn = open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
}

#[test]
fn a_newer_database_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let conn = open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(open(&path), Err(DbError::NewerSchema(99))));
}

#[test]
fn deleted_values_do_not_stay_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let conn = open(&path).unwrap();
    let marker = "Kieselsteinweg-Geheimnis";
    conn.execute(
        "INSERT INTO audit_log (at_ms, actor, action, subject) VALUES (0, NULL, ?1, NULL)",
        [marker.repeat(200)],
    )
    .unwrap();
    conn.execute("DELETE FROM audit_log", []).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "the deleted text is still in the file"
        );
    }
}
