//! The throttle as people and attackers meet it, with the clock in the test's hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

fn fail(t: &Throttle, login: &str, from: IpAddr, at: u64) -> Result<(), Refused> {
    let attempt = t.begin(login, from, at)?;
    t.failed(attempt, at);
    Ok(())
}

fn succeed(t: &Throttle, login: &str, from: IpAddr, at: u64) -> Result<(), Refused> {
    let attempt = t.begin(login, from, at)?;
    t.succeeded(attempt, at);
    Ok(())
}

#[test]
fn waits_grow_from_a_second_and_never_lock() {
    let cases = [(0, 0), (2, 0), (3, 1), (4, 2), (5, 4), (13, 900), (40, 900)];
    for (failures, seconds) in cases {
        assert_eq!(
            delay(failures, 3),
            Duration::from_secs(seconds),
            "{failures} failures"
        );
    }
}

#[test]
fn a_person_who_mistypes_waits_a_moment_and_gets_in() {
    let t = Throttle::default();
    for i in 0..3 {
        fail(&t, "anna", HOME, i).unwrap();
    }
    assert_eq!(
        fail(&t, "anna", HOME, 10),
        Err(Refused::Wait(Duration::from_secs(1)))
    );
    succeed(&t, "anna", HOME, 1_010).expect("after the second");
    // A success starts over.
    for i in 0..3 {
        fail(&t, "anna", HOME, 2_000 + i).unwrap();
    }
}

#[test]
fn guessing_from_elsewhere_does_not_lock_the_person_out_at_home() {
    let t = Throttle::default();
    succeed(&t, "anna", HOME, 0).unwrap();
    let mut now = 1_000;
    for _ in 0..200 {
        // The attacker waits as long as told and keeps going.
        match fail(&t, "Anna ", ELSEWHERE, now) {
            Ok(()) | Err(Refused::Busy) => now += 1,
            Err(Refused::Wait(wait)) => now += wait.as_millis() as u64,
        }
    }
    // Whenever the attacker may try once more, the try after it waits a quarter hour.
    while fail(&t, "anna", ELSEWHERE, now).is_err() {
        now += 1_000;
    }
    assert_eq!(
        fail(&t, "anna", ELSEWHERE, now + 1),
        Err(Refused::Wait(MAX_DELAY - Duration::from_millis(1)))
    );
    succeed(&t, "anna", HOME, now + 1).expect("anna at home gets in at once");
}

#[test]
fn new_addresses_buy_an_attacker_a_few_tries_only() {
    let t = Throttle::default();
    succeed(&t, "anna", HOME, 0).unwrap();
    let mut tried = 0;
    for i in 0..1_000u32 {
        let from = IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i));
        if fail(&t, "anna", from, 1_000 + u64::from(i)).is_ok() {
            tried += 1;
        }
    }
    assert_eq!(
        tried, 10,
        "the account's allowance, then a wait the attacker did not sit out"
    );
    succeed(&t, "anna", HOME, 2_000).expect("her own address is not slowed");
}

#[test]
fn many_logins_from_one_address_slow_that_address_but_not_colleagues_known_there() {
    let t = Throttle::default();
    succeed(&t, "ben", ELSEWHERE, 0).unwrap();
    for i in 0..20 {
        fail(&t, &format!("nobody{i}"), ELSEWHERE, 10 + i).unwrap();
    }
    assert!(fail(&t, "nobody99", ELSEWHERE, 40).is_err());
    assert!(
        succeed(&t, "carla", ELSEWHERE, 40).is_err(),
        "someone new there waits too"
    );
    succeed(&t, "ben", ELSEWHERE, 40).expect("ben logged in from there before");
}

#[test]
fn checks_in_progress_count_as_failures_so_parallel_tries_cannot_race_past() {
    let t = Throttle::default();
    // Three may run at once for one login and address; the fourth waits its turn.
    let running: Vec<_> = (0..3).map(|_| t.begin("anna", HOME, 0).unwrap()).collect();
    assert_eq!(t.begin("anna", HOME, 0).unwrap_err(), Refused::Busy);
    t.begin("ben", HOME, 0)
        .expect("another login from here is not held up");
    for attempt in running {
        t.failed(attempt, 1);
    }
    // The three failed: the next waits a second, then runs alone.
    assert_eq!(
        t.begin("anna", HOME, 2).unwrap_err(),
        Refused::Wait(Duration::from_secs(1))
    );
    let alone = t.begin("anna", HOME, 1_001).unwrap();
    assert_eq!(t.begin("anna", HOME, 1_001).unwrap_err(), Refused::Busy);
    drop(alone);
    // Dropped unreported: counted as a failure, which earned a longer wait.
    assert_eq!(
        t.begin("anna", HOME, 1_002).unwrap_err(),
        Refused::Wait(Duration::from_millis(1_999))
    );
    // A person's devices logging in at once all get in, a few at a time.
    succeed(&t, "carla", ELSEWHERE, 0).unwrap();
    let devices: Vec<_> = (0..3)
        .map(|_| t.begin("carla", ELSEWHERE, 5).unwrap())
        .collect();
    assert_eq!(t.begin("carla", ELSEWHERE, 5).unwrap_err(), Refused::Busy);
    for device in devices {
        t.succeeded(device, 6);
    }
    succeed(&t, "carla", ELSEWHERE, 7).expect("the fourth device after them");
}

#[test]
fn logins_are_kept_as_short_digests_and_old_failures_go() {
    let t = Throttle::default();
    let long = "x".repeat(1_000_000);
    for i in 0..50 {
        let from = IpAddr::V4(Ipv4Addr::from(0x0c00_0000 + i));
        let _ = fail(&t, &format!("{i}{long}"), from, u64::from(i));
    }
    assert_eq!(t.len(), 150, "three small keys per attempt");
    assert_eq!(login_key(" Anna"), login_key("anna"));
    t.prune(FORGET_AFTER.as_millis() as u64 + 100);
    assert!(t.is_empty());
}

#[test]
fn an_ipv6_host_is_one_address_however_it_varies_its_interface_id() {
    let a: IpAddr = "2001:db8:1:2::1".parse::<Ipv6Addr>().unwrap().into();
    let b: IpAddr = "2001:db8:1:2:ffff::9".parse::<Ipv6Addr>().unwrap().into();
    let c: IpAddr = "2001:db8:1:3::1".parse::<Ipv6Addr>().unwrap().into();
    assert_eq!(AddressKey::from(a), AddressKey::from(b));
    assert_ne!(AddressKey::from(a), AddressKey::from(c));
    let mapped: IpAddr = "::ffff:10.0.0.1".parse::<Ipv6Addr>().unwrap().into();
    assert_eq!(AddressKey::from(mapped), AddressKey::from(HOME));
    assert_ne!(AddressKey::from(HOME), AddressKey::from(ELSEWHERE));
}
