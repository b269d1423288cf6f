//! Real sockets of every kind in a private network namespace; `sockwarden snapshot` run in that
//! namespace must find each with the right protocol, state, addresses, inode and owners.

use std::net::IpAddr;

use serde_json::Value;
use sockwarden::model::{Owner, Protocol, Snapshot, Socket, State};

use crate::common::{Netns, require_root};

fn expected(kind: &str) -> (Protocol, State) {
    use Protocol::*;
    match kind {
        k if k.starts_with("tcp-listen") => (Tcp, State::Listen),
        k if k.starts_with("tcp-estab") => (Tcp, State::Established),
        k if k.starts_with("tcp-synsent") => (Tcp, State::SynSent),
        "tcp-timewait" => (Tcp, State::TimeWait),
        "udp-v4" | "udp-v6" => (Udp, State::Close),
        "udp-connected" => (Udp, State::Established),
        k if k.starts_with("raw") => (Raw, State::Close),
        "unix-listen-path" => (UnixStream, State::Listen),
        "unix-client" | "unix-accepted" | "unix-pair" => (UnixStream, State::Established),
        "unix-abstract" => (UnixDgram, State::Close),
        "unix-seqpacket-listen" => (UnixSeqpacket, State::Listen),
        k if k.starts_with("packet") => (PacketRaw, State::Close),
        k => panic!("unknown lab kind {k}"),
    }
}

fn endpoint(v: &Value) -> Option<(IpAddr, u16)> {
    let a = v.as_array()?;
    Some((a[0].as_str()?.parse().ok()?, a[1].as_u64()? as u16))
}

fn check(snap: &Snapshot, e: &Value) -> Result<(), String> {
    let kind = e["kind"].as_str().unwrap();
    let inode = e["inode"].as_u64().unwrap();
    let (proto, state) = expected(kind);
    let local = endpoint(&e["local"]);
    let remote = endpoint(&e["remote"]);
    let s: &Socket = if inode == 0 {
        snap.sockets
            .iter()
            .find(|s| {
                s.protocol == proto
                    && s.state == state
                    && s.local.map(|l| (l.address, l.port)) == local
                    && s.remote.map(|r| (r.address, r.port)) == remote
            })
            .ok_or_else(|| format!("{kind}: no socket {local:?} -> {remote:?}"))?
    } else {
        snap.sockets
            .iter()
            .find(|s| s.inode == inode)
            .ok_or_else(|| format!("{kind}: inode {inode} missing"))?
    };
    if (s.protocol, s.state) != (proto, state) {
        return Err(format!("{kind}: got {:?} {:?}", s.protocol, s.state));
    }
    if proto.is_inet() {
        if let Some(l) = local {
            let got = s.local.map(|x| (x.address, x.port));
            if got != Some(l) {
                return Err(format!("{kind}: local {got:?} != {l:?}"));
            }
        }
        if let Some(r) = remote {
            let got = s.remote.map(|x| (x.address, x.port));
            if got != Some(r) {
                return Err(format!("{kind}: remote {got:?} != {r:?}"));
            }
        }
    }
    if proto.is_unix() {
        let want = e["local"].as_str().unwrap_or("");
        let u = s.unix.as_ref().ok_or(format!("{kind}: no unix info"))?;
        let got = match (&u.name, u.r#abstract) {
            (Some(n), true) => format!("@{}", n.to_str_lossy()),
            (Some(n), false) => n.to_str_lossy().into_owned(),
            (None, _) => String::new(),
        };
        if got != want {
            return Err(format!("{kind}: name {got:?} != {want:?}"));
        }
    }
    if proto.is_packet() {
        let p = s.packet.as_ref().ok_or(format!("{kind}: no packet info"))?;
        if u64::from(p.ethertype) != e["ethertype"].as_u64().unwrap() {
            return Err(format!("{kind}: ethertype {:#x}", p.ethertype));
        }
        let bpf: Option<Vec<[u64; 4]>> = p.bpf.as_ref().map(|v| {
            v.iter()
                .map(|i| {
                    [
                        u64::from(i.code),
                        u64::from(i.jt),
                        u64::from(i.jf),
                        u64::from(i.k),
                    ]
                })
                .collect()
        });
        let want: Option<Vec<[u64; 4]>> = e.get("bpf").map(|b| {
            b.as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let a = i.as_array().unwrap();
                    [0, 1, 2, 3].map(|j| a[j].as_u64().unwrap())
                })
                .collect()
        });
        if bpf != want {
            return Err(format!("{kind}: bpf {bpf:?} != {want:?}"));
        }
    }
    // Owners: (pid, fd) for sockets with a file; none for TIME-WAIT.
    let pid = e["pid"].as_u64().unwrap() as u32;
    if inode == 0 {
        if !s.owners.is_empty() {
            return Err(format!("{kind}: TIME-WAIT with owners {:?}", s.owners));
        }
        return Ok(());
    }
    let fd = e["fd"].as_u64().unwrap() as u32;
    if !s.owners.contains(&Owner { pid, fd }) {
        return Err(format!(
            "{kind}: owners {:?} lack pid {pid} fd {fd}",
            s.owners
        ));
    }
    if let Some(other) = e.get("shared_with").and_then(Value::as_u64)
        && (!s.owners.iter().any(|o| o.pid == other as u32) || s.owners.len() < 2)
    {
        return Err(format!(
            "{kind}: owners {:?} lack the child {other}",
            s.owners
        ));
    }
    let p = snap
        .process(pid)
        .ok_or(format!("{kind}: process {pid} missing"))?;
    if let Some(exe) = e.get("exe").and_then(Value::as_str) {
        let got = p
            .exe
            .as_ref()
            .map(|x| x.to_str_lossy().into_owned())
            .unwrap_or_default();
        if !got.starts_with(exe) {
            return Err(format!("{kind}: exe {got:?} != {exe:?}"));
        }
    }
    if e.get("exe_deleted").is_some() && !p.exe_deleted {
        return Err(format!("{kind}: exe_deleted not set"));
    }
    if e.get("exe_memfd").is_some() && !p.exe_memfd {
        return Err(format!("{kind}: exe_memfd not set"));
    }
    if e.get("exe").is_none()
        && !p
            .exe
            .as_ref()
            .is_some_and(|x| x.to_str_lossy().contains("python"))
    {
        return Err(format!("{kind}: lab exe {:?}", p.exe));
    }
    if p.user.as_deref() != Some("root") || p.uid != 0 {
        return Err(format!("{kind}: user {:?} uid {}", p.user, p.uid));
    }
    Ok(())
}

#[test]
fn snapshot_finds_every_kind_of_socket_with_its_owners() {
    if !require_root("snapshot_finds_every_kind_of_socket_with_its_owners") {
        return;
    }
    let mut ns = Netns::new();
    let truth = ns.start_lab(0);
    // Owners from the task-file BPF iterator (the default as root) and from the /proc walk: both
    // must find every socket's holders.
    let by_procfs = ns.snapshot_with(&["--owners-from", "procfs"]);
    let snap = ns.snapshot_with(&["--owners-from", "bpf"]);
    assert_eq!(snap.meta.sources["owners"], "bpf_iter");
    assert_eq!(by_procfs.meta.sources["owners"], "procfs");
    // What the walk cannot resolve (a sandbox's init, say) is reported by both: the iterator's
    // caller walks every process the iterator did not visit.
    let refused = |s: &Snapshot| {
        s.warnings
            .iter()
            .find(|w| w.code == "proc_fd_links_denied")
            .map(|w| w.count)
    };
    assert_eq!(refused(&snap), refused(&by_procfs));
    for (source, snap) in [("bpf_iter", &snap), ("procfs", &by_procfs)] {
        let errors: Vec<String> = truth
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| check(snap, e).err())
            .collect();
        assert!(
            errors.is_empty(),
            "{source}: {} problems:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    assert!(truth.as_array().unwrap().len() >= 30);
    // The unnamed pair: each end names the other as its peer.
    let pairs: Vec<&Value> = truth
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "unix-pair")
        .collect();
    let a = snap
        .sockets
        .iter()
        .find(|s| s.inode == pairs[0]["inode"].as_u64().unwrap())
        .unwrap();
    assert_eq!(a.unix.as_ref().unwrap().peer, pairs[1]["inode"].as_u64());
    // Meta: the namespace is the one the lab runs in, sources are recorded.
    assert_eq!(
        snap.meta.sources.get("tcp").map(String::as_str),
        Some("netlink")
    );
    assert!(
        snap.meta.sources.get("raw").unwrap().starts_with("procfs")
            || snap.meta.sources["raw"] == "netlink"
    );
    assert!(snap.meta.privileged);
    let lab_pid = truth[0]["pid"].as_u64().unwrap() as u32;
    assert_eq!(snap.process(lab_pid).unwrap().netns, snap.meta.netns);
    // TCP sockets carry tcp_info and memory.
    let estab = snap
        .sockets
        .iter()
        .find(|s| s.state == State::Established && s.protocol == Protocol::Tcp)
        .unwrap();
    assert!(estab.tcp_info.as_ref().unwrap().bytes_acked().is_some());
    assert!(estab.memory.is_some());
}

#[test]
fn snapshot_is_deterministic_apart_from_its_timestamp() {
    if !require_root("snapshot_is_deterministic_apart_from_its_timestamp") {
        return;
    }
    let mut ns = Netns::new();
    ns.start_lab(0);
    let strip = |mut s: Snapshot| {
        s.meta.taken_at.clear();
        // The /proc walk covers the whole host: processes that other tests start and stop
        // meanwhile may be counted as vanished. That is the world changing, not the output.
        s.warnings.retain(|w| !w.code.ends_with("vanished"));
        // Timers and tcp_info counters tick between runs; the inventory must not change.
        for x in &mut s.sockets {
            x.timer = None;
            x.tcp_info = None;
            x.memory = None;
            x.recv_q = 0;
            x.send_q = 0;
        }
        serde_json::to_string_pretty(&s).unwrap()
    };
    let a = strip(ns.snapshot());
    let b = strip(ns.snapshot());
    if a != b {
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let ctx = |t: &str| {
            t.lines()
                .skip(first.saturating_sub(15))
                .take(25)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "snapshots differ at line {first}:\n--- first\n{}\n--- second\n{}",
            ctx(&a),
            ctx(&b)
        );
    }
}

/// Not root: the snapshot still runs, lists the sockets, and says what it could not see: no BPF
/// iterator (procfs fallback, recorded in meta.sources.owners), other users' fd tables, privilege.
#[test]
fn snapshot_without_privileges_says_what_it_could_not_see() {
    if !require_root("snapshot_without_privileges_says_what_it_could_not_see") {
        return;
    }
    let mut ns = Netns::new();
    let truth = ns.start_lab(0);
    // A copy that user nobody can execute wherever the build directory lives.
    let bin = std::env::temp_dir().join(format!("sockwarden-nobody-{}", std::process::id()));
    std::fs::copy(crate::common::BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = |owners_from: &str, extra: &[&str], code: i32| {
        let mut args = vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            bin.to_str().unwrap(),
            "snapshot",
            "--owners-from",
            owners_from,
        ];
        args.extend(extra);
        let out = ns.run(&args);
        crate::common::expect_exit(&out, code);
        let snap: Option<Snapshot> = serde_json::from_slice(&out.stdout).ok();
        let codes: Vec<String> = snap
            .iter()
            .flat_map(|s| s.warnings.iter().map(|w| w.code.clone()))
            .collect();
        (
            snap,
            codes,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (walked, walk_codes, stderr) = run("procfs", &[], 0);
    let walked = walked.unwrap();
    // The iterator, asked for by name, is not permitted: the owners scope cannot be read, so
    // the snapshot fails closed (issue 11) ...
    let (refused, _, refused_err) = run("bpf", &[], 2);
    assert!(
        refused.is_none(),
        "nothing is written when a scope is missing"
    );
    assert!(
        refused_err.contains("could not read owners: no owners: unavailable: bpf: not permitted"),
        "{refused_err}"
    );
    // ... and with --allow-partial it says what is missing, machine-readably.
    let (bpf, _, _) = run("bpf", &["--allow-partial"], 0);
    let bpf = bpf.unwrap();
    let (auto, _, _) = run("auto", &[], 0);
    let auto = auto.unwrap();
    std::fs::remove_file(&bin).unwrap();
    // The walk: other users' fd tables are counted as unreadable, naming the processes.
    assert!(!walked.meta.privileged);
    assert_eq!(walked.meta.sources["owners"], "procfs");
    assert!(
        walk_codes.iter().any(|c| c == "unprivileged"),
        "{walk_codes:?}"
    );
    assert!(
        walk_codes.iter().any(|c| c == "proc_fd_denied"),
        "{walk_codes:?}"
    );
    let denied = walked
        .warnings
        .iter()
        .find(|w| w.code == "proc_fd_denied")
        .unwrap();
    assert_eq!(denied.pids.len() as u64, denied.count);
    assert!(denied.pids.contains(&1), "{:?}", denied.pids);
    assert!(stderr.contains("(unprivileged: 1)"), "{stderr}");
    // The iterator, asked for by name: not permitted, said so, no owners at all.
    let why = &bpf.meta.sources["owners"];
    assert!(why.starts_with("unavailable: bpf: not permitted"), "{why}");
    assert_eq!(bpf.gaps.len(), 1, "{:?}", bpf.gaps);
    assert_eq!(bpf.gaps[0].scope, "owners");
    assert!(bpf.gaps[0].reason.contains("not permitted"));
    assert!(bpf.sockets.iter().all(|s| s.owners.is_empty()));
    // auto: the walk (with the iterator's refusal as the reason on a host with many files).
    assert!(auto.meta.sources["owners"].starts_with("procfs"));
    // The sockets are all there (sock_diag needs no privilege); root's lab owns none of them here.
    let lab_inode = truth[0]["inode"].as_u64().unwrap();
    let s = walked
        .sockets
        .iter()
        .find(|s| s.inode == lab_inode)
        .unwrap();
    assert!(s.owners.is_empty());
    assert!(bpf.sockets.iter().any(|s| s.inode == lab_inode));
}

/// In a nested PID namespace (a container's view), the BPF iterator reports pids as that
/// namespace sees them, like its /proc does: both sources give the same owner, and it names the
/// listener's process.
#[test]
fn owners_in_a_nested_pid_namespace_agree_between_sources() {
    if !require_root("owners_in_a_nested_pid_namespace_agree_between_sources") {
        return;
    }
    let ns = Netns::new();
    let dir = ns.workdir();
    let d = dir.display();
    let bin = crate::common::BIN;
    let script = format!(
        r#"python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open("{d}/port", "w").write(str(s.getsockname()[1])); time.sleep(60)' &
echo $! > {d}/pid
while [ ! -s {d}/port ]; do sleep 0.05; done
{bin} snapshot --owners-from bpf -o {d}/bpf.json
{bin} snapshot --owners-from procfs -o {d}/procfs.json
kill $!"#
    );
    let out = ns.run_script_in_own_pids(&script);
    crate::common::expect_exit(&out, 0);
    let read = |f: &str| -> Snapshot {
        serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap()
    };
    let (bpf, procfs) = (read("bpf.json"), read("procfs.json"));
    assert_eq!(bpf.meta.sources["owners"], "bpf_iter");
    assert_eq!(procfs.meta.sources["owners"], "procfs");
    let port: u16 = std::fs::read_to_string(dir.join("port"))
        .unwrap()
        .parse()
        .unwrap();
    let pid: u32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        pid < 100,
        "a pid of the new namespace, not the host's: {pid}"
    );
    let owners = |snap: &Snapshot| -> Vec<Owner> {
        snap.sockets
            .iter()
            .find(|s| s.state == State::Listen && s.local.as_ref().is_some_and(|l| l.port == port))
            .expect("the listener")
            .owners
            .to_vec()
    };
    assert_eq!(owners(&bpf), owners(&procfs));
    assert_eq!(owners(&bpf).len(), 1);
    assert_eq!(owners(&bpf)[0].pid, pid);
    let p = bpf.process(pid).expect("the listener's process");
    assert!(p.comm.to_str_lossy().starts_with("python"), "{:?}", p.comm);
}
