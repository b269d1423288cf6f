//! What watch writes: findings as the scan's ECS JSON Lines (`report::jsonl`), socket events and
//! the summary as ECS events of their own, or one escaped line per finding for a terminal.

use serde_json::{Value, json};

use super::event::Action;
use super::{Record, SocketEvent, Summary};
use crate::model::Protocol;
use crate::report::jsonl::{self, ECS_VERSION};
use crate::text::escape;

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// ECS JSON Lines.
    Jsonl,
    /// One line per finding for a person (attacker-controlled text escaped).
    Table,
}

/// The lines of one record, each ending in a newline.
pub fn render(style: Style, host: &str, r: &Record) -> String {
    match (style, r) {
        (Style::Jsonl, Record::Findings(rep)) => jsonl::render(rep),
        (Style::Table, Record::Findings(rep)) => {
            let mut out = String::new();
            for f in &rep.findings {
                let who = f.processes.first().map_or_else(
                    || "-".to_string(),
                    |p| {
                        format!(
                            "pid {} ({}) {} ppid {}",
                            p.pid,
                            escape(&p.comm.0),
                            p.exe.as_ref().map_or_else(|| "-".into(), |e| escape(&e.0)),
                            p.ppid
                        )
                    },
                );
                let sock = f.socket.as_ref().map_or_else(String::new, |s| {
                    format!(
                        "{} {} -> {}",
                        s.state.name(),
                        crate::report::endpoint_text(s.local),
                        crate::report::endpoint_text(s.remote)
                    )
                });
                out.push_str(&format!(
                    "{} {:<8} {:<10} {}: {} [{}]\n",
                    rep.started_at,
                    f.severity.name(),
                    f.rule_id
                        .clone()
                        .or_else(|| f.category.map(|c| c.name().to_string()))
                        .unwrap_or_default(),
                    f.title,
                    sock,
                    who
                ));
            }
            out
        }
        (Style::Jsonl, Record::Event(e)) => line(&event_doc(host, e)),
        (Style::Table, Record::Event(e)) => {
            let s = &e.socket;
            format!(
                "{} event {} {} -> {} pid {} ({})\n",
                crate::collect::host::now_rfc3339(),
                e.action.name(),
                crate::report::endpoint_text(s.local),
                crate::report::endpoint_text(s.remote),
                e.holder.as_ref().map_or(0, |h| h.process.pid),
                e.holder
                    .as_ref()
                    .map_or_else(String::new, |h| escape(&h.process.comm.0))
            )
        }
    }
}

fn line(v: &Value) -> String {
    let mut s = serde_json::to_string(v).expect("a line serializes");
    s.push('\n');
    s
}

/// A socket event as an ECS document (`event.kind: event`, `event.dataset:
/// sockwarden.socket`). The socket's kernel address is never written: it would leak the
/// kernel's address layout.
fn event_doc(host: &str, e: &SocketEvent) -> Value {
    let s = &e.socket;
    let (src, dst) = match e.action {
        Action::Accepted | Action::Listen | Action::Bind => (s.remote, s.local),
        _ => (s.local, s.remote),
    };
    let kind = match s.family {
        crate::model::Family::Inet6 => Some("ipv6"),
        crate::model::Family::Inet => Some("ipv4"),
        _ => None,
    };
    let mut doc = json!({
        "@timestamp": crate::collect::host::now_rfc3339(),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "event",
            "category": ["network"],
            "type": [match e.action {
                Action::Close => "end",
                Action::Listen | Action::Bind | Action::Open => "start",
                _ => "connection",
            }],
            "action": e.action.name(),
            "dataset": "sockwarden.socket",
        },
        "host": {"hostname": host},
        "sockwarden": {
            "protocol": s.protocol.name(),
            "state": s.state.name(),
            "netns_inode": s.netns,
            "cgroup_id": e.cgroup_id,
            "ktime_ns": e.ktime_ns,
        },
    });
    if let Some(kind) = kind {
        doc["network"] = json!({"type": kind});
        match s.protocol {
            Protocol::Tcp | Protocol::Udp => doc["network"]["transport"] = json!(s.protocol.name()),
            // A raw socket's "port" is its IP protocol number.
            _ => doc["network"]["iana_number"] = json!(s.local.map_or(0, |l| l.port).to_string()),
        }
    }
    if s.inode != 0 {
        doc["sockwarden"]["inode"] = json!(s.inode);
    }
    if let Some(u) = &s.unix {
        doc["sockwarden"]["unix_name"] = json!(u.name.as_ref().map(|n| n.to_str_lossy()));
        doc["sockwarden"]["unix_abstract"] = json!(u.r#abstract);
    }
    if let Some(p) = &s.packet {
        doc["sockwarden"]["ethertype"] = json!(p.ethertype);
    }
    let (src, dst) = if s.family == crate::model::Family::Unix || s.protocol == Protocol::Raw {
        (None, None)
    } else {
        (src, dst)
    };
    if let Some(a) = src {
        doc["source"] = json!({"ip": a.address, "port": a.port});
    }
    if let Some(a) = dst {
        doc["destination"] = json!({"ip": a.address, "port": a.port});
    }
    if let Some(h) = &e.holder {
        let p = &h.process;
        let args: Vec<String> = p
            .cmdline
            .iter()
            .map(|a| a.to_str_lossy().into_owned())
            .collect();
        // What is unknown is left out (a gone process has no exe, argv or parent), not null.
        let mut process = json!({
            "pid": p.pid,
            "name": p.comm.to_str_lossy(),
            "user": {"id": p.uid.to_string()},
        });
        if let Some(exe) = &p.exe {
            process["executable"] = json!(exe.to_str_lossy());
        }
        if !args.is_empty() {
            process["command_line"] = json!(args.join(" "));
            process["args"] = json!(args);
        }
        if p.ppid != 0 {
            process["parent"] = json!({"pid": p.ppid});
        }
        doc["process"] = process;
        doc["sockwarden"]["process_gone"] = json!(h.gone);
    }
    doc
}

/// What the poll fallback cannot see, in words (the coverage line and the summary say it).
pub fn poll_misses(
    period: std::time::Duration,
    reason: &str,
    destroy: Result<(), String>,
) -> String {
    let between = match destroy {
        Ok(()) => "a connection that opens and closes between two dumps is seen only at its end \
                   (sock_diag destroy notifications), without its process, and a listener that \
                   does is never seen"
            .to_string(),
        Err(why) => format!(
            "a connection or listener that opens and closes between two dumps is never seen \
             (sock_diag destroy notifications unavailable: {why})"
        ),
    };
    format!(
        "watch is comparing sock_diag dumps every {} instead of reading kernel events ({reason}): \
         {between}; a socket is attributed to whichever process holds it at the dump, not the \
         one that made it",
        humantime::format_duration(period)
    )
}

/// What BPF mode does not see, in words, when some of its programs could not be attached
/// (`gaps`) or some sockets are dumped every `period` instead of traced (`swept`,
/// `--no-syscall-tracepoints`).
pub fn bpf_misses(
    gaps: &[crate::collect::sockhooks::Gap],
    swept: &[(crate::collect::sockhooks::Swept, String)],
    period: std::time::Duration,
) -> Option<String> {
    let never = (!gaps.is_empty()).then(|| {
        let parts: Vec<String> = gaps
            .iter()
            .map(|g| format!("{} ({})", g.what, g.why))
            .collect();
        format!(
            "watch reads TCP events through BPF but never sees: {}",
            parts.join("; ")
        )
    });
    let dumped = (!swept.is_empty()).then(|| {
        let every = humantime::format_duration(period);
        // One reason for all (the flag), said once; else each group's own.
        let what = if swept.iter().all(|(_, why)| *why == swept[0].1) {
            let names: Vec<&str> = swept.iter().map(|(g, _)| g.what()).collect();
            format!(
                "{} from a sock_diag dump every {every} instead of tracing their calls ({})",
                names.join(" and "),
                swept[0].1
            )
        } else {
            let each: Vec<String> = swept
                .iter()
                .map(|(g, why)| format!("{} ({why})", g.what()))
                .collect();
            format!(
                "{} from a sock_diag dump every {every} instead of tracing their calls",
                each.join(" and ")
            )
        };
        format!(
            "watch reads {what}: one that opens and closes between two dumps is never seen, and \
             each is attributed to whichever process holds it at the dump, not the one that \
             made it"
        )
    });
    match (never, dumped) {
        (Some(n), Some(d)) => Some(format!("{n}; {d}")),
        (n, d) => n.or(d),
    }
}

/// The coverage event written first when watch cannot see everything (poll mode, or BPF mode
/// with programs missing): the stream says what it cannot see.
pub fn coverage(style: Style, host: &str, misses: &str) -> String {
    match style {
        Style::Table => format!("sockwarden watch: {}\n", crate::text::escape_str(misses)),
        Style::Jsonl => line(&json!({
            "@timestamp": crate::collect::host::now_rfc3339(),
            "ecs": {"version": ECS_VERSION},
            "event": {
                "kind": "event",
                "category": ["host"],
                "type": ["info"],
                "dataset": "sockwarden.coverage",
                "outcome": "failure",
            },
            "host": {"hostname": host},
            "message": misses,
        })),
    }
}

/// The summary written at the end.
pub fn summary(style: Style, host: &str, mode: &str, s: &Summary, misses: Option<&str>) -> String {
    let suppressed: u64 = s.suppressed.values().sum();
    match style {
        Style::Table => {
            let mut out = format!(
                "sockwarden watch ({mode}): {} events, {} lost, {} findings, {} suppressed by \
                 rate limit, {} duplicates, {} unattributed, {} ended unseen between dumps, {} \
                 unread at exit\n",
                s.events,
                s.lost,
                s.findings,
                suppressed,
                s.duplicates,
                s.unattributed,
                s.ended_unseen,
                s.unread
            );
            if let Some(m) = misses {
                out.push_str(&format!("  {}\n", crate::text::escape_str(m)));
            }
            out
        }
        Style::Jsonl => {
            let mut stats = json!({
                "mode": mode,
                "events": s.events,
                "lost": s.lost,
                "findings": s.findings,
                "duplicates": s.duplicates,
                "suppressed": s.suppressed,
                "unattributed": s.unattributed,
                "ended_unseen": s.ended_unseen,
                "unread": s.unread,
            });
            if let Some(m) = misses {
                stats["misses"] = json!(m);
            }
            line(&json!({
                "@timestamp": crate::collect::host::now_rfc3339(),
                "ecs": {"version": ECS_VERSION},
                "event": {
                    "kind": "metric",
                    "category": ["host"],
                    "type": ["info"],
                    "dataset": "sockwarden.watch",
                },
                "host": {"hostname": host},
                "message": format!(
                    "watch ended: {} events, {} lost, {} unread, {} findings, {suppressed} \
                     suppressed",
                    s.events, s.lost, s.unread, s.findings
                ),
                "sockwarden": {"watch": stats},
            }))
        }
    }
}
