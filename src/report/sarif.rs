//! SARIF 2.1.0, for code-scanning services (GitHub code scanning) and SARIF viewers: the rules
//! table from the rules' own documentation, one result per finding with a level from its
//! severity, `partialFingerprints` from the stable finding id (so a finding is tracked across
//! runs), and the scan's warnings as tool execution notifications. Validated against the
//! official schema in the tests.

use serde_json::{Value, json};

use super::{ReportFinding, ScanReport, endpoint_text};
use crate::baseline::Category;
use crate::rules::{RuleSet, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0-10.0) for ranking.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters and `/`.
fn uri_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// The rules table: every loaded rule, then one descriptor per drift category.
fn descriptors(rules: &RuleSet) -> Vec<Value> {
    let mut descriptors: Vec<Value> = rules.rules.iter().map(rule_descriptor).collect();
    for c in Category::ALL {
        descriptors.push(json!({
            "id": drift_rule_id(c),
            "name": c.title(),
            "shortDescription": {"text": c.title()},
            "fullDescription": {"text": format!("Drift against the known-good baseline: {}.", c.name())},
            "help": {"text": "See docs/baseline.md. Accept an expected change with `sockwarden baseline update FILE --accept ID`."},
            "defaultConfiguration": {"level": level(c.default_severity())},
            "properties": {"tags": ["security", "drift"], "security-severity": security_severity(c.default_severity())},
        }));
    }
    descriptors
}

/// A rule's SARIF tags: ATT&CK techniques as `external/attack/T...` (GitHub code scanning's
/// convention), every other tag (`cis:4.1`, `site:dmz`) as written, then `security`.
fn sarif_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| {
            if crate::rules::tags::is_attack(t) {
                format!("external/attack/{t}")
            } else {
                t.clone()
            }
        })
        .chain(["security".to_string()])
        .collect()
}

/// One rule's descriptor; the helpUri of a rule without references is left out, not null.
fn rule_descriptor(rule: &crate::rules::Rule) -> Value {
    let d = &rule.doc;
    let first = d.description.lines().next().unwrap_or_default().to_string();
    let mut v = json!({
        "id": d.id,
        "name": d.title,
        "shortDescription": {"text": d.title},
        "fullDescription": {"text": first},
        "help": {"text": d.description, "markdown": crate::rules::doc::render_markdown(rule)},
        "defaultConfiguration": {"level": level(d.severity)},
        "properties": {
            "tags": sarif_tags(&d.tags),
            "security-severity": security_severity(d.severity),
            "precision": if matches!(d.status, crate::rules::Status::Stable) { "high" } else { "medium" },
        },
    });
    if let Some(uri) = d.references.first() {
        v["helpUri"] = json!(uri);
    }
    v
}

/// One finding as a result, located at the socket it is about (`sockets/HOST/PROTO/ENDPOINT`).
fn result(r: &ScanReport, f: &ReportFinding) -> Value {
    let rule_id = match (&f.rule_id, f.category) {
        (Some(id), _) => id.clone(),
        (None, Some(c)) => drift_rule_id(c),
        _ => String::new(),
    };
    // A socket in another namespace (several dumped) is located under it: `netns/LABEL/...`.
    let what = f.socket.as_ref().map_or_else(
        || "baseline".to_string(),
        |s| {
            let netns = s
                .netns
                .as_ref()
                .map(|n| format!("netns/{n}/"))
                .unwrap_or_default();
            if s.protocol.is_inet() {
                format!("{netns}{}/{}", s.protocol.netid(), endpoint_text(s.local))
            } else if let Some(n) = &s.unix_name {
                format!("{netns}{}/{}", s.protocol.netid(), n.to_str_lossy())
            } else {
                format!("{netns}{}/inode-{}", s.protocol.netid(), s.inode)
            }
        },
    );
    json!({
        "ruleId": rule_id,
        "level": level(f.severity),
        "message": {"text": f.message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri_escape(&format!("sockets/{}/{what}", r.host))}},
            "logicalLocations": [{"name": what, "fullyQualifiedName": format!("{}/{what}", r.host), "kind": "resource"}],
        }],
        "partialFingerprints": {"sockwardenFindingId/v2": f.id},
        "properties": {
            "kind": f.kind,
            "severity": f.severity.name(),
            "finding": serde_json::to_value(f).expect("a finding serializes"),
        },
    })
}

/// The scan's warnings, and each coverage gap as an error notification.
fn notifications(r: &ScanReport) -> Vec<Value> {
    r.warnings
        .iter()
        .map(|w| {
            json!({
                "level": "warning",
                "message": {"text": format!("{} ({} times)", w.message, w.count)},
                "descriptor": {"id": w.code},
            })
        })
        .chain(r.coverage.gaps.iter().map(|g| {
            json!({
                "level": "error",
                "message": {"text": format!("could not read {}: {}", g.scope, g.reason)},
                "descriptor": {"id": "coverage_gap"},
            })
        }))
        .collect()
}

fn drift_rule_id(c: Category) -> String {
    format!("DRIFT-{}", c.name().to_uppercase().replace('_', "-"))
}

/// The SARIF 2.1.0 log of a scan (see the module documentation).
pub fn render(r: &ScanReport, rules: &RuleSet) -> String {
    let descriptors = descriptors(rules);
    let index_of = |id: &str| descriptors.iter().position(|d| d["id"] == id);
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut res = result(r, f);
            if let Some(i) = res["ruleId"].as_str().and_then(index_of) {
                res["ruleIndex"] = json!(i);
            }
            res
        })
        .collect();
    let notifications = notifications(r);
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sockwarden",
                "version": r.tool.version,
                "semanticVersion": r.tool.version,
                "informationUri": "https://github.com/sockwarden/sockwarden",
                "rules": descriptors,
            }},
            "invocations": [{
                "executionSuccessful": r.coverage.complete,
                "toolExecutionNotifications": notifications,
            }],
            "properties": {"host": r.host, "startedAt": r.started_at},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}
