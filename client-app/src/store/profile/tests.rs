//! Profiles written before a field existed still read.

use super::*;

#[test]
fn a_profile_from_before_the_connection_settings_reads_with_the_defaults() {
    let old = r#"{"server":"http://127.0.0.1:8470","login":"anna","account_id":"a",
        "tenant":"t","role":"counsellor","directory_id":"d","device":"00",
        "session":null,"staff":[],"last_sync_ms":null}"#;
    let profile: Profile = serde_json::from_str(old).expect("reads");
    assert_eq!(profile.connection, ConnectionSettings::default());
    let written = serde_json::to_string(&Profile {
        connection: ConnectionSettings {
            ca_file: Some("/etc/beratung/ca.pem".into()),
            allow_unencrypted: true,
        },
        ..profile
    })
    .expect("writes");
    let again: Profile = serde_json::from_str(&written).expect("reads again");
    assert!(again.connection.allow_unencrypted);
}
