//! Joining the parts of one host's evidence into one snapshot.
//!
//! Parts are merged in a fixed order of trust (ss, then /proc/net copies, netstat, lsof, the
//! process listings), so the first part that tells a fact gives its value. A socket seen by
//! several parts is one socket: joined by inode when both know it, else (inet sockets) by
//! protocol and endpoints, v4-mapped addresses compared as IPv4, when exactly one socket fits.
//! What no part told for a socket becomes `meta.evidence.unknown` for its protocol; a table no
//! part lists completely becomes a gap.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::{Coverage, Facts, Format, Give, Gives, Part, canonical_ip};
use crate::model::{
    ByteString, Evidence, EvidencePart, Gap, Kind, Meta, Owner, Process, Protocol, SCHEMA_VERSION,
    Snapshot, Socket, Warning,
};

/// An owner whose fd the part does not show (netstat).
pub const UNKNOWN_FD: u32 = u32::MAX;

pub(super) struct Entry {
    pub socket: Socket,
    pub gives: Gives,
    /// The last part that matched this socket (a part matches a socket once).
    part: usize,
    /// Every part that listed it, by index, in merge order.
    pub parts: Vec<usize>,
    /// The processes whose fd listing (UAC's `ls -la /proc/PID/fd`) showed it, by pid.
    pub fd_listed: Vec<u32>,
}

pub(super) type EndsKey = (Protocol, IpAddr, u16, IpAddr, u16);

/// The key that joins a socket across parts when the inode does not: protocol and endpoints,
/// v4-mapped addresses as IPv4.
pub(super) fn ends_key(s: &Socket) -> Option<EndsKey> {
    let (l, r) = (s.local?, s.remote?);
    Some((
        s.protocol,
        canonical_ip(l.address),
        l.port,
        canonical_ip(r.address),
        r.port,
    ))
}

fn rank(f: Format) -> u8 {
    match f {
        Format::Ss => 0,
        Format::Procnet => 1,
        Format::Netstat => 2,
        Format::Lsof | Format::LsofF => 3,
        Format::Uac => 4,
    }
}

#[derive(Default)]
struct Merger {
    entries: Vec<Entry>,
    by_inode: HashMap<u64, usize>,
    by_ends: HashMap<EndsKey, Vec<usize>>,
}

impl Merger {
    fn add(&mut self, seen: super::Seen, part: usize) {
        let s = &seen.socket;
        let has_inode = seen.gives.has(Give::Inode) && s.inode != 0;
        let mut target = has_inode
            .then(|| self.by_inode.get(&s.inode).copied())
            .flatten();
        if target.is_none() && s.protocol.is_inet() {
            target = self.by_endpoints(s, has_inode, part);
        }
        match target {
            Some(i) => {
                self.entries[i].part = part;
                self.entries[i].parts.push(part);
                self.fill(i, seen);
            }
            None => {
                let i = self.entries.len();
                if has_inode {
                    self.by_inode.insert(s.inode, i);
                }
                if let Some(k) = ends_key(s) {
                    self.by_ends.entry(k).or_default().push(i);
                }
                self.entries.push(Entry {
                    socket: seen.socket,
                    gives: seen.gives,
                    part,
                    parts: vec![part],
                    fd_listed: Vec::new(),
                });
            }
        }
    }

    /// The one socket with the same protocol and endpoints that this part has not matched yet
    /// (and whose inode does not contradict); with several, the one in the same state.
    fn by_endpoints(&self, s: &Socket, has_inode: bool, part: usize) -> Option<usize> {
        let cands: Vec<usize> = self
            .by_ends
            .get(&ends_key(s)?)?
            .iter()
            .copied()
            .filter(|&i| self.entries[i].part != part)
            .filter(|&i| {
                let e = &self.entries[i];
                !(has_inode && e.gives.has(Give::Inode) && e.socket.inode != s.inode)
            })
            .collect();
        match cands.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let same: Vec<usize> = many
                    .iter()
                    .copied()
                    .filter(|&i| self.entries[i].socket.state == s.state)
                    .collect();
                (same.len() == 1).then(|| same[0])
            }
        }
    }

    /// Copies into entry `i` what `seen` tells that it does not know yet.
    fn fill(&mut self, i: usize, seen: super::Seen) {
        let e = &mut self.entries[i];
        let (t, n) = (&mut e.socket, seen.socket);
        for g in Give::ALL {
            if !seen.gives.has(g) || e.gives.has(g) {
                continue;
            }
            match g {
                Give::Owners => {}
                Give::Inode => {
                    t.inode = n.inode;
                    if n.inode != 0 {
                        self.by_inode.insert(n.inode, i);
                    }
                }
                Give::Uid => t.uid = n.uid,
                Give::Queues => (t.recv_q, t.send_q) = (n.recv_q, n.send_q),
                Give::Timer => t.timer = n.timer,
                Give::Memory => t.memory = n.memory.clone(),
                Give::Mark => t.mark = n.mark,
                Give::V6only => t.v6only = n.v6only,
                Give::Shutdown => t.shutdown = n.shutdown,
                Give::Interface => t.interface = n.interface.clone(),
                Give::UnixName => {
                    if let (Some(a), Some(b)) = (t.unix.as_mut(), n.unix.as_ref()) {
                        a.name = b.name.clone();
                        a.r#abstract = b.r#abstract;
                    }
                }
                Give::UnixPeer => {
                    if let (Some(a), Some(b)) = (t.unix.as_mut(), n.unix.as_ref()) {
                        a.peer = b.peer;
                    }
                }
                Give::Bpf => {
                    if let (Some(a), Some(b)) = (t.packet.as_mut(), n.packet.as_ref()) {
                        a.bpf = b.bpf.clone();
                    }
                }
            }
            e.gives.add(g);
        }
        t.cookie = t.cookie.or(n.cookie);
        t.ifindex = t.ifindex.or(n.ifindex);
        for o in n.owners {
            add_owner(&mut t.owners, o);
        }
    }
}

/// Adds `o`; an owner with a known fd replaces the same process's unknown-fd placeholder.
fn add_owner(owners: &mut crate::model::Owners, o: Owner) {
    if owners.contains(&o) {
        return;
    }
    if o.fd == UNKNOWN_FD && owners.iter().any(|x| x.pid == o.pid) {
        return;
    }
    owners.retain(|x| !(x.pid == o.pid && x.fd == UNKNOWN_FD));
    owners.push(o);
}

/// Joins the parts into one snapshot.
pub fn merge(mut parts: Vec<Part>) -> Snapshot {
    parts.sort_by_key(|p| rank(p.format));
    let counts: Vec<u64> = parts
        .iter()
        .map(|p| p.parsed.sockets.len() as u64)
        .collect();
    let attribution = parts.iter().any(|p| {
        p.parsed.sockets.iter().any(|s| s.gives.has(Give::Owners)) || !p.parsed.fds.is_empty()
    });
    let mut m = Merger::default();
    let mut facts: BTreeMap<u32, Facts> = BTreeMap::new();
    for (pi, part) in parts.iter_mut().enumerate() {
        for seen in std::mem::take(&mut part.parsed.sockets) {
            m.add(seen, pi);
        }
        for (pid, f) in &part.parsed.processes {
            facts.entry(*pid).or_default().absorb(f);
        }
    }
    apply_fd_listings(&mut m, &parts);
    let cross = super::crosscheck::check(&mut m.entries, &parts);
    let (sockets, gives): (Vec<Socket>, Vec<Gives>) =
        m.entries.into_iter().map(|e| (e.socket, e.gives)).unzip();
    let mut unknown = unknown_fields(&sockets, &gives, &facts);
    for (field, protocols) in &cross.undecided {
        let v = unknown.entry((*field).to_string()).or_default();
        v.extend(protocols);
        v.sort_unstable();
        v.dedup();
    }
    let processes = processes(&sockets, &facts);
    let mut meta = meta(&parts, &counts, attribution, unknown);
    if let Some(ev) = meta.evidence.as_mut() {
        for (ep, omitted) in ev.parts.iter_mut().zip(cross.omitted) {
            ep.omitted = omitted;
        }
    }
    meta.views = Some(cross.views);
    let mut warnings = warnings(&parts);
    warnings.extend(cross.warning);
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta,
        sockets,
        processes,
        namespaces: Vec::new(),
        warnings,
        gaps: gaps(&parts),
    };
    dedup(&mut snap);
    snap
}

/// UAC's `ls -la /proc/PID/fd` of every process: the complete set of holders of every socket
/// whose inode is known.
fn apply_fd_listings(m: &mut Merger, parts: &[Part]) {
    let fds: Vec<(u32, u32, u64)> = parts
        .iter()
        .flat_map(|p| p.parsed.fds.iter().copied())
        .collect();
    if fds.is_empty() {
        return;
    }
    for (pid, fd, inode) in fds {
        if let Some(&i) = m.by_inode.get(&inode) {
            add_owner(&mut m.entries[i].socket.owners, Owner { pid, fd });
            m.entries[i].fd_listed.push(pid);
        }
    }
    for e in &mut m.entries {
        if e.gives.has(Give::Inode) {
            e.gives.add(Give::Owners);
        }
    }
}

/// Which facts matter for a socket of this protocol (the others are absent in a live snapshot
/// too).
fn relevant(p: Protocol, g: Give) -> bool {
    match g {
        Give::Timer => p == Protocol::Tcp,
        Give::Mark | Give::V6only => p.is_inet(),
        Give::Interface => p.is_inet() || p.is_packet(),
        Give::UnixName | Give::UnixPeer => p.is_unix(),
        Give::Bpf => p.is_packet(),
        Give::Shutdown => !p.is_packet(),
        _ => true,
    }
}

/// Fields the evidence never gives for sockets of protocol `p`: kept by the kernel, printed by
/// no tool read here (`ss -i` is not imported), or a setting of the host (the ephemeral range).
/// Host facts (`host.*`, the configured resolvers) are not in any capture read here either.
fn never(p: Protocol) -> &'static [&'static str] {
    match p {
        Protocol::Tcp => &[
            "socket.tcp.*",
            "socket.local.ephemeral",
            "socket.remote.resolver",
            "host.*",
        ],
        Protocol::Udp => &["socket.local.ephemeral", "socket.remote.resolver", "host.*"],
        Protocol::Raw => &["socket.local.ephemeral", "host.*"],
        _ => &["host.*"],
    }
}

/// Process fields no importer reads.
const NEVER_PROCESS: &[&str] = &[
    "process.cgroup",
    "process.container.*",
    "process.netns",
    "parent.cgroup",
    "parent.container.*",
    "parent.netns",
    // The terminal, session, standard descriptors and loader environment of a process, and the
    // relays found through them: no tool's output carries them.
    "process.tty",
    "process.session",
    "process.pgrp",
    "process.fd0.*",
    "process.fd1.*",
    "process.fd2.*",
    "process.env.*",
    "process.relays.*",
    "process.ancestors.tty",
    "process.children.tty",
    "process.parent.tty",
    "process.parent.session",
    "process.parent.pgrp",
    "process.parent.fd0.*",
    "process.parent.fd1.*",
    "process.parent.fd2.*",
    "process.parent.env.*",
    "process.parent.cgroup",
    "process.parent.container.*",
    "process.parent.netns",
    "parent.tty",
    "parent.session",
    "parent.pgrp",
    "parent.fd0.*",
    "parent.fd1.*",
    "parent.fd2.*",
    "parent.env.*",
];

fn unknown_fields(
    sockets: &[Socket],
    gives: &[Gives],
    facts: &BTreeMap<u32, Facts>,
) -> BTreeMap<String, Vec<Protocol>> {
    // First per protocol: the facts some socket lacks, and the holders whose facts count (a
    // pass of bit operations over the sockets; names are built once per protocol and pid).
    let n = Protocol::ALL.len();
    let mut missing = vec![0u32; n];
    let mut seen = vec![false; n];
    let mut unknown_fd = vec![false; n];
    let mut holders: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    for (s, g) in sockets.iter().zip(gives) {
        let pi = s.protocol.index();
        seen[pi] = true;
        for give in Give::ALL {
            if relevant(s.protocol, give) && !g.has(give) {
                missing[pi] |= give.bit();
            }
        }
        if g.has(Give::Owners) {
            for o in &s.owners {
                unknown_fd[pi] |= o.fd == UNKNOWN_FD;
                holders[pi].insert(o.pid);
            }
        }
    }
    let mut per_pid: BTreeMap<u32, Vec<&'static str>> = BTreeMap::new();
    let mut out: BTreeMap<String, BTreeSet<Protocol>> = BTreeMap::new();
    for p in Protocol::ALL.into_iter().filter(|p| seen[p.index()]) {
        let pi = p.index();
        let mut names: Vec<&'static str> = never(p).to_vec();
        for give in Give::ALL.into_iter().filter(|g| missing[pi] & g.bit() != 0) {
            names.extend(give.fields());
        }
        if unknown_fd[pi] {
            names.push("fd");
        }
        if !holders[pi].is_empty() {
            names.extend(NEVER_PROCESS);
        }
        for pid in &holders[pi] {
            let v = per_pid
                .entry(*pid)
                .or_insert_with(|| process_unknowns(*pid, facts));
            names.extend(v.iter().copied());
        }
        for f in names {
            out.entry(f.to_string()).or_default().insert(p);
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

/// The fields one holder leaves unknown: its own missing facts, and `parent.*` unless the
/// evidence describes its parent as fully.
fn process_unknowns(pid: u32, facts: &BTreeMap<u32, Facts>) -> Vec<&'static str> {
    let f = facts.get(&pid).cloned().unwrap_or_default();
    let mut v = missing_process_facts(&f);
    let parent = f.ppid.and_then(|pp| facts.get(&pp));
    if !parent.is_some_and(|pf| missing_process_facts(pf).is_empty()) {
        v.push("parent.*");
    }
    v
}

/// The `process.*` fields one process's facts leave unknown.
fn missing_process_facts(f: &Facts) -> Vec<&'static str> {
    let mut v = Vec::new();
    if f.comm.is_none() || f.comm_truncated {
        v.push("process.comm");
    }
    if f.exe.is_none() {
        v.extend([
            "process.exe",
            "process.exe_name",
            "process.exe_deleted",
            "process.exe_memfd",
        ]);
    }
    if f.cmdline.is_none() {
        v.push("process.cmdline");
    }
    if f.uid.is_none() {
        v.extend(["process.uid", "socket.uid_is_holder"]);
    }
    if f.euid.is_none() {
        v.push("process.euid");
    }
    if f.user.is_none() {
        v.push("process.user");
    }
    if f.ppid.is_none() {
        v.push("process.ppid");
    }
    v
}

/// A process entry for every holder (what the evidence tells, placeholders for the rest, which
/// `meta.evidence.unknown` marks unknown), and for the parent of each when the evidence
/// describes it.
fn processes(sockets: &[Socket], facts: &BTreeMap<u32, Facts>) -> Vec<Process> {
    let mut pids: BTreeSet<u32> = sockets
        .iter()
        .flat_map(|s| s.owners.iter().map(|o| o.pid))
        .collect();
    let parents: Vec<u32> = pids
        .iter()
        .filter_map(|p| facts.get(p)?.ppid)
        .filter(|pp| facts.contains_key(pp))
        .collect();
    pids.extend(parents);
    pids.into_iter()
        .map(|pid| {
            let f = facts.get(&pid).cloned().unwrap_or_default();
            let exe_memfd = f
                .exe
                .as_ref()
                .is_some_and(|e| e.as_bytes().starts_with(b"/memfd:"));
            Process {
                pid,
                ppid: f.ppid.unwrap_or(0),
                comm: f
                    .comm
                    .or(f.label)
                    .unwrap_or_else(|| ByteString::from(Vec::new())),
                exe: f.exe,
                exe_deleted: f.exe_deleted,
                exe_memfd,
                cmdline: f.cmdline.unwrap_or_default(),
                uid: f.uid.unwrap_or(0),
                euid: f.euid.or(f.uid).unwrap_or(0),
                user: f.user,
                start_ticks: f.start_ticks.unwrap_or(0),
                // No capture gives the cgroup, container, namespace, terminal or descriptors.
                ..Process::default()
            }
        })
        .collect()
}

fn meta(
    parts: &[Part],
    counts: &[u64],
    attribution: bool,
    unknown: BTreeMap<String, Vec<Protocol>>,
) -> Meta {
    let mut meta = Meta::blank("");
    meta.hostname = parts
        .iter()
        .find_map(|p| p.parsed.hostname.clone())
        .unwrap_or_default();
    meta.privileged = false;
    meta.ip_local_port_range = None;
    meta.attribution = attribution;
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in parts {
        for (k, _) in &p.parsed.covers {
            sources
                .entry(k.name().to_string())
                .or_default()
                .push(format!("{} ({})", p.name, p.format));
        }
    }
    meta.sources = sources
        .into_iter()
        .map(|(k, v)| (k, format!("evidence: {}", v.join(", "))))
        .collect();
    meta.evidence = Some(Evidence {
        parts: parts
            .iter()
            .zip(counts)
            .map(|(p, n)| EvidencePart {
                file: p.name.clone(),
                format: p.format.name().to_string(),
                sockets: *n,
                skipped: p.parsed.skipped,
                taken: p.taken,
                omitted: Vec::new(),
            })
            .collect(),
        unknown,
    });
    meta
}

fn warnings(parts: &[Part]) -> Vec<Warning> {
    let mut out = Vec::new();
    let skipped: Vec<String> = parts
        .iter()
        .filter(|p| p.parsed.skipped > 0)
        .map(|p| format!("{}: {}", p.name, p.parsed.skipped))
        .collect();
    let total: u64 = parts.iter().map(|p| p.parsed.skipped).sum();
    if total > 0 {
        out.push(Warning {
            code: "evidence_lines_skipped".into(),
            count: total,
            message: format!(
                "lines of the evidence that did not parse were skipped (--lenient): {}",
                skipped.join(", ")
            ),
            pids: Vec::new(),
        });
    }
    let mut unsupported: BTreeMap<&str, u64> = BTreeMap::new();
    for p in parts {
        for (t, n) in &p.parsed.unsupported {
            *unsupported.entry(t).or_default() += n;
        }
    }
    if !unsupported.is_empty() {
        let list: Vec<String> = unsupported
            .iter()
            .map(|(t, n)| format!("{t}: {n}"))
            .collect();
        out.push(Warning {
            code: "evidence_unsupported".into(),
            count: unsupported.values().sum(),
            message: format!(
                "sockets of tables sockwarden does not model were left out: {}",
                list.join(", ")
            ),
            pids: Vec::new(),
        });
    }
    out
}

/// A table that no part lists completely is a gap.
fn gaps(parts: &[Part]) -> Vec<Gap> {
    let mut out = Vec::new();
    // Netlink sockets are not part of a snapshot's inventory (docs/snapshot.md): not a gap.
    for k in Kind::ALL.into_iter().filter(|k| *k != Kind::Netlink) {
        let covers: Vec<(Coverage, &str)> = parts
            .iter()
            .flat_map(|p| {
                p.parsed
                    .covers
                    .iter()
                    .filter(move |c| c.0 == k)
                    .map(move |c| (c.1, p.name.as_str()))
            })
            .collect();
        if covers.iter().any(|c| c.0 == Coverage::Complete) {
            continue;
        }
        let reason = if covers.is_empty() {
            format!("the evidence has no listing of {k} sockets")
        } else {
            let list: Vec<String> = covers
                .iter()
                .map(|(c, f)| format!("{f}: {}", c.why().unwrap_or_default()))
                .collect();
            format!(
                "the evidence lists {k} sockets only in part ({})",
                list.join("; ")
            )
        };
        out.push(Gap {
            scope: format!("table:{k}"),
            reason,
        });
    }
    out
}

/// Sockets the evidence cannot tell apart (same table, endpoints and state, no inode: two
/// SO_REUSEPORT listeners in `ss` without `-e`) are one socket with both sets of owners.
fn dedup(snap: &mut Snapshot) {
    snap.canonicalize();
    let mut out: Vec<Socket> = Vec::with_capacity(snap.sockets.len());
    let mut merged = 0;
    for s in std::mem::take(&mut snap.sockets) {
        match out.last_mut() {
            Some(last) if last.sort_key() == s.sort_key() => {
                for o in s.owners {
                    add_owner(&mut last.owners, o);
                }
                last.owners.sort_unstable();
                merged += 1;
            }
            _ => out.push(s),
        }
    }
    snap.sockets = out;
    if merged > 0 {
        snap.warnings.push(Warning {
            code: "evidence_indistinct".into(),
            count: merged,
            message: "sockets the evidence cannot tell apart (same table, endpoints and state, \
                      no inode) were counted as one"
                .into(),
            pids: Vec::new(),
        });
        snap.warnings.sort();
    }
}
