//! Drift: how a snapshot differs from a baseline, as findings with a category, a severity and a
//! stable id, and the change that would accept each one.
//!
//! A current listener is matched against the baseline in three steps: an entry that matches it
//! fully (known); else an entry with the same protocol, port, executable and user but another
//! address (rebound, e.g. 127.0.0.1 → 0.0.0.0); else an entry with the same protocol, port and
//! address but another executable or user (owner changed); else it is new. A listener entry that
//! nothing matched is gone. Outbound peers and inbound services are known or new.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use std::net::IpAddr;

use super::{
    AddrSpec, Baseline, Category, Compiled, Inbound, Listener, Outbound, Proto, Role, address_text,
    escape_glob, listening_ports, network_text, role,
};
use crate::model::{Owner, Snapshot, Socket};
use crate::rules::Severity;

/// What accepting a drift finding changes in the baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Add this listener entry (a new listener).
    AddListener(Listener),
    /// Replace listener entry `index` with a new one (rebound, owner changed).
    ReplaceListener(usize, Listener),
    /// Remove the listener entry at this index (a listener that is gone).
    RemoveListener(usize),
    /// Add this outbound entry (a new destination).
    AddOutbound(Outbound),
    /// Add this inbound entry (a new inbound service).
    AddInbound(Inbound),
}

/// One drift finding: a difference between the snapshot and the baseline, with what accepting it
/// would change.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// What kind of difference.
    pub category: Category,
    /// The baseline's severity for the category (its `severity` map, else the default).
    pub severity: Severity,
    /// Stable across runs: category and what identifies the entry (no pids, no inodes).
    pub id: String,
    /// One line saying what changed.
    pub message: String,
    /// Index into the snapshot's sockets (none for a listener that is gone).
    pub socket: Option<usize>,
    /// The (pid, fd)s of the holder the finding is about (one executable, user and container
    /// among the holders of `socket`, the first socket that showed it). Empty for a listener
    /// that is gone or a socket no process holds.
    pub owners: Vec<Owner>,
    /// What `baseline update --accept` applies to the baseline for this finding.
    pub change: Change,
}

impl Drift {
    /// A new outbound destination or inbound service seen on socket `si`; its id and message
    /// are written once per finding, when outcomes are merged.
    fn unseen(b: &Baseline, si: usize, owners: Vec<Owner>, change: Change) -> Drift {
        let category = match change {
            Change::AddOutbound(_) => Category::NewOutbound,
            _ => Category::NewInbound,
        };
        Drift {
            category,
            severity: b.severity(category),
            id: String::new(),
            message: String::new(),
            socket: Some(si),
            owners,
            change,
        }
    }
}

fn listener_addr_matches(spec: &AddrSpec, a: IpAddr) -> bool {
    match spec {
        // For a bind address, `any` is the wildcard bind, not "whatever address".
        AddrSpec::Any => a.is_unspecified(),
        s => s.matches(a),
    }
}

/// A drift finding's id: the first 16 hex digits of SHA-256 over `CATEGORY NUL KEY`, where KEY
/// is, with single spaces: for listeners `PROTO ADDRESS PORT EXE USER` (then ` netns=SCOPE` and
/// ` container=SCOPE` when scoped), for outbound `PROTO EXE NETWORK PORT`, for inbound
/// `PROTO PORT EXE` (PROTO `tcp`/`udp`; the baseline's text forms, exe as an escaped glob).
/// Documented in docs/baseline.md; stable across releases.
fn id(category: Category, key: &str) -> String {
    let digest = super::sha256_hex(format!("{}\0{key}", category.name()).as_bytes());
    digest[..16].to_string()
}

/// The result of comparing a snapshot with a baseline.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Drift findings, most severe first, then by category and message; one per (category, entry),
    /// however many sockets show it.
    pub drift: Vec<Drift>,
    /// Sockets that match a baseline entry exactly.
    pub known_sockets: BTreeSet<usize>,
}

/// Compares `snap` with the baseline `b` (compiled as `c`).
pub fn compare(b: &Baseline, c: &Compiled, snap: &Snapshot) -> Comparison {
    let ctx = Ctx::new(b, c, snap);
    // Sockets are matched in parallel (a handful, as watch's one-socket snapshots, on this
    // thread: cheaper than waking a rayon worker); the outcomes are merged in socket order, so
    // the result does not depend on scheduling.
    let outcome = |(si, s): (usize, &Socket)| ctx.socket_outcome(si, s);
    let outcomes: Vec<Outcome> = if snap.sockets.len() < 64 {
        snap.sockets.iter().enumerate().map(outcome).collect()
    } else {
        snap.sockets.par_iter().enumerate().map(outcome).collect()
    };
    let mut used = vec![false; b.listeners.len()];
    let mut out = Comparison::default();
    // A listener entry is taken over at most once, and never when some socket matches it
    // exactly: two sockets replacing one entry would swap it on every accepted update.
    // Entry → the finding that took it over (none for an exact match).
    let mut taken: BTreeMap<usize, Option<(Category, String)>> = outcomes
        .iter()
        .flat_map(|o| o.exact.iter().map(|&i| (i, None)))
        .collect();
    // (category, key) → drift, so one change seen through several sockets is one finding.
    let mut found: BTreeMap<(Category, String), Drift> = BTreeMap::new();
    for (si, o) in outcomes.into_iter().enumerate() {
        if o.known {
            out.known_sockets.insert(si);
        }
        for i in o.used {
            used[i] = true;
        }
        for (k, d, as_new) in o.drifts {
            let (k, mut d) = take_over_once(k, d, as_new, &mut taken, b);
            if let std::collections::btree_map::Entry::Vacant(e) = found.entry(k) {
                d.id = id(e.key().0, &e.key().1);
                if d.message.is_empty() {
                    d.message = describe(&d.change);
                }
                e.insert(d);
            }
        }
    }
    for (i, e) in b.listeners.iter().enumerate() {
        if used[i] {
            continue;
        }
        let key = listener_key(e);
        found
            .entry((Category::ListenerGone, key.clone()))
            .or_insert(Drift {
                category: Category::ListenerGone,
                severity: b.severity(Category::ListenerGone),
                id: id(Category::ListenerGone, &key),
                message: format!(
                    "the baseline's listener {} {}:{} ({}) is not there",
                    e.protocol.name(),
                    e.address,
                    e.port,
                    e.exe
                ),
                socket: None,
                owners: Vec::new(),
                change: Change::RemoveListener(i),
            });
    }
    out.drift = found.into_values().collect();
    out.drift.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.category.cmp(&b.category))
            .then(a.message.cmp(&b.message))
    });
    out
}

/// A drift that replaces listener entry `i` when `i` is free or taken by this same finding (the
/// same change seen through another socket, e.g. v4 and v6); else (another socket matched it,
/// or another change took it first) the change as a new entry of its own.
fn take_over_once(
    k: (Category, String),
    d: Drift,
    as_new: Option<String>,
    taken: &mut BTreeMap<usize, Option<(Category, String)>>,
    b: &Baseline,
) -> ((Category, String), Drift) {
    let Change::ReplaceListener(i, entry) = &d.change else {
        return (k, d);
    };
    match taken.get(i) {
        None => {
            taken.insert(*i, Some(k.clone()));
            return (k, d);
        }
        Some(Some(by)) if *by == k => return (k, d),
        Some(_) => {}
    }
    let category = Category::NewListener;
    let d = Drift {
        category,
        severity: b.severity(category),
        message: as_new.unwrap_or_default(),
        change: Change::AddListener(entry.clone()),
        ..d
    };
    ((category, k.1), d)
}

/// The id key of a listener entry (docs/baseline.md): `PROTO ADDRESS PORT EXE USER`, then
/// ` netns=SCOPE` and ` container=SCOPE` when the entry is scoped, in the baseline's text forms.
fn listener_key(e: &Listener) -> String {
    let mut key = format!(
        "{} {} {} {} {}",
        e.protocol,
        e.address,
        e.port,
        e.exe,
        e.user.as_deref().unwrap_or("")
    );
    if let Some(n) = &e.netns {
        key.push_str(&format!(" netns={n}"));
    }
    if let Some(c) = &e.container {
        key.push_str(&format!(" container={c}"));
    }
    key
}

/// The message of a new outbound destination or inbound service, from the entry it would add.
fn describe(change: &Change) -> String {
    match change {
        Change::AddOutbound(o) => format!(
            "{} connects to {} port {} ({}), which the baseline does not have",
            o.exe,
            o.network,
            o.port,
            o.protocol.name()
        ),
        Change::AddInbound(i) => format!(
            "{} accepts {} connections on port {}, which the baseline does not have",
            i.exe,
            i.protocol.name(),
            i.port
        ),
        _ => String::new(),
    }
}

/// Applies accepted changes to a baseline (removals last, by descending index).
pub fn apply(b: &mut Baseline, changes: &[&Change]) {
    let mut remove = Vec::new();
    for c in changes {
        match c {
            Change::AddListener(l) => b.listeners.push(l.clone()),
            Change::ReplaceListener(i, l) => {
                b.listeners[*i] = l.clone();
            }
            Change::RemoveListener(i) => remove.push(*i),
            Change::AddOutbound(o) => b.outbound.push(o.clone()),
            Change::AddInbound(x) => b.inbound.push(x.clone()),
        }
    }
    remove.sort_unstable();
    for i in remove.into_iter().rev() {
        b.listeners.remove(i);
    }
    b.sort();
}

/// What one socket contributes to a comparison.
#[derive(Default)]
struct Outcome {
    known: bool,
    /// Listener entries this socket matched (exactly or by taking one over).
    used: Vec<usize>,
    /// Listener entries this socket matched exactly.
    exact: Vec<usize>,
    /// Drifts by (category, key), each with the message it gets if it must become a
    /// new_listener (its entry taken over by another socket first).
    drifts: Vec<((Category, String), Drift, Option<String>)>,
}

/// What every socket's comparison reads: the baseline, compiled, and per-snapshot tables.
struct Ctx<'a> {
    b: &'a Baseline,
    c: &'a Compiled,
    snap: &'a Snapshot,
    /// Each process's (exe, user, container) as text, once: sockets outnumber processes ~100
    /// to 1.
    names: HashMap<u32, (String, String, String)>,
    listening: HashSet<(Proto, u16)>,
    eph: (u16, u16),
}

/// One executable (as a user, in a container) holding a socket, with its (pid, fd)s.
struct Holder<'a> {
    exe: &'a str,
    user: &'a str,
    container: &'a str,
    owners: Vec<Owner>,
}

/// A listening socket being matched, in its namespace.
struct Listening<'a> {
    si: usize,
    proto: Proto,
    address: IpAddr,
    port: u16,
    netns: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(b: &'a Baseline, c: &'a Compiled, snap: &'a Snapshot) -> Ctx<'a> {
        let names = snap
            .processes
            .iter()
            .map(|p| {
                let exe = p
                    .exe
                    .as_ref()
                    .map(|e| e.to_str_lossy().into_owned())
                    .unwrap_or_else(|| "-".into());
                let user = p.user.clone().unwrap_or_else(|| p.uid.to_string());
                (p.pid, (exe, user, super::container_text(p)))
            })
            .collect();
        Ctx {
            b,
            c,
            snap,
            names,
            listening: listening_ports(snap),
            eph: snap.ephemeral_ports(),
        }
    }

    /// What one socket contributes: matched per holder, by its role.
    fn socket_outcome(&self, si: usize, s: &Socket) -> Outcome {
        let mut o = Outcome::default();
        let Some(r) = role(s, self.eph, &self.listening) else {
            return o;
        };
        let holders = self.holders(s);
        match r {
            Role::Listener {
                proto,
                address,
                port,
            } => {
                let netns = self.snap.netns_label(s.netns);
                let l = Listening {
                    si,
                    proto,
                    address,
                    port,
                    netns: &netns,
                };
                self.listener(&l, holders, &mut o);
            }
            Role::Outbound {
                proto,
                remote,
                port,
            } => {
                for h in holders {
                    self.outbound(si, (proto, remote, port), h, &mut o);
                }
            }
            Role::Inbound { proto, port, peer } => {
                for h in holders {
                    self.inbound(si, (proto, port, peer), h, &mut o);
                }
            }
        }
        o
    }

    /// The (exe, user, container) groups holding the socket, sorted; one `-` holder for a
    /// socket no process holds.
    fn holders(&self, s: &Socket) -> Vec<Holder<'_>> {
        let mut by_holder: BTreeMap<(&str, &str, &str), Vec<Owner>> = BTreeMap::new();
        if s.owners.is_empty() {
            by_holder.insert(("-", "-", "host"), Vec::new());
        }
        for ow in &s.owners {
            let key = self
                .names
                .get(&ow.pid)
                .map_or(("-", "-", "host"), |(e, u, c)| {
                    (e.as_str(), u.as_str(), c.as_str())
                });
            by_holder.entry(key).or_default().push(*ow);
        }
        by_holder
            .into_iter()
            .map(|((exe, user, container), owners)| Holder {
                exe,
                user,
                container,
                owners,
            })
            .collect()
    }

    /// Whether listener entry `i` is the holder's service (protocol, port, exe, user, scopes),
    /// whatever its address.
    fn same_service(&self, i: usize, l: &Listening, h: &Holder) -> bool {
        let e = &self.b.listeners[i];
        let (_, ports, glob, scope, ns_scope) = &self.c.listeners[i];
        e.protocol == l.proto
            && ports.contains(l.port)
            && glob.is_match(h.exe)
            && e.user.as_deref().is_none_or(|u| u == h.user)
            && scope.as_ref().is_none_or(|m| m.is_match(h.container))
            && ns_scope.as_ref().is_none_or(|m| m.is_match(l.netns))
    }

    /// Whether listener entry `i` binds the same protocol, port and address in this namespace,
    /// whoever holds it.
    fn same_binding(&self, i: usize, l: &Listening) -> bool {
        let e = &self.b.listeners[i];
        let (addr, ports, _, _, ns_scope) = &self.c.listeners[i];
        e.protocol == l.proto
            && ports.contains(l.port)
            && listener_addr_matches(addr, l.address)
            && ns_scope.as_ref().is_none_or(|m| m.is_match(l.netns))
    }

    /// Matches each holder of a listening socket: known, rebound, owner changed or new.
    ///
    /// Entries some holder matches exactly are claimed first. Another holder of the same socket
    /// (two executables sharing one listener) must not take them over, or every update would
    /// swap the entry back and forth: it gets an entry of its own. Each entry is taken over at
    /// most once.
    fn listener(&self, l: &Listening, holders: Vec<Holder>, o: &mut Outcome) {
        let cands = self.c.listener_index.candidates(l.proto, l.port);
        let exact = |h: &Holder| {
            cands
                .iter()
                .copied()
                .find(|&i| self.same_service(i, l, h) && self.same_binding_addr(i, l))
        };
        let mut claimed: BTreeSet<usize> = holders.iter().filter_map(exact).collect();
        for h in holders {
            if let Some(i) = exact(&h) {
                o.used.push(i);
                o.exact.push(i);
                o.known = true;
                continue;
            }
            let free: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|i| !claimed.contains(i))
                .collect();
            let rebound = free.iter().copied().find(|&i| self.same_service(i, l, &h));
            let owner_changed = free.iter().copied().find(|&i| self.same_binding(i, l));
            claimed.extend(rebound.or(owner_changed));
            o.used.extend(rebound.or(owner_changed));
            o.drifts
                .push(self.listener_drift(l, h, rebound, owner_changed));
        }
    }

    /// Whether listener entry `i`'s address spec covers the socket's bind address.
    fn same_binding_addr(&self, i: usize, l: &Listening) -> bool {
        listener_addr_matches(&self.c.listeners[i].0, l.address)
    }

    /// The drift for a holder no entry matched exactly: rebound onto entry `rebound`, owner
    /// changed on entry `owner_changed`, else new.
    fn listener_drift(
        &self,
        l: &Listening,
        h: Holder,
        rebound: Option<usize>,
        owner_changed: Option<usize>,
    ) -> ((Category, String), Drift, Option<String>) {
        let (proto, port, exe, user) = (l.proto, l.port, h.exe, h.user);
        let bind = address_text(l.address, false);
        let entry = Listener {
            protocol: proto,
            address: bind.clone(),
            port: port.to_string(),
            exe: escape_glob(exe),
            user: Some(user.to_string()),
            container: (h.container != "host")
                .then(|| format!("{}:*", h.container.split(':').next().unwrap_or_default())),
            netns: super::scope_label(l.netns),
        };
        let key = listener_key(&entry);
        let as_new = format!(
            "{exe} ({user}) listens on {proto} {bind}:{port}, which the baseline does not have"
        );
        let (category, change, message) = if let Some(i) = rebound {
            let message = format!(
                "{exe} listens on {proto} {bind}:{port}; the baseline has it on {}",
                self.b.listeners[i].address
            );
            (
                Category::ListenerRebound,
                Change::ReplaceListener(i, entry),
                message,
            )
        } else if let Some(i) = owner_changed {
            let e = &self.b.listeners[i];
            let message = format!(
                "{proto} {bind}:{port} is held by {exe} ({user}); the baseline has {} ({})",
                e.exe,
                e.user.as_deref().unwrap_or("any user")
            );
            (
                Category::ListenerOwnerChanged,
                Change::ReplaceListener(i, entry),
                message,
            )
        } else {
            (
                Category::NewListener,
                Change::AddListener(entry),
                as_new.clone(),
            )
        };
        let drift = Drift {
            category,
            severity: self.b.severity(category),
            id: String::new(), // set once per finding when merged
            message,
            socket: Some(l.si),
            owners: h.owners,
            change,
        };
        ((category, key), drift, Some(as_new))
    }

    /// A connection this host opened: known when an outbound entry allows the peer.
    fn outbound(
        &self,
        si: usize,
        (proto, remote, port): (Proto, IpAddr, u16),
        h: Holder,
        o: &mut Outcome,
    ) {
        let known = self
            .c
            .outbound_index
            .candidates(proto, port)
            .into_iter()
            .any(|i| {
                let (net, ports, glob) = &self.c.outbound[i];
                ports.contains(port) && glob.is_match(h.exe) && net.matches(remote)
            });
        if known {
            o.known = true;
            return;
        }
        let entry = Outbound {
            protocol: proto,
            exe: escape_glob(h.exe),
            network: network_text(remote, false),
            port: port.to_string(),
        };
        let key = format!("{proto} {} {} {port}", entry.exe, entry.network);
        let change = Change::AddOutbound(entry);
        o.drifts.push((
            (Category::NewOutbound, key),
            Drift::unseen(self.b, si, h.owners, change),
            None,
        ));
    }

    /// A connection a local listener accepted: known when an inbound entry allows it.
    fn inbound(
        &self,
        si: usize,
        (proto, port, peer): (Proto, u16, IpAddr),
        h: Holder,
        o: &mut Outcome,
    ) {
        let known = self
            .c
            .inbound_index
            .candidates(proto, port)
            .into_iter()
            .any(|i| {
                let (peers, ports, glob) = &self.c.inbound[i];
                ports.contains(port)
                    && glob.is_match(h.exe)
                    && peers.as_ref().is_none_or(|p| p.matches(peer))
            });
        if known {
            o.known = true;
            return;
        }
        let exe = escape_glob(h.exe);
        let key = format!("{proto} {port} {exe}");
        let change = Change::AddInbound(Inbound {
            protocol: proto,
            port: port.to_string(),
            exe,
            peers: None,
        });
        o.drifts.push((
            (Category::NewInbound, key),
            Drift::unseen(self.b, si, h.owners, change),
            None,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn snap(container: Option<&str>) -> Snapshot {
        let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Listen, 7);
        s.local = Some(Endpoint {
            address: "0.0.0.0".parse().unwrap(),
            port: 6379,
        });
        s.remote = s.local;
        s.owners = smallvec::smallvec![Owner { pid: 10, fd: 3 }];
        let p = Process {
            pid: 10,
            ppid: 1,
            comm: ByteString::from("redis-server"),
            exe: Some(ByteString::from("/usr/bin/redis-server")),
            exe_deleted: false,
            exe_memfd: false,
            cmdline: vec![],
            uid: 999,
            euid: 999,
            user: Some("redis".into()),
            start_ticks: 0,
            cgroup: None,
            container: container.map(|id| Container {
                runtime: "docker".into(),
                id: id.into(),
                pod_uid: None,
            }),
            netns: None,
            ..Process::default()
        };
        Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: Meta::blank("h"),
            sockets: vec![s],
            processes: vec![p],
            namespaces: Vec::new(),
            warnings: vec![],
            gaps: vec![],
        }
    }

    #[test]
    fn container_scope() {
        let inside = snap(Some("4f1c9a2b3c4d"));
        let b = super::super::from_snapshot(
            &inside,
            super::super::Include {
                listeners: true,
                outbound: true,
                inbound: true,
                classes: false,
            },
            "",
        );
        assert_eq!(b.listeners[0].container.as_deref(), Some("docker:*"));
        let text = super::super::render(&b);
        assert!(text.contains("container: \"docker:*\""), "{text}");
        let (b, c) = super::super::parse("b.yaml", &text).unwrap();
        // Another container of the same runtime: known.
        assert!(
            compare(&b, &c, &snap(Some("77aa88bb99cc")))
                .drift
                .is_empty()
        );
        // The same exe on the host, outside any container: the owner changed.
        let d = compare(&b, &c, &snap(None)).drift;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].category, Category::ListenerOwnerChanged);
    }

    /// Regression (issue 11): a listener held by two executables made `update --accept all`
    /// swap the baseline's entry between them on every run.
    #[test]
    fn accepting_a_shared_listener_converges() {
        let mut shared = snap(None);
        let mut other = shared.processes[0].clone();
        other.pid = 11;
        other.exe = Some(ByteString::from("/usr/local/bin/sidecar"));
        shared.processes.push(other);
        shared.sockets[0].owners.push(Owner { pid: 11, fd: 4 });
        // The baseline knows the first holder only.
        let inc = super::super::Include {
            listeners: true,
            outbound: true,
            inbound: true,
            classes: false,
        };
        let text = super::super::render(&super::super::from_snapshot(&snap(None), inc, ""));
        let (mut b, mut c) = super::super::parse("b.yaml", &text).unwrap();
        let mut rounds = Vec::new();
        for _ in 0..3 {
            let d = compare(&b, &c, &shared).drift;
            rounds.push(d.iter().map(|d| d.category).collect::<Vec<_>>());
            apply(&mut b, &d.iter().map(|d| &d.change).collect::<Vec<_>>());
            (b, c) = super::super::parse("b.yaml", &super::super::render(&b)).unwrap();
        }
        assert_eq!(
            rounds,
            [vec![Category::NewListener], vec![], vec![]],
            "the second holder gets its own entry, once"
        );
        assert_eq!(b.listeners.len(), 2);
    }

    /// Drift ids are a contract (`--accept`, SARIF): the key text of docs/baseline.md, pinned.
    #[test]
    fn drift_ids_are_pinned() {
        let (b, c) = super::super::parse(
            "b.yaml",
            "version: 1\ncreated_at: \"2026-12-06T00:00:00Z\"\ntool_version: 0.1.0\nhost: h\n",
        )
        .unwrap();
        let d = compare(&b, &c, &snap(None)).drift;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].category, Category::NewListener);
        // sha256("new_listener\0tcp any 6379 /usr/bin/redis-server redis")[..16], by hashlib
        // (ADDRESS is the baseline text form: the wildcard bind is `any`).
        assert_eq!(d[0].id, "6a2c3c3955522470");
    }
}
