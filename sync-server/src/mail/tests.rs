//! Tests of `mail`: the queue over the pickup directory, retries, and the settings that
//! refuse to start. The SMTP relay itself is in `tests/smtp.rs`.

use super::*;

fn config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_owned(),
        mail_from: Some("Beratungsstelle Süd <noreply@beratung.example.org>".into()),
        ..Config::default()
    }
}

fn open(config: &Config) -> Arc<Mail> {
    Arc::new(
        Mail::open(
            crate::db::open(&config.data_dir.join("db.sqlite")).unwrap(),
            config,
        )
        .unwrap(),
    )
}

fn message(key: &str) -> Outgoing {
    Outgoing {
        key: key.into(),
        channel: Channel::Email,
        recipient: "mia@example.org".into(),
        subject: "Termin am Dienstag – Änderung".into(),
        body: "Hallo Mia,\nder Termin ist um 10:00 Uhr.".into(),
        about: Some(About::DirectMessage(DirectMessage {
            contact: DocumentId::from_bytes([7; 16]),
            message: "1".into(),
        })),
    }
}

/// Recipient, subject and body of every row, run together.
fn personal(mail: &Mail) -> String {
    mail.conn()
        .query_row(
            "SELECT group_concat(recipient || subject || body, '') FROM mail_queue",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap()
        .unwrap_or_default()
}

fn never() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    std::mem::forget(stop);
    stopped
}

#[tokio::test]
async fn a_message_is_queued_once_and_nothing_personal_stays_after_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let mail = open(&config(dir.path()));
    let message = message("dm:doc:1");
    assert!(mail.queue(&message).unwrap());
    assert!(!mail.queue(&message).unwrap(), "the same key again");
    assert_eq!(mail.state("dm:doc:1").unwrap(), Some(State::Waiting));
    assert_eq!(mail.state("dm:doc:2").unwrap(), None);
    let outcomes = mail.deliver_due(&mut never()).await.unwrap();
    assert_eq!(
        outcomes,
        vec![Outcome {
            about: message.about.clone().unwrap(),
            queued_ms: outcomes[0].queued_ms,
            sent: true,
        }]
    );
    assert_eq!(mail.state("dm:doc:1").unwrap(), Some(State::Sent));
    assert!(
        mail.deliver_due(&mut never()).await.unwrap().is_empty(),
        "delivered once"
    );
    let files: Vec<_> = std::fs::read_dir(mail.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("\r\nTo: mia@example.org\r\n"), "{text}");
    assert!(
        text.contains("\r\nSubject: Termin am Dienstag =?utf-8?b?"),
        "{text}"
    );
    assert_eq!(personal(&mail), "", "nothing personal stays in the queue");
}

#[test]
fn the_email_has_every_header_and_a_folded_encoded_subject() {
    let dir = tempfile::tempdir().unwrap();
    let mail = open(&config(dir.path()));
    let mut outgoing = message("dm:doc:1");
    outgoing.subject =
        "Ihre Unterlagen für den Antrag auf Förderung – bitte bis Freitag zurückschicken".into();
    outgoing.body = format!(
        "Guten Tag,\n\n{}\n",
        "Die Unterlagen für die Förderung liegen bei. ".repeat(8)
    );
    let queued = Queued {
        id: 1,
        created_ms: 1_700_000_000_000,
        attempts: 0,
        message: outgoing,
    };
    let email = mail.transport.email(&queued).unwrap();
    let text = String::from_utf8(email.formatted()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("From: =?utf-8?"), "{head}");
    assert!(head.contains("<noreply@beratung.example.org>"), "{head}");
    assert!(head.contains("\r\nTo: mia@example.org\r\n"), "{head}");
    assert!(
        head.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000"),
        "{head}"
    );
    let id = format!(
        "Message-ID: <{}@beratung.example.org>",
        &hex::encode(ring::digest::digest(&ring::digest::SHA256, b"dm:doc:1"))[..32]
    );
    assert!(head.contains(&id), "the same id at every attempt: {head}");
    assert!(head.contains("MIME-Version: 1.0"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("Content-Transfer-Encoding: quoted-printable"),
        "{head}"
    );
    assert!(
        head.contains("\r\nSubject: Ihre Unterlagen =?utf-8?b?")
            && head.contains("\r\n =?utf-8?b?"),
        "encoded and folded: {head}"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 78, "a line over 78 characters: {line}");
        assert!(line.is_ascii(), "{line}");
    }
    assert!(
        body.starts_with("Guten Tag,\r\n\r\nDie Unterlagen f=C3=BCr die F=C3=B6rderung"),
        "{body}"
    );
    assert!(body.contains("=\r\n"), "soft line breaks: {body}");
    let mut nobody = queued.clone();
    nobody.message.recipient = "kein-at-zeichen".into();
    assert!(mail.transport.email(&nobody).is_none());
}

#[tokio::test]
async fn a_message_that_cannot_go_waits_longer_each_time_then_fails_and_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.mail_backoff_seconds = 30;
    // The pickup directory cannot be made: a file is in its place.
    std::fs::write(dir.path().join("outbox"), b"").unwrap();
    let mail = open(&config);
    mail.queue(&message("dm:doc:1")).unwrap();
    assert!(mail.deliver_due(&mut never()).await.unwrap().is_empty());
    assert_eq!(mail.state("dm:doc:1").unwrap(), Some(State::Waiting));
    let (attempts, next, created): (i64, i64, i64) = mail
        .conn()
        .query_row(
            "SELECT attempts, next_attempt_ms, created_ms FROM mail_queue",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(attempts, 1);
    assert!(next >= created + 30_000, "waits the first wait");
    assert!(
        mail.deliver_due(&mut never()).await.unwrap().is_empty(),
        "not due yet"
    );
    assert_ne!(personal(&mail), "", "kept while it waits");

    let retries = Retries::new(&config);
    let waits: Vec<u64> = (1..=9).map(|n| retries.wait_after(n).as_secs()).collect();
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
    assert_eq!(retries.give_up_after, Duration::from_secs(3 * 24 * 3600));
    assert_eq!(retries.wait_after(u32::MAX).as_secs(), 1800);

    // Past the retry period: the next failed attempt gives it up.
    config.mail_retry_seconds = Some(0);
    let impatient = open(&config);
    impatient
        .conn()
        .execute("UPDATE mail_queue SET next_attempt_ms = 0", [])
        .unwrap();
    let outcomes = impatient.deliver_due(&mut never()).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(!outcomes[0].sent);
    assert_eq!(impatient.state("dm:doc:1").unwrap(), Some(State::Failed));
    assert_eq!(
        personal(&impatient),
        "",
        "nothing personal stays after failing"
    );
}

#[tokio::test]
async fn a_message_to_no_address_fails_at_once_and_a_text_message_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mail = open(&config(dir.path()));
    let mut nobody = message("dm:doc:1");
    nobody.recipient = "kein-at-zeichen".into();
    mail.queue(&nobody).unwrap();
    let sms = Outgoing {
        key: "dm:doc:2".into(),
        channel: Channel::Sms,
        recipient: "+49 30 1234567".into(),
        subject: String::new(),
        body: "Termin um 10 Uhr".into(),
        about: None,
    };
    mail.queue(&sms).unwrap();
    let outcomes = mail.deliver_due(&mut never()).await.unwrap();
    assert_eq!(outcomes.len(), 1, "the text message is shown nowhere");
    assert!(!outcomes[0].sent);
    assert_eq!(mail.state("dm:doc:1").unwrap(), Some(State::Failed));
    assert_eq!(mail.state("dm:doc:2").unwrap(), Some(State::Sent));
    let sms = std::fs::read_dir(mail.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sms"))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(sms).unwrap(),
        "+49 30 1234567\nTermin um 10 Uhr\n"
    );
    assert_eq!(personal(&mail), "");
}

#[test]
fn mail_settings_that_cannot_work_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("smtp-password");
    std::fs::write(&password, "geheim\n").unwrap();
    let smtp = |url: &str| Config {
        mail_transport: crate::config::MailTransport::Smtp,
        smtp_url: Some(url.into()),
        ..config(dir.path())
    };
    let check = |config: Config, refused: Option<&str>| {
        let result = Transport::new(&config);
        match refused {
            None => assert!(result.is_ok(), "{:?}", result.err()),
            Some(key) => {
                let error = result.expect_err("refused").to_string();
                assert!(error.starts_with(key), "{error}");
                assert!(!error.contains("geheim"), "no password in an error");
            }
        }
    };
    check(
        smtp("smtps://noreply%40example.org@mail.example.org:465"),
        None,
    );
    check(smtp("smtp://mail.example.org:587?tls=required"), None);
    check(smtp("smtp://127.0.0.1:2525"), None);
    check(smtp("smtp://[::1]:25"), None);
    check(smtp("smtp://localhost"), None);
    check(smtp("smtp://mail.example.org:25"), Some("smtp_url"));
    check(
        smtp("smtp://mail.example.org:25?tls=opportunistic"),
        Some("smtp_url"),
    );
    check(smtp("imap://mail.example.org"), Some("smtp_url"));
    check(smtp("kein url"), Some("smtp_url"));
    check(
        Config {
            smtp_url: None,
            ..smtp("")
        },
        Some("smtp_url"),
    );
    check(
        Config {
            mail_from: None,
            ..smtp("smtps://mail.example.org")
        },
        Some("mail_from"),
    );
    check(
        Config {
            mail_from: Some("kein absender".into()),
            ..config(dir.path())
        },
        Some("mail_from"),
    );
    let with_file = |url: &str| Config {
        smtp_password_file: Some(password.clone()),
        ..smtp(url)
    };
    check(
        with_file("smtps://noreply%40example.org@mail.example.org"),
        None,
    );
    check(
        with_file("smtps://user:geheim@mail.example.org"),
        Some("smtp_password_file"),
    );
    check(
        with_file("smtps://mail.example.org"),
        Some("smtp_password_file"),
    );
    check(
        Config {
            smtp_password_file: Some(dir.path().join("missing")),
            ..with_file("smtps://user@mail.example.org")
        },
        Some("smtp_password_file"),
    );
}

#[test]
fn without_a_sender_pickup_files_come_from_the_public_host() {
    let dir = tempfile::tempdir().unwrap();
    let sender = |public_url: Option<&str>| {
        let config = Config {
            mail_from: None,
            public_url: public_url.map(str::to_owned),
            ..config(dir.path())
        };
        Transport::new(&config).unwrap().from.to_string()
    };
    assert_eq!(
        sender(Some("https://beratung.example.org/")),
        "noreply@beratung.example.org"
    );
    assert_eq!(sender(None), "noreply@127.0.0.1");
}
