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
        &[
            "ensure-admin",
            "--create",
            "--tenant",
            "t1",
            "--login",
            "chefin",
        ],
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

/// The binary with `args`, in a data directory, with `env`: (exit code, stdout + stderr).
fn run(dir: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(args)
        .env("SYNC_SERVER_DATA_DIR", dir.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn help_version_and_mistyped_flags_are_answered_as_a_cli_should() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(&dir, &["--help"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("serve") && out.contains("admin"), "{out}");
    let (code, out) = run(&dir, &["--version"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    let (code, out) = run(&dir, &["admin", "list", "--tenat", "x"], &[]);
    assert_eq!(code, 2, "an unknown flag is refused: {out}");
    assert!(out.contains("--tenat"), "{out}");
    let (code, out) = run(&dir, &["serve"], &[("SYNC_SERVER_LISTNE", "0.0.0.0:1")]);
    assert_eq!(code, 2, "an unknown setting is refused: {out}");
    assert!(out.contains("SYNC_SERVER_LISTNE"), "{out}");
}

#[test]
fn admin_commands_never_create_a_database_by_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = admin(&dir, &["list"]);
    assert!(!ok && out.contains("there is no database"), "{out}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was created"
    );
    // The config file comes from SYNC_SERVER_CONFIG as from --config, with its data dir.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", elsewhere.path().display().to_string()),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args([
            "admin",
            "ensure-admin",
            "--create",
            "--tenant",
            "t",
            "--login",
            "a",
        ])
        .env("SYNC_SERVER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(elsewhere.path().join("sync-server.sqlite3").exists());
}

#[test]
fn a_backup_is_a_sound_copy_and_check_finds_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = admin(
        &dir,
        &[
            "create-admin",
            "--create",
            "--tenant",
            "t",
            "--login",
            "chefin",
        ],
    );
    assert!(ok, "{out}");
    let copy = dir.path().join("backup.sqlite3");
    let (ok, out) = admin(&dir, &["backup", copy.to_str().unwrap()]);
    assert!(ok, "{out}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only its owner reads a backup");
    let (ok, out) = admin(&dir, &["backup", copy.to_str().unwrap()]);
    assert!(!ok, "an existing file is not overwritten: {out}");
    // The copy is a database of its own with the account in it.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("sync-server.sqlite3")).unwrap();
    let (ok, out) = admin(&restored, &["list"]);
    assert!(ok && out.contains("\tchefin\tadmin\tactive"), "{out}");
    let (ok, out) = admin(&restored, &["check"]);
    assert!(ok && out.contains(": ok"), "{out}");
    // Damage in the middle of the file: check says so and fails.
    let path = restored.path().join("sync-server.sqlite3");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page, "a database of several pages");
    for byte in &mut bytes[2 * page..2 * page + 200] {
        *byte = 0xAB;
    }
    std::fs::write(&path, bytes).unwrap();
    let (ok, out) = admin(&restored, &["check"]);
    assert!(!ok, "{out}");
}

#[test]
fn sigterm_stops_the_server_gracefully_and_logs_are_plain_json_lines() {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("serve")
        .env("SYNC_SERVER_DATA_DIR", dir.path())
        .env("SYNC_SERVER_LISTEN", "127.0.0.1:0")
        .env("SYNC_SERVER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the server logs").unwrap();
        assert!(!line.contains('\u{1b}'), "no colours into a pipe: {line}");
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert!(parsed.get("level").is_some(), "{line}");
        if line.contains("serving") {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "a clean exit after SIGTERM: {status:?} {rest:?}"
    );
    assert!(
        rest.iter().any(|line| line.contains("shutting down")),
        "{rest:?}"
    );
}

/// An HTTP/1.1 GET on 127.0.0.1:`port`: the status and the body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.get(9..12)?.parse().ok()?;
    Some((status, answer))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn metrics_can_have_an_internal_address_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (main, monitoring) = (free_port(), free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("serve")
        .env("SYNC_SERVER_DATA_DIR", dir.path())
        .env("SYNC_SERVER_LISTEN", format!("127.0.0.1:{main}"))
        .env(
            "SYNC_SERVER_METRICS_LISTEN",
            format!("127.0.0.1:{monitoring}"),
        )
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get(monitoring, "/healthz").is_none() {
        assert!(std::time::Instant::now() < deadline, "never served");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, body) = get(monitoring, "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sync_server_requests_total"), "{body}");
    assert_eq!(get(monitoring, "/healthz").unwrap().0, 200);
    assert_eq!(
        get(monitoring, "/api/staff").unwrap().0,
        404,
        "nothing else there"
    );
    assert_eq!(
        get(main, "/metrics").unwrap().0,
        404,
        "without a token, not on the main address"
    );
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
}
