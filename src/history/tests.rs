use std::net::IpAddr;

use super::rows::{keep_process, keep_socket};
use super::*;
use crate::model::{
    ByteString, Endpoint, Family, Meta, Namespace, Owner, Process, Protocol, Snapshot, Socket,
    State, UnixInfo,
};

fn ep(a: &str, port: u16) -> Option<Endpoint> {
    Some(Endpoint {
        address: a.parse::<IpAddr>().unwrap(),
        port,
    })
}

fn tcp(local: u16, remote: Option<(&str, u16)>, inode: u64, pid: u32) -> Socket {
    let state = if remote.is_some() {
        State::Established
    } else {
        State::Listen
    };
    let mut s = Socket::new(Protocol::Tcp, Family::Inet, state, inode);
    s.local = ep("127.0.0.1", local);
    s.remote = remote.map_or(ep("0.0.0.0", 0), |(a, p)| ep(a, p));
    s.cookie = Some(u64::MAX - inode);
    s.uid = Some(0);
    // Volatile counters: recorded snapshots carry them, the history does not.
    s.recv_q = inode as u32;
    s.owners = smallvec::smallvec![Owner { pid, fd: 3 }];
    s
}

fn unix(name: &[u8], inode: u64, pid: u32) -> Socket {
    let mut s = Socket::new(Protocol::UnixStream, Family::Unix, State::Listen, inode);
    s.unix = Some(Box::new(UnixInfo {
        name: Some(ByteString(name.to_vec())),
        r#abstract: true,
        peer: None,
        pending: vec![1, 2],
        backlog: Some(128),
        vfs_inode: None,
        vfs_dev: None,
    }));
    s.owners = smallvec::smallvec![Owner { pid, fd: 4 }, Owner { pid: 1, fd: 9 }];
    s
}

fn process(pid: u32, exe: &str) -> Process {
    Process {
        pid,
        ppid: 1,
        comm: ByteString(exe.as_bytes().to_vec()),
        exe: Some(ByteString(format!("/usr/bin/{exe}").into_bytes())),
        exe_deleted: false,
        exe_memfd: false,
        cmdline: vec![ByteString(b"arg \xff".to_vec()), ByteString(Vec::new())],
        uid: 1000,
        euid: 0,
        user: Some("u".into()),
        start_ticks: u64::from(pid) * 10,
        cgroup: None,
        container: None,
        netns: Some(4026531840),
        ..Process::default()
    }
}

fn snap(t: &str, sockets: Vec<Socket>, processes: Vec<Process>) -> Snapshot {
    let mut meta = Meta::blank("box");
    meta.taken_at = t.into();
    meta.netns = Some(4026531840);
    let mut s = Snapshot {
        schema_version: crate::model::SCHEMA_VERSION,
        meta,
        sockets,
        processes,
        namespaces: Vec::new(),
        warnings: Vec::new(),
        gaps: Vec::new(),
    };
    s.canonicalize();
    s
}

fn projected(s: &Snapshot) -> (Vec<Socket>, Vec<Process>) {
    (
        s.sockets.iter().map(keep_socket).collect(),
        s.processes.iter().map(keep_process).collect(),
    )
}

fn counts(path: &Path) -> [i64; 4] {
    let c = rusqlite::Connection::open(path).unwrap();
    ["runs", "socket_versions", "process_versions", "holdings"].map(|t| {
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    })
}

/// Four runs where sockets and processes come and go, one unchanged; each run rebuilds to what
/// it recorded, and the unchanged run writes one row.
#[test]
fn every_run_rebuilds_to_what_it_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let p1 = process(1, "init");
    let p100 = process(100, "sshd");
    let p200 = process(200, "nc");
    let s1 = snap(
        "2026-12-01T10:00:00Z",
        vec![tcp(22, None, 10, 100), unix(b"bus", 11, 1)],
        vec![p1.clone(), p100.clone()],
    );
    let s2 = snap(
        "2026-12-01T10:05:00Z",
        vec![
            tcp(22, None, 10, 100),
            unix(b"bus", 11, 1),
            tcp(40000, Some(("203.0.113.5", 4444)), 12, 200),
        ],
        vec![p1.clone(), p100.clone(), p200.clone()],
    );
    let mut s3 = s2.clone();
    s3.meta.taken_at = "2026-12-01T10:10:00Z".into();
    s3.sockets.iter_mut().for_each(|s| s.recv_q += 7);
    let mut p100b = p100.clone();
    p100b.cmdline.push(ByteString(b"-D".to_vec()));
    let s4 = snap(
        "2026-12-01T10:15:00Z",
        vec![tcp(22, None, 10, 100), tcp(8080, None, 13, 100)],
        vec![p100b],
    );
    let runs_in = [&s1, &s2, &s3, &s4];
    let mut after = Vec::new();
    for s in runs_in {
        record(&db, s).unwrap();
        after.push(counts(&db));
    }
    assert_eq!(
        after[2][1..],
        after[1][1..],
        "an unchanged run writes no version"
    );
    assert_eq!(after[2][0], after[1][0] + 1);
    for (i, s) in runs_in.iter().enumerate() {
        let got = load(&db, &At::Run(i as i64 + 1)).unwrap();
        assert_eq!(projected(&got), projected(s), "run {}", i + 1);
        assert_eq!(got.meta.taken_at, s.meta.taken_at);
        assert_eq!(
            got.meta.sources["history"],
            format!("run {} of {}", i + 1, db.display())
        );
    }
    let t = |s: &str| At::Time(humantime::parse_rfc3339(s).unwrap());
    let at = load(&db, &t("2026-12-01T10:07:00Z")).unwrap();
    assert_eq!(at.meta.taken_at, "2026-12-01T10:05:00Z");
    assert_eq!(
        load(&db, &At::Latest).unwrap().meta.taken_at,
        s4.meta.taken_at
    );
    let err = load(&db, &t("2026-12-01T09:59:59Z"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the first run started at 2026-12-01T10:00:00Z"),
        "{err}"
    );
    assert!(matches!(
        load(&db, &At::Run(9)),
        Err(HistoryError::NoSuchRun { .. })
    ));
    let listed = runs(&db).unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(listed[1].socket_count, 3);
    assert_eq!(listed[0].scope, [4026531840]);
}

/// A run that covers one namespace ends nothing in another.
#[test]
fn a_run_ends_rows_only_in_the_namespaces_it_covered() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let ns = |inode: u64| Namespace {
        inode,
        name: None,
        current: false,
        pids: Vec::new(),
        containers: Vec::new(),
    };
    let mut a = tcp(22, None, 10, 100);
    a.netns = Some(7);
    let mut b = tcp(80, None, 20, 100);
    b.netns = Some(8);
    let mut both = snap(
        "2026-12-01T10:00:00Z",
        vec![a.clone(), b],
        vec![process(100, "d")],
    );
    both.namespaces = vec![ns(7), ns(8)];
    record(&db, &both).unwrap();
    let mut only_a = snap("2026-12-01T10:05:00Z", Vec::new(), Vec::new());
    only_a.namespaces = vec![ns(7)];
    record(&db, &only_a).unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    let open_in = |n: i64| -> i64 {
        c.query_row(
            "SELECT count(*) FROM socket_versions WHERE end_run IS NULL AND ns = ?1",
            [n],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!((open_in(7), open_in(8)), (0, 1));
    assert!(load(&db, &At::Run(2)).unwrap().sockets.is_empty());
    assert_eq!(load(&db, &At::Run(1)).unwrap().sockets.len(), 2);
}

#[test]
fn a_snapshot_with_gaps_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let mut s = snap("2026-12-01T10:00:00Z", Vec::new(), Vec::new());
    s.gaps.push(crate::model::Gap {
        scope: "netns:x".into(),
        reason: "gone".into(),
    });
    assert!(matches!(record(&db, &s), Err(HistoryError::Incomplete(_))));
    s.gaps.clear();
    s.meta.attribution = false;
    assert!(matches!(record(&db, &s), Err(HistoryError::Incomplete(_))));
    assert!(!db.exists(), "nothing is created for a refused run");
}

/// Empty, garbage, truncated and foreign files are refused, named, and left as they were.
#[test]
fn files_that_are_not_ours_are_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    let s = snap(
        "2026-12-01T10:00:00Z",
        vec![tcp(22, None, 10, 100)],
        vec![process(100, "d")],
    );
    record(&good, &s).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '1');")
        .unwrap();
    let mut cases = vec![
        ("empty", Vec::new()),
        (
            "garbage",
            b"this is not a database at all, just text".repeat(100),
        ),
        ("header", bytes[..100].to_vec()),
        ("half", bytes[..bytes.len() / 2].to_vec()),
    ];
    cases.push(("foreign", std::fs::read(&foreign).unwrap()));
    for (name, content) in cases {
        let path = dir.path().join(format!("{name}.db"));
        std::fs::write(&path, &content).unwrap();
        let err = record(&path, &s).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        let err = load(&path, &At::Latest).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), content, "{name} was changed");
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    record(&db, &snap("2026-12-01T10:00:00Z", Vec::new(), Vec::new())).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    assert!(matches!(
        load(&db, &At::Latest),
        Err(HistoryError::TooNew { found: 99, .. })
    ));
}

#[test]
fn reading_a_missing_history_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    assert!(matches!(
        load(&db, &At::Latest),
        Err(HistoryError::Missing(_))
    ));
    assert!(matches!(runs(&db), Err(HistoryError::Missing(_))));
    assert!(!db.exists());
}

/// Pruning at a moment between runs 2 and 3 keeps run 2 (in effect then) and everything after,
/// each rebuilding as before; run 1 and the rows only it saw are gone.
#[test]
fn prune_keeps_the_window_and_what_overlaps_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let p = process(100, "d");
    let s = |t: &str, socks: Vec<Socket>| snap(t, socks, vec![p.clone()]);
    let runs_in = [
        s(
            "2026-12-01T10:00:00Z",
            vec![tcp(1, None, 1, 100), tcp(2, None, 2, 100)],
        ),
        s(
            "2026-12-01T11:00:00Z",
            vec![tcp(2, None, 2, 100), tcp(3, None, 3, 100)],
        ),
        s("2026-12-01T12:00:00Z", vec![tcp(3, None, 3, 100)]),
        s("2026-12-01T13:00:00Z", vec![tcp(4, None, 4, 100)]),
    ];
    for r in &runs_in {
        record(&db, r).unwrap();
    }
    let before: Vec<Snapshot> = (2..=4).map(|i| load(&db, &At::Run(i)).unwrap()).collect();
    let cutoff = humantime::parse_rfc3339("2026-12-01T11:30:00Z").unwrap();
    let pruned = prune(&db, cutoff).unwrap();
    assert_eq!(pruned.runs, 1);
    // Socket 1 (ended at run 2) and its holding.
    assert_eq!(pruned.rows, 2);
    for (i, b) in (2..=4).zip(&before) {
        assert_eq!(
            projected(&load(&db, &At::Run(i)).unwrap()),
            projected(b),
            "run {i}"
        );
    }
    assert!(matches!(
        load(&db, &At::Run(1)),
        Err(HistoryError::NoSuchRun { .. })
    ));
    let t = At::Time(humantime::parse_rfc3339("2026-12-01T10:30:00Z").unwrap());
    let err = load(&db, &t).unwrap_err().to_string();
    assert!(
        err.contains("first run started at 2026-12-01T11:00:00Z"),
        "{err}"
    );
    // Pruning everything up to now keeps the latest run.
    prune(&db, std::time::SystemTime::now()).unwrap();
    assert_eq!(
        runs(&db).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
        [4]
    );
    assert_eq!(
        projected(&load(&db, &At::Latest).unwrap()),
        projected(&runs_in[3])
    );
}

#[test]
fn the_first_run_creates_a_private_directory_and_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("var/lib/sockwarden/history.db");
    record(&db, &snap("2026-12-01T10:00:00Z", Vec::new(), Vec::new())).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    assert_eq!(mode(&db), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".history.db."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A file left at schema_version 0 (created, then killed before the first migration) is
/// refused for reading, and migrated to the current version by the next recording run.
#[test]
fn an_unmigrated_history_is_migrated_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('schema_version', '0');",
        )
        .unwrap();
    }
    assert!(matches!(
        load(&db, &At::Latest),
        Err(HistoryError::NeedsMigration { found: 0, .. })
    ));
    let s = snap(
        "2026-12-01T10:00:00Z",
        vec![tcp(22, None, 10, 100)],
        vec![process(100, "d")],
    );
    record(&db, &s).unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    let v: String = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION.to_string());
    assert_eq!(projected(&load(&db, &At::Latest).unwrap()), projected(&s));
}

/// Every kept field is in the content hash (a change makes a new version), no volatile field
/// is (a ticking counter does not), and the row's hash is the socket's.
#[test]
fn the_hash_covers_every_kept_field_and_nothing_else() {
    use super::rows::{SockRow, socket_hash};
    let mut base = unix(b"bus", 11, 1);
    base.netns = Some(5);
    base.uid = Some(0);
    base.cookie = Some(9);
    let mut inet = tcp(22, Some(("192.0.2.1", 40000)), 10, 100);
    inet.v6only = Some(false);
    inet.ifindex = Some(2);
    inet.interface = Some("eth0".into());
    let mut packet = Socket::new(Protocol::PacketRaw, Family::Packet, State::Close, 12);
    packet.packet = Some(Box::new(crate::model::PacketInfo {
        ethertype: 3,
        version: None,
        flags: None,
        fanout: None,
        copy_thresh: None,
        rx_ring: None,
        tx_ring: None,
        bpf: None,
    }));
    type Change = fn(&mut Socket);
    let kept: [(&str, Change); 17] = [
        ("netns", |s| s.netns = Some(6)),
        ("no netns", |s| s.netns = None),
        ("protocol", |s| s.protocol = Protocol::UnixDgram),
        ("family", |s| s.family = Family::Inet),
        ("state", |s| s.state = State::Established),
        ("local", |s| s.local = ep("127.0.0.1", 1)),
        ("remote", |s| s.remote = ep("::1", 1)),
        ("inode", |s| s.inode += 1),
        ("cookie", |s| s.cookie = None),
        ("uid", |s| s.uid = Some(1)),
        ("ifindex", |s| s.ifindex = Some(3)),
        ("interface", |s| s.interface = Some("lo".into())),
        ("v6only", |s| s.v6only = Some(true)),
        ("unix name", |s| s.unix.as_mut().unwrap().name = None),
        ("unix abstract", |s| {
            s.unix.as_mut().unwrap().r#abstract = false
        }),
        ("unix peer", |s| s.unix.as_mut().unwrap().peer = Some(4)),
        ("packet", |s| s.packet.as_mut().unwrap().ethertype = 0x800),
    ];
    for s in [&base, &inet, &packet] {
        assert_eq!(SockRow::of(s, 7).hash(), socket_hash(s, 7));
        // The namespace it is filed under counts when it names none itself.
        let filed = socket_hash(s, 7) != socket_hash(s, 8);
        assert_eq!(filed, s.netns.is_none());
    }
    for (name, change) in kept {
        let before = if name == "packet" { &packet } else { &base };
        let mut after = before.clone();
        change(&mut after);
        assert_ne!(socket_hash(before, 7), socket_hash(&after, 7), "{name}");
    }
    let mut ticking = inet.clone();
    ticking.recv_q += 1;
    ticking.send_q += 1;
    ticking.mark = Some(1);
    ticking.tcp_info = Some(Box::default());
    ticking.owners.push(Owner { pid: 9, fd: 9 });
    assert_eq!(socket_hash(&inet, 7), socket_hash(&ticking, 7));
}

/// The timeline over fixtures: a socket whose first run was pruned is "first seen" at that run
/// with no time; an IPv4 address also finds its v4-mapped form; a container id prefix matches
/// (glob characters in it only themselves); the same key twice is either value.
#[test]
fn timeline_answers_from_the_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let mut boxed = process(200, "boxed");
    boxed.container = Some(crate::model::Container {
        runtime: "docker".into(),
        id: "0123456789abcdef0123".into(),
        pod_uid: None,
    });
    let mut mapped = tcp(8443, Some(("::ffff:203.0.113.5", 443)), 9, 200);
    mapped.family = Family::Inet6;
    mapped.local = ep("::ffff:10.0.0.1", 8443);
    let ps = || vec![process(100, "d"), boxed.clone()];
    let runs_in = [
        snap("2026-12-01T10:00:00Z", vec![tcp(22, None, 1, 100)], ps()),
        snap(
            "2026-12-01T11:00:00Z",
            vec![tcp(22, None, 1, 100), mapped.clone()],
            ps(),
        ),
        snap("2026-12-01T12:00:00Z", vec![tcp(22, None, 1, 100)], ps()),
    ];
    for r in &runs_in {
        record(&db, r).unwrap();
    }
    let q = |terms: &[&str]| timeline(&db, &Query::parse(terms).unwrap(), 100).unwrap();
    let t = q(&["raddr=203.0.113.5"]);
    assert_eq!(t.entries.len(), 1);
    let e = &t.entries[0];
    assert_eq!(
        e.interval.first_seen.at.as_deref(),
        Some("2026-12-01T11:00:00Z")
    );
    assert_eq!(e.interval.gone.as_ref().map(|g| g.run), Some(3));
    assert_eq!(e.holders[0].process.as_ref().map(|p| p.pid), Some(200));
    assert_eq!(q(&["container=0123456789ab"]).entries.len(), 1);
    assert_eq!(
        q(&["container=0123*"]).entries.len(),
        0,
        "`*` is no wildcard"
    );
    assert_eq!(q(&["port=22", "port=443"]).entries.len(), 2);
    assert_eq!(q(&["port=22", "raddr=203.0.113.5"]).entries.len(), 0);
    prune(
        &db,
        humantime::parse_rfc3339("2026-12-01T11:30:00Z").unwrap(),
    )
    .unwrap();
    let t = q(&["lport=22"]);
    let i = &t.entries[0].interval;
    assert_eq!((i.first_seen.run, i.first_seen.at.as_deref()), (1, None));
    assert_eq!(i.last_seen.as_ref().map(|s| s.run), Some(3));
    assert!(i.gone.is_none());
    let bad = Query::parse(&["user=", "portt=1", "state=nope"]).unwrap_err();
    assert_eq!(bad.0.len(), 3, "{bad}");
    assert!(Query::parse::<&str>(&[]).is_err());
}

/// A size cap deletes the oldest runs until the file fits, compacts it, and keeps every
/// remaining run rebuilding as before; a cap the latest run alone exceeds keeps that run and
/// says so.
#[test]
fn a_size_cap_prunes_the_oldest_runs_until_the_file_fits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let p = process(100, "d");
    for run in 0..40u64 {
        // 200 sockets, 20 of them new each run.
        let socks = (0..200u64)
            .map(|i| {
                let inode = if i < 20 { 1000 * (run + 1) + i } else { i + 1 };
                tcp((i + 1) as u16, Some(("192.0.2.1", 443)), inode, 100)
            })
            .collect();
        let t = format!("2026-12-01T10:{run:02}:00Z");
        record(&db, &snap(&t, socks, vec![p.clone()])).unwrap();
    }
    let size = |db: &Path| std::fs::metadata(db).unwrap().len();
    let before_runs: Vec<Snapshot> = (1..=40).map(|i| load(&db, &At::Run(i)).unwrap()).collect();
    let full = cap(&db, u64::MAX).unwrap();
    assert_eq!(
        full.pruned,
        Pruned::default(),
        "under the cap: nothing to do"
    );
    let max = full.size_before / 2;
    let c = cap(&db, max).unwrap();
    assert!(!c.over && c.size_after <= max, "{c:?}");
    assert!(
        c.pruned.vacuumed && c.pruned.runs > 0 && c.pruned.runs < 39,
        "{c:?}"
    );
    // WAL checkpointed on close: the file itself is the size.
    assert!(size(&db) <= max, "{} > {max}", size(&db));
    let kept = runs(&db).unwrap();
    assert_eq!(kept.last().unwrap().id, 40);
    assert_eq!(kept[0].id, c.pruned.runs as i64 + 1, "the oldest runs went");
    for r in &kept {
        let b = &before_runs[r.id as usize - 1];
        assert_eq!(projected(&load(&db, &At::Run(r.id)).unwrap()), projected(b));
    }
    let c = cap(&db, 4096).unwrap();
    assert!(c.over, "{c:?}");
    assert_eq!(
        runs(&db).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
        [40]
    );
    assert_eq!(
        projected(&load(&db, &At::Latest).unwrap()),
        projected(&before_runs[39])
    );
}

/// A history in a directory reached through a symbolic link (systemd's `DynamicUser=` makes
/// /var/lib/sockwarden one, to private/sockwarden) is recorded and read; a link at the file
/// itself is refused.
#[test]
fn a_history_behind_a_linked_directory_opens_but_a_linked_file_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("private/sockwarden");
    std::fs::create_dir_all(&real).unwrap();
    let link = dir.path().join("sockwarden");
    std::os::unix::fs::symlink("private/sockwarden", &link).unwrap();
    let db = link.join("history.db");
    let s = snap(
        "2026-12-01T10:00:00Z",
        vec![tcp(22, None, 1, 100)],
        vec![process(100, "d")],
    );
    record(&db, &s).unwrap();
    assert_eq!(projected(&load(&db, &At::Latest).unwrap()), projected(&s));
    assert!(real.join("history.db").is_file());
    let file_link = dir.path().join("link.db");
    std::os::unix::fs::symlink(real.join("history.db"), &file_link).unwrap();
    assert!(matches!(
        runs(&file_link),
        Err(HistoryError::NotOurs { .. })
    ));
}

/// A recorder reads the open rows ahead of the run; when another run lands in between, the write
/// transaction reads them again, so that run's rows are kept rather than opened twice.
#[test]
fn a_run_recorded_after_the_read_ahead_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let one = vec![tcp(22, None, 10, 100)];
    let two = vec![tcp(22, None, 10, 100), tcp(80, None, 20, 100)];
    let at = |t: &str, s: &[Socket]| snap(t, s.to_vec(), vec![process(100, "d")]);
    let early = Recorder::open(&db).unwrap();
    assert_eq!(early.read_ahead(), None, "no history yet");
    assert!(
        !db.exists(),
        "nothing is created before the run is known to be complete"
    );
    early.record(&at("2026-12-01T10:00:00Z", &one)).unwrap();
    let early = Recorder::open(&db).unwrap();
    assert!(early.read_ahead().is_some());
    let between = record(&db, &at("2026-12-01T10:05:00Z", &two)).unwrap();
    assert_eq!(between.sockets, (1, 0));
    let late = early.record(&at("2026-12-01T10:10:00Z", &two)).unwrap();
    assert_eq!(
        late.sockets,
        (0, 0),
        "the :80 row of the run in between stays the open one"
    );
    assert_eq!(late.holdings, (0, 0));
    let c = rusqlite::Connection::open(&db).unwrap();
    let open: i64 = c
        .query_row(
            "SELECT count(*) FROM socket_versions WHERE end_run IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(open, 2);
}

/// The pages of each of `names`' b-trees (SQLite's dbstat).
fn btree_pages(path: &Path, names: &[&str]) -> Vec<i64> {
    let c = rusqlite::Connection::open(path).unwrap();
    names
        .iter()
        .map(|n| {
            c.query_row("SELECT count(*) FROM dbstat WHERE name = ?1", [n], |r| {
                r.get(0)
            })
            .unwrap()
        })
        .collect()
}

/// Issue 14: a run ends the rows that went before it opens the new ones, so the new rows'
/// entries in the open-row indexes take the room the ended ones leave. The first run that
/// replaced sockets after a large first run used to grow those indexes by the whole of its
/// inserts (217 bytes per changed socket version at 100k sockets, 184 ending first).
#[test]
fn replacing_sockets_reuses_the_room_of_the_ended_open_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    const N: u64 = 20_000;
    const REPLACED: u64 = 2_000;
    // N connections held by one process; `generation` gives every tenth one a new inode (a
    // socket closed and another opened in its place).
    let sockets = |generation: u64| -> Vec<Socket> {
        (0..N)
            .map(|i| {
                let inode = if i % (N / REPLACED) == 0 {
                    1 + i + generation * N
                } else {
                    1 + i
                };
                tcp(1024 + i as u16, Some(("127.0.0.1", 80)), inode, 100)
            })
            .collect()
    };
    let run = |t: &str, generation: u64| {
        let s = snap(t, sockets(generation), vec![process(100, "d")]);
        record(&db, &s).unwrap()
    };
    run("2026-12-01T10:00:00Z", 0);
    let indexes = ["socket_versions_open", "holdings_open"];
    let before = btree_pages(&db, &indexes);
    let rec = run("2026-12-01T10:05:00Z", 1);
    assert_eq!(rec.sockets, (REPLACED, REPLACED));
    assert_eq!(rec.holdings, (REPLACED, REPLACED));
    let after = btree_pages(&db, &indexes);
    // As many open rows as before: the indexes of open rows barely grow (a page split here and
    // there). Inserting before ending grew each by ~10% (~2,000 entries of ~32 bytes).
    for ((name, b), a) in indexes.iter().zip(&before).zip(&after) {
        eprintln!("{name}: {b} -> {a} pages");
        assert!(a - b <= b / 50, "{name}: {b} -> {a} pages");
    }
}
