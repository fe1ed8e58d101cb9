//! The client's address behind the operator's reverse proxies: the TCP peer, unless the peer is
//! one of the configured `trusted_proxies`, in which case the right-most address of
//! `X-Forwarded-For` that is not a trusted proxy itself (MDN, "X-Forwarded-For: Selecting an IP
//! address"). Left-most entries are whatever the client wrote, so they are never believed.

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The proxies (addresses or CIDR networks) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads `203.0.113.5`, `10.0.0.0/8`, `2001:db8::/32`, `::1`; the error names the entry
    /// that is neither an address nor a network.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("trusted_proxies: {entry:?} is neither an IP address nor a CIDR network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`. Without a peer (a request
    /// made in-process) there is no address.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Every X-Forwarded-For line in order: each proxy appends to the end of the last one.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry that is no address was not written by a proxy we trust: the last
            // address a trusted proxy vouched for is the client.
            let Some(ip) = hop_address(hop) else { return Some(client) };
            client = ip;
            if !self.trusts(ip) {
                return Some(ip);
            }
        }
        Some(client)
    }

    /// The client of a request as axum hands it over (the peer from `ConnectInfo`).
    pub fn client_of(&self, extensions: &axum::http::Extensions, headers: &HeaderMap) -> Option<IpAddr> {
        self.client(extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()), headers)
    }
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip())).map(canonical)
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:203.0.113.7`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key one client address is counted under: an IPv4 address as it is, an IPv6 address by
/// its /64 (RFC 6177: one subscriber gets at least a /64, and picks any address in it at will).
pub fn address_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("value"));
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let spoofed = xff(&["198.51.100.9"]);
        assert_eq!(none.client(ip("203.0.113.7"), &spoofed), ip("203.0.113.7"), "an untrusted peer's header is ignored");

        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1"]).expect("parses");
        assert_eq!(proxies.client(ip("203.0.113.7"), &spoofed), ip("203.0.113.7"), "the peer is no proxy of ours");
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["198.51.100.9"])), ip("198.51.100.9"));
        // The client wrote the left-most entry itself; the proxy appended the real address.
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["1.1.1.1, 198.51.100.9"])), ip("198.51.100.9"));
        // Through two of ours: the right-most untrusted hop, across several header lines.
        assert_eq!(proxies.client(ip("192.0.2.1"), &xff(&["6.6.6.6, 198.51.100.9", "10.9.9.9"])), ip("198.51.100.9"));
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["198.51.100.9:4711"])), ip("198.51.100.9"));
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["[2001:db8::5]:80"])), ip("2001:db8::5"));
        // Garbage where an address belongs: the last address a trusted proxy gave.
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["198.51.100.9, not-an-ip"])), ip("10.1.2.3"));
        // Only proxies of ours in the chain, or no header: the left-most of them.
        assert_eq!(proxies.client(ip("10.1.2.3"), &xff(&["10.7.7.7"])), ip("10.7.7.7"));
        assert_eq!(proxies.client(ip("10.1.2.3"), &HeaderMap::new()), ip("10.1.2.3"));
        assert_eq!(proxies.client(ip("::ffff:10.1.2.3"), &xff(&["198.51.100.9"])), ip("198.51.100.9"), "IPv4 through IPv6");
        assert_eq!(proxies.client(None, &spoofed), None);
    }

    #[test]
    fn proxies_parse_addresses_and_networks_and_name_what_is_wrong() {
        let parsed = TrustedProxies::parse(&["127.0.0.1", "::1", " 172.16.0.0/12 ", "2001:db8::/32"]).expect("parses");
        assert!(parsed.trusts("172.31.255.255".parse().expect("ip")) && !parsed.trusts("172.32.0.0".parse().expect("ip")));
        let err = TrustedProxies::parse(&["10.0.0.0/8", "proxy.example"]).expect_err("a name is refused");
        assert!(err.contains("proxy.example"), "{err}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(address_key("203.0.113.7".parse().expect("ip")), "203.0.113.7");
        let a = address_key("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        assert_eq!(a, address_key("2001:db8:1:2:ffff:1:2:3".parse().expect("ip")));
        assert_ne!(a, address_key("2001:db8:1:3::1".parse().expect("ip")));
        assert_eq!(address_key("::ffff:203.0.113.7".parse().expect("ip")), "203.0.113.7");
    }
}
