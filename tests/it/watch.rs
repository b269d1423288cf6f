//! `sockwarden watch` (issue 18), live: each test makes its own network namespace and runs the
//! watch inside it. The tracepoint is global, so events of other tests' namespaces show up too:
//! every assertion names the test's own pids and ports.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::common::{BIN, INHERITED_LOADER_PATH, Netns, require_root, run_with_caps};

/// Starts `sockwarden watch ARGS` and waits for its first stderr line (the mode it runs in),
/// which it returns. With BPF it runs in this test's own namespace: the tracepoint sees every
/// namespace, and `ip netns exec` would hide tracefs (it mounts a fresh /sys). Without BPF it
/// runs inside the namespace it dumps.
fn start_watch(ns: &Netns, args: &[&str]) -> (Child, String) {
    let cmd = if args.contains(&"--no-bpf") {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.name, BIN]);
        c
    } else {
        Command::new(BIN)
    };
    spawn_watch(cmd, args)
}

/// Starts `CMD watch --format jsonl ARGS` (`cmd` runs sockwarden, directly or through a
/// wrapper) and returns it with its first stderr line, as [`start_watch`] does.
fn spawn_watch(mut cmd: Command, args: &[&str]) -> (Child, String) {
    let mut child = cmd
        .args(["watch", "--format", "jsonl"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    err.read_line(&mut line).unwrap();
    // Keep draining stderr so the watch never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (child, line)
}

/// Sends `sig` (`-STOP`, `-CONT`) to the watch, to hold it while events queue up.
fn signal(watch: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &watch.id().to_string()])
        .status();
    assert!(st.unwrap().success(), "kill {sig}");
}

/// The watch's JSON lines, once it has ended.
fn lines(child: Child) -> (i32, Vec<Value>) {
    let out = child.wait_with_output().unwrap();
    let docs = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect::<Vec<Value>>();
    // Every line, findings, socket events, coverage and summary, is a valid ECS event.
    for d in &docs {
        let problems = crate::ecs::problems(d);
        assert!(problems.is_empty(), "{problems:?} in {d}");
    }
    (out.status.code().unwrap_or(-1), docs)
}

/// Runs a command in the namespace with stdout piped; returns it once its first line (READY or
/// a pid) is printed.
fn spawn_ready(ns: &Netns, args: &[&str]) -> (Child, String) {
    let mut child = Command::new("ip")
        .env_remove(INHERITED_LOADER_PATH)
        .args(["netns", "exec", &ns.name])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

const LISTENER: &str = "import socket,sys,time\n\
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
    s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)\n\
    print('READY', flush=True); time.sleep(float(sys.argv[3]))";

fn rule_findings<'a>(docs: &'a [Value], rule: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["rule"]["id"] == rule).collect()
}

fn scan_has(ns: &Netns, rule: &str) -> bool {
    let out = ns.run(&[BIN, "scan", "--format", "json"]);
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == rule)
}

#[test]
fn watch_reports_a_200ms_reverse_shell_no_scan_sees() {
    if !require_root("watch_reports_a_200ms_reverse_shell_no_scan_sees") {
        return;
    }
    let ns = Netns::new();
    ns.ip("addr add 203.0.113.10/32 dev lo");
    let (mut listener, ready) = spawn_ready(
        &ns,
        // Killed at the end: it outlives a watch slow to start on a busy host.
        &["python3", "-c", LISTENER, "203.0.113.10", "4444", "60"],
    );
    assert_eq!(ready, "READY");
    assert!(!scan_has(&ns, "NET-C2-001"), "no shell yet");
    // `--netns`: other namespaces' TCP events (a churn of another test, a benchmark) stay in
    // the kernel, so the shell's event is read while the shell still lives.
    let (watch, mode) = start_watch(&ns, &["--duration", "1500ms", "--netns", &ns.name]);
    assert!(mode.contains("BPF"), "{mode}");
    let (shell, pid) = spawn_ready(
        &ns,
        &[
            "bash",
            "-c",
            // `; exit` keeps bash from exec'ing sleep in its own process: watch reads /proc
            // after the event, and would find sleep's exe and cmdline (docs/watch.md, "Limits").
            "echo $$; exec 3<>/dev/tcp/203.0.113.10/4444; sleep 0.2; exit 0",
        ],
    );
    let shell_pid: u64 = pid.parse().unwrap();
    let status = shell.wait_with_output().unwrap().status;
    assert!(status.success());
    let (code, docs) = lines(watch);
    assert!(!scan_has(&ns, "NET-C2-001"), "the shell is gone");
    let _ = listener.kill();
    let _ = listener.wait();
    assert_eq!(code, 1, "findings exit 1");
    let hits: Vec<&Value> = rule_findings(&docs, "NET-C2-001")
        .into_iter()
        .filter(|d| d["process"]["pid"] == shell_pid)
        .collect();
    assert_eq!(hits.len(), 1, "one NET-C2-001 for the shell: {docs:#?}");
    let p = &hits[0]["process"];
    assert!(p["executable"].as_str().unwrap().ends_with("bash"), "{p}");
    assert!(
        p["command_line"]
            .as_str()
            .unwrap()
            .contains("/dev/tcp/203.0.113.10/4444"),
        "{p}"
    );
    // `ip netns exec` execs bash: its parent is this test.
    assert_eq!(p["parent"]["pid"], u64::from(std::process::id()));
    assert_eq!(hits[0]["destination"]["ip"], "203.0.113.10");
    assert_eq!(hits[0]["destination"]["port"], 4444);
    let summary = docs.last().unwrap();
    assert_eq!(summary["event"]["dataset"], "sockwarden.watch");
    assert_eq!(summary["sockwarden"]["watch"]["mode"], "bpf");
    assert_eq!(summary["sockwarden"]["watch"]["lost"], 0);
}

#[test]
fn watch_reports_a_300ms_listener_as_baseline_drift() {
    if !require_root("watch_reports_a_300ms_listener_as_baseline_drift") {
        return;
    }
    let ns = Netns::new();
    let base = ns.workdir().join("base.yaml");
    let out = ns.run(&[BIN, "baseline", "create", "-o", base.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ended by a signal once the listener is gone (a python slow to start on a busy host would
    // outlast a fixed duration); records are read every 50 ms, and at the signal.
    let (watch, _) = start_watch(
        &ns,
        &[
            "--duration",
            "60s",
            "--no-default-rules",
            "--baseline",
            base.to_str().unwrap(),
            "--netns",
            &ns.name,
        ],
    );
    let (listener, ready) =
        spawn_ready(&ns, &["python3", "-c", LISTENER, "0.0.0.0", "8089", "0.3"]);
    assert_eq!(ready, "READY");
    let listener_pid = u64::from(listener.id());
    listener.wait_with_output().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    signal(&watch, "-INT");
    let (code, docs) = lines(watch);
    assert_eq!(code, 1);
    let drift: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            d["sockwarden"]["category"] == "new_listener" && d["destination"]["port"] == 8089
        })
        .collect();
    assert_eq!(drift.len(), 1, "{docs:#?}");
    assert_eq!(drift[0]["destination"]["ip"], "0.0.0.0");
    assert_eq!(drift[0]["process"]["pid"], listener_pid);
}

#[test]
fn watch_keeps_comm_and_uid_of_a_process_already_gone() {
    if !require_root("watch_keeps_comm_and_uid_of_a_process_already_gone") {
        return;
    }
    let ns = Netns::new();
    let (mut listener, _) =
        spawn_ready(&ns, &["python3", "-c", LISTENER, "127.0.0.1", "7001", "60"]);
    // `--netns`: while the watch is stopped, other namespaces' TCP events (a churn of another
    // test) would fill the ring and push this one out (counted as lost).
    let (watch, _) = start_watch(
        &ns,
        &["--duration", "1500ms", "--all-events", "--netns", &ns.name],
    );
    // Stop the watch while the process connects and exits: its /proc entry is gone when the
    // watch reads the event.
    let signal = |sig: &str| signal(&watch, sig);
    signal("-STOP");
    let gone = ns.run(&[
        "python3",
        "-c",
        "import ctypes,os,socket\n\
         ctypes.CDLL(None).prctl(15, b'swgone', 0, 0, 0)\n\
         s = socket.socket()\n\
         os.setuid(65534)\n\
         s.connect(('127.0.0.1', 7001)); s.close()\n\
         print(os.getpid())",
    ]);
    assert!(
        gone.status.success(),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
    let gone_pid: u64 = String::from_utf8_lossy(&gone.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{gone_pid}")).exists());
    signal("-CONT");
    let (_, docs) = lines(watch);
    let _ = listener.kill();
    let _ = listener.wait();
    let connect = docs
        .iter()
        .find(|d| d["event"]["action"] == "connect" && d["process"]["pid"] == gone_pid)
        .unwrap_or_else(|| panic!("no connect event of pid {gone_pid}: {docs:#?}"));
    assert_eq!(connect["process"]["name"], "swgone");
    assert_eq!(connect["process"]["user"]["id"], "65534");
    assert_eq!(connect["sockwarden"]["process_gone"], true);
    assert_eq!(connect["destination"]["port"], 7001);
}

/// A ring buffer too small for a burst: what did not fit is counted and reported, not lost
/// silently.
#[test]
fn watch_counts_the_events_a_full_ring_lost() {
    if !require_root("watch_counts_the_events_a_full_ring_lost") {
        return;
    }
    let ns = Netns::new();
    let (watch, _) = start_watch(
        &ns,
        &[
            "--duration",
            "1500ms",
            "--ring-size",
            "4096",
            "--all-events",
            // Only this namespace: the other tests' events, running meanwhile, would add to
            // the events read after the ring was emptied.
            "--netns",
            ns.name.as_str(),
        ],
    );
    let signal = |sig: &str| signal(&watch, sig);
    signal("-STOP");
    // 300 refused connects (SYN_SENT, then CLOSE: two events each) into rings of 32 records.
    let burst = ns.run(&[
        "python3",
        "-c",
        "import socket\n\
         for _ in range(300):\n\
         \x20   s = socket.socket()\n\
         \x20   try: s.connect(('127.0.0.1', 7003))\n\
         \x20   except ConnectionRefusedError: pass\n\
         \x20   s.close()",
    ]);
    assert!(
        burst.status.success(),
        "{}",
        String::from_utf8_lossy(&burst.stderr)
    );
    signal("-CONT");
    let (_, docs) = lines(watch);
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    let lost = summary["lost"].as_u64().unwrap();
    assert!(lost >= 500, "{summary}");
    // A ring of 32 records per CPU (and the shared one): the burst may have run on several.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert!(
        summary["events"].as_u64().unwrap() <= 40 * (cpus + 1),
        "{summary}"
    );
}

#[test]
fn watch_without_bpf_says_what_it_cannot_see() {
    if !require_root("watch_without_bpf_says_what_it_cannot_see") {
        return;
    }
    let ns = Netns::new();
    ns.ip("addr add 203.0.113.10/32 dev lo");
    let (watch, warning) = start_watch(
        &ns,
        &["--no-bpf", "--interval", "1s", "--duration", "2500ms"],
    );
    assert!(warning.contains("never seen"), "{warning}");
    // A listener that outlives a dump, and a shell connection that lives a few milliseconds,
    // between two dumps (a dump a second catches it about once in a few hundred runs; then it is
    // reported with its process, and the assertions below say which).
    let (mut listener, _) = spawn_ready(
        &ns,
        // Killed at the end: alive with its process at a dump even on a busy host.
        &["python3", "-c", LISTENER, "203.0.113.10", "4444", "5"],
    );
    let shell = ns.run(&["bash", "-c", "exec 3<>/dev/tcp/203.0.113.10/4444; exit 0"]);
    assert!(shell.status.success());
    let (_, docs) = lines(watch);
    let _ = listener.kill();
    let _ = listener.wait();
    assert_eq!(docs[0]["event"]["dataset"], "sockwarden.coverage");
    assert_eq!(docs[0]["event"]["outcome"], "failure");
    let message = docs[0]["message"].as_str().unwrap();
    assert!(message.contains("--no-bpf"), "{message}");
    assert!(
        message.contains("seen only at its end") && message.contains("without its process"),
        "{message}"
    );
    assert!(
        message.contains("a listener that does is never seen"),
        "{message}"
    );
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    assert_eq!(summary["mode"], "poll");
    assert!(summary["misses"].as_str().unwrap().contains("never seen"));
    // The shell, from its destroy notification alone: the rule fires, with no process.
    let shell = docs
        .iter()
        .find(|d| d["rule"]["id"] == "NET-C2-001" && d["destination"]["port"] == 4444)
        .unwrap_or_else(|| panic!("the shell's connection: {docs:#?}"));
    if shell.get("process").is_none() {
        assert!(summary["ended_unseen"].as_u64().unwrap() >= 1, "{summary}");
    } else {
        eprintln!("a dump caught the shell's connection: the destroy path was not exercised");
    }
    // The listener, from a dump, with its process.
    assert!(
        docs.iter()
            .any(|d| d["rule"]["id"] == "NET-C2-003"
                && d["process"]["pid"] == u64::from(listener.id())),
        "{docs:#?}"
    );
}

/// Loading the programs is the verifier's check of them on this kernel: the BTF-typed ones
/// (the TCP raw tracepoint; the fexit programs where the kernel allows trampolines), and
/// with `legacy_hooks` the perf and syscall tracepoint ones they replace.
#[test]
fn the_bpf_program_passes_the_verifier() {
    if !require_root("the_bpf_program_passes_the_verifier") {
        return;
    }
    use sockwarden::collect::tracepoint::{Filter, RingKind, TraceOptions, Tracer};
    for (legacy, all_transitions) in [(false, false), (false, true), (true, false)] {
        let t = Tracer::start(&TraceOptions {
            ring_bytes: 1 << 16,
            filter: Filter {
                only_netns: Some(4026531840),
                all_transitions,
            },
            legacy_hooks: legacy,
            no_syscall_tracepoints: false,
            ring: None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(t.netns, "this kernel's BTF gives the namespace offsets");
        // The kernel counts the runs it skips (a program already running on the CPU), which
        // the summary adds to `lost`.
        assert!(
            t.recursion_misses().is_some(),
            "no recursion_misses in fdinfo"
        );
        // The TCP program writes into rings of slots per CPU, published with store-release
        // (this kernel, 6.18, takes the instruction: Linux 6.15), or with `legacy_hooks` into
        // the one shared ring. Each other kind is loaded below.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if legacy {
            assert_eq!(t.ring_kind(), RingKind::Shared);
            assert_eq!(t.cpu_rings(), 0);
        } else {
            assert_eq!(t.ring_kind(), RingKind::Slots, "{:?}", t.notes);
            assert!(t.cpu_rings() >= 2 * cpus, "{} rings", t.cpu_rings());
        }
        assert_eq!(t.lost(), 0);
        // The UDP (six cgroup programs), raw and packet and listen programs load too.
        let gaps: Vec<String> = t
            .gaps
            .iter()
            .map(|g| format!("{}: {}", g.what, g.why))
            .collect();
        assert_eq!(gaps, Vec::<String>::new());
        assert_eq!(t.hooks.seen.len(), 3, "{:?}", t.hooks.seen);
        if legacy {
            assert_eq!(t.notes.len(), 3, "{:?}", t.notes);
            continue;
        }
        // The raw tracepoint passed the verifier; an fexit program is either loaded or
        // refused before any verification (a kernel without trampolines, as this test
        // machine's: docs/watch.md), never refused by the verifier.
        for note in &t.notes {
            assert!(!note.starts_with("TCP"), "{note}");
            assert!(
                note.contains("EPERM before verifying it"),
                "an fexit program refused: {note}"
            );
        }
    }
}

/// Every kind of TCP ring passes the verifier when asked for alone: the rings of slots with
/// store-release or with plain stores (x86-64), the ring buffers per CPU, the shared one.
#[test]
fn each_kind_of_tcp_ring_passes_the_verifier() {
    if !require_root("each_kind_of_tcp_ring_passes_the_verifier") {
        return;
    }
    use sockwarden::collect::tracepoint::{RingKind, TraceOptions, Tracer};
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut kinds = vec![RingKind::Slots, RingKind::RingBuffers, RingKind::Shared];
    if cfg!(target_arch = "x86_64") {
        kinds.push(RingKind::SlotsPlain);
    }
    for kind in kinds {
        let t = Tracer::start(&TraceOptions {
            ring_bytes: 1 << 16,
            ring: Some(kind),
            no_syscall_tracepoints: true,
            ..TraceOptions::default()
        })
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(t.ring_kind(), kind);
        let rings = match kind {
            RingKind::Shared => 0,
            RingKind::RingBuffers => cpus,
            RingKind::Slots | RingKind::SlotsPlain => 2 * cpus,
        };
        assert!(t.cpu_rings() >= rings, "{kind:?}: {} rings", t.cpu_rings());
        assert!(
            t.notes.iter().all(|n| !n.contains("TCP")),
            "{kind:?}: {:?}",
            t.notes
        );
    }
}

/// Rings per CPU (issue 18, session 12): the listen is written on the last CPU, its
/// connections' accepts (softirq, in the connecting task's CPU) on the first, into other rings;
/// the reader merges the rings by kernel time, so every accept finds its listener in watch's
/// table, as with one shared ring. Read ring by ring (the first CPU's before the last's), the
/// accepts of the same read would come before the listen and be unattributed.
#[test]
fn watch_merges_the_rings_per_cpu_in_time_order() {
    if !require_root("watch_merges_the_rings_per_cpu_in_time_order") {
        return;
    }
    let ns = Netns::new();
    let script = "import os, socket, time\n\
        print(os.getpid(), flush=True)\n\
        cpus = sorted(os.sched_getaffinity(0))\n\
        os.sched_setaffinity(0, {cpus[-1]})\n\
        l = socket.socket(); l.bind(('127.0.0.1', 7031)); l.listen(64)\n\
        os.sched_setaffinity(0, {cpus[0]})\n\
        for _ in range(20):\n\
        \x20   c = socket.create_connection(('127.0.0.1', 7031)); a, _ = l.accept()\n\
        \x20   c.close(); a.close()\n\
        time.sleep(1.5)";
    let (pid, docs) = watch_python(&ns, script, &[]);
    assert_eq!(events_of(&docs, pid, "listen").len(), 1, "{docs:#?}");
    assert_eq!(events_of(&docs, pid, "accepted").len(), 20, "{docs:#?}");
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    assert_eq!(summary["unattributed"], 0, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
}

/// An IPv6 connection's addresses come from the socket (the raw tracepoint reads them with
/// `bpf_probe_read_kernel`), with the connecting process.
#[test]
fn watch_reads_an_ipv6_connection_from_the_socket() {
    if !require_root("watch_reads_an_ipv6_connection_from_the_socket") {
        return;
    }
    let ns = Netns::new();
    ns.ip("-6 addr add 2001:db8::10/128 dev lo nodad");
    let script = "import os, socket, time\n\
        print(os.getpid(), flush=True)\n\
        l = socket.socket(socket.AF_INET6); l.bind(('2001:db8::10', 4445)); l.listen(4)\n\
        time.sleep(0.5)\n\
        c = socket.create_connection(('2001:db8::10', 4445)); a, _ = l.accept()\n\
        time.sleep(1.5)";
    let (pid, docs) = watch_python(&ns, script, &[]);
    let up = events_of(&docs, pid, "connected");
    assert_eq!(up.len(), 1, "{docs:#?}");
    assert_eq!(up[0]["destination"]["ip"], "2001:db8::10", "{}", up[0]);
    assert_eq!(up[0]["destination"]["port"], 4445, "{}", up[0]);
    assert_eq!(up[0]["source"]["ip"], "2001:db8::10", "{}", up[0]);
    assert_ne!(up[0]["source"]["port"], 0, "{}", up[0]);
    assert_eq!(up[0]["network"]["type"], "ipv6", "{}", up[0]);
    assert_python(up[0], &ns);
}

/// SIGTERM (and SIGINT) end the watch cleanly: exit 0 with nothing found, the summary written.
#[test]
fn watch_ends_cleanly_on_sigterm_with_its_summary() {
    if !require_root("watch_ends_cleanly_on_sigterm_with_its_summary") {
        return;
    }
    let ns = Netns::new();
    for sig in ["-TERM", "-INT"] {
        // No rules: nothing to find, so the exit status is 0.
        let (watch, mode) = start_watch(&ns, &["--no-default-rules"]);
        assert!(mode.contains("BPF"), "{mode}");
        let st = Command::new("kill")
            .args([sig, &watch.id().to_string()])
            .status();
        assert!(st.unwrap().success());
        let (code, docs) = lines(watch);
        assert_eq!(code, 0, "{sig}");
        let summary = docs.last().expect("a summary");
        assert_eq!(summary["event"]["dataset"], "sockwarden.watch", "{sig}");
        assert_eq!(summary["sockwarden"]["watch"]["findings"], 0);
    }
}

/// `--count N` ends the watch after N records; a ring size out of range is refused (exit 2).
#[test]
fn watch_count_ends_it_and_a_bad_ring_size_is_refused() {
    if !require_root("watch_count_ends_it_and_a_bad_ring_size_is_refused") {
        return;
    }
    let ns = Netns::new();
    // The duration is far beyond the bound asserted below, so only --count can end it in time
    // (a loaded CI machine once took over 10 s to start the watch and the listener).
    // Only this namespace: with every namespace, another test's finding could end it.
    let (watch, _) = start_watch(
        &ns,
        &["--count", "1", "--duration", "300s", "--netns", &ns.name],
    );
    let started = std::time::Instant::now();
    // A listener on Metasploit's handler port, not on loopback: NET-C2-003 the moment it
    // listens.
    let (mut listener, _) = spawn_ready(&ns, &["python3", "-c", LISTENER, "0.0.0.0", "4444", "10"]);
    let (code, docs) = lines(watch);
    let _ = listener.kill();
    let _ = listener.wait();
    assert!(started.elapsed() < std::time::Duration::from_secs(150));
    assert_eq!(code, 1);
    assert_eq!(docs.len(), 2, "one finding, then the summary: {docs:#?}");
    assert_eq!(docs[0]["rule"]["id"], "NET-C2-003", "{:#}", docs[0]);
    // The watched namespace is named as a scan names it, not called the host.
    let message = docs[0]["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!("in netns {}", ns.name)),
        "{message}"
    );
    let out = Command::new(BIN)
        .args(["watch", "--ring-size", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The events of pid `pid` with `event.action` `action` (`--all-events` output).
fn events_of<'a>(docs: &'a [Value], pid: u64, action: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| {
            d["event"]["dataset"] == "sockwarden.socket"
                && d["event"]["action"] == action
                && d["process"]["pid"] == pid
        })
        .collect()
}

/// The inode of the test's network namespace, as events carry it.
fn netns_inode(ns: &Netns) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{}", ns.name))
        .unwrap()
        .ino()
}

fn assert_python(e: &Value, ns: &Netns) {
    let p = &e["process"];
    assert!(
        p["executable"].as_str().unwrap_or("").contains("python3"),
        "{e}"
    );
    assert_eq!(p["parent"]["pid"], u64::from(std::process::id()), "{e}");
    assert_eq!(e["sockwarden"]["netns_inode"], netns_inode(ns), "{e}");
    assert_eq!(e["sockwarden"]["process_gone"], false, "{e}");
}

/// Runs a Python script in the namespace under a BPF watch of that namespace with
/// `--all-events`; returns the script's pid (its first line) and the watch's lines.
fn watch_python(ns: &Netns, script: &str, extra: &[&str]) -> (u64, Vec<Value>) {
    // `--netns`: the kernel drops the other namespaces' TCP and unix events, so the churn tests
    // running beside this one cannot put the watch seconds behind (issue 18: a debug-build
    // watch that judged every namespace's events read a 4 s listener's event after it ended).
    // A large ring still: UDP, raw and packet events of other namespaces are dropped only as
    // they are read.
    let mut args = vec![
        "--duration",
        "5s",
        "--ring-size",
        "67108864",
        "--netns",
        ns.name.as_str(),
        "--all-events",
        "--no-default-rules",
    ];
    args.extend_from_slice(extra);
    let (watch, mode) = start_watch(ns, &args);
    assert!(mode.contains("through BPF"), "{mode}");
    for what in ["UDP connect", "raw and packet sockets", "unix listeners"] {
        assert!(mode.contains(what), "{what}: {mode}");
    }
    let (child, pid) = spawn_ready(ns, &["python3", "-c", script]);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let (_, docs) = lines(watch);
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    assert!(summary.get("misses").is_none(), "{summary}");
    (pid.parse().unwrap(), docs)
}

/// UDP: a datagram to a documentation address is one `send` event per new peer (the second
/// datagram to the same peer is not an event), a UDP `connect` and a UDP `bind` (a listener)
/// are events too, each with the sending process. The process lives 2 s so that its exe is
/// still in /proc when a watch slowed by a busy suite reads the events.
#[test]
fn watch_sees_udp_sendto_connect_and_bind_with_their_process() {
    if !require_root("watch_sees_udp_sendto_connect_and_bind_with_their_process") {
        return;
    }
    let ns = Netns::new();
    ns.ip("addr add 203.0.113.10/24 dev lo");
    let (pid, docs) = watch_python(
        &ns,
        "import os,socket,time\n\
         print(os.getpid(), flush=True)\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.sendto(b'a', ('203.0.113.10', 5353)); s.sendto(b'b', ('203.0.113.10', 5353))\n\
         s.sendto(b'c', ('203.0.113.11', 5353))\n\
         c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(('203.0.113.12', 4444))\n\
         b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('0.0.0.0', 5301))\n\
         time.sleep(2)",
        &[],
    );
    let sends = events_of(&docs, pid, "send");
    let to = |d: &&Value| {
        (
            d["destination"]["ip"].as_str().unwrap().to_string(),
            d["destination"]["port"].as_u64().unwrap(),
        )
    };
    let mut peers: Vec<(String, u64)> = sends.iter().map(to).collect();
    peers.sort();
    assert_eq!(
        peers,
        [("203.0.113.10".into(), 5353), ("203.0.113.11".into(), 5353)],
        "one event per new peer: {sends:#?}"
    );
    for e in &sends {
        assert_eq!(e["network"]["transport"], "udp", "{e}");
        assert_eq!(e["sockwarden"]["protocol"], "udp", "{e}");
        assert_ne!(
            e["source"]["port"], 0,
            "the socket was bound by the first send: {e}"
        );
        assert_python(e, &ns);
    }
    let connects = events_of(&docs, pid, "connect");
    assert_eq!(connects.len(), 1, "{docs:#?}");
    assert_eq!(connects[0]["destination"]["ip"], "203.0.113.12");
    assert_eq!(connects[0]["destination"]["port"], 4444);
    assert_eq!(connects[0]["sockwarden"]["protocol"], "udp");
    assert_python(connects[0], &ns);
    let binds = events_of(&docs, pid, "bind");
    assert_eq!(binds.len(), 1, "{docs:#?}");
    assert_eq!(binds[0]["destination"]["port"], 5301);
    assert_eq!(binds[0]["sockwarden"]["state"], "close");
    assert_python(binds[0], &ns);
}

/// A unix listener is a `listen` event with its path, inode, backlog and process. The kernel
/// reads the socket when `listen()` has succeeded (fexit of `unix_listen`), so nothing depends
/// on when the watch reads /proc; the process lives 2 s for its exe and parent to be read.
#[test]
fn watch_sees_a_short_unix_listener_with_its_process() {
    if !require_root("watch_sees_a_short_unix_listener_with_its_process") {
        return;
    }
    let ns = Netns::new();
    let path = ns.workdir().join("l.sock");
    let script = format!(
        "import os,socket,time\n\
         print(os.getpid(), flush=True)\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind('{}'); s.listen(7)\n\
         time.sleep(2)",
        path.display()
    );
    let (pid, docs) = watch_python(&ns, &script, &[]);
    let listens = events_of(&docs, pid, "listen");
    assert_eq!(listens.len(), 1, "{docs:#?}");
    let e = listens[0];
    assert_eq!(e["sockwarden"]["protocol"], "unix_stream", "{e}");
    assert_eq!(e["sockwarden"]["state"], "listen", "{e}");
    assert_eq!(e["sockwarden"]["unix_name"], path.to_str().unwrap(), "{e}");
    assert!(e["sockwarden"]["inode"].as_u64().unwrap() > 0, "{e}");
    assert_python(e, &ns);
}

/// A unix listener whose process listened and exited before the watch read its event (the
/// watch is stopped meanwhile) is still reported, with its name, inode and namespace from the
/// kernel and the comm and uid the event carried: the failure issue 18 saw in CI, forced.
#[test]
fn watch_reports_a_unix_listener_whose_process_is_gone() {
    if !require_root("watch_reports_a_unix_listener_whose_process_is_gone") {
        return;
    }
    let ns = Netns::new();
    let path = ns.workdir().join("gone.sock");
    let (watch, _) = start_watch(
        &ns,
        &[
            "--duration",
            "1500ms",
            "--netns",
            ns.name.as_str(),
            "--all-events",
        ],
    );
    let signal = |sig: &str| signal(&watch, sig);
    signal("-STOP");
    let gone = ns.run(&[
        "python3",
        "-c",
        &format!(
            "import ctypes,os,socket\n\
             ctypes.CDLL(None).prctl(15, b'swulisten', 0, 0, 0)\n\
             s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind('{}'); s.listen(3)\n\
             print(os.getpid(), os.fstat(s.fileno()).st_ino)",
            path.display()
        ),
    ]);
    assert!(
        gone.status.success(),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
    let text = String::from_utf8_lossy(&gone.stdout);
    let (pid, inode) = text.trim().split_once(' ').unwrap();
    let (pid, inode): (u64, u64) = (pid.parse().unwrap(), inode.parse().unwrap());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    signal("-CONT");
    let (_, docs) = lines(watch);
    let e = events_of(&docs, pid, "listen");
    assert_eq!(e.len(), 1, "{docs:#?}");
    let e = e[0];
    assert_eq!(e["sockwarden"]["protocol"], "unix_seqpacket", "{e}");
    assert_eq!(e["sockwarden"]["unix_name"], path.to_str().unwrap(), "{e}");
    assert_eq!(e["sockwarden"]["inode"], inode, "{e}");
    assert_eq!(e["sockwarden"]["netns_inode"], netns_inode(&ns), "{e}");
    assert_eq!(e["sockwarden"]["process_gone"], true, "{e}");
    assert_eq!(e["process"]["name"], "swulisten", "{e}");
}

/// `--netns` and the kernel's transition filter: a watch of one namespace without
/// `--all-events` reads exactly the events it judges or tracks there (a listen, then per
/// connection its establishment, carrying the connect's process that the kernel kept, and the
/// accept; the listener's close), whatever the other namespaces do, and never the connects
/// themselves nor the closes of established connections (issue 18, session 9: two records per
/// connection, not three).
#[test]
fn watch_of_one_namespace_reads_only_the_events_it_uses() {
    if !require_root("watch_of_one_namespace_reads_only_the_events_it_uses") {
        return;
    }
    one_namespace_records(&[]);
}

/// The same exact count through the old hooks (the perf tracepoint): the raw tracepoint
/// program keeps and drops the same transitions as the tracepoint one.
#[test]
fn watch_with_legacy_hooks_reads_the_same_records() {
    if !require_root("watch_with_legacy_hooks_reads_the_same_records") {
        return;
    }
    one_namespace_records(&["--legacy-hooks"]);
}

fn one_namespace_records(extra: &[&str]) {
    let ns = Netns::new();
    let other = Netns::new();
    let mut args = vec![
        "--duration",
        "60s",
        "--netns",
        ns.name.as_str(),
        "--no-default-rules",
    ];
    args.extend_from_slice(extra);
    let (watch, mode) = start_watch(&ns, &args);
    assert!(mode.contains("through BPF"), "{mode}");
    let load = "import socket\n\
        l = socket.socket(); l.bind(('127.0.0.1', 7020)); l.listen(64)\n\
        for _ in range(20):\n\
        \x20   c = socket.create_connection(('127.0.0.1', 7020)); a, _ = l.accept()\n\
        \x20   c.close(); a.close()\n\
        l.close()";
    // The same load in another namespace at the same time: none of it may be read.
    let mut busy = Command::new("ip")
        .env_remove(INHERITED_LOADER_PATH)
        .args(["netns", "exec", &other.name, "python3", "-c", load])
        .spawn()
        .unwrap();
    let out = ns.run(&["python3", "-c", load]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(busy.wait().unwrap().success());
    // Ended by a signal once the load is done; what the ring still holds then is `unread`
    // (counted record by record, whatever their length).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let st = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status();
    assert!(st.unwrap().success());
    let (code, docs) = lines(watch);
    assert_eq!(code, 0, "no rules: nothing found");
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    let written = summary["events"].as_u64().unwrap() + summary["unread"].as_u64().unwrap();
    assert_eq!(written, 1 + 2 * 20 + 1, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
}

/// A raw ICMP socket and a packet socket for every protocol are `open` events with their
/// process, and the packet sniffer rule fires on the second the moment it is made.
#[test]
fn watch_sees_raw_and_packet_sockets_with_their_process() {
    if !require_root("watch_sees_raw_and_packet_sockets_with_their_process") {
        return;
    }
    let ns = Netns::new();
    // `--netns`: other namespaces' TCP events (a churn beside the suite) stay in the kernel;
    // without it a debug-build watch of every namespace fell seconds behind a 5,000
    // connections/s load and read the `open` events after the process was gone (no inode).
    let (watch, _) = start_watch(
        &ns,
        &[
            "--duration",
            "3s",
            "--ring-size",
            "67108864",
            "--all-events",
            "--netns",
            ns.name.as_str(),
        ],
    );
    let (child, pid) = spawn_ready(
        &ns,
        &[
            "python3",
            "-c",
            "import os,socket,time\n\
             print(os.getpid(), flush=True)\n\
             r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n\
             p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))\n\
             time.sleep(2)",
        ],
    );
    assert!(child.wait_with_output().unwrap().status.success());
    let pid: u64 = pid.parse().unwrap();
    let (code, docs) = lines(watch);
    let opens = events_of(&docs, pid, "open");
    let protocols: Vec<&str> = opens
        .iter()
        .map(|e| e["sockwarden"]["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["raw", "packet_raw"], "{docs:#?}");
    assert_eq!(opens[0]["network"]["iana_number"], "1", "{}", opens[0]);
    assert_eq!(opens[1]["sockwarden"]["ethertype"], 3, "{}", opens[1]);
    assert_held_and_reported(&opens, &docs, code, pid, &ns);
}

/// Each of `events` names its socket's inode and the test's Python in the namespace as its
/// process, and the packet socket made NET-BPF-003 (a packet socket for every protocol, held
/// by a process outside the allow-list) report that process: exit 1.
fn assert_held_and_reported(events: &[&Value], docs: &[Value], code: i32, pid: u64, ns: &Netns) {
    for e in events {
        assert!(e["sockwarden"]["inode"].as_u64().unwrap() > 0, "{e}");
        assert_python(e, ns);
    }
    assert_eq!(code, 1);
    assert!(
        docs.iter()
            .any(|d| d["rule"]["id"] == "NET-BPF-003" && d["process"]["pid"] == pid),
        "{docs:#?}"
    );
}

/// `-o FILE --rotate-size`: the output is rotated into FILE.1 ... as it grows, every line whole.
#[test]
fn watch_rotates_its_output_file() {
    if !require_root("watch_rotates_its_output_file") {
        return;
    }
    let ns = Netns::new();
    let file = ns.workdir().join("w.jsonl");
    let f = file.to_str().unwrap();
    let (watch, _) = start_watch(
        &ns,
        &[
            "--duration",
            "1500ms",
            "--all-events",
            "--no-default-rules",
            "-o",
            f,
            "--rotate-size",
            "4K",
            "--rotate-keep",
            "2",
        ],
    );
    // 40 refused connects: 80 events of about 600 bytes, far more than 3 files of 4 KiB.
    let burst = ns.run(&[
        "python3",
        "-c",
        "import socket\n\
         for _ in range(40):\n\
         \x20   s = socket.socket()\n\
         \x20   try: s.connect(('127.0.0.1', 7004))\n\
         \x20   except ConnectionRefusedError: pass\n\
         \x20   s.close()",
    ]);
    assert!(burst.status.success());
    let out = watch.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "no rules: nothing found");
    let names = [f.to_string(), format!("{f}.1"), format!("{f}.2")];
    for n in &names {
        let text = std::fs::read_to_string(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert!(text.len() <= 4096 + 2048, "{n}: {} bytes", text.len());
        for l in text.lines() {
            serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{n}: {l}: {e}"));
        }
    }
    assert!(!std::path::Path::new(&format!("{f}.3")).exists(), "keep 2");
    let last = std::fs::read_to_string(f).unwrap();
    assert!(last.contains("sockwarden.watch"), "the summary is in FILE");
}

/// Without CAP_NET_ADMIN the cgroup programs cannot load: TCP events still flow, and the output
/// says, first and in the summary, that UDP is not seen and why.
#[test]
fn watch_without_cap_net_admin_says_it_misses_udp() {
    if !require_root("watch_without_cap_net_admin_says_it_misses_udp") {
        return;
    }
    let out = run_with_caps(
        &["bpf", "perfmon", "dac_read_search", "sys_ptrace"],
        None,
        &["watch", "--format", "jsonl", "--duration", "300ms"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("through BPF"), "{stderr}");
    assert!(stderr.contains("never sees: UDP connect"), "{stderr}");
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        docs[0]["event"]["dataset"], "sockwarden.coverage",
        "{docs:#?}"
    );
    assert!(
        docs[0]["message"].as_str().unwrap().contains("UDP"),
        "{docs:#?}"
    );
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    assert_eq!(summary["mode"], "bpf");
    assert!(
        summary["misses"]
            .as_str()
            .unwrap()
            .contains("CAP_NET_ADMIN"),
        "{summary}"
    );
}

/// The BPF program types of the watch's descriptors, as the kernel reports them in
/// /proc/PID/fdinfo (`prog_type:`; 5 is BPF_PROG_TYPE_TRACEPOINT, the perf and syscall
/// tracepoint programs).
fn prog_types(watch: &Child) -> Vec<u32> {
    let dir = format!("/proc/{}/fdinfo", watch.id());
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter_map(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("prog_type:"))
                .map(|t| t.trim().parse().unwrap())
        })
        .collect()
}

/// `--no-syscall-tracepoints` on a kernel that refuses the fexit programs (this one): no
/// syscall tracepoint program is attached (the kernel's own fdinfo of the watch's programs,
/// against a default watch, which has them), and the raw, packet and unix listener sockets
/// come from the dump every `--interval` instead, with the process holding them, their
/// namespace and a rule's finding; the first line and the summary say what that misses.
#[test]
fn watch_without_syscall_tracepoints_dumps_raw_packet_and_unix() {
    if !require_root("watch_without_syscall_tracepoints_dumps_raw_packet_and_unix") {
        return;
    }
    const TRACEPOINT: u32 = 5;
    let ns = Netns::new();
    let (default, mode) = start_watch(&ns, &["--duration", "300ms", "--netns", &ns.name]);
    assert!(mode.contains("raw and packet sockets"), "{mode}");
    assert!(prog_types(&default).contains(&TRACEPOINT), "{mode}");
    lines(default);

    let (watch, mode) = start_watch(
        &ns,
        &[
            "--duration",
            "3s",
            "--netns",
            &ns.name,
            "--all-events",
            "--no-syscall-tracepoints",
            "--interval",
            "200ms",
        ],
    );
    // This kernel refuses BPF trampolines (docs/watch.md): where it allows them, the fexit
    // programs trace these sockets and nothing is left to the dump.
    assert!(mode.contains("through BPF"), "{mode}");
    assert!(mode.contains("UDP connect"), "{mode}");
    assert!(
        !mode.contains("raw and packet") && !mode.contains("unix"),
        "{mode}"
    );
    let types = prog_types(&watch);
    assert!(
        !types.is_empty() && !types.contains(&TRACEPOINT),
        "{types:?}"
    );
    let first = assert_swept(&ns, watch);
    assert!(first.contains("(--no-syscall-tracepoints)"), "{first}");
}

/// Makes a raw, a packet socket and a unix listener that live 1.5 s in the namespace under a
/// `watch` that dumps them every 200 ms; checks each is reported from the dumps with its
/// process (and NET-BPF-003), and that the first line says so, as the summary does. Returns
/// that line's message.
fn assert_swept(ns: &Netns, watch: Child) -> String {
    let path = ns.workdir().join("swept.sock");
    let (child, pid) = spawn_ready(
        ns,
        &[
            "python3",
            "-c",
            &format!(
                "import os,socket,time\n\
                 print(os.getpid(), flush=True)\n\
                 r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n\
                 p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))\n\
                 u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); u.bind('{}'); u.listen(4)\n\
                 time.sleep(1.5)",
                path.display()
            ),
        ],
    );
    assert!(child.wait_with_output().unwrap().status.success());
    let pid: u64 = pid.parse().unwrap();
    let (code, docs) = lines(watch);
    let mut protocols: Vec<&str> = events_of(&docs, pid, "open")
        .iter()
        .map(|e| e["sockwarden"]["protocol"].as_str().unwrap())
        .collect();
    protocols.sort_unstable();
    assert_eq!(protocols, ["packet_raw", "raw"], "{docs:#?}");
    let listens = events_of(&docs, pid, "listen");
    assert_eq!(listens.len(), 1, "{docs:#?}");
    assert_eq!(
        listens[0]["sockwarden"]["unix_name"],
        path.to_str().unwrap()
    );
    let mut events = events_of(&docs, pid, "open");
    events.extend(listens);
    assert_held_and_reported(&events, &docs, code, pid, ns);
    let first = docs[0]["message"].as_str().unwrap_or_default();
    assert_eq!(
        docs[0]["event"]["dataset"], "sockwarden.coverage",
        "{first}"
    );
    assert!(
        first.contains("dump every 200ms") && first.contains("never seen"),
        "{first}"
    );
    let summary = &docs.last().unwrap()["sockwarden"]["watch"];
    assert_eq!(summary["mode"], "bpf", "{summary}");
    assert_eq!(summary["misses"], first, "{summary}");
    first.to_string()
}

/// Where no hook can take the raw, packet and unix groups (this kernel refuses the fexit
/// programs, and tracefs is unmounted in the watch's own mount namespace, so the syscall
/// tracepoints cannot be found), watch dumps them every `--interval` rather than never seeing
/// them, and says why for each; TCP and UDP are still traced.
#[test]
fn watch_dumps_raw_packet_and_unix_when_no_hook_can_take_them() {
    if !require_root("watch_dumps_raw_packet_and_unix_when_no_hook_can_take_them") {
        return;
    }
    let ns = Netns::new();
    let mut unshare = Command::new("unshare");
    unshare.args([
        "-m",
        "sh",
        "-c",
        "for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do \
         umount -l $m 2>/dev/null; done; exec \"$0\" \"$@\"",
        BIN,
    ]);
    let (watch, mode) = spawn_watch(
        unshare,
        &[
            "--duration",
            "3s",
            "--netns",
            &ns.name,
            "--all-events",
            "--interval",
            "200ms",
        ],
    );
    assert!(
        mode.contains("through BPF") && mode.contains("UDP connect"),
        "{mode}"
    );
    assert!(
        !mode.contains("raw and packet") && !mode.contains("unix"),
        "{mode}"
    );
    let first = assert_swept(&ns, watch);
    assert!(
        first.contains("raw and packet sockets (no hook could be attached: fexit: ")
            && first.contains("syscall tracepoints: sys_enter_socket: the tracepoint syscalls:sys_enter_socket is not readable")
            && first.contains("unix listeners (no hook could be attached: "),
        "{first}"
    );
}
