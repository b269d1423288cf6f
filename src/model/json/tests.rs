use super::*;
use crate::model::*;
use std::collections::BTreeMap;

/// Every field present (struct literals: a field added to the model must be added here).
// Long on purpose: one literal with every field of a socket set, so the encoder is checked
// against serde_json on all of them at once.
fn full_socket(protocol: Protocol, family: Family, state: State, i: u64) -> Socket {
    let tcp = TcpInfoWire {
        state: 1,
        ca_state: 2,
        retransmits: 3,
        probes: 4,
        backoff: 5,
        options: 6,
        snd_wscale: 7,
        rcv_wscale: 255,
        rto: 204000,
        ato: 40000,
        snd_mss: 32768,
        rcv_mss: 536,
        unacked: 1,
        sacked: 2,
        lost: 3,
        retrans: 4,
        last_data_sent: 5,
        last_ack_sent: 6,
        last_data_recv: 7,
        last_ack_recv: 8,
        pmtu: 65535,
        rcv_ssthresh: 65483,
        rtt: 18,
        rttvar: 9,
        snd_ssthresh: u32::MAX,
        snd_cwnd: 10,
        advmss: 65483,
        reordering: 3,
        rcv_rtt: Some(1),
        rcv_space: Some(2),
        total_retrans: Some(3),
        pacing_rate: Some(u64::MAX),
        max_pacing_rate: Some(5),
        bytes_acked: Some(6),
        bytes_received: Some(7),
        segs_out: Some(8),
        segs_in: Some(9),
        notsent_bytes: Some(10),
        min_rtt: Some(11),
        data_segs_in: Some(12),
        data_segs_out: Some(13),
        delivery_rate: Some(14),
        busy_time: Some(15),
        rwnd_limited: Some(16),
        sndbuf_limited: Some(17),
        delivered: Some(18),
        delivered_ce: Some(19),
        bytes_sent: Some(20),
        bytes_retrans: Some(21),
        dsack_dups: Some(22),
        reord_seen: Some(23),
        rcv_ooopack: Some(24),
        snd_wnd: Some(25),
        rcv_wnd: Some(26),
        delivery_rate_app_limited: Some(true),
    };
    Socket {
        protocol,
        family,
        state,
        local: Some(Endpoint {
            address: "::ffff:192.0.2.1".parse().unwrap(),
            port: 0,
        }),
        remote: Some(Endpoint {
            address: "198.51.100.255".parse().unwrap(),
            port: 65535,
        }),
        ifindex: Some(3),
        interface: Some("veth\"0\\\n\u{1b}é".into()),
        uid: Some(0),
        inode: i,
        cookie: Some(u64::MAX),
        recv_q: 1,
        send_q: u32::MAX,
        timer: Some(Timer {
            kind: KnownTimer::Keepalive.into(),
            expires_ms: 7200000,
            retrans: 0,
        }),
        shutdown: Some(3),
        mark: Some(0xdead),
        v6only: Some(i.is_multiple_of(2)),
        congestion: Some("cubic".into()),
        tcp_info: Some(Box::new(tcp.into())),
        tcp_kept: None,
        bbr: Some(Box::new(BbrInfo {
            bw: u64::MAX,
            min_rtt: 12345,
            pacing_gain: 739,
            cwnd_gain: 512,
        })),
        memory: Some(Box::new(SkMemInfo {
            rmem_alloc: 0,
            rcvbuf: 131072,
            wmem_alloc: 0,
            sndbuf: 16384,
            fwd_alloc: 0,
            wmem_queued: 0,
            optmem: 0,
            backlog: Some(0),
            drops: Some(1),
        })),
        cgroup_id: Some(12345),
        unix: Some(Box::new(UnixInfo {
            name: Some(ByteString(vec![b'/', 0xff, b'x', b'"'])),
            r#abstract: true,
            peer: Some(99),
            pending: vec![1, 2, 3],
            backlog: Some(128),
            vfs_inode: Some(4),
            vfs_dev: Some(5),
        })),
        packet: Some(Box::new(PacketInfo {
            ethertype: 0x0800,
            version: Some(2),
            copy_thresh: Some(0),
            flags: Some(1),
            rx_ring: Some(PacketRing {
                block_size: 4096,
                block_nr: 1,
                frame_size: 2048,
                frame_nr: 2,
                retire_tmo: 0,
                sizeof_priv: 0,
                features: 0,
            }),
            tx_ring: None,
            fanout: Some(0),
            bpf: Some(vec![
                BpfInsn {
                    code: 6,
                    jt: 0,
                    jf: 255,
                    k: u32::MAX,
                },
                BpfInsn {
                    code: 0x28,
                    jt: 1,
                    jf: 2,
                    k: 12,
                },
            ]),
        })),
        netlink: Some(Box::new(NetlinkInfo {
            protocol: 16,
            r#type: "raw\"x".into(),
            portid: u32::MAX - 4095,
            dst_portid: Some(0),
            dst_group: Some(1),
            groups: vec![1, 3, 33],
            flags: Some(8),
        })),
        owners: smallvec::smallvec![Owner { pid: 1, fd: 0 }, Owner { pid: 2, fd: 7 }],
        netns: Some(4026531840),
        views: [View::Netlink, View::Fdwalk, View::Taskfiles]
            .into_iter()
            .collect(),
        hidden: Views::NONE.with(View::Procnet),
    }
}

fn assert_same_as_serde(s: &Socket) {
    let mut ours = Vec::new();
    socket(&mut ours, s);
    let reference = serde_json::to_vec(s).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&reference)
    );
    assert_eq!(ours, reference);
}

#[test]
fn socket_writer_equals_serde_json_for_every_variant_and_part() {
    for (i, p) in Protocol::ALL.into_iter().enumerate() {
        for f in Family::ALL {
            for st in State::ALL {
                assert_same_as_serde(&full_socket(p, f, st, i as u64));
                assert_same_as_serde(&Socket::new(p, f, st, 0));
            }
        }
    }
    // Each optional part absent in turn, and the sparse forms of the nested parts.
    let full = full_socket(Protocol::Tcp, Family::Inet6, State::Established, 1);
    let variants: Vec<fn(&mut Socket)> = vec![
        |s| s.local = None,
        |s| s.remote = None,
        |s| s.ifindex = None,
        |s| s.interface = Some("".into()),
        |s| s.interface = Some("eth0".into()),
        |s| s.uid = None,
        |s| s.cookie = None,
        |s| s.timer = None,
        |s| s.shutdown = None,
        |s| s.mark = None,
        |s| s.v6only = None,
        |s| s.congestion = None,
        |s| s.tcp_info = Some(Box::default()),
        |s| {
            let t = s.tcp_info.as_mut().unwrap();
            let mut w = TcpInfoWire::from(&**t);
            w.delivery_rate_app_limited = Some(false);
            (w.rcv_rtt, w.bytes_acked, w.rcv_wnd) = (None, None, Some(0));
            **t = w.into();
        },
        |s| s.memory.as_mut().unwrap().backlog = None,
        |s| s.memory.as_mut().unwrap().drops = None,
        |s| s.cgroup_id = None,
        |s| s.bbr = None,
        |s| {
            s.unix = Some(Box::new(UnixInfo {
                name: None,
                r#abstract: false,
                peer: None,
                pending: Vec::new(),
                backlog: None,
                vfs_inode: None,
                vfs_dev: None,
            }))
        },
        |s| s.unix.as_mut().unwrap().name = Some(ByteString(b"@plain".to_vec())),
        |s| s.unix.as_mut().unwrap().name = None,
        |s| s.unix.as_mut().unwrap().r#abstract = false,
        |s| s.unix.as_mut().unwrap().pending.clear(),
        |s| s.packet.as_mut().unwrap().bpf = Some(Vec::new()),
        |s| s.packet.as_mut().unwrap().bpf = None,
        |s| s.packet.as_mut().unwrap().version = None,
        |s| s.netlink.as_mut().unwrap().groups.clear(),
        |s| {
            let n = s.netlink.as_mut().unwrap();
            (n.dst_portid, n.dst_group, n.flags) = (None, None, None);
        },
        |s| s.owners.clear(),
        |s| s.netns = None,
        |s| s.views = Views::NONE,
        |s| s.hidden = Views::NONE,
        |s| s.views = Views::NONE.with(View::Procnet),
        |s| {
            s.local = Some(Endpoint {
                address: "fe80::1".parse().unwrap(),
                port: 22,
            })
        },
        |s| {
            s.local = Some(Endpoint {
                address: "0.0.0.0".parse().unwrap(),
                port: 22,
            })
        },
    ];
    for v in variants {
        let mut s = full.clone();
        v(&mut s);
        assert_same_as_serde(&s);
    }
}

#[test]
fn parallel_output_equals_serde_json() {
    let mut sockets = Vec::new();
    // More than two windows, the last one partial: buffers are reused across windows.
    for i in 0..(BATCH * WINDOW * 2 + BATCH * 3 + 17) {
        let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Established, i as u64);
        s.local = Some(Endpoint {
            address: "127.0.0.1".parse().unwrap(),
            port: (i % 60000) as u16,
        });
        s.owners = smallvec::smallvec![Owner {
            pid: 7,
            fd: i as u32,
        }];
        sockets.push(s);
    }
    let snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta: Meta {
            tool: Tool {
                name: "sockwarden".into(),
                version: "0".into(),
            },
            hostname: "h\n\"x".into(),
            kernel: "k".into(),
            boot_id: "b".into(),
            taken_at: "t".into(),
            netns: Some(1),
            privileged: true,
            sources: BTreeMap::from([("tcp".to_string(), "netlink".to_string())]),
            attribution: true,
            ip_local_port_range: Some((32768, 60999)),
            resolvers: Some(vec!["192.0.2.53".parse().unwrap()]),
            ld_so_preload: Some(vec!["/tmp/x\u{1b}.so".into()]),
            self_preload: Some(vec!["libhide.so".into()]),
            evidence: None,
            views: Some(ViewCoverage {
                read: BTreeMap::from([(View::Netlink, vec![Protocol::Tcp])]),
                missing: BTreeMap::from([(View::Taskfiles, "no \"BTF\"".into())]),
                rechecked: 2,
                churn: 1,
            }),
        },
        sockets,
        processes: Vec::new(),
        namespaces: vec![Namespace {
            inode: 4026531840,
            name: Some("blue".into()),
            current: true,
            pids: vec![1, 2],
            containers: vec![],
        }],
        warnings: vec![Warning {
            code: "c".into(),
            count: 1,
            message: "m".into(),
            pids: vec![7, 9],
        }],
        gaps: vec![Gap {
            scope: "netns:x".into(),
            reason: "r".into(),
        }],
    };
    let mut ours = Vec::new();
    snap.write_json(&mut ours, false).unwrap();
    let mut reference = serde_json::to_vec(&snap).unwrap();
    reference.push(b'\n');
    assert_eq!(ours, reference);
    let mut empty = snap.clone();
    empty.sockets.clear();
    let mut ours = Vec::new();
    empty.write_json(&mut ours, false).unwrap();
    let mut reference = serde_json::to_vec(&empty).unwrap();
    reference.push(b'\n');
    assert_eq!(ours, reference);
}

/// tcp_info is encoded in a fixed buffer: its largest encoding (every field present at its type's
/// maximum) must fit, and still equal serde_json's.
#[test]
fn the_largest_tcp_info_fits_its_buffer() {
    let full = full_socket(Protocol::Tcp, Family::Inet, State::Established, 1)
        .tcp_info
        .unwrap();
    let mut v = serde_json::to_value(&*full).unwrap();
    let keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    assert!(keys.len() >= 54, "every field present: {}", keys.len());
    for k in &keys {
        // The widest value the field's type takes.
        for max in [
            u64::MAX,
            u64::from(u32::MAX),
            u64::from(u16::MAX),
            u64::from(u8::MAX),
        ] {
            let mut trial = v.clone();
            trial[k.as_str()] = max.into();
            if serde_json::from_value::<TcpInfo>(trial.clone()).is_ok() {
                v = trial;
                break;
            }
        }
    }
    let widest: TcpInfo = serde_json::from_value(v).unwrap();
    let mut out = Vec::new();
    tcp_info_json(&mut out, &widest);
    assert!(out.len() <= TCP_INFO_MAX, "{} bytes", out.len());
    assert!(
        out.len() > 1000,
        "the maxima were applied: {} bytes",
        out.len()
    );
    assert_eq!(out, serde_json::to_vec(&widest).unwrap());
}
