//! The page's sections as HTML: findings by severity and rule, drift by category, the changes
//! of a diff, and the listeners, top talkers and remote peers of the snapshot. Every table is a
//! plain `<table class="data">`, complete without script; the page's script adds sorting and a
//! filter to each. Long tables keep their first rows and say how many more there are and how
//! to get them.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::esc::{self, html, text_str};
use super::view::{HostView, Mark};
use crate::baseline::Category;
use crate::baseline::diff::{Changes, SnapshotDiff};
use crate::model::Snapshot;
use crate::report::{FindingKind, ProcessRef, ReportFinding, ScanReport, SocketRef};
use crate::rules::{RuleSet, Severity};

/// Rows kept per rule's table of findings, per drift category and per part of a diff.
pub const ROWS_PER_GROUP: usize = 200;
/// Rows kept over all the rules' tables, and over all the drift categories' (the most severe
/// first): at most this many findings on a page, and as many drift findings.
pub const FINDING_ROWS: usize = 1000;
/// Rows kept in the listeners, top talkers and peers tables.
pub const ROWS_PER_TABLE: usize = 100;

/// The sentence under a cut table: how many rows are left out and the command that has them.
fn more(out: &mut String, left: usize, command: &str) {
    if left > 0 {
        let _ = write!(
            out,
            "<p class=\"more\">{left} more not shown; get them with <code>{}</code>.</p>",
            html(command)
        );
    }
}

/// Opens a table with its column headings; `id` names it for the page's links and tests.
fn table_head(out: &mut String, id: &str, heads: &[&str]) {
    let _ = write!(
        out,
        "<table class=\"data\" id=\"{}\"><thead><tr>",
        esc::ident(id)
    );
    for h in heads {
        let _ = write!(out, "<th scope=\"col\">{}</th>", html(h));
    }
    out.push_str("</tr></thead><tbody>");
}

fn mark_attr(m: Option<Mark>) -> String {
    m.map(|m| format!(" class=\"{}\"", m.class()))
        .unwrap_or_default()
}

/// A severity badge.
fn badge(s: Severity) -> String {
    format!("<span class=\"badge sev-{s}\">{s}</span>")
}

/// The socket as the table shows it (protocol, state, endpoints or name), escaped for the page
/// and cut to [`esc::CELL_MAX`].
fn socket_cell(s: &SocketRef, count: Option<u64>) -> String {
    esc::cut(&crate::report::table::socket(s, count), esc::CELL_MAX)
}

/// Holders shown per finding; a listener of a pre-forked server can have thousands.
const HOLDERS_MAX: usize = 10;

/// The holders: `comm [pid]`, user and fd, the executable (flagged when deleted or a memfd)
/// and the container; one line each. `cmd` is the command lines, one line each. Each name is
/// cut to [`esc::CELL_MAX`] characters, and the first [`HOLDERS_MAX`] holders are shown.
fn holders(ps: &[ProcessRef]) -> (String, String) {
    if ps.is_empty() {
        return (
            "<span class=\"dim\">no process</span>".into(),
            String::new(),
        );
    }
    let mut who = Vec::new();
    let mut cmd = Vec::new();
    for p in ps.iter().take(HOLDERS_MAX) {
        let mut w = format!(
            "<span class=\"who\">{} [{}]</span> <span class=\"dim\">{} fd {}</span>",
            esc::cell(p.comm.as_bytes()),
            p.pid,
            p.user
                .as_deref()
                .map(|u| esc::cell(u.as_bytes()))
                .unwrap_or_else(|| format!("uid {}", p.uid)),
            p.fd
        );
        if let Some(e) = &p.exe {
            let _ = write!(
                w,
                "<br><span class=\"exe\">{}</span>",
                esc::cell(e.as_bytes())
            );
        }
        if p.exe_deleted {
            w.push_str(" <span class=\"flag\">deleted</span>");
        }
        if p.exe_memfd {
            w.push_str(" <span class=\"flag\">memfd</span>");
        }
        if let Some(c) = &p.container {
            let _ = write!(
                w,
                "<br><span class=\"dim\">container {}</span>",
                text_str(&crate::report::container_text(c))
            );
        }
        who.push(w);
        let args: Vec<String> = p
            .cmdline
            .iter()
            .map(|a| crate::text::escape(a.as_bytes()))
            .collect();
        cmd.push(format!(
            "<code>{}</code>",
            esc::cut(&args.join(" "), esc::CELL_MAX)
        ));
    }
    if ps.len() > HOLDERS_MAX {
        who.push(format!(
            "<span class=\"dim\">and {} more holders</span>",
            ps.len() - HOLDERS_MAX
        ));
    }
    (who.join("<br>"), cmd.join("<br>"))
}

/// The rule's description in its What / Why / Respond paragraphs (the pack's convention); a
/// description without them is one paragraph.
fn explain(description: &str) -> String {
    let mut parts: Vec<(String, String)> = Vec::new();
    for line in description.lines() {
        let t = line.trim();
        let head = ["What:", "Why:", "Respond:"]
            .iter()
            .find(|h| t.starts_with(**h));
        match head {
            Some(h) => parts.push((
                h.trim_end_matches(':').to_string(),
                t[h.len()..].trim().to_string(),
            )),
            None => match parts.last_mut() {
                Some((_, body)) => {
                    body.push(' ');
                    body.push_str(t);
                }
                None => parts.push((String::new(), t.to_string())),
            },
        }
    }
    let mut out = String::from("<div class=\"explain\">");
    for (head, body) in parts {
        if body.trim().is_empty() {
            continue;
        }
        let body = inline_code(&text_str(body.trim()));
        if head.is_empty() {
            let _ = write!(out, "<p>{body}</p>");
        } else {
            let _ = write!(out, "<p><b>{head}</b> {body}</p>");
        }
    }
    out.push_str("</div>");
    out
}

/// Escaped text with its `backquoted` spans (the rule pack's Markdown) as `<code>`; text with
/// an odd number of backquotes stays as it is. The text is escaped already, so a span holds no
/// markup.
fn inline_code(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escaped.to_string();
    }
    let mut out = String::with_capacity(escaped.len() + parts.len() * 6);
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 0 {
            out.push_str(p);
        } else {
            out.push_str("<code>");
            out.push_str(p);
            out.push_str("</code>");
        }
    }
    out
}

/// Findings of the rules, by severity then rule: the rule's explanation once, then a table of
/// its findings (socket, holders, command lines, finding id).
pub fn findings(out: &mut String, r: &ScanReport, rules: &RuleSet) {
    let docs: BTreeMap<&str, &crate::rules::RuleDoc> = rules
        .rules
        .iter()
        .map(|x| (x.doc.id.as_str(), &x.doc))
        .collect();
    out.push_str("<section id=\"findings\"><h2>Findings</h2>");
    let rule_findings: Vec<&ReportFinding> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Rule)
        .collect();
    if rule_findings.is_empty() {
        out.push_str("<p class=\"none\">No rule matched.</p>");
    }
    let mut budget = FINDING_ROWS;
    for sev in Severity::ALL.iter().rev() {
        let group: Vec<&&ReportFinding> = rule_findings
            .iter()
            .filter(|f| f.severity == *sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<h3 id=\"findings-{sev}\">{} {sev} <span class=\"dim\">({})</span></h3>",
            badge(*sev),
            group.len()
        );
        let mut by_rule: BTreeMap<&str, Vec<&ReportFinding>> = BTreeMap::new();
        for f in group {
            by_rule
                .entry(f.rule_id.as_deref().unwrap_or(""))
                .or_default()
                .push(*f);
        }
        for (id, fs) in by_rule {
            rule_group(out, id, docs.get(id).copied(), &fs, r, &mut budget);
        }
    }
    out.push_str("</section>");
}

/// One rule's heading, explanation and table of findings.
fn rule_group(
    out: &mut String,
    id: &str,
    doc: Option<&crate::rules::RuleDoc>,
    fs: &[&ReportFinding],
    r: &ScanReport,
    budget: &mut usize,
) {
    let first = fs[0];
    let _ = write!(
        out,
        "<article class=\"rule\" id=\"rule-{}\"><h4>{} <code>{}</code> {}",
        esc::ident(id),
        badge(first.severity),
        text_str(id),
        text_str(&first.title)
    );
    for t in &first.tags {
        let _ = write!(out, " <span class=\"tag\">{}</span>", text_str(t));
    }
    let _ = write!(
        out,
        " <span class=\"dim\">({} finding{})</span></h4>",
        fs.len(),
        if fs.len() == 1 { "" } else { "s" }
    );
    if let Some(d) = doc {
        out.push_str(&explain(&d.description));
    }
    table_head(
        out,
        &format!("table-{id}"),
        &["Socket", "Holder", "Command line", "Finding id"],
    );
    let shown = fs.len().min(ROWS_PER_GROUP).min(*budget);
    *budget -= shown;
    for f in &fs[..shown] {
        let new = r.since_last.as_ref().is_some_and(|s| s.is_new(&f.id));
        finding_row(out, f, new);
    }
    out.push_str("</tbody></table>");
    more(out, fs.len() - shown, "sockwarden scan --format json");
    out.push_str("</article>");
}

fn finding_row(out: &mut String, f: &ReportFinding, new: bool) {
    let (who, cmd) = holders(&f.processes);
    let socket = f
        .socket
        .as_ref()
        .map(|s| socket_cell(s, f.count))
        // The message is escaped for terminals already: only HTML's characters are left.
        .unwrap_or_else(|| esc::cut(&f.message, esc::CELL_MAX));
    let _ = write!(
        out,
        "<tr{} data-finding=\"{}\"><td>{socket}</td><td>{who}</td><td>{cmd}</td><td><code>{}</code>{}</td></tr>",
        mark_attr(Some(Mark::Finding(f.severity))),
        text_str(&f.id),
        text_str(&f.id),
        if new {
            " <span class=\"flag\">new</span>"
        } else {
            ""
        }
    );
}

/// Drift from the baseline, by category (in the vocabulary's order).
pub fn drift(out: &mut String, r: &ScanReport) {
    if !r.baseline {
        return;
    }
    out.push_str("<section id=\"drift\"><h2>Drift from the baseline</h2>");
    let drift: Vec<&ReportFinding> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Drift)
        .collect();
    if drift.is_empty() {
        out.push_str("<p class=\"none\">The host matches its baseline.</p>");
    }
    let mut budget = FINDING_ROWS;
    for c in Category::ALL {
        let fs: Vec<&&ReportFinding> = drift.iter().filter(|f| f.category == Some(c)).collect();
        if fs.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<h3 id=\"drift-{c}\">{} <span class=\"dim\">({c}, {})</span></h3>",
            html(c.title()),
            fs.len()
        );
        table_head(
            out,
            &format!("table-drift-{c}"),
            &["Severity", "What", "Holder", "Command line", "Finding id"],
        );
        let shown = fs.len().min(ROWS_PER_GROUP).min(budget);
        budget -= shown;
        for f in &fs[..shown] {
            let (who, cmd) = holders(&f.processes);
            let _ = write!(
                out,
                "<tr{}><td data-v=\"{}\">{}</td><td>{}</td><td>{who}</td><td>{cmd}</td><td><code>{}</code></td></tr>",
                mark_attr(Some(Mark::Finding(f.severity))),
                f.severity.index(),
                badge(f.severity),
                esc::cut(&f.message, esc::CELL_MAX),
                text_str(&f.id)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            fs.len() - shown,
            "sockwarden scan --baseline FILE --format json",
        );
    }
    out.push_str("</section>");
}

/// A diff's changes: one table per part (listeners, connections, processes), each line marked
/// added, removed or changed. `command` is what lists them all.
pub fn changes(out: &mut String, d: &SnapshotDiff, command: &str) {
    for (name, c) in [
        ("listeners", &d.listeners),
        ("connections", &d.connections),
        ("processes", &d.processes),
    ] {
        let n = c.added.len() + c.removed.len() + c.changed.len();
        let _ = write!(
            out,
            "<h3 id=\"changes-{name}\">{} <span class=\"dim\">(+{} −{} ~{})</span></h3>",
            html(&capitalised(name)),
            c.added.len(),
            c.removed.len(),
            c.changed.len()
        );
        if n == 0 {
            out.push_str("<p class=\"none\">No change.</p>");
            continue;
        }
        change_table(out, name, c, command);
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn change_table(out: &mut String, name: &str, c: &Changes, command: &str) {
    table_head(out, &format!("table-changes-{name}"), &["Change", "Entry"]);
    let rows = [
        ("added", "+", &c.added),
        ("removed", "−", &c.removed),
        ("changed", "~", &c.changed),
    ];
    let total: usize = rows.iter().map(|r| r.2.len()).sum();
    for (what, sign, list) in rows.iter() {
        let keep = ROWS_PER_GROUP.min(list.len());
        for line in &list[..keep] {
            let _ = write!(
                out,
                "<tr class=\"change-{what}\"><td>{sign} {what}</td><td>{}</td></tr>",
                text_str(line)
            );
        }
    }
    out.push_str("</tbody></table>");
    let shown: usize = rows.iter().map(|r| ROWS_PER_GROUP.min(r.2.len())).sum();
    more(out, total - shown, command);
}

/// `scan --since-last`: the previous run, which findings are new, and what changed.
pub fn since_last(out: &mut String, r: &ScanReport) {
    let Some(s) = &r.since_last else {
        return;
    };
    let prev = match (&s.run, &s.started_at) {
        (Some(run), Some(at)) => format!("run {run} ({})", text_str(at)),
        _ => "the first recorded run (none before)".into(),
    };
    let _ = write!(
        out,
        "<section id=\"since-last\"><h2>Since the last recorded run</h2><p>Since {prev}: {} new, {} still present, {} resolved findings.</p>",
        s.new.len(),
        s.still_present.len(),
        s.resolved.len()
    );
    changes(
        out,
        &s.changes,
        "sockwarden scan --since-last --format json",
    );
    out.push_str("</section>");
}

/// A process as the tables name it: `comm [pid]` and its user, escaped.
fn proc_name(snap: &Snapshot, pid: u32) -> (String, String, String) {
    match snap.process(pid) {
        Some(p) => (
            format!("{} [{pid}]", esc::cell(p.comm.as_bytes())),
            p.user
                .as_deref()
                .map(|u| esc::cell(u.as_bytes()))
                .unwrap_or_else(|| format!("uid {}", p.uid)),
            p.exe
                .as_ref()
                .map(|e| esc::cell(e.as_bytes()))
                .unwrap_or_default(),
        ),
        None => (format!("[{pid}]"), String::new(), String::new()),
    }
}

/// The listeners with their holders and the connections they accepted.
pub fn listeners(out: &mut String, snap: &Snapshot, v: &HostView) {
    let _ = write!(
        out,
        "<section id=\"listeners\"><h2>Listeners <span class=\"dim\">({})</span></h2>",
        v.listeners.len()
    );
    if v.listeners.is_empty() {
        out.push_str("<p class=\"none\">Nothing listens.</p></section>");
        return;
    }
    table_head(
        out,
        "table-listeners",
        &["Listener", "Holders", "Accepted connections"],
    );
    // Marked first, then the busiest, then by name.
    let mut order: Vec<usize> = (0..v.listeners.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (&v.listeners[*a], &v.listeners[*b]);
        y.mark
            .cmp(&x.mark)
            .then(y.conns.cmp(&x.conns))
            .then(a.cmp(b))
    });
    for i in order.iter().take(ROWS_PER_TABLE) {
        let l = &v.listeners[*i];
        let mut who: Vec<String> = l
            .holders
            .iter()
            .take(HOLDERS_MAX)
            .map(|pid| {
                let (name, user, _) = proc_name(snap, *pid);
                format!("{name} <span class=\"dim\">{user}</span>")
            })
            .collect();
        if l.holders.len() > HOLDERS_MAX {
            who.push(format!(
                "<span class=\"dim\">and {} more holders</span>",
                l.holders.len() - HOLDERS_MAX
            ));
        }
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>",
            mark_attr(l.mark),
            esc::cut(&l.label, esc::CELL_MAX),
            who.join("<br>"),
            l.conns
        );
    }
    out.push_str("</tbody></table>");
    more(
        out,
        v.listeners.len().saturating_sub(ROWS_PER_TABLE),
        "sockwarden list -tulp --json",
    );
    out.push_str("</section>");
}

/// The processes holding the most sockets.
pub fn talkers(out: &mut String, snap: &Snapshot, v: &HostView) {
    let _ = write!(
        out,
        "<section id=\"talkers\"><h2>Top talkers <span class=\"dim\">({} processes hold sockets)</span></h2>",
        v.procs.len()
    );
    table_head(
        out,
        "table-talkers",
        &[
            "Process",
            "User",
            "Executable",
            "Sockets",
            "Listening",
            "Inbound",
            "Outbound",
        ],
    );
    let mut order: Vec<(&u32, &super::view::ProcStat)> = v.procs.iter().collect();
    order.sort_by(|a, b| {
        b.1.sockets
            .cmp(&a.1.sockets)
            .then(b.1.mark.cmp(&a.1.mark))
            .then(a.0.cmp(b.0))
    });
    for (pid, p) in order.iter().take(ROWS_PER_TABLE) {
        let (name, user, exe) = proc_name(snap, **pid);
        let _ = write!(
            out,
            "<tr{}><td>{name}</td><td>{user}</td><td class=\"exe\">{exe}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            mark_attr(p.mark),
            p.sockets,
            p.listening,
            p.inbound,
            p.outbound
        );
    }
    out.push_str("</tbody></table>");
    more(
        out,
        v.procs.len().saturating_sub(ROWS_PER_TABLE),
        "sockwarden list -ap --json",
    );
    out.push_str("</section>");
}

/// Remote peers, both ways, the busiest first.
pub fn peers(out: &mut String, v: &HostView) {
    let total = v.peers_in.len() + v.peers_out.len();
    let _ = write!(
        out,
        "<section id=\"peers\"><h2>Remote peers <span class=\"dim\">({total})</span></h2>"
    );
    if total == 0 {
        out.push_str("<p class=\"none\">No connection.</p></section>");
        return;
    }
    table_head(
        out,
        "table-peers",
        &["Address", "Direction", "Connections", "Ports", "Processes"],
    );
    let mut rows: Vec<(&str, &std::net::IpAddr, &super::view::Peer)> = v
        .peers_in
        .iter()
        .map(|(a, p)| ("inbound", a, p))
        .chain(v.peers_out.iter().map(|(a, p)| ("outbound", a, p)))
        .collect();
    rows.sort_by(|a, b| {
        b.2.mark
            .cmp(&a.2.mark)
            .then(b.2.conns.cmp(&a.2.conns))
            .then(a.1.cmp(b.1))
            .then(a.0.cmp(b.0))
    });
    for (dir, a, p) in rows.iter().take(ROWS_PER_TABLE) {
        let ports: Vec<String> = p.ports.iter().take(12).map(u16::to_string).collect();
        let pids: Vec<String> = p.pids.iter().take(12).map(u32::to_string).collect();
        let _ = write!(
            out,
            "<tr{}><td>{a}</td><td>{dir}</td><td>{}</td><td>{}{}</td><td>{}{}</td></tr>",
            mark_attr(p.mark),
            p.conns,
            ports.join(", "),
            if p.ports.len() > 12 { ", …" } else { "" },
            pids.join(", "),
            if p.pids.len() > 12 { ", …" } else { "" }
        );
    }
    out.push_str("</tbody></table>");
    more(
        out,
        total.saturating_sub(ROWS_PER_TABLE),
        "sockwarden list -tuap --json",
    );
    out.push_str("</section>");
}
