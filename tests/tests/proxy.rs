//! The server behind a real nginx that terminates TLS, as README tells IT to run it:
//! nginx (Debian's package; `.ci/run` installs it) with a certificate of a CA made for
//! the test, in front of the real `sync-server` binary with `trusted_proxies`. Clients
//! come from several loopback addresses (127.0.0.2, .3, …), so the server must tell them
//! apart by what the proxy forwards, never by the proxy's own address.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../sync-server/tests/common/pki.rs"]
mod pki;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client_app::Workspace;
use client_app::tls::ConnectionSettings;
use client_app::workspace::{MemberQuery, SignIn};
use common::{Server, all_synced, until};
use pki::Certificates;

/// The names the test certificates are for.
const LOOPBACK: &[&str] = &["127.0.0.1", "localhost"];
use model::client_record::NewClient;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real nginx terminating TLS on 127.0.0.1 and proxying to `upstream`, configured as
/// README shows (websocket upgrade, `X-Forwarded-For`).
struct Nginx {
    port: u16,
    child: Child,
}

impl Nginx {
    fn start(dir: &Path, certificates: &Certificates, upstream: SocketAddr) -> Self {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("nginx is not installed: `apt-get install nginx` (.ci/run does)");
        let port = free_port();
        // As root, nginx's workers would otherwise run as nobody, who cannot read here.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        let user = if root { "user root;" } else { "" };
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(dir.join(temp)).unwrap();
        }
        let d = dir.display();
        let config = format!(
            "{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size 32m;
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
        }}
    }}
}}
",
            cert = certificates.cert.display(),
            key = certificates.key.display(),
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(nginx)
            .args(["-p", &dir.display().to_string(), "-c"])
            .arg(&conf)
            .args(["-e", &format!("{d}/error.log")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Self { port, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs in through nginx over TLS (trusting only the test's CA) from the loopback
/// address `from`; the HTTP status of each of `passwords`, tried one after the other on
/// one connection.
fn logins(nginx: &Nginx, ca: &Path, from: &str, login: &str, passwords: &[&str]) -> Vec<u16> {
    const SCRIPT: &str = r#"
import http.client, json, ssl, sys
port, ca, source, login = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca)
connection = http.client.HTTPSConnection(
    "127.0.0.1", port, context=context, source_address=(source, 0), timeout=60)
# A client may send a Forwarded header of its own: it must count for nothing.
headers = {"Content-Type": "application/json", "Forwarded": "for=192.0.2.99"}
for password in sys.argv[5:]:
    body = json.dumps({"login": login, "password": password})
    connection.request("POST", "/api/login", body, headers)
    answer = connection.getresponse()
    answer.read()
    print(answer.status)
"#;
    let output = Command::new("python3")
        .args(["-c", SCRIPT, &nginx.port.to_string()])
        .arg(ca)
        .args([from, login])
        .args(passwords)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.trim().parse().unwrap())
        .collect()
}

/// The server's access log, as IT reads it.
fn access_log(server: &Server) -> String {
    let out = server
        .command()
        .args(["admin", "access-log"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn behind_nginx_every_client_address_counts_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = pki::certificates(dir.path(), LOOPBACK, false);
    let server_dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(server_dir.path());
    let password = server.account("anna", "counsellor");
    server.extra_env = vec![
        ("SYNC_SERVER_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
        // One free failure per login and address, so the second one shows the delay.
        ("SYNC_SERVER_LOGIN_FAILURES_BEFORE_DELAY".into(), "1".into()),
    ];
    server.start();
    let proxy_dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(proxy_dir.path(), &certificates, server.addr);

    // Someone at .2 guesses twice: the second guess must wait.
    let at_two = logins(
        &nginx,
        &certificates.ca,
        "127.0.0.2",
        "anna",
        &["Falsch1!", "Falsch2!"],
    );
    assert_eq!(at_two, vec![401, 429], "the second guess from .2 waits");
    // A colleague's typo at .3 is not held up by it: each address counts on its own
    // (without the forwarded address both would be the proxy, 127.0.0.1).
    assert_eq!(
        logins(
            &nginx,
            &certificates.ca,
            "127.0.0.3",
            "anna",
            &["Tippfehler1!"]
        ),
        vec![401]
    );
    // And anna herself gets in from .4.
    assert_eq!(
        logins(
            &nginx,
            &certificates.ca,
            "127.0.0.4",
            "anna",
            &[password.as_str()]
        ),
        vec![200]
    );

    let log = access_log(&server);
    for address in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        assert!(
            log.contains(&format!("\t{address}\t")),
            "{address} in {log}"
        );
    }
    assert!(
        !log.contains("\t127.0.0.1\t"),
        "the proxy's own address is nobody's: {log}"
    );
    assert!(
        !log.contains("192.0.2.99"),
        "a client's own Forwarded header names nobody: {log}"
    );
    assert!(nginx.url().starts_with("https://"));
}

/// The desktop client's library through nginx: https:// for its calls, wss:// for the
/// sync, trusting the organisation's CA.
fn sign_in_through(nginx: &Nginx, ca: &Path, dir: &Path, login: &str, password: &str) -> Workspace {
    Workspace::sign_in(&SignIn {
        data_dir: dir.to_owned(),
        server: nginx.url(),
        login: login.into(),
        password: password.into(),
        iterations: std::num::NonZeroU32::new(1_000).unwrap(),
        connection: ConnectionSettings {
            ca_file: Some(ca.to_owned()),
            allow_unencrypted: false,
        },
    })
    .unwrap()
}

#[test]
fn the_desktop_client_signs_in_and_syncs_through_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = pki::certificates(dir.path(), LOOPBACK, false);
    let server_dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(server_dir.path());
    let anna_password = server.account("anna", "counsellor");
    let ben_password = server.account("ben", "counsellor");
    server.extra_env = vec![("SYNC_SERVER_TRUSTED_PROXIES".into(), "127.0.0.1".into())];
    server.start();
    let proxy_dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(proxy_dir.path(), &certificates, server.addr);

    let (anna_dir, ben_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut anna = sign_in_through(
        &nginx,
        &certificates.ca,
        anna_dir.path(),
        "anna",
        &anna_password,
    );
    let mut ben = sign_in_through(
        &nginx,
        &certificates.ca,
        ben_dir.path(),
        "ben",
        &ben_password,
    );
    let doc = anna
        .create_client(
            NewClient {
                pseudonym: "Kornblume".into(),
                take_up: true,
                ..NewClient::default()
            },
            None,
            None,
        )
        .unwrap();
    until(&mut anna, "anna online through nginx", |w| {
        w.status().online
    });
    until(&mut anna, "anna's record on the server", all_synced);
    until(&mut ben, "ben sees it through nginx", |w| {
        w.members(&MemberQuery::default())
            .iter()
            .any(|(id, _)| *id == doc)
    });
    anna.shut_down();
    ben.shut_down();
    // The websockets came through the proxy too (the upgrade, then the sync): the server
    // logged their connections.
    let log = access_log(&server);
    assert!(log.contains("\tsync"), "{log}");
}
