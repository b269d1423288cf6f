//! Sorting sockets into their canonical order ([`Socket::sort_key`]), fast for whole tables.
//!
//! A socket is ~300 bytes, and a comparison builds two 12-part tuples with optional addresses
//! and names: sorting a 50k-socket TCP table moved and compared enough to cost ~6% of a
//! snapshot's CPU, and the unix table (a fifth of the sockets on the benchmark's load, more on a
//! desktop) moved its sockets O(n log n) times. Within one dumped table the key is decided by
//! integers:
//!
//! - inet (one protocol, one family, one namespace): local address and port, remote address and
//!   port, inode;
//! - unix (one namespace, stream, datagram and seqpacket together): the protocol, then for an
//!   unnamed socket (nearly all of them: every connected pair but the listener's side) its peer
//!   and inode, for a named one the first 16 bytes of its name.
//!
//! Those are packed into a small key that orders consistently with the full key (`key(a) <
//! key(b)` implies `a.sort_key() < b.sort_key()`), the (key, index) pairs are sorted, equal keys
//! are settled by the full key, and every socket is then moved into its place by following the
//! cycles of the permutation (linear). An IPv4 table's key fits one 128-bit integer, which is
//! sorted instead (half the bytes, one comparison). Other tables (packet, netlink, mixed) use
//! the plain sort.

use std::net::IpAddr;

use super::{Endpoint, Socket};

/// Sorts by [`Socket::sort_key`] (unstable: sockets with equal keys are equal in every field
/// that identifies them).
pub fn sort_sockets(sockets: &mut [Socket]) {
    if !try_packed_sort(sockets) {
        sockets.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
}

/// Three integers, compared lexicographically. inet: (local address, local port, remote address,
/// remote port, inode), an inode above u32::MAX saturating (such sockets tie and go to the full
/// key); unix: see [`unix_key`].
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
fn inet_key(s: &Socket, first: &Socket) -> Option<Key> {
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

/// The packed key of a unix socket, when the table allows it: a unix socket with its unix part
/// and no endpoints, in the first socket's namespace (so that the full key's netns, family and
/// endpoints tie). (2 x protocol + named, then unnamed: (peer + 1 or 0 for none, inode); named:
/// (the name's first 16 bytes, zero-padded, big-endian, 0)). The full key orders a missing name
/// before any name and names as byte strings, so an unnamed socket sorts before every named one
/// of its protocol and the padded prefixes order as the names do (a name that ends early is a
/// prefix, hence smaller, or the prefixes tie); ties go to the full key.
fn unix_key(s: &Socket, first: &Socket) -> Option<Key> {
    if !s.protocol.is_unix()
        || s.family != first.family
        || s.netns != first.netns
        || s.local.is_some()
        || s.remote.is_some()
    {
        return None;
    }
    let u = s.unix.as_deref()?;
    let protocol = 2 * s.protocol.index() as u128;
    Some(match &u.name {
        None => (protocol, u.peer.map_or(0, |p| u128::from(p) + 1), s.inode),
        Some(name) => {
            let mut prefix = [0u8; 16];
            let n = name.0.len().min(16);
            prefix[..n].copy_from_slice(&name.0[..n]);
            (protocol + 1, u128::from_be_bytes(prefix), 0)
        }
    })
}

/// Sorts through packed keys when every socket has one (the first socket's kind decides which);
/// false, with `sockets` untouched, when one has none.
fn try_packed_sort(sockets: &mut [Socket]) -> bool {
    let Some(first) = sockets.first() else {
        return true;
    };
    let key: fn(&Socket, &Socket) -> Option<Key> = if first.protocol.is_unix() {
        unix_key
    } else {
        inet_key
    };
    let Some(keyed) = sockets
        .iter()
        .enumerate()
        .map(|(i, s)| key(s, first).map(|k| (k, i as u32)))
        .collect::<Option<Vec<(Key, u32)>>>()
    else {
        return false;
    };
    // An IPv4 table's key fits one integer: half the bytes to sort, one comparison instead of
    // three (at a million sockets the keyed sort was ~5% of a scan's CPU, issue 19).
    match keyed
        .iter()
        .map(|&(k, i)| narrow(k).map(|k| (k, i)))
        .collect()
    {
        Some(narrowed) => sort_by_keys(sockets, narrowed),
        None => sort_by_keys(sockets, keyed),
    }
    true
}

/// The key as one integer in the same order, when its parts fit: the first below 2^32 and the
/// second's bits 16 to 111 zero (an IPv4 table: local address, then local port and the remote
/// address's top half). Bits: first 32, second's top 16, second's low 16, third 64.
fn narrow((first, second, third): Key) -> Option<u128> {
    let (top, low) = (second >> 112, second & ((1 << 112) - 1));
    (first <= u128::from(u32::MAX) && low <= u128::from(u16::MAX))
        .then(|| first << 96 | top << 80 | low << 64 | u128::from(third))
}

/// Sorts the (key, index) pairs, settling equal keys by the full key, and moves every socket
/// into its place.
fn sort_by_keys<K: Ord>(sockets: &mut [Socket], mut keyed: Vec<(K, u32)>) {
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            sockets[a.1 as usize]
                .sort_key()
                .cmp(&sockets[b.1 as usize].sort_key())
        })
    });
    let mut order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
    permute(sockets, &mut order);
}

/// Rearranges `v` so that the new `v[j]` is the old `v[order[j]]`, following each cycle of the
/// permutation and moving each element once, straight into its place. A `swap` per step moved
/// a ~300-byte socket three times: at a million sockets the moves were ~4% of a scan's CPU, on
/// the dumping threads (issue 19, session 10). `order` is left as the identity.
///
/// Panics, before anything moves, unless `order` is a permutation of `0..v.len()`.
#[allow(unsafe_code)]
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    let n = v.len();
    assert_eq!(order.len(), n, "the order has one index per element");
    let mut seen = vec![0u64; n.div_ceil(64)];
    for &k in order.iter() {
        let k = k as usize;
        assert!(
            k < n && seen[k / 64] & (1 << (k % 64)) == 0,
            "not a permutation"
        );
        seen[k / 64] |= 1 << (k % 64);
    }
    let base = v.as_mut_ptr();
    for i in 0..n {
        if order[i] as usize == i {
            continue;
        }
        // SAFETY: `order` is a permutation of 0..n (checked above), so every index below is in
        // bounds and the cycle through `i` visits each of its slots once before coming back to
        // `i`. Taking `v[i]` out leaves one hole; each step moves the element its slot wants
        // (`v[k]`, not yet moved: it is further along the cycle) into the hole, which moves to
        // `k`; the last step puts the taken element into the hole. Nothing in between can
        // panic or run code of `T` (no drop, no clone, no checked indexing), so the duplicate
        // that the bitwise read leaves behind is never dropped or seen: when the block ends
        // every slot holds exactly one element, as before.
        unsafe {
            let taken = std::ptr::read(base.add(i));
            let mut hole = i;
            loop {
                let k = *order.get_unchecked(hole) as usize;
                *order.get_unchecked_mut(hole) = hole as u32;
                if k == i {
                    std::ptr::write(base.add(hole), taken);
                    break;
                }
                std::ptr::copy_nonoverlapping(base.add(k), base.add(hole), 1);
                hole = k;
            }
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

    /// Elements that own memory (a double drop or a leak would show under Miri and ASan; a
    /// duplicate or a lost element shows here) under random permutations, cycles of every length.
    #[test]
    fn permute_moves_owned_elements_once() {
        let mut r = rng(19);
        for n in [0usize, 1, 2, 3, 7, 64, 65, 1000] {
            let mut order: Vec<u32> = (0..n as u32).collect();
            for i in (1..n).rev() {
                order.swap(i, r(i as u64 + 1) as usize);
            }
            let want: Vec<String> = order.iter().map(|k| format!("s{k}")).collect();
            let mut v: Vec<String> = (0..n).map(|k| format!("s{k}")).collect();
            permute(&mut v, &mut order);
            assert_eq!(v, want);
            assert!(order.iter().enumerate().all(|(i, &k)| k as usize == i));
        }
    }

    #[test]
    #[should_panic(expected = "not a permutation")]
    fn permute_refuses_an_index_twice() {
        let mut v = vec![String::from("a"), String::from("b")];
        permute(&mut v, &mut [1, 1]);
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
        assert_eq!(try_packed_sort(&mut got.clone()), expect_fast);
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
    fn narrow_keys_order_as_the_wide_ones() {
        let mut r = rng(0x5851_f42d_4c95_7f2d);
        let mut part = |max: u128| -> u128 {
            // Mostly small values and the edges of the range, so that ties and carries show.
            match r(4) {
                0 => 0,
                1 => max,
                _ => u128::from(r(3)) * max / 2,
            }
        };
        let keys: Vec<Key> = (0..300)
            .map(|_| {
                let top = part(u128::from(u16::MAX)) << 112;
                (
                    part(u128::from(u32::MAX)),
                    top | part(u128::from(u16::MAX)),
                    part(u128::from(u64::MAX)) as u64,
                )
            })
            .collect();
        for a in &keys {
            for b in &keys {
                assert_eq!(
                    narrow(*a).unwrap().cmp(&narrow(*b).unwrap()),
                    a.cmp(b),
                    "{a:?} {b:?}"
                );
            }
        }
        // Out of its range, no narrow key: an IPv6 address, a remote address's middle bits.
        assert_eq!(narrow((u128::from(u32::MAX) + 1, 0, 0)), None);
        assert_eq!(narrow((0, 1 << 16, 0)), None);
        // A real IPv4 key narrows, an IPv6 one does not.
        let v4 = table(true, 2, 1);
        let v6 = table(false, 2, 1);
        assert!(narrow(inet_key(&v4[1], &v4[0]).unwrap()).is_some());
        let mut s = v6[1].clone();
        s.local = Some(Endpoint {
            address: "2001:db8::1".parse().unwrap(),
            port: 1,
        });
        assert_eq!(narrow(inet_key(&s, &v6[0]).unwrap()), None);
    }

    #[test]
    fn inet_tables_sort_as_the_full_key() {
        check(table(true, 3000, 0x2545_f491_4f6c_dd1d), true);
        check(table(false, 3000, 0x9e37_79b9_7f4a_7c15), true);
        check(Vec::new(), true);
    }

    /// A unix table (the three types mixed, as one dump gives them) full of ties: names absent,
    /// empty, sharing a 16-byte prefix, prefixes of each other, ending in NUL; peers absent, 0
    /// and u64::MAX; few inodes and cookies.
    fn unix_table(n: u64, seed: u64) -> Vec<Socket> {
        use crate::model::{ByteString, UnixInfo};
        let mut r = rng(seed);
        let names: [&[u8]; 8] = [
            b"",
            b"a",
            b"a\0",
            b"ab",
            b"/run/very/long/path/0",
            b"/run/very/long/path/1",
            b"/run/very/long/p",
            b"\xff\xfe",
        ];
        let protocols = [
            Protocol::UnixStream,
            Protocol::UnixDgram,
            Protocol::UnixSeqpacket,
        ];
        (0..n)
            .map(|i| {
                let inode = [0, 1, 7, u64::MAX][r(4) as usize];
                let protocol = protocols[r(3) as usize];
                let mut s = Socket::new(protocol, Family::Unix, State::ALL[r(13) as usize], inode);
                s.cookie = [None, Some(i), Some(3)][r(3) as usize];
                let named = r(3) == 0;
                s.unix = Some(Box::new(UnixInfo {
                    name: named.then(|| ByteString::from(names[r(8) as usize])),
                    r#abstract: false,
                    peer: [None, Some(0), Some(5), Some(u64::MAX)][r(4) as usize],
                    pending: Vec::new(),
                    backlog: None,
                    vfs_inode: None,
                    vfs_dev: None,
                }));
                s
            })
            .collect()
    }

    #[test]
    fn unix_tables_sort_as_the_full_key() {
        check(unix_table(3000, 0x2545_f491_4f6c_dd1d), true);
        check(unix_table(1, 7), true);
    }

    #[test]
    fn unix_keys_order_as_the_full_key() {
        // Whatever the pair, a smaller packed key means a smaller full key.
        let v = unix_table(400, 0x9e37_79b9_7f4a_7c15);
        for a in &v {
            for b in &v {
                if unix_key(a, &v[0]) < unix_key(b, &v[0]) {
                    assert!(a.sort_key() < b.sort_key(), "{a:?}\n{b:?}");
                }
            }
        }
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
        // A unix socket without its unix part, or in another namespace.
        let mut bare = unix_table(500, 5);
        bare[100].unix = None;
        check(bare, false);
        let mut netns = unix_table(500, 6);
        netns[7].netns = Some(4026531840);
        check(netns, false);
    }
}
