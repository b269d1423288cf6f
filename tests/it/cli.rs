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
