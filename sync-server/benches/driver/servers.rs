//! The servers under test, each its own process on 127.0.0.1, so that its memory and
//! CPU time are its own: ours (the `sync-server` binary this benchmark was built with,
//! on a fresh SQLite file) and the reference (tests/js/reference-server.mjs: the
//! JavaScript automerge-repo 2.x with its websocket server adapter and file-system
//! storage).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::client::Endpoint;
use super::tls::{self, Tls};

pub const TENANT: &str = "bench";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Ours,
    Reference,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Ours => "ours",
            Flavour::Reference => "reference",
        }
    }
}

/// CPU time and peak memory of a server process, read from /proc.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
}

pub struct ServerProcess {
    pub flavour: Flavour,
    data_dir: PathBuf,
    port: u16,
    child: Option<Child>,
    /// A command the server runs under (`prlimit …`), and a config file for it (ours).
    wrapper: Vec<String>,
    config: Option<PathBuf>,
    admin_password: String,
    admin_token: Option<String>,
    accounts: std::collections::HashSet<String>,
    peers: u64,
    /// Ours serving HTTPS and WSS itself, and how clients trust it.
    tls: Option<Tls>,
}

/// A session on a server: where to connect, and the token for its HTTP API (ours).
#[derive(Clone)]
pub struct Session {
    pub endpoint: Endpoint,
    token: Option<String>,
}

// Without the password and the tokens.
impl std::fmt::Debug for ServerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerProcess")
            .field("flavour", &self.flavour)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn password_for(login: &str) -> String {
    format!("Bench-{login}-9TGCJ##qk0")
}

impl ServerProcess {
    /// A server with an empty store in `data_dir`; ours gets its first admin.
    pub fn new(flavour: Flavour, data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let mut server = Self {
            flavour,
            data_dir: data_dir.to_owned(),
            port: free_port()?,
            child: None,
            wrapper: Vec::new(),
            config: None,
            admin_password: String::new(),
            admin_token: None,
            accounts: Default::default(),
            peers: 0,
            tls: None,
        };
        if flavour == Flavour::Ours {
            let out = server
                .command()
                .args([
                    "admin",
                    "create-admin",
                    "--create",
                    "--tenant",
                    TENANT,
                    "--login",
                    "admin",
                ])
                .output()?;
            if !out.status.success() {
                bail!("create-admin: {}", String::from_utf8_lossy(&out.stderr));
            }
            server.admin_password = String::from_utf8(out.stdout)?
                .lines()
                .find_map(|l| {
                    l.strip_prefix("password")
                        .and_then(|l| l.split(": ").nth(1))
                })
                .context("create-admin prints the password")?
                .trim()
                .to_owned();
        }
        Ok(server)
    }

    /// Runs the server under `wrapper` from now on (e.g. `prlimit --as=… --`).
    pub fn wrap(&mut self, wrapper: &[&str]) {
        self.wrapper = wrapper.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Ours speaks HTTPS and WSS from its next start, with a certificate of a CA made
    /// for it, which its clients trust.
    pub fn with_tls(&mut self) -> anyhow::Result<()> {
        if self.flavour != Flavour::Ours {
            bail!("only ours serves TLS itself");
        }
        self.tls = Some(Tls::new(&self.data_dir)?);
        Ok(())
    }

    /// Starts ours with this configuration file's settings from now on.
    pub fn configure(&mut self, toml: &str) -> anyhow::Result<()> {
        let path = self.data_dir.join("sync-server.toml");
        std::fs::write(&path, toml)?;
        self.config = Some(path);
        Ok(())
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server binary: this build's, or `BENCH_SERVER_BIN` (another build of ours,
    /// for before-and-after figures).
    fn binary() -> PathBuf {
        std::env::var_os("BENCH_SERVER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sync-server")))
    }

    fn command(&self) -> Command {
        match self.flavour {
            Flavour::Ours => {
                let mut command = match self.wrapper.split_first() {
                    Some((program, args)) => {
                        let mut command = Command::new(program);
                        command.args(args).arg(Self::binary());
                        command
                    }
                    None => Command::new(Self::binary()),
                };
                if let Some(config) = &self.config {
                    command.arg("--config").arg(config);
                }
                command
                    .env("SYNC_SERVER_DATA_DIR", &self.data_dir)
                    .env("SYNC_SERVER_LISTEN", format!("127.0.0.1:{}", self.port))
                    .env("RUST_LOG", "warn");
                if let Some(tls) = &self.tls {
                    command
                        .env("SYNC_SERVER_TLS_CERT", &tls.cert)
                        .env("SYNC_SERVER_TLS_KEY", &tls.key);
                }
                command
            }
            Flavour::Reference => {
                let script =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js/reference-server.mjs");
                let mut command = Command::new("node");
                command
                    .arg(script)
                    .arg(self.port.to_string())
                    .arg(self.data_dir.join("documents"));
                command
            }
        }
    }

    /// Starts the server; returns how long it took to accept connections.
    pub fn start(&mut self) -> anyhow::Result<Duration> {
        let log = std::fs::File::create(self.data_dir.join("server.log"))?;
        let mut command = self.command();
        if self.flavour == Flavour::Ours {
            command.arg("serve");
        }
        let started = Instant::now();
        self.child = Some(
            command
                .stdout(log.try_clone()?)
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .with_context(|| format!("starting the {} server", self.flavour.name()))?,
        );
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("the {} server exited: {status}", self.flavour.name());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the {} server never listened", self.flavour.name());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(started.elapsed())
    }

    /// Stops the server the way its operator would (SIGINT for ours, as its systemd
    /// unit does; SIGTERM for node), so that it finishes what it acknowledged.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let signal = match self.flavour {
            Flavour::Ours => "-INT",
            Flavour::Reference => "-TERM",
        };
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                child.kill()?;
                bail!("the {} server did not stop in time", self.flavour.name());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.admin_token = None;
        Ok(())
    }

    /// Whether the process still runs; its exit status once it has stopped.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Resident memory now and at its peak, in MB, and the open file descriptors.
    pub fn resources(&self) -> anyhow::Result<(f64, f64, usize)> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> anyhow::Result<f64> {
            let kb: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .with_context(|| format!("{name} in /proc status"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()?;
            Ok(kb / 1024.0)
        };
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
        Ok((field("VmRSS:")?, field("VmHWM:")?, fds))
    }

    /// Sends a signal (`-INT`, `-KILL`, …) and waits up to `wait` for the exit; true if
    /// it exited.
    pub fn signal(&mut self, signal: &str, wait: Duration) -> anyhow::Result<bool> {
        let Some(child) = self.child.as_mut() else {
            return Ok(true);
        };
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + wait;
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = None;
        Ok(true)
    }

    /// The admin's session token (the first admin of `TENANT`).
    pub async fn admin(&mut self) -> anyhow::Result<String> {
        if let Some(token) = &self.admin_token {
            return Ok(token.clone());
        }
        let (token, _) = self.login("admin", &self.admin_password).await?;
        self.admin_token = Some(token.clone());
        Ok(token)
    }

    /// An account of `TENANT` with `role`, created through the admin's API; its
    /// password.
    pub async fn account(&mut self, login: &str, role: &str) -> anyhow::Result<String> {
        let admin = self.admin().await?;
        let password = password_for(login);
        let body = json!({ "login": login, "role": role, "password": password });
        let mut http = Http::connect(self.port, self.tls.as_ref()).await?;
        let (status, answer) = http
            .call("POST", "/api/accounts", Some(&admin), Some(body))
            .await?;
        if status != 201 {
            bail!("creating {login}: {status} {answer}");
        }
        self.accounts.insert(login.to_owned());
        Ok(password)
    }

    fn pid(&self) -> anyhow::Result<u32> {
        Ok(self
            .child
            .as_ref()
            .context("the server is not running")?
            .id())
    }

    /// CPU seconds since the process started, and its peak resident memory (since the
    /// start or the last [`Self::reset_peak`]).
    pub fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self.pid()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The fields after the command name, which may itself hold spaces: utime and
        // stime are fields 14 and 15, counted in USER_HZ (100 on Linux).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("a /proc stat line")?
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let peak_kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .context("VmHWM in /proc status")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(Usage {
            cpu_s: ticks / 100.0,
            peak_rss_mb: peak_kb / 1024.0,
        })
    }

    /// Starts a new peak-memory measurement (Linux: clear_refs 5 resets VmHWM).
    pub fn reset_peak(&self) -> anyhow::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()?), "5")?;
        Ok(())
    }

    /// A new session for `login`: ours creates the counsellor account once (through
    /// the admin's HTTP API) and logs in; the reference has no accounts.
    pub async fn session(&mut self, login: &str) -> anyhow::Result<Session> {
        Ok(self.sessions(&[login.to_owned()]).await?.remove(0))
    }

    /// A session for each of `logins` (repeated logins are devices of one person): the
    /// accounts one after the other, then every login at once.
    pub async fn sessions(&mut self, logins: &[String]) -> anyhow::Result<Vec<Session>> {
        if self.flavour == Flavour::Reference {
            return Ok(logins
                .iter()
                .map(|login| {
                    self.peers += 1;
                    Session {
                        endpoint: Endpoint {
                            url: format!("ws://127.0.0.1:{}", self.port),
                            bearer: None,
                            peer_id: format!("{login}-{}", self.peers),
                            tls: None,
                        },
                        token: None,
                    }
                })
                .collect());
        }
        for login in logins {
            self.ensure_account(login).await?;
        }
        let this = &*self;
        let answers = futures::future::join_all(
            logins
                .iter()
                .map(|login| async move { this.login(login, &password_for(login)).await }),
        )
        .await;
        answers
            .into_iter()
            .map(|answer| {
                let (token, peer_id) = answer?;
                let scheme = if self.tls.is_some() { "wss" } else { "ws" };
                Ok(Session {
                    endpoint: Endpoint {
                        url: format!("{scheme}://127.0.0.1:{}/sync", self.port),
                        bearer: Some(token.clone()),
                        peer_id,
                        tls: self.tls.as_ref().map(|tls| tls.client.clone()),
                    },
                    token: Some(token),
                })
            })
            .collect()
    }

    async fn ensure_account(&mut self, login: &str) -> anyhow::Result<()> {
        if !self.accounts.contains(login) {
            self.account(login, "counsellor").await?;
        }
        Ok(())
    }

    pub async fn login(&self, login: &str, password: &str) -> anyhow::Result<(String, String)> {
        let mut http = Http::connect(self.port, self.tls.as_ref()).await?;
        let body = json!({ "login": login, "password": password });
        let (status, answer) = http.call("POST", "/api/login", None, Some(body)).await?;
        if status != 200 {
            bail!("login of {login}: {status} {answer}");
        }
        let answer: serde_json::Value = serde_json::from_str(&answer)?;
        let field = |name: &str| {
            answer[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("the login answers {name}"))
        };
        Ok((field("token")?, field("peer_id")?))
    }

    /// What ours needs before a new document syncs: its registration (client records,
    /// each id with its creating change), one request each over one kept-alive
    /// connection. Nothing for the reference.
    pub async fn register(
        &self,
        session: &Session,
        records: &[(String, String)],
    ) -> anyhow::Result<()> {
        let Some(token) = &session.token else {
            return Ok(());
        };
        let mut http = Http::connect(self.port, self.tls.as_ref()).await?;
        for (id, creation) in records {
            let body = json!({ "id": id, "kind": "client-record", "creation": creation });
            let (status, answer) = http
                .call("POST", "/api/documents", Some(token), Some(body))
                .await?;
            if status != 201 {
                bail!("registering {id}: {status} {answer}");
            }
        }
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// HTTP/1.1 with keep-alive to ours, for accounts, logins and registrations; inside
/// TLS when ours serves it.
struct Http {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Http {
    async fn connect(port: u16, tls: Option<&Tls>) -> anyhow::Result<Self> {
        let stream = tls::connect(port, tls.map(|tls| &tls.client)).await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: format!("127.0.0.1:{port}"),
        })
    }

    async fn call(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(u16, String)> {
        self.sender.ready().await?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = self
            .sender
            .send_request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = answer.status().as_u16();
        let bytes = answer.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}
