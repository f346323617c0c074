//! The field readers on typed text: spans, days and their German decimals.

use super::*;

#[test]
fn spans_read_as_typed() {
    let spans = parse_spans(" 08:00-12:00, 13:30-16:00 ,").unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[1].start, ClockTime::from_hm(13, 30).unwrap());
    assert!(parse_spans("").unwrap().is_empty(), "empty is a free day");
    assert!(parse_spans("8 bis 12").is_err());
    assert_eq!(parse_days("2,5"), Some(Days(250)));
    assert_eq!(parse_days("0"), None);
    assert_eq!(days_text(Days(250)), "2,50");
    assert_eq!(days_text(Days::whole(24)), "24");
}
