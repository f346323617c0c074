//! The real `sync-server` binary as a test starts it: its own data directory and port on
//! 127.0.0.1, accounts made through its command line, stopped with SIGKILL.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client_app::Workspace;

pub const TENANT: &str = "t";

/// The server binary next to this test's: `cargo test --workspace` (scripts/test) builds
/// it with the same features as everything else, because sync-server's own tests need
/// it. Only when it is missing (`cargo test -p tests` on a fresh target) is it built here;
/// building it every time would rebuild it with other features and churn the target.
/// The server binary beside this test's executable, built first (once per test process)
/// when it is missing or older than the sources it is made of: a run of this package
/// alone would otherwise start a stale binary left by an earlier build. (A workspace
/// build makes it current, so CI never builds it here; building it here resolves other
/// features than the workspace does, which costs a rebuild of some dependencies.)
pub fn server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            // target/debug/deps/e2e-… → target/debug/sync-server
            let binary = exe.parent().unwrap().parent().unwrap().join("sync-server");
            let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let sources = ["sync-server/src", "model/src", "conflict-rules/src"]
                .iter()
                .filter_map(|dir| newest_in(&root.join(dir)))
                .max();
            if built.is_none() || sources > built {
                let status = Command::new(env!("CARGO"))
                    .args([
                        "build",
                        "--quiet",
                        "-p",
                        "sync-server",
                        "--bin",
                        "sync-server",
                    ])
                    .status()
                    .expect("cargo runs");
                assert!(status.success(), "the server builds");
            }
            binary
        })
        .clone()
}

/// The newest modification time of a file below `dir`.
fn newest_in(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        let time = if path.is_dir() {
            newest_in(&path)
        } else {
            std::fs::metadata(&path).and_then(|m| m.modified()).ok()
        };
        newest = newest.max(time);
    }
    newest
}

pub struct Server {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    pub child: Option<Child>,
    /// More settings for the server, as `SYNC_SERVER_<KEY>` variables.
    pub extra_env: Vec<(String, String)>,
}

impl Server {
    pub fn new(data_dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            binary: server_binary(),
            data_dir: data_dir.to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: None,
            extra_env: Vec::new(),
        }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env("SYNC_SERVER_DATA_DIR", &self.data_dir)
            .env("SYNC_SERVER_LISTEN", self.addr.to_string())
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// An account through the CLI; returns its password.
    pub fn account(&self, login: &str, role: &str) -> String {
        let command = if role == "admin" {
            vec![
                "admin",
                "create-admin",
                "--create",
                "--tenant",
                TENANT,
                "--login",
                login,
            ]
        } else {
            vec![
                "admin",
                "create-account",
                "--create",
                "--tenant",
                TENANT,
                "--login",
                login,
                "--role",
                role,
            ]
        };
        let out = self.command().args(command).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("password")
                    .and_then(|l| l.split(": ").nth(1))
            })
            .expect("the password is printed")
            .trim()
            .to_owned()
    }

    /// Starts `serve`; what it logs is appended to `server.log` in its data directory
    /// (read it when a test fails; the lifecycle tests also search it for personal data).
    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("server.log"))
            .unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !healthy(self.addr) {
            assert!(Instant::now() < deadline, "the server never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Refreshes `workspace` until `check` holds, for a minute at most.
pub fn until(workspace: &mut Workspace, what: &str, mut check: impl FnMut(&Workspace) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        workspace.refresh();
        if check(workspace) {
            return;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Everything local has reached the server.
pub fn all_synced(w: &Workspace) -> bool {
    w.unsynced_changes() == 0 && w.pending_requests().is_empty()
}
