//! Comparing two snapshots (`sockwarden diff`): listeners, connections and processes added,
//! removed or changed, for pre/post-incident comparison. Pure: both snapshots are given.
//!
//! A listener is what [`super::role`] calls one, the same definition the baseline uses (TCP
//! LISTEN; unconnected UDP on a fixed, non-ephemeral port), with v4-mapped addresses folded.
//! Connections are every established or connecting TCP/UDP socket; processes are identified by
//! pid and start time.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

use serde::Serialize;

use super::{Proto, Role, holders, role};
use crate::model::{Endpoint, Snapshot, Socket, State};
use crate::report::endpoint_text;
use crate::text::escape_str;

crate::model::vocabulary! {
    /// The output formats of `sockwarden diff`.
    pub enum DiffFormat {
        /// `+`, `-`, `~` lines for a terminal, escaped.
        Table => "table",
        /// The [`SnapshotDiff`] document.
        Json => "json",
        /// A self-contained page with the changes and the later snapshot's graph
        /// (docs/report.md, "The HTML page").
        Html => "html",
    }
}

/// What changed between two snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotDiff {
    /// `HOST TAKEN_AT` of the earlier snapshot.
    pub old: String,
    /// `HOST TAKEN_AT` of the later snapshot.
    pub new: String,
    /// Listeners by `PROTO ADDRESS:PORT`, with their holders (`EXE (USER)`): added, removed, or
    /// held by others.
    pub listeners: Changes,
    /// Established and connecting TCP and UDP sockets by `PROTO LOCAL -> REMOTE`, with their
    /// holders.
    pub connections: Changes,
    /// Processes by `pid PID started TICKS`, with their exe and command line: added, removed, or
    /// running another executable or command line.
    pub processes: Changes,
}

/// Lines added, removed and changed in one part of a diff, sorted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    /// Keys only the later snapshot has, each with its value.
    pub added: Vec<String>,
    /// Keys only the earlier snapshot has, each with its value.
    pub removed: Vec<String>,
    /// Keys in both with another value: `KEY: OLD -> NEW`.
    pub changed: Vec<String>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl SnapshotDiff {
    /// Whether anything differs.
    pub fn differ(&self) -> bool {
        !(self.listeners.is_empty() && self.connections.is_empty() && self.processes.is_empty())
    }

    /// The diff for a terminal: `+`, `-`, `~` lines, escaped.
    pub fn render_table(&self) -> String {
        let mut o = format!(
            "old: {}\nnew: {}\n",
            escape_str(&self.old),
            escape_str(&self.new)
        );
        for (name, c) in [
            ("listeners", &self.listeners),
            ("connections", &self.connections),
            ("processes", &self.processes),
        ] {
            for (sign, list) in [("+", &c.added), ("-", &c.removed), ("~", &c.changed)] {
                for x in list {
                    let _ = writeln!(o, "{sign} {name}: {}", escape_str(x));
                }
            }
        }
        if !self.differ() {
            o.push_str("no differences\n");
        }
        o
    }
}

/// Compares `old` with `new`.
pub fn compare(old: &Snapshot, new: &Snapshot) -> SnapshotDiff {
    let (a, b) = (View::of(old), View::of(new));
    let set =
        |s: &BTreeSet<String>| format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", "));
    SnapshotDiff {
        old: format!("{} {}", old.meta.hostname, old.meta.taken_at),
        new: format!("{} {}", new.meta.hostname, new.meta.taken_at),
        listeners: changes(&a.listeners, &b.listeners, set),
        connections: changes(&a.connections, &b.connections, set),
        processes: changes(&a.processes, &b.processes, |s| s.clone()),
    }
}

/// One side of a diff: what identifies a listener, a connection or a process, and what it holds.
#[derive(Debug, Default)]
struct View {
    listeners: BTreeMap<String, BTreeSet<String>>,
    connections: BTreeMap<String, BTreeSet<String>>,
    processes: BTreeMap<String, String>,
}

impl View {
    fn of(s: &Snapshot) -> View {
        let mut v = View::default();
        let eph = s.ephemeral_ports();
        for sock in &s.sockets {
            let Some((part, key)) = socket_key(sock, eph) else {
                continue;
            };
            let holders: BTreeSet<String> = holders(s, sock)
                .into_iter()
                .map(|(exe, user, _)| format!("{exe} ({user})"))
                .collect();
            match part {
                Part::Listener => v.listeners.insert(key, holders),
                Part::Connection => v.connections.insert(key, holders),
            };
        }
        for p in &s.processes {
            let cmd: Vec<String> = p
                .cmdline
                .iter()
                .map(|a| a.to_str_lossy().into_owned())
                .collect();
            let exe = p
                .exe
                .as_ref()
                .map(|e| e.to_str_lossy().into_owned())
                .unwrap_or_else(|| "-".into());
            v.processes.insert(
                format!("pid {} started {}", p.pid, p.start_ticks),
                format!("{exe} [{}]", cmd.join(" ")),
            );
        }
        v
    }
}

/// Which part of a diff a socket is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Listener,
    Connection,
}

/// What identifies a socket in a diff: `PROTO LOCAL` for a listener, `PROTO LOCAL -> REMOTE`
/// for a connection; `None` for a socket a diff does not compare.
fn socket_key(sock: &Socket, eph: (u16, u16)) -> Option<(Part, String)> {
    let (Some(l), Some(proto)) = (sock.local, Proto::of(sock.protocol)) else {
        return None;
    };
    // Every TCP/UDP socket counts as a connection in a diff, whoever listens.
    let no_listeners = HashSet::new();
    if let Some(Role::Listener { address, port, .. }) = role(sock, eph, &no_listeners) {
        let local = endpoint_text(Some(Endpoint { address, port }));
        Some((Part::Listener, format!("{proto} {local}")))
    } else if matches!(sock.state, State::Established | State::SynSent) {
        let remote = endpoint_text(sock.remote);
        let local = endpoint_text(Some(l));
        Some((Part::Connection, format!("{proto} {local} -> {remote}")))
    } else {
        None
    }
}

/// The sockets of `new` (indexes) that a diff of `old` and `new` reports as added or changed:
/// a listener or connection `old` does not have, or has with other holders. The HTML page
/// marks them in the graph.
pub fn changed_sockets(old: &Snapshot, new: &Snapshot) -> Vec<usize> {
    let (a, b) = (View::of(old), View::of(new));
    let eph = new.ephemeral_ports();
    new.sockets
        .iter()
        .enumerate()
        .filter(|(_, sock)| match socket_key(sock, eph) {
            Some((Part::Listener, k)) => a.listeners.get(&k) != b.listeners.get(&k),
            Some((Part::Connection, k)) => a.connections.get(&k) != b.connections.get(&k),
            None => false,
        })
        .map(|(i, _)| i)
        .collect()
}

/// Keys added, removed, or present in both with another value.
fn changes<V: PartialEq>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    show: impl Fn(&V) -> String,
) -> Changes {
    let mut c = Changes::default();
    for (k, v) in new {
        match old.get(k) {
            None => c.added.push(format!("{k} {}", show(v))),
            Some(o) if o != v => c.changed.push(format!("{k}: {} -> {}", show(o), show(v))),
            _ => {}
        }
    }
    for (k, v) in old {
        if !new.contains_key(k) {
            c.removed.push(format!("{k} {}", show(v)));
        }
    }
    c
}
