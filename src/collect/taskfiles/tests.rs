use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

use super::*;

fn layout() -> Layout {
    Layout {
        attach_btf_id: 7,
        ctx_meta: 0,
        ctx_task: 8,
        ctx_fd: 16,
        ctx_file: 24,
        meta_seq: 0,
        task_group_leader: 1328,
        task_thread_pid: 1368,
        pid_level: 4,
        pid_numbers: 144,
        upid_size: 16,
        upid_nr: 0,
        file_f_inode: 32,
        inode_i_mode: 0,
        inode_i_ino: 64,
    }
}

#[test]
fn every_exit_jump_lands_on_the_epilogue() {
    let p = program(&layout());
    let n = p.len();
    assert_eq!(p[n - 2], mov_imm(R0, 0));
    assert_eq!(p[n - 1].code, 0x95);
    let jumps: Vec<usize> = (0..n)
        .filter(|&i| matches!(p[i].code, 0x15 | 0x55))
        .collect();
    assert_eq!(jumps.len(), 4, "task, file, not-a-socket, failed pid read");
    let exits: Vec<usize> = jumps.iter().copied().filter(|&i| p[i].off != 1).collect();
    assert_eq!(exits.len(), 3, "task, file, failed pid read");
    for i in exits {
        assert_eq!(
            i as i64 + 1 + i64::from(p[i].off),
            (n - 2) as i64,
            "jump at {i}"
        );
    }
    // Not a socket: skip only the inode load (the record is written with inode 0).
    let skip = jumps.iter().copied().find(|&i| p[i].off == 1).unwrap();
    assert_eq!((p[skip].code, p[skip].imm), (0x55, S_IFSOCK));
    assert_eq!(p[skip + 1], ldx_dw(R4, R2, 64));
}

#[test]
fn offsets_come_from_the_layout() {
    let p = program(&layout());
    // The loads of ctx->task, ctx->file, file->f_inode and inode->i_ino use the given offsets.
    assert!(p.contains(&ldx_dw(R7, R6, 8)));
    assert!(p.contains(&ldx_dw(R8, R6, 24)));
    assert!(p.contains(&ldx_dw(R2, R8, 32)));
    assert!(p.contains(&ldx_dw(R4, R2, 64)));
    assert!(p.contains(&add_imm(R3, 144)));
    assert!(p.contains(&mul_imm(R9, 16)));
}

#[test]
fn instructions_encode_as_struct_bpf_insn() {
    // r3 = *(u64 *)(r2 + 64): code 0x79, dst 3 in the low nibble, src 2 in the high one.
    assert_eq!(ldx_dw(R3, R2, 64).bytes(), [0x79, 0x23, 64, 0, 0, 0, 0, 0]);
    assert_eq!(
        st_w(FP, -16, 0).bytes(),
        [0x62, 0x0a, 0xf0, 0xff, 0, 0, 0, 0]
    );
    assert_eq!(call(127).bytes(), [0x85, 0, 0, 0, 127, 0, 0, 0]);
}

#[test]
fn records_decode_in_host_order() {
    let mut raw = Vec::new();
    // Two sockets, then a process with only a non-socket descriptor (inode 0): seen, no socket.
    for (pid, fd, ino) in [(42u32, 3u32, 123_456u64), (7, 1024, u64::MAX), (9, 0, 0)] {
        raw.extend_from_slice(&pid.to_ne_bytes());
        raw.extend_from_slice(&fd.to_ne_bytes());
        raw.extend_from_slice(&ino.to_ne_bytes());
    }
    raw.extend_from_slice(&[1, 2, 3]); // a torn tail is ignored
    assert_eq!(
        decode(&raw),
        TaskFiles {
            sockets: vec![
                (123_456, Owner { pid: 42, fd: 3 }),
                (u64::MAX, Owner { pid: 7, fd: 1024 })
            ],
            pids: vec![7, 9, 42],
        }
    );
}

/// The live iterator finds this test's own socket with this process's pid, the socket's fd and
/// its inode. Root only; under CI=true (always root there) it must run, not skip.
#[test]
fn the_live_iterator_sees_our_own_socket() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the tests as root"
        );
        eprintln!("skipped: needs root");
        return;
    }
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = sock.as_raw_fd() as u32;
    let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
        .unwrap()
        .ino();
    let got = socket_fds().expect("the task_file iterator works here as root");
    let me = Owner {
        pid: std::process::id(),
        fd,
    };
    let n = got.sockets.len();
    assert!(
        got.sockets.contains(&(inode, me)),
        "{n} sockets, ours missing"
    );
    assert!(got.pids.binary_search(&me.pid).is_ok());
    // Only sockets: stdin (fd 0) of this process is not one.
    let stdin_listed = got
        .sockets
        .iter()
        .any(|(_, o)| o.pid == me.pid && o.fd == 0);
    assert!(!(stdin_listed && inode_is_file(0)));
}

fn inode_is_file(fd: u32) -> bool {
    std::fs::metadata(format!("/proc/self/fd/{fd}")).is_ok_and(|m| !m.file_type().is_socket())
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn a_layout_with_an_offset_beyond_the_instruction_field_is_refused() {
    let mut l = layout();
    assert_eq!(l.checked(), Ok(l));
    l.task_thread_pid = 40_000;
    assert_eq!(l.checked(), Err(LayoutError::Offset(40000)));
}
