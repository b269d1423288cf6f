//! The `ss`-style text table: aligned columns, `ss`'s address rendering, and the `-e -o -m -i -b`
//! details.
//!
//! Columns are `Netid` (when more than one table is selected), `State` (when more than one state
//! can show), `Recv-Q`, `Send-Q`, `Local Address:Port`, `Peer Address:Port` and, with `-p`,
//! `Process` (`users:(("comm",pid=N,fd=N),...)` as in `ss`), and with `-X` two columns `ss`
//! lacks: `Exe` (the holders' executables, `PATH (deleted)` when unlinked, memfd paths as the
//! kernel names them) and `User` (name, else uid). A missing value under `-p` is `-` (no holder)
//! or `?` (holder not readable), so every row has the same number of columns. Widths are computed over all rows;
//! the last column is not padded; addresses are right-aligned against their port as in `ss`.
//!
//! As `ss`, `-m` and `-i` details of TCP, UDP and raw sockets go on a TAB-indented continuation
//! line, and `-O` keeps every socket on one line (greppable); the other details (`-e -o -b`)
//! follow the columns on the socket's line.
//!
//! Packet sockets' `-e` and `-b` details follow `ss`'s `packet_show_sock()`: `uid ino sk` on the
//! socket's line, then `ver cpy_thresh flags(...)`, the rings, the fanout group and the filter
//! program each on a continuation line.
//!
//! Deliberate differences from `ss`:
//! - Every string that an attacker can choose (comm, exe, unix names, user and interface names,
//!   and anything read back from a snapshot file) goes through [`crate::text::escape`], so no
//!   control character, ESC, newline or bidi override reaches the terminal; `"` in a comm is
//!   written `\"`. `ss` prints unix names raw.
//! - Without `-n`, TCP and UDP ports outside the ephemeral range print as their /etc/services
//!   names (`ssh`, `http`) and packet sockets' ethertypes as iproute2's names (`ip`, `ipv6`),
//!   as `ss`, and raw sockets' protocols as their /etc/protocols names (`ipproto-N` without
//!   one). With `-r`, addresses print as
//!   the host names the app looked up ([`HostNames`]), escaped like every outside string.
//! - `-p` shows `ss`'s Process column; `-X` adds sockwarden's Exe (the holders' executables,
//!   `PATH (deleted)` when unlinked) and User columns.
//! - Every column, `Recv-Q`/`Send-Q` included, is as wide as its widest cell (the header too,
//!   unless `-H`); `ss` always pads the queues to 6.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::filter::lookup::HostNames;
use super::{ListOptions, Selection, filter::unix_name};
use rayon::prelude::*;

use crate::model::{Family, Protocol, Snapshot, Socket, State};
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
        cols.push("Process");
        if opts.extra {
            cols.extend(["Exe", "User"]);
        }
    }
    let ports = PortNames {
        names: opts.services.as_deref().filter(|_| !opts.numeric),
        ephemeral: snap.meta.ip_local_port_range.unwrap_or((1024, 4999)),
        numeric: opts.numeric,
    };
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
        if s.protocol.is_netlink() {
            netlink_addresses(&mut r, snap, s, opts.numeric);
        } else {
            addresses(&mut r, s, &ports, opts.hosts.as_deref());
        }
        if opts.processes {
            let [users, exes, names] = holders(snap, s);
            r.cell(|o| o.push_str(&users));
            if opts.extra {
                r.cell(|o| o.push_str(&exes));
                r.cell(|o| o.push_str(&names));
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
/// v6only. With `-r`, the address's host name when it has one (`format_host()`), bracketed only
/// when it is an IPv6 socket's and holds a `:`.
fn push_inet_addr(o: &mut String, a: IpAddr, v6only: bool, hosts: Option<&HostNames>) {
    if let IpAddr::V6(v6) = a
        && v6.is_unspecified()
        && !v6only
    {
        o.push('*');
        return;
    }
    if let Some(name) = hosts.and_then(|h| h.name(a)) {
        let name = escape_str(name);
        if a.is_ipv6() && name.contains(':') {
            let _ = write!(o, "[{name}]");
        } else {
            o.push_str(&name);
        }
        return;
    }
    match a {
        IpAddr::V4(v4) => {
            for (i, b) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    o.push('.');
                }
                push_num(o, b);
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(o, "[{v6}]");
        }
    }
}

/// How ports print: service names (without `-n`) outside the ephemeral range, as `ss`'s
/// `resolve_service()`, else numbers.
struct PortNames<'a> {
    names: Option<&'a super::filter::lookup::ServiceNames>,
    ephemeral: (u16, u16),
    /// `-n`: packet sockets' ethertypes as numbers too.
    numeric: bool,
}

impl PortNames<'_> {
    fn push(&self, o: &mut String, s: &Socket, port: u16) {
        if let (Some(n), Protocol::Raw) = (self.names, s.protocol) {
            // A raw socket's "port" is its IP protocol: ss's inet_proto_n2a() names it from
            // /etc/protocols, else `ipproto-N`.
            match n.protocol(port) {
                Some(name) => o.push_str(&escape_str(name)),
                None => {
                    let _ = write!(o, "ipproto-{port}");
                }
            }
            return;
        }
        let proto = match s.protocol {
            Protocol::Tcp => Some("tcp"),
            Protocol::Udp => Some("udp"),
            _ => None,
        };
        let (lo, hi) = self.ephemeral;
        let name = match (self.names, proto) {
            (Some(n), Some(p)) if !(lo..=hi).contains(&port) => n.name(port, p),
            _ => None,
        };
        match name {
            Some(n) => o.push_str(&escape_str(n)),
            None => push_num(o, port),
        }
    }
}

/// Four cells: local address (with its separator), local port, peer address, peer port.
fn addresses(r: &mut Row, s: &Socket, ports: &PortNames, hosts: Option<&HostNames>) {
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
                Some(n) => match super::filter::ll_proto_name(n).filter(|_| !ports.numeric) {
                    Some(name) => o.push_str(name),
                    None => {
                        let _ = write!(o, "[{n}]");
                    }
                },
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
                Some(e) => push_inet_addr(o, e.address, v6only, hosts),
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
            Some(e) if e.port != 0 => ports.push(o, s, e.port),
            _ => o.push('*'),
        });
    }
}

/// A netlink socket's four cells, as `ss`'s `netlink_show_one()`: `PROTO:PORT` where PROTO is
/// `ss`'s name for the protocol and PORT `kernel` for port id 0, `*` for -1, `COMM/PID` when
/// the snapshot has a process whose pid is the port id, else the number (with `-n`: both
/// numbers); the peer is `GROUP:PORTID` for a connected socket, else `*`.
fn netlink_addresses(r: &mut Row, snap: &Snapshot, s: &Socket, numeric: bool) {
    let Some(n) = s.netlink.as_deref() else {
        for _ in 0..4 {
            r.cell(|o| o.push('*'));
        }
        return;
    };
    let port = n.portid as i32;
    r.cell(|o| {
        match crate::model::netlink_protocol_name(n.protocol).filter(|_| !numeric) {
            Some(name) => o.push_str(name),
            None => push_num(o, n.protocol),
        }
        o.push(':');
    });
    r.cell(|o| match port {
        -1 => o.push('*'),
        0 if !numeric => o.push_str("kernel"),
        p if p > 0 && !numeric => match snap.process(p as u32) {
            Some(holder) => {
                o.push_str(&escape(&holder.comm.0));
                o.push('/');
                push_num(o, p);
            }
            None => push_num(o, p),
        },
        p => push_num(o, p),
    });
    match (n.dst_group, n.dst_portid) {
        (Some(group), Some(peer)) => {
            r.cell(|o| {
                push_num(o, group);
                o.push(':');
            });
            r.cell(|o| push_num(o, peer as i32));
        }
        _ => {
            r.cell(|o| o.push('*'));
            r.cell(|_| {});
        }
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
    // ss's show_options: -o, -e and -b all set it (timers, and tcp_info's option flags).
    let show_options = opts.options || opts.extended || opts.bpf;
    if s.protocol.is_inet() {
        if show_options {
            timer(o, s);
        }
        if opts.extended {
            let _ = write!(o, "{} ino:{}{}", uid(s), s.inode, cookie(s));
            if let Some(m) = s.mark.filter(|&m| m != 0) {
                let _ = write!(o, " fwmark:0x{m:x}");
            }
            if let Some(id) = s.cgroup_id.filter(|&id| id != 0) {
                cgroup(o, id, opts);
            }
            if let (Family::Inet6, Some(v)) = (s.family, s.v6only) {
                let _ = write!(o, " v6only:{}", u8::from(v));
            }
            o.push_str(&arrows(s));
        }
        // ss --cgroup: whenever the kernel sent the id (0 too), after -e's details.
        if let (true, Some(id)) = (opts.show_cgroup, s.cgroup_id) {
            cgroup(o, id, opts);
        }
        // As ss: memory and tcp_info on a continuation line (`\n\t`), unless -O.
        if (opts.memory || (opts.info && s.protocol != Protocol::Udp)) && !opts.oneline {
            o.push_str("\n\t");
        }
        if opts.memory {
            skmem(o, s);
        }
        if opts.info {
            tcp_info(o, s, opts.numeric, show_options);
        }
    } else if s.protocol.is_unix() {
        if opts.memory {
            skmem(o, s);
        }
        if let (true, Some(u)) = (opts.extended, &s.unix) {
            // ss 6.1 prints no uid for a unix socket (the JSON has it).
            o.push_str(&arrows(s));
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
    } else if let Some(n) = s.netlink.as_deref() {
        if opts.extended {
            // ss prints the groups' first `unsigned long` with %08x: its low 32 bits. The
            // netlink_diag path has no sk and cb addresses: ss prints 0.
            let low: u32 = n
                .groups
                .iter()
                .filter(|&&g| (1..=32).contains(&g))
                .fold(0, |m, g| m | 1 << (g - 1));
            let _ = write!(o, " sk=0 cb=0 groups=0x{low:08x}");
        }
        if opts.memory {
            // ss prints a tab before a netlink socket's memory, on the same line.
            o.push('\t');
            skmem(o, s);
        }
    } else {
        packet_details(o, s, opts);
    }
}

/// ` cgroup:PATH`, the path from the app's lookup; `unreachable:HEX` when it has none, as `ss`.
fn cgroup(o: &mut String, id: u64, opts: &ListOptions) {
    let path = opts.cgroups.as_deref().map_or_else(
        || format!("unreachable:{id:x}"),
        |c| c.path(id).into_owned(),
    );
    let _ = write!(o, " cgroup:{}", escape_str(&path));
}

/// A packet socket's details as `ss`'s `packet_show_sock()`: with `-e` the common details on
/// the socket's line, then the ring version and flags, the rings and the fanout group each on a
/// continuation line (with `-O` on the same line); with `-b` the filter program, `-m` the memory
/// after whatever came last.
fn packet_details(o: &mut String, s: &Socket, opts: &ListOptions) {
    let packet = s.packet.as_deref();
    let next = if opts.oneline { " " } else { "\n\t" };
    if opts.extended {
        let _ = write!(o, "{} ino:{}{}", uid(s), s.inode, cookie(s));
        if let Some(p) = packet.filter(|p| p.version.is_some()) {
            let flags = p.flags.unwrap_or(0);
            let _ = write!(
                o,
                "{next}ver:{} cpy_thresh:{} flags( ",
                p.version.unwrap_or(0) as i32,
                p.copy_thresh.unwrap_or(0) as i32
            );
            // ss writes the first name without a space before it: `flags( running auxdata )`,
            // `flags(  auxdata )`, `flags( 0 )`.
            if flags & 1 != 0 {
                o.push_str("running");
            }
            for (bit, name) in [(2, "auxdata"), (4, "origdev"), (8, "vnethdr"), (16, "loss")] {
                if flags & bit != 0 {
                    let _ = write!(o, " {name}");
                }
            }
            if flags == 0 {
                o.push('0');
            }
            o.push_str(" )");
        }
        for (name, ring) in packet
            .map(|p| [("ring_rx", p.rx_ring), ("ring_tx", p.tx_ring)])
            .into_iter()
            .flatten()
        {
            if let Some(r) = ring {
                let _ = write!(
                    o,
                    "{next}{name}(blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                    r.block_size as i32,
                    r.block_nr as i32,
                    r.frame_size as i32,
                    r.frame_nr as i32,
                    r.retire_tmo as i32,
                    r.features
                );
            }
        }
        if let Some(f) = packet.and_then(|p| p.fanout) {
            let kinds = ["hash", "lb", "cpu", "roll", "random", "qm"];
            let t = (f >> 16) as usize;
            let kind = kinds.get(t).map_or(format!("0x{t:x}"), |k| k.to_string());
            let _ = write!(o, "{next}fanout(id:{},type:{kind})", f & 0xffff);
        }
    }
    if let (true, Some(prog)) = (opts.bpf, packet.and_then(|p| p.bpf.as_ref())) {
        // ss's format: two spaces after the colon and a comma after every instruction.
        let _ = write!(o, "{next}bpf filter ({}): ", prog.len());
        for i in prog {
            let _ = write!(o, " 0x{:02x} {} {} {},", i.code, i.jt, i.jf, i.k);
        }
    }
    if opts.memory {
        skmem(o, s);
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
        let (kind, time) = (escape_str(&t.kind.name()), ms_timer(t.expires_ms));
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
    fmt_gp(v, 6)
}

/// C's `%.Pg`: `p` significant digits, trailing zeros removed, exponent form outside
/// 1e-4..1e`p`.
fn fmt_gp(v: f64, p: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    // The exponent after rounding to p digits (999.95 at %.3g is 1e+03).
    let rounded: f64 = format!("{v:.*e}", (p - 1).max(0) as usize)
        .parse()
        .unwrap_or(v);
    let exp = rounded.abs().log10().floor() as i32;
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..p).contains(&exp) {
        let m = trim(format!("{:.*}", (p - 1) as usize, v / 10f64.powi(exp)));
        return format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    trim(format!("{:.*}", (p - 1 - exp).max(0) as usize, v))
}

/// `ss`'s `sprint_bw()`: bits per second, `%.0f` with `-n`, else three significant digits
/// and a k/M/G/T suffix.
fn bw(v: f64, numeric: bool) -> String {
    if numeric {
        return format!("{v:.0}");
    }
    for (unit, scale) in [("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)] {
        if v >= scale {
            return format!("{}{unit}", fmt_gp(v / scale, 3));
        }
    }
    fmt_g(v)
}

fn num(o: &mut String, name: &str, v: u64) {
    if v != 0 {
        let _ = write!(o, " {name}:{v}");
    }
}

/// `tcp_info` as ss 6.1's `tcp_stats_print()`: its fields in its order and formats, zero values
/// left out. The rates follow `-n` as in `ss` (`send 12.3Mbps`, with `-n` `send 12345678bps`);
/// the negotiated options (`ts sack ecn ...`) print only with `-o`, `-e` or `-b` (ss's
/// show_options); BBR's `bbr:(...)` block follows `data_segs_in`.
fn tcp_info(o: &mut String, s: &Socket, numeric: bool, show_options: bool) {
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
        if show_options && t.options & bit != 0 {
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
    num(o, "bytes_sent", t.bytes_sent().unwrap_or(0));
    num(o, "bytes_retrans", t.bytes_retrans().unwrap_or(0));
    num(o, "bytes_acked", t.bytes_acked().unwrap_or(0));
    num(o, "bytes_received", t.bytes_received().unwrap_or(0));
    num(o, "segs_out", opt(t.segs_out()));
    num(o, "segs_in", opt(t.segs_in()));
    num(o, "data_segs_out", opt(t.data_segs_out()));
    num(o, "data_segs_in", opt(t.data_segs_in()));
    if let Some(b) = &s.bbr {
        bbr(o, b, numeric);
    }
    if t.rtt > 0 && t.snd_mss > 0 && t.snd_cwnd > 0 {
        let send = f64::from(t.snd_cwnd) * f64::from(t.snd_mss) * 8_000_000.0 / f64::from(t.rtt);
        let _ = write!(o, " send {}bps", bw(send, numeric));
    }
    num(o, "lastsnd", t.last_data_sent.into());
    num(o, "lastrcv", t.last_data_recv.into());
    num(o, "lastack", t.last_ack_recv.into());
    if let Some(p) = t.pacing_rate().filter(|&p| p != 0 && p != u64::MAX) {
        let _ = write!(o, " pacing_rate {}bps", bw(p as f64 * 8.0, numeric));
        if let Some(m) = t.max_pacing_rate().filter(|&m| m != 0 && m != u64::MAX) {
            let _ = write!(o, "/{}bps", bw(m as f64 * 8.0, numeric));
        }
    }
    if let Some(d) = t.delivery_rate().filter(|&d| d != 0) {
        let _ = write!(o, " delivery_rate {}bps", bw(d as f64 * 8.0, numeric));
    }
    num(o, "delivered", opt(t.delivered()));
    num(o, "delivered_ce", opt(t.delivered_ce()));
    if t.delivery_rate_app_limited() == Some(true) {
        o.push_str(" app_limited");
    }
    if let Some(busy) = t.busy_time().filter(|&b| b != 0) {
        let _ = write!(o, " busy:{}ms", busy / 1000);
        for (name, v) in [
            ("rwnd_limited", t.rwnd_limited()),
            ("sndbuf_limited", t.sndbuf_limited()),
        ] {
            if let Some(v) = v.filter(|&v| v != 0) {
                let pct = 100.0 * v as f64 / busy as f64;
                let _ = write!(o, " {name}:{}ms({pct:.1}%)", v / 1000);
            }
        }
    }
    num(o, "unacked", t.unacked.into());
    let total = t.total_retrans().unwrap_or(0);
    if t.retrans != 0 || total != 0 {
        let _ = write!(o, " retrans:{}/{total}", t.retrans);
    }
    num(o, "lost", t.lost.into());
    if s.state != State::Listen {
        num(o, "sacked", t.sacked.into());
    }
    num(o, "dsack_dups", opt(t.dsack_dups()));
    if t.reordering != 3 {
        let _ = write!(o, " reordering:{}", t.reordering);
    }
    num(o, "reord_seen", opt(t.reord_seen()));
    if let Some(r) = t.rcv_rtt().filter(|&r| r != 0) {
        let _ = write!(o, " rcv_rtt:{}", ms(r));
    }
    num(o, "rcv_space", opt(t.rcv_space()));
    num(o, "rcv_ssthresh", t.rcv_ssthresh.into());
    num(o, "notsent", opt(t.notsent_bytes()));
    if let Some(r) = t.min_rtt().filter(|&r| r != 0 && r != u32::MAX) {
        let _ = write!(o, " minrtt:{}", ms(r));
    }
    num(o, "rcv_ooopack", opt(t.rcv_ooopack()));
    // ss 6.1 ends here: rcv_wnd (newer iproute2) is in the JSON only.
    num(o, "snd_wnd", opt(t.snd_wnd()));
}

/// BBR's block as `ss`: `bbr:(bw:BW,mrtt:MS[,pacing_gain:G][,cwnd_gain:G])`, the bandwidth in
/// bits per second as `sprint_bw()`, the minimum RTT in ms and the gains as `%g` of x/256.
fn bbr(o: &mut String, b: &crate::model::BbrInfo, numeric: bool) {
    let _ = write!(
        o,
        " bbr:(bw:{}bps,mrtt:{}",
        bw(b.bw as f64 * 8.0, numeric),
        fmt_g(f64::from(b.min_rtt) / 1000.0)
    );
    if b.pacing_gain != 0 {
        let _ = write!(
            o,
            ",pacing_gain:{}",
            fmt_g(f64::from(b.pacing_gain) / 256.0)
        );
    }
    if b.cwnd_gain != 0 {
        let _ = write!(o, ",cwnd_gain:{}", fmt_g(f64::from(b.cwnd_gain) / 256.0));
    }
    o.push(')');
}

#[cfg(test)]
mod tests;
