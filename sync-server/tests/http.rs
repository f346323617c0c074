//! The HTTP API over a real socket on 127.0.0.1, with a real SQLite file in a temporary
//! data directory: login, logout, password rules, locked accounts, restarts, bad input.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sync_server::accounts::{AccountState, Role};

mod common;

use common::{PASSWORD, Server, config};

fn token_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["token"].as_str().unwrap().to_owned()
}

fn error_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn login_logout_and_wrong_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t", "admin", Role::Admin);

    let (status, body) = server.login("admin", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = token_of(&body);
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["tenant"].as_str(), answer["role"].as_str()),
        (Some("t"), Some("admin"))
    );
    let (status, body) = server.login("admin", "Falsch!123").await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (401, "wrong-credentials")
    );

    let (status, _) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!(status, 204);
    let (status, body) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!((status, error_of(&body).as_str()), (401, "no-session"));
    let (status, _) = server
        .request("POST", "/api/logout", Some("forged"), "")
        .await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn locked_accounts_and_weak_passwords_are_refused_with_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    let id = server
        .state
        .accounts
        .create(None, "t", "berater", Role::Counsellor, PASSWORD)
        .unwrap();
    let token = token_of(&server.login("berater", PASSWORD).await.1);

    let weak = serde_json::json!({ "old": PASSWORD, "new": "Passwort1!" }).to_string();
    let (status, body) = server
        .request("POST", "/api/password", Some(&token), &weak)
        .await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (422, "password-too-common")
    );

    server
        .state
        .accounts
        .set_state(None, &id, AccountState::Locked)
        .unwrap();
    let (status, body) = server.login("berater", PASSWORD).await;
    // The answer a wrong password gets: nobody learns that the account is locked.
    assert_eq!(
        (status, error_of(&body).as_str()),
        (401, "wrong-credentials")
    );
    let (status, _) = server
        .request("POST", "/api/logout", Some(&token), "")
        .await;
    assert_eq!(status, 401, "the locked account's session ended at once");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_accounts_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t", "admin", Role::Admin);
    let token = token_of(&server.login("admin", PASSWORD).await.1);
    server.stop().await;

    let server = Server::start(&config(&dir)).await;
    assert_eq!(server.state.accounts.count().unwrap(), 1);
    let changed = serde_json::json!({ "old": PASSWORD, "new": "Neu!Pass2026x" }).to_string();
    let (status, _) = server
        .request("POST", "/api/password", Some(&token), &changed)
        .await;
    assert_eq!(status, 204, "the session survived the restart");
    assert_eq!(server.login("admin", "Neu!Pass2026x").await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_server_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t", "admin", Role::Admin);
    for body in ["not json", "{\"login\": 5}", "{}", &"x".repeat(100_000)] {
        let (status, _) = server.request("POST", "/api/login", None, body).await;
        assert!((400..500).contains(&status), "{status} for {:.20}", body);
    }
    let (status, body) = server.request("GET", "/healthz", None, "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(server.login("admin", PASSWORD).await.0, 200);
    let (status, metrics) = server
        .request("GET", "/metrics", Some(common::METRICS_TOKEN), "")
        .await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("sync_server_logins_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn admins_manage_their_tenants_accounts_and_nobody_elses() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    server.account("t2", "fremdchefin", Role::Admin);
    let (_, body) = server.login("chefin", PASSWORD).await;
    let chefin = token_of(&body);
    let (_, body) = server.login("fremdchefin", PASSWORD).await;
    let fremd = token_of(&body);

    let new = r#"{"login":"neu","role":"counsellor","password":"Erst#Kranich-Weide1"}"#;
    let (status, body) = server
        .request("POST", "/api/accounts", Some(&chefin), new)
        .await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server.login("neu", "Erst#Kranich-Weide1").await;
    assert_eq!(status, 200, "{body}");
    let neu = token_of(&body);

    // Counsellors manage nothing; another tenant's admin does not even find the account.
    let (status, _) = server.request("GET", "/api/accounts", Some(&neu), "").await;
    assert_eq!(status, 403);
    // Colleagues' names are for all staff of the tenant, and only of the tenant.
    let (status, staff) = server.request("GET", "/api/staff", Some(&neu), "").await;
    assert_eq!(status, 200, "{staff}");
    assert!(
        staff.contains("\"chefin\"") && staff.contains("\"neu\""),
        "{staff}"
    );
    assert!(!staff.contains("fremdchefin"), "{staff}");
    let lock = format!("/api/accounts/{id}/lock");
    let (status, _) = server.request("POST", &lock, Some(&fremd), "").await;
    assert_eq!(status, 404);
    let (_, listed) = server
        .request("GET", "/api/accounts", Some(&fremd), "")
        .await;
    assert!(!listed.contains("\"neu\""), "{listed}");

    // Locking ends the session at once and refuses logins; unlocking lets them in again.
    let (status, _) = server.request("POST", &lock, Some(&chefin), "").await;
    assert_eq!(status, 204);
    let (status, _) = server.request("POST", "/api/logout", Some(&neu), "").await;
    assert_eq!(status, 401, "the session ended with the lock");
    let (status, body) = server.login("neu", "Erst#Kranich-Weide1").await;
    // The answer a wrong password gets: nobody learns that the account is locked.
    assert_eq!(
        (status, error_of(&body).as_str()),
        (401, "wrong-credentials")
    );
    let (_, staff) = server.request("GET", "/api/staff", Some(&chefin), "").await;
    assert!(
        !staff.contains("\"neu\""),
        "locked accounts are not offered: {staff}"
    );
    let (_, listed) = server
        .request("GET", "/api/accounts", Some(&chefin), "")
        .await;
    assert!(listed.contains("\"state\":\"locked\""), "{listed}");
    let unlock = format!("/api/accounts/{id}/unlock");
    assert_eq!(
        server.request("POST", &unlock, Some(&chefin), "").await.0,
        204
    );

    // "Passwort vergeben".
    let password = format!("/api/accounts/{id}/password");
    let (status, body) = server
        .request("PUT", &password, Some(&chefin), r#"{"password":"kurz"}"#)
        .await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (422, "password-too-short")
    );
    let (status, _) = server
        .request(
            "PUT",
            &password,
            Some(&chefin),
            r#"{"password":"Zweit#Passwort2"}"#,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(server.login("neu", "Erst#Kranich-Weide1").await.0, 401);
    assert_eq!(server.login("neu", "Zweit#Passwort2").await.0, 200);

    let (status, body) = server
        .request(
            "POST",
            &format!("/api/accounts/{id}/promote"),
            Some(&chefin),
            "",
        )
        .await;
    assert_eq!(status, 404, "{body}");

    // Your own password needs the old one; a deleted account stays deleted.
    let own = serde_json::from_str::<serde_json::Value>(&server.login("chefin", PASSWORD).await.1)
        .unwrap()["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server
        .request(
            "PUT",
            &format!("/api/accounts/{own}/password"),
            Some(&chefin),
            r#"{"password":"Dritt#Passwort3"}"#,
        )
        .await;
    assert_eq!((status, error_of(&body).as_str()), (422, "not-yourself"));
    let delete = format!("/api/accounts/{id}/delete");
    assert_eq!(
        server.request("POST", &delete, Some(&chefin), "").await.0,
        204
    );
    assert_eq!(
        server.request("POST", &unlock, Some(&chefin), "").await.0,
        404
    );
    let new = r#"{"login":"klient","role":"client","password":"Erst#Kranich-Weide1"}"#;
    let (status, body) = server
        .request("POST", "/api/accounts", Some(&chefin), new)
        .await;
    assert_eq!((status, error_of(&body).as_str()), (422, "unknown-role"));

    // The access log holds the addresses, on the server only.
    let log = server.state.accounts.access_log().unwrap();
    assert!(
        log.iter().any(|e| e.ip == "127.0.0.1"
            && e.event == "login"
            && e.account_id.as_deref() == Some(&id)),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.event == "login-failed" && e.account_id.is_none())
    );
    server.stop().await;
}
