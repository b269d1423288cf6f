//! Network vocabulary shared by rules, baselines and reports: address classes, v4-mapped
//! addresses, CIDR tables, ports and port ranges, the ephemeral port range. One definition of
//! each, so that a rule's `cidr` and a baseline's `network` agree on what an address is in.
//!
//! A v4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports for an IPv4
//! peer) is its IPv4 address everywhere here ([`canonical`]).

use std::net::IpAddr;

/// Linux's default `net.ipv4.ip_local_port_range`, for snapshots that do not record theirs.
pub const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// Whether `port` is in the ephemeral range `eph` (inclusive).
pub fn is_ephemeral(port: u16, eph: (u16, u16)) -> bool {
    eph.0 <= port && port <= eph.1
}

/// Why a network value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Not a number from 0 to 65535.
    #[error("expected a port (0-65535), got `{0}`")]
    Port(String),
    /// A range whose low end is above its high end.
    #[error("port range `{text}` is empty: {lo} > {hi}")]
    EmptyRange {
        /// The range as written.
        text: String,
        /// Its low end.
        lo: u16,
        /// Its high end.
        hi: u16,
    },
    /// Neither a CIDR nor an address.
    #[error("`{0}` is not a CIDR or an IP address")]
    Net(String),
}

crate::model::vocabulary! {
    /// The class of an address, as rules (`socket.remote.class`) and baselines (`private`,
    /// `loopback`, ...) name it.
    pub enum AddressClass {
        /// `0.0.0.0` or `::`: a wildcard bind (baselines write it as `any`).
        Unspecified => "unspecified",
        /// `127.0.0.0/8` or `::1`.
        Loopback => "loopback",
        /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) or IPv6 unique-local `fc00::/7`.
        Private => "private",
        /// `169.254.0.0/16` or `fe80::/10`.
        LinkLocal => "link-local",
        /// `100.64.0.0/10`, carrier-grade NAT (RFC 6598); IPv4 only.
        Shared => "shared",
        /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` or `2001:db8::/32`.
        Documentation => "documentation",
        /// `224.0.0.0/4` or `ff00::/8`.
        Multicast => "multicast",
        /// IPv4 only: `0.0.0.0/8` except `0.0.0.0` itself, `240.0.0.0/4` (the broadcast address
        /// included) and the benchmarking net `198.18.0.0/15`.
        Reserved => "reserved",
        /// Every other address. IPv6 has no `shared` or `reserved` here: its other special
        /// ranges (NAT64, 6to4, discard) are public.
        Public => "public",
    }
}

/// The class of an address, as rules and baselines use it. A v4-mapped IPv6 address is
/// classified as its IPv4 address.
pub fn address_class(a: IpAddr) -> AddressClass {
    match canonical(a) {
        IpAddr::V4(v) => {
            let o = v.octets();
            if v.is_unspecified() {
                AddressClass::Unspecified
            } else if v.is_loopback() {
                AddressClass::Loopback
            } else if v.is_private() {
                AddressClass::Private
            } else if v.is_link_local() {
                AddressClass::LinkLocal
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                AddressClass::Shared
            } else if v.is_documentation() {
                AddressClass::Documentation
            } else if v.is_multicast() {
                AddressClass::Multicast
            } else if o[0] == 0
                || o[0] >= 240
                || v.is_broadcast()
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
            {
                AddressClass::Reserved
            } else {
                AddressClass::Public
            }
        }
        IpAddr::V6(v) => {
            let seg = v.segments();
            if v.is_unspecified() {
                AddressClass::Unspecified
            } else if v.is_loopback() {
                AddressClass::Loopback
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                AddressClass::Private
            } else if (seg[0] & 0xffc0) == 0xfe80 {
                AddressClass::LinkLocal
            } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                AddressClass::Documentation
            } else if v.is_multicast() {
                AddressClass::Multicast
            } else {
                AddressClass::Public
            }
        }
    }
}

/// A v4-mapped IPv6 address is its IPv4 address, for matching.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A set of networks as sorted, merged, inclusive ranges; membership is a binary search.
#[derive(Debug, Clone, Default)]
pub struct NetTable {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl NetTable {
    /// Parses CIDRs (`10.0.0.0/8`, `2001:db8::/32`) and single addresses.
    pub fn parse(items: &[String]) -> Result<NetTable, NetError> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for item in items {
            let t = item.trim();
            let net: ipnet::IpNet = match t.parse() {
                Ok(n) => n,
                Err(_) => match t.parse::<IpAddr>() {
                    Ok(a) => ipnet::IpNet::from(a),
                    Err(_) => return Err(NetError::Net(item.clone())),
                },
            };
            match net {
                ipnet::IpNet::V4(n) => {
                    v4.push((u32::from(n.network()), u32::from(n.broadcast())));
                }
                ipnet::IpNet::V6(n) => {
                    // A v4-mapped net (::ffff:0:0/96 and inside) also lands in the v4 table.
                    if let (Some(lo), Some(hi)) =
                        (n.network().to_ipv4_mapped(), n.broadcast().to_ipv4_mapped())
                    {
                        v4.push((u32::from(lo), u32::from(hi)));
                    }
                    v6.push((u128::from(n.network()), u128::from(n.broadcast())));
                }
            }
        }
        Ok(NetTable {
            v4: merge(v4),
            v6: merge(v6),
        })
    }

    /// Whether `ip` is in one of the networks; a v4-mapped IPv6 address is looked up as its IPv4
    /// address (so `::ffff:10.0.0.1` is in `10.0.0.0/8`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match canonical(ip) {
            IpAddr::V4(a) => in_ranges(&self.v4, u32::from(a)),
            IpAddr::V6(a) => in_ranges(&self.v6, u128::from(a)),
        }
    }

    /// Whether the table holds no network at all (it then contains no address).
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

fn merge<T: Ord + Copy + num_like::Succ>(mut r: Vec<(T, T)>) -> Vec<(T, T)> {
    r.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        if let Some(last) = out.last_mut()
            && lo <= last.1.succ()
        {
            if hi > last.1 {
                last.1 = hi;
            }
            continue;
        }
        out.push((lo, hi));
    }
    out
}

fn in_ranges<T: Ord + Copy>(r: &[(T, T)], x: T) -> bool {
    let i = r.partition_point(|&(lo, _)| lo <= x);
    i > 0 && x <= r[i - 1].1
}

mod num_like {
    pub trait Succ {
        fn succ(self) -> Self;
    }
    impl Succ for u32 {
        fn succ(self) -> Self {
            self.saturating_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Self {
            self.saturating_add(1)
        }
    }
}

/// Ports `22`, ranges `1-1023`, as a bitset over 0..=65535.
#[derive(Clone)]
pub struct PortSet([u64; 1024]);

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PortSet({} ports)",
            self.0.iter().map(|w| w.count_ones()).sum::<u32>()
        )
    }
}

impl PortSet {
    /// Parses ports and inclusive ranges (`22`, `1024-65535`); the error names the first item that
    /// is not a port or is an empty range.
    pub fn parse(items: &[String]) -> Result<PortSet, NetError> {
        let mut set = PortSet([0; 1024]);
        for item in items {
            let PortRange(lo, hi) = PortRange::parse(item)?;
            for p in lo..=hi {
                set.0[usize::from(p) / 64] |= 1 << (p % 64);
            }
        }
        Ok(set)
    }

    /// Whether port `p` is in the set.
    pub fn contains(&self, p: u16) -> bool {
        self.0[usize::from(p) / 64] & (1 << (p % 64)) != 0
    }
}

/// A port or an inclusive range (`22`, `1024-2047`): a baseline entry has one, so no 8 KiB
/// bitset per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange(pub u16, pub u16);

impl PortRange {
    /// Parses `PORT` or `LOW-HIGH`; an empty range is an error.
    pub fn parse(s: &str) -> Result<PortRange, NetError> {
        let t = s.trim();
        let (lo, hi) = match t.split_once('-') {
            Some((a, b)) => (parse_port(a)?, parse_port(b)?),
            None => {
                let p = parse_port(t)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(NetError::EmptyRange {
                text: s.to_string(),
                lo,
                hi,
            });
        }
        Ok(PortRange(lo, hi))
    }

    /// Whether `p` is in the range.
    pub fn contains(&self, p: u16) -> bool {
        self.0 <= p && p <= self.1
    }
}

/// A port number, 0-65535.
pub fn parse_port(s: &str) -> Result<u16, NetError> {
    s.trim().parse().map_err(|_| NetError::Port(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cidr_table_merges_and_matches_mapped() {
        let t = NetTable::parse(&strs(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "192.0.2.7",
            "2001:db8::/32",
        ]))
        .unwrap();
        assert!(t.contains("10.200.1.1".parse().unwrap()));
        assert!(t.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(t.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!t.contains("2001:db9::5".parse().unwrap()));
        assert!(!t.contains("11.0.0.0".parse().unwrap()));
        assert_eq!(t.v4.len(), 2);
        assert!(NetTable::parse(&strs(&["10.0.0.0/33"])).is_err());
        assert!(NetTable::parse(&strs(&["banana"])).is_err());
    }

    #[test]
    fn address_classes() {
        let c = |a: &str| address_class(a.parse().unwrap()).name();
        assert_eq!(c("0.0.0.0"), "unspecified");
        assert_eq!(c("127.0.0.53"), "loopback");
        assert_eq!(c("10.1.2.3"), "private");
        assert_eq!(c("192.168.1.1"), "private");
        assert_eq!(c("169.254.169.254"), "link-local");
        assert_eq!(c("100.64.0.1"), "shared");
        assert_eq!(c("203.0.113.10"), "documentation");
        assert_eq!(c("224.0.0.1"), "multicast");
        assert_eq!(c("8.8.8.8"), "public");
        assert_eq!(c("::ffff:10.0.0.1"), "private");
        assert_eq!(c("::1"), "loopback");
        assert_eq!(c("fd00::1"), "private");
        assert_eq!(c("fe80::1"), "link-local");
        assert_eq!(c("2001:db8::1"), "documentation");
        assert_eq!(c("2606:4700::1"), "public");
    }

    #[test]
    fn port_ranges_parse_once_for_rules_and_baselines() {
        assert_eq!(PortRange::parse("22").unwrap(), PortRange(22, 22));
        assert_eq!(
            PortRange::parse(" 1024-2047 ").unwrap(),
            PortRange(1024, 2047)
        );
        assert!(
            PortRange::parse("9-1")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(PortRange::parse("65536").is_err());
        let set = PortSet::parse(&strs(&["22", "1024-2047"])).unwrap();
        assert!(set.contains(22) && set.contains(2047) && !set.contains(2048));
        assert!(is_ephemeral(40000, DEFAULT_EPHEMERAL) && !is_ephemeral(22, DEFAULT_EPHEMERAL));
    }
}
