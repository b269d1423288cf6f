//! The self-contained HTML report (`--format html` on `scan` and `diff`; docs/report.md, "The
//! HTML page"): one file that opens from an e-mail attachment or an air-gapped laptop.
//!
//! The page loads nothing: its style and script are inline, and a Content-Security-Policy
//! (`default-src 'none'`) allows exactly those two blocks by their SHA-256, computed here from
//! the text written, so a script or style that an escaping bug let in would not run, and no
//! request can leave the page. Every string from outside goes through `esc`. The host graph is
//! SVG laid out in Rust (`graph`), so the page reads the same without script; the script only
//! sorts and filters the tables. The same input gives the same bytes: every collection is
//! sorted and the page holds no clock or random value. At scale the page summarises: each
//! table and graph column keeps its first rows, marked ones first, and says how many it left
//! out and which command lists them.

mod esc;
mod graph;
mod tables;
mod view;

use std::collections::BTreeMap;
use std::fmt::Write;

use self::esc::{html, text_str};
use self::view::{HostView, Mark};
use crate::baseline::diff::SnapshotDiff;
use crate::model::Snapshot;
use crate::report::ScanReport;
use crate::rules::{RuleSet, Severity};

/// The page's style sheet, inline.
const CSS: &str = include_str!("page.css");
/// The page's script (sorting and filtering), inline.
const JS: &str = include_str!("page.js");

/// The page of a scan: summary, findings by severity and rule, drift by category, what changed
/// since the last run, the host graph, listeners, top talkers and remote peers.
pub fn scan(r: &ScanReport, rules: &RuleSet, snap: &Snapshot) -> String {
    let mut marks: BTreeMap<usize, Mark> = BTreeMap::new();
    let mut pid_marks: BTreeMap<u32, Mark> = BTreeMap::new();
    for f in &r.findings {
        let m = Mark::Finding(f.severity);
        if let Some(i) = f.socket_index {
            let e = marks.entry(i).or_insert(m);
            *e = (*e).max(m);
        }
        for p in &f.processes {
            let e = pid_marks.entry(p.pid).or_insert(m);
            *e = (*e).max(m);
        }
    }
    let v = HostView::of(snap, &marks, &pid_marks);
    let host = text_str(&r.host);
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>sockwarden scan report</h1><p class=\"sub\">host <b id=\"host\">{host}</b> · taken {} · sockwarden {}</p>{}</header><main>",
        text_str(&r.started_at),
        html(&r.tool.version),
        nav(&[
            ("summary", "Summary"),
            ("graph", "Host graph"),
            ("findings", "Findings"),
            ("drift", "Drift"),
            ("since-last", "Since last run"),
            ("listeners", "Listeners"),
            ("talkers", "Top talkers"),
            ("peers", "Remote peers"),
        ]
        .into_iter()
        .filter(|(id, _)| match *id {
            "drift" => r.baseline,
            "since-last" => r.since_last.is_some(),
            _ => true,
        })
        .collect::<Vec<_>>())
    );
    summary(&mut body, r, snap);
    let title = format!("Host graph of {}", r.host);
    graph_section(&mut body, snap, &v, &title, true);
    tables::findings(&mut body, r, rules);
    tables::drift(&mut body, r);
    tables::since_last(&mut body, r);
    tables::listeners(&mut body, snap, &v);
    tables::talkers(&mut body, snap, &v);
    tables::peers(&mut body, &v);
    body.push_str("</main>");
    footer(&mut body, "sockwarden scan --format json");
    page(&format!("sockwarden scan: {}", r.host), &body)
}

/// The page of a diff: what changed (listeners, connections, processes), and the later
/// snapshot's graph with the added and changed sockets marked, its listeners, top talkers and
/// peers.
pub fn diff(d: &SnapshotDiff, old: &Snapshot, new: &Snapshot) -> String {
    let marks: BTreeMap<usize, Mark> = crate::baseline::diff::changed_sockets(old, new)
        .into_iter()
        .map(|i| (i, Mark::Changed))
        .collect();
    let pid_marks: BTreeMap<u32, Mark> = marks
        .keys()
        .flat_map(|i| {
            new.sockets[*i]
                .owners
                .iter()
                .map(|o| (o.pid, Mark::Changed))
        })
        .collect();
    let v = HostView::of(new, &marks, &pid_marks);
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>sockwarden diff</h1><p class=\"sub\">from <b id=\"old\">{}</b> to <b id=\"new\">{}</b> · sockwarden {}</p>{}</header><main>",
        text_str(&d.old),
        text_str(&d.new),
        html(env!("CARGO_PKG_VERSION")),
        nav(&[
            ("summary", "Summary"),
            ("changes", "Changes"),
            ("graph", "Host graph"),
            ("listeners", "Listeners"),
            ("talkers", "Top talkers"),
            ("peers", "Remote peers"),
        ])
    );
    body.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (name, c) in [
        ("listeners", &d.listeners),
        ("connections", &d.connections),
        ("processes", &d.processes),
    ] {
        for (what, n) in [
            ("added", c.added.len()),
            ("removed", c.removed.len()),
            ("changed", c.changed.len()),
        ] {
            let _ = write!(
                body,
                "<div class=\"card {what}\" id=\"count-{name}-{what}\"><span class=\"n\">{n}</span>{name} {what}</div>"
            );
        }
    }
    body.push_str("</div>");
    if !d.differ() {
        body.push_str("<p class=\"none\">No differences.</p>");
    }
    body.push_str("</section><section id=\"changes\"><h2>Changes</h2>");
    tables::changes(&mut body, d, "sockwarden diff OLD NEW --format json");
    body.push_str("</section>");
    let title = format!("Host graph of {} (changes marked)", new.meta.hostname);
    graph_section(&mut body, new, &v, &title, false);
    tables::listeners(&mut body, new, &v);
    tables::talkers(&mut body, new, &v);
    tables::peers(&mut body, &v);
    body.push_str("</main>");
    footer(&mut body, "sockwarden diff OLD NEW --format json");
    page(&format!("sockwarden diff: {} → {}", d.old, d.new), &body)
}

fn nav(links: &[(&str, &str)]) -> String {
    let mut out = String::from("<nav>");
    for (id, name) in links {
        let _ = write!(out, "<a href=\"#{id}\">{name}</a>");
    }
    out.push_str("</nav>");
    out
}

/// Counts by severity, the snapshot's facts, what it could not see.
fn summary(out: &mut String, r: &ScanReport, snap: &Snapshot) {
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for sev in Severity::ALL.iter().rev() {
        let n = r.summary.by_severity.get(sev).copied().unwrap_or(0);
        // A count links to its findings (rule findings have a section per severity).
        let rules_here = r
            .findings
            .iter()
            .any(|f| f.severity == *sev && f.kind == crate::report::FindingKind::Rule);
        let (open, close) = if rules_here {
            let href = format!("#findings-{sev}");
            (
                format!("<a class=\"card sev-{sev}\" id=\"count-{sev}\" href=\"{href}\">"),
                "</a>",
            )
        } else {
            (
                format!("<div class=\"card sev-{sev}\" id=\"count-{sev}\">"),
                "</div>",
            )
        };
        let _ = write!(out, "{open}<span class=\"n\">{n}</span>{sev}{close}");
    }
    let _ = write!(
        out,
        "</div><dl class=\"facts\"><dt>Host</dt><dd>{}</dd><dt>Taken at</dt><dd>{}</dd><dt>Kernel</dt><dd>{}</dd><dt>Sockets</dt><dd id=\"sockets\">{}</dd><dt>Processes</dt><dd>{}</dd><dt>Rules</dt><dd>{}</dd><dt>Findings</dt><dd id=\"findings-total\">{}</dd><dt>Privileged</dt><dd>{}</dd><dt>Coverage</dt><dd id=\"coverage\">{}</dd></dl>",
        text_str(&r.host),
        text_str(&r.started_at),
        text_str(&snap.meta.kernel),
        r.summary.sockets,
        r.summary.processes,
        r.summary.rules,
        r.summary.findings,
        if snap.meta.privileged {
            "yes"
        } else {
            "no: other users' processes may be missing (run as root for a complete view)"
        },
        if r.coverage.complete {
            "complete".to_string()
        } else {
            let gaps: Vec<String> = r
                .coverage
                .gaps
                .iter()
                .map(|g| format!("{}: {}", html(&g.scope), html(&g.reason)))
                .collect();
            format!(
                "<span class=\"warn\">INCOMPLETE (--allow-partial): not covered: {}</span>",
                gaps.join("; ")
            )
        }
    );
    for w in &r.warnings {
        let _ = write!(
            out,
            "<p class=\"warn\">Warning: {} ({}: {})</p>",
            html(&w.message),
            html(&w.code),
            w.count
        );
    }
    out.push_str("</section>");
}

/// The graph, its legend, and what it left out.
fn graph_section(out: &mut String, snap: &Snapshot, v: &HostView, title: &str, scan: bool) {
    let g = graph::render(snap, v, title);
    out.push_str("<section id=\"graph\"><h2>Host graph</h2><p class=\"legend\">");
    out.push_str(
        "<span><i class=\"l-proc\"></i>process (boxed by container and network namespace)</span><span><i class=\"l-listen\"></i>listener</span><span>dashed: a connection the listener accepted, held by another process</span>",
    );
    if scan {
        out.push_str("<span><i class=\"l-critical\"></i>critical finding</span><span><i class=\"l-high\"></i>high</span><span><i class=\"l-medium\"></i>medium</span><span><i class=\"l-low\"></i>low</span>");
    } else {
        out.push_str("<span><i class=\"l-changed\"></i>added or changed</span>");
    }
    let _ = write!(out, "</p><div class=\"graph-wrap\">{}</div>", g.svg);
    if !g.omitted.is_empty() {
        let _ = write!(
            out,
            "<p class=\"more\" id=\"graph-omitted\">Not shown: {}. Each column keeps {} nodes, marked ones first, then the busiest; <code>sockwarden list -ap --json</code> lists every socket.</p>",
            g.omitted.join(", "),
            graph::CAP
        );
    }
    if v.unowned > 0 {
        let _ = write!(
            out,
            "<p class=\"more\">{} connection{} held by no process have no edge.</p>",
            v.unowned,
            if v.unowned == 1 { "" } else { "s" }
        );
    }
    out.push_str("</section>");
}

fn footer(out: &mut String, command: &str) {
    let _ = write!(
        out,
        "<footer>This page summarises: long tables and the graph keep their first rows and say how many they left out. The complete findings: <code>{}</code>; every socket: <code>sockwarden snapshot</code>. Names, paths and command lines are shown escaped (<code>\\n</code>, <code>\\x1b</code>, <code>\\u{{202e}}</code>).</footer>",
        html(command)
    );
}

/// The document around `body`: the policy, the inline style and script (allowed by their
/// hashes), the title.
fn page(title: &str, body: &str) -> String {
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        esc::csp_hash(CSS),
        esc::csp_hash(JS)
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"sockwarden {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n<script>{JS}</script>\n</body>\n</html>\n",
        html(env!("CARGO_PKG_VERSION")),
        text_str(title)
    )
}

#[cfg(test)]
mod tests;
