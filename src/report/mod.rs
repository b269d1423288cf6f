//! Reports: what `scan` found, as one serializable document ([`ScanReport`]) that every output
//! format renders. The JSON format is the document itself (docs/report.md); the table is for
//! people. Attacker-controlled strings stay exact in JSON and are escaped in the table.

pub mod html;
pub mod jsonl;
pub mod junit;
pub mod prometheus;
pub mod sarif;
pub mod table;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::baseline::Category;
use crate::baseline::drift::Comparison;
use crate::engine::Finding;
use crate::model::{
    ByteString, Container, Endpoint, Family, Gap, Protocol, Snapshot, State, Warning,
};
use crate::rules::{RuleSet, Severity};
use crate::text::escape_str;

/// Version of the report JSON document.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// The report document: what a scan found, in every format's common form (docs/report.md).
pub struct ScanReport {
    /// [`REPORT_SCHEMA_VERSION`].
    #[schemars(extend("const" = REPORT_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// This tool's name and version.
    pub tool: ToolInfo,
    /// The snapshot's hostname.
    pub host: String,
    /// When the snapshot was taken.
    pub started_at: String,
    /// Counts: sockets, processes, rules, findings by severity.
    pub summary: Summary,
    /// Every finding, most severe first.
    pub findings: Vec<ReportFinding>,
    /// What the snapshot could not see (escaped).
    pub warnings: Vec<Warning>,
    /// Whether the scan saw everything it was asked to see.
    pub coverage: Coverage,
    /// `scan --since-last`: what changed since the previous recorded run, and which findings
    /// are new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_last: Option<SinceLast>,
    /// Sockets by protocol and state (for the Prometheus format; not in the JSON document).
    #[serde(skip)]
    pub socket_counts: BTreeMap<(Protocol, State), usize>,
    /// Wall time of a live scan; `None` for a scan of a saved snapshot, whose output must be
    /// the same every time.
    #[serde(skip)]
    pub duration_seconds: Option<f64>,
    /// Whether the scan compared with a baseline (JUnit lists the drift categories then).
    #[serde(skip)]
    pub baseline: bool,
}

crate::model::vocabulary! {
    /// The output formats, each rendered from the same [`ScanReport`].
    pub enum Format {
        /// For a person at a terminal: findings grouped by severity, escaped.
        Table => "table",
        /// The report document itself (docs/report.md).
        Json => "json",
        /// One finding per line with Elastic Common Schema names, for a SIEM.
        Jsonl => "jsonl",
        /// SARIF 2.1.0, for code-scanning services.
        Sarif => "sarif",
        /// JUnit XML: one test case per rule and drift category, for CI.
        Junit => "junit",
        /// Prometheus text exposition, for node_exporter's textfile collector.
        Prometheus => "prometheus",
        /// One self-contained HTML page for people: summary, findings, drift, host graph.
        Html => "html",
    }
}

/// Renders the report in `format`. `color` applies to the table only; `snap` is the snapshot
/// the report was built from (the HTML page draws its graph and tables from it).
pub fn render(
    format: Format,
    r: &ScanReport,
    rules: &RuleSet,
    snap: &Snapshot,
    color: bool,
) -> String {
    match format {
        Format::Table => table::render(r, color),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(r).expect("the report serializes");
            s.push('\n');
            s
        }
        Format::Jsonl => jsonl::render(r),
        Format::Sarif => sarif::render(r, rules),
        Format::Junit => junit::render(r, rules),
        Format::Prometheus => prometheus::render(r),
        Format::Html => html::scan(r, rules, snap),
    }
}

/// What the scan could not see: empty `gaps` and `complete: true` unless it ran with
/// `--allow-partial` and a scope (a namespace, a table, the owners) could not be read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Coverage {
    /// True unless a scope could not be read (only possible with `--allow-partial`).
    pub complete: bool,
    /// The scopes not read, and why (escaped).
    pub gaps: Vec<Gap>,
    /// `scan --filter EXPR`: the scan looked only at the sockets this `ss` filter selects
    /// (escaped). The report is complete for those.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// The tool that made the report.
pub struct ToolInfo {
    /// `sockwarden`.
    pub name: String,
    /// The version that made the report.
    pub version: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// The report's counts.
pub struct Summary {
    /// Sockets in the snapshot.
    pub sockets: usize,
    /// Processes in the snapshot (holders and their parents).
    pub processes: usize,
    /// Rules evaluated.
    pub rules: usize,
    /// Findings reported.
    pub findings: usize,
    /// Every severity, zero included, in ascending order.
    pub by_severity: BTreeMap<Severity, usize>,
}

crate::model::vocabulary! {
    /// Where a finding comes from. The order is the report's order at equal severity.
    pub enum FindingKind {
        /// A rule matched.
        Rule => "rule",
        /// The snapshot differs from the baseline.
        Drift => "drift",
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// One finding as reported: a rule's match on a socket, or a drift from the baseline.
pub struct ReportFinding {
    /// The stable id (docs/report.md gives the key text it hashes).
    pub id: String,
    /// A rule finding or a drift finding.
    pub kind: FindingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The rule that matched (rule findings).
    pub rule_id: Option<String>,
    /// Drift findings: the category (new_listener, listener_gone, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The rule's title, or the drift category's.
    pub title: String,
    /// How bad it is: the rule's, or the baseline's severity for the category.
    pub severity: Severity,
    /// The rule's tags (ATT&CK technique ids, `prefix:value` tags); none for drift.
    pub tags: Vec<String>,
    /// One line: title, holder and socket; escaped, no control characters.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Aggregate rules: the number of sockets (or distinct values) that passed the threshold.
    pub count: Option<u64>,
    /// Absent for a drift finding about something that is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<SocketRef>,
    /// The holders that matched; empty for a socket no process holds.
    pub processes: Vec<ProcessRef>,
    /// The socket's index in the snapshot the report was built from (the HTML graph marks it);
    /// not in any document.
    #[serde(skip)]
    pub socket_index: Option<usize>,
}

pub use crate::baseline::Direction;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// The socket a finding is about, as reported.
pub struct SocketRef {
    /// The table (`tcp`, `unix_stream`, ...).
    pub protocol: Protocol,
    /// The address family.
    pub family: Family,
    /// The state.
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The local address and port (inet sockets).
    pub local: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The remote address and port (connected inet sockets).
    pub remote: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Which way its traffic goes (TCP and UDP sockets a baseline would describe).
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The bound device's name, when bound.
    pub interface: Option<String>,
    /// The socket inode (0 for TIME-WAIT and request sockets).
    pub inode: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The network namespace the socket is in, as rules and baselines name it
    /// ([`Snapshot::netns_label`]: `host`, its name under /run/netns, else `ns:INODE`); present
    /// when the snapshot holds several namespaces (`--all-netns`, `--netns`), absent otherwise.
    pub netns: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// That namespace's inode (/proc/PID/ns/net), present with `netns`.
    pub netns_inode: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The socket's owning uid, as the kernel reports it.
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The unix socket's path or abstract name, exact bytes.
    pub unix_name: Option<ByteString>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    /// Whether the unix name is in the abstract namespace (`@name`).
    pub unix_abstract: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Packet sockets: the ethertype bound to.
    pub ethertype: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Packet sockets: the number of classic BPF instructions attached.
    pub bpf_len: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
/// A process holding the socket, as reported.
pub struct ProcessRef {
    /// Process id.
    pub pid: u32,
    /// The descriptor holding the socket.
    pub fd: u32,
    /// Parent process id.
    pub ppid: u32,
    /// The kernel's name for the process (`comm`), exact bytes.
    pub comm: ByteString,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The executable's path, exact bytes (absent when it could not be read).
    pub exe: Option<ByteString>,
    /// The executable was deleted after the process started.
    pub exe_deleted: bool,
    /// The executable runs from a memfd (fileless).
    pub exe_memfd: bool,
    /// The exact argv.
    pub cmdline: Vec<ByteString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The user name of the real uid, when it resolves.
    pub user: Option<String>,
    /// The real uid.
    pub uid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The container the process runs in, when it runs in one.
    pub container: Option<Container>,
}

pub(crate) fn socket_ref(
    snap: &Snapshot,
    roles: &crate::baseline::Directions,
    si: usize,
) -> SocketRef {
    let s = &snap.sockets[si];
    SocketRef {
        direction: roles.get(s),
        protocol: s.protocol,
        family: s.family,
        state: s.state,
        local: s.local,
        remote: s.remote,
        interface: s.interface.as_deref().map(String::from),
        inode: s.inode,
        netns: s.netns.map(|n| snap.netns_label(Some(n))),
        netns_inode: s.netns,
        uid: s.uid,
        unix_name: s.unix.as_ref().and_then(|u| u.name.clone()),
        unix_abstract: s.unix.as_ref().is_some_and(|u| u.r#abstract),
        ethertype: s.packet.as_ref().map(|p| p.ethertype),
        bpf_len: s.packet.as_ref().and_then(|p| p.bpf.as_ref().map(Vec::len)),
    }
}

pub(crate) fn process_refs(snap: &Snapshot, owners: &[crate::model::Owner]) -> Vec<ProcessRef> {
    owners
        .iter()
        .filter_map(|o| {
            let p = snap.process(o.pid)?;
            Some(ProcessRef {
                pid: p.pid,
                fd: o.fd,
                ppid: p.ppid,
                comm: p.comm.clone(),
                exe: p.exe.clone(),
                exe_deleted: p.exe_deleted,
                exe_memfd: p.exe_memfd,
                cmdline: p.cmdline.clone(),
                user: p.user.clone(),
                uid: p.uid,
                container: p.container.clone(),
            })
        })
        .collect()
}

/// A rule finding, with its socket and holders resolved and its message escaped.
fn rule_finding(
    snap: &Snapshot,
    roles: &crate::baseline::Directions,
    rules: &RuleSet,
    f: &Finding,
) -> ReportFinding {
    let rule = &rules.rules[f.rule].doc;
    let socket = socket_ref(snap, roles, f.socket);
    let processes = process_refs(snap, &f.owners);
    ReportFinding {
        id: f.id.clone(),
        kind: FindingKind::Rule,
        rule_id: Some(rule.id.clone()),
        category: None,
        title: rule.title.clone(),
        severity: rule.severity,
        tags: rule.tags.clone(),
        message: escape_str(&message(rule.title.as_str(), &socket, &processes, f.count)),
        count: f.count,
        socket: Some(socket),
        processes,
        socket_index: Some(f.socket),
    }
}

/// A drift finding, with its socket (absent for something gone) and holders resolved.
fn drift_finding(
    snap: &Snapshot,
    roles: &crate::baseline::Directions,
    d: &crate::baseline::drift::Drift,
) -> ReportFinding {
    ReportFinding {
        id: d.id.clone(),
        kind: FindingKind::Drift,
        rule_id: None,
        category: Some(d.category),
        title: d.category.title().to_string(),
        severity: d.severity,
        tags: Vec::new(),
        message: escape_str(&d.message),
        count: None,
        socket: d.socket.map(|si| socket_ref(snap, roles, si)),
        processes: process_refs(snap, &d.owners),
        socket_index: d.socket,
    }
}

/// Sockets by (protocol, state): counted in a flat table, one increment per socket (a tree
/// lookup per socket cost a few milliseconds at 100k sockets), then the pairs seen.
fn socket_counts(sockets: &[crate::model::Socket]) -> BTreeMap<(Protocol, State), usize> {
    let mut counts = vec![0usize; Protocol::ALL.len() * State::ALL.len()];
    for s in sockets {
        counts[s.protocol.index() * State::ALL.len() + s.state.index()] += 1;
    }
    Protocol::ALL
        .iter()
        .flat_map(|&p| State::ALL.iter().map(move |&st| (p, st)))
        .zip(counts)
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// Builds the report document from a snapshot, the engine's findings and, with a baseline, the
/// drift. Rule findings below critical on sockets the baseline knows are left out: the baseline
/// is the site's statement that they are expected. A critical finding is never hidden.
pub fn build(
    snap: &Snapshot,
    rules: &RuleSet,
    findings: &[Finding],
    drift: Option<&Comparison>,
) -> ScanReport {
    let roles = crate::baseline::Directions::of(snap);
    let mut by_severity: BTreeMap<Severity, usize> =
        Severity::ALL.iter().map(|s| (*s, 0)).collect();
    let mut out: Vec<ReportFinding> = findings
        .iter()
        .filter(|f| {
            rules.rules[f.rule].doc.severity == Severity::Critical
                || !drift.is_some_and(|d| d.known_sockets.contains(&f.socket))
        })
        .map(|f| rule_finding(snap, &roles, rules, f))
        .collect();
    out.extend(
        drift
            .map(|d| d.drift.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|d| drift_finding(snap, &roles, d)),
    );
    // Most severe first; rules before drift at the same severity; then by id.
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.rule_id.cmp(&b.rule_id))
            .then(a.category.cmp(&b.category))
            .then(a.message.cmp(&b.message))
            .then(a.id.cmp(&b.id))
    });
    for f in &out {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "sockwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        host: snap.meta.hostname.clone(),
        started_at: snap.meta.taken_at.clone(),
        summary: Summary {
            sockets: snap.sockets.len(),
            processes: snap.processes.len(),
            rules: rules.rules.len(),
            findings: out.len(),
            by_severity,
        },
        findings: out,
        // A saved snapshot's warnings and gaps are whatever the file says: escaped once here,
        // so no format carries a control character from them.
        warnings: snap
            .warnings
            .iter()
            .map(|w| Warning {
                code: escape_str(&w.code),
                message: escape_str(&w.message),
                ..w.clone()
            })
            .collect(),
        coverage: Coverage {
            complete: snap.gaps.is_empty(),
            gaps: snap
                .gaps
                .iter()
                .map(|g| Gap {
                    scope: escape_str(&g.scope),
                    reason: escape_str(&g.reason),
                })
                .collect(),
            filter: None,
        },
        socket_counts: socket_counts(&snap.sockets),
        duration_seconds: None,
        baseline: drift.is_some(),
        since_last: None,
    }
}

/// `scan --since-last` (docs/history.md): the changes since the previous recorded run, and the
/// findings by whether that run had them too (same id).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SinceLast {
    /// The previous run's id; `None` when the history had no run yet (then every finding is
    /// new and everything is added).
    pub run: Option<i64>,
    /// When the previous run was taken.
    pub started_at: Option<String>,
    /// Listeners, connections and processes added, removed and changed, as `sockwarden diff`
    /// of the previous run and this scan gives them.
    pub changes: crate::baseline::diff::SnapshotDiff,
    /// Ids of this scan's findings that the previous run did not have, sorted.
    pub new: Vec<String>,
    /// Ids of this scan's findings that the previous run had too, sorted.
    pub still_present: Vec<String>,
    /// Ids of the previous run's findings that this scan no longer has, sorted.
    pub resolved: Vec<String>,
}

impl SinceLast {
    /// Whether the finding with this id is new since the previous run.
    pub fn is_new(&self, id: &str) -> bool {
        self.new.binary_search_by(|n| n.as_str().cmp(id)).is_ok()
    }
}

/// `ss`-style text for an endpoint.
pub fn endpoint_text(e: Option<Endpoint>) -> String {
    match e {
        None => "*".into(),
        Some(e) => {
            let port = if e.port == 0 {
                "*".to_string()
            } else {
                e.port.to_string()
            };
            match e.address {
                std::net::IpAddr::V4(a) => format!("{a}:{port}"),
                std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
            }
        }
    }
}

/// A container as the one-line message names it: `RUNTIME ID`, a hex id cut to docker's 12
/// characters (`docker ps`), a name (lxc, systemd-nspawn) whole.
pub fn container_text(c: &Container) -> String {
    let hex = c.id.len() > 12 && c.id.bytes().all(|b| b.is_ascii_hexdigit());
    format!(
        "{} {}",
        c.runtime,
        if hex { &c.id[..12] } else { c.id.as_str() }
    )
}

/// The one-line message: `TITLE: HOLDER (pid N[, container RUNTIME ID]), SOCKET[ in netns
/// LABEL]`; the namespace only when the snapshot holds several (single-namespace reports stay
/// as they were).
fn message(title: &str, s: &SocketRef, procs: &[ProcessRef], count: Option<u64>) -> String {
    let who = match procs.first() {
        Some(p) => format!(
            "{} (pid {}{})",
            p.exe
                .as_ref()
                .map(|e| e.to_str_lossy().into_owned())
                .unwrap_or_else(|| p.comm.to_str_lossy().into_owned()),
            p.pid,
            p.container
                .as_ref()
                .map(|c| format!(", container {}", container_text(c)))
                .unwrap_or_default()
        ),
        None => "no process".into(),
    };
    let mut what = socket_text(s);
    if let Some(ns) = &s.netns {
        what.push_str(" in netns ");
        what.push_str(ns);
    }
    match count {
        Some(n) => format!("{title}: {who}, {n} sockets like {what}"),
        None => format!("{title}: {who}, {what}"),
    }
}

/// The socket in the message: protocol, state and endpoints, the unix name, or the inode.
fn socket_text(s: &SocketRef) -> String {
    if s.protocol.is_inet() {
        format!(
            "{} {} {} -> {}",
            s.protocol.netid(),
            s.state.name(),
            endpoint_text(s.local),
            endpoint_text(s.remote)
        )
    } else if let Some(n) = &s.unix_name {
        format!(
            "{} {}{}",
            s.protocol.netid(),
            if s.unix_abstract { "@" } else { "" },
            n.to_str_lossy()
        )
    } else {
        format!("{} inode {}", s.protocol.netid(), s.inode)
    }
}
