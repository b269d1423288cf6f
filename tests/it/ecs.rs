//! JSON Lines events against the Elastic Common Schema (issue 14): every field is an ECS field or
//! under `sockwarden.*`, with a value of the field's type, arrays only where ECS normalizes to an
//! array, categorisation values from ECS's allowed lists and event types that the event's
//! categories expect. The field list is ECS's own (tests/fixtures/ecs/, reduced from
//! ecs_flat.yml).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::Command;

use serde_json::Value;

use crate::common::{BIN, expect_exit};

fn ecs() -> &'static Value {
    static ECS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    ECS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ecs/ecs_fields.json"
        );
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["fields"].clone()
    })
}

/// Whether `v` is a value of ECS type `ty`.
fn of_type(ty: &str, v: &Value) -> bool {
    match ty {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => v.is_string(),
        "long" | "integer" | "short" | "byte" => v.is_i64() || v.is_u64(),
        "unsigned_long" => v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "ip" => v.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
        "date" => v.as_str().is_some_and(|s| {
            s.len() >= 20 && s.as_bytes()[10] == b'T' && (s.ends_with('Z') || s.contains('+'))
        }),
        "object" | "flattened" | "nested" => v.is_object(),
        _ => false,
    }
}

/// Every problem of one event: `path: what`.
pub fn problems(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("", doc, &mut out);
    categorisation(doc, &mut out);
    out
}

fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        out.push(format!("{prefix}: not an object"));
        return;
    };
    for (k, child) in obj {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if path == "sockwarden" {
            continue; // the custom namespace: docs/report.md describes it
        }
        match ecs().get(&path) {
            Some(def) => field(&path, def, child, out),
            None if child.is_object() => walk(&path, child, out),
            None => out.push(format!("{path}: not an ECS field")),
        }
    }
}

fn field(path: &str, def: &Value, v: &Value, out: &mut Vec<String>) {
    let ty = def["type"].as_str().unwrap();
    let array = def["normalize"]
        .as_array()
        .is_some_and(|n| n.iter().any(|x| x == "array"));
    let values: Vec<&Value> = match v {
        Value::Array(items) if array => items.iter().collect(),
        Value::Array(_) => {
            out.push(format!(
                "{path}: an array, but ECS does not normalize it to one"
            ));
            return;
        }
        one => vec![one],
    };
    if ty == "object" && !v.is_object() {
        out.push(format!("{path}: expected an object"));
    }
    for x in values {
        if x.is_object() && ty != "object" && ty != "flattened" && ty != "nested" {
            // An ECS leaf written as an object: its children are not ECS fields.
            walk(path, x, out);
            out.push(format!("{path}: an object where ECS has a {ty}"));
        } else if !of_type(ty, x) {
            out.push(format!("{path}: {x} is not of ECS type {ty}"));
        }
        if let (Some(allowed), Some(s)) = (def["allowed_values"].as_object(), x.as_str())
            && !allowed.contains_key(s)
        {
            out.push(format!("{path}: `{s}` is not an allowed value"));
        }
        if let (Some(expected), Some(s)) = (def["expected_values"].as_array(), x.as_str())
            && !expected.iter().any(|e| e == s)
        {
            out.push(format!("{path}: `{s}` is not an expected value"));
        }
    }
}

/// `event.type` values must be among those `event.category`'s values expect; `ecs.version` is
/// required.
fn categorisation(doc: &Value, out: &mut Vec<String>) {
    if !doc["ecs"]["version"].is_string() {
        out.push("ecs.version: missing".into());
    }
    let cats = ecs()["event.category"]["allowed_values"]
        .as_object()
        .unwrap();
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let expected: BTreeSet<String> = strings(&doc["event"]["category"])
        .iter()
        .filter_map(|c| cats.get(c))
        .flat_map(&strings)
        .collect();
    for t in strings(&doc["event"]["type"]) {
        if !expected.contains(&t) {
            out.push(format!(
                "event.type: `{t}` is not expected for event.category {}",
                doc["event"]["category"]
            ));
        }
    }
}

fn jsonl(args: &[&str]) -> Vec<Value> {
    let out = Command::new(BIN)
        .args(["scan", "--no-config", "--format", "jsonl"])
        .args(args)
        .output()
        .unwrap();
    expect_exit(&out, 1);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_conforms(events: &[Value]) {
    assert!(!events.is_empty());
    let mut all = Vec::new();
    for e in events {
        for p in problems(e) {
            all.push(format!("{p}   in {}", e["event"]["id"]));
        }
    }
    assert!(
        all.is_empty(),
        "{} ECS problems:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn the_checker_catches_what_it_must() {
    let good = serde_json::json!({
        "@timestamp": "2026-12-06T10:00:00Z", "ecs": {"version": "8.11.0"},
        "event": {"kind": "alert", "category": ["network"], "type": ["connection"]},
        "source": {"ip": "192.0.2.1", "port": 22}, "sockwarden": {"anything": [1, {"x": 2}]}
    });
    assert_eq!(problems(&good), Vec::<String>::new());
    for (bad, want) in [
        (
            serde_json::json!({"source": {"ip": "not-an-ip"}}),
            "source.ip",
        ),
        (serde_json::json!({"source": {"port": "22"}}), "source.port"),
        (
            serde_json::json!({"made": {"up": 1}}),
            "made.up: not an ECS field",
        ),
        (
            serde_json::json!({"event": {"kind": "finding"}}),
            "event.kind: `finding`",
        ),
        (
            serde_json::json!({"host": {"hostname": ["a", "b"]}}),
            "host.hostname: an array",
        ),
        (
            serde_json::json!({"event": {"category": ["network"], "type": ["creation"]}}),
            "event.type: `creation` is not expected",
        ),
        (serde_json::json!({"rule": {"id": 7}}), "rule.id"),
        (serde_json::json!({}), "ecs.version: missing"),
    ] {
        let p = problems(&bad);
        assert!(p.iter().any(|x| x.contains(want)), "{bad}: {p:?}");
    }
}

#[test]
fn jsonl_findings_conform_to_ecs() {
    // Rule findings with hostile strings, unix and packet sockets.
    assert_conforms(&jsonl(&[
        "--from",
        "tests/fixtures/snapshots/hostile.json",
        "--rules",
        "tests/fixtures/rules",
    ]));
    // Drift findings, gone listeners (no socket) included.
    assert_conforms(&jsonl(&[
        "--from",
        "tests/fixtures/snapshots/web-after.json",
        "--baseline",
        "baselines/web-golden.yaml",
    ]));
}

#[test]
fn jsonl_puts_each_end_where_ecs_says() {
    let events = jsonl(&[
        "--from",
        "tests/fixtures/snapshots/hostile.json",
        "--rules",
        "tests/fixtures/rules",
    ]);
    let (mut listeners, mut connections) = (0, 0);
    for e in &events {
        if e["sockwarden"]["socket"].is_null() {
            continue;
        }
        // ATT&CK tags: techniques in threat.technique.id, sub-techniques (T1059.004) also in
        // threat.technique.subtechnique.id, each with its parent technique.
        let tags: Vec<String> = e["sockwarden"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        if !tags.is_empty() {
            assert_eq!(e["threat"]["framework"], "MITRE ATT&CK", "{e}");
            let techniques: BTreeSet<&str> =
                tags.iter().map(|t| t.split('.').next().unwrap()).collect();
            let subs: Vec<&str> = tags
                .iter()
                .filter(|t| t.contains('.'))
                .map(String::as_str)
                .collect();
            assert_eq!(
                e["threat"]["technique"]["id"],
                serde_json::json!(techniques),
                "{e}"
            );
            if !subs.is_empty() {
                assert_eq!(
                    e["threat"]["technique"]["subtechnique"]["id"],
                    serde_json::json!(subs),
                    "{e}"
                );
            }
            assert!(
                e["rule"].get("reference").is_none(),
                "ids are not a reference URL: {e}"
            );
        }
        let socket = &e["sockwarden"]["socket"];
        if socket["direction"] == "listening" {
            // A listener: the local end is where connections arrive; no made-up peer.
            listeners += 1;
            assert_eq!(e["destination"]["port"], socket["local"]["port"], "{e}");
            assert!(e.get("source").is_none(), "{e}");
            assert_eq!(e["network"]["direction"], "ingress", "{e}");
        }
        if socket["direction"] == "outbound" {
            connections += 1;
            assert_eq!(e["source"]["port"], socket["local"]["port"], "{e}");
            assert_eq!(e["destination"]["port"], socket["remote"]["port"], "{e}");
            assert_eq!(e["network"]["direction"], "egress", "{e}");
            assert_eq!(e["event"]["type"], serde_json::json!(["connection"]), "{e}");
        }
        if socket["direction"] == "inbound" {
            connections += 1;
            assert_eq!(e["source"]["port"], socket["remote"]["port"], "{e}");
            assert_eq!(e["destination"]["port"], socket["local"]["port"], "{e}");
            assert_eq!(e["network"]["direction"], "ingress", "{e}");
        }
    }
    assert!(
        listeners > 0 && connections > 0,
        "the fixture has both kinds"
    );
}

/// Records the snapshot saved in `fixture` as a run of the history `db` (the library's
/// recorder: `--record` records only live scans).
fn record_fixture(db: &std::path::Path, fixture: &str) {
    let snap: sockwarden::model::Snapshot =
        serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    sockwarden::history::record(db, &snap).unwrap();
}

/// `scan --from FILE --since-last --format jsonl` against the history `db`: every line, and the
/// change events alone.
fn since_last_jsonl(db: &std::path::Path, from: &str) -> (Vec<Value>, Vec<Value>) {
    let out = Command::new(BIN)
        .arg("--history")
        .arg(db)
        .args(["scan", "--no-config", "--since-last", "--format", "jsonl"])
        .args(["--from", from, "--rules", "tests/fixtures/rules"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let changes = all
        .iter()
        .filter(|e| e["event"]["dataset"] == "sockwarden.change")
        .cloned()
        .collect();
    (all, changes)
}

/// The histories the change-event tests scan against, each with the snapshot scanned: none
/// (everything in `hostile.json` is added); `hostile.json` recorded (its hostile processes are
/// removed, its connections change holders); `web-before.json` recorded, then scanning
/// `web-after.json`, and the other way round (listeners, connections and processes added,
/// removed and changed).
fn change_cases(dir: &std::path::Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let none = dir.join("none.db");
    let hostile = dir.join("hostile.db");
    record_fixture(&hostile, "tests/fixtures/snapshots/hostile.json");
    let before = dir.join("before.db");
    record_fixture(&before, "tests/fixtures/snapshots/web-before.json");
    let after = dir.join("after.db");
    record_fixture(&after, "tests/fixtures/snapshots/web-after.json");
    vec![
        (none, "tests/fixtures/snapshots/hostile.json"),
        (hostile, "tests/fixtures/snapshots/web-after.json"),
        (before, "tests/fixtures/snapshots/web-after.json"),
        (after, "tests/fixtures/snapshots/web-before.json"),
    ]
}

/// Every change event of `scan --since-last --format jsonl` passes the ECS check, hostile
/// process names and command lines included, and each kind of change is among them.
#[test]
fn jsonl_change_events_conform_to_ecs() {
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = BTreeSet::new();
    for (db, from) in change_cases(dir.path()) {
        let (all, changes) = since_last_jsonl(&db, from);
        assert_conforms(&changes);
        assert_conforms(&all);
        // Findings say whether the previous run had them.
        for f in all.iter().filter(|e| e["event"]["kind"] == "alert") {
            let mark = &f["sockwarden"]["since_last"];
            assert!(mark == "new" || mark == "still_present", "{f}");
            if db.ends_with("none.db") {
                assert_eq!(mark, "new", "no run yet: every finding is new");
            }
        }
        for e in &changes {
            let action = e["event"]["action"].as_str().unwrap().to_owned();
            let change = &e["sockwarden"]["change"];
            assert_eq!(
                action,
                format!(
                    "{}-{}",
                    change["part"].as_str().unwrap(),
                    change["action"].as_str().unwrap()
                )
            );
            assert_eq!(e["event"]["kind"], "event", "{e}");
            let ty = e["event"]["type"].as_array().unwrap();
            let want = match change["action"].as_str().unwrap() {
                "added" => "start",
                "removed" => "end",
                _ => "change",
            };
            assert_eq!(ty.last().unwrap(), want, "{e}");
            if change["part"] == "listener" {
                // A listener is where connections arrive: a destination with no source.
                let local = &change["socket"]["local"];
                assert_eq!(e["destination"]["port"], local["port"], "{e}");
                assert!(e.get("source").is_none(), "{e}");
                assert_eq!(e["network"]["direction"], "ingress", "{e}");
            }
            if change["part"] == "process" {
                assert_eq!(e["process"]["pid"], change["process"]["pid"], "{e}");
            } else if let Some(p) = change["processes"].get(0) {
                assert_eq!(e["process"]["pid"], p["pid"], "{e}");
            }
            kinds.insert(action);
        }
    }
    for want in [
        "listener-added",
        "listener-removed",
        "connection-added",
        "connection-removed",
        "process-added",
        "process-removed",
    ] {
        assert!(kinds.contains(want), "no {want} event among {kinds:?}");
    }
    assert!(
        kinds.iter().any(|k| k.ends_with("-changed")),
        "no change of holders or process among {kinds:?}"
    );
}

/// The change events are exactly `sockwarden diff` of the previous run and the scanned
/// snapshot: one event per line of the diff, each with the diff's line, and nothing else; the
/// same scan twice writes the same bytes, and every event id is distinct.
#[test]
fn jsonl_change_events_equal_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    for (db, from) in change_cases(dir.path()).into_iter().skip(1) {
        let (_, changes) = since_last_jsonl(&db, from);
        let out = Command::new(BIN)
            .arg("--history")
            .arg(&db)
            .args(["diff", "@now", from, "--format", "json"])
            .output()
            .unwrap();
        expect_exit(&out, 1);
        let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut from_events = serde_json::json!({});
        for part in ["listeners", "connections", "processes"] {
            from_events[part] = serde_json::json!({"added": [], "removed": [], "changed": []});
        }
        for e in &changes {
            let c = &e["sockwarden"]["change"];
            let part = match c["part"].as_str().unwrap() {
                "listener" => "listeners",
                "connection" => "connections",
                _ => "processes",
            };
            let action = c["action"].as_str().unwrap();
            from_events[part][action]
                .as_array_mut()
                .unwrap()
                .push(c["line"].clone());
        }
        for part in ["listeners", "connections", "processes"] {
            assert_eq!(from_events[part], diff[part], "{from}: {part}");
        }
        let ids: BTreeSet<&str> = changes
            .iter()
            .map(|e| e["event"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), changes.len(), "event ids are distinct");
        assert_eq!(since_last_jsonl(&db, from).1, changes, "deterministic");
    }
}
