//! Cross-view on things really hidden (issue 17): in a private network namespace (and, for the
//! process, a private mount namespace) the test hides a listener from one view the way rootkits
//! do, checks that the common tools are fooled, and that the scan reports the socket as hidden,
//! by the rule that names the view that lies. The churn side (no hidden finding while thousands
//! of connections a second come and go) is asserted by `churn`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{BIN, Netns, require_root};

const PORT: u16 = 31337;

/// The findings of a JSON scan report with this rule id.
fn with_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

/// Every NET-HID-* finding about a socket (NET-HID-005, the scanner's own preload, is about the
/// host), as `RULE PORT`.
fn hidden_findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("NET-HID") && r != "NET-HID-005")
        })
        .map(|f| format!("{} {}", f["rule_id"], f["socket"]["local"]["port"]))
        .collect()
}

/// A scan's report; the scan must succeed (0 or 1), never leave a rule undetermined (2).
fn report(out: &Output) -> Value {
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "scan exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The finding's socket port.
fn port(f: &Value) -> u64 {
    f["socket"]["local"]["port"].as_u64().unwrap_or(0)
}

/// Builds tests/scripts/hide.c into the namespace's work directory.
pub(crate) fn build_hider(ns: &Netns) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/hide.c");
    let lib = ns.workdir().join("libhide.so");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("cc (ci/deps.sh installs gcc)");
    assert!(
        out.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lib
}

/// Runs ARGS in the namespace with the hider preloaded and `var` set to the port.
fn hidden_run(ns: &Netns, lib: &Path, var: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .args(args)
        .env_remove(crate::common::INHERITED_LOADER_PATH)
        .env("LD_PRELOAD", lib)
        .env(var, PORT.to_string())
        .output()
        .unwrap()
}

fn shows_port(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stdout).contains(&format!(":{PORT} "))
}

/// A libc hook that filters /proc/net/tcp (what netstat reads) and one that filters sock_diag
/// replies (what ss reads): each tool is fooled, and sockwarden under the same hook still sees
/// the socket through its other view and names the view that lies.
#[test]
fn preloaded_hooks_fool_ss_and_netstat_and_the_scan_names_the_lying_view() {
    if !require_root("preloaded_hooks_fool_ss_and_netstat_and_the_scan_names_the_lying_view") {
        return;
    }
    let mut ns = Netns::new();
    let listener = ns.service(&["listen", "127.0.0.1", &PORT.to_string()]);
    let lib = build_hider(&ns);

    // The tools, without and with the hook.
    let ss = ["ss", "-Htln"];
    let netstat = ["netstat", "-tln"];
    assert!(shows_port(&ns.run(&ss)), "ss sees the listener unhooked");
    assert!(shows_port(&ns.run(&netstat)), "netstat sees it unhooked");
    assert!(
        !shows_port(&hidden_run(&ns, &lib, "HIDE_NETLINK_PORT", &ss)),
        "the netlink hook hides the listener from ss"
    );
    assert!(
        !shows_port(&hidden_run(&ns, &lib, "HIDE_PROCNET_PORT", &netstat)),
        "the /proc/net hook hides the listener from netstat"
    );
    // netstat does not read netlink, ss does not read /proc/net: each sees it under the other.
    assert!(shows_port(&hidden_run(
        &ns,
        &lib,
        "HIDE_NETLINK_PORT",
        &netstat
    )));
    assert!(shows_port(&hidden_run(&ns, &lib, "HIDE_PROCNET_PORT", &ss)));

    let scan = [BIN, "scan", "--format", "json"];
    // Unhooked: nothing hidden.
    let clean = report(&ns.run(&scan));
    assert_eq!(hidden_findings(&clean), Vec::<String>::new(), "{clean:#}");
    assert!(with_rule(&clean, "NET-HID-005").is_empty());

    // sockwarden's own /proc/net reads are filtered: netlink still lists the socket.
    let r = report(&hidden_run(&ns, &lib, "HIDE_PROCNET_PORT", &scan));
    let f = with_rule(&r, "NET-HID-001");
    assert_eq!(f.len(), 1, "one NET-HID-001 finding: {:#}", r["findings"]);
    assert_eq!(port(f[0]), u64::from(PORT));
    assert_eq!(f[0]["processes"][0]["pid"], listener);
    assert_eq!(hidden_findings(&r), [format!("\"NET-HID-001\" {PORT}")]);
    // And the scan says it ran with a preloaded library.
    let pre = with_rule(&r, "NET-HID-005");
    assert_eq!(pre.len(), 1, "{:#}", r["findings"]);

    // Its netlink replies are filtered: /proc/net still lists the socket, and the fd walk
    // names its holder.
    let r = report(&hidden_run(&ns, &lib, "HIDE_NETLINK_PORT", &scan));
    let f = with_rule(&r, "NET-HID-002");
    assert_eq!(f.len(), 1, "one NET-HID-002 finding: {:#}", r["findings"]);
    assert_eq!(port(f[0]), u64::from(PORT));
    assert_eq!(f[0]["processes"][0]["pid"], listener);
    assert_eq!(hidden_findings(&r), [format!("\"NET-HID-002\" {PORT}")]);
}

/// An empty directory bind-mounted over /proc/PID of a process holding a listener, in a private
/// mount namespace: `ss -p` shows the listener without its owner, the scan (in that mount
/// namespace) reports the hidden process and the socket descriptor /proc hides, attributed by
/// the BPF iterator.
#[test]
fn a_mount_over_proc_pid_hides_the_holder_from_ss_but_not_from_the_scan() {
    if !require_root("a_mount_over_proc_pid_hides_the_holder_from_ss_but_not_from_the_scan") {
        return;
    }
    let mut ns = Netns::new();
    let pid = ns.service(&["listen", "127.0.0.1", &PORT.to_string()]);
    let empty = ns.workdir().join("empty");
    std::fs::create_dir(&empty).unwrap();
    // Inside `unshare -m`: mount, then run the tools in the namespace. The mount dies with it.
    let in_hiding = |cmd: &str| {
        let script = format!("mount --bind {} /proc/{pid} && {cmd}", empty.display());
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env_remove(crate::common::INHERITED_LOADER_PATH)
            .output()
            .unwrap()
    };
    let ss = in_hiding(&format!("ip netns exec {} ss -Htlnp", ns.name));
    let text = String::from_utf8_lossy(&ss.stdout);
    assert!(
        ss.status.success() && text.contains(&format!(":{PORT} ")),
        "{text}"
    );
    assert!(
        !text.contains(&format!("pid={pid},")),
        "ss -p names the hidden holder: {text}"
    );
    // Outside the mount namespace nothing is hidden.
    let plain = ns.run(&["ss", "-Htlnp"]);
    assert!(String::from_utf8_lossy(&plain.stdout).contains(&format!("pid={pid},")));

    let out = in_hiding(&format!("{BIN} scan --netns {} --format json", ns.name));
    let r = report(&out);
    let proc_ = with_rule(&r, "NET-HID-004");
    assert_eq!(
        proc_.len(),
        1,
        "one NET-HID-004 finding: {:#}",
        r["findings"]
    );
    assert_eq!(proc_[0]["processes"][0]["pid"], pid);
    let fd = with_rule(&r, "NET-HID-003");
    assert_eq!(fd.len(), 1, "one NET-HID-003 finding: {:#}", r["findings"]);
    assert_eq!(port(fd[0]), u64::from(PORT));
    assert_eq!(fd[0]["processes"][0]["pid"], pid);

    // The snapshot says how: the iterator saw the process, /proc has a mount over it.
    let out = in_hiding(&format!("{BIN} snapshot --netns {}", ns.name));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = snap["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .expect("the hidden holder has an entry");
    assert_eq!(p["proc_mount"], format!("/proc/{pid}"));
    assert_eq!(p["views"], serde_json::json!(["readdir", "taskfiles"]));
    let s = snap["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local"]["port"] == PORT && s["state"] == "listen")
        .expect("the listener");
    assert_eq!(
        s["views"],
        serde_json::json!(["netlink", "procnet", "taskfiles"])
    );
    assert_eq!(s["hidden"], serde_json::json!(["fdwalk"]));

    // Without the mount: nothing hidden, and every view saw the listener.
    let r = report(&ns.run(&[BIN, "scan", "--format", "json"]));
    assert_eq!(hidden_findings(&r), Vec::<String>::new());
}

/// A saved snapshot whose holder the iterator saw hidden (as the live test records it): `scan
/// --from` reports both rules. The same snapshot without the iterator's view cannot decide them:
/// the scan fails closed, and `--allow-partial` lists each as not checked.
#[test]
fn a_view_that_was_not_read_leaves_its_rules_undecided() {
    use sockwarden::model::{
        Endpoint, Family, Meta, Owner, ProcView, Process, Protocol, SCHEMA_VERSION, Snapshot,
        Socket, State, View, ViewCoverage, Views,
    };
    let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Listen, 5000);
    s.local = Some(Endpoint {
        address: "127.0.0.1".parse().unwrap(),
        port: PORT,
    });
    s.remote = Some(Endpoint {
        address: "0.0.0.0".parse().unwrap(),
        port: 0,
    });
    s.owners = smallvec::smallvec![Owner { pid: 4242, fd: 3 }];
    s.views = [View::Netlink, View::Procnet, View::Taskfiles]
        .into_iter()
        .collect();
    s.hidden = Views::NONE.with(View::Fdwalk);
    let p = Process {
        pid: 4242,
        views: vec![ProcView::Readdir, ProcView::Taskfiles],
        proc_mount: Some("/proc/4242".into()),
        ..Process::default()
    };
    let mut meta = Meta::blank("h");
    let mut cov = ViewCoverage::default();
    for v in View::ALL {
        cov.read.insert(v, Protocol::ALL.to_vec());
    }
    meta.views = Some(cov.clone());
    let snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta,
        sockets: vec![s],
        processes: vec![p],
        namespaces: Vec::new(),
        warnings: Vec::new(),
        gaps: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, snap: &Snapshot| {
        let f = dir.path().join(name);
        std::fs::write(&f, serde_json::to_vec(snap).unwrap()).unwrap();
        f.display().to_string()
    };
    let scan = |file: &str, extra: &[&str]| {
        Command::new(BIN)
            .args(["scan", "--format", "json", "--from", file])
            .args(extra)
            .output()
            .unwrap()
    };
    let full = write("full.json", &snap);
    let out = scan(&full, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(with_rule(&r, "NET-HID-003").len(), 1);
    assert_eq!(with_rule(&r, "NET-HID-004").len(), 1);

    // No iterator: both rules compare with it.
    let mut blind = snap.clone();
    cov.read.remove(&View::Taskfiles);
    cov.missing
        .insert(View::Taskfiles, "unavailable: bpf: not permitted".into());
    blind.meta.views = Some(cov);
    let blind = write("blind.json", &blind);
    let out = scan(&blind, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for rule in ["NET-HID-003", "NET-HID-004"] {
        assert!(err.contains(&format!("rule:{rule}: not decided")), "{err}");
    }
    assert!(!err.contains("rule:NET-HID-001"), "procnet was read: {err}");
    let out = scan(&blind, &["--allow-partial"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(with_rule(&r, "NET-HID-003").is_empty());
    let gaps = r["coverage"]["gaps"].to_string();
    assert!(
        gaps.contains("rule:NET-HID-003") && gaps.contains("rule:NET-HID-004"),
        "{gaps}"
    );
}

/// `--no-procnet-view` (the view's cost, docs/detection.md "Costs"): /proc/net is not read, so
/// the rules that compare it with netlink are undecided, never clean: the scan fails closed and
/// names them, and the snapshot says why the view is missing.
#[test]
fn procnet_view_switched_off_leaves_its_rules_undecided() {
    if !require_root("procnet_view_switched_off_leaves_its_rules_undecided") {
        return;
    }
    let mut ns = Netns::new();
    ns.service(&["listen", "127.0.0.1", &PORT.to_string()]);
    let out = ns.run(&[
        BIN,
        "scan",
        "--no-config",
        "--no-procnet-view",
        "--format",
        "json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for rule in ["NET-HID-001", "NET-HID-002"] {
        assert!(err.contains(&format!("rule:{rule}")), "{rule}: {err}");
    }
    assert!(!err.contains("rule:NET-HID-003"), "{err}");
    let off: Value =
        serde_json::from_slice(&ns.run(&[BIN, "snapshot", "--no-procnet-view"]).stdout).unwrap();
    let views = &off["meta"]["views"];
    assert!(views["read"].get("procnet").is_none(), "{views}");
    assert!(
        views["missing"]["procnet"]
            .as_str()
            .is_some_and(|m| m.contains("switched off")),
        "{views}"
    );
    let on: Value = serde_json::from_slice(&ns.run(&[BIN, "snapshot"]).stdout).unwrap();
    assert!(
        on["meta"]["views"]["read"]["procnet"].is_array(),
        "{}",
        on["meta"]["views"]
    );
}

/// The UDP cap of the /proc/net view (issue 19: the kernel reads /proc/net/udp in quadratic
/// time): 60 UDP sockets above `--procnet-udp-max 50` leave udp and udp6 unread, so the scan
/// fails closed naming the cap, the count and the ways out; `--allow-partial` reports, with
/// `meta.views` saying what was skipped and TCP still compared; under the cap UDP is compared.
#[test]
fn issue_19_udp_above_the_cap_is_not_read_and_the_scan_says_why() {
    if !require_root("issue_19_udp_above_the_cap_is_not_read_and_the_scan_says_why") {
        return;
    }
    let mut ns = Netns::new();
    ns.service(&["listen", "127.0.0.1", &PORT.to_string()]);
    ns.service(&["udp-many", "127.0.0.1", "60"]);
    let scan = |extra: &[&str]| {
        let mut args = vec![BIN, "scan", "--no-config", "--format", "json"];
        args.extend(extra);
        ns.run(&args)
    };
    let out = scan(&["--procnet-udp-max", "50"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for want in [
        "60 UDP sockets",
        "procnet_udp_max 50",
        "quadratic",
        "--procnet-udp-max N",
        "--allow-partial",
        "--disable NET-HID-001 --disable NET-HID-002",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    let out = scan(&["--procnet-udp-max", "50", "--allow-partial"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = r["coverage"]["gaps"].to_string();
    assert!(gaps.contains("rule:NET-HID-001"), "{gaps}");
    let snap = |cap: &str| -> Value {
        let out = ns.run(&[BIN, "snapshot", "--procnet-udp-max", cap]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let capped = snap("50");
    let views = &capped["meta"]["views"];
    assert_eq!(
        views["read"]["procnet"],
        serde_json::json!(["tcp"]),
        "{views}"
    );
    let why = views["missing"]["procnet"].as_str().unwrap_or_default();
    assert!(
        why.contains("udp, udp6 not read: 60 UDP sockets"),
        "{views}"
    );
    // TCP is still compared, UDP is not.
    let seen = |s: &Value, proto: &str| -> Vec<bool> {
        s["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["protocol"] == proto)
            .map(|x| x["views"].to_string().contains("procnet"))
            .collect()
    };
    assert_eq!(seen(&capped, "tcp"), vec![true], "{capped}");
    assert_eq!(seen(&capped, "udp"), vec![false; 60]);
    let under = snap("100");
    assert_eq!(
        under["meta"]["views"]["read"]["procnet"],
        serde_json::json!(["tcp", "udp"]),
        "{}",
        under["meta"]["views"]
    );
    assert_eq!(seen(&under, "udp"), vec![true; 60]);
    let out = scan(&["--procnet-udp-max", "none"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
