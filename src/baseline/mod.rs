//! Baselines: the known-good socket state of a host or golden image, as a YAML file people keep
//! in git, and the drift of a snapshot against it.
//!
//! A baseline holds what identifies a service across restarts and hosts, never pids, inodes,
//! timestamps or ephemeral ports: listeners (protocol, bind address or address class, port, exe,
//! user), outbound peers (exe, remote network, port, protocol) and inbound services (local port
//! and exe accepting connections). tcp and tcp6 fold together, and a v4-mapped address is its
//! IPv4 address. Entries may use CIDRs, address classes (`any`, `loopback`, `private`, ...), port
//! ranges and exe globs, so one file serves a whole fleet. The file is written one entry per line,
//! sorted, so two baselines of the same state are byte-identical and a review diff shows exactly
//! what changed. Parsing is strict and every error names file:line:col.

mod create;
pub mod diff;
pub mod drift;
mod format;

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Locator};
use crate::model::{Protocol, State};
use crate::net::{AddressClass, NetTable, PortRange, address_class, canonical};
use crate::rules::Severity;

pub use create::{
    Include, container_text, escape_glob, from_snapshot, holders, listening_ports, network_text,
    scope_label,
};
pub use format::render;

/// Version of the baseline file format.
pub const BASELINE_VERSION: u32 = 1;

crate::model::vocabulary! {
    /// Drift categories, with their default severities.
    pub enum Category {
        /// A listener that no entry describes (default severity medium).
        NewListener => "new_listener",
        /// A listener entry that no current listener matches (low).
        ListenerGone => "listener_gone",
        /// The same service (protocol, port, exe, user) listening on another address, such as
        /// 127.0.0.1 → 0.0.0.0 (high).
        ListenerRebound => "listener_rebound",
        /// The same protocol, port and address, held by another exe or user (high).
        ListenerOwnerChanged => "listener_owner_changed",
        /// A connection to an (exe, network, port) destination no outbound entry allows (low).
        NewOutbound => "new_outbound",
        /// Connections accepted on a (port, exe) no inbound entry allows (medium).
        NewInbound => "new_inbound",
    }
}

impl Category {
    /// The severity a finding of this category has unless the baseline's `severity` map overrides
    /// it (see [`Baseline::severity`]); the table in docs/baseline.md.
    pub fn default_severity(self) -> Severity {
        match self {
            Category::NewListener => Severity::Medium,
            Category::ListenerGone => Severity::Low,
            Category::ListenerRebound => Severity::High,
            Category::ListenerOwnerChanged => Severity::High,
            Category::NewOutbound => Severity::Low,
            Category::NewInbound => Severity::Medium,
        }
    }

    /// The finding's title in reports: one short phrase per category.
    pub fn title(self) -> &'static str {
        match self {
            Category::NewListener => "New listener not in the baseline",
            Category::ListenerGone => "Baseline listener is gone",
            Category::ListenerRebound => "Listener rebound to another address",
            Category::ListenerOwnerChanged => "Listener's owner changed",
            Category::NewOutbound => "New outbound destination",
            Category::NewInbound => "New inbound service",
        }
    }
}

crate::model::vocabulary! {
    /// `tcp` or `udp`: tcp6 and udp6 fold into them.
    pub enum Proto {
        /// TCP over IPv4 or IPv6.
        Tcp => "tcp",
        /// UDP over IPv4 or IPv6.
        Udp => "udp",
    }
}

impl Proto {
    /// The baseline protocol of a socket's protocol, for TCP and UDP.
    pub fn of(p: Protocol) -> Option<Proto> {
        match p {
            Protocol::Tcp => Some(Proto::Tcp),
            Protocol::Udp => Some(Proto::Udp),
            _ => None,
        }
    }
}

/// A listener entry: a service that is expected to listen (TCP in LISTEN, or unconnected UDP on a
/// fixed port).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub protocol: Proto,
    /// `any`, an address class (`loopback`, `private`, ...), an address or a CIDR.
    pub address: String,
    /// A port or a range `"1024-2047"`.
    #[serde(deserialize_with = "port_text")]
    #[schemars(schema_with = "port_schema")]
    pub port: String,
    /// The executable, a glob (`*` does not cross `/`, `**` does).
    pub exe: String,
    /// The holder's user name (its uid as a number when the name is unknown). Absent: any user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Optional container scope: a glob over `RUNTIME:ID` of the holder (`docker:*`), or `host`
    /// for a process in no container. Absent: anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Optional network namespace scope: a glob over the namespace label (`host`, a
    /// /run/netns name, `ns:INODE`). Absent: any namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<String>,
}

/// An outbound entry: a destination an executable is expected to connect to (from an ephemeral
/// local port).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// `tcp` or `udp`.
    pub protocol: Proto,
    /// The executable that connects: a path or a glob (`*` does not cross `/`, `**` does).
    pub exe: String,
    /// An address class, an address or a CIDR.
    pub network: String,
    /// The remote port: a number or a range `"1024-2047"`.
    #[serde(deserialize_with = "port_text")]
    #[schemars(schema_with = "port_schema")]
    pub port: String,
}

/// An inbound entry: a local port on which an executable is expected to accept connections.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// `tcp` or `udp`.
    pub protocol: Proto,
    /// The local port: a number or a range `"1024-2047"`.
    #[serde(deserialize_with = "port_text")]
    #[schemars(schema_with = "port_schema")]
    pub port: String,
    /// The executable that accepts: a path or a glob (`*` does not cross `/`, `**` does).
    pub exe: String,
    /// Optional: the networks peers may come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<String>,
}

/// A port written as a number (`22`) or a string (`"1024-2047"`).
fn port_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum P {
        N(u64),
        S(String),
    }
    Ok(match P::deserialize(d)? {
        P::N(n) => n.to_string(),
        P::S(s) => s,
    })
}

/// What [`port_text`] reads: a number or a string (a range), checked when the entry is compiled.
fn port_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "A port (`22`) or a range (`\"1024-2047\"`).",
        "type": ["integer", "string"],
        "minimum": 0
    })
}

/// A record of `baseline update --accept`: who accepted what, when.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// When it was accepted: RFC 3339, UTC, seconds.
    pub at: String,
    /// Who accepted it: `$SUDO_USER`, else `$USER`, else `uid N`.
    pub by: String,
    /// The drift finding's id, as `scan` printed it (16 hex digits).
    pub id: String,
    /// The drift finding's category.
    pub category: Category,
    /// The drift finding's message: what was accepted, in words.
    pub entry: String,
}

/// The baseline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The file format's version: [`BASELINE_VERSION`]; another version is an error.
    #[schemars(extend("const" = BASELINE_VERSION))]
    pub version: u32,
    /// When the snapshot the baseline was built from was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The sockwarden version that created it.
    pub tool_version: String,
    /// The host name of the snapshot it was built from.
    pub host: String,
    /// Free text for people (`baseline create --comment`); empty when none.
    #[serde(default)]
    pub comment: String,
    /// Severity per drift category, overriding the defaults.
    #[serde(default)]
    pub severity: BTreeMap<Category, Severity>,
    /// Expected listeners, sorted.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Expected outbound destinations, sorted.
    #[serde(default)]
    pub outbound: Vec<Outbound>,
    /// Expected inbound services, sorted.
    #[serde(default)]
    pub inbound: Vec<Inbound>,
    /// The record of `baseline update --accept`, oldest first. Never read for matching.
    #[serde(default)]
    pub accepted: Vec<Acceptance>,
}

impl Baseline {
    /// The severity of category `c` in this baseline: its `severity` map's, else the default.
    pub fn severity(&self, c: Category) -> Severity {
        self.severity
            .get(&c)
            .copied()
            .unwrap_or(c.default_severity())
    }

    /// Sorts the listener, outbound and inbound entries and drops exact duplicates, so the same
    /// entries always render to the same bytes. The `accepted` record keeps its order.
    pub fn sort(&mut self) {
        self.listeners.sort();
        self.listeners.dedup();
        self.outbound.sort();
        self.outbound.dedup();
        self.inbound.sort();
        self.inbound.dedup();
    }
}

/// An address specification: `any`, a class, or networks.
#[derive(Debug, Clone)]
pub enum AddrSpec {
    /// `any`: for a listener, the wildcard bind (`0.0.0.0`, `::`) only; elsewhere, every address.
    Any,
    /// An address class (`loopback`, `private`, ...): every address of the class.
    Class(AddressClass),
    /// An address or a CIDR.
    Nets(NetTable),
}

impl AddrSpec {
    /// Parses `any`, an address class name, an address or a CIDR; the error lists what is allowed.
    pub fn parse(s: &str) -> Result<AddrSpec, FieldError> {
        let t = s.trim();
        if t == "any" {
            return Ok(AddrSpec::Any);
        }
        if let Some(c) = AddressClass::parse(t) {
            return Ok(AddrSpec::Class(c));
        }
        NetTable::parse(&[t.to_string()])
            .map(AddrSpec::Nets)
            .map_err(|_| FieldError::Address(s.to_owned()))
    }

    /// `any` matches every address; `unspecified` (0.0.0.0, ::) only as a listener's bind.
    pub fn matches(&self, a: IpAddr) -> bool {
        match self {
            AddrSpec::Any => true,
            AddrSpec::Class(c) => address_class(a) == *c,
            AddrSpec::Nets(t) => t.contains(a),
        }
    }
}

/// How a listener's bind address is written: `any` for the wildcard, `loopback`, else the
/// address itself, or its class when `classes` is set.
pub fn address_text(a: IpAddr, classes: bool) -> String {
    let a = canonical(a);
    match address_class(a) {
        AddressClass::Unspecified => "any".into(),
        AddressClass::Loopback => "loopback".into(),
        c if classes => c.name().into(),
        _ => a.to_string(),
    }
}

/// Compiled entries, ready to match, with an index by (protocol, port): a 10k-entry baseline
/// is not scanned linearly for each of 100k sockets.
pub struct Compiled {
    /// Address, port, exe, and the optional container and namespace scopes.
    pub listeners: Vec<ListenerMatcher>,
    /// Network, remote port and exe of each outbound entry, in file order.
    pub outbound: Vec<(AddrSpec, PortRange, ExeMatcher)>,
    /// Peers (absent: any), local port and exe of each inbound entry, in file order.
    pub inbound: Vec<(Option<AddrSpec>, PortRange, ExeMatcher)>,
    /// Listener entries by (protocol, port).
    pub listener_index: PortIndex,
    /// Outbound entries by (protocol, remote port).
    pub outbound_index: PortIndex,
    /// Inbound entries by (protocol, local port).
    pub inbound_index: PortIndex,
}

/// A compiled listener entry: address, port, exe, container scope, namespace scope.
pub type ListenerMatcher = (
    AddrSpec,
    PortRange,
    ExeMatcher,
    Option<ExeMatcher>,
    Option<ExeMatcher>,
);

/// Entries by (protocol, single port); entries with a port range are always candidates.
#[derive(Default)]
pub struct PortIndex {
    by_port: std::collections::HashMap<(Proto, u16), Vec<usize>>,
    ranges: Vec<(Proto, usize)>,
}

impl PortIndex {
    fn build<'a>(entries: impl Iterator<Item = (Proto, &'a str)>) -> PortIndex {
        let mut ix = PortIndex::default();
        for (i, (proto, port)) in entries.enumerate() {
            match port.trim().parse::<u16>() {
                Ok(p) => ix.by_port.entry((proto, p)).or_default().push(i),
                Err(_) => ix.ranges.push((proto, i)),
            }
        }
        ix
    }

    /// Entry indexes that may match (protocol, port), in file order.
    pub fn candidates(&self, proto: Proto, port: u16) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .by_port
            .get(&(proto, port))
            .map(|v| v.to_vec())
            .unwrap_or_default();
        v.extend(self.ranges.iter().filter(|r| r.0 == proto).map(|r| r.1));
        v.sort_unstable();
        v
    }
}

/// An exe pattern: most entries are plain paths, compared as strings; the rest are globs.
pub enum ExeMatcher {
    /// A path without glob metacharacters: compared as a string.
    Exact(String),
    /// A glob: `*` and `?` do not match `/`, `**` does.
    Glob(globset::GlobMatcher),
}

impl ExeMatcher {
    /// Whether `exe` (a path, or `-` for an unknown executable) matches.
    pub fn is_match(&self, exe: &str) -> bool {
        match self {
            ExeMatcher::Exact(s) => s == exe,
            ExeMatcher::Glob(g) => g.is_match(exe),
        }
    }
}

fn glob(s: &str) -> Result<ExeMatcher, FieldError> {
    if !s.contains(['*', '?', '[', ']', '{', '}', '\\']) {
        return Ok(ExeMatcher::Exact(s.to_string()));
    }
    globset::GlobBuilder::new(s)
        .literal_separator(true)
        .build()
        .map(|g| ExeMatcher::Glob(g.compile_matcher()))
        .map_err(|e| FieldError::Glob {
            text: s.to_owned(),
            reason: e.kind().to_string(),
        })
}

/// Why a baseline entry's address or pattern field did not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Not `any`, a class, an address or a CIDR.
    #[error(
        "`{0}` is not `any`, an address class ({classes}), an address or a CIDR",
        classes = AddressClass::NAMES.join(", ")
    )]
    Address(String),
    /// A glob that does not parse.
    #[error("bad exe glob `{text}`: {reason}")]
    Glob {
        /// The glob.
        text: String,
        /// globset's reason.
        reason: String,
    },
}

/// Parses a baseline; every problem is a diagnostic with file:line:col.
pub fn parse(path: &str, text: &str) -> Result<(Baseline, Compiled), Vec<Diagnostic>> {
    let b: Baseline = serde_yaml::from_str(text)
        .map_err(|e| vec![Diagnostic::from_yaml(path, &e, "invalid baseline")])?;
    let loc = Locator::new(text);
    let mut diags = Vec::new();
    if b.version != BASELINE_VERSION {
        diags.push(Locator::diagnostic(
            path,
            loc.value("version"),
            format!(
                "baseline version {} is not supported (this sockwarden reads {BASELINE_VERSION})",
                b.version
            ),
        ));
    }
    // Each field is compiled on its own, and a problem is reported where the parser read it.
    let mut f = Fields {
        loc: &loc,
        path,
        diags: &mut diags,
    };
    let mut listeners = Vec::new();
    for (i, l) in b.listeners.iter().enumerate() {
        let at = |k: &str| format!("listeners/{i}/{k}");
        let addr = f.get(&at("address"), AddrSpec::parse(&l.address));
        let port = f.get(&at("port"), PortRange::parse(&l.port));
        let exe = f.get(&at("exe"), glob(&l.exe));
        let ct = l
            .container
            .as_deref()
            .map(|c| f.get(&at("container"), glob(c)));
        let ns = l.netns.as_deref().map(|n| f.get(&at("netns"), glob(n)));
        if let (Some(a), Some(p), Some(e), Some(c), Some(n)) = (
            addr,
            port,
            exe,
            ct.map_or(Some(None), |c| c.map(Some)),
            ns.map_or(Some(None), |n| n.map(Some)),
        ) {
            listeners.push((a, p, e, c, n));
        }
    }
    let mut outbound = Vec::new();
    for (i, o) in b.outbound.iter().enumerate() {
        let at = |k: &str| format!("outbound/{i}/{k}");
        let net = f.get(&at("network"), AddrSpec::parse(&o.network));
        let port = f.get(&at("port"), PortRange::parse(&o.port));
        let exe = f.get(&at("exe"), glob(&o.exe));
        if let (Some(n), Some(p), Some(e)) = (net, port, exe) {
            outbound.push((n, p, e));
        }
    }
    let mut inbound = Vec::new();
    for (i, x) in b.inbound.iter().enumerate() {
        let at = |k: &str| format!("inbound/{i}/{k}");
        let peers = x
            .peers
            .as_deref()
            .map(|p| f.get(&at("peers"), AddrSpec::parse(p)));
        let port = f.get(&at("port"), PortRange::parse(&x.port));
        let exe = f.get(&at("exe"), glob(&x.exe));
        if let (Some(pe), Some(p), Some(e)) = (peers.map_or(Some(None), |p| p.map(Some)), port, exe)
        {
            inbound.push((pe, p, e));
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let compiled = Compiled {
        listeners,
        outbound,
        inbound,
        listener_index: PortIndex::build(b.listeners.iter().map(|l| (l.protocol, l.port.as_str()))),
        outbound_index: PortIndex::build(b.outbound.iter().map(|o| (o.protocol, o.port.as_str()))),
        inbound_index: PortIndex::build(b.inbound.iter().map(|i| (i.protocol, i.port.as_str()))),
    };
    Ok((b, compiled))
}

/// Compiles a baseline's fields one by one, each problem a diagnostic at the field's value.
struct Fields<'a> {
    loc: &'a Locator,
    path: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl Fields<'_> {
    /// The compiled field at `at` (`listeners/0/port`), or `None` with its problem recorded.
    fn get<T, E: std::fmt::Display>(&mut self, at: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| {
            let pos = self.loc.value(at);
            self.diags
                .push(Locator::diagnostic(self.path, pos, e.to_string()));
        })
        .ok()
    }
}

/// What one socket is, for baselining: `None` for sockets a baseline does not describe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A listening socket: TCP in LISTEN, or unconnected UDP bound to a non-ephemeral port.
    Listener {
        /// `tcp` or `udp`.
        proto: Proto,
        /// The bind address, a v4-mapped address as its IPv4 address.
        address: IpAddr,
        /// The local port.
        port: u16,
    },
    /// A connection from an ephemeral local port.
    Outbound {
        /// `tcp` or `udp`.
        proto: Proto,
        /// The peer's address, a v4-mapped address as its IPv4 address.
        remote: IpAddr,
        /// The peer's port.
        port: u16,
    },
    /// A connection on a non-ephemeral local port that something listens on.
    Inbound {
        /// `tcp` or `udp`.
        proto: Proto,
        /// The local port.
        port: u16,
        /// The peer's address, a v4-mapped address as its IPv4 address.
        peer: IpAddr,
    },
}

/// Classifies a socket. Listeners: TCP LISTEN, and unconnected UDP bound to a fixed
/// (non-ephemeral) port. Outbound: a connection from an ephemeral local port. Inbound: an
/// established TCP connection on a port something listens on.
pub fn role(
    s: &crate::model::Socket,
    eph: (u16, u16),
    listening: &std::collections::HashSet<(Proto, u16)>,
) -> Option<Role> {
    let proto = Proto::of(s.protocol)?;
    let l = s.local?;
    let ephemeral = |p: u16| crate::net::is_ephemeral(p, eph);
    match (proto, s.state) {
        (Proto::Tcp, State::Listen) => Some(Role::Listener {
            proto,
            address: canonical(l.address),
            port: l.port,
        }),
        (Proto::Udp, State::Close) if l.port != 0 && !ephemeral(l.port) => Some(Role::Listener {
            proto,
            address: canonical(l.address),
            port: l.port,
        }),
        (_, State::Established | State::SynSent) => {
            let r = s.remote?;
            if listening.contains(&(proto, l.port)) && !ephemeral(l.port) {
                Some(Role::Inbound {
                    proto,
                    port: l.port,
                    peer: canonical(r.address),
                })
            } else if ephemeral(l.port) {
                Some(Role::Outbound {
                    proto,
                    remote: canonical(r.address),
                    port: r.port,
                })
            } else {
                None
            }
        }
        _ => None,
    }
}

crate::model::vocabulary! {
    /// Which way a socket's traffic goes, from the host's point of view ([`role`]): a service
    /// waiting for connections, a connection a local service accepted, or one a local client
    /// made. Reports show it and rules test it as `socket.direction`.
    pub enum Direction {
        /// A listening socket (TCP LISTEN, or unconnected UDP on a non-ephemeral port).
        Listening => "listening",
        /// A connection to a local listener's port.
        Inbound => "inbound",
        /// A connection from a local client.
        Outbound => "outbound",
    }
}

/// The listening (protocol, port) pairs of one network namespace.
type PortSet = std::collections::HashSet<(Proto, u16)>;

/// What telling a socket's direction needs: the listening ports of each network namespace of a
/// snapshot and its ephemeral range. The one place reports and rules get a direction from.
#[derive(Debug, Default)]
pub struct Directions {
    listening: Vec<(Option<u64>, PortSet)>,
    eph: (u16, u16),
}

impl Directions {
    /// The listening ports of every namespace of `snap`.
    pub fn of(snap: &crate::model::Snapshot) -> Directions {
        let mut listening: Vec<(Option<u64>, PortSet)> = Vec::new();
        for s in snap.sockets.iter().filter(|s| s.state == State::Listen) {
            let Some(key) = Proto::of(s.protocol).zip(s.local.map(|l| l.port)) else {
                continue;
            };
            match listening.iter_mut().find(|(n, _)| *n == s.netns) {
                Some((_, set)) => {
                    set.insert(key);
                }
                None => listening.push((s.netns, std::iter::once(key).collect())),
            }
        }
        Directions {
            listening,
            eph: snap.ephemeral_ports(),
        }
    }

    /// The direction of one socket of the snapshot: `None` for sockets [`role`] does not
    /// classify (unix, packet, raw, closed or time-wait TCP).
    pub fn get(&self, s: &crate::model::Socket) -> Option<Direction> {
        // No listener in the namespace: an empty set (no allocation).
        let none = std::collections::HashSet::new();
        let set = self
            .listening
            .iter()
            .find(|(n, _)| *n == s.netns)
            .map_or(&none, |(_, set)| set);
        Some(match role(s, self.eph, set)? {
            Role::Listener { .. } => Direction::Listening,
            Role::Inbound { .. } => Direction::Inbound,
            Role::Outbound { .. } => Direction::Outbound,
        })
    }
}

/// SHA-256 of a file's bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
