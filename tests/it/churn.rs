//! Snapshots, scans and listings under churn (thousands of connections a second, short-lived
//! processes): no error exit, no panic, and every owner reported really held its socket.
//!
//! tests/scripts/churn.py runs in the test's namespace: clients opening and closing connections
//! to two servers on loopback, and a forker whose children each open their own TCP listener and
//! UDP socket (and half of them a connection to themselves) on port `BASE + pid % SPAN`, then
//! exit after 2 to 300 ms. Each child logs `PID PORT INODE:FD` for every socket it makes.
//! Meanwhile `snapshot`, `scan` and `list -ntaup` (text and JSON) run `ROUNDS` times each, with
//! both owner sources, inside the namespace and through `--netns`. Every owner of a socket on a
//! child's port must be the child that port names, holding that inode at the fd it logged, and be
//! listed as a process (the forker's child, with its argv or none if read while exiting) unless
//! the run counted it as vanished. Cross-view (issue 17): the views of each snapshot disagree
//! under this churn, and the re-check must explain every disagreement: no socket or process is
//! reported hidden, and no scan has a NET-HID-* finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use sockwarden::model::{ByteString, Process, Snapshot, Socket, State};

use crate::common::{BIN, INHERITED_LOADER_PATH, Netns, require_root};

/// A child binds `BASE + pid % SPAN` (below the namespace's ephemeral ports, 32768-60999).
const BASE: u32 = 10_000;
const SPAN: u32 = 20_000;
/// The connection churn's servers listen on 127.0.0.1 and ::1 at this port.
const SERVER_PORT: u16 = 8642;
/// Runs of each command (snapshot, scan, list -ntaup, list -ntaup --json).
const ROUNDS: usize = 100;
/// Rounds run at a time.
const THREADS: usize = 2;
/// The generator's cap: it runs until the rounds are done (its stdin closes), at most this long.
/// A debug build on a loaded machine (load average 16, 2 vCPUs, 2026-12-06) needed 246 s for the
/// 400 runs once every scan also read the BPF iterator and /proc/net (cross-view, issue 17), so
/// the cap is well above what the rounds take; it costs nothing when they are faster.
const MAX_SECONDS: u32 = 400;
/// Connections a second the generator aims at, and the floor the test asserts.
const RATE: u32 = 5_000;
const MIN_RATE: f64 = 1_000.0;

fn port_of(pid: u32) -> u16 {
    (BASE + pid % SPAN) as u16
}

fn child_port(port: u16) -> bool {
    (BASE..BASE + SPAN).contains(&u32::from(port))
}

/// The load generator, stopped (stdin closed) by `stop` and killed on drop.
struct Churn {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    forker: u32,
    servers: [u32; 2],
    /// The children's argv (the forker's, read while it runs).
    argv: Vec<Vec<u8>>,
}

impl Churn {
    fn start(ns: &Netns, log: &Path) -> Churn {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/churn.py");
        let mut child = Command::new("ip")
            .env_remove(INHERITED_LOADER_PATH)
            .args(["netns", "exec", &ns.name, "python3"])
            .arg(script)
            .args([
                "--port",
                &SERVER_PORT.to_string(),
                "--seconds",
                &MAX_SECONDS.to_string(),
            ])
            .args(["--rate", &RATE.to_string(), "--log"])
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().unwrap().unwrap();
        let ready: Value = serde_json::from_str(
            line.strip_prefix("CHURN READY ")
                .unwrap_or_else(|| panic!("churn.py did not start: {line:?}")),
        )
        .unwrap();
        let pid = |k: &str| ready["pids"][k].as_u64().unwrap() as u32;
        Churn {
            argv: argv(pid("forker")),
            forker: pid("forker"),
            servers: [pid("server4"), pid("server6")],
            child,
            stdin,
            lines,
        }
    }

    /// Stops the generator and returns its report (`CHURN DONE`).
    fn stop(&mut self) -> Value {
        drop(self.stdin.take());
        let line = self.lines.next().unwrap().unwrap();
        let done = serde_json::from_str(
            line.strip_prefix("CHURN DONE ")
                .unwrap_or_else(|| panic!("churn.py: {line:?}")),
        )
        .unwrap();
        assert!(self.child.wait().unwrap().success());
        done
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An owner of a socket on a child's port, as one run reported it.
struct Seen {
    run: String,
    port: u16,
    inode: Option<u64>,
    pid: u32,
    fd: u32,
}

/// `list --json`: the selected sockets and their processes.
#[derive(Deserialize)]
struct Listing {
    sockets: Vec<Socket>,
    processes: Vec<Process>,
}

#[derive(Default)]
struct Tally {
    runs: BTreeMap<String, usize>,
    pairings: BTreeMap<String, usize>,
    seen: Vec<Seen>,
    children: BTreeSet<u32>,
    churn_sockets: usize,
    /// Holders read while exiting (no exe, no command line), and scan findings whose holder's
    /// metadata vanished (no processes).
    exiting: usize,
    ownerless_findings: usize,
    problems: Vec<String>,
    /// Time spent waiting for sockwarden (summed over threads).
    running: Duration,
    /// Cross-view disagreements the snapshots re-checked, and those explained as churn.
    rechecked: u64,
    explained: u64,
}

impl Tally {
    fn problem(&mut self, run: &str, what: String) {
        self.problems.push(format!("{run}: {what}"));
    }

    fn merge(&mut self, o: Tally) {
        for (k, v) in o.runs {
            *self.runs.entry(k).or_default() += v;
        }
        for (k, v) in o.pairings {
            *self.pairings.entry(k).or_default() += v;
        }
        self.seen.extend(o.seen);
        self.children.extend(o.children);
        self.churn_sockets += o.churn_sockets;
        self.exiting += o.exiting;
        self.ownerless_findings += o.ownerless_findings;
        self.problems.extend(o.problems);
        self.running += o.running;
        self.rechecked += o.rechecked;
        self.explained += o.explained;
    }

    /// Runs `sockwarden ARGS` in the namespace: through `ip netns exec`, or with `--netns NAME`
    /// after the subcommand.
    fn run(&mut self, ns: &Netns, flag: bool, args: &[&str]) -> Output {
        let t = Instant::now();
        let out = if flag {
            Command::new(BIN)
                .arg(args[0])
                .args(["--netns", &ns.name])
                .args(&args[1..])
                .output()
                .unwrap()
        } else {
            let mut argv = vec![BIN];
            argv.extend_from_slice(args);
            ns.run(&argv)
        };
        self.running += t.elapsed();
        out
    }

    /// Exit status in `ok`, no signal, no panic, no error message. False when the run failed.
    fn exit(&mut self, run: &str, out: &Output, ok: &[i32]) -> bool {
        *self.runs.entry(run.to_string()).or_default() += 1;
        let err = String::from_utf8_lossy(&out.stderr);
        let good = out.status.code().is_some_and(|c| ok.contains(&c))
            && !err.contains("panicked")
            && !err.contains("error:");
        if !good {
            self.problem(run, format!("status {}, stderr: {err}", out.status));
        }
        good
    }

    /// One owner of a socket on a child's port: the port must be the one its pid names (the
    /// inode and fd are checked against the children's log once the generator has stopped).
    fn pairing(&mut self, run: &str, port: u16, inode: Option<u64>, pid: u32, fd: u32) {
        *self.pairings.entry(run.to_string()).or_default() += 1;
        self.children.insert(pid);
        if port_of(pid) != port {
            self.problem(run, format!("port {port} held by pid {pid} (fd {fd})"));
        }
        self.seen.push(Seen {
            run: run.to_string(),
            port,
            inode,
            pid,
            fd,
        });
    }

    /// Sockets and processes of a snapshot or `list --json`. `vanished`: holders that exited
    /// before their metadata was read, as the run counted them.
    fn sockets(
        &mut self,
        run: &str,
        churn: &Churn,
        sockets: &[Socket],
        processes: &[Process],
        vanished: u64,
    ) {
        let (mut missing, mut listeners, mut conns) = (BTreeSet::new(), 0, 0);
        for s in sockets {
            let Some(local) = s.local else { continue };
            let remote = s.remote.map_or(0, |r| r.port);
            if local.port == SERVER_PORT && s.state == State::Listen {
                listeners += 1;
                let pids: Vec<u32> = s.owners.iter().map(|o| o.pid).collect();
                if pids.len() != 1 || !churn.servers.contains(&pids[0]) {
                    self.problem(run, format!("server listener owned by {pids:?}"));
                }
            } else if local.port == SERVER_PORT || remote == SERVER_PORT {
                conns += 1;
            }
            if !child_port(local.port) {
                continue;
            }
            for o in &s.owners {
                self.pairing(run, local.port, Some(s.inode), o.pid, o.fd);
                match processes.iter().find(|p| p.pid == o.pid) {
                    None => {
                        missing.insert(o.pid);
                    }
                    Some(p) => self.process(run, churn, p.ppid, &p.comm.to_str_lossy(), &p.cmdline),
                }
            }
        }
        self.churn_sockets += conns;
        if listeners != 2 || conns == 0 {
            self.problem(
                run,
                format!("{listeners} server listeners, {conns} connections"),
            );
        }
        if missing.len() as u64 > vanished {
            self.problem(
                run,
                format!("owners {missing:?} without a process, {vanished} vanished"),
            );
        }
    }

    /// A holder's process entry: the forker's child. Its exe and command line are gone when it
    /// was read while exiting (counted, not an error: the pid and comm are still its own).
    fn process(&mut self, run: &str, churn: &Churn, ppid: u32, comm: &str, cmdline: &[ByteString]) {
        if ppid != churn.forker || comm != "python3" {
            self.problem(
                run,
                format!("owner is not a child: ppid {ppid}, comm {comm:?}"),
            );
        }
        // Empty when read while exiting; anything but the whole argv was invented by the read
        // (see argv_of_a_holder_exiting_mid_read_is_whole_or_empty).
        if cmdline.is_empty() {
            self.exiting += 1;
        } else if !cmdline.iter().map(|a| &a.0).eq(churn.argv.iter()) {
            self.problem(
                run,
                format!("owner's cmdline {cmdline:?} is not the children's argv"),
            );
        }
    }

    fn snapshot(&mut self, run: &str, churn: &Churn, json: &[u8], source: &str) {
        let snap: Snapshot = match serde_json::from_slice(json) {
            Ok(s) => s,
            Err(e) => return self.problem(run, format!("snapshot JSON: {e}")),
        };
        if snap.meta.sources.get("owners").map(String::as_str) != Some(source) {
            self.problem(run, format!("owners from {:?}", snap.meta.sources));
        }
        let vanished = snap
            .warnings
            .iter()
            .find(|w| w.code == "proc_meta_vanished")
            .map_or(0, |w| w.count);
        // Cross-view (issue 17): churn makes the views disagree on every run; the re-check
        // must explain every disagreement, so nothing is hidden.
        match &snap.meta.views {
            None => self.problem(run, "no meta.views".into()),
            Some(v) => {
                self.rechecked += v.rechecked;
                self.explained += v.churn;
            }
        }
        for s in snap.sockets.iter().filter(|s| !s.hidden.is_empty()) {
            self.problem(run, format!("socket reported hidden under churn: {s:?}"));
        }
        for p in snap.processes.iter().filter(|p| p.hidden() == Some(true)) {
            self.problem(run, format!("process reported hidden under churn: {p:?}"));
        }
        self.sockets(run, churn, &snap.sockets, &snap.processes, vanished);
    }

    fn list_json(&mut self, run: &str, churn: &Churn, out: &Output) {
        let l: Listing = match serde_json::from_slice(&out.stdout) {
            Ok(l) => l,
            Err(e) => return self.problem(run, format!("list JSON: {e}")),
        };
        // The listing carries no warnings; the count is on stderr.
        let err = String::from_utf8_lossy(&out.stderr);
        let vanished = err
            .split("(proc_meta_vanished: ")
            .nth(1)
            .and_then(|t| {
                let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .unwrap_or(0);
        self.sockets(run, churn, &l.sockets, &l.processes, vanished);
    }

    /// `list -ntaup`: `Netid State Recv-Q Send-Q Local Peer users:(("comm",pid=N,fd=N),...) ...`.
    fn list_text(&mut self, run: &str, churn: &Churn, out: &Output) {
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        if !lines.next().is_some_and(|h| h.starts_with("Netid State")) {
            return self.problem(run, format!("no header: {text:.200}"));
        }
        let (mut listeners, mut conns) = (0, 0);
        for line in lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = |i: usize| f.get(i).and_then(|a| a.rsplit_once(':')).map(|(_, p)| p);
            let (Some(Ok(local)), Some(remote)) = (port(4).map(str::parse::<u16>), port(5)) else {
                self.problem(run, format!("row {line:?}"));
                continue;
            };
            let remote: u16 = remote.parse().unwrap_or(0); // `*` when not connected
            if local == SERVER_PORT && f[1] == "LISTEN" {
                listeners += 1;
            } else if local == SERVER_PORT || remote == SERVER_PORT {
                conns += 1;
            }
            if !child_port(local) {
                continue;
            }
            for owner in line.split("pid=").skip(1) {
                let mut it = owner
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|x| !x.is_empty());
                let pid = it.next().and_then(|p| p.parse().ok());
                let fd = owner
                    .split_once("fd=")
                    .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|x| x.parse().ok());
                match (pid, fd) {
                    (Some(pid), Some(fd)) => self.pairing(run, local, None, pid, fd),
                    _ => self.problem(run, format!("owner in {line:?}")),
                }
            }
        }
        self.churn_sockets += conns;
        let servers = churn
            .servers
            .iter()
            .all(|p| text.contains(&format!("pid={p},")));
        if listeners != 2 || !servers || conns == 0 {
            self.problem(
                run,
                format!("{listeners} server listeners (owners: {servers}), {conns} connections"),
            );
        }
    }

    /// `scan --format json` with the CHURN-001 rule: a finding per owned socket on a child's
    /// port, with its processes.
    fn scan(&mut self, run: &str, churn: &Churn, json: &[u8]) {
        let v: Value = match serde_json::from_slice(json) {
            Ok(v) => v,
            Err(e) => return self.problem(run, format!("scan JSON: {e}")),
        };
        let Some(findings) = v["findings"].as_array() else {
            return self.problem(run, "no findings array".into());
        };
        let vanished = v["warnings"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["code"] == "proc_meta_vanished"))
            .map_or(0, |w| w["count"].as_u64().unwrap_or(0));
        for f in findings {
            if f["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("NET-HID"))
            {
                self.problem(run, format!("hidden finding under churn: {f}"));
            }
        }
        for f in findings.iter().filter(|f| f["rule_id"] == "CHURN-001") {
            let port = f["socket"]["local"]["port"].as_u64().unwrap_or(0) as u16;
            let inode = f["socket"]["inode"].as_u64();
            let procs = f["processes"].as_array().map_or(&[][..], Vec::as_slice);
            if !child_port(port) {
                self.problem(run, format!("finding {f}"));
            }
            // A holder whose metadata vanished is left out of the finding's processes.
            if procs.is_empty() {
                self.ownerless_findings += 1;
                if vanished == 0 {
                    self.problem(run, format!("finding without processes: {f}"));
                }
            }
            for p in procs {
                let (pid, fd) = (p["pid"].as_u64(), p["fd"].as_u64());
                let (Some(pid), Some(fd)) = (pid, fd) else {
                    self.problem(run, format!("process {p}"));
                    continue;
                };
                self.pairing(run, port, inode, pid as u32, fd as u32);
                let ppid = p["ppid"].as_u64().unwrap_or(0) as u32;
                let cmdline: Vec<ByteString> =
                    serde_json::from_value(p["cmdline"].clone()).unwrap_or_default();
                self.process(run, churn, ppid, p["comm"].as_str().unwrap_or(""), &cmdline);
            }
        }
    }
}

/// A live process's argv, from /proc.
fn argv(pid: u32) -> Vec<Vec<u8>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let raw = raw.strip_suffix(b"\0").unwrap_or(&raw);
    raw.split(|b| *b == 0).map(<[u8]>::to_vec).collect()
}

/// What each child logged: pid, port, and its sockets as (inode, fd).
struct Truth {
    by_inode: HashMap<u64, (u32, u16, u32)>,
    by_pid: HashMap<u32, Vec<(u16, u32)>>,
}

fn read_truth(log: &Path) -> Truth {
    let mut t = Truth {
        by_inode: HashMap::new(),
        by_pid: HashMap::new(),
    };
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (pid, port): (u32, u16) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        for s in &f[2..] {
            let (ino, fd) = s.split_once(':').unwrap();
            let (ino, fd): (u64, u32) = (ino.parse().unwrap(), fd.parse().unwrap());
            t.by_inode.insert(ino, (pid, port, fd));
            t.by_pid.entry(pid).or_default().push((port, fd));
        }
    }
    t
}

/// Round `i`: one run of each command; even rounds take owners from the /proc walk, odd ones
/// from the BPF iterator; rounds 2 and 3 (mod 4) go through `--netns`, the others through
/// `ip netns exec`.
fn round(t: &mut Tally, ns: &Netns, churn: &Churn, work: &Path, rule: &str, i: usize) {
    let source = if i.is_multiple_of(2) { "procfs" } else { "bpf" };
    let src = if source == "bpf" {
        "bpf_iter"
    } else {
        "procfs"
    };
    let flag = i % 4 >= 2; // through --netns every other pair of rounds
    let how = if flag { "--netns" } else { "ip netns exec" };
    // snapshot: stdout, and every 5th to a file.
    let label = format!("snapshot {source} {how}");
    if i % 5 == 4 {
        let file = work.join(format!("snap-{i}.json"));
        let f = file.to_str().unwrap();
        let out = t.run(ns, flag, &["snapshot", "--owners-from", source, "-o", f]);
        if t.exit(&label, &out, &[0]) {
            t.snapshot(&label, churn, &std::fs::read(&file).unwrap(), src);
        }
    } else {
        let out = t.run(ns, flag, &["snapshot", "--owners-from", source]);
        if t.exit(&label, &out, &[0]) {
            t.snapshot(&label, churn, &out.stdout, src);
        }
    }
    // scan: findings exit 1; every 5th as a table.
    let label = format!("scan {how}");
    if i % 5 == 2 {
        let out = t.run(ns, flag, &["scan", "--rules", rule]);
        t.exit(&format!("scan table {how}"), &out, &[0, 1]);
    } else {
        let out = t.run(ns, flag, &["scan", "--rules", rule, "--format", "json"]);
        if t.exit(&label, &out, &[0, 1]) {
            t.scan(&label, churn, &out.stdout);
        }
    }
    // list -ntaup, as text and as JSON.
    let label = format!("list {source} {how}");
    let out = t.run(ns, flag, &["list", "--owners-from", source, "-ntaup"]);
    if t.exit(&label, &out, &[0]) {
        t.list_text(&label, churn, &out);
    }
    let label = format!("list --json {source} {how}");
    let out = t.run(
        ns,
        flag,
        &["list", "--owners-from", source, "-ntaup", "--json"],
    );
    if t.exit(&label, &out, &[0]) {
        t.list_json(&label, churn, &out);
    }
}

#[test]
fn snapshot_scan_and_list_under_churn_report_true_owners() {
    if !require_root("snapshot_scan_and_list_under_churn_report_true_owners") {
        return;
    }
    let t0 = Instant::now();
    let ns = Netns::new();
    let work: PathBuf = ns.workdir();
    let log = work.join("children.log");
    let rule = work.join("CHURN-001-child-port.yaml");
    std::fs::write(
        &rule,
        format!(
            "id: CHURN-001\ntitle: socket on a churn child's port\nseverity: info\n\
             status: stable\ntags: [T1571]\ndescription: test\nwhen:\n  all:\n    \
             - socket.local.port: {{port: \"{BASE}-{}\"}}\n    - socket.owned: true\n\
             examples:\n  match:\n    - socket: {{protocol: tcp, state: listen, \
             local: 127.0.0.1:10001}}\n      process: {{exe: /usr/bin/python3}}\n  \
             no_match:\n    - socket: {{protocol: tcp, state: listen, local: 127.0.0.1:22}}\n",
            BASE + SPAN - 1
        ),
    )
    .unwrap();
    let rule = rule.to_str().unwrap();
    let mut churn = Churn::start(&ns, &log);
    // Half a second of churn first: TIME-WAIT sockets and children exist before the first run.
    std::thread::sleep(Duration::from_millis(500));
    // THREADS runs at a time (sockwarden instances overlap, as on a busy host).
    let started = Instant::now();
    let mut t = Tally::default();
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..THREADS)
            .map(|k| {
                let (ns, churn, work) = (&ns, &churn, &work);
                sc.spawn(move || {
                    let mut t = Tally::default();
                    for i in (k..ROUNDS).step_by(THREADS) {
                        round(&mut t, ns, churn, work, rule, i);
                    }
                    t
                })
            })
            .collect();
        for h in handles {
            t.merge(h.join().unwrap());
        }
    });
    let busy = started.elapsed();
    let done = churn.stop();
    drop(churn);

    // The owners, against what each child logged: the socket with that inode was the child's,
    // at that fd (the text listing has no inode: the child had a socket on that port at that fd).
    let truth = read_truth(&log);
    for s in &t.seen {
        let ok = match s.inode {
            Some(ino) => truth.by_inode.get(&ino) == Some(&(s.pid, s.port, s.fd)),
            None => truth
                .by_pid
                .get(&s.pid)
                .is_some_and(|v| v.contains(&(s.port, s.fd))),
        };
        if !ok {
            let logged = s.inode.and_then(|i| truth.by_inode.get(&i));
            t.problems.push(format!(
                "{}: port {} inode {:?} owner pid {} fd {}: the children logged {logged:?} \
                 for the inode, {:?} for the pid",
                s.run,
                s.port,
                s.inode,
                s.pid,
                s.fd,
                truth.by_pid.get(&s.pid)
            ));
        }
    }
    let total: usize = t.pairings.values().sum();
    let runs: usize = t.runs.values().sum();
    let rate = done["rate"].as_f64().unwrap();
    eprintln!(
        "churn: {runs} runs in {busy:.1?} ({:.1?} of it in sockwarden, {:.1?} in all), {total} pairings, {} children seen \
         ({} read while exiting, {} findings without processes); \
         generator: {:.0} connections/s ({} in {:.1} s, {} failed), {} children forked, {} bound\n\
         runs: {:?}\npairings: {:?}",
        t.running,
        t0.elapsed(),
        t.children.len(),
        t.exiting,
        t.ownerless_findings,
        rate,
        done["connections"],
        done["seconds"].as_f64().unwrap(),
        done["failed"],
        done["forked"],
        done["bound"],
        t.runs,
        t.pairings,
    );
    assert!(
        t.problems.is_empty(),
        "{} problems, the first ones:\n{}",
        t.problems.len(),
        t.problems[..t.problems.len().min(20)].join("\n")
    );

    // The load was real, and ran through every run.
    assert_eq!(done["errors"], serde_json::json!([]), "{done}");
    assert!(rate >= MIN_RATE, "{rate:.0} connections/s: {done}");
    assert!(done["seconds"].as_f64().unwrap() >= busy.as_secs_f64());
    let conns = done["connections"].as_u64().unwrap();
    assert!(done["failed"].as_u64().unwrap() * 100 <= conns, "{done}");
    let (forked, bound) = (
        done["forked"].as_u64().unwrap(),
        done["bound"].as_u64().unwrap(),
    );
    assert!(forked >= 1_000 && bound * 10 >= forked * 9, "{done}");
    // Every command ran ROUNDS times, with both owner sources, and none of it was vacuous.
    let count = |m: &BTreeMap<String, usize>, p: &str| -> usize {
        m.iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(_, v)| v)
            .sum()
    };
    let list_text = count(&t.runs, "list procfs") + count(&t.runs, "list bpf");
    for (cmd, n) in [
        ("snapshot", count(&t.runs, "snapshot ")),
        ("scan", count(&t.runs, "scan ")),
        ("list -ntaup", list_text),
        ("list -ntaup --json", count(&t.runs, "list --json ")),
    ] {
        assert!(n >= ROUNDS, "{cmd}: {n} runs");
    }
    for kind in [
        "snapshot procfs",
        "snapshot bpf",
        "scan ",
        "list procfs",
        "list bpf",
        "list --json procfs",
        "list --json bpf",
    ] {
        // A floor, not a rate: with owners from the BPF iterator a debug build parses the
        // kernel's BTF after the dump, and on a loaded machine most short-lived children have
        // exited by then (22 per kind measured with a fuzzer and a build on the other core,
        // ~200 on a quiet one); procfs kinds see hundreds either way.
        let n = count(&t.pairings, kind);
        assert!(
            n >= 10,
            "{kind}: only {n} owners on children's ports checked"
        );
    }
    assert!(total >= 1_000, "{total} pairings");
    assert!(
        t.children.len() >= 200,
        "{} children seen",
        t.children.len()
    );
    assert!(
        t.churn_sockets >= 100 * ROUNDS,
        "{} churn sockets",
        t.churn_sockets
    );
    // The views did disagree (the re-check was exercised), and churn explained every time.
    eprintln!(
        "cross-view: {} disagreements re-checked, {} explained as churn",
        t.rechecked, t.explained
    );
    assert!(t.rechecked > 0, "no disagreement was ever re-checked");
    assert_eq!(t.rechecked, t.explained);
}

/// The race the churn test runs into, made certain: a socket holder exits between sockwarden's
/// reads of its /proc/PID/cmdline (strace holds the first read's return for 2 s). The snapshot
/// must record its argv whole, or nothing (an exiting process has none); a prefix is an argv
/// the process never had.
///
/// Regression: std's `fs::read` probes with 32 bytes first, so the argv was cut there. Needs
/// strace (ci/deps.sh installs it).
#[test]
fn argv_of_a_holder_exiting_mid_read_is_whole_or_empty() {
    if !require_root("argv_of_a_holder_exiting_mid_read_is_whole_or_empty") {
        return;
    }
    let ns = Netns::new();
    // The holder exits 1 s after it starts; its parent reaps it 5 s later (a zombie till then).
    let code = "import os, socket, time\n\
                pid = os.fork()\n\
                if pid == 0:\n    \
                    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n    \
                    print(os.getpid(), flush=True); time.sleep(1.0); os._exit(0)\n\
                time.sleep(6); os.waitpid(pid, 0)\n";
    let mut parent = Command::new("ip")
        .env_remove(INHERITED_LOADER_PATH)
        .args(["netns", "exec", &ns.name, "python3", "-c", code])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let want = argv(pid);
    assert!(want.concat().len() > 32, "{want:?}");
    let file = format!("/proc/{pid}/cmdline");
    let out = ns.run(&[
        "strace",
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-P",
        &file,
        "-e",
        "trace=read",
        "-e",
        "inject=read:delay_exit=2000000:when=1",
        BIN,
        "snapshot",
        "--owners-from",
        "procfs",
    ]);
    let _ = parent.kill();
    let _ = parent.wait();
    crate::common::expect_exit(&out, 0);
    let snap: Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        snap.sockets
            .iter()
            .any(|s| s.owners.iter().any(|o| o.pid == pid)),
        "the holder's listener"
    );
    let got: Vec<Vec<u8>> = snap
        .process(pid)
        .expect("the holder's process")
        .cmdline
        .iter()
        .map(|a| a.0.clone())
        .collect();
    assert!(
        got.is_empty() || got == want,
        "argv recorded as {:?}, the process's was {:?}",
        got.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>(),
    );
}
