//! Building a baseline from a snapshot: which sockets become listener, outbound and inbound
//! entries, how addresses, executables and containers are written, and what is left out (pids,
//! inodes, ephemeral ports), so that the same state always gives the same file.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{
    BASELINE_VERSION, Baseline, Inbound, Listener, Outbound, Proto, Role, address_text, role,
};
use crate::model::{Snapshot, State};
use crate::net::{AddressClass, address_class, canonical};

/// Options for building a baseline from a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Include {
    /// Write listener entries (TCP LISTEN, unconnected UDP on a fixed port).
    pub listeners: bool,
    /// Write outbound entries (connections from an ephemeral local port).
    pub outbound: bool,
    /// Write inbound entries (connections accepted on a port something listens on).
    pub inbound: bool,
    /// Write specific addresses as their class (private, public, ...), for fleets.
    pub classes: bool,
}

/// Builds the baseline of a snapshot.
pub fn from_snapshot(snap: &Snapshot, inc: Include, comment: &str) -> Baseline {
    let eph = snap.ephemeral_ports();
    let listening = listening_ports(snap);
    let mut b = Baseline {
        version: BASELINE_VERSION,
        created_at: snap.meta.taken_at.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        host: snap.meta.hostname.clone(),
        comment: comment.to_string(),
        severity: BTreeMap::new(),
        listeners: Vec::new(),
        outbound: Vec::new(),
        inbound: Vec::new(),
        accepted: Vec::new(),
    };
    for s in &snap.sockets {
        let Some(role) = role(s, eph, &listening) else {
            continue;
        };
        for (exe, user, container) in holders(snap, s) {
            // A containerised holder is scoped to its runtime (its id changes on every restart).
            let container = (container != "host")
                .then(|| format!("{}:*", container.split(':').next().unwrap_or_default()));
            match role {
                Role::Listener {
                    proto,
                    address,
                    port,
                } if inc.listeners => b.listeners.push(Listener {
                    protocol: proto,
                    address: address_text(address, inc.classes),
                    port: port.to_string(),
                    exe: escape_glob(&exe),
                    user: Some(user.clone()),
                    container: container.clone(),
                    netns: scope_label(&snap.netns_label(s.netns)),
                }),
                Role::Outbound {
                    proto,
                    remote,
                    port,
                } if inc.outbound => b.outbound.push(Outbound {
                    protocol: proto,
                    exe: escape_glob(&exe),
                    network: network_text(remote, inc.classes),
                    port: port.to_string(),
                }),
                Role::Inbound { proto, port, .. } if inc.inbound => b.inbound.push(Inbound {
                    protocol: proto,
                    port: port.to_string(),
                    exe: escape_glob(&exe),
                    peers: None,
                }),
                _ => {}
            }
        }
    }
    b.sort();
    b
}

/// The namespace scope a new listener entry gets: none for the host's own namespace, the name
/// of a named one, `ns:*` for an anonymous one (its inode changes with every boot).
pub fn scope_label(label: &str) -> Option<String> {
    match label {
        "host" => None,
        l if l.starts_with("ns:") => Some("ns:*".into()),
        l => Some(l.to_string()),
    }
}

/// A remote peer as written in a baseline: loopback as a class, others exact (or as a class).
pub fn network_text(a: IpAddr, classes: bool) -> String {
    let a = canonical(a);
    match address_class(a) {
        AddressClass::Loopback => "loopback".into(),
        c if classes => c.name().into(),
        _ => a.to_string(),
    }
}

/// Every (protocol, port) a TCP socket listens on in a snapshot, for telling accepted
/// connections apart.
pub fn listening_ports(snap: &Snapshot) -> std::collections::HashSet<(Proto, u16)> {
    snap.sockets
        .iter()
        .filter(|s| s.state == State::Listen)
        .filter_map(|s| Some((Proto::of(s.protocol)?, s.local?.port)))
        .collect()
}

/// The container a process runs in, as baseline entries scope it: `RUNTIME:ID`, or `host`.
pub fn container_text(p: &crate::model::Process) -> String {
    p.container
        .as_ref()
        .map_or_else(|| "host".to_string(), |c| format!("{}:{}", c.runtime, c.id))
}

/// (exe, user, container) of each holder, `-` when unknown; one `("-", "-", "host")` for a
/// socket nobody holds.
pub fn holders(snap: &Snapshot, s: &crate::model::Socket) -> Vec<(String, String, String)> {
    if s.owners.is_empty() {
        return vec![("-".into(), "-".into(), "host".into())];
    }
    let mut v: Vec<(String, String, String)> = s
        .owners
        .iter()
        .map(|o| match snap.process(o.pid) {
            Some(p) => (
                p.exe
                    .as_ref()
                    .map(|e| e.to_str_lossy().into_owned())
                    .unwrap_or_else(|| "-".into()),
                p.user.clone().unwrap_or_else(|| p.uid.to_string()),
                container_text(p),
            ),
            None => ("-".into(), "-".into(), "host".into()),
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Escapes glob metacharacters so a recorded path matches only itself.
pub fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}
