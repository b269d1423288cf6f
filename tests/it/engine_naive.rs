//! The rules engine against a naive evaluator, as a property test (issue 12).
//!
//! `engine::evaluate` is optimized: protocol/state masks reject most sockets before a field is
//! read, conjuncts the masks imply are dropped, process-only subtrees are memoized per process,
//! and aggregate rules group their hits. The naive evaluator below does none of that: for every
//! rule, every socket and every holder (or no holder when the socket has none), it builds the
//! whole subject (process and parent found by a linear search) and evaluates the rule's `when`
//! and `exceptions` with `Condition::eval`. Both must give the same set of (rule id, socket
//! index, matching holders) for the other rules, and for aggregate rules the same groups: the
//! matching subjects grouped by the `by` value, counted (or their `distinct` values counted),
//! kept when they pass the threshold, as (rule id, sockets, holders, count).
//!
//! Rule sets are random conditions over a representative set of fields and operators (enum
//! membership that the masks pin, ports and ranges, CIDRs and address classes, exe globs,
//! regexes and prefixes, users, parent fields, `exists`, named lists, nested all/any/not,
//! several predicates in one map, exceptions, aggregates), written as YAML and loaded through
//! `rules::load`. Snapshots are random sockets of every protocol and state with 0-3 holders
//! (some of them processes the snapshot does not list), processes with parents, executables,
//! users and containers, in one or several network namespaces.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};

use sockwarden::engine::{self, Finding};
use sockwarden::model::{
    ByteString, Container, Endpoint, Family, Meta, Namespace, Owner, PacketInfo, Process, Protocol,
    SCHEMA_VERSION, Snapshot, Socket, State, UnixInfo,
};
use sockwarden::rules::fields::Value;
use sockwarden::rules::fields::{ADDRESS_CLASSES, FAMILIES, KINDS, PROTOCOLS, STATES, Subject};
use sockwarden::rules::{self, RuleSet, Source};

/// The named lists the generated rules may use.
const LISTS: &str = "\
users: [root, www-data]
dirs: [/tmp/, /dev/shm/]
exes: [/usr/sbin/sshd, /usr/sbin/nginx]
states: [listen, established]
protocols: [tcp, udp, unix_stream]
nets: [10.0.0.0/8, \"::1\", 127.0.0.0/8]
ports: [22, 80, 443]
port_ranges: [\"1-1023\", 8080]
empty: []
";

const V4: &[&str] = &[
    "0.0.0.0",
    "127.0.0.1",
    "10.1.2.3",
    "192.168.1.5",
    "8.8.8.8",
    "100.64.1.1",
    "169.254.169.254",
    "203.0.113.10",
    "224.0.0.251",
];
const V6: &[&str] = &[
    "::",
    "::1",
    "fe80::1",
    "2001:db8::5",
    "::ffff:10.0.0.1",
    "::ffff:8.8.4.4",
    "fd00::7",
    "2606:4700::1",
];
const NETS: &[&str] = &[
    "10.0.0.0/8",
    "127.0.0.0/8",
    "192.168.0.0/16",
    "0.0.0.0/0",
    "::/0",
    "::1",
    "fe80::/10",
    "2001:db8::/32",
    "8.8.8.8",
    "::ffff:10.0.0.0/104",
    "100.64.0.0/10",
];
const PORTS: &[u16] = &[
    0, 22, 53, 80, 443, 1023, 1024, 5353, 8080, 32767, 32768, 40000, 60999, 61000, 65535,
];
const EXES: &[&str] = &[
    "/usr/sbin/sshd",
    "/usr/sbin/nginx",
    "/usr/bin/python3",
    "/tmp/x",
    "/dev/shm/.a",
    "/opt/app/bin/app",
    "/tmp/a b/[x]*",
];
const NAMES: &[&str] = &["sshd", "nginx", "python3", "x", ".a", "app", "[x]*"];
const USERS: &[&str] = &["root", "www-data", "nobody"];
const GLOBS: &[&str] = &[
    "/tmp/*",
    "/usr/**",
    "/usr/*/sshd",
    "*",
    "/tmp/**",
    "**/python?",
    "/usr/{s,}bin/*",
    "/tmp/a b/\\[x\\]\\*",
];
const REGEXES: &[&str] = &[
    "^/(tmp|dev/shm)/",
    "sshd$",
    "python[0-9]",
    "^/usr/",
    ".",
    "^$",
];
const UNIX_NAMES: &[&str] = &["/run/docker.sock", "/tmp/.X11-unix/X0", "sw-abstract", ""];
const UIDS: &[u32] = &[0, 33, 65534, 1000];

fn s(x: &str) -> Json {
    Json::String(x.to_string())
}

fn pick<T: Clone + std::fmt::Debug + 'static>(v: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(v)
}

fn some_of(v: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(v, 1..=v.len().min(3))
}

fn exists() -> BoxedStrategy<Json> {
    any::<bool>()
        .prop_map(|b| json!({"exists": b.to_string()}))
        .boxed()
}

/// A predicate on an enum field: mostly membership (what the engine's masks pin).
fn enum_pred(names: &'static [&'static str], list: Option<&'static str>) -> BoxedStrategy<Json> {
    let mut arms: Vec<(u32, BoxedStrategy<Json>)> = vec![
        (4, pick(names).prop_map(s).boxed()),
        (2, pick(names).prop_map(|v| json!({ "eq": v })).boxed()),
        (4, some_of(names).prop_map(|v| json!({ "in": v })).boxed()),
        (2, pick(names).prop_map(|v| json!({ "ne": v })).boxed()),
        (
            1,
            some_of(names)
                .prop_map(|v| json!({ "regex": format!("^({})$", v.join("|")) }))
                .boxed(),
        ),
        (
            1,
            (pick(names), some_of(names))
                .prop_map(|(a, v)| json!({ "in": v, "ne": a }))
                .boxed(),
        ),
        (1, exists()),
    ];
    if let Some(l) = list {
        arms.push((1, Just(json!({ "in_list": l })).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

fn port_pred() -> BoxedStrategy<Json> {
    let p = || pick(PORTS);
    let range = |a: u16, b: u16| format!("{}-{}", a.min(b), a.max(b));
    Union::new_weighted(vec![
        (2, p().prop_map(|p| s(&p.to_string())).boxed()),
        (
            3,
            (p(), p())
                .prop_map(move |(a, b)| json!({ "port": range(a, b) }))
                .boxed(),
        ),
        (
            1,
            (p(), p(), p())
                .prop_map(move |(a, b, c)| json!({ "port": [c.to_string(), range(a, b)] }))
                .boxed(),
        ),
        (2, p().prop_map(|p| json!({ "gt": p.to_string() })).boxed()),
        (2, p().prop_map(|p| json!({ "lt": p.to_string() })).boxed()),
        (
            1,
            (p(), p())
                .prop_map(|(a, b)| json!({ "ge": a.to_string(), "le": b.to_string() }))
                .boxed(),
        ),
        (
            1,
            prop::sample::subsequence(PORTS, 1..4)
                .prop_map(|v| json!({ "in": v.iter().map(|p| p.to_string()).collect::<Vec<_>>() }))
                .boxed(),
        ),
        (1, Just(json!({ "in_list": "ports" })).boxed()),
        (
            1,
            Just(json!({ "port": { "list": "port_ranges" } })).boxed(),
        ),
        (1, exists()),
    ])
    .boxed()
}

fn addr_pred() -> BoxedStrategy<Json> {
    let addrs: Vec<&'static str> = V4.iter().chain(V6).copied().collect();
    let addrs: &'static [&'static str] = Box::leak(addrs.into_boxed_slice());
    Union::new_weighted(vec![
        (3, some_of(NETS).prop_map(|v| json!({ "cidr": v })).boxed()),
        (1, Just(json!({ "cidr": { "list": "nets" } })).boxed()),
        (1, pick(addrs).prop_map(|a| json!({ "eq": a })).boxed()),
        (1, some_of(addrs).prop_map(|v| json!({ "in": v })).boxed()),
        (1, pick(addrs).prop_map(|a| json!({ "ne": a })).boxed()),
        (1, exists()),
    ])
    .boxed()
}

fn bool_pred() -> BoxedStrategy<Json> {
    Union::new_weighted(vec![
        (3, any::<bool>().prop_map(|b| s(&b.to_string())).boxed()),
        (
            1,
            any::<bool>()
                .prop_map(|b| json!({ "ne": b.to_string() }))
                .boxed(),
        ),
        (1, exists()),
    ])
    .boxed()
}

fn int_pred(values: &'static [&'static str]) -> BoxedStrategy<Json> {
    Union::new_weighted(vec![
        (2, pick(values).prop_map(s).boxed()),
        (1, pick(values).prop_map(|v| json!({ "gt": v })).boxed()),
        (1, pick(values).prop_map(|v| json!({ "lt": v })).boxed()),
        (1, some_of(values).prop_map(|v| json!({ "in": v })).boxed()),
        (1, exists()),
    ])
    .boxed()
}

fn exe_pred(field_is_name: bool) -> BoxedStrategy<Json> {
    let exact: &'static [&'static str] = if field_is_name { NAMES } else { EXES };
    Union::new_weighted(vec![
        (3, pick(GLOBS).prop_map(|g| json!({ "glob": g })).boxed()),
        (
            2,
            some_of(REGEXES).prop_map(|r| json!({ "regex": r })).boxed(),
        ),
        (
            2,
            some_of(&["/tmp/", "/dev/shm/", "/usr/", "/opt/"])
                .prop_map(|v| json!({ "prefix": v }))
                .boxed(),
        ),
        (1, Just(json!({ "prefix": { "list": "dirs" } })).boxed()),
        (
            1,
            some_of(&["sshd", "3", "x", "*"])
                .prop_map(|v| json!({ "suffix": v }))
                .boxed(),
        ),
        (
            1,
            some_of(&["bin", "shm", " ", "["])
                .prop_map(|v| json!({ "contains": v }))
                .boxed(),
        ),
        (2, pick(exact).prop_map(s).boxed()),
        (1, some_of(exact).prop_map(|v| json!({ "in": v })).boxed()),
        (1, Just(json!({ "in_list": "exes" })).boxed()),
        (2, exists()),
    ])
    .boxed()
}

fn user_pred() -> BoxedStrategy<Json> {
    Union::new_weighted(vec![
        (2, pick(USERS).prop_map(s).boxed()),
        (1, some_of(USERS).prop_map(|v| json!({ "in": v })).boxed()),
        (1, pick(USERS).prop_map(|v| json!({ "ne": v })).boxed()),
        (1, Just(json!({ "in_list": "users" })).boxed()),
        (1, Just(json!({ "in_list": "empty" })).boxed()),
        (1, exists()),
    ])
    .boxed()
}

fn str_pred(
    values: &'static [&'static str],
    prefixes: &'static [&'static str],
) -> BoxedStrategy<Json> {
    Union::new_weighted(vec![
        (2, pick(values).prop_map(s).boxed()),
        (
            1,
            some_of(prefixes)
                .prop_map(|v| json!({ "prefix": v }))
                .boxed(),
        ),
        (1, some_of(values).prop_map(|v| json!({ "in": v })).boxed()),
        (1, exists()),
    ])
    .boxed()
}

/// One field predicate: `{FIELD: PRED}`.
fn leaf() -> BoxedStrategy<Json> {
    let f = |name: &'static str, pred: BoxedStrategy<Json>| {
        pred.prop_map(move |p| json!({ name: p })).boxed()
    };
    Union::new_weighted(vec![
        (
            6,
            f("socket.protocol", enum_pred(PROTOCOLS, Some("protocols"))),
        ),
        (3, f("socket.kind", enum_pred(KINDS, None))),
        (6, f("socket.state", enum_pred(STATES, Some("states")))),
        (1, f("socket.family", enum_pred(FAMILIES, None))),
        (3, f("socket.local.port", port_pred())),
        (2, f("socket.remote.port", port_pred())),
        (2, f("socket.local.address", addr_pred())),
        (2, f("socket.remote.address", addr_pred())),
        (2, f("socket.local.class", enum_pred(ADDRESS_CLASSES, None))),
        (
            2,
            f("socket.remote.class", enum_pred(ADDRESS_CLASSES, None)),
        ),
        (1, f("socket.local.any", bool_pred())),
        (1, f("socket.local.ephemeral", bool_pred())),
        (1, f("socket.owned", bool_pred())),
        (1, f("socket.uid_is_holder", bool_pred())),
        (1, f("socket.uid", int_pred(&["0", "33", "999", "1000"]))),
        (
            1,
            f(
                "socket.netns.name",
                str_pred(&["host", "blue", "ns:4026532999"], &["ns:", "b"]),
            ),
        ),
        (
            1,
            f(
                "socket.netns.inode",
                int_pred(&["4026531840", "4026532999"]),
            ),
        ),
        (
            1,
            f(
                "socket.unix.name",
                str_pred(
                    &["/run/docker.sock", "@sw-abstract", ""],
                    &["/run/", "@", "/tmp/"],
                ),
            ),
        ),
        (1, f("socket.unix.abstract", bool_pred())),
        (
            1,
            f("socket.interface", str_pred(&["eth0", "lo"], &["eth"])),
        ),
        (
            1,
            f("socket.packet.ethertype", int_pred(&["3", "2048", "34525"])),
        ),
        (1, f("fd", int_pred(&["0", "3", "4", "7"]))),
        (5, f("process.exe", exe_pred(false))),
        (2, f("process.exe_name", exe_pred(true))),
        (1, f("process.comm", exe_pred(true))),
        (3, f("process.user", user_pred())),
        (2, f("process.uid", int_pred(&["0", "33", "1000"]))),
        (1, f("process.euid", int_pred(&["0", "1000"]))),
        (1, f("process.pid", int_pred(&["1", "98", "195", "389"]))),
        (1, f("process.ppid", int_pred(&["0", "1", "98"]))),
        (
            1,
            f(
                "process.cmdline",
                str_pred(&["sshd -D", "python3 -c x", ""], &["python", "sshd"]),
            ),
        ),
        (
            1,
            f("process.argv0", str_pred(&["sshd", "python3"], &["py"])),
        ),
        (1, f("process.exe_deleted", bool_pred())),
        (1, f("process.exe_memfd", bool_pred())),
        (
            1,
            f(
                "process.container.runtime",
                str_pred(&["docker", "podman"], &["dock"]),
            ),
        ),
        (
            1,
            f("process.netns", int_pred(&["4026531840", "4026532999"])),
        ),
        (3, f("parent.exe", exe_pred(false))),
        (1, f("parent.comm", exe_pred(true))),
        (2, f("parent.user", user_pred())),
        (1, f("parent.pid", int_pred(&["1", "98", "195"]))),
        (1, f("parent.uid", int_pred(&["0", "33"]))),
        (2, f("process.parent.exe", exe_pred(false))),
        (2, f("process.ancestors.exe", exe_pred(false))),
        (1, f("process.ancestors.pid", int_pred(&["1", "98", "195"]))),
        (2, f("process.children.comm", exe_pred(true))),
        (1, f("process.children.uid", int_pred(&["0", "33"]))),
        (
            2,
            f(
                "socket.direction",
                enum_pred(sockwarden::rules::fields::DIRECTIONS, None),
            ),
        ),
    ])
    .boxed()
}

/// Several conditions in one map (they must all hold), or `all:` when their keys collide.
fn merge(a: Json, b: Json) -> Json {
    match (a, b) {
        (Json::Object(mut x), Json::Object(y)) if y.keys().all(|k| !x.contains_key(k)) => {
            x.extend(y);
            Json::Object(x)
        }
        (a, b) => json!({ "all": [a, b] }),
    }
}

/// A condition: leaves under nested all/any/not, up to three levels deep.
fn condition() -> BoxedStrategy<Json> {
    leaf()
        .prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                3 => prop::collection::vec(inner.clone(), 1..=3).prop_map(|v| json!({ "all": v })),
                3 => prop::collection::vec(inner.clone(), 1..=3).prop_map(|v| json!({ "any": v })),
                2 => inner.clone().prop_map(|c| json!({ "not": c })),
                1 => (inner.clone(), inner).prop_map(|(a, b)| merge(a, b)),
            ]
        })
        .boxed()
}

/// A rule's `when`: mostly a conjunction that pins protocols and states, as real rules do.
fn when() -> BoxedStrategy<Json> {
    let pin = |field: &'static str, names: &'static [&'static str]| {
        prop::option::weighted(
            0.5,
            enum_pred(names, None).prop_map(move |p| json!({ field: p })),
        )
    };
    prop_oneof![
        3 => (
            pin("socket.protocol", PROTOCOLS),
            pin("socket.state", STATES),
            prop::option::weighted(0.2, enum_pred(KINDS, None).prop_map(|p| json!({ "socket.kind": p }))),
            prop::collection::vec(condition(), 0..=2),
        )
            .prop_map(|(p, st, k, rest)| {
                let mut v: Vec<Json> = [p, st, k].into_iter().flatten().collect();
                v.extend(rest);
                if v.is_empty() {
                    json!({ "socket.state": "listen" })
                } else {
                    json!({ "all": v })
                }
            }),
        2 => condition(),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct RuleSpec {
    when: Json,
    exceptions: Vec<Json>,
    aggregate: Option<Json>,
    severity: &'static str,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    let aggregate = (
        pick(&[
            "process.pid",
            "socket.remote.address",
            "process.exe",
            "socket.local.port",
        ]),
        prop::option::of(pick(&[
            "socket.remote.port",
            "socket.local.port",
            "process.user",
        ])),
        0u64..3,
        any::<bool>(),
    )
        .prop_map(|(by, distinct, n, ge)| {
            let op = if ge { "ge" } else { "gt" };
            let mut a = json!({ "by": by, "count": { op: n } });
            if let Some(d) = distinct {
                a["distinct"] = s(d);
            }
            a
        });
    (
        when(),
        prop::collection::vec(condition(), 0..=2),
        prop::option::weighted(0.15, aggregate),
        pick(&["info", "low", "medium", "high", "critical"]),
    )
        .prop_map(|(when, exceptions, aggregate, severity)| RuleSpec {
            when,
            exceptions,
            aggregate,
            severity,
        })
}

/// The YAML text of rule `i`.
fn rule_yaml(i: usize, r: &RuleSpec) -> String {
    let mut doc = json!({
        "id": format!("R-{i:02}"),
        "title": "generated",
        "severity": r.severity,
        "status": "experimental",
        "tags": ["T1049"],
        "description": "a generated rule",
        "when": r.when,
        "examples": { "match": [{}], "no_match": [{}] },
    });
    if !r.exceptions.is_empty() {
        doc["exceptions"] = Json::Array(r.exceptions.clone());
    }
    if let Some(a) = &r.aggregate {
        doc["aggregate"] = a.clone();
    }
    serde_yaml::to_string(&doc).unwrap()
}

fn load(rules: &[RuleSpec]) -> (RuleSet, Vec<String>) {
    let texts: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| rule_yaml(i, r))
        .collect();
    let sources: Vec<Source> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Source {
            path: format!("r{i}.yaml"),
            text: t.clone(),
        })
        .collect();
    let lists = [Source {
        path: "lists.yaml".into(),
        text: LISTS.into(),
    }];
    match rules::load(&sources, &lists, &[], &[]) {
        Ok(rs) => (rs, texts),
        Err(d) => panic!(
            "generated rules do not load: {d:#?}\n{}",
            texts.join("---\n")
        ),
    }
}

// ---- snapshots ----

#[derive(Debug, Clone)]
struct ProcSpec {
    parent: usize,
    exe: Option<usize>,
    user: Option<usize>,
    uid: u32,
    cmdline: usize,
    container: Option<bool>,
    deleted: bool,
    netns: Option<bool>,
}

#[derive(Debug, Clone)]
struct SockSpec {
    protocol: usize,
    state: usize,
    v6: bool,
    local: Option<(usize, u16)>,
    remote: Option<(usize, u16)>,
    uid: Option<u32>,
    /// Process slots: past the end of the process list, a holder the snapshot does not list.
    owners: Vec<(usize, u32)>,
    netns: usize,
    unix: Option<(usize, bool)>,
    interface: Option<bool>,
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![3 => pick(PORTS), 1 => any::<u16>()]
}

fn proc_spec() -> impl Strategy<Value = ProcSpec> {
    (
        0usize..8,
        prop::option::weighted(0.85, 0..EXES.len()),
        prop::option::weighted(0.8, 0..USERS.len()),
        pick(UIDS),
        0usize..4,
        prop::option::weighted(0.25, any::<bool>()),
        prop::bool::weighted(0.1),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(parent, exe, user, uid, cmdline, container, deleted, netns)| ProcSpec {
                parent,
                exe,
                user,
                uid,
                cmdline,
                container,
                deleted,
                netns,
            },
        )
}

fn sock_spec() -> impl Strategy<Value = SockSpec> {
    (
        (0..Protocol::ALL.len(), 0..State::ALL.len(), any::<bool>()),
        prop::option::weighted(0.9, (0usize..16, port())),
        prop::option::weighted(0.5, (0usize..16, port())),
        prop::option::of(pick(UIDS)),
        prop::collection::vec((0usize..8, 0u32..8), 0..=3),
        0usize..4,
        prop::option::of((0..UNIX_NAMES.len(), any::<bool>())),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |((protocol, state, v6), local, remote, uid, owners, netns, unix, interface)| {
                SockSpec {
                    protocol,
                    state,
                    v6,
                    local,
                    remote,
                    uid,
                    owners,
                    netns,
                    unix,
                    interface,
                }
            },
        )
}

const HOST_NS: u64 = 4026531840;
const BLUE_NS: u64 = 4026532001;
const ANON_NS: u64 = 4026532999;

fn pid_of(slot: usize) -> u32 {
    1 + 97 * slot as u32
}

fn build_snapshot(
    procs: &[ProcSpec],
    socks: &[SockSpec],
    eph: Option<(u16, u16)>,
    several_ns: bool,
) -> Snapshot {
    let processes: Vec<Process> = procs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let exe = p.exe.map(|e| ByteString::from(EXES[e]));
            let name = p.exe.map_or("kworker", |e| NAMES[e]);
            Process {
                pid: pid_of(i),
                // A parent in the list, the process itself, none (0) or one not listed.
                ppid: match p.parent {
                    k if k < procs.len() => pid_of(k),
                    6 => 0,
                    _ => 77777,
                },
                comm: ByteString::from(name),
                exe,
                exe_deleted: p.deleted,
                exe_memfd: p.deleted && p.cmdline == 0,
                cmdline: match p.cmdline {
                    0 => vec![],
                    1 => vec![ByteString::from(name)],
                    2 => vec![ByteString::from("python3"), "-c".into(), "x".into()],
                    _ => vec![ByteString::from("sshd"), "-D".into()],
                },
                uid: p.uid,
                euid: if p.uid == 1000 { 0 } else { p.uid },
                user: p.user.map(|u| USERS[u].to_string()),
                start_ticks: 100,
                cgroup: p.container.map(|_| "/system.slice/docker-abc.scope".into()),
                container: p.container.map(|docker| Container {
                    runtime: if docker { "docker" } else { "podman" }.into(),
                    id: "4f1c9a2b3c4d".into(),
                    pod_uid: None,
                }),
                netns: p.netns.map(|h| if h { HOST_NS } else { ANON_NS }),
                ..Process::default()
            }
        })
        .collect();
    let sockets: Vec<Socket> = socks
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let protocol = Protocol::ALL[x.protocol];
            let family = match protocol.kind().name() {
                "unix" => Family::Unix,
                "packet" => Family::Packet,
                _ if x.v6 => Family::Inet6,
                _ => Family::Inet,
            };
            let mut s = Socket::new(protocol, family, State::ALL[x.state], 1000 + i as u64);
            let ep = |(a, port): (usize, u16)| {
                let pool = if x.v6 { V6 } else { V4 };
                Endpoint {
                    address: pool[a % pool.len()].parse().unwrap(),
                    port,
                }
            };
            if protocol.is_inet() {
                s.local = x.local.map(ep);
                s.remote = x.remote.map(ep);
            }
            if protocol.is_unix() {
                s.unix = x.unix.map(|(n, abs)| {
                    Box::new(UnixInfo {
                        name: (!UNIX_NAMES[n].is_empty())
                            .then(|| ByteString::from(UNIX_NAMES[n].trim_start_matches('@'))),
                        r#abstract: abs && !UNIX_NAMES[n].starts_with('/'),
                        peer: abs.then_some(77),
                        pending: vec![],
                        backlog: None,
                        vfs_inode: None,
                        vfs_dev: None,
                    })
                });
            }
            if protocol.is_packet() {
                s.packet = Some(Box::new(PacketInfo {
                    ethertype: [3, 2048, 34525][x.local.map_or(0, |l| l.0 % 3)],
                    version: None,
                    flags: None,
                    fanout: None,
                    copy_thresh: None,
                    rx_ring: None,
                    tx_ring: None,
                    bpf: None,
                }));
            }
            s.interface = x.interface.map(|e| if e { "eth0" } else { "lo" }.into());
            s.uid = x.uid;
            s.owners = x
                .owners
                .iter()
                .map(|&(slot, fd)| Owner {
                    pid: if slot < procs.len() {
                        pid_of(slot)
                    } else {
                        4242 + slot as u32
                    },
                    fd,
                })
                .collect();
            if several_ns {
                s.netns = [None, Some(HOST_NS), Some(BLUE_NS), Some(ANON_NS)][x.netns];
            }
            s
        })
        .collect();
    let mut meta = Meta::blank("prop");
    meta.ip_local_port_range = eph;
    meta.netns = Some(HOST_NS);
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta,
        sockets,
        processes,
        namespaces: if several_ns {
            vec![
                Namespace {
                    inode: HOST_NS,
                    name: None,
                    current: true,
                    pids: vec![],
                    containers: vec![],
                },
                Namespace {
                    inode: BLUE_NS,
                    name: Some("blue".into()),
                    current: false,
                    pids: vec![],
                    containers: vec![],
                },
            ]
        } else {
            vec![]
        },
        warnings: vec![],
        gaps: vec![],
    };
    snap.canonicalize();
    snap
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        prop::collection::vec(proc_spec(), 0..=6),
        prop::collection::vec(sock_spec(), 0..=24),
        prop_oneof![
            Just(None),
            Just(Some((32768, 60999))),
            Just(Some((1024, 65535))),
            Just(Some((40000, 40000)))
        ],
        any::<bool>(),
    )
        .prop_map(|(p, s, eph, ns)| build_snapshot(&p, &s, eph, ns))
}

// ---- the naive evaluator ----

/// A per-socket finding: (rule id, socket index, matching holders).
type Hit = (String, usize, Vec<Owner>);
/// An aggregate finding: (rule id, sockets of the group, holders, count).
type Group = (String, Vec<usize>, Vec<Owner>, u64);
/// Aggregate groups being built: (rule, group key) → (socket, holder, distinct value) members.
type Members = BTreeMap<(usize, String), Vec<(usize, Option<Owner>, String)>>;

fn key(v: &Value) -> String {
    match v {
        Value::Missing => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => s.to_string(),
        Value::Ip(ip) => ip.to_string(),
        Value::Ints(v) => v.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        Value::Strs(v) => v.join(","),
    }
}

fn naive(rs: &RuleSet, snap: &Snapshot) -> (BTreeSet<Hit>, BTreeSet<Group>) {
    let eph = snap.meta.ip_local_port_range.unwrap_or((32768, 60999));
    let find = |pid: u32| snap.processes.iter().find(|p| p.pid == pid);
    let mut hits = BTreeSet::new();
    let mut groups: Members = BTreeMap::new();
    let world = sockwarden::rules::fields::World::of(snap);
    for (ri, rule) in rs.rules.iter().enumerate() {
        for (si, sock) in snap.sockets.iter().enumerate() {
            let label = snap.netns_label(sock.netns);
            let holders: Vec<Option<Owner>> = if sock.owners.is_empty() {
                vec![None]
            } else {
                sock.owners.iter().copied().map(Some).collect()
            };
            let mut matched = false;
            let mut owners = Vec::new();
            for owner in holders {
                let process = owner.and_then(|o| find(o.pid));
                let x = Subject {
                    socket: sock,
                    owner,
                    process,
                    parent: process.and_then(|p| find(p.ppid)),
                    ephemeral: eph,
                    netns: Some(&label),
                    world: Some(&world),
                };
                if !rule.doc.when.eval(&x) || rule.doc.exceptions.iter().any(|e| e.eval(&x)) {
                    continue;
                }
                match &rule.doc.aggregate {
                    None => {
                        matched = true;
                        owners.extend(owner);
                    }
                    Some(agg) => {
                        let by = key(&(agg.by.0.get)(&x));
                        let distinct = agg.distinct.map(|d| key(&(d.0.get)(&x)));
                        groups.entry((ri, by)).or_default().push((
                            si,
                            owner,
                            distinct.unwrap_or_default(),
                        ));
                    }
                }
            }
            if matched {
                hits.insert((rule.id().to_string(), si, owners));
            }
        }
    }
    let mut aggs = BTreeSet::new();
    for ((ri, _), members) in groups {
        let agg = rs.rules[ri].doc.aggregate.as_ref().unwrap();
        let n = if agg.distinct.is_some() {
            members.iter().map(|m| &m.2).collect::<BTreeSet<_>>().len()
        } else {
            members.len()
        } as u64;
        if agg.count.passes(n) {
            let sockets: BTreeSet<usize> = members.iter().map(|m| m.0).collect();
            let owners: BTreeSet<Owner> = members.iter().filter_map(|m| m.1).collect();
            aggs.insert((
                rs.rules[ri].id().to_string(),
                sockets.into_iter().collect(),
                owners.into_iter().collect(),
                n,
            ));
        }
    }
    (hits, aggs)
}

fn engine_sets(rs: &RuleSet, findings: &[Finding]) -> (BTreeSet<Hit>, BTreeSet<Group>) {
    let mut hits = BTreeSet::new();
    let mut aggs = BTreeSet::new();
    for f in findings {
        let id = rs.rules[f.rule].id().to_string();
        match f.count {
            None => {
                hits.insert((id, f.socket, f.owners.clone()));
            }
            Some(n) => {
                assert_eq!(
                    f.socket, f.related[0],
                    "an aggregate names its first socket"
                );
                aggs.insert((id, f.related.clone(), f.owners.clone(), n));
            }
        }
    }
    (hits, aggs)
}

fn case() -> impl Strategy<Value = (Vec<RuleSpec>, Snapshot)> {
    (prop::collection::vec(rule_spec(), 1..=6), snapshot())
}

fn check(rules: &[RuleSpec], snap: &Snapshot) -> Result<(), TestCaseError> {
    let (rs, texts) = load(rules);
    let findings = engine::evaluate(&rs, snap);
    let (hits, aggs) = engine_sets(&rs, &findings);
    prop_assert_eq!(
        findings.len(),
        hits.len() + aggs.len(),
        "duplicate findings"
    );
    // Split by an arbitrary pick (as a scan splits its rules around the /proc/net view) and
    // merged: the same evaluation, in the same order.
    let picked: Vec<bool> = (0..rs.rules.len()).map(|i| i % 2 == 0).collect();
    let rest: Vec<bool> = picked.iter().map(|p| !p).collect();
    let split = engine::evaluate_some(&rs, snap, &picked)
        .merge(engine::evaluate_some(&rs, snap, &rest), &rs);
    prop_assert_eq!(
        split,
        engine::evaluate_all(&rs, snap),
        "split evaluation differs"
    );
    let (want_hits, want_aggs) = naive(&rs, snap);
    let context = || {
        format!(
            "\nrules:\n{}\nsnapshot:\n{}",
            texts.join("---\n"),
            serde_json::to_string(snap).unwrap()
        )
    };
    prop_assert!(
        hits == want_hits,
        "engine and naive evaluator differ\nengine only: {:?}\nnaive only: {:?}{}",
        hits.difference(&want_hits).collect::<Vec<_>>(),
        want_hits.difference(&hits).collect::<Vec<_>>(),
        context()
    );
    prop_assert!(
        aggs == want_aggs,
        "aggregates differ\nengine: {aggs:?}\nnaive: {want_aggs:?}{}",
        context()
    );
    Ok(())
}

/// 512 cases unless PROPTEST_CASES says otherwise (about 5 s in a debug build).
fn config() -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        512
    };
    Config {
        cases,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn engine_agrees_with_a_naive_evaluator((rules, snap) in case()) {
        check(&rules, &snap)?;
    }
}

/// The generator is worth something only if its cases exercise the engine's shortcuts: rules
/// the masks pre-filter that still fire, findings with and without holders, exceptions that
/// suppress a match, process-only conditions, and aggregates that pass. Fixed seed.
#[test]
fn generated_cases_exercise_the_engine() {
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut stats: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..128 {
        let (rules, snap) = strategy.new_tree(&mut runner).unwrap().current();
        let (rs, _) = load(&rules);
        let findings = engine::evaluate(&rs, &snap);
        let mut bump = |k| *stats.entry(k).or_default() += 1;
        if findings.iter().any(|f| f.count.is_none()) {
            bump("case with a finding");
        }
        for f in &findings {
            let r = &rs.rules[f.rule];
            if f.count.is_some() {
                bump("aggregate finding");
            } else if f.owners.is_empty() {
                bump("finding without a holder");
            } else {
                bump("finding with a holder");
            }
            if f.owners.len() > 1 {
                bump("finding with several holders");
            }
            if r.protocol_mask != u32::MAX || r.state_mask != u32::MAX {
                bump("finding of a pre-filtered rule");
            }
            if r.text.contains("parent.") {
                bump("finding of a rule reading the parent");
            }
        }
        // Subjects whose `when` holds but an exception suppresses.
        for rule in &rs.rules {
            for sock in &snap.sockets {
                let x = Subject {
                    socket: sock,
                    owner: sock.owners.first().copied(),
                    process: sock.owners.first().and_then(|o| snap.process(o.pid)),
                    parent: None,
                    ephemeral: (32768, 60999),
                    netns: Some("host"),
                    world: None,
                };
                if rule.doc.when.eval(&x) && rule.doc.exceptions.iter().any(|e| e.eval(&x)) {
                    bump("match suppressed by an exception");
                }
            }
        }
    }
    for k in [
        "case with a finding",
        "finding with a holder",
        "finding without a holder",
        "finding with several holders",
        "finding of a pre-filtered rule",
        "finding of a rule reading the parent",
        "aggregate finding",
        "match suppressed by an exception",
    ] {
        assert!(
            stats.get(k).copied().unwrap_or(0) >= 5,
            "too few `{k}`: {stats:#?}"
        );
    }
    assert!(
        stats["case with a finding"] >= 128 / 3,
        "a third of the cases should find something: {stats:#?}"
    );
}
