//! Tests of `accounts`.

use super::*;

fn accounts(config: Config) -> (tempfile::TempDir, Accounts) {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open(&dir.path().join("db.sqlite3")).unwrap();
    (dir, Accounts::new(conn, &config))
}

fn here() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

const PASSWORD: &str = "9TGCJ##qk0";

#[test]
fn an_account_logs_in_with_its_password_only() {
    let (_dir, accounts) = accounts(Config::default());
    let id = accounts
        .create(None, "t", "berater", Role::Counsellor, PASSWORD)
        .unwrap();
    assert!(matches!(
        accounts.create(None, "t", "BERATER", Role::Counsellor, PASSWORD),
        Err(AccountError::LoginTaken)
    ));
    assert!(matches!(
        accounts.create(None, "t", "x", Role::Admin, "zu-kurz"),
        Err(AccountError::Policy(_))
    ));
    let token = accounts.login("berater", PASSWORD, here()).unwrap().token;
    let principal = accounts.authenticate(&token).unwrap();
    assert_eq!(
        (principal.account_id.as_str(), principal.role),
        (id.as_str(), Role::Counsellor)
    );
    assert!(matches!(
        accounts.login("berater", "9TGCJ##qk1", here()),
        Err(AccountError::WrongCredentials)
    ));
    assert!(matches!(
        accounts.login("niemand", PASSWORD, here()),
        Err(AccountError::WrongCredentials)
    ));
    assert!(matches!(
        accounts.authenticate("forged-token"),
        Err(AccountError::NoSession)
    ));
    accounts.logout(&token).unwrap();
    assert!(matches!(
        accounts.authenticate(&token),
        Err(AccountError::NoSession)
    ));
}

#[test]
fn locking_refuses_logins_and_ends_sessions_at_once() {
    let (_dir, accounts) = accounts(Config::default());
    let id = accounts
        .create(None, "t", "klient", Role::Client, PASSWORD)
        .unwrap();
    let token = accounts.login("klient", PASSWORD, here()).unwrap().token;
    accounts
        .set_state(Some("admin"), &id, AccountState::Locked)
        .unwrap();
    assert!(matches!(
        accounts.authenticate(&token),
        Err(AccountError::NoSession)
    ));
    assert!(matches!(
        accounts.login("klient", PASSWORD, here()),
        Err(AccountError::Locked)
    ));
    accounts
        .set_state(Some("admin"), &id, AccountState::Active)
        .unwrap();
    assert!(accounts.login("klient", PASSWORD, here()).is_ok());
    accounts
        .set_state(Some("admin"), &id, AccountState::Deleted)
        .unwrap();
    assert!(matches!(
        accounts.login("klient", PASSWORD, here()),
        Err(AccountError::Locked)
    ));
}

#[test]
fn failed_logins_are_limited_per_account_and_per_address() {
    let config = Config {
        max_failed_logins_per_account: 3,
        max_failed_logins_per_address: 5,
        ..Config::default()
    };
    let (_dir, accounts) = accounts(config);
    accounts
        .create(None, "t", "anna", Role::Counsellor, PASSWORD)
        .unwrap();
    accounts
        .create(None, "t", "ben", Role::Counsellor, PASSWORD)
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            accounts.login("anna", "falsch", here()),
            Err(AccountError::WrongCredentials)
        ));
    }
    // Even the right password is refused now, for this account only.
    assert!(matches!(
        accounts.login("anna", PASSWORD, here()),
        Err(AccountError::RateLimited)
    ));
    assert!(
        accounts
            .login("ben", PASSWORD, IpAddr::from([10, 0, 0, 2]))
            .is_ok()
    );
    // Five failures from one address block that address for every account.
    let attacker = IpAddr::from([192, 0, 2, 1]);
    for login in ["x1", "x2", "x3", "x4", "x5"] {
        assert!(matches!(
            accounts.login(login, "falsch", attacker),
            Err(AccountError::WrongCredentials)
        ));
    }
    assert!(matches!(
        accounts.login("ben", PASSWORD, attacker),
        Err(AccountError::RateLimited)
    ));
}

#[test]
fn sessions_expire_when_idle() {
    let config = Config {
        session_idle_minutes: 0,
        ..Config::default()
    };
    let (_dir, accounts) = accounts(config);
    accounts
        .create(None, "t", "anna", Role::Counsellor, PASSWORD)
        .unwrap();
    let token = accounts.login("anna", PASSWORD, here()).unwrap().token;
    std::thread::sleep(Duration::from_millis(5));
    assert!(matches!(
        accounts.authenticate(&token),
        Err(AccountError::NoSession)
    ));
}

#[test]
fn changing_the_password_needs_the_old_one_and_ends_other_sessions() {
    let (_dir, accounts) = accounts(Config::default());
    accounts
        .create(None, "t", "anna", Role::Counsellor, PASSWORD)
        .unwrap();
    let laptop = accounts.login("anna", PASSWORD, here()).unwrap().token;
    let desktop = accounts.login("anna", PASSWORD, here()).unwrap().token;
    let new = "Neu!Pass2026x";
    assert!(matches!(
        accounts.change_password(&laptop, "falsch", new),
        Err(AccountError::WrongCredentials)
    ));
    assert!(matches!(
        accounts.change_password(&laptop, PASSWORD, "schwach"),
        Err(AccountError::Policy(_))
    ));
    accounts.change_password(&laptop, PASSWORD, new).unwrap();
    assert!(accounts.authenticate(&laptop).is_ok());
    assert!(matches!(
        accounts.authenticate(&desktop),
        Err(AccountError::NoSession)
    ));
    assert!(accounts.login("anna", new, here()).is_ok());
}

#[test]
fn the_access_log_keeps_addresses_for_24_hours_only() {
    let (_dir, accounts) = accounts(Config::default());
    let old = now_ms() - ACCESS_LOG_RETENTION.as_millis() as u64 - 1_000;
    accounts
        .conn()
        .execute(
            "INSERT INTO access_log (at_ms, ip, account_id, event) VALUES (?1, '10.0.0.9', NULL, 'login')",
            params![old as i64],
        )
        .unwrap();
    accounts
        .record_access(IpAddr::from([192, 168, 1, 7]), Some("a1"), "sync")
        .unwrap();
    let log = accounts.access_log().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            log[0].ip.as_str(),
            log[0].account_id.as_deref(),
            log[0].event.as_str()
        ),
        ("192.168.1.7", Some("a1"), "sync")
    );
    let stored: i64 = accounts
        .conn()
        .query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1, "the old address is deleted, not only hidden");
}

#[test]
fn a_password_set_by_an_admin_ends_the_sessions_and_replaces_the_old_one() {
    let (_dir, accounts) = accounts(Config::default());
    let id = accounts
        .create(None, "t", "berater", Role::Counsellor, PASSWORD)
        .unwrap();
    let token = accounts.login("berater", PASSWORD, here()).unwrap().token;
    assert!(matches!(
        accounts.set_password(Some("admin"), &id, "kurz"),
        Err(AccountError::Policy(_))
    ));
    accounts
        .set_password(Some("admin"), &id, "Neu#Passwort1")
        .unwrap();
    assert!(matches!(
        accounts.authenticate(&token),
        Err(AccountError::NoSession)
    ));
    assert!(matches!(
        accounts.login("berater", PASSWORD, here()),
        Err(AccountError::WrongCredentials)
    ));
    accounts.login("berater", "Neu#Passwort1", here()).unwrap();
    assert_eq!(accounts.id_of("berater").unwrap(), id);
    let listed = accounts.list(Some("t")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].login.as_str(), listed[0].role, listed[0].state),
        ("berater", "counsellor", "active")
    );
    assert!(accounts.list(Some("other")).unwrap().is_empty());
}
