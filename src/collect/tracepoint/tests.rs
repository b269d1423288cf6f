use super::*;

/// The format file of Linux 6.18 (recorded from this machine's tracefs).
const FORMAT: &str = include_str!("inet_sock_set_state.format");

#[test]
fn parses_the_recorded_format() {
    let f = parse_format(FORMAT).unwrap();
    assert_eq!(f.id, 2287);
    assert_eq!(
        f.fields,
        [
            (8, 8),
            (16, 4),
            (20, 4),
            (24, 2),
            (26, 2),
            (28, 2),
            (30, 2),
            (32, 4),
            (36, 4),
            (40, 16),
            (56, 16)
        ]
    );
}

#[test]
fn a_missing_or_resized_field_is_refused() {
    let no_daddr6 = FORMAT.replace("daddr_v6", "other");
    assert_eq!(
        parse_format(&no_daddr6),
        Err(FormatError::NoField("daddr_v6"))
    );
    let wide = FORMAT.replace("offset:24;\tsize:2;", "offset:24;\tsize:4;");
    assert_eq!(
        parse_format(&wide),
        Err(FormatError::Size {
            name: "sport",
            size: 4,
            want: 2
        })
    );
    let odd = FORMAT.replace("offset:16;\tsize:4;", "offset:17;\tsize:4;");
    assert_eq!(parse_format(&odd), Err(FormatError::Unaligned("oldstate")));
    assert_eq!(
        parse_format(&FORMAT.replace("ID:", "XX:")),
        Err(FormatError::NoId)
    );
}

#[test]
fn cpu_lists() {
    assert_eq!(parse_cpu_list("0-1\n"), Some(vec![0, 1]));
    assert_eq!(parse_cpu_list("0,2-3,7"), Some(vec![0, 2, 3, 7]));
    assert_eq!(parse_cpu_list("3-1"), None);
    assert_eq!(parse_cpu_list("x"), None);
}

/// Misaligned array fields are copied in smaller pieces; every load is aligned to its size.
#[test]
fn copies_use_aligned_loads() {
    let mut a = Asm::new();
    copy_field(&mut a, 42, 64, 16); // 2 at 42, 4 at 44, 8 at 48, 2 at 56
    let sizes: Vec<u8> = a.code.iter().step_by(2).map(|i| i.code).collect();
    assert_eq!(sizes, vec![0x69, 0x61, 0x79, 0x69]);
    for pair in a.code.chunks(2) {
        let size = match pair[0].code {
            0x79 => 8,
            0x61 => 4,
            0x69 => 2,
            _ => 1,
        };
        assert_eq!(pair[0].off % size, 0, "{pair:?}");
        assert_eq!(pair[1].off - 64, pair[0].off - 42);
    }
}

#[test]
fn jumps_land_on_their_labels() {
    let f = parse_format(FORMAT).unwrap();
    let netns = Some(NetnsOffsets {
        sock_net: 48,
        net_inum: 160,
    });
    for filter in [
        Filter::default(),
        Filter {
            only_netns: Some(4026532000),
            all_transitions: true,
        },
    ] {
        for connects in [None, Some(5)] {
            let p = program(&f, netns, filter, maps(connects));
            well_formed(&p, connects, !filter.all_transitions);
        }
    }
    let p = program(&f, None, Filter::default(), maps(None));
    well_formed(&p, None, true);
}

fn maps(connects: Option<i32>) -> Maps {
    Maps {
        ring: 3,
        tcp: TcpRing::Shared,
        lost: 4,
        connects,
        watermark: 1 << 20,
    }
}

/// Every jump lands inside the program, the last two instructions are `r0 = 0; exit`, and the
/// map references carry the fds given: the ring's (reserve, query: the compact record's, then
/// the full one's), the loss counter's, and the connects' (the slot of a connect, of an
/// outcome) when it keeps connects; `compact`: a program with the compact record (the default
/// filter's).
fn well_formed(p: &[Insn], connects: Option<i32>, compact: bool) {
    for (i, insn) in p.iter().enumerate() {
        if matches!(insn.code, 0x15 | 0x55 | 0x56 | 0x05 | 0xa5) {
            let to = i as i64 + 1 + i64::from(insn.off);
            assert!((0..p.len() as i64).contains(&to), "jump at {i} to {to}");
        }
    }
    assert_eq!(p[p.len() - 1].code, 0x95);
    assert_eq!((p[p.len() - 2].code, p[p.len() - 2].imm), (0xb7, 0));
    let maps: Vec<i32> = p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect();
    let mut want = if compact { vec![3, 3] } else { Vec::new() };
    want.extend([3, 3]);
    if let Some(c) = connects {
        want.extend([c, c, 3, 3]);
    }
    want.push(4);
    assert_eq!(maps, want);
}

/// Every record is submitted without a wake-up unless the ring holds more than the watermark:
/// each submit's flags are chosen by comparing `bpf_ringbuf_query`'s answer with it.
#[test]
fn records_wake_the_reader_only_over_the_watermark() {
    let f = parse_format(FORMAT).unwrap();
    for connects in [None, Some(5)] {
        let p = program(&f, None, Filter::default(), maps(connects));
        let submits: Vec<usize> = (0..p.len())
            .filter(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_SUBMIT)
            .collect();
        // The compact record's, the full one's, and the outcome's with its connect.
        assert_eq!(submits.len(), 2 + usize::from(connects.is_some()));
        for s in submits {
            // query; r2 = NO_WAKEUP; if r0 < wm goto submit; r2 = FORCE; r1 = r7; submit
            let q = &p[s - 5..s];
            assert_eq!((q[0].code, q[0].imm), (0x85, FN_RINGBUF_QUERY));
            assert_eq!(
                (q[1].code, q[1].dst, q[1].imm),
                (0xb7, R2, BPF_RB_NO_WAKEUP)
            );
            assert_eq!(
                (q[2].code, q[2].dst, q[2].imm, q[2].off),
                (0xa5, R0, 1 << 20, 1)
            );
            assert_eq!(
                (q[3].code, q[3].dst, q[3].imm),
                (0xb7, R2, BPF_RB_FORCE_WAKEUP)
            );
        }
    }
}

/// The states each filter lets through: what the jumps before the namespace slot compare. Only
/// the judged and tracked transitions by default; every one into the four states for
/// `--all-events`; the protocol last, so a dropped transition returns without reading the
/// socket (issue 18, session 12).
#[test]
fn the_default_filter_keeps_the_closes_of_connects_and_listeners_only() {
    let f = parse_format(FORMAT).unwrap();
    let compared = |all| {
        let p = program(
            &f,
            None,
            Filter {
                only_netns: None,
                all_transitions: all,
            },
            maps((!all).then_some(5)),
        );
        let keep = p
            .iter()
            .position(|i| i.code == 0x62)
            .expect("the netns slot");
        p[..keep]
            .iter()
            .filter(|i| matches!(i.code, 0x15 | 0x55))
            .map(|i| (i.dst, i.imm as u32))
            .collect::<Vec<_>>()
    };
    use tcp_state::*;
    let (new, old) = (R8, R9);
    assert_eq!(
        compared(true),
        [
            (new, SYN_SENT),
            (new, LISTEN),
            (new, ESTABLISHED),
            (new, CLOSE),
            (2, 6)
        ]
    );
    assert_eq!(
        compared(false),
        [
            (new, SYN_SENT),
            (new, LISTEN),
            (new, ESTABLISHED),
            (new, CLOSE),
            (old, SYN_SENT),
            (old, LISTEN),
            (old, SYN_SENT),
            (old, SYN_RECV),
            (2, 6),
        ]
    );
}

/// The namespace offsets resolve on this machine's BTF (when it has BTF).
#[test]
fn netns_offsets_from_this_kernel() {
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        return;
    };
    let btf = Btf::parse_with_names(&blob, NetnsOffsets::NAMES).unwrap();
    let o = NetnsOffsets::from_btf(&btf).expect("offsets");
    assert!(o.sock_net > 0 && o.net_inum > 0, "{o:?}");
}

/// Made-up socket offsets (a `struct sock` the programs are assembled against, not verified).
fn sock_offsets() -> SockOffsets {
    SockOffsets {
        attach_btf_id: 7,
        protocol: 514,
        family: 16,
        num: 14,
        dport: 12,
        rcv_saddr: 4,
        daddr: 0,
        v6_rcv_saddr: 72,
        v6_daddr: 56,
    }
}

/// The raw tracepoint program's socket offsets resolve on this machine's BTF (when it has
/// BTF), and its programs are well formed with and without the connects hash.
#[test]
fn the_raw_tracepoint_program_reads_the_socket() {
    let o = sock_offsets();
    let netns = Some(NetnsOffsets {
        sock_net: 48,
        net_inum: 160,
    });
    for connects in [None, Some(5)] {
        let p = btf_program(&o, netns, Filter::default(), maps(connects));
        well_formed(&p, connects, true);
        // Its context is the three arguments: sk, oldstate, newstate.
        let ctx: Vec<i16> = p
            .iter()
            .filter(|i| i.code == 0x79 && i.src == 1)
            .map(|i| i.off)
            .collect();
        assert_eq!(&ctx[..3], [16, 8, 0]);
        // The remote port is converted from network order.
        assert!(p.iter().any(|i| i.code == 0xdc && i.imm == 16));
    }
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        return;
    };
    let btf = Btf::parse_with_names(&blob, SockOffsets::NAMES).unwrap();
    let o = SockOffsets::from_btf(&btf).expect("offsets");
    assert!(o.attach_btf_id > 0 && o.protocol > o.family, "{o:?}");
    assert_eq!(o.rcv_saddr, o.daddr + 4, "{o:?}");
}

#[test]
#[should_panic(expected = "label out defined twice")]
fn a_label_defined_twice_is_refused() {
    let mut a = Asm::new();
    a.label("out").label("out");
}

/// Without `--all-events`, only a connect (→ SYN_SENT) or a listen (→ LISTEN) record takes the
/// acting process: the other records (a passive open in softirq, an outcome or close) get the
/// time and zeroes, without the pid, uid, cgroup and comm helpers. With `--all-events` every
/// record takes them (its events print them).
#[test]
fn only_a_connect_or_a_listen_record_reads_the_acting_process() {
    let f = parse_format(FORMAT).unwrap();
    let calls = |p: &[Insn], h: i32| p.iter().filter(|i| i.code == 0x85 && i.imm == h).count();
    for connects in [None, Some(5)] {
        let p = program(&f, None, Filter::default(), maps(connects));
        // The test of the new state, the time alone, then the five zeroed words.
        let at = (0..p.len() - 8)
            .find(|&i| {
                (p[i].code, p[i].dst, p[i].imm) == (0x15, R8, tcp_state::LISTEN as i32)
                    && (p[i + 1].code, p[i + 1].imm) == (0x85, FN_KTIME_GET_NS)
            })
            .expect("the actor test");
        assert_eq!(
            (p[at - 1].code, p[at - 1].dst, p[at - 1].imm),
            (0x15, R8, tcp_state::SYN_SENT as i32)
        );
        let zeroed: Vec<(u8, i16)> = p[at + 3..at + 8].iter().map(|i| (i.code, i.off)).collect();
        assert_eq!(
            zeroed,
            [(0x7a, 16), (0x7a, 24), (0x7a, 32), (0x7a, 96), (0x7a, 104)]
        );
        // Once on the actor path, once in the connects hash's entry (when there is one).
        let comm = calls(&p, FN_GET_CURRENT_COMM);
        assert_eq!(comm, 1 + usize::from(connects.is_some()));
    }
    let all = Filter {
        only_netns: None,
        all_transitions: true,
    };
    let p = program(&f, None, all, maps(None));
    assert!(
        !p.iter().any(|i| i.code == 0x15
            && i.dst == R8
            && i.imm == tcp_state::LISTEN as i32
            && i.off == 0)
    );
    assert_eq!(calls(&p, FN_KTIME_GET_NS), 1);
    assert_eq!(calls(&p, FN_GET_CURRENT_COMM), 1);
}

/// The connects table is an array of slots (its lookup inlined by the verifier): a connect
/// claims its slot with a compare-and-exchange of the tag (the socket's address), its outcome
/// frees it with an exchange after copying the connect out; no hash update or delete is
/// called. Both variants (trace record, raw tracepoint) index the slot in 32 bits, bounded by
/// the table's size.
#[test]
fn connects_are_kept_in_slots_claimed_and_freed_atomically() {
    let f = parse_format(FORMAT).unwrap();
    let o = sock_offsets();
    for p in [
        program(&f, None, Filter::default(), maps(Some(5))),
        btf_program(&o, None, Filter::default(), maps(Some(5))),
    ] {
        let atomics: Vec<i32> = p.iter().filter(|i| i.code == 0xdb).map(|i| i.imm).collect();
        assert_eq!(
            atomics,
            vec![0xf1, 0xe1],
            "cmpxchg at the connect, xchg at the outcome"
        );
        assert!(
            !p.iter()
                .any(|i| i.code == 0x85 && (i.imm == 2 || i.imm == 3))
        );
        // w2 >>= 32 - log2(CONNECTS): the index is below CONNECTS.
        let shift = 32 - CONNECTS.trailing_zeros() as i32;
        assert_eq!(
            p.iter()
                .filter(|i| i.code == 0x74 && i.imm == shift)
                .count(),
            2
        );
        // The outcome's exchange comes after its copy of the slot (six loads from r0).
        let xchg = p
            .iter()
            .position(|i| i.code == 0xdb && i.imm == 0xe1)
            .unwrap();
        let copied = p[..xchg]
            .iter()
            .rev()
            .take(14)
            .filter(|i| i.code == 0x79 && i.src == R0)
            .count();
        assert_eq!(copied, 6);
    }
}

/// Without `--all-events`, an AF_INET socket's record without a process is the compact one
/// (one cache line with the ring's header): its reserve asks for [`COMPACT`]'s length after
/// testing the family and the new state (not → SYN_SENT, not → LISTEN), and every store into
/// it stays inside it. With `--all-events` there is no compact record.
#[test]
fn a_v4_record_without_a_process_is_one_cache_line() {
    let f = parse_format(FORMAT).unwrap();
    let o = sock_offsets();
    let reserves = |p: &[Insn]| -> Vec<i32> {
        (1..p.len())
            .filter(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_RESERVE)
            .map(|i| p[i - 2].imm)
            .collect()
    };
    for connects in [None, Some(5)] {
        for p in [
            program(&f, None, Filter::default(), maps(connects)),
            btf_program(&o, None, Filter::default(), maps(connects)),
        ] {
            let want: &[i32] = match connects {
                None => &[56, 120],
                Some(_) => &[56, 120, 120],
            };
            assert_eq!(reserves(&p), want);
            let reserve = (0..p.len())
                .find(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_RESERVE)
                .unwrap();
            let tests: Vec<(u8, i32)> = p[reserve - 7..reserve - 4]
                .iter()
                .map(|i| (i.dst, i.imm))
                .collect();
            assert_eq!(
                tests,
                [
                    (R1, AF_INET),
                    (R8, tcp_state::SYN_SENT as i32),
                    (R8, tcp_state::LISTEN as i32)
                ]
            );
            let submit = (reserve..p.len())
                .find(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_SUBMIT)
                .unwrap();
            let mut stores = 0;
            for i in &p[reserve..submit] {
                let size = match i.code {
                    0x7b | 0x7a => 8,
                    0x63 | 0x62 => 4,
                    0x6b | 0x6a => 2,
                    0x73 | 0x72 => 1,
                    _ => continue,
                };
                if i.dst == R7 {
                    stores += 1;
                    assert!(i.off >= 0 && i.off as usize + size <= COMPACT.len, "{i:?}");
                }
            }
            // time, skaddr, states, ports, addresses, netns: nine fields.
            assert!(stores >= 9, "{stores}");
        }
    }
    let all = Filter {
        only_netns: None,
        all_transitions: true,
    };
    assert_eq!(reserves(&program(&f, None, all, maps(None))), [120]);
}

/// With a ring per CPU, every reserve looks its CPU's ring up in the rings array (by
/// `bpf_get_smp_processor_id`) and every submit's query reads that ring back from the stack:
/// the shared ring is never named, and a CPU without a ring counts a loss.
#[test]
fn with_rings_per_cpu_each_record_goes_to_its_cpus_ring() {
    let f = parse_format(FORMAT).unwrap();
    let o = sock_offsets();
    for connects in [None, Some(5)] {
        let m = Maps {
            tcp: TcpRing::PerCpu(9),
            ..maps(connects)
        };
        for p in [
            program(&f, None, Filter::default(), m),
            btf_program(&o, None, Filter::default(), m),
        ] {
            let fds: Vec<i32> = p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect();
            assert!(!fds.contains(&3), "the shared ring is not used: {fds:?}");
            let reserves: Vec<usize> = (0..p.len())
                .filter(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_RESERVE)
                .collect();
            assert_eq!(reserves.len(), 2 + usize::from(connects.is_some()));
            for r in reserves {
                // cpu id; key; r1 = rings; r2 = fp + key; lookup (2 + 4); null test; spill;
                // r1 = r0; r2 = len; r3 = 0; reserve
                let w = &p[r - 12..r];
                assert_eq!((w[0].code, w[0].imm), (0x85, FN_GET_SMP_PROCESSOR_ID));
                assert_eq!((w[2].code, w[2].imm), (0x18, 9));
                assert_eq!((w[6].code, w[6].imm), (0x85, FN_MAP_LOOKUP_ELEM));
                assert_eq!((w[7].code, w[7].dst, w[7].imm), (0x15, R0, 0));
                assert_eq!((w[8].code, w[8].dst, w[8].off), (0x7b, FP, RING_SLOT));
            }
            let queries = (1..p.len())
                .filter(|&i| p[i].code == 0x85 && p[i].imm == FN_RINGBUF_QUERY)
                .filter(|&i| (p[i - 2].code, p[i - 2].src, p[i - 2].off) == (0x79, FP, RING_SLOT))
                .count();
            assert_eq!(queries, 2 + usize::from(connects.is_some()));
        }
    }
}

#[test]
fn rings_per_cpu_split_the_ring_size() {
    assert_eq!(cpu_ring_size(4 << 20, 2), 2 << 20);
    assert_eq!(
        cpu_ring_size(4 << 20, 64),
        256 << 10,
        "at least 256 KiB each"
    );
    assert_eq!(
        cpu_ring_size(4096, 2),
        4096,
        "a ring smaller than that stays whole"
    );
    assert_eq!(cpu_ring_size(3 << 20, 2), 2 << 20, "a power of two");
}

/// A program's fdinfo (Linux 6.18, a loaded tracing program) gives its skipped runs; a map's
/// or a link's, which lack the line, give none.
#[test]
fn recursion_misses_come_from_a_programs_fdinfo() {
    let prog = "pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t2081\nprog_type:\t26\n\
                prog_jited:\t1\nprog_tag:\t9a3b1c4d5e6f7081\nmemlock:\t4096\nprog_id:\t93\n\
                run_time_ns:\t0\nrun_cnt:\t0\nrecursion_misses:\t17\nverified_insns:\t212\n";
    assert_eq!(fdinfo_recursion_misses(prog), Some(17));
    let map = "pos:\t0\nflags:\t02000002\nmap_type:\t27\nkey_size:\t0\nvalue_size:\t0\n";
    assert_eq!(fdinfo_recursion_misses(map), None);
}

/// With rings of slots, no record goes through a ring buffer: each of the program's record
/// paths (the compact one, the full one, a connect's outcome) writes into a slot of the array
/// for its length and publishes it with one store-release (or, `Plain`, one store) of the
/// producer count; the shared ring is named only by the doorbells.
#[test]
fn with_rings_of_slots_no_record_goes_through_a_ring_buffer() {
    use super::slotring::{Publish, SlotMap, SlotMaps};
    let f = parse_format(FORMAT).unwrap();
    let o = sock_offsets();
    for publish in [Publish::AcquireRelease, Publish::Plain] {
        let slots = SlotMaps {
            compact: SlotMap {
                fd: 11,
                slot: 64,
                slots: 1024,
            },
            full: SlotMap {
                fd: 12,
                slot: 128,
                slots: 512,
            },
            publish,
            doorbell: 3,
        };
        for connects in [None, Some(5)] {
            let m = Maps {
                tcp: TcpRing::Slots(slots),
                ..maps(connects)
            };
            for p in [
                program(&f, None, Filter::default(), m),
                btf_program(&o, None, Filter::default(), m),
            ] {
                let helpers: Vec<i32> =
                    p.iter().filter(|i| i.code == 0x85).map(|i| i.imm).collect();
                for h in [FN_RINGBUF_RESERVE, FN_RINGBUF_SUBMIT, FN_RINGBUF_QUERY] {
                    assert!(!helpers.contains(&h), "helper {h}: {helpers:?}");
                }
                let paths = 2 + usize::from(connects.is_some());
                // Each path looks its array up twice (the control element, the slot).
                let fds: Vec<i32> = p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect();
                let count = |fd: i32| fds.iter().filter(|&&x| x == fd).count();
                assert_eq!(count(11), 2, "{fds:?}");
                assert_eq!(count(12), 2 * (paths - 1), "{fds:?}");
                assert_eq!(count(3), paths, "a doorbell per path: {fds:?}");
                let publishes = p
                    .iter()
                    .filter(|i| match publish {
                        Publish::AcquireRelease => (i.code, i.imm) == (0xdb, 0x110),
                        Publish::Plain => (i.code, i.off) == (0x7b, 0) && i.dst == R1,
                    })
                    .count();
                assert_eq!(publishes, paths);
                let acquires = p
                    .iter()
                    .filter(|i| (i.code, i.imm) == (0xdb, 0x100))
                    .count();
                assert_eq!(acquires, if publish == Publish::Plain { 0 } else { paths });
            }
        }
    }
}
