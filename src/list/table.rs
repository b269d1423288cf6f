//! The `ss`-style text table: aligned columns, `ss`'s address rendering, and the `-e -o -m -i -b`
//! details.
//!
//! Columns are `Netid` (when more than one table is selected), `State` (when more than one state
//! can show), `Recv-Q`, `Send-Q`, `Local Address:Port`, `Peer Address:Port` and, with `-p`,
//! `Process` (`users:(("comm",pid=N,fd=N),...)` as in `ss`) plus two columns `ss` lacks: `Exe`
//! (the holders' executables, `PATH (deleted)` when unlinked, memfd paths as the kernel names
//! them) and `User` (name, else uid). A missing value under `-p` is `-` (no holder) or `?` (holder
//! not readable), so every row has the same number of columns. Widths are computed over all rows;
//! the last column is not padded; addresses are right-aligned against their port as in `ss`.
//!
//! Deliberate differences from `ss`:
//! - One socket is always one line: the `-e -o -m -i -b` details follow the columns on the same
//!   line (like `ss -O`), where `ss` puts some on TAB-indented continuation lines. This keeps the
//!   output greppable.
//! - Every string that an attacker can choose (comm, exe, unix names, user and interface names,
//!   and anything read back from a snapshot file) goes through [`crate::text::escape`], so no
//!   control character, ESC, newline or bidi override reaches the terminal; `"` in a comm is
//!   written `\"`. `ss` prints unix names raw.
//! - Ports, ethertypes and hosts are always numeric (`-n` is implied).
//! - Every column, `Recv-Q`/`Send-Q` included, is as wide as its widest cell (the header too,
//!   unless `-H`); `ss` always pads the queues to 6.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{ListOptions, Selection, filter::unix_name};
use rayon::prelude::*;

use crate::model::{Family, Snapshot, Socket, State};
use crate::text::{escape, escape_str};

/// Prints the selected sockets, in the order given, as `ss` would (see the module docs).
pub fn render_table(snap: &Snapshot, sockets: &[&Socket], opts: &ListOptions) -> String {
    let sel = Selection::parse(opts).ok();
    let netid = sel.as_ref().is_none_or(Selection::shows_netid);
    let state = sel.as_ref().is_none_or(Selection::shows_state);
    // With several namespaces (--all-netns), a first column says which one each socket is in.
    let netns = snap.namespaces.len() > 1;
    let mut cols = Vec::new();
    cols.extend(netns.then_some("Netns"));
    cols.extend(netid.then_some("Netid"));
    cols.extend(state.then_some("State"));
    cols.extend([
        "Recv-Q",
        "Send-Q",
        "Local Address:",
        "Port",
        "Peer Address:",
        "Port",
    ]);
    if opts.processes {
        cols.extend(["Process", "Exe", "User"]);
    }
    // Rows are built in parallel: formatting 100k rows is most of `list`'s own time. Each row is
    // one string with its cell boundaries (one allocation per row, not one per cell).
    let rows = sockets.par_iter().map(|s| {
        let mut r = Row::default();
        if netns {
            r.cell(|o| o.push_str(&escape_str(&snap.netns_label(s.netns))));
        }
        if netid {
            r.cell(|o| o.push_str(s.protocol.netid()));
        }
        if state {
            r.cell(|o| o.push_str(s.state.ss_name()));
        }
        r.cell(|o| push_num(o, s.recv_q));
        r.cell(|o| push_num(o, s.send_q));
        addresses(&mut r, s);
        if opts.processes {
            for h in holders(snap, s) {
                r.cell(|o| o.push_str(&h));
            }
        }
        details(&mut r.text, s, opts);
        r
    });
    let mut all: Vec<Row> = Vec::with_capacity(sockets.len() + 1);
    if !opts.no_header {
        let mut header = Row::default();
        for c in &cols {
            header.cell(|o| o.push_str(c));
        }
        all.push(header);
    }
    all.par_extend(rows);
    layout(&cols, &all)
}

/// One line of the table: its cells written one after the other into `text`, where cell `i`
/// ends at `ends[i]`; whatever follows the last cell (the details) is printed as is.
#[derive(Default)]
struct Row {
    text: String,
    ends: [u32; MAX_COLS],
    n: usize,
}

/// Netns, Netid, State, Recv-Q, Send-Q, two addresses and two ports, Process, Exe, User.
const MAX_COLS: usize = 12;

impl Row {
    fn cell(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends[self.n] = self.text.len() as u32;
        self.n += 1;
    }

    fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends[..self.n].iter().map(move |&end| {
            let c = &self.text[start..end as usize];
            start = end as usize;
            c
        })
    }

    fn rest(&self) -> &str {
        &self.text[self.ends[..self.n].last().map_or(0, |&e| e as usize)..]
    }
}

fn push_num<I: itoa::Integer>(o: &mut String, n: I) {
    o.push_str(itoa::Buffer::new().format(n));
}

/// Width in characters (every cell is escaped text; ASCII is the common case).
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Aligns the cells: columns whose header ends in `:` (addresses) are right-aligned, the others
/// left-aligned; a `Port` column follows its address without a space; the last column is not
/// padded. What follows a row's cells (the details) is appended as is.
fn layout(cols: &[&str], rows: &[Row]) -> String {
    let mut widths = vec![0; cols.len()];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.cells()) {
            *w = (*w).max(width(c));
        }
    }
    let line_len: usize = widths.iter().sum::<usize>() + cols.len() + 16;
    let mut out = String::with_capacity(rows.len() * line_len);
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    for r in rows {
        for (i, (cell, col)) in r.cells().zip(cols).enumerate() {
            if i > 0 && *col != "Port" {
                out.push(' ');
            }
            let fill = widths[i] - width(cell);
            match (col.ends_with(':'), i + 1 == cols.len()) {
                (true, _) => {
                    pad(&mut out, fill);
                    out.push_str(cell);
                }
                (false, true) => out.push_str(cell),
                (false, false) => {
                    out.push_str(cell);
                    pad(&mut out, fill);
                }
            }
        }
        out.push_str(r.rest());
        out.push('\n');
    }
    out
}

/// The bound device: its (escaped) name, else its index.
fn device(s: &Socket) -> Option<String> {
    let i = s.ifindex?;
    Some(s.interface.as_deref().map_or(i.to_string(), escape_str))
}

/// `ss`'s inet address into `o`: dotted IPv4; bracketed IPv6; `::` is `*` unless the socket is
/// v6only.
fn push_inet_addr(o: &mut String, a: IpAddr, v6only: bool) {
    match a {
        IpAddr::V4(v4) => {
            for (i, b) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    o.push('.');
                }
                push_num(o, b);
            }
        }
        IpAddr::V6(v6) if v6.is_unspecified() && !v6only => o.push('*'),
        IpAddr::V6(v6) => {
            let _ = write!(o, "[{v6}]");
        }
    }
}

/// Four cells: local address (with its separator), local port, peer address, peer port.
fn addresses(r: &mut Row, s: &Socket) {
    if s.protocol.is_unix() {
        let name = unix_name(s).map_or("*".into(), |n| escape(&n));
        let peer = s.unix.as_ref().and_then(|u| u.peer).unwrap_or(0);
        r.cell(|o| {
            o.push_str(&name);
            o.push(' ');
        });
        r.cell(|o| push_num(o, s.inode));
        r.cell(|o| o.push_str("* "));
        r.cell(|o| push_num(o, peer));
        return;
    }
    if s.protocol.is_packet() {
        r.cell(|o| {
            match s.packet.as_ref().map(|p| p.ethertype) {
                Some(3) | None => o.push('*'),
                Some(n) => {
                    let _ = write!(o, "[{n}]");
                }
            }
            o.push(':');
        });
        let dev = device(s).unwrap_or_else(|| "*".into());
        r.cell(|o| o.push_str(&dev));
        r.cell(|o| o.push('*'));
        r.cell(|_| {});
        return;
    }
    let v6only = s.v6only == Some(true);
    for (i, e) in [s.local, s.remote].into_iter().enumerate() {
        r.cell(|o| {
            match e {
                Some(e) => push_inet_addr(o, e.address, v6only),
                None => o.push('*'),
            }
            // The bound device follows the local address only.
            if let (0, Some(d)) = (i, device(s)) {
                o.push('%');
                o.push_str(&d);
            }
            o.push(':');
        });
        r.cell(|o| match e {
            Some(e) if e.port != 0 => push_num(o, e.port),
            _ => o.push('*'),
        });
    }
}

/// The Process, Exe and User cells.
fn holders(snap: &Snapshot, s: &Socket) -> [String; 3] {
    if s.owners.is_empty() {
        return ["-".into(), "-".into(), "-".into()];
    }
    let (mut users, mut exes, mut names) = (Vec::new(), Vec::<String>::new(), Vec::new());
    for o in &s.owners {
        let p = snap.process(o.pid);
        let comm = p.map_or(String::new(), |p| escape(&p.comm.0).replace('"', "\\\""));
        users.push(format!("(\"{comm}\",pid={},fd={})", o.pid, o.fd));
        let exe = match p.map(|p| (p.exe_deleted, p.exe.as_ref())) {
            Some((true, Some(e))) => format!("{} (deleted)", escape(&e.0)),
            Some((false, Some(e))) => escape(&e.0),
            _ => "?".into(),
        };
        let user = p.map_or("?".into(), |p| {
            p.user.as_deref().map_or(p.uid.to_string(), escape_str)
        });
        if !exes.contains(&exe) {
            exes.push(exe);
        }
        if !names.contains(&user) {
            names.push(user);
        }
    }
    [
        format!("users:({})", users.join(",")),
        exes.join(","),
        names.join(","),
    ]
}

/// The `-e -o -m -i -b` details, each token starting with a space, in `ss`'s order per family.
fn details(o: &mut String, s: &Socket, opts: &ListOptions) {
    if s.protocol.is_inet() {
        if opts.options || opts.extended || opts.bpf {
            timer(o, s);
        }
        if opts.extended {
            let _ = write!(o, "{} ino:{}{}", uid(s), s.inode, cookie(s));
            if let Some(m) = s.mark.filter(|&m| m != 0) {
                let _ = write!(o, " fwmark:0x{m:x}");
            }
            if let (Family::Inet6, Some(v)) = (s.family, s.v6only) {
                let _ = write!(o, " v6only:{}", u8::from(v));
            }
            o.push_str(&arrows(s));
        }
        if opts.memory {
            skmem(o, s);
        }
        if opts.info {
            tcp_info(o, s);
        }
    } else if s.protocol.is_unix() {
        if opts.memory {
            skmem(o, s);
        }
        if let (true, Some(u)) = (opts.extended, &s.unix) {
            let _ = write!(o, "{}{}", uid(s), arrows(s));
            if let (Some(ino), Some(dev)) = (u.vfs_inode, u.vfs_dev) {
                // glibc's major()/minor() applied to the kernel's u32, as ss prints it.
                let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff));
                let _ = write!(o, " ino:{ino} dev:{major}/{minor}");
            }
            if s.state == State::Listen {
                let _ = write!(o, " peers:");
                for p in &u.pending {
                    let _ = write!(o, " {p}");
                }
            }
        }
    } else {
        let packet = s.packet.as_ref();
        if opts.extended {
            let _ = write!(o, "{} ino:{}{}", uid(s), s.inode, cookie(s));
            if let Some(v) = packet.and_then(|p| p.version) {
                let _ = write!(o, " ver:{v}");
            }
            if let Some(f) = packet.and_then(|p| p.fanout) {
                let kinds = ["hash", "lb", "cpu", "roll", "random", "qm"];
                let t = (f >> 16) as usize;
                let kind = kinds.get(t).map_or(format!("0x{t:x}"), |k| k.to_string());
                let _ = write!(o, " fanout(id:{},type:{kind})", f & 0xffff);
            }
        }
        if let (true, Some(prog)) = (opts.bpf, packet.and_then(|p| p.bpf.as_ref())) {
            let insn =
                |i: &crate::model::BpfInsn| format!("0x{:02x} {} {} {}", i.code, i.jt, i.jf, i.k);
            let insns: Vec<String> = prog.iter().map(insn).collect();
            let _ = write!(o, " bpf filter ({}): {}", prog.len(), insns.join(", "));
        }
        if opts.memory {
            skmem(o, s);
        }
    }
}

fn uid(s: &Socket) -> String {
    s.uid
        .filter(|&u| u != 0)
        .map_or(String::new(), |u| format!(" uid:{u}"))
}

fn cookie(s: &Socket) -> String {
    s.cookie.map_or(String::new(), |c| format!(" sk:{c:x}"))
}

/// `ss`'s shutdown arrows: `<->` open, `-->` receive side shut, `<--` send side shut, `---`.
fn arrows(s: &Socket) -> String {
    let Some(m) = s.shutdown else {
        return String::new();
    };
    let rd = if m & 1 != 0 { '-' } else { '<' };
    let wr = if m & 2 != 0 { '-' } else { '>' };
    format!(" {rd}-{wr}")
}

fn timer(o: &mut String, s: &Socket) {
    if let Some(t) = &s.timer {
        let (kind, time) = (escape_str(&t.kind), ms_timer(t.expires_ms));
        let _ = write!(o, " timer:({kind},{time},{})", t.retrans);
    }
}

/// `ss`'s `print_ms_timer()` (iproute2 ≥ 6.11): `1min6sec`, `59sec`, `4.488sec`, `748ms`; empty
/// for 0. With minutes the milliseconds are dropped, and with more than 9 minutes or seconds the
/// next unit too.
fn ms_timer(t: u32) -> String {
    let minutes = t / 60_000;
    let mut secs = (t / 1000) % 60;
    let mut ms = t % 1000;
    let mut out = String::new();
    if minutes > 0 {
        ms = 0;
        let _ = write!(out, "{minutes}min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            ms = 0;
        }
        let _ = write!(out, "{secs}{}", if ms > 0 { "." } else { "sec" });
    }
    if ms > 0 {
        let _ = write!(out, "{ms:03}{}", if secs > 0 { "sec" } else { "ms" });
    }
    out
}

fn skmem(o: &mut String, s: &Socket) {
    if let Some(m) = &s.memory {
        let _ = write!(
            o,
            " skmem:(r{},rb{},t{},tb{},f{},w{},o{}",
            m.rmem_alloc, m.rcvbuf, m.wmem_alloc, m.sndbuf, m.fwd_alloc, m.wmem_queued, m.optmem
        );
        if let Some(b) = m.backlog {
            let _ = write!(o, ",bl{b}");
        }
        if let Some(d) = m.drops {
            let _ = write!(o, ",d{d}");
        }
        o.push(')');
    }
}

/// C's `%g`: six significant digits, trailing zeros removed.
fn fmt_g(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exp = v.abs().log10().floor() as i32;
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..6).contains(&exp) {
        let m = trim(format!("{:.5}", v / 10f64.powi(exp)));
        return format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    trim(format!("{:.*}", (5 - exp).max(0) as usize, v))
}

fn num(o: &mut String, name: &str, v: u64) {
    if v != 0 {
        let _ = write!(o, " {name}:{v}");
    }
}

/// A selection of `tcp_info`, in `ss`'s order and with its formats; zero values are left out.
fn tcp_info(o: &mut String, s: &Socket) {
    let Some(t) = &s.tcp_info else {
        return;
    };
    let opt = |v: Option<u32>| u64::from(v.unwrap_or(0));
    let ms = |us: u32| fmt_g(f64::from(us) / 1000.0);
    for (bit, name) in [
        (1, "ts"),
        (2, "sack"),
        (8, "ecn"),
        (16, "ecnseen"),
        (32, "fastopen"),
    ] {
        if t.options & bit != 0 {
            let _ = write!(o, " {name}");
        }
    }
    if let Some(c) = &s.congestion {
        let _ = write!(o, " {}", escape_str(c));
    }
    if t.options & 4 != 0 {
        let _ = write!(o, " wscale:{},{}", t.snd_wscale, t.rcv_wscale);
    }
    if t.rto != 0 && t.rto != 3_000_000 {
        let _ = write!(o, " rto:{}", ms(t.rto));
    }
    num(o, "backoff", t.backoff.into());
    if t.rtt != 0 {
        let _ = write!(o, " rtt:{}/{}", ms(t.rtt), ms(t.rttvar));
    }
    if t.ato != 0 {
        let _ = write!(o, " ato:{}", ms(t.ato));
    }
    num(o, "mss", t.snd_mss.into());
    num(o, "pmtu", t.pmtu.into());
    num(o, "rcvmss", t.rcv_mss.into());
    num(o, "advmss", t.advmss.into());
    num(o, "cwnd", t.snd_cwnd.into());
    if t.snd_ssthresh < 0xffff {
        num(o, "ssthresh", t.snd_ssthresh.into());
    }
    num(o, "bytes_sent", t.bytes_sent.unwrap_or(0));
    num(o, "bytes_retrans", t.bytes_retrans.unwrap_or(0));
    num(o, "bytes_acked", t.bytes_acked.unwrap_or(0));
    num(o, "bytes_received", t.bytes_received.unwrap_or(0));
    num(o, "segs_out", opt(t.segs_out));
    num(o, "segs_in", opt(t.segs_in));
    num(o, "data_segs_out", opt(t.data_segs_out));
    num(o, "data_segs_in", opt(t.data_segs_in));
    num(o, "lastsnd", t.last_data_sent.into());
    num(o, "lastrcv", t.last_data_recv.into());
    num(o, "lastack", t.last_ack_recv.into());
    num(o, "delivered", opt(t.delivered));
    num(o, "delivered_ce", opt(t.delivered_ce));
    num(o, "unacked", t.unacked.into());
    let total = t.total_retrans.unwrap_or(0);
    if t.retrans != 0 || total != 0 {
        let _ = write!(o, " retrans:{}/{total}", t.retrans);
    }
    num(o, "lost", t.lost.into());
    if s.state != State::Listen {
        num(o, "sacked", t.sacked.into());
    }
    num(o, "dsack_dups", opt(t.dsack_dups));
    if t.reordering != 3 {
        let _ = write!(o, " reordering:{}", t.reordering);
    }
    num(o, "reord_seen", opt(t.reord_seen));
    if let Some(r) = t.rcv_rtt.filter(|&r| r != 0) {
        let _ = write!(o, " rcv_rtt:{}", ms(r));
    }
    num(o, "rcv_space", opt(t.rcv_space));
    num(o, "rcv_ssthresh", t.rcv_ssthresh.into());
    num(o, "notsent", opt(t.notsent_bytes));
    if let Some(r) = t.min_rtt.filter(|&r| r != 0 && r != u32::MAX) {
        let _ = write!(o, " minrtt:{}", ms(r));
    }
    num(o, "rcv_ooopack", opt(t.rcv_ooopack));
    num(o, "snd_wnd", opt(t.snd_wnd));
    num(o, "rcv_wnd", opt(t.rcv_wnd));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::list::fixtures::{opts, patch, process, snapshot, sock, unix};
    use crate::model::{Owner, Process, Protocol::*, TcpInfo};

    /// Renders `sockets` (all of them, in the order given) with `flags` and these processes.
    fn render(flags: &str, sockets: Vec<Socket>, procs: Vec<Process>) -> String {
        let snap = snapshot(Vec::new(), procs);
        let refs: Vec<&Socket> = sockets.iter().collect();
        render_table(&snap, &refs, &opts(flags, ""))
    }

    /// One socket without header: nothing is padded, so the line is the cells joined.
    fn line(flags: &str, s: &Socket) -> String {
        let out = render(&format!("{flags}H"), vec![s.clone()], Vec::new());
        assert_eq!(
            out.matches('\n').count(),
            1,
            "one socket, one line: {out:?}"
        );
        out.trim_end_matches('\n').to_string()
    }

    fn owned(mut s: Socket, owners: &[(u32, u32)]) -> Socket {
        s.owners = owners.iter().map(|&(pid, fd)| Owner { pid, fd }).collect();
        s
    }

    #[test]
    fn listener_with_owner_exe_and_user() {
        let mut s = owned(sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0"), &[(100, 3)]);
        s.send_q = 128;
        let sshd = process(100, b"sshd", Some("/usr/sbin/sshd"), Some("root"));
        assert_eq!(
            render("tlp", vec![s], vec![sshd]),
            "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process                       Exe            User\n\
             LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=100,fd=3)) /usr/sbin/sshd root\n"
        );
    }

    #[test]
    fn several_owners_deleted_exe_and_missing_user() {
        let s = owned(
            sock("tcp LISTEN 127.0.0.1:25000 0.0.0.0:0"),
            &[(10, 3), (11, 4)],
        );
        let main = patch(
            process(10, b"main", Some("/tmp/x"), None),
            json!({"exe_deleted": true, "uid": 1000}),
        );
        let child = process(11, b"child", Some("/memfd:x (deleted)"), Some("bob"));
        let cols = "LISTEN 0 0 127.0.0.1:25000 0.0.0.0:*";
        assert_eq!(
            render("tlpH", vec![s.clone()], vec![main, child]),
            format!(
                "{cols} users:((\"main\",pid=10,fd=3),(\"child\",pid=11,fd=4)) \
                 /tmp/x (deleted),/memfd:x (deleted) 1000,bob\n"
            )
        );
        // Holders whose /proc entries could not be read, and a socket without holders.
        let unread = "users:((\"\",pid=10,fd=3),(\"\",pid=11,fd=4)) ? ?";
        assert_eq!(line("tlp", &s), format!("{cols} {unread}"));
        assert_eq!(line("tlp", &owned(s, &[])), format!("{cols} - - -"));
    }

    #[test]
    fn ipv6_wildcards_mapped_and_devices() {
        let mut dual = sock("tcp LISTEN [::]:80 [::]:0");
        assert_eq!(line("tl", &dual), "LISTEN 0 0 *:80 *:*", "v6only unknown");
        dual.v6only = Some(false);
        assert_eq!(line("tl", &dual), "LISTEN 0 0 *:80 *:*");
        dual.v6only = Some(true);
        assert_eq!(line("tl", &dual), "LISTEN 0 0 [::]:80 [::]:*");
        let mapped = sock("tcp ESTAB [::ffff:127.0.0.1]:22502 [::ffff:127.0.0.1]:60542");
        let want = "ESTAB 0 0 [::ffff:127.0.0.1]:22502 [::ffff:127.0.0.1]:60542";
        assert_eq!(line("t", &mapped), want);
        let mut dev = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        (dev.ifindex, dev.interface) = (Some(2), Some("eth0".into()));
        assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%eth0:53 0.0.0.0:*");
        dev.interface = None;
        assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%2:53 0.0.0.0:*");
        let mut ll = sock("tcp LISTEN [fe80::1]:24000 [::]:0");
        (ll.v6only, ll.ifindex, ll.interface) = (Some(true), Some(2), Some("eth0".into()));
        assert_eq!(line("tl", &ll), "LISTEN 0 0 [fe80::1]%eth0:24000 [::]:*");
    }

    #[test]
    fn unix_names() {
        let mut abs = unix(UnixDgram, State::Close, Some(b"\0ab\0cd"), 164827);
        abs.recv_q = 2;
        let mut path = unix(UnixStream, State::Listen, Some(b"/run/x.sock"), 10);
        path.send_q = 8;
        let mut unnamed = unix(UnixStream, State::Established, None, 20);
        unnamed.unix.as_mut().unwrap().peer = Some(21);
        assert_eq!(line("xa", &abs), "u_dgr UNCONN 2 0 @ab@cd 164827 * 0");
        assert_eq!(line("xa", &path), "u_str LISTEN 0 8 /run/x.sock 10 * 0");
        assert_eq!(line("xa", &unnamed), "u_str ESTAB 0 0 * 20 * 21");
        assert_eq!(
            render("xa", vec![abs, path, unnamed], Vec::new()),
            "Netid State  Recv-Q Send-Q Local Address:Port   Peer Address:Port\n\
             u_dgr UNCONN 2      0             @ab@cd 164827            * 0\n\
             u_str LISTEN 0      8        /run/x.sock 10                * 0\n\
             u_str ESTAB  0      0                  * 20                * 21\n"
        );
    }

    #[test]
    fn packet_sockets_and_bpf() {
        let prog = [
            [0x28, 0, 0, 12],
            [0x15, 0, 3, 2048],
            [0x30, 0, 0, 23],
            [0x15, 0, 1, 17],
        ];
        let prog: Vec<_> = prog
            .iter()
            .chain(&[[6, 0, 0, 262144], [6, 0, 0, 0]])
            .collect();
        let prog: Vec<_> = prog
            .iter()
            .map(|i| json!({"code": i[0], "jt": i[1], "jf": i[2], "k": i[3]}))
            .collect();
        let mut s = sock("p_raw UNCONN");
        (s.inode, s.ifindex, s.interface, s.cookie) =
            (164811, Some(2), Some("eth0".into()), Some(0x7783));
        s.packet = Some(serde_json::from_value(json!({"ethertype": 0x0800, "bpf": prog})).unwrap());
        assert_eq!(line("0", &s), "p_raw 0 0 [2048]:eth0 *");
        assert_eq!(
            line("0b", &s),
            "p_raw 0 0 [2048]:eth0 * bpf filter (6): 0x28 0 0 12, 0x15 0 3 2048, \
             0x30 0 0 23, 0x15 0 1 17, 0x06 0 0 262144, 0x06 0 0 0"
        );
        assert_eq!(line("0e", &s), "p_raw 0 0 [2048]:eth0 * ino:164811 sk:7783");
        let mut all = sock("p_dgr UNCONN");
        all.recv_q = 6276;
        let info = json!({"ethertype": 3, "version": 2, "fanout": 42 | (1 << 16)});
        all.packet = Some(serde_json::from_value(info).unwrap());
        assert_eq!(line("0b", &all), "p_dgr 6276 0 *:* *");
        assert_eq!(
            line("0e", &all),
            "p_dgr 6276 0 *:* * ino:1 ver:2 fanout(id:42,type:lb)"
        );
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let name = b"/tmp/a\nb\x1b[2J\xe2\x80\xae";
        let s = owned(unix(UnixStream, State::Listen, Some(name), 9), &[(7, 4)]);
        let evil = process(7, b"evil\n\x1b[31m\"", Some("/tmp/\x07x"), Some("r\too\nt"));
        let out = render("xlpH", vec![s], vec![evil]);
        assert_eq!(
            out,
            "u_str LISTEN 0 0 /tmp/a\\nb\\x1b[2J\\u{202e} 9 * 0 \
             users:((\"evil\\n\\x1b[31m\\\"\",pid=7,fd=4)) /tmp/\\x07x r\\too\\nt\n"
        );
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
        let mut dev = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        (dev.ifindex, dev.interface) = (Some(9), Some("e\x1bth".into()));
        assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%e\\x1bth:53 0.0.0.0:*");
    }

    #[test]
    fn extended_timer_memory_and_info_on_one_line() {
        let mut s = sock("tcp ESTAB 127.0.0.1:54968 127.0.0.1:24004");
        (s.inode, s.send_q, s.uid, s.cookie) = (165, 2803712, Some(1000), Some(0x5683));
        (s.mark, s.shutdown, s.congestion) = (Some(0x2a), Some(0), Some("cubic".into()));
        let timer = json!({"kind": "persist", "expires_ms": 66000, "retrans": 0});
        s.timer = Some(serde_json::from_value(timer).unwrap());
        let mem = json!({"rmem_alloc": 0, "rcvbuf": 131072, "wmem_alloc": 5, "sndbuf": 16384,
            "fwd_alloc": 1, "wmem_queued": 2, "optmem": 0, "backlog": 0});
        s.memory = Some(serde_json::from_value(mem).unwrap());
        let info = json!({"options": 7, "snd_wscale": 7, "rcv_wscale": 6, "rto": 204000,
            "rtt": 1234, "rttvar": 617, "snd_mss": 1448, "pmtu": 65535, "rcv_mss": 536,
            "advmss": 65483, "snd_cwnd": 10, "snd_ssthresh": 0x7fffffff, "reordering": 3,
            "last_data_sent": 10, "last_ack_recv": 30, "rcv_ssthresh": 64088, "bytes_sent": 100,
            "bytes_acked": 101, "segs_out": 5, "segs_in": 4, "min_rtt": 31, "total_retrans": 2,
            "snd_wnd": 65536});
        s.tcp_info = Some(patch(TcpInfo::default(), info).into());
        let cols = "ESTAB 0 2803712 127.0.0.1:54968 127.0.0.1:24004";
        assert_eq!(line("t", &s), cols);
        assert_eq!(line("to", &s), format!("{cols} timer:(persist,1min6sec,0)"));
        assert_eq!(
            line("tem", &s),
            format!(
                "{cols} timer:(persist,1min6sec,0) uid:1000 ino:165 sk:5683 fwmark:0x2a <-> \
                 skmem:(r0,rb131072,t5,tb16384,f1,w2,o0,bl0)"
            )
        );
        assert_eq!(
            line("ti", &s),
            format!(
                "{cols} ts sack cubic wscale:7,6 rto:204 rtt:1.234/0.617 mss:1448 pmtu:65535 \
                 rcvmss:536 advmss:65483 cwnd:10 bytes_sent:100 bytes_acked:101 segs_out:5 \
                 segs_in:4 lastsnd:10 lastack:30 retrans:0/2 rcv_ssthresh:64088 minrtt:0.031 \
                 snd_wnd:65536"
            )
        );
        (s.shutdown, s.family, s.v6only) = (Some(1), Family::Inet6, Some(false));
        assert!(line("te", &s).ends_with(" v6only:0 -->"));
        s.shutdown = Some(2);
        assert!(line("te", &s).ends_with(" <--"));
        s.shutdown = Some(3);
        assert!(line("te", &s).ends_with(" ---"));
    }

    #[test]
    fn timer_and_number_formats_follow_ss() {
        let timers = [
            (66_000, "1min6sec"),
            (59_000, "59sec"),
            (748, "748ms"),
            (5, "005ms"),
        ];
        let more = [
            (4_488, "4.488sec"),
            (12_345, "12sec"),
            (660_000, "11min"),
            (0, ""),
        ];
        for (ms, text) in timers
            .into_iter()
            .chain(more)
            .chain([(7_140_000, "119min")])
        {
            assert_eq!(ms_timer(ms), text, "{ms}");
        }
        let nums = [
            (1.234, "1.234"),
            (204.0, "204"),
            (0.031, "0.031"),
            (12.5, "12.5"),
        ];
        let more = [
            (1234.567, "1234.57"),
            (1_234_567.0, "1.23457e+06"),
            (0.0, "0"),
        ];
        for (v, text) in nums.into_iter().chain(more) {
            assert_eq!(fmt_g(v), text, "{v}");
        }
    }

    #[test]
    fn header_rules_and_empty_output() {
        let header = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n";
        assert_eq!(render("tu", Vec::new(), Vec::new()), header);
        let no_state = "Recv-Q Send-Q Local Address:Port Peer Address:Port\n";
        assert_eq!(render("u", Vec::new(), Vec::new()), no_state);
        assert_eq!(render("tH", Vec::new(), Vec::new()), "");
        let s = sock("udp ESTAB 10.0.0.1:40000 10.0.0.53:53");
        assert_eq!(line("u", &s), "0 0 10.0.0.1:40000 10.0.0.53:53");
    }
}
