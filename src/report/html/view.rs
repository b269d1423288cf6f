//! What the page's graph and tables show of a snapshot: the processes that hold network
//! sockets, the listeners, the remote peers and the connections between them, counted once
//! over every socket, in sorted maps (the page's order never depends on a hash).
//!
//! A listener is what baselines call one ([`crate::baseline::role`]: TCP LISTEN, unconnected
//! UDP on a fixed port), plus every packet socket (they receive the host's traffic) and a unix
//! listener only when a finding is on it (a desktop holds hundreds; they carry no peer). An
//! established or connecting TCP/UDP socket is an inbound connection when it is on a local
//! listener's port, else an outbound one; sockets in other states are counted on their holder
//! only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use crate::baseline::{Proto, Role};
use crate::model::{Protocol, Snapshot, Socket, State};
use crate::rules::Severity;

/// How a socket is marked on the page: a finding on it (its worst severity), or a change
/// (`diff`). Ordered: a finding outranks a change, a worse severity a milder one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// Added or changed since the earlier snapshot.
    Changed,
    /// A finding of this severity.
    Finding(Severity),
}

impl Mark {
    /// The CSS class that colours a marked node, edge or row.
    pub fn class(self) -> &'static str {
        match self {
            Mark::Changed => "mark-changed",
            Mark::Finding(Severity::Critical) => "mark-critical",
            Mark::Finding(Severity::High) => "mark-high",
            Mark::Finding(Severity::Medium) => "mark-medium",
            Mark::Finding(Severity::Low) => "mark-low",
            Mark::Finding(Severity::Info) => "mark-info",
        }
    }
}

/// Keeps the worse of two marks.
fn worst(slot: &mut Option<Mark>, m: Option<Mark>) {
    if m > *slot {
        *slot = m;
    }
}

/// A process holding network sockets, with its counts.
#[derive(Debug, Default)]
pub struct ProcStat {
    /// Sockets it holds (of every kind).
    pub sockets: usize,
    /// Listeners among them.
    pub listening: usize,
    /// Inbound connections among them.
    pub inbound: usize,
    /// Outbound connections among them.
    pub outbound: usize,
    /// The worst mark of the findings (or changes) that name it as a holder: a socket's other
    /// holders are not marked by its finding.
    pub mark: Option<Mark>,
    /// Whether it holds a socket the graph shows (a listener or a connection).
    pub networked: bool,
}

/// What identifies a listener node: namespace, table, then address and port or name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenKey {
    /// The network namespace's inode (several namespaces only).
    pub netns: Option<u64>,
    /// The socket's table.
    pub protocol: Protocol,
    /// The bind address (IPv4 for a v4-mapped one) and port, for TCP and UDP.
    pub inet: Option<(IpAddr, u16)>,
    /// The unix name (exact bytes), or the packet socket's ethertype and interface.
    pub other: Vec<u8>,
}

/// A listener node: its holders and the inbound connections on its port.
#[derive(Debug)]
pub struct Listener {
    /// Its identity.
    pub key: ListenKey,
    /// The label, with control and invisible characters made visible (not HTML-escaped).
    pub label: String,
    /// Holders' pids.
    pub holders: BTreeSet<u32>,
    /// Connections accepted on its port.
    pub conns: usize,
    /// The worst mark on it (the connections it accepted mark their own edges and peers).
    pub mark: Option<Mark>,
}

/// A remote address, with the connections to or from it.
#[derive(Debug, Default)]
pub struct Peer {
    /// Connections.
    pub conns: usize,
    /// Local processes at the other end.
    pub pids: BTreeSet<u32>,
    /// Remote ports (outbound) or local ports (inbound) used.
    pub ports: BTreeSet<u16>,
    /// The worst mark on any of its connections.
    pub mark: Option<Mark>,
}

/// Connections along one edge of the graph.
#[derive(Debug, Default)]
pub struct Edge {
    /// How many.
    pub conns: usize,
    /// The ports they use (the remote port outbound, the local port inbound).
    pub ports: BTreeSet<u16>,
    /// The worst mark among them.
    pub mark: Option<Mark>,
}

/// The snapshot as the graph and the tables see it.
#[derive(Debug, Default)]
pub struct HostView {
    /// Processes that hold sockets, by pid.
    pub procs: BTreeMap<u32, ProcStat>,
    /// Listener nodes, sorted by key.
    pub listeners: Vec<Listener>,
    /// Peers that connected to a local listener.
    pub peers_in: BTreeMap<IpAddr, Peer>,
    /// Peers local clients connect to.
    pub peers_out: BTreeMap<IpAddr, Peer>,
    /// Inbound connections: (peer, listener index).
    pub edges_in: BTreeMap<(IpAddr, usize), Edge>,
    /// Outbound connections: (pid, peer).
    pub edges_out: BTreeMap<(u32, IpAddr), Edge>,
    /// Accepted connections by the process holding them: (listener index, pid).
    pub accepted: BTreeMap<(usize, u32), Edge>,
    /// Connections held by no process (no edge to draw).
    pub unowned: usize,
}

impl HostView {
    /// Counts `snap`'s sockets; `marks` gives the mark of a socket by its index, `pid_marks`
    /// the mark of the processes a finding (or change) names as holders.
    pub fn of(
        snap: &Snapshot,
        marks: &BTreeMap<usize, Mark>,
        pid_marks: &BTreeMap<u32, Mark>,
    ) -> HostView {
        let mut v = HostView::default();
        v.add_listeners(snap, marks);
        v.add_connections(snap, marks);
        for (pid, m) in pid_marks {
            if let Some(p) = v.procs.get_mut(pid) {
                worst(&mut p.mark, Some(*m));
            }
        }
        v
    }

    /// Counts every socket on its holders, and gathers the listener nodes.
    fn add_listeners(&mut self, snap: &Snapshot, marks: &BTreeMap<usize, Mark>) {
        let v = self;
        let eph = snap.ephemeral_ports();
        let mut index: BTreeMap<ListenKey, Listener> = BTreeMap::new();
        for (i, s) in snap.sockets.iter().enumerate() {
            let mark = marks.get(&i).copied();
            for o in &s.owners {
                v.procs.entry(o.pid).or_default().sockets += 1;
            }
            if let Some(key) = listen_key(s, eph, mark.is_some()) {
                let l = index.entry(key).or_insert_with_key(|k| Listener {
                    label: listener_label(k),
                    key: k.clone(),
                    holders: BTreeSet::new(),
                    conns: 0,
                    mark: None,
                });
                worst(&mut l.mark, mark);
                for o in &s.owners {
                    l.holders.insert(o.pid);
                    let p = v.procs.get_mut(&o.pid).expect("counted above");
                    p.listening += 1;
                    p.networked = true;
                }
            }
        }
        v.listeners = index.into_values().collect();
    }

    /// Counts the connections: on a listener and its peer when inbound, on the holder and its
    /// peer when outbound.
    fn add_connections(&mut self, snap: &Snapshot, marks: &BTreeMap<usize, Mark>) {
        let v = self;
        let eph = snap.ephemeral_ports();
        let listening = crate::baseline::listening_ports(snap);
        // Inbound connections go to the first listener node on their port.
        let mut by_port: HashMap<(Option<u64>, Proto, u16), usize> = HashMap::new();
        for (i, l) in v.listeners.iter().enumerate() {
            if let (Some(proto), Some((_, port))) = (Proto::of(l.key.protocol), l.key.inet) {
                by_port.entry((l.key.netns, proto, port)).or_insert(i);
            }
        }
        for (i, s) in snap.sockets.iter().enumerate() {
            if !matches!(s.state, State::Established | State::SynSent) {
                continue;
            }
            let (Some(proto), Some(local), Some(remote)) =
                (Proto::of(s.protocol), s.local, s.remote)
            else {
                continue;
            };
            let mark = marks.get(&i).copied();
            match crate::baseline::role(s, eph, &listening) {
                Some(Role::Inbound { port, peer, .. }) => {
                    let Some(&li) = by_port.get(&(s.netns, proto, port)) else {
                        continue;
                    };
                    v.listeners[li].conns += 1;
                    let peer_stat = v.peers_in.entry(peer).or_default();
                    count(peer_stat, &s.owners, local.port, mark);
                    let e = v.edges_in.entry((peer, li)).or_default();
                    add(e, local.port, mark);
                    for o in &s.owners {
                        add(v.accepted.entry((li, o.pid)).or_default(), local.port, mark);
                        let p = v.procs.get_mut(&o.pid).expect("counted above");
                        p.inbound += 1;
                        p.networked = true;
                    }
                }
                _ => {
                    let peer = crate::net::canonical(remote.address);
                    let peer_stat = v.peers_out.entry(peer).or_default();
                    count(peer_stat, &s.owners, remote.port, mark);
                    if s.owners.is_empty() {
                        v.unowned += 1;
                    }
                    for o in &s.owners {
                        add(
                            v.edges_out.entry((o.pid, peer)).or_default(),
                            remote.port,
                            mark,
                        );
                        let p = v.procs.get_mut(&o.pid).expect("counted above");
                        p.outbound += 1;
                        p.networked = true;
                    }
                }
            }
        }
    }
}

fn count(p: &mut Peer, owners: &[crate::model::Owner], port: u16, mark: Option<Mark>) {
    p.conns += 1;
    p.pids.extend(owners.iter().map(|o| o.pid));
    p.ports.insert(port);
    worst(&mut p.mark, mark);
}

fn add(e: &mut Edge, port: u16, mark: Option<Mark>) {
    e.conns += 1;
    e.ports.insert(port);
    worst(&mut e.mark, mark);
}

/// The listener node a socket belongs to, if it is one (see the module docs); a unix
/// listener only when `marked`.
fn listen_key(s: &Socket, eph: (u16, u16), marked: bool) -> Option<ListenKey> {
    let no_listeners = std::collections::HashSet::new();
    let mut key = ListenKey {
        netns: s.netns,
        protocol: s.protocol,
        inet: None,
        other: Vec::new(),
    };
    if let Some(Role::Listener { address, port, .. }) = crate::baseline::role(s, eph, &no_listeners)
    {
        key.inet = Some((address, port));
        return Some(key);
    }
    if let Some(p) = &s.packet {
        key.other = format!(
            "ethertype 0x{:04x}{}",
            p.ethertype,
            s.interface
                .as_deref()
                .map(|i| format!(" dev {i}"))
                .unwrap_or_default()
        )
        .into_bytes();
        return Some(key);
    }
    if marked && s.protocol.is_unix() && s.state == State::Listen {
        let u = s.unix.as_ref()?;
        key.other = if u.r#abstract {
            b"@".to_vec()
        } else {
            Vec::new()
        };
        key.other
            .extend_from_slice(u.name.as_ref().map(|n| n.as_bytes()).unwrap_or(b"?"));
        return Some(key);
    }
    None
}

/// `tcp 0.0.0.0:80`, `p_raw ethertype 0x0003`, `u_str /run/x.sock`, with control and
/// invisible characters made visible.
fn listener_label(k: &ListenKey) -> String {
    let what = match k.inet {
        Some((a, p)) => crate::report::endpoint_text(Some(crate::model::Endpoint {
            address: a,
            port: p,
        })),
        None => crate::text::escape(&k.other),
    };
    format!("{} {what}", k.protocol.netid())
}
