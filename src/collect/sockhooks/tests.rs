use super::*;
use crate::collect::tracepoint::FN_MAP_LOOKUP_ELEM;

/// `syscalls:sys_enter_socket` and `sys_exit_socket` of Linux 6.18 (this machine's tracefs).
const ENTER: &str = "name: sys_enter_socket\nID: 2242\nformat:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:int family;\toffset:16;\tsize:8;\tsigned:0;\n\
    \tfield:int type;\toffset:24;\tsize:8;\tsigned:0;\n\
    \tfield:int protocol;\toffset:32;\tsize:8;\tsigned:0;\n";
const EXIT: &str = "name: sys_exit_socket\nID: 2241\nformat:\n\
    \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n";

#[test]
fn syscall_formats() {
    let f = parse_syscall_format(ENTER, &["family", "type", "protocol"]).unwrap();
    assert_eq!(
        f,
        SyscallFormat {
            id: 2242,
            args: [16, 24, 32]
        }
    );
    let f = parse_syscall_format(EXIT, &["ret"]).unwrap();
    assert_eq!(f.args[0], 16);
    assert!(
        parse_syscall_format(ENTER, &["fd"])
            .unwrap_err()
            .contains("no field fd")
    );
    let narrow = ENTER.replace("offset:24;\tsize:8", "offset:24;\tsize:4");
    assert!(parse_syscall_format(&narrow, &["type"]).is_err());
    assert!(parse_syscall_format(&ENTER.replace("ID:", "X:"), &["type"]).is_err());
}

#[test]
fn the_cgroup2_root_from_mountinfo() {
    let hybrid = "25 20 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
        33 25 0:28 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n";
    assert_eq!(
        cgroup2_root(hybrid),
        Some(PathBuf::from("/sys/fs/cgroup/unified"))
    );
    // A container's view of a sub-tree is not the root; an escaped space is decoded.
    let sub = "33 25 0:28 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n\
        34 25 0:28 / /mnt/cg\\0402 rw - cgroup2 cgroup2 rw\n";
    assert_eq!(cgroup2_root(sub), Some(PathBuf::from("/mnt/cg 2")));
    assert_eq!(cgroup2_root("1 2 0:1 / / rw - ext4 /dev/sda rw\n"), None);
}

/// Plausible offsets: the program's shape does not depend on their values.
const UNIX: UnixOffsets = UnixOffsets {
    task_files: 2000,
    files_fdt: 32,
    fdt_max_fds: 0,
    fdt_fd: 8,
    file_inode: 32,
    file_private: 200,
    inode_mode: 0,
    inode_ino: 64,
    socket_sk: 24,
    socket_type: 4,
    sk_family: 16,
    unix_addr: 776,
    addr_len: 4,
    addr_name: 8,
    netns: Some(NetnsOffsets {
        sock_net: 48,
        net_inum: 160,
    }),
    socket_ino: Some(192),
};

/// `syscalls:sys_enter_listen` of Linux 6.18.
const LISTEN: &str = "name: sys_enter_listen\nID: 2230\nformat:\n\
    \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:int fd;\toffset:16;\tsize:8;\tsigned:0;\n\
    \tfield:int backlog;\toffset:24;\tsize:8;\tsigned:0;\n";

/// Every jump of every program lands inside it, and each ends in `r0 = RET; exit`.
#[test]
fn programs_are_well_formed() {
    let enter = parse_syscall_format(ENTER, &["family", "type", "protocol"]).unwrap();
    let exit = parse_syscall_format(EXIT, &["ret"]).unwrap();
    let listen = parse_syscall_format(LISTEN, &["fd", "backlog"]).unwrap();
    let programs = [
        (sock_addr_program(false, None, 3, 4), 1),
        (sock_addr_program(true, Some(5), 3, 4), 1),
        (post_bind_program(true, 3, 4), 1),
        (socket_enter_program(&enter, 5, 6), 0),
        (socket_exit_program(&exit, 5, 6, 3, 4), 0),
        (unix_listen_program(&listen, &UNIX, None, 3, 4), 0),
        (
            unix_listen_program(&listen, &UNIX, Some(4026532000), 3, 4),
            0,
        ),
        (socket_fexit_program(3, 4), 0),
        (
            unix_listen_fexit_program(&UNIX, 192, Some(4026532000), 3, 4),
            0,
        ),
    ];
    for (p, ret) in programs {
        for (i, insn) in p.iter().enumerate() {
            if matches!(
                insn.code,
                0x15 | 0x55 | 0x56 | 0x3d | 0x05 | 0xc5 | 0x16 | 0xc6
            ) {
                let to = i as i64 + 1 + i64::from(insn.off);
                assert!((0..p.len() as i64).contains(&to), "jump at {i} to {to}");
            }
        }
        assert_eq!(p[p.len() - 1].code, 0x95);
        assert_eq!((p[p.len() - 2].code, p[p.len() - 2].imm), (0xb7, ret));
    }
}

/// The peer LRU's key is the cookie, the peer's address and its port, copied from the record.
#[test]
fn the_send_program_consults_the_peer_map_before_writing() {
    let p = sock_addr_program(false, Some(5), 3, 4);
    let maps: Vec<i32> = p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect();
    // peers (lookup, update), ring, lost counter.
    assert_eq!(maps, vec![5, 5, 3, 4]);
    let connect = sock_addr_program(false, None, 3, 4);
    let maps: Vec<i32> = connect
        .iter()
        .filter(|i| i.code == 0x18)
        .map(|i| i.imm)
        .collect();
    assert_eq!(maps, vec![3, 4]);
}

/// The unix listener's offsets resolve on this machine's BTF (when it has BTF).
#[test]
fn unix_offsets_from_this_kernel() {
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        return;
    };
    let btf = Btf::parse_with_names(&blob, UnixOffsets::NAMES).unwrap();
    let o = UnixOffsets::from_btf(&btf).expect("offsets");
    assert!(
        o.task_files > 0 && o.file_private > 0 && o.unix_addr > 0,
        "{o:?}"
    );
    assert!(o.addr_name > o.addr_len && o.netns.is_some(), "{o:?}");
}

/// With a namespace, the program compares the socket's namespace in 32 bits (an inode above
/// 2^31 is negative as an immediate) and returns before writing a record.
#[test]
fn the_unix_program_filters_by_namespace_in_32_bits() {
    let listen = parse_syscall_format(LISTEN, &["fd", "backlog"]).unwrap();
    let p = unix_listen_program(&listen, &UNIX, Some(4026532000), 3, 4);
    let jne32: Vec<i32> = p.iter().filter(|i| i.code == 0x56).map(|i| i.imm).collect();
    assert_eq!(jne32, [4026532000u32 as i32]);
    let all = unix_listen_program(&listen, &UNIX, None, 3, 4);
    assert!(all.iter().all(|i| i.code != 0x56));
}

/// A probe of the kernel (session 10; root, run by hand with `--ignored --nocapture`): which
/// BTF-typed program types load and attach. It prints each load's error and verifier log
/// (docs/watch.md, "Why fexit first": on the test machine every trampoline type fails with
/// EPERM and an empty log, even for a struct's id) and asserts what watch relies on: the raw
/// tracepoints load and link.
#[test]
#[ignore]
fn probe_btf_program_types() {
    let blob = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    let btf = Btf::parse(&blob).unwrap();
    let ret0 = [ins(0xb7, 0, 0, 0, 0), ins(0x95, 0, 0, 0, 0)];
    let code: Vec<u8> = ret0.iter().flat_map(|i| i.bytes()).collect();
    let license = c"GPL";
    let cases: [(u32, u32, u8, &str); 10] = [
        (26, 24, 4, "socket"),
        (26, 26, 12, "__sys_listen"),
        (29, 27, 12, "bpf_lsm_socket_listen"),
        (26, 24, 12, "__sys_listen"),
        (26, 25, 12, "unix_listen"),
        (26, 24, 12, "security_socket_listen"),
        (26, 25, 12, "__sys_socket"),
        (26, 24, 12, "inet_listen"),
        (26, 23, 8, "btf_trace_inet_sock_set_state"),
        (26, 23, 8, "btf_trace_sys_enter"),
    ];
    let mut raw_linked = 0;
    for (ty, at, kind, name) in cases {
        let id = btf.find(kind, name);
        let Ok(id) = id else {
            eprintln!("{name}: no BTF id");
            continue;
        };
        let mut log = vec![0u8; 65536];
        let mut attr = Attr::new();
        attr.u32(0, ty)
            .u32(4, ret0.len() as u32)
            .u64(8, code.as_ptr() as u64)
            .u64(16, license.as_ptr() as u64)
            .u32(24, 2)
            .u32(28, log.len() as u32)
            .u64(32, log.as_mut_ptr() as u64)
            .u32(68, at)
            .u32(108, id);
        let r = bpf(5, &mut attr);
        let text = String::from_utf8_lossy(&log);
        let text = text.trim_end_matches('\0');
        match r {
            Err(e) => eprintln!("{name} (type {ty}, attach {at}, id {id}): load {e}; log: {text}"),
            Ok(fd) => {
                let mut a = Attr::new();
                a.u32(0, fd.as_raw_fd() as u32).u32(8, at);
                let l = bpf(BPF_LINK_CREATE, &mut a);
                eprintln!("{name}: loaded; link_create {:?}", l.as_ref().map(|_| ()));
                raw_linked += usize::from(at == 23 && l.is_ok());
            }
        }
    }
    assert_eq!(raw_linked, 2, "the two raw tracepoints load and link");
}

/// The fexit programs read their arguments from the context's u64 slots, the return value
/// last (`__sys_socket`: three arguments, so at 24; `unix_listen`: two, at 16), and compare
/// the ints in 32 bits (0x16 JEQ32, 0x56 JNE32, 0xc6 JSLT32): the upper halves of an int's
/// slot are not defined.
#[test]
fn the_fexit_programs_read_their_arguments_and_return_value() {
    let p = socket_fexit_program(3, 4);
    let ctx: Vec<i16> = p
        .iter()
        .filter(|i| i.code == 0x79 && i.src == 6)
        .map(|i| i.off)
        .collect();
    assert_eq!(ctx, [0, 8, 16, 24, 24]);
    assert!(p.iter().any(|i| i.code == 0xc6 && i.imm == 0), "ret < 0");
    // The family (r7), the type and the return value (r2): 32-bit compares only (the
    // helpers' results, in r0, are compared in 64).
    assert!(
        p.iter()
            .all(|i| !(matches!(i.code, 0x15 | 0x55) && matches!(i.dst, 2 | 7))),
        "64-bit compares of ints"
    );
    let u = unix_listen_fexit_program(&UNIX, 192, None, 3, 4);
    let ctx: Vec<i16> = u
        .iter()
        .filter(|i| i.code == 0x79 && i.src == 6)
        .map(|i| i.off)
        .collect();
    assert_eq!(ctx, [16, 8, 0]);
    assert_eq!(
        (u[2].code, u[2].imm),
        (0x56, 0),
        "a failed listen() is not written"
    );
}

/// `sys_exit_socket` runs for every `socket()` call of every task: it reads the one-slot count
/// of kept calls (an array, fd 6) first and consults the pending map (fd 5) only when the count
/// is not 0, then takes one off it; the entry adds one for each call it keeps.
#[test]
fn the_socket_exit_consults_the_pending_map_only_when_a_call_was_kept() {
    let enter = parse_syscall_format(ENTER, &["family", "type", "protocol"]).unwrap();
    let exit = parse_syscall_format(EXIT, &["ret"]).unwrap();
    let maps =
        |p: &[Insn]| -> Vec<i32> { p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect() };
    let x = socket_exit_program(&exit, 5, 6, 3, 4);
    // kept (read), pending (lookup, delete), kept (decrement), ring, lost.
    assert_eq!(maps(&x), vec![6, 5, 5, 6, 3, 4]);
    // The count is tested before any helper other than the array lookup runs.
    let first_helpers: Vec<i32> = x
        .iter()
        .filter(|i| i.code == 0x85)
        .take(2)
        .map(|i| i.imm)
        .collect();
    assert_eq!(
        first_helpers,
        vec![FN_MAP_LOOKUP_ELEM, FN_GET_CURRENT_PID_TGID]
    );
    let tested = x
        .iter()
        .position(|i| i.code == 0x85)
        .map(|c| &x[c + 1..c + 4])
        .unwrap();
    assert_eq!(
        (tested[0].code, tested[0].dst, tested[0].imm),
        (0x15, R0, 0)
    );
    assert_eq!(
        (tested[1].code, tested[1].src, tested[1].off),
        (0x79, R0, 0)
    );
    assert_eq!(
        (tested[2].code, tested[2].dst, tested[2].imm),
        (0x15, R1, 0)
    );
    let adds: Vec<i32> = [&x[..], &socket_enter_program(&enter, 5, 6)[..]]
        .iter()
        .flat_map(|p| {
            p.windows(2)
                .filter(|w| w[1].code == 0xdb)
                .map(|w| w[0].imm)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(adds, vec![-1, 1]);
    assert_eq!(maps(&socket_enter_program(&enter, 5, 6)), vec![5, 6]);
}
