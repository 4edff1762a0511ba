//! Which address a request comes from when the service sits behind proxies
//! (`AUTH__HTTP__TRUSTED_PROXIES`): the sign-in and sign-up throttles count per client address,
//! and a proxy's own address would lump every user behind it together.
//!
//! The rule: when the TCP peer is not a trusted proxy, it is the client and every forwarding
//! header is ignored (anyone can send one). When it is, the client is the right-most address
//! in the configured header (`X-Forwarded-For`, or RFC 7239 `Forwarded: for=`) that is not
//! itself a trusted proxy: each proxy appends the address it received the request from, so
//! everything right of the first untrusted address was written by our own proxies, and
//! everything left of it may be forged by the client.
//!
//! Only one header is read (`AUTH__HTTP__FORWARDED_HEADER`): reading both would let a client
//! forge whichever one the proxy does not write.
//!
//! A malformed header from a trusted proxy (an entry that is not an address, `unknown`, an
//! obfuscated `_node`, a `Forwarded` element without `for=`, bytes that are not UTF-8) cannot
//! say who the client is, so the answer falls back to the peer: those requests share the
//! proxy's counters, which is safe (no client picks its own key), merely coarse. The same
//! holds for a trusted peer that sends no such header. When every address in the header is a
//! trusted proxy, the left-most one (the origin the proxies reported) is the client.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The forwarding header trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or single addresses (`192.0.2.7`).
    pub fn parse(cidrs: &[String], header: ForwardedHeader) -> Result<Self, String> {
        let nets = cidrs
            .iter()
            .map(|cidr| {
                let cidr = cidr.trim();
                cidr.parse::<IpNet>()
                    .or_else(|_| cidr.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "AUTH__HTTP__TRUSTED_PROXIES: {cidr:?} is not a CIDR such as \
                             10.0.0.0/8 or 2001:db8::/32, nor an address"
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { nets, header })
    }

    /// The header to read (only its lines are passed to [`Self::client_address`]).
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client's address, given the TCP peer and every line of the forwarding header, in
    /// the order received (see the module's rule).
    pub fn client_address(&self, peer: IpAddr, header_lines: &[&[u8]]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut entries = Vec::new();
        for line in header_lines {
            let Ok(line) = std::str::from_utf8(line) else {
                return peer;
            };
            entries.extend(line.split(',').map(|entry| match self.header {
                ForwardedHeader::XForwardedFor => node(entry),
                ForwardedHeader::Forwarded => forwarded_for(entry),
            }));
        }
        let mut origin = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = entry.map(|ip| ip.to_canonical()) else {
                return peer;
            };
            if !self.is_trusted(ip) {
                return ip;
            }
            origin = ip;
        }
        origin
    }
}

/// The key a throttle counts `ip` under: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber usually holds a whole /64, so counting single IPv6 addresses lets one client
/// spread its attempts over 2^64 keys).
pub fn throttle_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::MAX >> 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

/// One `for=` of an RFC 7239 element (`for=192.0.2.1;proto=https`), or `None`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then(|| {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            node(value)
        })?
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`. Anything else (`unknown`, `_hidden`) is `None`.
fn node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|port| port.parse::<u16>().is_ok());
        return port_ok
            .then(|| v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    let (v4, port) = raw.split_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::parse(
            &[
                "10.0.0.0/8".into(),
                "2001:db8:ffff::/48".into(),
                "127.0.0.1".into(),
            ],
            header,
        )
        .unwrap()
    }

    fn client(header: ForwardedHeader, peer: &str, lines: &[&str]) -> IpAddr {
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        proxies(header).client_address(ip(peer), &lines)
    }

    #[test]
    fn parse_refuses_what_is_not_a_cidr() {
        for bad in ["10.0.0.0/33", "banana", "10.0.0/8", "::/129", ""] {
            let err = TrustedProxies::parse(&[bad.into()], ForwardedHeader::default());
            assert!(err.is_err(), "{bad:?}");
        }
        let parsed = TrustedProxies::parse(&["10.1.2.3/8".into()], ForwardedHeader::default());
        assert!(parsed.unwrap().is_trusted(ip("10.200.0.1")));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let xff = ForwardedHeader::XForwardedFor;
        assert_eq!(client(xff, "192.0.2.9", &["198.51.100.1"]), ip("192.0.2.9"));
        assert_eq!(client(xff, "192.0.2.9", &[]), ip("192.0.2.9"));
    }

    #[test]
    fn x_forwarded_for_the_rightmost_untrusted_address() {
        let xff = ForwardedHeader::XForwardedFor;
        // The client forged the first entry; our proxies appended the rest.
        let forged = ["1.1.1.1, 198.51.100.7, 10.0.0.2"];
        assert_eq!(client(xff, "10.0.0.1", &forged), ip("198.51.100.7"));
        // Several lines are one list, in order.
        let split = ["1.1.1.1", "198.51.100.7:5000", "10.0.0.2"];
        assert_eq!(client(xff, "127.0.0.1", &split), ip("198.51.100.7"));
        assert_eq!(
            client(xff, "10.0.0.1", &["[2001:db8::1]:443, 2001:db8:ffff::1"]),
            ip("2001:db8::1")
        );
        // Only proxies: the left-most is the origin.
        assert_eq!(
            client(xff, "10.0.0.1", &["10.0.0.3, 10.0.0.2"]),
            ip("10.0.0.3")
        );
        // The Forwarded header is not read in this mode.
        assert_eq!(client(xff, "10.0.0.1", &[]), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_the_rightmost_untrusted_for() {
        let fwd = ForwardedHeader::Forwarded;
        let lines = [r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.2"#];
        assert_eq!(client(fwd, "10.0.0.1", &lines), ip("2001:db8:cafe::17"));
        assert_eq!(
            client(
                fwd,
                "10.0.0.1",
                &["proto=http;for=\"192.0.2.60:80\";by=10.0.0.1"]
            ),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn malformed_entries_fall_back_to_the_peer() {
        let xff = ForwardedHeader::XForwardedFor;
        for bad in [
            "unknown",
            "198.51.100.7, garbage",
            "198.51.100.7,,10.0.0.2",
            "",
            "[::1",
        ] {
            assert_eq!(client(xff, "10.0.0.1", &[bad]), ip("10.0.0.1"), "{bad:?}");
        }
        let fwd = ForwardedHeader::Forwarded;
        for bad in ["for=_hidden", "proto=https", "for=unknown", "for=\"[::1\""] {
            assert_eq!(client(fwd, "10.0.0.1", &[bad]), ip("10.0.0.1"), "{bad:?}");
        }
        // A forged malformed entry LEFT of the real client is never reached.
        assert_eq!(
            client(xff, "10.0.0.1", &["garbage, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        let not_utf8: &[&[u8]] = &[b"\xff\xfe"];
        assert_eq!(
            proxies(xff).client_address(ip("10.0.0.1"), not_utf8),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv6_is_counted_per_64() {
        assert_eq!(throttle_key(ip("192.0.2.1")), "192.0.2.1");
        assert_eq!(throttle_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(
            throttle_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            throttle_key(ip("2001:db8:1:2::1")),
            throttle_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            throttle_key(ip("2001:db8:1:2::1")),
            throttle_key(ip("2001:db8:1:3::1"))
        );
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_and_never_invents_an_address(
            peer in any_ip(),
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..4),
            forwarded in any::<bool>(),
        ) {
            let header = if forwarded { ForwardedHeader::Forwarded } else { ForwardedHeader::XForwardedFor };
            let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            let got = proxies(header).client_address(peer, &lines);
            let text: String = lines.iter().map(|l| String::from_utf8_lossy(l)).collect();
            prop_assert!(got == peer.to_canonical() || text.contains(&got.to_string())
                || text.to_lowercase().contains(&got.to_string()));
        }

        #[test]
        fn finds_the_client_whatever_it_forges(
            forged in proptest::collection::vec(any_ip(), 0..4),
            real in any_ip(),
            hops in proptest::collection::vec(0u8..=255, 0..4),
        ) {
            let trusted = proxies(ForwardedHeader::XForwardedFor);
            prop_assume!(!trusted.is_trusted(real));
            let mut chain: Vec<String> = forged.iter().map(ToString::to_string).collect();
            chain.push(real.to_string());
            chain.extend(hops.iter().map(|h| format!("10.0.{h}.1")));
            let line = chain.join(", ");
            let got = trusted.client_address(ip("10.9.9.9"), &[line.as_bytes()]);
            prop_assert_eq!(got, real.to_canonical());
            // The same from a peer that is not trusted: the peer.
            let got = trusted.client_address(ip("192.0.2.200"), &[line.as_bytes()]);
            prop_assert_eq!(got, ip("192.0.2.200"));
        }
    }
}
