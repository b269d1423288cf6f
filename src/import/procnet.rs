//! Copies of `/proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet}` (`cat` output, as UAC
//! collects them).
//!
//! tcp, udp and raw share one layout (`sl local_address rem_address st tx_queue:rx_queue tr
//! tm->when retrnsmt uid timeout inode ...`), addresses as hex words in the host's byte order
//! (little-endian assumed: the evidence of x86 and arm64 hosts); which of the three a copy is
//! comes from its file name. The unix table gives the inode, type, state (and the listening
//! flag) and path; the packet table the type, ethertype, interface index, uid and inode. No
//! copy names the processes: UAC's per-process fd listings do (see `uac`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Coverage, Give, Gives, Lines, Parsed, Seen, tokens};
use crate::model::{Endpoint, Family, Kind, PacketInfo, Protocol, Socket, State};

/// Which table a copy is, from its name: `proc_net_udp6.txt`, `/proc/net/raw`, `tcp`.
fn table(name: &str) -> Option<Protocol> {
    let base = name.rsplit(['/', ':']).next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base);
    let last = stem.rsplit(['_', '-']).next().unwrap_or(stem);
    Some(match last.trim_end_matches('6') {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "raw" => Protocol::Raw,
        _ => return None,
    })
}

/// Parses one copy.
pub fn parse(lines: &mut Lines) -> Parsed {
    let mut out = Parsed::default();
    let all = lines.all().to_vec();
    let Some(header) = all.first() else {
        return out;
    };
    let w0 = header.split_ascii_whitespace().next().unwrap_or("");
    let kind = match w0 {
        "sl" => match table(lines.name()) {
            Some(p) => p.kind(),
            None => {
                lines.fatal(
                    1,
                    1,
                    "a copy of /proc/net/tcp, udp or raw: which one cannot be told from the \
                     text; name the file after its table (proc_net_tcp6.txt)",
                );
                return out;
            }
        },
        "Num" => Kind::Unix,
        "sk" => Kind::Packet,
        _ => {
            lines.fatal(1, 1, "not a /proc/net table header");
            return out;
        }
    };
    let protocol = table(lines.name());
    for (i, l) in all.iter().enumerate().skip(1) {
        let n = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let r = match kind {
            Kind::Unix => unix_line(l),
            Kind::Packet => packet_line(l),
            _ => inet_line(l, protocol.unwrap_or(Protocol::Tcp)),
        };
        match r {
            Some(s) => out.sockets.push(s),
            None => lines.bad(n, 1, format!("not a line of /proc/net/{}", kind.name())),
        }
    }
    out.covers = vec![(kind, Coverage::Complete)];
    if protocol.is_some() {
        out.family = Some(table_family(lines.name()));
    }
    out
}

/// Which family a copy of an inet table lists, from its name: `proc_net_tcp6.txt` IPv6.
fn table_family(name: &str) -> Family {
    let base = name.rsplit(['/', ':']).next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base);
    if stem.ends_with('6') {
        Family::Inet6
    } else {
        Family::Inet
    }
}

fn inet_line(l: &str, protocol: Protocol) -> Option<Seen> {
    let f: Vec<&str> = tokens(l).map(|t| t.1).collect();
    if f.len() < 10 || !f[0].ends_with(':') {
        return None;
    }
    let (local, v6) = hex_endpoint(f[1])?;
    let (remote, _) = hex_endpoint(f[2])?;
    let st = u8::from_str_radix(f[3], 16).ok()?;
    let mut state = State::from_kernel(st)?;
    if protocol == Protocol::Tcp && state == State::Close {
        state = State::BoundInactive;
    }
    let (tx, rx) = f[4].split_once(':')?;
    let uid: u32 = f[7].parse().ok()?;
    let inode: u64 = f[9].parse().ok()?;
    let family = if v6 { Family::Inet6 } else { Family::Inet };
    let mut s = Socket::new(protocol, family, state, inode);
    s.local = Some(local);
    s.remote = Some(remote);
    s.uid = Some(uid);
    s.recv_q = u32::from_str_radix(rx, 16).ok()?;
    s.send_q = u32::from_str_radix(tx, 16).ok()?;
    let mut gives = Gives::of(&[Give::Inode, Give::Uid]);
    // A TCP listener's send queue is its backlog in ss, 0 here: the queues of listeners are not
    // comparable.
    if !(protocol == Protocol::Tcp && state == State::Listen) {
        gives.add(Give::Queues);
    }
    Some(Seen { socket: s, gives })
}

/// `HEX:PORT`, the address as 1 or 4 host-order 32-bit words.
fn hex_endpoint(t: &str) -> Option<(Endpoint, bool)> {
    let (addr, port) = t.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    if !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let (address, v6) = match addr.len() {
        8 => {
            let w = u32::from_str_radix(addr, 16).ok()?;
            (IpAddr::V4(Ipv4Addr::from(w.to_le_bytes())), false)
        }
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            (IpAddr::V6(Ipv6Addr::from(bytes)), true)
        }
        _ => return None,
    };
    Some((Endpoint { address, port }, v6))
}

/// `Num: RefCount Protocol Flags Type St Inode [Path]`.
fn unix_line(l: &str) -> Option<Seen> {
    let t: Vec<(usize, &str)> = tokens(l).collect();
    if t.len() < 7 || !t[0].1.ends_with(':') {
        return None;
    }
    let flags = u32::from_str_radix(t[3].1, 16).ok()?;
    let protocol = match u16::from_str_radix(t[4].1, 16).ok()? {
        1 => Protocol::UnixStream,
        2 => Protocol::UnixDgram,
        5 => Protocol::UnixSeqpacket,
        _ => return None,
    };
    let st = u8::from_str_radix(t[5].1, 16).ok()?;
    let inode: u64 = t[6].1.parse().ok()?;
    // __SO_ACCEPTCON marks a listener; SS_CONNECTED (3) a connected socket.
    let state = if flags & 0x10000 != 0 {
        State::Listen
    } else if st == 3 {
        State::Established
    } else {
        State::Close
    };
    let path = t.get(7).map(|p| &l[p.0..]);
    let mut s = Socket::new(protocol, Family::Unix, state, inode);
    s.unix = Some(super::unix_info(path));
    Some(Seen {
        socket: s,
        gives: Gives::of(&[Give::Inode, Give::UnixName]),
    })
}

/// `sk RefCnt Type Proto Iface R Rmem User Inode`.
fn packet_line(l: &str) -> Option<Seen> {
    let f: Vec<&str> = tokens(l).map(|t| t.1).collect();
    if f.len() < 9 {
        return None;
    }
    let protocol = match f[2] {
        "3" => Protocol::PacketRaw,
        "2" => Protocol::PacketDgram,
        _ => return None,
    };
    let ethertype = u16::from_str_radix(f[3], 16).ok()?;
    let ifindex: u32 = f[4].parse().ok()?;
    let rmem: u32 = f[6].parse().ok()?;
    let uid: u32 = f[7].parse().ok()?;
    let inode: u64 = f[8].parse().ok()?;
    let mut s = Socket::new(protocol, Family::Packet, State::Close, inode);
    s.ifindex = (ifindex != 0).then_some(ifindex);
    s.uid = Some(uid);
    s.recv_q = rmem;
    s.packet = Some(Box::new(PacketInfo {
        ethertype,
        version: None,
        flags: None,
        fanout: None,
        copy_thresh: None,
        rx_ring: None,
        tx_ring: None,
        bpf: None,
    }));
    Some(Seen {
        socket: s,
        gives: Gives::of(&[Give::Inode, Give::Uid, Give::Queues]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, text: &str) -> Result<Parsed, super::super::ImportError> {
        let mut l = Lines::new(name, text, false);
        let p = parse(&mut l);
        l.finish(p)
    }

    #[test]
    fn inet_unix_and_packet_tables() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:61A8 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 165485 1 0000000000000000 100 0 0 10 0
";
        let p = run("proc_net_tcp.txt", tcp).unwrap();
        let s = &p.sockets[0].socket;
        assert_eq!(s.local.unwrap().address.to_string(), "127.0.0.1");
        assert_eq!(
            (s.local.unwrap().port, s.state, s.inode, s.recv_q),
            (25000, State::Listen, 165485, 3)
        );
        let e = run("capture.txt", tcp).unwrap_err().to_string();
        assert!(e.contains("1 problem"), "{e}");
        let udp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  58: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 9 2 0000000000000000 0
";
        let p = run("proc_net_udp6.txt", udp6).unwrap();
        let s = &p.sockets[0].socket;
        assert_eq!(
            (s.protocol, s.family, s.uid),
            (Protocol::Udp, Family::Inet6, Some(101))
        );
        assert_eq!(s.local.unwrap().address.to_string(), "::1");
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 164816 /srv/with space
0000000000000000: 00000003 00000000 00000000 0001 03 164817
0000000000000000: 00000002 00000000 00000000 0002 01 164818 @abs
";
        let p = run("proc_net_unix.txt", unix).unwrap();
        assert_eq!(p.sockets.len(), 3);
        assert_eq!(p.sockets[0].socket.state, State::Listen);
        assert_eq!(
            p.sockets[0]
                .socket
                .unix
                .as_ref()
                .unwrap()
                .name
                .as_ref()
                .unwrap()
                .as_bytes(),
            b"/srv/with space"
        );
        assert_eq!(p.sockets[1].socket.state, State::Established);
        assert!(p.sockets[2].socket.unix.as_ref().unwrap().r#abstract);
        let packet = "sk               RefCnt Type Proto  Iface R Rmem   User   Inode
0000000000000000 3      3    0003   0     1 0      0      164810
0000000000000000 3      2    0806   3     1 0      0      164812
";
        let p = run("proc_net_packet.txt", packet).unwrap();
        assert_eq!(p.sockets[1].socket.protocol, Protocol::PacketDgram);
        assert_eq!(
            p.sockets[1].socket.packet.as_ref().unwrap().ethertype,
            0x0806
        );
        assert_eq!(p.sockets[1].socket.ifindex, Some(3));
    }
}
