//! Engine benchmark: the default rule pack and 1,000 generated rules over a synthetic
//! 100k-socket snapshot (the socket mix of shared/bench/sockload.py), on 1 and 2 threads.
//! Prints socket×rule pairs per second (pairs the pre-filter rejects count as evaluated: that is
//! the work a scan does). Run: `cargo bench --bench engine` (ci/bench.sh runs it).
//! SOCKETS=N and SNAPSHOT=FILE (a real snapshot) override the input; PACK_ONLY=1 measures the
//! default pack alone (to profile it), PER_RULE=1 each of its rules alone.

use std::time::Instant;

use sockwarden::engine;
use sockwarden::model::*;
use sockwarden::rules::{self, Source};

fn synthetic(n: usize) -> Snapshot {
    let procs = (n / 100).max(1);
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let pid = 1000 + (i % procs) as u32;
        let kind = i % 20;
        let (protocol, state) = match kind {
            0 => (Protocol::Tcp, State::Listen),
            1..=12 => (Protocol::Tcp, State::Established),
            13..=15 => (
                Protocol::Udp,
                if i % 2 == 0 {
                    State::Close
                } else {
                    State::Established
                },
            ),
            _ => (Protocol::UnixStream, State::Established),
        };
        let v6 = i % 4 == 3 && protocol.is_inet();
        let family = if protocol.is_unix() {
            Family::Unix
        } else if v6 {
            Family::Inet6
        } else {
            Family::Inet
        };
        let mut s = Socket::new(protocol, family, state, 100_000 + i as u64);
        if protocol.is_inet() {
            let a: std::net::IpAddr = if v6 {
                format!("fd5c:1::{:x}", i % 60000).parse().unwrap()
            } else {
                format!("127.{}.{}.{}", 1 + i % 3, (i / 250) % 250, 1 + i % 250)
                    .parse()
                    .unwrap()
            };
            s.local = Some(Endpoint {
                address: a,
                port: 1024 + (i % 50000) as u16,
            });
            s.remote = Some(Endpoint {
                address: a,
                port: if state == State::Listen {
                    0
                } else {
                    40000 + (i % 20000) as u16
                },
            });
            s.uid = Some(0);
        } else {
            s.unix = Some(Box::new(UnixInfo {
                name: None,
                r#abstract: false,
                peer: Some(i as u64),
                pending: vec![],
                backlog: None,
                vfs_inode: None,
                vfs_dev: None,
            }));
        }
        s.owners = smallvec::smallvec![Owner {
            pid,
            fd: 3 + (i / procs) as u32,
        }];
        sockets.push(s);
    }
    let processes = (0..procs)
        .map(|j| Process {
            pid: 1000 + j as u32,
            ppid: 1,
            comm: ByteString::from("sockload-w"),
            exe: Some(ByteString::from("/usr/bin/sleep")),
            exe_deleted: false,
            exe_memfd: false,
            cmdline: vec![ByteString::from("sockload-w"), ByteString::from("infinity")],
            uid: 0,
            euid: 0,
            user: Some("root".into()),
            start_ticks: 0,
            cgroup: Some("/".into()),
            container: None,
            netns: None,
            ..Process::default()
        })
        .collect();
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta: Meta::blank("bench"),
        sockets,
        processes,
        namespaces: vec![],
        warnings: vec![],
        gaps: vec![],
    };
    snap.canonicalize();
    snap
}

fn generated_rules(n: usize) -> Vec<Source> {
    (0..n)
        .map(|i| {
            let when = match i % 4 {
                0 => format!("all:\n    - socket.state: established\n    - socket.remote.port: {{port: \"{}-{}\"}}\n    - process.exe: {{prefix: /opt/app{i}/}}", 1000 + i, 1010 + i),
                1 => format!("all:\n    - socket.kind: {{in: [tcp, udp]}}\n    - socket.remote.address: {{cidr: [10.{}.0.0/16, 2001:db8:{i:x}::/48]}}", i % 250),
                2 => format!("all:\n    - socket.state: listen\n    - process.cmdline: {{regex: \"--token-{i}[0-9]+\"}}"),
                _ => format!("any:\n    - process.comm: {{in: [tool{i}, helper{i}]}}\n    - process.user: user{i}"),
            };
            Source {
                path: format!("gen/GEN-{i:04}.yaml"),
                text: format!(
                    "id: GEN-{i:04}\ntitle: generated {i}\nseverity: low\nstatus: experimental\ntags: [T1071]\ndescription: generated\nwhen:\n  {when}\nexamples:\n  match:\n    - socket: {{protocol: tcp}}\n  no_match:\n    - socket: {{protocol: tcp}}\n"
                ),
            }
        })
        .collect()
}

fn time_eval(rs: &rules::RuleSet, snap: &Snapshot, threads: usize) -> (f64, usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut best = f64::MAX;
    let mut findings = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let f = pool.install(|| engine::evaluate(rs, snap));
        best = best.min(t.elapsed().as_secs_f64());
        findings = f.len();
    }
    (best, findings)
}

fn main() {
    // `cargo test --all-targets` runs this target without `--bench`: then a small smoke run,
    // so the test suite checks that the benchmark works without paying for it.
    let smoke = !std::env::args().any(|a| a == "--bench");
    if smoke {
        let snap = synthetic(2_000);
        let (default_rules, lists) = rules::default_sources();
        let rs = rules::load(&default_rules, &lists, &[], &[]).expect("default pack loads");
        let generated =
            rules::load(&generated_rules(20), &lists, &[], &[]).expect("generated rules load");
        assert!(rs.rules.len() >= 40 && generated.rules.len() == 20);
        let (_, findings) = time_eval(&rs, &snap, 2);
        println!(
            "engine smoke run: {} sockets, {findings} findings",
            snap.sockets.len()
        );
        return;
    }
    let snap = match std::env::var("SNAPSHOT") {
        Ok(p) => {
            serde_json::from_slice(&std::fs::read(&p).expect("SNAPSHOT file")).expect("a snapshot")
        }
        Err(_) => synthetic(
            std::env::var("SOCKETS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(100_000),
        ),
    };
    if std::env::var("PER_RULE").is_ok() {
        per_rule(&snap);
        return;
    }
    let (default_rules, lists) = rules::default_sources();
    let mut packs = vec![(
        "default pack",
        rules::load(&default_rules, &lists, &[], &[]).expect("default pack loads"),
    )];
    let pack_only = std::env::var("PACK_ONLY").is_ok();
    if !pack_only {
        packs.push((
            "1000 generated rules",
            rules::load(&generated_rules(1000), &lists, &[], &[]).expect("generated rules load"),
        ));
    }
    println!(
        "engine benchmark: {} sockets, {} processes (best of 5)",
        snap.sockets.len(),
        snap.processes.len()
    );
    println!("| rules | threads | time ms | socket x rule pairs/s | findings |");
    println!("|---|---:|---:|---:|---:|");
    println!();
    // A golden-image baseline (address classes) padded to 10k entries: it describes the host;
    // the snapshot's own exact baseline; and 10k exact entries, under which 60% of the sockets
    // drift and are reported.
    let drift_cases: &[(Option<usize>, bool)] = if pack_only {
        &[]
    } else {
        &[(Some(10_000), true), (None, false), (Some(10_000), false)]
    };
    for &(entries, classes) in drift_cases {
        let (secs, n, drift) = baseline_compare(&snap, entries, classes);
        println!(
            "baseline drift: {} sockets against {n} baseline entries: {:.1} ms ({drift} drift findings)",
            snap.sockets.len(),
            secs * 1000.0
        );
    }
    println!();
    for (name, rs) in &packs {
        for threads in [1, 2] {
            let (secs, findings) = time_eval(rs, &snap, threads);
            let pairs = (snap.sockets.len() * rs.rules.len()) as f64;
            println!(
                "| {name} ({}) | {threads} | {:.1} | {:.3e} | {findings} |",
                rs.rules.len(),
                secs * 1000.0,
                pairs / secs
            );
        }
    }
}

/// Per-rule cost of the default pack (PER_RULE=1), to find the expensive ones.
/// Baseline drift of the snapshot against a baseline of `entries` entries: the snapshot's own
/// baseline, padded with listeners on other ports (which then count as gone).
fn baseline_compare(snap: &Snapshot, entries: Option<usize>, classes: bool) -> (f64, usize, usize) {
    use sockwarden::baseline::{self, Include, Listener, Proto};
    let inc = Include {
        listeners: true,
        outbound: true,
        inbound: true,
        classes,
    };
    let mut b = baseline::from_snapshot(snap, inc, "bench");
    if classes {
        // The golden-image form: a few class and range entries describe every socket.
        use sockwarden::baseline::{Inbound, Outbound};
        b.listeners.clear();
        b.outbound.clear();
        b.inbound.clear();
        for proto in [Proto::Tcp, Proto::Udp] {
            for class in ["loopback", "private"] {
                b.listeners.push(Listener {
                    protocol: proto,
                    address: class.into(),
                    port: "1-65535".into(),
                    exe: "/usr/bin/sleep".into(),
                    user: None,
                    container: None,
                    netns: None,
                });
                b.outbound.push(Outbound {
                    protocol: proto,
                    exe: "/usr/bin/sleep".into(),
                    network: class.into(),
                    port: "1-65535".into(),
                });
            }
            b.inbound.push(Inbound {
                protocol: proto,
                port: "1-65535".into(),
                exe: "/usr/bin/sleep".into(),
                peers: None,
            });
        }
    }
    let Some(entries) = entries else {
        return time_compare(b, snap);
    };
    // Exactly `entries`: keep the first ones (the rest of the snapshot becomes drift) or pad.
    b.outbound
        .truncate(entries.saturating_sub(b.listeners.len() + b.inbound.len()));
    b.inbound
        .truncate(entries.saturating_sub(b.listeners.len()));
    b.listeners.truncate(entries);
    // Padding: peers of another program, which match nothing and report nothing.
    let mut port = 1u16;
    while b.listeners.len() + b.outbound.len() + b.inbound.len() < entries {
        b.outbound.push(sockwarden::baseline::Outbound {
            protocol: Proto::Tcp,
            exe: "/opt/bench/bin/svc".into(),
            network: format!("10.{}.{}.0/24", port / 256, port % 256),
            port: "443".into(),
        });
        port += 1;
    }
    time_compare(b, snap)
}

fn time_compare(mut b: sockwarden::baseline::Baseline, snap: &Snapshot) -> (f64, usize, usize) {
    use sockwarden::baseline;
    b.sort();
    let text = baseline::render(&b);
    let (b, c) = baseline::parse("bench.yaml", &text).expect("the rendered baseline parses");
    let n = b.listeners.len() + b.outbound.len() + b.inbound.len();
    let mut best = f64::MAX;
    let mut drift = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let cmp = baseline::drift::compare(&b, &c, snap);
        best = best.min(t.elapsed().as_secs_f64());
        drift = cmp.drift.len();
    }
    (best, n, drift)
}

fn per_rule(snap: &Snapshot) {
    let (default_rules, lists) = rules::default_sources();
    let rs = rules::load(&default_rules, &lists, &[], &[]).unwrap();
    let mut costs = Vec::new();
    for r in &rs.rules {
        let one = rules::RuleSet {
            rules: vec![r.clone()],
            lists: rs.lists.clone(),
            disabled: vec![],
        };
        let (secs, _) = time_eval(&one, snap, 1);
        costs.push((secs, r.id().to_string()));
    }
    costs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for (s, id) in costs.iter().take(12) {
        println!("{id}: {:.1} ms", s * 1000.0);
    }
}
