//! Comparing two snapshots (`sockwarden diff`): listeners, connections and processes added,
//! removed or changed, for pre/post-incident comparison. Pure: both snapshots are given.
//!
//! A listener is what [`super::role`] calls one, the same definition the baseline uses (TCP
//! LISTEN; unconnected UDP on a fixed, non-ephemeral port), with v4-mapped addresses folded.
//! Connections are every established or connecting TCP/UDP socket; processes are identified by
//! pid and start time. Several sockets with one key (`SO_REUSEPORT` workers on one port) are one
//! listener, held by all their holders.
//!
//! Each line of the diff is also a [`Change`] with its socket and holders resolved: what `scan
//! --since-last --format jsonl` writes as one change event (docs/history.md).

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Proto, Role, holders, role};
use crate::baseline::Directions;
use crate::model::{Endpoint, Owner, Process, Snapshot, Socket, State};
use crate::report::{ProcessRef, SocketRef, endpoint_text, process_refs, socket_ref};
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
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    /// Every line above as a change with its socket and holders, in the order of the table
    /// (listeners, connections, processes; added, removed, changed). Not in the JSON document:
    /// the JSON Lines report writes each as an event.
    #[serde(skip)]
    pub events: Vec<Change>,
}

/// Lines added, removed and changed in one part of a diff, sorted.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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

    fn list(&mut self, action: Action) -> &mut Vec<String> {
        match action {
            Action::Added => &mut self.added,
            Action::Removed => &mut self.removed,
            Action::Changed => &mut self.changed,
        }
    }
}

crate::model::vocabulary! {
    /// The part of a diff a change belongs to.
    pub enum Part {
        /// A listening socket, by protocol, address and port.
        Listener => "listener",
        /// An established or connecting TCP or UDP socket, by both ends: a peer.
        Connection => "connection",
        /// A process (a holder, or a holder's parent), by pid and start time.
        Process => "process",
    }
}

crate::model::vocabulary! {
    /// What happened to a listener, connection or process between the two snapshots.
    pub enum Action {
        /// Only the later snapshot has it.
        Added => "added",
        /// Only the earlier snapshot has it.
        Removed => "removed",
        /// Both have it, with other holders (a socket) or another exe or command line (a process).
        Changed => "changed",
    }
}

/// One line of a diff, resolved: the socket or process it names, in the later snapshot (the
/// earlier one for something removed), with its holders.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Change {
    /// Listener, connection or process.
    pub part: Part,
    /// Added, removed or changed.
    pub action: Action,
    /// The line exactly as the diff's list has it (`KEY VALUE`, or `KEY: OLD -> NEW`).
    pub line: String,
    /// Listeners and connections: the socket (the first, for a listener of several sockets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<SocketRef>,
    /// Listeners and connections: every holder of its sockets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessRef>,
    /// A changed listener or connection: its holders in the earlier snapshot.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previous_processes: Vec<ProcessRef>,
    /// Processes: the process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// A changed process: the process in the earlier snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_process: Option<Process>,
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
    let mut d = SnapshotDiff {
        old: format!("{} {}", old.meta.hostname, old.meta.taken_at),
        new: format!("{} {}", new.meta.hostname, new.meta.taken_at),
        listeners: Changes::default(),
        connections: Changes::default(),
        processes: Changes::default(),
        events: Vec::new(),
    };
    let sides = Sides {
        old,
        new,
        roles: (OnceCell::new(), OnceCell::new()),
    };
    let set =
        |s: &BTreeSet<String>| format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", "));
    for (part, (x, y)) in [
        (Part::Listener, (&a.listeners, &b.listeners)),
        (Part::Connection, (&a.connections, &b.connections)),
    ] {
        for (action, line, was, is) in changes(x, y, |e| set(&e.holders)) {
            d.events
                .push(sides.socket_change(part, action, line, was, is));
        }
    }
    for (action, line, was, is) in changes(&a.processes, &b.processes, |e| e.text.clone()) {
        d.events.push(Change {
            part: Part::Process,
            action,
            line,
            socket: None,
            processes: Vec::new(),
            previous_processes: Vec::new(),
            process: match (was, is) {
                (_, Some(e)) => Some(new.processes[e.index].clone()),
                (Some(e), None) => Some(old.processes[e.index].clone()),
                (None, None) => None,
            },
            previous_process: match action {
                Action::Changed => was.map(|e| old.processes[e.index].clone()),
                _ => None,
            },
        });
    }
    for e in &d.events {
        let part = match e.part {
            Part::Listener => &mut d.listeners,
            Part::Connection => &mut d.connections,
            Part::Process => &mut d.processes,
        };
        part.list(e.action).push(e.line.clone());
    }
    d
}

/// The two snapshots of a diff, and their sockets' directions, told only when a socket changed.
struct Sides<'a> {
    old: &'a Snapshot,
    new: &'a Snapshot,
    roles: (OnceCell<Directions>, OnceCell<Directions>),
}

impl Sides<'_> {
    /// A listener or connection change: its first socket and every holder, from the later
    /// snapshot when it has the key, else the earlier; a change's earlier holders too.
    fn socket_change(
        &self,
        part: Part,
        action: Action,
        line: String,
        was: Option<&SockEntry>,
        is: Option<&SockEntry>,
    ) -> Change {
        let (snap, roles, entry) = match is {
            Some(e) => (self.new, &self.roles.1, e),
            None => (self.old, &self.roles.0, was.expect("a change has a side")),
        };
        let roles = roles.get_or_init(|| Directions::of(snap));
        let previous_processes = match (action, was) {
            (Action::Changed, Some(w)) => process_refs(self.old, &owners(self.old, w)),
            _ => Vec::new(),
        };
        Change {
            part,
            action,
            line,
            socket: Some(socket_ref(snap, roles, entry.sockets[0])),
            processes: process_refs(snap, &owners(snap, entry)),
            previous_processes,
            process: None,
            previous_process: None,
        }
    }
}

/// Every owner of an entry's sockets, sorted, once.
fn owners(snap: &Snapshot, e: &SockEntry) -> Vec<Owner> {
    let mut o: Vec<Owner> = e
        .sockets
        .iter()
        .flat_map(|&i| snap.sockets[i].owners.iter().copied())
        .collect();
    o.sort_unstable();
    o.dedup();
    o
}

/// A listener or connection: its holders (`EXE (USER)`), and the sockets (indices) with its key.
#[derive(Debug, Default, PartialEq)]
struct SockEntry {
    holders: BTreeSet<String>,
    sockets: Vec<usize>,
}

/// A process: its exe and command line, and its index in the snapshot.
#[derive(Debug)]
struct ProcEntry {
    text: String,
    index: usize,
}

/// One side of a diff: what identifies a listener, a connection or a process, and what it holds.
#[derive(Debug, Default)]
struct View {
    listeners: BTreeMap<String, SockEntry>,
    connections: BTreeMap<String, SockEntry>,
    processes: BTreeMap<String, ProcEntry>,
}

impl View {
    fn of(s: &Snapshot) -> View {
        let mut v = View::default();
        let eph = s.ephemeral_ports();
        for (i, sock) in s.sockets.iter().enumerate() {
            let part = match socket_key(sock, eph) {
                Some((Part::Listener, key)) => v.listeners.entry(key),
                Some((Part::Connection, key)) => v.connections.entry(key),
                _ => continue,
            };
            let entry = part.or_default();
            entry.sockets.push(i);
            entry.holders.extend(
                holders(s, sock)
                    .into_iter()
                    .map(|(exe, user, _)| format!("{exe} ({user})")),
            );
        }
        for (index, p) in s.processes.iter().enumerate() {
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
                ProcEntry {
                    text: format!("{exe} [{}]", cmd.join(" ")),
                    index,
                },
            );
        }
        v
    }
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
    let holders = |e: Option<&SockEntry>| e.map(|e| e.holders.clone());
    new.sockets
        .iter()
        .enumerate()
        .filter(|(_, sock)| match socket_key(sock, eph) {
            Some((Part::Listener, k)) => {
                holders(a.listeners.get(&k)) != holders(b.listeners.get(&k))
            }
            Some((Part::Connection, k)) => {
                holders(a.connections.get(&k)) != holders(b.connections.get(&k))
            }
            _ => false,
        })
        .map(|(i, _)| i)
        .collect()
}

/// What a diff's line compares: equal values are no change.
trait Value {
    type Shown: PartialEq + ?Sized;
    fn compared(&self) -> &Self::Shown;
}

impl Value for SockEntry {
    type Shown = BTreeSet<String>;
    fn compared(&self) -> &BTreeSet<String> {
        &self.holders
    }
}

impl Value for ProcEntry {
    type Shown = str;
    fn compared(&self) -> &str {
        &self.text
    }
}

/// One line of a diff with the entries it compares: earlier, later.
type Line<'a, V> = (Action, String, Option<&'a V>, Option<&'a V>);

/// Keys added, removed, or present in both with another value, in that order, each sorted.
fn changes<'a, V: Value>(
    old: &'a BTreeMap<String, V>,
    new: &'a BTreeMap<String, V>,
    show: impl Fn(&V) -> String,
) -> Vec<Line<'a, V>> {
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for (k, v) in new {
        match old.get(k) {
            None => added.push((Action::Added, format!("{k} {}", show(v)), None, Some(v))),
            Some(o) if o.compared() != v.compared() => changed.push((
                Action::Changed,
                format!("{k}: {} -> {}", show(o), show(v)),
                Some(o),
                Some(v),
            )),
            _ => {}
        }
    }
    let removed = old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k))
        .map(|(k, v)| (Action::Removed, format!("{k} {}", show(v)), Some(v), None));
    added.extend(removed);
    added.extend(changed);
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::fixtures::{process, snapshot, sock};

    fn held(spec: &str, inode: u64, pid: u32) -> crate::model::Socket {
        let mut s = sock(spec);
        s.inode = inode;
        s.owners = smallvec::smallvec![Owner { pid, fd: 3 }];
        s
    }

    /// Two sockets on one port (`SO_REUSEPORT` workers) are one listener held by both holders,
    /// whichever socket comes last; its change event names the first socket and both holders.
    #[test]
    fn a_listener_of_several_sockets_is_held_by_all_their_holders() {
        let nginx = process(10, b"nginx", Some("/usr/sbin/nginx"), Some("www"));
        let other = process(11, b"other", Some("/usr/bin/other"), Some("root"));
        let old = snapshot(
            vec![held("tcp LISTEN 0.0.0.0:80 0.0.0.0:0", 1, 10)],
            vec![nginx.clone()],
        );
        let new = snapshot(
            vec![
                held("tcp LISTEN 0.0.0.0:80 0.0.0.0:0", 1, 10),
                held("tcp LISTEN 0.0.0.0:80 0.0.0.0:0", 2, 11),
            ],
            vec![nginx, other],
        );
        let d = compare(&old, &new);
        assert_eq!(
            d.listeners.changed,
            [
                "tcp 0.0.0.0:80: [/usr/sbin/nginx (www)] -> [/usr/bin/other (root), /usr/sbin/nginx (www)]"
            ]
        );
        let listener = &d.events[0];
        assert_eq!(
            (listener.part, listener.action),
            (Part::Listener, Action::Changed)
        );
        assert_eq!(listener.socket.as_ref().map(|s| s.inode), Some(1));
        let pids = |p: &[ProcessRef]| p.iter().map(|p| p.pid).collect::<Vec<_>>();
        assert_eq!(pids(&listener.processes), [10, 11]);
        assert_eq!(pids(&listener.previous_processes), [10]);
        // The new process is the diff's other line, and its event carries the process.
        assert_eq!(d.processes.added.len(), 1);
        assert_eq!(d.events.len(), 2);
        assert_eq!(d.events[1].process.as_ref().map(|p| p.pid), Some(11));
    }
}
