//! `netstat` output (net-tools 2.10): `-anp`, `-tulpen`, `-lpeanut`, `-xanpe`, `-wanpe`.
//!
//! Sections start with `Active Internet connections (...)` or `Active UNIX domain sockets
//! (...)`, then a column header. An internet line is printf'd as `%-5s %6ld %6ld %-23s %-23s
//! %-11s` (an address longer than 23 characters widens its field), then, by option, User and
//! Inode (`-e`), `PID/Program name` (`-p`, `-` when unknown) and Timer (`-o`). The state of an
//! unconnected UDP socket is blank and a raw socket's is its number. Addresses are not
//! bracketed, v4-mapped ones are shown as IPv4, and no device is shown. The program name is
//! argv[0]'s basename (not the comm), and only the first holder found is named: netstat never
//! gives every owner. A unix path is cut at its first blank.

use std::net::IpAddr;

use super::{Coverage, Give, Gives, Lines, Parsed, Seen, tokens};
use crate::model::{ByteString, Endpoint, Family, Kind, Owner, Protocol, Socket, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Inet,
    Unix,
    Other,
}

/// Columns of the current section's header.
#[derive(Debug, Default, Clone, Copy)]
struct Columns {
    user: bool,
    pid: bool,
    timer: bool,
}

/// Parses a whole `netstat` capture.
pub fn parse(lines: &mut Lines) -> Parsed {
    let mut out = Parsed::default();
    let mut section = Section::None;
    let mut cols = Columns::default();
    let mut listening_only = false;
    let mut kinds: Vec<Kind> = Vec::new();
    for (n, l) in lines.iter() {
        let t = l.trim_start();
        if t.is_empty() {
            continue;
        }
        if let Some(what) = t.strip_prefix("Active ") {
            section = if what.starts_with("Internet") {
                Section::Inet
            } else if what.starts_with("UNIX") {
                Section::Unix
            } else {
                Section::Other
            };
            listening_only |= what.contains("(only servers)");
            continue;
        }
        if t.starts_with("Proto ") {
            cols = Columns {
                user: t.contains(" User "),
                pid: t.contains("PID/Program"),
                timer: t.contains("Timer"),
            };
            if section == Section::None {
                section = if t.contains("RefCnt") {
                    Section::Unix
                } else {
                    Section::Inet
                };
            }
            continue;
        }
        let r = match section {
            Section::Inet => inet_line(l, cols, &mut out),
            Section::Unix => unix_line(l, cols, &mut out),
            Section::Other => continue,
            Section::None => Err((1, "no netstat header before this line".to_string())),
        };
        match r {
            Ok(Some(s)) => {
                kinds.push(s.socket.protocol.kind());
                out.sockets.push(s);
            }
            Ok(None) => {}
            Err((col, m)) => lines.bad(n, col, m),
        }
    }
    kinds.sort();
    kinds.dedup();
    let cov = if listening_only {
        Coverage::Listening("listening sockets only (-l)")
    } else {
        Coverage::Complete
    };
    // netstat lists every socket of the tables it reads (tcp, udp, raw, unix): a table asked
    // for but empty cannot be told from one not asked for, so only those seen are covered.
    out.covers = kinds.into_iter().map(|k| (k, cov)).collect();
    out
}

type Bad = (usize, String);

/// The 1-based column (in characters) of byte offset `at`, which may fall inside a character.
fn col_of(l: &str, at: usize) -> usize {
    l.char_indices().take_while(|(i, _)| *i < at).count() + 1
}

fn inet_line(l: &str, cols: Columns, out: &mut Parsed) -> Result<Option<Seen>, Bad> {
    let toks: Vec<(usize, &str)> = tokens(l).take(5).collect();
    if toks.len() < 5 {
        return Err((
            1,
            "expected Proto Recv-Q Send-Q Local-Address Foreign-Address".into(),
        ));
    }
    let (protocol, v6) = match toks[0].1 {
        "tcp" => (Protocol::Tcp, false),
        "tcp6" => (Protocol::Tcp, true),
        "udp" => (Protocol::Udp, false),
        "udp6" => (Protocol::Udp, true),
        "raw" => (Protocol::Raw, false),
        "raw6" => (Protocol::Raw, true),
        other => {
            *out.unsupported.entry(other.to_string()).or_default() += 1;
            return Ok(None);
        }
    };
    let num = |i: usize| -> Result<u32, Bad> {
        toks[i].1.parse().map_err(|_| {
            (
                col_of(l, toks[i].0),
                format!("expected a number, found `{}`", toks[i].1),
            )
        })
    };
    let recv_q = num(1)?;
    let send_q = num(2)?;
    let local = endpoint(toks[3].1, v6).map_err(|m| (col_of(l, toks[3].0), m))?;
    let remote = endpoint(toks[4].1, v6).map_err(|m| (col_of(l, toks[4].0), m))?;
    // State: an 11-wide field one blank after the foreign address's (at least 23-wide) field.
    let (fstart, ftext) = toks[4];
    let state_at = fstart + ftext.len().max(23) + 1;
    let state_text = l
        .get(state_at..(state_at + 11).min(l.len()))
        .unwrap_or("")
        .trim();
    let rest = l.get((state_at + 11).min(l.len())..).unwrap_or("");
    let state = match (protocol, state_text) {
        (_, "") => State::Close,
        (Protocol::Raw, n) => n.parse::<u8>().ok().and_then(State::from_kernel).ok_or((
            col_of(l, state_at),
            format!("raw state `{n}`: expected a number"),
        ))?,
        (_, s) => netstat_state(s, protocol)
            .ok_or((col_of(l, state_at), format!("unknown state `{s}`")))?,
    };
    let family = if v6 { Family::Inet6 } else { Family::Inet };
    let mut s = Socket::new(protocol, family, state, 0);
    s.local = Some(local);
    s.remote = Some(remote);
    s.recv_q = recv_q;
    s.send_q = send_q;
    let mut gives = Gives::of(&[Give::Queues]);
    let mut r: Vec<(usize, &str)> = tokens(rest).collect();
    let base = state_at + 11;
    if cols.timer {
        // `off (0.00/0/0)`: the last two words.
        if r.len() < 2 {
            return Err((col_of(l, l.len()), "expected a Timer column".into()));
        }
        r.truncate(r.len() - 2);
    }
    let mut i = 0;
    if cols.user {
        let (uat, uid) = *r
            .first()
            .ok_or((col_of(l, l.len()), "expected User".to_string()))?;
        // -e without -n shows user names: the uid is then unknown.
        if let Ok(u) = uid.parse() {
            s.uid = Some(u);
            gives.add(Give::Uid);
        }
        let (iat, ino) = *r
            .get(1)
            .ok_or((col_of(l, base + uat), "expected Inode".to_string()))?;
        s.inode = ino.parse().map_err(|_| {
            (
                col_of(l, base + iat),
                format!("Inode `{ino}`: expected a number"),
            )
        })?;
        gives.add(Give::Inode);
        i = 2;
    }
    if cols.pid {
        let (pat, _) = *r
            .get(i)
            .ok_or((col_of(l, l.len()), "expected PID/Program name".to_string()))?;
        // The program name may hold blanks: everything up to the timer.
        let end = if cols.timer {
            r.last().map_or(rest.len(), |t| t.0 + t.1.len())
        } else {
            rest.len()
        };
        let field = rest[pat..end.max(pat)].trim();
        owner_field(field, &mut s, out).map_err(|m| (col_of(l, base + pat), m))?;
    }
    Ok(Some(Seen { socket: s, gives }))
}

/// `PID/Program name`, or `-`.
fn owner_field(field: &str, s: &mut Socket, out: &mut Parsed) -> Result<(), String> {
    if field == "-" {
        return Ok(());
    }
    let (pid, prog) = field
        .split_once('/')
        .ok_or_else(|| format!("`{field}`: expected PID/Program name or -"))?;
    let pid: u32 = pid
        .parse()
        .map_err(|_| format!("`{field}`: expected PID/Program name or -"))?;
    // netstat does not show the fd: the owner's fd is unknown, recorded as u32::MAX.
    s.owners.push(Owner { pid, fd: u32::MAX });
    let f = out.processes.entry(pid).or_default();
    if f.label.is_none() {
        f.label = Some(ByteString::from(prog.as_bytes().to_vec()));
    }
    Ok(())
}

/// net-tools' state names.
fn netstat_state(s: &str, p: Protocol) -> Option<State> {
    Some(match s {
        "ESTABLISHED" => State::Established,
        "SYN_SENT" => State::SynSent,
        "SYN_RECV" => State::SynRecv,
        "FIN_WAIT1" => State::FinWait1,
        "FIN_WAIT2" => State::FinWait2,
        "TIME_WAIT" => State::TimeWait,
        "CLOSE" if p == Protocol::Tcp => State::BoundInactive,
        "CLOSE" => State::Close,
        "CLOSE_WAIT" => State::CloseWait,
        "LAST_ACK" => State::LastAck,
        "LISTEN" => State::Listen,
        "CLOSING" => State::Closing,
        _ => return None,
    })
}

/// `ADDR:PORT`, IPv6 unbracketed (`:::22`, `::1:53`), `*` for port 0. On a tcp6/udp6 line an
/// IPv4 address is a v4-mapped one.
fn endpoint(t: &str, v6: bool) -> Result<Endpoint, String> {
    let (host, port) = t
        .rsplit_once(':')
        .ok_or_else(|| format!("`{t}`: expected ADDRESS:PORT"))?;
    let port = match port {
        "*" => 0,
        p => p
            .parse()
            .map_err(|_| format!("`{t}`: the port is not a number (capture with -n)"))?,
    };
    let address: IpAddr = host.parse().map_err(|_| {
        format!("`{t}`: `{host}` is not an IP address (capture with -n; or a field cut at 23)")
    })?;
    let address = match address {
        IpAddr::V4(a) if v6 => IpAddr::V6(a.to_ipv6_mapped()),
        a => a,
    };
    Ok(Endpoint { address, port })
}

fn unix_line(l: &str, cols: Columns, out: &mut Parsed) -> Result<Option<Seen>, Bad> {
    let toks: Vec<(usize, &str)> = tokens(l).collect();
    let bad = |i: usize, m: &str| {
        (
            toks.get(i).map_or(col_of(l, l.len()), |t| col_of(l, t.0)),
            m.to_string(),
        )
    };
    if toks.first().map(|t| t.1) != Some("unix") {
        return Err(bad(0, "expected a unix line"));
    }
    // Flags: `[ ]`, `[ ACC ]`, `[ ACC W N ]`.
    let mut i = 2;
    if !toks.get(i).is_some_and(|t| t.1.starts_with('[')) {
        return Err(bad(i, "expected the Flags column ([ ... ])"));
    }
    while i < toks.len() && !toks[i].1.ends_with(']') {
        i += 1;
    }
    i += 1;
    let ty = toks.get(i).ok_or(bad(i, "expected Type"))?.1;
    let protocol = match ty {
        "STREAM" => Protocol::UnixStream,
        "DGRAM" => Protocol::UnixDgram,
        "SEQPACKET" => Protocol::UnixSeqpacket,
        other => {
            *out.unsupported.entry(format!("unix {other}")).or_default() += 1;
            return Ok(None);
        }
    };
    i += 1;
    let mut state = State::Close;
    if let Some((_, w)) = toks
        .get(i)
        .filter(|t| t.1.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        state = match *w {
            "LISTENING" => State::Listen,
            "CONNECTED" => State::Established,
            "CONNECTING" => State::SynSent,
            "DISCONNECTING" => State::Closing,
            _ => State::Close,
        };
        i += 1;
    }
    let inode: u64 = toks
        .get(i)
        .and_then(|t| t.1.parse().ok())
        .ok_or(bad(i, "expected the I-Node number"))?;
    i += 1;
    let mut s = Socket::new(protocol, Family::Unix, state, inode);
    if cols.pid {
        let (_, field) = *toks.get(i).ok_or(bad(i, "expected PID/Program name"))?;
        owner_field(field, &mut s, out).map_err(|m| bad(i, &m))?;
        // A program name with blanks cannot be told from the path: the path is the last word.
        i = if toks.len() > i + 1 {
            toks.len() - 1
        } else {
            i + 1
        };
    }
    s.unix = Some(super::unix_info(toks.get(i).map(|t| t.1)));
    Ok(Some(Seen {
        socket: s,
        gives: Gives::of(&[Give::Inode]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, text: &str) -> Parsed {
        let mut l = Lines::new(name, text, false);
        let p = parse(&mut l);
        l.finish(p).unwrap()
    }

    #[test]
    fn internet_and_unix_sections() {
        let text = "Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer
tcp        3      0 127.0.0.1:24003         0.0.0.0:*               LISTEN      0          165940     31355/python3        off (0.00/0/0)
tcp        0      0 198.51.100.1:21000      198.51.100.77:40000     SYN_RECV    0          0          -                    on (0.86/1/0)
tcp6       0      0 127.0.0.1:22500         127.0.0.1:53466         ESTABLISHED 0          165891     31355/my prog        off (0.00/0/0)
udp      832      0 127.0.0.1:30002         0.0.0.0:*                           1000       164764     31355/python3        off (0.00/0/0)
raw6       0      0 :::58                   :::*                    7           0          164806     31355/python3        off (0.00/0/0)
Active UNIX domain sockets (servers and established)
Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path
unix  2      [ ACC ]     STREAM     LISTENING     164816   31355/python3        /srv/sslab/data/s.stream
unix  3      [ ]         DGRAM                    164830   -                    @abs
";
        let p = run("netstat_-anp.txt", text);
        assert_eq!(p.sockets.len(), 7);
        let l = &p.sockets[0].socket;
        assert_eq!((l.state, l.inode, l.recv_q), (State::Listen, 165940, 3));
        assert_eq!(l.owners[0].pid, 31355);
        assert_eq!(p.sockets[1].socket.state, State::SynRecv);
        assert!(p.sockets[1].socket.owners.is_empty());
        let m = &p.sockets[2].socket;
        assert_eq!(m.local.unwrap().address.to_string(), "::ffff:127.0.0.1");
        let u = &p.sockets[3].socket;
        assert_eq!((u.state, u.uid, u.recv_q), (State::Close, Some(1000), 832));
        let r = &p.sockets[4].socket;
        assert_eq!(
            (r.protocol, r.family, r.local.unwrap().port),
            (Protocol::Raw, Family::Inet6, 58)
        );
        let x = &p.sockets[5].socket;
        assert_eq!(
            (x.protocol, x.state, x.inode),
            (Protocol::UnixStream, State::Listen, 164816)
        );
        let d = &p.sockets[6].socket;
        assert!(d.unix.as_ref().unwrap().r#abstract);
        assert_eq!(d.state, State::Close);
        assert!(p.sockets.iter().all(|s| !s.gives.has(Give::Owners)));
    }

    #[test]
    fn a_bad_line_is_located() {
        let text = "Proto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp 0 0 1.2.3.4:x 0.0.0.0:* LISTEN\n";
        let mut l = Lines::new("n", text, false);
        let p = parse(&mut l);
        let e = l.finish(p).unwrap_err();
        let super::super::ImportError::Invalid(d) = e else {
            panic!()
        };
        assert!(
            d[0].to_string().starts_with("n:2:9: `1.2.3.4:x`"),
            "{}",
            d[0]
        );
    }
}
