//! The watcher's logic on synthetic events and a fake /proc: attribution, de-duplication, the
//! rate limit, drift without `listener_gone`. The live tests (tests/it/watch.rs) cover the
//! kernel side.

use std::path::Path;

use super::enrich::Enricher;
use super::event::Event;
use super::*;
use crate::collect::tracepoint::tcp_state::{CLOSE, ESTABLISHED, LISTEN, SYN_RECV, SYN_SENT};
use crate::model::ByteString;
use crate::rules::discover::{self, RuleInputs};

fn rules() -> RuleSet {
    discover::load(&RuleInputs {
        defaults: true,
        paths: &[],
        lists: &[],
        picks: &[],
    })
    .unwrap()
}

/// A /proc with one process: `pid`, named `comm`, running `exe` with `args`, parent 1.
fn fake_proc(root: &Path, pid: u32, comm: &str, exe: &str, args: &[&str]) {
    let dir = root.join(pid.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    // Fields 3.. of stat: state, ppid, then up to starttime (field 22) = 500 ticks (5 s).
    let mut fields = vec!["S", "1"];
    fields.extend(std::iter::repeat_n("0", 17));
    fields.push("500");
    std::fs::write(
        dir.join("stat"),
        format!("{pid} ({comm}) {}\n", fields.join(" ")),
    )
    .unwrap();
    std::fs::write(dir.join("status"), "Uid:\t1000\t1000\t1000\t1000\n").unwrap();
    std::fs::write(dir.join("cmdline"), args.join("\0") + "\0").unwrap();
    std::os::unix::fs::symlink(exe, dir.join("exe")).unwrap();
}

fn event(old: u32, new: u32, tgid: u32, local: &str, remote: &str) -> Event {
    let ep = |s: &str| {
        let a: std::net::SocketAddr = s.parse().unwrap();
        (a.ip(), a.port())
    };
    Event {
        ktime_ns: 10_000_000_000, // 10 s after boot: after the fake process started
        skaddr: 0xffff_8881_0000_1000,
        tgid,
        uid: 1000,
        cgroup_id: 7,
        old,
        new,
        v6: false,
        local: ep(local),
        remote: ep(remote),
        comm: ByteString(b"bash".to_vec()),
        netns: Some(4026532000),
        from_connect: false,
    }
}

fn watcher<'a>(rules: &'a RuleSet, proc_root: &Path, per_minute: u32) -> Watcher<'a> {
    Watcher::new(
        rules,
        None,
        Options {
            per_rule_per_minute: per_minute,
            cache: 64,
            all_events: false,
            only_netns: None,
        },
        Meta::blank("test"),
        Enricher::new(proc_root.to_path_buf(), 64),
    )
}

fn findings(records: &[Record]) -> Vec<(String, u32)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Findings(rep) => Some(rep),
            Record::Event(_) => None,
        })
        .flat_map(|rep| rep.findings.iter())
        .map(|f| {
            (
                f.rule_id.clone().unwrap_or_default(),
                f.processes.first().map_or(0, |p| p.pid),
            )
        })
        .collect()
}

/// A connect is judged when it is up, attributed to the process that called connect() (read
/// from /proc at the SYN_SENT event), not to whatever ran when it came up.
#[test]
fn a_connection_is_judged_when_up_with_the_connecting_process() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4242, "bash", "/usr/bin/bash", &["bash", "-i"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let connect = event(CLOSE, SYN_SENT, 4242, "10.0.0.5:0", "203.0.113.10:4444");
    assert!(findings(&w.on_event(&connect)).is_empty(), "no port yet");
    let mut up = event(
        SYN_SENT,
        ESTABLISHED,
        0,
        "10.0.0.5:41234",
        "203.0.113.10:4444",
    );
    up.comm = ByteString(b"swapper/0".to_vec());
    let got = findings(&w.on_event(&up));
    assert!(got.contains(&("NET-C2-001".into(), 4242)), "{got:?}");
    // The same socket, rule and holder again: once.
    let dup = findings(&w.on_event(&event(
        CLOSE,
        SYN_SENT,
        4242,
        "10.0.0.5:0",
        "203.0.113.10:4444",
    )))
    .into_iter()
    .chain(findings(&w.on_event(&up)))
    .collect::<Vec<_>>();
    assert!(dup.is_empty(), "{dup:?}");
    assert!(w.summary.duplicates > 0);
    assert_eq!(w.summary.unattributed, 0);
}

/// Issue 18, session 9: the kernel keeps a connect and sends its process with the connection's
/// outcome (one record, `from_connect`): the connection is attributed to that process with no
/// connect event before it, and a refused one is judged as the `syn-sent` attempt it was.
#[test]
fn a_connection_carrying_its_connects_process_needs_no_connect_event() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4242, "bash", "/usr/bin/bash", &["bash", "-i"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let mut up = event(
        SYN_SENT,
        ESTABLISHED,
        4242,
        "10.0.0.5:41234",
        "203.0.113.10:4444",
    );
    up.from_connect = true;
    let got = findings(&w.on_event(&up));
    assert!(got.contains(&("NET-C2-001".into(), 4242)), "{got:?}");
    // Without the flag the same record names whatever task ran: the connection is reported
    // without a process.
    let mut other = up.clone();
    (other.from_connect, other.skaddr, other.local.1) = (false, 1, 41235);
    let got = findings(&w.on_event(&other));
    assert!(got.contains(&("NET-C2-001".into(), 0)), "{got:?}");
    assert!(got.iter().all(|(_, pid)| *pid == 0), "{got:?}");
    assert_eq!(w.summary.unattributed, 1);
    let mut refused = event(SYN_SENT, CLOSE, 4242, "10.0.0.5:41236", "203.0.113.10:4444");
    (refused.from_connect, refused.skaddr) = (true, 2);
    let got = findings(&w.on_event(&refused));
    assert!(got.contains(&("NET-C2-001".into(), 4242)), "{got:?}");
    assert_eq!(w.summary.unattributed, 1);
}

/// A passive open runs in softirq context: it goes to the listener's holder. The holder runs
/// from a hidden directory (NET-PRC-004 fires on any of its sockets): an accepted client is not
/// a finding by itself since NET-NET-001 judges outbound connections only.
#[test]
fn an_accepted_connection_goes_to_the_listeners_holder() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(
        proc.path(),
        500,
        "nc",
        "/usr/lib/.x/nc",
        &["nc", "-l", "-p", "4444"],
    );
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    w.on_event(&event(CLOSE, LISTEN, 500, "0.0.0.0:4444", "0.0.0.0:0"));
    let mut accepted = event(
        SYN_RECV,
        ESTABLISHED,
        9999,
        "10.0.0.5:4444",
        "198.51.100.7:50000",
    );
    accepted.skaddr += 64;
    let records = w.on_event(&accepted);
    let Some(Record::Findings(rep)) = records.last() else {
        panic!("no finding for the accepted connection: {records:?}");
    };
    let f = rep
        .findings
        .iter()
        .find(|f| {
            f.socket
                .as_ref()
                .is_some_and(|s| s.state == State::Established)
        })
        .expect("a finding about the accepted connection");
    assert_eq!(f.processes[0].pid, 500, "{f:?}");
    assert_eq!(f.processes[0].exe.as_ref().unwrap().0, b"/usr/lib/.x/nc");
}

/// A process /proc does not have keeps the event's comm and uid.
#[test]
fn a_gone_process_keeps_the_events_comm_and_uid() {
    let proc = tempfile::tempdir().unwrap();
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let h = w.enricher.holder(&event(
        CLOSE,
        SYN_SENT,
        77,
        "10.0.0.5:0",
        "203.0.113.10:4444",
    ));
    assert!(h.gone);
    assert_eq!(h.process.comm.0, b"bash");
    assert_eq!((h.process.pid, h.process.uid), (77, 1000));
    assert_eq!(h.process.exe, None);
}

/// A pid whose process started after the event is not the process of the event.
#[test]
fn a_reused_pid_is_not_the_events_process() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4242, "bash", "/usr/bin/bash", &["bash"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let mut ev = event(CLOSE, SYN_SENT, 4242, "10.0.0.5:0", "203.0.113.10:4444");
    ev.ktime_ns = 1_000_000_000; // 1 s after boot; the process started at 5 s
    assert!(w.enricher.holder(&ev).gone);
    ev.ktime_ns = 10_000_000_000;
    assert!(!w.enricher.holder(&ev).gone);
}

/// Over the per-rule rate, findings are counted, not written.
#[test]
fn the_rate_limit_counts_what_it_suppresses() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4242, "bash", "/usr/bin/bash", &["bash", "-i"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 2);
    let mut c2 = 0;
    for i in 0..5u64 {
        let mut connect = event(CLOSE, SYN_SENT, 4242, "10.0.0.5:0", "203.0.113.10:4444");
        connect.skaddr += i * 64;
        w.on_event(&connect);
        let mut up = event(
            SYN_SENT,
            ESTABLISHED,
            0,
            "10.0.0.5:41234",
            "203.0.113.10:4444",
        );
        up.skaddr = connect.skaddr;
        up.local.1 = 41000 + i as u16;
        c2 += findings(&w.on_event(&up))
            .iter()
            .filter(|(r, _)| r == "NET-C2-001")
            .count();
    }
    assert_eq!(c2, 2);
    assert_eq!(w.summary.suppressed["NET-C2-001"], 3);
}

/// Drift on a one-socket snapshot reports the new listener, never every baseline listener as
/// gone.
#[test]
fn drift_reports_the_new_listener_and_no_listener_gone() {
    let text = "version: 1\ncreated_at: \"2026-12-06T00:00:00Z\"\ntool_version: 0.1.0\nhost: h\n\
                listeners:\n  - {protocol: tcp, address: any, port: 22, exe: /usr/sbin/sshd, user: root}\n";
    let (b, c) = crate::baseline::parse("b.yaml", text).unwrap();
    let baseline = (b, c);
    let proc = tempfile::tempdir().unwrap();
    fake_proc(
        proc.path(),
        500,
        "python3",
        "/usr/bin/python3",
        &["python3"],
    );
    let rules = rules();
    let mut w = Watcher::new(
        &rules,
        Some(&baseline),
        Options {
            per_rule_per_minute: 60,
            cache: 64,
            all_events: false,
            only_netns: None,
        },
        Meta::blank("test"),
        Enricher::new(proc.path().to_path_buf(), 64),
    );
    let records = w.on_event(&event(CLOSE, LISTEN, 500, "0.0.0.0:8089", "0.0.0.0:0"));
    let categories: Vec<Category> = records
        .iter()
        .filter_map(|r| match r {
            Record::Findings(rep) => Some(rep),
            Record::Event(_) => None,
        })
        .flat_map(|rep| rep.findings.iter().filter_map(|f| f.category))
        .collect();
    assert_eq!(categories, vec![Category::NewListener]);
}

/// IPv6 events are judged as IPv6 sockets.
#[test]
fn an_ipv6_connection_is_judged() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4242, "bash", "/usr/bin/bash", &["bash", "-i"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let mut connect = event(
        CLOSE,
        SYN_SENT,
        4242,
        "[2001:db8::5]:0",
        "[2001:db8:66::1]:4444",
    );
    connect.v6 = true;
    w.on_event(&connect);
    let mut up = event(
        SYN_SENT,
        ESTABLISHED,
        0,
        "[2001:db8::5]:50123",
        "[2001:db8:66::1]:4444",
    );
    up.v6 = true;
    let records = w.on_event(&up);
    let Some(Record::Findings(rep)) = records.first() else {
        panic!("no finding: {records:?}");
    };
    let f = rep
        .findings
        .iter()
        .find(|f| f.rule_id.as_deref() == Some("NET-C2-001"))
        .expect("NET-C2-001");
    let s = f.socket.as_ref().unwrap();
    assert_eq!(s.family, Family::Inet6);
    assert_eq!(
        s.remote.unwrap().address,
        "2001:db8:66::1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(f.processes[0].pid, 4242);
}

/// The table escapes what processes control: a comm with a terminal escape cannot reach the
/// terminal raw.
#[test]
fn the_table_escapes_a_hostile_comm() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(
        proc.path(),
        4242,
        "x\u{1b}[2Jy",
        "/tmp/\u{1b}]0;pwn\u{7}",
        &["a"],
    );
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    w.on_event(&event(
        CLOSE,
        SYN_SENT,
        4242,
        "10.0.0.5:0",
        "203.0.113.10:4444",
    ));
    let records = w.on_event(&event(
        SYN_SENT,
        ESTABLISHED,
        0,
        "10.0.0.5:41234",
        "203.0.113.10:4444",
    ));
    assert!(!records.is_empty());
    for r in &records {
        let table = output::render(output::Style::Table, "h", r);
        assert!(
            !table.contains('\u{1b}') && !table.contains('\u{7}'),
            "{table:?}"
        );
        assert!(table.contains("pid 4242"), "{table}");
        let jsonl = output::render(output::Style::Jsonl, "h", r);
        for line in jsonl.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                v["process"]["name"], "x\u{1b}[2Jy",
                "JSON keeps the exact name"
            );
        }
    }
}

fn sock_event(action: Action, tgid: u32, family: u32, remote: &str) -> SockEvent {
    let a: std::net::SocketAddr = remote.parse().unwrap();
    SockEvent {
        ktime_ns: 10_000_000_000,
        cookie: 77,
        tgid,
        uid: 1000,
        cgroup_id: 7,
        action,
        family,
        sock_type: 2,
        protocol: 17,
        local: ("10.0.0.5".parse().unwrap(), 40000),
        remote: (a.ip(), a.port()),
        fd: 3,
        comm: ByteString(b"bash".to_vec()),
        inode: 0,
        netns: None,
        unix: None,
    }
}

/// A UDP datagram to an untrusted address is judged as the outbound flow it is, with the
/// sending process; the same socket and peer again is a duplicate.
#[test]
fn a_udp_datagram_to_a_new_peer_is_judged_with_its_sender() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4343, "bash", "/usr/bin/bash", &["bash", "-i"]);
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    let send = sock_event(Action::Send, 4343, 2, "203.0.113.10:4444");
    let socket = sock_socket(&send);
    assert_eq!(
        (socket.protocol, socket.state),
        (Protocol::Udp, State::Established)
    );
    let got = findings(&w.on_sock_event(&send));
    assert!(got.contains(&("NET-NET-001".into(), 4343)), "{got:?}");
    assert!(findings(&w.on_sock_event(&send)).is_empty());
    assert_eq!(w.summary.events, 2);
    assert!(w.summary.duplicates > 0);
}

/// What each kind of event becomes in the snapshot model, as `scan` would show the socket.
#[test]
fn sock_events_in_the_snapshot_model() {
    let mut bind = sock_event(Action::Bind, 1, 10, "[::]:0");
    bind.local = ("::".parse().unwrap(), 5353);
    let s = sock_socket(&bind);
    assert_eq!(
        (s.protocol, s.family, s.state),
        (Protocol::Udp, Family::Inet6, State::Close)
    );
    assert_eq!(s.local.unwrap().port, 5353);
    assert_eq!(s.remote.unwrap().address, "::".parse::<IpAddr>().unwrap());

    let mut raw = sock_event(Action::Open, 1, 2, "0.0.0.0:0");
    (raw.sock_type, raw.protocol) = (3, 1);
    let s = sock_socket(&raw);
    assert_eq!((s.protocol, s.state), (Protocol::Raw, State::Close));
    assert_eq!(
        s.local.unwrap().port,
        1,
        "a raw socket's port is its protocol"
    );

    let mut packet = raw.clone();
    (packet.family, packet.sock_type, packet.protocol) = (17, 2, 0x0800);
    let s = sock_socket(&packet);
    assert_eq!(
        (s.protocol, s.family),
        (Protocol::PacketDgram, Family::Packet)
    );
    assert_eq!(s.packet.unwrap().ethertype, 0x0800);

    let mut listen = sock_event(Action::Listen, 1, 1, "0.0.0.0:0");
    listen.sock_type = 5;
    listen.unix = Some(event::UnixListen {
        name: Some(b"hidden".to_vec()),
        r#abstract: true,
        backlog: 16,
    });
    let s = sock_socket(&listen);
    assert_eq!(
        (s.protocol, s.state),
        (Protocol::UnixSeqpacket, State::Listen)
    );
    let u = s.unix.unwrap();
    assert_eq!(u.name, Some(ByteString(b"hidden".to_vec())));
    assert!(u.r#abstract);
    assert_eq!(u.backlog, Some(16));
}

/// A unix listener is judged from what the kernel gave (inode, name, namespace) even when its
/// process is gone: no /proc read decides whether it is reported (issue 18).
#[test]
fn a_unix_listener_needs_no_proc_read_of_its_socket() {
    let proc = tempfile::tempdir().unwrap();
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    w.opts.all_events = true;
    let mut listen = sock_event(Action::Listen, 4545, 1, "0.0.0.0:0");
    (listen.sock_type, listen.inode, listen.netns, listen.fd) =
        (1, 9001, Some(4026532001), u32::MAX);
    listen.unix = Some(event::UnixListen {
        name: Some(b"/tmp/.x".to_vec()),
        r#abstract: false,
        backlog: 1,
    });
    let out = w.on_sock_event(&listen);
    assert_eq!(w.summary.events, 1);
    let Some(Record::Event(e)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(e.socket.inode, 9001);
    assert_eq!(e.socket.netns, Some(4026532001));
    assert_eq!(
        e.socket.owners.as_slice(),
        [Owner {
            pid: 4545,
            fd: UNKNOWN_FD
        }]
    );
    assert!(
        e.holder.as_ref().unwrap().gone,
        "pid 4545 is not in this /proc"
    );
    let name = e.socket.unix.as_ref().unwrap().name.clone();
    assert_eq!(name, Some(ByteString(b"/tmp/.x".to_vec())));
}

/// `--netns`: a UDP event of a process in another namespace is not an event, nor one whose
/// namespace is unknown (the process is gone: it may be any namespace's).
#[test]
fn only_the_chosen_namespace_is_watched() {
    let proc = tempfile::tempdir().unwrap();
    fake_proc(proc.path(), 4343, "dig", "/usr/bin/dig", &["dig"]);
    std::fs::create_dir_all(proc.path().join("4343/ns")).unwrap();
    std::os::unix::fs::symlink("net:[4026532002]", proc.path().join("4343/ns/net")).unwrap();
    let rules = rules();
    let mut w = watcher(&rules, proc.path(), 60);
    w.opts.only_netns = Some(4026532001);
    let send = sock_event(Action::Send, 4343, 2, "203.0.113.10:53");
    assert!(w.on_sock_event(&send).is_empty());
    assert_eq!(w.summary.events, 0);
    w.opts.only_netns = Some(4026532002);
    w.on_sock_event(&send);
    assert_eq!(w.summary.events, 1);
    let gone = sock_event(Action::Send, 4545, 2, "203.0.113.10:53");
    w.on_sock_event(&gone);
    assert_eq!(w.summary.events, 1);
}

/// BPF mode with a program group missing says what it never sees, and why.
#[test]
fn bpf_mode_names_what_it_misses() {
    use crate::collect::sockhooks::{Gap, Swept};
    let second = std::time::Duration::from_secs(1);
    assert_eq!(output::bpf_misses(&[], &[], second), None);
    let gaps = [Gap {
        what: "UDP connect, sendto to a new peer and bind (listeners)",
        why: "bpf: not permitted".into(),
    }];
    let m = output::bpf_misses(&gaps, &[], second).unwrap();
    assert!(m.contains("never sees: UDP connect"), "{m}");
    assert!(m.contains("(bpf: not permitted)"), "{m}");
    assert!(!m.contains("dump"), "{m}");
    let line = output::coverage(output::Style::Jsonl, "h", &m);
    let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(doc["event"]["dataset"], "sockwarden.coverage");
    assert_eq!(doc["message"], m.as_str());
    // --no-syscall-tracepoints: the swept groups, their period and what that misses.
    let flag = "--no-syscall-tracepoints".to_string();
    let swept = [
        (Swept::RawAndPacket, flag.clone()),
        (Swept::UnixListeners, flag),
    ];
    let m = output::bpf_misses(&[], &swept, std::time::Duration::from_millis(500)).unwrap();
    assert!(
        m.starts_with(
            "watch reads raw and packet sockets and unix listeners from a sock_diag dump every \
             500ms instead of tracing their calls (--no-syscall-tracepoints): one that"
        ),
        "{m}"
    );
    assert!(m.contains("between two dumps is never seen"), "{m}");
    // Each group's own reason when they differ (a group no hook could take).
    let mixed = [
        swept[0].clone(),
        (
            Swept::UnixListeners,
            "no hook could be attached: no BTF".into(),
        ),
    ];
    let m = output::bpf_misses(&[], &mixed, second).unwrap();
    assert!(
        m.contains(
            "raw and packet sockets (--no-syscall-tracepoints) and unix listeners (no hook \
             could be attached: no BTF) from a sock_diag dump every 1s"
        ),
        "{m}"
    );
    let both = output::bpf_misses(&gaps, &swept[..1], second).unwrap();
    assert!(
        both.contains("never sees: UDP connect")
            && both.contains("raw and packet sockets from a sock_diag dump every 1s"),
        "{both}"
    );
}
