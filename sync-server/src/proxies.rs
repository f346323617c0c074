//! Trusted proxies (`trusted_proxies`: addresses or CIDR ranges) and the client's address
//! behind them. Only from a trusted proxy is the forwarding header believed, and only the
//! one header the proxy writes (`forwarded_header`: `X-Forwarded-For` by default, or RFC
//! 7239 `Forwarded`): a proxy passes the other through as the client sent it, so
//! believing both, or falling back from one to the other, would let a client name its own
//! address. The client's address is the last one the header names that is not itself a
//! trusted proxy, since a client can write the leftmost entries itself. Rate limits, the
//! access log and the session's address all use it.
//!
//! Everything inside a trusted range counts as a proxy, so name the proxies, not the
//! network the clients are in.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// Which header the trusted proxies write (`forwarded_header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For`, which nginx's `$proxy_add_x_forwarded_for` writes.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`.
    Forwarded,
}

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
/// trusted proxy, the last address `header` names that is not a trusted proxy.
pub fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    proxies: &TrustedProxies,
    header: ForwardedHeader,
) -> IpAddr {
    let peer = canonical(peer.ip());
    if !proxies.contains(&peer) {
        return peer;
    }
    let chain = match header {
        ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
        ForwardedHeader::Forwarded => forwarded(headers),
    };
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
