//! The real `sync-server` binary as a process of its own, on 127.0.0.1 with a temporary
//! data directory and a configuration file, optionally under `prlimit` (a memory cap, a
//! descriptor limit): what it holds is read from /proc, what it logs from its log file.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    child: Option<Child>,
    config: PathBuf,
    wrapper: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    /// A server that is not started yet, with `settings` (TOML lines) besides its data
    /// directory and address.
    pub fn new(settings: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = dir.path().join("sync-server.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nlisten = \"{addr}\"\n{settings}\n",
                dir.path().join("data")
            ),
        )
        .unwrap();
        Self {
            dir,
            addr,
            child: None,
            config,
            wrapper: Vec::new(),
        }
    }

    /// Runs the server under `prlimit` with these limits (`--as=…`, `--nofile=…`).
    pub fn limited(mut self, limits: &[&str]) -> Self {
        self.wrapper = std::iter::once("prlimit".to_owned())
            .chain(limits.iter().map(|l| (*l).to_owned()))
            .chain(std::iter::once("--".to_owned()))
            .collect();
        self
    }

    fn command(&self) -> Command {
        let binary = env!("CARGO_BIN_EXE_sync-server");
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command.arg("--config").arg(&self.config);
        command
    }

    /// What an admin command (before the server starts) printed.
    pub fn command_output(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    }

    /// `sync-server admin create-account` (before the server starts): the password.
    pub fn account(&self, tenant: &str, login: &str, role: &str) -> String {
        let output = self
            .command()
            .args([
                "admin",
                "create-account",
                "--create",
                "--tenant",
                tenant,
                "--login",
                login,
            ])
            .args(["--role", role])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{text}");
        text.trim().rsplit(' ').next().unwrap().to_owned()
    }

    pub fn start(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(self.addr).is_err() {
            assert!(self.alive(), "the server exited: {}", self.log());
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never listened"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .unwrap()
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap()
    }

    /// Resident memory now, in MB.
    pub fn rss_mb(&self) -> f64 {
        self.status_kb("VmRSS:") as f64 / 1024.0
    }

    /// Open file descriptors now.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Sends SIGINT, as the operator's service manager does; true if it exited in time.
    pub fn interrupt(&mut self, wait: Duration) -> bool {
        let Some(child) = self.child.as_mut() else {
            return true;
        };
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + wait;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = None;
        true
    }

    /// SIGKILL, and wait for the exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
