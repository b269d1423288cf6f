//! The process tree and the relays of a snapshot, derived once per evaluation: each process's
//! ancestors, its descendants and the processes it relays ([`super::relay`]), as indexes into
//! `snapshot.processes`. Rules read them through `process.ancestors.*`, `process.children.*`
//! and `process.relays.*`; the engine computes a process-only predicate once per process, so a
//! walk up or down the tree happens once per process, never per socket.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::relay::{Graph, Node};
use super::{Snapshot, Socket, StdioLink};

/// How far up a parent chain is followed (a pid namespace is seldom deeper than a dozen).
const MAX_DEPTH: usize = 64;

/// Ancestors, descendants and relays of every process of one snapshot.
#[derive(Debug, Default)]
pub struct ProcTree {
    ancestors: Vec<Vec<u32>>,
    descendants: Vec<Vec<u32>>,
    relays: Vec<Vec<u32>>,
}

impl ProcTree {
    /// Derives the tree of `snap` (its processes sorted by pid, as a canonical snapshot keeps them).
    pub fn of(snap: &Snapshot) -> ProcTree {
        let n = snap.processes.len();
        let index = |pid: u32| snap.processes.binary_search_by_key(&pid, |p| p.pid).ok();
        let mut ancestors = vec![Vec::new(); n];
        let mut descendants: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, p) in snap.processes.iter().enumerate() {
            let mut cur = p.ppid;
            while ancestors[i].len() < MAX_DEPTH {
                let Some(a) = index(cur).filter(|&a| a != i) else {
                    break;
                };
                if ancestors[i].contains(&(a as u32)) {
                    break;
                }
                ancestors[i].push(a as u32);
                descendants[a].push(i as u32);
                cur = snap.processes[a].ppid;
            }
        }
        ProcTree {
            ancestors,
            descendants,
            relays: relays(snap),
        }
    }

    /// Ancestors of process `i`, nearest first.
    pub fn ancestors(&self, i: usize) -> &[u32] {
        self.ancestors.get(i).map_or(&[], Vec::as_slice)
    }

    /// Children and further descendants of process `i` that the snapshot lists, by pid.
    pub fn descendants(&self, i: usize) -> &[u32] {
        self.descendants.get(i).map_or(&[], Vec::as_slice)
    }

    /// The processes whose stdin and stdout lead to process `i` ([`super::relay`]).
    pub fn relays(&self, i: usize) -> &[u32] {
        self.relays.get(i).map_or(&[], Vec::as_slice)
    }
}

/// For each process, the processes it relays.
fn relays(snap: &Snapshot) -> Vec<Vec<u32>> {
    let n = snap.processes.len();
    let mut out = vec![Vec::new(); n];
    if !snap.processes.iter().any(|p| !p.stdio.is_empty()) {
        return out;
    }
    let inet = inet_holders(&snap.sockets);
    let nodes: Vec<Node> = snap
        .processes
        .iter()
        .map(|p| Node {
            pid: p.pid,
            stdio: p.stdio.clone(),
            pty_masters: p.pty_masters.clone(),
            inet: inet.contains(&p.pid),
        })
        .collect();
    let peer = unix_peer_holders(&snap.sockets, nodes.iter().flat_map(|n| n.stdio.iter()));
    let graph = Graph::new(&nodes, |ino| peer.get(&ino).cloned().unwrap_or_default());
    for r in graph.relays() {
        out[r.relay].push(r.relayed as u32);
    }
    out
}

/// For each socket inode on some stdio: the pids holding its connected unix peer. Only unix
/// sockets are looked at (a peer is a unix socket), with Fx hashing: at 100k sockets the two
/// passes with SipHash over every socket were 2-3 ms of each scan's engine and collection.
pub fn unix_peer_holders<'a>(
    sockets: &[Socket],
    stdio: impl Iterator<Item = &'a StdioLink>,
) -> HashMap<u64, Vec<u32>> {
    let wanted: FxHashSet<u64> = stdio
        .filter(|l| l.kind == super::FdKind::Socket)
        .filter_map(|l| l.inode)
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    let unix = || sockets.iter().filter(|s| s.protocol.is_unix());
    let peer_of: FxHashMap<u64, u64> = unix()
        .filter(|s| wanted.contains(&s.inode))
        .filter_map(|s| Some((s.unix.as_ref()?.peer?, s.inode)))
        .collect();
    let mut out: HashMap<u64, Vec<u32>> = HashMap::new();
    for s in unix() {
        if let Some(&mine) = peer_of.get(&s.inode) {
            out.entry(mine)
                .or_default()
                .extend(s.owners.iter().map(|o| o.pid));
        }
    }
    out
}

/// Every pid holding a TCP or UDP socket (a holder's sockets are mostly adjacent: a repeat of
/// the last pid is not hashed again).
pub fn inet_holders(sockets: &[Socket]) -> FxHashSet<u32> {
    let mut out = FxHashSet::default();
    let mut last = None;
    let inet = sockets
        .iter()
        .filter(|s| matches!(s.protocol.kind(), super::Kind::Tcp | super::Kind::Udp));
    for pid in inet.flat_map(|s| s.owners.iter().map(|o| o.pid)) {
        if last != Some(pid) {
            out.insert(pid);
            last = Some(pid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ByteString, FdKind, Meta, Owner, Process, Protocol, SCHEMA_VERSION, State};

    fn proc_(pid: u32, ppid: u32) -> Process {
        Process {
            pid,
            ppid,
            comm: ByteString::from("p"),
            ..Process::default()
        }
    }

    /// 1 → 10 → 11 → 12, and 10 → 13; 13 holds a TCP socket and the master of pts/4, on which
    /// 14 (a child of 13) runs.
    #[test]
    fn ancestors_descendants_and_relays() {
        let mut procs = vec![
            proc_(1, 0),
            proc_(10, 1),
            proc_(11, 10),
            proc_(12, 11),
            proc_(13, 10),
            proc_(14, 13),
        ];
        procs[4].pty_masters = vec![4];
        procs[5].stdio = (0..3)
            .map(|fd| StdioLink {
                fd,
                kind: FdKind::Pty,
                path: Some(ByteString::from("/dev/pts/4")),
                inode: None,
            })
            .collect();
        let mut s = Socket::new(
            Protocol::Tcp,
            crate::model::Family::Inet,
            State::Established,
            9,
        );
        s.owners = smallvec::smallvec![Owner { pid: 13, fd: 3 }];
        let snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: Meta::blank("t"),
            sockets: vec![s],
            processes: procs,
            namespaces: Vec::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
        };
        let t = ProcTree::of(&snap);
        // Indexes: 12 is at 3, its ancestors 11, 10, 1 at 2, 1, 0.
        assert_eq!(t.ancestors(3), &[2, 1, 0]);
        assert_eq!(t.ancestors(0), &[] as &[u32]);
        let mut d = t.descendants(1).to_vec();
        d.sort_unstable();
        assert_eq!(d, vec![2, 3, 4, 5]);
        assert_eq!(t.relays(4), &[5]);
        assert!(t.relays(5).is_empty());
    }
}
