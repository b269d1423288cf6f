//! The published JSON Schemas (issue 20, docs/schema.md) against a real validator, Python's
//! `jsonschema` (Draft 2020-12): the schemas are valid schemas; the copies under docs/schema/
//! and the field tables of the Markdown pages are what the code generates; every fixture, every
//! shipped rule, lists, baseline and configuration file, every marked example of the docs, and
//! the output of every command in every format that has a schema (over the fixtures and over a
//! live namespace) validates; and a broken document of each kind fails, naming the broken field.
//!
//! Python runs once per test, on a batch of documents, to keep the tests fast.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sockwarden::schema::{SchemaName, markdown_table};

use crate::common::{BIN, Netns, RecordedScans, expect_exit, require_root};

/// The regeneration switch: `UPDATE_SCHEMAS=1 cargo test --test it schema` rewrites
/// docs/schema/ and the field tables of the pages instead of comparing them.
const UPDATE: &str = "UPDATE_SCHEMAS";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The pages whose field tables are generated from schemas, and which schemas.
const PAGES: [(&str, &[SchemaName]); 6] = [
    ("docs/snapshot.md", &[SchemaName::Snapshot]),
    (
        "docs/report.md",
        &[SchemaName::Report, SchemaName::Jsonl, SchemaName::Diff],
    ),
    ("docs/baseline.md", &[SchemaName::Baseline]),
    (
        "docs/rules-language.md",
        &[SchemaName::Rule, SchemaName::Lists],
    ),
    ("docs/operations.md", &[SchemaName::Config]),
    (
        "docs/history.md",
        &[SchemaName::HistoryRuns, SchemaName::HistoryTimeline],
    ),
];

/// One document to validate: the schema, a name for messages, the document.
struct Doc {
    schema: SchemaName,
    name: String,
    doc: Value,
}

fn doc(schema: SchemaName, name: impl Into<String>, doc: Value) -> Doc {
    Doc {
        schema,
        name: name.into(),
        doc,
    }
}

/// What the validator said of one document: every error's path and message (with the errors
/// of the branches of an `anyOf`/`oneOf`), empty when it is valid.
type Verdict = Vec<String>;

/// Checks every schema against the 2020-12 meta-schema and validates `docs`, in one run of
/// Python; returns each document's errors, in order. Panics when a schema is invalid.
fn validate(docs: &[Doc]) -> Vec<Verdict> {
    if !python_has_jsonschema() {
        return Vec::new();
    }
    let schemas: serde_json::Map<String, Value> = SchemaName::ALL
        .iter()
        .map(|n| (n.name().to_string(), n.schema()))
        .collect();
    let items: Vec<Value> = docs
        .iter()
        .map(|d| json!({"schema": d.schema.name(), "doc": d.doc}))
        .collect();
    let batch = json!({"schemas": schemas, "docs": items});
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("batch.json");
    std::fs::write(&f, serde_json::to_vec(&batch).unwrap()).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             V = jsonschema.Draft202012Validator\n\
             b = json.load(open(sys.argv[1]))\n\
             for n, s in b['schemas'].items():\n\
             \x20   V.check_schema(s)\n\
             vs = {n: V(s) for n, s in b['schemas'].items()}\n\
             def flat(e):\n\
             \x20   yield '/'.join(str(p) for p in e.absolute_path) + ': ' + e.message\n\
             \x20   for c in e.context or []:\n\
             \x20       yield from flat(c)\n\
             out = []\n\
             for d in b['docs']:\n\
             \x20   out.append(sorted(m for e in vs[d['schema']].iter_errors(d['doc']) for m in flat(e)))\n\
             print(json.dumps(out))",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the validator failed (an invalid schema?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Under CI=true a missing validator is a failure (ci/deps.sh installs it); locally a skip.
fn python_has_jsonschema() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("python3 -c 'import jsonschema' failed; ci/deps.sh installs it");
    }
    ok
}

/// Every document valid; the message lists each invalid one with its errors.
fn assert_all_valid(docs: &[Doc]) {
    let verdicts = validate(docs);
    let bad: Vec<String> = docs
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| !v.is_empty())
        .map(|(d, v)| format!("{} ({}):\n  {}", d.name, d.schema, v.join("\n  ")))
        .collect();
    assert!(bad.is_empty(), "invalid documents:\n{}", bad.join("\n"));
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

fn yaml_file(path: &Path) -> Value {
    yaml(&std::fs::read_to_string(path).unwrap())
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs the binary; `code` is the exit status it must end with; returns stdout.
fn sw(args: &[&str], code: i32) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("SOCKWARDEN_CONFIG")
        .output()
        .unwrap();
    expect_exit(&out, code);
    String::from_utf8(out.stdout).unwrap()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

/// `docs/schema/NAME/vN.json` is what `sockwarden schema NAME` prints, and the field table of
/// each page is what the schema lists: every property of the schema documented in its page, and
/// no field in the table that the schema lacks. `UPDATE_SCHEMAS=1` rewrites both.
#[test]
fn issue_20_committed_schemas_and_field_tables_are_current() {
    let update = std::env::var_os(UPDATE).is_some();
    let mut stale = Vec::new();
    for n in SchemaName::ALL {
        let path = repo("docs/schema").join(n.path());
        let want = n.text();
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(path.display().to_string());
        }
        // The command prints the same bytes.
        assert_eq!(sw(&["schema", n.name()], 0), want, "sockwarden schema {n}");
    }
    for (page, names) in PAGES {
        let path = repo(page);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut new = text.clone();
        for n in names {
            let open = format!("<!-- schema-fields {n} -->\n");
            let close = "<!-- /schema-fields -->";
            let start = new
                .find(&open)
                .unwrap_or_else(|| panic!("{page} has no `{}` block", open.trim()))
                + open.len();
            let end = start + new[start..].find(close).expect("the block is closed");
            new.replace_range(start..end, &markdown_table(*n));
        }
        if update {
            std::fs::write(&path, &new).unwrap();
        } else if new != text {
            stale.push(format!("{page} (field table)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with `{UPDATE}=1 cargo test --test it schema` \
         (`sockwarden schema --write docs/schema` writes the schema files alone)"
    );
}

/// `sockwarden schema` lists every name with its URL; `--write` writes the tree docs/schema has.
#[test]
fn issue_20_schema_command_lists_and_writes_every_schema() {
    let list = sw(&["schema"], 0);
    for n in SchemaName::ALL {
        assert!(list.contains(&n.id()), "{n} missing:\n{list}");
    }
    let dir = tempfile::tempdir().unwrap();
    sw(&["schema", "--write", dir.path().to_str().unwrap()], 0);
    for n in SchemaName::ALL {
        let got = std::fs::read_to_string(dir.path().join(n.path())).unwrap();
        assert_eq!(got, n.text(), "{n}");
    }
    let out = Command::new(BIN).args(["schema", "nope"]).output().unwrap();
    expect_exit(&out, 2);
}

/// The fenced block after each `<!-- schema: NAME -->` line of the docs and README, parsed.
fn doc_examples() -> Vec<Doc> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.push(repo("README.md"));
    pages.sort();
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(name) = l
                .strip_prefix("<!-- schema: ")
                .and_then(|r| r.strip_suffix(" -->"))
            else {
                continue;
            };
            let schema = SchemaName::parse(name).unwrap_or_else(|| panic!("{name}?"));
            assert!(
                lines[i + 1].starts_with("```"),
                "{}:{}",
                page.display(),
                i + 2
            );
            let body: Vec<&str> = lines[i + 2..]
                .iter()
                .take_while(|l| !l.starts_with("```"))
                .copied()
                .collect();
            let where_ = format!("{}:{}", page.display(), i + 1);
            out.push(doc(schema, where_, yaml(&body.join("\n"))));
        }
    }
    out
}

/// The example configuration with every commented default switched on (`#key: value` and the
/// lines of a commented list).
fn config_uncommented() -> String {
    std::fs::read_to_string(repo("packaging/etc/config.yaml"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let r = l.strip_prefix('#')?;
            let key = r.starts_with(|c: char| c.is_ascii_lowercase()) && r.contains(": ")
                || r.ends_with(':') && !r.contains(' ');
            (key || r.starts_with("  - ")).then(|| r.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every fixture and shipped file, and every marked example of the docs, is valid.
#[test]
fn issue_20_fixtures_shipped_files_and_doc_examples_validate() {
    let mut docs = Vec::new();
    for f in std::fs::read_dir(repo("tests/fixtures/snapshots")).unwrap() {
        let p = f.unwrap().path();
        docs.push(doc(
            SchemaName::Snapshot,
            p.display().to_string(),
            json_file(&p),
        ));
    }
    let mut rules = 0;
    for p in yaml_files(&repo("rules")) {
        let lists = p.parent().is_some_and(|d| d.ends_with("lists"));
        let kind = if lists {
            SchemaName::Lists
        } else {
            SchemaName::Rule
        };
        rules += usize::from(!lists);
        // The first line points editors at the schema.
        let first = std::fs::read_to_string(&p).unwrap();
        let first = first.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!("# yaml-language-server: $schema={}", kind.id()),
            "{}",
            p.display()
        );
        docs.push(doc(kind, p.display().to_string(), yaml_file(&p)));
    }
    assert!(rules >= 40, "{rules} rule files");
    for p in yaml_files(&repo("tests/fixtures/rules")) {
        docs.push(doc(
            SchemaName::Rule,
            p.display().to_string(),
            yaml_file(&p),
        ));
    }
    for p in yaml_files(&repo("baselines")) {
        docs.push(doc(
            SchemaName::Baseline,
            p.display().to_string(),
            yaml_file(&p),
        ));
    }
    let config = repo("packaging/etc/config.yaml");
    docs.push(doc(SchemaName::Config, "config.yaml", yaml_file(&config)));
    let all_keys = config_uncommented();
    let all_keys = yaml(&all_keys);
    assert_eq!(
        all_keys.as_object().map(|o| o.len()),
        Some(sockwarden::config::Key::ALL.len()),
        "every key of the example, uncommented: {all_keys}"
    );
    docs.push(doc(
        SchemaName::Config,
        "config.yaml, uncommented",
        all_keys,
    ));
    // The reader takes it too.
    let dir = tempfile::tempdir().unwrap();
    let f = put(dir.path(), "config.yaml", &config_uncommented());
    sw(&["config", "show", "--config", f.as_str()], 0);
    let examples = doc_examples();
    assert!(examples.len() >= 7, "{} marked examples", examples.len());
    docs.extend(examples);
    assert_all_valid(&docs);
}

/// Writes `text` into `dir/name` and returns the path as a string.
fn put(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The JSON Lines, each a document.
fn lines(schema: SchemaName, what: &str, text: &str) -> Vec<Doc> {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            doc(
                schema,
                format!("{what}, line {}", i + 1),
                serde_json::from_str(l).unwrap(),
            )
        })
        .collect()
}

/// Every command's output over the fixtures: snapshots (import), scan reports in JSON and JSON
/// Lines (rule and drift findings, hostile bytes as base64, a partial scan's coverage event), the
/// diff, baselines (create and update), a new rule's template. (Changes since a recorded run
/// need a recorded history: the live test has them.)
#[test]
fn issue_20_command_outputs_over_fixtures_validate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fx = |n: &str| {
        repo(&format!("tests/fixtures/snapshots/{n}.json"))
            .display()
            .to_string()
    };
    let (before, after, hostile) = (fx("web-before"), fx("web-after"), fx("hostile"));
    let (before, after, hostile) = (before.as_str(), after.as_str(), hostile.as_str());
    let golden = repo("baselines/web-golden.yaml").display().to_string();
    let golden = golden.as_str();
    let mut docs = Vec::new();
    for (name, args, code) in [
        ("scan", vec!["scan", "--from", after], 1),
        (
            "scan --baseline",
            vec!["scan", "--from", after, "--baseline", golden],
            1,
        ),
        (
            "scan hostile",
            vec!["scan", "--from", hostile, "--rules", "tests/fixtures/rules"],
            1,
        ),
    ] {
        let base: Vec<&str> = [args.as_slice(), &["--no-config", "--format"]].concat();
        let json = sw(&[base.as_slice(), &["json"]].concat(), code);
        docs.push(doc(
            SchemaName::Report,
            name,
            serde_json::from_str(&json).unwrap(),
        ));
        let jsonl = sw(&[base.as_slice(), &["jsonl"]].concat(), code);
        docs.extend(lines(SchemaName::Jsonl, name, &jsonl));
    }
    // A partial scan: a snapshot with a gap, scanned with --allow-partial.
    let mut gap = json_file(Path::new(after));
    gap["gaps"] = json!([{"scope": "table:raw", "reason": "no raw_diag"}]);
    let gap = put(d, "gap.json", &gap.to_string());
    let partial = [
        "--allow-partial",
        "scan",
        "--no-config",
        "--from",
        gap.as_str(),
        "--format",
    ];
    let json = sw(&[partial.as_slice(), &["json"]].concat(), 1);
    docs.push(doc(
        SchemaName::Report,
        "partial",
        serde_json::from_str(&json).unwrap(),
    ));
    let jsonl = sw(&[partial.as_slice(), &["jsonl"]].concat(), 1);
    assert!(jsonl.contains("sockwarden.coverage"), "{jsonl}");
    docs.extend(lines(SchemaName::Jsonl, "partial", &jsonl));
    let diff = sw(&["diff", before, after, "--format", "json"], 1);
    docs.push(doc(
        SchemaName::Diff,
        "diff",
        serde_json::from_str(&diff).unwrap(),
    ));
    let baseline = d.join("b.yaml").display().to_string();
    let baseline = baseline.as_str();
    sw(&["baseline", "create", "--from", before, "-o", baseline], 0);
    docs.push(doc(
        SchemaName::Baseline,
        "baseline create",
        yaml_file(Path::new(baseline)),
    ));
    sw(
        &[
            "baseline", "update", baseline, "--from", after, "--accept", "all",
        ],
        0,
    );
    let updated = yaml_file(Path::new(baseline));
    assert!(
        !updated["accepted"].as_array().unwrap().is_empty(),
        "{updated}"
    );
    docs.push(doc(SchemaName::Baseline, "baseline update", updated));
    for capture in [
        "ss_tuawx0npeimo.txt",
        "lsof_nP_i_U_F.txt",
        "netstat_tuanpeo.txt",
    ] {
        let path = repo("tests/fixtures/sslab").join(capture);
        let snap = sw(&["import", path.to_str().unwrap()], 0);
        docs.push(doc(
            SchemaName::Snapshot,
            capture,
            serde_json::from_str(&snap).unwrap(),
        ));
    }
    let template = sw(&["rules", "new", "SITE-001"], 0);
    let rule = put(d, "SITE-001.yaml", &template);
    sw(&["rules", "test", rule.as_str()], 0);
    assert!(
        template.starts_with(&format!(
            "# yaml-language-server: $schema={}\n",
            SchemaName::Rule.id()
        )),
        "{template}"
    );
    docs.push(doc(SchemaName::Rule, "rules new", yaml(&template)));
    let bad = Command::new(BIN)
        .args(["rules", "new", "site 1"])
        .output()
        .unwrap();
    expect_exit(&bad, 2);
    assert_all_valid(&docs);
}

/// Over a live namespace: the snapshot, two recorded scans (the second after a listener run
/// from /tmp appeared: rule findings and changes since the first run, in JSON and JSON Lines),
/// the diff of the two runs, and the live baseline.
#[test]
fn issue_20_command_outputs_over_a_live_namespace_validate() {
    if !require_root("issue_20_command_outputs_over_a_live_namespace_validate") {
        return;
    }
    let mut ns = Netns::new();
    ns.start_lab(2);
    let work = ns.workdir();
    let rec = RecordedScans::new(&ns);
    let db = rec.db.display().to_string();
    let run = |ns: &Netns, args: &[&str], codes: &[i32]| -> String {
        let out = ns.run(&[&[BIN, "--history", db.as_str()], args].concat());
        let code = out.status.code().unwrap();
        assert!(
            codes.contains(&code),
            "{args:?}: exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut docs = Vec::new();
    let snap = run(&ns, &["snapshot"], &[0]);
    docs.push(doc(
        SchemaName::Snapshot,
        "live snapshot",
        serde_json::from_str(&snap).unwrap(),
    ));
    let scans = rec.around_tmp_listener(&mut ns);
    docs.push(doc(SchemaName::Report, "live scan 1", scans.first.1));
    assert_eq!(scans.second.0, 1);
    docs.push(doc(SchemaName::Report, "live scan 2", scans.second.1));
    let events = rec.events();
    assert!(events.contains("sockwarden.change"), "{events}");
    docs.extend(lines(SchemaName::Jsonl, "live scan 2", &events));
    let diff = run(&ns, &["diff", "@run:1", "@run:2", "--format", "json"], &[1]);
    docs.push(doc(
        SchemaName::Diff,
        "live diff",
        serde_json::from_str(&diff).unwrap(),
    ));
    let baseline = work.join("live.yaml");
    run(
        &ns,
        &["baseline", "create", "-o", baseline.to_str().unwrap()],
        &[0],
    );
    docs.push(doc(
        SchemaName::Baseline,
        "live baseline",
        yaml_file(&baseline),
    ));
    // The listener goes at a third run: the timeline has a socket gone and one present.
    ns.kill(scans.scenario["pid"].as_u64().unwrap() as u32);
    rec.scan(&ns);
    let runs: Value =
        serde_json::from_str(&run(&ns, &["history", "runs", "--json"], &[0])).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 3, "{runs}");
    docs.push(doc(SchemaName::HistoryRuns, "history runs", runs));
    let timeline = run(
        &ns,
        &["history", "timeline", "--json", "state=listen"],
        &[0],
    );
    let timeline: Value = serde_json::from_str(&timeline).unwrap();
    let entries = timeline["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["gone"]["run"] == 3), "{timeline}");
    assert!(entries.iter().any(|e| e["gone"].is_null()), "{timeline}");
    docs.push(doc(
        SchemaName::HistoryTimeline,
        "history timeline",
        timeline,
    ));
    assert_all_valid(&docs);
}

/// A deliberately broken document of each kind fails validation, and an error names the broken
/// field; the tool refuses the broken inputs too (the schema is no looser than the reader).
#[test]
fn issue_20_a_broken_document_of_each_kind_fails_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let after = repo("tests/fixtures/snapshots/web-after.json");
    let report: Value = serde_json::from_str(&sw(
        &[
            "scan",
            "--no-config",
            "--from",
            after.to_str().unwrap(),
            "--format",
            "json",
        ],
        1,
    ))
    .unwrap();
    let line: Value = serde_json::from_str(
        sw(
            &[
                "scan",
                "--no-config",
                "--from",
                after.to_str().unwrap(),
                "--format",
                "jsonl",
            ],
            1,
        )
        .lines()
        .next()
        .unwrap(),
    )
    .unwrap();
    let before = repo("tests/fixtures/snapshots/web-before.json");
    let diff: Value = serde_json::from_str(&sw(
        &[
            "diff",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
            "--format",
            "json",
        ],
        1,
    ))
    .unwrap();
    let golden = std::fs::read_to_string(repo("baselines/web-golden.yaml")).unwrap();
    let rule = std::fs::read_to_string(repo(
        "tests/fixtures/rules/TEST-UNIX-001-unix-listener.yaml",
    ))
    .unwrap();
    // (kind, what breaks it, the field an error must name, the command that must refuse it)
    let mut snapshot = json_file(&after);
    snapshot["sockets"][0]["protocol"] = json!("tcpx");
    let mut report = report;
    report["findings"][0]["severity"] = json!("severe");
    let mut line = line;
    line["event"]["severity"] = json!(50);
    let mut diff = diff;
    diff["listeners"]["added"] = json!("everything");
    let baseline = golden.replacen("protocol: tcp", "protocol: sctp", 1);
    let rule = rule.replacen("severity:", "sevrity:", 1);
    let lists = "trusted_networks: {add: [192.0.2.0/24]}\n";
    let config = "fail_on: severe\n";
    let snap_file = put(d, "s.json", &snapshot.to_string());
    let base_file = put(d, "b.yaml", &baseline);
    let rule_file = put(d, "r.yaml", &rule);
    let lists_file = put(d, "l.yaml", lists);
    let config_file = put(d, "c.yaml", config);
    let after = after.to_str().unwrap();
    let (snap_file, base_file, rule_file) =
        (snap_file.as_str(), base_file.as_str(), rule_file.as_str());
    let (lists_file, config_file) = (lists_file.as_str(), config_file.as_str());
    let cases: Vec<(Doc, &str, Option<Vec<&str>>)> = vec![
        (
            doc(SchemaName::Snapshot, "snapshot", snapshot),
            "sockets/0/protocol",
            Some(vec!["scan", "--no-config", "--from", snap_file]),
        ),
        (
            doc(SchemaName::Report, "report", report),
            "findings/0/severity",
            None,
        ),
        (
            doc(SchemaName::Jsonl, "jsonl", line),
            "event/severity",
            None,
        ),
        (doc(SchemaName::Diff, "diff", diff), "listeners/added", None),
        (
            doc(SchemaName::Baseline, "baseline", yaml(&baseline)),
            "listeners/0/protocol",
            Some(vec![
                "scan",
                "--no-config",
                "--from",
                after,
                "--baseline",
                base_file,
            ]),
        ),
        (
            doc(SchemaName::Rule, "rule", yaml(&rule)),
            "'sevrity'",
            Some(vec!["rules", "check", rule_file]),
        ),
        (
            doc(SchemaName::Lists, "lists", yaml(lists)),
            "'add'",
            Some(vec![
                "scan",
                "--no-config",
                "--from",
                after,
                "--lists",
                lists_file,
            ]),
        ),
        (
            doc(SchemaName::Config, "config", yaml(config)),
            "fail_on",
            Some(vec!["scan", "--config", config_file, "--from", after]),
        ),
        (
            doc(
                SchemaName::HistoryRuns,
                "history runs",
                json!([{"id": 1, "started_at": "2026-12-01T10:00:00Z", "host": "h",
                        "tool_version": "0.1.0", "scope": [4026531840u64],
                        "socket_count": "many"}]),
            ),
            "0/socket_count",
            None,
        ),
        (
            doc(
                SchemaName::HistoryTimeline,
                "history timeline",
                json!({"entries": [], "truncated": "no"}),
            ),
            "truncated",
            None,
        ),
    ];
    let docs: Vec<Doc> = cases
        .iter()
        .map(|(d, _, _)| doc(d.schema, d.name.clone(), d.doc.clone()))
        .collect();
    let verdicts = validate(&docs);
    if verdicts.is_empty() {
        return; // no validator, outside CI
    }
    for ((d, field, refused_by), errors) in cases.iter().zip(&verdicts) {
        assert!(!errors.is_empty(), "{} passed the schema", d.name);
        assert!(
            errors.iter().any(|e| e.contains(field)),
            "{}: no error names {field}: {errors:?}",
            d.name
        );
        if let Some(args) = refused_by {
            let out = Command::new(BIN).args(args).output().unwrap();
            expect_exit(&out, 2);
        }
    }
    // Every kind has its broken document.
    let kinds: Vec<SchemaName> = cases.iter().map(|(d, _, _)| d.schema).collect();
    assert_eq!(kinds, SchemaName::ALL.to_vec());
}
