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
    // The same answer as a wrong password, whether the password is right or not.
    for password in [PASSWORD, "9TGCJ##qk1"] {
        assert!(matches!(
            accounts.login("klient", password, here()),
            Err(AccountError::WrongCredentials)
        ));
    }
    accounts
        .set_state(Some("admin"), &id, AccountState::Active)
        .unwrap();
    assert!(accounts.login("klient", PASSWORD, here()).is_ok());
    accounts
        .set_state(Some("admin"), &id, AccountState::Deleted)
        .unwrap();
    assert!(matches!(
        accounts.login("klient", PASSWORD, IpAddr::from([10, 0, 0, 3])),
        Err(AccountError::WrongCredentials)
    ));
}

#[test]
fn failed_logins_make_further_tries_wait_without_locking_anyone_out() {
    let config = Config {
        login_failures_before_delay_per_address: 5,
        ..Config::default()
    };
    let (_dir, accounts) = accounts(config);
    accounts
        .create(None, "t", "anna", Role::Counsellor, PASSWORD)
        .unwrap();
    accounts
        .create(None, "t", "ben", Role::Counsellor, PASSWORD)
        .unwrap();
    let office = IpAddr::from([10, 0, 0, 2]);
    accounts.login("ben", PASSWORD, office).unwrap();
    for _ in 0..3 {
        assert!(matches!(
            accounts.login("anna", "falsch", here()),
            Err(AccountError::WrongCredentials)
        ));
    }
    // Now even the right password waits a moment, for this login from here only.
    assert!(matches!(
        accounts.login("anna", PASSWORD, here()),
        Err(AccountError::RateLimited(wait)) if wait == Duration::from_secs(1)
    ));
    assert!(accounts.login("ben", PASSWORD, here()).is_ok());
    std::thread::sleep(Duration::from_millis(1_100));
    assert!(accounts.login("anna", PASSWORD, here()).is_ok());
    // Five failures from one address slow that address for logins new there, but not
    // for ben, who logged in from there before.
    for login in ["x1", "x2", "x3", "x4", "x5"] {
        assert!(matches!(
            accounts.login(login, "falsch", office),
            Err(AccountError::WrongCredentials)
        ));
    }
    assert!(matches!(
        accounts.login("anna", PASSWORD, office),
        Err(AccountError::RateLimited(_))
    ));
    assert!(accounts.login("ben", PASSWORD, office).is_ok());
}

#[test]
fn the_old_password_of_a_change_is_throttled_like_a_login() {
    let (_dir, accounts) = accounts(Config::default());
    accounts
        .create(None, "t", "anna", Role::Counsellor, PASSWORD)
        .unwrap();
    let token = accounts.login("anna", PASSWORD, here()).unwrap().token;
    let elsewhere = IpAddr::from([10, 9, 9, 9]);
    let new = "Neu!Kranich-Weide7";
    for _ in 0..3 {
        assert!(matches!(
            accounts.change_password(&token, "falsch", new, elsewhere),
            Err(AccountError::WrongCredentials)
        ));
    }
    assert!(matches!(
        accounts.change_password(&token, PASSWORD, new, elsewhere),
        Err(AccountError::RateLimited(_))
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
    let new = "Neu!Kranich-Weide7";
    assert!(matches!(
        accounts.change_password(&laptop, "falsch", new, here()),
        Err(AccountError::WrongCredentials)
    ));
    assert!(matches!(
        accounts.change_password(&laptop, PASSWORD, "schwach", here()),
        Err(AccountError::Policy(_))
    ));
    assert!(matches!(
        accounts.change_password(&laptop, PASSWORD, "Anna2026!", here()),
        Err(AccountError::Policy(PolicyError::TooWeak))
    ));
    accounts
        .change_password(&laptop, PASSWORD, new, here())
        .unwrap();
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
        .set_password(Some("admin"), &id, "Neu#Kranich-Weide7")
        .unwrap();
    assert!(matches!(
        accounts.authenticate(&token),
        Err(AccountError::NoSession)
    ));
    assert!(matches!(
        accounts.login("berater", PASSWORD, here()),
        Err(AccountError::WrongCredentials)
    ));
    accounts
        .login("berater", "Neu#Kranich-Weide7", here())
        .unwrap();
    assert_eq!(accounts.id_of("berater").unwrap(), id);
    let listed = accounts.list(Some("t")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].login.as_str(),
            listed[0].role.as_str(),
            listed[0].state.as_str()
        ),
        ("berater", "counsellor", "active")
    );
    assert!(accounts.list(Some("other")).unwrap().is_empty());
}

#[test]
fn only_the_newest_invitation_works_and_a_set_password_revokes_it() {
    let (_dir, accounts) = accounts(Config::default());
    let id = accounts
        .create_without_password(None, "t", "berta", Role::Counsellor)
        .unwrap();
    let day = Duration::from_secs(24 * 3600);
    let first = accounts.invite(&id, None, day).unwrap();
    let second = accounts.invite(&id, None, day).unwrap();
    assert!(
        !accounts.invitation(&first).unwrap(),
        "revoked by the second"
    );
    assert!(accounts.invitation(&second).unwrap());
    assert!(matches!(
        accounts.redeem_invitation(&first, PASSWORD),
        Err(AccountError::NoSession)
    ));
    // An admin gives her a password: the link in her mailbox is void.
    accounts.set_password(None, &id, PASSWORD).unwrap();
    assert!(!accounts.invitation(&second).unwrap());
    assert!(matches!(
        accounts.redeem_invitation(&second, "Ganz#anderes9"),
        Err(AccountError::NoSession)
    ));
    assert!(accounts.login("berta", PASSWORD, here()).is_ok());
}

#[test]
fn an_invitation_does_not_reset_a_set_staff_password() {
    let (_dir, accounts) = accounts(Config::default());
    let id = accounts
        .create(None, "t", "berta", Role::Counsellor, PASSWORD)
        .unwrap();
    let day = Duration::from_secs(24 * 3600);
    // Say an invitation was stored while her password was set.
    let token = accounts.invite(&id, None, day).unwrap();
    assert!(matches!(
        accounts.redeem_invitation(&token, "Ganz#anderes9"),
        Err(AccountError::PasswordAlreadySet)
    ));
    assert!(
        !accounts.invitation(&token).unwrap(),
        "used up all the same"
    );
    assert!(accounts.login("berta", PASSWORD, here()).is_ok());
    // A person's invitation still sets a new password: staff's way to give access back.
    let person = accounts
        .create(None, "t", "klient", Role::Client, PASSWORD)
        .unwrap();
    let token = accounts.invite(&person, Some("record"), day).unwrap();
    accounts.redeem_invitation(&token, "Ganz#anderes9").unwrap();
    assert!(accounts.login("klient", "Ganz#anderes9", here()).is_ok());
}

#[test]
fn an_admin_only_invited_does_not_count_for_the_last_admin() {
    let (_dir, accounts) = accounts(Config::default());
    let anna = accounts
        .create(None, "t", "anna", Role::Admin, PASSWORD)
        .unwrap();
    accounts
        .create_without_password(None, "t", "bert", Role::Admin)
        .unwrap();
    assert!(matches!(
        accounts.delete_own(&anna),
        Err(AccountError::LastAdmin)
    ));
}
