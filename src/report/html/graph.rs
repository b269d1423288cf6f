//! The host graph as inline SVG, laid out here, deterministically: the same snapshot gives the
//! same bytes, and the graph needs no script.
//!
//! Four columns, left to right: peers that connected in, listeners, processes (boxed by
//! network namespace and container), peers the processes connect out to. Edges go peer →
//! listener (connections accepted on its port), listener → holder (dashed to a process that
//! holds a connection the listener accepted but not the listener), and process → peer. Each
//! column keeps its first [`CAP`] nodes: marked ones first (a finding's socket or holder, a
//! change), then the busiest. Nodes are ordered to keep edges short: processes by group and
//! pid, every other column by the row of the first node it connects to (one barycentre pass),
//! then by name. Coordinates are integers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

use super::esc;
use super::view::{HostView, Mark};
use crate::model::Snapshot;

/// Nodes kept per column.
pub const CAP: usize = 40;
/// Edges kept between two columns.
pub const EDGE_CAP: usize = 300;

const ROW: i64 = 26;
const NODE_H: i64 = 20;
const TOP: i64 = 34;
const GROUP_HEAD: i64 = 22;
const GROUP_GAP: i64 = 12;
/// (x, width) of each column.
const COLS: [(i64, i64); 4] = [(4, 170), (214, 210), (468, 250), (762, 170)];
const WIDTH: i64 = 936;

/// The graph's SVG, and a sentence on what it left out (empty when nothing).
pub struct Rendered {
    /// `<svg>...</svg>`.
    pub svg: String,
    /// What the caps left out, for the text under the graph.
    pub omitted: Vec<String>,
}

/// One placed node: its column, row and mark, and its kind (`proc`, `listen`, `peer`).
struct Node {
    col: usize,
    y: i64,
    mark: Option<Mark>,
    kind: &'static str,
}

/// Ranks for keeping the first `CAP`: marked first (worst mark first), then by weight.
fn keep<K: Clone + Ord>(items: Vec<(K, Option<Mark>, usize)>) -> (Vec<K>, usize) {
    let mut items = items;
    items.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let dropped = items.len().saturating_sub(CAP);
    items.truncate(CAP);
    (items.into_iter().map(|i| i.0).collect(), dropped)
}

/// Orders `keys` by the row of the first placed neighbour (`None`: after every connected
/// one), then by key.
fn by_neighbour<K: Ord + Clone>(keys: Vec<K>, row: impl Fn(&K) -> Option<i64>) -> Vec<K> {
    let mut ranked: Vec<(Option<i64>, K)> = keys.into_iter().map(|k| (row(&k), k)).collect();
    ranked.sort_by(|a, b| {
        (a.0.is_none(), a.0)
            .cmp(&(b.0.is_none(), b.0))
            .then(a.1.cmp(&b.1))
    });
    ranked.into_iter().map(|(_, k)| k).collect()
}

/// The group a process is drawn in: its network namespace (when the snapshot holds several
/// and it is not the host's) and container, as `ns:4026532301 · docker 31d7c134c569`. The
/// host's namespace without a container sorts first and has no box.
fn group_of(snap: &Snapshot, pid: u32) -> (bool, String) {
    let p = snap.process(pid);
    let mut parts = Vec::new();
    if !snap.namespaces.is_empty() {
        let ns = snap.netns_label(p.and_then(|p| p.netns));
        if ns.starts_with("ns:") {
            parts.push(ns);
        } else if ns != "host" {
            parts.push(format!("netns {ns}"));
        }
    }
    if let Some(c) = p.and_then(|p| p.container.as_ref()) {
        parts.push(crate::report::container_text(c));
    }
    (!parts.is_empty(), parts.join(" · "))
}

/// Lays out and draws the graph of `view` over `snap`.
pub fn render(snap: &Snapshot, view: &HostView, title: &str) -> Rendered {
    let mut omitted = Vec::new();
    let kept = select(view, &mut omitted);
    let at = layout(snap, view, kept);
    let edges = edges(view, &at, &mut omitted);
    let nodes = nodes(snap, view, &at);
    let bottom = at.bottom;
    let height = bottom.max(TOP + ROW) + 6;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" id=\"graph-svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"graph-title\"><title id=\"graph-title\">{}</title>",
        esc::text_str(title)
    );
    for (i, name) in [
        "peers connecting in",
        "listeners",
        "processes",
        "peers connected to",
    ]
    .iter()
    .enumerate()
    {
        let _ = write!(
            svg,
            "<text class=\"colh\" x=\"{}\" y=\"18\">{name}</text>",
            COLS[i].0
        );
    }
    svg.push_str(&at.groups);
    let _ = write!(
        svg,
        "<g class=\"edges\">{edges}</g><g class=\"nodes\">{nodes}</g></svg>"
    );
    Rendered { svg, omitted }
}

/// The nodes each column keeps, before they are ordered: processes, listeners (indexes into
/// the view's), inbound and outbound peers.
struct Kept {
    procs: Vec<u32>,
    listeners: Vec<usize>,
    peers_in: Vec<IpAddr>,
    peers_out: Vec<IpAddr>,
}

/// Which nodes stay (the first [`CAP`] of each column); what the cap left out goes to
/// `omitted`.
fn select(view: &HostView, omitted: &mut Vec<String>) -> Kept {
    let mut note = |n: usize, what: &str| {
        if n > 0 {
            omitted.push(format!("{n} {what}"));
        }
    };
    // Which nodes stay.
    let (procs, n) = keep(
        view.procs
            .iter()
            .filter(|(_, p)| p.networked || p.mark.is_some())
            .map(|(pid, p)| (*pid, p.mark, p.listening + p.inbound + p.outbound))
            .collect(),
    );
    note(n, "processes");
    let (listeners, n) = keep(
        view.listeners
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.mark, l.conns + l.holders.len()))
            .collect(),
    );
    note(n, "listeners");
    let (peers_in, n) = keep(
        view.peers_in
            .iter()
            .map(|(a, p)| (*a, p.mark, p.conns))
            .collect(),
    );
    note(n, "inbound peers");
    let (peers_out, n) = keep(
        view.peers_out
            .iter()
            .map(|(a, p)| (*a, p.mark, p.conns))
            .collect(),
    );
    note(n, "outbound peers");

    Kept {
        procs,
        listeners,
        peers_in,
        peers_out,
    }
}

/// Where each kept node is (its row, by key, per column), the group boxes, and the bottom.
struct Layout {
    procs: BTreeMap<u32, i64>,
    listeners: BTreeMap<usize, i64>,
    peers_in: BTreeMap<IpAddr, i64>,
    peers_out: BTreeMap<IpAddr, i64>,
    groups: String,
    bottom: i64,
}

/// Places the kept nodes: processes by group and pid, the other columns by their first
/// neighbour's row.
fn layout(snap: &Snapshot, view: &HostView, kept: Kept) -> Layout {
    let Kept {
        procs,
        listeners,
        peers_in,
        peers_out,
    } = kept;
    // Processes, grouped.
    let mut groups: BTreeMap<(bool, String), Vec<u32>> = BTreeMap::new();
    for pid in procs {
        groups.entry(group_of(snap, pid)).or_default().push(pid);
    }
    let mut svg_groups = String::new();
    let mut proc_at: BTreeMap<u32, i64> = BTreeMap::new();
    let mut y = TOP;
    for ((boxed, label), pids) in &mut groups {
        pids.sort_unstable();
        if *boxed {
            let h = GROUP_HEAD + ROW * pids.len() as i64 + 4;
            let (x, w) = COLS[2];
            let _ = write!(
                svg_groups,
                "<g class=\"group\"><rect class=\"grp\" x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{h}\" rx=\"6\"/><text class=\"grpl\" x=\"{}\" y=\"{}\">{}</text></g>",
                x - 6,
                w + 12,
                x,
                y + 15,
                esc::label(label.as_bytes(), 42)
            );
            y += GROUP_HEAD;
        }
        for pid in pids.iter() {
            proc_at.insert(*pid, y);
            y += ROW;
        }
        y += if *boxed { 4 + GROUP_GAP } else { GROUP_GAP };
    }
    let mut bottom = y;

    // Listeners by their first holder's row; peers by their first neighbour's.
    let listeners = by_neighbour(listeners, |i| {
        view.listeners[*i]
            .holders
            .iter()
            .filter_map(|p| proc_at.get(p).copied())
            .min()
    });
    let listen_at: BTreeMap<usize, i64> = place(&listeners, &mut bottom);
    let peers_out = by_neighbour(peers_out, |a| {
        view.peers_out[a]
            .pids
            .iter()
            .filter_map(|p| proc_at.get(p).copied())
            .min()
    });
    let out_at: BTreeMap<IpAddr, i64> = place(&peers_out, &mut bottom);
    let peers_in = by_neighbour(peers_in, |a| {
        view.edges_in
            .range((*a, 0)..=(*a, usize::MAX))
            .filter_map(|((_, li), _)| listen_at.get(li).copied())
            .min()
    });
    let in_at: BTreeMap<IpAddr, i64> = place(&peers_in, &mut bottom);

    Layout {
        procs: proc_at,
        listeners: listen_at,
        peers_in: in_at,
        peers_out: out_at,
        groups: svg_groups,
        bottom,
    }
}

/// The edges between kept nodes, drawn under them: each pair of columns keeps its first
/// [`EDGE_CAP`], marked ones first, then the heaviest.
fn edges(view: &HostView, at: &Layout, omitted: &mut Vec<String>) -> String {
    let inbound = inbound_lines(view, at);
    let held = held_lines(view, at);
    let outbound = outbound_lines(view, at);
    let mut edges = String::new();
    let mut dropped = 0;
    for lines in [inbound, held, outbound] {
        let (kept, n) = keep_lines(lines);
        dropped += n;
        for (line, tip) in kept {
            line.draw(&mut edges, &tip);
        }
    }
    if dropped > 0 {
        omitted.push(format!("{dropped} edges"));
    }

    edges
}

/// Peer → listener: connections accepted on the listener's port.
fn inbound_lines(view: &HostView, at: &Layout) -> Vec<(Line, String)> {
    let (listen_at, in_at) = (&at.listeners, &at.peers_in);
    let mut inbound = Vec::new();
    for ((peer, li), e) in &view.edges_in {
        if let (Some(&y1), Some(&y2)) = (in_at.get(peer), listen_at.get(li)) {
            let tip = format!(
                "{peer} → {}: {} connection{} on port {}",
                view.listeners[*li].label,
                e.conns,
                plural(e.conns),
                ports(&e.ports)
            );
            let line = Line {
                from: (0, y1),
                to: (1, y2),
                conns: e.conns,
                mark: e.mark,
                accepted: false,
            };
            inbound.push((line, tip));
        }
    }
    inbound
}

/// Listener → holder, and dashed to a process holding a connection it accepted.
fn held_lines(view: &HostView, at: &Layout) -> Vec<(Line, String)> {
    let (proc_at, listen_at) = (&at.procs, &at.listeners);
    let mut held = Vec::new();
    for (li, &y1) in listen_at {
        let l = &view.listeners[*li];
        for pid in &l.holders {
            if let Some(&y2) = proc_at.get(pid) {
                let tip = format!("{} held by pid {pid}", l.label);
                // The lesser mark of the two ends: a listener's finding about one holder does
                // not colour its edge to another.
                let line = Line {
                    from: (1, y1),
                    to: (2, y2),
                    conns: 1,
                    mark: l.mark.min(view.procs[pid].mark),
                    accepted: false,
                };
                held.push((line, tip));
            }
        }
    }
    // A connection a listener accepted, held by a process that does not hold the listener (a
    // forked worker: sshd's session, a pre-forked server): a dashed edge to that process.
    for ((li, pid), e) in &view.accepted {
        if view.listeners[*li].holders.contains(pid) {
            continue;
        }
        if let (Some(&y1), Some(&y2)) = (listen_at.get(li), proc_at.get(pid)) {
            let tip = format!(
                "{}: {} connection{} accepted, held by pid {pid}",
                view.listeners[*li].label,
                e.conns,
                plural(e.conns)
            );
            let line = Line {
                from: (1, y1),
                to: (2, y2),
                conns: e.conns,
                mark: e.mark,
                accepted: true,
            };
            held.push((line, tip));
        }
    }
    held
}

/// Process → peer: outbound connections.
fn outbound_lines(view: &HostView, at: &Layout) -> Vec<(Line, String)> {
    let (proc_at, out_at) = (&at.procs, &at.peers_out);
    let mut outbound = Vec::new();
    for ((pid, peer), e) in &view.edges_out {
        if let (Some(&y1), Some(&y2)) = (proc_at.get(pid), out_at.get(peer)) {
            let tip = format!(
                "pid {pid} → {peer}: {} connection{} to port {}",
                e.conns,
                plural(e.conns),
                ports(&e.ports)
            );
            let line = Line {
                from: (2, y1),
                to: (3, y2),
                conns: e.conns,
                mark: e.mark,
                accepted: false,
            };
            outbound.push((line, tip));
        }
    }
    outbound
}

/// The nodes, with their tooltips.
fn nodes(snap: &Snapshot, view: &HostView, at: &Layout) -> String {
    let (proc_at, listen_at, in_at, out_at) =
        (&at.procs, &at.listeners, &at.peers_in, &at.peers_out);
    // Nodes.
    let mut nodes = String::new();
    for (pid, y) in proc_at {
        let p = &view.procs[pid];
        let (label, tip) = proc_text(snap, *pid);
        let tip = format!(
            "{tip}\n{} socket{}: {} listening, {} inbound, {} outbound",
            p.sockets,
            plural(p.sockets),
            p.listening,
            p.inbound,
            p.outbound
        );
        let node = Node {
            col: 2,
            y: *y,
            mark: p.mark,
            kind: "proc",
        };
        node.draw(&mut nodes, &format!(" data-pid=\"{pid}\""), &label, &tip);
    }
    for (li, y) in listen_at {
        let l = &view.listeners[*li];
        let tip = format!(
            "{}: {} holder{}, {} connection{} accepted",
            l.label,
            l.holders.len(),
            plural(l.holders.len()),
            l.conns,
            plural(l.conns)
        );
        let node = Node {
            col: 1,
            y: *y,
            mark: l.mark,
            kind: "listen",
        };
        node.draw(&mut nodes, "", &l.label, &tip);
    }
    for (col, at, peers, dir) in [
        (0, in_at, &view.peers_in, "from"),
        (3, out_at, &view.peers_out, "to"),
    ] {
        for (a, y) in at {
            let p = &peers[a];
            let tip = format!(
                "{a}: {} connection{} {dir} {} process{}, port{} {}",
                p.conns,
                plural(p.conns),
                p.pids.len(),
                if p.pids.len() == 1 { "" } else { "es" },
                plural(p.ports.len()),
                ports(&p.ports)
            );
            let node = Node {
                col,
                y: *y,
                mark: p.mark,
                kind: "peer",
            };
            node.draw(
                &mut nodes,
                &format!(" data-peer=\"{a}\""),
                &a.to_string(),
                &tip,
            );
        }
    }

    nodes
}

/// The first [`EDGE_CAP`] of `lines` (marked first, then the heaviest), in their order.
fn keep_lines(lines: Vec<(Line, String)>) -> (Vec<(Line, String)>, usize) {
    if lines.len() <= EDGE_CAP {
        return (lines, 0);
    }
    let mut ranked: Vec<(usize, (Line, String))> = lines.into_iter().enumerate().collect();
    ranked.sort_by(|(i, (a, _)), (j, (b, _))| {
        b.mark
            .cmp(&a.mark)
            .then(b.conns.cmp(&a.conns))
            .then(i.cmp(j))
    });
    let dropped = ranked.len() - EDGE_CAP;
    ranked.truncate(EDGE_CAP);
    ranked.sort_by_key(|(i, _)| *i);
    (ranked.into_iter().map(|(_, l)| l).collect(), dropped)
}

/// Stacks `keys` from the top of a column; raises `bottom` to the column's end.
fn place<K: Ord + Clone>(keys: &[K], bottom: &mut i64) -> BTreeMap<K, i64> {
    let mut y = TOP;
    let mut at = BTreeMap::new();
    for k in keys {
        at.insert(k.clone(), y);
        y += ROW;
    }
    *bottom = (*bottom).max(y);
    at
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `22, 80, 443` (at most eight, then `…`).
fn ports(p: &BTreeSet<u16>) -> String {
    let mut s: Vec<String> = p.iter().take(8).map(u16::to_string).collect();
    if p.len() > 8 {
        s.push("…".into());
    }
    s.join(", ")
}

/// A process node's label (`comm [pid]`) and its tooltip (exe, user, command line), with
/// control and invisible characters made visible by [`crate::text::escape`].
fn proc_text(snap: &Snapshot, pid: u32) -> (String, String) {
    let Some(p) = snap.process(pid) else {
        return (
            format!("pid {pid}"),
            format!("pid {pid}: no process metadata"),
        );
    };
    // The pid always shows: a long name is cut before it.
    let suffix = format!(" [{pid}]");
    let room = LABEL_MAX - suffix.chars().count();
    let mut comm = crate::text::escape(p.comm.as_bytes());
    if comm.chars().count() > room {
        comm = comm.chars().take(room - 1).collect();
        comm.push('…');
    }
    let label = format!("{comm}{suffix}");
    let exe = p
        .exe
        .as_ref()
        .map(|e| crate::text::escape(e.as_bytes()))
        .unwrap_or_else(|| "?".into());
    let cmd: Vec<String> = p
        .cmdline
        .iter()
        .map(|a| crate::text::escape(a.as_bytes()))
        .collect();
    let user = p
        .user
        .as_deref()
        .map(crate::text::escape_str)
        .unwrap_or_else(|| p.uid.to_string());
    let tip = format!(
        "pid {pid} user {}\nexe {}\ncmd {}",
        esc::shorten(&user, esc::CELL_MAX),
        esc::shorten(&exe, esc::CELL_MAX),
        esc::shorten(&cmd.join(" "), esc::CELL_MAX)
    );
    (label, tip)
}

/// A node's longest label, in characters; the tooltip has the rest.
const LABEL_MAX: usize = 32;

impl Node {
    /// A rounded box with its label and tooltip (`label` and `tip` are plain text with
    /// control characters already made visible; `attr` is this program's own).
    fn draw(&self, out: &mut String, attr: &str, label: &str, tip: &str) {
        let (x, w) = COLS[self.col];
        let class = self
            .mark
            .map(|m| format!(" {}", m.class()))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<g class=\"node {}{class}\"{attr}><title>{}</title><rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{NODE_H}\" rx=\"4\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            self.kind,
            esc::html(tip),
            self.y,
            x + 6,
            self.y + 14,
            esc::cut(label, LABEL_MAX)
        );
    }
}

/// An edge between two placed nodes: (column, row y) of each end; `accepted` draws a
/// listener's connection held by another process (dashed).
struct Line {
    from: (usize, i64),
    to: (usize, i64),
    conns: usize,
    mark: Option<Mark>,
    accepted: bool,
}

impl Line {
    /// A curve from the right side of one column to the left side of the next, as thick as
    /// its connections (1 to 4 px); `tip` is plain text.
    fn draw(&self, out: &mut String, tip: &str) {
        let x1 = COLS[self.from.0].0 + COLS[self.from.0].1;
        let x2 = COLS[self.to.0].0;
        let (y1, y2) = (self.from.1 + NODE_H / 2, self.to.1 + NODE_H / 2);
        let mid = (x1 + x2) / 2;
        let width = match self.conns {
            0..=1 => 1,
            2..=9 => 2,
            10..=99 => 3,
            _ => 4,
        };
        let mut class = self
            .mark
            .map(|m| format!(" {}", m.class()))
            .unwrap_or_default();
        if self.accepted {
            class.push_str(" accepted");
        }
        let _ = write!(
            out,
            "<path class=\"edge w{width}{class}\" d=\"M{x1} {y1}C{mid} {y1} {mid} {y2} {x2} {y2}\"><title>{}</title></path>",
            esc::html(tip)
        );
    }
}
