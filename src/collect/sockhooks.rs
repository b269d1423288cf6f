//! UDP, raw, packet and unix socket events for `sockwarden watch`, beside the TCP tracepoint
//! (docs/watch.md, "Events").
//!
//! `sock:inet_sock_set_state` sees TCP only. The other sockets are seen at the calls that make
//! them reachable, each in the context of the process that called (its pid, comm, uid and
//! cgroup come from the helpers, as for TCP):
//!
//! | event | hook | why this one |
//! |---|---|---|
//! | UDP `connect()` | cgroup `connect4`/`connect6` | stable uapi context (`struct bpf_sock_addr`): family, type, protocol, the peer, the socket |
//! | UDP `sendto()` to a new peer | cgroup `sendmsg4`/`sendmsg6` | runs for every datagram with an address: a kernel LRU of (socket cookie, peer) lets only the first through |
//! | UDP `bind()` (a listener) | cgroup `post_bind4`/`post_bind6` | runs after the port is taken, with the bound address (`struct bpf_sock`) |
//! | raw and packet `socket()` | fexit on `__sys_socket`, else `syscalls:sys_enter_socket` and `sys_exit_socket` | no cgroup hook sees AF_PACKET; both report only a socket that was made (the fd) |
//! | unix `listen()` | fexit on `unix_listen`, else `syscalls:sys_enter_listen` | fexit: a successful listen, from the socket; the tracepoint: in the calling task, with the descriptor, which the program follows to the socket (`task → files → fdt → fd[fd] → file`). For a bound unix stream or seqpacket socket, either writes its inode, type, bound name, backlog and namespace ([`UNIX_RECORD`]): nothing is left to look up in /proc but the process |
//!
//! The fexit programs (BPF trampolines) cost only the calls they watch; a syscall tracepoint
//! puts every system call of every task on the tracing slow path. When an fexit program cannot
//! be loaded (no BTF, no trampolines: this test machine's kernel refuses them all, see
//! docs/watch.md), the group uses its syscall tracepoints and [`Hooks::notes`] says so.
//!
//! The cgroup programs are attached to the root of the cgroup v2 hierarchy with bpf links
//! (`BPF_LINK_CREATE`, Linux 5.7; the process helpers they call are open to cgroup socket
//! programs since Linux 6.1), so they see every process and are detached when sockwarden
//! exits, however it exits; they always return 1 (allow): watch observes, it never refuses.
//! Records go into the TCP program's ring buffer; a record that found it full is counted in the
//! same per-CPU counter. Every program is built here instruction by instruction, as the TCP one
//! is; only the unix one needs BTF (the function's id and the structs' offsets).
//!
//! A hook that cannot be attached (no cgroup v2, no CAP_NET_ADMIN for the cgroup programs, an
//! older kernel) is not fatal: [`Hooks::attach`] returns what is missing, and watch says it in
//! its output.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::bpfsys::{
    BPF_LINK_CREATE, BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_TRACING,
    FN_GET_CURRENT_PID_TGID, FN_PROBE_READ_KERNEL, FN_RINGBUF_OUTPUT,
};
use super::btf::{Btf, KIND_FUNC, KIND_STRUCT};
use super::taskfiles::{Attr, Insn, bpf, link};
use super::tracepoint::{
    Asm, BPF_TRACE_FEXIT, FP, NetnsOffsets, ProgKind, R0, R1, R2, R3, R6, R7, R8, R9, TraceError,
    attach, cpus, create_map, event_dir, format_fields, ins, load_as,
};

/// One record of these programs (host byte order unless noted); 128 bytes, which tells it from
/// the TCP program's 120:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | `bpf_ktime_get_ns()` |
/// | 8 | 8 | socket cookie (cgroup hooks; 0 for the syscall ones) |
/// | 16 | 8 | `bpf_get_current_pid_tgid()` |
/// | 24 | 8 | `bpf_get_current_uid_gid()` |
/// | 32 | 8 | `bpf_get_current_cgroup_id()` |
/// | 40 | 4 | kind ([`kind`]) |
/// | 44 | 4 | family (2, 10, 17) |
/// | 48 | 4 | type (the `socket()` argument, with its flags) |
/// | 52 | 4 | protocol (for a packet socket the ethertype, network order) |
/// | 56 | 16 | local address (v4: the first 4 bytes), network order |
/// | 72 | 16 | remote address, network order |
/// | 88 | 2 | remote port, network order |
/// | 90 | 2 | local port, host order |
/// | 92 | 4 | fd (`open`: the new socket's; `listen`: the listening one's) |
/// | 96 | 16 | `bpf_get_current_comm()` |
/// | 112 | 16 | zero |
pub const SOCK_RECORD: usize = 128;

/// The unix listener program's record: a [`SOCK_RECORD`]'s first 40 bytes and comm, then what
/// the kernel knows of the socket `listen()` was called on; 256 bytes, which tells it from the
/// others. Host byte order:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0..40 | | as [`SOCK_RECORD`] (cookie 0) |
/// | 40 | 4 | kind: [`kind::LISTEN`] |
/// | 44 | 4 | family: 1 (AF_UNIX) |
/// | 48 | 2 | `socket->type` (SOCK_STREAM 1, SOCK_SEQPACKET 5) |
/// | 52 | 4 | the backlog given to `listen()` |
/// | 56 | 8 | the socket's inode (`file->f_inode->i_ino`, as /proc/PID/fd shows it) |
/// | 96 | 16 | `bpf_get_current_comm()` |
/// | 112 | 4 | the socket's network namespace inode (0: not read) |
/// | 128 | 4 | `unix_address.len`: the bound address's length (family and name) |
/// | 132 | 110 | `unix_address.name`: `struct sockaddr_un` (family, then `sun_path`) |
pub const UNIX_RECORD: usize = 256;

/// What a [`SOCK_RECORD`] reports.
pub mod kind {
    /// A UDP socket's `connect()`.
    pub const CONNECT: u32 = 1;
    /// A UDP datagram sent to a peer this socket had not sent to (`sendto`, `sendmsg`).
    pub const SEND: u32 = 2;
    /// A UDP socket's `bind()`: a listener.
    pub const BIND: u32 = 3;
    /// A raw (AF_INET/AF_INET6 SOCK_RAW) or packet (AF_PACKET) socket made by `socket()`.
    pub const OPEN: u32 = 4;
    /// A `listen()` on a bound unix stream or seqpacket socket (a [`super::UNIX_RECORD`]).
    pub const LISTEN: u32 = 5;
}

const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
const BPF_PROG_TYPE_CGROUP_SOCK: u32 = 9;
const BPF_PROG_TYPE_CGROUP_SOCK_ADDR: u32 = 18;
const BPF_CGROUP_INET4_CONNECT: u32 = 10;
const BPF_CGROUP_INET6_CONNECT: u32 = 11;
const BPF_CGROUP_INET4_POST_BIND: u32 = 12;
const BPF_CGROUP_INET6_POST_BIND: u32 = 13;
const BPF_CGROUP_UDP4_SENDMSG: u32 = 14;
const BPF_CGROUP_UDP6_SENDMSG: u32 = 15;
const FN_GET_CURRENT_TASK: i32 = 35;
const AF_UNIX: i32 = 1;
const FN_MAP_UPDATE_ELEM: i32 = 2;
const FN_MAP_DELETE_ELEM: i32 = 3;
const FN_GET_SOCKET_COOKIE: i32 = 46;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const AF_PACKET: i32 = 17;
const SOCK_RAW: i32 = 3;
const IPPROTO_UDP: i32 = 17;
/// Peers remembered per socket for the "new peer" test of datagrams (an LRU: a peer forgotten
/// is reported again, never missed).
pub const PEERS: u32 = 16_384;
/// `socket()` calls between their entry and exit (an LRU keyed by thread).
const PENDING: u32 = 4_096;

/// The record is built on the stack at `REC` and handed to `bpf_ringbuf_output`.
const REC: i16 = -(SOCK_RECORD as i16);
/// Scratch below the record: the loss counter's key (at `REC - 8`, [`finish_record`]), and
/// the peer key (32 bytes) and value.
const PEER_KEY: i16 = REC - 48;
const PEER_VAL: i16 = REC - 56;
/// The key (0) of the one-slot count of `socket()` calls the entry program kept.
const KEPT_KEY: i16 = REC - 64;

/// `struct bpf_sock_addr` offsets (uapi, stable).
mod sock_addr {
    pub const USER_IP4: i16 = 4;
    pub const USER_IP6: i16 = 8;
    pub const USER_PORT: i16 = 24;
    pub const FAMILY: i16 = 28;
    pub const TYPE: i16 = 32;
    pub const PROTOCOL: i16 = 36;
    pub const SK: i16 = 64;
}

/// `struct bpf_sock` offsets (uapi, stable).
mod bpf_sock {
    pub const FAMILY: i16 = 4;
    pub const TYPE: i16 = 8;
    pub const PROTOCOL: i16 = 12;
    pub const SRC_IP4: i16 = 24;
    pub const SRC_IP6: i16 = 28;
    pub const SRC_PORT: i16 = 44;
}

fn st_dw(a: &mut Asm, off: i16, imm: i32) {
    a.push(ins(0x7a, FP, 0, off, imm));
}

fn and_imm(a: &mut Asm, dst: u8, imm: i32) {
    a.push(ins(0x57, dst, 0, 0, imm));
}

/// Zeroes the record on the stack (the verifier wants every byte a helper reads initialised).
fn zero_record(a: &mut Asm) {
    for i in 0..(SOCK_RECORD as i16 / 8) {
        st_dw(a, REC + 8 * i, 0);
    }
}

/// Copies `len` bytes (a multiple of 4) from `src`+`from` to the record at `to`.
fn copy_words(a: &mut Asm, src: u8, from: i16, to: i16, len: i16) {
    for i in (0..len).step_by(4) {
        a.ldx(4, R2, src, from + i).stx(4, FP, REC + to + i, R2);
    }
}

/// The common tail: the acting task's fields, then the record into the ring, or the loss into
/// the counter; then `return ret`. Labels `out` (return) is defined here.
fn finish(a: Asm, ring_fd: i32, lost_fd: i32, ret: i32) -> Vec<Insn> {
    finish_record(a, ring_fd, lost_fd, ret, SOCK_RECORD)
}

/// [`finish`] for a record of `len` bytes at `-len` on the stack, the loss counter's key below.
fn finish_record(mut a: Asm, ring_fd: i32, lost_fd: i32, ret: i32, len: usize) -> Vec<Insn> {
    let rec = -(len as i16);
    let lost_key = rec - 8;
    super::tracepoint::store_actor(&mut a, FP, [rec, rec + 16, rec + 24, rec + 32], rec + 96);
    a.ld_map(R1, ring_fd)
        .mov(R2, FP)
        .add_imm(R2, i32::from(rec))
        .mov_imm(R3, len as i32)
        // Read with the TCP records, every READ_INTERVAL: no wake-up per record.
        .mov_imm(4, super::tracepoint::BPF_RB_NO_WAKEUP)
        .call(FN_RINGBUF_OUTPUT)
        .jump(0x15, R0, 0, "out")
        // The ring is full: count the loss in this CPU's slot.
        .st_w(FP, lost_key, 0)
        .lookup(lost_fd, lost_key)
        .jump(0x15, R0, 0, "out")
        .ldx(8, R1, R0, 0)
        .add_imm(R1, 1)
        .stx(8, R0, 0, R1)
        .label("out")
        .mov_imm(R0, ret)
        .exit();
    a.finish()
}

/// The cgroup `connect` or `sendmsg` program for one family: UDP only (TCP has its
/// tracepoint); `peers_fd`, for `sendmsg`, is the LRU of peers already reported.
pub fn sock_addr_program(v6: bool, peers_fd: Option<i32>, ring_fd: i32, lost_fd: i32) -> Vec<Insn> {
    let what = if peers_fd.is_some() {
        kind::SEND
    } else {
        kind::CONNECT
    };
    let mut a = Asm::new();
    a.mov(R6, R1)
        .ldx(4, R2, R6, sock_addr::PROTOCOL)
        .jump(0x55, R2, IPPROTO_UDP, "out");
    zero_record(&mut a);
    a.st_w(FP, REC + 40, what as i32);
    for (from, to) in [
        (sock_addr::FAMILY, 44),
        (sock_addr::TYPE, 48),
        (sock_addr::PROTOCOL, 52),
    ] {
        a.ldx(4, R2, R6, from).stx(4, FP, REC + to, R2);
    }
    if v6 {
        copy_words(&mut a, R6, sock_addr::USER_IP6, 72, 16);
    } else {
        copy_words(&mut a, R6, sock_addr::USER_IP4, 72, 4);
    }
    // user_port holds the port as the sockaddr had it (network order) in its low 16 bits.
    a.ldx(4, R2, R6, sock_addr::USER_PORT)
        .stx(2, FP, REC + 88, R2)
        .mov(R1, R6)
        .call(FN_GET_SOCKET_COOKIE)
        .stx(8, FP, REC + 8, R0)
        // The socket as it is now: its local port (0 for a UDP connect before autobind).
        .ldx(8, R7, R6, sock_addr::SK)
        .ldx(4, R2, R7, bpf_sock::SRC_PORT)
        .stx(2, FP, REC + 90, R2);
    if v6 {
        copy_words(&mut a, R7, bpf_sock::SRC_IP6, 56, 16);
    } else {
        copy_words(&mut a, R7, bpf_sock::SRC_IP4, 56, 4);
    }
    if let Some(peers) = peers_fd {
        // key = cookie, peer address, peer port: report it only when the LRU lacks it.
        for (from, to, size) in [(8, 0, 8), (72, 8, 8), (80, 16, 8), (88, 24, 8)] {
            a.ldx(size, R2, FP, REC + from)
                .stx(size, FP, PEER_KEY + to, R2);
        }
        a.lookup(peers, PEER_KEY)
            .jump(0x55, R0, 0, "out")
            .st_w(FP, PEER_VAL, 1)
            .ld_map(R1, peers)
            .mov(R2, FP)
            .add_imm(R2, i32::from(PEER_KEY))
            .mov(R3, FP)
            .add_imm(R3, i32::from(PEER_VAL))
            .push(ins(0xb7, 4, 0, 0, 0)) // BPF_ANY
            .call(FN_MAP_UPDATE_ELEM);
    }
    finish(a, ring_fd, lost_fd, 1)
}

/// The cgroup `post_bind` program for one family: a UDP socket bound to its address and port.
pub fn post_bind_program(v6: bool, ring_fd: i32, lost_fd: i32) -> Vec<Insn> {
    let mut a = Asm::new();
    a.mov(R6, R1)
        .ldx(4, R2, R6, bpf_sock::PROTOCOL)
        .jump(0x55, R2, IPPROTO_UDP, "out");
    zero_record(&mut a);
    a.st_w(FP, REC + 40, kind::BIND as i32);
    for (from, to) in [
        (bpf_sock::FAMILY, 44),
        (bpf_sock::TYPE, 48),
        (bpf_sock::PROTOCOL, 52),
    ] {
        a.ldx(4, R2, R6, from).stx(4, FP, REC + to, R2);
    }
    if v6 {
        copy_words(&mut a, R6, bpf_sock::SRC_IP6, 56, 16);
    } else {
        copy_words(&mut a, R6, bpf_sock::SRC_IP4, 56, 4);
    }
    a.ldx(4, R2, R6, bpf_sock::SRC_PORT)
        .stx(2, FP, REC + 90, R2)
        .mov(R1, R6)
        .call(FN_GET_SOCKET_COOKIE)
        .stx(8, FP, REC + 8, R0);
    finish(a, ring_fd, lost_fd, 1)
}

/// Where a syscall tracepoint's arguments sit in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallFormat {
    /// The tracepoint's id.
    pub id: u64,
    /// Offsets of the arguments the program reads, in the order asked for.
    pub args: [i16; 3],
}

/// Parses a syscall tracepoint's format: `names` (up to three) must each be an 8-byte field
/// (syscall arguments and `ret` are), 8-aligned and reachable by an instruction's offset.
pub fn parse_syscall_format(text: &str, names: &[&'static str]) -> Result<SyscallFormat, String> {
    let (id, fields) = format_fields(text);
    let id = id.ok_or("no ID line")?;
    let mut args = [0i16; 3];
    for (i, name) in names.iter().take(3).enumerate() {
        let &(_, o, s) = fields
            .iter()
            .find(|(n, ..)| n == name)
            .ok_or_else(|| format!("no field {name}"))?;
        if s != 8 || !o.is_multiple_of(8) || o > i16::MAX as u32 {
            return Err(format!("field {name}: offset {o}, size {s}"));
        }
        args[i] = o as i16;
    }
    Ok(SyscallFormat { id, args })
}

/// `sys_enter_socket`: remembers the arguments of a raw or packet socket's creation, by thread.
pub fn socket_enter_program(f: &SyscallFormat, pending_fd: i32, kept_fd: i32) -> Vec<Insn> {
    let [family, ty, protocol] = f.args;
    let mut a = Asm::new();
    a.mov(R6, R1)
        .ldx(8, R7, R6, family)
        .ldx(8, R8, R6, ty)
        .ldx(8, R9, R6, protocol)
        .jump(0x15, R7, AF_PACKET, "keep")
        .jump(0x15, R7, AF_INET, "inet")
        .jump(0x55, R7, AF_INET6, "out")
        .label("inet")
        .mov(R2, R8);
    and_imm(&mut a, R2, 0xf);
    a.jump(0x55, R2, SOCK_RAW, "out")
        .label("keep")
        .call(FN_GET_CURRENT_PID_TGID)
        .stx(8, FP, -8, R0)
        .stx(4, FP, -24, R7)
        .stx(4, FP, -20, R8)
        .stx(4, FP, -16, R9)
        .st_w(FP, -12, 0)
        .ld_map(R1, pending_fd)
        .mov(R2, FP)
        .add_imm(R2, -8)
        .mov(R3, FP)
        .add_imm(R3, -24)
        .push(ins(0xb7, 4, 0, 0, 0)) // BPF_ANY
        .call(FN_MAP_UPDATE_ELEM)
        .jump(0x55, R0, 0, "out");
    add_kept(&mut a, kept_fd, 1, "out");
    a.label("out").mov_imm(R0, 0).exit();
    a.finish()
}

/// Adds `delta` to the count of `socket()` calls kept in the pending map (`kept_fd`, a
/// one-slot array: its lookup is inlined by the verifier, no hash), atomically; to `done`.
fn add_kept(a: &mut Asm, kept_fd: i32, delta: i32, done: &'static str) {
    a.st_w(FP, KEPT_KEY, 0)
        .lookup(kept_fd, KEPT_KEY)
        .jump(0x15, R0, 0, done)
        .mov_imm(R1, delta)
        // BPF_STX | BPF_DW | BPF_ATOMIC, BPF_ADD: *(u64 *)(r0 + 0) += r1.
        .push(ins(0xdb, R0, R1, 0, 0));
}

/// `sys_exit_socket`: for a thread the entry remembered, and a call that returned an fd, writes
/// the `open` record. Every `socket()` call of every task runs it: while the entry has kept no
/// call (the count in `kept_fd` is 0, nearly always), it returns after one inlined array
/// lookup, without the pending map's hash lookup.
pub fn socket_exit_program(
    f: &SyscallFormat,
    pending_fd: i32,
    kept_fd: i32,
    ring_fd: i32,
    lost_fd: i32,
) -> Vec<Insn> {
    let mut a = Asm::new();
    a.ldx(8, R6, R1, f.args[0]) // ret
        .st_w(FP, KEPT_KEY, 0)
        .lookup(kept_fd, KEPT_KEY)
        .jump(0x15, R0, 0, "out")
        .ldx(8, R1, R0, 0)
        .jump(0x15, R1, 0, "out")
        .call(FN_GET_CURRENT_PID_TGID)
        .stx(8, FP, PEER_KEY, R0)
        .lookup(pending_fd, PEER_KEY)
        .jump(0x15, R0, 0, "out")
        .ldx(4, R7, R0, 0)
        .ldx(4, R8, R0, 4)
        .ldx(4, R9, R0, 8)
        .ld_map(R1, pending_fd)
        .mov(R2, FP)
        .add_imm(R2, i32::from(PEER_KEY))
        .call(FN_MAP_DELETE_ELEM);
    add_kept(&mut a, kept_fd, -1, "counted");
    a.label("counted")
        // ret < 0: the call failed, no socket.
        .jump(0xc5, R6, 0, "out");
    zero_record(&mut a);
    a.st_w(FP, REC + 40, kind::OPEN as i32)
        .stx(4, FP, REC + 44, R7)
        .stx(4, FP, REC + 48, R8)
        .stx(4, FP, REC + 52, R9)
        .stx(4, FP, REC + 92, R6);
    finish(a, ring_fd, lost_fd, 0)
}

/// fexit on `__sys_socket(family, type, protocol)`: for a raw or packet socket that was made
/// (the returned fd), writes the `open` record, as [`socket_exit_program`] does with its
/// entry's arguments; but only `socket()` calls run it, not every system call of every task.
/// The arguments and the return value are u64 slots of the context; the ints are compared in
/// 32 bits.
pub fn socket_fexit_program(ring_fd: i32, lost_fd: i32) -> Vec<Insn> {
    let mut a = Asm::new();
    a.mov(R6, R1)
        .ldx(8, R7, R6, 0)
        .ldx(8, R8, R6, 8)
        .ldx(8, R9, R6, 16)
        .jump(0x16, R7, AF_PACKET, "keep")
        .jump(0x16, R7, AF_INET, "inet")
        .jump(0x56, R7, AF_INET6, "out")
        .label("inet")
        .mov(R2, R8)
        .push(ins(0x54, R2, 0, 0, 0xf)) // w2 &= 0xf
        .jump(0x56, R2, SOCK_RAW, "out")
        .label("keep")
        .ldx(8, R2, R6, 24)
        .jump(0xc6, R2, 0, "out"); // (s32) ret < 0: no socket
    zero_record(&mut a);
    a.st_w(FP, REC + 40, kind::OPEN as i32)
        .stx(4, FP, REC + 44, R7)
        .stx(4, FP, REC + 48, R8)
        .stx(4, FP, REC + 52, R9)
        .ldx(8, R2, R6, 24)
        .stx(4, FP, REC + 92, R2);
    finish(a, ring_fd, lost_fd, 0)
}

/// Where the unix listener program finds what it reads, from the kernel's BTF: the path from
/// the calling task to the socket behind a descriptor, and the socket's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixOffsets {
    /// `task_struct.files`, `files_struct.fdt`, `fdtable.max_fds` (4 bytes) and `fdtable.fd`.
    pub task_files: u32,
    /// See [`UnixOffsets::task_files`].
    pub files_fdt: u32,
    /// See [`UnixOffsets::task_files`].
    pub fdt_max_fds: u32,
    /// See [`UnixOffsets::task_files`].
    pub fdt_fd: u32,
    /// `file.f_inode` and `file.private_data` (the `struct socket` of a socket's file).
    pub file_inode: u32,
    /// See [`UnixOffsets::file_inode`].
    pub file_private: u32,
    /// `inode.i_mode` (2 bytes: `S_IFSOCK` tells a socket) and `inode.i_ino`.
    pub inode_mode: u32,
    /// See [`UnixOffsets::inode_mode`].
    pub inode_ino: u32,
    /// `socket.sk` and `socket.type` (2 bytes).
    pub socket_sk: u32,
    /// See [`UnixOffsets::socket_sk`].
    pub socket_type: u32,
    /// The family (2 bytes) of a `struct sock`: `__sk_common.skc_family`.
    pub sk_family: u32,
    /// `struct unix_sock`'s `addr` (a `struct unix_address *`), from its `struct sock`.
    pub unix_addr: u32,
    /// `struct unix_address`: `len` (an int) and `name` (a `struct sockaddr_un`).
    pub addr_len: u32,
    /// See [`UnixOffsets::addr_len`].
    pub addr_name: u32,
    /// The network namespace's offsets (`sock → skc_net → ns.inum`), when BTF gave them.
    pub netns: Option<NetnsOffsets>,
    /// The inode number from a `struct socket`: `socket_alloc.vfs_inode` + `inode.i_ino` (the
    /// socket and its inode are allocated together); for the fexit program, which starts from
    /// the socket. `None` without `socket_alloc` in BTF.
    pub socket_ino: Option<u32>,
}

impl UnixOffsets {
    /// Every name [`UnixOffsets::from_btf`] looks up.
    pub const NAMES: &[&str] = &[
        "task_struct",
        "files_struct",
        "fdtable",
        "file",
        "inode",
        "socket",
        "sock",
        "sock_common",
        "unix_sock",
        "unix_address",
        "files",
        "fdt",
        "max_fds",
        "fd",
        "f_inode",
        "private_data",
        "i_mode",
        "i_ino",
        "sk",
        "type",
        "__sk_common",
        "skc_family",
        "addr",
        "len",
        "name",
        "socket_alloc",
        "vfs_inode",
    ];

    /// Reads the offsets from BTF; `None` when a name is missing or a member has another size
    /// than the program reads (the unix listener group is then a gap, said in the output).
    pub fn from_btf(btf: &Btf<'_>) -> Option<UnixOffsets> {
        let ids = btf
            .find_all(&[
                (KIND_STRUCT, "task_struct"),
                (KIND_STRUCT, "files_struct"),
                (KIND_STRUCT, "fdtable"),
                (KIND_STRUCT, "file"),
                (KIND_STRUCT, "inode"),
                (KIND_STRUCT, "socket"),
                (KIND_STRUCT, "sock"),
                (KIND_STRUCT, "sock_common"),
                (KIND_STRUCT, "unix_sock"),
                (KIND_STRUCT, "unix_address"),
            ])
            .ok()?;
        let [
            task,
            files,
            fdt,
            file,
            inode,
            socket,
            sock,
            common,
            unix_sock,
            address,
        ] = ids[..]
        else {
            return None;
        };
        let field = |id: u32, name: &str, size: u32| {
            btf.member(id, name)
                .filter(|m| m.size == size && m.offset <= i32::MAX as u32)
                .map(|m| m.offset)
        };
        let sk_common = field(sock, "__sk_common", btf.size_of(common)?)?;
        let usk = btf.member(unix_sock, "sk")?.offset;
        let addr = field(unix_sock, "addr", 8)?;
        Some(UnixOffsets {
            task_files: field(task, "files", 8)?,
            files_fdt: field(files, "fdt", 8)?,
            fdt_max_fds: field(fdt, "max_fds", 4)?,
            fdt_fd: field(fdt, "fd", 8)?,
            file_inode: field(file, "f_inode", 8)?,
            file_private: field(file, "private_data", 8)?,
            inode_mode: field(inode, "i_mode", 2)?,
            inode_ino: field(inode, "i_ino", 8)?,
            socket_sk: field(socket, "sk", 8)?,
            socket_type: field(socket, "type", 2)?,
            sk_family: sk_common.checked_add(field(common, "skc_family", 2)?)?,
            unix_addr: addr.checked_sub(usk)?,
            addr_len: field(address, "len", 4)?,
            addr_name: btf.member(address, "name")?.offset,
            netns: NetnsOffsets::from_btf(btf),
            socket_ino: btf
                .find(KIND_STRUCT, "socket_alloc")
                .ok()
                .and_then(|id| field(id, "vfs_inode", btf.size_of(inode)?))
                .and_then(|o| o.checked_add(field(inode, "i_ino", 8)?))
                .filter(|&o| o <= i32::MAX as u32),
        })
    }
}

/// `bpf_probe_read_kernel(fp + to, size, src + off)`: `src` holds a kernel pointer.
fn probe_read(a: &mut Asm, to: i16, size: i32, src: u8, off: u32) {
    a.mov(R1, FP)
        .add_imm(R1, i32::from(to))
        .mov_imm(R2, size)
        .mov(R3, src)
        .add_imm(R3, off as i32)
        .call(FN_PROBE_READ_KERNEL);
}

/// Reads the pointer at `src + off` into `dst` through the scratch slot; to `out` when NULL.
fn read_ptr(a: &mut Asm, scratch: i16, dst: u8, src: u8, off: u32) {
    st_dw(a, scratch, 0);
    probe_read(a, scratch, 8, src, off);
    a.ldx(8, dst, FP, scratch).jump(0x15, dst, 0, "out");
}

/// Reads the 2-byte value at `src + off` into r2 through the scratch slot.
fn read_u16(a: &mut Asm, scratch: i16, src: u8, off: u32) {
    st_dw(a, scratch, 0);
    probe_read(a, scratch, 2, src, off);
    a.ldx(2, R2, FP, scratch);
}

/// `sys_enter_listen`: the socket behind the calling task's descriptor `fd`, when it is a
/// bound unix stream or seqpacket socket (the calls `listen()` accepts), as a [`UNIX_RECORD`]:
/// its type, inode, bound address, the backlog and its network namespace, read in the kernel
/// where a fault is impossible (`bpf_probe_read_kernel`), from the task's descriptor table
/// (`task → files → fdt → fd[fd] → file`). With `only_netns`, a socket of another network
/// namespace is not written (a socket whose namespace could not be read is).
pub fn unix_listen_program(
    f: &SyscallFormat,
    o: &UnixOffsets,
    only_netns: Option<u32>,
    ring_fd: i32,
    lost_fd: i32,
) -> Vec<Insn> {
    let rec = -(UNIX_RECORD as i16);
    let scratch = rec - 16; // below the loss counter's key
    let [fd, backlog, _] = f.args;
    let mut a = Asm::new();
    a.mov(R6, R1).ldx(8, R9, R6, fd);
    listen_record_head(&mut a, backlog);
    a.call(FN_GET_CURRENT_TASK).mov(R8, R0);
    // The file behind the descriptor: fdt->fd[fd], for fd < fdt->max_fds.
    read_ptr(&mut a, scratch, R8, R8, o.task_files);
    read_ptr(&mut a, scratch, R8, R8, o.files_fdt);
    st_dw(&mut a, scratch, 0);
    probe_read(&mut a, scratch, 4, R8, o.fdt_max_fds);
    a.ldx(4, R2, FP, scratch).jump_reg(0x3d, R9, R2, "out"); // fd >= max_fds (unsigned)
    read_ptr(&mut a, scratch, R8, R8, o.fdt_fd);
    a.push(ins(0x67, R9, 0, 0, 3)) // fd *= 8
        .push(ins(0x0f, R8, R9, 0, 0));
    read_ptr(&mut a, scratch, R8, R8, 0); // the file
    // A socket's inode (S_IFSOCK), its number as /proc/PID/fd shows it.
    read_ptr(&mut a, scratch, R7, R8, o.file_inode);
    read_u16(&mut a, scratch, R7, o.inode_mode);
    and_imm(&mut a, R2, 0xf000);
    a.jump(0x55, R2, 0xc000, "out");
    probe_read(&mut a, rec + 56, 8, R7, o.inode_ino);
    read_ptr(&mut a, scratch, R7, R8, o.file_private);
    unix_socket_tail(a, o, only_netns, ring_fd, lost_fd)
}

/// fexit on `unix_listen(sock, backlog)`: only a successful `listen()` on a unix socket runs
/// it (not every system call of every task, as `sys_enter_listen` does), and it starts from
/// the socket: no descriptor table to walk. Writes the same [`UNIX_RECORD`].
pub fn unix_listen_fexit_program(
    o: &UnixOffsets,
    socket_ino: u32,
    only_netns: Option<u32>,
    ring_fd: i32,
    lost_fd: i32,
) -> Vec<Insn> {
    let rec = -(UNIX_RECORD as i16);
    let mut a = Asm::new();
    a.mov(R6, R1).ldx(8, R2, R6, 16).jump(0x56, R2, 0, "out"); // the call failed
    listen_record_head(&mut a, 8);
    a.ldx(8, R7, R6, 0);
    probe_read(&mut a, rec + 56, 8, R7, socket_ino);
    unix_socket_tail(a, o, only_netns, ring_fd, lost_fd)
}

/// A listen's [`UNIX_RECORD`] on the stack: zeroed, its kind and family, and the backlog read
/// from the program's context (r6) at `backlog`.
fn listen_record_head(a: &mut Asm, backlog: i16) {
    let rec = -(UNIX_RECORD as i16);
    for i in 0..(UNIX_RECORD as i16 / 8) {
        st_dw(a, rec + 8 * i, 0);
    }
    a.ldx(8, R2, R6, backlog)
        .stx(4, FP, rec + 52, R2)
        .st_w(FP, rec + 40, kind::LISTEN as i32)
        .st_w(FP, rec + 44, AF_UNIX);
}

/// From the `struct socket` in r7 (its inode already in the record): a unix stream or
/// seqpacket socket's type, namespace and bound address into the [`UNIX_RECORD`], then the
/// record into the ring; to `out` for another socket, or one of another namespace.
fn unix_socket_tail(
    mut a: Asm,
    o: &UnixOffsets,
    only_netns: Option<u32>,
    ring_fd: i32,
    lost_fd: i32,
) -> Vec<Insn> {
    let rec = -(UNIX_RECORD as i16);
    let scratch = rec - 16; // below the loss counter's key
    // The socket: a unix stream (1) or seqpacket (5) one.
    probe_read(&mut a, rec + 48, 2, R7, o.socket_type);
    a.ldx(2, R2, FP, rec + 48)
        .jump(0x15, R2, 1, "typed")
        .jump(0x55, R2, 5, "out")
        .label("typed");
    read_ptr(&mut a, scratch, R8, R7, o.socket_sk);
    read_u16(&mut a, scratch, R8, o.sk_family);
    a.jump(0x55, R2, AF_UNIX, "out");
    if let Some(n) = o.netns {
        st_dw(&mut a, scratch, 0);
        probe_read(&mut a, scratch, 8, R8, n.sock_net);
        a.ldx(8, R3, FP, scratch).jump(0x15, R3, 0, "net read");
        probe_read(&mut a, rec + 112, 4, R3, n.net_inum);
        a.label("net read");
        if let Some(want) = only_netns {
            // A 32-bit compare: the inode is unsigned, the immediate sign-extended.
            a.ldx(4, R2, FP, rec + 112)
                .jump(0x15, R2, 0, "kept")
                .jump(0x56, R2, want as i32, "out")
                .label("kept");
        }
    }
    // Bound: `listen()` refuses an unbound unix socket.
    read_ptr(&mut a, scratch, R8, R8, o.unix_addr);
    probe_read(&mut a, rec + 128, 4, R8, o.addr_len);
    probe_read(&mut a, rec + 132, 110, R8, o.addr_name);
    finish_record(a, ring_fd, lost_fd, 0, UNIX_RECORD)
}

/// The mount point of the cgroup v2 hierarchy's root, from /proc/self/mountinfo's text.
pub fn cgroup2_root(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split(' ').next()?;
        let mut f = left.split(' ');
        let root = f.nth(3)?;
        let point = f.next()?;
        (fstype == "cgroup2" && root == "/").then(|| {
            let point = super::crossview::unescape_octal(point.as_bytes());
            PathBuf::from(std::ffi::OsString::from_vec(point))
        })
    })
}

/// The attached programs: events flow while this lives.
#[derive(Debug, Default)]
pub struct Hooks {
    fds: Vec<OwnedFd>,
    /// The events being delivered (`udp`, `raw and packet`, `unix listeners`).
    pub seen: Vec<&'static str>,
    /// The groups on their fallback hook (the syscall tracepoints), and why.
    pub notes: Vec<String>,
    /// The groups left to periodic dumps, and why they are not traced: their fexit program
    /// could not be loaded and the syscall tracepoints were declined
    /// (`--no-syscall-tracepoints`) or could not be attached either.
    pub swept: Vec<(Swept, String)>,
}

/// A group of sockets found by sock_diag dumps instead of by tracing its calls: with
/// `--no-syscall-tracepoints` when its fexit program cannot be loaded, or when neither that
/// nor its syscall tracepoints can be attached (docs/watch.md, "Without the syscall
/// tracepoints").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swept {
    /// Raw IP and packet sockets (`socket()`).
    RawAndPacket,
    /// Unix stream and seqpacket listeners (`listen()`).
    UnixListeners,
}

impl Swept {
    /// The sockets, in words (as [`Hooks::seen`] names them).
    pub fn what(self) -> &'static str {
        match self {
            Swept::RawAndPacket => RAW_AND_PACKET,
            Swept::UnixListeners => UNIX_LISTENERS,
        }
    }
}

/// Why a group is swept under `--no-syscall-tracepoints`.
const NOT_TRACED: &str = "--no-syscall-tracepoints";
const UDP_EVENTS: &str = "UDP connect, sendto to a new peer and bind (listeners)";
const RAW_AND_PACKET: &str = "raw and packet sockets";
const UNIX_LISTENERS: &str = "unix listeners";

/// The BTF ids of the functions the fexit programs attach to (`None`: not in this kernel's
/// BTF, or inlined: the syscall tracepoints are used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fexits {
    /// `__sys_socket`.
    pub sys_socket: Option<u32>,
    /// `unix_listen`.
    pub unix_listen: Option<u32>,
}

impl Fexits {
    /// Looks the two functions up in BTF.
    pub fn from_btf(btf: &Btf<'_>) -> Fexits {
        Fexits {
            sys_socket: btf.find(KIND_FUNC, "__sys_socket").ok(),
            unix_listen: btf.find(KIND_FUNC, "unix_listen").ok(),
        }
    }
}

/// What one group of programs delivers, and why it could not be attached.
#[derive(Debug)]
pub struct Gap {
    /// The events missing.
    pub what: &'static str,
    /// Why.
    pub why: String,
}

impl Hooks {
    /// The runs the kernel skipped because the program was already running on that CPU,
    /// summed over these programs (`None`: the kernel does not count them, before Linux 5.12;
    /// see [`super::tracepoint::recursion_misses`]).
    pub fn recursion_misses(&self) -> Option<u64> {
        super::tracepoint::recursion_misses(self.fds.iter())
    }

    /// Builds, loads and attaches every program writing into `ring_fd` and counting losses in
    /// `lost_fd`; `unix` is where the unix listener program reads (or why it cannot run), and
    /// `only_netns` keeps that program to one network namespace. `fexits` are the functions
    /// the raw, packet and unix programs attach to first (`None`: `--legacy-hooks`, the
    /// syscall tracepoints at once); a group whose fexit program cannot be loaded uses its
    /// syscall tracepoints and says so in [`Hooks::notes`], or, without `syscalls`
    /// (`--no-syscall-tracepoints`), is left to periodic dumps ([`Hooks::swept`]); so is a raw,
    /// packet or unix group that cannot be attached at all. The UDP group, which no dump can
    /// stand in for (a datagram to a new peer leaves no socket behind), is then a [`Gap`]; the
    /// others run.
    pub fn attach(
        ring_fd: &OwnedFd,
        lost_fd: &OwnedFd,
        unix: Result<UnixOffsets, String>,
        only_netns: Option<u32>,
        fexits: Option<Fexits>,
        syscalls: bool,
    ) -> (Hooks, Vec<Gap>) {
        let (ring, lost) = (ring_fd.as_raw_fd(), lost_fd.as_raw_fd());
        let mut hooks = Hooks::default();
        let mut gaps = Vec::new();
        let fx = fexits.unwrap_or_default();
        let why_not = |id: Option<u32>, name: &str| match (fexits, id) {
            (None, _) => "asked for (--legacy-hooks)".to_string(),
            (Some(_), None) => format!("{name} is not in the kernel's BTF"),
            (Some(_), Some(_)) => String::new(),
        };
        let raw = match fx.sys_socket {
            Some(id) => fexit(id, &socket_fexit_program(ring, lost), "sw_socket_fexit"),
            None => Err(why_not(None, "__sys_socket")),
        };
        let raw = raw.map(Some).or_else(|why| {
            if !syscalls {
                hooks.notes.push(format!(
                    "raw and packet sockets from a sock_diag dump every --interval, not traced \
                     (--no-syscall-tracepoints; fexit on __sys_socket was not used: {why})"
                ));
                hooks
                    .swept
                    .push((Swept::RawAndPacket, NOT_TRACED.to_string()));
                return Ok(None);
            }
            let fds = raw_and_packet(ring, lost)
                .map_err(|e| format!("fexit: {why}; syscall tracepoints: {e}"))?;
            hooks.notes.push(format!(
                "raw and packet sockets through the syscall tracepoints sys_enter_socket and \
                 sys_exit_socket, which put every system call of every task on the tracing \
                 slow path (fexit on __sys_socket was not used: {why})"
            ));
            Ok(Some(fds))
        });
        let unix = unix.and_then(|o| {
            let fexit_listen = match (fx.unix_listen, o.socket_ino) {
                (Some(id), Some(ino)) => fexit(
                    id,
                    &unix_listen_fexit_program(&o, ino, only_netns, ring, lost),
                    "sw_unix_fexit",
                ),
                (None, _) => Err(why_not(None, "unix_listen")),
                (Some(_), None) => Err("the kernel's BTF lacks socket_alloc".to_string()),
            };
            fexit_listen.map(Some).or_else(|why| {
                if !syscalls {
                    hooks.notes.push(format!(
                        "unix listeners from a sock_diag dump every --interval, not traced \
                         (--no-syscall-tracepoints; fexit on unix_listen was not used: {why})"
                    ));
                    hooks
                        .swept
                        .push((Swept::UnixListeners, NOT_TRACED.to_string()));
                    return Ok(None);
                }
                let fds = unix_listen(&o, only_netns, ring, lost)
                    .map_err(|e| format!("fexit: {why}; syscall tracepoint: {e}"))?;
                hooks.notes.push(format!(
                    "unix listeners through the syscall tracepoint sys_enter_listen, which \
                     puts every system call of every task on the tracing slow path (fexit on \
                     unix_listen was not used: {why})"
                ));
                Ok(Some(fds))
            })
        });
        // A raw, packet or unix group that no hook could take is dumped instead.
        let mut or_sweep = |group: Attached, swept: Swept| {
            group.or_else(|why| {
                hooks
                    .swept
                    .push((swept, format!("no hook could be attached: {why}")));
                Ok(None)
            })
        };
        let raw = or_sweep(raw, Swept::RawAndPacket);
        let unix = or_sweep(unix, Swept::UnixListeners);
        let groups: [(&'static str, Attached); 3] = [
            (UDP_EVENTS, udp(ring, lost).map(Some)),
            (RAW_AND_PACKET, raw),
            (UNIX_LISTENERS, unix),
        ];
        for (what, group) in groups {
            match group {
                Ok(Some(fds)) => {
                    hooks.fds.extend(fds);
                    hooks.seen.push(what);
                }
                Ok(None) => {}
                Err(why) => gaps.push(Gap { what, why }),
            }
        }
        (hooks, gaps)
    }
}

/// A group's programs once attached (`None`: left to the dumps, [`Swept`]), or why they could
/// not be.
type Attached = Result<Option<Vec<OwnedFd>>, String>;

/// Loads an fexit program for the function `btf_id` and links it (a BPF trampoline: Linux 5.5,
/// and a kernel that allows trampolines; see docs/watch.md, "What it needs").
fn fexit(btf_id: u32, code: &[Insn], name: &'static str) -> Result<Vec<OwnedFd>, String> {
    let prog = load_as(
        code,
        ProgKind {
            prog_type: BPF_PROG_TYPE_TRACING,
            attach_type: BPF_TRACE_FEXIT,
            attach_btf_id: btf_id,
            name,
        },
    )
    .map_err(|e| match e {
        TraceError::NotPermitted => format!(
            "{name}: the kernel refused it with EPERM before verifying it (a kernel that \
             forbids BPF trampolines)"
        ),
        e => format!("{name}: {e}"),
    })?;
    let link = link(&prog, BPF_TRACE_FEXIT).map_err(|e| format!("attaching {name}: {e}"))?;
    Ok(vec![prog, link])
}

/// The six cgroup programs for UDP, on the cgroup v2 root.
fn udp(ring: i32, lost: i32) -> Result<Vec<OwnedFd>, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let root = cgroup2_root(&mountinfo).ok_or("no cgroup v2 hierarchy is mounted")?;
    let cgroup = std::fs::File::open(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let peers = create_map("peers", BPF_MAP_TYPE_LRU_HASH, 32, 4, PEERS).map_err(text)?;
    let mut fds = Vec::new();
    let programs = [
        (
            BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            BPF_CGROUP_INET4_CONNECT,
            "sw_udp_conn4",
            sock_addr_program(false, None, ring, lost),
        ),
        (
            BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            BPF_CGROUP_INET6_CONNECT,
            "sw_udp_conn6",
            sock_addr_program(true, None, ring, lost),
        ),
        (
            BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            BPF_CGROUP_UDP4_SENDMSG,
            "sw_udp_send4",
            sock_addr_program(false, Some(peers.as_raw_fd()), ring, lost),
        ),
        (
            BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            BPF_CGROUP_UDP6_SENDMSG,
            "sw_udp_send6",
            sock_addr_program(true, Some(peers.as_raw_fd()), ring, lost),
        ),
        (
            BPF_PROG_TYPE_CGROUP_SOCK,
            BPF_CGROUP_INET4_POST_BIND,
            "sw_udp_bind4",
            post_bind_program(false, ring, lost),
        ),
        (
            BPF_PROG_TYPE_CGROUP_SOCK,
            BPF_CGROUP_INET6_POST_BIND,
            "sw_udp_bind6",
            post_bind_program(true, ring, lost),
        ),
    ];
    for (prog_type, attach_type, name, code) in programs {
        let prog = load_as(
            &code,
            ProgKind {
                prog_type,
                attach_type,
                attach_btf_id: 0,
                name,
            },
        )
        .map_err(|e| format!("{name}: {}", text(e)))?;
        let mut attr = Attr::new();
        attr.u32(0, prog.as_raw_fd() as u32)
            .u32(4, cgroup.as_raw_fd() as u32)
            .u32(8, attach_type);
        let link = bpf(BPF_LINK_CREATE, &mut attr).map_err(|e| {
            format!(
                "attaching {name} to {}: {e} (needs CAP_NET_ADMIN and Linux 6.1)",
                root.display()
            )
        })?;
        fds.extend([prog, link]);
    }
    fds.push(peers);
    Ok(fds)
}

fn text(e: TraceError) -> String {
    match e {
        TraceError::NotPermitted => "bpf: not permitted (the cgroup programs need \
                                     CAP_NET_ADMIN besides CAP_BPF and CAP_PERFMON)"
            .to_string(),
        e => e.to_string(),
    }
}

/// A syscall tracepoint's id and argument offsets.
fn syscall(event: &str, names: &[&'static str]) -> Result<SyscallFormat, String> {
    let dir = event_dir(&format!("syscalls/{event}")).map_err(|e| format!("{event}: {e}"))?;
    let text = std::fs::read_to_string(dir.join("format"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    parse_syscall_format(&text, names).map_err(|e| format!("{event}: {e}"))
}

fn attach_tracepoint(id: u64, code: &[Insn], name: &'static str) -> Result<[OwnedFd; 2], String> {
    let prog = load_as(
        code,
        ProgKind {
            prog_type: BPF_PROG_TYPE_TRACEPOINT,
            attach_type: 0,
            attach_btf_id: 0,
            name,
        },
    )
    .map_err(|e| format!("{name}: {e}"))?;
    let first = cpus("/sys/devices/system/cpu/online").map_err(|e| e.to_string())?[0];
    let perf = attach(id, first, &prog).map_err(|e| format!("{name}: {e}"))?;
    Ok([prog, perf])
}

/// `sys_enter_socket` and `sys_exit_socket`, sharing the map of calls in flight.
fn raw_and_packet(ring: i32, lost: i32) -> Result<Vec<OwnedFd>, String> {
    let enter = syscall("sys_enter_socket", &["family", "type", "protocol"])?;
    let exit = syscall("sys_exit_socket", &["ret"])?;
    let pending =
        create_map("socket calls", BPF_MAP_TYPE_LRU_HASH, 8, 16, PENDING).map_err(text)?;
    let kept = create_map("socket calls kept", BPF_MAP_TYPE_ARRAY, 4, 8, 1).map_err(text)?;
    let (p, k) = (pending.as_raw_fd(), kept.as_raw_fd());
    let mut fds = vec![];
    fds.extend(attach_tracepoint(
        exit.id,
        &socket_exit_program(&exit, p, k, ring, lost),
        "sw_socket_exit",
    )?);
    fds.extend(attach_tracepoint(
        enter.id,
        &socket_enter_program(&enter, p, k),
        "sw_socket_enter",
    )?);
    fds.extend([pending, kept]);
    Ok(fds)
}

/// The unix listener program on `sys_enter_listen`.
fn unix_listen(
    o: &UnixOffsets,
    only_netns: Option<u32>,
    ring: i32,
    lost: i32,
) -> Result<Vec<OwnedFd>, String> {
    let f = syscall("sys_enter_listen", &["fd", "backlog"])?;
    let code = unix_listen_program(&f, o, only_netns, ring, lost);
    Ok(attach_tracepoint(f.id, &code, "sw_unix_listen")?.into())
}

#[cfg(test)]
mod tests;
