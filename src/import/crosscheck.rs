//! Cross-checking the parts of one collection: which views saw each socket, and the sockets a
//! view hid (docs/import.md, "Cross-checking the parts").
//!
//! A collection holds several views of one host taken seconds apart: `ss` (netlink), `netstat`
//! and `cat /proc/net/*` (the /proc/net tables), `lsof` and `ls -la /proc/PID/fd` (the fd walk).
//! Evidence cannot be re-checked as a live scan re-checks, so a disagreement is taken as hiding
//! only when the collection itself proves the socket existed while the silent part was taken:
//! the same inode (never reused within seconds: the kernel's inode counter only grows) listed by
//! parts of other views taken both before and after it, in the order of UAC's uac.log. A socket
//! opened or closed between two commands is listed on one side of the silent part only, and is
//! counted as churn. Without an order (loose captures) nothing can be proved: `socket.hidden.*`
//! is unknown (`meta.evidence.unknown`) and the NET-HID rules are undecided, never clean.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::merge::{EndsKey, Entry, ends_key};
use super::{Give, Part};
use crate::model::{Kind, Protocol, State, View, ViewCoverage, Warning};

/// The tables the views are compared for, as in a live snapshot (`collect::crossview`).
const COMPARED: [Protocol; 2] = [Protocol::Tcp, Protocol::Udp];

/// The views whose silence the collection can prove: the two socket tables.
const TABLE_VIEWS: [View; 2] = [View::Netlink, View::Procnet];

/// What the cross-check found.
pub(super) struct Outcome {
    /// Per part (merge order), the inodes of the sockets it hid, sorted.
    pub omitted: Vec<Vec<u64>>,
    /// What each view read, the views that could not be compared and why, the disagreements.
    pub views: ViewCoverage,
    /// The `socket.hidden.*` fields the collection cannot decide, with the protocols.
    pub undecided: Vec<(&'static str, Vec<Protocol>)>,
    /// `evidence_view_hides`, naming each part that hid a socket.
    pub warning: Option<Warning>,
}

/// One moment a socket was seen: the view, and where in the collection's order.
type Sighting = (View, Option<u64>);

/// Marks each socket with the views that listed it and the table views that hid it, and says
/// what the collection could decide.
pub(super) fn check(entries: &mut [Entry], parts: &[Part]) -> Outcome {
    let fd_taken: BTreeMap<u32, u64> = parts
        .iter()
        .flat_map(|p| p.parsed.fd_taken.iter().map(|(k, v)| (*k, *v)))
        .collect();
    let fd_listings = parts.iter().any(|p| !p.parsed.fds.is_empty());
    for e in entries.iter_mut() {
        e.socket.views = e.parts.iter().map(|&p| parts[p].format.view()).collect();
        if !e.fd_listed.is_empty() {
            e.socket.views.add(View::Fdwalk);
        }
    }
    let mut views = coverage(parts, fd_listings);
    let mut undecided = Vec::new();
    for v in TABLE_VIEWS {
        let open: Vec<Protocol> = COMPARED
            .into_iter()
            .filter(|&p| views.compared(v, p) && !decidable(parts, &fd_taken, v, p))
            .collect();
        if !open.is_empty() {
            views.missing.entry(v).or_insert_with(|| {
                "no part of this view was taken between parts of other views in a recorded \
                 order (UAC's uac.log): what it omits cannot be told from churn"
                    .into()
            });
        }
        let unread: Vec<Protocol> = COMPARED
            .into_iter()
            .filter(|&p| !views.compared(v, p))
            .collect();
        let mut all: Vec<Protocol> = open.into_iter().chain(unread).collect();
        all.sort_unstable();
        if !all.is_empty() {
            undecided.push((hidden_field(v), all));
        }
    }
    let mut omitted = vec![Vec::new(); parts.len()];
    let (mut disagreements, mut hidden) = (0u64, 0u64);
    for (xi, x) in parts.iter().enumerate() {
        let view = x.format.view();
        let Some(at) = x.taken.filter(|_| TABLE_VIEWS.contains(&view)) else {
            continue;
        };
        let listed: HashSet<EndsKey> = entries
            .iter()
            .filter(|e| e.parts.contains(&xi))
            .filter_map(|e| ends_key(&e.socket))
            .collect();
        for e in entries.iter_mut() {
            if !omits(x, e, view, &listed) {
                continue;
            }
            disagreements += 1;
            let seen = sightings(e, parts, &fd_taken);
            let before = seen
                .iter()
                .any(|&(v, t)| v != view && t.is_some_and(|t| t < at));
            let after = seen
                .iter()
                .any(|&(v, t)| v != view && t.is_some_and(|t| t > at));
            if before && after {
                if !e.socket.hidden.has(view) {
                    hidden += 1;
                }
                e.socket.hidden.add(view);
                omitted[xi].push(e.socket.inode);
            }
        }
        omitted[xi].sort_unstable();
    }
    views.rechecked = disagreements;
    views.churn = disagreements - omitted.iter().map(|o| o.len() as u64).sum::<u64>();
    let warning = (hidden > 0).then(|| warning(entries, parts, &omitted, hidden));
    Outcome {
        omitted,
        views,
        undecided,
        warning,
    }
}

/// Whether part `x` (of table view `view`) should have listed the socket of `e` and did not:
/// a TCP or UDP socket with a known inode, of a table and state the part lists completely, that
/// no part of the view listed, by inode or by endpoints. A TCP socket bound but neither
/// listening nor connected is in netlink's bind table only, never in /proc/net (as live).
fn omits(x: &Part, e: &Entry, view: View, listed: &HashSet<EndsKey>) -> bool {
    let s = &e.socket;
    COMPARED.contains(&s.protocol)
        && s.state != State::BoundInactive
        && s.inode != 0
        && e.gives.has(Give::Inode)
        && !s.views.has(view)
        && x.parsed.family.is_none_or(|f| f == s.family)
        && x.parsed
            .covers
            .iter()
            .any(|(k, c)| *k == s.protocol.kind() && c.lists(s.state))
        && ends_key(s).is_none_or(|k| !listed.contains(&k))
}

/// Every moment a part or an fd listing showed the socket of `e`.
fn sightings(e: &Entry, parts: &[Part], fd_taken: &BTreeMap<u32, u64>) -> Vec<Sighting> {
    let mut v: Vec<Sighting> = e
        .parts
        .iter()
        .map(|&p| (parts[p].format.view(), parts[p].taken))
        .collect();
    v.extend(
        e.fd_listed
            .iter()
            .map(|pid| (View::Fdwalk, fd_taken.get(pid).copied())),
    );
    v
}

/// Whether the collection can prove, for some socket of protocol `p`, that view `v` hid it: a
/// part of `v` listing `p`'s table in a recorded order, with something of another view that
/// could list the socket taken before it and something after it.
fn decidable(parts: &[Part], fd_taken: &BTreeMap<u32, u64>, v: View, p: Protocol) -> bool {
    let lists = |x: &Part| x.parsed.covers.iter().any(|(k, _)| *k == p.kind());
    let mut others: Vec<u64> = parts
        .iter()
        .filter(|x| x.format.view() != v && (lists(x) || x.format.view() == View::Fdwalk))
        .filter_map(|x| x.taken)
        .collect();
    if v != View::Fdwalk {
        others.extend(fd_taken.values());
    }
    parts
        .iter()
        .filter(|x| x.format.view() == v && lists(x))
        .filter_map(|x| x.taken)
        .any(|at| others.iter().any(|&t| t < at) && others.iter().any(|&t| t > at))
}

fn hidden_field(v: View) -> &'static str {
    match v {
        View::Netlink => "socket.hidden.netlink",
        View::Procnet => "socket.hidden.procnet",
        View::Fdwalk => "socket.hidden.fdwalk",
        View::Taskfiles => "process.hidden",
    }
}

/// What the evidence read through each view: netlink for the tables `ss` listed, /proc/net for
/// TCP and UDP (the tables a live scan compares), the fd walk when `lsof` or fd listings are
/// there. The BPF iterator has no counterpart in any collection.
fn coverage(parts: &[Part], fd_listings: bool) -> ViewCoverage {
    let mut c = ViewCoverage::default();
    let mut read: BTreeMap<View, BTreeSet<Protocol>> = BTreeMap::new();
    for x in parts {
        let view = x.format.view();
        for (k, _) in &x.parsed.covers {
            let ps: Vec<Protocol> = Protocol::ALL
                .into_iter()
                .filter(|p| p.kind() == *k)
                .filter(|p| view != View::Procnet || COMPARED.contains(p))
                .collect();
            read.entry(view).or_default().extend(ps);
        }
    }
    if fd_listings {
        read.entry(View::Fdwalk).or_default().extend(
            Protocol::ALL
                .into_iter()
                .filter(|p| p.kind() != Kind::Netlink),
        );
    }
    c.read = read
        .into_iter()
        .map(|(v, ps)| (v, ps.into_iter().collect()))
        .collect();
    c.missing.insert(
        View::Taskfiles,
        "evidence holds no kernel-side list of descriptors (the BPF iterator)".into(),
    );
    c
}

/// `evidence_view_hides`: each part that hid sockets, with its view and the sockets.
fn warning(entries: &[Entry], parts: &[Part], omitted: &[Vec<u64>], hidden: u64) -> Warning {
    let mut lines = Vec::new();
    let mut pids = BTreeSet::new();
    for (x, inodes) in parts.iter().zip(omitted).filter(|(_, o)| !o.is_empty()) {
        let mut socks = Vec::new();
        for e in entries
            .iter()
            .filter(|e| inodes.binary_search(&e.socket.inode).is_ok())
        {
            let s = &e.socket;
            let local = s
                .local
                .map(|l| std::net::SocketAddr::new(l.address, l.port).to_string())
                .unwrap_or_default();
            socks.push(format!(
                "{} {} {local} inode {}",
                s.protocol, s.state, s.inode
            ));
            pids.extend(s.owners.iter().map(|o| o.pid));
        }
        socks.sort();
        lines.push(format!(
            "{} ({} view, {}) omits {}",
            x.name,
            x.format.view(),
            x.format,
            socks.join(", ")
        ));
    }
    Warning {
        code: "evidence_view_hides".into(),
        count: hidden,
        message: format!(
            "parts of the evidence omit sockets that parts of other views listed before and \
             after them (same inode): {}",
            lines.join("; ")
        ),
        pids: pids.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Options, parse_bytes};
    use crate::model::{Snapshot, View};

    /// Listeners on 127.0.0.1:31337 (inode 100) and :8080 (inode 200).
    const PROC_TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 200 1 0000000000000000 100 0 0 10 0
";
    /// Only the listener on :8080.
    const SS_TANP: &str = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process
LISTEN 0      128        127.0.0.1:8080      0.0.0.0:*     users:((\"x\",pid=5,fd=3))
";

    fn part(name: &str, text: &str, taken: Option<u64>) -> super::Part {
        let mut p = parse_bytes(name, text.as_bytes(), &Options::default()).unwrap();
        p.taken = taken;
        p
    }

    fn import(parts: Vec<super::Part>) -> Snapshot {
        super::super::merge_parts(parts)
    }

    fn port(snap: &Snapshot, port: u16) -> &crate::model::Socket {
        snap.sockets
            .iter()
            .find(|s| s.local.is_some_and(|l| l.port == port))
            .unwrap()
    }

    /// /proc/net copies before and after `ss` list inode 100; `ss` does not: `ss` hid it.
    #[test]
    fn a_socket_listed_before_and_after_the_silent_part_is_hidden_from_its_view() {
        let snap = import(vec![
            part("proc_net_tcp.txt", PROC_TCP, Some(0)),
            part("ss_-tanp.txt", SS_TANP, Some(1)),
            part("later/proc_net_tcp.txt", PROC_TCP, Some(2)),
        ]);
        let s = port(&snap, 31337);
        assert!(s.hidden.has(View::Netlink), "{s:?}");
        assert_eq!(s.views.iter().collect::<Vec<_>>(), [View::Procnet]);
        let shown = port(&snap, 8080);
        assert!(shown.hidden.is_empty());
        assert!(shown.views.has(View::Netlink) && shown.views.has(View::Procnet));
        let ev = snap.meta.evidence.as_ref().unwrap();
        let ss = ev.parts.iter().find(|p| p.file == "ss_-tanp.txt").unwrap();
        assert_eq!(ss.omitted, [100]);
        assert_eq!(ss.taken, Some(1));
        assert!(
            ev.parts
                .iter()
                .filter(|p| p.format != "ss")
                .all(|p| p.omitted.is_empty())
        );
        let views = snap.meta.views.as_ref().unwrap();
        assert_eq!((views.rechecked, views.churn), (1, 0));
        assert!(!snap.field_unknown("socket.hidden.netlink", crate::model::Protocol::Tcp));
        // The fd walk and the BPF iterator are not compared in evidence.
        assert!(snap.field_unknown("socket.hidden.fdwalk", crate::model::Protocol::Tcp));
        assert!(snap.field_unknown("process.hidden", crate::model::Protocol::Tcp));
        let w = snap
            .warnings
            .iter()
            .find(|w| w.code == "evidence_view_hides")
            .unwrap();
        assert_eq!(w.count, 1);
        assert!(
            w.message.contains(
                "ss_-tanp.txt (netlink view, ss) omits tcp listen 127.0.0.1:31337 inode 100"
            ),
            "{}",
            w.message
        );
    }

    /// Seen on one side of `ss` only: opened after it ran, or closed before; not hiding.
    #[test]
    fn a_socket_seen_on_one_side_only_is_churn() {
        for (before, after) in [(Some(0), Some(0)), (Some(2), Some(3)), (None, Some(2))] {
            let snap = import(vec![
                part("proc_net_tcp.txt", PROC_TCP, before),
                part("ss_-tanp.txt", SS_TANP, Some(1)),
                part(
                    "again/proc_net_tcp.txt",
                    &format!(
                        "{}\n",
                        PROC_TCP.lines().take(2).collect::<Vec<_>>().join("\n")
                    ),
                    after,
                ),
            ]);
            let s = port(&snap, 31337);
            assert!(s.hidden.is_empty(), "{before:?} {after:?}: {s:?}");
            let views = snap.meta.views.as_ref().unwrap();
            assert_eq!(views.churn, views.rechecked);
            assert!(views.rechecked > 0);
        }
    }

    /// Loose captures carry no order: a disagreement cannot be told from churn, so the hidden
    /// fields are unknown (the NET-HID rules undecided), never false.
    #[test]
    fn without_an_order_the_hidden_fields_are_unknown() {
        let snap = import(vec![
            part("proc_net_tcp.txt", PROC_TCP, None),
            part("ss_-tanp.txt", SS_TANP, None),
        ]);
        assert!(port(&snap, 31337).hidden.is_empty());
        let tcp = crate::model::Protocol::Tcp;
        assert!(snap.field_unknown("socket.hidden.netlink", tcp));
        assert!(snap.field_unknown("socket.hidden.procnet", tcp));
        let views = snap.meta.views.as_ref().unwrap();
        assert!(views.missing.contains_key(&View::Netlink), "{views:?}");
        assert!(
            snap.warnings
                .iter()
                .all(|w| w.code != "evidence_view_hides")
        );
    }

    /// A listening-only capture does not hide a connection, a /proc/net/tcp6 copy does not hide
    /// an IPv4 socket, and endpoints the silent part listed (no inode there) are not hidden.
    #[test]
    fn a_part_hides_only_what_it_lists() {
        let ss_listening = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process
LISTEN 0      128        127.0.0.1:31337      0.0.0.0:*     users:((\"x\",pid=5,fd=3))
";
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
";
        let snap = import(vec![
            part("proc_net_tcp.txt", PROC_TCP, Some(0)),
            part("ss_-tlnp.txt", ss_listening, Some(1)),
            part("proc_net_tcp6.txt", tcp6, Some(2)),
            part("again/proc_net_tcp.txt", PROC_TCP, Some(3)),
        ]);
        // ss -l omitted :8080's listener: hidden. The IPv6 copy omitted both: not hidden from
        // /proc/net (the IPv4 copies list them).
        assert!(port(&snap, 8080).hidden.has(View::Netlink));
        assert!(port(&snap, 31337).hidden.is_empty(), "listed by endpoints");
        assert!(snap.sockets.iter().all(|s| !s.hidden.has(View::Procnet)));
    }
}
