//! JSON Lines for SIEM ingestion: one finding per line, with Elastic Common Schema field names
//! where ECS has the field (nested objects, as ECS documents are): `@timestamp`, `ecs.version`,
//! `event.*`, `rule.*`, `threat.*` (the ATT&CK techniques), `source.*` and `destination.*` (each
//! end where ECS puts it: the initiator is the source, see `ends()`), `network.*` with
//! `network.direction` from the host's point of view, `process.*`, `user.*`, `container.*`,
//! `host.hostname`; the rest under `sockwarden.*`. `tests/it/ecs.rs` checks every field, type and
//! categorisation value against ECS's own field list.

use serde_json::{Map, Value, json};

use super::{Direction, ProcessRef, ReportFinding, ScanReport, SocketRef};
use crate::model::{Endpoint, Family, Protocol};
use crate::rules::Severity;

/// The ECS version whose field list the events are checked against (tests/fixtures/ecs/).
pub const ECS_VERSION: &str = "9.5.0-dev";

/// One finding as an ECS document.
fn finding(r: &ScanReport, f: &ReportFinding) -> Value {
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(r.started_at));
    doc.insert("ecs".into(), json!({"version": ECS_VERSION}));
    let connection = f
        .socket
        .as_ref()
        .is_some_and(|s| matches!(s.direction, Some(Direction::Inbound | Direction::Outbound)));
    doc.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "category": ["network"],
            "type": [if connection { "connection" } else { "info" }],
            "severity": ecs_severity(f.severity),
            "id": f.id,
            "dataset": format!("sockwarden.{}", f.kind),
        }),
    );
    doc.insert("host".into(), json!({"hostname": r.host}));
    doc.insert("message".into(), json!(f.message));
    doc.insert("rule".into(), rule(f));
    if let Some(t) = threat(&f.tags) {
        doc.insert("threat".into(), t);
    }
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

/// `rule.*`: id and name.
fn rule(f: &ReportFinding) -> Value {
    let mut rule = Map::new();
    if let Some(id) = &f.rule_id {
        rule.insert("id".into(), json!(id));
    }
    rule.insert("name".into(), json!(f.title));
    Value::Object(rule)
}

/// `threat.*`: the rule's ATT&CK tags, techniques (`T1059`) in `threat.technique.id` and
/// sub-techniques (`T1059.004`) in `threat.technique.subtechnique.id`, each with its parent
/// technique listed; `None` without ATT&CK tags. Other tags stay in `sockwarden.tags`.
fn threat(tags: &[String]) -> Option<Value> {
    // Only ATT&CK technique ids map to threat.*: `cis:4.1` or `site:dmz` are not techniques.
    let tags: Vec<&str> = tags
        .iter()
        .map(String::as_str)
        .filter(|t| crate::rules::tags::is_attack(t))
        .collect();
    if tags.is_empty() {
        return None;
    }
    let techniques: std::collections::BTreeSet<&str> = tags
        .iter()
        .map(|&t| t.split('.').next().unwrap_or(t))
        .collect();
    let subs: Vec<&str> = tags.iter().copied().filter(|t| t.contains('.')).collect();
    let mut technique = Map::new();
    technique.insert("id".into(), json!(techniques));
    if !subs.is_empty() {
        technique.insert("subtechnique".into(), json!({"id": subs}));
    }
    Some(json!({"framework": "MITRE ATT&CK", "technique": technique}))
}

/// Where each end goes in ECS and the direction: the source is the side that initiated the
/// connection. A listener is a destination waiting for sources (no made-up `0.0.0.0:0` peer); an
/// accepted connection comes from the remote end to the local one (ingress); a client's goes
/// from the local end out (egress). A socket of no known direction keeps the local end as the
/// source and a remote end, when it has a real one, as the destination.
fn ends(s: &SocketRef) -> (Option<Endpoint>, Option<Endpoint>, Option<&'static str>) {
    let remote = s
        .remote
        .filter(|r| r.port != 0 || !r.address.is_unspecified());
    match s.direction {
        Some(Direction::Listening) => (None, s.local, Some("ingress")),
        Some(Direction::Inbound) => (remote, s.local, Some("ingress")),
        Some(Direction::Outbound) => (s.local, remote, Some("egress")),
        None => (s.local, remote, None),
    }
}

/// `source.*`, `destination.*` and `network.*`.
fn socket(doc: &mut Map<String, Value>, s: &SocketRef) {
    let (source, destination, direction) = ends(s);
    if let Some(e) = source {
        doc.insert("source".into(), json!({"ip": e.address, "port": e.port}));
    }
    if let Some(e) = destination {
        doc.insert(
            "destination".into(),
            json!({"ip": e.address, "port": e.port}),
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
    let mut network = json!({"transport": transport, "type": kind});
    if let Some(d) = direction {
        network["direction"] = json!(d);
    }
    doc.insert("network".into(), network);
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
            "ecs": {"version": ECS_VERSION},
            "event": {
                "kind": "event",
                "category": ["host"],
                "type": ["info"],
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
