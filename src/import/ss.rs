//! `ss` output (iproute2 6.x), as `misc/ss.c` prints it when stdout is not a terminal.
//!
//! The grammar, from ss.c and captures (research: ss-internals.md, section 5):
//! - an optional header (`Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port
//!   Process`); `Netid` only when several tables were asked for, `State` only when several
//!   states were, `Process` only with `-p`; `-H` drops it;
//! - a record starts on a line that does not begin with TAB; continuation lines (`-i`, `-m`
//!   for inet, `ver:`/`bpf filter` for packet sockets) begin with TAB; `-O` puts everything
//!   on one line;
//! - unix names, comms and paths are printed raw: a newline in one splits the record, so a
//!   line that does not start a record continues the previous one;
//! - inet addresses are `ADDR[%DEV]:PORT`, IPv6 in brackets, `*` for a dual-stack `::`, `*`
//!   for port 0; unix is `NAME INODE` and `* PEER`; packet is `PROTO:DEV` and `*`;
//! - ` users:(("comm",pid=N[,tid=N],fd=N),...)`, the comm cut at its first `)`;
//! - extension tokens: `timer:(..)`, `uid:`, `ino:`, `sk:`, `fwmark:`, `v6only:`, the shutdown
//!   arrows, `skmem:(..)`, `bpf filter (N): ...`; others (`-i`'s) are not imported.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use super::detect::{SS_NETIDS, SS_STATES, name_flags};
use super::{Coverage, Give, Gives, Lines, Parsed, Seen, tokens};
use crate::model::{
    BpfInsn, ByteString, Endpoint, Family, Kind, Owner, PacketInfo, Protocol, SkMemInfo, Socket,
    State, Timer, TimerKind, UnixInfo,
};

/// The columns a file shows, from its header or its first record.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The table when there is no Netid column (one table asked for).
    table: Option<Protocol>,
    /// `-l` was given: a record without a State column is a listener.
    listening: bool,
    /// The file shows processes (`-p`).
    processes: bool,
}

/// One record: its first line's number, its main text, its continuation lines.
struct Record<'a> {
    line: usize,
    main: String,
    ext: Vec<&'a str>,
}

/// Parses a whole `ss` capture.
pub fn parse(lines: &mut Lines) -> Parsed {
    let name = lines.name();
    let flags = name_flags(name, "ss").unwrap_or("");
    let all = lines.all().to_vec();
    let mut start = 0;
    while start < all.len() && all[start].trim().is_empty() {
        start += 1;
    }
    let header = all.get(start).copied().filter(|l| {
        let w = l.split_ascii_whitespace().next().unwrap_or("");
        matches!(w, "Netid" | "State" | "Recv-Q")
    });
    let processes = header.map_or(flags.contains('p'), |h| h.contains("Process"));
    let layout = Layout {
        table: single_table(flags),
        listening: flags.contains('l'),
        processes,
    };
    let first = start + usize::from(header.is_some());
    let records = records(&all[first..], first, lines);
    let mut out = Parsed::default();
    // A capture of one table without its name: said once, not on every line.
    if let Some(r) = records.first() {
        let w0 = r.main.split_ascii_whitespace().next().unwrap_or("");
        if !SS_NETIDS.contains(&w0) && layout.table.is_none() {
            lines.fatal(
                r.line,
                1,
                "no Netid column, and the file's name does not say which table (-t, -u or -w): \
                 name it after its command, as ss_-tanp.txt",
            );
            return out;
        }
    }
    let seen = Shown::scan(&records);
    for r in &records {
        parse_record(r, &layout, &seen, lines, &mut out);
    }
    out.covers = coverage(flags, &out);
    out
}

/// The table of a one-table capture, from its flags (`-t`, `-u`, `-w`).
fn single_table(flags: &str) -> Option<Protocol> {
    let tables: Vec<char> = flags.chars().filter(|c| "tuwx0".contains(*c)).collect();
    match tables.as_slice() {
        ['t'] => Some(Protocol::Tcp),
        ['u'] => Some(Protocol::Udp),
        ['w'] => Some(Protocol::Raw),
        _ => None,
    }
}

/// Which tables the capture lists, and whether completely: from the flags in its name when it
/// has them (`-a` every state, `-l` listeners only, neither: `ss`'s default, connected only),
/// else from what it holds.
fn coverage(flags: &str, out: &Parsed) -> Vec<(Kind, Coverage)> {
    let mut kinds: Vec<Kind> = Vec::new();
    let letters = [
        ('t', Kind::Tcp),
        ('u', Kind::Udp),
        ('w', Kind::Raw),
        ('x', Kind::Unix),
        ('0', Kind::Packet),
    ];
    if flags.is_empty() {
        kinds = out
            .sockets
            .iter()
            .map(|s| s.socket.protocol.kind())
            .collect();
        kinds.sort();
        kinds.dedup();
        let listen = out
            .sockets
            .iter()
            .any(|s| matches!(s.socket.state, State::Listen | State::Close));
        let other = out
            .sockets
            .iter()
            .any(|s| !matches!(s.socket.state, State::Listen | State::Close));
        let c = match (listen, other) {
            (true, true) => Coverage::Complete,
            (true, false) => Coverage::Listening("listening sockets only"),
            _ => Coverage::Connected("connected sockets only"),
        };
        return kinds.into_iter().map(|k| (k, c)).collect();
    }
    for (c, k) in letters {
        if flags.contains(c) {
            kinds.push(k);
        }
    }
    if kinds.is_empty() {
        kinds = letters.iter().map(|(_, k)| *k).collect();
    }
    let c = if flags.contains('a') {
        Coverage::Complete
    } else if flags.contains('l') {
        Coverage::Listening("listening sockets only (-l)")
    } else {
        Coverage::Connected("connected sockets only (no -a)")
    };
    // Packet sockets are all unconnected, and ss lists them without -a.
    kinds
        .into_iter()
        .map(|k| {
            (
                k,
                if k == Kind::Packet {
                    Coverage::Complete
                } else {
                    c
                },
            )
        })
        .collect()
}

/// What the whole file shows somewhere: a detail seen on one record was asked for all.
#[derive(Debug, Default)]
struct Shown {
    timer: bool,
    ino: bool,
    skmem: bool,
    bpf: bool,
    users: bool,
}

impl Shown {
    fn scan(records: &[Record]) -> Shown {
        let mut s = Shown::default();
        for r in records {
            for t in std::iter::once(r.main.as_str()).chain(r.ext.iter().copied()) {
                s.timer |= t.contains(" timer:(");
                s.ino |= t.contains(" ino:");
                s.skmem |= t.contains("skmem:(");
                s.bpf |= t.contains("bpf filter (");
                s.users |= t.contains(" users:((");
            }
        }
        s
    }
}

/// Groups physical lines into records: TAB lines continue a record's details, and a line that
/// does not start a record continues its main line (a name with a newline in it).
fn records<'a>(lines: &[&'a str], offset: usize, diag: &mut Lines) -> Vec<Record<'a>> {
    let mut out: Vec<Record> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let n = offset + i + 1;
        if l.starts_with('\t') {
            match out.last_mut() {
                Some(r) => r.ext.push(l),
                None => diag.bad(n, 1, "a continuation line (TAB) before any socket"),
            }
        } else if l.trim().is_empty() {
            continue;
        } else if starts_record(l) {
            out.push(Record {
                line: n,
                main: l.to_string(),
                ext: Vec::new(),
            });
        } else {
            match out.last_mut() {
                Some(r) => {
                    r.main.push('\n');
                    r.main.push_str(l);
                }
                None => diag.bad(n, 1, "not an ss record: expected a Netid or a State"),
            }
        }
    }
    out
}

fn starts_record(l: &str) -> bool {
    let mut w = l.split_ascii_whitespace();
    let w0 = w.next().unwrap_or("");
    SS_NETIDS.contains(&w0)
        || SS_STATES.contains(&w0)
        || (w0.bytes().all(|b| b.is_ascii_digit()) && !w0.is_empty())
}

fn netid(s: &str) -> Option<Protocol> {
    Some(match s {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "raw" => Protocol::Raw,
        "u_str" => Protocol::UnixStream,
        "u_dgr" => Protocol::UnixDgram,
        "u_seq" => Protocol::UnixSeqpacket,
        "p_raw" => Protocol::PacketRaw,
        "p_dgr" => Protocol::PacketDgram,
        _ => return None,
    })
}

/// `ss`'s state names (UNCONN is close; a TCP socket in it is bound-inactive).
pub(crate) fn ss_state(s: &str, p: Protocol) -> Option<State> {
    Some(match s {
        "ESTAB" => State::Established,
        "SYN-SENT" => State::SynSent,
        "SYN-RECV" => State::SynRecv,
        "FIN-WAIT-1" => State::FinWait1,
        "FIN-WAIT-2" => State::FinWait2,
        "TIME-WAIT" => State::TimeWait,
        "UNCONN" if p == Protocol::Tcp => State::BoundInactive,
        "UNCONN" => State::Close,
        "CLOSE-WAIT" => State::CloseWait,
        "LAST-ACK" => State::LastAck,
        "LISTEN" => State::Listen,
        "CLOSING" => State::Closing,
        _ => return None,
    })
}

/// A record's fields in order, with columns for errors.
struct Cursor<'s> {
    text: &'s str,
    toks: Vec<(usize, &'s str)>,
    next: usize,
}

impl<'s> Cursor<'s> {
    fn new(text: &'s str) -> Cursor<'s> {
        Cursor {
            text,
            toks: tokens(text).collect(),
            next: 0,
        }
    }
    fn peek(&self) -> Option<&'s str> {
        self.toks.get(self.next).map(|t| t.1)
    }
    fn take(&mut self) -> Option<(usize, &'s str)> {
        let t = self.toks.get(self.next).copied();
        self.next += 1;
        t
    }
    /// The column (1-based, in characters) where the next token starts, or the end.
    fn col(&self) -> usize {
        let at = self.toks.get(self.next).map_or(self.text.len(), |t| t.0);
        self.text[..at].chars().count() + 1
    }
    /// The text after the last token taken.
    fn rest(&self) -> &'s str {
        match self.next.checked_sub(1).and_then(|i| self.toks.get(i)) {
            Some((at, t)) => &self.text[at + t.len()..],
            None => self.text,
        }
    }
}

/// A problem in one record: the column and what was expected.
type Bad = (usize, String);

fn parse_record(r: &Record, layout: &Layout, seen: &Shown, lines: &mut Lines, out: &mut Parsed) {
    match record(r, layout, seen, out) {
        Ok(Some(s)) => out.sockets.push(s),
        Ok(None) => {}
        Err((col, msg)) => lines.bad(r.line, col, msg),
    }
}

/// One record as a socket; `None` for a table sockwarden does not model (counted).
fn record(
    r: &Record,
    layout: &Layout,
    seen: &Shown,
    out: &mut Parsed,
) -> Result<Option<Seen>, Bad> {
    let mut c = Cursor::new(&r.main);
    let first = c.peek().unwrap_or("");
    let protocol = if SS_NETIDS.contains(&first) {
        let (_, t) = c.take().unwrap_or_default();
        match netid(t) {
            Some(p) => p,
            None => {
                *out.unsupported.entry(t.to_string()).or_default() += 1;
                return Ok(None);
            }
        }
    } else {
        layout.table.ok_or_else(|| {
            (
                1,
                "no Netid column, and the file's name does not say which table (-t, -u or -w): \
                 name it after its command, as ss_-tanp.txt"
                    .to_string(),
            )
        })?
    };
    let state = match c.peek() {
        Some(t) if SS_STATES.contains(&t) => {
            let col = c.col();
            c.take();
            ss_state(t, protocol).ok_or((col, format!("unknown state `{t}`")))?
        }
        _ => implied_state(protocol, layout.listening).ok_or((
            c.col(),
            "no State column, and the capture does not say which state (-l)".to_string(),
        ))?,
    };
    let recv_q = number::<u32>(&mut c, "Recv-Q")?;
    let send_q = number::<u32>(&mut c, "Send-Q")?;
    let mut gives = Gives::of(&[Give::Queues, Give::Owners]);
    let mut s = match protocol.kind() {
        Kind::Tcp | Kind::Udp | Kind::Raw => inet(&mut c, protocol, state, &mut gives)?,
        Kind::Unix => unix(&mut c, protocol, state, &mut gives)?,
        Kind::Packet => packet(&mut c, protocol, &mut gives)?,
        // The netid table above never names netlink (`nl` rows are counted as unsupported).
        Kind::Netlink => return Err((c.col(), "netlink sockets are not imported".to_string())),
    };
    s.recv_q = recv_q;
    s.send_q = send_q;
    let rest = c.rest();
    let ext_text = users(rest, &mut s, out).map_err(|m| (c.col(), m))?;
    let mut ext: Vec<&str> = tokens(ext_text).map(|t| t.1).collect();
    for l in &r.ext {
        ext.extend(tokens(l).map(|t| t.1));
    }
    details(&ext, &mut s, &mut gives, seen).map_err(|m| (c.col(), m))?;
    if seen.timer || seen.ino {
        gives.add(Give::Timer);
    }
    if seen.skmem {
        gives.add(Give::Memory);
    }
    if seen.bpf && protocol.is_packet() {
        gives.add(Give::Bpf);
    }
    if s.protocol.is_inet() && gives.has(Give::Inode) {
        // -e prints uid only when not 0, and fwmark only when not 0.
        gives.add(Give::Uid);
        gives.add(Give::Mark);
        gives.add(Give::V6only);
        s.uid = s.uid.or(Some(0));
        s.mark = s.mark.or(Some(0));
        gives.add(Give::Shutdown);
    }
    if !layout.processes && !seen.users {
        gives.remove(Give::Owners);
    }
    Ok(Some(Seen { socket: s, gives }))
}

/// The state of a record printed without a State column: unconnected for the datagram tables,
/// listening for a listening-only capture.
fn implied_state(p: Protocol, listening: bool) -> Option<State> {
    match p {
        Protocol::Udp
        | Protocol::Raw
        | Protocol::UnixDgram
        | Protocol::PacketRaw
        | Protocol::PacketDgram
        | Protocol::Netlink => Some(State::Close),
        _ if listening => Some(State::Listen),
        _ => None,
    }
}

fn number<T: std::str::FromStr>(c: &mut Cursor, what: &str) -> Result<T, Bad> {
    let col = c.col();
    let (_, t) = c
        .take()
        .ok_or((col, format!("the line ends before {what}")))?;
    t.parse()
        .map_err(|_| (col, format!("{what}: expected a number, found `{t}`")))
}

fn inet(c: &mut Cursor, p: Protocol, state: State, gives: &mut Gives) -> Result<Socket, Bad> {
    let col = c.col();
    let (_, l) = c
        .take()
        .ok_or((col, "the line ends before the local address".into()))?;
    let (local, dev) = endpoint(l).map_err(|m| (col, m))?;
    let col = c.col();
    let (_, r) = c
        .take()
        .ok_or((col, "the line ends before the peer address".into()))?;
    let (remote, _) = endpoint(r).map_err(|m| (col, m))?;
    let family = if local.address.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let mut s = Socket::new(p, family, state, 0);
    s.local = Some(local);
    s.remote = Some(remote);
    s.interface = dev.map(Box::from);
    gives.add(Give::Interface);
    Ok(s)
}

/// `ADDR[%DEV]:PORT`: IPv6 in brackets, `*` for `::` (and for port 0).
pub(crate) fn endpoint(t: &str) -> Result<(Endpoint, Option<String>), String> {
    let (host, port) = t
        .rsplit_once(':')
        .ok_or_else(|| format!("`{t}`: expected ADDRESS:PORT"))?;
    let port = match port {
        "*" => 0,
        p => p.parse().map_err(|_| {
            format!("`{t}`: the port is not a number (a service name: capture with -n for numbers)")
        })?,
    };
    let (addr, dev) = match host.strip_prefix('[') {
        Some(h) => {
            let (a, after) = h
                .split_once(']')
                .ok_or_else(|| format!("`{t}`: `[` without `]`"))?;
            (a, after.strip_prefix('%'))
        }
        None => match host.split_once('%') {
            Some((a, d)) => (a, Some(d)),
            None => (host, None),
        },
    };
    let address: IpAddr = match addr {
        "*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        a => a.parse().map_err(|_| {
            format!("`{t}`: `{a}` is not an IP address (a host name: capture with -n)")
        })?,
    };
    Ok((Endpoint { address, port }, dev.map(str::to_string)))
}

static UNIX: LazyLock<regex::Regex> = LazyLock::new(|| {
    // NAME INODE PEER PEERINODE: the shortest name after which the rest fits (a name may hold
    // spaces).
    regex::Regex::new(r"(?s)^\s*(.+?)\s+(-?\d+)\s+(\S+)\s+(-?\d+)(\s.*)?$").expect("valid regex")
});

fn unix(c: &mut Cursor, p: Protocol, state: State, gives: &mut Gives) -> Result<Socket, Bad> {
    let col = c.col();
    let text = c.rest();
    let m = UNIX.captures(text).ok_or((
        col,
        "expected a unix NAME INODE PEER PEER-INODE".to_string(),
    ))?;
    let name = &m[1];
    // ss 6.1 prints inodes as signed ints.
    let inode = m[2]
        .parse::<i64>()
        .map_err(|_| (col, "bad inode".to_string()))? as u32 as u64;
    let peer = m[4]
        .parse::<i64>()
        .map_err(|_| (col, "bad peer inode".to_string()))? as u32 as u64;
    let mut s = Socket::new(p, Family::Unix, state, inode);
    let (name, abs) = match name {
        "*" => (None, false),
        n => match n.strip_prefix('@') {
            Some(a) => (Some(a), true),
            None => (Some(n), false),
        },
    };
    s.unix = Some(Box::new(UnixInfo {
        name: name.map(|n| ByteString::from(n.as_bytes().to_vec())),
        r#abstract: abs,
        peer: (peer != 0).then_some(peer),
        pending: Vec::new(),
        backlog: None,
        vfs_inode: None,
        vfs_dev: None,
    }));
    for g in [Give::Inode, Give::UnixName, Give::UnixPeer] {
        gives.add(g);
    }
    // Re-tokenize what follows the peer inode.
    let tail = m.get(5).map_or("", |t| t.as_str());
    *c = Cursor::new(tail);
    Ok(s)
}

fn packet(c: &mut Cursor, p: Protocol, gives: &mut Gives) -> Result<Socket, Bad> {
    let col = c.col();
    let (_, l) = c
        .take()
        .ok_or((col, "the line ends before the packet address".into()))?;
    let (proto, dev) = l
        .rsplit_once(':')
        .ok_or((col, format!("`{l}`: expected PROTOCOL:INTERFACE")))?;
    let ethertype = match proto {
        "*" => 3,
        "ip" => 0x0800,
        "arp" => 0x0806,
        "ipv6" => 0x86dd,
        t => t
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
            .ok_or((
                col,
                format!("`{t}`: unknown packet protocol (capture with -n)"),
            ))?,
    };
    c.take(); // the peer, always `*`
    let mut s = Socket::new(p, Family::Packet, State::Close, 0);
    s.interface = (dev != "*").then(|| dev.into());
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
    gives.add(Give::Interface);
    Ok(s)
}

/// Reads ` users:((...))` at the start of `rest` into owners and comms; returns what follows.
fn users<'t>(rest: &'t str, s: &mut Socket, out: &mut Parsed) -> Result<&'t str, String> {
    let t = rest.trim_start();
    let Some(body) = t.strip_prefix("users:(") else {
        return Ok(rest);
    };
    let mut at = body;
    loop {
        let entry = at
            .strip_prefix('(')
            .ok_or_else(|| "users:(...): expected `(`".to_string())?;
        // A comm never holds `)` (ss cuts it there), so an entry ends at the first one.
        let end = entry
            .find(')')
            .ok_or_else(|| "users:(...): an entry without `)`".to_string())?;
        let (e, after) = (&entry[..end], &entry[end + 1..]);
        owner(e, s, out)?;
        if let Some(more) = after.strip_prefix(',') {
            at = more;
        } else if let Some(done) = after.strip_prefix(')') {
            return Ok(done);
        } else {
            return Err("users:(...): expected `,` or `)` after an entry".into());
        }
    }
}

/// `"comm",pid=N[,tid=N],fd=N[,...]`: the comm is between the first and the last quote.
fn owner(e: &str, s: &mut Socket, out: &mut Parsed) -> Result<(), String> {
    let open = e.find('"').ok_or("users: an entry without a quoted name")?;
    let close = e
        .rfind('"')
        .filter(|&c| c > open)
        .ok_or("users: an unterminated name")?;
    let comm = &e[open + 1..close];
    let (mut pid, mut tid, mut fd) = (None, None, None);
    for kv in e[close + 1..].split(',').filter(|k| !k.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let n = || {
            v.parse::<u32>()
                .map_err(|_| format!("users: `{kv}` is not a number"))
        };
        match k {
            "pid" => pid = Some(n()?),
            "tid" => tid = Some(n()?),
            "fd" => fd = Some(n()?),
            _ => {}
        }
    }
    let (Some(pid), Some(fd)) = (pid, fd) else {
        return Err("users: an entry without pid= or fd=".into());
    };
    if !s.owners.contains(&Owner { pid, fd }) {
        s.owners.push(Owner { pid, fd });
    }
    // With -T every thread is listed; the leader's entry (tid = pid) carries the process's comm.
    let facts = out.processes.entry(pid).or_default();
    if facts.comm.is_none() || tid == Some(pid) {
        facts.comm = Some(ByteString::from(comm.as_bytes().to_vec()));
    }
    Ok(())
}

/// The extension tokens of a record (main line and continuation lines).
fn details(ext: &[&str], s: &mut Socket, gives: &mut Gives, seen: &Shown) -> Result<(), String> {
    let mut i = 0;
    while i < ext.len() {
        let t = ext[i];
        i += 1;
        if let Some(v) = t.strip_prefix("ino:") {
            let n: u64 = v.parse().map_err(|_| format!("`{t}`: bad inode"))?;
            if s.protocol.is_unix() {
                // -e on a unix socket: the bound file's inode, not the socket's.
                if let Some(u) = s.unix.as_mut() {
                    u.vfs_inode = u32::try_from(n).ok();
                }
            } else {
                s.inode = n;
                gives.add(Give::Inode);
            }
        } else if let Some(v) = t.strip_prefix("sk:") {
            s.cookie = Some(u64::from_str_radix(v, 16).map_err(|_| format!("`{t}`: bad cookie"))?);
        } else if let Some(v) = t.strip_prefix("uid:") {
            s.uid = Some(v.parse().map_err(|_| format!("`{t}`: bad uid"))?);
        } else if let Some(v) = t.strip_prefix("fwmark:0x") {
            s.mark = Some(u32::from_str_radix(v, 16).map_err(|_| format!("`{t}`: bad mark"))?);
        } else if let Some(v) = t.strip_prefix("v6only:") {
            s.v6only = Some(v == "1");
            gives.add(Give::V6only);
        } else if let Some(v) = t.strip_prefix("timer:(") {
            s.timer = Some(timer(v.trim_end_matches(')')).ok_or(format!("`{t}`: bad timer"))?);
        } else if let Some(v) = t.strip_prefix("skmem:(") {
            s.memory = Some(Box::new(
                skmem(v.trim_end_matches(')')).ok_or(format!("`{t}`: bad skmem"))?,
            ));
        } else if let Some(v) = shutdown(t) {
            s.shutdown = Some(v);
            gives.add(Give::Shutdown);
        } else if let Some(v) = t.strip_prefix("ver:") {
            if let Some(p) = s.packet.as_mut() {
                p.version = v.parse().ok();
            }
        } else if t == "bpf" && ext.get(i) == Some(&"filter") {
            let n = ext
                .get(i + 1)
                .and_then(|n| n.strip_prefix('('))
                .and_then(|n| n.strip_suffix("):"))
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or("bpf filter: expected (N):")?;
            let words = ext
                .get(i + 2..i + 2 + 4 * n)
                .ok_or("bpf filter: fewer instructions than announced")?;
            let prog = words
                .chunks(4)
                .map(|w| bpf_insn(w).ok_or("bpf filter: a bad instruction"))
                .collect::<Result<Vec<_>, _>>()?;
            i += 2 + 4 * n;
            if let Some(p) = s.packet.as_mut() {
                p.bpf = (!prog.is_empty()).then_some(prog);
            }
        }
    }
    if seen.bpf && s.protocol.is_packet() {
        gives.add(Give::Bpf);
    }
    Ok(())
}

fn bpf_insn(w: &[&str]) -> Option<BpfInsn> {
    let code = u16::from_str_radix(w[0].strip_prefix("0x")?, 16).ok()?;
    Some(BpfInsn {
        code,
        jt: w[1].parse().ok()?,
        jf: w[2].parse().ok()?,
        k: w[3].trim_end_matches(',').parse().ok()?,
    })
}

/// `<->`, `-->`, `<--`, `---`: which directions were shut down.
fn shutdown(t: &str) -> Option<u8> {
    let b = t.as_bytes();
    if b.len() != 3 || b[1] != b'-' || !matches!(b[0], b'<' | b'-') || !matches!(b[2], b'>' | b'-')
    {
        return None;
    }
    Some(u8::from(b[0] == b'-') | (u8::from(b[2] == b'-') << 1))
}

/// `NAME,TIME,RETRANS`, TIME as `[Nmin][S(sec|.)][MMM(ms|sec)]` (or empty).
fn timer(v: &str) -> Option<Timer> {
    let mut f = v.split(',');
    let kind = TimerKind::parse(f.next()?)?;
    let time = f.next()?;
    let retrans = f.next()?.parse().ok()?;
    Some(Timer {
        kind,
        expires_ms: duration_ms(time)?,
        retrans,
    })
}

fn duration_ms(t: &str) -> Option<u32> {
    let mut ms: u64 = 0;
    let mut rest = t;
    if let Some((m, r)) = rest.split_once("min") {
        ms += m.parse::<u64>().ok()? * 60_000;
        rest = r;
    }
    if let Some((secs, frac)) = rest.split_once('.') {
        let frac = frac.trim_end_matches("ms").trim_end_matches("sec");
        ms += secs.parse::<u64>().ok()? * 1000 + frac.parse::<u64>().ok()?;
    } else if let Some(s) = rest.strip_suffix("sec") {
        // `1min6sec`, `59sec`
        ms += s.parse::<u64>().ok()? * 1000;
    } else if let Some(m) = rest.strip_suffix("ms") {
        ms += m.parse::<u64>().ok()?;
    } else if !rest.is_empty() {
        return None;
    }
    u32::try_from(ms).ok()
}

fn skmem(v: &str) -> Option<SkMemInfo> {
    let mut m = SkMemInfo {
        rmem_alloc: 0,
        rcvbuf: 0,
        wmem_alloc: 0,
        sndbuf: 0,
        fwd_alloc: 0,
        wmem_queued: 0,
        optmem: 0,
        backlog: None,
        drops: None,
    };
    for f in v.split(',') {
        let at = f.find(|c: char| c.is_ascii_digit())?;
        let (k, n) = f.split_at(at);
        let n: u32 = n.parse().ok()?;
        match k {
            "r" => m.rmem_alloc = n,
            "rb" => m.rcvbuf = n,
            "t" => m.wmem_alloc = n,
            "tb" => m.sndbuf = n,
            "f" => m.fwd_alloc = n,
            "w" => m.wmem_queued = n,
            "o" => m.optmem = n,
            "bl" => m.backlog = Some(n),
            "d" => m.drops = Some(n),
            _ => return None,
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(name: &str, text: &str) -> Parsed {
        let mut l = Lines::new(name, text, false);
        let p = parse(&mut l);
        l.finish(p).unwrap()
    }

    #[test]
    fn every_table_with_owners_details_and_continuations() {
        let text = "Netid State      Recv-Q Send-Q      Local Address:Port  Peer Address:Port Process
p_raw UNCONN     0      0                [2048]:eth0           *       users:((\"sslab-main\",pid=31355,fd=532)) ino:164811 sk:7783
\tver:0 cpy_thresh:0 flags( running )
\tbpf filter (2):  0x28 0 0 12, 0x06 0 0 0,
u_str ESTAB      0      0      /srv/with space.sock 164822   * 164821 users:((\"a b\",pid=7,fd=3))
u_dgr UNCONN     0      0          @odd-comm-owner 164751  * 0      users:((\"odd\",pid=31399,fd=4))
udp   UNCONN     0      0       0.0.0.0%eth0:30300     0.0.0.0:*      users:((\"x\",pid=1,fd=9)) ino:164800 sk:77c4 cgroup:unreachable:1 <->
\tskmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)
tcp   LISTEN     0      128         *:22500                *:*        users:((\"sslab-child\",pid=31398,fd=3),(\"sslab-main\",pid=31355,fd=3)) uid:1000 ino:5 sk:1 v6only:0 <->
tcp   TIME-WAIT  0      0      127.0.0.1:24012    127.0.0.1:45170 timer:(timewait,59sec,0) ino:0 sk:789c
\t
tcp   ESTAB  0 2803712     [::ffff:127.0.0.1]:54968    [::ffff:127.0.0.1]:24004  users:((\"p\",pid=2,fd=3)) timer:(persist,1min6sec,0) ino:9 sk:2 fwmark:0x2a -->
nl    UNCONN     0      0                     rtnl:kernel      *
";
        let p = parse_str("ss_-tuawx0npeimb.txt", text);
        assert_eq!(p.sockets.len(), 7);
        assert_eq!(p.unsupported.get("nl"), Some(&1));
        let s = &p.sockets[0].socket;
        assert_eq!(s.protocol, Protocol::PacketRaw);
        assert_eq!(s.inode, 164811);
        assert_eq!(s.interface.as_deref(), Some("eth0"));
        let pk = s.packet.as_ref().unwrap();
        assert_eq!(pk.ethertype, 2048);
        assert_eq!(pk.bpf.as_ref().unwrap().len(), 2);
        let u = &p.sockets[1].socket;
        assert_eq!(u.inode, 164822);
        assert_eq!(
            u.unix.as_ref().unwrap().name.as_ref().unwrap().as_bytes(),
            b"/srv/with space.sock"
        );
        assert_eq!(u.unix.as_ref().unwrap().peer, Some(164821));
        assert_eq!(p.processes[&7].comm.as_ref().unwrap().as_bytes(), b"a b");
        let a = &p.sockets[2].socket;
        assert!(a.unix.as_ref().unwrap().r#abstract);
        let udp = &p.sockets[3].socket;
        assert_eq!(udp.interface.as_deref(), Some("eth0"));
        assert_eq!(udp.memory.as_ref().unwrap().rcvbuf, 212992);
        assert_eq!(udp.shutdown, Some(0));
        let l = &p.sockets[4].socket;
        assert_eq!(l.family, Family::Inet6);
        assert_eq!(l.owners.len(), 2);
        assert_eq!(l.uid, Some(1000));
        assert_eq!(l.v6only, Some(false));
        let tw = &p.sockets[5].socket;
        assert_eq!(tw.state, State::TimeWait);
        assert_eq!(tw.timer.as_ref().unwrap().expires_ms, 59_000);
        assert_eq!(tw.uid, Some(0));
        let e = &p.sockets[6].socket;
        assert_eq!(e.send_q, 2803712);
        assert_eq!(e.mark, Some(0x2a));
        assert_eq!(e.shutdown, Some(1));
        assert_eq!(e.timer.as_ref().unwrap().expires_ms, 66_000);
        assert!(p.sockets.iter().all(|s| s.gives.has(Give::Owners)));
        assert_eq!(p.covers.len(), 5);
        assert!(p.covers.iter().all(|c| c.1 == Coverage::Complete));
    }

    #[test]
    fn hostile_comms_and_names_with_newlines() {
        // A comm with quotes and commas, and a unix name holding a newline (ss prints both raw).
        let text = "u_str LISTEN 0 5 /tmp/a\nb 42 * 0 users:((\"q\",pid=1,fd=2\",pid=5,fd=3))
tcp LISTEN 0 5 0.0.0.0:1 0.0.0.0:* users:((\"x y\",pid=6,fd=4))
";
        let p = parse_str("capture", text);
        assert_eq!(p.sockets.len(), 2);
        let u = &p.sockets[0].socket;
        assert_eq!(
            u.unix.as_ref().unwrap().name.as_ref().unwrap().as_bytes(),
            b"/tmp/a\nb"
        );
        assert_eq!(u.owners.as_slice(), [Owner { pid: 5, fd: 3 }]);
        assert_eq!(
            p.processes[&5].comm.as_ref().unwrap().as_bytes(),
            b"q\",pid=1,fd=2"
        );
        assert_eq!(p.processes[&6].comm.as_ref().unwrap().as_bytes(), b"x y");
    }

    #[test]
    fn headerless_one_table_captures_take_the_table_from_the_name() {
        let text = "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n";
        let p = parse_str("ss_-Htan.txt", text);
        assert_eq!(p.sockets.len(), 2);
        assert!(p.sockets.iter().all(|s| s.socket.protocol == Protocol::Tcp));
        assert!(!p.sockets[0].gives.has(Give::Owners));
        let mut l = Lines::new("capture.txt", text, false);
        let parsed = parse(&mut l);
        let e = l.finish(parsed).unwrap_err().to_string();
        assert!(
            e.contains("1 problem") && e.contains("capture.txt:1:1: no Netid"),
            "{e}"
        );
    }

    #[test]
    fn bad_lines_are_located_and_lenient_skips_them() {
        let text = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\ntcp LISTEN x 0 0.0.0.0:22 0.0.0.0:*\ntcp ESTAB 0 0 10.0.0.1:ssh 10.0.0.2:5000\ntcp ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n";
        let mut l = Lines::new("f", text, false);
        let p = parse(&mut l);
        let super::super::ImportError::Invalid(d) = l.finish(p).unwrap_err() else {
            panic!()
        };
        let d: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("f:2:"), "{d:?}");
        assert!(d[1].starts_with("f:3:") && d[1].contains("-n"), "{d:?}");
        let mut l = Lines::new("f", text, true);
        let p = parse(&mut l);
        let p = l.finish(p).unwrap();
        assert_eq!((p.sockets.len(), p.skipped), (1, 2));
    }

    #[test]
    fn timers_in_every_spelling() {
        for (t, ms) in [
            ("119min", 7_140_000),
            ("1min6sec", 66_000),
            ("59sec", 59_000),
            ("748ms", 748),
            ("4.488ms", 4488),
            ("4.488sec", 4488),
            ("", 0),
        ] {
            assert_eq!(duration_ms(t), Some(ms), "{t}");
        }
        assert_eq!(duration_ms("x"), None);
    }
}
