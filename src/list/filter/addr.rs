//! `ss`'s `parse_hostcond()`: the value after `src`, `dst`, `sport` and `dport`, with its family
//! prefix, port (number, service name or `*`), address (dotted shorthand, prefix, host name).

use std::net::{IpAddr, Ipv6Addr};

use super::lookup::Lookup;
use super::{Af, FilterError};

/// An address prefix as `ss` keeps it: the bytes in network order and a length in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// IPv6 (16 bytes) or IPv4 (the first 4 bytes).
    pub v6: bool,
    /// The address bytes, zero-padded.
    pub bytes: [u8; 16],
    /// Prefix length in bits; 0 matches any address.
    pub len: u8,
}

impl Prefix {
    fn of(a: IpAddr, len: u8) -> Prefix {
        let mut bytes = [0; 16];
        match a {
            IpAddr::V4(v4) => bytes[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => bytes.copy_from_slice(&v6.octets()),
        }
        Prefix {
            v6: a.is_ipv6(),
            bytes,
            len,
        }
    }

    /// Whether the first `len` bits of `addr` (network order) are this prefix's.
    pub fn matches_bits(&self, addr: &[u8]) -> bool {
        bits_equal(addr, &self.bytes, usize::from(self.len))
    }
}

/// The first `bits` bits of `a` and `b` are equal (missing bytes count as zero).
pub fn bits_equal(a: &[u8], b: &[u8], bits: usize) -> bool {
    let byte = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..bits.div_ceil(8)).all(|i| {
        let keep = bits.saturating_sub(i * 8).min(8) as u32;
        let mask = (0xff00u16 >> keep) as u8;
        (byte(a, i) ^ byte(b, i)) & mask == 0
    })
}

/// What a `src`/`dst`/`sport`/`dport` value selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// An inet (or family-less) address and port.
    Inet,
    /// `unix:GLOB`: a glob on the unix socket's name.
    Unix(Vec<u8>),
    /// `link:PROTO[:IFACE]`: a packet socket's ethertype (`None` = any); the port is the ifindex.
    Link(Option<u16>),
    /// `netlink:PROTO[:PORTID]`: a netlink protocol (`None` = any).
    Netlink(Option<u32>),
}

/// One `ss` host condition (`struct aafilter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCond {
    /// The kind of address.
    pub kind: HostKind,
    /// The port (or inode, ifindex, port id) to equal; -1 for any. Not range-checked, as in `ss`.
    pub port: i64,
    /// The address family of the prefix (`None`: `*`, `any`, or no address).
    pub family: Option<Af>,
    /// Alternatives (several for a host name); none, or a first of length 0, test no address.
    pub addrs: Vec<Prefix>,
}

/// What parse_hostcond needs: the family `-4`/`-6`/`-x`/`-0`/`-f` chose last, the tables that
/// decide which service database is asked, and the lookups.
pub struct Ctx<'a> {
    /// `ss`'s `preferred_family`.
    pub preferred: Option<Af>,
    /// The TCP table is listed (service names are looked up as tcp).
    pub tcp: bool,
    /// The UDP table is listed (service names are looked up as udp).
    pub udp: bool,
    /// Name lookups.
    pub lookup: &'a dyn Lookup,
}

/// The family a value's prefix names (`unix:`, `link:`, `netlink:`, `inet:`, `inet6:`), if any.
pub fn prefix_family(word: &str) -> Option<Af> {
    PREFIXES
        .iter()
        .find(|(p, _)| word.starts_with(p))
        .map(|(_, af)| *af)
}

const PREFIXES: [(&str, Af); 5] = [
    ("unix:", Af::Unix),
    ("link:", Af::Packet),
    ("netlink:", Af::Netlink),
    ("inet:", Af::Inet),
    ("inet6:", Af::Inet6),
];

/// Parses one value; returns the condition and the family it forces (`ss` then lists only that
/// family), if any. `key` is for error messages.
pub fn parse_hostcond(
    key: &str,
    word: &str,
    is_port: bool,
    ctx: &Ctx,
) -> Result<(HostCond, Option<Af>), FilterError> {
    let (fam, addr) = PREFIXES
        .iter()
        .find_map(|(p, af)| word.strip_prefix(p).map(|rest| (Some(*af), rest)))
        .unwrap_or((ctx.preferred, word));
    let bad = || FilterError::Address {
        key: key.to_owned(),
        value: word.to_owned(),
    };
    let cond = match fam {
        Some(Af::Unix) => HostCond {
            kind: HostKind::Unix(addr.as_bytes().to_vec()),
            port: -1,
            family: Some(Af::Unix),
            addrs: Vec::new(),
        },
        Some(Af::Packet) => link_cond(addr, is_port, ctx).ok_or_else(bad)?,
        Some(Af::Netlink) => netlink_cond(addr, is_port).ok_or_else(bad)?,
        _ => inet_cond(key, addr, is_port, fam, ctx)?,
    };
    Ok((cond, fam))
}

/// `ss`'s `find_port()`: the whole word for a port key, else after the first `:`.
fn split_port(addr: &str, is_port: bool) -> (&str, Option<&str>) {
    if is_port {
        return ("", Some(addr.strip_prefix(':').unwrap_or(addr)));
    }
    match addr.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (addr, None),
    }
}

fn link_cond(addr: &str, is_port: bool, ctx: &Ctx) -> Option<HostCond> {
    let (proto, port) = split_port(addr, is_port);
    let port = match port {
        Some(p) if !p.is_empty() && p != "*" => {
            c_integer(p).or_else(|| ctx.lookup.device(p).map(i64::from))?
        }
        _ => -1,
    };
    let proto = match proto {
        _ if is_port => None,
        "" | "*" => None,
        p => Some(ethertype(p)?),
    };
    Some(HostCond {
        kind: HostKind::Link(proto),
        port,
        family: Some(Af::Packet),
        addrs: Vec::new(),
    })
}

fn netlink_cond(addr: &str, is_port: bool) -> Option<HostCond> {
    let (proto, port) = split_port(addr, is_port);
    let port = match port {
        Some("kernel") => 0,
        Some(p) if !p.is_empty() && p != "*" => c_integer(p)?,
        _ => -1,
    };
    let proto = match proto {
        _ if is_port => None,
        "" | "*" => None,
        p => Some(netlink_proto(p)?),
    };
    Some(HostCond {
        kind: HostKind::Netlink(proto),
        port,
        family: Some(Af::Netlink),
        addrs: Vec::new(),
    })
}

/// The inet forms: `[V6]:PORT`, `*:PORT`, `ADDR[/LEN][:PORT]`, `:PORT`, `*`, host names.
fn inet_cond(
    key: &str,
    word: &str,
    is_port: bool,
    fam: Option<Af>,
    ctx: &Ctx,
) -> Result<HostCond, FilterError> {
    let bad = || FilterError::Address {
        key: key.to_owned(),
        value: word.to_owned(),
    };
    let (addr, port) = if let Some(rest) = word.strip_prefix('[') {
        let (a, p) = rest.split_once(']').ok_or_else(bad)?;
        (a, Some(p))
    } else if let Some(p) = word.strip_prefix('*') {
        ("*", Some(p))
    } else {
        let from = word.find('/').unwrap_or(0);
        match word[from..].rfind(':') {
            Some(i) => (&word[..from + i], Some(&word[from + i..])),
            None => (word, None),
        }
    };
    let port = if is_port { Some(word) } else { port };
    let port = match port.map(|p| p.strip_prefix(':').unwrap_or(p)) {
        Some(p) if !p.is_empty() && !p.starts_with('*') => port_number(key, p, ctx)?,
        _ => -1,
    };
    let mut cond = HostCond {
        kind: HostKind::Inet,
        port,
        family: None,
        addrs: Vec::new(),
    };
    if is_port || addr.is_empty() || addr.starts_with('*') {
        return Ok(cond);
    }
    if let Some((p, family)) = parse_prefix(addr, fam) {
        cond.family = family;
        cond.addrs.push(p);
        return Ok(cond);
    }
    let hosts = ctx.lookup.hosts(addr);
    let wanted = |a: &&IpAddr| match fam {
        Some(Af::Inet) => a.is_ipv4(),
        Some(Af::Inet6) => a.is_ipv6(),
        _ => true,
    };
    cond.addrs = hosts
        .iter()
        .filter(wanted)
        .map(|a| Prefix::of(*a, if a.is_ipv6() { 128 } else { 32 }))
        .collect();
    let first = cond.addrs.first().ok_or_else(|| FilterError::Prefix {
        key: key.to_owned(),
        value: addr.to_owned(),
        hint: inet_hint(word),
    })?;
    cond.family = Some(if first.v6 { Af::Inet6 } else { Af::Inet });
    Ok(cond)
}

/// A hint for a value `ss` would not take either.
fn inet_hint(word: &str) -> &'static str {
    if word.matches(':').count() > 1 && !word.starts_with('[') {
        " (write IPv6 in brackets: [2001:db8::1] or [2001:db8::/32]:PORT)"
    } else if word.contains(['(', ')']) {
        " (parentheses are words of their own: '( src 192.0.2.1 )')"
    } else {
        ""
    }
}

/// A port: a C integer (`22`, `0x16`, `026`), else a service name from the TCP and/or UDP
/// database, as the listed tables ask; an error when neither knows it or they disagree.
fn port_number(key: &str, p: &str, ctx: &Ctx) -> Result<i64, FilterError> {
    if let Some(n) = c_integer(p) {
        return Ok(n);
    }
    let udp = ctx.udp.then(|| ctx.lookup.service(p, "udp")).flatten();
    let tcp = ctx.tcp.then(|| ctx.lookup.service(p, "tcp")).flatten();
    match (udp, tcp) {
        (Some(u), Some(t)) if u != t => Err(FilterError::AmbiguousPort(p.to_owned())),
        (Some(port), _) | (None, Some(port)) => Ok(i64::from(port)),
        (None, None) => Err(FilterError::Port {
            key: key.to_owned(),
            value: p.to_owned(),
        }),
    }
}

/// C's `strtol(s, &end, 0)` that must consume the whole word and fit an `int` (`get_integer`).
pub fn c_integer(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = c_unsigned(digits)?;
    let n = if neg { -(n as i64) } else { n as i64 };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&n)
        .then_some(n)
}

/// `strtoul(s, &end, 0)` on a whole word: `0x` hex, leading `0` octal, else decimal.
fn c_unsigned(s: &str) -> Option<u64> {
    let (radix, digits) = match s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        Some(h) => (16, h),
        None if s.len() > 1 && s.starts_with('0') => (8, &s[1..]),
        None => (10, s),
    };
    let ok = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    ok.then(|| u64::from_str_radix(digits, radix).ok())
        .flatten()
}

/// `get_prefix_1()`: `ADDR[/LEN]` with iproute2's IPv4 shorthand (`10.8` is 10.8.0.0, each
/// part a C number), IPv6 when the word has a `:`, `any`/`all`/`default` for any address.
/// Returns the prefix and its family (`None` for `any` without a family prefix).
fn parse_prefix(word: &str, fam: Option<Af>) -> Option<(Prefix, Option<Af>)> {
    let (addr, len) = match word.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (word, None),
    };
    if matches!(addr, "any" | "all" | "default") {
        // "default/N" and "any/N" are refused; the family is the prefix's, if any.
        let family = fam.filter(|f| matches!(f, Af::Inet | Af::Inet6));
        let v6 = family == Some(Af::Inet6);
        let p = Prefix::of(
            if v6 {
                Ipv6Addr::UNSPECIFIED.into()
            } else {
                [0; 4].into()
            },
            0,
        );
        return len.is_none().then_some((p, family));
    }
    let ip: IpAddr = if addr.contains(':') {
        if fam.is_some_and(|f| f != Af::Inet6) {
            return None;
        }
        addr.parse::<Ipv6Addr>().ok()?.into()
    } else {
        if fam.is_some_and(|f| f != Af::Inet) {
            return None;
        }
        ipv4_shorthand(addr)?.into()
    };
    let max = if ip.is_ipv6() { 128 } else { 32 };
    let len = match len {
        None => max,
        Some(l) => netmask(l)?,
    };
    let family = if ip.is_ipv6() { Af::Inet6 } else { Af::Inet };
    (len <= max).then_some((Prefix::of(ip, len), Some(family)))
}

/// iproute2's `get_addr_ipv4()`: up to four parts, each 0-255 (C number), missing parts zero.
fn ipv4_shorthand(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        out[i] = u8::try_from(c_unsigned(p)?).ok()?;
    }
    Some(out)
}

/// `get_netmask()`: a C number, or a dotted contiguous mask.
fn netmask(s: &str) -> Option<u8> {
    if let Some(n) = c_unsigned(s) {
        return u8::try_from(n).ok();
    }
    let m = u32::from_be_bytes(ipv4_shorthand(s)?);
    (m.leading_ones() + m.trailing_zeros() == 32).then_some(m.leading_ones() as u8)
}

/// iproute2 6.1's `llproto_names` (lib/ll_proto.c), in its order: `ll_proto_n2a()` gives the
/// first name of an ethertype, `ll_proto_a2n()` takes any name, without regard to case.
const LL_PROTOS: &[(u16, &str)] = &[
    (0x0060, "loop"),
    (0x0200, "pup"),
    (0x0201, "pupat"),
    (0x0800, "ip"),
    (0x0805, "x25"),
    (0x0806, "arp"),
    (0x08ff, "bpq"),
    (0x0a00, "ieeepup"),
    (0x0a01, "ieeepupat"),
    (0x6000, "dec"),
    (0x6001, "dna_dl"),
    (0x6002, "dna_rc"),
    (0x6003, "dna_rt"),
    (0x6004, "lat"),
    (0x6005, "diag"),
    (0x6006, "cust"),
    (0x6007, "sca"),
    (0x8035, "rarp"),
    (0x809b, "atalk"),
    (0x80f3, "aarp"),
    (0x8137, "ipx"),
    (0x86dd, "ipv6"),
    (0x8863, "ppp_disc"),
    (0x8864, "ppp_ses"),
    (0x884c, "atmmpoa"),
    (0x8884, "atmfate"),
    (0x0001, "802_3"),
    (0x0002, "ax25"),
    (0x0003, "all"),
    (0x0004, "802_2"),
    (0x0005, "snap"),
    (0x0006, "ddcmp"),
    (0x0007, "wan_ppp"),
    (0x0008, "ppp_mp"),
    (0x0009, "localtalk"),
    (0x000c, "can"),
    (0x0010, "ppptalk"),
    (0x0011, "tr_802_2"),
    (0x0015, "mobitex"),
    (0x0016, "control"),
    (0x0017, "irda"),
    (0x0018, "econet"),
    (0x88ca, "tipc"),
    (0x8892, "profinet"),
    (0x88a2, "aoe"),
    (0x88a4, "ethercat"),
    (0x8100, "802.1Q"),
    (0x88a8, "802.1ad"),
    (0x8847, "mpls_uc"),
    (0x8848, "mpls_mc"),
    (0x6558, "teb"),
    (0x8100, "802.1Q"),
    (0x88cc, "LLDP"),
    (0x0800, "ipv4"),
];

/// `ll_proto_n2a()` without `-n`: the name `ss` prints for an ethertype, if it has one.
pub fn ll_proto_name(id: u16) -> Option<&'static str> {
    LL_PROTOS.iter().find(|(n, _)| *n == id).map(|(_, s)| *s)
}

/// `ll_proto_a2n()`: an ethertype name (any case) or a C number.
fn ethertype(s: &str) -> Option<u16> {
    LL_PROTOS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(s))
        .map(|(v, _)| *v)
        .or_else(|| c_unsigned(s).and_then(|n| u16::try_from(n).ok()))
}

/// `nl_proto_a2n()`: a netlink protocol name `ss` knows, or a C number up to 255.
fn netlink_proto(s: &str) -> Option<u32> {
    crate::model::netlink_protocol_number(s)
        .map(u32::from)
        .or_else(|| c_unsigned(s).filter(|&n| n <= 255).map(|n| n as u32))
}
