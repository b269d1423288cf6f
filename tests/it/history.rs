//! The socket history (issue 14) against real sockets: a live namespace recorded over several
//! runs while sockets and processes come and go, recorders killed mid-run, concurrent recorders,
//! and files that are not a history.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sockwarden::history::{self, At};
use sockwarden::model::{Process, Snapshot, Socket};

use crate::common::{AroundTmpListener, BIN, Netns, RecordedScans, expect_exit, require_root};

/// The fields the history keeps (docs/history.md), written out here rather than taken from the
/// library: a field the store dropped or garbled makes the comparison fail.
fn kept_socket(s: &Socket) -> Value {
    json!({
        "netns": s.netns, "protocol": s.protocol.name(), "family": s.family.name(),
        "state": s.state.name(), "local": s.local, "remote": s.remote, "inode": s.inode,
        "cookie": s.cookie, "uid": s.uid, "ifindex": s.ifindex, "interface": s.interface,
        "v6only": s.v6only,
        "unix": s.unix.as_ref().map(|u| json!([u.name, u.r#abstract, u.peer])),
        "ethertype": s.packet.as_ref().map(|p| p.ethertype),
        "owners": s.owners,
    })
}

/// A process as the history keeps it: everything but the relay and session facts (issue 15's
/// tty, session, pgrp, stdio, pty masters and loader variables), which it does not record.
fn kept_process(p: &Process) -> Value {
    let mut v = serde_json::to_value(p).unwrap();
    for k in [
        "tty",
        "session",
        "pgrp",
        "stdio",
        "pty_masters",
        "loader_env",
        "views",
        "proc_mount",
        "suspicious_maps",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn kept(s: &Snapshot) -> (Vec<Value>, Vec<Value>) {
    (
        s.sockets.iter().map(kept_socket).collect(),
        s.processes.iter().map(kept_process).collect(),
    )
}

fn sw(history: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--history")
        .arg(history)
        .args(args)
        .output()
        .unwrap()
}

/// `snapshot --record -o FILE` inside the namespace: the snapshot the run recorded.
fn record_in(ns: &Netns, db: &Path, n: usize) -> Snapshot {
    let out_file = ns.workdir().join(format!("run{n}.json"));
    let (db, f) = (db.to_str().unwrap(), out_file.to_str().unwrap());
    let out = ns.run(&[BIN, "--history", db, "snapshot", "--record", "-o", f]);
    expect_exit(&out, 0);
    serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap()
}

fn row_counts(db: &Path) -> [i64; 4] {
    let c = rusqlite::Connection::open(db).unwrap();
    ["runs", "socket_versions", "process_versions", "holdings"].map(|t| {
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    })
}

/// Five runs of a live namespace (the socket lab: every kind of socket) while listeners,
/// connections and their processes come and go: `@run:N` rebuilds run N's snapshot, field for
/// field for every kept field; an unchanged run adds no version or holding row; `diff` of the
/// saved snapshot and `@run:N` finds nothing.
#[test]
fn history_rebuilds_every_run_of_a_live_namespace() {
    if !require_root("history_rebuilds_every_run_of_a_live_namespace") {
        return;
    }
    let mut ns = Netns::new();
    let db = ns.workdir().join("history.db");
    ns.start_lab(0);
    let mut snaps = vec![record_in(&ns, &db, 1)];
    let listener = ns.service(&["listen", "127.0.0.1", "7101"]);
    let conn = ns.service(&["connect", "127.0.0.1", "7101"]);
    snaps.push(record_in(&ns, &db, 2));
    let before = row_counts(&db);
    snaps.push(record_in(&ns, &db, 3));
    let after = row_counts(&db);
    assert_eq!(after[0], before[0] + 1, "an unchanged run is one runs row");
    assert_eq!(
        after[1..],
        before[1..],
        "an unchanged run writes no version"
    );
    ns.kill(conn);
    ns.kill(listener);
    ns.service(&["listen-exec", "0.0.0.0", "7102", "/bin/sleep"]);
    snaps.push(record_in(&ns, &db, 4));
    ns.service(&["listen", "127.0.0.1", "7101"]);
    ns.service(&["connect", "192.0.2.1", "7102"]);
    snaps.push(record_in(&ns, &db, 5));
    for (i, snap) in snaps.iter().enumerate() {
        let n = i + 1;
        let rebuilt = history::load(&db, &At::Run(n as i64)).unwrap();
        assert_eq!(kept(&rebuilt), kept(snap), "run {n}");
        assert_eq!(rebuilt.meta.taken_at, snap.meta.taken_at);
        assert_eq!(rebuilt.namespaces, snap.namespaces);
        let file = ns.workdir().join(format!("run{n}.json"));
        let at = format!("@run:{n}");
        let out = sw(&db, &["diff", file.to_str().unwrap(), &at]);
        expect_exit(&out, 0);
    }
    // The runs differ where the test changed them, so the comparison above had work to do.
    let ports = |s: &Snapshot| -> Vec<u16> {
        let mut p: Vec<u16> = s
            .sockets
            .iter()
            .filter_map(|x| x.local.map(|e| e.port))
            .collect();
        p.sort_unstable();
        p
    };
    assert!(ports(&snaps[1]).contains(&7101) && !ports(&snaps[3]).contains(&7101));
    assert!(ports(&snaps[3]).contains(&7102) && !ports(&snaps[1]).contains(&7102));
    let runs = sw(&db, &["history", "runs", "--json"]);
    expect_exit(&runs, 0);
    let runs: Vec<Value> = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.len(), 5);
    assert_eq!(runs[4]["socket_count"], snaps[4].sockets.len());
    assert_eq!(runs[0]["started_at"], snaps[0].meta.taken_at.as_str());
}

/// A recorder into `db` inside the namespace; odd `k` dump the namespace from outside with
/// `--netns`, which tags every socket with its namespace, so consecutive runs replace every row.
fn recorder(ns: &Netns, db: &Path, k: u32) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &ns.name, BIN, "--history"])
        .arg(db)
        .args(["snapshot", "--record"]);
    if k % 2 == 1 {
        c.args(["--netns", &ns.name]);
    }
    c
}

fn integrity(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// SIGKILL at 20 moments of recording a namespace of a few thousand sockets, each run rewriting
/// every row: after each, the database opens, passes `PRAGMA integrity_check`, has the old runs
/// or one more, and its latest run rebuilds to as many sockets as it recorded (or, when the
/// killed run did not land, to what the latest run gave before).
#[test]
fn history_survives_recorders_killed_at_any_moment() {
    if !require_root("history_survives_recorders_killed_at_any_moment") {
        return;
    }
    let mut ns = Netns::new();
    ns.start_lab(1500);
    let db = ns.workdir().join("history.db");
    // Two complete runs: the time a run takes, and a history to damage.
    let mut full = Duration::MAX;
    for k in 0..2 {
        let t = Instant::now();
        let out = recorder(&ns, &db, k).output().unwrap();
        expect_exit(&out, 0);
        full = full.min(t.elapsed());
    }
    eprintln!("a full run takes {full:?}");
    let (mut landed, mut lost) = (0, 0);
    let mut seed: u64 = 0x5eed;
    for k in 0..20u32 {
        let before = runs_of(&db);
        let latest_before = kept(&history::load(&db, &At::Latest).unwrap());
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = full.mul_f64(0.1 + 0.85 * ((seed >> 33) as f64 / (1u64 << 31) as f64));
        let mut child = recorder(&ns, &db, k).spawn().unwrap();
        std::thread::sleep(delay);
        // A run done before the kill: runs are quicker now (a machine less loaded than at the
        // start), so later kills come sooner.
        if child.try_wait().unwrap().is_some() {
            full = delay;
        }
        // Child::kill is SIGKILL; `ip netns exec` has exec'd sockwarden, so this is the recorder.
        let _ = child.kill();
        let status = child.wait().unwrap();
        assert_eq!(integrity(&db), "ok", "attempt {k} after {delay:?}");
        let after = runs_of(&db);
        let latest = history::load(&db, &At::Latest).unwrap();
        match after.len() - before.len() {
            0 => {
                lost += 1;
                assert_eq!(kept(&latest), latest_before, "attempt {k}: old state");
            }
            1 => {
                landed += 1;
                let count = after.last().unwrap().socket_count as usize;
                assert_eq!(latest.sockets.len(), count, "attempt {k}: new state");
            }
            n => panic!("attempt {k}: {n} runs appeared ({status})"),
        }
    }
    eprintln!("killed 20 recorders: {lost} runs lost whole, {landed} landed whole");
    assert!(
        lost >= 5,
        "too few kills landed inside a run ({lost} of 20)"
    );
}

fn runs_of(db: &Path) -> Vec<history::Run> {
    history::runs(db).unwrap()
}

/// Two recorders started together on a history that does not exist yet both land.
#[test]
fn history_two_concurrent_recorders_both_land() {
    if !require_root("history_two_concurrent_recorders_both_land") {
        return;
    }
    let mut ns = Netns::new();
    ns.start_lab(300);
    for attempt in 0..3 {
        let db = ns.workdir().join(format!("h{attempt}.db"));
        let a = recorder(&ns, &db, 0).spawn().unwrap();
        let b = recorder(&ns, &db, 1).spawn().unwrap();
        for mut c in [a, b] {
            assert!(c.wait().unwrap().success(), "attempt {attempt}");
        }
        let runs = runs_of(&db);
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(integrity(&db), "ok");
        for r in &runs {
            let s = history::load(&db, &At::Run(r.id)).unwrap();
            assert_eq!(s.sockets.len() as u64, r.socket_count);
        }
    }
}

/// An empty, garbage, truncated or foreign file is refused with exit 2 naming it, by every
/// command that reads or writes the history, and is left as it was.
#[test]
fn history_files_that_are_not_ours_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    let out = sw(&good, &["snapshot", "--record"]);
    expect_exit(&out, 0);
    // Closing the last connection checkpoints the WAL: the file holds the whole history.
    let bytes = std::fs::read(&good).unwrap();
    assert!(bytes.len() > 4096, "{} bytes", bytes.len());
    let foreign = dir.path().join("foreign-src.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE runs (id INTEGER PRIMARY KEY); INSERT INTO runs VALUES (1);")
        .unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"\x00\x01garbage".repeat(700)),
        ("header-only", bytes[..100].to_vec()),
        ("truncated", bytes[..bytes.len() - 4096].to_vec()),
        ("foreign", std::fs::read(&foreign).unwrap()),
    ];
    for (name, content) in cases {
        let path: PathBuf = dir.path().join(format!("{name}.db"));
        std::fs::write(&path, &content).unwrap();
        for args in [
            &["list", "--from", "@now"][..],
            &["scan", "--no-config", "--from", "@-1h"],
            &["diff", "@run:1", "@now"],
            &["history", "runs"],
            &["snapshot", "--record"],
        ] {
            let out = sw(&path, args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(
                err.contains(&path.display().to_string()),
                "{name} {args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), content, "{name} was changed");
    }
    // The good one still answers, and a time before its first run is an error naming it.
    expect_exit(&sw(&good, &["list", "--from", "@now"]), 0);
    let out = sw(&good, &["list", "--from", "@2001-01-01T00:00:00Z"]);
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the first run started at"));
}

/// `scan --record` records, and the history's path comes from `--history`, else
/// SOCKWARDEN_HISTORY, else the configuration file's `history` key, for scan and the other
/// commands alike.
#[test]
fn history_path_follows_flag_env_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let (from_env, from_file) = (dir.path().join("env.db"), dir.path().join("file.db"));
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "history: file.db\n").unwrap();
    let run = |args: &[&str], env: &[(&str, &Path)]| {
        let mut c = Command::new(BIN);
        c.args(args).env_remove("SOCKWARDEN_HISTORY");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let scan = ["scan", "--record"];
    let out = run(&scan, &[("SOCKWARDEN_CONFIG", &config)]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let out = run(
        &["snapshot", "--record"],
        &[("SOCKWARDEN_HISTORY", &from_env)],
    );
    expect_exit(&out, 0);
    assert!(
        out.stdout.is_empty(),
        "snapshot --record writes no JSON without -o"
    );
    let count = |p: &Path| runs_of(p).len();
    assert_eq!((count(&from_file), count(&from_env)), (1, 1));
    // The other commands find the same histories the same way.
    let runs_json = |env: &[(&str, &Path)]| {
        let out = run(&["history", "runs", "--json"], env);
        expect_exit(&out, 0);
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap()
            .len()
    };
    assert_eq!(runs_json(&[("SOCKWARDEN_CONFIG", &config)]), 1);
    let out = run(
        &["list", "--from", "@now"],
        &[
            ("SOCKWARDEN_CONFIG", &config),
            ("SOCKWARDEN_HISTORY", &from_env),
        ],
    );
    expect_exit(&out, 0);
    let flag = dir.path().join("flag.db");
    let out = run(
        &["--history", flag.to_str().unwrap(), "snapshot", "--record"],
        &[("SOCKWARDEN_HISTORY", &from_env)],
    );
    expect_exit(&out, 0);
    assert_eq!((count(&flag), count(&from_env)), (1, 1));
    let out = run(
        &[
            "--history",
            flag.to_str().unwrap(),
            "history",
            "prune",
            "--keep",
            "1h",
        ],
        &[],
    );
    expect_exit(&out, 0);
    assert_eq!(count(&flag), 1, "the latest run is kept");
}

/// `scan --record --since-last` in a live namespace: the first scan finds everything new; after
/// a listener run from /tmp appears, its findings are new, the changes equal `diff` of the two
/// recorded runs, and the exit status is 1; an unchanged third scan has the same findings, all
/// still present, and exits 0; when the listener goes, its findings are resolved.
#[test]
fn history_since_last_reports_changes_and_new_findings_once() {
    if !require_root("history_since_last_reports_changes_and_new_findings_once") {
        return;
    }
    let mut ns = Netns::new();
    let rec = RecordedScans::new(&ns);
    let db = rec.db.clone();
    let ids = |r: &Value, key: &str| -> Vec<String> {
        serde_json::from_value(r["since_last"][key].clone()).unwrap()
    };
    let all = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let AroundTmpListener {
        first: (_, first),
        second: (code, second),
        scenario,
    } = rec.around_tmp_listener(&mut ns);
    assert_eq!(first["since_last"]["run"], Value::Null);
    assert_eq!(ids(&first, "new"), all(&first));
    let new = ids(&second, "new");
    assert!(
        !new.is_empty(),
        "the /tmp listener raises a finding: {second}"
    );
    assert_eq!(code, 1);
    assert_eq!(second["since_last"]["run"], 1);
    let diff = sw(&db, &["diff", "@run:1", "@run:2", "--format", "json"]);
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    for part in ["listeners", "connections", "processes"] {
        assert_eq!(second["since_last"]["changes"][part], diff[part], "{part}");
    }
    assert!(!diff["listeners"]["added"].as_array().unwrap().is_empty());
    // The same changes as JSON Lines: one ECS event per line of the diff.
    let lines: Vec<Value> = rec
        .events()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["event"]["dataset"] == "sockwarden.change")
        .collect();
    let mut from_events = json!({});
    for part in ["listeners", "connections", "processes"] {
        from_events[part] = json!({"added": [], "removed": [], "changed": []});
    }
    for e in &lines {
        assert_eq!(crate::ecs::problems(e), Vec::<String>::new(), "{e}");
        let c = &e["sockwarden"]["change"];
        let part = match c["part"].as_str().unwrap() {
            "listener" => "listeners",
            "connection" => "connections",
            _ => "processes",
        };
        let list = &mut from_events[part][c["action"].as_str().unwrap()];
        list.as_array_mut().unwrap().push(c["line"].clone());
        assert_eq!(e["sockwarden"]["since"]["run"], 1, "{e}");
    }
    for part in ["listeners", "connections", "processes"] {
        assert_eq!(from_events[part], diff[part], "events: {part}");
    }
    let (code, third) = rec.scan(&ns);
    assert_eq!(code, 0, "nothing new: no alert");
    assert!(ids(&third, "new").is_empty());
    assert_eq!(ids(&third, "still_present"), all(&third));
    assert!(new.iter().all(|id| all(&third).contains(id)));
    ns.kill(scenario["pid"].as_u64().unwrap() as u32);
    let (_, fourth) = rec.scan(&ns);
    let resolved = ids(&fourth, "resolved");
    assert!(new.iter().all(|id| resolved.contains(id)), "{fourth}");
}

/// `history timeline --json QUERY`.
fn timeline(db: &Path, query: &[&str]) -> Value {
    let mut args = vec!["history", "timeline", "--json"];
    args.extend_from_slice(query);
    let out = sw(db, &args);
    expect_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What identifies a socket in a timeline entry and in a snapshot.
fn identity(s: &Value) -> Value {
    json!([
        s["protocol"],
        s["state"],
        s["local"],
        s["remote"],
        s["inode"]
    ])
}

/// `history timeline` over four live runs while a listener, a connection and their processes
/// come and go and a listener's holder execs another program: for every run, the entries present
/// at it (first seen at or before, not gone by it) are exactly the snapshot's sockets on the
/// port, with the same holders; first seen, last seen and gone name the right runs and times;
/// holder terms (pid, exe, user) and combined terms select what they say; the table says it too.
#[test]
fn history_timeline_tells_when_sockets_came_who_held_them_and_when_they_went() {
    if !require_root("history_timeline_tells_when_sockets_came_who_held_them_and_when_they_went") {
        return;
    }
    let mut ns = Netns::new();
    let db = ns.workdir().join("history.db");
    let first = ns.service(&["listen", "127.0.0.1", "7201"]);
    let mut snaps = vec![record_in(&ns, &db, 1)];
    let client = ns.service(&["connect", "127.0.0.1", "7201"]);
    snaps.push(record_in(&ns, &db, 2));
    ns.kill(client);
    ns.kill(first);
    let sleeper = ns.service(&["listen-exec", "0.0.0.0", "7202", "/bin/sleep"]);
    snaps.push(record_in(&ns, &db, 3));
    let second = ns.service(&["listen", "127.0.0.1", "7201"]);
    snaps.push(record_in(&ns, &db, 4));

    let t = timeline(&db, &["port=7201"]);
    let entries = t["entries"].as_array().unwrap();
    assert_eq!(t["truncated"], false);
    for (i, snap) in snaps.iter().enumerate() {
        let run = i as i64 + 1;
        let present = |e: &&Value| {
            e["first_seen"]["run"].as_i64().unwrap() <= run
                && e["gone"]["run"].as_i64().is_none_or(|g| g > run)
        };
        let mut from_timeline: Vec<(Value, Vec<u64>)> = entries
            .iter()
            .filter(present)
            .map(|e| {
                let mut pids: Vec<u64> = e["holders"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|h| present(h))
                    .map(|h| h["pid"].as_u64().unwrap())
                    .collect();
                pids.sort_unstable();
                (identity(&e["socket"]), pids)
            })
            .collect();
        from_timeline.sort_by_key(|x| x.0.to_string());
        let mut from_snapshot: Vec<(Value, Vec<u64>)> = snap
            .sockets
            .iter()
            .filter(|s| {
                [s.local, s.remote]
                    .iter()
                    .any(|e| e.is_some_and(|e| e.port == 7201))
            })
            .map(|s| {
                let mut pids: Vec<u64> = s.owners.iter().map(|o| u64::from(o.pid)).collect();
                pids.sort_unstable();
                (identity(&serde_json::to_value(s).unwrap()), pids)
            })
            .collect();
        from_snapshot.sort_by_key(|x| x.0.to_string());
        assert_eq!(from_timeline, from_snapshot, "run {run}");
        assert!(
            !from_snapshot.is_empty() || run == 3,
            "run {run} has port 7201"
        );
    }
    // The first listener: came at run 1, last seen at run 2, gone by run 3, held by `first`.
    let listeners: Vec<&Value> = entries
        .iter()
        .filter(|e| e["socket"]["state"] == "listen")
        .collect();
    assert_eq!(listeners.len(), 2, "{t}");
    let at = |n: usize| json!(snaps[n - 1].meta.taken_at);
    let old = listeners[0];
    assert_eq!(old["first_seen"], json!({"run": 1, "at": at(1)}));
    assert_eq!(old["last_seen"], json!({"run": 2, "at": at(2)}));
    assert_eq!(old["gone"], json!({"run": 3, "at": at(3)}));
    assert_eq!(old["holders"][0]["pid"], first);
    let python = snaps[0].process(first).unwrap().exe.clone().unwrap();
    assert_eq!(old["holders"][0]["process"]["exe"], json!(python));
    let new = listeners[1];
    assert_eq!(new["first_seen"], json!({"run": 4, "at": at(4)}));
    assert_eq!(new["last_seen"], json!({"run": 4, "at": at(4)}));
    assert_eq!(new["gone"], Value::Null);
    assert_eq!(new["holders"][0]["pid"], second);

    // Holder terms: a pid, the exe a listener's holder exec'd, a user; and combinations.
    let count = |q: &[&str]| timeline(&db, q)["entries"].as_array().unwrap().len();
    let by_pid = timeline(&db, &[&format!("pid={first}")]);
    assert_eq!(by_pid["entries"].as_array().unwrap().len(), 1, "{by_pid}");
    assert_eq!(
        identity(&by_pid["entries"][0]["socket"]),
        identity(&old["socket"])
    );
    let sleep = snaps[2].process(sleeper).unwrap().exe.clone().unwrap();
    let sleep = format!("exe={}", sleep.to_str_lossy());
    let by_exe = timeline(&db, &[&sleep]);
    assert_eq!(by_exe["entries"].as_array().unwrap().len(), 1, "{by_exe}");
    assert_eq!(by_exe["entries"][0]["socket"]["local"]["port"], 7202);
    assert_eq!(by_exe["entries"][0]["first_seen"]["run"], 3);
    assert_eq!(count(&["port=7201", "state=listen"]), 2);
    assert_eq!(count(&["port=7201", "port=7202", "state=LISTEN"]), 3);
    assert_eq!(count(&["addr=127.0.0.1", "lport=7201", "state=listen"]), 2);
    assert_eq!(count(&["lport=7202", "user=0"]), 1);
    assert_eq!(count(&["lport=7202", "user=root"]), 1);
    assert_eq!(count(&["lport=7202", "user=nobody"]), 0);
    assert_eq!(count(&["port=7201", &sleep]), 0);
    assert_eq!(
        timeline(&db, &["port=7201", "--limit", "1"])["truncated"],
        true
    );

    // The table: the times, gone or present, and the holder.
    let out = sw(&db, &["history", "timeline", "port=7201", "state=listen"]);
    expect_exit(&out, 0);
    let table = String::from_utf8(out.stdout).unwrap();
    let (t1, t3) = (&snaps[0].meta.taken_at, &snaps[2].meta.taken_at);
    assert!(table.contains(&format!("{t1} .. ")), "{table}");
    assert!(table.contains(&format!("gone by {t3}")), "{table}");
    assert!(table.contains(", present"), "{table}");
    assert!(table.contains(&format!("pid {first} fd ")), "{table}");
    assert!(table.contains(&*python.to_str_lossy()), "{table}");
}

/// A query the timeline does not understand is exit 2 with every problem named at once, what
/// was typed escaped.
#[test]
fn history_timeline_refuses_a_bad_query_naming_every_term() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let out = sw(
        &db,
        &[
            "history",
            "timeline",
            "prot=tcp",
            "port=99999",
            "addr=10.0.0/8",
            "x",
            "pid=\x1b[2J",
        ],
    );
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "did you mean `proto`",
        "`99999` is not a port",
        "not an IP address",
        "`x`: expected KEY=VALUE",
        "`\\x1b[2J` is not a pid",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(
        !err.contains('\x1b'),
        "a terminal escape reached stderr: {err}"
    );
}

/// `history prune` takes its size cap from `--max-size`, else SOCKWARDEN_HISTORY_MAX_SIZE, else
/// the configuration file's `history_max_size`; without a window or a cap it is an error.
#[test]
fn history_prune_takes_its_size_cap_from_flag_env_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "history_max_size: 1K\n").unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# no settings\n").unwrap();
    let prune = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.arg("--history")
            .arg(&db)
            .args(["history", "prune"])
            .args(args);
        c.env_remove("SOCKWARDEN_HISTORY_MAX_SIZE")
            .env("SOCKWARDEN_CONFIG", &empty);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let record = || expect_exit(&sw(&db, &["snapshot", "--record"]), 0);
    record();
    let out = prune(&[], &[]);
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-size"));
    let config = config.to_str().unwrap();
    for (args, env) in [
        (&["--max-size", "1K"][..], &[][..]),
        (&[], &[("SOCKWARDEN_HISTORY_MAX_SIZE", "1K")]),
        (&[], &[("SOCKWARDEN_CONFIG", config)]),
    ] {
        record();
        record();
        assert!(runs_of(&db).len() >= 3);
        let out = prune(args, env);
        expect_exit(&out, 0);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("size cap 1024 bytes"),
            "{args:?} {env:?}: {err}"
        );
        assert!(err.contains("still over its size cap"), "{err}");
        assert_eq!(runs_of(&db).len(), 1, "only the latest run is left");
    }
}
