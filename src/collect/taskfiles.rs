//! Socket holders from the kernel's task-file BPF iterator, instead of one readlink per /proc fd.
//!
//! Why: the /proc walk is the floor of every `ss -p`: each `readlink(/proc/PID/fd/N)` makes the
//! kernel instantiate a dentry and print `socket:[inode]` (3-4 µs of kernel time per descriptor,
//! ~0.3 s of CPU at 100k sockets). A `task_file` iterator (Linux 5.8+; this program needs 5.11
//! for bpf_get_current_task_btf) visits the same fd tables from inside the kernel and hands back
//! 16 bytes per descriptor: (pid, fd, inode), the inode 0 when it is not a socket.
//!
//! How, without clang or a BPF object file: the program is 36 instructions assembled here, and the
//! struct offsets it needs come from the running kernel's BTF (/sys/kernel/btf/vmlinux, read by
//! `super::btf`); the verifier checks every load against the same BTF, so a wrong offset is a
//! refused program (and a fallback to /proc), never a wrong read. The pid it reports is the
//! thread-group id as seen from this process's PID namespace (`upid` at the caller's level), so it
//! names the same /proc entries as the walk does.
//!
//! Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), BTF, and a /proc that belongs to this
//! process's PID namespace. When any is missing, [`socket_fds`] says why and the caller walks
//! /proc instead; `meta.sources.owners` records which was used.
//!
//! `unsafe` is needed here for the bpf(2) system call, which libc, nix and rustix do
//! not wrap (aya and libbpf-rs load programs only from ELF objects).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::bpfsys::{BPF_LINK_CREATE, BPF_PROG_LOAD, BPF_PROG_TYPE_TRACING, FN_PROBE_READ_KERNEL};
use super::btf::{Btf, BtfError, KIND_FUNC, KIND_STRUCT};
use crate::model::Owner;

const BPF_ITER_CREATE: u32 = 33;
const BPF_TRACE_ITER: u32 = 28;
const FN_SEQ_WRITE: i32 = 127;
const FN_GET_CURRENT_TASK_BTF: i32 = 158;
const S_IFMT: i32 = 0o170000;
const S_IFSOCK: i32 = 0o140000;
/// One record: pid (u32), fd (u32), inode (u64), in host byte order.
const RECORD: usize = 16;

/// `union bpf_attr`, as bytes: 144 in the uapi header this was written against; the kernel takes
/// a larger or smaller one as long as the bytes it does not know are zero.
#[repr(C, align(8))]
pub(super) struct Attr(pub(super) [u8; 144]);

impl Attr {
    pub(super) fn new() -> Attr {
        Attr([0; 144])
    }
    pub(super) fn u32(&mut self, at: usize, v: u32) -> &mut Attr {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    pub(super) fn u64(&mut self, at: usize, v: u64) -> &mut Attr {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
}

/// bpf(2). The caller keeps every buffer that `attr` points to alive across the call.
#[allow(unsafe_code)]
pub(super) fn bpf(cmd: u32, attr: &mut Attr) -> io::Result<OwnedFd> {
    // SAFETY: `attr` is a valid, writable `union bpf_attr` of the size passed; the pointers inside
    // it (instructions, license, log buffer) point to buffers that outlive the call, and the log
    // buffer's size is the one written next to it. Every command passed here (prog and map
    // creation, link and iterator creation) returns a new fd; commands that return 0 on success
    // (map lookups) go through `tracepoint::bpf_status` instead.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            libc::c_long::from(cmd),
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_uint,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(r).map_err(|_| io::Error::other("bpf: fd out of range"))?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `BPF_LINK_CREATE` of a BTF-typed tracing program (iterator, raw tracepoint, fentry, fexit) to the
/// target it was loaded for: detached when the link's fd is closed.
pub(super) fn link(prog: &OwnedFd, attach_type: u32) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32(0, prog.as_raw_fd() as u32).u32(8, attach_type);
    bpf(BPF_LINK_CREATE, &mut attr)
}

/// The struct offsets the program reads, from the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// BTF id of `bpf_iter_task_file`, the iterator's attach point.
    pub attach_btf_id: u32,
    /// Offset of `meta` (a pointer to `struct bpf_iter_meta`) in the program's context, `struct
    /// bpf_iter__task_file`.
    pub ctx_meta: u32,
    /// Offset of `task` (the `task_struct` being visited; NULL on the final call) in the context.
    pub ctx_task: u32,
    /// Offset of `fd` (the descriptor number, 4 bytes) in the context.
    pub ctx_fd: u32,
    /// Offset of `file` (the `struct file` behind the descriptor) in the context.
    pub ctx_file: u32,
    /// Offset of `seq` in `struct bpf_iter_meta`: the seq_file the records are written to.
    pub meta_seq: u32,
    /// Offset of `group_leader` in `task_struct`: records carry the thread group's pid, not the
    /// thread's.
    pub task_group_leader: u32,
    /// Offset of `thread_pid` (its `struct pid`) in `task_struct`.
    pub task_thread_pid: u32,
    /// Offset of `level` in `struct pid`: the depth of PID namespace nesting, read from the calling
    /// task to pick this process's own namespace.
    pub pid_level: u32,
    /// Offset of `numbers`, the array of `struct upid` (one per namespace level), in `struct pid`.
    pub pid_numbers: u32,
    /// Size in bytes of `struct upid`: the stride of `numbers`.
    pub upid_size: u32,
    /// Offset of `nr` (the pid as that level's namespace sees it) in `struct upid`.
    pub upid_nr: u32,
    /// Offset of `f_inode` in `struct file`.
    pub file_f_inode: u32,
    /// Offset of `i_mode` (2 bytes) in `struct inode`: its `S_IFMT` bits tell a socket.
    pub inode_i_mode: u32,
    /// Offset of `i_ino` in `struct inode`: the socket inode that `/proc/PID/fd` shows as
    /// `socket:[INODE]`.
    pub inode_i_ino: u32,
}

impl Layout {
    /// Every type and member name [`Layout::from_btf`] looks up.
    pub const NAMES: &[&str] = &[
        "bpf_iter_task_file",
        "bpf_iter__task_file",
        "bpf_iter_meta",
        "task_struct",
        "pid",
        "upid",
        "file",
        "inode",
        "meta",
        "task",
        "fd",
        "seq",
        "group_leader",
        "thread_pid",
        "level",
        "numbers",
        "nr",
        "f_inode",
        "i_mode",
        "i_ino",
    ];

    /// Reads the layout from a BTF blob; every member must exist with the size the program loads.
    pub fn from_btf(btf: &Btf<'_>) -> Result<Layout, LayoutError> {
        let field = |sid: u32, strukt: &'static str, member: &'static str, size: u32| match btf
            .member(sid, member)
        {
            Some(m) if m.size == size => Ok(m.offset),
            Some(m) => Err(LayoutError::Size {
                strukt,
                member,
                size: m.size,
                want: size,
            }),
            None => Err(LayoutError::NoMember { strukt, member }),
        };
        let ids = btf.find_all(&[
            (KIND_FUNC, "bpf_iter_task_file"),
            (KIND_STRUCT, "bpf_iter__task_file"),
            (KIND_STRUCT, "bpf_iter_meta"),
            (KIND_STRUCT, "task_struct"),
            (KIND_STRUCT, "pid"),
            (KIND_STRUCT, "upid"),
            (KIND_STRUCT, "file"),
            (KIND_STRUCT, "inode"),
        ])?;
        let [func, ctx, meta, task, pid, upid, file, inode] = ids[..] else {
            unreachable!("find_all returns one id per name");
        };
        Layout {
            attach_btf_id: func,
            ctx_meta: field(ctx, "bpf_iter__task_file", "meta", 8)?,
            ctx_task: field(ctx, "bpf_iter__task_file", "task", 8)?,
            ctx_fd: field(ctx, "bpf_iter__task_file", "fd", 4)?,
            ctx_file: field(ctx, "bpf_iter__task_file", "file", 8)?,
            meta_seq: field(meta, "bpf_iter_meta", "seq", 8)?,
            task_group_leader: field(task, "task_struct", "group_leader", 8)?,
            task_thread_pid: field(task, "task_struct", "thread_pid", 8)?,
            pid_level: field(pid, "pid", "level", 4)?,
            pid_numbers: btf
                .member(pid, "numbers")
                .ok_or(LayoutError::NoMember {
                    strukt: "pid",
                    member: "numbers",
                })?
                .offset,
            upid_size: btf.size_of(upid).ok_or(LayoutError::NoSize("upid"))?,
            upid_nr: field(upid, "upid", "nr", 4)?,
            file_f_inode: field(file, "file", "f_inode", 8)?,
            inode_i_mode: field(inode, "inode", "i_mode", 2)?,
            inode_i_ino: field(inode, "inode", "i_ino", 8)?,
        }
        .checked()
    }

    /// Every offset the program puts in an instruction's 16-bit `off` field must fit there.
    fn checked(self) -> Result<Layout, LayoutError> {
        let l = self;
        let offsets = [
            l.ctx_meta,
            l.ctx_task,
            l.ctx_fd,
            l.ctx_file,
            l.meta_seq,
            l.task_group_leader,
            l.task_thread_pid,
            l.pid_level,
            l.file_f_inode,
            l.inode_i_mode,
            l.inode_i_ino,
            l.pid_numbers + l.upid_nr,
            l.upid_size,
        ];
        match offsets.iter().find(|&&o| o > i16::MAX as u32) {
            Some(&o) => Err(LayoutError::Offset(o)),
            None => Ok(l),
        }
    }
}

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode: class, size or operation, and source bits (`BPF_LDX | BPF_MEM | BPF_DW`, ...).
    pub code: u8,
    /// Destination register, 0 to 10 (r10 is the read-only frame pointer); 4 bits when encoded.
    pub dst: u8,
    /// Source register, 0 to 10; 4 bits when encoded.
    pub src: u8,
    /// Signed offset: of a memory access from its base register, or of a jump, in instructions,
    /// from the next one.
    pub off: i16,
    /// Signed immediate operand, or the helper function's number for a call.
    pub imm: i32,
}

impl Insn {
    pub(super) fn bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.dst & 0xf) | (self.src << 4);
        b[2..4].copy_from_slice(&self.off.to_ne_bytes());
        b[4..8].copy_from_slice(&self.imm.to_ne_bytes());
        b
    }
}

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R6: u8 = 6;
const R7: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
const FP: u8 = 10;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}
fn mov(dst: u8, src: u8) -> Insn {
    insn(0xbf, dst, src, 0, 0) // BPF_ALU64 | BPF_MOV | BPF_X
}
fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(0xb7, dst, 0, 0, imm) // BPF_ALU64 | BPF_MOV | BPF_K
}
fn add_imm(dst: u8, imm: i32) -> Insn {
    insn(0x07, dst, 0, 0, imm) // BPF_ALU64 | BPF_ADD | BPF_K
}
fn add(dst: u8, src: u8) -> Insn {
    insn(0x0f, dst, src, 0, 0) // BPF_ALU64 | BPF_ADD | BPF_X
}
fn mul_imm(dst: u8, imm: i32) -> Insn {
    insn(0x27, dst, 0, 0, imm) // BPF_ALU64 | BPF_MUL | BPF_K
}
fn and_imm(dst: u8, imm: i32) -> Insn {
    insn(0x57, dst, 0, 0, imm) // BPF_ALU64 | BPF_AND | BPF_K
}
fn off16(off: u32) -> i16 {
    i16::try_from(off).expect("Layout::checked keeps offsets below 32 KiB")
}
fn ldx_dw(dst: u8, src: u8, off: u32) -> Insn {
    insn(0x79, dst, src, off16(off), 0) // BPF_LDX | BPF_MEM | BPF_DW
}
fn ldx_w(dst: u8, src: u8, off: u32) -> Insn {
    insn(0x61, dst, src, off16(off), 0) // BPF_LDX | BPF_MEM | BPF_W
}
fn ldx_h(dst: u8, src: u8, off: u32) -> Insn {
    insn(0x69, dst, src, off16(off), 0) // BPF_LDX | BPF_MEM | BPF_H
}
fn stx_dw(dst: u8, off: i16, src: u8) -> Insn {
    insn(0x7b, dst, src, off, 0) // BPF_STX | BPF_MEM | BPF_DW
}
fn stx_w(dst: u8, off: i16, src: u8) -> Insn {
    insn(0x63, dst, src, off, 0) // BPF_STX | BPF_MEM | BPF_W
}
fn st_w(dst: u8, off: i16, imm: i32) -> Insn {
    insn(0x62, dst, 0, off, imm) // BPF_ST | BPF_MEM | BPF_W
}
fn jeq_imm(dst: u8, imm: i32, to: usize) -> Insn {
    insn(0x15, dst, 0, to as i16, imm) // BPF_JMP | BPF_JEQ | BPF_K; `off` patched below
}
fn jne_imm(dst: u8, imm: i32, to: usize) -> Insn {
    insn(0x55, dst, 0, to as i16, imm) // BPF_JMP | BPF_JNE | BPF_K; `off` patched below
}
fn call(helper: i32) -> Insn {
    insn(0x85, 0, 0, 0, helper) // BPF_JMP | BPF_CALL
}

/// The iterator program. For each (task, file) the kernel visits, write (tgid in our PID
/// namespace, fd, inode) to the seq_file, with inode 0 when the file is not a socket: the
/// non-socket records say which processes' fd tables were visited at all (see [`TaskFiles`]).
pub fn program(l: &Layout) -> Vec<Insn> {
    const OUT: usize = usize::MAX; // jump target placeholder: the two-instruction epilogue
    let upid_nr = (l.pid_numbers + l.upid_nr) as i32;
    let mut p = vec![
        mov(R6, R1),                // r6 = ctx
        ldx_dw(R7, R6, l.ctx_task), // r7 = ctx->task
        jeq_imm(R7, 0, OUT),        // the end-of-iteration call has no task
        ldx_dw(R8, R6, l.ctx_file), // r8 = ctx->file
        jeq_imm(R8, 0, OUT),
        ldx_dw(R2, R8, l.file_f_inode), // r2 = file->f_inode
        ldx_h(R3, R2, l.inode_i_mode),  // r3 = inode->i_mode
        and_imm(R3, S_IFMT),
        mov_imm(R4, 0),                 // inode 0: not a socket
        insn(0x55, R3, 0, 1, S_IFSOCK), // not a socket: skip the next load
        ldx_dw(R4, R2, l.inode_i_ino),
        stx_dw(FP, -8, R4), // record[8..16] = inode, or 0
        ldx_w(R3, R6, l.ctx_fd),
        stx_w(FP, -12, R3), // record[4..8] = fd
        st_w(FP, -16, 0),   // record[0..4] = pid, read below
        // Our PID namespace's level: current->thread_pid->level.
        call(FN_GET_CURRENT_TASK_BTF),
        ldx_dw(R0, R0, l.task_thread_pid),
        ldx_w(R9, R0, l.pid_level),
        mul_imm(R9, l.upid_size as i32),
        // &task->group_leader->thread_pid->numbers[level].nr
        ldx_dw(R3, R7, l.task_group_leader),
        ldx_dw(R3, R3, l.task_thread_pid),
        add_imm(R3, upid_nr),
        add(R3, R9),
        mov(R1, FP),
        add_imm(R1, -16),
        mov_imm(R2, 4),
        call(FN_PROBE_READ_KERNEL),
        jne_imm(R0, 0, OUT),
        ldx_dw(R1, R6, l.ctx_meta), // r1 = ctx->meta->seq
        ldx_dw(R1, R1, l.meta_seq),
        mov(R2, FP),
        add_imm(R2, -16),
        mov_imm(R3, RECORD as i32),
        call(FN_SEQ_WRITE),
    ];
    let out = p.len();
    p.push(mov_imm(R0, 0));
    p.push(insn(0x95, 0, 0, 0, 0)); // BPF_JMP | BPF_EXIT
    for (i, ins) in p.iter_mut().enumerate() {
        if (ins.code == 0x15 || ins.code == 0x55) && ins.off == OUT as i16 {
            ins.off = (out - i - 1) as i16;
        }
    }
    p
}

/// What the iterator saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TaskFiles {
    /// Every socket descriptor, as (inode, holder), unsorted.
    pub sockets: Vec<(u64, Owner)>,
    /// Every process with at least one descriptor that the iterator visited, sorted. A process in
    /// /proc that is not here was not visited (a kernel thread has no fd table; this machine's
    /// sandbox init is not visited either): the caller walks those through /proc.
    pub pids: Vec<u32>,
}

/// Loads the program, creates the iterator and reads it: every descriptor of every process in
/// this PID namespace (and those below it). `Err` says why the iterator is unavailable.
pub fn socket_fds() -> Result<TaskFiles, IterError> {
    same_pid_namespace()?;
    let blob = std::fs::read("/sys/kernel/btf/vmlinux").map_err(IterError::NoBtf)?;
    let btf = Btf::parse_with_names(&blob, Layout::NAMES).map_err(LayoutError::from)?;
    let layout = Layout::from_btf(&btf)?;
    drop(blob);
    let prog = load(&program(&layout), layout.attach_btf_id)?;
    // No iter_info: every task.
    let link = link(&prog, BPF_TRACE_ITER).map_err(IterError::Link)?;
    let iter = bpf(BPF_ITER_CREATE, Attr::new().u32(0, link.as_raw_fd() as u32))
        .map_err(IterError::Iterator)?;
    let mut raw = Vec::with_capacity(1 << 20);
    File::from(iter)
        .read_to_end(&mut raw)
        .map_err(IterError::Read)?;
    Ok(decode(&raw))
}

/// The iterator's records: sockets as (inode, owner), and the processes seen.
pub fn decode(raw: &[u8]) -> TaskFiles {
    // Sized for the common case (most descriptors are sockets on the hosts where the iterator
    // runs), so that a million records do not grow the vector twenty times.
    let mut out = TaskFiles {
        sockets: Vec::with_capacity(raw.len() / RECORD),
        pids: Vec::new(),
    };
    for r in raw.chunks_exact(RECORD) {
        let word = |a: usize| u32::from_ne_bytes(r[a..a + 4].try_into().expect("4 bytes"));
        let inode = u64::from_ne_bytes(r[8..16].try_into().expect("8 bytes"));
        let owner = Owner {
            pid: word(0),
            fd: word(4),
        };
        // A process's descriptors arrive together: a new pid is a change from the last one.
        if out.pids.last() != Some(&owner.pid) {
            out.pids.push(owner.pid);
        }
        if inode != 0 {
            out.sockets.push((inode, owner));
        }
    }
    out.pids.sort_unstable();
    out.pids.dedup();
    out
}

fn load(prog: &[Insn], attach_btf_id: u32) -> Result<OwnedFd, IterError> {
    let code: Vec<u8> = prog.iter().flat_map(|i| i.bytes()).collect();
    let license = c"Dual MIT/GPL";
    let attempt = |log: Option<&mut Vec<u8>>| {
        // Byte offsets of the BPF_PROG_LOAD struct in `union bpf_attr` (uapi linux/bpf.h).
        let mut attr = Attr::new();
        attr.u32(0, BPF_PROG_TYPE_TRACING) // prog_type
            .u32(4, prog.len() as u32) // insn_cnt
            .u64(8, code.as_ptr() as u64) // insns
            .u64(16, license.as_ptr() as u64) // license
            .u32(68, BPF_TRACE_ITER) // expected_attach_type
            .u32(108, attach_btf_id); // attach_btf_id (in vmlinux: attach_btf_obj_fd 0)
        attr.0[48..48 + 15].copy_from_slice(b"sockwarden_fds\0"); // prog_name[16]
        if let Some(buf) = log {
            attr.u32(24, 1) // log_level
                .u32(28, buf.len() as u32) // log_size
                .u64(32, buf.as_mut_ptr() as u64); // log_buf
            return bpf(BPF_PROG_LOAD, &mut attr);
        }
        bpf(BPF_PROG_LOAD, &mut attr)
    };
    match attempt(None) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(IterError::NotPermitted),
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => Err(IterError::NoSyscall),
        Err(e) => {
            // Load again with the verifier's log, to say why.
            let mut log = vec![0u8; 64 * 1024];
            let _ = attempt(Some(&mut log));
            Err(IterError::Refused {
                error: e,
                log: verifier_tail(&log),
            })
        }
    }
}

/// The iterator reports pids as seen from this process's PID namespace; /proc must show the same
/// namespace for the pids to name the right /proc entries.
fn same_pid_namespace() -> Result<(), IterError> {
    let me = std::fs::read_link("/proc/self").map_err(IterError::ProcSelf)?;
    if me.as_os_str().as_encoded_bytes() == std::process::id().to_string().as_bytes() {
        Ok(())
    } else {
        Err(IterError::OtherPidNamespace)
    }
}

/// Why the kernel's BTF does not give the program's struct layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The BTF blob did not parse, or a type was not found.
    #[error(transparent)]
    Btf(#[from] BtfError),
    /// A member has another size than the program loads.
    #[error("BTF: {strukt}.{member} is {size} bytes, not {want}")]
    Size {
        /// The struct.
        strukt: &'static str,
        /// The member.
        member: &'static str,
        /// Its size in this kernel.
        size: u32,
        /// The size the program loads.
        want: u32,
    },
    /// A member the program reads does not exist in this kernel.
    #[error("BTF: no member {strukt}.{member}")]
    NoMember {
        /// The struct.
        strukt: &'static str,
        /// The member.
        member: &'static str,
    },
    /// A struct whose size BTF does not give.
    #[error("BTF: no size for {0}")]
    NoSize(&'static str),
    /// An offset too large for an instruction's 16-bit offset field.
    #[error("BTF: struct offset {0} does not fit the program")]
    Offset(u32),
}

/// Why the task-file iterator is unavailable: the caller walks /proc instead (or, with
/// `--owners-from bpf`, fails closed) and records this text in `meta.sources.owners`.
#[derive(Debug, thiserror::Error)]
pub enum IterError {
    /// /proc was not mounted by this process's PID namespace.
    #[error("/proc belongs to another PID namespace")]
    OtherPidNamespace,
    /// /proc/self could not be read.
    #[error("/proc/self: {0}")]
    ProcSelf(io::Error),
    /// /proc is somewhere else (`--proc-root`): the iterator's pids would name other entries.
    #[error("{} is not /proc", .0.display())]
    NotProc(std::path::PathBuf),
    /// The kernel has no BTF.
    #[error("no kernel BTF (/sys/kernel/btf/vmlinux: {0})")]
    NoBtf(io::Error),
    /// BTF does not give the layout the program needs.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Loading the program was refused for lack of privilege.
    #[error(
        "bpf: not permitted (needs CAP_BPF and CAP_PERFMON; a seccomp filter or kernel \
         lockdown can also forbid it)"
    )]
    NotPermitted,
    /// The kernel was built without bpf(2).
    #[error("bpf: this kernel has no bpf(2) (CONFIG_BPF_SYSCALL)")]
    NoSyscall,
    /// The verifier refused the program: its error and the last lines of its log.
    #[error("bpf program refused: {error}: {log}")]
    Refused {
        /// The load's error.
        error: io::Error,
        /// The verifier log's last three lines.
        log: String,
    },
    /// The iterator's link could not be created.
    #[error("bpf link: {0}")]
    Link(io::Error),
    /// The iterator could not be created.
    #[error("bpf iterator: {0}")]
    Iterator(io::Error),
    /// The iterator could not be read.
    #[error("reading the bpf iterator: {0}")]
    Read(io::Error),
}

/// The last three lines of a verifier log the kernel wrote into `log` (NUL-terminated), joined
/// with " / ": where and why it refused a program.
pub(super) fn verifier_tail(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]);
    let last: Vec<&str> = text.lines().rev().take(3).collect();
    last.into_iter().rev().collect::<Vec<_>>().join(" / ")
}

#[cfg(test)]
mod tests;
