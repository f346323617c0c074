//! Trusted proxies (`trusted_proxies`: addresses or CIDR ranges) and the client's address
//! behind them. Only from a trusted proxy are `Forwarded` (RFC 7239) and
//! `X-Forwarded-For` believed; the client's address is then the last one they name that
//! is not itself a trusted proxy, since a client can write the leftmost entries itself.
//! Rate limits, the access log and the session's address all use it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// The proxies whose forwarding headers name the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, address: &IpAddr) -> bool {
        let address = canonical(*address);
        self.0.iter().any(|net| net.contains(&address))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<IpAddr>> for TrustedProxies {
    fn from(addresses: Vec<IpAddr>) -> Self {
        Self(addresses.into_iter().map(IpNet::from).collect())
    }
}

/// One entry of the setting: `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
fn parse(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    IpNet::from_str(entry)
        .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
        .map_err(|_| format!("`{entry}` is neither an address nor a CIDR range"))
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A list, or one string of comma-separated entries (handy in the environment).
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            List(Vec<String>),
            One(String),
        }
        let entries = match Given::deserialize(deserializer)? {
            Given::List(list) => list,
            Given::One(text) => text
                .split(',')
                .filter(|e| !e.trim().is_empty())
                .map(str::to_owned)
                .collect(),
        };
        entries
            .iter()
            .map(|entry| parse(entry))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, from a dual-stack socket) as the
/// IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The address of the client a request comes from: the peer, or, when the peer is a
/// trusted proxy, the last address the forwarding headers name that is not a trusted
/// proxy. `Forwarded` wins over `X-Forwarded-For` where both are sent.
pub fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    proxies: &TrustedProxies,
) -> IpAddr {
    let peer = canonical(peer.ip());
    if !proxies.contains(&peer) {
        return peer;
    }
    let mut chain = forwarded(headers);
    if chain.is_empty() {
        chain = x_forwarded_for(headers);
    }
    chain
        .into_iter()
        .rev()
        .map(canonical)
        .find(|address| !proxies.contains(address))
        .unwrap_or(peer)
}

/// The `for=` addresses of `Forwarded`, in order: `for=192.0.2.60`,
/// `for="[2001:db8::1]:4711"`, `for="192.0.2.60:80"`. Obfuscated and unknown names
/// (`for=_hidden`, `for=unknown`) are skipped.
fn forwarded(headers: &axum::http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("for")
                .then(|| node_address(value.trim().trim_matches('"')))
                .flatten()
        })
        .collect()
}

/// A node of `Forwarded`: an address, maybe in brackets, maybe with a port.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

fn x_forwarded_for(headers: &axum::http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| item.trim().parse::<IpAddr>().ok())
        .collect()
}

#[cfg(test)]
mod tests;
