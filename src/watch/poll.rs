//! The fallback without BPF: sock_diag dumps compared one after the other. A socket in a dump
//! that the previous dump did not have is an event; it is judged with the holders the dump
//! found. What this cannot see is said in the output (`output::poll_misses`).

use std::collections::HashSet;

use crate::model::{Endpoint, Protocol, Snapshot, State};

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

/// Indexes of the sockets in `snap` that `previous` did not have, listeners and connections
/// only (not TIME-WAIT and the other closing states, which are the end of something already
/// seen), in the dump's order.
pub fn new_sockets(previous: &HashSet<Key>, snap: &Snapshot) -> Vec<usize> {
    snap.sockets
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(s.state, State::Listen | State::Established | State::SynSent)
                || (s.protocol == Protocol::Udp && s.state == State::Close)
        })
        .filter(|(_, s)| !previous.contains(&key(s)))
        .map(|(i, _)| i)
        .collect()
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
