//! The client's address behind trusted proxies: only their headers count, and only
//! what a client cannot have written itself.

use super::*;

const PROXY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9));
const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

fn proxies() -> TrustedProxies {
    TrustedProxies::from(vec![PROXY])
}

#[test]
fn the_client_address_behind_trusted_proxies_only() {
    let mut headers = axum::http::HeaderMap::new();
    headers.append("x-forwarded-for", "203.0.113.7, 10.0.0.9".parse().unwrap());
    let peer = SocketAddr::new(PROXY, 4000);
    assert_eq!(
        client_address(peer, &headers, &proxies(), ForwardedHeader::XForwardedFor),
        "203.0.113.7".parse::<IpAddr>().unwrap(),
        "the last address that is not a trusted proxy"
    );
    // A client cannot name its own address: it writes the leftmost entries only.
    headers.insert("x-forwarded-for", "1.2.3.4, 198.51.100.5".parse().unwrap());
    assert_eq!(
        client_address(peer, &headers, &proxies(), ForwardedHeader::XForwardedFor),
        "198.51.100.5".parse::<IpAddr>().unwrap()
    );
    assert_eq!(
        client_address(
            SocketAddr::new(A, 1),
            &headers,
            &proxies(),
            ForwardedHeader::XForwardedFor
        ),
        A,
        "not from a trusted proxy: the header counts for nothing"
    );
    assert_eq!(
        client_address(
            peer,
            &axum::http::HeaderMap::new(),
            &proxies(),
            ForwardedHeader::XForwardedFor
        ),
        PROXY
    );
}

#[test]
fn only_the_header_the_proxy_writes_counts() {
    let peer = SocketAddr::new(PROXY, 4000);
    let mut headers = axum::http::HeaderMap::new();
    // The client wrote a Forwarded header of its own; the proxy added X-Forwarded-For.
    headers.append("forwarded", "for=1.2.3.4".parse().unwrap());
    headers.append("x-forwarded-for", "198.51.100.5".parse().unwrap());
    assert_eq!(
        client_address(peer, &headers, &proxies(), ForwardedHeader::XForwardedFor),
        "198.51.100.5".parse::<IpAddr>().unwrap(),
        "a Forwarded header the proxy passed through is the client's own words"
    );
    // A proxy that writes Forwarded: only it counts, brackets and ports understood.
    let mut headers = axum::http::HeaderMap::new();
    headers.append(
        "forwarded",
        "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https"
            .parse()
            .unwrap(),
    );
    headers.append("x-forwarded-for", "198.51.100.5".parse().unwrap());
    assert_eq!(
        client_address(peer, &headers, &proxies(), ForwardedHeader::Forwarded),
        "2001:db8::7".parse::<IpAddr>().unwrap()
    );
    headers.insert("forwarded", "for=unknown".parse().unwrap());
    assert_eq!(
        client_address(peer, &headers, &proxies(), ForwardedHeader::Forwarded),
        PROXY,
        "nothing usable: the proxy itself, never the other header"
    );
}

#[test]
fn ranges_and_addresses_are_trusted_alike() {
    let proxies: TrustedProxies = toml::from_str::<
        std::collections::BTreeMap<String, TrustedProxies>,
    >("p = [\"10.0.0.0/8\", \"::1\", \"192.0.2.7\"]")
    .unwrap()
    .remove("p")
    .unwrap();
    assert!(proxies.contains(&"10.200.3.4".parse().unwrap()));
    assert!(
        proxies.contains(&"::ffff:10.1.1.1".parse().unwrap()),
        "mapped IPv4"
    );
    assert!(proxies.contains(&"::1".parse().unwrap()));
    assert!(!proxies.contains(&"192.0.2.8".parse().unwrap()));
    let one: std::collections::BTreeMap<String, TrustedProxies> =
        toml::from_str("p = \"127.0.0.1, 172.16.0.0/12\"").unwrap();
    assert_eq!(one["p"].len(), 2);
    assert!(
        toml::from_str::<std::collections::BTreeMap<String, TrustedProxies>>("p = [\"nonsense\"]")
            .is_err()
    );
}
