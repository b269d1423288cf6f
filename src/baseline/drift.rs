//! Drift: how a snapshot differs from a baseline, as findings with a category, a severity and a
//! stable id, and the change that would accept each one.
//!
//! A current listener is matched against the baseline in three steps: an entry that matches it
//! fully (known); else an entry with the same protocol, port, executable and user but another
//! address (rebound, e.g. 127.0.0.1 → 0.0.0.0); else an entry with the same protocol, port and
//! address but another executable or user (owner changed); else it is new. A listener entry that
//! nothing matched is gone. Outbound peers and inbound services are known or new.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::{
    AddrSpec, Baseline, Category, Compiled, Inbound, Listener, Outbound, Role, address_text,
    escape_glob, holders, listening_ports, network_text, role,
};
use crate::model::{Owner, Snapshot};
use crate::rules::Severity;

/// What accepting a drift finding changes in the baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    AddListener(Listener),
    /// Replace listener entry `index` with a new one (rebound, owner changed).
    ReplaceListener(usize, Listener),
    RemoveListener(usize),
    AddOutbound(Outbound),
    AddInbound(Inbound),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub category: Category,
    pub severity: Severity,
    /// Stable across runs: category and what identifies the entry (no pids, no inodes).
    pub id: String,
    /// One line saying what changed.
    pub message: String,
    /// Index into the snapshot's sockets (none for a listener that is gone).
    pub socket: Option<usize>,
    pub owners: Vec<Owner>,
    pub change: Change,
    /// Indexes of the sockets the baseline knows (for suppressing non-critical rule findings).
    pub known: bool,
}

fn listener_addr_matches(spec: &AddrSpec, a: IpAddr) -> bool {
    match spec {
        // For a bind address, `any` is the wildcard bind, not "whatever address".
        AddrSpec::Any => a.is_unspecified(),
        s => s.matches(a),
    }
}

fn id(category: Category, key: &str) -> String {
    let digest = super::sha256_hex(format!("{}\0{key}", category.name()).as_bytes());
    digest[..16].to_string()
}

/// The result of comparing a snapshot with a baseline.
#[derive(Debug, Default)]
pub struct Comparison {
    pub drift: Vec<Drift>,
    /// Sockets that match a baseline entry exactly.
    pub known_sockets: BTreeSet<usize>,
}

/// Compares `snap` with the baseline `b` (compiled as `c`).
pub fn compare(b: &Baseline, c: &Compiled, snap: &Snapshot) -> Comparison {
    let eph = snap.meta.ip_local_port_range.unwrap_or((32768, 60999));
    let listening = listening_ports(snap);
    let mut used = vec![false; b.listeners.len()];
    let mut out = Comparison::default();
    // (category, key) → drift, so one change seen through several sockets is one finding.
    let mut found: BTreeMap<(Category, String), Drift> = BTreeMap::new();
    for (si, s) in snap.sockets.iter().enumerate() {
        let Some(r) = role(s, eph, &listening) else {
            continue;
        };
        for (exe, user) in holders(snap, s) {
            let owners: Vec<Owner> = s
                .owners
                .iter()
                .filter(|o| {
                    snap.process(o.pid)
                        .and_then(|p| p.exe.as_ref())
                        .map(|e| e.to_str_lossy().into_owned())
                        .unwrap_or_else(|| "-".into())
                        == exe
                })
                .copied()
                .collect();
            match r {
                Role::Listener {
                    proto,
                    address,
                    port,
                } => {
                    let same_service = |i: usize| {
                        let e = &b.listeners[i];
                        let (_, ports, glob) = &c.listeners[i];
                        e.protocol == proto
                            && ports.contains(port)
                            && glob.is_match(&exe)
                            && e.user.as_deref().is_none_or(|u| u == user)
                    };
                    let exact = (0..b.listeners.len()).find(|&i| {
                        same_service(i) && listener_addr_matches(&c.listeners[i].0, address)
                    });
                    let entry = Listener {
                        protocol: proto,
                        address: address_text(address, false),
                        port: port.to_string(),
                        exe: escape_glob(&exe),
                        user: Some(user.clone()),
                    };
                    if let Some(i) = exact {
                        used[i] = true;
                        out.known_sockets.insert(si);
                        continue;
                    }
                    let rebound = (0..b.listeners.len()).find(|&i| same_service(i));
                    let owner_changed = (0..b.listeners.len()).find(|&i| {
                        let e = &b.listeners[i];
                        let (addr, ports, _) = &c.listeners[i];
                        e.protocol == proto
                            && ports.contains(port)
                            && listener_addr_matches(addr, address)
                    });
                    let (category, change, message) = if let Some(i) = rebound {
                        used[i] = true;
                        (
                            Category::ListenerRebound,
                            Change::ReplaceListener(i, entry.clone()),
                            format!(
                                "{exe} listens on {} {}:{port}; the baseline has it on {}",
                                proto_name(proto),
                                address_text(address, false),
                                b.listeners[i].address
                            ),
                        )
                    } else if let Some(i) = owner_changed {
                        used[i] = true;
                        let e = &b.listeners[i];
                        (
                            Category::ListenerOwnerChanged,
                            Change::ReplaceListener(i, entry.clone()),
                            format!(
                                "{} {}:{port} is held by {exe} ({user}); the baseline has {} ({})",
                                proto_name(proto),
                                address_text(address, false),
                                e.exe,
                                e.user.as_deref().unwrap_or("any user")
                            ),
                        )
                    } else {
                        (
                            Category::NewListener,
                            Change::AddListener(entry.clone()),
                            format!(
                                "{exe} ({user}) listens on {} {}:{port}, which the baseline does not have",
                                proto_name(proto),
                                address_text(address, false)
                            ),
                        )
                    };
                    let key = format!("{proto:?} {} {port} {exe} {user}", entry.address);
                    found.entry((category, key.clone())).or_insert(Drift {
                        category,
                        severity: b.severity(category),
                        id: id(category, &key),
                        message,
                        socket: Some(si),
                        owners,
                        change,
                        known: false,
                    });
                }
                Role::Outbound {
                    proto,
                    remote,
                    port,
                } => {
                    let known =
                        b.outbound
                            .iter()
                            .zip(&c.outbound)
                            .any(|(e, (net, ports, glob))| {
                                e.protocol == proto
                                    && ports.contains(port)
                                    && glob.is_match(&exe)
                                    && net.matches(remote)
                            });
                    if known {
                        out.known_sockets.insert(si);
                        continue;
                    }
                    let network = network_text(remote, false);
                    let key = format!("{proto:?} {exe} {network} {port}");
                    found
                        .entry((Category::NewOutbound, key.clone()))
                        .or_insert(Drift {
                            category: Category::NewOutbound,
                            severity: b.severity(Category::NewOutbound),
                            id: id(Category::NewOutbound, &key),
                            message: format!(
                                "{exe} connects to {network} port {port} ({}), which the baseline does not have",
                                proto_name(proto)
                            ),
                            socket: Some(si),
                            owners,
                            change: Change::AddOutbound(Outbound {
                                protocol: proto,
                                exe: escape_glob(&exe),
                                network,
                                port: port.to_string(),
                            }),
                            known: false,
                        });
                }
                Role::Inbound { proto, port, peer } => {
                    let known =
                        b.inbound
                            .iter()
                            .zip(&c.inbound)
                            .any(|(e, (peers, ports, glob))| {
                                e.protocol == proto
                                    && ports.contains(port)
                                    && glob.is_match(&exe)
                                    && peers.as_ref().is_none_or(|p| p.matches(peer))
                            });
                    if known {
                        out.known_sockets.insert(si);
                        continue;
                    }
                    let key = format!("{proto:?} {port} {exe}");
                    found
                        .entry((Category::NewInbound, key.clone()))
                        .or_insert(Drift {
                            category: Category::NewInbound,
                            severity: b.severity(Category::NewInbound),
                            id: id(Category::NewInbound, &key),
                            message: format!(
                                "{exe} accepts {} connections on port {port}, which the baseline does not have",
                                proto_name(proto)
                            ),
                            socket: Some(si),
                            owners,
                            change: Change::AddInbound(Inbound {
                                protocol: proto,
                                port: port.to_string(),
                                exe: escape_glob(&exe),
                                peers: None,
                            }),
                            known: false,
                        });
                }
            }
        }
    }
    for (i, e) in b.listeners.iter().enumerate() {
        if used[i] {
            continue;
        }
        let key = format!(
            "{:?} {} {} {} {}",
            e.protocol,
            e.address,
            e.port,
            e.exe,
            e.user.as_deref().unwrap_or("")
        );
        found
            .entry((Category::ListenerGone, key.clone()))
            .or_insert(Drift {
                category: Category::ListenerGone,
                severity: b.severity(Category::ListenerGone),
                id: id(Category::ListenerGone, &key),
                message: format!(
                    "the baseline's listener {} {}:{} ({}) is not there",
                    proto_name(e.protocol),
                    e.address,
                    e.port,
                    e.exe
                ),
                socket: None,
                owners: Vec::new(),
                change: Change::RemoveListener(i),
                known: false,
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

fn proto_name(p: super::Proto) -> &'static str {
    match p {
        super::Proto::Tcp => "tcp",
        super::Proto::Udp => "udp",
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
