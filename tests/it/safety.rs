//! Fail closed, write safely, survive hostile input (issue 11): each test here failed on the
//! code before the fix it guards. Numbers in the test names follow the list.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{BIN, Netns, expect_exit, require_root};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snapshots")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs the binary with a deadline: a read or write that blocks forever fails the test instead
/// of hanging it.
fn run_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            child.kill().unwrap();
            panic!("{args:?} still running after {limit:?}: blocked");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dot_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Runs a shell command as user nobody.
fn as_nobody(script: &str) {
    let st = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .status()
        .unwrap();
    assert!(st.success(), "as nobody: {script}");
}

/// Item 1: An unprivileged user who can write the report directory plants symbolic links at every
/// temporary name the next few thousand pids would use, pointing at a file only root may
/// write. Root's scan must write its report and leave the victim untouched.
#[test]
fn i1_planted_temp_links_do_not_redirect_roots_write() {
    if !require_root("i1_planted_temp_links_do_not_redirect_roots_write") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("textfile");
    std::fs::create_dir(&shared).unwrap();
    std::os::unix::fs::chown(&shared, Some(65534), Some(65534)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"root's precious file\n").unwrap();
    // One process plants them all (a shell would use up the pids it plants for).
    as_nobody(&format!(
        "python3 -c 'import os; n = int(open(\"/proc/sys/kernel/ns_last_pid\").read()); \
         [os.symlink(\"{}\", \"{}/.report.json.tmp.%d\" % p) for p in range(n, n + 5000)]'",
        victim.display(),
        shared.display()
    ));
    let target = shared.join("report.json");
    let out = run(&[
        "scan",
        "--from",
        fixture("web-after.json").to_str().unwrap(),
        "--format",
        "json",
        "-o",
        target.to_str().unwrap(),
    ]);
    expect_exit(&out, 1);
    let after = std::fs::read_to_string(&victim).unwrap_or_default();
    assert!(
        after == "root's precious file\n",
        "the planted link was followed: the victim now starts {:?}",
        &after[..after.len().min(80)]
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
    assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
    // Only the planted links remain beside the report: no temporary file of ours.
    let ours: Vec<String> = dot_files(&shared)
        .into_iter()
        .filter(|n| {
            !std::fs::symlink_metadata(shared.join(n))
                .unwrap()
                .is_symlink()
        })
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}

/// Item 1: `-o` naming a link to a device or a FIFO, a FIFO itself, or a directory is refused (exit
/// 2, nothing written through it, no hang on a FIFO without a reader).
#[test]
fn i1_output_onto_links_devices_and_fifos_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let to_dev = dir.path().join("to-dev");
    std::os::unix::fs::symlink("/dev/zero", &to_dev).unwrap();
    let to_fifo = dir.path().join("to-fifo");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let from = fixture("web-after.json");
    for (target, what) in [
        (&to_dev, "a symbolic link"),
        (&to_fifo, "a symbolic link"),
        (&fifo, "a FIFO"),
        (&dir.path().to_path_buf(), "a directory"),
    ] {
        for args in [
            vec!["scan", "--from", from.to_str().unwrap(), "-o"],
            vec!["snapshot", "--no-processes", "-o"],
        ] {
            let mut args = args.clone();
            args.push(target.to_str().unwrap());
            let out = run_within(&args, Duration::from_secs(20));
            expect_exit(&out, 2);
            assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
        }
    }
    assert!(std::fs::symlink_metadata(&to_dev).unwrap().is_symlink());
    // `/dev/null` stays a discard, and `-` stdout.
    let out = run(&["scan", "--from", from.to_str().unwrap(), "-o", "/dev/null"]);
    expect_exit(&out, 1);
    let out = run(&["scan", "--from", from.to_str().unwrap(), "-o", "-"]);
    expect_exit(&out, 1);
    assert!(!out.stdout.is_empty());
}

/// Item 1: A rewrite keeps the file's mode, owner and group; a new file is 0640 minus the umask.
#[test]
fn i1_rewrite_keeps_mode_and_owner() {
    if !require_root("i1_rewrite_keeps_mode_and_owner") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.json");
    std::fs::write(&target, b"{}").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
    let from = fixture("web-after.json");
    let out = run(&[
        "scan",
        "--from",
        from.to_str().unwrap(),
        "-o",
        target.to_str().unwrap(),
    ]);
    expect_exit(&out, 1);
    let m = std::fs::metadata(&target).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o600, 65534, 65534));
    assert!(m.len() > 2, "the report was written");
    let fresh = dir.path().join("fresh.json");
    let out = run(&[
        "scan",
        "--from",
        from.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    expect_exit(&out, 1);
    let mode = std::fs::metadata(&fresh).unwrap().mode() & 0o7777;
    assert_eq!(mode & !0o640, 0, "{mode:o}");
}

/// Item 1: `kill -9` at any moment of a large write leaves no temporary file behind (the write goes
/// to an unnamed file), and the target is either absent or complete.
#[test]
fn i1_kill_9_during_a_write_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // A snapshot of 60,000 sockets makes a report large enough to be caught writing.
    let mut snap: Value =
        serde_json::from_slice(&std::fs::read(fixture("web-after.json")).unwrap()).unwrap();
    let template = snap["sockets"][0].clone();
    let mut sockets = Vec::new();
    for i in 0..60_000u64 {
        let mut s = template.clone();
        s["inode"] = Value::from(1_000_000 + i);
        sockets.push(s);
    }
    snap["sockets"] = Value::Array(sockets);
    let big = dir.path().join("big.json");
    std::fs::write(&big, serde_json::to_vec(&snap).unwrap()).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("report.json");
    let scan = || {
        Command::new(BIN)
            .args(["scan", "--from", big.to_str().unwrap(), "--format", "json"])
            .arg("-o")
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // One whole run, timed; then kills spread over that time.
    let t0 = Instant::now();
    scan().wait().unwrap();
    let whole = t0.elapsed();
    let mut kills = 0;
    for k in 1..=12u32 {
        let _ = std::fs::remove_file(&target);
        let mut child = scan();
        // Kill at the time, or as soon as a temporary name shows up (the old code's window:
        // the report is removed before each run, and a new file never has another name).
        let t0 = Instant::now();
        while t0.elapsed() < whole * k / 13 && dot_files(&out_dir).is_empty() {
            std::thread::sleep(Duration::from_micros(200));
        }
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        assert!(
            dot_files(&out_dir).is_empty(),
            "after kill -9 at {k}/13 of {whole:?}: {:?}",
            dot_files(&out_dir)
        );
        if target.exists() {
            let v: Value = serde_json::from_slice(&std::fs::read(&target).unwrap())
                .expect("a report that exists is complete");
            assert!(v["findings"].is_array());
        }
    }
    assert!(kills >= 3, "only {kills} runs were killed while running");
}

fn assert_gap_exit(out: &Output, scope: &str) {
    expect_exit(out, 2);
    let err = stderr(out);
    assert!(err.contains(&format!("could not read {scope}")), "{err}");
    assert!(err.contains("--allow-partial"), "{err}");
}

/// Item 2: A namespace that does not exist, or that this user may not enter, is an error naming it;
/// with --allow-partial the JSON report's coverage section lists it.
#[test]
fn i2_a_namespace_that_cannot_be_read_fails_closed() {
    if !require_root("i2_a_namespace_that_cannot_be_read_fails_closed") {
        return;
    }
    let out = run(&["scan", "--netns", "no-such-namespace-xyz"]);
    assert_gap_exit(&out, "netns:no-such-namespace-xyz");
    let ns_flag = ["--netns", "no-such-namespace-xyz"];
    for args in [
        vec!["snapshot"],
        vec!["list"],
        vec!["baseline", "create", "-o", "/dev/null"],
    ] {
        let mut args = args.clone();
        args.extend(ns_flag);
        if args[0] == "list" {
            args.push("-tan");
        }
        assert_gap_exit(&run(&args), "netns:no-such-namespace-xyz");
    }
    let out = run(&[
        "scan",
        "--netns",
        "no-such-namespace-xyz",
        "--allow-partial",
        "--format",
        "json",
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["coverage"]["complete"], false);
    assert_eq!(
        v["coverage"]["gaps"][0]["scope"],
        "netns:no-such-namespace-xyz"
    );
    // Every format shows it.
    for (format, needle) in [
        ("table", "COVERAGE INCOMPLETE"),
        ("jsonl", "sockwarden.coverage"),
        ("sarif", "coverage_gap"),
        ("junit", "sockwarden.coverage"),
        ("prometheus", "sockwarden_coverage_complete 0"),
    ] {
        let out = run(&[
            "scan",
            "--netns",
            "no-such-namespace-xyz",
            "--allow-partial",
            "--format",
            format,
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{format}: {text}");
    }

    // A namespace that exists but that user nobody may not enter.
    let ns = Netns::new();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
        .args(["scan", "--netns", &ns.name])
        .output()
        .unwrap();
    assert_gap_exit(&out, &format!("netns:{}", ns.name));
    assert!(stderr(&out).contains("cannot enter"), "{}", stderr(&out));
}

/// Item 2: Inside a user namespace, uid 0 and a full capability set give no right over the host:
/// the snapshot says it is not privileged, and `--all-netns` (which cannot read the other
/// processes' namespaces) fails closed instead of reporting an empty host.
#[test]
fn i2_a_user_namespace_is_not_privileged() {
    if !require_root("i2_a_user_namespace_is_not_privileged") {
        return;
    }
    let unshare = |args: &[&str]| {
        Command::new("unshare")
            .args(["--user", "--map-root-user", BIN])
            .args(args)
            .output()
            .unwrap()
    };
    let out = unshare(&["snapshot", "--no-processes"]);
    expect_exit(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["meta"]["privileged"], false);
    let out = unshare(&["scan", "--all-netns"]);
    assert_gap_exit(&out, "netns");
    let out = unshare(&["scan", "--all-netns", "--allow-partial", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["coverage"]["complete"], false, "{v}");
}

/// Item 2: A baseline pin that exists but is empty, unreadable, malformed or not a file is an error.
#[test]
fn i2_a_broken_baseline_pin_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture("web-after.json");
    let base = dir.path().join("base.yaml");
    let out = run(&[
        "baseline",
        "create",
        "--from",
        from.to_str().unwrap(),
        "-o",
        base.to_str().unwrap(),
    ]);
    expect_exit(&out, 0);
    let pin = dir.path().join("base.yaml.sha256");
    let scan = || {
        run(&[
            "scan",
            "--from",
            from.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
        ])
    };
    // A tampered baseline under each broken pin.
    std::fs::write(
        &base,
        std::fs::read_to_string(&base).unwrap() + "\n# tampered\n",
    )
    .unwrap();
    for (setup, what) in [
        ("empty", "holds no SHA-256 digest"),
        ("garbage", "holds no SHA-256 digest"),
        ("dir", "not a regular file"),
        ("fifo", "not a regular file"),
    ] {
        let _ = std::fs::remove_file(&pin);
        let _ = std::fs::remove_dir(&pin);
        match setup {
            "empty" => std::fs::write(&pin, b"").unwrap(),
            "garbage" => std::fs::write(&pin, b"not-a-digest  base.yaml\n").unwrap(),
            "dir" => std::fs::create_dir(&pin).unwrap(),
            _ => {
                nix::unistd::mkfifo(&pin, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap()
            }
        }
        let out = run_within(
            &[
                "scan",
                "--from",
                from.to_str().unwrap(),
                "--baseline",
                base.to_str().unwrap(),
            ],
            Duration::from_secs(20),
        );
        expect_exit(&out, 2);
        assert!(stderr(&out).contains(what), "{setup}: {}", stderr(&out));
    }
    let _ = std::fs::remove_file(&pin);
    expect_exit(&scan(), 1);
}

/// Item 2: `-o WORD=FILE` with an unknown format is an error (no file named `xml=foo.xml`), and
/// a `--disable` id that names no rule is an error (a prefix is not a pattern; globs say `*`).
#[test]
fn i2_unknown_output_format_and_disable_prefix_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture("web-after.json");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "scan",
            "--from",
            from.to_str().unwrap(),
            "-o",
            "xml=foo.xml",
        ])
        .output()
        .unwrap();
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("unknown format `xml`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let out = run(&[
        "scan",
        "--from",
        from.to_str().unwrap(),
        "--disable",
        "NET-C2-00",
    ]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out)
            .contains("disable `NET-C2-00` (command line): no rule has that id; did you mean"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "scan",
        "--from",
        from.to_str().unwrap(),
        "--disable",
        "NET-C2-001",
    ]);
    expect_exit(&out, 1);
}

/// Shuffles the order-free arrays of a snapshot: sockets, processes, owners, namespaces,
/// warnings (deterministically, by a simple generator).
fn shuffle(v: &mut Value, seed: &mut u64) {
    fn shuffled(a: &mut [Value], seed: &mut u64) {
        for i in (1..a.len()).rev() {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            a.swap(i, (*seed >> 33) as usize % (i + 1));
        }
    }
    for key in ["sockets", "processes", "namespaces", "warnings"] {
        if let Some(a) = v.get_mut(key).and_then(Value::as_array_mut) {
            shuffled(a, seed);
        }
    }
    if let Some(socks) = v["sockets"].as_array_mut() {
        for s in socks {
            if let Some(o) = s.get_mut("owners").and_then(Value::as_array_mut) {
                shuffled(o, seed);
            }
        }
    }
}

/// Item 3: A saved snapshot is re-sorted on load: `processes|=reverse` used to hide every critical
/// finding. Metamorphic: shuffling every order-free array of several snapshots gives
/// byte-identical reports and diffs.
#[test]
fn i3_reordered_snapshots_give_identical_findings_and_diffs() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["web-before.json", "web-after.json", "hostile.json"];
    let scan = |p: &Path| {
        let out = run(&["scan", "--from", p.to_str().unwrap(), "--format", "json"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        out.stdout
    };
    let diff = |a: &Path, b: &Path| {
        let out = run(&[
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        out.stdout
    };
    let mut seed = 7u64;
    for round in 0..3 {
        let mut shuffled = Vec::new();
        for n in names {
            let mut v: Value = serde_json::from_slice(&std::fs::read(fixture(n)).unwrap()).unwrap();
            if round == 0 {
                // The case exactly: jq '.processes|=reverse'.
                v["processes"].as_array_mut().unwrap().reverse();
            } else {
                shuffle(&mut v, &mut seed);
            }
            let p = dir.path().join(format!("{round}-{n}"));
            std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
            assert_eq!(scan(&p), scan(&fixture(n)), "round {round}: {n}");
            shuffled.push(p);
        }
        assert_eq!(
            diff(&shuffled[0], &shuffled[1]),
            diff(&fixture(names[0]), &fixture(names[1])),
            "round {round}"
        );
    }
    // A socket naming a process the file does not contain is an error.
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(fixture("web-after.json")).unwrap()).unwrap();
    let holder = v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["owners"][0]["pid"].as_u64())
        .unwrap();
    v["processes"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["pid"].as_u64() != Some(holder));
    let p = dir.path().join("orphan.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = run(&["scan", "--from", p.to_str().unwrap()]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("which the file does not list"),
        "{}",
        stderr(&out)
    );
}

/// Item 4: Inputs that never end or never arrive: /dev/zero, a FIFO without a writer. Each is refused
/// at once (exit 2), for every flag that reads a file.
#[test]
fn i4_endless_and_blocking_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let from = fixture("web-after.json");
    for bad in ["/dev/zero", fifo.to_str().unwrap()] {
        for flag in ["--from", "--rules", "--lists", "--baseline"] {
            let mut args = vec!["scan", flag, bad];
            if flag != "--from" {
                args.extend(["--from", from.to_str().unwrap()]);
            }
            let out = run_within(&args, Duration::from_secs(20));
            expect_exit(&out, 2);
            assert!(
                stderr(&out).contains("not a regular file"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    // A size cap, with the flag that raises it.
    let out = run(&[
        "scan",
        "--from",
        from.to_str().unwrap(),
        "--max-input-size",
        "100",
    ]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("--max-input-size"),
        "{}",
        stderr(&out)
    );
}

const RULE: &str = "id: SITE-001
title: Redis listening beyond loopback
severity: high
status: stable
tags: [T1133]
description: d
when:
  all:
    - socket.state: listen
    - socket.local.port: 6379
examples:
  match:
    - socket: {protocol: tcp, state: listen, local: 0.0.0.0:6379}
  no_match:
    - socket: {protocol: tcp, state: listen, local: 0.0.0.0:80}
";

/// Item 4: Rule directories: a symlink loop is one clear error, fast; a file reached twice through
/// links is read once; a path component named `lists` does not make rules into lists; a BOM
/// is accepted.
#[test]
fn i4_rule_directories_are_walked_safely() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lists").join("site-rules");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("a/rule.yaml"), format!("\u{feff}{RULE}")).unwrap();
    std::os::unix::fs::symlink(root.join("a/rule.yaml"), root.join("a/b/same.yaml")).unwrap();
    let out = run(&["rules", "check", root.to_str().unwrap()]);
    expect_exit(&out, 0);
    let out = run(&["rules", "list", "--rules", root.to_str().unwrap()]);
    expect_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("SITE-001"));
    // A loop: a link back to an ancestor, twice over.
    std::os::unix::fs::symlink(&root, root.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink(root.join("a"), root.join("a/b/up2")).unwrap();
    let t0 = Instant::now();
    let out = run_within(
        &["rules", "check", root.to_str().unwrap()],
        Duration::from_secs(20),
    );
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("symbolic link loop"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("duplicate rule id"),
        "{}",
        stderr(&out)
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
}

/// Item 5: Lists files are as strict as rules: a misspelt name, a duplicate name, bad items (all of
/// them, once each, in the user's file).
#[test]
fn i5_lists_files_are_strict_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture("web-after.json");
    let scan_with = |text: &str| {
        let p = dir.path().join("site.yaml");
        std::fs::write(&p, text).unwrap();
        let out = run(&[
            "scan",
            "--from",
            from.to_str().unwrap(),
            "--lists",
            p.to_str().unwrap(),
        ]);
        (out.status.code(), stderr(&out), p.display().to_string())
    };
    let (code, err, p) = scan_with("trusted_netwroks: [10.0.0.0/8]\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("{p}:1:1: unknown list `trusted_netwroks`"))
            && err.contains("did you mean `trusted_networks`"),
        "{err}"
    );
    let (code, err, p) =
        scan_with("trusted_networks: [10.0.0.0/8]\ntrusted_networks: [192.0.2.0/24]\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("{p}:2:1: duplicate list `trusted_networks`")),
        "{err}"
    );
    let (code, err, p) =
        scan_with("trusted_networks:\n  - 10.0.0.0/33\n  - 192.0.2.0/24\n  - nonsense\n");
    assert_eq!(code, Some(2), "{err}");
    let located: Vec<&str> = err.lines().filter(|l| l.starts_with(&p)).collect();
    assert_eq!(located.len(), 2, "each bad item once: {err}");
    assert!(located[0].starts_with(&format!("{p}:2:5: list `trusted_networks`: `10.0.0.0/33`")));
    assert!(located[1].starts_with(&format!("{p}:4:5: list `trusted_networks`: `nonsense`")));
    assert!(
        !err.contains("rules/"),
        "blames the user's file, not the rules: {err}"
    );
    // The README's example parses and is used.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let example = readme
        .lines()
        .skip_while(|l| *l != "# site.yaml")
        .nth(1)
        .expect("README has a site.yaml example");
    let (code, err, _) = scan_with(&format!("\u{feff}{example}\n"));
    assert_eq!(code, Some(1), "{err}");
}

/// Item 6: Saved warnings, gaps and names never put a control character on a terminal, into a
/// Prometheus label, or into a SARIF or JSON Lines message text.
#[test]
fn i6_hostile_saved_metadata_is_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(fixture("hostile.json")).unwrap()).unwrap();
    v["warnings"] = serde_json::json!([{
        "code": "x\u{1b}[2J\rFORGED: 0 findings\u{7}",
        "count": 1,
        "message": "m\u{1b}]0;title\u{7}\nline"
    }]);
    v["gaps"] = serde_json::json!([{"scope": "netns:\u{1b}[31mred", "reason": "r\r\n"}]);
    let p = dir.path().join("h.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let control = |s: &str| s.chars().any(|c| c.is_control() && c != '\n');
    for format in ["table", "prometheus", "junit"] {
        let out = run(&[
            "scan",
            "--allow-partial",
            "--from",
            p.to_str().unwrap(),
            "--format",
            format,
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!control(&text), "{format}: {text:?}");
        assert!(
            !stderr(&out).chars().any(|c| c.is_control() && c != '\n'),
            "{format} stderr"
        );
    }
    let out = run(&[
        "scan",
        "--allow-partial",
        "--from",
        p.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let m = e["message"].as_str().unwrap();
        assert!(!m.chars().any(char::is_control), "{m:?}");
    }
    let out = run(&[
        "scan",
        "--allow-partial",
        "--from",
        p.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run0 = &sarif["runs"][0];
    let mut texts: Vec<&str> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    texts.extend(
        run0["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["message"]["text"].as_str().unwrap()),
    );
    assert!(texts.len() > 3);
    for t in texts {
        assert!(!t.chars().any(char::is_control), "{t:?}");
    }
}

/// Item 7: A filter nested 30,000 deep used to overflow the stack (exit 134): now a clear error.
#[test]
fn i7_deep_filters_are_an_error_not_a_crash() {
    let from = fixture("web-after.json");
    let deep = format!("{}sport = :22", "not ".repeat(30_000));
    let mut args = vec!["list", "-ta", "--from", from.to_str().unwrap()];
    args.extend(deep.split(' '));
    let out = run(&args);
    expect_exit(&out, 2);
    let nested = format!("{}sport = :22{}", "( ".repeat(3_000), " )".repeat(3_000));
    let mut args = vec!["list", "-ta", "--from", from.to_str().unwrap()];
    args.extend(nested.split(' '));
    let out = run(&args);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("deeper than"), "{}", stderr(&out));
}
