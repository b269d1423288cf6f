//! Baselines and drift on live namespaces, integrity, atomic updates, broken baselines, diff.

use std::process::Command;

use serde_json::Value;

use crate::common::{BIN, Netns, expect_exit, require_root};

const BEFORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshots/web-before.json"
);
const AFTER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshots/web-after.json"
);

/// `baseline create --from SNAPSHOT -o PATH`, which must succeed.
fn create_from(snapshot: &str, path: &std::path::Path) {
    let out = Command::new(BIN)
        .args(["baseline", "create", "--from", snapshot, "-o"])
        .arg(path)
        .output()
        .unwrap();
    expect_exit(&out, 0);
}

/// `scan --baseline` in the namespace, rules off (drift only): (exit code, categories).
fn drift(ns: &Netns, baseline: &str) -> (i32, Vec<String>, Value) {
    let out = ns.run(&[
        BIN,
        "scan",
        "--no-default-rules",
        "--format",
        "json",
        "--baseline",
        baseline,
    ]);
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut cats: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "drift");
            f["category"].as_str().unwrap().to_string()
        })
        .collect();
    cats.sort();
    (code, cats, v)
}

/// The services of the "golden" state: a loopback-only admin port, a public web port, a client
/// connected to a peer, all on addresses the test put in the namespace.
fn golden(ns: &mut Netns, addr: &str, peer: &str) -> Vec<u32> {
    ns.ip(&format!("addr add {addr}/32 dev lo"));
    ns.ip(&format!("addr add {peer}/32 dev lo"));
    vec![
        ns.service(&["listen", "127.0.0.1", "7001"]),
        ns.service(&["listen", addr, "7002"]),
        ns.service(&["listen", peer, "7443"]),
        ns.service(&["connect", peer, "7443"]),
    ]
}

#[test]
fn drift_categories_update_and_fleet_classes() {
    if !require_root("drift_categories_update_and_fleet_classes") {
        return;
    }
    let mut ns = Netns::new();
    let pids = golden(&mut ns, "192.0.2.10", "198.51.100.20");
    let base = ns.workdir().join("base.yaml");
    let base_s = base.display().to_string();
    let out = ns.run(&[BIN, "baseline", "create", "-o", &base_s]);
    expect_exit(&out, 0);
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.contains("address: loopback, port: 7001"), "{text}");
    assert!(
        text.contains("network: 198.51.100.20, port: 7443"),
        "{text}"
    );
    assert!(text.contains("protocol: tcp, port: 7443"), "{text}");
    let (code, cats, _) = drift(&ns, &base_s);
    assert_eq!(
        (code, cats.clone()),
        (0, vec![]),
        "no drift right after create: {cats:?}"
    );

    // A new listener.
    let extra = ns.service(&["listen", "0.0.0.0", "7777"]);
    let (code, cats, _) = drift(&ns, &base_s);
    assert_eq!(code, 1);
    assert_eq!(cats, vec!["new_listener"]);
    ns.kill(extra);

    // The loopback admin port rebinds to all interfaces.
    ns.kill(pids[0]);
    let rebound = ns.service(&["listen", "0.0.0.0", "7001"]);
    let (code, cats, v) = drift(&ns, &base_s);
    assert_eq!((code, cats), (1, vec!["listener_rebound".to_string()]));
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "high");
    assert!(f["message"].as_str().unwrap().contains("loopback"), "{f}");
    ns.kill(rebound);
    ns.service(&["listen", "127.0.0.1", "7001"]);

    // Another executable takes over the web port.
    ns.kill(pids[1]);
    let impostor = ns.workdir().join("httpd");
    std::fs::copy("/bin/sleep", &impostor).unwrap();
    let owner = ns.service(&[
        "listen-exec",
        "192.0.2.10",
        "7002",
        impostor.to_str().unwrap(),
    ]);
    let (code, cats, _) = drift(&ns, &base_s);
    assert_eq!(
        (code, cats),
        (1, vec!["listener_owner_changed".to_string()])
    );
    ns.kill(owner);

    // The web service stops.
    let (code, cats, _) = drift(&ns, &base_s);
    assert_eq!((code, cats), (1, vec!["listener_gone".to_string()]));
    ns.service(&["listen", "192.0.2.10", "7002"]);

    // A connection to a new network.
    ns.ip("addr add 203.0.113.30/32 dev lo");
    ns.service(&["listen", "203.0.113.30", "8443"]);
    ns.service(&["connect", "203.0.113.30", "8443"]);
    let (code, cats, v) = drift(&ns, &base_s);
    assert_eq!(code, 1);
    assert!(cats.contains(&"new_outbound".to_string()), "{cats:?}");
    assert!(cats.contains(&"new_listener".to_string()), "{cats:?}");
    assert!(cats.contains(&"new_inbound".to_string()), "{cats:?}");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| i.len() == 16));

    // Accept everything: the scan is clean, and the file records who accepted what.
    let out = ns.run(&[BIN, "baseline", "update", &base_s, "--accept", "all"]);
    expect_exit(&out, 0);
    let (code, cats, _) = drift(&ns, &base_s);
    assert_eq!((code, cats), (0, vec![]));
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(
        text.contains("accepted:") && text.contains("category: new_outbound"),
        "{text}"
    );
    assert!(
        text.contains("address: loopback, port: 7001"),
        "update kept the untouched entries: {text}"
    );

    // A second host built from the same image: other addresses, other pids. Against a baseline
    // written with address classes, nothing drifts.
    let fleet = ns.workdir().join("fleet.yaml");
    let fleet_s = fleet.display().to_string();
    let mut ns1 = Netns::new();
    golden(&mut ns1, "192.0.2.10", "198.51.100.20");
    let out = ns1.run(&[BIN, "baseline", "create", "--classes", "-o", &fleet_s]);
    assert!(out.status.success());
    let mut ns2 = Netns::new();
    golden(&mut ns2, "192.0.2.77", "198.51.100.99");
    let (code, cats, _) = drift(&ns2, &fleet_s);
    assert_eq!(
        (code, cats.clone()),
        (0, vec![]),
        "{cats:?}\n{}",
        std::fs::read_to_string(&fleet).unwrap()
    );
}

#[test]
fn same_snapshot_gives_byte_identical_baselines() {
    let snap = BEFORE;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    for p in [&a, &b] {
        create_from(snap, p);
    }
    let ta = std::fs::read(&a).unwrap();
    assert_eq!(ta, std::fs::read(&b).unwrap());
    assert!(
        String::from_utf8(ta)
            .unwrap()
            .contains("exe: /usr/sbin/sshd")
    );
}

#[test]
fn a_baseline_edited_after_pinning_is_refused() {
    let snap = BEFORE;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    create_from(snap, &base);
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&base).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let scan = |extra: &[&str]| {
        Command::new(BIN)
            .args(["scan", "--no-default-rules", "--from", snap, "--baseline"])
            .arg(&base)
            .args(extra)
            .output()
            .unwrap()
    };
    assert_eq!(scan(&["--baseline-sha256", &digest]).status.code(), Some(0));
    // An intruder allows their listener.
    let mut text = std::fs::read_to_string(&base).unwrap();
    text = text.replace(
        "listeners:\n",
        "listeners:\n  - {protocol: tcp, address: any, port: 4444, exe: \"**\"}\n",
    );
    std::fs::write(&base, text).unwrap();
    let out = scan(&["--baseline-sha256", &digest]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("changed after it was pinned"), "{err}");
    // The same with a FILE.sha256 beside it.
    let mut side = base.as_os_str().to_owned();
    side.push(".sha256");
    std::fs::write(&side, format!("{digest}  base.yaml\n")).unwrap();
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".sha256"));
}

#[test]
fn kill_9_during_update_leaves_the_old_file_whole() {
    let before = BEFORE;
    let after = AFTER;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    create_from(before, &base);
    let old = std::fs::read(&base).unwrap();
    // Kill the update at many moments: the file is always either the old or the new one.
    let mut saw_new = false;
    for delay_us in (0..4000).step_by(250) {
        std::fs::write(&base, &old).unwrap();
        let mut child = Command::new(BIN)
            .args(["baseline", "update"])
            .arg(&base)
            .args(["--from", after, "--accept", "all"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_us));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = std::fs::read(&base).unwrap();
        let text = String::from_utf8(now.clone()).unwrap();
        if now != old {
            assert!(
                text.contains("accepted:") && text.trim_end().ends_with('}'),
                "torn file:\n{text}"
            );
            saw_new = true;
        }
        // Parseable either way.
        let st = Command::new(BIN)
            .args(["scan", "--no-default-rules", "--from", before, "--baseline"])
            .arg(&base)
            .output()
            .unwrap();
        assert!(
            st.status.code() == Some(0) || st.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    // A full run completes and replaces the file.
    std::fs::write(&base, &old).unwrap();
    assert!(
        Command::new(BIN)
            .args(["baseline", "update"])
            .arg(&base)
            .args(["--from", after, "--accept", "all"])
            .status()
            .unwrap()
            .success()
    );
    assert_ne!(std::fs::read(&base).unwrap(), old);
    // A killed writer may leave its hidden temporary file behind (src/output.rs links it as
    // `.base.yaml.RANDOM.tmp`, then renames it over the target), never anything else.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "base.yaml" || (name.starts_with(".base.yaml.") && name.ends_with(".tmp")),
            "{name}"
        );
    }
    let _ = saw_new;
}

/// Every file in tests/fixtures/broken_baselines is refused with exit 2 at the line:col its first
/// line names.
#[test]
fn broken_baselines_are_refused_with_their_place() {
    let snap = BEFORE;
    crate::common::assert_located_errors("broken_baselines", 10, |f| {
        Command::new(BIN)
            .args(["scan", "--no-default-rules", "--from", snap, "--baseline"])
            .arg(f)
            .output()
            .unwrap()
    });
}

#[test]
fn diff_of_two_recorded_snapshots() {
    let before = BEFORE;
    let after = AFTER;
    let out = Command::new(BIN)
        .args(["diff", before, after, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = |a: &str, b: &str| -> Vec<String> {
        v[a][b]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        list("listeners", "added"),
        vec!["tcp 0.0.0.0:4444 [/tmp/.x/kworkerd (root)]"]
    );
    assert_eq!(
        list("listeners", "removed"),
        vec!["tcp 127.0.0.1:8080 [/usr/bin/python3.11 (www-data)]"]
    );
    assert_eq!(
        list("listeners", "changed"),
        vec![
            "tcp 0.0.0.0:80: [/usr/sbin/nginx (root)] -> [/tmp/.x/kworkerd (root), /usr/sbin/nginx (root)]"
        ]
    );
    assert_eq!(
        list("connections", "added"),
        vec!["tcp 10.0.0.5:41000 -> 203.0.113.66:443 [/tmp/.x/kworkerd (root)]"]
    );
    assert!(list("connections", "removed").is_empty());
    assert_eq!(
        list("processes", "added"),
        vec!["pid 4444 started 900 /tmp/.x/kworkerd [kworkerd]"]
    );
    assert_eq!(
        list("processes", "removed"),
        vec!["pid 3000 started 300 /usr/bin/python3.11 [python3 app.py]"]
    );
    let same = Command::new(BIN)
        .args(["diff", before, before])
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no differences"));
}

/// The examples in baselines/ parse and are accepted by scan.
#[test]
fn example_baselines_are_valid() {
    let snap = BEFORE;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        let out = Command::new(BIN)
            .args([
                "scan",
                "--no-default-rules",
                "--format",
                "json",
                "--from",
                snap,
                "--baseline",
            ])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        n += 1;
    }
    assert!(n >= 1);
}

/// With a baseline, a known socket's non-critical rule findings are left out, but a critical one
/// stays; --exit-bits sets 8 for it.
#[test]
fn a_baseline_never_hides_a_critical_rule_finding() {
    let after = AFTER;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("all.yaml");
    // The baseline accepts everything in the post-incident state, the implant included.
    create_from(after, &base);
    let out = Command::new(BIN)
        .args([
            "scan",
            "--format",
            "json",
            "--exit-bits",
            "--from",
            after,
            "--baseline",
        ])
        .arg(&base)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["kind"] == "rule"),
        "no drift against its own baseline"
    );
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["severity"] == "critical"),
        "{findings:#?}"
    );
    assert!(
        findings.iter().any(|f| f["rule_id"] == "NET-PRC-001"),
        "the /tmp listener stays"
    );
    assert_eq!(out.status.code(), Some(8));
    // Without the baseline, lower findings show too.
    let out = Command::new(BIN)
        .args(["scan", "--format", "json", "--from", after])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] != "critical")
    );
}
