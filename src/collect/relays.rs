//! Which processes that hold no socket still belong in the snapshot: those whose stdin and
//! stdout lead to a process holding an internet socket ([`crate::model::relay`]), and every
//! process on the way. Also finds the pty masters those walks need: a pty's master is held by
//! the process that created the terminal, an ancestor of whatever runs on it (socat, sshd,
//! `script`, python's `pty.spawn`), so only up to [`MASTER_SEARCH_DEPTH`] ancestors of each
//! process with a pty on its stdio have their descriptors read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;

use super::procwalk;
use crate::model::relay::{Graph, Node, pty_index};
use crate::model::tree::{inet_holders, unix_peer_holders};
use crate::model::{FdKind, Socket, StdioLink};

/// How many ancestors of a process on a pty are searched for the pty's master.
const MASTER_SEARCH_DEPTH: usize = 3;

/// How many pipeline stages at most have their whole fd table read for FIFOs.
const MAX_DEAD_ENDS: usize = 256;

/// The relayed processes and everything between them and their relays (pids), and the pty
/// masters found (pid → pty indexes). FIFOs that pipeline stages read on descriptors above 2
/// (`cat FIFO | sh -i | nc ... > FIFO`) are added to `stdio` ([`MAX_DEAD_ENDS`] processes at
/// most have their whole fd table read for them).
pub fn members(
    proc_root: &Path,
    sockets: &[Socket],
    stdio: &mut rustc_hash::FxHashMap<u32, Vec<StdioLink>>,
) -> (BTreeSet<u32>, HashMap<u32, Vec<u32>>) {
    let inet = inet_holders(sockets);
    let masters = find_masters(proc_root, stdio);
    let pids: BTreeSet<u32> = stdio
        .keys()
        .chain(inet.iter())
        .chain(masters.keys())
        .copied()
        .collect();
    let mut nodes: Vec<Node> = pids
        .iter()
        .map(|&pid| Node {
            pid,
            stdio: stdio.get(&pid).cloned().unwrap_or_default(),
            pty_masters: masters.get(&pid).cloned().unwrap_or_default(),
            inet: inet.contains(&pid),
        })
        .collect();
    let peers = unix_peer_holders(sockets, stdio.values().flatten());
    let peer_of = |ino: u64| peers.get(&ino).cloned().unwrap_or_default();
    let dead_ends = Graph::new(&nodes, peer_of).input_dead_ends();
    let fifos: Vec<(usize, Vec<StdioLink>)> = dead_ends
        .into_iter()
        .take(MAX_DEAD_ENDS)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|i| (i, procwalk::read_fifos(proc_root, nodes[i].pid)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    for (i, links) in fifos {
        stdio
            .entry(nodes[i].pid)
            .or_default()
            .extend(links.iter().cloned());
        nodes[i].stdio.extend(links);
    }
    let members = Graph::new(&nodes, peer_of)
        .relays()
        .into_iter()
        .flat_map(|r| r.path)
        .map(|i| nodes[i].pid)
        .collect();
    (members, masters)
}

/// The pty masters held by the near ancestors of every process with a pty on its stdio.
fn find_masters(
    proc_root: &Path,
    stdio: &rustc_hash::FxHashMap<u32, Vec<StdioLink>>,
) -> HashMap<u32, Vec<u32>> {
    let on_pty: Vec<u32> = stdio
        .iter()
        .filter(|(_, v)| {
            v.iter()
                .any(|l| l.kind == FdKind::Pty && pty_index(l).is_some())
        })
        .map(|(&pid, _)| pid)
        .collect();
    if on_pty.is_empty() {
        return HashMap::new();
    }
    let mut parent: BTreeMap<u32, Option<u32>> = BTreeMap::new();
    let mut candidates = BTreeSet::new();
    for pid in on_pty {
        let mut cur = pid;
        for _ in 0..MASTER_SEARCH_DEPTH {
            let pp = *parent
                .entry(cur)
                .or_insert_with(|| procwalk::ppid(proc_root, cur));
            match pp {
                Some(pp) if pp != 0 => {
                    candidates.insert(pp);
                    cur = pp;
                }
                _ => break,
            }
        }
    }
    let candidates: Vec<u32> = candidates.into_iter().collect();
    candidates
        .par_iter()
        .map(|&pid| (pid, procwalk::pty_masters(proc_root, pid)))
        .filter(|(_, m)| !m.is_empty())
        .collect()
}
