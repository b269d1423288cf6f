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

/// Writes one metric family: its HELP and TYPE lines, then one sample per `(labels, value)`
/// (`labels` already formatted, `{a="b"}` or empty).
fn family(o: &mut String, name: &str, help: &str, samples: Vec<(String, String)>) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(o, "{name}{labels} {value}");
    }
}

/// One sample without labels.
fn single(value: impl ToString) -> Vec<(String, String)> {
    vec![(String::new(), value.to_string())]
}

/// Renders the report as Prometheus text exposition (see the module documentation).
pub fn render(r: &ScanReport) -> String {
    let mut o = String::new();
    family(
        &mut o,
        "sockwarden_findings",
        "Findings of the last scan, by kind (rule or drift), id (rule id or drift category) and severity.",
        findings(r),
    );
    family(
        &mut o,
        "sockwarden_findings_by_severity",
        "Findings of the last scan by severity, every severity present.",
        r.summary
            .by_severity
            .iter()
            .map(|(sev, n)| (format!("{{severity=\"{sev}\"}}"), n.to_string()))
            .collect(),
    );
    family(
        &mut o,
        "sockwarden_sockets",
        "Sockets seen by the last scan, by protocol and state.",
        r.socket_counts
            .iter()
            .map(|((p, s), n)| {
                let labels = format!("{{protocol=\"{}\",state=\"{s}\"}}", p.netid());
                (labels, n.to_string())
            })
            .collect(),
    );
    family(
        &mut o,
        "sockwarden_processes",
        "Processes holding sockets in the last scan.",
        single(r.summary.processes),
    );
    family(
        &mut o,
        "sockwarden_rules",
        "Rules evaluated by the last scan.",
        single(r.summary.rules),
    );
    coverage(&mut o, r);
    family(
        &mut o,
        "sockwarden_scan_success",
        "1 when the last scan completed.",
        single(1),
    );
    times(&mut o, r);
    o
}

/// `sockwarden_findings`: one label set for the whole family (node_exporter refuses a file that
/// mixes them): `id` is the rule id, or the drift category.
fn findings(r: &ScanReport) -> Vec<(String, String)> {
    let mut by: BTreeMap<(String, &str, Severity), u64> = BTreeMap::new();
    for f in &r.findings {
        let name = match (&f.rule_id, f.category) {
            (Some(id), _) => id.clone(),
            (None, Some(c)) => c.name().to_string(),
            _ => String::new(),
        };
        *by.entry((name, f.kind.name(), f.severity)).or_default() += 1;
    }
    by.into_iter()
        .map(|((name, kind, sev), n)| {
            let labels = format!(
                "{{kind=\"{kind}\",id=\"{}\",severity=\"{sev}\"}}",
                label(&name)
            );
            (labels, n.to_string())
        })
        .collect()
}

/// What the scan could not see: warnings by code, whether coverage was complete, and each gap.
fn coverage(o: &mut String, r: &ScanReport) {
    family(
        o,
        "sockwarden_warnings",
        "What the last scan could not see, by warning code.",
        r.warnings
            .iter()
            .map(|w| {
                (
                    format!("{{code=\"{}\"}}", label(&w.code)),
                    w.count.to_string(),
                )
            })
            .collect(),
    );
    family(
        o,
        "sockwarden_coverage_complete",
        "1 when the last scan saw every scope it was asked to see; 0 with --allow-partial and \
         a gap.",
        single(u8::from(r.coverage.complete)),
    );
    if r.coverage.gaps.is_empty() {
        return;
    }
    family(
        o,
        "sockwarden_coverage_gap",
        "A scope the last scan could not read (1 per scope).",
        r.coverage
            .gaps
            .iter()
            .map(|g| {
                let labels = format!(
                    "{{scope=\"{}\",reason=\"{}\"}}",
                    label(&g.scope),
                    label(&g.reason)
                );
                (labels, "1".to_string())
            })
            .collect(),
    );
}

/// When the scanned snapshot was taken and, for a live scan, how long the scan took.
fn times(o: &mut String, r: &ScanReport) {
    if let Ok(t) = humantime::parse_rfc3339(&r.started_at) {
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        family(
            o,
            "sockwarden_last_scan_timestamp_seconds",
            "When the scanned snapshot was taken, Unix time.",
            single(secs),
        );
    }
    if let Some(d) = r.duration_seconds {
        family(
            o,
            "sockwarden_scan_duration_seconds",
            "Wall time of the last live scan.",
            single(format!("{d:.3}")),
        );
    }
}
