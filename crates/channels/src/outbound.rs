//! Where requests that an admin's settings point at may go: the one outbound policy every
//! provider call, reply delivery, connection test, webhook registration, file fetch and SMTP or
//! IMAP connection passes through.
//!
//! An admin types URLs and host names into channel settings (`url`, `api_base_url`,
//! `public_url`, `smtp.host`, `imap.host`); the server then connects there from inside the
//! operator's network. Without a rule that is server-side request forgery: a URL naming the
//! cloud's metadata service (169.254.169.254, fd00:ec2::254) hands its credentials to whoever
//! can read the job error, and one naming an internal host lets an admin of one workspace
//! probe the operator's network. So:
//! - link-local, cloud metadata, unspecified, multicast, broadcast and reserved addresses are
//!   never reached;
//! - loopback and private ranges (RFC 1918, CGNAT 100.64/10, IPv6 unique local fc00::/7) only
//!   while `outbound.allow_private_networks` is on (the default: a company's own CRM usually sits
//!   on its own network; an integrator hosting several clients' workspaces turns it off).
//!
//! The rule is applied to the addresses a name *resolves to* at connect time (so a name that
//! resolves to a forbidden address, DNS rebinding included, is refused), to IP literals before
//! any connection is made, and to every redirect (`crate::http::client`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What kind of address an IP is, as far as the outbound rule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// Anywhere on the internet.
    Public,
    /// 127.0.0.0/8, ::1: this machine.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918), 100.64/10 (CGNAT, RFC 6598), fc00::/7 (unique
    /// local, RFC 4193) and the deprecated site-local fec0::/10.
    Private,
    /// 169.254.0.0/16 and fe80::/10 (RFC 3927, RFC 4291): where cloud metadata services answer.
    LinkLocal,
    /// fd00:ec2::254, the IPv6 address of AWS's instance metadata service.
    Metadata,
    /// 0.0.0.0/8 and ::, which some systems treat as this host.
    Unspecified,
    /// 224.0.0.0/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 240.0.0.0/4 (RFC 1112 "future use").
    Reserved,
}

impl AddressClass {
    /// The words a refusal names the class by ("destination not allowed: link-local address").
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public address",
            AddressClass::Loopback => "loopback address",
            AddressClass::Private => "private network address",
            AddressClass::LinkLocal => "link-local address",
            AddressClass::Metadata => "cloud metadata address",
            AddressClass::Unspecified => "unspecified address",
            AddressClass::Multicast => "multicast address",
            AddressClass::Broadcast => "broadcast address",
            AddressClass::Reserved => "reserved address",
        }
    }

    /// The class as one word-like label (`link-local`): what translations select their words
    /// by, and how a refusal of an IP literal reaches the resolver.
    pub fn slug(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Metadata => "metadata",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
        }
    }

    const ALL: [AddressClass; 9] = [
        AddressClass::Public,
        AddressClass::Loopback,
        AddressClass::Private,
        AddressClass::LinkLocal,
        AddressClass::Metadata,
        AddressClass::Unspecified,
        AddressClass::Multicast,
        AddressClass::Broadcast,
        AddressClass::Reserved,
    ];

    /// Whether no setting lets a request reach this class.
    pub fn always_refused(self) -> bool {
        !matches!(self, AddressClass::Public | AddressClass::Loopback | AddressClass::Private)
    }
}

/// The class of `ip`. IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
/// IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d of RFC 6052, 6to4 2002:AABB:CCDD:: of RFC
/// 3056) are classed by that IPv4
/// address: `::ffff:169.254.169.254` reaches the metadata service as surely as the plain form.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_broadcast() {
        AddressClass::Broadcast
    } else if a == 0 {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if a >= 240 {
        AddressClass::Reserved
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        AddressClass::Metadata
    } else if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if first & 0xff00 == 0xff00 {
        AddressClass::Multicast
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (RFC 4291 2.5.5.2).
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // 64:ff9b::a.b.c.d, the NAT64 well-known prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        // ::a.b.c.d, IPv4-compatible (deprecated, RFC 4291 2.5.5.1); not :: and ::1 themselves.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(tail),
        // 2002:AABB:CCDD::/48, 6to4 (RFC 3056): the relay routes it to a.b.c.d (AABBCCDD).
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// Why a destination was not reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("destination not allowed: {}", .class.describe())]
pub struct Refused {
    pub class: AddressClass,
}

/// The operator's rule for outbound requests (`[outbound]` in the server's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Whether loopback and private ranges may be reached. On by default: a company's own
    /// CRM or mail server often sits on its own network. An integrator hosting several
    /// clients' workspaces turns it off, so that one client's admin cannot reach another's
    /// services or the operator's.
    pub allow_private_networks: bool,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        Self { allow_private_networks: true }
    }
}

impl OutboundPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let class = classify(ip);
        match class {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback | AddressClass::Private if self.allow_private_networks => Ok(()),
            _ => Err(Refused { class }),
        }
    }

    /// Whether `host` (a name, an IPv4 literal, or an IPv6 literal with or without brackets) is
    /// allowed as far as can be told without resolving it: names pass here and are checked by
    /// address when connecting. What settings are checked with when they are saved.
    pub fn check_host(&self, host: &str) -> Result<(), Refused> {
        match literal(host) {
            Some(ip) => self.check(ip),
            None => Ok(()),
        }
    }

    /// Whether the host of `url` is allowed as far as can be told without resolving it; a URL
    /// that does not parse passes (it fails where it is used).
    pub fn check_url(&self, url: &str) -> Result<(), Refused> {
        match reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)) {
            Some(host) => self.check_host(&host),
            None => Ok(()),
        }
    }

    /// The addresses of `host` that may be connected to, with `port`: what SMTP and IMAP
    /// connect to (never to `host` by name, which would resolve it again, perhaps otherwise).
    /// Addresses the rule refuses are dropped; when none is left, the first refusal is the
    /// error.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        if let Some(ip) = literal(host) {
            self.check(ip).map_err(ResolveError::Refused)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found = tokio::net::lookup_host((host, port)).await.map_err(ResolveError::Lookup)?;
        let mut allowed = Vec::new();
        let mut refused = None;
        for addr in found {
            match self.check(addr.ip()) {
                Ok(()) => allowed.push(addr),
                Err(r) => refused = refused.or(Some(r)),
            }
        }
        match (allowed.is_empty(), refused) {
            (true, Some(r)) => Err(ResolveError::Refused(r)),
            (true, None) => Err(ResolveError::Lookup(std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address"))),
            (false, _) => Ok(allowed),
        }
    }
}

/// Why `OutboundPolicy::resolve` gave no address.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Every address of the name is one the rule refuses: trying again will not help.
    #[error(transparent)]
    Refused(Refused),
    /// The name could not be resolved (now): it may work later.
    #[error("cannot resolve the name: {0}")]
    Lookup(std::io::Error),
}

/// `host` as an IP address, when it is a literal: IPv6 with or without brackets, and IPv4 in
/// every form a URL parser (WHATWG) or the system resolver reads as one (`2852039166`,
/// `0251.0376.0251.0376` and `0xa9fea9fe` are all 169.254.169.254).
fn literal(host: &str) -> Option<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse() {
        return Some(ip);
    }
    let normalized = reqwest::Url::parse(&format!("http://{host}/")).ok()?;
    let normalized = normalized.host_str()?;
    let bare = normalized.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(normalized);
    bare.parse().ok()
}

/// The refusal somewhere in `error`'s chain of causes, if the error is one.
pub fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(*r);
        }
        current = e.source();
    }
    None
}

/// The domain under which a refused IP literal is handed to the resolver: `.invalid` is never
/// a real name (RFC 2606), so nothing outside this module resolves it.
const REFUSED_DOMAIN: &str = "destination-refused.invalid";

/// Where a request to a refused IP literal is sent instead: a proxy whose name only our
/// resolver knows, and refuses with the literal's class. reqwest resolves names through our
/// resolver but connects to IP literals directly, and it decides the proxy for every
/// connection (redirects included): so a literal is checked on every connection, before any.
pub(crate) fn refused_literal_proxy(policy: OutboundPolicy, url: &reqwest::Url) -> Option<reqwest::Url> {
    let ip = literal(url.host_str()?)?;
    let refused = policy.check(ip).err()?;
    reqwest::Url::parse(&format!("http://{}.{REFUSED_DOMAIN}", refused.class.slug())).ok()
}

/// reqwest's resolver under the policy: a name's addresses that the policy refuses are never
/// connected to.
pub(crate) struct Resolver {
    pub(crate) policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            if let Some(slug) = name.strip_suffix(REFUSED_DOMAIN).and_then(|s| s.strip_suffix('.')) {
                let class = AddressClass::ALL.into_iter().find(|c| c.slug() == slug).unwrap_or(AddressClass::Reserved);
                return Err(Box::new(Refused { class }) as Box<dyn std::error::Error + Send + Sync>);
            }
            match policy.resolve(&name, 0).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(ResolveError::Refused(r)) => Err(Box::new(r) as Box<dyn std::error::Error + Send + Sync>),
                Err(ResolveError::Lookup(e)) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> AddressClass {
        classify(ip.parse().expect("ip"))
    }

    #[test]
    fn every_range_has_its_class() {
        let table = [
            ("8.8.8.8", AddressClass::Public),
            ("93.184.216.34", AddressClass::Public),
            ("2606:4700::1111", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.255.254", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("10.0.0.1", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Private),
            ("100.127.255.255", AddressClass::Private),
            ("100.128.0.1", AddressClass::Public),
            ("fc00::1", AddressClass::Private),
            ("fd12:3456::1", AddressClass::Private),
            ("fec0::1", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("169.254.0.1", AddressClass::LinkLocal),
            ("fe80::1", AddressClass::LinkLocal),
            ("febf::1", AddressClass::LinkLocal),
            ("fd00:ec2::254", AddressClass::Metadata),
            ("0.0.0.0", AddressClass::Unspecified),
            ("0.1.2.3", AddressClass::Unspecified),
            ("::", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("239.255.255.250", AddressClass::Multicast),
            ("ff02::1", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Broadcast),
            ("240.0.0.1", AddressClass::Reserved),
        ];
        for (ip, expected) in table {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_an_ipv4_address_are_classed_by_it() {
        for (ip, expected) in [
            ("::ffff:169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b::169.254.169.254", AddressClass::LinkLocal),
            ("2002:a9fe:a9fe::", AddressClass::LinkLocal),
            ("2002:7f00:1::1", AddressClass::Loopback),
            ("2002:0808:0808::1", AddressClass::Public),
            ("::169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:10.1.2.3", AddressClass::Private),
            ("::ffff:0.0.0.0", AddressClass::Unspecified),
            ("::ffff:8.8.8.8", AddressClass::Public),
            ("64:ff9b::8.8.8.8", AddressClass::Public),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn private_ranges_follow_the_setting_and_the_rest_never_pass() {
        let open = OutboundPolicy { allow_private_networks: true };
        let closed = OutboundPolicy { allow_private_networks: false };
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!((open.check(ip), closed.check(ip)), (Ok(()), Ok(())), "{ip}");
        }
        for ip in ["127.0.0.1", "::1", "10.0.0.1", "192.168.0.10", "172.20.1.1", "100.64.1.1", "fd12::1", "::ffff:192.168.0.1"] {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert_eq!(open.check(parsed), Ok(()), "{ip} allowed while private networks are");
            let refused = closed.check(parsed).expect_err("refused");
            assert!(matches!(refused.class, AddressClass::Loopback | AddressClass::Private), "{ip}: {refused}");
        }
        for ip in [
            "169.254.169.254",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "240.0.0.1",
        ] {
            let parsed: IpAddr = ip.parse().expect("ip");
            for policy in [open, closed] {
                let refused = policy.check(parsed).expect_err(ip);
                assert!(refused.class.always_refused(), "{ip}");
            }
        }
        assert_eq!(
            open.check("169.254.169.254".parse().expect("ip")).map_err(|e| e.to_string()),
            Err("destination not allowed: link-local address".to_owned())
        );
    }

    #[test]
    fn hosts_are_checked_as_literals_and_names_wait_for_resolution() {
        let closed = OutboundPolicy { allow_private_networks: false };
        assert!(closed.check_host("[::1]").is_err());
        assert!(closed.check_host("::1").is_err());
        assert!(closed.check_host("127.0.0.1").is_err());
        assert!(closed.check_host("crm.example.com").is_ok(), "a name is checked by its addresses");
        // Other spellings of 169.254.169.254 that resolvers and URL parsers accept.
        let open = OutboundPolicy::default();
        for spelling in ["2852039166", "0251.0376.0251.0376", "0xa9fea9fe", "169.254.43518"] {
            assert_eq!(open.check_host(spelling).map_err(|r| r.class), Err(AddressClass::LinkLocal), "{spelling}");
            assert!(open.check_url(&format!("http://{spelling}/latest")).is_err(), "{spelling}");
        }
        assert!(closed.check_url("http://[fd00:ec2::254]/latest").is_err());
        assert!(OutboundPolicy::default().check_url("http://169.254.169.254/latest/meta-data/").is_err());
        assert!(OutboundPolicy::default().check_url("http://127.0.0.1:9/x").is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_a_refused_address_is_refused() {
        let closed = OutboundPolicy { allow_private_networks: false };
        match closed.resolve("localhost", 25).await {
            Err(ResolveError::Refused(r)) => assert_eq!(r.class, AddressClass::Loopback),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let open = OutboundPolicy::default();
        let addrs = open.resolve("localhost", 25).await.expect("allowed");
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 25), "{addrs:?}");
        assert!(matches!(open.resolve("169.254.169.254", 80).await, Err(ResolveError::Refused(_))));
    }

    #[test]
    fn refused_literals_are_sent_to_a_name_only_the_resolver_knows() {
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        let open = OutboundPolicy::default();
        assert_eq!(refused_literal_proxy(open, &url("http://example.com/")), None);
        assert_eq!(refused_literal_proxy(open, &url("http://127.0.0.1:8080/")), None);
        let proxy = refused_literal_proxy(open, &url("http://[::ffff:169.254.169.254]/")).expect("refused");
        assert_eq!(proxy.host_str(), Some("link-local.destination-refused.invalid"));
        for class in AddressClass::ALL {
            assert_eq!(AddressClass::ALL.into_iter().find(|c| c.slug() == class.slug()), Some(class));
        }
    }
}
