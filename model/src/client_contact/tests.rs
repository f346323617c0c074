//! Tests of `client_contact`.

use super::*;

#[test]
fn email_and_phone_are_checked_and_decide_the_channel() {
    let person = DocumentId::from_bytes([1; 16]);
    assert!(matches!(
        Document::<ClientContact>::create_contact(person, Some("not-an-address"), None),
        Err(ContactError::BadEmail)
    ));
    assert!(matches!(
        Document::<ClientContact>::create_contact(person, None, Some("call me")),
        Err(ContactError::BadPhone)
    ));
    let sms =
        Document::<ClientContact>::create_contact(person, None, Some("+49 170 1234567")).unwrap();
    assert_eq!(sms.read().unwrap().channel, ContactChannel::Sms);
    let mail =
        Document::<ClientContact>::create_contact(person, Some("test@test.de"), Some("0301234"))
            .unwrap();
    assert_eq!(mail.read().unwrap().channel, ContactChannel::Email);
}
