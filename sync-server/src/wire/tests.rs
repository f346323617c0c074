//! Frames as clients send them, and the ways they can be wrong.

use super::*;

fn encode(entries: &[(&str, Value<'_>)]) -> Vec<u8> {
    let mut buffer = Vec::new();
    let mut e = minicbor::Encoder::new(&mut buffer);
    e.map(entries.len() as u64).expect("vec");
    for (key, value) in entries {
        e.str(key).expect("vec");
        match value {
            Value::Text(s) => e.str(s).expect("vec"),
            Value::Bytes(b) => e.bytes(b).expect("vec"),
            Value::Int(i) => e.u64(*i).expect("vec"),
        };
    }
    buffer
}

enum Value<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Int(u64),
}

#[test]
fn a_sync_frame_and_its_heads() {
    let mut doc = automerge::AutoCommit::new();
    use automerge::transaction::Transactable;
    doc.put(automerge::ROOT, "k", "v").expect("put");
    let heads = doc.get_heads();
    let mut state = automerge::sync::State::new();
    use automerge::sync::SyncDoc;
    let message = doc
        .sync()
        .generate_sync_message(&mut state)
        .expect("a first message");
    let data = message.encode();
    let bytes = encode(&[
        ("type", Value::Text("sync")),
        ("senderId", Value::Text("server")),
        ("documentId", Value::Text("abc")),
        ("data", Value::Bytes(&data)),
        ("count", Value::Int(3)),
    ]);
    let frame = inspect(&bytes).expect("well formed");
    assert_eq!(frame.kind, "sync");
    assert_eq!(frame.document_id, Some("abc"));
    assert_eq!(reflected_heads(&frame), Some(heads));
}

#[test]
fn frames_that_reflect_no_state() {
    let bytes = encode(&[
        ("type", Value::Text("join")),
        ("senderId", Value::Text("me")),
    ]);
    let frame = inspect(&bytes).expect("well formed");
    assert_eq!(frame.kind, "join");
    assert_eq!(reflected_heads(&frame), None);
    let unavailable = encode(&[
        ("type", Value::Text("doc-unavailable")),
        ("documentId", Value::Text("abc")),
    ]);
    assert_eq!(
        reflected_heads(&inspect(&unavailable).expect("well formed")),
        None
    );
}

#[test]
fn bad_frames_are_named() {
    assert_eq!(inspect(&[]), Err(WireError::Malformed));
    assert_eq!(inspect(&[0xff, 0x00, 0x13]), Err(WireError::NotAMap));
    // A map whose first key is cut short.
    assert_eq!(inspect(&[0xa1, 0x64, b't']), Err(WireError::Malformed));
    assert_eq!(inspect(b"\x83\x01\x02\x03"), Err(WireError::NotAMap));
    assert_eq!(
        inspect(&encode(&[("senderId", Value::Text("me"))])),
        Err(WireError::NoType)
    );
    assert_eq!(
        inspect(&encode(&[("type", Value::Text("launch-missiles"))])),
        Err(WireError::UnknownType)
    );
    let mut trailing = encode(&[("type", Value::Text("join"))]);
    trailing.push(0x00);
    assert_eq!(inspect(&trailing), Err(WireError::Trailing));
    // A map that claims more entries than it has.
    let mut short = encode(&[("type", Value::Text("join"))]);
    short[0] = 0xa3;
    assert_eq!(inspect(&short), Err(WireError::Malformed));
    // One id for us and another for samod: refused.
    assert_eq!(
        inspect(&encode(&[
            ("type", Value::Text("sync")),
            ("documentId", Value::Text("abc")),
            ("documentId", Value::Text("def")),
        ])),
        Err(WireError::RepeatedKey)
    );
    assert_eq!(
        inspect(&encode(&[
            ("type", Value::Text("sync")),
            ("documentId", Value::Bytes(&[1; 16])),
        ])),
        Err(WireError::DocumentIdNotText)
    );
}

#[test]
fn only_the_canonical_spelling_of_a_document_id_counts() {
    let id = samod::DocumentId::try_from(uuid_bytes().to_vec()).unwrap();
    let canonical_text = id.to_string();
    assert_eq!(canonical(&canonical_text), Some(id));
    let uuid = uuid_text();
    assert!(uuid.parse::<samod::DocumentId>().is_ok(), "samod takes it");
    assert_eq!(canonical(&uuid), None, "we do not");
    assert_eq!(canonical("abc"), None);
}

fn uuid_bytes() -> [u8; 16] {
    [
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8,
    ]
}

fn uuid_text() -> String {
    "12345678-9abc-def0-0102-030405060708".to_owned()
}

#[test]
fn indefinite_maps_and_the_error_frame() {
    // {_ "type": "leave"} with an indefinite length: samod reads only definite maps.
    let mut bytes = vec![0xbf];
    let inner = encode(&[("type", Value::Text("leave"))]);
    bytes.extend_from_slice(&inner[1..]);
    bytes.push(0xff);
    assert_eq!(inspect(&bytes), Err(WireError::Malformed));

    let frame = error_frame("message too large");
    let decoded = inspect(&frame).expect("our own error frame is well formed");
    assert_eq!(decoded.kind, "error");
}
