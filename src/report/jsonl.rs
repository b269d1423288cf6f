//! JSON Lines for SIEM ingestion: one finding per line, with Elastic Common Schema field names
//! where ECS has the field (nested objects, as ECS documents are): `@timestamp`, `event.*`,
//! `rule.*`, `source.*` (the local end), `destination.*` (the remote end), `network.transport`,
//! `process.*`, `user.name`, `host.hostname`; the rest under `sockwarden.*`.

use serde_json::{Map, Value, json};

use super::{ProcessRef, ReportFinding, ScanReport, SocketRef};
use crate::model::{Family, Protocol};
use crate::rules::Severity;

/// One finding as an ECS document.
fn finding(r: &ScanReport, f: &ReportFinding) -> Value {
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(r.started_at));
    doc.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "category": ["network"],
            "type": ["info"],
            "severity": ecs_severity(f.severity),
            "id": f.id,
            "dataset": format!("sockwarden.{}", f.kind),
        }),
    );
    doc.insert("host".into(), json!({"hostname": r.host}));
    doc.insert("message".into(), json!(f.message));
    doc.insert("rule".into(), rule(f));
    if let Some(s) = &f.socket {
        socket(&mut doc, s);
    }
    if let Some(p) = f.processes.first() {
        process(&mut doc, p);
    }
    // Everything else, exact, in sockwarden's own terms (docs/report.md).
    doc.insert(
        "sockwarden".into(),
        serde_json::to_value(f).expect("a finding serializes"),
    );
    Value::Object(doc)
}

/// `rule.*`: id, name and the tags as the reference.
fn rule(f: &ReportFinding) -> Value {
    let mut rule = Map::new();
    if let Some(id) = &f.rule_id {
        rule.insert("id".into(), json!(id));
    }
    rule.insert("name".into(), json!(f.title));
    if !f.tags.is_empty() {
        rule.insert("reference".into(), json!(f.tags.join(",")));
    }
    Value::Object(rule)
}

/// `source.*` (the local end), `destination.*` (the remote end) and `network.*`.
fn socket(doc: &mut Map<String, Value>, s: &SocketRef) {
    if let Some(l) = s.local {
        doc.insert("source".into(), json!({"ip": l.address, "port": l.port}));
    }
    if let Some(rm) = s.remote {
        doc.insert(
            "destination".into(),
            json!({"ip": rm.address, "port": rm.port}),
        );
    }
    let transport = match s.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Raw => "ip",
        _ => s.protocol.netid(),
    };
    let kind = match s.family {
        Family::Inet => "ipv4",
        Family::Inet6 => "ipv6",
        Family::Unix => "unix",
        Family::Packet => "packet",
    };
    doc.insert(
        "network".into(),
        json!({"transport": transport, "type": kind}),
    );
}

/// `process.*`, `user.*` and `container.*` of the first holder.
fn process(doc: &mut Map<String, Value>, p: &ProcessRef) {
    let cmd: Vec<String> = p
        .cmdline
        .iter()
        .map(|a| a.to_str_lossy().into_owned())
        .collect();
    doc.insert(
        "process".into(),
        json!({
            "pid": p.pid,
            "parent": {"pid": p.ppid},
            "name": p.comm.to_str_lossy(),
            "executable": p.exe.as_ref().map(|e| e.to_str_lossy().into_owned()),
            "command_line": cmd.join(" "),
            "args": cmd,
            "user": {"id": p.uid.to_string()},
        }),
    );
    if let Some(u) = &p.user {
        doc.insert("user".into(), json!({"name": u, "id": p.uid.to_string()}));
    }
    if let Some(c) = &p.container {
        doc.insert(
            "container".into(),
            json!({"id": c.id, "runtime": c.runtime}),
        );
    }
}

/// ECS `event.severity` is numeric: 21 low ... 99 critical (the Elastic detection-rule scale).
fn ecs_severity(s: Severity) -> u32 {
    match s {
        Severity::Info => 0,
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    }
}

/// One JSON line per finding, then one coverage event for a partial scan.
pub fn render(r: &ScanReport) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&serde_json::to_string(&finding(r, f)).expect("a line serializes"));
        out.push('\n');
    }
    // A partial scan (--allow-partial) says so in the stream the SIEM reads: one error event.
    if !r.coverage.complete {
        let gaps: Vec<String> = r.coverage.gaps.iter().map(ToString::to_string).collect();
        let doc = json!({
            "@timestamp": r.started_at,
            "event": {
                "kind": "event",
                "category": ["host"],
                "type": ["error"],
                "dataset": "sockwarden.coverage",
                "outcome": "failure",
            },
            "host": {"hostname": r.host},
            "message": format!("coverage incomplete: {}", gaps.join("; ")),
            "sockwarden": {"coverage": r.coverage},
        });
        out.push_str(&serde_json::to_string(&doc).expect("a line serializes"));
        out.push('\n');
    }
    out
}
