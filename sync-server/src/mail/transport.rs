//! How a message leaves the server. lettre builds every e-mail as an RFC 5322 message
//! (From, To, Date, Message-ID, the subject as RFC 2047 words folded under 78 columns,
//! the text as UTF-8, quoted-printable where it is not plain ASCII) and either speaks
//! SMTP to the relay at `smtp_url` or the message is written into the pickup directory
//! for the site's own mail system. Text messages are always pickup files: no SMS
//! gateway is built in.
//!
//! Nothing here logs an address, a subject or the relay's own words (which may repeat
//! the recipient's address): only reply codes and kinds of failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use url::{Host, Url};

use super::{Channel, MailError, Queued};
use crate::config::{Config, MailTransport};

/// How long the relay may take to answer at each step of a conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Reply codes that refuse the server as a whole, not one message: the relay is busy or
/// going down (421), or does not take our login or TLS (432, 454, 530, 534, 535, 538),
/// or we do not speak alike (500, 502, 503, 504). Every waiting message waits for them
/// to pass instead of failing.
const RELAY_WIDE: &[u16] = &[421, 432, 454, 500, 502, 503, 504, 530, 534, 535, 538];

/// What one attempt to deliver a message came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    Delivered,
    /// Never deliverable: the relay refused it for good (a 5xx reply), or its recipient
    /// is no e-mail address.
    Refused,
    /// Not now: the relay answered 4xx for this message, or the pickup directory could
    /// not be written. Tried again later.
    Retry,
    /// The relay cannot be reached, or refuses the server as a whole: every message due
    /// waits, without a connection attempt of its own.
    RelayDown,
}

/// Where messages go, and the sender they go out as.
pub(super) struct Transport {
    pub(super) from: Mailbox,
    /// The sender's domain, which makes our Message-IDs unique.
    domain: String,
    /// `None` for the pickup directory.
    relay: Option<AsyncSmtpTransport<Tokio1Executor>>,
    outbox: PathBuf,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("smtp", &self.relay.is_some())
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

fn setting(key: &'static str, reason: impl Into<String>) -> MailError {
    MailError::Setting {
        key,
        reason: reason.into(),
    }
}

impl Transport {
    /// The transport the configuration asks for; a setting that cannot work stops the
    /// start here, rather than every message failing later.
    pub(super) fn new(config: &Config) -> Result<Self, MailError> {
        let relay = match config.mail_transport {
            MailTransport::Pickup => {
                if config.smtp_url.is_some() {
                    tracing::warn!(
                        "smtp_url is set, but mail_transport is \"pickup\": e-mail goes into the outbox directory"
                    );
                }
                None
            }
            MailTransport::Smtp => Some(relay(config)?),
        };
        let from = match &config.mail_from {
            Some(from) => from
                .parse::<Mailbox>()
                .map_err(|error| setting("mail_from", format!("not a mailbox: {error}")))?,
            None if relay.is_some() => {
                return Err(setting(
                    "mail_from",
                    "mail_transport = \"smtp\" needs the sender, e.g. \"Beratungsstelle <noreply@example.org>\"",
                ));
            }
            None => default_sender(config),
        };
        Ok(Self {
            domain: from.email.domain().to_owned(),
            from,
            relay,
            outbox: config.data_dir.join("outbox"),
        })
    }

    pub(super) fn outbox(&self) -> &Path {
        &self.outbox
    }

    /// Whether `queued` goes through the relay (an e-mail, with `smtp`); text messages
    /// and pickup files do not wait for it.
    pub(super) fn uses_relay(&self, queued: &Queued) -> bool {
        self.relay.is_some() && queued.message.channel == Channel::Email
    }

    /// Tries to deliver `queued` once.
    pub(super) async fn deliver(&self, queued: &Queued) -> Attempt {
        let message = &queued.message;
        match message.channel {
            Channel::Sms => {
                let text = format!("{}\n{}\n", message.recipient, message.body);
                self.pickup(queued.id, "sms", text.into_bytes()).await
            }
            Channel::Email => {
                let Some(email) = self.email(queued) else {
                    tracing::warn!(id = queued.id, "a message's recipient is no e-mail address");
                    return Attempt::Refused;
                };
                match &self.relay {
                    None => self.pickup(queued.id, "eml", email.formatted()).await,
                    Some(relay) => match relay.send(email).await {
                        Ok(_) => Attempt::Delivered,
                        Err(error) => classify(&error),
                    },
                }
            }
        }
    }

    /// The e-mail, as the relay or the pickup directory gets it; `None` when the
    /// recipient is no address.
    pub(super) fn email(&self, queued: &Queued) -> Option<Message> {
        let message = &queued.message;
        let to = message.recipient.trim().parse::<Mailbox>().ok()?;
        // lettre encodes and folds the subject; a line break in it is nobody's intent.
        let subject = message.subject.replace(['\r', '\n'], " ");
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date(SystemTime::UNIX_EPOCH + Duration::from_millis(queued.created_ms))
            .message_id(Some(self.message_id(&message.key)))
            .singlepart(SinglePart::plain(message.body.clone()))
            .ok()
    }

    /// The same for every attempt at one message, so that a relay (or the person's
    /// mail program) can tell a message sent twice, after a crash between sending and
    /// noting it, from two messages.
    fn message_id(&self, key: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        format!("<{}@{}>", hex::encode(&digest.as_ref()[..16]), self.domain)
    }

    /// Writes one file into the pickup directory: to a temporary name, synced, then
    /// renamed, so that whoever picks it up never sees half a message.
    async fn pickup(&self, id: i64, extension: &'static str, content: Vec<u8>) -> Attempt {
        let outbox = self.outbox.clone();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write as _;
            std::fs::create_dir_all(&outbox)?;
            let name = format!("{id:012}.{extension}");
            let temporary = outbox.join(format!(".{name}.tmp"));
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&content)?;
            file.sync_all()?;
            std::fs::rename(&temporary, outbox.join(name))
        })
        .await;
        match written {
            Ok(Ok(())) => Attempt::Delivered,
            Ok(Err(error)) => {
                tracing::error!(id, %error, "a message cannot be written to the outbox");
                Attempt::Retry
            }
            Err(_) => Attempt::Retry,
        }
    }
}

/// What the relay's error means for the message and for the others.
fn classify(error: &lettre::transport::smtp::Error) -> Attempt {
    match error.status().map(u16::from) {
        Some(code) if RELAY_WIDE.contains(&code) => {
            tracing::error!(code, "the mail relay refuses the server; messages wait");
            Attempt::RelayDown
        }
        Some(code) if error.is_permanent() => {
            tracing::warn!(code, "the mail relay refused a message for good");
            Attempt::Refused
        }
        Some(code) => {
            tracing::info!(code, "the mail relay cannot take a message now");
            Attempt::Retry
        }
        None => {
            tracing::warn!(
                timeout = error.is_timeout(),
                tls = error.is_tls(),
                "the mail relay cannot be reached; messages wait"
            );
            Attempt::RelayDown
        }
    }
}

/// lettre's transport for `smtp_url`, checked first: TLS (implicit, or STARTTLS
/// required) unless the relay is on this machine, and the password from
/// `smtp_password_file` where it is given. No error names the URL, which may hold a
/// password.
fn relay(config: &Config) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let text = config.smtp_url.as_deref().ok_or_else(|| {
        setting(
            "smtp_url",
            "mail_transport = \"smtp\" needs the relay, e.g. smtps://user@host:465",
        )
    })?;
    let url = Url::parse(text).map_err(|error| setting("smtp_url", error.to_string()))?;
    let tls = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let encrypted = match (url.scheme(), tls.as_deref()) {
        ("smtps", _) | ("smtp", Some("required")) => true,
        // Opportunistic STARTTLS falls back to plain text for anyone in between.
        ("smtp", None | Some("opportunistic")) => false,
        _ => {
            return Err(setting(
                "smtp_url",
                "use smtps://host:465, smtp://host:587?tls=required, or plain smtp:// to this machine",
            ));
        }
    };
    if !encrypted && !on_this_machine(&url) {
        return Err(setting(
            "smtp_url",
            "plain smtp:// only to a relay on this machine (127.0.0.1, ::1, localhost); \
             use smtps:// or ?tls=required",
        ));
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(text)
        .map_err(|error| setting("smtp_url", error.to_string()))?
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(file) = &config.smtp_password_file {
        if url.password().is_some() {
            return Err(setting(
                "smtp_password_file",
                "smtp_url holds a password too; give it in one place",
            ));
        }
        if url.username().is_empty() {
            return Err(setting(
                "smtp_password_file",
                "smtp_url names no user (smtps://user@host)",
            ));
        }
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8()
            .map_err(|_| setting("smtp_url", "the user is not UTF-8"))?
            .into_owned();
        let text = std::fs::read_to_string(file).map_err(|error| {
            setting(
                "smtp_password_file",
                format!("cannot read {}: {error}", file.display()),
            )
        })?;
        let password = text.lines().next().unwrap_or_default();
        if password.is_empty() {
            return Err(setting(
                "smtp_password_file",
                format!("{} holds no password on its first line", file.display()),
            ));
        }
        builder = builder.credentials(Credentials::new(user, password.to_owned()));
    }
    Ok(builder.build())
}

fn on_this_machine(url: &Url) -> bool {
    match url.host() {
        // `smtp:` is no scheme the URL standard knows, so its IPv4 hosts stay text.
        Some(Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// `noreply@` the host people reach the server at, for pickup files when `mail_from`
/// is not set (the site's own mail system may rewrite it).
fn default_sender(config: &Config) -> Mailbox {
    let host = Url::parse(&config.public_base_url())
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    host.and_then(|host| format!("noreply@{host}").parse().ok())
        // `noreply@localhost` is a valid address: nothing to check.
        .unwrap_or_else(|| {
            Mailbox::new(None, lettre::Address::new_dangerous("noreply", "localhost"))
        })
}
