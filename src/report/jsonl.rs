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

/// The schema of one line (docs/schema.md), by hand because the lines are built with `json!`
/// above: `oneOf` a [`FindingLine`], a [`ChangeLine`] or the [`CoverageLine`], told apart by
/// `event.dataset`; sockwarden's own part (`sockwarden.*`) is the report's types. Every object is
/// closed, so tests/it/schema.rs, validating every line the formats write, proves they agree.
pub struct JsonLine;

impl schemars::JsonSchema for JsonLine {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonLine".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one_of = [
            generator.subschema_for::<FindingLine>(),
            generator.subschema_for::<ChangeLine>(),
            generator.subschema_for::<CoverageLine>(),
        ];
        schemars::json_schema!({"oneOf": one_of})
    }
}

/// One finding's line.
pub struct FindingLine;

impl schemars::JsonSchema for FindingLine {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FindingLine".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut properties = common();
        properties.extend(holder_fields());
        properties.insert("event".into(), finding_event());
        let rule = json!({
            "id": {"type": "string", "description": "The rule's id (rule findings)."},
            "name": {"type": "string", "description": "The rule's or the drift category's title."}
        });
        properties.insert("rule".into(), object("The rule.", rule, &["id"]));
        properties.insert("threat".into(), threat_schema());
        // The report's finding, closed, with `since_last` under `--since-last`.
        let mut own = super::ReportFinding::json_schema(generator);
        own.ensure_object()
            .entry("properties")
            .or_insert_with(|| json!({}))["since_last"] = json!({
            "enum": ["new", "still_present"],
            "description": "With `--since-last`: whether the previous recorded run had it."
        });
        properties.insert("sockwarden".into(), own.to_value());
        let optional = [HOLDER_FIELDS.as_slice(), &["threat"]].concat();
        let what = "One finding: a rule's match or a drift from the baseline.";
        schemars::Schema::try_from(object(what, Value::Object(properties), &optional))
            .expect("an object is a schema")
    }
}

/// One change's line (`scan --since-last`).
pub struct ChangeLine;

impl schemars::JsonSchema for ChangeLine {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ChangeLine".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut properties = common();
        properties.extend(holder_fields());
        properties.insert("event".into(), change_event());
        let change = generator.subschema_for::<Change>().to_value();
        let since = json!({
            "run": {
                "type": ["integer", "null"],
                "description": "The previous run's id; null when the history had none."
            },
            "started_at": {
                "type": ["string", "null"],
                "description": "When the previous run was taken."
            }
        });
        let own = json!({
            "change": change,
            "since": object("The run the change is counted from.", since, &[])
        });
        properties.insert(
            "sockwarden".into(),
            object("The change, in sockwarden's terms.", own, &[]),
        );
        let what = "One change since the previous recorded run (`scan --since-last`).";
        schemars::Schema::try_from(object(what, Value::Object(properties), &HOLDER_FIELDS))
            .expect("an object is a schema")
    }
}

/// The coverage event of a partial scan ([`render`]).
pub struct CoverageLine;

impl schemars::JsonSchema for CoverageLine {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CoverageLine".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let coverage = generator.subschema_for::<super::Coverage>().to_value();
        let mut properties = common();
        let event = json!({
            "kind": {"const": "event", "description": "ECS event kind."},
            "category": {
                "type": "array",
                "items": {"const": "host"},
                "description": "ECS event categories."
            },
            "type": {"type": "array", "items": {"const": "info"}, "description": "ECS event types."},
            "dataset": {"const": "sockwarden.coverage", "description": "What the line is."},
            "outcome": {"const": "failure", "description": "The scan did not see everything."}
        });
        properties.insert("event".into(), object("The event.", event, &[]));
        properties.insert(
            "sockwarden".into(),
            object(
                "What the scan could not read.",
                json!({"coverage": coverage}),
                &[],
            ),
        );
        let what = "A partial scan (`--allow-partial`): what it could not read.";
        schemars::Schema::try_from(object(what, Value::Object(properties), &[]))
            .expect("an object is a schema")
    }
}

/// A closed object described by `what`, of these properties, all required but `optional`.
fn object(what: &str, properties: Value, optional: &[&str]) -> Value {
    let required: Vec<&String> = properties
        .as_object()
        .expect("properties are a map")
        .keys()
        .filter(|k| !optional.contains(&k.as_str()))
        .collect();
    json!({
        "type": "object",
        "description": what,
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// What every line has: `@timestamp`, `ecs.version`, `host.hostname`, `message`.
fn common() -> Map<String, Value> {
    let ecs = json!({"version": {"const": ECS_VERSION, "description": "The ECS version."}});
    let host = json!({"hostname": {"type": "string", "description": "The snapshot's host name."}});
    let v = json!({
        "@timestamp": {"type": "string", "description": "When the snapshot was taken (RFC 3339)."},
        "ecs": object("Elastic Common Schema.", ecs, &[]),
        "host": object("The host.", host, &[]),
        "message": {"type": "string", "description": "One line for people, escaped."}
    });
    v.as_object().cloned().expect("a map")
}

/// The ECS fields of a socket and its first holder, present when the line has them.
const HOLDER_FIELDS: [&str; 6] = [
    "source",
    "destination",
    "network",
    "process",
    "user",
    "container",
];

/// `source.*`, `destination.*`, `network.*` ([`socket`]), `process.*`, `user.*` and
/// `container.*` ([`process`]).
fn holder_fields() -> Map<String, Value> {
    let end = |what: &str| {
        let ip = json!({"type": "string", "description": "The address."});
        let port = json!({"type": "integer", "minimum": 0, "description": "The port."});
        object(what, json!({"ip": ip, "port": port}), &[])
    };
    let network = json!({
        "transport": {"type": "string", "description": "`tcp`, `udp`, `ip` (raw) or the table."},
        "type": {"enum": ["ipv4", "ipv6", "unix", "packet"], "description": "The family."},
        "direction": {
            "enum": ["ingress", "egress"],
            "description": "From the host's point of view, when known."
        }
    });
    let pid = json!({"type": "integer", "minimum": 0, "description": "Process id."});
    let process = json!({
        "pid": pid,
        "parent": object("The parent.", json!({"pid": pid}), &[]),
        "name": {"type": "string", "description": "`comm`, as text."},
        "command_line": {"type": "string", "description": "The arguments joined by spaces."},
        "args": {"type": "array", "items": {"type": "string"}, "description": "The arguments."},
        "user": object(
            "The real user.",
            json!({"id": {"type": "string", "description": "The uid, as text."}}),
            &[],
        ),
        "executable": {
            "type": "string",
            "description": "The executable's path; absent when it could not be read."
        }
    });
    let user = json!({
        "name": {"type": "string", "description": "The user name."},
        "id": {"type": "string", "description": "The uid, as text."}
    });
    let container = json!({
        "id": {"type": "string", "description": "The container's id."},
        "runtime": {"type": "string", "description": "docker, containerd, cri-o, podman, ..."}
    });
    let v = json!({
        "source": end("The end that initiated the connection (the local end of a listener)."),
        "destination": end("The other end."),
        "network": object("The socket's transport and family.", network, &["direction"]),
        "process": object("The first holder.", process, &["executable"]),
        "user": object("The holder's user, when its name is known.", user, &[]),
        "container": object("The holder's container, when it runs in one.", container, &[])
    });
    v.as_object().cloned().expect("a map")
}

/// `threat.*`: the rule's ATT&CK techniques ([`threat`]).
fn threat_schema() -> Value {
    let ids = |what: &str| json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "description": what});
    let technique = json!({
        "id": ids("Technique ids (T1059)."),
        "subtechnique": object(
            "Sub-techniques.",
            json!({"id": ids("Sub-technique ids (T1059.004).")}),
            &[],
        )
    });
    object(
        "The rule's ATT&CK techniques, when it has some.",
        json!({
            "framework": {"const": "MITRE ATT&CK", "description": "The framework."},
            "technique": object("Techniques.", technique, &["subtechnique"])
        }),
        &[],
    )
}

/// A finding's `event.*` ([`finding`]).
fn finding_event() -> Value {
    let severities: Vec<u32> = Severity::ALL.iter().map(|s| ecs_severity(*s)).collect();
    let datasets: Vec<String> = super::FindingKind::ALL
        .iter()
        .map(|k| format!("sockwarden.{k}"))
        .collect();
    let event = json!({
        "kind": {"const": "alert", "description": "ECS event kind."},
        "category": {
            "type": "array",
            "items": {"const": "network"},
            "description": "ECS event categories."
        },
        "type": {
            "type": "array",
            "items": {"enum": ["connection", "info"]},
            "description": "ECS event types: `connection` for an inbound or outbound socket."
        },
        "severity": {
            "enum": severities,
            "description": "0 info, 21 low, 47 medium, 73 high, 99 critical."
        },
        "id": {"type": "string", "description": "The finding's stable id."},
        "dataset": {"enum": datasets, "description": "A rule finding or a drift finding."}
    });
    object("The event.", event, &[])
}

/// A change's `event.*` ([`change`]).
fn change_event() -> Value {
    let actions: Vec<String> = Part::ALL
        .iter()
        .flat_map(|p| Action::ALL.iter().map(move |a| format!("{p}-{a}")))
        .collect();
    let event = json!({
        "kind": {"const": "event", "description": "ECS event kind."},
        "category": {
            "type": "array",
            "items": {"enum": ["network", "process"]},
            "description": "ECS event categories."
        },
        "type": {
            "type": "array",
            "items": {"enum": ["connection", "start", "end", "change"]},
            "description": "ECS event types."
        },
        "action": {"enum": actions, "description": "`PART-ACTION`: what changed."},
        "dataset": {"const": "sockwarden.change", "description": "What the line is."},
        "id": {"type": "string", "description": "The same for the same change reported twice."}
    });
    object("The event.", event, &[])
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
