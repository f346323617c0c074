//! Tests of `clock`.

use super::*;

fn node(name: &str) -> NodeId {
    NodeId::new(name)
}

#[test]
fn ticks_grow_even_when_the_wall_clock_stands_still_or_goes_back() {
    let mut hlc = Hlc::new(node("a"));
    let first = hlc.tick(1_000);
    let same = hlc.tick(1_000);
    let back = hlc.tick(500);
    assert!(first < same && same < back);
    assert_eq!(back.wall_ms, 1_000);
}

#[test]
fn a_tick_after_observing_a_later_stamp_comes_after_it() {
    let mut slow = Hlc::new(node("slow"));
    let mut fast = Hlc::new(node("fast"));
    let seen = fast.tick(9_000);
    slow.observe(&seen);
    let answer = slow.tick(1_000);
    assert!(answer > seen);
}

#[test]
fn entity_ids_of_distinct_stamps_differ() {
    let mut a = Hlc::new(node("a"));
    let mut b = Hlc::new(node("b"));
    let x = a.tick(5);
    let y = b.tick(5);
    let z = a.tick(5);
    assert_ne!(x.entity_id(), y.entity_id());
    assert_ne!(x.entity_id(), z.entity_id());
}
