//! The table for people: findings grouped by severity, most severe first, each with the
//! evidence a responder needs on one or two lines, then a summary and what could not be seen.
//! Every attacker-controlled string goes through [`crate::text::escape`].

use std::fmt::Write;

use super::{ProcessRef, ReportFinding, ScanReport, SocketRef, endpoint_text};
use crate::rules::Severity;
use crate::text::{escape, escape_str};

/// ANSI style of a severity heading.
fn paint(sev: Severity, text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The table; `color` adds ANSI colours to the severity headings (the caller decides: a
/// terminal, and NO_COLOR unset). Lines are cut to the terminal's width when it is known.
pub fn render(r: &ScanReport, color: bool) -> String {
    let width = if color { terminal_width() } else { None };
    let text = render_plain(r, color);
    match width {
        Some(w) if w > 20 => {
            text.lines()
                .map(|l| fit(l, w))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }
        _ => text,
    }
}

/// The terminal's width from $COLUMNS (set by shells for their children).
fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}

/// Cuts a line to `w` characters (ANSI sequences, which only headings carry, count as zero).
fn fit(line: &str, w: usize) -> String {
    if line.contains('\x1b') || line.chars().count() <= w {
        return line.to_string();
    }
    let mut s: String = line.chars().take(w.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// `--since-last`: one line on the findings, then the changes as `diff` shows them.
fn since_last(s: &super::SinceLast) -> String {
    let prev = match (&s.run, &s.started_at) {
        (Some(run), Some(at)) => format!("run {run} ({})", crate::text::escape_str(at)),
        _ => "the first recorded run (none before)".into(),
    };
    let mut out = format!(
        "since {prev}: {} new, {} still present, {} resolved findings\n",
        s.new.len(),
        s.still_present.len(),
        s.resolved.len()
    );
    let diff = s.changes.render_table();
    out.extend(diff.lines().skip(2).map(|l| format!("  {l}\n")));
    out
}

fn render_plain(r: &ScanReport, color: bool) -> String {
    let mut out = String::new();
    if let Some(s) = &r.since_last {
        out.push_str(&since_last(s));
    }
    for sev in Severity::ALL.iter().rev() {
        let group: Vec<_> = r.findings.iter().filter(|f| f.severity == *sev).collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", sev.name().to_uppercase(), group.len());
        let _ = writeln!(out, "{}", paint(*sev, &heading, color));
        for f in group {
            if r.since_last.as_ref().is_some_and(|s| s.is_new(&f.id)) {
                out.push_str("NEW ");
            }
            finding(&mut out, f);
        }
        out.push('\n');
    }
    summary(&mut out, r);
    out
}

/// One finding: its rule (or drift category) and title, the socket, then each holder.
fn finding(out: &mut String, f: &ReportFinding) {
    let label = match (&f.rule_id, f.category) {
        (Some(r), _) => r.clone(),
        (None, Some(c)) => format!("drift:{}", c.name()),
        (None, None) => String::new(),
    };
    let _ = writeln!(out, "  {label:<12} {}", escape_str(&f.title));
    if f.kind == super::FindingKind::Drift {
        let _ = writeln!(out, "  {:<12} {}", "", escape_str(&f.message));
    }
    if let Some(s) = &f.socket {
        let _ = writeln!(out, "  {:<12} {}", "", socket(s, f.count));
    }
    for p in &f.processes {
        let _ = writeln!(out, "  {:<12} {}", "", holder(p));
    }
}

/// The socket line: protocol, state, endpoints or unix name, packet details, aggregate count.
pub(crate) fn socket(s: &SocketRef, count: Option<u64>) -> String {
    let mut what = format!("{} {}", s.protocol.netid(), s.state.name());
    if s.protocol.is_inet() {
        let _ = write!(
            what,
            " {} -> {}",
            endpoint_text(s.local),
            endpoint_text(s.remote)
        );
    }
    if let Some(n) = &s.unix_name {
        let _ = write!(
            what,
            " {}{}",
            if s.unix_abstract { "@" } else { "" },
            escape(n.as_bytes())
        );
    }
    if let Some(e) = s.ethertype {
        let _ = write!(what, " ethertype 0x{e:04x}");
    }
    if let Some(i) = &s.interface {
        let _ = write!(what, " dev {}", escape_str(i));
    }
    if let Some(b) = s.bpf_len {
        let _ = write!(what, " bpf {b} insns");
    }
    if let Some(ns) = &s.netns {
        let _ = write!(what, " netns {}", escape_str(ns));
    }
    if let Some(c) = count {
        let _ = write!(what, " (x{c})");
    }
    what
}

/// A holder line: pid, fd, user, comm, exe (flagged when deleted or memfd) and command line.
fn holder(p: &ProcessRef) -> String {
    let exe = p
        .exe
        .as_ref()
        .map(|e| escape(e.as_bytes()))
        .unwrap_or_else(|| "?".into());
    let mut flags = String::new();
    if p.exe_deleted {
        flags.push_str(" (deleted)");
    }
    if p.exe_memfd {
        flags.push_str(" (memfd)");
    }
    if let Some(c) = &p.container {
        flags.push_str(" container ");
        flags.push_str(&escape_str(&super::container_text(c)));
    }
    let cmd: Vec<String> = p.cmdline.iter().map(|a| escape(a.as_bytes())).collect();
    format!(
        "pid {} fd {} user {} comm {} exe {exe}{flags} cmd {}",
        p.pid,
        p.fd,
        p.user
            .as_deref()
            .map(escape_str)
            .unwrap_or_else(|| p.uid.to_string()),
        escape(p.comm.as_bytes()),
        cmd.join(" ")
    )
}

/// The counts line, the warnings, and what a partial scan did not cover.
fn summary(out: &mut String, r: &ScanReport) {
    let by: Vec<String> = r
        .summary
        .by_severity
        .iter()
        .rev()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(
        out,
        "{} finding{}{} in {} sockets, {} processes, {} rules.",
        r.summary.findings,
        if r.summary.findings == 1 { "" } else { "s" },
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        },
        r.summary.sockets,
        r.summary.processes,
        r.summary.rules
    );
    for w in &r.warnings {
        let _ = writeln!(
            out,
            "warning: {} ({}: {})",
            escape_str(&w.message),
            escape_str(&w.code),
            w.count
        );
    }
    if let Some(f) = &r.coverage.filter {
        let _ = writeln!(
            out,
            "coverage: only the sockets the ss filter `{f}` selects"
        );
    }
    if !r.coverage.complete {
        let _ = writeln!(
            out,
            "COVERAGE INCOMPLETE (--allow-partial): this report does not cover:"
        );
        for g in &r.coverage.gaps {
            let _ = writeln!(out, "  {}: {}", escape_str(&g.scope), escape_str(&g.reason));
        }
    }
}
