//! JSON Lines for SIEM ingestion: one finding per line, with Elastic Common Schema field names
//! where ECS has the field (nested objects, as ECS documents are): `@timestamp`, `ecs.version`,
//! `event.*`, `rule.*`, `threat.*` (the ATT&CK techniques), `source.*` and `destination.*` (each
//! end where ECS puts it: the initiator is the source, see `ends()`), `network.*` with
//! `network.direction` from the host's point of view, `process.*`, `user.*`, `container.*`,
//! `host.hostname`; the rest under `sockwarden.*`. With `scan --since-last`, each change since the
//! previous recorded run (a listener, connection or process added, removed or changed: one line of
//! the diff) follows as an event of its own (`event.kind: event`). `tests/it/ecs.rs` checks every
//! field, type and categorisation value against ECS's own field list.

use serde_json::{Map, Value, json};

use super::{Direction, ProcessRef, ReportFinding, ScanReport, SinceLast, SocketRef};
use crate::baseline::diff::{Action, Change, Part};
use crate::model::{ByteString, Container, Endpoint, Family, Process, Protocol};
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
        process(&mut doc, &Holder::from(p));
    }
    // Everything else, exact, in sockwarden's own terms (docs/report.md).
    let mut own = serde_json::to_value(f).expect("a finding serializes");
    // With --since-last: whether the previous run had it, so a SIEM can alert on new ones only.
    if let Some(s) = &r.since_last {
        own["since_last"] = json!(if s.is_new(&f.id) {
            "new"
        } else {
            "still_present"
        });
    }
    doc.insert("sockwarden".into(), own);
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
        Family::Netlink => "netlink",
    };
    let mut network = json!({"transport": transport, "type": kind});
    if let Some(d) = direction {
        network["direction"] = json!(d);
    }
    doc.insert("network".into(), network);
}

/// What the ECS `process.*`, `user.*` and `container.*` fields take from a holder
/// ([`ProcessRef`]) or from a process of the diff ([`Process`]).
struct Holder<'a> {
    pid: u32,
    ppid: u32,
    comm: &'a ByteString,
    exe: Option<&'a ByteString>,
    cmdline: &'a [ByteString],
    uid: u32,
    user: Option<&'a str>,
    container: Option<&'a Container>,
}

impl<'a> From<&'a ProcessRef> for Holder<'a> {
    fn from(p: &'a ProcessRef) -> Self {
        Holder {
            pid: p.pid,
            ppid: p.ppid,
            comm: &p.comm,
            exe: p.exe.as_ref(),
            cmdline: &p.cmdline,
            uid: p.uid,
            user: p.user.as_deref(),
            container: p.container.as_ref(),
        }
    }
}

impl<'a> From<&'a Process> for Holder<'a> {
    fn from(p: &'a Process) -> Self {
        Holder {
            pid: p.pid,
            ppid: p.ppid,
            comm: &p.comm,
            exe: p.exe.as_ref(),
            cmdline: &p.cmdline,
            uid: p.uid,
            user: p.user.as_deref(),
            container: p.container.as_ref(),
        }
    }
}

/// `process.*`, `user.*` and `container.*` of one process (a finding's first holder).
fn process(doc: &mut Map<String, Value>, p: &Holder) {
    let cmd: Vec<String> = p
        .cmdline
        .iter()
        .map(|a| a.to_str_lossy().into_owned())
        .collect();
    let mut process = json!({
        "pid": p.pid,
        "parent": {"pid": p.ppid},
        "name": p.comm.to_str_lossy(),
        "command_line": cmd.join(" "),
        "args": cmd,
        "user": {"id": p.uid.to_string()},
    });
    // An executable that could not be read (a kernel thread, a denied /proc/PID/exe) is left
    // out: ECS has no null keyword.
    if let Some(e) = p.exe {
        process["executable"] = json!(e.to_str_lossy());
    }
    doc.insert("process".into(), process);
    if let Some(u) = p.user {
        doc.insert("user".into(), json!({"name": u, "id": p.uid.to_string()}));
    }
    if let Some(c) = p.container {
        doc.insert(
            "container".into(),
            json!({"id": c.id, "runtime": c.runtime}),
        );
    }
}

/// One change since the previous run (one line of the diff) as an ECS event: `event.kind:
/// event`; `event.category` `network`, and `process` too for a change of holders or of a
/// process; `event.type` `start` (added), `end` (removed) or `change` (`connection` too for a
/// connection that began or ended); `event.action` `PART-ACTION` (`listener-added`, ...). The
/// socket's ends and holder as a finding has them; the change itself under `sockwarden.change`.
fn change(r: &ScanReport, since: &SinceLast, c: &Change) -> Value {
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(r.started_at));
    doc.insert("ecs".into(), json!({"version": ECS_VERSION}));
    let mut category = vec!["network"];
    if c.part == Part::Process || c.action == Action::Changed {
        category.push("process");
    }
    let mut kind = Vec::new();
    if c.part == Part::Connection && c.action != Action::Changed {
        kind.push("connection");
    }
    kind.push(match c.action {
        Action::Added => "start",
        Action::Removed => "end",
        Action::Changed => "change",
    });
    doc.insert(
        "event".into(),
        json!({
            "kind": "event",
            "category": category,
            "type": kind,
            "action": format!("{}-{}", c.part, c.action),
            "dataset": "sockwarden.change",
            "id": change_id(r, since, c),
        }),
    );
    doc.insert("host".into(), json!({"hostname": r.host}));
    doc.insert(
        "message".into(),
        json!(crate::text::escape_str(&format!(
            "{} {}: {}",
            c.part, c.action, c.line
        ))),
    );
    if let Some(s) = &c.socket {
        socket(&mut doc, s);
    }
    if let Some(p) = c.processes.first() {
        process(&mut doc, &Holder::from(p));
    } else if let Some(p) = &c.process {
        process(&mut doc, &Holder::from(p));
    }
    doc.insert(
        "sockwarden".into(),
        json!({
            "change": c,
            "since": {"run": since.run, "started_at": since.started_at},
        }),
    );
    Value::Object(doc)
}

/// A change event's id, the same for the same change reported twice (a SIEM can drop a line
/// shipped again): the first 16 hex digits of SHA-256 over the host, the scan's time, the previous
/// run's id (or empty), the part, the action and the line, each followed by NUL.
fn change_id(r: &ScanReport, since: &SinceLast, c: &Change) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let run = since.run.map(|id| id.to_string()).unwrap_or_default();
    for part in [
        r.host.as_str(),
        r.started_at.as_str(),
        run.as_str(),
        c.part.name(),
        c.action.name(),
        c.line.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// One JSON line per finding, then one per change since the previous run (`--since-last`), then
/// one coverage event for a partial scan.
pub fn render(r: &ScanReport) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&serde_json::to_string(&finding(r, f)).expect("a line serializes"));
        out.push('\n');
    }
    if let Some(since) = &r.since_last {
        for c in &since.changes.events {
            out.push_str(&serde_json::to_string(&change(r, since, c)).expect("a line serializes"));
            out.push('\n');
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A holder whose executable could not be read has no `process.executable` (ECS has no
    /// null keyword); one that could has it.
    #[test]
    fn an_unread_executable_is_left_out() {
        let comm = ByteString(b"kworker".to_vec());
        let exe = ByteString(b"/usr/sbin/sshd".to_vec());
        let mut h = Holder {
            pid: 7,
            ppid: 2,
            comm: &comm,
            exe: None,
            cmdline: &[],
            uid: 0,
            user: None,
            container: None,
        };
        let mut doc = Map::new();
        process(&mut doc, &h);
        assert!(doc["process"].get("executable").is_none(), "{doc:?}");
        h.exe = Some(&exe);
        process(&mut doc, &h);
        assert_eq!(doc["process"]["executable"], "/usr/sbin/sshd");
    }
}
