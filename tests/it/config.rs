//! The configuration file, the environment and the flags, as `sockwarden scan` and `config show`
//! use them (issue 13): precedence flags > SOCKWARDEN_* > file > defaults, rules.d beside the
//! file, strict located errors that stop the scan before anything is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{BIN, expect_exit};

const SNAPSHOT: &str = "tests/fixtures/snapshots/hostile.json";

/// A configuration directory: config.yaml, rules.d/ with the unix-listener test rule (medium),
/// and reports under out/.
struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    fn new(config: &str) -> ConfigDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules.d")).unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::fs::copy(
            "tests/fixtures/rules/TEST-UNIX-001-unix-listener.yaml",
            dir.path().join("rules.d/unix.yaml"),
        )
        .unwrap();
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        ConfigDir { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn config(&self) -> String {
        self.path("config.yaml").display().to_string()
    }

    /// `sockwarden ARGS` with SOCKWARDEN_* cleared and `env` set.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SOCKWARDEN_") {
                c.env_remove(k);
            }
        }
        c.envs(env.iter().copied()).output().unwrap()
    }

    fn scan(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let cfg = self.config();
        let mut args = vec!["scan", "--from", SNAPSHOT, "--config", &cfg];
        args.extend_from_slice(extra);
        self.run(&args, env)
    }
}

fn rule_ids(json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("a JSON report");
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
        .collect();
    ids.dedup();
    ids
}

#[test]
fn the_file_sets_format_outputs_rules_and_fail_on() {
    let d = ConfigDir::new(
        "fail_on: high\nformat: json\ndefault_rules: false\n\
         outputs: [out/report.json, prometheus=out/sockwarden.prom]\n",
    );
    // Relative outputs are taken from the file's directory, so cwd does not matter.
    let out = d.scan(&[], &[]);
    expect_exit(&out, 0); // the medium finding is below fail_on: high
    assert!(out.stdout.is_empty(), "a plain output file replaces stdout");
    let report = std::fs::read(d.path("out/report.json")).unwrap();
    assert_eq!(rule_ids(&report), ["TEST-UNIX-001"], "rules.d was loaded");
    let prom = std::fs::read_to_string(d.path("out/sockwarden.prom")).unwrap();
    assert!(prom.contains("sockwarden_findings"), "{prom}");
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let d = ConfigDir::new("fail_on: high\nformat: json\ndefault_rules: false\n");
    // File: high -> the medium finding passes.
    expect_exit(&d.scan(&[], &[]), 0);
    // Environment over the file: medium -> exit 1.
    expect_exit(&d.scan(&[], &[("SOCKWARDEN_FAIL_ON", "medium")]), 1);
    // Flag over the environment: critical -> exit 0 again.
    let out = d.scan(
        &["--fail-on", "critical"],
        &[("SOCKWARDEN_FAIL_ON", "medium")],
    );
    expect_exit(&out, 0);
    // The format came from the file: JSON on stdout.
    assert_eq!(rule_ids(&out.stdout), ["TEST-UNIX-001"]);
    // --format table over the file's json.
    let out = d.scan(&["--format", "table"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("TEST-UNIX-001"));
    assert!(!out.stdout.starts_with(b"{"));
}

#[test]
fn no_config_ignores_the_file_and_rules_d() {
    let d = ConfigDir::new("fail_on: critical\nformat: json\ndefault_rules: false\n");
    let out = d.run(
        &[
            "scan",
            "--from",
            SNAPSHOT,
            "--no-config",
            "--format",
            "json",
            "--no-default-rules",
        ],
        &[("SOCKWARDEN_CONFIG", &d.config())],
    );
    expect_exit(&out, 0);
    assert!(rule_ids(&out.stdout).is_empty(), "rules.d must not load");
    // SOCKWARDEN_CONFIG alone selects the file (and its rules.d).
    let out = d.run(
        &["scan", "--from", SNAPSHOT, "--fail-on", "medium"],
        &[("SOCKWARDEN_CONFIG", &d.config())],
    );
    expect_exit(&out, 1);
    assert_eq!(rule_ids(&out.stdout), ["TEST-UNIX-001"]);
}

#[test]
fn a_bad_file_stops_the_scan_with_every_problem_located_and_writes_nothing() {
    let d = ConfigDir::new(
        "format: json\nfail_on: hihg\noutputs: [out/report.json]\nbaselin: x.yaml\n",
    );
    let out = d.scan(&[], &[]);
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    let cfg = d.config();
    assert!(
        err.contains(&format!("{cfg}:2:10: fail_on: `hihg` is not one of")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{cfg}:4:1: unknown setting `baselin`; did you mean `baseline`?"
        )),
        "{err}"
    );
    assert!(err.contains("2 problems in the configuration"), "{err}");
    assert!(!d.path("out/report.json").exists());
    // With --exit-bits an error is 32, as for every other error.
    expect_exit(&d.scan(&["--exit-bits"], &[]), 32);
    // A missing --config file is an error too, not a silent fallback to the defaults.
    let out = d.run(
        &[
            "scan",
            "--from",
            SNAPSHOT,
            "--config",
            "/nonexistent/config.yaml",
        ],
        &[],
    );
    expect_exit(&out, 2);
}

#[test]
fn config_show_names_each_origin() {
    let d = ConfigDir::new("fail_on: high\nformat: json\n");
    let cfg = d.config();
    let out = d.run(
        &["config", "show", "--config", &cfg],
        &[("SOCKWARDEN_FORMAT", "sarif")],
    );
    expect_exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("fail_on: \"high\"  # {cfg}:1:10\n")),
        "{text}"
    );
    assert!(
        text.contains("format: \"sarif\"  # environment SOCKWARDEN_FORMAT\n"),
        "{text}"
    );
    assert!(
        text.contains("owners_from: \"auto\"  # default\n"),
        "{text}"
    );
    let rules_d = d.path("rules.d").display().to_string();
    assert!(
        text.contains(&format!("# loaded from rules.d: {rules_d}\n")),
        "{text}"
    );
    let out = d.run(&["config", "show", "--config", &cfg, "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["settings"]["fail_on"]["value"], "high");
    assert_eq!(v["settings"]["fail_on"]["origin"], format!("{cfg}:1:10"));
    assert_eq!(v["settings"]["netns"]["origin"], "default");
    // A typo in a SOCKWARDEN_ variable is a warning with a hint, not silence.
    let out = d.run(
        &["config", "show", "--no-config"],
        &[("SOCKWARDEN_FAILON", "x")],
    );
    expect_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean SOCKWARDEN_FAIL_ON?"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn relative_config_paths_do_not_depend_on_the_working_directory() {
    let d = ConfigDir::new("format: json\ndefault_rules: false\noutputs: [out/r.json]\n");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    let out = Command::new(BIN)
        .current_dir("/")
        .args(["scan", "--from"])
        .arg(&snapshot)
        .args(["--config", &d.config()])
        .env_remove("SOCKWARDEN_CONFIG")
        .output()
        .unwrap();
    expect_exit(&out, 1);
    assert!(d.path("out/r.json").exists());
}
