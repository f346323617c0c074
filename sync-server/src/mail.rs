//! The outbound mail queue. What the server sends to people (direct messages and
//! invitations) goes into `mail_queue` in SQLite first, in the same step that decides to
//! send it, and a worker ([`run`]) delivers it through the [`transport`]: to the SMTP
//! relay at `smtp_url`, or into the pickup directory `<data dir>/outbox/` (`.eml` for
//! the site's own mail system; text messages always, as `.sms`, for its SMS gateway).
//!
//! While the relay cannot take a message, it waits: the first retry after
//! `mail_backoff_seconds`, each further wait twice as long, up to 30 minutes. A message
//! the relay refuses for good (a 5xx reply) fails at once; one it has not taken after
//! `mail_retry_days` fails then. Once a message is sent or failed, its recipient,
//! subject and text are cleared from the queue: the row keeps only its outcome, so
//! nothing personal stays behind. Delivery is at least once: a crash between handing a
//! message over and noting it sends it again at the next start, with the same
//! Message-ID.
//!
//! The outcome shows where staff look. Direct messages are written by admins into the
//! person's contact document (they work offline); settling such a document queues every
//! message still marked `Queued`, keyed by document and message id, so a message is
//! queued once however often it syncs, and the worker marks it `Sent` or `Failed` there.
//! An invitation's outcome goes into its client record's account state
//! (`invitation_sent_ms`, `invitation_failed_ms`), unless a later invitation was queued
//! since.

mod transport;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::client_contact::{ClientContact, ContactChannel, Delivery};
use model::client_record::ClientRecord;
use model::{Document, DocumentId, EntityId};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{Notify, watch};

use self::transport::{Attempt, Transport};
use crate::accounts::now_ms;
use crate::authoring::Author;
use crate::config::Config;

/// How a message reaches the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// One message to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Unique per message: queuing the same key again changes nothing.
    pub key: String,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Where its outcome is shown, if anywhere.
    pub about: Option<About>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("key", &self.key)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// What a message is, for showing its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    DirectMessage(DirectMessage),
    /// An invitation for the person of this client record.
    Invitation(DocumentId),
}

/// A direct message in a person's contact document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    /// The contact document that holds it.
    pub contact: DocumentId,
    /// Its id there.
    pub message: String,
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Waiting,
    Sent,
    Failed,
}

/// A message delivered or given up, to be shown where staff look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub about: About,
    /// When it was queued: an invitation's outcome counts only if no later one was.
    pub queued_ms: u64,
    pub sent: bool,
}

/// A row of the queue that is due.
#[derive(Debug, Clone)]
struct Queued {
    id: i64,
    created_ms: u64,
    attempts: u32,
    message: Outgoing,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{key} is not valid: {reason}")]
    Setting { key: &'static str, reason: String },
    #[error("the mail queue's blocking work stopped")]
    Stopped,
}

/// The longest wait between two attempts at a message.
const LONGEST_WAIT: Duration = Duration::from_secs(30 * 60);

/// How often the worker looks at the queue when nothing wakes it.
const IDLE: Duration = Duration::from_secs(10);

/// How many due messages one round takes on.
const ROUND: usize = 100;

/// When a message that could not go is tried again, and when it is given up.
#[derive(Debug, Clone, Copy)]
struct Retries {
    first_wait: Duration,
    give_up_after: Duration,
}

impl Retries {
    fn new(config: &Config) -> Self {
        let seconds = config
            .mail_retry_seconds
            .unwrap_or(config.mail_retry_days.saturating_mul(24 * 3600));
        Self {
            first_wait: Duration::from_secs(config.mail_backoff_seconds),
            give_up_after: Duration::from_secs(seconds),
        }
    }

    /// The wait after the `attempts`-th failed attempt (from 1): doubling, up to
    /// [`LONGEST_WAIT`] (or the first wait, if that is longer).
    fn wait_after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.first_wait
            .saturating_mul(factor)
            .min(LONGEST_WAIT.max(self.first_wait))
    }
}

/// The queue and where it delivers.
#[derive(Debug)]
pub struct Mail {
    conn: Mutex<Connection>,
    transport: Transport,
    retries: Retries,
    queued: Notify,
}

impl Mail {
    /// The queue on `conn`, delivering as `config` says; a mail setting that cannot work
    /// is an error here, at start.
    pub fn open(conn: Connection, config: &Config) -> Result<Self, MailError> {
        Ok(Self {
            conn: Mutex::new(conn),
            transport: Transport::new(config)?,
            retries: Retries::new(config),
            queued: Notify::new(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn outbox(&self) -> &Path {
        self.transport.outbox()
    }

    /// Queues a message; `false` when its key was queued before.
    pub fn queue(&self, message: &Outgoing) -> Result<bool, MailError> {
        let (doc, id) = match &message.about {
            Some(About::DirectMessage(dm)) => (Some(dm.contact.to_string()), Some(&dm.message)),
            Some(About::Invitation(record)) => (Some(record.to_string()), None),
            None => (None, None),
        };
        let now = now_ms() as i64;
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO mail_queue
                 (key, created_ms, channel, recipient, subject, body, doc, message,
                  next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?2)",
            params![
                message.key,
                now,
                message.channel.as_str(),
                message.recipient,
                message.subject,
                message.body,
                doc,
                id
            ],
        )? > 0;
        if added {
            self.queued.notify_one();
        }
        Ok(added)
    }

    /// Where the message with `key` stands; `None` if it was never queued.
    pub fn state(&self, key: &str) -> Result<Option<State>, MailError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sent_ms IS NOT NULL, failed_ms IS NOT NULL FROM mail_queue
                 WHERE key = ?1",
                [key],
                |r| Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?)),
            )
            .optional()?
            .map(|outcome| match outcome {
                (true, _) => State::Sent,
                (false, true) => State::Failed,
                (false, false) => State::Waiting,
            }))
    }

    /// Messages due at `now`, oldest first.
    fn due(&self, now: u64) -> Result<Vec<Queued>, MailError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, created_ms, attempts, key, channel, recipient, subject, body, doc,
                    message
             FROM mail_queue
             WHERE sent_ms IS NULL AND failed_ms IS NULL AND next_attempt_ms <= ?1
             ORDER BY id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now as i64, ROUND as i64], |r| {
            let channel = match r.get::<_, String>(4)?.as_str() {
                "sms" => Channel::Sms,
                _ => Channel::Email,
            };
            let doc: Option<DocumentId> = r
                .get::<_, Option<String>>(8)?
                .and_then(|doc| doc.parse().ok());
            let message: Option<String> = r.get(9)?;
            let about = match (doc, message) {
                (Some(contact), Some(message)) => {
                    Some(About::DirectMessage(DirectMessage { contact, message }))
                }
                (Some(record), None) => Some(About::Invitation(record)),
                (None, _) => None,
            };
            Ok(Queued {
                id: r.get(0)?,
                created_ms: r.get::<_, i64>(1)?.max(0) as u64,
                attempts: r.get::<_, i64>(2)?.clamp(0, i64::from(u32::MAX)) as u32,
                message: Outgoing {
                    key: r.get(3)?,
                    channel,
                    recipient: r.get(5)?,
                    subject: r.get(6)?,
                    body: r.get(7)?,
                    about,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Notes what an attempt at `queued` came to, at `now`: sent, failed (refused, or
    /// not taken within the retry period: both clear what is personal), or due again
    /// after a wait. The outcome, where it is final and shown somewhere.
    fn note(
        &self,
        queued: &Queued,
        attempt: Attempt,
        now: u64,
    ) -> Result<Option<Outcome>, MailError> {
        let attempts = queued.attempts.saturating_add(1);
        let given_up =
            now.saturating_sub(queued.created_ms) >= self.retries.give_up_after.as_millis() as u64;
        let sent = match attempt {
            Attempt::Delivered => Some(true),
            Attempt::Refused => Some(false),
            Attempt::Retry | Attempt::RelayDown if given_up => Some(false),
            Attempt::Retry | Attempt::RelayDown => None,
        };
        let conn = self.conn();
        match sent {
            Some(sent) => {
                let column = if sent { "sent_ms" } else { "failed_ms" };
                conn.execute(
                    &format!(
                        "UPDATE mail_queue SET {column} = ?2, attempts = ?3,
                             recipient = '', subject = '', body = ''
                         WHERE id = ?1"
                    ),
                    params![queued.id, now as i64, attempts],
                )?;
                if !sent {
                    tracing::warn!(id = queued.id, attempts, "a message was given up");
                }
            }
            None => {
                let next = now.saturating_add(self.retries.wait_after(attempts).as_millis() as u64);
                conn.execute(
                    "UPDATE mail_queue SET attempts = ?2, next_attempt_ms = ?3 WHERE id = ?1",
                    params![queued.id, attempts, next as i64],
                )?;
            }
        }
        Ok(sent.and_then(|sent| {
            queued.message.about.clone().map(|about| Outcome {
                about,
                queued_ms: queued.created_ms,
                sent,
            })
        }))
    }

    /// When the next waiting message is due, if any waits.
    fn next_due(&self) -> Result<Option<u64>, MailError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT MIN(next_attempt_ms) FROM mail_queue
             WHERE sent_ms IS NULL AND failed_ms IS NULL",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map(|at| at.max(0) as u64))
    }

    /// Tries every message that is due once (but no e-mail once the relay is down), and
    /// notes each attempt; stops early when `shutdown` turns true. Returns the outcomes
    /// to show.
    pub async fn deliver_due(
        self: &Arc<Self>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<Outcome>, MailError> {
        let due = self.blocking(move |mail| mail.due(now_ms())).await?;
        let mut outcomes = Vec::new();
        let mut relay_down = false;
        for queued in due {
            let attempt = if relay_down && self.transport.uses_relay(&queued) {
                Attempt::RelayDown
            } else {
                tokio::select! {
                    attempt = self.transport.deliver(&queued) => attempt,
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
            };
            relay_down |= attempt == Attempt::RelayDown;
            let id = queued.id;
            match self
                .blocking(move |mail| mail.note(&queued, attempt, now_ms()))
                .await
            {
                Ok(outcome) => outcomes.extend(outcome),
                // Due again at once: sent twice rather than lost.
                Err(error) => tracing::error!(id, %error, "cannot note a delivery attempt"),
            }
        }
        Ok(outcomes)
    }

    /// How long the worker may rest: until the next message is due, at most [`IDLE`].
    async fn rest(self: &Arc<Self>) -> Duration {
        let next = self.blocking(|mail| mail.next_due()).await;
        match next {
            Ok(Some(at)) => Duration::from_millis(at.saturating_sub(now_ms()))
                .clamp(Duration::from_millis(50), IDLE),
            Ok(None) | Err(_) => IDLE,
        }
    }

    /// Runs `work` on the queue off the async workers.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Mail) -> Result<T, MailError> + Send + 'static,
    ) -> Result<T, MailError> {
        let mail = self.clone();
        tokio::task::spawn_blocking(move || work(&mail))
            .await
            .map_err(|_| MailError::Stopped)?
    }

    /// Waits until something is queued, or `at_most`.
    pub async fn wait(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.queued.notified()).await;
    }
}

/// The direct messages of a contact document still marked `Queued`: to queue (queuing
/// again changes nothing), or, where the queue is done with one, to mark as sent or
/// failed (the mark did not reach the document before).
pub fn direct_messages(doc: DocumentId, contact: &ClientContact) -> Vec<Outgoing> {
    contact
        .direct_messages
        .iter()
        .filter(|(_, m)| m.delivery == Delivery::Queued)
        .filter_map(|(id, m)| {
            let (channel, recipient) = match m.channel {
                ContactChannel::Email => (Channel::Email, contact.email.clone()?),
                ContactChannel::Sms => (Channel::Sms, contact.phone.clone()?),
                ContactChannel::None => return None,
            };
            Some(Outgoing {
                key: format!("dm:{doc}:{id}"),
                channel,
                recipient,
                subject: m.subject.clone(),
                body: m.text.clone(),
                about: Some(About::DirectMessage(DirectMessage {
                    contact: doc,
                    message: id.to_string(),
                })),
            })
        })
        .collect()
}

/// Delivers what is due until `shutdown` turns true, and shows each outcome where staff
/// look, as the server.
pub async fn run(mail: Arc<Mail>, author: Author, mut shutdown: watch::Receiver<bool>) {
    loop {
        match mail.deliver_due(&mut shutdown).await {
            Ok(outcomes) => {
                for outcome in outcomes {
                    show(&author, outcome).await;
                }
            }
            Err(error) => tracing::error!(%error, "the mail queue cannot deliver; it tries again"),
        }
        if *shutdown.borrow() {
            return;
        }
        let rest = mail.rest().await;
        tokio::select! {
            () = mail.wait(rest) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Writes a message's outcome into its document: a direct message's delivery, or an
/// invitation's in its record's account state (only the latest invitation's counts).
async fn show(author: &Author, outcome: Outcome) {
    let Outcome {
        about,
        queued_ms,
        sent,
    } = outcome;
    let (document, shown) = match about {
        About::DirectMessage(DirectMessage { contact, message }) => {
            let id = EntityId::new(message);
            let delivery = if sent {
                Delivery::Sent
            } else {
                Delivery::Failed
            };
            let shown = author
                .edit(contact, |d: &mut Document<ClientContact>| {
                    d.set_delivery(&id, delivery)
                })
                .await;
            (contact, shown)
        }
        About::Invitation(record) => {
            let now = now_ms();
            let shown = author
                .edit(record, |d: &mut Document<ClientRecord>| {
                    let mut account = d.read()?.account;
                    if account
                        .invitation_queued_ms
                        .is_some_and(|latest| latest > queued_ms)
                    {
                        return Ok(());
                    }
                    if sent {
                        account.invitation_sent_ms = Some(now);
                    } else {
                        account.invitation_failed_ms = Some(now);
                    }
                    d.set_account_state(&account)
                })
                .await;
            (record, shown)
        }
    };
    if shown.is_err() {
        tracing::error!(%document, sent, "cannot show a message's outcome in its document");
    }
}

#[cfg(test)]
mod tests;
