//! `sync-server admin …` as IT runs it: the real binary on a temporary data directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn admin(dir: &tempfile::TempDir, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("admin")
        .args(args)
        .env("SYNC_SERVER_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// The password a command printed at the end of its output.
fn printed_password(output: &str) -> String {
    output.trim().rsplit(' ').next().unwrap().to_owned()
}

#[test]
fn it_manages_accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = admin(
        &dir,
        &["ensure-admin", "--tenant", "t1", "--login", "chefin"],
    );
    assert!(ok, "{out}");
    let (ok, out) = admin(
        &dir,
        &["ensure-admin", "--tenant", "t1", "--login", "chefin"],
    );
    assert!(ok && out.contains("no admin created"), "{out}");
    let (ok, out) = admin(
        &dir,
        &[
            "create-account",
            "--tenant",
            "t1",
            "--login",
            "anna",
            "--role",
            "counsellor",
        ],
    );
    assert!(ok, "{out}");
    let first = printed_password(&out);
    let (ok, out) = admin(
        &dir,
        &[
            "create-account",
            "--tenant",
            "t1",
            "--login",
            "x",
            "--role",
            "chef",
        ],
    );
    assert!(
        !ok && out.contains("--role is admin or counsellor"),
        "{out}"
    );

    let (ok, out) = admin(&dir, &["lock", "--login", "anna"]);
    assert!(ok && out.contains("anna is now locked"), "{out}");
    let (_, out) = admin(&dir, &["list", "--tenant", "t1"]);
    assert!(out.contains("\tanna\tcounsellor\tlocked"), "{out}");
    assert!(out.contains("\tchefin\tadmin\tactive"), "{out}");
    let (ok, out) = admin(&dir, &["unlock", "--login", "anna"]);
    assert!(ok, "{out}");
    let (ok, out) = admin(&dir, &["set-password", "--login", "anna"]);
    assert!(ok, "{out}");
    assert_ne!(printed_password(&out), first);
    let (ok, out) = admin(&dir, &["lock", "--login", "niemand"]);
    assert!(!ok && out.contains("no such account"), "{out}");
    let (ok, out) = admin(&dir, &["access-log"]);
    assert!(ok && out.trim().is_empty(), "nobody logged in yet: {out}");
}
