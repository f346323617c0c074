//! Tests of `rows`: rows stored by older versions still read.

use super::*;

#[test]
fn a_member_row_stored_before_the_invitation_states_still_reads() {
    let stored = r#"{"pseudonym":"Mia Sonne","name":"","first_name":"","client_id":"K1",
        "primary":null,"status":"Active","last_login_ms":null,"invitation_sent_ms":5,
        "has_password":false,"created_ms":1}"#;
    let row: MemberRow = serde_json::from_str(stored).unwrap();
    assert_eq!(row.invitation_sent_ms, Some(5));
    assert_eq!(row.invitation_queued_ms, None);
    assert_eq!(row.invitation_failed_ms, None);
}
