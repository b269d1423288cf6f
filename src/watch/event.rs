//! Socket events: the ring buffer's records decoded (a pure function of their bytes), and what
//! each transition means.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::collect::sockhooks::{SOCK_RECORD, UNIX_RECORD, kind};
use crate::collect::tracepoint::{COMPACT, FLAG_CONNECT, FULL, tcp_state};
use crate::model::{ByteString, State};

crate::model::vocabulary! {
    /// What a socket event means for watch (docs/watch.md, "Events"): a TCP state change, or a
    /// UDP, raw, packet or unix call.
    pub enum Action {
        /// CLOSE → SYN_SENT: `connect()`, in the connecting process; the local port may not be
        /// chosen yet.
        Connect => "connect",
        /// SYN_SENT → ESTABLISHED: the outbound connection is up (not in the process's context:
        /// attributed to the process that called `connect()`).
        Connected => "connected",
        /// CLOSE → LISTEN: `listen()`, in the listening process.
        Listen => "listen",
        /// SYN_RECV → ESTABLISHED: a passive open, attributed to the listening socket's holder.
        Accepted => "accepted",
        /// Any state → CLOSE: the socket is gone (a refused connect: SYN_SENT → CLOSE).
        Close => "close",
        /// Another transition into ESTABLISHED (none is expected; kept, not interpreted).
        Other => "other",
        /// A UDP datagram to a peer its socket had not sent to (`sendto`, `sendmsg`), in the
        /// sending process.
        Send => "send",
        /// A UDP socket's `bind()`: a listener, in the binding process.
        Bind => "bind",
        /// A raw or packet socket made by `socket()`, in the process that made it.
        Open => "open",
    }
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Nanoseconds since boot (CLOCK_MONOTONIC) when it happened.
    pub ktime_ns: u64,
    /// The socket's kernel address: its identity while it lives.
    pub skaddr: u64,
    /// Thread-group id of the current task (initial PID namespace).
    pub tgid: u32,
    /// The current task's uid.
    pub uid: u32,
    /// The current task's cgroup v2 id.
    pub cgroup_id: u64,
    /// TCP state before.
    pub old: u32,
    /// TCP state after.
    pub new: u32,
    /// AF_INET6 (else AF_INET).
    pub v6: bool,
    /// Local address and port.
    pub local: (IpAddr, u16),
    /// Remote address and port.
    pub remote: (IpAddr, u16),
    /// The current task's comm (NUL stripped).
    pub comm: ByteString,
    /// The socket's network namespace inode, when the program could read it.
    pub netns: Option<u64>,
    /// The time, pid, uid, cgroup and comm are those of the `connect()` the kernel kept until
    /// this connection was up or refused (`tracepoint::FLAG_CONNECT`), not of the task the
    /// transition ran in.
    pub from_connect: bool,
}

impl Event {
    /// The transition's meaning.
    pub fn action(&self) -> Action {
        match (self.old, self.new) {
            (_, tcp_state::SYN_SENT) => Action::Connect,
            (_, tcp_state::LISTEN) => Action::Listen,
            (tcp_state::SYN_SENT, tcp_state::ESTABLISHED) => Action::Connected,
            (tcp_state::SYN_RECV, tcp_state::ESTABLISHED) => Action::Accepted,
            (_, tcp_state::CLOSE) => Action::Close,
            _ => Action::Other,
        }
    }

    /// The socket's state as watch judges it: a refused connect (SYN_SENT → CLOSE) is still
    /// the `syn-sent` attempt it was.
    pub fn state_after(&self) -> State {
        match self.action() {
            Action::Listen => State::Listen,
            Action::Connect => State::SynSent,
            Action::Close if self.old == tcp_state::SYN_SENT => State::SynSent,
            Action::Close => State::Close,
            _ => State::Established,
        }
    }

    /// Whether rules see this event's socket: once its identity is complete. A connect's local
    /// port is chosen after the SYN_SENT event, so a connection is judged when it is up, or
    /// refused.
    pub fn judged(&self) -> bool {
        match self.action() {
            Action::Listen | Action::Connected | Action::Accepted => true,
            Action::Close => self.old == tcp_state::SYN_SENT,
            // The other actions come from SOCK_RECORDs, never from a TCP transition.
            Action::Connect | Action::Other | Action::Send | Action::Bind | Action::Open => false,
        }
    }

    /// Whether the event's process fields are those of the process that acted on the socket:
    /// it ran in its context, or carries the connect's.
    pub fn in_process_context(&self) -> bool {
        self.from_connect || matches!(self.action(), Action::Connect | Action::Listen)
    }
}

// Records are told apart by their length: the four must differ, and a compact record with the
// ring's 8-byte header is one 64-byte cache line.
const _: () = assert!(
    COMPACT.len + 8 == 64
        && FULL.len != COMPACT.len
        && FULL.len != SOCK_RECORD
        && FULL.len != UNIX_RECORD
        && COMPACT.len != SOCK_RECORD
        && COMPACT.len != UNIX_RECORD
);

fn u16_at(r: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([r[at], r[at + 1]])
}
fn u32_at(r: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(r[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(r: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(r[at..at + 8].try_into().expect("8 bytes"))
}

/// Decodes one TCP record, [`FULL`] or [`COMPACT`] by its length (the layouts are the
/// program's own definitions); `None` for a record of another length or family. A field the
/// layout lacks reads as 0 (a compact record: an AF_INET socket, no process).
pub fn decode(r: &[u8]) -> Option<Event> {
    let l = match r.len() {
        n if n == FULL.len => &FULL,
        n if n == COMPACT.len => &COMPACT,
        _ => return None,
    };
    let v6 = match l.family.map(|at| u16_at(r, at)) {
        None | Some(2) => false,
        Some(10) => true,
        Some(_) => return None,
    };
    let addr = |v4: usize, v6at: Option<usize>| -> IpAddr {
        match v6at.filter(|_| v6) {
            Some(at) => {
                let b: [u8; 16] = r[at..at + 16].try_into().expect("16 bytes");
                IpAddr::V6(Ipv6Addr::from(b))
            }
            None => IpAddr::V4(Ipv4Addr::new(r[v4], r[v4 + 1], r[v4 + 2], r[v4 + 3])),
        }
    };
    let word = |at: Option<usize>| at.map_or(0, |at| u64_at(r, at));
    let comm = l.comm.map_or(&[][..], |at| &r[at..at + 16]);
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    let netns = u32_at(r, l.netns);
    Some(Event {
        ktime_ns: u64_at(r, l.ktime),
        skaddr: u64_at(r, l.skaddr),
        tgid: (word(l.pid_tgid) >> 32) as u32,
        uid: word(l.uid_gid) as u32,
        cgroup_id: word(l.cgroup),
        old: u32_at(r, l.old),
        new: u32_at(r, l.new),
        v6,
        local: (addr(l.saddr, l.saddr_v6), u16_at(r, l.sport)),
        remote: (addr(l.daddr, l.daddr_v6), u16_at(r, l.dport)),
        comm: ByteString(comm[..end].to_vec()),
        netns: (netns != 0).then_some(u64::from(netns)),
        from_connect: l.flags.is_some_and(|at| u32_at(r, at) & FLAG_CONNECT != 0),
    })
}

/// One record of the UDP, raw, packet and unix programs
/// ([`crate::collect::sockhooks::SOCK_RECORD`]), decoded. Each ran in the acting process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockEvent {
    /// Nanoseconds since boot when it happened.
    pub ktime_ns: u64,
    /// The socket's cookie (UDP events; 0 for the others).
    pub cookie: u64,
    /// Thread-group id of the acting task (initial PID namespace).
    pub tgid: u32,
    /// Its uid.
    pub uid: u32,
    /// Its cgroup v2 id.
    pub cgroup_id: u64,
    /// What it reports: `Connect` (UDP), `Send`, `Bind`, `Open` or `Listen`.
    pub action: Action,
    /// Address family (2, 10, 17).
    pub family: u32,
    /// The socket type (`SOCK_DGRAM`, `SOCK_RAW`, ...), flags stripped.
    pub sock_type: u32,
    /// The protocol: IP protocol number, or for a packet socket the ethertype (host order).
    pub protocol: u32,
    /// Local address and port (UDP events).
    pub local: (IpAddr, u16),
    /// Remote address and port (UDP connect and send).
    pub remote: (IpAddr, u16),
    /// The descriptor (`Open`: the new socket's; `u32::MAX` when the event does not name it).
    pub fd: u32,
    /// The acting task's comm.
    pub comm: ByteString,
    /// The socket's inode, when the kernel gave it (a unix listener); 0 otherwise.
    pub inode: u64,
    /// The socket's network namespace inode, when the kernel gave it (a unix listener).
    pub netns: Option<u64>,
    /// A unix listener's bound name and backlog, as the kernel gave them.
    pub unix: Option<UnixListen>,
}

/// What the kernel told of a unix socket that began listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixListen {
    /// The bound name's bytes: a path up to its NUL, or an abstract name without its leading
    /// NUL; `None` when the address holds no name.
    pub name: Option<Vec<u8>>,
    /// The name is in the abstract namespace.
    pub r#abstract: bool,
    /// The backlog given to `listen()`.
    pub backlog: u32,
}

/// A record of either program family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A TCP state change.
    Tcp(Event),
    /// A UDP, raw, packet or unix event.
    Sock(SockEvent),
}

/// Decodes a record by its length: [`FULL`] or [`COMPACT`] bytes are TCP, [`UNIX_RECORD`] a
/// unix listener, [`SOCK_RECORD`] the others.
pub fn decode_any(r: &[u8]) -> Option<Decoded> {
    match r.len() {
        n if n == FULL.len || n == COMPACT.len => decode(r).map(Decoded::Tcp),
        SOCK_RECORD => decode_sock(r).map(Decoded::Sock),
        UNIX_RECORD => decode_unix(r).map(Decoded::Sock),
        _ => None,
    }
}

/// The comm at bytes 96..112 of a record, NUL stripped.
fn comm_of(r: &[u8]) -> ByteString {
    let comm = &r[96..112];
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    ByteString(comm[..end].to_vec())
}

/// The name in a `struct sockaddr_un` of `len` bytes (family included), as `unix_address`
/// holds it: a path ends at its NUL; an abstract name starts with one and runs to `len`.
fn unix_name(addr: &[u8], len: usize) -> (Option<Vec<u8>>, bool) {
    let path = &addr[2.min(addr.len())..len.clamp(2, addr.len())];
    match path.split_first() {
        None => (None, false),
        Some((0, rest)) => (Some(rest.to_vec()), true),
        Some(_) => {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            (Some(path[..end].to_vec()), false)
        }
    }
}

/// Decodes one [`UNIX_RECORD`]: a unix socket that began listening; `None` for another
/// length or kind.
pub fn decode_unix(r: &[u8]) -> Option<SockEvent> {
    if r.len() != UNIX_RECORD || u32_at(r, 40) != kind::LISTEN || u32_at(r, 44) != 1 {
        return None;
    }
    let (name, r#abstract) = unix_name(&r[132..242], u32_at(r, 128) as usize);
    let nowhere = (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let netns = u32_at(r, 112);
    Some(SockEvent {
        ktime_ns: u64_at(r, 0),
        cookie: 0,
        tgid: (u64_at(r, 16) >> 32) as u32,
        uid: u64_at(r, 24) as u32,
        cgroup_id: u64_at(r, 32),
        action: Action::Listen,
        family: 1,
        sock_type: u32::from(u16_at(r, 48)),
        protocol: 0,
        local: nowhere,
        remote: nowhere,
        fd: u32::MAX,
        comm: comm_of(r),
        inode: u64_at(r, 56),
        netns: (netns != 0).then_some(u64::from(netns)),
        unix: Some(UnixListen {
            name,
            r#abstract,
            backlog: u32_at(r, 52),
        }),
    })
}

/// Decodes one [`SOCK_RECORD`]; `None` for another length, kind or family.
pub fn decode_sock(r: &[u8]) -> Option<SockEvent> {
    if r.len() != SOCK_RECORD {
        return None;
    }
    let action = match u32_at(r, 40) {
        kind::CONNECT => Action::Connect,
        kind::SEND => Action::Send,
        kind::BIND => Action::Bind,
        kind::OPEN => Action::Open,
        _ => return None,
    };
    let family = u32_at(r, 44);
    let v6 = match family {
        2 | 17 | 0 => false,
        10 => true,
        _ => return None,
    };
    let addr = |at: usize| -> IpAddr {
        if v6 {
            let b: [u8; 16] = r[at..at + 16].try_into().expect("16 bytes");
            IpAddr::V6(Ipv6Addr::from(b))
        } else {
            IpAddr::V4(Ipv4Addr::new(r[at], r[at + 1], r[at + 2], r[at + 3]))
        }
    };
    let mut protocol = u32_at(r, 52);
    if family == 17 {
        // socket(AF_PACKET, type, htons(ETH_P_...)): the ethertype in network order.
        protocol = u32::from(u16::from_be(protocol as u16));
    }
    Some(SockEvent {
        ktime_ns: u64_at(r, 0),
        cookie: u64_at(r, 8),
        tgid: (u64_at(r, 16) >> 32) as u32,
        uid: u64_at(r, 24) as u32,
        cgroup_id: u64_at(r, 32),
        action,
        family,
        sock_type: u32_at(r, 48) & 0xf,
        protocol,
        local: (addr(56), u16_at(r, 90)),
        remote: (addr(72), u16::from_be_bytes([r[88], r[89]])),
        fd: u32_at(r, 92),
        comm: comm_of(r),
        inode: 0,
        netns: None,
        unix: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UDP send record as the program lays it out: pid 0x1234, uid 1000, 10.0.0.5:40000 →
    /// 203.0.113.7:53, comm `dig`.
    fn send_record() -> [u8; 128] {
        let mut r = [0u8; 128];
        r[0..8].copy_from_slice(&7u64.to_ne_bytes());
        r[8..16].copy_from_slice(&99u64.to_ne_bytes());
        r[16..24].copy_from_slice(&((0x1234u64 << 32) | 0x1235).to_ne_bytes());
        r[24..32].copy_from_slice(&((1000u64 << 32) | 1000).to_ne_bytes());
        r[40..44].copy_from_slice(&kind::SEND.to_ne_bytes());
        r[44..48].copy_from_slice(&2u32.to_ne_bytes());
        r[48..52].copy_from_slice(&(2u32 | 0o2000000).to_ne_bytes());
        r[52..56].copy_from_slice(&17u32.to_ne_bytes());
        r[56..60].copy_from_slice(&[10, 0, 0, 5]);
        r[72..76].copy_from_slice(&[203, 0, 113, 7]);
        r[88..90].copy_from_slice(&53u16.to_be_bytes());
        r[90..92].copy_from_slice(&40000u16.to_ne_bytes());
        r[96..99].copy_from_slice(b"dig");
        r
    }

    #[test]
    fn decodes_a_sock_record() {
        let e = decode_sock(&send_record()).unwrap();
        assert_eq!(e.action, Action::Send);
        assert_eq!((e.tgid, e.uid, e.cookie), (0x1234, 1000, 99));
        assert_eq!(e.local, ("10.0.0.5".parse().unwrap(), 40000));
        assert_eq!(e.remote, ("203.0.113.7".parse().unwrap(), 53));
        assert_eq!((e.sock_type, e.protocol), (2, 17), "SOCK_CLOEXEC stripped");
        assert_eq!(e.comm, ByteString(b"dig".to_vec()));
        assert!(matches!(decode_any(&send_record()), Some(Decoded::Sock(_))));
        assert!(matches!(decode_any(&LISTEN), Some(Decoded::Tcp(_))));
        assert_eq!(decode_any(&send_record()[..127]), None);
    }

    /// A unix listener's record: pid 0x1234, a seqpacket socket, inode 9001, backlog 16,
    /// netns 4026532001, bound to `addr` (`len` bytes with the family).
    fn unix_record(addr: &[u8]) -> [u8; 256] {
        let mut r = [0u8; 256];
        r[16..24].copy_from_slice(&((0x1234u64 << 32) | 0x1234).to_ne_bytes());
        r[40..44].copy_from_slice(&kind::LISTEN.to_ne_bytes());
        r[44..48].copy_from_slice(&1u32.to_ne_bytes());
        r[48..50].copy_from_slice(&5u16.to_ne_bytes());
        r[52..56].copy_from_slice(&16u32.to_ne_bytes());
        r[56..64].copy_from_slice(&9001u64.to_ne_bytes());
        r[96..100].copy_from_slice(b"srv\0");
        r[112..116].copy_from_slice(&4026532001u32.to_ne_bytes());
        r[128..132].copy_from_slice(&(addr.len() as u32 + 2).to_ne_bytes());
        r[132..134].copy_from_slice(&1u16.to_ne_bytes());
        r[134..134 + addr.len()].copy_from_slice(addr);
        r
    }

    #[test]
    fn decodes_a_unix_listener_record() {
        let Some(Decoded::Sock(e)) = decode_any(&unix_record(b"/run/a b.sock\0")) else {
            panic!("not a sock event")
        };
        assert_eq!((e.action, e.family, e.sock_type), (Action::Listen, 1, 5));
        assert_eq!((e.tgid, e.inode, e.netns), (0x1234, 9001, Some(4026532001)));
        assert_eq!(e.comm, ByteString(b"srv".to_vec()));
        let u = e.unix.unwrap();
        assert_eq!(
            (u.name, u.r#abstract, u.backlog),
            (Some(b"/run/a b.sock".to_vec()), false, 16)
        );
        // An abstract name runs to the address's length, NULs and newlines included.
        let e = decode_unix(&unix_record(b"\0hid\0den\n")).unwrap();
        let u = e.unix.unwrap();
        assert_eq!((u.name, u.r#abstract), (Some(b"hid\0den\n".to_vec()), true));
        // No name; a length beyond the address is clamped; another kind is skipped.
        assert_eq!(
            decode_unix(&unix_record(b"")).unwrap().unix.unwrap().name,
            None
        );
        let mut r = unix_record(b"/x");
        r[128..132].copy_from_slice(&9999u32.to_ne_bytes());
        assert_eq!(
            decode_unix(&r).unwrap().unix.unwrap().name,
            Some(b"/x".to_vec())
        );
        r[40..44].copy_from_slice(&kind::OPEN.to_ne_bytes());
        assert_eq!(decode_unix(&r), None);
    }

    #[test]
    fn a_packet_sockets_ethertype_is_in_host_order_and_unknown_kinds_are_skipped() {
        let mut r = send_record();
        r[40..44].copy_from_slice(&kind::OPEN.to_ne_bytes());
        r[44..48].copy_from_slice(&17u32.to_ne_bytes());
        r[48..52].copy_from_slice(&3u32.to_ne_bytes());
        // htons(ETH_P_ALL) as the int argument of socket().
        r[52..56].copy_from_slice(&u32::from(3u16.to_be()).to_ne_bytes());
        let e = decode_sock(&r).unwrap();
        assert_eq!((e.action, e.family, e.protocol), (Action::Open, 17, 3));
        r[40..44].copy_from_slice(&9u32.to_ne_bytes());
        assert_eq!(decode_sock(&r), None);
    }

    /// A record the program wrote on this machine (a LISTEN on 127.0.0.1:38353, comm
    /// `collect::tracep`, netns 4026531833), as the unit test of the tracer printed it.
    const LISTEN: [u8; 120] = [
        172, 226, 165, 50, 189, 1, 0, 0, 0, 165, 242, 65, 129, 136, 255, 255, 233, 111, 0, 0, 232,
        111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 10, 0, 0, 0, 209,
        149, 0, 0, 2, 0, 6, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255,
        127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 99, 111, 108, 108, 101,
        99, 116, 58, 58, 116, 114, 97, 99, 101, 112, 0, 249, 255, 255, 239, 0, 0, 0, 0,
    ];

    #[test]
    fn decodes_a_recorded_listen() {
        let e = decode(&LISTEN).unwrap();
        assert_eq!(e.action(), Action::Listen);
        assert!(e.in_process_context());
        assert_eq!(e.tgid, 0x6fe8);
        assert_eq!(e.uid, 0);
        assert_eq!(e.local, ("127.0.0.1".parse().unwrap(), 38353));
        assert_eq!(e.remote, ("0.0.0.0".parse().unwrap(), 0));
        assert_eq!(e.comm, ByteString(b"collect::tracep".to_vec()));
        assert_eq!(e.netns, Some(4026531833));
        assert!(!e.v6);
    }

    /// The flags word: a connection whose process is its connect's, kept by the kernel.
    #[test]
    fn decodes_the_connect_flag() {
        let mut r = LISTEN;
        assert!(!decode(&r).unwrap().from_connect);
        r[40..44].copy_from_slice(&tcp_state::SYN_SENT.to_ne_bytes());
        r[44..48].copy_from_slice(&tcp_state::ESTABLISHED.to_ne_bytes());
        r[116..120].copy_from_slice(&FLAG_CONNECT.to_ne_bytes());
        let e = decode(&r).unwrap();
        assert!(e.from_connect && e.in_process_context());
        assert_eq!(e.action(), Action::Connected);
    }

    /// A compact record (an AF_INET socket's, without a process) decodes to what the full
    /// record of the same transition says, with the process fields 0: both through the one
    /// definition of each layout.
    #[test]
    fn a_compact_record_reads_as_its_full_record_without_the_process() {
        let mut full = LISTEN;
        full[FULL.old..FULL.old + 4].copy_from_slice(&tcp_state::SYN_RECV.to_ne_bytes());
        full[FULL.new..FULL.new + 4].copy_from_slice(&tcp_state::ESTABLISHED.to_ne_bytes());
        let want = decode(&full).unwrap();
        let mut r = [0xeeu8; 56];
        for (from, to, len) in [
            (FULL.ktime, COMPACT.ktime, 8),
            (FULL.skaddr, COMPACT.skaddr, 8),
            (FULL.old, COMPACT.old, 4),
            (FULL.new, COMPACT.new, 4),
            (FULL.sport, COMPACT.sport, 2),
            (FULL.dport, COMPACT.dport, 2),
            (FULL.saddr, COMPACT.saddr, 4),
            (FULL.daddr, COMPACT.daddr, 4),
            (FULL.netns, COMPACT.netns, 4),
        ] {
            r[to..to + len].copy_from_slice(&full[from..from + len]);
        }
        let Some(Decoded::Tcp(e)) = decode_any(&r) else {
            panic!("not a TCP record")
        };
        assert_eq!(e.action(), Action::Accepted);
        assert_eq!(
            e,
            Event {
                tgid: 0,
                uid: 0,
                cgroup_id: 0,
                comm: ByteString(Vec::new()),
                ..want
            }
        );
        assert!(!e.from_connect && !e.in_process_context());
        assert_eq!(decode(&r[..55]), None);
    }

    #[test]
    fn other_lengths_and_families_are_skipped() {
        assert_eq!(decode(&LISTEN[..119]), None);
        let mut r = LISTEN;
        r[52] = 1; // AF_UNIX
        assert_eq!(decode(&r), None);
        r[52] = 10;
        let e = decode(&r).unwrap();
        assert_eq!(e.local.0, "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn transitions() {
        let mut e = decode(&LISTEN).unwrap();
        for (old, new, want) in [
            (7, 2, Action::Connect),
            (2, 1, Action::Connected),
            (3, 1, Action::Accepted),
            (2, 7, Action::Close),
            (9, 1, Action::Other),
        ] {
            (e.old, e.new) = (old, new);
            assert_eq!(e.action(), want, "{old} -> {new}");
        }
    }
}
