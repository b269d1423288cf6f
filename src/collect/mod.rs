//! Collection: the only code that touches the operating system.
//!
//! A snapshot is built in three steps: dump every requested socket table through netlink
//! sock_diag in the calling thread's network namespace (raw sockets from /proc/net/raw* where the
//! kernel lacks raw_diag), map socket inodes to (pid, fd) through the task-file BPF iterator or
//! one parallel walk of /proc/*/fd (`owners` chooses), then read metadata for the holders and
//! their parents. The dump runs first and the walk after
//! it, so every socket that still exists when the walk runs is attributed (`ss -p` walks first
//! and leaves sockets created in between without owners). Both run concurrently: the walk in a
//! scoped thread that feeds the rayon pool, the dump on the calling thread (and one helper it
//! spawns, `tables`), which must stay in the network namespace being read.

mod bpfsys;
pub mod btf;
pub mod container;
pub mod crossview;
pub mod decode;
pub mod destroy;
pub mod host;
pub mod inet;
pub mod netlink;
pub mod netns;
pub mod nldiag;
mod owners;
pub mod packet;
pub mod procnet;
pub mod procwalk;
mod relays;
pub mod slotring;
pub mod sockhooks;
pub mod sockstat;
mod tables;
pub mod taskfiles;
pub mod tracepoint;
pub mod unix;
mod want;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use owners::find_holdings;
pub use owners::{AUTO_BPF_MIN_FILES, OwnersFrom};

pub use want::{Promise, Want};

use crate::model::{
    Extensions, Gap, Meta, SCHEMA_VERSION, Snapshot, Socket, StateSet, Tool, Warning,
};

/// Which socket tables to dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    /// TCP over IPv4 and IPv6.
    pub tcp: bool,
    /// UDP over IPv4 and IPv6.
    pub udp: bool,
    /// Raw IP sockets (raw_diag, or /proc/net/raw{,6}).
    pub raw: bool,
    /// Unix stream, datagram and seqpacket sockets.
    pub unix: bool,
    /// Packet sockets (AF_PACKET).
    pub packet: bool,
    /// Netlink sockets (AF_NETLINK): `list` asks for them; snapshots for rules and baselines do
    /// not (docs/snapshot.md).
    pub netlink: bool,
}

impl Tables {
    /// Every table.
    pub const ALL: Tables = Tables {
        tcp: true,
        udp: true,
        raw: true,
        unix: true,
        packet: true,
        netlink: true,
    };

    /// The tables a snapshot holds: every table but netlink, whose sockets no rule, baseline
    /// or history field describes yet (docs/snapshot.md).
    pub const INVENTORY: Tables = Tables {
        netlink: false,
        ..Tables::ALL
    };
}

#[derive(Debug, Clone)]
/// What to collect, and from where.
pub struct CollectOptions {
    /// Which socket tables to dump.
    pub tables: Tables,
    /// IPv4 sockets of the inet tables.
    pub ipv4: bool,
    /// IPv6 sockets of the inet tables.
    pub ipv6: bool,
    /// States asked of the kernel for TCP.
    pub tcp_states: StateSet,
    /// States asked of the kernel for unix sockets (`udiag_states`, numbered as TCP's: watch's
    /// sweep asks for listeners only). The other tables are always dumped whole.
    pub unix_states: StateSet,
    /// The sock_diag extensions (tcp_info, congestion control, BBR, socket memory) and which
    /// tcp_info fields to keep: everything for a snapshot, what the rules read for a scan.
    pub extensions: Want,
    /// Walk /proc to attribute sockets to processes.
    pub attribution: bool,
    /// Where the (socket, pid, fd) holdings come from when `attribution` is on.
    pub owners_from: OwnersFrom,
    /// The procfs to walk for owners (`/proc`; tests point it elsewhere).
    pub proc_root: PathBuf,
    /// Which network namespaces to dump.
    pub netns: netns::Select,
    /// Read every independent view (the /proc/net tables, the BPF iterator beside the walk) and
    /// re-check their disagreements (`socket.views`, `meta.views`; docs/detection.md).
    pub crossview: bool,
    /// With `crossview`: read the /proc/net view of TCP and UDP and compare it with netlink
    /// (`procnet_view`, docs/detection.md "Costs"). Off, NET-HID-001/002 are undecided.
    pub procnet_view: bool,
    /// With `procnet_view`: the most UDP sockets (sockstat's `UDP` + `UDP6` `inuse`) a
    /// namespace may have for its /proc/net/udp and udp6 to be read, whose reading the kernel
    /// makes quadratic (`procnet_udp_max`, docs/detection.md "Costs"); `None`: no cap.
    pub procnet_udp_max: Option<u64>,
}

impl CollectOptions {
    /// Everything: what `snapshot` records.
    pub fn full() -> CollectOptions {
        CollectOptions {
            tables: Tables::INVENTORY,
            ipv4: true,
            ipv6: true,
            tcp_states: StateSet::ALL,
            unix_states: StateSet::ALL,
            extensions: Want::now(Extensions::ALL),
            attribution: true,
            owners_from: OwnersFrom::Auto,
            proc_root: PathBuf::from("/proc"),
            netns: netns::Select::Current,
            crossview: true,
            procnet_view: true,
            procnet_udp_max: Some(crossview::PROCNET_UDP_MAX),
        }
    }
}

/// Accumulates counted warnings by code, with the pids concerned, and the gaps: scopes that
/// could not be read at all.
#[derive(Default)]
struct Warnings {
    by_code: BTreeMap<String, (u64, String, BTreeSet<u32>)>,
    gaps: Vec<Gap>,
}

impl Warnings {
    fn add(&mut self, code: &str, count: u64, message: impl Into<String>) {
        if count == 0 {
            return;
        }
        let e =
            self.by_code
                .entry(code.to_string())
                .or_insert((0, message.into(), BTreeSet::new()));
        e.0 += count;
    }

    /// A warning about processes: counted, and naming each.
    fn add_pids(&mut self, code: &str, pids: &[u32], message: impl Into<String>) {
        self.add(code, pids.len() as u64, message);
        if let Some(e) = self.by_code.get_mut(code) {
            e.2.extend(pids);
        }
    }

    /// Takes pids out of a process warning (they turned out to be something else).
    fn remove_pids(&mut self, code: &str, pids: &BTreeSet<u32>) {
        if let Some(e) = self.by_code.get_mut(code) {
            let before = e.2.len();
            e.2.retain(|p| !pids.contains(p));
            e.0 -= (before - e.2.len()) as u64;
            if e.0 == 0 {
                self.by_code.remove(code);
            }
        }
    }

    fn gap(&mut self, scope: impl Into<String>, reason: impl Into<String>) {
        self.gaps.push(Gap {
            scope: scope.into(),
            reason: reason.into(),
        });
    }

    fn merge(&mut self, other: Warnings) {
        for (code, (count, message, pids)) in other.by_code {
            self.add(&code, count, message);
            if let Some(e) = self.by_code.get_mut(&code) {
                e.2.extend(pids);
            }
        }
        self.gaps.extend(other.gaps);
    }

    fn into_parts(self) -> (Vec<Warning>, Vec<Gap>) {
        let warnings = self
            .by_code
            .into_iter()
            .map(|(code, (count, message, pids))| Warning {
                code,
                count,
                message,
                pids: pids.into_iter().collect(),
            })
            .collect();
        (warnings, self.gaps)
    }
}

/// Where a collection spent its time (for `SOCKWARDEN_TIMINGS=1`; never in the snapshot,
/// which must not change between runs).
#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    /// The netlink dumps of every namespace.
    pub dump: Duration,
    /// Finding the owners and reading their metadata (off the critical path, concurrent with the dump).
    pub walk: Duration,
    /// Assigning owners and assembling the processes after the dump.
    pub metadata: Duration,
    /// Bringing sockets and processes into canonical order.
    pub sort: Duration,
    /// Reading and parsing the /proc/net tables of the cross-view, on its own thread beside
    /// the dump (summed over namespaces).
    pub procnet_read: Duration,
    /// Comparing them with the dump, and the re-check (after the dump, summed).
    pub procnet_compare: Duration,
    /// What the caller of [`collect_timed_with`] did while the /proc/net view was read.
    pub during: Duration,
    /// The whole collection.
    pub total: Duration,
    /// The walker's parts (`walk` is their sum, and runs beside the dump).
    pub walk_parts: WalkParts,
    /// `metadata`'s parts.
    pub metadata_parts: MetadataParts,
}

/// Where the walker thread spent its time (`SOCKWARDEN_TIMINGS`; docs/PERFORMANCE.md, issue 19
/// session 9).
#[derive(Debug, Default, Clone, Copy)]
pub struct WalkParts {
    /// Listing /proc.
    pub walk_list: Duration,
    /// The task-file BPF iterator: BTF, load, read and decode.
    pub walk_iter: Duration,
    /// The /proc fd walk (of every process, or of those the iterator did not visit).
    pub walk_fds: Duration,
    /// Joining the holdings of both into one sorted index.
    pub walk_index: Duration,
    /// The metadata of every socket holder.
    pub walk_meta: Duration,
    /// Descriptors 0-2 of every process.
    pub walk_stdio: Duration,
}

/// Where `attribute` spent its time.
#[derive(Debug, Default, Clone, Copy)]
pub struct MetadataParts {
    /// Giving each socket its owners.
    pub meta_owners: Duration,
    /// The relays, the holders' and ancestors' metadata: the snapshot's processes.
    pub meta_procs: Duration,
    /// Cross-view's owner views: the fd-dir checks, the re-checks, hidden processes.
    pub meta_views: Duration,
}

/// Takes a snapshot of the calling thread's network namespace.
pub fn collect(opts: &CollectOptions) -> Snapshot {
    collect_timed(opts).0
}

/// What the walker thread hands back: the holdings (or why there are none), the metadata of
/// every holder it read, and the `meta.sources.owners` entry; or why /proc could not be listed.
type WalkResult = std::io::Result<Walked>;

/// What the walker thread read.
struct Walked {
    /// Where its time went.
    parts: WalkParts,
    /// The holdings, or `None` when no source could give them.
    walk: Option<procwalk::FdWalk>,
    /// The metadata of every holder.
    meta: HashMap<u32, procwalk::MetaResult>,
    /// The `meta.sources.owners` entry.
    source: String,
    /// Descriptors 0-2 of every process.
    stdio: Stdio,
    /// The listed pids whose /proc/PID/fd did not open (the stdio pass tried), sorted.
    fd_dir_closed: Vec<u32>,
    /// The pids /proc listed, sorted.
    listed: Vec<u32>,
    /// What each owner view found, for cross-view.
    views: crossview::OwnerViews,
}

/// What descriptors 0-2 of every process on the host lead to (processes whose table could not
/// be read are absent).
type Stdio = rustc_hash::FxHashMap<u32, Vec<crate::model::StdioLink>>;

/// [`collect`], with the time each phase took.
pub fn collect_timed(opts: &CollectOptions) -> (Snapshot, Timings) {
    let (snap, t, _) = collect_timed_with(opts, |_, _| ());
    (snap, t)
}

/// [`collect_timed`], calling `during` on the snapshot while its /proc/net view is still being
/// read: a scan evaluates the rules that read no view there (docs/detection.md, "Costs").
///
/// The /proc/net tables take the kernel longer to print than every other part of a collection
/// (/proc/net/udp in quadratic time: ~300 ms at 100k sockets, while the dump and the /proc walk
/// are done in ~200), so in the current namespace the comparison with that view comes last, on
/// the snapshot otherwise complete, and `during` runs in the wait (its second argument: whether
/// the view is still being read, on a thread of its own). It sees the snapshot without
/// the view: no `procnet` in `socket.views`, no `socket.hidden.procnet` or
/// `socket.hidden.netlink` marks, no `meta.views`. The comparison then changes only those, and
/// `during`'s answer is returned; unless the view showed sockets netlink did not (found hidden
/// by the re-check: a rootkit's, normally none), which need owners and metadata like the rest:
/// then the collection is taken again with the comparison in its place (after the dump, before
/// the owners) and the answer is `None`. A view read before the dump ended (a small host) is
/// compared there, as are other namespaces' (`--netns`, `--all-netns`); then, and without the
/// view, `during` is not called.
pub fn collect_timed_with<R>(
    opts: &CollectOptions,
    during: impl FnOnce(&Snapshot, bool) -> R,
) -> (Snapshot, Timings, Option<R>) {
    let deferred =
        opts.crossview && opts.procnet_view && matches!(opts.netns, netns::Select::Current);
    if !deferred {
        let (snap, t) = collect_with_view(opts);
        return (snap, t, None);
    }
    let start = Instant::now();
    std::thread::scope(|scope| {
        let reading = start_reading(scope, opts);
        let (mut snap, mut t, mut pending, reading) = gather(opts, Some(reading));
        let Some(reading) = reading else {
            // Read before the dump ended (a small host): compared in place, nothing to wait for.
            snap.meta.views = pending.coverage();
            t.total = start.elapsed();
            return (snap, t, None);
        };
        let d0 = Instant::now();
        let answer = during(&snap, !reading.is_finished());
        t.during = d0.elapsed();
        let before = snap.sockets.len();
        let net = compare_read(opts, &mut snap.sockets, &pending.netlink, Some(reading));
        if snap.sockets.len() != before {
            let (snap, mut t) = collect_with_view(opts);
            t.total = start.elapsed();
            return (snap, t, None);
        }
        t.procnet_read = net.read_took;
        t.procnet_compare = net.compare_took;
        pending.net_views.push(net);
        snap.meta.views = pending.coverage();
        t.total = start.elapsed();
        (snap, t, Some(answer))
    })
}

/// The current namespace's /proc/net view, read on a thread of its own for
/// [`collect_timed_with`].
type Reading<'s> = std::thread::ScopedJoinHandle<'s, (crossview::TextAhead, Duration)>;

/// Starts reading the current namespace's /proc/net view on a thread of `scope`.
fn start_reading<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    opts: &'env CollectOptions,
) -> Reading<'scope> {
    scope.spawn(move || {
        let r0 = Instant::now();
        (crossview::read_ahead(opts), r0.elapsed())
    })
}

/// Waits for the view's read, if one was started, and compares the view with the dumped
/// `sockets` (without a read, `compare_net` says the view was not read).
fn compare_read(
    opts: &CollectOptions,
    sockets: &mut Vec<Socket>,
    netlink: &BTreeMap<String, String>,
    reading: Option<Reading>,
) -> crossview::NetCompare {
    let read = reading.map(|r| r.join().expect("the /proc/net read panicked"));
    let (ahead, read_took) = match read {
        Some((ahead, took)) => (Some(ahead), took),
        None => (None, Duration::ZERO),
    };
    let c0 = Instant::now();
    let mut net = crossview::compare_net(opts, sockets, netlink, ahead);
    net.read_took = read_took;
    net.compare_took = c0.elapsed();
    net
}

/// Where a collection compares the /proc/net view with the dump: right after the dump of each
/// namespace, or at the end, in [`collect_timed_with`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum ViewAt {
    Dump,
    End,
}

/// What [`gather`] leaves for the view's comparison at the end: the tables netlink answered for,
/// and the owner views that `meta.views` combines with it.
struct Pending {
    /// The dump's `meta.sources` entries (the tables and how each was read).
    netlink: BTreeMap<String, String>,
    /// The owner views, with their re-checks and churn; `None` without cross-view.
    owners: Option<(crossview::OwnerViews, u64, u64)>,
    /// The /proc/net comparison of each namespace dumped.
    net_views: Vec<crossview::NetCompare>,
    /// Whether cross-view was asked for (`meta.views` is then set).
    crossview: bool,
}

impl Pending {
    /// `meta.views` from the /proc/net comparisons and the owner views.
    fn coverage(&self) -> Option<crate::model::ViewCoverage> {
        self.crossview.then(|| {
            let unread;
            let (owners, rechecked, churn) = match &self.owners {
                Some((o, r, c)) => (o, *r, *c),
                None => {
                    unread = crossview::OwnerViews {
                        fdwalk_missing: Some("no owners were read".into()),
                        taskfiles_missing: Some("no owners were read".into()),
                        ..Default::default()
                    };
                    (&unread, 0, 0)
                }
            };
            crossview::coverage(
                &self.net_views,
                &netlink_protocols(&self.netlink),
                owners,
                rechecked,
                churn,
            )
        })
    }
}

/// A collection with the /proc/net view compared in place (or not read).
fn collect_with_view(opts: &CollectOptions) -> (Snapshot, Timings) {
    let start = Instant::now();
    let (mut snap, mut t, pending, _) = gather(opts, None);
    snap.meta.views = pending.coverage();
    t.total = start.elapsed();
    (snap, t)
}

/// Dumps, walks and attributes: the snapshot, with `meta.views` left for [`Pending::coverage`].
/// With a `reading` of the current namespace's /proc/net view, the dump does not read it: the
/// view is compared after the dump when its read is done by then (as without), else the
/// reading is handed back, and the snapshot is without the view.
fn gather<'s>(
    opts: &CollectOptions,
    reading: Option<Reading<'s>>,
) -> (Snapshot, Timings, Pending, Option<Reading<'s>>) {
    let at = match reading {
        Some(_) => ViewAt::End,
        None => ViewAt::Dump,
    };
    let mut t = Timings::default();
    let mut warnings = Warnings::default();
    let mut sources = BTreeMap::new();
    let mut namespaces: Vec<crate::model::Namespace> = Vec::new();
    let mut net_views: Vec<crossview::NetCompare> = Vec::new();
    let (mut sockets, walk, reading) = std::thread::scope(|scope| {
        // The walk, then the metadata of every process that holds any socket, run while the
        // dump is still going: both are off the critical path.
        let walker = opts
            .attribution
            .then(|| scope.spawn(|| walk_and_read(opts)));
        let d0 = Instant::now();
        let mut dumped = dump_namespaces(
            opts,
            &mut warnings,
            &mut sources,
            &mut namespaces,
            &mut net_views,
            at,
        );
        t.dump = d0.elapsed();
        let reading = match reading {
            Some(r) if r.is_finished() => {
                net_views.push(compare_read(opts, &mut dumped, &sources, Some(r)));
                None
            }
            r => r,
        };
        t.procnet_read = net_views.iter().map(|n| n.read_took).sum();
        t.procnet_compare = net_views.iter().map(|n| n.compare_took).sum();
        let s0 = Instant::now();
        sort_dumped(
            &mut dumped,
            walker.as_ref().is_some_and(|w| !w.is_finished()),
        );
        t.sort = s0.elapsed();
        let walk = walker.map(|h| {
            let (r, took) = h.join().expect("the /proc walk panicked");
            t.walk = took;
            if let Ok(w) = &r {
                t.walk_parts = w.parts;
            }
            r
        });
        (dumped, walk, reading)
    });
    let netlink = sources.clone();
    let m0 = Instant::now();
    let mut owner_check = None;
    let processes = match walk {
        None => Vec::new(),
        Some(w) => attribute(
            opts,
            w,
            &mut sockets,
            &mut warnings,
            &mut sources,
            &mut owner_check,
            &mut t.metadata_parts,
        ),
    };
    t.metadata = m0.elapsed();
    let pending = Pending {
        netlink,
        owners: owner_check,
        net_views,
        crossview: opts.crossview,
    };
    tag_containers(&mut namespaces, &processes);
    let privileged = host::privileged();
    if !privileged {
        warnings.add(
            "unprivileged",
            1,
            "without CAP_NET_ADMIN, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH in the host's user \
             namespace: other users' processes, executables and packet-socket BPF filters may be \
             missing",
        );
    }
    let (warnings, gaps) = warnings.into_parts();
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta: Meta {
            views: None,
            ..meta(opts, privileged, sources)
        },
        sockets,
        processes,
        namespaces,
        warnings,
        gaps,
    };
    let s0 = Instant::now();
    // `sort_dumped` put the sockets in order and `attribute` sorted each one's owners.
    snap.canonicalize_collected();
    t.sort += s0.elapsed();
    (snap, t, pending, reading)
}

/// The walker thread's work: list /proc, find every socket descriptor, read every holder's
/// metadata. Returns it with the time it took.
fn walk_and_read(opts: &CollectOptions) -> (WalkResult, Duration) {
    let w0 = Instant::now();
    let mut parts = WalkParts::default();
    let listed = procwalk::list_pids(&opts.proc_root);
    parts.walk_list = w0.elapsed();
    let r = listed.map(|pids| {
        let (walk, source, views) = find_holdings(opts, &pids, &mut parts);
        let m0 = Instant::now();
        let holders = walk.as_ref().map(|w| w.holders()).unwrap_or_default();
        let meta: HashMap<u32, procwalk::MetaResult> =
            procwalk::read_many(&opts.proc_root, &holders)
                .into_iter()
                .collect();
        parts.walk_meta = m0.elapsed();
        // Every process's stdio (3 readlinks each), for the relays: a shell whose terminal or
        // pipes lead to a socket holder holds no socket itself.
        let s0 = Instant::now();
        let stdio = procwalk::read_stdio_many(&opts.proc_root, &pids);
        parts.walk_stdio = s0.elapsed();
        Walked {
            parts,
            walk,
            meta,
            source,
            stdio: stdio.links,
            fd_dir_closed: stdio.fd_dir_closed,
            listed: pids,
            views,
        }
    });
    (r, w0.elapsed())
}

/// Sorts the dumped sockets into canonical order. The order does not depend on owners, so this
/// runs while the walk may still be going: on this thread then (the pool is the walk's), on the
/// pool otherwise. A single namespace comes out of the dump sorted already (one linear check:
/// at a million sockets it streams ~300 MB and took 41 ms on the critical path, so it runs on
/// the pool too when the walk is done, as it is by then at that size).
fn sort_dumped(dumped: &mut [Socket], walk_running: bool) {
    let in_order = |a: &Socket, b: &Socket| a.sort_key() <= b.sort_key();
    if walk_running {
        if !dumped.is_sorted_by(in_order) {
            dumped.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    } else if !dumped.par_windows(2).all(|w| in_order(&w[0], &w[1])) {
        dumped.par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
}

/// The protocols netlink answered for, from `meta.sources`.
fn netlink_protocols(sources: &BTreeMap<String, String>) -> Vec<crate::model::Protocol> {
    use crate::model::Protocol as P;
    let mut out: Vec<P> = sources
        .iter()
        .filter(|(_, v)| v.as_str() == "netlink")
        .flat_map(|(k, _)| match k.as_str() {
            "tcp" | "tcp6" => vec![P::Tcp],
            "udp" | "udp6" => vec![P::Udp],
            "raw" | "raw6" => vec![P::Raw],
            "unix" => vec![P::UnixStream, P::UnixDgram, P::UnixSeqpacket],
            "packet" => vec![P::PacketRaw, P::PacketDgram],
            _ => Vec::new(),
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What cross-view hands from attribution to the coverage: the owner views, and the
/// disagreements re-checked and explained as churn.
type OwnerCheck = Option<(crossview::OwnerViews, u64, u64)>;

/// Gives each socket its owners from the walk and returns the snapshot's processes; what the
/// walk could not see becomes warnings (per process) or a gap (no owners at all). With
/// cross-view, also which owner view saw each socket and process, re-checked.
fn attribute(
    opts: &CollectOptions,
    walk: WalkResult,
    sockets: &mut [Socket],
    warnings: &mut Warnings,
    sources: &mut BTreeMap<String, String>,
    check: &mut OwnerCheck,
    t: &mut MetadataParts,
) -> Vec<crate::model::Process> {
    let o0 = Instant::now();
    let mut w = match walk {
        Err(e) => {
            warnings.gap(
                "owners",
                format!("cannot list {}: {e}", opts.proc_root.display()),
            );
            return Vec::new();
        }
        Ok(w) => w,
    };
    sources.insert("owners".into(), w.source.clone());
    let Some(walk) = w.walk else {
        warnings.gap("owners", format!("no owners: {}", w.source));
        *check = Some((w.views, 0, 0));
        return Vec::new();
    };
    let (meta, stdio) = (w.meta, w.stdio);
    warnings.add_pids(
        "proc_vanished",
        &walk.vanished,
        "processes exited during the /proc walk",
    );
    warnings.add_pids(
        "proc_fd_denied",
        &walk.denied,
        "processes whose fd table could not be read (run as root to see them)",
    );
    warnings.add_pids(
        "proc_fd_links_denied",
        &walk.links_denied,
        "processes some of whose descriptors the kernel refused to resolve, even to this \
         user (a security module, ptrace rules or a sandbox): their sockets may show no \
         owner",
    );
    // In parallel, and by lookup rather than removal, so that the map is only read.
    sockets.par_iter_mut().for_each(|s| {
        if s.inode != 0 {
            s.owners = walk.owners(s.inode).collect();
            // The holdings come sorted; a socket seen twice (by the iterator and the walk of
            // a process it did not visit) is not.
            if s.owners.len() > 1 {
                s.owners.sort_unstable();
                s.owners.dedup();
            }
        }
    });
    let holders = holders_of(sockets);
    t.meta_owners = o0.elapsed();
    let p0 = Instant::now();
    let mut stdio = stdio;
    let (relayed, masters) = relays::members(&opts.proc_root, sockets, &mut stdio);
    let mut procs = assemble_processes(opts, &holders, &relayed, meta, warnings);
    for p in &mut procs {
        p.stdio = stdio.get(&p.pid).cloned().unwrap_or_default();
        p.pty_masters = masters.get(&p.pid).cloned().unwrap_or_default();
    }
    t.meta_procs = p0.elapsed();
    let v0 = Instant::now();
    if opts.crossview {
        // One delay for both re-checks.
        let mut settle = crossview::Settle::default();
        let dirs = FdDirs::new(&opts.proc_root, &w.listed, &w.fd_dir_closed, &holders);
        let (rechecked, churn) =
            owner_views(&opts.proc_root, sockets, &mut w.views, &dirs, &mut settle);
        let hidden = hidden_processes(opts, &holders, &w.listed, &w.views, &mut procs, &mut settle);
        // A hidden holder's metadata could not be read, which is not its having exited.
        warnings.remove_pids("proc_meta_vanished", &hidden.0);
        warnings.remove_pids("proc_vanished", &hidden.0);
        *check = Some((w.views, rechecked + hidden.1, churn + hidden.2));
        procs.sort_unstable_by_key(|p| p.pid);
    }
    t.meta_views = v0.elapsed();
    procs
}

/// Whether a process's /proc/PID/fd opens: the walker's stdio pass tried every listed process
/// (while the dump ran); the holders /proc did not list are tried once, before the sockets are
/// gone through (in parallel, so this only reads).
struct FdDirs<'a> {
    listed: &'a [u32],
    closed: &'a [u32],
    /// The holders /proc did not list, and whether their fd table opened, sorted.
    unlisted: Vec<(u32, bool)>,
}

impl<'a> FdDirs<'a> {
    fn new(
        proc_root: &Path,
        listed: &'a [u32],
        closed: &'a [u32],
        holders: &BTreeSet<u32>,
    ) -> Self {
        let unlisted = holders
            .iter()
            .filter(|p| listed.binary_search(p).is_err())
            .map(|&pid| (pid, crossview::fd_dir_opens(proc_root, pid)))
            .collect();
        FdDirs {
            listed,
            closed,
            unlisted,
        }
    }

    fn opens(&self, pid: u32) -> bool {
        if self.closed.binary_search(&pid).is_ok() {
            return false;
        }
        if self.listed.binary_search(&pid).is_ok() {
            return true;
        }
        // Not a holder of a dumped socket (never asked): as a vanished table would be.
        self.unlisted
            .binary_search_by_key(&pid, |(p, _)| *p)
            .is_ok_and(|i| self.unlisted[i].1)
    }
}

/// Every pid that holds one of these sockets.
fn holders_of(sockets: &[Socket]) -> BTreeSet<u32> {
    pid_set(sockets.iter().flat_map(|s| s.owners.iter().map(|o| o.pid)))
}

/// The distinct pids of a list with many repeats (a million owners, ten thousand processes): a
/// bit per pid below the kernel's limit of 2^22 (512 KiB at most, in cache), not a million pids
/// collected and sorted.
fn pid_set(pids: impl Iterator<Item = u32> + Clone) -> BTreeSet<u32> {
    const PID_MAX_LIMIT: u32 = 1 << 22;
    match pids.clone().max() {
        None => BTreeSet::new(),
        Some(max) if max >= PID_MAX_LIMIT => pids.collect(),
        Some(max) => {
            let mut bits = vec![0u64; max as usize / 64 + 1];
            for pid in pids {
                bits[pid as usize / 64] |= 1 << (pid % 64);
            }
            let mut out = BTreeSet::new();
            for (w, &word) in bits.iter().enumerate() {
                let mut word = word;
                while word != 0 {
                    out.insert(w as u32 * 64 + word.trailing_zeros());
                    word &= word - 1;
                }
            }
            out
        }
    }
}

/// Marks each socket with the owner views that saw it and re-checks the sockets the iterator
/// found held and the fd walk did not. Returns (re-checked, churn).
fn owner_views(
    proc_root: &Path,
    sockets: &mut [Socket],
    views: &mut crossview::OwnerViews,
    dirs: &FdDirs<'_>,
    settle: &mut crossview::Settle,
) -> (u64, u64) {
    use crate::model::View;
    // The iterator's holdings sorted by inode, each socket's run found by binary search: a map
    // of one Vec per socket was ~80 bytes per socket at the snapshot's peak (100k allocations).
    // The walker sorted them already.
    if !views.taskfiles.is_sorted() {
        views.taskfiles.par_sort_unstable();
    }
    let bpf = &views.taskfiles;
    // One binary search per socket, then its few holders in a row (a second search for the
    // run's end went through the whole million again).
    let held = |inode: u64| {
        let start = bpf.partition_point(|(i, _)| *i < inode);
        let n = bpf[start..].iter().take_while(|(i, _)| *i == inode).count();
        &bpf[start..start + n]
    };
    let compare = views.fdwalk_missing.is_none() && views.taskfiles_missing.is_none();
    // Where the iterator gave the owners, the walk did not read its processes' descriptors: a
    // socket is a candidate only when none of its holders' /proc/PID/fd opens (one open per
    // process, not one readlink per descriptor).
    let partial = views.fdwalk_partial.is_some();
    let fdwalk = &views.fdwalk;
    let candidates: Vec<(usize, Vec<crate::model::Owner>)> = sockets
        .par_iter_mut()
        .enumerate()
        .filter_map(|(i, s)| {
            if s.inode == 0 {
                return None;
            }
            let walked = fdwalk.contains(&s.inode);
            if walked {
                s.views.add(View::Fdwalk);
            }
            // No walked descriptor holds it: every holder the join gave it came from the
            // iterator, so they are its iterator holders, without a second search through the
            // million (~100 ms of CPU at a million sockets, issue 19).
            let owners: crate::model::Owners = if walked {
                held(s.inode).iter().map(|(_, o)| *o).collect()
            } else {
                s.owners.clone()
            };
            if owners.is_empty() {
                return None;
            }
            s.views.add(View::Taskfiles);
            let candidate =
                compare && !walked && (!partial || owners.iter().all(|o| !dirs.opens(o.pid)));
            candidate.then(|| (i, owners.to_vec()))
        })
        .collect();
    crossview::recheck_fdwalk(proc_root, sockets, &candidates, settle)
}

/// Records how each process was seen, and finds the socket holders that the iterator saw and
/// /proc hides (not listed, unreadable, or with a mount over /proc/PID); confirmed ones that
/// have no entry get one with what is known. Returns (the hidden pids, re-checked, churn).
fn hidden_processes(
    opts: &CollectOptions,
    holders: &BTreeSet<u32>,
    listed: &[u32],
    views: &crossview::OwnerViews,
    procs: &mut Vec<crate::model::Process>,
    settle: &mut crossview::Settle,
) -> (BTreeSet<u32>, u64, u64) {
    use crate::model::{ProcView, Process};
    let iterated = views.taskfiles_missing.is_none();
    let seen_by_bpf = |pid: u32| iterated && views.taskfiles_pids.binary_search(&pid).is_ok();
    let mounts = crossview::proc_mounts(&opts.proc_root);
    let mark = |p: &mut Process, readable: bool| {
        p.views.clear();
        if listed.binary_search(&p.pid).is_ok() {
            p.views.push(ProcView::Readdir);
        }
        if readable {
            p.views.push(ProcView::Procfs);
        }
        if seen_by_bpf(p.pid) {
            p.views.push(ProcView::Taskfiles);
        }
        p.proc_mount = mounts.get(&p.pid).cloned();
    };
    for p in procs.iter_mut() {
        mark(p, true);
    }
    // Holders without an entry (their /proc/PID could not be read) that the iterator saw.
    let missing: Vec<u32> = holders
        .iter()
        .copied()
        .filter(|&pid| seen_by_bpf(pid) && procs.binary_search_by_key(&pid, |p| p.pid).is_err())
        .collect();
    let suspects: Vec<u32> = procs
        .iter()
        .filter(|p| p.hidden() == Some(true))
        .map(|p| p.pid)
        .chain(missing.iter().copied())
        .collect();
    if suspects.is_empty() {
        return (BTreeSet::new(), 0, 0);
    }
    settle.wait();
    let listed_now = procwalk::list_pids(&opts.proc_root).unwrap_or_default();
    let mounts_now = crossview::proc_mounts(&opts.proc_root);
    let mut hidden = BTreeSet::new();
    for pid in &suspects {
        let readable = opts.proc_root.join(format!("{pid}/stat")).exists();
        let still = crossview::alive(*pid)
            && (listed_now.binary_search(pid).is_err()
                || !readable
                || mounts_now.contains_key(pid));
        if still {
            hidden.insert(*pid);
        }
    }
    for p in procs.iter_mut() {
        if suspects.contains(&p.pid) && !hidden.contains(&p.pid) {
            // Churn: /proc shows it now, or it exited. Recorded as /proc shows it now.
            p.views.retain(|v| *v != ProcView::Taskfiles);
        }
    }
    for &pid in &missing {
        if hidden.contains(&pid) {
            let mut p = Process {
                pid,
                ..Process::default()
            };
            mark(&mut p, false);
            procs.push(p);
        }
    }
    let (n, h) = (suspects.len() as u64, hidden.len() as u64);
    (hidden, n, n - h)
}

/// Which containers live in each namespace, from the processes that hold its sockets.
fn tag_containers(namespaces: &mut [crate::model::Namespace], processes: &[crate::model::Process]) {
    for ns in namespaces {
        let c: BTreeSet<String> = processes
            .iter()
            .filter(|p| p.netns == Some(ns.inode))
            .filter_map(|p| {
                p.container
                    .as_ref()
                    .map(|c| format!("{}:{}", c.runtime, c.id))
            })
            .collect();
        ns.containers = c.into_iter().collect();
    }
}

/// The snapshot header: this tool, the host's facts, and where each table came from.
fn meta(opts: &CollectOptions, privileged: bool, sources: BTreeMap<String, String>) -> Meta {
    Meta {
        tool: Tool {
            name: "sockwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        hostname: host::hostname(),
        kernel: host::kernel_release(),
        boot_id: host::boot_id(),
        taken_at: host::now_rfc3339(),
        netns: host::current_netns(),
        privileged,
        sources,
        attribution: opts.attribution,
        ip_local_port_range: host::ip_local_port_range(),
        resolvers: Some(host::resolvers()),
        ld_so_preload: host::ld_so_preload(),
        self_preload: opts.crossview.then(host::self_preload),
        evidence: None,
        views: None,
    }
}

/// The snapshot's processes: the holders of the dumped sockets, the processes they relay
/// ([`relays::members`]) and all their ancestors, taken from what the walker already read (it
/// reads every socket holder on the host while the dump runs) or read now. Warnings count only
/// processes that belong in this snapshot.
fn assemble_processes(
    opts: &CollectOptions,
    holders: &BTreeSet<u32>,
    relayed: &BTreeSet<u32>,
    mut meta: HashMap<u32, procwalk::MetaResult>,
    warnings: &mut Warnings,
) -> Vec<crate::model::Process> {
    let mut take = |pids: &BTreeSet<u32>, warnings: &mut Warnings| {
        let missing: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|p| !meta.contains_key(p))
            .collect();
        meta.extend(procwalk::read_many(&opts.proc_root, &missing));
        let (mut vanished, mut denied, mut partial) = (Vec::new(), Vec::new(), Vec::new());
        let mut exiting = Vec::new();
        let mut out = Vec::new();
        for &pid in pids {
            match meta.remove(&pid) {
                Some(Ok((p, flags))) => {
                    if flags.partial {
                        partial.push(pid);
                    }
                    if flags.exiting {
                        exiting.push(pid);
                    }
                    out.push(p);
                }
                Some(Err(procwalk::MetaError::Denied)) => denied.push(pid),
                Some(Err(procwalk::MetaError::Vanished)) | None => vanished.push(pid),
            }
        }
        warnings.add_pids(
            "proc_meta_vanished",
            &vanished,
            "processes exited before their metadata was read",
        );
        warnings.add_pids(
            "proc_meta_denied",
            &denied,
            "processes whose metadata could not be read",
        );
        warnings.add_pids(
            "proc_meta_partial",
            &partial,
            "processes whose exe or namespace link could not be read (permission)",
        );
        warnings.add_pids(
            "proc_meta_exiting",
            &exiting,
            "processes that were exiting while their metadata was read: exe and command line \
             may be empty",
        );
        out
    };
    let first: BTreeSet<u32> = holders.union(relayed).copied().collect();
    let mut procs = take(&first, warnings);
    // Every ancestor, level by level (`process.ancestors.*`): chains are short and shared.
    let mut known = first;
    for _ in 0..64 {
        let parents: BTreeSet<u32> = procs
            .iter()
            .map(|p| p.ppid)
            .filter(|pp| *pp != 0 && !known.contains(pp))
            .collect();
        if parents.is_empty() {
            break;
        }
        known.extend(&parents);
        procs.extend(take(&parents, warnings));
    }
    procs.sort_unstable_by_key(|p| p.pid);
    let names = host::user_names(procs.iter().map(|p| p.uid));
    for p in &mut procs {
        p.user = names.get(&p.uid).cloned();
    }
    procs
}

/// Dumps the calling thread's namespace and names its interfaces there.
fn dump_here(opts: &CollectOptions, threads: usize, at: ViewAt) -> Here {
    let mut w = Warnings::default();
    let mut src = BTreeMap::new();
    // The /proc/net view is read while netlink dumps (a thread spawned here shares this
    // thread's network namespace), unless it is compared at the end.
    let here = at == ViewAt::Dump;
    let (mut sockets, net) = std::thread::scope(|scope| {
        let reading =
            (here && opts.crossview && opts.procnet_view).then(|| start_reading(scope, opts));
        let mut sockets = tables::dump_tables(opts, threads, &mut w, &mut src);
        let net = if !here {
            None
        } else if opts.crossview {
            // The sockets only /proc/net showed are put in their place by `sort_dumped`.
            Some(compare_read(opts, &mut sockets, &src, reading))
        } else {
            Some(crossview::NetCompare::default())
        };
        (sockets, net)
    });
    for (table, source) in &src {
        if let Some(why) = source.strip_prefix("unavailable: ") {
            w.gap(format!("table:{table}"), why);
        }
    }
    let ifindexes: BTreeSet<u32> = sockets.iter().filter_map(|s| s.ifindex).collect();
    let names = host::interface_names(ifindexes);
    for s in &mut sockets {
        if let Some(i) = s.ifindex {
            s.interface = names.get(&i).map(|n| n.as_str().into());
        }
    }
    (sockets, w, src, net)
}

/// One namespace's dump: its sockets, warnings, `meta.sources` and the /proc/net comparison
/// (`None` when it is left for the end).
type Here = (
    Vec<Socket>,
    Warnings,
    BTreeMap<String, String>,
    Option<crossview::NetCompare>,
);

/// A namespace to dump: its inode and name when known, the file to enter it by, its processes.
type Target = (Option<u64>, Option<String>, PathBuf, Vec<u32>);

/// Dumps the selected namespaces; tags sockets with their namespace when more than the current
/// one is involved, and describes each namespace.
fn dump_namespaces(
    opts: &CollectOptions,
    warnings: &mut Warnings,
    sources: &mut BTreeMap<String, String>,
    namespaces: &mut Vec<crate::model::Namespace>,
    net_views: &mut Vec<crossview::NetCompare>,
    at: ViewAt,
) -> Vec<Socket> {
    let targets: Vec<Target> = match &opts.netns {
        netns::Select::Current => {
            let (s, w, src, net) = dump_here(opts, 2, at);
            warnings.merge(w);
            *sources = src;
            net_views.extend(net);
            return s;
        }
        netns::Select::One(spec) => match netns::resolve(spec, &opts.proc_root) {
            Ok(p) => vec![(None, None, p, Vec::new())],
            Err(e) => {
                warnings.gap(format!("netns:{spec}"), e.to_string());
                sources.insert("all".into(), format!("unavailable: {e}"));
                return Vec::new();
            }
        },
        netns::Select::All => all_targets(opts, warnings),
        netns::Select::Found(known) => known
            .iter()
            .map(|(ino, name, path)| (Some(*ino), name.clone(), path.clone(), Vec::new()))
            .collect(),
    };
    let current = host::current_netns();
    let mut out = Vec::new();
    for ((ino, name, path, pids), r) in dump_each(opts, &targets) {
        let (mut socks, w, src, entered) = match r {
            Ok(((socks, w, src, net), entered)) => {
                net_views.extend(net);
                (socks, w, src, entered)
            }
            Err(e) => {
                namespace_unreadable(opts, warnings, name, &path, e);
                continue;
            }
        };
        let inode = entered.or(ino).unwrap_or(0);
        if Some(inode) == current || sources.is_empty() {
            *sources = src;
        }
        warnings.merge(w);
        for s in &mut socks {
            s.netns = Some(inode);
        }
        out.extend(socks);
        namespaces.push(crate::model::Namespace {
            inode,
            name,
            current: Some(inode) == current,
            pids,
            containers: Vec::new(),
        });
    }
    out
}

/// Every namespace found on the host. Processes whose namespace link cannot be read are a
/// per-process warning with full privilege (the kernel's own rule, e.g. this sandbox's init),
/// and a gap without it (a namespace only they use was never found).
fn all_targets(opts: &CollectOptions, warnings: &mut Warnings) -> Vec<Target> {
    let (found, unreadable) = netns::discover_all(&opts.proc_root);
    if !unreadable.is_empty() && host::privileged() {
        warnings.add_pids(
            "netns_link_denied",
            &unreadable,
            "processes whose network namespace link the kernel refused to resolve, even with \
             full privilege: a namespace only they use may be missing",
        );
    } else if !unreadable.is_empty() {
        let shown: Vec<String> = unreadable.iter().take(20).map(u32::to_string).collect();
        warnings.gap(
            "netns",
            format!(
                "the network namespace of {} process{} could not be read (permission; pids \
                 {}{}): namespaces only they use were not dumped",
                unreadable.len(),
                if unreadable.len() == 1 { "" } else { "es" },
                shown.join(", "),
                if unreadable.len() > 20 { ", ..." } else { "" }
            ),
        );
    }
    found
        .into_values()
        .map(|f| (Some(f.inode), f.name, f.path, f.pids.into_iter().collect()))
        .collect()
}

/// A namespace's dump, in the namespace it was entered from (or why it could not be).
type Dumped = Result<(Here, Option<u64>), netns::EnterError>;

/// Dumps each target from a thread that joined it; two namespaces at a time (as many as cores
/// here, and the /proc walk runs meanwhile).
fn dump_each(opts: &CollectOptions, targets: &[Target]) -> Vec<(Target, Dumped)> {
    targets
        .chunks(2)
        .flat_map(|chunk| {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(ino, name, path, pids)| {
                        scope.spawn(move || {
                            let r = netns::run_in(path, || {
                                (dump_here(opts, 1, ViewAt::Dump), host::current_netns())
                            });
                            ((*ino, name.clone(), path.clone(), pids.clone()), r)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a namespace thread panicked"))
                    .collect::<Vec<_>>()
            })
        })
        .collect()
}

/// A namespace that could not be entered: churn when it vanished during `--all-netns` (its last
/// process exited), a gap otherwise (permission, a user namespace, `--netns` naming it).
fn namespace_unreadable(
    opts: &CollectOptions,
    warnings: &mut Warnings,
    name: Option<String>,
    path: &Path,
    e: netns::EnterError,
) {
    match &opts.netns {
        netns::Select::All | netns::Select::Found(_) if e.vanished() => warnings.add(
            "netns_vanished",
            1,
            format!(
                "network namespaces that vanished before they were dumped (first: {}: {e})",
                path.display()
            ),
        ),
        netns::Select::One(spec) => {
            warnings.gap(format!("netns:{spec}"), format!("cannot enter: {e}"))
        }
        _ => warnings.gap(
            format!(
                "netns:{}",
                name.unwrap_or_else(|| path.display().to_string())
            ),
            format!("cannot enter: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_sets_hold_each_pid_once() {
        let pids = [7u32, 64, 3, 7, 63, 4_194_303, 64, 1, 0];
        let want: BTreeSet<u32> = pids.iter().copied().collect();
        assert_eq!(pid_set(pids.iter().copied()), want);
        assert_eq!(
            pid_set([9u32, u32::MAX, 9].into_iter()),
            BTreeSet::from([9, u32::MAX])
        );
        assert!(pid_set(std::iter::empty()).is_empty());
    }
}
