//! Tests of `date`.

use super::*;

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd(y, m, day).unwrap()
}

fn p(from: Option<Date>, to: Option<Date>) -> Period {
    Period::new(from, to)
}

#[test]
fn overlaps_is_inclusive_and_treats_open_ends_as_forever() {
    let cases = [
        (
            p(Some(d(2024, 1, 1)), Some(d(2024, 1, 31))),
            p(Some(d(2024, 1, 31)), None),
            true,
        ),
        (
            p(Some(d(2024, 1, 1)), Some(d(2024, 1, 30))),
            p(Some(d(2024, 1, 31)), None),
            false,
        ),
        (
            p(None, None),
            p(Some(d(1990, 1, 1)), Some(d(1990, 1, 1))),
            true,
        ),
        (
            p(None, Some(d(2020, 1, 1))),
            p(Some(d(2020, 1, 2)), None),
            false,
        ),
        (
            p(Some(d(2024, 3, 1)), None),
            p(None, Some(d(2024, 2, 28))),
            false,
        ),
    ];
    for (a, b, expected) in cases {
        assert_eq!(a.overlaps(&b), expected, "{a:?} vs {b:?}");
        assert_eq!(b.overlaps(&a), expected, "{b:?} vs {a:?}");
    }
}

#[test]
fn a_period_ending_before_it_starts_is_invalid() {
    assert!(!p(Some(d(2024, 2, 1)), Some(d(2024, 1, 1))).is_valid());
    assert!(p(Some(d(2024, 1, 1)), Some(d(2024, 1, 1))).is_valid());
}

#[test]
fn dates_and_times_print_as_stored_and_as_germans_read_them() {
    assert_eq!(d(2022, 2, 11).to_string(), "2022-02-11");
    assert_eq!(d(2022, 2, 11).german(), "11.02.2022");
    assert_eq!(
        "10:49".parse::<ClockTime>().map(|t| t.to_string()),
        Ok("10:49".into())
    );
    assert!("24:00".parse::<ClockTime>().is_err());
    assert_eq!(Days(250).to_string(), "2,5");
    assert_eq!(Days(1225).to_string(), "12,25");
    assert_eq!(Days(-300).to_string(), "-3");
}

#[test]
fn checked_plus_days_is_none_past_the_last_date() {
    assert_eq!(d(2024, 1, 1).checked_plus_days(31), Some(d(2024, 2, 1)));
    assert_eq!(d(2024, 1, 1).checked_plus_days(u64::MAX), None);
    assert_eq!(d(2024, 1, 1).checked_plus_days(1 << 40), None);
}
