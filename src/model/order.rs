//! Sorting sockets into their canonical order ([`Socket::sort_key`]), fast for inet tables.
//!
//! A socket is ~300 bytes, and a comparison builds two 9-part tuples with optional addresses:
//! sorting a 50k-socket TCP table moved and compared enough to cost ~6% of a snapshot's CPU. In an
//! inet table (one protocol, one family, one namespace) the key is decided by integers: local
//! address and port, remote address and port, inode. Those are packed into a small key that
//! orders exactly as the full key does (`key(a) < key(b)` implies `a.sort_key() < b.sort_key()`),
//! the (key, index) pairs are sorted, equal keys are settled by the full key, and every socket is
//! then moved once into its place. Other tables (unix, packet, mixed) use the plain sort.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::{Endpoint, Socket};

/// Sorts by [`Socket::sort_key`] (unstable: sockets with equal keys are equal in every field
/// that identifies them).
pub fn sort_sockets(sockets: &mut [Socket]) {
    if !try_inet_sort(sockets) {
        sockets.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
}

/// (local address, local port, remote address, remote port, inode) as three integers, ordered
/// lexicographically like those parts of the full key; an inode above u32::MAX saturates, so
/// such sockets tie and go to the full key.
type Key = (u128, u128, u64);

fn parts(e: &Option<Endpoint>) -> Option<(u128, u16)> {
    match e {
        Some(Endpoint {
            address: IpAddr::V4(a),
            port,
        }) => Some((u128::from(u32::from(*a)), *port)),
        Some(Endpoint {
            address: IpAddr::V6(a),
            port,
        }) => Some((u128::from(*a), *port)),
        None => None,
    }
}

/// The packed key, when the table allows it: both endpoints present and of the same address
/// kind as the first socket's, and protocol, family, namespace and unix part equal to the first
/// socket's (so that the full key's first parts tie).
fn key(s: &Socket, first: &Socket) -> Option<Key> {
    if s.protocol != first.protocol
        || s.family != first.family
        || s.netns != first.netns
        || s.unix.is_some()
    {
        return None;
    }
    let (la, lp) = parts(&s.local)?;
    let (ra, rp) = parts(&s.remote)?;
    let v4 = |e: &Option<Endpoint>| matches!(e, Some(e) if e.address.is_ipv4());
    if v4(&s.local) != v4(&first.local) || v4(&s.remote) != v4(&first.remote) {
        return None;
    }
    let inode = s.inode.min(u64::from(u32::MAX));
    Some((
        la,
        (u128::from(lp) << 112) | (ra >> 16),
        ((ra & 0xffff) as u64) << 48 | u64::from(rp) << 32 | inode,
    ))
}

fn try_inet_sort(sockets: &mut [Socket]) -> bool {
    let Some(first) = sockets.first() else {
        return true;
    };
    let Some(mut keyed) = sockets
        .iter()
        .enumerate()
        .map(|(i, s)| key(s, first).map(|k| (k, i as u32)))
        .collect::<Option<Vec<(Key, u32)>>>()
    else {
        return false;
    };
    keyed.sort_unstable_by(|a, b| match a.0.cmp(&b.0) {
        Ordering::Equal => sockets[a.1 as usize]
            .sort_key()
            .cmp(&sockets[b.1 as usize].sort_key()),
        o => o,
    });
    let mut order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
    permute(sockets, &mut order);
    true
}

/// Rearranges `v` so that the new `v[j]` is the old `v[order[j]]`, following each cycle of the
/// permutation with swaps. `order` is left as the identity.
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    for i in 0..v.len() {
        if order[i] as usize == i {
            continue;
        }
        let mut j = i;
        loop {
            let k = order[j] as usize;
            order[j] = j as u32;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Protocol, State};

    #[test]
    fn permute_applies_the_order() {
        let mut v: Vec<char> = "abcdef".chars().collect();
        let mut order = vec![3, 0, 4, 1, 5, 2];
        permute(&mut v, &mut order);
        assert_eq!(v.iter().collect::<String>(), "daebfc");
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    }

    fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed;
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        }
    }

    /// Tables full of ties on every part (few addresses and ports, equal and huge inodes, equal
    /// cookies): the order must equal a plain sort by the full key.
    fn check(sockets: Vec<Socket>, expect_fast: bool) {
        let mut expected = sockets.clone();
        expected.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut got = sockets.clone();
        assert_eq!(try_inet_sort(&mut got.clone()), expect_fast);
        sort_sockets(&mut got);
        for (a, b) in got.iter().zip(&expected) {
            assert!(a.sort_key() == b.sort_key(), "{a:?}\n{b:?}");
        }
        let dbg = |v: &[Socket]| {
            let mut d: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            d.sort();
            d
        };
        assert_eq!(dbg(&got), dbg(&expected));
    }

    fn table(v4: bool, n: u64, seed: u64) -> Vec<Socket> {
        let mut r = rng(seed);
        let addrs4 = ["0.0.0.0", "127.0.0.1", "192.0.2.1", "255.255.255.255"];
        let addrs6 = ["::", "::1", "::ffff:127.0.0.1", "2001:db8::1", "ffff::1"];
        let family = if v4 { Family::Inet } else { Family::Inet6 };
        (0..n)
            .map(|i| {
                let inode = [0, 1, 7, u64::from(u32::MAX), u64::MAX - 1, u64::MAX][r(6) as usize];
                let mut s = Socket::new(Protocol::Tcp, family, State::ALL[r(13) as usize], inode);
                let ep = |r: &mut dyn FnMut(u64) -> u64| Endpoint {
                    address: if v4 {
                        addrs4[r(4) as usize].parse().unwrap()
                    } else {
                        addrs6[r(5) as usize].parse().unwrap()
                    },
                    port: [0, 1, 80, 65535][r(4) as usize],
                };
                s.local = Some(ep(&mut r));
                s.remote = Some(ep(&mut r));
                s.cookie = [None, Some(i), Some(3)][r(3) as usize];
                s
            })
            .collect()
    }

    #[test]
    fn inet_tables_sort_as_the_full_key() {
        check(table(true, 3000, 0x2545_f491_4f6c_dd1d), true);
        check(table(false, 3000, 0x9e37_79b9_7f4a_7c15), true);
        check(Vec::new(), true);
    }

    #[test]
    fn other_tables_fall_back_to_the_full_key() {
        // Mixed families, a missing endpoint, another protocol: the plain sort.
        let mut mixed = table(true, 500, 1);
        mixed.extend(table(false, 500, 2));
        check(mixed, false);
        let mut missing = table(true, 500, 3);
        missing[250].remote = None;
        check(missing, false);
        let mut other = table(true, 500, 4);
        other[10].protocol = Protocol::Udp;
        check(other, false);
    }
}
