//! The /proc/net text tables: the raw fallback for kernels without raw_diag (as `ss` does), and
//! the `procnet` view of TCP and UDP that cross-view compares with netlink (`super::crossview`).
//!
//! Read through /proc/thread-self/net so that the table is the calling thread's network namespace.
//! The text format (net/ipv4/raw.c `raw_sock_seq_show`, tcp_ipv4.c `get_tcp4_sock`, udp.c
//! `udp4_format_sock`: the same columns up to the inode) gives addresses as host-order hex words,
//! the raw "port" is the IP protocol number, queues in hex, uid and inode in decimal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Endpoint, Family, Protocol, Socket, State};

/// Parses a whole /proc/net/raw or raw6 file. Returns sockets and the number of unparsable lines.
pub fn parse_raw_table(text: &str, family: Family) -> (Vec<Socket>, u64) {
    parse_table(text, Protocol::Raw, family)
}

/// Parses a whole /proc/net/{tcp,tcp6,udp,udp6,raw,raw6} file as sockets of `protocol`. Returns
/// sockets and the number of unparsable lines.
pub fn parse_table(text: &str, protocol: Protocol, family: Family) -> (Vec<Socket>, u64) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, protocol, family) {
            Some(s) => out.push(s),
            None => bad += 1,
        }
    }
    (out, bad)
}

fn parse_line(line: &str, protocol: Protocol, family: Family) -> Option<Socket> {
    let mut f = line.split_whitespace();
    let _sl = f.next()?;
    let local = parse_endpoint(f.next()?, family)?;
    let remote = parse_endpoint(f.next()?, family)?;
    let state = State::from_kernel(u8::from_str_radix(f.next()?, 16).ok()?)?;
    let (tx, rx) = f.next()?.split_once(':')?;
    let _tr_when = f.next()?;
    let _retrnsmt = f.next()?;
    let uid: u32 = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode: u64 = f.next()?.parse().ok()?;
    let mut s = Socket::new(protocol, family, state, inode);
    s.local = Some(local);
    s.remote = Some(remote);
    s.uid = Some(uid);
    s.send_q = u32::from_str_radix(tx, 16).ok()?;
    s.recv_q = u32::from_str_radix(rx, 16).ok()?;
    Some(s)
}

fn parse_endpoint(text: &str, family: Family) -> Option<Endpoint> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // Hex digits only: the IPv6 address is sliced by byte offsets below, and `from_str_radix`
    // takes a leading '+'.
    if !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let address = match family {
        Family::Inet if addr.len() == 8 => {
            let w = u32::from_str_radix(addr, 16).ok()?;
            IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()))
        }
        Family::Inet6 if addr.len() == 32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(Endpoint { address, port })
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    const RAW: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
    1: 00000000:0006 00000000:0000 07 00000000:00000342 00:00000000 00000000     0        0 164770 2 0000000000000000 0
   47: 010200C0:002F 050200C0:0000 01 00000000:00000000 00:00000000 00000000  1000        0 164771 2 0000000000000000 0
garbage line
";

    const RAW6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   58: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 164772 2 0000000000000000 0
   58: B80D0120000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 164773 2 0000000000000000 0
";

    #[test]
    fn ipv4_table() {
        let (v, bad) = parse_raw_table(RAW, Family::Inet);
        assert_eq!(bad, 1);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].local.unwrap().port, 6);
        assert_eq!(v[0].recv_q, 0x342);
        assert_eq!(v[0].state, State::Close);
        assert_eq!(v[0].inode, 164770);
        assert_eq!(v[1].local.unwrap().address.to_string(), "192.0.2.1");
        assert_eq!(v[1].remote.unwrap().address.to_string(), "192.0.2.5");
        assert_eq!(v[1].local.unwrap().port, 47);
        assert_eq!(v[1].state, State::Established);
        assert_eq!(v[1].uid, Some(1000));
    }

    /// Found by the `procnet` fuzz target: a 32-byte IPv6 address holding a multi-byte character
    /// was sliced inside it ("end byte index 8 is not a char boundary"). The reproducer
    /// (tests/fixtures/fuzz/procnet/ipv6-address-not-ascii, minimized by hand from the fuzzer's
    /// 255 bytes) has a 0xff byte, which the lossy conversion makes a 3-byte U+FFFD at byte 7.
    #[test]
    fn fuzz_non_ascii_address_is_a_bad_line_not_a_panic() {
        let fixture = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/fuzz/procnet/ipv6-address-not-ascii"
        ));
        let text = String::from_utf8_lossy(fixture);
        for family in [Family::Inet6, Family::Inet] {
            assert_eq!(parse_raw_table(&text, family), (vec![], 1));
        }
        // A '+' sign is not a hex digit either, though `from_str_radix` takes it.
        let plus = "h\n   1: +1000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1\n";
        assert_eq!(parse_raw_table(plus, Family::Inet).1, 1);
    }

    #[test]
    fn tcp_lines_parse_up_to_the_inode() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 341 1 0000000060aa2bea 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00001586 00000000     0        0 0 3 0000000000000000
";
        let (v, bad) = parse_table(tcp, Protocol::Tcp, Family::Inet);
        assert_eq!(bad, 0);
        assert_eq!(v[0].protocol, Protocol::Tcp);
        assert_eq!(v[0].state, State::Listen);
        assert_eq!(v[0].local.unwrap().port, 8080);
        assert_eq!(v[0].inode, 341);
        assert_eq!(v[1].state, State::TimeWait);
        assert_eq!(v[1].remote.unwrap().port, 54321);
        assert_eq!(v[1].inode, 0);
    }

    #[test]
    fn ipv6_table() {
        let (v, bad) = parse_raw_table(RAW6, Family::Inet6);
        assert_eq!(bad, 0);
        assert_eq!(v[0].local.unwrap().address.to_string(), "::");
        assert_eq!(v[0].local.unwrap().port, 58);
        assert_eq!(v[1].local.unwrap().address.to_string(), "2001:db8::1");
    }
}
