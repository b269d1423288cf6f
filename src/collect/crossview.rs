//! Cross-view: the same sockets and holders seen through independent interfaces, and the
//! disagreements that only hiding explains.
//!
//! Four views: the netlink dump, the /proc/net text tables, the /proc/PID/fd walk and the BPF
//! task-file iterator (`View`). A rootkit that filters one of them (a libc hook on reads of
//! /proc/net/tcp, a kernel hook on `tcp4_seq_show`, a mount over /proc/PID) leaves the others
//! intact. Views are read at different instants, so most disagreements are churn: a socket
//! opened or closed between two reads. Every disagreement is therefore re-checked after
//! [`RECHECK_DELAY`], in an order that proves the object existed throughout:
//!
//! - netlink saw a socket that /proc/net did not: re-read /proc/net, then dump netlink again;
//!   hidden when the socket (same cookie) is in both dumps and in neither text read;
//! - /proc/net showed a socket that netlink did not: re-read /proc/net, dump netlink, read
//!   /proc/net a third time; hidden when it is in every text read and in neither dump;
//! - the BPF iterator found a descriptor on a socket that the fd walk did not: duplicate the
//!   descriptor from its process (pidfd_getfd, which does not go through /proc) and check its
//!   inode, then readlink /proc/PID/fd/N, then duplicate again; hidden when the descriptor held
//!   the socket both times and /proc did not show it in between;
//! - a process the iterator saw whose pid /proc does not list, or whose /proc/PID cannot be read
//!   or has a mount over it: hidden when, after the delay, it is still alive (pidfd_open) and
//!   /proc still hides it.
//!
//! What the re-check explains is counted as churn in `meta.views` and reported nowhere.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use rustc_hash::FxHashSet;

use super::{CollectOptions, Warnings, procnet, tables};
use crate::model::{ByteString, Endpoint, Family, Owner, Protocol, Socket, View, ViewCoverage};

/// How long a disagreement is left to settle before it is re-checked: longer than a dump of a
/// busy table takes, short against a scan.
pub const RECHECK_DELAY: Duration = Duration::from_millis(20);

/// The delay before a re-check, taken once however many re-checks follow it.
#[derive(Debug, Default)]
pub(super) struct Settle(bool);

impl Settle {
    /// Sleeps [`RECHECK_DELAY`] the first time only.
    pub(super) fn wait(&mut self) {
        if !self.0 {
            std::thread::sleep(RECHECK_DELAY);
            self.0 = true;
        }
    }
}

/// `meta.views.missing.procnet` when the view is switched off.
pub const PROCNET_OFF: &str = "switched off (procnet_view: false, --no-procnet-view): \
                               NET-HID-001 and NET-HID-002 are not decided";

/// The default of `procnet_udp_max`: the most UDP sockets (IPv4 and IPv6) a namespace may have
/// for its /proc/net/udp and udp6 to be read (docs/detection.md, "Costs").
pub const PROCNET_UDP_MAX: u64 = 16384;

/// Seconds of kernel time per squared UDP socket when /proc/net/udp is read: 41-46 s for 112k
/// UDPv4 sockets (shared/research/bench.md), the estimate `meta.views.missing.procnet` gives.
const UDP_SECONDS_PER_SQUARE: f64 = 44.0 / (112_000.0 * 112_000.0);

/// One /proc/net table of the `procnet` view.
#[derive(Debug, Clone, Copy)]
struct Table {
    file: &'static str,
    protocol: Protocol,
    family: Family,
}

/// The /proc/net tables that mirror the selected netlink tables.
fn tables_of(opts: &CollectOptions) -> Vec<Table> {
    let all = [
        ("tcp", Protocol::Tcp, Family::Inet),
        ("tcp6", Protocol::Tcp, Family::Inet6),
        ("udp", Protocol::Udp, Family::Inet),
        ("udp6", Protocol::Udp, Family::Inet6),
    ];
    all.into_iter()
        .filter(|(_, protocol, family)| {
            let table = match protocol {
                Protocol::Tcp => opts.tables.tcp,
                _ => opts.tables.udp,
            };
            let family = match family {
                Family::Inet => opts.ipv4,
                _ => opts.ipv6,
            };
            table && family
        })
        .map(|(file, protocol, family)| Table {
            file,
            protocol,
            family,
        })
        .collect()
}

/// Why the UDP tables of the calling thread's namespace are not read: more UDP sockets than
/// `procnet_udp_max` (the kernel's read of /proc/net/udp walks the table from its first socket
/// for every page it hands out), or a count that could not be taken. `None`: read them.
fn udp_skipped(opts: &CollectOptions) -> Option<String> {
    let cap = opts.procnet_udp_max?;
    let how = "raise procnet_udp_max (--procnet-udp-max N, SOCKWARDEN_PROCNET_UDP_MAX; \
               `none`: no cap) to read them";
    let count = match super::sockstat::SockStat::read() {
        Ok(s) => u64::try_from(s.udp4.max(0) + s.udp6.max(0)).unwrap_or(0),
        Err(e) => {
            return Some(format!(
                "udp, udp6 not read: their sockets could not be counted ({e}); {how}"
            ));
        }
    };
    if count <= cap && cap > 0 {
        return None;
    }
    let estimate = UDP_SECONDS_PER_SQUARE * (count as f64) * (count as f64);
    Some(format!(
        "udp, udp6 not read: {count} UDP sockets (sockstat) above procnet_udp_max {cap}; the \
         kernel reads /proc/net/udp in time quadratic in the sockets (up to ~{estimate:.1} s \
         here, scaled from 41-46 s at 112k), holding each hash bucket's lock over and over; NET-HID-001 and \
         NET-HID-002 are undecided for UDP; {how}"
    ))
}

/// One line of a /proc/net table as the comparison keeps it (16 bytes): the inode, and a hash
/// of the protocol and endpoints (what a socket keeps when its inode is 0: TIME-WAIT, not yet
/// accepted, or turned from one into the other between two reads). Sorted by inode, then pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Row {
    inode: u64,
    pair: u64,
}

const _: () = assert!(std::mem::size_of::<Row>() == 16);

/// A socket's protocol and endpoints, hashed (SipHash with fixed keys: the same for the same
/// endpoints in every run, and no accidental collisions among a million sockets). A collision
/// would only make two sockets with inode 0 look alike, which a hook could do anyway by printing
/// the endpoints it hides.
fn pair_hash(protocol: Protocol, local: Option<Endpoint>, remote: Option<Endpoint>) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    // SipHash-1-3 (std's DefaultHasher; `new()` has fixed keys).
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (protocol, local, remote).hash(&mut h);
    h.finish()
}

fn socket_pair(s: &Socket) -> u64 {
    pair_hash(s.protocol, s.local, s.remote)
}

/// One table's rows (of the TCP states the dump was asked for), read through
/// /proc/thread-self/net (the calling thread's network namespace) and parsed while read.
/// `Ok(None)`: a kernel without IPv6 has no tcp6 (nor IPv6 sockets).
fn read_rows(opts: &CollectOptions, t: &Table) -> io::Result<Option<Vec<Row>>> {
    let mut rows = Vec::new();
    let opened = for_each_line(t, |line| {
        let Some(l) = procnet::fixed_line(line, t.family) else {
            return;
        };
        if t.protocol != Protocol::Tcp || opts.tcp_states.contains(l.state) {
            rows.push(Row {
                inode: l.inode,
                pair: pair_hash(t.protocol, Some(l.local), Some(l.remote)),
            });
        }
    })?;
    Ok(opened.then_some(rows))
}

/// Streams the lines of table `t` to `f` ([`procnet::for_each_line`]); `Ok(false)` when an
/// IPv6 table does not exist.
fn for_each_line(t: &Table, f: impl FnMut(&[u8])) -> io::Result<bool> {
    let path = format!("/proc/thread-self/net/{}", t.file);
    let located = |e: io::Error| io::Error::new(e.kind(), format!("{path}: {e}"));
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound && t.family == Family::Inet6 => {
            return Ok(false);
        }
        Err(e) => return Err(located(e)),
    };
    procnet::for_each_line(file, procnet::READ_CHUNK, f).map_err(located)?;
    Ok(true)
}

/// The rows of `tables`, in one list, sorted.
fn read_tables(opts: &CollectOptions, tables: &[Table]) -> io::Result<Vec<Row>> {
    let mut out = Vec::new();
    for t in tables {
        out.extend(read_rows(opts, t)?.unwrap_or_default());
    }
    out.sort_unstable();
    Ok(out)
}

/// The whole sockets of `tables` that `keep` selects, from a full parse of their lines (uid and
/// queues included): for the few sockets that only /proc/net shows.
fn read_sockets(
    opts: &CollectOptions,
    tables: &[Table],
    keep: impl Fn(&Socket) -> bool,
) -> io::Result<Vec<Socket>> {
    let mut out = Vec::new();
    for t in tables {
        for_each_line(t, |line| {
            let line = String::from_utf8_lossy(line);
            let Some(s) = procnet::parse_line(&line, t.protocol, t.family) else {
                return;
            };
            if (s.protocol != Protocol::Tcp || opts.tcp_states.contains(s.state)) && keep(&s) {
                out.push(s);
            }
        })?;
    }
    Ok(out)
}

/// The /proc/net tables that mirror the selected netlink tables, each read on its own, while
/// netlink dumps them (on another thread of the same network namespace: at 100k sockets the
/// kernel takes ~150 ms to print /proc/net/tcp); [`compare_net`] uses those netlink answered.
/// The UDP tables are left out when the namespace has more UDP sockets than
/// `procnet_udp_max`, with the reason.
pub(super) struct TextAhead {
    tables: Vec<(&'static str, io::Result<Vec<Row>>)>,
    udp_skipped: Option<String>,
}

/// Reads [`TextAhead`] in the calling thread's network namespace.
pub(super) fn read_ahead(opts: &CollectOptions) -> TextAhead {
    let mut tables = tables_of(opts);
    let udp_skipped = tables
        .iter()
        .any(|t| t.protocol == Protocol::Udp)
        .then(|| udp_skipped(opts))
        .flatten();
    if udp_skipped.is_some() {
        tables.retain(|t| t.protocol != Protocol::Udp);
    }
    TextAhead {
        tables: tables
            .into_iter()
            .map(|t| (t.file, read_tables(opts, &[t])))
            .collect(),
        udp_skipped,
    }
}

impl TextAhead {
    /// The rows of `tables`, as read ahead (a table not read ahead is read now), sorted.
    fn take(mut self, opts: &CollectOptions, tables: &[Table]) -> io::Result<Vec<Row>> {
        let mut out = Vec::new();
        for t in tables {
            let read = match self.tables.iter().position(|(f, _)| *f == t.file) {
                Some(i) => self.tables.swap_remove(i).1,
                None => read_tables(opts, &[*t]),
            };
            out.extend(read?);
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// What one view listed, by the keys another view can match: the inodes (unique on the host)
/// and the endpoint hashes, each sorted for binary search (half the memory of hash sets, and
/// built in one sort).
#[derive(Default)]
struct Index {
    inodes: Vec<u64>,
    pairs: Vec<u64>,
}

impl Index {
    /// The index of `keys` (inode, and the endpoints' hash when asked for: `None` when the
    /// entry has an inode and the index is not `full`). Without `full`, only the entries
    /// without an inode are indexed by endpoints: nearly every socket is then found by its
    /// inode, and the few that are not are looked for again in a full index.
    fn build(keys: impl Iterator<Item = (u64, Option<u64>)>) -> Index {
        let mut ix = Index::default();
        for (inode, pair) in keys {
            if inode != 0 {
                ix.inodes.push(inode);
            }
            ix.pairs.extend(pair);
        }
        ix.inodes.sort_unstable();
        ix.pairs.sort_unstable();
        ix.pairs.dedup();
        ix
    }

    /// The index of `sockets`; with `full`, by every socket's endpoints.
    fn of<'a>(sockets: impl IntoIterator<Item = &'a Socket>, full: bool) -> Index {
        Index::build(
            sockets
                .into_iter()
                .map(|s| (s.inode, (full || s.inode == 0).then(|| socket_pair(s)))),
        )
    }

    /// The index of `rows`, by every row's endpoints.
    fn of_rows(rows: &[Row]) -> Index {
        Index::build(rows.iter().map(|r| (r.inode, Some(r.pair))))
    }

    fn has_inode(&self, inode: u64) -> bool {
        inode != 0 && self.inodes.binary_search(&inode).is_ok()
    }

    fn sees(&self, s: &Socket) -> bool {
        self.has_inode(s.inode) || self.pairs.binary_search(&socket_pair(s)).is_ok()
    }

    fn sees_row(&self, r: &Row) -> bool {
        self.has_inode(r.inode) || self.pairs.binary_search(&r.pair).is_ok()
    }
}

/// The sorted rows of a table read, searched as an index without another copy: by inode, and
/// by endpoints among the rows without one (they sort first).
struct RowIndex<'a>(&'a [Row]);

impl RowIndex<'_> {
    fn sees(&self, s: &Socket) -> bool {
        let rows = self.0;
        if s.inode != 0 {
            let at = rows.partition_point(|r| r.inode < s.inode);
            if rows.get(at).is_some_and(|r| r.inode == s.inode) {
                return true;
            }
        }
        let zero = rows.partition_point(|r| r.inode == 0);
        let pair = socket_pair(s);
        rows[..zero].binary_search_by_key(&pair, |r| r.pair).is_ok()
    }
}

/// A socket's identity across two netlink dumps: its cookie, else its inode.
fn identity(s: &Socket) -> (Protocol, u64, u64) {
    (s.protocol, s.cookie.unwrap_or(0), s.inode)
}

/// What the comparison of netlink and /proc/net gave for one namespace.
#[derive(Debug, Default)]
pub(super) struct NetCompare {
    /// Protocols both views were read for.
    pub read: Vec<Protocol>,
    /// Why /proc/net could not be read (or only in part: the UDP tables above
    /// `procnet_udp_max`).
    pub missing: Option<String>,
    /// Disagreements re-checked, and how many of them churn explained.
    pub rechecked: u64,
    pub churn: u64,
    /// How long reading the tables ahead took (on its own thread), and the comparison after
    /// the dump (`SOCKWARDEN_TIMINGS`).
    pub read_took: Duration,
    pub compare_took: Duration,
}

/// Marks each socket with the view it was dumped from: netlink, or /proc/net for raw sockets of
/// a kernel without raw_diag (that is the procnet view).
fn mark_dumped(sockets: &mut [Socket], sources: &BTreeMap<String, String>) {
    for s in sockets.iter_mut() {
        let from_text = s.protocol == Protocol::Raw
            && sources
                .get(if s.family == Family::Inet {
                    "raw"
                } else {
                    "raw6"
                })
                .is_some_and(|v| v.starts_with("procfs"));
        s.views.add(if from_text {
            View::Procnet
        } else {
            View::Netlink
        });
    }
}

/// The tables netlink answered (only those are compared), without UDP when it was skipped.
fn answered(opts: &CollectOptions, sources: &BTreeMap<String, String>, udp: bool) -> Vec<Table> {
    tables_of(opts)
        .into_iter()
        .filter(|t| {
            (udp || t.protocol != Protocol::Udp)
                && sources.get(t.file).is_some_and(|v| v == "netlink")
        })
        .collect()
}

/// Marks each dumped TCP and UDP socket with the views that saw it, compares them with the
/// /proc/net tables of the same namespace, re-checks the disagreements and appends the sockets
/// that only /proc/net shows (hidden from netlink). Runs on the thread that dumped `sockets`,
/// in their namespace.
pub(super) fn compare_net(
    opts: &CollectOptions,
    sockets: &mut Vec<Socket>,
    sources: &BTreeMap<String, String>,
    ahead: Option<TextAhead>,
) -> NetCompare {
    mark_dumped(sockets, sources);
    let mut out = NetCompare::default();
    let Some(ahead) = ahead.filter(|_| opts.procnet_view) else {
        out.missing = Some(PROCNET_OFF.into());
        return out;
    };
    out.missing = ahead.udp_skipped.clone();
    let tables = answered(opts, sources, out.missing.is_none());
    if tables.is_empty() {
        return out;
    }
    let mut first = match ahead.take(opts, &tables) {
        Ok(v) => v,
        Err(e) => {
            out.missing = Some(e.to_string());
            return out;
        }
    };
    out.read = tables.iter().map(|t| t.protocol).collect();
    out.read.sort_unstable();
    out.read.dedup();
    let (only_netlink, only_text) = disagreements(&out.read, sockets, &mut first);
    drop(first);
    if only_netlink.is_empty() && only_text.is_empty() {
        return out;
    }
    out.rechecked = (only_netlink.len() + only_text.len()) as u64;
    let hidden = recheck_net(opts, &tables, sockets, only_netlink, only_text);
    out.churn = out.rechecked.saturating_sub(hidden.unwrap_or(0));
    out
}

/// Marks the sockets /proc/net listed (`first`, sorted) with the view; returns the indices of
/// the compared sockets it did not list, and the rows of those netlink did not dump.
fn disagreements(
    read: &[Protocol],
    sockets: &mut [Socket],
    first: &mut [Row],
) -> (Vec<usize>, Vec<Row>) {
    // /proc/net lists the sockets of the kernel's lookup tables: a TCP socket that is bound
    // but neither listening nor connected (bound-inactive, which netlink dumps from the bind
    // table) is not among them.
    let compared =
        |s: &Socket| read.contains(&s.protocol) && s.state != crate::model::State::BoundInactive;
    // First by inode (and the endpoints of what has none), then what that missed against
    // every endpoint (see `Index::build`).
    let text = RowIndex(first);
    let mark = |from: usize, part: &mut [Socket]| {
        let mut unsure = Vec::new();
        for (i, s) in part.iter_mut().enumerate() {
            if !compared(s) || s.views.has(View::Procnet) {
                continue;
            }
            if text.sees(s) {
                s.views.add(View::Procnet);
            } else {
                unsure.push(from + i);
            }
        }
        unsure
    };
    let unsure = halves(sockets, mark);
    let mut only_netlink = Vec::new();
    if !unsure.is_empty() {
        let text = Index::of_rows(first);
        for i in unsure {
            if text.sees(&sockets[i]) {
                sockets[i].views.add(View::Procnet);
            } else {
                only_netlink.push(i);
            }
        }
    }
    let dumped = Index::of(sockets.iter().filter(|s| compared(s)), false);
    let mut only_text = halves(first, |_, part: &mut [Row]| {
        part.iter()
            .filter(|r| !dumped.sees_row(r))
            .copied()
            .collect()
    });
    drop(dumped);
    if !only_text.is_empty() {
        let dumped = Index::of(sockets.iter().filter(|s| compared(s)), true);
        only_text.retain(|r| !dumped.sees_row(r));
    }
    (only_netlink, only_text)
}

/// `f` over the two halves of `v` (given each half's first index), the second half on a
/// thread of its own, the results in order. The comparison runs on the dumping thread after
/// the dump, on the critical path, while the walker may still be using rayon's pool: a job
/// queued there would wait behind the walk's, a thread of our own shares the cores with it.
/// At a million sockets each half is ~400k binary searches (issue 19, session 10).
fn halves<T: Send, R: Send>(v: &mut [T], f: impl Fn(usize, &mut [T]) -> Vec<R> + Sync) -> Vec<R> {
    const SPLIT_FROM: usize = 1 << 16;
    if v.len() < SPLIT_FROM {
        return f(0, v);
    }
    let mid = v.len() / 2;
    let (a, b) = v.split_at_mut(mid);
    let f = &f;
    std::thread::scope(|scope| {
        let second = scope.spawn(move || f(mid, b));
        let mut out = f(0, a);
        out.extend(second.join().expect("a comparison thread panicked"));
        out
    })
}

/// Re-checks the disagreements after [`RECHECK_DELAY`] (the module's first two rules): marks
/// what was hidden, appends the sockets only /proc/net shows. Returns how many were hidden;
/// `None` when the re-check could not run (then nothing is reported as hidden).
fn recheck_net(
    opts: &CollectOptions,
    tables: &[Table],
    sockets: &mut Vec<Socket>,
    only_netlink: Vec<usize>,
    only_text: Vec<Row>,
) -> Option<u64> {
    std::thread::sleep(RECHECK_DELAY);
    let udp = tables.iter().any(|t| t.protocol == Protocol::Udp);
    let (Ok(second), Some(redump)) = (read_tables(opts, tables), redump(opts, udp)) else {
        return None;
    };
    let text2 = Index::of_rows(&second);
    let alive: FxHashSet<(Protocol, u64, u64)> = redump.iter().map(identity).collect();
    let dumped2 = Index::of(&redump, true);
    let mut hidden = 0;
    for i in only_netlink {
        let s = &mut sockets[i];
        if text2.sees(s) {
            s.views.add(View::Procnet);
        } else if alive.contains(&identity(s)) {
            s.hidden.add(View::Procnet);
            hidden += 1;
        }
    }
    let suspects: FxHashSet<Row> = only_text
        .into_iter()
        .filter(|r| text2.sees_row(r) && !dumped2.sees_row(r))
        .collect();
    if !suspects.is_empty() {
        // The third read is parsed whole: the sockets it still lists go into the snapshot with
        // their uid and queues.
        let third = read_sockets(opts, tables, |s| {
            suspects.contains(&Row {
                inode: s.inode,
                pair: socket_pair(s),
            })
        })
        .unwrap_or_default();
        for mut s in third {
            s.views.add(View::Procnet);
            s.hidden.add(View::Netlink);
            sockets.push(s);
            hidden += 1;
        }
    }
    Some(hidden)
}

/// The TCP (and, with `udp`, UDP) tables dumped again through netlink (no extensions, one
/// thread); `None` when the dump failed.
fn redump(opts: &CollectOptions, udp: bool) -> Option<Vec<Socket>> {
    let mut o = opts.clone();
    o.tables = super::Tables {
        tcp: opts.tables.tcp,
        udp: opts.tables.udp && udp,
        raw: false,
        unix: false,
        packet: false,
        netlink: false,
    };
    o.extensions = super::Want::now(crate::model::Extensions::NONE);
    let mut w = Warnings::default();
    let mut src = BTreeMap::new();
    let v = tables::dump_tables(&o, 1, &mut w, &mut src);
    src.values().all(|v| v == "netlink").then_some(v)
}

/// pidfd_open(2): a handle on a live process that does not go through /proc.
#[allow(unsafe_code)]
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags by value and returns a new descriptor or -1; no
    // memory is shared with the kernel. libc, nix and std do not wrap it.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0 as libc::c_long) };
    owned(r)
}

/// pidfd_getfd(2): a duplicate of descriptor `fd` of the process behind `pidfd`.
#[allow(unsafe_code)]
fn pidfd_getfd(pidfd: &OwnedFd, fd: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_getfd takes two descriptors and flags by value and returns a new descriptor
    // or -1; `pidfd` is open for the duration of the call. libc, nix and std do not wrap it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            pidfd.as_raw_fd() as libc::c_long,
            fd as libc::c_long,
            0 as libc::c_long,
        )
    };
    owned(r)
}

/// A system call's result as a descriptor we own.
#[allow(unsafe_code)]
fn owned(r: libc::c_long) -> io::Result<OwnedFd> {
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(r).map_err(|_| io::Error::other("descriptor out of range"))?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The inode behind descriptor `fd` of process `pid`, asked of the kernel without /proc.
fn held_inode(pid: u32, fd: u32) -> Option<u64> {
    let pidfd = pidfd_open(pid).ok()?;
    let dup = pidfd_getfd(&pidfd, fd).ok()?;
    nix::sys::stat::fstat(&dup).ok().map(|st| st.st_ino)
}

/// Whether /proc/PID/fd of process `pid` opens (a refusal counts as open: it is the walk's
/// `proc_fd_denied`, not hiding).
pub(super) fn fd_dir_opens(proc_root: &Path, pid: u32) -> bool {
    match std::fs::File::open(proc_root.join(format!("{pid}/fd"))) {
        Ok(_) => true,
        Err(e) => e.kind() == io::ErrorKind::PermissionDenied,
    }
}

/// Whether process `pid` is alive, asked of the kernel without /proc.
pub(super) fn alive(pid: u32) -> bool {
    pidfd_open(pid).is_ok()
}

/// Re-checks the sockets the BPF iterator found held and the fd walk did not (`candidates`:
/// index and the iterator's holders): marks each `fdwalk` when /proc shows it now (churn), or
/// hidden from `fdwalk` when its descriptor held it before and after /proc failed to show it.
/// Returns (re-checked, explained as churn).
pub(super) fn recheck_fdwalk(
    proc_root: &Path,
    sockets: &mut [Socket],
    candidates: &[(usize, Vec<Owner>)],
    settle: &mut Settle,
) -> (u64, u64) {
    if candidates.is_empty() {
        return (0, 0);
    }
    settle.wait();
    let mut hidden = 0;
    for (i, owners) in candidates {
        let s = &mut sockets[*i];
        let mut confirmed = false;
        for o in owners {
            if held_inode(o.pid, o.fd) != Some(s.inode) {
                continue;
            }
            let link = proc_root.join(format!("{}/fd/{}", o.pid, o.fd));
            let shown = match std::fs::read_link(&link) {
                Ok(t) => super::procwalk::socket_inode(t.as_os_str().as_bytes()),
                // Refused, not hidden: the walk's `proc_fd_links_denied` warning covers it.
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => continue,
                Err(_) => None,
            };
            if shown == Some(s.inode) {
                s.views.add(View::Fdwalk);
                confirmed = false;
                break;
            }
            confirmed |= held_inode(o.pid, o.fd) == Some(s.inode);
        }
        if confirmed {
            s.hidden.add(View::Fdwalk);
            hidden += 1;
        }
    }
    (candidates.len() as u64, candidates.len() as u64 - hidden)
}

/// Mount points over /proc/PID (or inside it) in this mount namespace, by pid, from
/// /proc/self/mountinfo: a bind mount of an empty directory there hides a process from `ps`.
pub(super) fn proc_mounts(proc_root: &Path) -> BTreeMap<u32, ByteString> {
    let text = std::fs::read("/proc/self/mountinfo").unwrap_or_default();
    parse_proc_mounts(&text, proc_root.as_os_str().as_bytes())
}

/// The mounts of a mountinfo text whose mount point is `PROC/PID` or below it.
pub fn parse_proc_mounts(mountinfo: &[u8], proc_root: &[u8]) -> BTreeMap<u32, ByteString> {
    let mut out = BTreeMap::new();
    for line in mountinfo.split(|&b| b == b'\n') {
        // Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
        let Some(point) = line.split(|&b| b == b' ').nth(4) else {
            continue;
        };
        let point = unescape_octal(point);
        let Some(rest) = point
            .strip_prefix(proc_root)
            .and_then(|r| r.strip_prefix(b"/"))
        else {
            continue;
        };
        let digits: &[u8] = rest.split(|&b| b == b'/').next().unwrap_or_default();
        let pid = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok());
        if let Some(pid) = pid {
            out.entry(pid).or_insert(ByteString(point));
        }
    }
    out
}

/// mountinfo's `\NNN` octal escapes decoded (space, tab, newline and backslash in a path).
pub(super) fn unescape_octal(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1..i + 4)
                .is_some_and(|o| o.iter().all(|c| (b'0'..=b'7').contains(c)))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The snapshot's coverage from what each namespace and the owner sources read.
pub(super) fn coverage(
    net: &[NetCompare],
    netlink: &[Protocol],
    owners: &OwnerViews,
    rechecked: u64,
    churn: u64,
) -> ViewCoverage {
    let mut c = ViewCoverage::default();
    c.read.insert(View::Netlink, netlink.to_vec());
    // /proc/net counts only when it was read in every namespace dumped.
    let mut procnet: Option<BTreeSet<Protocol>> = None;
    for n in net {
        let here: BTreeSet<Protocol> = n.read.iter().copied().collect();
        procnet = Some(match procnet {
            None => here,
            Some(p) => p.intersection(&here).copied().collect(),
        });
    }
    // The first namespace's reason (in dump order), and how many others have one.
    let mut why = net.iter().filter_map(|n| n.missing.as_ref());
    if let Some(first) = why.next() {
        let more = why.count();
        let more = match more {
            0 => String::new(),
            1 => " (and in 1 other namespace)".into(),
            n => format!(" (and in {n} other namespaces)"),
        };
        c.missing.insert(View::Procnet, format!("{first}{more}"));
    }
    let procnet: Vec<Protocol> = procnet.unwrap_or_default().into_iter().collect();
    if !procnet.is_empty() {
        c.read.insert(View::Procnet, procnet);
    }
    let all: Vec<Protocol> = Protocol::ALL.to_vec();
    for (view, missing) in [
        (View::Fdwalk, &owners.fdwalk_missing),
        (View::Taskfiles, &owners.taskfiles_missing),
    ] {
        match missing {
            None => {
                c.read.insert(view, all.clone());
            }
            Some(why) => {
                c.missing.insert(view, why.clone());
            }
        }
    }
    if let (None, Some(part)) = (&owners.fdwalk_missing, &owners.fdwalk_partial) {
        c.missing.insert(View::Fdwalk, part.clone());
    }
    c.rechecked = rechecked + net.iter().map(|n| n.rechecked).sum::<u64>();
    c.churn = churn + net.iter().map(|n| n.churn).sum::<u64>();
    c
}

/// What the owner sources read (`super::owners`): the inodes each view found held, or why a view
/// was not read in full.
#[derive(Debug, Default)]
pub struct OwnerViews {
    /// Socket inodes the fd walk found held (by every process it walked).
    pub fdwalk: FxHashSet<u64>,
    /// Why the fd walk could not be compared at all; `None` when it could.
    pub fdwalk_missing: Option<String>,
    /// When the walk covered only the processes the iterator did not visit: the others are
    /// checked per process (their /proc/PID/fd opens), and this says so in `meta.views.missing`.
    pub fdwalk_partial: Option<String>,
    /// Socket descriptors the BPF iterator found, as (inode, holder).
    pub taskfiles: Vec<(u64, Owner)>,
    /// The processes the iterator visited, sorted.
    pub taskfiles_pids: Vec<u32>,
    /// Why the iterator was not read; `None` when it was.
    pub taskfiles_missing: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_over_proc_pids_are_found_and_unescaped() {
        let mi = b"22 1 0:5 / /proc rw,nosuid - proc proc rw\n\
            301 22 0:40 / /proc/4242 rw,relatime - tmpfs tmpfs rw\n\
            302 22 0:41 / /proc/77/net/tcp rw - tmpfs tmpfs rw\n\
            303 22 0:42 / /proc/sys rw - tmpfs tmpfs rw\n\
            304 1 0:43 / /tmp/a\\040b rw - tmpfs tmpfs rw\n\
            305 1 0:44 / /proc2/5 rw - tmpfs tmpfs rw\n";
        let m = parse_proc_mounts(mi, b"/proc");
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![77, 4242]);
        assert_eq!(m[&4242], ByteString(b"/proc/4242".to_vec()));
        assert_eq!(unescape_octal(b"/tmp/a\\040b\\134"), b"/tmp/a b\\".to_vec());
        assert!(parse_proc_mounts(b"garbage\n\n", b"/proc").is_empty());
    }

    #[test]
    fn a_socket_is_matched_by_inode_or_by_endpoints() {
        let ep = |p| {
            Some(Endpoint {
                address: "127.0.0.1".parse().unwrap(),
                port: p,
            })
        };
        let mut a = Socket::new(
            Protocol::Tcp,
            Family::Inet,
            crate::model::State::Established,
            7,
        );
        a.local = ep(80);
        a.remote = ep(5000);
        let ix = Index::of([&a], true);
        // Accepted since: the inode is known now, the endpoints are the same.
        let mut b = a.clone();
        b.inode = 9;
        assert!(ix.sees(&b));
        // Same inode, other endpoints (cannot happen, but the inode alone decides).
        let mut c = a.clone();
        c.remote = ep(5001);
        assert!(ix.sees(&c));
        c.inode = 8;
        assert!(!ix.sees(&c));
        // UDP with the same endpoints is another table.
        let mut d = a.clone();
        d.protocol = Protocol::Udp;
        d.inode = 0;
        assert!(!ix.sees(&d));
    }

    #[test]
    fn this_process_and_its_descriptors_are_seen_without_proc() {
        let me = std::process::id();
        assert!(alive(me));
        let f = std::fs::File::open("/dev/null").unwrap();
        let ino = nix::sys::stat::fstat(&f).unwrap().st_ino;
        assert_eq!(held_inode(me, f.as_raw_fd() as u32), Some(ino));
    }
}
