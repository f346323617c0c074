//! The server's configuration: defaults that work out of the box, a TOML file that IT
//! edits, and environment variables that win over both. Read once, at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database lives.
    pub data_dir: PathBuf,
    /// Loopback by default: IT puts a TLS-terminating proxy in front.
    pub listen: SocketAddr,
    /// A session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// A session ends this long after login, however busy.
    pub session_absolute_hours: u64,
    /// Failed password checks before further tries have to wait (a second, then
    /// doubling up to 15 minutes; see `throttle`): per login and address, per address,
    /// and per login from addresses it has not logged in from for a day.
    pub login_failures_before_delay: u32,
    pub login_failures_before_delay_per_address: u32,
    pub login_failures_before_delay_per_login: u32,
    /// The largest websocket message a client may send; a first sync of a big record
    /// history is one message.
    pub max_message_bytes: usize,
    /// What the compressed parts of one sync message may inflate to.
    pub max_inflated_bytes: usize,
    /// Per connection: messages a client may send in a burst, and per second after it.
    pub message_burst: u32,
    pub messages_per_second: u32,
    /// How long a sync reply may wait for its changes to reach the disk before the
    /// connection is closed instead.
    pub persist_timeout_seconds: u64,
    /// The address people reach the server at (behind IT's proxy), for the links in
    /// invitation e-mails; without it, `http://<listen>`.
    pub public_url: Option<String>,
    /// How long an invitation link stays valid.
    pub invitation_days: u64,
    /// The largest file a counsellor may upload.
    pub max_blob_bytes: usize,
    /// Connections at once, in all (within the process's file descriptors), and from
    /// one address until they authenticate a sync websocket.
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// Sync websockets at once per session, and per account.
    pub max_websockets_per_session: usize,
    pub max_websockets_per_account: usize,
    /// How long a client may take to send a request's head (also the longest a
    /// kept-alive connection may sit idle), and a whole API request.
    pub header_read_timeout_seconds: u64,
    pub request_timeout_seconds: u64,
    /// An upload ends when no byte of it arrives for this long.
    pub upload_idle_seconds: u64,
    /// A sync connection ends when the client takes nothing it is sent for this long.
    pub write_timeout_seconds: u64,
    /// Proxies whose `X-Forwarded-For` names the client (their own connections are not
    /// counted per address); empty: nobody's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The bearer token `/metrics` answers to; without it, `/metrics` is off.
    pub metrics_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_failures_before_delay: 3,
            login_failures_before_delay_per_address: 20,
            login_failures_before_delay_per_login: 10,
            max_message_bytes: 32 * 1024 * 1024,
            max_inflated_bytes: 128 * 1024 * 1024,
            message_burst: 20_000,
            messages_per_second: 2_000,
            persist_timeout_seconds: 30,
            public_url: None,
            invitation_days: 7,
            max_blob_bytes: 25 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_address: 128,
            max_websockets_per_session: 4,
            max_websockets_per_account: 32,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 30,
            upload_idle_seconds: 30,
            write_timeout_seconds: 30,
            trusted_proxies: Vec::new(),
            metrics_token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{name} is not valid: {value}")]
    Env { name: &'static str, value: String },
}

impl Config {
    /// Defaults, then the file (if given), then the environment
    /// (`SYNC_SERVER_DATA_DIR`, `SYNC_SERVER_LISTEN`).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                })?
            }
            None => Config::default(),
        };
        if let Some(dir) = env("SYNC_SERVER_DATA_DIR") {
            config.data_dir = PathBuf::from(dir);
        }
        if let Some(listen) = env("SYNC_SERVER_LISTEN") {
            config.listen = listen.parse().map_err(|_| ConfigError::Env {
                name: "SYNC_SERVER_LISTEN",
                value: listen,
            })?;
        }
        Ok(config)
    }

    /// Where links to this server point.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("sync-server.sqlite3")
    }

    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_minutes * 60)
    }

    pub fn session_absolute(&self) -> Duration {
        Duration::from_secs(self.session_absolute_hours * 3600)
    }
}
