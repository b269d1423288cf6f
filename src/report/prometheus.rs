//! Prometheus text exposition for node_exporter's textfile collector: findings by rule (or drift
//! category) and severity, sockets by protocol and state, scan success, last scan time and, for a
//! live scan, its duration. A fleet alerts on these through Prometheus and Alertmanager with no
//! server of ours. Output passes `promtool check metrics` (tested).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::ScanReport;
use crate::rules::Severity;

/// A label value: control and invisible characters made visible first ([`escape_str`]), then
/// `\`, `"` and newlines escaped, per the exposition format.
fn label(v: &str) -> String {
    crate::text::escape_str(v)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(o: &mut String, name: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} gauge");
}

pub fn render(r: &ScanReport) -> String {
    let mut o = String::new();
    header(
        &mut o,
        "sockwarden_findings",
        "Findings of the last scan, by kind (rule or drift), id (rule id or drift category) and severity.",
    );
    let mut by: BTreeMap<(String, &str, Severity), u64> = BTreeMap::new();
    for f in &r.findings {
        let name = match (&f.rule_id, f.category) {
            (Some(id), _) => id.clone(),
            (None, Some(c)) => c.name().to_string(),
            _ => String::new(),
        };
        *by.entry((name, f.kind.name(), f.severity)).or_default() += 1;
    }
    // One label set for the whole family (node_exporter refuses a file that mixes them): `id`
    // is the rule id, or the drift category.
    for ((name, kind, sev), n) in &by {
        let _ = writeln!(
            o,
            "sockwarden_findings{{kind=\"{kind}\",id=\"{}\",severity=\"{}\"}} {n}",
            label(name),
            sev.name()
        );
    }
    header(
        &mut o,
        "sockwarden_findings_by_severity",
        "Findings of the last scan by severity, every severity present.",
    );
    for (sev, n) in &r.summary.by_severity {
        let _ = writeln!(
            o,
            "sockwarden_findings_by_severity{{severity=\"{}\"}} {n}",
            sev.name()
        );
    }
    header(
        &mut o,
        "sockwarden_sockets",
        "Sockets seen by the last scan, by protocol and state.",
    );
    for ((p, s), n) in &r.socket_counts {
        let _ = writeln!(
            o,
            "sockwarden_sockets{{protocol=\"{}\",state=\"{}\"}} {n}",
            p.netid(),
            s.name()
        );
    }
    header(
        &mut o,
        "sockwarden_processes",
        "Processes holding sockets in the last scan.",
    );
    let _ = writeln!(o, "sockwarden_processes {}", r.summary.processes);
    header(
        &mut o,
        "sockwarden_rules",
        "Rules evaluated by the last scan.",
    );
    let _ = writeln!(o, "sockwarden_rules {}", r.summary.rules);
    header(
        &mut o,
        "sockwarden_warnings",
        "What the last scan could not see, by warning code.",
    );
    for w in &r.warnings {
        let _ = writeln!(
            o,
            "sockwarden_warnings{{code=\"{}\"}} {}",
            label(&w.code),
            w.count
        );
    }
    header(
        &mut o,
        "sockwarden_coverage_complete",
        "1 when the last scan saw every scope it was asked to see; 0 with --allow-partial and \
         a gap.",
    );
    let _ = writeln!(
        o,
        "sockwarden_coverage_complete {}",
        u8::from(r.coverage.complete)
    );
    if !r.coverage.gaps.is_empty() {
        header(
            &mut o,
            "sockwarden_coverage_gap",
            "A scope the last scan could not read (1 per scope).",
        );
        for g in &r.coverage.gaps {
            let _ = writeln!(
                o,
                "sockwarden_coverage_gap{{scope=\"{}\",reason=\"{}\"}} 1",
                label(&g.scope),
                label(&g.reason)
            );
        }
    }
    header(
        &mut o,
        "sockwarden_scan_success",
        "1 when the last scan completed.",
    );
    let _ = writeln!(o, "sockwarden_scan_success 1");
    if let Ok(t) = humantime::parse_rfc3339(&r.started_at) {
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        header(
            &mut o,
            "sockwarden_last_scan_timestamp_seconds",
            "When the scanned snapshot was taken, Unix time.",
        );
        let _ = writeln!(o, "sockwarden_last_scan_timestamp_seconds {secs}");
    }
    if let Some(d) = r.duration_seconds {
        header(
            &mut o,
            "sockwarden_scan_duration_seconds",
            "Wall time of the last live scan.",
        );
        let _ = writeln!(o, "sockwarden_scan_duration_seconds {d:.3}");
    }
    o
}
