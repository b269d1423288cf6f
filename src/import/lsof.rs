//! `lsof` output (4.95): the default columns (`-nPi`, `-nPli`, `-U`) and the `-F` field form.
//!
//! One line (or field set) per (process, fd): a shared socket is listed once per holder, and a
//! socket no process holds (TIME-WAIT, SYN-RECV) not at all, so lsof gives every owner of what
//! it lists but covers no table completely. For inet sockets DEVICE is the socket inode and
//! NODE the protocol; NAME is `LOCAL[->REMOTE] [(STATE)]`, IPv6 bracketed, v4-mapped addresses
//! as IPv4. For unix sockets NODE is the inode and NAME `[PATH ]type=TYPE (STATE)`, the path
//! cut at its first blank. COMMAND is the comm cut to 9 characters (and at `)`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Coverage, Give, Gives, Lines, Parsed, Seen, tokens};
use crate::model::{ByteString, Endpoint, Family, Kind, Owner, Protocol, Socket, State};

/// lsof's default COMMAND width: a name this long may have been cut.
const COMMAND_WIDTH: usize = 9;

/// What one lsof line or field set says about one fd.
#[derive(Debug, Default)]
struct File<'a> {
    pid: u32,
    fd: Option<u32>,
    ty: &'a str,
    device: Option<&'a str>,
    node: Option<&'a str>,
    proto: Option<&'a str>,
    name: &'a str,
    state: Option<&'a str>,
    queues: Option<(u32, u32)>,
}

/// Parses lsof's default columns.
pub fn parse_text(lines: &mut Lines) -> Parsed {
    let mut out = Parsed::default();
    let mut pid_end: Option<usize> = None;
    for (n, l) in lines.iter() {
        if l.trim().is_empty() {
            continue;
        }
        if l.starts_with("COMMAND") {
            pid_end = l.find("PID").map(|i| i + 3);
            continue;
        }
        let Some(end) = pid_end else {
            lines.bad(n, 1, "no lsof header (COMMAND PID ...) before this line");
            continue;
        };
        match text_line(l, end) {
            Ok((comm, f)) => {
                comm_fact(&mut out, f.pid, comm, comm.chars().count() >= COMMAND_WIDTH);
                add(f, &mut out);
            }
            Err((col, m)) => lines.bad(n, col, m),
        }
    }
    finish(&mut out);
    out
}

fn comm_fact(out: &mut Parsed, pid: u32, comm: &str, truncated: bool) {
    let f = out.processes.entry(pid).or_default();
    if f.comm.is_none() {
        f.comm = Some(ByteString::from(comm.as_bytes().to_vec()));
        f.comm_truncated = truncated;
    }
}

type Bad = (usize, String);

/// One line: COMMAND (may hold blanks) up to the PID, right-aligned under the header's `PID`.
fn text_line(l: &str, pid_end: usize) -> Result<(&str, File<'_>), Bad> {
    let col = |at: usize| l[..at.min(l.len())].chars().count() + 1;
    // The PID is the digits that end at the header's PID column (or the first number after the
    // command, when a wide command pushed it right).
    let b = l.as_bytes();
    let mut end = pid_end.min(b.len());
    if !(end > 0 && b[end - 1].is_ascii_digit() && b.get(end).is_none_or(|c| *c == b' ')) {
        end = tokens(l)
            .skip(1)
            .find(|t| t.1.bytes().all(|c| c.is_ascii_digit()))
            .map(|t| t.0 + t.1.len())
            .ok_or((1, "expected COMMAND PID".to_string()))?;
    }
    let mut start = end;
    while start > 0 && b[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let comm = l[..start].trim_end();
    let pid: u32 = l[start..end]
        .parse()
        .map_err(|_| (col(start), "expected a PID".to_string()))?;
    let rest = &l[end..];
    let t: Vec<(usize, &str)> = tokens(rest).collect();
    // USER FD TYPE DEVICE SIZE/OFF NODE NAME
    if t.len() < 6 {
        return Err((
            col(end),
            "expected USER FD TYPE DEVICE SIZE/OFF NODE NAME".into(),
        ));
    }
    let fd_text = t[1].1;
    let digits = fd_text.bytes().take_while(u8::is_ascii_digit).count();
    let fd = fd_text[..digits].parse().ok();
    let name_at = t.get(6).map_or(rest.len(), |x| x.0);
    let name = rest[name_at..].trim_end();
    let (name, state) = split_state(name);
    Ok((
        comm,
        File {
            pid,
            fd,
            ty: t[2].1,
            device: Some(t[3].1),
            node: Some(t[5].1),
            proto: Some(t[5].1),
            name,
            state,
            queues: None,
        },
    ))
}

/// `NAME (STATE)` into its parts.
fn split_state(name: &str) -> (&str, Option<&str>) {
    match name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((n, s)) => (n, Some(s)),
        None => (name, None),
    }
}

/// Parses `lsof -F` output: fields end at NUL (`-F0`) or at the end of a line.
pub fn parse_fields(lines: &mut Lines) -> Parsed {
    let mut out = Parsed::default();
    let mut pid: Option<u32> = None;
    let mut cur: Option<File> = None;
    let all = lines.all().to_vec();
    for (i, l) in all.iter().enumerate() {
        let n = i + 1;
        for f in l.split('\0').filter(|f| !f.is_empty()) {
            let (k, v) = f.split_at(f.chars().next().map_or(0, char::len_utf8));
            match k {
                "p" => {
                    if let Some(done) = cur.take() {
                        add(done, &mut out);
                    }
                    match v.parse() {
                        Ok(p) => pid = Some(p),
                        Err(_) => lines.bad(n, 2, format!("`p{v}`: expected a pid")),
                    }
                }
                "c" => {
                    if let Some(p) = pid {
                        comm_fact(&mut out, p, v, v.chars().count() >= 15);
                    }
                }
                "R" => {
                    if let (Some(p), Ok(pp)) = (pid, v.parse()) {
                        out.processes.entry(p).or_default().ppid = Some(pp);
                    }
                }
                "f" => {
                    if let Some(done) = cur.take() {
                        add(done, &mut out);
                    }
                    let Some(p) = pid else {
                        lines.bad(n, 1, "a file (f) before any process (p)");
                        continue;
                    };
                    cur = Some(File {
                        pid: p,
                        fd: v.parse().ok(),
                        ..File::default()
                    });
                }
                _ => {
                    if let Some(c) = cur.as_mut() {
                        field(c, k, v);
                    }
                }
            }
        }
    }
    if let Some(done) = cur.take() {
        add(done, &mut out);
    }
    finish(&mut out);
    out
}

fn field<'a>(c: &mut File<'a>, k: &str, v: &'a str) {
    match k {
        "t" => c.ty = v,
        "d" => c.device = Some(v),
        "i" => c.node = Some(v),
        "P" => c.proto = Some(v),
        "n" => c.name = v,
        "T" => {
            if let Some(s) = v.strip_prefix("ST=") {
                c.state = Some(s);
            } else if let Some(q) = v.strip_prefix("QR=") {
                let send = c.queues.map_or(0, |q| q.1);
                c.queues = q.parse().ok().map(|r| (r, send));
            } else if let Some(q) = v.strip_prefix("QS=") {
                let recv = c.queues.map_or(0, |q| q.0);
                c.queues = q.parse().ok().map(|s| (recv, s));
            }
        }
        _ => {}
    }
}

/// Adds one fd that holds a socket; other files are not sockets and are passed over.
fn add(f: File, out: &mut Parsed) {
    let Some(fd) = f.fd else { return };
    let seen = match f.ty {
        "IPv4" | "IPv6" => inet(&f),
        "unix" => unix(&f),
        "sock" | "netlink" | "raw" | "raw6" | "pack" | "icmp" | "ax25" | "ipx" | "x.25" => {
            *out.unsupported.entry(format!("lsof {}", f.ty)).or_default() += 1;
            return;
        }
        _ => return,
    };
    let Some(mut seen) = seen else {
        *out.unsupported.entry(format!("lsof {}", f.ty)).or_default() += 1;
        return;
    };
    seen.socket.owners.push(Owner { pid: f.pid, fd });
    out.sockets.push(seen);
}

fn inet(f: &File) -> Option<Seen> {
    let protocol = match f.proto? {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        _ => return None,
    };
    let v6 = f.ty == "IPv6";
    let (l, r) = match f.name.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (f.name.trim(), None),
    };
    let local = endpoint(l, v6)?;
    let remote = match r {
        Some(r) => endpoint(r, v6)?,
        None => Endpoint {
            address: if v6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            },
            port: 0,
        },
    };
    let state = match (protocol, f.state) {
        (Protocol::Udp, _) if r.is_some() => State::Established,
        (Protocol::Udp, _) => State::Close,
        (_, Some(s)) => lsof_state(s)?,
        (_, None) => return None,
    };
    let family = if v6 { Family::Inet6 } else { Family::Inet };
    let mut gives = Gives::of(&[Give::Owners]);
    let inode = f.device.and_then(|d| d.parse().ok());
    if inode.is_some() {
        gives.add(Give::Inode);
    }
    let mut s = Socket::new(protocol, family, state, inode.unwrap_or(0));
    s.local = Some(local);
    s.remote = Some(remote);
    if let Some((r, w)) = f.queues {
        s.recv_q = r;
        s.send_q = w;
        gives.add(Give::Queues);
    }
    Some(Seen { socket: s, gives })
}

fn lsof_state(s: &str) -> Option<State> {
    Some(match s {
        "ESTABLISHED" => State::Established,
        "SYN_SENT" => State::SynSent,
        "SYN_RECV" => State::SynRecv,
        "FIN_WAIT1" => State::FinWait1,
        "FIN_WAIT2" => State::FinWait2,
        "TIME_WAIT" => State::TimeWait,
        "CLOSE" | "IDLE" | "BOUND" => State::BoundInactive,
        "CLOSE_WAIT" => State::CloseWait,
        "LAST_ACK" => State::LastAck,
        "LISTEN" => State::Listen,
        "CLOSING" => State::Closing,
        _ => return None,
    })
}

/// `ADDR:PORT`, IPv6 bracketed, `*` for any address or port; on an IPv6 socket an IPv4
/// address is a v4-mapped one.
fn endpoint(t: &str, v6: bool) -> Option<Endpoint> {
    let (host, port) = t.rsplit_once(':')?;
    let port = if port == "*" { 0 } else { port.parse().ok()? };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let address = match host {
        "*" if v6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        h => match h.parse().ok()? {
            IpAddr::V4(a) if v6 => IpAddr::V6(a.to_ipv6_mapped()),
            a => a,
        },
    };
    Some(Endpoint { address, port })
}

fn unix(f: &File) -> Option<Seen> {
    let inode: u64 = f.node?.parse().ok()?;
    // `[PATH ]type=TYPE`; the state is a separate field (-F) or the `(STATE)` suffix.
    let (path, ty) = match f.name.rsplit_once("type=") {
        Some((p, t)) => (p.trim_end(), t.trim()),
        None => (f.name.trim(), ""),
    };
    let protocol = match ty {
        "STREAM" => Protocol::UnixStream,
        "DGRAM" => Protocol::UnixDgram,
        "SEQPACKET" => Protocol::UnixSeqpacket,
        _ => return None,
    };
    let state = match f.state {
        Some("LISTEN") => State::Listen,
        Some("CONNECTED") => State::Established,
        Some("CONNECTING") => State::SynSent,
        _ => State::Close,
    };
    let mut s = Socket::new(protocol, Family::Unix, state, inode);
    s.unix = Some(super::unix_info(Some(path)));
    Some(Seen {
        socket: s,
        gives: Gives::of(&[Give::Owners, Give::Inode]),
    })
}

/// lsof covers no table completely: it lists only what a process holds.
fn finish(out: &mut Parsed) {
    let mut kinds: Vec<Kind> = out
        .sockets
        .iter()
        .map(|s| s.socket.protocol.kind())
        .collect();
    kinds.sort();
    kinds.dedup();
    out.covers = kinds
        .into_iter()
        .map(|k| (k, Coverage::Partial("sockets a process holds only (lsof)")))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_columns_inet_and_unix() {
        let text = "COMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF   NODE NAME
sslab-mai 31355 root    3u  IPv4 165485      0t0  TCP 127.0.0.1:25000 (LISTEN)
a b       31356 root    4u  IPv6 165486      0t0  TCP 127.0.0.1:22500->127.0.0.1:53466 (ESTABLISHED)
python3   22248 root    8u  IPv6             256314      0t0      UDP *:39814
python3   22248 root    3u  unix 0x000000007ce05842      0t0   256309 /tmp/x type=STREAM (LISTEN)
python3   22248 root    5u  unix 0x00000000e256bc35      0t0   256311 type=STREAM (CONNECTED)
python3   22248 root  cwd    DIR              254,0     4096   246951 /tmp
";
        let mut l = Lines::new("lsof_-nPli.txt", text, false);
        let p = parse_text(&mut l);
        let p = l.finish(p).unwrap();
        assert_eq!(p.sockets.len(), 5);
        let s = &p.sockets[0].socket;
        assert_eq!(
            (s.inode, s.state, s.owners[0]),
            (165485, State::Listen, Owner { pid: 31355, fd: 3 })
        );
        assert!(p.processes[&31355].comm_truncated);
        assert_eq!(
            p.processes[&31356].comm.as_ref().unwrap().as_bytes(),
            b"a b"
        );
        let m = &p.sockets[1].socket;
        assert_eq!(m.remote.unwrap().address.to_string(), "::ffff:127.0.0.1");
        let u = &p.sockets[2].socket;
        assert_eq!((u.state, u.local.unwrap().port), (State::Close, 39814));
        let x = &p.sockets[3].socket;
        assert_eq!(
            (x.protocol, x.state, x.inode),
            (Protocol::UnixStream, State::Listen, 256309)
        );
        assert_eq!(p.sockets[4].socket.unix.as_ref().unwrap().name, None);
    }

    #[test]
    fn field_output_with_and_without_nul() {
        let nul = "p22248\0cpython3\0\nf3\0tunix\0d0x1\0i256309\0n/tmp/x type=STREAM\0TST=LISTEN\0\nf7\0tIPv4\0d256313\0PTCP\0n127.0.0.1:55149\0TST=LISTEN\0TQR=2\0TQS=5\0\n";
        let lines_form = "p22248\nR1\ncpython3\nf8\ntIPv6\nd256314\nPUDP\nn*:39814\nTQR=0\nTQS=0\n";
        for (text, n) in [(nul, 2), (lines_form, 1)] {
            let mut l = Lines::new("f", text, false);
            let p = parse_fields(&mut l);
            let p = l.finish(p).unwrap();
            assert_eq!(p.sockets.len(), n, "{text:?}");
            assert_eq!(
                p.processes[&22248].comm.as_ref().unwrap().as_bytes(),
                b"python3"
            );
        }
        let mut l = Lines::new("f", nul, false);
        let p = parse_fields(&mut l);
        let t = &p.sockets[1].socket;
        assert_eq!((t.inode, t.recv_q, t.send_q), (256313, 2, 5));
    }
}
