//! `--all-netns`: sockets of every network namespace in one snapshot, tagged with their
//! namespace, from the host's namespace.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::{BIN, Netns, expect_exit, require_root};

/// A process in a new, anonymous network namespace (no name under /run/netns) that holds a
/// listener; killed on drop.
struct Anon(Child);

impl Anon {
    fn listen(addr: &str, port: u16) -> Anon {
        let svc = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/svc.py");
        let mut c = Command::new("unshare")
            .args(["--net", "sh", "-c"])
            .arg(format!(
                "ip link set lo up && exec python3 {svc} listen {addr} {port}"
            ))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(c.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "READY");
        Anon(c)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn netns(&self) -> u64 {
        let l = std::fs::read_link(format!("/proc/{}/ns/net", self.pid())).unwrap();
        let s = l.to_string_lossy();
        s.trim_start_matches("net:[")
            .trim_end_matches(']')
            .parse()
            .unwrap()
    }
}

impl Drop for Anon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn all_netns_sees_named_and_anonymous_namespaces() {
    if !require_root("all_netns_sees_named_and_anonymous_namespaces") {
        return;
    }
    let mut named = Netns::new();
    let named_pid = named.service(&["listen", "127.0.0.1", "7100"]);
    let a = Anon::listen("127.0.0.1", 7100); // the same address and port as in `named`
    let b = Anon::listen("0.0.0.0", 6379); // a service meant to be local, exposed
    let out = Command::new(BIN)
        .args(["snapshot", "--all-netns"])
        .output()
        .unwrap();
    expect_exit(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let named_ino = {
        let l = std::fs::read_link(format!("/proc/{named_pid}/ns/net")).unwrap();
        let s = l.to_string_lossy().into_owned();
        s.trim_start_matches("net:[")
            .trim_end_matches(']')
            .parse::<u64>()
            .unwrap()
    };
    let ns: Vec<&Value> = v["namespaces"].as_array().unwrap().iter().collect();
    let find_ns = |ino: u64| ns.iter().find(|n| n["inode"] == ino).copied();
    let n = find_ns(named_ino).expect("the named namespace");
    assert_eq!(n["name"], named.name.as_str());
    assert!(n["pids"].as_array().unwrap().iter().any(|p| p == named_pid));
    for anon in [&a, &b] {
        let n = find_ns(anon.netns()).expect("the anonymous namespace");
        assert!(n.get("name").is_none(), "anonymous: {n}");
        assert!(
            n["pids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| *p == anon.pid())
        );
    }
    assert!(ns.iter().any(|n| n["current"] == true));
    // The two identical listeners stay two sockets, each tagged with its namespace and owner.
    let listeners: Vec<&Value> = v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "listen" && s["local"]["port"] == 7100)
        .collect();
    assert_eq!(listeners.len(), 2, "{listeners:#?}");
    for (pid, ino) in [(named_pid, named_ino), (a.pid(), a.netns())] {
        let s = listeners
            .iter()
            .find(|s| s["netns"] == ino)
            .unwrap_or_else(|| panic!("no socket in {ino}"));
        assert_eq!(s["local"]["address"], "127.0.0.1");
        assert!(
            s["owners"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["pid"] == pid),
            "{s}"
        );
    }
    // Without --all-netns, none of them is visible from the host.
    let out = Command::new(BIN).args(["snapshot"]).output().unwrap();
    let host: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !host["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["local"]["port"] == 7100)
    );
    // scan --all-netns finds the exposed redis that lives only in an anonymous namespace.
    let out = Command::new(BIN)
        .args(["scan", "--all-netns", "--format", "json"])
        .output()
        .unwrap();
    expect_exit(&out, 1);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "NET-EXP-002" && f["socket"]["local"]["port"] == 6379)
        .expect("NET-EXP-002 on the anonymous namespace's redis");
    assert!(
        f["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == b.pid())
    );
    // list --all-netns names each socket's namespace in a first column.
    let out = Command::new(BIN)
        .args(["list", "-tln", "--all-netns"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Netns "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with(named.name.as_str()) && l.contains("127.0.0.1:7100")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("ns:{}", a.netns())) && l.contains(":7100")),
        "{text}"
    );
    // --netns PID: one namespace.
    let out = Command::new(BIN)
        .args(["list", "-tln", "--netns", &b.pid().to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0.0.0.0:6379") && !text.contains(":7100"),
        "{text}"
    );
    // A namespace-scoped baseline: each listener's entry names its namespace (the named one by
    // name, an anonymous one as ns:*). Without the anonymous entry, the identical listener in the
    // anonymous namespace is new, and the named one is still known.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("ns.yaml");
    let out = Command::new(BIN)
        .args(["baseline", "create", "--all-netns", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    expect_exit(&out, 0);
    let text = std::fs::read_to_string(&base).unwrap();
    let named_line = "port: 7100, exe: ";
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(named_line)).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("netns: {}", named.name))),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("netns: \"ns:*\"")),
        "{text}"
    );
    let scan = |b: &std::path::Path| {
        let out = Command::new(BIN)
            .args([
                "scan",
                "--all-netns",
                "--no-default-rules",
                "--format",
                "json",
                "--baseline",
            ])
            .arg(b)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "scan --all-netns: {e}; exit {:?}; stderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        v["findings"].as_array().unwrap().clone()
    };
    let drift: Vec<Value> = scan(&base)
        .into_iter()
        .filter(|f| f["socket"]["local"]["port"] == 7100)
        .collect();
    assert!(drift.is_empty(), "{drift:#?}");
    let trimmed: String = text
        .lines()
        .filter(|l| !(l.contains(named_line) && l.contains("ns:*")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&base, trimmed).unwrap();
    let drift: Vec<Value> = scan(&base)
        .into_iter()
        .filter(|f| f["socket"]["local"]["port"] == 7100)
        .collect();
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0]["category"], "new_listener");
    assert!(
        drift[0]["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == a.pid())
    );
    named.kill(named_pid);
}

/// Rules can name the namespace: a site rule that only cares about one namespace.
#[test]
fn rules_can_test_the_namespace() {
    if !require_root("rules_can_test_the_namespace") {
        return;
    }
    let mut named = Netns::new();
    named.service(&["listen", "0.0.0.0", "7200"]);
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("SITE-NS-001-any-listener-in-ns.yaml");
    std::fs::write(
        &rule,
        format!(
            "id: SITE-NS-001\ntitle: listener in the test namespace\nseverity: low\nstatus: stable\n\
             tags: [T1571]\ndescription: test\nwhen:\n  all:\n    - socket.state: listen\n    \
             - socket.netns.name: {}\n    - socket.netns.inode: {{exists: true}}\n\
             examples:\n  match:\n    - socket: {{protocol: tcp, state: listen, local: 0.0.0.0:1}}\n  \
             no_match:\n    - socket: {{protocol: tcp, state: established}}\n",
            named.name
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "scan",
            "--all-netns",
            "--no-default-rules",
            "--format",
            "json",
            "--rules",
        ])
        .arg(&rule)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["socket"]["local"]["port"])
        .collect();
    assert_eq!(ports, vec![&Value::from(7200)], "{v:#}");
}

/// `list --netns NS` resolves `dev NAME` and reads the port range for `autobound` in NS, as
/// `ss -N NS` does, not in the namespace sockwarden runs in.
#[test]
fn list_netns_parses_dev_and_autobound_in_that_namespace() {
    if !require_root("list_netns_parses_dev_and_autobound_in_that_namespace") {
        return;
    }
    let mut ns = Netns::new();
    let dev = format!("swd{}", std::process::id() % 1_000_000);
    ns.ip(&format!("link add {dev} type veth peer name {dev}p"));
    ns.ip(&format!("link set {dev} up"));
    let out = ns.run(&["sysctl", "-qw", "net.ipv4.ip_local_port_range=20000 20010"]);
    assert!(out.status.success());
    ns.spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',20005))\ns.listen()\n\
         print(flush=True)\ntime.sleep(600)",
    ]);
    let list = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["list", "--netns", &ns.name, "-H", "-n"])
            .args(args)
            .output()
            .unwrap();
        expect_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    for _ in 0..50 {
        if list(&["-tl"]).contains("127.0.0.1:20005") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(list(&["-tl", "autobound"]).contains("127.0.0.1:20005"));
    assert_eq!(list(&["-tl", "dev", &dev]), "", "a device of the namespace");
    let out = Command::new(BIN)
        .args(["list", "--netns", &ns.name, "-tl", "dev", "swnosuchdev"])
        .output()
        .unwrap();
    expect_exit(&out, 2);
}

/// Namespaces added and deleted while `list --all-netns` runs: a name under /run/netns is an
/// empty file just before `ip netns add` mounts it and just after `ip netns del` unmounts it,
/// and `setns` refuses it (EINVAL). That namespace is coming or going (churn), not a scope the
/// listing could not read: every run exits 0. (Before the fix, 9 of 40 runs stopped with exit 2.)
#[test]
fn all_netns_tolerates_namespaces_added_and_deleted_meanwhile() {
    if !require_root("all_netns_tolerates_namespaces_added_and_deleted_meanwhile") {
        return;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let name = format!("swchurn{}", std::process::id());
    let churn = {
        let (stop, name) = (stop.clone(), name.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Command::new("ip").args(["netns", "add", &name]).status();
                let _ = Command::new("ip").args(["netns", "del", &name]).status();
            }
        })
    };
    let mut failed = Vec::new();
    for _ in 0..30 {
        let out = Command::new(BIN)
            .args(["list", "-tln", "--all-netns"])
            .output()
            .unwrap();
        if out.status.code() != Some(0) {
            failed.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
    let _ = Command::new("ip").args(["netns", "del", &name]).status();
    assert!(
        failed.is_empty(),
        "{} of 30 runs failed: {:?}",
        failed.len(),
        failed.first()
    );
}
