//! The outbound mail queue. What the server sends to people (direct messages and
//! invitations) goes into `mail_queue` in SQLite first, in the same step that decides to
//! send it, and a worker delivers it.
//!
//! Delivery is a pickup directory, `<data dir>/outbox/`: each message becomes one file,
//! written to a temporary name, synced and renamed, so a relay never sees half a message.
//! An e-mail is an RFC 5322 file (`.eml`) for the site's mail relay to pick up; an SMS is
//! a `.sms` file (first line the number, then the text) for its SMS gateway. Once a
//! message is delivered its recipient, subject and text are cleared from the queue: the
//! row keeps only that it was sent, so nothing personal stays behind.
//!
//! Direct messages are written by admins into the person's contact document (they work
//! offline). Settling such a document queues every message still marked `Queued`, keyed
//! by document and message id, so a message is queued once however often it syncs; after
//! delivery the server marks it `Sent` in the document.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use model::DocumentId;
use model::client_contact::{ClientContact, ContactChannel, Delivery};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{Notify, watch};

use crate::accounts::now_ms;
use crate::authoring::Author;

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
    /// The direct message this is, to mark it sent once delivered.
    pub direct_message: Option<DirectMessage>,
}

/// A direct message in a person's contact document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    /// The contact document that holds it.
    pub contact: DocumentId,
    /// Its id there.
    pub message: String,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("key", &self.key)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot write to the outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

/// The queue and its outbox.
#[derive(Debug)]
pub struct Mail {
    conn: Mutex<Connection>,
    outbox: PathBuf,
    queued: Notify,
}

impl Mail {
    pub fn new(conn: Connection, data_dir: &Path) -> Self {
        Self {
            conn: Mutex::new(conn),
            outbox: data_dir.join("outbox"),
            queued: Notify::new(),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn outbox(&self) -> &Path {
        &self.outbox
    }

    /// Queues a message; `false` when its key was queued before.
    pub fn queue(&self, message: &Outgoing) -> Result<bool, MailError> {
        let (doc, id) = message
            .direct_message
            .as_ref()
            .map(|dm| (dm.contact.to_string(), &dm.message))
            .unzip();
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO mail_queue
                 (key, created_ms, channel, recipient, subject, body, doc, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                message.key,
                now_ms() as i64,
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

    /// Messages waiting, oldest first.
    fn waiting(&self) -> Result<Vec<(i64, Outgoing)>, MailError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, key, channel, recipient, subject, body, doc, message FROM mail_queue
             WHERE sent_ms IS NULL ORDER BY id LIMIT 100",
        )?;
        let rows = statement.query_map([], |r| {
            let channel = match r.get::<_, String>(2)?.as_str() {
                "sms" => Channel::Sms,
                _ => Channel::Email,
            };
            let doc: Option<String> = r.get(6)?;
            let message: Option<String> = r.get(7)?;
            Ok((
                r.get(0)?,
                Outgoing {
                    key: r.get(1)?,
                    channel,
                    recipient: r.get(3)?,
                    subject: r.get(4)?,
                    body: r.get(5)?,
                    direct_message: doc
                        .and_then(|doc| doc.parse().ok())
                        .zip(message)
                        .map(|(contact, message)| DirectMessage { contact, message }),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the message with `key` was delivered.
    pub fn delivered(&self, key: &str) -> Result<bool, MailError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sent_ms IS NOT NULL FROM mail_queue WHERE key = ?1",
                [key],
                |r| r.get::<_, bool>(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// Delivers every waiting message into the outbox; returns the direct messages among
    /// them, to be marked sent. A message that cannot be written stays waiting (and is logged) while the
    /// others go. A crash between writing a file and noting it sends that message again
    /// at the next start: delivery is at least once.
    pub fn deliver_waiting(&self) -> Result<Vec<DirectMessage>, MailError> {
        let mut delivered = Vec::new();
        for (id, message) in self.waiting()? {
            if let Err(error) = self.write(id, &message) {
                tracing::error!(id, %error, "a message cannot be written to the outbox");
                continue;
            }
            self.conn().execute(
                "UPDATE mail_queue SET sent_ms = ?2, recipient = '', subject = '', body = ''
                 WHERE id = ?1",
                params![id, now_ms() as i64],
            )?;
            delivered.extend(message.direct_message);
        }
        Ok(delivered)
    }

    fn write(&self, id: i64, message: &Outgoing) -> Result<(), MailError> {
        use std::io::Write as _;
        std::fs::create_dir_all(&self.outbox)?;
        let (extension, content) = match message.channel {
            Channel::Email => ("eml", email(message)),
            Channel::Sms => ("sms", format!("{}\n{}\n", message.recipient, message.body)),
        };
        let name = format!("{:012}.{extension}", id);
        let temporary = self.outbox.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, self.outbox.join(name))?;
        Ok(())
    }

    /// Waits until something is queued, or `at_most`.
    pub async fn wait(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.queued.notified()).await;
    }
}

/// An RFC 5322 message: UTF-8 headers encoded as RFC 2047 words, the body as 8bit text.
fn email(message: &Outgoing) -> String {
    let subject = if message.subject.is_ascii() {
        message.subject.clone()
    } else {
        format!("=?UTF-8?B?{}?=", BASE64.encode(message.subject.as_bytes()))
    };
    let date = chrono::Utc::now().to_rfc2822();
    format!(
        "To: {}\r\nSubject: {}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        message.recipient.replace(['\r', '\n'], ""),
        subject.replace(['\r', '\n'], ""),
        message.body.replace("\r\n", "\n").replace('\n', "\r\n"),
    )
}

/// The direct messages of a contact document still marked `Queued`: to queue (queuing
/// again changes nothing), or, where the queue already delivered one, to mark as sent
/// (the mark failed to reach the document before).
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
                direct_message: Some(DirectMessage {
                    contact: doc,
                    message: id.to_string(),
                }),
            })
        })
        .collect()
}

/// Delivers what is queued until `shutdown` turns true; marks delivered direct messages
/// in their contact documents as the server.
pub async fn run(mail: Arc<Mail>, author: Author, mut shutdown: watch::Receiver<bool>) {
    loop {
        let worker = mail.clone();
        let delivered = tokio::task::spawn_blocking(move || worker.deliver_waiting()).await;
        match delivered {
            Ok(Ok(delivered)) => {
                for DirectMessage { contact, message } in delivered {
                    let id = model::EntityId::new(message);
                    let marked = author
                        .edit(contact, |d: &mut model::Document<ClientContact>| {
                            d.set_delivery(&id, Delivery::Sent)
                        })
                        .await;
                    if marked.is_err() {
                        tracing::error!(document = %contact, "cannot mark a direct message as sent");
                    }
                }
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "the mail queue cannot deliver; it tries again");
            }
            Err(_) => tracing::error!("the mail queue's delivery stopped; it tries again"),
        }
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            () = mail.wait(Duration::from_secs(10)) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_queued_once_and_nothing_personal_stays_after_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let mail = Mail::new(
            crate::db::open(&dir.path().join("db.sqlite")).unwrap(),
            dir.path(),
        );
        let message = Outgoing {
            key: "dm:doc:1".into(),
            channel: Channel::Email,
            recipient: "mia@example.org".into(),
            subject: "Termin am Dienstag – Änderung".into(),
            body: "Hallo Mia,\nder Termin ist um 10:00 Uhr.".into(),
            direct_message: Some(DirectMessage {
                contact: DocumentId::from_bytes([7; 16]),
                message: "1".into(),
            }),
        };
        assert!(mail.queue(&message).unwrap());
        assert!(!mail.queue(&message).unwrap(), "the same key again");
        assert!(!mail.delivered("dm:doc:1").unwrap());
        let delivered = mail.deliver_waiting().unwrap();
        assert_eq!(
            delivered,
            vec![DirectMessage {
                contact: DocumentId::from_bytes([7; 16]),
                message: "1".to_owned()
            }]
        );
        assert!(mail.delivered("dm:doc:1").unwrap());
        assert!(mail.deliver_waiting().unwrap().is_empty(), "delivered once");
        let files: Vec<_> = std::fs::read_dir(mail.outbox())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.starts_with("To: mia@example.org\r\n"));
        assert!(text.contains("Subject: =?UTF-8?B?"));
        assert!(text.ends_with("der Termin ist um 10:00 Uhr.\r\n"));
        let conn = mail.conn();
        let kept: String = conn
            .query_row(
                "SELECT recipient || subject || body FROM mail_queue",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, "", "nothing personal stays in the queue");
    }
}
