//! The binary's contract: exit codes and error messages.

use std::process::Command;

use crate::common::BIN;

#[test]
fn bad_snapshot_file_is_exit_2_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.json");
    std::fs::write(&p, "{\n  \"schema_version\": 1,\n  \"meta\": 42\n}\n").unwrap();
    let out = Command::new(BIN)
        .args(["list", "--from"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", p.display())), "{err}");
}

#[test]
fn unknown_flag_and_bad_state_are_exit_2() {
    let out = Command::new(BIN)
        .args(["list", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["list", "state", "sleeping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sleeping"));
}

#[test]
fn snapshot_to_unwritable_path_is_exit_2() {
    let out = Command::new(BIN)
        .args([
            "snapshot",
            "--no-processes",
            "-o",
            "/nonexistent-dir/x.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.json"));
}

/// Every file in tests/fixtures/broken_rules is rejected with exit 2 and its error at the
/// line:col its first line (`# expect: L:C: text`) names; never a panic.
#[test]
fn broken_rule_corpus_is_rejected_with_located_errors() {
    crate::common::assert_located_errors("broken_rules", 20, |f| {
        Command::new(BIN)
            .args(["rules", "check"])
            .arg(f)
            .output()
            .unwrap()
    });
}

/// All broken files at once: every problem is reported in one run.
#[test]
fn all_rule_errors_are_reported_together() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken_rules");
    let n = std::fs::read_dir(&dir).unwrap().count();
    let out = Command::new(BIN)
        .args(["scan", "--rules"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let located = err
        .lines()
        .filter(|l| l.contains("broken_rules/") && l.contains(".yaml:"))
        .count();
    assert!(
        located >= n,
        "{located} located errors for {n} files:\n{err}"
    );
    assert!(err.contains("nothing was scanned"));
}

#[test]
fn default_pack_examples_all_pass() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let out = Command::new(BIN)
        .args(["rules", "test", rules])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 40 * 4, "{passed} examples");
}

#[test]
fn default_pack_has_40_rules_each_in_its_own_named_file() {
    let out = Command::new(BIN).args(["rules", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap();
    let n: usize = last.strip_suffix(" rules").unwrap().parse().unwrap();
    assert!(n >= 40, "{last}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut seen = 0;
    for theme in std::fs::read_dir(&root).unwrap() {
        let theme = theme.unwrap().path();
        if theme.file_name().unwrap() == "lists" {
            continue;
        }
        for f in std::fs::read_dir(&theme).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&f).unwrap();
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .unwrap()
                .trim()
                .to_string();
            assert!(
                name.starts_with(&format!("{id}-")) && name.ends_with(".yaml"),
                "{} holds {id}",
                f.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 40, "{seen} rule files");
}

#[test]
fn rule_docs_are_current() {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules");
    let out = Command::new(BIN)
        .args(["rules", "docs", docs, "--check"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "docs/rules is stale: run `sockwarden rules docs docs/rules`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rules_explain_and_fields() {
    let out = Command::new(BIN)
        .args(["rules", "explain", "NET-PRC-001"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# NET-PRC-001: "), "{text}");
    assert!(text.contains("T1036"));
    let out = Command::new(BIN)
        .args(["rules", "explain", "NOPE-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["rules", "fields"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for f in [
        "socket.remote.class",
        "process.exe_deleted",
        "parent.exe",
        "fd",
        "socket.packet.bpf_k",
    ] {
        assert!(text.lines().any(|l| l.starts_with(f)), "{f} missing");
    }
}
