use serde_json::json;

use super::*;
use crate::list::filter::lookup::CgroupPaths;
use crate::list::fixtures::{opts, patch, process, snapshot, sock, unix};
use crate::model::{Owner, Process, Protocol::*, TcpInfo, TcpInfoWire};

/// Renders `sockets` (all of them, in the order given) with `flags` and these processes.
fn render(flags: &str, sockets: Vec<Socket>, procs: Vec<Process>) -> String {
    let snap = snapshot(Vec::new(), procs);
    let refs: Vec<&Socket> = sockets.iter().collect();
    render_table(&snap, &refs, &opts(flags, ""))
}

/// One socket without header: nothing is padded, so the line is the cells joined.
fn line(flags: &str, s: &Socket) -> String {
    let out = render(&format!("{flags}H"), vec![s.clone()], Vec::new());
    assert_eq!(
        out.matches('\n').count(),
        1,
        "one socket, one line: {out:?}"
    );
    out.trim_end_matches('\n').to_string()
}

fn owned(mut s: Socket, owners: &[(u32, u32)]) -> Socket {
    s.owners = owners.iter().map(|&(pid, fd)| Owner { pid, fd }).collect();
    s
}

#[test]
fn listener_with_owner_exe_and_user() {
    let mut s = owned(sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0"), &[(100, 3)]);
    s.send_q = 128;
    let sshd = process(100, b"sshd", Some("/usr/sbin/sshd"), Some("root"));
    assert_eq!(
        render("tlpX", vec![s], vec![sshd]),
        "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process                       Exe            User\n\
         LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=100,fd=3)) /usr/sbin/sshd root\n"
    );
}

#[test]
fn several_owners_deleted_exe_and_missing_user() {
    let s = owned(
        sock("tcp LISTEN 127.0.0.1:25000 0.0.0.0:0"),
        &[(10, 3), (11, 4)],
    );
    let main = patch(
        process(10, b"main", Some("/tmp/x"), None),
        json!({"exe_deleted": true, "uid": 1000}),
    );
    let child = process(11, b"child", Some("/memfd:x (deleted)"), Some("bob"));
    let cols = "LISTEN 0 0 127.0.0.1:25000 0.0.0.0:*";
    assert_eq!(
        render("tlpXH", vec![s.clone()], vec![main, child]),
        format!(
            "{cols} users:((\"main\",pid=10,fd=3),(\"child\",pid=11,fd=4)) \
             /tmp/x (deleted),/memfd:x (deleted) 1000,bob\n"
        )
    );
    // Holders whose /proc entries could not be read, and a socket without holders.
    let unread = "users:((\"\",pid=10,fd=3),(\"\",pid=11,fd=4)) ? ?";
    assert_eq!(line("tlpX", &s), format!("{cols} {unread}"));
    assert_eq!(line("tlpX", &owned(s, &[])), format!("{cols} - - -"));
}

/// `-p` alone is ss's Process column; `-X` adds sockwarden's Exe and User.
#[test]
fn process_column_alone_without_x() {
    let s = owned(sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0"), &[(100, 3)]);
    let sshd = process(100, b"sshd", Some("/usr/sbin/sshd"), Some("root"));
    assert_eq!(
        render("tlp", vec![s], vec![sshd]),
        "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
         LISTEN 0      0            0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=100,fd=3))\n"
    );
}

/// Without `-n`, ports outside the ephemeral range print as service names, as ss.
#[test]
fn service_names_unless_numeric() {
    let s = sock("tcp ESTAB 192.0.2.1:22 192.0.2.9:40000");
    let u = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
    let mut o = opts("tuH", "");
    let names = "ssh 22/tcp\ndomain 53/udp\ndomain 53/tcp\nx 40000/tcp\n";
    o.services = Some(std::sync::Arc::new(
        crate::list::filter::lookup::ServiceNames::parse(names),
    ));
    let mut snap = snapshot(Vec::new(), Vec::new());
    snap.meta.ip_local_port_range = Some((32768, 60999));
    let text = render_table(&snap, &[&s, &u], &o);
    assert!(
        text.contains("192.0.2.1:ssh") && text.contains("192.0.2.9:40000"),
        "an ephemeral port stays a number: {text}"
    );
    assert!(text.contains("0.0.0.0:domain"), "{text}");
    o.numeric = true;
    let text = render_table(&snap, &[&s, &u], &o);
    assert!(
        text.contains("192.0.2.1:22") && text.contains("0.0.0.0:53"),
        "{text}"
    );
    // Raw sockets: the protocol's /etc/protocols name, `ipproto-N` without one (ss 6.1).
    let names = crate::list::filter::lookup::ServiceNames::parse("")
        .with_protocols("icmp 1 ICMP\nudp 17 UDP\n");
    let mut o = opts("wH", "");
    o.services = Some(std::sync::Arc::new(names));
    let icmp = sock("raw UNCONN 0.0.0.0:1 0.0.0.0:0");
    let other = sock("raw UNCONN 127.0.0.1:253 0.0.0.0:0");
    let text = render_table(&snap, &[&icmp, &other], &o);
    assert!(
        text.contains("0.0.0.0:icmp ") && text.contains("127.0.0.1:ipproto-253 "),
        "{text}"
    );
    o.numeric = true;
    assert!(render_table(&snap, &[&icmp], &o).contains("0.0.0.0:1 "));
}

#[test]
fn ipv6_wildcards_mapped_and_devices() {
    let mut dual = sock("tcp LISTEN [::]:80 [::]:0");
    assert_eq!(line("tl", &dual), "LISTEN 0 0 *:80 *:*", "v6only unknown");
    dual.v6only = Some(false);
    assert_eq!(line("tl", &dual), "LISTEN 0 0 *:80 *:*");
    dual.v6only = Some(true);
    assert_eq!(line("tl", &dual), "LISTEN 0 0 [::]:80 [::]:*");
    let mapped = sock("tcp ESTAB [::ffff:127.0.0.1]:22502 [::ffff:127.0.0.1]:60542");
    let want = "ESTAB 0 0 [::ffff:127.0.0.1]:22502 [::ffff:127.0.0.1]:60542";
    assert_eq!(line("t", &mapped), want);
    let mut dev = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
    (dev.ifindex, dev.interface) = (Some(2), Some("eth0".into()));
    assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%eth0:53 0.0.0.0:*");
    dev.interface = None;
    assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%2:53 0.0.0.0:*");
    let mut ll = sock("tcp LISTEN [fe80::1]:24000 [::]:0");
    (ll.v6only, ll.ifindex, ll.interface) = (Some(true), Some(2), Some("eth0".into()));
    assert_eq!(line("tl", &ll), "LISTEN 0 0 [fe80::1]%eth0:24000 [::]:*");
}

#[test]
fn unix_names() {
    let mut abs = unix(UnixDgram, State::Close, Some(b"\0ab\0cd"), 164827);
    abs.recv_q = 2;
    let mut path = unix(UnixStream, State::Listen, Some(b"/run/x.sock"), 10);
    path.send_q = 8;
    let mut unnamed = unix(UnixStream, State::Established, None, 20);
    unnamed.unix.as_mut().unwrap().peer = Some(21);
    assert_eq!(line("xa", &abs), "u_dgr UNCONN 2 0 @ab@cd 164827 * 0");
    assert_eq!(line("xa", &path), "u_str LISTEN 0 8 /run/x.sock 10 * 0");
    assert_eq!(line("xa", &unnamed), "u_str ESTAB 0 0 * 20 * 21");
    assert_eq!(
        render("xa", vec![abs, path, unnamed], Vec::new()),
        "Netid State  Recv-Q Send-Q Local Address:Port   Peer Address:Port\n\
         u_dgr UNCONN 2      0             @ab@cd 164827            * 0\n\
         u_str LISTEN 0      8        /run/x.sock 10                * 0\n\
         u_str ESTAB  0      0                  * 20                * 21\n"
    );
}

#[test]
fn packet_sockets_and_bpf() {
    let prog = [
        [0x28, 0, 0, 12],
        [0x15, 0, 3, 2048],
        [0x30, 0, 0, 23],
        [0x15, 0, 1, 17],
    ];
    let prog: Vec<_> = prog
        .iter()
        .chain(&[[6, 0, 0, 262144], [6, 0, 0, 0]])
        .collect();
    let prog: Vec<_> = prog
        .iter()
        .map(|i| json!({"code": i[0], "jt": i[1], "jf": i[2], "k": i[3]}))
        .collect();
    let mut s = sock("p_raw UNCONN");
    (s.inode, s.ifindex, s.interface, s.cookie) =
        (164811, Some(2), Some("eth0".into()), Some(0x7783));
    s.packet = Some(serde_json::from_value(json!({"ethertype": 0x0800, "bpf": prog})).unwrap());
    assert_eq!(line("0", &s), "p_raw 0 0 ip:eth0 *", "ss names ethertypes");
    assert_eq!(line("0n", &s), "p_raw 0 0 [2048]:eth0 *");
    assert_eq!(
        line("0bO", &s),
        "p_raw 0 0 ip:eth0 * bpf filter (6):  0x28 0 0 12, 0x15 0 3 2048, \
         0x30 0 0 23, 0x15 0 1 17, 0x06 0 0 262144, 0x06 0 0 0,",
        "ss's format: two spaces, a comma after each instruction"
    );
    assert_eq!(
        line("0e", &s),
        "p_raw 0 0 ip:eth0 * ino:164811 sk:7783",
        "no ver/flags without PACKET_DIAG_INFO"
    );
    let mut all = sock("p_dgr UNCONN");
    (all.recv_q, all.uid) = (6276, Some(1000));
    let ring = json!({"block_size": 4096, "block_nr": 1, "frame_size": 2048, "frame_nr": 2,
        "retire_tmo": 0, "sizeof_priv": 0, "features": 1});
    let info = json!({"ethertype": 3, "version": 2, "copy_thresh": 0, "flags": 3,
        "rx_ring": ring, "fanout": 42 | (1 << 16)});
    all.packet = Some(serde_json::from_value(info).unwrap());
    assert_eq!(
        render("0bH", vec![all.clone()], Vec::new()),
        "p_dgr 6276 0 *:* *\n"
    );
    // As ss's packet_show_sock(): continuation lines unless -O.
    assert_eq!(
        render("0eH", vec![all.clone()], Vec::new()),
        "p_dgr 6276 0 *:* * uid:1000 ino:1\n\tver:2 cpy_thresh:0 flags( running auxdata )\n\t\
         ring_rx(blk_size:4096,blk_nr:1,frm_size:2048,frm_nr:2,tmo:0,features:0x1)\n\t\
         fanout(id:42,type:lb)\n"
    );
    let mem = json!({"rmem_alloc": 0, "rcvbuf": 212992, "wmem_alloc": 0, "sndbuf": 212992,
        "fwd_alloc": 0, "wmem_queued": 0, "optmem": 0, "backlog": 0, "drops": 0});
    s.memory = Some(serde_json::from_value(mem).unwrap());
    s.packet.as_mut().unwrap().version = Some(0);
    assert_eq!(
        render("0ebmH", vec![s.clone()], Vec::new()),
        "p_raw 0 0 ip:eth0 * ino:164811 sk:7783\n\tver:0 cpy_thresh:0 flags( 0 )\n\t\
         bpf filter (6):  0x28 0 0 12, 0x15 0 3 2048, 0x30 0 0 23, 0x15 0 1 17, \
         0x06 0 0 262144, 0x06 0 0 0, skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)\n"
    );
    s.packet.as_mut().unwrap().flags = Some(2 | 16);
    assert!(
        line("0eO", &s).ends_with(" sk:7783 ver:0 cpy_thresh:0 flags(  auxdata loss )"),
        "ss prints no space before the first name only when it is running: {}",
        line("0eO", &s)
    );
    assert_eq!(
        line("0mO", &s),
        "p_raw 0 0 ip:eth0 * skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)"
    );
}

/// `-e`'s `cgroup:` (after `fwmark:`, as ss's `sock_details_print()`), from the paths the app
/// looked up; an id it could not find is `unreachable:HEX`; the root cgroup is `/`.
#[test]
fn extended_prints_the_cgroup_path() {
    let mut s = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
    (s.cookie, s.mark, s.cgroup_id) = (Some(1), Some(0x10), Some(4242));
    let paths = CgroupPaths::from_pairs([(1, "/"), (4242, "/system.slice/e\x1bvil.service")]);
    let mut o = opts("tlHe", "");
    let snap = snapshot(Vec::new(), Vec::new());
    let text = |o: &ListOptions, s: &Socket| render_table(&snap, &[s], o);
    assert_eq!(
        text(&o, &s),
        "LISTEN 0 0 0.0.0.0:22 0.0.0.0:* ino:1 sk:1 fwmark:0x10 cgroup:unreachable:1092\n"
    );
    o.cgroups = Some(std::sync::Arc::new(paths));
    assert_eq!(
        text(&o, &s),
        "LISTEN 0 0 0.0.0.0:22 0.0.0.0:* ino:1 sk:1 fwmark:0x10 \
         cgroup:/system.slice/e\\x1bvil.service\n",
        "escaped: a delegated cgroup's name is chosen by whoever made it"
    );
    s.cgroup_id = Some(1);
    assert!(text(&o, &s).ends_with(" cgroup:/\n"));
    s.cgroup_id = Some(0);
    assert!(!text(&o, &s).contains("cgroup"), "ss prints no id 0");
    o.extended = false;
    s.cgroup_id = Some(1);
    assert!(!text(&o, &s).contains("cgroup"), "only with -e");
    o.show_cgroup = true;
    assert!(text(&o, &s).ends_with(" cgroup:/\n"), "--cgroup alone");
    o.extended = true;
    assert_eq!(
        text(&o, &s).matches(" cgroup:/").count(),
        2,
        "-e --cgroup: twice, as ss"
    );
    s.cgroup_id = Some(0);
    assert!(
        text(&o, &s).ends_with(" cgroup:unreachable:0\n"),
        "ss: --cgroup prints id 0"
    );
}

/// `-r`: addresses as the host names looked up (ss's `format_host()`), numbers for those
/// without one; a dual-stack wildcard stays `*`; a name is escaped, and bracketed only when it
/// is an IPv6 socket's and holds a colon. Ports keep following `-n`.
#[test]
fn resolve_prints_host_names() {
    let hosts = HostNames::from_pairs([
        ("127.0.0.1".parse().unwrap(), "lo4.sw.test"),
        ("::1".parse().unwrap(), "lo6.sw.test"),
        ("2001:db8::1".parse().unwrap(), "odd:name"),
        ("::ffff:192.0.2.1".parse().unwrap(), "m\x1bapped"),
    ]);
    let mut o = opts("tanH", "");
    o.resolve = true;
    o.hosts = Some(std::sync::Arc::new(hosts));
    let snap = snapshot(Vec::new(), Vec::new());
    let rows = [
        sock("tcp ESTAB 127.0.0.1:22 127.0.0.1:40000"),
        sock("tcp ESTAB [::1]:443 [::1]:40001"),
        sock("tcp LISTEN [::]:443 [::]:0"),
        sock("tcp LISTEN [2001:db8::1]:5001 [::]:0"),
        sock("tcp ESTAB [::ffff:192.0.2.1]:22 [::ffff:192.0.2.7]:5"),
        sock("tcp ESTAB 198.51.100.1:22 203.0.113.7:5"),
    ];
    let refs: Vec<&Socket> = rows.iter().collect();
    let text = render_table(&snap, &refs, &o);
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "ESTAB 0 0 lo4.sw.test:22 lo4.sw.test:40000",
            "ESTAB 0 0 lo6.sw.test:443 lo6.sw.test:40001",
            "LISTEN 0 0 *:443 *:*",
            "LISTEN 0 0 [odd:name]:5001 *:*",
            "ESTAB 0 0 m\\x1bapped:22 [::ffff:192.0.2.7]:5",
            "ESTAB 0 0 198.51.100.1:22 203.0.113.7:5",
        ]
    );
    let addrs = crate::list::host_addresses(&refs);
    assert!(
        !addrs.contains(&"::".parse().unwrap()),
        "the wildcard is `*`: not looked up"
    );
    assert!(addrs.contains(&"203.0.113.7".parse().unwrap()));
}

#[test]
fn hostile_strings_are_escaped() {
    let name = b"/tmp/a\nb\x1b[2J\xe2\x80\xae";
    let s = owned(unix(UnixStream, State::Listen, Some(name), 9), &[(7, 4)]);
    let evil = process(7, b"evil\n\x1b[31m\"", Some("/tmp/\x07x"), Some("r\too\nt"));
    let out = render("xlpXH", vec![s], vec![evil]);
    assert_eq!(
        out,
        "u_str LISTEN 0 0 /tmp/a\\nb\\x1b[2J\\u{202e} 9 * 0 \
         users:((\"evil\\n\\x1b[31m\\\"\",pid=7,fd=4)) /tmp/\\x07x r\\too\\nt\n"
    );
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
    let mut dev = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
    (dev.ifindex, dev.interface) = (Some(9), Some("e\x1bth".into()));
    assert_eq!(line("ul", &dev), "UNCONN 0 0 0.0.0.0%e\\x1bth:53 0.0.0.0:*");
}

#[test]
fn extended_timer_memory_and_info_on_one_line() {
    let mut s = sock("tcp ESTAB 127.0.0.1:54968 127.0.0.1:24004");
    (s.inode, s.send_q, s.uid, s.cookie) = (165, 2803712, Some(1000), Some(0x5683));
    (s.mark, s.shutdown, s.congestion) = (Some(0x2a), Some(0), Some("cubic".into()));
    let timer = json!({"kind": "persist", "expires_ms": 66000, "retrans": 0});
    s.timer = Some(serde_json::from_value(timer).unwrap());
    let mem = json!({"rmem_alloc": 0, "rcvbuf": 131072, "wmem_alloc": 5, "sndbuf": 16384,
        "fwd_alloc": 1, "wmem_queued": 2, "optmem": 0, "backlog": 0});
    s.memory = Some(serde_json::from_value(mem).unwrap());
    let info = json!({"options": 7, "snd_wscale": 7, "rcv_wscale": 6, "rto": 204000,
        "rtt": 1234, "rttvar": 617, "snd_mss": 1448, "pmtu": 65535, "rcv_mss": 536,
        "advmss": 65483, "snd_cwnd": 10, "snd_ssthresh": 0x7fffffff, "reordering": 3,
        "last_data_sent": 10, "last_ack_recv": 30, "rcv_ssthresh": 64088, "bytes_sent": 100,
        "bytes_acked": 101, "segs_out": 5, "segs_in": 4, "min_rtt": 31, "total_retrans": 2,
        "snd_wnd": 65536});
    s.tcp_info = Some(patch(TcpInfo::default(), info).into());
    let cols = "ESTAB 0 2803712 127.0.0.1:54968 127.0.0.1:24004";
    assert_eq!(line("t", &s), cols);
    assert_eq!(line("to", &s), format!("{cols} timer:(persist,1min6sec,0)"));
    assert_eq!(
        line("temO", &s),
        format!(
            "{cols} timer:(persist,1min6sec,0) uid:1000 ino:165 sk:5683 fwmark:0x2a <-> \
             skmem:(r0,rb131072,t5,tb16384,f1,w2,o0,bl0)"
        )
    );
    let info = "cubic wscale:7,6 rto:204 rtt:1.234/0.617 mss:1448 pmtu:65535 rcvmss:536 \
                advmss:65483 cwnd:10 bytes_sent:100 bytes_acked:101 segs_out:5 segs_in:4 \
                send 93.9Mbps lastsnd:10 lastack:30 retrans:0/2 rcv_ssthresh:64088 \
                minrtt:0.031 snd_wnd:65536";
    assert_eq!(line("tiO", &s), format!("{cols} {info}"));
    assert_eq!(
        line("tioO", &s),
        format!("{cols} timer:(persist,1min6sec,0) ts sack {info}"),
        "the options (ts sack ...) only with ss's show_options: -o, -e or -b"
    );
    let mut wire = TcpInfoWire::from(&**s.tcp_info.as_ref().unwrap());
    wire.rcv_wnd = Some(65535);
    s.tcp_info = Some(Box::new(wire.into()));
    assert_eq!(
        line("tiO", &s),
        format!("{cols} {info}"),
        "ss 6.1 has no rcv_wnd"
    );
    assert_eq!(
        render("tmH", vec![s.clone()], Vec::new()),
        format!("{cols}\n\t skmem:(r0,rb131072,t5,tb16384,f1,w2,o0,bl0)\n"),
        "as ss: memory on a continuation line unless -O"
    );
    (s.shutdown, s.family, s.v6only) = (Some(1), Family::Inet6, Some(false));
    assert!(line("te", &s).ends_with(" v6only:0 -->"));
    s.shutdown = Some(2);
    assert!(line("te", &s).ends_with(" <--"));
    s.shutdown = Some(3);
    assert!(line("te", &s).ends_with(" ---"));
}

/// The `-i` rates and times ss 6.1 prints: send, pacing_rate (with its maximum),
/// delivery_rate, app_limited, busy and the limited shares; `-n` prints rates in whole bits.
#[test]
fn info_rates_and_busy_times_follow_ss() {
    let mut s = sock("tcp ESTAB 127.0.0.1:54968 127.0.0.1:24004");
    let info = json!({"rtt": 1000, "snd_mss": 1000, "snd_cwnd": 10, "reordering": 3,
        "snd_ssthresh": 0x7fffffff, "pacing_rate": 1_250_000u64, "max_pacing_rate": 125u64,
        "delivery_rate": 125_000u64, "delivery_rate_app_limited": true,
        "busy_time": 2_000_000u64, "rwnd_limited": 500_000u64, "sndbuf_limited": 0u64,
        "delivered": 7});
    s.tcp_info = Some(patch(TcpInfo::default(), info).into());
    let cols = "ESTAB 0 0 127.0.0.1:54968 127.0.0.1:24004";
    assert_eq!(
        line("tiO", &s),
        format!(
            "{cols} rtt:1/0 mss:1000 cwnd:10 send 80Mbps pacing_rate 10Mbps/1kbps \
             delivery_rate 1Mbps delivered:7 app_limited busy:2000ms rwnd_limited:500ms(25.0%)"
        )
    );
    assert!(
        line("tinO", &s).contains(" send 80000000bps pacing_rate 10000000bps/1000bps "),
        "{}",
        line("tinO", &s)
    );
    // BBR's block follows data_segs_in, before send (tcp_stats_print()).
    s.bbr = Some(Box::new(crate::model::BbrInfo {
        bw: 566_284_684,
        min_rtt: 12,
        pacing_gain: 739,
        cwnd_gain: 0,
    }));
    assert!(
        line("tiO", &s)
            .contains("cwnd:10 bbr:(bw:4.53Gbps,mrtt:0.012,pacing_gain:2.88672) send 80Mbps"),
        "{}",
        line("tiO", &s)
    );
    assert!(line("tinO", &s).contains(" bbr:(bw:4530277472bps,mrtt:0.012,pacing_gain:2.88672) "));
    s.bbr = None;
    let info = json!({"pacing_rate": u64::MAX, "reordering": 3, "snd_ssthresh": 0x7fffffff});
    s.tcp_info = Some(patch(TcpInfo::default(), info).into());
    assert_eq!(line("tiO", &s), cols, "unlimited pacing is not printed");
    for (v, text) in [
        (999.4, "999"),
        (999.5, "1e+03"),
        (12.345, "12.3"),
        (0.5, "0.5"),
    ] {
        assert_eq!(fmt_gp(v, 3), text, "{v}");
    }
}

#[test]
fn timer_and_number_formats_follow_ss() {
    let timers = [
        (66_000, "1min6sec"),
        (59_000, "59sec"),
        (748, "748ms"),
        (5, "005ms"),
    ];
    let more = [
        (4_488, "4.488sec"),
        (12_345, "12sec"),
        (660_000, "11min"),
        (0, ""),
    ];
    for (ms, text) in timers
        .into_iter()
        .chain(more)
        .chain([(7_140_000, "119min")])
    {
        assert_eq!(ms_timer(ms), text, "{ms}");
    }
    let nums = [
        (1.234, "1.234"),
        (204.0, "204"),
        (0.031, "0.031"),
        (12.5, "12.5"),
    ];
    let more = [
        (1234.567, "1234.57"),
        (1_234_567.0, "1.23457e+06"),
        (0.0, "0"),
    ];
    for (v, text) in nums.into_iter().chain(more) {
        assert_eq!(fmt_g(v), text, "{v}");
    }
}

#[test]
fn header_rules_and_empty_output() {
    let header = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n";
    assert_eq!(render("tu", Vec::new(), Vec::new()), header);
    let no_state = "Recv-Q Send-Q Local Address:Port Peer Address:Port\n";
    assert_eq!(render("u", Vec::new(), Vec::new()), no_state);
    assert_eq!(render("tH", Vec::new(), Vec::new()), "");
    let s = sock("udp ESTAB 10.0.0.1:40000 10.0.0.53:53");
    assert_eq!(line("u", &s), "0 0 10.0.0.1:40000 10.0.0.53:53");
}

/// Netlink rows as ss 6.1 prints them: `PROTO:PORT`, `kernel` for port id 0, `COMM/PID` for a
/// process the snapshot knows, negative autobound ids, `GROUP:PORTID` peers, `-e` groups.
#[test]
fn netlink_rows_as_ss_prints_them() {
    let kernel = sock("nl UNCONN 0:0");
    assert_eq!(line("", &kernel), "nl UNCONN 0 0 rtnl:kernel *");
    assert_eq!(line("n", &kernel), "nl UNCONN 0 0 0:0 *");
    let mine = sock("nl UNCONN 16:4242");
    let py = process(4242, b"python3", None, None);
    assert_eq!(
        render("H", vec![mine.clone()], vec![py]),
        "nl UNCONN 0 0 genl:python3/4242 *\n"
    );
    assert_eq!(
        line("", &mine),
        "nl UNCONN 0 0 genl:4242 *",
        "no such process"
    );
    assert_eq!(
        line("", &sock("nl UNCONN 16:-4123")),
        "nl UNCONN 0 0 genl:-4123 *"
    );
    assert_eq!(
        line("", &sock("nl UNCONN 17:5")),
        "nl UNCONN 0 0 17:5 *",
        "no name"
    );
    let mut up = sock("nl UNCONN 15:77");
    if let Some(n) = up.netlink.as_mut() {
        (n.dst_group, n.dst_portid, n.groups) = (Some(1), Some(0), vec![1, 3, 33]);
    }
    assert_eq!(line("", &up), "nl UNCONN 0 0 uevent:77 1:0");
    assert_eq!(
        line("e", &up),
        "nl UNCONN 0 0 uevent:77 1:0 sk=0 cb=0 groups=0x00000005"
    );
}
