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
}
