//! The fallback without BPF: sock_diag dumps compared one after the other. A socket in a dump
//! that the previous dump did not have is an event; it is judged with the holders the dump
//! found. What this cannot see is said in the output (`output::poll_misses`).
//!
//! The same comparison, on the raw, packet and unix tables only, runs beside the BPF programs
//! with `--no-syscall-tracepoints` ([`Sweep`]): where the kernel refuses the fexit programs,
//! those sockets' calls are traced only by syscall tracepoints, which slow every system call
//! of every task; the sweep costs a small dump every interval instead, and says what it misses
//! (`output::sweep_misses`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::collect::netns::Select;
use crate::collect::sockhooks::Swept;
use crate::collect::{self, CollectOptions, Tables};
use crate::model::{Endpoint, Extensions, Protocol, Snapshot, State, StateSet};

/// What identifies a socket between two dumps.
pub type Key = (
    Option<u64>,
    Protocol,
    State,
    Option<Endpoint>,
    Option<Endpoint>,
    u64,
);

/// The identities of a dump's sockets.
pub type Keys = HashSet<Key>;

/// The identity of every socket in a dump.
pub fn keys(snap: &Snapshot) -> Keys {
    snap.sockets.iter().map(key).collect()
}

fn key(s: &crate::model::Socket) -> Key {
    (s.netns, s.protocol, s.state, s.local, s.remote, s.inode)
}

/// A connection's two ends.
pub type Pair = (Option<Endpoint>, Option<Endpoint>);

/// The ends of every connection in a dump (sockets with a remote port).
pub fn pairs(snap: &Snapshot) -> HashSet<Pair> {
    snap.sockets
        .iter()
        .filter(|s| s.remote.is_some_and(|r| r.port != 0))
        .map(|s| (s.local, s.remote))
        .collect()
}

/// The destroyed TCP connections that none of the `seen` dumps had: they opened and closed
/// between two dumps, and only their destroy notification tells of them.
pub fn ended_unseen(
    seen: &[HashSet<Pair>],
    destroyed: Vec<crate::model::Socket>,
) -> Vec<crate::model::Socket> {
    destroyed
        .into_iter()
        .filter(|s| s.remote.is_some_and(|r| r.port != 0))
        .filter(|s| !seen.iter().any(|p| p.contains(&(s.local, s.remote))))
        .collect()
}

/// Indexes of the sockets in `snap` that `previous` did not have and that a new socket is told
/// by (a listener, a connection, an unconnected UDP socket, any raw or packet socket; of unix
/// sockets only a listener), in the dump's order.
pub fn new_sockets(previous: &HashSet<Key>, snap: &Snapshot) -> Vec<usize> {
    snap.sockets
        .iter()
        .enumerate()
        .filter(|(_, s)| is_birth(s))
        .filter(|(_, s)| !previous.contains(&key(s)))
        .map(|(i, _)| i)
        .collect()
}

/// Whether a socket new in a dump is an event: a listener or connection (not TIME-WAIT and
/// the other closing states, which are the end of something already seen), an unconnected UDP
/// socket, any raw or packet socket; of the unix sockets only a listener (the others are the
/// two ends of a connection to one, or datagram sockets, which watch does not trace either).
fn is_birth(s: &crate::model::Socket) -> bool {
    match s.protocol {
        Protocol::Raw | Protocol::PacketRaw | Protocol::PacketDgram => true,
        Protocol::UnixStream
        | Protocol::UnixDgram
        | Protocol::UnixSeqpacket
        | Protocol::Netlink => s.state == State::Listen,
        Protocol::Udp if s.state == State::Close => true,
        Protocol::Tcp | Protocol::Udp => {
            matches!(s.state, State::Listen | State::Established | State::SynSent)
        }
    }
}

/// `--no-syscall-tracepoints`: the groups of sockets BPF mode does not trace ([`Swept`]) found
/// by comparing a dump of their tables with the previous one every `every`. A dump reads the
/// sockets alone; only when one is new is the dump taken again with its holders (a walk of
/// /proc, or the task-file iterator), so a host's quiet intervals cost a few netlink messages
/// per namespace.
pub struct Sweep {
    dump: CollectOptions,
    every: Duration,
    next: Instant,
    previous: Keys,
    /// What the dumps could not read (a namespace, a table), each said once.
    gaps: std::collections::BTreeSet<String>,
    /// With every namespace: the sweeps left until the namespaces are looked for again.
    rediscover: Option<u32>,
}

/// How many sweeps of every namespace dump the namespaces found by the last look before the
/// next one: looking walks every process's and thread's namespace link (about 30 ms of CPU on
/// a host of 3,000 processes), which every interval would cost more than the dumps.
pub const REDISCOVER_EVERY: u32 = 10;

impl Sweep {
    /// The sweep of `swept` in `netns`, its first dump taken now: what exists already is not
    /// an event (as the programs see only what is made after they attach).
    pub fn start(swept: &[(Swept, String)], netns: Select, every: Duration) -> Sweep {
        let mut dump = sweep_options(swept, netns);
        let first = collect::collect(&dump);
        let rediscover = (dump.netns == Select::All).then(|| {
            dump.netns = Select::known(&dump.proc_root);
            REDISCOVER_EVERY
        });
        let mut sweep = Sweep {
            dump,
            every,
            next: Instant::now() + every,
            previous: keys(&first),
            gaps: Default::default(),
            rediscover,
        };
        sweep.new_gaps(&first);
        sweep
    }

    /// The gaps of `snap` not said before, in words; they are said once each.
    fn new_gaps(&mut self, snap: &Snapshot) -> Vec<String> {
        snap.gaps
            .iter()
            .map(ToString::to_string)
            .filter(|g| self.gaps.insert(g.clone()))
            .collect()
    }

    /// When the next dump is due, `None` if it is now.
    pub fn wait(&self) -> Option<Duration> {
        self.next.checked_duration_since(Instant::now())
    }

    /// Takes the dump that is due: the snapshot with holders and the indexes of its new
    /// sockets (`None` when nothing is new), and what it could not read that was not said
    /// before. A socket that appears and goes between the two dumps of one sweep is not
    /// reported (the sweep's bound: it lived less than an interval).
    pub fn run(&mut self) -> (Option<(Snapshot, Vec<usize>)>, Vec<String>) {
        self.next = Instant::now() + self.every;
        if let Some(left) = self.rediscover.as_mut() {
            *left -= 1;
            if *left == 0 {
                self.dump.netns = Select::known(&self.dump.proc_root);
                *left = REDISCOVER_EVERY;
            }
        }
        let bare = collect::collect(&self.dump);
        let mut gaps = self.new_gaps(&bare);
        if new_sockets(&self.previous, &bare).is_empty() {
            self.previous = keys(&bare);
            return (None, gaps);
        }
        let held = collect::collect(&CollectOptions {
            attribution: true,
            ..self.dump.clone()
        });
        gaps.extend(self.new_gaps(&held));
        let new = new_sockets(&self.previous, &held);
        self.previous = keys(&held);
        ((!new.is_empty()).then_some((held, new)), gaps)
    }
}

/// What a sweep dumps: the tables of the groups swept, in `netns`, without holders.
fn sweep_options(swept: &[(Swept, String)], netns: Select) -> CollectOptions {
    let has = |g: Swept| swept.iter().any(|(s, _)| *s == g);
    CollectOptions {
        tables: Tables {
            tcp: false,
            udp: false,
            raw: has(Swept::RawAndPacket),
            unix: has(Swept::UnixListeners),
            packet: has(Swept::RawAndPacket),
            netlink: false,
        },
        // The kernel skips the unix sockets that are not listening: a host's thousands of
        // connected ones cost no message.
        unix_states: StateSet::of(&[State::Listen]),
        extensions: collect::Want::now(Extensions::NONE),
        attribution: false,
        crossview: false,
        procnet_view: false,
        netns,
        ..CollectOptions::full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Meta, Socket};

    fn snap(sockets: Vec<Socket>) -> Snapshot {
        Snapshot {
            schema_version: crate::model::SCHEMA_VERSION,
            meta: Meta::blank("h"),
            sockets,
            processes: Vec::new(),
            namespaces: Vec::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
        }
    }

    #[test]
    fn only_sockets_the_previous_dump_lacked() {
        let a = Socket::new(Protocol::Tcp, Family::Inet, State::Listen, 1);
        let b = Socket::new(Protocol::Tcp, Family::Inet, State::Established, 2);
        let tw = Socket::new(Protocol::Tcp, Family::Inet, State::TimeWait, 0);
        let first = snap(vec![a.clone()]);
        let second = snap(vec![a, b, tw]);
        assert_eq!(new_sockets(&keys(&first), &second), vec![1]);
        assert_eq!(new_sockets(&keys(&second), &second), Vec::<usize>::new());
    }

    /// The sweep's tables: raw, packet and unix sockets are born in any state but a unix
    /// socket, which is an event only as a listener; connected unix ends and datagram sockets
    /// are not.
    #[test]
    fn raw_and_packet_sockets_and_unix_listeners_are_births() {
        let of = |p: Protocol, family: Family, state: State, inode: u64| {
            Socket::new(p, family, state, inode)
        };
        let dump = snap(vec![
            of(Protocol::Raw, Family::Inet, State::Close, 1),
            of(Protocol::PacketRaw, Family::Packet, State::Close, 2),
            of(Protocol::PacketDgram, Family::Packet, State::Close, 3),
            of(Protocol::UnixStream, Family::Unix, State::Listen, 4),
            of(Protocol::UnixSeqpacket, Family::Unix, State::Listen, 5),
            of(Protocol::UnixStream, Family::Unix, State::Established, 6),
            of(Protocol::UnixDgram, Family::Unix, State::Close, 7),
            of(Protocol::Tcp, Family::Inet, State::Close, 8),
        ]);
        assert_eq!(new_sockets(&HashSet::new(), &dump), vec![0, 1, 2, 3, 4]);
        let tables = |g: Swept| sweep_options(&[(g, String::new())], Select::Current).tables;
        let raw = tables(Swept::RawAndPacket);
        assert!(raw.raw && raw.packet && !raw.unix && !raw.tcp && !raw.udp);
        let unix = tables(Swept::UnixListeners);
        assert!(unix.unix && !unix.raw && !unix.packet);
        assert!(!sweep_options(&[], Select::Current).attribution);
        let listeners = sweep_options(&[], Select::Current).unix_states;
        assert!(listeners.contains(State::Listen) && !listeners.contains(State::Established));
    }

    #[test]
    fn a_destroyed_connection_no_dump_had_is_unseen() {
        let ep = |s: &str| {
            let a: std::net::SocketAddr = s.parse().unwrap();
            Some(Endpoint {
                address: a.ip(),
                port: a.port(),
            })
        };
        let conn = |l: &str, r: &str| {
            let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Established, 1);
            (s.local, s.remote) = (ep(l), ep(r));
            s
        };
        let seen = conn("10.0.0.5:40000", "192.0.2.7:443");
        let dump = snap(vec![seen.clone()]);
        let short = conn("10.0.0.5:40001", "203.0.113.10:4444");
        let mut listener = conn("0.0.0.0:22", "0.0.0.0:0");
        listener.state = State::Close;
        let unseen = ended_unseen(
            &[pairs(&dump), HashSet::new()],
            vec![seen, short.clone(), listener],
        );
        assert_eq!(unseen, vec![short]);
    }
}
