//! `sockwarden scan` on live attack scenarios in private namespaces: each is found by the
//! expected rule; a benign namespace gives exit 0 and no finding.

use serde_json::Value;

use crate::common::{BIN, Netns, require_root};

/// Trusts 198.51.100.0/24 (and nothing else) for NET-NET-001.
fn trusted_lists(ns: &Netns) -> String {
    let p = ns.workdir().join("site.yaml");
    std::fs::write(&p, "trusted_networks:\n  - 198.51.100.0/24\n").unwrap();
    p.display().to_string()
}

/// Runs `scan --format json` in the namespace; returns (exit code, report).
fn scan(ns: &Netns, extra: &[&str]) -> (i32, Value) {
    let lists = trusted_lists(ns);
    let mut args = vec![BIN, "scan", "--format", "json", "--lists", &lists];
    args.extend_from_slice(extra);
    let out = ns.run(&args);
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn rule_ids_for_inode(report: &Value, inode: u64) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["socket"]["inode"] == inode)
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

fn scenario(mode: &str, setup: &[&str], expected_rule: &str) {
    if !require_root(mode) {
        return;
    }
    let mut ns = Netns::new();
    for s in setup {
        ns.ip(s);
    }
    let info = ns.start_scenario(mode);
    let inode = info["inode"].as_u64().unwrap();
    let (code, report) = scan(&ns, &[]);
    let ids = rule_ids_for_inode(&report, inode);
    assert!(
        ids.iter().any(|i| i == expected_rule),
        "{mode}: expected {expected_rule} on inode {inode}, got {ids:?}\n{report:#}"
    );
    assert_eq!(code, 1, "{mode}: findings must give exit 1");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == expected_rule && f["socket"]["inode"] == inode)
        .unwrap();
    assert_eq!(f["kind"], "rule");
    assert_eq!(f["id"].as_str().unwrap().len(), 16);
    if let Some(holder) = info.get("holder") {
        assert!(
            f["processes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["pid"] == *holder),
            "{mode}: the finding must name the holder {holder}: {f:#}"
        );
    }
}

#[test]
fn listener_run_from_a_binary_in_tmp() {
    scenario("tmp-listener", &[], "NET-PRC-001");
}

#[test]
fn shell_with_a_tcp_socket_on_stdin() {
    scenario("revshell", &[], "NET-SHL-001");
}

#[test]
fn connection_to_an_untrusted_network_on_4444() {
    scenario("c2", &["addr add 203.0.113.10/32 dev lo"], "NET-NET-001");
    scenario("c2", &["addr add 203.0.113.10/32 dev lo"], "NET-C2-001");
}

#[test]
fn redis_port_on_all_interfaces() {
    scenario("redis", &[], "NET-EXP-002");
}

#[test]
fn packet_socket_with_bpf_from_an_unexpected_process() {
    scenario("bpf", &[], "NET-BPF-002");
}

#[test]
fn benign_namespace_is_clean() {
    if !require_root("benign_namespace_is_clean") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip("addr add 198.51.100.10/32 dev lo");
    // A real sshd on port 22.
    let key = ns.workdir().join("hostkey");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) is installed by .ci/run");
    assert!(st.success());
    std::fs::create_dir_all("/run/sshd").unwrap();
    let key_s = key.display().to_string();
    ns.spawn(&[
        "/usr/sbin/sshd",
        "-D",
        "-f",
        "/dev/null",
        "-h",
        &key_s,
        "-p",
        "22",
        "-o",
        "ListenAddress=0.0.0.0",
    ]);
    ns.start_scenario("benign");
    // Wait for sshd to listen.
    let mut listening = false;
    for _ in 0..50 {
        let out = ns.run(&["ss", "-Htln", "sport", "=", ":22"]);
        if !out.stdout.is_empty() {
            listening = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(listening, "sshd did not start");
    let (code, report) = scan(&ns, &["--fail-on", "low"]);
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}", f["rule_id"], f["message"]))
        .collect();
    assert!(
        findings.is_empty(),
        "benign namespace has findings:\n{}",
        findings.join("\n")
    );
    assert_eq!(code, 0);
    assert!(report["summary"]["sockets"].as_u64().unwrap() >= 6);
}

/// `scan --filter` (issue 16): an `ss` expression restricts the scanned sockets, and the
/// report's coverage names it. The C2 connection to 203.0.113.10:4444 is found through the
/// expression that selects it and not through one that does not.
#[test]
fn scan_filter_restricts_the_scanned_sockets() {
    if !require_root("scan_filter_restricts_the_scanned_sockets") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip("addr add 203.0.113.10/32 dev lo");
    let info = ns.start_scenario("c2");
    let inode = info["inode"].as_u64().unwrap();
    let (code, hit) = scan(&ns, &["--filter", "dport = :4444 and dst 203.0.113/24"]);
    assert_eq!(code, 1);
    assert!(rule_ids_for_inode(&hit, inode).contains(&"NET-C2-001".to_string()));
    assert_eq!(
        hit["coverage"]["filter"],
        "dport = :4444 and dst 203.0.113/24"
    );
    assert!(
        hit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["socket"].is_null() || f["socket"]["remote"]["port"] == 4444)
    );
    let (_, miss) = scan(&ns, &["--filter", "dport = :4445"]);
    assert!(rule_ids_for_inode(&miss, inode).is_empty(), "{miss:#}");
    let (_, all) = scan(&ns, &[]);
    assert!(all["coverage"].get("filter").is_none());
    assert!(
        miss["summary"]["sockets"].as_u64() < all["summary"]["sockets"].as_u64(),
        "{miss:#}"
    );
    let out = ns.run(&[BIN, "scan", "--filter", "dport = :4444 )"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--filter: unmatched ')'"));
}

/// Issue 19: a scan collects the extensions its rules read, and a rule reading one sees it. A
/// user rule on the receive memory (`socket.memory.rmem_alloc`, which the default pack does not
/// read) and one on a tcp_info counter (`socket.tcp.bytes_acked`, kept alone) both fire on a
/// live connection that sent 50,000 bytes its peer has not read; had the scan not asked the
/// kernel for what they read, both fields would be absent and neither would fire.
#[test]
fn scan_collects_the_extensions_its_rules_read() {
    if !require_root("scan_collects_the_extensions_its_rules_read") {
        return;
    }
    let mut ns = Netns::new();
    ns.service(&["bulk", "127.0.0.1", "7070"]);
    let dir = ns.workdir().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    let rule = |id: &str, when: &str| {
        let text = format!(
            "id: {id}\ntitle: t\nseverity: high\nstatus: stable\ntags: [T1041]\n\
             description: d\nwhen: {when}\nexamples:\n  match:\n    - socket: {{protocol: tcp, \
             local: 127.0.0.1:7070, tcp: {{bytes_acked: 50000}}}}\n  no_match:\n    - socket: \
             {{protocol: udp}}\n"
        );
        std::fs::write(dir.join(format!("{id}.yaml")), text).unwrap();
    };
    rule("USR-MEM-001", "{socket.memory.rmem_alloc: {gt: 0}}");
    rule(
        "USR-TCP-001",
        "{all: [{socket.kind: tcp}, {socket.tcp.bytes_acked: {ge: 50000}}]}",
    );
    let dir_s = dir.display().to_string();
    let (code, report) = scan(&ns, &["--rules", &dir_s]);
    assert_eq!(code, 1);
    // The accepted side holds the unread bytes (local port 7070); the connecting side had
    // them acknowledged (remote port 7070).
    let found = |id: &str, end: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == id && f["socket"][end]["port"] == 7070)
    };
    assert!(found("USR-MEM-001", "local"), "rmem_alloc: {report:#}");
    assert!(found("USR-TCP-001", "remote"), "bytes_acked: {report:#}");
}

/// Issue 19: a table dumped with a guess made before the rules answered is dumped again when
/// the answer needs more. The guess here asks for nothing and the answer, given once the dump
/// has started, for the socket memory: the connection's unread bytes must still show.
#[test]
fn a_dump_whose_guess_was_short_is_done_again() {
    use sockwarden::collect::{self, CollectOptions, Want, netns::Select};
    use sockwarden::model::{Extensions, Protocol};
    if !require_root("a_dump_whose_guess_was_short_is_done_again") {
        return;
    }
    let mut ns = Netns::new();
    ns.service(&["bulk", "127.0.0.1", "7070"]);
    let (want, promise) = Want::later(Some(Extensions::NONE));
    let opts = CollectOptions {
        extensions: want,
        attribution: false,
        crossview: false,
        netns: Select::One(ns.name.clone()),
        ..CollectOptions::full()
    };
    let answer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        promise.fulfil(Extensions::MEMORY);
    });
    let snap = collect::collect(&opts);
    answer.join().unwrap();
    let accepted = snap
        .sockets
        .iter()
        .find(|s| {
            s.protocol == Protocol::Tcp
                && s.local.is_some_and(|l| l.port == 7070)
                && s.remote.is_some_and(|r| r.port != 0)
        })
        .expect("the accepted connection");
    let m = accepted.memory.as_ref().expect("memory, dumped again");
    assert!(m.rmem_alloc > 0, "{m:?}");
}
