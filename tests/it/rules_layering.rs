//! Layering (issue 15): overrides of built-in rules, list append and replace, `--disable` and
//! `--enable` by id, glob and tag, the order of layers, `rules list --effective`, `rules
//! explain` origins, `rules test` on overrides, and every error located at file:line:col. Each
//! test runs the real binary over real files and the saved hostile snapshot, whose findings
//! include NET-NET-001 (an outbound connection to 203.0.113.66:443), NET-C2-003 (a listener on
//! 4444), NET-PRC-004 and NET-BPF-*.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{BIN, expect_exit};

const SNAPSHOT: &str = "tests/fixtures/snapshots/hostile.json";

/// A directory of rule and list files for one test.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `text` to `name` (directories created) and returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// `sockwarden ARGS` with no configuration file and no SOCKWARDEN_* variables.
fn run(args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SOCKWARDEN_") {
            c.env_remove(k);
        }
    }
    c.output().unwrap()
}

/// A JSON scan of the hostile snapshot with `extra` flags (no configuration file unless
/// `extra` names one).
fn scan(extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["scan", "--from", SNAPSHOT, "--format", "json"];
    if !extra.contains(&"--config") {
        args.push("--no-config");
    }
    args.extend_from_slice(extra);
    let out = run(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

/// The findings of rule `id`: (severity, remote address or "", tags).
fn findings(report: &Value, id: &str) -> Vec<(String, String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {report}"))
        .iter()
        .filter(|f| f["rule_id"] == id)
        .map(|f| {
            let remote = f["socket"]["remote"]["address"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let tags = f["tags"]
                .as_array()
                .map(|t| t.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (f["severity"].as_str().unwrap().to_string(), remote, tags)
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const NET_OVERRIDE: &str = "id: NET-NET-001
override:
  severity: replace
  exceptions: append
  tags: append
severity: low
exceptions:
  - socket.remote.port: 443
tags: [site:dmz, cis:13.6]
";

#[test]
fn issue_15_override_appends_an_exception_changes_severity_and_tags() {
    let (out, before) = scan(&[]);
    expect_exit(&out, 1);
    let base = findings(&before, "NET-NET-001");
    assert!(
        base.iter()
            .any(|f| f.1 == "203.0.113.66" && f.0 == "medium"),
        "{base:?}"
    );
    let site = Site::new();
    let o = site.file("rules.d/10-net.yaml", NET_OVERRIDE);
    let o = o.display().to_string();
    let (out, after) = scan(&["--rules", &o]);
    expect_exit(&out, 1);
    let got = findings(&after, "NET-NET-001");
    assert!(
        got.iter().all(|f| f.1 != "203.0.113.66"),
        "the exception suppresses the :443 peer: {got:?}"
    );
    // Without the exception the severity and tags show: the override minus its exception.
    let no_exc = site.file(
        "sev-only.yaml",
        "id: NET-C2-003\noverride: {severity: replace, tags: append}\nseverity: low\n\
         tags: [cis:4.4, site:dmz]\n",
    );
    let (out, after) = scan(&["--rules", &no_exc.display().to_string()]);
    expect_exit(&out, 1);
    let c2 = findings(&after, "NET-C2-003");
    assert_eq!(c2.len(), 1, "{c2:?}");
    assert_eq!(c2[0].0, "low");
    assert_eq!(c2[0].2, ["T1571", "cis:4.4", "site:dmz"]);
}

#[test]
fn issue_15_only_attack_tags_map_to_attack_in_sarif_and_ecs() {
    let site = Site::new();
    let o = site.file(
        "tags.yaml",
        "id: NET-C2-003\noverride: {tags: append}\ntags: [cis:4.4, pci:1.3.1]\n",
    );
    let o = o.display().to_string();
    let out = run(&[
        "scan",
        "--no-config",
        "--from",
        SNAPSHOT,
        "--rules",
        &o,
        "--format",
        "sarif",
    ]);
    expect_exit(&out, 1);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let c2 = rules.iter().find(|r| r["id"] == "NET-C2-003").unwrap();
    let tags: Vec<&str> = c2["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        ["external/attack/T1571", "cis:4.4", "pci:1.3.1", "security"]
    );
    let out = run(&[
        "scan",
        "--no-config",
        "--from",
        SNAPSHOT,
        "--rules",
        &o,
        "--format",
        "jsonl",
    ]);
    expect_exit(&out, 1);
    let line = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["rule"]["id"] == "NET-C2-003")
        .unwrap();
    assert_eq!(
        line["threat"]["technique"]["id"],
        serde_json::json!(["T1571"])
    );
    assert_eq!(
        line["sockwarden"]["tags"],
        serde_json::json!(["T1571", "cis:4.4", "pci:1.3.1"])
    );
}

#[test]
fn issue_15_override_replaces_the_condition_and_switches_rules_off() {
    let site = Site::new();
    // NET-C2-003 now fires on the port-22 listener instead of 4444.
    let when = site.file(
        "when.yaml",
        "id: NET-C2-003\noverride: {when: replace}\nwhen:\n  all:\n    - socket.state: listen\n    \
         - socket.local.port: 22\n",
    );
    let off = site.file(
        "off.yaml",
        "id: NET-PRC-004\noverride: {enabled: replace}\nenabled: false\n",
    );
    let (out, report) = scan(&[
        "--rules",
        &when.display().to_string(),
        "--rules",
        &off.display().to_string(),
    ]);
    expect_exit(&out, 1);
    let ports: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "NET-C2-003")
        .map(|f| f["socket"]["local"]["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [22]);
    assert!(findings(&report, "NET-PRC-004").is_empty());
    // --enable turns a rule an override switched off back on.
    let (_, report) = scan(&[
        "--rules",
        &off.display().to_string(),
        "--enable",
        "NET-PRC-004",
    ]);
    assert!(!findings(&report, "NET-PRC-004").is_empty());
}

#[test]
fn issue_15_lists_append_or_replace() {
    let site = Site::new();
    let append = site.file(
        "append.yaml",
        "trusted_networks: {append: [203.0.113.0/24]}\n",
    );
    let (_, report) = scan(&["--lists", &append.display().to_string()]);
    let remotes: Vec<String> = findings(&report, "NET-NET-001")
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert!(
        !remotes.contains(&"203.0.113.66".to_string()),
        "{remotes:?}"
    );
    assert!(
        !remotes.contains(&"10.0.0.9".to_string()),
        "10/8 stays trusted: {remotes:?}"
    );
    let replace = site.file("replace.yaml", "trusted_networks: [203.0.113.0/24]\n");
    let (_, report) = scan(&["--lists", &replace.display().to_string()]);
    let remotes: Vec<String> = findings(&report, "NET-NET-001")
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert!(
        !remotes.contains(&"203.0.113.66".to_string()),
        "{remotes:?}"
    );
    assert!(
        remotes.contains(&"10.0.0.9".to_string()),
        "10/8 is no longer trusted: {remotes:?}"
    );
}

#[test]
fn issue_15_disable_and_enable_by_id_glob_and_tag() {
    let (_, all) = scan(&[]);
    assert!(!findings(&all, "NET-BPF-001").is_empty());
    assert!(!findings(&all, "NET-PRC-001").is_empty());
    let (out, report) = scan(&["--disable", "NET-BPF-*", "--disable", "tag:T1564.001"]);
    expect_exit(&out, 1);
    for id in [
        "NET-BPF-001",
        "NET-BPF-002",
        "NET-BPF-003",
        "NET-BPF-004",
        "NET-PRC-004",
    ] {
        assert!(findings(&report, id).is_empty(), "{id} still fires");
    }
    assert!(!findings(&report, "NET-PRC-001").is_empty());
    // A technique selects its sub-techniques; --enable applies after every --disable.
    let (_, report) = scan(&["--disable", "tag:T1036", "--enable", "NET-PRC-008"]);
    assert!(findings(&report, "NET-PRC-001").is_empty(), "T1036.005");
    assert!(findings(&report, "NET-BPF-004").is_empty(), "T1036.004");
    assert!(!findings(&report, "NET-PRC-008").is_empty());
}

#[test]
fn issue_15_patterns_that_select_nothing_are_errors_with_hints_all_at_once() {
    let (out, _) = scan(&[
        "--disable",
        "NET-C3-*",
        "--enable",
        "tag:T1571x",
        "--disable",
        "NET-NET-01",
    ]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    for want in [
        "disable `NET-C3-*` (command line): no rule id matches the glob; did you mean `NET-C2-*`?",
        "enable `tag:T1571x` (command line): no rule has that tag; did you mean `tag:T1571`?",
        "disable `NET-NET-01` (command line): no rule has that id; did you mean `NET-NET-001`?",
        "3 disable/enable patterns select no rule; nothing was scanned",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn issue_15_layers_apply_in_order_and_config_enable_works() {
    let site = Site::new();
    site.file(
        "etc/config.yaml",
        "disable: ['NET-BPF-*']\nenable: [NET-BPF-001]\n",
    );
    site.file(
        "etc/rules.d/10-low.yaml",
        "id: NET-C2-003\noverride: {severity: replace}\nseverity: low\n",
    );
    site.file(
        "etc/rules.d/20-info.yaml",
        "id: NET-C2-003\noverride: {severity: replace}\nseverity: info\n",
    );
    let cli = site.file(
        "cli.yaml",
        "id: NET-C2-003\noverride: {severity: replace}\nseverity: critical\n",
    );
    let cfg = site.path("etc/config.yaml");
    let (_, report) = scan(&["--config", &cfg]);
    assert_eq!(
        findings(&report, "NET-C2-003")[0].0,
        "info",
        "rules.d in name order"
    );
    assert!(
        !findings(&report, "NET-BPF-001").is_empty(),
        "enable after disable"
    );
    assert!(findings(&report, "NET-BPF-002").is_empty());
    let (_, report) = scan(&["--config", &cfg, "--rules", &cli.display().to_string()]);
    assert_eq!(
        findings(&report, "NET-C2-003")[0].0,
        "critical",
        "--rules last"
    );
    // An override in rules.d of a rule that only --rules defines comes too early.
    site.file(
        "etc/rules.d/30-site.yaml",
        "id: SITE-001\noverride: {severity: replace}\nseverity: low\n",
    );
    let site_rule = site.file(
        "site/SITE-001.yaml",
        &std::fs::read_to_string("tests/fixtures/rules/TEST-UNIX-001-unix-listener.yaml")
            .unwrap()
            .replace("TEST-UNIX-001", "SITE-001"),
    );
    let (out, _) = scan(&[
        "--config",
        &cfg,
        "--rules",
        &site_rule.display().to_string(),
    ]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    let want = format!(
        "{}:1:5: override of `SITE-001`, which is defined only later, in {}",
        site.path("etc/rules.d/30-site.yaml"),
        site_rule.display()
    );
    assert!(err.contains(&want), "{want}\n{err}");
}

#[test]
fn issue_15_rules_list_effective_and_explain_show_origins() {
    let site = Site::new();
    let o = site.file("10-net.yaml", NET_OVERRIDE);
    let o = o.display().to_string();
    let out = run(&[
        "rules",
        "list",
        "--effective",
        "--no-config",
        "--rules",
        &o,
        "--disable",
        "NET-C2-*",
    ]);
    expect_exit(&out, 0);
    let text = stdout(&out);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{text}"))
            .to_string()
    };
    let net = line("NET-NET-001");
    assert!(net.contains(" low "), "{net}");
    assert!(net.contains("T1071,T1041,site:dmz,cis:13.6"), "{net}");
    assert!(net.contains(&format!("[on] [overridden by {o}]")), "{net}");
    let c2 = line("NET-C2-003");
    assert!(
        c2.ends_with("[off] [disable `NET-C2-*` (command line)]"),
        "{c2}"
    );
    let last = text.lines().last().unwrap();
    assert!(last.contains(" on, ") && last.ends_with(" off"), "{last}");
    let out = run(&["rules", "explain", "NET-NET-001", "--rules", &o]);
    expect_exit(&out, 0);
    let text = stdout(&out);
    let def = "rules/network/NET-NET-001-untrusted-remote.yaml";
    // The lines of the rule's first key (the rule's own origin), `when:` (the condition's) and
    // `tags:`, wherever the file puts them (after the editor's schema line).
    let line_of = |key: &str| {
        1 + std::fs::read_to_string(def)
            .unwrap()
            .lines()
            .position(|l| l.starts_with(key))
            .unwrap()
    };
    let (id, when, tags) = (line_of("id:"), line_of("when:"), line_of("tags:"));
    for row in [
        format!("| severity | low | `{o}:6:1` |"),
        format!("| enabled | true | `{def}:{id}:1` |"),
        format!("| tag | T1071 (Application Layer Protocol) | `{def}:{tags}:8` |"),
        format!("| tag | site:dmz | `{o}:9:8` |"),
        format!("| tag | cis:13.6 | `{o}:9:18` |"),
        format!("| exception 1 | below | `{o}:8:5` |"),
        format!("| condition | below | `{def}:{when}:1` |"),
    ] {
        assert!(text.contains(&row), "{row}\n{text}");
    }
    assert!(text.contains(&format!("### Override {o}")), "{text}");
    let exception =
        format!("### Exception 1 ({o}:8:5)\n\n```yaml\n  - socket.remote.port: 443\n```");
    assert!(text.contains(&exception), "{text}");
    assert!(
        text.contains(&format!(
            "### Condition ({def}:{when}:1)\n\n```yaml\nwhen:\n  all:\n"
        )),
        "{text}"
    );
    let out = run(&["rules", "explain", "NET-NET-01"]);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("did you mean `NET-NET-001`?"));
}

#[test]
fn issue_15_rules_test_runs_override_examples_against_the_effective_rule() {
    let site = Site::new();
    let good = format!(
        "{NET_OVERRIDE}  \nexamples:\n  no_match:\n    - socket: {{protocol: tcp, state: \
         established, local: 10.0.0.5:41234, remote: 203.0.113.10:443}}\n  match:\n    - \
         socket: {{protocol: tcp, state: established, local: 10.0.0.5:41234, remote: \
         203.0.113.10:4444}}\n"
    )
    .replace("  tags: append\n", "  tags: append\n  examples: append\n");
    let dir = site.file("good/10-net.yaml", &good);
    let dir = dir.parent().unwrap().display().to_string();
    let out = run(&["rules", "test", "--over-defaults", &dir]);
    let text = stdout(&out);
    expect_exit(&out, 0);
    let of = format!("of {dir}/10-net.yaml");
    assert!(
        text.contains(&format!(
            "ok   NET-NET-001 match #0 {of} against the effective rule"
        )),
        "{text}"
    );
    // The rule's own no_match examples still hold after an appended exception; its match
    // examples are run against the rule as defined.
    assert!(
        text.contains("ok   NET-NET-001 no_match #0 against the effective rule"),
        "{text}"
    );
    assert!(text.contains("ok   NET-NET-001 match #1 against the rule before later overrides"));
    assert!(
        !text.contains("NET-C2-003"),
        "only the rules the directory changes: {text}"
    );
    // An override example that the effective rule does not meet fails the run.
    let bad = good.replace("remote: 203.0.113.10:4444", "remote: 203.0.113.10:443");
    let bad = site.file("bad/10-net.yaml", &bad);
    let out = run(&[
        "rules",
        "test",
        "--over-defaults",
        &bad.display().to_string(),
    ]);
    expect_exit(&out, 1);
    let of = format!("of {}", bad.display());
    assert!(
        stdout(&out).contains(&format!(
            "FAIL NET-NET-001 match #0 {of} against the effective rule"
        )),
        "{}",
        stdout(&out)
    );
    // Without --over-defaults the built-in rule is not there, and the error says so.
    let out = run(&["rules", "check", &bad.display().to_string()]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("it is a built-in rule"),
        "{}",
        stderr(&out)
    );
}

/// Every file in tests/fixtures/broken_overrides is rejected with exit 2 and its error at the
/// line:col its first line names.
#[test]
fn issue_15_broken_overrides_are_rejected_with_located_errors() {
    crate::common::assert_located_errors("broken_overrides", 15, |f| {
        run(&[
            "rules",
            "check",
            "--over-defaults",
            &f.display().to_string(),
        ])
    });
}

/// Many problems in one override file, and in several files: all reported in one run.
#[test]
fn issue_15_every_override_problem_is_reported_at_once() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken_overrides");
    let n = std::fs::read_dir(&dir).unwrap().count();
    let out = run(&[
        "scan",
        "--no-config",
        "--from",
        SNAPSHOT,
        "--rules",
        &dir.display().to_string(),
    ]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    let located = err
        .lines()
        .filter(|l| l.contains("broken_overrides/"))
        .count();
    assert!(
        located >= n,
        "{located} located errors for {n} files:\n{err}"
    );
    let site = Site::new();
    let f = site.file(
        "many.yaml",
        "id: NET-NET-001\noverride:\n  severity: append\n  title: replace\n  tags: append\n\
         severity: low\ndescription: x\nsevrity: high\n",
    );
    let out = run(&[
        "rules",
        "check",
        "--over-defaults",
        &f.display().to_string(),
    ]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    let p = f.display().to_string();
    for want in [
        format!("{p}:3:13: `severity` can only be overridden with replace"),
        format!("{p}:4:3: `title` cannot be overridden"),
        format!("{p}:5:3: `override:` names `tags` but the file sets no `tags`"),
        format!("{p}:7:1: `description` cannot be overridden"),
        format!("{p}:8:1: unknown key `sevrity` in an override; did you mean `severity`?"),
    ] {
        assert!(err.contains(&want), "{want}\n{err}");
    }
    // Ids in messages come from the files: escaped for the terminal.
    let hostile = site.file(
        "hostile.yaml",
        "id: \"NET-\\e[31mX\"\noverride: {severity: replace}\nseverity: low\n",
    );
    let out = run(&[
        "rules",
        "check",
        "--over-defaults",
        &hostile.display().to_string(),
    ]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("override of `NET-\\x1b[31mX`"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains('\x1b'));
    let lists = site.file(
        "lists.yaml",
        "trusted_netwrks: {append: [192.0.2.0/24]}\nshells: {add: [zsh]}\n",
    );
    let out = run(&[
        "rules",
        "list",
        "--no-config",
        "--lists",
        &lists.display().to_string(),
    ]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    let l = lists.display().to_string();
    assert!(
        err.contains(&format!("{l}:2:9: list `shells`: a mapping here")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{l}:1:1: unknown list `trusted_netwrks`")),
        "both problems of the file: {err}"
    );
}
