//! Tests of `ids`.

use super::*;

#[test]
fn document_id_round_trips_through_bs58check() {
    let id = DocumentId::from_bytes([7; 16]);
    let text = id.to_string();
    assert_eq!(text.parse::<DocumentId>(), Ok(id));
}

#[test]
fn document_id_rejects_a_broken_checksum_and_a_wrong_length() {
    let mut text = DocumentId::from_bytes([9; 16]).to_string();
    let last = text.pop().map(|c| if c == 'A' { 'B' } else { 'A' });
    text.extend(last);
    assert_eq!(text.parse::<DocumentId>(), Err(IdError::NotBs58Check));
    let short = bs58::encode([1u8; 8]).with_check().into_string();
    assert_eq!(short.parse::<DocumentId>(), Err(IdError::WrongLength(8)));
}

#[test]
fn client_id_is_six_unambiguous_characters_and_stable() {
    let doc = DocumentId::from_bytes([0x5a; 16]);
    let id = ClientId::for_document(&doc);
    assert_eq!(id.as_str().len(), 6);
    assert!(id.as_str().bytes().all(|b| CLIENT_ID_ALPHABET.contains(&b)));
    assert_eq!(id, ClientId::for_document(&doc));
    assert_ne!(
        id,
        ClientId::for_document(&DocumentId::from_bytes([0x5b; 16]))
    );
}
