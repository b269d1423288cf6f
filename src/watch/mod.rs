//! `sockwarden watch`: sockets as they are born, with the process that made them, checked
//! against the same rules and baseline as `scan` (docs/watch.md).
//!
//! Events come from the kernel (`collect::tracepoint`, a BPF program on the TCP state-change
//! tracepoint) or, without BPF, from sock_diag dumps compared one after the other
//! (`poll`). Each event becomes a [`Socket`] with its holder, as a snapshot has them, in a
//! snapshot of its own: the engine and the baseline's drift run on it unchanged. What comes out
//! is de-duplicated (the same socket, rule and holder once) and rate-limited per rule, with
//! every suppressed finding counted in the summary.
//!
//! Attribution: `connect()` and `listen()` run in the acting process, so their events name it;
//! the kernel keeps a connect's process and sends it with the connection's outcome (up or
//! refused), and the process is read from /proc then (`enrich`). (A connect written on its own,
//! with `--all-events` or a full kernel table, is remembered by the socket's kernel address
//! until its outcome.) A passive open runs in softirq
//! context: it is attributed to the holder of the listening socket on its port and namespace,
//! from a table of listeners seeded by one dump at start and kept by LISTEN and CLOSE events.

pub mod enrich;
pub mod event;
pub mod output;
pub mod poll;
pub mod prefilter;
pub mod run;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::baseline::drift::{self, Comparison};
use crate::baseline::{Baseline, Category, Compiled};
use crate::engine;
use crate::model::{
    ByteString, Endpoint, Family, Meta, Owner, Protocol, SCHEMA_VERSION, Snapshot, Socket, State,
    UnixInfo,
};
use crate::report::{self, ReportFinding, ScanReport};
use crate::rules::RuleSet;
use crate::rules::fields::Subject;
use enrich::{Enricher, Holder};
use event::{Action, Event, SockEvent};

/// watch does not know which descriptor holds the socket (the event names the process, not
/// the fd): owners carry this fd number, and docs/watch.md says so.
pub const UNKNOWN_FD: u32 = u32::MAX;

/// Settings of one watch.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most findings per rule (or drift category) per minute; the rest are counted.
    pub per_rule_per_minute: u32,
    /// Processes, pending connects, listeners and de-duplication keys kept (each an LRU).
    pub cache: usize,
    /// Emit every socket event, not only findings.
    pub all_events: bool,
    /// Only sockets of this network namespace (its inode). The kernel filters TCP and unix
    /// events; UDP, raw and packet events are filtered here, by the acting process's namespace
    /// (an event whose process is gone, so its namespace unknown, is dropped).
    pub only_netns: Option<u64>,
}

/// What a watch saw, for its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Socket events read.
    pub events: u64,
    /// Events the kernel could not deliver: records that found the ring buffer full (counted
    /// by the program) and runs the kernel skipped because the program was already running on
    /// that CPU (its `recursion_misses`).
    pub lost: u64,
    /// Findings reported.
    pub findings: u64,
    /// Findings not repeated: the same socket, rule and holder as one already reported.
    pub duplicates: u64,
    /// Findings over a rule's rate limit, by rule id (or drift category).
    pub suppressed: BTreeMap<String, u64>,
    /// Events still in the ring buffer when the watch ended, not read: the watch judged events
    /// more slowly than they came (docs/watch.md, "Throughput").
    pub unread: u64,
    /// Poll mode: connections that opened and closed between two dumps, seen only by their
    /// sock_diag destroy notification (without their process).
    pub ended_unseen: u64,
    /// Events whose socket no process could be found for (a passive open on a listener
    /// opened before the watch started in another namespace, a connect seen half).
    pub unattributed: u64,
}

/// One thing to write: a finding (with the report it belongs to) or a socket event.
#[derive(Debug)]
pub enum Record {
    /// Findings about one socket, in the report document's form.
    Findings(Box<ScanReport>),
    /// A socket event (`--all-events`).
    Event(Box<SocketEvent>),
}

/// A socket event as `--all-events` writes it.
#[derive(Debug, Clone)]
pub struct SocketEvent {
    /// What happened.
    pub action: Action,
    /// The socket after the change.
    pub socket: Socket,
    /// Who holds it, when known.
    pub holder: Option<Arc<Holder>>,
    /// The event's kernel time (ns since boot); 0 in poll mode.
    pub ktime_ns: u64,
    /// The cgroup id of the task the event ran in (meaningful for connect and listen).
    pub cgroup_id: u64,
}

/// The rules, the baseline and what has been reported so far.
pub struct Watcher<'a> {
    rules: &'a RuleSet,
    baseline: Option<&'a (Baseline, Compiled)>,
    opts: Options,
    meta: Meta,
    /// The process of each connecting socket, by kernel address, until it is up or closed.
    pending: LruCache<u64, Arc<Holder>>,
    /// Listening sockets by (netns, port): their holder and socket.
    listeners: LruCache<(Option<u64>, u16), (Arc<Holder>, Socket)>,
    seen: LruCache<(u64, String, u32), ()>,
    windows: BTreeMap<String, (Instant, u32)>,
    /// The one-socket snapshot every judged event is put in, reused: the header is cloned once,
    /// the holder's process and parent only when the holder changes (`scratch_holder`, kept
    /// alive so its address cannot be another holder's), the vectors keep their capacity.
    scratch: Snapshot,
    scratch_holder: Option<Arc<Holder>>,
    /// The rules split by what they read (`prefilter`), and the holder parts' verdicts for
    /// the scratch holder (`None`: not computed yet) and for recent holders (by address: the
    /// entry keeps its holder alive, so the address cannot be another's).
    plan: prefilter::Plan,
    verdicts: Option<prefilter::Verdicts>,
    verdict_cache: LruCache<usize, (Arc<Holder>, prefilter::Verdicts)>,
    /// Process metadata.
    pub enricher: Enricher,
    /// The counts so far.
    pub summary: Summary,
}

impl std::fmt::Debug for Watcher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("summary", &self.summary)
            .finish()
    }
}

fn lru<K: std::hash::Hash + Eq, V>(n: usize) -> LruCache<K, V> {
    LruCache::new(NonZeroUsize::new(n.max(1)).expect("at least 1"))
}

impl<'a> Watcher<'a> {
    /// A watcher over `rules` and an optional baseline; `meta` is the header of every one-socket
    /// snapshot (hostname, ephemeral port range).
    pub fn new(
        rules: &'a RuleSet,
        baseline: Option<&'a (Baseline, Compiled)>,
        opts: Options,
        meta: Meta,
        enricher: Enricher,
    ) -> Watcher<'a> {
        Watcher {
            rules,
            baseline,
            scratch: Snapshot {
                schema_version: SCHEMA_VERSION,
                meta: meta.clone(),
                sockets: Vec::with_capacity(2),
                processes: Vec::with_capacity(2),
                namespaces: Vec::new(),
                warnings: Vec::new(),
                gaps: Vec::new(),
            },
            scratch_holder: None,
            plan: prefilter::Plan::new(rules),
            verdicts: None,
            verdict_cache: lru(opts.cache.min(1024)),
            meta,
            pending: lru(opts.cache),
            listeners: lru(opts.cache),
            seen: lru(opts.cache),
            windows: BTreeMap::new(),
            enricher,
            summary: Summary::default(),
            opts,
        }
    }

    /// Names the namespace `--netns` watches, so its sockets are labelled as a scan labels it
    /// (its name under /run/netns, or `ns:INODE`), not as the host's: the watch's own
    /// namespace stays `host`.
    pub fn name_namespace(&mut self, inode: u64, name: Option<String>) {
        self.scratch.namespaces = vec![crate::model::Namespace {
            inode,
            name,
            current: false,
            pids: Vec::new(),
            containers: Vec::new(),
        }];
    }

    /// The namespace of a socket that carries none: the watched one with `--netns` (every
    /// dump and notification then comes from it), otherwise `fallback`.
    fn netns_or(&self, netns: Option<u64>, fallback: Option<u64>) -> Option<u64> {
        netns.or(self.opts.only_netns).or(fallback)
    }

    /// Seeds the listener table from a snapshot (the listeners open before the watch began).
    pub fn seed_listeners(&mut self, snap: &Snapshot) {
        for s in snap.sockets.iter().filter(|s| s.state == State::Listen) {
            let (Some(local), Some(o)) = (s.local, s.owners.first()) else {
                continue;
            };
            if let Some(h) = self.enricher.holder_of_pid(o.pid) {
                let netns = self.netns_or(s.netns, snap.meta.netns);
                self.listeners.put((netns, local.port), (h, s.clone()));
            }
        }
    }

    /// Handles one kernel event: tracks it, and returns what to write.
    pub fn on_event(&mut self, ev: &Event) -> Vec<Record> {
        self.summary.events += 1;
        let action = ev.action();
        let holder = self.attribute(ev, action);
        if !self.opts.all_events && !ev.judged() {
            return Vec::new(); // a connect, tracked above: nothing to build or write
        }
        let mut socket = socket_of(ev, ev.state_after());
        socket.cgroup_id = Some(ev.cgroup_id).filter(|_| ev.in_process_context());
        if let Some(h) = &holder {
            socket.owners = smallvec::smallvec![Owner {
                pid: h.process.pid,
                fd: UNKNOWN_FD,
            }];
        }
        let mut out = Vec::new();
        if self.opts.all_events {
            out.push(Record::Event(Box::new(SocketEvent {
                action,
                socket: socket.clone(),
                holder: holder.clone(),
                ktime_ns: ev.ktime_ns,
                cgroup_id: ev.cgroup_id,
            })));
        }
        if ev.judged() {
            if holder.is_none() {
                self.summary.unattributed += 1;
            }
            let context = (action == Action::Accepted)
                .then(|| self.listeners.peek(&(ev.netns, ev.local.1)))
                .flatten()
                .map(|(_, s)| s.clone());
            out.extend(self.judge(socket, holder.as_ref(), context, ev.skaddr));
        }
        out
    }

    /// Handles one UDP, raw, packet or unix event: the acting process holds the socket. A unix
    /// listener comes complete from the kernel (inode, name, namespace); a raw or packet
    /// socket's inode is read from the process's descriptor.
    pub fn on_sock_event(&mut self, ev: &SockEvent) -> Vec<Record> {
        let netns = ev.netns.or_else(|| self.enricher.netns_of(ev.tgid));
        // With `--netns`, an event whose namespace is unknown (its process gone before it was
        // read) cannot be shown to be the watched namespace's: not reported (docs/watch.md).
        if self.opts.only_netns.is_some() && netns != self.opts.only_netns {
            return Vec::new();
        }
        self.summary.events += 1;
        let inode = match ev.action {
            Action::Open => self.enricher.socket_inode(ev.tgid, ev.fd).unwrap_or(0),
            _ => ev.inode,
        };
        let holder = self
            .enricher
            .holder_for(ev.tgid, ev.ktime_ns, ev.uid, &ev.comm);
        let mut socket = sock_socket(ev);
        socket.inode = inode;
        socket.cookie = Some(ev.cookie).filter(|&c| c != 0);
        socket.cgroup_id = Some(ev.cgroup_id);
        socket.netns = netns;
        let fd = match ev.action {
            Action::Open => ev.fd,
            _ => UNKNOWN_FD,
        };
        socket.owners = smallvec::smallvec![Owner {
            pid: holder.process.pid,
            fd,
        }];
        let mut out = Vec::new();
        if self.opts.all_events {
            out.push(Record::Event(Box::new(SocketEvent {
                action: ev.action,
                socket: socket.clone(),
                holder: Some(holder.clone()),
                ktime_ns: ev.ktime_ns,
                cgroup_id: ev.cgroup_id,
            })));
        }
        let identity = [ev.cookie, socket.inode]
            .into_iter()
            .find(|&i| i != 0)
            .unwrap_or(ev.ktime_ns);
        out.extend(self.judge(socket, Some(&holder), None, identity));
        out
    }

    /// Who holds the event's socket, keeping the tables of pending connects and listeners: the
    /// acting process for connect and listen (read from /proc now), the connect's process when
    /// the connection is up or refused, the listener's holder for a passive open.
    fn attribute(&mut self, ev: &Event, action: Action) -> Option<Arc<Holder>> {
        match action {
            Action::Connect => {
                let h = self.enricher.holder(ev);
                self.pending.put(ev.skaddr, h.clone());
                Some(h)
            }
            Action::Listen => {
                let h = self.enricher.holder(ev);
                let s = socket_of(ev, State::Listen);
                self.listeners.put((ev.netns, ev.local.1), (h.clone(), s));
                Some(h)
            }
            // The kernel kept the connect and sent its process with the outcome.
            Action::Connected | Action::Close if ev.from_connect => Some(self.enricher.holder(ev)),
            Action::Connected => self.pending.pop(&ev.skaddr),
            Action::Accepted => self
                .listeners
                .get(&(ev.netns, ev.local.1))
                .map(|(h, _)| h.clone()),
            Action::Close => {
                if ev.old == crate::collect::tracepoint::tcp_state::LISTEN {
                    self.listeners.pop(&(ev.netns, ev.local.1));
                }
                self.pending.pop(&ev.skaddr)
            }
            // Not TCP transitions (`Event::action` never gives them).
            Action::Other | Action::Send | Action::Bind | Action::Open => None,
        }
    }

    /// Evaluates the rules and the baseline on one socket; returns its findings, less those
    /// already reported or over their rule's rate.
    pub fn judge(
        &mut self,
        socket: Socket,
        holder: Option<&Arc<Holder>>,
        context: Option<Socket>,
        identity: u64,
    ) -> Option<Record> {
        self.load_scratch(socket, holder, context);
        let matched = self.any_rule_matches();
        if !matched && self.baseline.is_none() {
            return None; // the common case, decided without the engine's plans and the report
        }
        // The time the report carries, formatted only for a snapshot that may be reported.
        self.scratch.meta.taken_at = crate::collect::host::now_rfc3339();
        let snap = &self.scratch;
        let findings: Vec<engine::Finding> = if matched {
            engine::evaluate(self.rules, snap)
                .into_iter()
                .filter(|f| f.socket == 0 && f.count.is_none())
                .collect()
        } else {
            Vec::new()
        };
        let comparison = self.baseline.map(|(b, c)| {
            let full = drift::compare(b, c, snap);
            Comparison {
                drift: full
                    .drift
                    .into_iter()
                    .filter(|d| d.socket == Some(0) && d.category != Category::ListenerGone)
                    .collect(),
                known_sockets: full.known_sockets.into_iter().filter(|&s| s == 0).collect(),
            }
        });
        let mut rep = report::build(snap, self.rules, &findings, comparison.as_ref());
        let pid = holder.map_or(0, |h| h.process.pid);
        let kept: Vec<ReportFinding> = std::mem::take(&mut rep.findings)
            .into_iter()
            .filter(|f| self.admit(f, identity, pid))
            .collect();
        if kept.is_empty() {
            return None;
        }
        self.summary.findings += kept.len() as u64;
        rep.summary.findings = kept.len();
        rep.findings = kept;
        Some(Record::Findings(Box::new(rep)))
    }

    /// Puts one socket (index 0), its holder and the holder's parent, and optionally a second
    /// socket for context (the listener of an accepted connection, so the baseline sees an
    /// inbound connection) into the reused snapshot. The processes are cloned only when the
    /// holder is not the previous event's: a busy process's events allocate none.
    fn load_scratch(
        &mut self,
        socket: Socket,
        holder: Option<&Arc<Holder>>,
        context: Option<Socket>,
    ) {
        let same = match (holder, &self.scratch_holder) {
            (Some(h), Some(prev)) => Arc::ptr_eq(h, prev),
            (None, None) => true,
            _ => false,
        };
        if !same {
            let processes = &mut self.scratch.processes;
            processes.clear();
            if let Some(h) = holder {
                processes.push(h.process.clone());
                processes.extend(h.parent.clone());
            }
            processes.sort_by_key(|p| p.pid);
            processes.dedup_by_key(|p| p.pid);
            self.scratch_holder = holder.cloned();
            self.verdicts = holder
                .and_then(|h| self.verdict_cache.get(&(Arc::as_ptr(h) as usize)))
                .map(|(_, v)| v.clone());
        }
        self.scratch.sockets.clear();
        self.scratch.sockets.push(socket);
        self.scratch.sockets.extend(context);
    }

    /// Whether some per-socket rule matches socket 0 of the scratch snapshot, by the rule
    /// language's direct meaning: a few microseconds, where the engine's plans, memo tables and
    /// the report cost tens (measured: about 30k events/s per core with the engine on every
    /// event). The engine then runs only when this says yes, so the findings are the engine's
    /// own. The conditions on the holder alone are decided once per holder (`prefilter`): for a
    /// busy process only the socket's conditions are evaluated per event.
    fn any_rule_matches(&mut self) -> bool {
        let snap = &self.scratch;
        let s = &snap.sockets[0];
        let label = snap.netns_label(s.netns);
        // Each holder, or no holder at all when the socket has none; a socket of a dump can
        // have several, and the scratch holder's verdicts are then not theirs.
        let none = s.owners.is_empty().then_some(None);
        let mut owners = s.owners.iter().copied().map(Some).chain(none);
        let single = s.owners.len() <= 1;
        // The engine's own view of this one-socket snapshot (direction, process tree).
        let world = crate::rules::fields::World::of(snap);
        let (plan, rules) = (&self.plan, self.rules);
        let (verdicts, cache) = (&mut self.verdicts, &mut self.verdict_cache);
        let holder = self.scratch_holder.as_ref();
        owners.any(|owner| {
            let x = Subject::held(
                snap,
                s,
                owner,
                snap.ephemeral_ports(),
                Some(&label),
                Some(&world),
            );
            if !single {
                return plan.matches(rules, &plan.verdicts(rules, &x), &x);
            }
            let v = verdicts.get_or_insert_with(|| {
                let v = plan.verdicts(rules, &x);
                if let Some(h) = holder {
                    cache.put(Arc::as_ptr(h) as usize, (h.clone(), v.clone()));
                }
                v
            });
            plan.matches(rules, v, &x)
        })
    }

    /// Whether a finding is written: not when the same socket, rule and holder were reported
    /// already (counted as a duplicate), nor over its rule's rate (counted as suppressed).
    fn admit(&mut self, f: &ReportFinding, identity: u64, pid: u32) -> bool {
        let name = f
            .rule_id
            .clone()
            .or_else(|| f.category.map(|c| c.name().to_string()))
            .unwrap_or_default();
        if self.seen.put((identity, name.clone(), pid), ()).is_some() {
            self.summary.duplicates += 1;
            return false;
        }
        let now = Instant::now();
        let w = self.windows.entry(name.clone()).or_insert((now, 0));
        if now.duration_since(w.0) >= Duration::from_secs(60) {
            *w = (now, 0);
        }
        if w.1 >= self.opts.per_rule_per_minute {
            *self.summary.suppressed.entry(name).or_default() += 1;
            return false;
        }
        w.1 += 1;
        true
    }

    /// Poll mode, and the sweep beside BPF (`--no-syscall-tracepoints`): judges socket `si` of
    /// a dump with the holders the dump found (the first one's process and parent).
    pub fn judge_dumped(&mut self, snap: &Snapshot, si: usize) -> Vec<Record> {
        let mut socket = snap.sockets[si].clone();
        socket.netns = self.netns_or(socket.netns, snap.meta.netns);
        let holder = socket.owners.first().and_then(|o| {
            let process = snap.process(o.pid)?.clone();
            let parent = snap.process(process.ppid).cloned();
            Some(Arc::new(Holder {
                process,
                parent,
                gone: false,
            }))
        });
        if holder.is_none() {
            self.summary.unattributed += 1;
        }
        let mut out = Vec::new();
        if self.opts.all_events {
            let action = match (socket.state, socket.protocol) {
                (State::Listen, _) => Action::Listen,
                (_, Protocol::Raw | Protocol::PacketRaw | Protocol::PacketDgram) => Action::Open,
                _ => Action::Connected,
            };
            out.push(Record::Event(Box::new(SocketEvent {
                action,
                socket: socket.clone(),
                holder: holder.clone(),
                ktime_ns: 0,
                cgroup_id: socket.cgroup_id.unwrap_or(0),
            })));
        }
        let identity = socket.cookie.unwrap_or(socket.inode);
        out.extend(self.judge(socket, holder.as_ref(), None, identity));
        out
    }

    /// Poll mode: judges a connection that opened and closed between two dumps, known from its
    /// destroy notification alone: no holder, judged as the `established` connection it was (a
    /// refused attempt is judged so too).
    pub fn judge_ended(&mut self, mut socket: Socket) -> Vec<Record> {
        socket.netns = self.netns_or(socket.netns, self.meta.netns);
        let mut out = Vec::new();
        if self.opts.all_events {
            out.push(Record::Event(Box::new(SocketEvent {
                action: Action::Close,
                socket: socket.clone(),
                holder: None,
                ktime_ns: 0,
                cgroup_id: 0,
            })));
        }
        self.summary.unattributed += 1;
        socket.state = State::Established;
        let identity = socket.cookie.unwrap_or(socket.inode);
        out.extend(self.judge(socket, None, None, identity));
        out
    }
}

/// The socket a UDP, raw, packet or unix event describes, in the snapshot model. A datagram
/// sent to a new peer is judged as the `established` flow to that peer it is; a bound UDP
/// socket is the `close` (UNCONN) listener `scan` shows; a raw socket's port is its protocol.
pub fn sock_socket(ev: &SockEvent) -> Socket {
    let inet = if ev.family == 10 {
        Family::Inet6
    } else {
        Family::Inet
    };
    let ep = |(address, port): (IpAddr, u16)| Some(Endpoint { address, port });
    let nowhere = |port| {
        let address = if inet == Family::Inet6 {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        };
        Some(Endpoint { address, port })
    };
    let mut s;
    match ev.action {
        Action::Listen => {
            let protocol = if ev.sock_type == 5 {
                Protocol::UnixSeqpacket
            } else {
                Protocol::UnixStream
            };
            s = Socket::new(protocol, Family::Unix, State::Listen, 0);
            let mut info = match &ev.unix {
                Some(u) => UnixInfo::named(u.name.clone().map(ByteString), u.r#abstract),
                None => UnixInfo::named(None, false),
            };
            info.backlog = ev.unix.as_ref().map(|u| u.backlog);
            s.unix = Some(Box::new(info));
        }
        Action::Open if ev.family == 17 => {
            let protocol = if ev.sock_type == 3 {
                Protocol::PacketRaw
            } else {
                Protocol::PacketDgram
            };
            s = Socket::new(protocol, Family::Packet, State::Close, 0);
            s.packet = Some(Box::new(crate::model::PacketInfo {
                ethertype: ev.protocol as u16,
                version: None,
                flags: None,
                fanout: None,
                copy_thresh: None,
                rx_ring: None,
                tx_ring: None,
                bpf: None,
            }));
        }
        Action::Open => {
            s = Socket::new(Protocol::Raw, inet, State::Close, 0);
            s.local = nowhere(ev.protocol as u16);
            s.remote = nowhere(0);
        }
        Action::Bind => {
            s = Socket::new(Protocol::Udp, inet, State::Close, 0);
            s.local = ep(ev.local);
            s.remote = nowhere(0);
        }
        _ => {
            s = Socket::new(Protocol::Udp, inet, State::Established, 0);
            s.local = ep(ev.local);
            s.remote = ep(ev.remote);
        }
    }
    s
}

/// The socket an event describes, in the snapshot model.
pub fn socket_of(ev: &Event, state: State) -> Socket {
    let family = if ev.v6 { Family::Inet6 } else { Family::Inet };
    let mut s = Socket::new(Protocol::Tcp, family, state, 0);
    let ep = |(address, port): (IpAddr, u16)| Endpoint { address, port };
    s.local = Some(ep(ev.local));
    s.remote = Some(ep(ev.remote));
    s.netns = ev.netns;
    s
}

#[cfg(test)]
mod tests;
