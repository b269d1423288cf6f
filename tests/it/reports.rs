//! Every output format over fixed snapshots with hostile strings: accepted by its real consumer
//! (the SARIF 2.1.0 schema, junitparser, promtool, node_exporter), identical bytes on every run,
//! and snapshot-tested (insta).

use std::process::Command;

use serde_json::Value;

use crate::common::{BIN, expect_exit};

const HOSTILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshots/hostile.json"
);
/// A rule that puts the hostile unix socket name into a finding. Relative (tests run in the
/// package root), because SARIF embeds a rule's source path and the snapshot must not depend on
/// where the repository is checked out.
const UNIX_RULE: &str = "tests/fixtures/rules";
const FORMATS: [&str; 7] = [
    "table",
    "json",
    "jsonl",
    "sarif",
    "junit",
    "prometheus",
    "html",
];

fn scan(format: &str, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "scan", "--from", HOSTILE, "--rules", UNIX_RULE, "--format", format,
        ])
        .args(extra)
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    expect_exit(&out, 1);
    String::from_utf8(out.stdout).expect("every format is UTF-8")
}

/// A tool the test needs: under CI=true its absence is a failure, locally a skip.
fn have(tool: &str, check: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(check)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tool} is missing; .ci/run installs it");
    }
    ok
}

#[test]
fn every_format_is_byte_identical_across_runs_and_snapshot_tested() {
    for f in FORMATS {
        let a = scan(f, &[]);
        let b = scan(f, &[]);
        assert_eq!(a, b, "{f} differs between two runs of the same input");
        insta::assert_snapshot!(format!("report_{f}"), a);
    }
}

#[test]
fn table_escapes_hostile_strings() {
    let t = scan("table", &[]);
    assert!(
        t.chars().all(|c| c == '\n' || !c.is_control()),
        "control character in the table"
    );
    assert!(!t.contains('\u{202e}'), "bidi override in the table");
    assert!(t.contains(r"evil\n\x1b[31mred"), "{t}");
    assert!(t.contains(r"/tmp/.x/k\xffw\x1b]0;pwn\x07"), "{t}");
    assert!(t.contains(r"\u{202e}txt.exe"), "{t}");
    assert!(
        t.contains(r"/tmp/.x/ctl\n[OK] all good\x1b[2J"),
        "the unix path, escaped: {t}"
    );
    // NO_COLOR and a pipe: no colour even when asked for a terminal width.
    assert!(!t.contains('\x1b'));
}

#[test]
fn json_and_jsonl_keep_exact_bytes_and_ecs_names() {
    let v: Value = serde_json::from_str(&scan("json", &[])).unwrap();
    let p = v["findings"][0]["processes"][0].clone();
    assert_eq!(p["comm"], "evil\n\u{1b}[31mred");
    assert!(
        p["exe"]["base64"].is_string(),
        "invalid UTF-8 kept as base64: {p}"
    );
    let lines = scan("jsonl", &[]);
    let n = lines.lines().count();
    assert_eq!(n, v["findings"].as_array().unwrap().len());
    for l in lines.lines() {
        let d: Value = serde_json::from_str(l).unwrap();
        for key in ["@timestamp", "event", "rule", "host", "message"] {
            assert!(d.get(key).is_some(), "{key} missing: {d}");
        }
        assert!(d["event"]["severity"].is_u64());
        assert!(d["rule"]["name"].is_string());
    }
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["process"]["pid"], 4444);
    assert!(
        first["process"]["executable"]
            .as_str()
            .unwrap()
            .starts_with("/tmp/.x/k")
    );
    assert_eq!(first["user"]["name"], "ro\u{7}ot");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    if !have("python3", &["-c", "import jsonschema"]) {
        return;
    }
    let sarif = scan("sarif", &[]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.sarif");
    std::fs::write(&f, &sarif).unwrap();
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sarif-schema-2.1.0.json"
    );
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema\n\
             s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))\n\
             jsonschema.Draft7Validator(s).validate(d)\n\
             r=d['runs'][0]; print(len(r['results']), len(r['tool']['driver']['rules']))",
            schema,
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF is invalid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&sarif).unwrap();
    let counts = String::from_utf8_lossy(&out.stdout);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        counts.split_whitespace().next().unwrap(),
        results.len().to_string()
    );
    for r in results {
        assert_eq!(
            r["partialFingerprints"]["sockwardenFindingId/v2"]
                .as_str()
                .unwrap()
                .len(),
            16
        );
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            r["ruleId"]
        );
    }
    let notes = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["descriptor"]["id"], "proc_meta_partial");
}

#[test]
fn junit_is_read_by_junitparser_with_the_expected_counts() {
    if !have("python3", &["-c", "import junitparser"]) {
        return;
    }
    let xml = scan("junit", &[]);
    let json: Value = serde_json::from_str(&scan("json", &[])).unwrap();
    let rules_hit: std::collections::BTreeSet<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("junit.xml");
    std::fs::write(&f, &xml).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom junitparser import JUnitXml\n\
             x=JUnitXml.fromfile(sys.argv[1])\n\
             t=f=0\n\
             for s in x:\n  t+=s.tests; f+=s.failures\n\
             print(t, f)",
        ])
        .arg(&f)
        .output()
        .unwrap();
    expect_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<usize> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let rules: usize = json["summary"]["rules"].as_u64().unwrap() as usize;
    assert_eq!(nums, vec![rules, rules_hit.len()], "tests and failures");
}

#[test]
fn prometheus_passes_promtool_and_node_exporter_serves_it() {
    if !have("promtool", &["--version"]) || !have("prometheus-node-exporter", &["--version"]) {
        return;
    }
    let prom = scan("prometheus", &[]);
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(prom.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // node_exporter's textfile collector on loopback, written by scan's own -o prometheus=FILE.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sockwarden.prom");
    let spec = format!("prometheus={}", file.display());
    let out = Command::new(BIN)
        .args(["scan", "--from", HOSTILE, "-o", &spec])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut exporter = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--collector.textfile.directory={}",
            dir.path().display()
        ))
        .args(["--collector.disable-defaults", "--collector.textfile"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut body = String::new();
    for _ in 0..50 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .unwrap();
            let _ = s.read_to_string(&mut body);
            if body.contains("sockwarden_") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = exporter.kill();
    let _ = exporter.wait();
    let json: Value = serde_json::from_str(&scan("json", &[])).unwrap();
    let crit = json["summary"]["by_severity"]["critical"].as_u64().unwrap();
    assert!(crit > 0);
    assert!(
        body.lines().any(
            |l| l == format!("sockwarden_findings_by_severity{{severity=\"critical\"}} {crit}")
        ),
        "node_exporter did not serve the critical count:\n{body}"
    );
    assert!(
        body.contains(
            "sockwarden_findings{id=\"NET-BPF-001\",kind=\"rule\",severity=\"critical\"} 1"
        ),
        "{body}"
    );
    assert!(body.contains("sockwarden_scan_success 1"));
    assert!(
        body.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "textfile parse error:\n{body}"
    );
}

/// Issue 13: a finding names the network namespace its socket is in and the container of its
/// holder, in every format that carries text or structure (a snapshot of several namespaces,
/// as `--all-netns` makes; single-namespace reports keep their bytes, see the snapshot tests).
#[test]
fn findings_name_their_network_namespace_and_container() {
    const OTHER: u64 = 4026532999;
    const ID: &str = "31d7c134c569561af6a4949f583adb34b6569f2300ad206debd0036901a5c1de";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshots/web-after.json"
    );
    let mut snap: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let host = snap["meta"]["netns"].as_u64().unwrap();
    // The backdoor (pid 4444) runs in a docker container with its own namespace; the rest on
    // the host.
    for s in snap["sockets"].as_array_mut().unwrap() {
        let in_container =
            s["owners"][0]["pid"] == 4444 && s["owners"].as_array().unwrap().len() == 1;
        s["netns"] = (if in_container { OTHER } else { host }).into();
    }
    for p in snap["processes"].as_array_mut().unwrap() {
        if p["pid"] == 4444 {
            p["container"] = serde_json::json!({"runtime": "docker", "id": ID});
            p["netns"] = OTHER.into();
        }
    }
    // nginx on the host calls out to an untrusted network (NET-NET-001): sshd's accepted
    // connection no longer raises it since findings know their direction (issue 15).
    let mut call = snap["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["owners"][0]["pid"] == 1001)
        .unwrap()
        .clone();
    call["owners"] = serde_json::json!([{"pid": 2000, "fd": 9}]);
    call["local"] = serde_json::json!({"address": "10.0.0.5", "port": 43000});
    call["remote"] = serde_json::json!({"address": "203.0.113.80", "port": 443});
    call["inode"] = 990001.into();
    call["cookie"] = 990001.into();
    snap["sockets"].as_array_mut().unwrap().push(call);
    snap["namespaces"] = serde_json::json!([
        {"inode": host, "current": true, "pids": [1, 1000, 1001, 2000]},
        {"inode": OTHER, "pids": [4444], "containers": [format!("docker:{ID}")]},
    ]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("multi.json");
    std::fs::write(&file, serde_json::to_vec(&snap).unwrap()).unwrap();
    let run = |format: &str| -> String {
        let out = Command::new(BIN)
            .args(["scan", "--from"])
            .arg(&file)
            .args(["--format", format])
            .env_remove("COLUMNS")
            .output()
            .unwrap();
        expect_exit(&out, 1);
        String::from_utf8(out.stdout).unwrap()
    };
    let ns = format!("ns:{OTHER}");
    let v: Value = serde_json::from_str(&run("json")).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let backdoor: Vec<&Value> = findings
        .iter()
        .filter(|f| f["processes"][0]["pid"] == 4444 && f["socket"]["local"]["port"] == 4444)
        .collect();
    assert!(
        !backdoor.is_empty(),
        "a rule fires on the :4444 listener: {v}"
    );
    for f in &backdoor {
        assert_eq!(f["socket"]["netns"], ns.as_str(), "{f}");
        assert_eq!(f["socket"]["netns_inode"], OTHER, "{f}");
        let m = f["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("in netns {ns}")) && m.contains("container docker 31d7c134c569"),
            "{m}"
        );
    }
    let on_host = findings
        .iter()
        .find(|f| f["processes"][0]["pid"] == 2000)
        .expect("a finding on nginx's connection");
    assert_eq!(on_host["socket"]["netns"], "host");
    assert!(
        on_host["message"]
            .as_str()
            .unwrap()
            .ends_with(" in netns host")
    );
    assert!(!on_host["message"].as_str().unwrap().contains("container"));

    let table = run("table");
    assert!(
        table.contains(&format!("0.0.0.0:4444 -> 0.0.0.0:* netns {ns}")),
        "{table}"
    );
    assert!(
        table.contains("container docker 31d7c134c569 cmd"),
        "{table}"
    );

    let jsonl = run("jsonl");
    let line: Value = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["destination"]["port"] == 4444) // a listener: where connections arrive
        .unwrap();
    assert_eq!(line["container"]["id"], ID);
    assert_eq!(line["container"]["runtime"], "docker");
    assert_eq!(line["sockwarden"]["socket"]["netns"], ns.as_str());

    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    let names: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["logicalLocations"][0]["name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        names.contains(&format!("netns/{ns}/tcp/0.0.0.0:4444").as_str()),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("netns/")), "{names:?}");

    let junit = run("junit");
    assert!(junit.contains(&format!("in netns {ns}")), "{junit}");
}
