//! Tests of `members`: what "Account / Letztes Login" says.

use super::*;

fn check(account: AccountState, expected: &str) {
    assert_eq!(account_words(&account), expected, "{account:?}");
}

#[test]
fn the_account_column_says_where_the_invitation_stands() {
    let invited = |queued, sent, failed| AccountState {
        invitation_queued_ms: queued,
        invitation_sent_ms: sent,
        invitation_failed_ms: failed,
        ..AccountState::default()
    };
    check(AccountState::default(), "kein Zugang");
    check(
        invited(Some(1), None, None),
        "Einladung wartet auf den Versand",
    );
    check(invited(Some(1), Some(2), None), "Einladung versandt");
    check(invited(Some(1), None, Some(2)), "Einladung fehlgeschlagen");
    check(
        invited(Some(3), None, Some(2)),
        "Einladung wartet auf den Versand",
    );
    check(invited(None, Some(2), None), "Einladung versandt");
    check(
        AccountState {
            has_password: true,
            ..invited(Some(1), None, Some(2))
        },
        "noch nicht eingeloggt",
    );
    check(
        AccountState {
            last_login_ms: Some(0),
            ..invited(Some(1), None, Some(2))
        },
        &german::date_time(0),
    );
}
