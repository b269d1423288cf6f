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

/// One line of a table, every column up to the inode (uid and queues included); `None` when
/// it does not parse.
pub fn parse_line(line: &str, protocol: Protocol, family: Family) -> Option<Socket> {
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

/// What cross-view compares of one line of /proc/net/{tcp,tcp6,udp,udp6}: the state, the
/// endpoints and the inode (the columns that identify a socket; uid and queues are read only for
/// the sockets netlink did not list, by [`parse_table`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The socket's state.
    pub state: State,
    /// Local address and port.
    pub local: Endpoint,
    /// Remote address and port.
    pub remote: Endpoint,
    /// The inode; 0 for a socket no file refers to (TIME-WAIT, not yet accepted).
    pub inode: u64,
}

/// How much one read(2) of a /proc/net table asks for. The kernel's seq_file hands out at most
/// one page per read whatever the size asked, so this bounds the buffer, not the reads.
pub const READ_CHUNK: usize = 1 << 16;

/// The longest line [`for_each_line`] keeps; the kernel's are under 200 bytes. A longer one (a
/// file mounted over the table) is dropped, not grown into.
pub const MAX_LINE: usize = 4096;

/// Calls `f` on every line of the table `r` after its header, reading `chunk` bytes at a time
/// and keeping only the unfinished last line between reads: a /proc/net/tcp of 1M sockets is
/// ~150 MB of text, of which this holds one chunk. A last line without a newline is a line;
/// one longer than [`MAX_LINE`] is skipped.
pub fn for_each_line(
    mut r: impl std::io::Read,
    chunk: usize,
    mut f: impl FnMut(&[u8]),
) -> std::io::Result<()> {
    let chunk = chunk.max(1);
    let mut buf = vec![0u8; chunk + MAX_LINE];
    // buf[..have] is the unfinished line; `skip` drops the rest of the header or of an
    // overlong line.
    let (mut have, mut skip) = (0, true);
    loop {
        let n = match r.read(&mut buf[have..have + chunk]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if have > 0 && !skip {
                f(&buf[..have]);
            }
            return Ok(());
        }
        let end = have + n;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[have..end]) {
            let at = have + nl;
            if !std::mem::take(&mut skip) && at - start <= MAX_LINE {
                f(&buf[start..at]);
            }
            start = at + 1;
        }
        buf.copy_within(start..end, 0);
        have = end - start;
        if have > MAX_LINE {
            (have, skip) = (0, true);
        }
    }
}

/// Parses a whole TCP or UDP table by its fixed columns, into `out`: what [`parse_table`] gives,
/// reduced to a [`Line`], without building a `Socket` or a `String` per line. Returns the number
/// of lines that do not parse. (The collection streams the table through [`for_each_line`] and
/// [`fixed_line`] instead; this is their composition over a text in memory.)
pub fn parse_lines(text: &[u8], family: Family, out: &mut Vec<Line>) -> u64 {
    let mut bad = 0;
    let each = |line: &[u8]| {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match fixed_line(line, family) {
            Some(l) => out.push(l),
            None => bad += 1,
        }
    };
    for_each_line(text, READ_CHUNK, each).expect("a slice reads without error");
    bad
}

/// One line of a TCP or UDP table (without its newline), by its fixed columns.
///
/// The kernel prints every line of these tables with one format (`get_tcp4_sock`,
/// `udp4_format_sock` and their IPv6 twins): `%4d: ` (the slot, wider past 9999), then the local
/// and remote `ADDR:PORT` in fixed-width hex (8 or 32 digits, 4), then the state in 2 hex digits;
/// the inode is the sixth blank-separated column after the state (the timer columns before it
/// are not fixed-width: a negative `tm->when` prints 16 digits). It replaces splitting every
/// column of every line of a 15 MB text at 100k sockets (docs/PERFORMANCE.md).
pub fn fixed_line(line: &[u8], family: Family) -> Option<Line> {
    let colon = line.iter().position(|&b| b == b':')?;
    let rest = line.get(colon + 1..)?.strip_prefix(b" ")?;
    let alen = match family {
        Family::Inet => 8,
        _ => 32,
    };
    // ADDR:PORT ADDR:PORT ST
    let end = 2 * (alen + 6);
    let cols = rest.get(..end + 3)?;
    let local = fixed_endpoint(&cols[..alen + 5], family)?;
    let remote = fixed_endpoint(&cols[alen + 6..2 * alen + 11], family)?;
    if cols[alen + 5] != b' ' || cols[2 * alen + 11] != b' ' || cols[end + 2] != b' ' {
        return None;
    }
    let state = State::from_kernel(u8::try_from(hex(&cols[end..end + 2])?).ok()?)?;
    let inode = rest[end + 3..]
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .nth(5)?;
    let inode = std::str::from_utf8(inode).ok()?.parse().ok()?;
    Some(Line {
        state,
        local,
        remote,
        inode,
    })
}

/// `ADDR:PORT` in fixed-width hex: 8 or 32 address digits (host-order words), 4 port digits.
fn fixed_endpoint(b: &[u8], family: Family) -> Option<Endpoint> {
    let alen = b.len() - 5;
    if b[alen] != b':' {
        return None;
    }
    let port = u16::try_from(hex(&b[alen + 1..])?).ok()?;
    let address = match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::from(hex(&b[..8])?.to_ne_bytes())),
        _ => {
            let mut bytes = [0u8; 16];
            for (i, w) in b[..32].chunks_exact(8).enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&hex(w)?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    };
    Some(Endpoint { address, port })
}

/// 1 to 8 hex digits (no sign, no prefix).
fn hex(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 8 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some(acc << 4 | d)
    })
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

    /// The fixed-column parser reads what the column splitter reads, on every sample table
    /// and on the lines cut or damaged at every byte.
    #[test]
    fn fixed_columns_agree_with_the_column_splitter() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 341 1 0000000060aa2bea 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00001586 00000000     0        0 0 3 0000000000000000
12345: 0100007F:1F90 0100007F:D432 01 00000000:00000000 02:FFFFFFFFFFFFFF9C 00000000 123456        0 99 3 0000000000000000
";
        let reduce = |v: Vec<Socket>| -> Vec<Line> {
            v.into_iter()
                .map(|s| Line {
                    state: s.state,
                    local: s.local.unwrap(),
                    remote: s.remote.unwrap(),
                    inode: s.inode,
                })
                .collect()
        };
        for (text, family) in [
            (tcp, Family::Inet),
            (RAW, Family::Inet),
            (RAW6, Family::Inet6),
        ] {
            let (v, bad) = parse_table(text, Protocol::Tcp, family);
            let mut fast = Vec::new();
            assert_eq!(parse_lines(text.as_bytes(), family, &mut fast), bad);
            assert_eq!(fast, reduce(v));
            for l in text.lines().skip(1) {
                for at in 0..l.len() {
                    for mid in ["", "x", " ", "\u{fffd}", ":"] {
                        let doc = format!("h\n{}{mid}{}\n", &l[..at], &l[at..]);
                        let (v, _) = parse_table(&doc, Protocol::Tcp, family);
                        let mut fast = Vec::new();
                        parse_lines(doc.as_bytes(), family, &mut fast);
                        // A damaged line both read is read the same by both.
                        if !fast.is_empty() && !v.is_empty() {
                            assert_eq!(fast, reduce(v), "{doc:?}");
                        }
                    }
                }
            }
        }
        assert_eq!(fast_count(tcp), 3);
    }

    /// Streaming: the same lines whatever the chunk size (a line cut at every byte between two
    /// reads), a last line without its newline, and an overlong line dropped whole.
    #[test]
    fn lines_are_the_same_in_chunks_of_every_size() {
        let long = "x".repeat(MAX_LINE + 10);
        let text = format!("header\na b\n\n{long}\nc\nlast");
        let want: Vec<String> = vec!["a b".into(), "".into(), "c".into(), "last".into()];
        for chunk in [1, 2, 3, 7, 64, MAX_LINE, READ_CHUNK] {
            let mut got = Vec::new();
            for_each_line(text.as_bytes(), chunk, |l| {
                got.push(String::from_utf8(l.to_vec()).unwrap())
            })
            .unwrap();
            assert_eq!(got, want, "chunk {chunk}");
        }
        let mut n = 0;
        for_each_line(&b"only a header"[..], 4, |_| n += 1).unwrap();
        assert_eq!(n, 0);
    }

    fn fast_count(text: &str) -> usize {
        let mut v = Vec::new();
        parse_lines(text.as_bytes(), Family::Inet, &mut v);
        v.len()
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
