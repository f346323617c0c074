//! The server's configuration: defaults that work out of the box, a TOML file that IT
//! edits, and environment variables that win over both. Read once, at start.
//!
//! Every key of the file is also `SYNC_SERVER_<KEY>` in the environment
//! (`SYNC_SERVER_LISTEN=0.0.0.0:8470`, `SYNC_SERVER_TRUSTED_PROXIES='["10.0.0.0/8"]'`):
//! the value is read as a TOML value where that fits the key, else as a string (so a
//! quoted value loses its quotes and escapes, as in the file). An empty variable counts
//! as unset. An unknown key, in the file or the environment, is an error, so a typo
//! never passes silently. `SYNC_SERVER_CONFIG` names the file itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database lives. Without the setting: systemd's
    /// `$STATE_DIRECTORY`, else the platform's state directory
    /// (`$XDG_STATE_HOME/sync-server`, `~/.local/state/sync-server`); never the working
    /// directory, so an admin command run from elsewhere finds the same database.
    pub data_dir: PathBuf,
    /// Loopback by default: IT puts a TLS-terminating proxy in front.
    pub listen: SocketAddr,
    /// PEM files: the certificate chain (the server's own certificate first) and its
    /// private key. With both, `serve` speaks HTTPS and WSS itself on `listen`; with
    /// neither, plain HTTP for a proxy in front. One without the other refuses to start.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
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
    /// How e-mail leaves the server: `pickup` (the default) writes each message into
    /// `<data_dir>/outbox/` for the site's own mail system, `smtp` hands it to the relay
    /// at `smtp_url`. Text messages are pickup files (`.sms`) either way: no SMS gateway
    /// is built in.
    pub mail_transport: MailTransport,
    /// The relay for `smtp`: `smtps://user@host:465` (TLS from the first byte),
    /// `smtp://user@host:587?tls=required` (STARTTLS), or plain `smtp://127.0.0.1:25`,
    /// which the server takes only for a relay on its own machine: recipients, messages
    /// and the password must not cross a network in plain text.
    pub smtp_url: Option<String>,
    /// A file whose first line is the password of the user in `smtp_url`, so that it
    /// stays out of the config and the environment (a password in the URL also works).
    pub smtp_password_file: Option<PathBuf>,
    /// The sender of every e-mail, `"Beratungsstelle <noreply@example.org>"`; `smtp`
    /// needs it. Without it, pickup files come from `noreply@` the host of `public_url`.
    pub mail_from: Option<String>,
    /// A message the relay has not taken after this long is given up, and staff see
    /// that it failed; until then it is retried with growing waits.
    pub mail_retry_days: u64,
    /// The same in seconds, instead of `mail_retry_days` where set (for tests).
    pub mail_retry_seconds: Option<u64>,
    /// The wait before the first retry; each further wait doubles, up to 30 minutes.
    pub mail_backoff_seconds: u64,
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
    /// Proxies (addresses or CIDR ranges) whose forwarding header names the client
    /// (their own connections are not counted per address); empty: nobody's.
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// The header the trusted proxies write: `x-forwarded-for` (nginx's
    /// `$proxy_add_x_forwarded_for`, the default) or `forwarded` (RFC 7239). Only that
    /// one is believed.
    pub forwarded_header: crate::proxies::ForwardedHeader,
    /// The bearer token `/metrics` answers to; without it, `/metrics` is off on the
    /// main address.
    pub metrics_token: Option<String>,
    /// A second address that serves `/metrics` and `/healthz` only, for monitoring on an
    /// internal network; there `/metrics` needs the token only if one is set.
    pub metrics_listen: Option<SocketAddr>,
    /// The time zone of the organisation: it decides "today" everywhere on the server
    /// (a deletion's day, whether a responsibility has begun or ended).
    pub timezone: chrono_tz::Tz,
    /// `text` (the default) or `json`: one JSON object per log line.
    pub log_format: LogFormat,
    /// How many password checks (PBKDF2, 600,000 rounds each) may run at once; further
    /// logins wait their turn, so a login storm cannot take every core.
    pub max_concurrent_logins: usize,
    /// Days added to "today" (drills and tests only: a purge after the deletion
    /// interval can be tried without waiting for it). 0 in service.
    pub clock_offset_days: i64,
    /// Drills and tests only: the purge stops this long after its first step (the
    /// purge recorded, its documents forgotten), so that a crash in the middle of a
    /// purge can be tried. 0 in service.
    pub purge_pause_seconds: u64,
}

/// How e-mail leaves the server (`mail_transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Files in `<data_dir>/outbox/` for the site's own mail system.
    #[default]
    Pickup,
    /// The relay at `smtp_url`.
    Smtp,
}

/// How the server writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Secrets (`metrics_token`, a password in `smtp_url`) never reach a log through
/// `{:?}`: only where the server listens and keeps its data.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            tls_cert: None,
            tls_key: None,
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
            mail_transport: MailTransport::Pickup,
            smtp_url: None,
            smtp_password_file: None,
            mail_from: None,
            mail_retry_days: 3,
            mail_retry_seconds: None,
            mail_backoff_seconds: 30,
            max_blob_bytes: 25 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_address: 128,
            max_websockets_per_session: 4,
            max_websockets_per_account: 32,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 30,
            upload_idle_seconds: 30,
            write_timeout_seconds: 30,
            trusted_proxies: Default::default(),
            forwarded_header: Default::default(),
            metrics_token: None,
            metrics_listen: None,
            timezone: chrono_tz::Europe::Berlin,
            log_format: LogFormat::Text,
            max_concurrent_logins: 4,
            clock_offset_days: 0,
            purge_pause_seconds: 0,
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
    #[error("{name} is not valid: {reason}")]
    Env { name: String, reason: String },
}

/// The environment variable that names the config file.
pub const CONFIG_VARIABLE: &str = "SYNC_SERVER_CONFIG";

/// The prefix of every setting in the environment.
const PREFIX: &str = "SYNC_SERVER_";

/// Where the database lives when the configuration does not say.
fn default_data_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("STATE_DIRECTORY") {
        // systemd's StateDirectory= may list several, separated by colons.
        let dir = PathBuf::from(dir);
        let first = dir
            .to_str()
            .and_then(|d| d.split(':').next())
            .map(PathBuf::from);
        return first.unwrap_or(dir);
    }
    if let Some(state) = var("XDG_STATE_HOME") {
        return PathBuf::from(state).join("sync-server");
    }
    match var("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/sync-server"),
        // No home (a service without one): the conventional place.
        None => PathBuf::from("/var/lib/sync-server"),
    }
}

impl Config {
    /// Defaults, then the file (if given), then the environment's `SYNC_SERVER_<KEY>`
    /// variables (`vars`, all of the process's: others are ignored).
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let parsed = |source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                };
                // The file alone first, so that its mistakes are named as its own, with
                // their line.
                toml::from_str::<Self>(&text).map_err(parsed)?;
                text.parse::<toml::Table>().map_err(parsed)?
            }
            None => toml::Table::new(),
        };
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with(PREFIX) && name != CONFIG_VARIABLE)
            .collect();
        vars.sort();
        for (name, raw) in vars {
            // An empty variable is unset (`SYNC_SERVER_TLS_CERT=` in a unit file).
            if raw.is_empty() {
                continue;
            }
            let key = name[PREFIX.len()..].to_ascii_lowercase();
            // The value as TOML where the key takes that (a number, a list), else the
            // same text as a string (a token of digits, an address).
            let parsed = format!("v = {raw}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"));
            let mut tried = None;
            for value in parsed.into_iter().chain([toml::Value::String(raw.clone())]) {
                let mut candidate = table.clone();
                candidate.insert(key.clone(), value);
                match Self::from_table(candidate.clone()) {
                    Ok(_) => {
                        table = candidate;
                        tried = None;
                        break;
                    }
                    // The first failure says more: the value as TOML, where it was.
                    Err(error) => tried = tried.or(Some(error)),
                }
            }
            if let Some(error) = tried {
                return Err(ConfigError::Env {
                    name,
                    reason: error.message().to_owned(),
                });
            }
        }
        Self::from_table(table).map_err(|error| ConfigError::Env {
            name: "the environment".into(),
            reason: error.message().to_owned(),
        })
    }

    fn from_table(table: toml::Table) -> Result<Self, toml::de::Error> {
        toml::Value::Table(table).try_into()
    }

    /// Where links to this server point.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.serves_tls() => format!("https://{}", self.listen),
            None => format!("http://{}", self.listen),
        }
    }

    /// Whether the server speaks TLS itself (both `tls_cert` and `tls_key` set; `serve`
    /// refuses one without the other).
    pub fn serves_tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
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

#[cfg(test)]
mod tests;
