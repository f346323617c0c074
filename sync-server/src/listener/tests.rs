//! The gate's counts, and whose address a request is.

use std::net::Ipv4Addr;

use super::*;

fn limits(trusted: &[IpAddr]) -> Limits {
    Limits {
        max_connections: 5,
        max_connections_per_address: 2,
        header_read_timeout: Duration::from_secs(10),
        trusted_proxies: trusted.to_vec().into(),
    }
}

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));

#[test]
fn connections_are_counted_per_address_until_they_authenticate() {
    let gate = Gate::new(limits(&[PROXY]));
    let first = gate.admit(A).unwrap();
    let second = gate.admit(A).unwrap();
    assert!(gate.admit(A).is_none(), "two per address");
    let from_b = gate.admit(B).expect("another address");
    second.authenticated();
    second.authenticated();
    let third = gate
        .admit(A)
        .expect("an authenticated one counts no longer");
    assert!(gate.admit(A).is_none());
    assert_eq!(gate.open(), 4);
    drop(first);
    let fourth = gate.admit(A).expect("a closed one frees its place");
    let fifth = gate.admit(PROXY).expect("the fifth");
    assert!(gate.admit(B).is_none(), "five in all");
    drop((second, third, fourth, fifth, from_b));
    assert_eq!(gate.open(), 0);
    let through_proxy: Vec<_> = (0..5).map(|_| gate.admit(PROXY).unwrap()).collect();
    assert_eq!(
        through_proxy.len(),
        5,
        "a trusted proxy is not counted per address"
    );
}
