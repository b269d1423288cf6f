//! Dumping the socket tables of the calling thread's network namespace.
//!
//! One NETLINK_SOCK_DIAG request per table: TCP and UDP over IPv4 and IPv6, raw (through raw_diag,
//! else /proc/thread-self/net/raw{,6}), unix, packet and netlink. The kernel does most of a dump's work
//! inside `recvmsg` (walking its hash tables and filling replies), so the requests are spread
//! over two threads, each with its own netlink socket, taking tables biggest first from a shared
//! counter: a 65k-socket TCP table on one core while UDP, unix and the rest go on the other.
//!
//! The threads are plain threads spawned here, not the rayon pool: a thread inherits the network
//! namespace of the thread that spawns it, and `--all-netns` enters each namespace on a thread of
//! its own (rayon's workers stay in the namespace they were born in). With several namespaces,
//! which are already dumped two at a time, each namespace uses one thread.
//!
//! Each table is sorted by the thread that dumped it, and the tables are concatenated in the
//! order of the canonical sort key (protocol, then family), so a namespace's sockets come out
//! already in canonical order and the final sort only has to check that.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use netlink_packet_sock_diag::{
    SockDiagMessage,
    constants::{AF_INET, AF_INET6, IPPROTO_RAW, IPPROTO_TCP, IPPROTO_UDP},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    unix::{ShowFlags, StateFlags as UnixStateFlags, UnixRequest},
};

use super::netlink::{self, DiagSocket, DumpError};
use super::{CollectOptions, Warnings, inet, nldiag, packet, procnet, unix};
use crate::model::{Extensions, Family, Protocol, Socket, StateSet, TcpFields};

/// One request.
#[derive(Debug, Clone, Copy)]
enum Table {
    Inet {
        family: u8,
        proto: u8,
        protocol: Protocol,
        key: &'static str,
    },
    Unix,
    Packet,
    Netlink,
}

/// What one table gave.
#[derive(Default)]
struct Dumped {
    sockets: Vec<Socket>,
    warnings: Warnings,
    /// `meta.sources` entry: table name and where it came from.
    source: Option<(String, String)>,
}

/// The selected tables, in the order of the canonical sort key.
fn tables(opts: &CollectOptions) -> Vec<Table> {
    let families: Vec<(u8, bool)> = [(AF_INET, false), (AF_INET6, true)]
        .into_iter()
        .filter(|(f, _)| if *f == AF_INET { opts.ipv4 } else { opts.ipv6 })
        .collect();
    let mut out = Vec::new();
    let inet = [
        (opts.tables.tcp, IPPROTO_TCP, Protocol::Tcp, ["tcp", "tcp6"]),
        (opts.tables.udp, IPPROTO_UDP, Protocol::Udp, ["udp", "udp6"]),
        (opts.tables.raw, IPPROTO_RAW, Protocol::Raw, ["raw", "raw6"]),
    ];
    for (wanted, proto, protocol, keys) in inet {
        if wanted {
            for &(family, v6) in &families {
                out.push(Table::Inet {
                    family,
                    proto,
                    protocol,
                    key: keys[usize::from(v6)],
                });
            }
        }
    }
    if opts.tables.unix {
        out.push(Table::Unix);
    }
    if opts.tables.packet {
        out.push(Table::Packet);
    }
    if opts.tables.netlink {
        out.push(Table::Netlink);
    }
    out
}

/// Typical size rank of a table on a busy host, biggest first (for scheduling only).
fn weight(t: &Table) -> u8 {
    match t {
        Table::Inet {
            protocol: Protocol::Tcp,
            family,
            ..
        } => u8::from(*family != AF_INET),
        Table::Unix => 2,
        Table::Inet {
            protocol: Protocol::Udp,
            ..
        } => 3,
        _ => 4,
    }
}

/// Dumps every selected table of the calling thread's namespace on `threads` threads (1 or 2).
pub(super) fn dump_tables(
    opts: &CollectOptions,
    threads: usize,
    warnings: &mut Warnings,
    sources: &mut BTreeMap<String, String>,
) -> Vec<Socket> {
    let sock = match DiagSocket::open() {
        Ok(s) => s,
        Err(e) => {
            warnings.add(
                "netlink_unavailable",
                1,
                format!("cannot open a NETLINK_SOCK_DIAG socket: {e}"),
            );
            sources.insert("all".into(), format!("unavailable: {e}"));
            return Vec::new();
        }
    };
    let tables = tables(opts);
    let mut schedule: Vec<usize> = (0..tables.len()).collect();
    schedule.sort_by_key(|&i| weight(&tables[i]));
    let next = AtomicUsize::new(0);
    // Each worker takes the next table of the schedule until none is left.
    // A table whose dump starts before a scan's rules have said what they read is dumped with
    // the guess (collect::want), and again below if the guess missed something.
    let work = |mut sock: DiagSocket| {
        let mut done = Vec::new();
        while let Some(&i) = schedule.get(next.fetch_add(1, Ordering::Relaxed)) {
            let (want, _) = opts.extensions.now_or_guess();
            let mut d = dump_table(&mut sock, opts, tables[i], want);
            crate::model::sort_sockets(&mut d.sockets);
            done.push((i, d, want));
        }
        done
    };
    let dumped = std::thread::scope(|scope| {
        // A second socket that cannot be opened just leaves all the work to the first.
        let helper = (threads > 1)
            .then(|| scope.spawn(|| DiagSocket::open().map(&work).unwrap_or_default()));
        let mut done = work(sock);
        if let Some(h) = helper {
            done.extend(h.join().expect("a dump thread panicked"));
        }
        done
    });
    let mut results = redump_what_the_guess_missed(opts, &tables, dumped);
    results.sort_by_key(|(i, _)| *i);
    // The first table (TCP over IPv4, usually the biggest) becomes the result and the others
    // are appended to it: concatenating into a new vector would hold every socket twice at the
    // peak (30 MB at 100k sockets). Exactly the room they need: `reserve` would double the
    // table's capacity (40 MiB for 100k sockets, 8 MiB more than they fill).
    let total: usize = results.iter().map(|(_, d)| d.sockets.len()).sum();
    let mut out = Vec::new();
    for (_, mut d) in results {
        if out.is_empty() {
            std::mem::swap(&mut out, &mut d.sockets);
            out.reserve_exact(total - out.len());
        } else {
            out.append(&mut d.sockets);
        }
        warnings.merge(d.warnings);
        if let Some((k, v)) = d.source {
            sources.insert(k, v);
        }
    }
    out
}

/// Dumps again each table whose dump asked for less than the answer to `opts.extensions`
/// needs (a guess made before a scan's rules were loaded); waits for the answer. A table that
/// collected more than the answer needs keeps it: the rules do not read it.
fn redump_what_the_guess_missed(
    opts: &CollectOptions,
    tables: &[Table],
    dumped: Vec<(usize, Dumped, Extensions)>,
) -> Vec<(usize, Dumped)> {
    let answer = opts.extensions.get();
    let mut sock = None;
    dumped
        .into_iter()
        .map(|(i, mut d, asked)| {
            if asked.covers(answer) {
                return (i, d);
            }
            let s = match &mut sock {
                Some(s) => s,
                None => match DiagSocket::open() {
                    Ok(s) => sock.insert(s),
                    // The rules would miss what they read: a gap (fail closed), the sockets kept.
                    Err(e) => {
                        if let Some((_, v)) = &mut d.source {
                            *v = format!(
                                "unavailable: the dump again with the rules' extensions: {e}"
                            );
                        }
                        return (i, d);
                    }
                },
            };
            drop(d);
            let mut d = dump_table(s, opts, tables[i], answer);
            crate::model::sort_sockets(&mut d.sockets);
            (i, d)
        })
        .collect()
}

fn dump_table(
    sock: &mut DiagSocket,
    opts: &CollectOptions,
    table: Table,
    want: Extensions,
) -> Dumped {
    let mut d = Dumped::default();
    let mut ext = inet_extensions(want);
    match table {
        Table::Inet {
            family,
            proto,
            protocol,
            key,
        } => {
            let states = match protocol {
                Protocol::Tcp => opts.tcp_states.0,
                _ => StateSet::ALL.0,
            };
            if protocol == Protocol::Raw {
                ext = ExtensionFlags::SHUTDOWN;
            }
            let r = dump_inet(
                sock,
                (family, proto, protocol),
                states,
                ext,
                want.tcp,
                &mut d,
            );
            let text = match r {
                Err(DumpError::Unsupported(_)) if protocol == Protocol::Raw => {
                    raw_from_procfs(family, &mut d)
                }
                other => source_text(other),
            };
            d.source = Some((key.into(), text));
        }
        Table::Unix => {
            let req = SockDiagMessage::UnixRequest(UnixRequest {
                state_flags: UnixStateFlags::from_bits_retain(opts.unix_states.0),
                inode: 0,
                show_flags: ShowFlags::from_bits_retain(
                    (ShowFlags::NAME
                        | ShowFlags::VFS
                        | ShowFlags::PEER
                        | ShowFlags::ICONS
                        | ShowFlags::RQLEN)
                        .bits()
                        | if want.memory {
                            ShowFlags::MEMINFO.bits()
                        } else {
                            0
                        }
                        | unix::UDIAG_SHOW_UID,
                ),
                cookie: [0xff; 8],
            });
            let mut bad = 0u64;
            let r = sock.dump_message(req, |p| match unix::decode_unix(p) {
                Ok(s) => d.sockets.push(s),
                Err(_) => bad += 1,
            });
            decode_errors(&mut d.warnings, bad);
            d.source = Some(("unix".into(), source_text(r)));
        }
        Table::Packet => {
            let mut bad = 0u64;
            let r = sock.dump_raw(&packet::request(), |p| match packet::decode_packet(p) {
                Ok(s) => d.sockets.push(s),
                Err(_) => bad += 1,
            });
            decode_errors(&mut d.warnings, bad);
            d.source = Some(("packet".into(), source_text(r)));
        }
        Table::Netlink => {
            let mut bad = 0u64;
            let r = sock.dump_raw(&nldiag::request(), |p| match nldiag::decode_netlink(p) {
                Ok(s) => d.sockets.push(s),
                Err(_) => bad += 1,
            });
            decode_errors(&mut d.warnings, bad);
            d.source = Some(("netlink".into(), source_text(r)));
        }
    }
    d
}

/// The inet_diag extension bits of a request for `want` (SHUTDOWN always: `socket.shutdown`
/// reads it, and it costs the kernel one byte).
fn inet_extensions(want: Extensions) -> ExtensionFlags {
    let mut ext = ExtensionFlags::SHUTDOWN;
    if !want.tcp.is_empty() {
        ext |= ExtensionFlags::INFO;
    }
    if want.congestion {
        ext |= ExtensionFlags::CONG;
    }
    if want.memory {
        ext |= ExtensionFlags::SKMEMINFO;
    }
    if want.bbr {
        // VEGASINFO asks the congestion control for its own info: BBR answers with
        // INET_DIAG_BBRINFO (`ss -i`'s bbr:(...) block), as ss asks.
        ext |= ExtensionFlags::VEGASINFO;
    }
    ext
}

fn decode_errors(warnings: &mut Warnings, bad: u64) {
    warnings.add(
        "decode_error",
        bad,
        "netlink replies that could not be decoded",
    );
}

/// Dumps one inet table: `(family, proto, protocol)` names it; `keep` is what to keep of each
/// socket's tcp_info.
fn dump_inet(
    sock: &mut DiagSocket,
    (family, proto, protocol): (u8, u8, Protocol),
    states: u32,
    ext: ExtensionFlags,
    keep: TcpFields,
    d: &mut Dumped,
) -> Result<netlink::DumpStats, DumpError> {
    let req = SockDiagMessage::InetRequest(InetRequest {
        family,
        protocol: proto,
        extensions: ext,
        states: StateFlags::from_bits_retain(states),
        socket_id: if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        },
    });
    let mut bad = 0u64;
    let r = sock.dump_message(req, |p| {
        match inet::decode_inet_keeping(p, protocol, keep) {
            Ok(s) => d.sockets.push(s),
            Err(_) => bad += 1,
        }
    });
    decode_errors(&mut d.warnings, bad);
    if let Ok(stats) = &r
        && stats.interrupted
    {
        d.warnings.add(
            "dump_interrupted",
            1,
            "the kernel flagged a dump as interrupted: sockets may be missing or doubled",
        );
    }
    r
}

fn raw_from_procfs(family: u8, d: &mut Dumped) -> String {
    let (path, fam) = if family == AF_INET {
        ("/proc/thread-self/net/raw", Family::Inet)
    } else {
        ("/proc/thread-self/net/raw6", Family::Inet6)
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (v, bad) = procnet::parse_raw_table(&text, fam);
            d.sockets.extend(v);
            d.warnings
                .add("decode_error", bad, format!("unparsable lines in {path}"));
            format!("procfs ({path}: this kernel has no raw_diag)")
        }
        Err(e) => {
            d.warnings.add("raw_unavailable", 1, format!("{path}: {e}"));
            format!("unavailable: no raw_diag and {path}: {e}")
        }
    }
}

fn source_text(r: Result<netlink::DumpStats, DumpError>) -> String {
    match r {
        Ok(_) => "netlink".into(),
        Err(e) => format!("unavailable: {e}"),
    }
}
