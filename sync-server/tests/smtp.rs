//! Mail over SMTP to a real relay process: Python's aiosmtpd on 127.0.0.1
//! (`tests/smtp_relay.py`, Debian's `python3-aiosmtpd`, which `.ci/run` installs),
//! which writes every message it takes into a directory. The server runs in-process
//! with `mail_transport = "smtp"` and short waits; an admin writes a direct message
//! into a person's contact document over the sync protocol and staff send an
//! invitation, as the desktop client does. `cargo test -p sync-server smtp` runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use automerge::Automerge;
use automerge::sync;
use common::hostile::{self, Login, Raw};
use common::{Server, config};
use model::client_contact::{ClientContact, Delivery};
use model::client_record::{ClientRecord, Invitation, NewClient};
use model::{Document, DocumentId, Editor, NodeId, TenantId, UserId};
use sync_server::Config;
use sync_server::accounts::Role;
use sync_server::config::MailTransport;

const WAIT: Duration = Duration::from_secs(30);

const FROM: &str = "Beratungsstelle Süd <noreply@beratung.example.org>";

/// The Python that has aiosmtpd: Debian's own first (a pyenv or venv `python3` on the
/// path may lack Debian's packages).
fn python() -> &'static str {
    for python in ["/usr/bin/python3", "python3"] {
        let found = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if found {
            return python;
        }
    }
    panic!(
        "the SMTP tests need Python's aiosmtpd as a real mail relay: install it with \
         `apt-get install python3-aiosmtpd` (.ci/run does)"
    );
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The relay process; killed when dropped.
struct Relay {
    child: Child,
}

impl Relay {
    /// Starts aiosmtpd on `port`, writing what it takes into `dir`; returns once it
    /// listens.
    fn start(port: u16, dir: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_relay.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the relay starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the relay did not start");
        Self { child }
    }

    /// Gone at once, as a crashed relay is.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message the relay took, as `tests/smtp_relay.py` wrote it.
fn received(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        .collect()
}

/// Polls `check` until it holds; after [`WAIT`], fails with what its last `Err` said.
async fn until<F, T>(mut check: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(done) => return done,
            Err(why) => assert!(tokio::time::Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn smtp_config(dir: &tempfile::TempDir, port: u16, retry_seconds: u64) -> Config {
    Config {
        mail_transport: MailTransport::Smtp,
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_from: Some(FROM.into()),
        mail_backoff_seconds: 1,
        mail_retry_seconds: Some(retry_seconds),
        ..config(dir)
    }
}

fn email(address: &str) -> serde_json::Value {
    serde_json::json!({ "email": address })
}

fn editor(user: &str) -> Editor {
    Editor::with_stepping_clock(
        UserId::new(user),
        NodeId::new(format!("node-{user}")),
        1_000,
    )
}

/// An admin of tenant `t1`, signed in.
async fn admin(server: &Server) -> Login {
    server.account("t1", "chefin", Role::Admin);
    let (status, body) = server.login("chefin", common::PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    Login::parse(&body)
}

/// A person with the contact data `contact` (`{"email": …}` or `{"phone": …}`), as
/// "Klient:in anlegen" makes one: their record, synced to the server, and the contact
/// document the server creates.
async fn person(
    server: &Server,
    admin: &Login,
    seed: u8,
    contact: serde_json::Value,
) -> (DocumentId, DocumentId) {
    let record = DocumentId::from_bytes([seed; 16]);
    let mut doc = Document::<ClientRecord>::create_client(
        &mut editor("chefin"),
        &record,
        TenantId::new("t1"),
        NewClient {
            pseudonym: format!("Person {seed}"),
            ..NewClient::default()
        },
    )
    .unwrap()
    .into_automerge();
    let id = record.to_string();
    let (status, body) = hostile::register_record(server.addr, &admin.token, &id, &doc).await;
    assert_eq!(status, 201, "{body}");
    let mut raw = Raw::connect(server.addr, &admin.token, &admin.peer_id)
        .await
        .unwrap();
    assert!(
        raw.sync_doc(&id, &mut doc, &mut sync::State::new(), WAIT)
            .await
    );
    let (status, body) = server
        .request(
            "PUT",
            &format!("/api/clients/{id}/contact"),
            Some(&admin.token),
            &contact.to_string(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let contact = body["contact_id"].as_str().unwrap().parse().unwrap();
    (record, contact)
}

/// "Einladung versenden".
async fn invite(server: &Server, admin: &Login, record: DocumentId) {
    let (status, body) = server
        .request(
            "POST",
            &format!("/api/clients/{record}/invitation"),
            Some(&admin.token),
            "",
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

/// "Direkt-Nachricht": the admin's client writes it into the contact document and
/// syncs it; the server queues it when it settles the document.
async fn direct_message(
    server: &Server,
    admin: &Login,
    contact: DocumentId,
    subject: &str,
    text: &str,
) {
    let id = contact.to_string();
    let mut raw = Raw::connect(server.addr, &admin.token, &admin.peer_id)
        .await
        .unwrap();
    let mut state = sync::State::new();
    let mut doc = Automerge::new();
    assert!(raw.sync_doc(&id, &mut doc, &mut state, WAIT).await);
    let mut typed = Document::<ClientContact>::load(&doc.save()).unwrap();
    typed
        .send_direct_message(&mut editor("chefin"), subject, text)
        .unwrap();
    let mut doc = typed.into_automerge();
    assert!(raw.sync_doc(&id, &mut doc, &mut state, WAIT).await);
}

/// The delivery of the only direct message in `contact`, as the server holds it (and
/// every admin's client receives it).
async fn delivery(server: &Server, contact: DocumentId) -> Option<Delivery> {
    let read: ClientContact = server.state.author.read(contact).await.ok()?;
    read.direct_messages.values().next().map(|m| m.delivery)
}

/// Where the invitation stands, as the server holds the record.
async fn invitation(server: &Server, record: DocumentId) -> Option<Invitation> {
    let read: ClientRecord = server.state.author.read(record).await.ok()?;
    read.account.invitation()
}

/// A row of the mail queue.
#[derive(Debug)]
struct Row {
    /// The record an invitation is for, or the contact document of a direct message.
    doc: String,
    attempts: i64,
    sent: bool,
    failed: bool,
    /// Recipient, subject and body, run together.
    personal: String,
}

fn queue(server: &Server) -> Vec<Row> {
    let conn = rusqlite::Connection::open(server.state.config.database_path()).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT doc, attempts, sent_ms IS NOT NULL, failed_ms IS NOT NULL,
                    recipient || subject || body
             FROM mail_queue ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([], |r| {
            Ok(Row {
                doc: r.get(0)?,
                attempts: r.get(1)?,
                sent: r.get(2)?,
                failed: r.get(3)?,
                personal: r.get(4)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_invitations_and_direct_messages_arrive_with_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let port = free_port();
    let _relay = Relay::start(port, inbox.path());
    let server = Server::start(&smtp_config(&dir, port, 600)).await;
    let admin = admin(&server).await;
    let (record, contact) = person(&server, &admin, 1, email("mia@example.org")).await;

    invite(&server, &admin, record).await;
    let subject = "Ihre Unterlagen für den Antrag auf Förderung – bitte bis Freitag zurückschicken";
    direct_message(
        &server,
        &admin,
        contact,
        subject,
        "Hallo Mia,\nder Termin ist um 10:00 Uhr – bitte pünktlich.",
    )
    .await;
    let mail = until(|| async {
        match received(inbox.path()) {
            mail if mail.len() == 2 => Ok(mail),
            mail => Err(format!("{} of 2 messages arrived", mail.len())),
        }
    })
    .await;

    for message in &mail {
        assert_eq!(message["mail_from"], "noreply@beratung.example.org");
        assert_eq!(message["rcpt_tos"], serde_json::json!(["mia@example.org"]));
        let headers = &message["headers"];
        assert_eq!(headers["From"], FROM, "decoded as a mail program shows it");
        assert_eq!(headers["To"], "mia@example.org");
        assert_eq!(headers["MIME-Version"], "1.0");
        let head = message["head"].as_str().unwrap();
        assert!(
            head.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"),
            "{head}"
        );
        let date = headers["Date"].as_str().unwrap();
        assert!(date.ends_with(" +0000"), "{date}");
        let id = headers["Message-ID"].as_str().unwrap();
        let (local, domain) = id
            .strip_prefix('<')
            .and_then(|id| id.strip_suffix('>'))
            .and_then(|id| id.split_once('@'))
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(domain, "beratung.example.org");
        assert!(
            local.len() == 32 && local.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        for line in head.split("\r\n") {
            assert!(line.len() <= 78 && line.is_ascii(), "{line}");
        }
    }
    let invitation_mail = mail
        .iter()
        .find(|m| m["headers"]["Subject"] == "Einladung: Passwort festlegen")
        .expect("the invitation");
    let text = invitation_mail["text"].as_str().unwrap();
    assert!(
        text.starts_with("Guten Tag,\n\nSie wurden eingeladen, sich ein Passwort für Ihren Zugang"),
        "{text}"
    );
    assert!(text.contains("/invitation/"), "the link: {text}");
    let message = mail
        .iter()
        .find(|m| m["headers"]["Subject"] == subject)
        .expect("the direct message, its subject decoded");
    let head = message["head"].as_str().unwrap();
    assert!(
        head.contains("\r\nSubject: Ihre Unterlagen =?utf-8?b?"),
        "encoded: {head}"
    );
    assert!(head.contains("\r\n =?utf-8?b?"), "folded: {head}");
    assert_eq!(
        message["text"].as_str().unwrap().trim_end(),
        "Hallo Mia,\nder Termin ist um 10:00 Uhr – bitte pünktlich."
    );
    assert_ne!(
        mail[0]["headers"]["Message-ID"], mail[1]["headers"]["Message-ID"],
        "one id per message"
    );

    until(|| async {
        match (
            delivery(&server, contact).await,
            invitation(&server, record).await,
        ) {
            (Some(Delivery::Sent), Some(Invitation::Sent)) => Ok(()),
            other => Err(format!("shown as {other:?}")),
        }
    })
    .await;
    for row in queue(&server) {
        assert!(row.sent && !row.failed && row.attempts == 1, "{row:?}");
        assert_eq!(row.personal, "", "nothing personal stays once sent");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_messages_wait_while_the_relay_is_down_and_arrive_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let port = free_port();
    // The relay is down from the start.
    let server = Server::start(&smtp_config(&dir, port, 600)).await;
    let admin = admin(&server).await;
    let (record, contact) = person(&server, &admin, 2, email("mia@example.org")).await;
    invite(&server, &admin, record).await;
    direct_message(&server, &admin, contact, "Termin", "Um 10 Uhr.").await;
    // A text message does not wait for the mail relay: it is a pickup file either way.
    let phone = serde_json::json!({ "phone": "+49 30 1234567" });
    let (_, texted) = person(&server, &admin, 5, phone).await;
    direct_message(&server, &admin, texted, "Termin", "Um 11 Uhr.").await;

    // Tried more than once (after a second, then two), and still waiting: in the
    // queue, and for everyone who looks.
    let emails = |server: &Server| -> Vec<Row> {
        let texted = texted.to_string();
        queue(server)
            .into_iter()
            .filter(|row| row.doc != texted)
            .collect()
    };
    until(|| async {
        let queue = emails(&server);
        match queue.iter().map(|row| row.attempts).min() {
            Some(attempts) if queue.len() == 2 && attempts >= 2 => Ok(()),
            _ => Err(format!("not retried: {queue:?}")),
        }
    })
    .await;
    for row in emails(&server) {
        assert!(!row.sent && !row.failed, "{row:?}");
        assert_ne!(row.personal, "", "kept while it waits");
    }
    until(|| async {
        match delivery(&server, texted).await {
            Some(Delivery::Sent) => Ok(()),
            other => Err(format!("the text message is {other:?}")),
        }
    })
    .await;
    let sms: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(sms, ["+49 30 1234567\nUm 11 Uhr.\n"]);
    assert_eq!(delivery(&server, contact).await, Some(Delivery::Queued));
    assert_eq!(invitation(&server, record).await, Some(Invitation::Queued));
    assert!(received(inbox.path()).is_empty());

    // Back: the next retry delivers both.
    let relay = Relay::start(port, inbox.path());
    until(|| async {
        match received(inbox.path()).len() {
            2 => Ok(()),
            n => Err(format!(
                "{n} of 2 messages arrived after the relay came back"
            )),
        }
    })
    .await;
    until(|| async {
        match (
            delivery(&server, contact).await,
            invitation(&server, record).await,
        ) {
            (Some(Delivery::Sent), Some(Invitation::Sent)) => Ok(()),
            other => Err(format!("shown as {other:?}")),
        }
    })
    .await;

    // Down again, and invited once more: the record says the new invitation waits,
    // whatever came of the first.
    relay.kill();
    invite(&server, &admin, record).await;
    until(|| async {
        match invitation(&server, record).await {
            Some(Invitation::Queued) => Ok(()),
            other => Err(format!("shown as {other:?}")),
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_messages_the_relay_never_takes_fail_and_leave_nothing_personal() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let port = free_port();
    let _relay = Relay::start(port, inbox.path());
    // Given up three seconds after queuing.
    let server = Server::start(&smtp_config(&dir, port, 3)).await;
    let admin = admin(&server).await;
    // The relay answers 452 for this mailbox, every time: tried until the retry
    // period is over, then failed.
    let (full, full_contact) = person(&server, &admin, 3, email("voll@example.org")).await;
    // And 550 for this one: failed at the first answer.
    let (unknown, _) = person(&server, &admin, 4, email("unbekannt@example.org")).await;
    invite(&server, &admin, full).await;
    direct_message(&server, &admin, full_contact, "Termin", "Um 10 Uhr.").await;
    invite(&server, &admin, unknown).await;

    until(|| async {
        match (
            delivery(&server, full_contact).await,
            invitation(&server, full).await,
            invitation(&server, unknown).await,
        ) {
            (Some(Delivery::Failed), Some(Invitation::Failed), Some(Invitation::Failed)) => Ok(()),
            other => Err(format!("shown as {other:?}")),
        }
    })
    .await;
    let queue = queue(&server);
    assert_eq!(queue.len(), 3);
    for row in &queue {
        assert!(!row.sent && row.failed, "{row:?}");
        assert_eq!(row.personal, "", "nothing personal stays once failed");
        if row.doc == unknown.to_string() {
            assert_eq!(row.attempts, 1, "550: failed at once: {row:?}");
        } else {
            assert!(
                row.attempts > 1,
                "452: retried until the period was over: {row:?}"
            );
        }
    }
    assert!(received(inbox.path()).is_empty());
    server.stop().await;
}
