//! TCP state changes as they happen, from the kernel's `sock:inet_sock_set_state` tracepoint,
//! for `sockwarden watch` (docs/watch.md).
//!
//! Why a tracepoint: it is a stable interface (its record is described by a format file under
//! tracefs and has not changed since Linux 4.16), it carries both ends of the connection, v4 and
//! v6, and it fires in the context of the process that acted for the transitions that matter:
//! `connect()` (CLOSE → SYN_SENT) and `listen()` (CLOSE → LISTEN). A passive open (SYN_RECV →
//! ESTABLISHED) fires in softirq context, in whatever process happened to run: the caller
//! attributes it to the listening socket's holder instead.
//!
//! How, without clang or an object file, as `taskfiles` does: the program (about 70
//! instructions) is assembled here. A tracepoint program reads the raw trace record, so the
//! offsets of its fields come from the tracepoint's format file, not from BTF; BTF gives only the
//! two offsets of the optional network-namespace read (`sock → skc_net → ns.inum`, through
//! `bpf_probe_read_kernel`, which cannot fault). Events go into rings that this process maps
//! and reads: the TCP program's, one per CPU (rings of slots, [`super::slotring`], or BPF ring
//! buffers where those cannot be used: [`RingKind`]), merged by time as they are read
//! ([`Tracer::poll`]), and the other programs' shared BPF ring buffer (Linux 5.8+); a record
//! that found its ring full is counted in a per-CPU array, read by [`Tracer::lost`].
//!
//! Attachment: one `perf_event_open` on the tracepoint's id (on the first online CPU), given the
//! program with `PERF_EVENT_IOC_SET_BPF` (Linux 4.7+). The program joins the tracepoint's own
//! program array and runs on every CPU, as libbpf's tracepoint attachment does. A bpf_link
//! would add nothing here: the perf fd's lifetime is the attachment's, and closing it (when the
//! process ends, however it ends) detaches. Needs CAP_BPF and
//! CAP_PERFMON (or CAP_SYS_ADMIN), and tracefs mounted (/sys/kernel/tracing or
//! /sys/kernel/debug/tracing) to read the format and id.
//!
//! `unsafe` is needed for the perf_event_open(2), ioctl(2), mmap(2) and bpf(2) calls (libc, nix
//! and rustix wrap none of them for this use), and to read the ring buffer the kernel writes
//! into shared memory; each block says why it is sound.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::bpfsys::{
    BPF_MAP_TYPE_ARRAY, BPF_PROG_LOAD, BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_TRACING,
    BPF_RB_FORCE_WAKEUP, FN_GET_CURRENT_PID_TGID, FN_GET_SMP_PROCESSOR_ID, FN_PROBE_READ_KERNEL,
};
use super::btf::{Btf, KIND_STRUCT};
use super::slotring::{self, Publish, SlotArray, SlotMaps, SlotRing};
use super::sockhooks::{Fexits, Gap, Hooks, UnixOffsets};
use super::taskfiles::{Attr, Insn, bpf, link};

const BPF_MAP_CREATE: u32 = 0;
const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;
const BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_TRACE_RAW_TP: u32 = 23;
pub(super) const BPF_TRACE_FEXIT: u32 = 25;
pub(super) const FN_MAP_LOOKUP_ELEM: i32 = 1;
const FN_KTIME_GET_NS: i32 = 5;
const FN_GET_CURRENT_UID_GID: i32 = 15;
const FN_GET_CURRENT_COMM: i32 = 16;
const FN_GET_CURRENT_CGROUP_ID: i32 = 80;
const FN_RINGBUF_RESERVE: i32 = 131;
const FN_RINGBUF_SUBMIT: i32 = 132;
const FN_RINGBUF_QUERY: i32 = 134;
/// `bpf_ringbuf_query`'s `BPF_RB_AVAIL_DATA`, and the submit flags.
const BPF_RB_AVAIL_DATA: i32 = 0;
pub(super) const BPF_RB_NO_WAKEUP: i32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// `_IO('$', 0)`.
const PERF_EVENT_IOC_ENABLE: libc::Ioctl = 0x2400;
/// `_IOW('$', 8, __u32)`.
const PERF_EVENT_IOC_SET_BPF: libc::Ioctl = 0x4004_2408;
const IPPROTO_TCP: i32 = 6;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const BUSY_BIT: u32 = 1 << 31;
const DISCARD_BIT: u32 = 1 << 30;
const RINGBUF_HDR: usize = 8;
/// Records handed over per [`Tracer::poll`] (per ring): the caller's loop checks its limits
/// between calls.
const DRAIN_MAX: usize = 4096;
/// How long a read of the rings per CPU waits for a record still being written below the
/// positions it took (spin-loop hints: some tens of microseconds), before leaving it and
/// what follows it on that CPU to the next read.
const BUSY_SPINS: u32 = 20_000;
/// The smallest ring per CPU (a power of two): at 10,000 records/s on one CPU, a read
/// interval's records take 64 KiB.
const CPU_RING_MIN: usize = 256 * 1024;
/// How often the ring buffer is read when nothing wakes the reader: the detection latency
/// (docs/watch.md, "Latency"). The programs submit without waking user space
/// (`BPF_RB_NO_WAKEUP`): a wake-up costs the traced task an irq_work and its CPU a cross-CPU
/// wake-up of the reader, per batch at best. At 10,000 connections/s (20,000 records/s) an
/// interval is 1,000 records, 128 KiB of the default 4 MiB ring.
pub const READ_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
/// Slots of the table of connects in flight whose process the TCP program keeps in the kernel
/// until the connection is up or refused (a power of two: the slot is a hash of the socket's
/// address; a slot another connect holds sends the connect's own record, as `--all-events`
/// does).
pub const CONNECTS: u32 = 16_384;
/// Bit 0 of a full record's flags word ([`Layout::flags`]): the process fields are those of the `connect()`
/// (CLOSE → SYN_SENT) the program kept, not of the task the transition ran in.
pub const FLAG_CONNECT: u32 = 1;

/// TCP states as the tracepoint numbers them (`include/net/tcp_states.h`).
pub mod tcp_state {
    /// TCP_ESTABLISHED.
    pub const ESTABLISHED: u32 = 1;
    /// TCP_SYN_SENT.
    pub const SYN_SENT: u32 = 2;
    /// TCP_SYN_RECV.
    pub const SYN_RECV: u32 = 3;
    /// TCP_CLOSE.
    pub const CLOSE: u32 = 7;
    /// TCP_LISTEN.
    pub const LISTEN: u32 = 10;
}

/// Where each field sits in a TCP record: the one definition that the program's stores
/// ([`program`], [`btf_program`]) and watch's reader (`watch::event::decode`) both use. Two
/// layouts: [`FULL`] and [`COMPACT`]; the reader tells them apart by the record's length. A
/// field a layout lacks (`None`) is not written by the program and reads as 0 (the family as
/// AF_INET). Host byte order unless noted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The record's length in bytes (the ring adds an 8-byte header).
    pub len: usize,
    /// `bpf_ktime_get_ns()` (8 bytes): nanoseconds since boot (CLOCK_MONOTONIC).
    pub ktime: usize,
    /// `skaddr` (8): the socket's kernel address (an identity while it lives).
    pub skaddr: usize,
    /// Old and new state (4 bytes each).
    pub old: usize,
    /// See [`Layout::old`].
    pub new: usize,
    /// The local port (2, host order, as the tracepoint gives it) and the remote one (2).
    pub sport: usize,
    /// See [`Layout::sport`].
    pub dport: usize,
    /// The v4 addresses (4 bytes each, network order).
    pub saddr: usize,
    /// See [`Layout::saddr`].
    pub daddr: usize,
    /// The socket's network namespace inode (4; 0: not read).
    pub netns: usize,
    /// The family (2: 2 AF_INET, 10 AF_INET6); `None`: AF_INET.
    pub family: Option<usize>,
    /// The protocol (2: 6 TCP).
    pub protocol: Option<usize>,
    /// The v6 addresses (16 bytes each).
    pub saddr_v6: Option<usize>,
    /// See [`Layout::saddr_v6`].
    pub daddr_v6: Option<usize>,
    /// `bpf_get_current_pid_tgid()` (8): tgid << 32 \| tid, in the initial PID namespace.
    pub pid_tgid: Option<usize>,
    /// `bpf_get_current_uid_gid()` (8): gid << 32 \| uid.
    pub uid_gid: Option<usize>,
    /// `bpf_get_current_cgroup_id()` (8, cgroup v2).
    pub cgroup: Option<usize>,
    /// `bpf_get_current_comm()` (16, NUL-padded).
    pub comm: Option<usize>,
    /// Flags (4): [`FLAG_CONNECT`].
    pub flags: Option<usize>,
}

/// The full TCP record, 120 bytes (two cache lines with the ring's header): for a v6 socket,
/// for a record that carries a process (a connect, a listen, an outcome with its connect's
/// process: [`FLAG_CONNECT`]), and for every record with `--all-events`.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | time |
/// | 8 | 8 | skaddr |
/// | 16 | 8 | pid_tgid |
/// | 24 | 8 | uid_gid |
/// | 32 | 8 | cgroup id |
/// | 40, 44 | 4, 4 | old, new state |
/// | 48, 50 | 2, 2 | sport, dport |
/// | 52, 54 | 2, 2 | family, protocol |
/// | 56, 60 | 4, 4 | saddr, daddr |
/// | 64, 80 | 16, 16 | saddr_v6, daddr_v6 |
/// | 96 | 16 | comm |
/// | 112 | 4 | netns inode |
/// | 116 | 4 | flags |
///
/// With [`FLAG_CONNECT`] (a connection up or refused, its connect kept in the kernel), the time,
/// pid, uid, cgroup and comm are the `connect()`'s.
pub const FULL: Layout = Layout {
    len: 120,
    ktime: 0,
    skaddr: 8,
    pid_tgid: Some(16),
    uid_gid: Some(24),
    cgroup: Some(32),
    old: 40,
    new: 44,
    sport: 48,
    dport: 50,
    family: Some(52),
    protocol: Some(54),
    saddr: 56,
    daddr: 60,
    saddr_v6: Some(64),
    daddr_v6: Some(80),
    comm: Some(96),
    netns: 112,
    flags: Some(116),
};

/// The compact TCP record, 56 bytes: with the ring's 8-byte header, one 64-byte cache line
/// (issue 18's session 12). For an AF_INET socket's record that carries no process, which
/// watch attributes from its tables: a passive open (the listener's holder), an outcome
/// whose connect the kernel's table lacked (the connect's own record), a listener's close.
/// Without `--all-events` only.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | time |
/// | 8 | 8 | skaddr |
/// | 16, 20 | 4, 4 | old, new state |
/// | 24, 26 | 2, 2 | sport, dport |
/// | 28, 32 | 4, 4 | saddr, daddr |
/// | 36 | 4 | netns inode |
/// | 40..56 | | not written (the length is the line's) |
pub const COMPACT: Layout = Layout {
    len: 56,
    ktime: 0,
    skaddr: 8,
    old: 16,
    new: 20,
    sport: 24,
    dport: 26,
    saddr: 28,
    daddr: 32,
    netns: 36,
    family: None,
    protocol: None,
    saddr_v6: None,
    daddr_v6: None,
    pid_tgid: None,
    uid_gid: None,
    cgroup: None,
    comm: None,
    flags: None,
};

/// The full record's length ([`FULL`]).
pub const RECORD: usize = FULL.len;

impl Layout {
    /// Where the tracepoint's fields go, in [`FIELDS`]' order (`None`: not in this layout).
    fn destinations(&self) -> [Option<usize>; 11] {
        [
            Some(self.skaddr),
            Some(self.old),
            Some(self.new),
            Some(self.sport),
            Some(self.dport),
            self.family,
            self.protocol,
            Some(self.saddr),
            Some(self.daddr),
            self.saddr_v6,
            self.daddr_v6,
        ]
    }
}

/// `offset` as an instruction's offset (every layout is far below `i16::MAX`).
fn at(offset: usize) -> i16 {
    offset as i16
}

/// Where each field of the tracepoint's raw record sits (from its format file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The tracepoint's id (`ID:` in the format file), for perf_event_open.
    pub id: u64,
    /// `(offset, size)` of `skaddr`, `oldstate`, `newstate`, `sport`, `dport`, `family`,
    /// `protocol`, `saddr`, `daddr`, `saddr_v6`, `daddr_v6`, in that order.
    pub fields: [(u32, u32); 11],
}

/// The fields the program copies from the trace record and their sizes (where each goes:
/// [`Layout::destinations`]).
const FIELDS: [(&str, u32); 11] = [
    ("skaddr", 8),
    ("oldstate", 4),
    ("newstate", 4),
    ("sport", 2),
    ("dport", 2),
    ("family", 2),
    ("protocol", 2),
    ("saddr", 4),
    ("daddr", 4),
    ("saddr_v6", 16),
    ("daddr_v6", 16),
];

/// Why the tracepoint's format could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The format has no `ID:` line.
    #[error("tracepoint format: no ID line")]
    NoId,
    /// A field the program copies is missing.
    #[error("tracepoint format: no field {0}")]
    NoField(&'static str),
    /// A field has another size than the program copies.
    #[error("tracepoint format: field {name} is {size} bytes, not {want}")]
    Size {
        /// The field.
        name: &'static str,
        /// Its size in this kernel.
        size: u32,
        /// The size the program copies.
        want: u32,
    },
    /// A scalar field is not aligned for the load that copies it (tracepoint context loads
    /// must be), or lies beyond what an instruction's offset can reach.
    #[error("tracepoint format: field {0} is misaligned or out of reach")]
    Unaligned(&'static str),
}

/// The `ID:` and the `(name, offset, size)` of every field of a tracepoint format file.
pub(super) fn format_fields(text: &str) -> (Option<u64>, Vec<(&str, u32, u32)>) {
    let mut id = None;
    let mut found: Vec<(&str, u32, u32)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("ID:") {
            id = v.trim().parse::<u64>().ok();
            continue;
        }
        let Some(rest) = line.strip_prefix("field:") else {
            continue;
        };
        let mut parts = rest.split(';').map(str::trim);
        let decl = parts.next().unwrap_or("");
        let mut offset = None;
        let mut size = None;
        for p in parts {
            if let Some(v) = p.strip_prefix("offset:") {
                offset = v.parse::<u32>().ok();
            } else if let Some(v) = p.strip_prefix("size:") {
                size = v.parse::<u32>().ok();
            }
        }
        let name = decl.rsplit([' ', '*']).next().unwrap_or("");
        let name = name.split('[').next().unwrap_or(name);
        if let (Some(o), Some(s)) = (offset, size) {
            found.push((name, o, s));
        }
    }
    (id, found)
}

/// Parses a tracepoint format file (`.../events/sock/inet_sock_set_state/format`): a pure
/// function of its text. Every field the program copies must be present with the expected size.
pub fn parse_format(text: &str) -> Result<Format, FormatError> {
    let (id, found) = format_fields(text);
    let id = id.ok_or(FormatError::NoId)?;
    let mut fields = [(0u32, 0u32); 11];
    for (i, (name, want)) in FIELDS.iter().enumerate() {
        let &(_, o, s) = found
            .iter()
            .find(|(n, ..)| n == name)
            .ok_or(FormatError::NoField(name))?;
        if s != *want {
            return Err(FormatError::Size {
                name,
                size: s,
                want: *want,
            });
        }
        // The scalar fields are loaded whole (the arrays are copied in whatever pieces their
        // alignment allows): a misaligned context load is refused by the verifier.
        let scalar = !name.contains("addr");
        if (scalar && !o.is_multiple_of(*want.min(&8))) || o > i16::MAX as u32 {
            return Err(FormatError::Unaligned(name));
        }
        fields[i] = (o, s);
    }
    Ok(Format { id, fields })
}

/// Offsets for reading the socket's network namespace inode: `sk->__sk_common.skc_net.net`,
/// then `net->ns.inum`. `None` when this kernel's BTF does not give them (the events then carry
/// netns 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetnsOffsets {
    /// Offset of the `struct net *` in `struct sock`.
    pub sock_net: u32,
    /// Offset of `ns.inum` in `struct net`.
    pub net_inum: u32,
}

impl NetnsOffsets {
    /// Every name [`NetnsOffsets::from_btf`] looks up.
    pub const NAMES: &[&str] = &[
        "sock",
        "sock_common",
        "net",
        "ns_common",
        "__sk_common",
        "skc_net",
        "ns",
        "inum",
    ];

    /// Reads the offsets from BTF. `possible_net_t` is a struct whose only member is the
    /// pointer (without CONFIG_NET_NS it is empty: then `skc_net` is not 8 bytes and this is
    /// `None`).
    pub fn from_btf(btf: &Btf<'_>) -> Option<NetnsOffsets> {
        let ids = btf
            .find_all(&[
                (KIND_STRUCT, "sock"),
                (KIND_STRUCT, "sock_common"),
                (KIND_STRUCT, "net"),
                (KIND_STRUCT, "ns_common"),
            ])
            .ok()?;
        let [sock, common, net, ns] = ids[..] else {
            return None;
        };
        let sk_common = btf.member(sock, "__sk_common")?;
        let skc_net = btf.member(common, "skc_net")?;
        let ns_member = btf.member(net, "ns")?;
        let inum = btf.member(ns, "inum")?;
        if skc_net.size != 8 || inum.size != 4 {
            return None;
        }
        Some(NetnsOffsets {
            sock_net: sk_common.offset.checked_add(skc_net.offset)?,
            net_inum: ns_member.offset.checked_add(inum.offset)?,
        })
        .filter(|o| o.sock_net <= i32::MAX as u32 && o.net_inum <= i32::MAX as u32)
    }
}

/// Where the raw tracepoint program reads a socket (`struct sock`, through `__sk_common`), and
/// the BTF id it attaches to (`btf_trace_inet_sock_set_state`). Each offset is checked against
/// the size the program loads; `None` when one is missing or a bitfield (the perf tracepoint is
/// then used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockOffsets {
    /// The typedef `btf_trace_inet_sock_set_state`: the raw tracepoint's BTF id.
    pub attach_btf_id: u32,
    /// `sk_protocol` (2 bytes; a bitfield before Linux 5.6, then `None`).
    pub protocol: u32,
    /// `skc_family` (2 bytes).
    pub family: u32,
    /// `skc_num`: the local port, host order (2 bytes).
    pub num: u32,
    /// `skc_dport`: the remote port, network order (2 bytes).
    pub dport: u32,
    /// `skc_rcv_saddr` and `skc_daddr` (4 bytes each, network order).
    pub rcv_saddr: u32,
    /// See [`SockOffsets::rcv_saddr`].
    pub daddr: u32,
    /// `skc_v6_rcv_saddr` and `skc_v6_daddr` (16 bytes each).
    pub v6_rcv_saddr: u32,
    /// See [`SockOffsets::v6_rcv_saddr`].
    pub v6_daddr: u32,
}

impl SockOffsets {
    /// Every name [`SockOffsets::from_btf`] looks up.
    pub const NAMES: &[&str] = &[
        "btf_trace_inet_sock_set_state",
        "sock",
        "sock_common",
        "__sk_common",
        "sk_protocol",
        "skc_family",
        "skc_num",
        "skc_dport",
        "skc_rcv_saddr",
        "skc_daddr",
        "skc_v6_rcv_saddr",
        "skc_v6_daddr",
    ];

    /// Reads the offsets and the attach id from BTF.
    pub fn from_btf(btf: &Btf<'_>) -> Option<SockOffsets> {
        let attach_btf_id = btf
            .find(super::btf::KIND_TYPEDEF, "btf_trace_inet_sock_set_state")
            .ok()?;
        let ids = btf
            .find_all(&[(KIND_STRUCT, "sock"), (KIND_STRUCT, "sock_common")])
            .ok()?;
        let [sock, common] = ids[..] else {
            return None;
        };
        let base = btf.member(sock, "__sk_common")?.offset;
        let field = |id: u32, base: u32, name: &str, size: u32| {
            btf.member(id, name)
                .filter(|m| m.size == size)
                .and_then(|m| base.checked_add(m.offset))
                .filter(|&o| o <= i16::MAX as u32)
        };
        Some(SockOffsets {
            attach_btf_id,
            protocol: field(sock, 0, "sk_protocol", 2)?,
            family: field(common, base, "skc_family", 2)?,
            num: field(common, base, "skc_num", 2)?,
            dport: field(common, base, "skc_dport", 2)?,
            rcv_saddr: field(common, base, "skc_rcv_saddr", 4)?,
            daddr: field(common, base, "skc_daddr", 4)?,
            v6_rcv_saddr: field(common, base, "skc_v6_rcv_saddr", 16)?,
            v6_daddr: field(common, base, "skc_v6_daddr", 16)?,
        })
    }
}

/// A tiny assembler: instructions with named jump targets (shared with `sockhooks`).
pub(super) struct Asm {
    code: Vec<Insn>,
    labels: Vec<(&'static str, usize)>,
    fixups: Vec<(usize, &'static str)>,
}

pub(super) fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

pub(super) const R0: u8 = 0;
pub(super) const R1: u8 = 1;
pub(super) const R2: u8 = 2;
pub(super) const R3: u8 = 3;
pub(super) const R4: u8 = 4;
pub(super) const R6: u8 = 6;
pub(super) const R7: u8 = 7;
pub(super) const R8: u8 = 8;
pub(super) const R9: u8 = 9;
pub(super) const FP: u8 = 10;

/// `BPF_LDX | BPF_MEM | size` and `BPF_STX | BPF_MEM | size` opcodes by access size.
fn mem_codes(size: u32) -> (u8, u8) {
    match size {
        8 => (0x79, 0x7b),
        4 => (0x61, 0x63),
        2 => (0x69, 0x6b),
        _ => (0x71, 0x73),
    }
}

impl Asm {
    pub(super) fn new() -> Asm {
        Asm {
            code: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
        }
    }
    pub(super) fn push(&mut self, i: Insn) -> &mut Asm {
        self.code.push(i);
        self
    }
    pub(super) fn label(&mut self, name: &'static str) -> &mut Asm {
        assert!(
            self.labels.iter().all(|(n, _)| *n != name),
            "label {name} defined twice"
        );
        self.labels.push((name, self.code.len()));
        self
    }
    /// A conditional jump comparing two registers (`op`: 0x3d JGE, unsigned).
    pub(super) fn jump_reg(&mut self, op: u8, dst: u8, src: u8, to: &'static str) -> &mut Asm {
        self.fixups.push((self.code.len(), to));
        self.push(ins(op, dst, src, 0, 0))
    }
    /// A conditional jump on an immediate (`op`: 0x15 JEQ, 0x55 JNE) or, with `op` 0x05, always.
    pub(super) fn jump(&mut self, op: u8, reg: u8, imm: i32, to: &'static str) -> &mut Asm {
        self.fixups.push((self.code.len(), to));
        self.push(ins(op, reg, 0, 0, imm))
    }
    pub(super) fn mov(&mut self, dst: u8, src: u8) -> &mut Asm {
        self.push(ins(0xbf, dst, src, 0, 0))
    }
    pub(super) fn mov_imm(&mut self, dst: u8, imm: i32) -> &mut Asm {
        self.push(ins(0xb7, dst, 0, 0, imm))
    }
    pub(super) fn add_imm(&mut self, dst: u8, imm: i32) -> &mut Asm {
        self.push(ins(0x07, dst, 0, 0, imm))
    }
    pub(super) fn ldx(&mut self, size: u32, dst: u8, src: u8, off: i16) -> &mut Asm {
        self.push(ins(mem_codes(size).0, dst, src, off, 0))
    }
    pub(super) fn stx(&mut self, size: u32, dst: u8, off: i16, src: u8) -> &mut Asm {
        self.push(ins(mem_codes(size).1, dst, src, off, 0))
    }
    pub(super) fn st_w(&mut self, dst: u8, off: i16, imm: i32) -> &mut Asm {
        self.push(ins(0x62, dst, 0, off, imm))
    }
    pub(super) fn call(&mut self, helper: i32) -> &mut Asm {
        self.push(ins(0x85, 0, 0, 0, helper))
    }
    /// `BPF_LD | BPF_IMM | BPF_DW` with `BPF_PSEUDO_MAP_FD`: the map's address, by its fd.
    pub(super) fn ld_map(&mut self, dst: u8, fd: i32) -> &mut Asm {
        self.push(ins(0x18, dst, 1, 0, fd));
        self.push(ins(0, 0, 0, 0, 0))
    }
    /// `bpf_map_lookup_elem(map, fp + key)`: r0 = the value's address, or 0.
    pub(super) fn lookup(&mut self, map_fd: i32, key: i16) -> &mut Asm {
        self.ld_map(R1, map_fd)
            .mov(R2, FP)
            .add_imm(R2, i32::from(key))
            .call(FN_MAP_LOOKUP_ELEM)
    }
    pub(super) fn exit(&mut self) -> &mut Asm {
        self.push(ins(0x95, 0, 0, 0, 0))
    }
    pub(super) fn finish(mut self) -> Vec<Insn> {
        for (at, to) in &self.fixups {
            let target = self
                .labels
                .iter()
                .find(|(n, _)| n == to)
                .map(|(_, i)| *i)
                .expect("every jump target is defined");
            self.code[*at].off =
                i16::try_from(target as i64 - *at as i64 - 1).expect("the program is short");
        }
        self.code
    }
}

/// Copies `size` bytes from ctx+`from` to record+`to` in the largest loads the source
/// offset's alignment allows (the verifier refuses a misaligned context load).
fn copy_field(a: &mut Asm, from: u32, to: i16, size: u32) {
    copy_field_to(a, R7, from, to, size);
}

/// [`copy_field`] to `dst`+`to` (the record in r7, or the stack).
fn copy_field_to(a: &mut Asm, dst: u8, from: u32, to: i16, size: u32) {
    let mut done = 0u32;
    while done < size {
        let at = from + done;
        let step = [8u32, 4, 2, 1]
            .into_iter()
            .find(|&s| s <= size - done && at.is_multiple_of(s))
            .unwrap_or(1);
        a.ldx(step, R1, R6, at as i16);
        a.stx(step, dst, to + done as i16, R1);
        done += step;
    }
}

/// Which TCP events the program writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only sockets of this network namespace (its inode); a socket whose namespace could not be
    /// read is written. Needs the namespace offsets.
    pub only_netns: Option<u32>,
    /// Every transition into SYN_SENT, LISTEN, ESTABLISHED and CLOSE (`watch --all-events`
    /// writes them all). Otherwise only those watch judges or tracks: into SYN_SENT and LISTEN,
    /// SYN_SENT or SYN_RECV into ESTABLISHED, SYN_SENT or LISTEN into CLOSE; the closes of
    /// established connections (two per connection) never leave the kernel.
    pub all_transitions: bool,
}

/// Jumps to `keep` for a transition `filter` wants written (r8 the new state, r9 the old), else
/// to `out`.
fn transitions(a: &mut Asm, all: bool) {
    a.jump(0x15, R8, tcp_state::SYN_SENT as i32, "keep").jump(
        0x15,
        R8,
        tcp_state::LISTEN as i32,
        "keep",
    );
    if all {
        a.jump(0x15, R8, tcp_state::ESTABLISHED as i32, "keep")
            .jump(0x55, R8, tcp_state::CLOSE as i32, "out");
        return;
    }
    a.jump(0x15, R8, tcp_state::ESTABLISHED as i32, "up")
        .jump(0x55, R8, tcp_state::CLOSE as i32, "out")
        .jump(0x15, R9, tcp_state::SYN_SENT as i32, "keep")
        .jump(0x15, R9, tcp_state::LISTEN as i32, "keep")
        .jump(0x05, 0, 0, "out")
        .label("up")
        .jump(0x15, R9, tcp_state::SYN_SENT as i32, "keep")
        .jump(0x55, R9, tcp_state::SYN_RECV as i32, "out");
}

/// The stack slot of the socket's namespace inode (0: not read), and scratch for the pointer.
const NETNS_SLOT: i16 = -8;
const NET_PTR_SLOT: i16 = -16;
/// The connects table's key (the slot's index, 4 bytes), and the kept connect copied out of its
/// slot: time, pid_tgid, uid_gid, cgroup id (8 bytes each) and comm (16), as the record has
/// them at 0, 16, 24, 32 and 96. A slot is the socket's address (its tag, 0 when free) and
/// those [`VAL_LEN`] bytes.
const KEY_SLOT: i16 = -24;
const VAL_SLOT: i16 = -80;
const VAL_LEN: u32 = 48;
const SLOT_LEN: u32 = 8 + VAL_LEN;
/// With a ring buffer per CPU: the CPU's id (the rings array's key, 4 bytes) and the pointer
/// to its ring, kept for the submit's query. (Rings of slots use the same bytes and 8 more
/// below, [`super::slotring`].)
const CPU_SLOT: i16 = -84;
const RING_SLOT: i16 = -96;

/// Where the TCP program writes its records (docs/watch.md, "Records and rings").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpRing {
    /// The ring buffer shared by every CPU ([`Maps::ring`]).
    Shared,
    /// An array of ring buffers (`BPF_MAP_TYPE_ARRAY_OF_MAPS`) indexed by CPU id: the
    /// program writes into its CPU's ring, so two CPUs never contend for a ring's lock or its
    /// producer position (issue 18's session 12). A CPU without a ring counts its records as
    /// lost.
    PerCpu(i32),
    /// Rings of fixed slots per CPU in two mmapable arrays, without a lock or an atomic
    /// exchange per record (issue 18's session 14, [`super::slotring`]).
    Slots(SlotMaps),
}

/// The maps a TCP program writes to, by fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maps {
    /// The ring buffer shared by every CPU (with [`TcpRing::Slots`], their doorbell).
    pub ring: i32,
    /// Where the TCP records go.
    pub tcp: TcpRing,
    /// The per-CPU loss counter.
    pub lost: i32,
    /// The connects in flight (an array of [`CONNECTS`] slots), when the program keeps a
    /// connect's process in the kernel until its connection is up or refused: one record per
    /// connection instead of two. `None` writes every connect (`--all-events`, or a kernel that
    /// refuses the slots' atomic operations, before Linux 5.12).
    pub connects: Option<i32>,
    /// Bytes waiting in a ring buffer above which a record wakes the reader; below it,
    /// records are submitted without a wake-up and read every [`READ_INTERVAL`].
    pub watermark: u32,
}

/// The program: for a TCP transition `filter` keeps, reserve a record in the ring buffer
/// ([`COMPACT`] for an AF_INET socket's record without a process, unless `--all-events`;
/// [`FULL`] otherwise), fill it and submit it; when the ring is full, add one to the per-CPU
/// loss counter instead.
/// The namespace is read first, so a socket of another namespace costs no record. With
/// `maps.connects`, a connect (→ SYN_SENT) is kept in that table instead of written, and the
/// record of its connection being up or refused (SYN_SENT → ESTABLISHED or CLOSE) carries the
/// connect's process ([`FLAG_CONNECT`]); a connect the table cannot take (its slot held by
/// another connect), and an outcome whose connect it lacks, are written as before.
pub fn program(f: &Format, netns: Option<NetnsOffsets>, filter: Filter, maps: Maps) -> Vec<Insn> {
    program_from(Source::Tracepoint(f), netns, filter, maps)
}

/// [`program`] as a BTF-typed raw tracepoint (`tp_btf`) on `inet_sock_set_state`: the same
/// filter, maps and records, the fields read from the socket itself (`o`) instead of the
/// trace record the perf tracepoint assembles.
pub fn btf_program(
    o: &SockOffsets,
    netns: Option<NetnsOffsets>,
    filter: Filter,
    maps: Maps,
) -> Vec<Insn> {
    program_from(Source::Btf(o), netns, filter, maps)
}

/// Where the TCP program reads a transition: the perf tracepoint's record (r6 the record), or
/// the raw tracepoint's arguments (`sk`, `oldstate`, `newstate`; r6 the socket, read through
/// BTF).
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Tracepoint(&'a Format),
    Btf(&'a SockOffsets),
}

/// `BPF_ALU | BPF_END | BPF_TO_BE`, 16 bits: network to host order for a port on a
/// little-endian host (no change on a big-endian one, where both orders are the same).
fn swap16(a: &mut Asm, reg: u8) {
    a.push(ins(0xdc, reg, 0, 0, 16));
}

/// r6 and the transition's states (r8 new, r9 old).
fn head(a: &mut Asm, src: Source<'_>) {
    match src {
        Source::Tracepoint(f) => {
            let off = |i: usize| f.fields[i].0 as i16;
            a.mov(R6, R1)
                .ldx(4, R8, R6, off(2)) // newstate
                .ldx(4, R9, R6, off(1)); // oldstate
        }
        Source::Btf(_) => {
            // The arguments, each in a u64 slot: sk, oldstate, newstate (ints: 32-bit moves
            // clear the upper halves).
            a.ldx(8, R8, R1, 16)
                .ldx(8, R9, R1, 8)
                .ldx(8, R6, R1, 0)
                .push(ins(0xbc, R8, R8, 0, 0))
                .push(ins(0xbc, R9, R9, 0, 0));
        }
    }
}

/// The TCP test (to `out` otherwise): after the transitions' (issue 18, session 12), so the
/// transitions the program drops, most of its runs, return without reading the socket.
fn tcp_only(a: &mut Asm, src: Source<'_>) {
    let protocol = match src {
        Source::Tracepoint(f) => f.fields[6].0,
        Source::Btf(o) => o.protocol,
    };
    a.ldx(2, R2, R6, protocol as i16)
        .jump(0x55, R2, IPPROTO_TCP, "out");
}

fn program_from(
    src: Source<'_>,
    netns: Option<NetnsOffsets>,
    filter: Filter,
    maps: Maps,
) -> Vec<Insn> {
    let mut a = Asm::new();
    head(&mut a, src);
    transitions(&mut a, filter.all_transitions);
    a.label("keep");
    tcp_only(&mut a, src);
    a.st_w(FP, NETNS_SLOT, 0);
    if let Some(n) = netns {
        match src {
            Source::Tracepoint(f) => {
                // net = sk->skc_net.net, read where a fault is impossible; then net->ns.inum.
                a.ldx(8, R3, R6, f.fields[0].0 as i16)
                    .add_imm(R3, n.sock_net as i32)
                    .mov(R1, FP)
                    .add_imm(R1, i32::from(NET_PTR_SLOT))
                    .mov_imm(R2, 8)
                    .call(FN_PROBE_READ_KERNEL)
                    .jump(0x55, R0, 0, "emit")
                    .ldx(8, R3, FP, NET_PTR_SLOT)
                    .jump(0x15, R3, 0, "emit")
                    .add_imm(R3, n.net_inum as i32)
                    .mov(R1, FP)
                    .add_imm(R1, i32::from(NETNS_SLOT))
                    .mov_imm(R2, 4)
                    .call(FN_PROBE_READ_KERNEL);
            }
            Source::Btf(_) => {
                // BTF-typed loads: the verifier checks each against the struct, and a fault
                // reads 0 (PROBE_MEM), as bpf_probe_read_kernel would, without the call.
                a.ldx(8, R3, R6, n.sock_net as i16)
                    .jump(0x15, R3, 0, "emit")
                    .ldx(4, R2, R3, n.net_inum as i16)
                    .stx(4, FP, NETNS_SLOT, R2);
            }
        }
        if let Some(want) = filter.only_netns {
            // A 32-bit compare: the inode is unsigned, the immediate sign-extended.
            a.ldx(4, R2, FP, NETNS_SLOT).jump(0x15, R2, 0, "emit").jump(
                0x56,
                R2,
                want as i32,
                "out",
            );
        }
    }
    a.label("emit");
    if maps.connects.is_some() {
        a.jump(0x15, R8, tcp_state::SYN_SENT as i32, "hold").jump(
            0x15,
            R9,
            tcp_state::SYN_SENT as i32,
            "resolve",
        );
    }
    a.label("plain");
    if !filter.all_transitions {
        compact(&mut a, src, maps);
    }
    a.label("full");
    reserve(&mut a, maps, FULL.len, "room");
    transition_fields(&mut a, src, &FULL, "v4");
    plain_actor(&mut a, filter.all_transitions);
    a.st_w(R7, at(FULL.flags.expect("a full record has flags")), 0);
    submit(&mut a, maps, "woke");
    a.jump(0x05, 0, 0, "out");
    if let Some(connects) = maps.connects {
        hold_connect(&mut a, src, connects);
        resolve_connect(&mut a, src, maps, connects);
    }
    // The ring is full (or this CPU has none): count the loss in this CPU's slot.
    a.label("lost")
        .st_w(FP, -4, 0)
        .lookup(maps.lost, -4)
        .jump(0x15, R0, 0, "out")
        .ldx(8, R1, R0, 0)
        .add_imm(R1, 1)
        .stx(8, R0, 0, R1);
    a.label("out").mov_imm(R0, 0).exit();
    a.finish()
}

/// r7 = a record of `len` bytes reserved in the ring (this CPU's, with [`TcpRing::PerCpu`]:
/// its pointer kept at [`RING_SLOT`] for [`submit`]; a slot of this CPU's ring with
/// [`TcpRing::Slots`]), or to `lost`. The rings array's lookup is inlined by the verifier, as
/// an array's is. `label`: a label of its own for each use.
fn reserve(a: &mut Asm, maps: Maps, len: usize, label: &'static str) {
    match maps.tcp {
        TcpRing::Slots(m) => return slotring::reserve(a, &m, len, label),
        TcpRing::PerCpu(rings) => {
            a.call(FN_GET_SMP_PROCESSOR_ID)
                .stx(4, FP, CPU_SLOT, R0)
                .lookup(rings, CPU_SLOT)
                .jump(0x15, R0, 0, "lost")
                .stx(8, FP, RING_SLOT, R0)
                .mov(R1, R0);
        }
        TcpRing::Shared => {
            a.ld_map(R1, maps.ring);
        }
    }
    a.mov_imm(R2, len as i32)
        .mov_imm(R3, 0)
        .call(FN_RINGBUF_RESERVE)
        .jump(0x15, R0, 0, "lost")
        .mov(R7, R0);
}

/// r1 = the ring buffer [`reserve`] wrote into.
fn ring_ptr(a: &mut Asm, maps: Maps) {
    match maps.tcp {
        TcpRing::PerCpu(_) => a.ldx(8, R1, FP, RING_SLOT),
        TcpRing::Shared | TcpRing::Slots(_) => a.ld_map(R1, maps.ring),
    };
}

/// A record without a process for an AF_INET socket, in one cache line ([`COMPACT`]): the
/// transitions that run outside the acting process (not → SYN_SENT, not → LISTEN) get the
/// time, the socket and the namespace; the others go on to `full`.
fn compact(a: &mut Asm, src: Source<'_>, maps: Maps) {
    let family = match src {
        Source::Tracepoint(f) => f.fields[5].0,
        Source::Btf(o) => o.family,
    };
    a.ldx(2, R1, R6, family as i16)
        .jump(0x55, R1, AF_INET, "full")
        .jump(0x15, R8, tcp_state::SYN_SENT as i32, "full")
        .jump(0x15, R8, tcp_state::LISTEN as i32, "full");
    reserve(a, maps, COMPACT.len, "room compact");
    transition_fields(a, src, &COMPACT, "v4 compact");
    a.call(FN_KTIME_GET_NS).stx(8, R7, at(COMPACT.ktime), R0);
    submit(a, maps, "woke compact");
    a.jump(0x05, 0, 0, "out");
}

/// The states, the tracepoint's fields and the namespace into the record at r7, where
/// `layout` puts them. `v4`: a label of its own for each use (the record's v6 addresses are
/// skipped to it).
fn transition_fields(a: &mut Asm, src: Source<'_>, layout: &Layout, v4: &'static str) {
    a.stx(4, R7, at(layout.old), R9)
        .stx(4, R7, at(layout.new), R8);
    match src {
        Source::Tracepoint(f) => {
            let to = layout.destinations();
            for (i, &(_, size)) in FIELDS.iter().enumerate() {
                if i == 1 || i == 2 {
                    continue; // the states, stored above
                }
                if let Some(to) = to[i] {
                    copy_field(a, f.fields[i].0, at(to), size);
                }
            }
        }
        Source::Btf(o) => socket_fields(a, o, layout, v4),
    }
    a.ldx(4, R1, FP, NETNS_SLOT)
        .stx(4, R7, at(layout.netns), R1);
}

/// What the tracepoint's record holds, read from the socket (r6) as the tracepoint reads it
/// (`TP_fast_assign` of `inet_sock_set_state`): the local port in host order (`skc_num`), the
/// remote one converted from network order, the family, the v4 addresses, and for an AF_INET6
/// socket its v6 addresses (`bpf_probe_read_kernel`: the verifier's BTF walk does not let a
/// word load cross the union of arrays that `struct in6_addr` is). The record's v6 fields of
/// an AF_INET socket are zero (its reader takes the v4 ones). A layout without the family or
/// the v6 fields ([`COMPACT`]) is written for an AF_INET socket only.
fn socket_fields(a: &mut Asm, o: &SockOffsets, layout: &Layout, v4: &'static str) {
    a.stx(8, R7, at(layout.skaddr), R6)
        .ldx(2, R1, R6, o.num as i16)
        .stx(2, R7, at(layout.sport), R1)
        .ldx(2, R1, R6, o.dport as i16);
    swap16(a, R1);
    a.stx(2, R7, at(layout.dport), R1);
    if let Some(p) = layout.protocol {
        a.push(ins(0x6a, R7, 0, at(p), IPPROTO_TCP)); // *(u16 *)(r7 + p) = 6
    }
    a.ldx(4, R1, R6, o.rcv_saddr as i16)
        .stx(4, R7, at(layout.saddr), R1)
        .ldx(4, R1, R6, o.daddr as i16)
        .stx(4, R7, at(layout.daddr), R1);
    let (Some(family), Some(s6), Some(d6)) = (layout.family, layout.saddr_v6, layout.daddr_v6)
    else {
        return;
    };
    for to in [s6, s6 + 8, d6, d6 + 8] {
        a.push(ins(0x7a, R7, 0, at(to), 0));
    }
    a.ldx(2, R1, R6, o.family as i16)
        .stx(2, R7, at(family), R1)
        .jump(0x55, R1, AF_INET6, v4);
    for (to, from) in [(s6, o.v6_rcv_saddr), (d6, o.v6_daddr)] {
        a.mov(R1, R7)
            .add_imm(R1, to as i32)
            .mov_imm(R2, 16)
            .mov(R3, R6)
            .add_imm(R3, from as i32)
            .call(FN_PROBE_READ_KERNEL);
    }
    a.label(v4);
}

/// Submits the record at r7: into a ring buffer with a wake-up of the reader only when the
/// ring holds more than the watermark, so a busy host's records are read in batches, every
/// [`READ_INTERVAL`]; into a ring of slots by publishing it ([`slotring::submit`], which rang
/// the doorbell in its reserve). `label`: a label of its own for each use.
fn submit(a: &mut Asm, maps: Maps, label: &'static str) {
    if let TcpRing::Slots(m) = maps.tcp {
        return slotring::submit(a, &m);
    }
    ring_ptr(a, maps);
    a.mov_imm(R2, BPF_RB_AVAIL_DATA)
        .call(FN_RINGBUF_QUERY)
        .mov_imm(R2, BPF_RB_NO_WAKEUP);
    // r0 < watermark (unsigned): no wake-up.
    a.jump(0xa5, R0, maps.watermark.min(i32::MAX as u32) as i32, label)
        .mov_imm(R2, BPF_RB_FORCE_WAKEUP)
        .label(label)
        .mov(R1, R7)
        .call(FN_RINGBUF_SUBMIT);
}

/// The process fields of a record written as it comes (r7 the record, r8 the new state). Only a
/// connect (→ SYN_SENT) and a listen (→ LISTEN) run in the process that acted; the other
/// transitions watch reads without `--all-events` (a passive open, an outcome the connects
/// hash lacked, a listener's close) run in softirq or in whatever task happened to be
/// running, and watch attributes them from its tables, never from these fields: they get the
/// time only, the process fields 0, and the four helper calls are saved. With `--all-events`
/// (`all`) every record has them, as its events print them.
fn plain_actor(a: &mut Asm, all: bool) {
    let process = [
        FULL.pid_tgid.expect("a full record has the process"),
        FULL.uid_gid.expect("a full record has the process"),
        FULL.cgroup.expect("a full record has the process"),
    ];
    let comm = FULL.comm.expect("a full record has the process");
    let actor = [
        at(FULL.ktime),
        at(process[0]),
        at(process[1]),
        at(process[2]),
    ];
    if all {
        store_actor(a, R7, actor, at(comm));
        return;
    }
    a.jump(0x15, R8, tcp_state::SYN_SENT as i32, "actor")
        .jump(0x15, R8, tcp_state::LISTEN as i32, "actor")
        .call(FN_KTIME_GET_NS)
        .stx(8, R7, at(FULL.ktime), R0);
    for off in process.into_iter().chain([comm, comm + 8]) {
        a.push(ins(0x7a, R7, 0, at(off), 0)); // *(u64 *)(r7 + off) = 0
    }
    a.jump(0x05, 0, 0, "acted").label("actor");
    store_actor(a, R7, actor, at(comm));
    a.label("acted");
}

/// Stores the acting process's identity at `base` + offsets, as every record and the connects
/// hash take it: the kernel time, pid and tgid, uid and gid, and cgroup id (8 bytes each, at
/// `at` in that order), and its comm (16 bytes at `comm`). `base` must be a callee-saved
/// register (R6-R9) or the frame pointer: the helpers clobber R1-R5.
pub(super) fn store_actor(a: &mut Asm, base: u8, at: [i16; 4], comm: i16) {
    let helpers = [
        FN_KTIME_GET_NS,
        FN_GET_CURRENT_PID_TGID,
        FN_GET_CURRENT_UID_GID,
        FN_GET_CURRENT_CGROUP_ID,
    ];
    for (helper, to) in helpers.into_iter().zip(at) {
        a.call(helper).stx(8, base, to, R0);
    }
    a.mov(R1, base)
        .add_imm(R1, i32::from(comm))
        .mov_imm(R2, 16)
        .call(FN_GET_CURRENT_COMM);
}

/// The socket's kernel address into `dst` (r6 the socket or the trace record). The raw
/// tracepoint's socket is a pointer: the verifier allows no arithmetic on it, but a privileged
/// program (CAP_PERFMON) may compare it, store it and copy its low half as a number (`w2 =
/// w7`, all the slot's index needs).
fn load_skaddr(a: &mut Asm, src: Source<'_>, dst: u8) {
    match src {
        Source::Tracepoint(f) => {
            a.ldx(8, dst, R6, f.fields[0].0 as i16);
        }
        Source::Btf(_) => {
            a.mov(dst, R6);
        }
    }
}

/// r0 = the connects table's slot of the socket whose address is in r7, or 0 (to `miss`). The
/// index is a multiplicative hash of the address's low 32 bits (less the low 6: sockets are
/// cache-line aligned) over the [`CONNECTS`] slots, computed in 32 bits so the verifier knows
/// its bound; the table is an array, whose lookup the verifier inlines (no helper call, no
/// hashing of the key, no bucket lock).
fn connect_slot(a: &mut Asm, connects: i32, miss: &'static str) {
    let shift = 32 - CONNECTS.trailing_zeros() as i32;
    a.push(ins(0xbc, R2, R7, 0, 0)) // w2 = w7
        .push(ins(0x74, R2, 0, 0, 6)) // w2 >>= 6
        .push(ins(0x24, R2, 0, 0, 0x9E37_79B1_u32 as i32)) // w2 *= golden ratio
        .push(ins(0x74, R2, 0, 0, shift)) // w2 >>= 32 - log2(CONNECTS)
        .stx(4, FP, KEY_SLOT, R2)
        .lookup(connects, KEY_SLOT)
        .jump(0x15, R0, 0, miss);
}

/// `BPF_STX | BPF_DW | BPF_ATOMIC` with `BPF_CMPXCHG`: r0 = cmpxchg(*(u64 *)(dst + 0), r0,
/// src) (Linux 5.12).
fn cmpxchg(a: &mut Asm, dst: u8, src: u8) {
    a.push(ins(0xdb, dst, src, 0, 0xf1));
}

/// `BPF_STX | BPF_DW | BPF_ATOMIC` with `BPF_XCHG`: src = xchg(*(u64 *)(dst + 0), src).
fn xchg(a: &mut Asm, dst: u8, src: u8) {
    a.push(ins(0xdb, dst, src, 0, 0xe1));
}

/// `hold`: a connect (→ SYN_SENT) in the acting process. The socket claims its slot of the
/// connects table (a compare-and-exchange of the slot's tag, the socket's address, from 0 or
/// from its own address, which a socket before it at that address left), and its time, pid,
/// uid, cgroup and comm are written into the slot: no record. When another socket's connect
/// holds the slot (or won it at the same instant on another CPU), the connect's own record is
/// written (`plain`), as when the table is full.
fn hold_connect(a: &mut Asm, src: Source<'_>, connects: i32) {
    a.label("hold");
    // The address in r7 (the lookup clobbers r1-r5), the slot in r4.
    load_skaddr(a, src, R7);
    connect_slot(a, connects, "plain");
    a.mov(R4, R0)
        .ldx(8, R1, R4, 0)
        .jump(0x15, R1, 0, "claim")
        .jump_reg(0x5d, R1, R7, "plain")
        .label("claim")
        .mov(R0, R1);
    cmpxchg(a, R4, R7);
    a.jump_reg(0x5d, R0, R1, "plain").mov(R7, R4);
    store_actor(a, R7, [8, 16, 24, 32], 40);
    a.jump(0x05, 0, 0, "out");
}

/// `resolve`: a connection up or refused (SYN_SENT → ESTABLISHED or CLOSE). When the socket's
/// slot holds its connect (the tag is its address), the connect's process is copied out, the
/// slot freed (an atomic exchange of the tag with 0, after the copy), and the record carries
/// it with [`FLAG_CONNECT`]; otherwise the record is written as any other (`plain`).
fn resolve_connect(a: &mut Asm, src: Source<'_>, maps: Maps, connects: i32) {
    a.label("resolve");
    load_skaddr(a, src, R7);
    connect_slot(a, connects, "plain");
    a.ldx(8, R1, R0, 0).jump_reg(0x5d, R1, R7, "plain");
    for i in (0..VAL_LEN as i16).step_by(8) {
        a.ldx(8, R1, R0, 8 + i).stx(8, FP, VAL_SLOT + i, R1);
    }
    a.mov_imm(R1, 0);
    xchg(a, R0, R1);
    reserve(a, maps, FULL.len, "room connect");
    transition_fields(a, src, &FULL, "v4 connect");
    let process = |f: Option<usize>| at(f.expect("a full record has the process"));
    let comm = process(FULL.comm);
    for (from, to) in [
        (0, at(FULL.ktime)),
        (8, process(FULL.pid_tgid)),
        (16, process(FULL.uid_gid)),
        (24, process(FULL.cgroup)),
        (32, comm),
        (40, comm + 8),
    ] {
        a.ldx(8, R1, FP, VAL_SLOT + from).stx(8, R7, to, R1);
    }
    a.st_w(R7, process(FULL.flags), FLAG_CONNECT as i32);
    submit(a, maps, "woke connect");
    a.jump(0x05, 0, 0, "out");
}

/// Why the tracer could not start: the caller falls back to periodic dumps and says why.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// No tracefs with the tracepoint (`group:name`), under these mount points.
    #[error(
        "the tracepoint {event} is not readable under {under} (tracefs not mounted? mount -t \
         tracefs nodev /sys/kernel/tracing)"
    )]
    NoTracefs {
        /// The tracepoint, `group:name`.
        event: String,
        /// Where it was looked for.
        under: String,
    },
    /// tracefs is there but closed to this process.
    #[error("{0} is not readable (tracefs is root's: needs root or CAP_DAC_READ_SEARCH)")]
    TracefsDenied(String),
    /// The format file did not parse.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A namespace filter was asked for, and the kernel's BTF does not say where a socket's
    /// namespace is.
    #[error(
        "--netns needs the kernel's BTF (/sys/kernel/btf/vmlinux) to read each socket's \
         network namespace"
    )]
    NoNetnsOffsets,
    /// Events carry pids of the initial PID namespace; this process runs in another one.
    #[error("sockwarden runs in a nested PID namespace: event pids would not name its /proc")]
    OtherPidNamespace,
    /// Creating a map or loading the program was refused for lack of privilege.
    #[error(
        "bpf: not permitted (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN; a seccomp \
         filter or kernel lockdown can also forbid it)"
    )]
    NotPermitted,
    /// A map could not be created (a ring buffer needs Linux 5.8).
    #[error("bpf map {what}: {error} (a BPF ring buffer needs Linux 5.8 or later)")]
    Map {
        /// Which map.
        what: &'static str,
        /// The error.
        error: io::Error,
    },
    /// The verifier refused the program: its error and the last lines of its log.
    #[error("bpf program refused: {error}: {log}")]
    Refused {
        /// The load's error.
        error: io::Error,
        /// The verifier log's last three lines.
        log: String,
    },
    /// perf_event_open or the ioctls that attach the program failed.
    #[error("attaching to the tracepoint (cpu {cpu}): {error}")]
    Attach {
        /// The CPU.
        cpu: u32,
        /// The error.
        error: io::Error,
    },
    /// The ring buffer could not be mapped.
    #[error("mapping the ring buffer: {0}")]
    Mmap(io::Error),
    /// The ring buffer could not be watched with epoll.
    #[error("watching the ring buffer with epoll: {0}")]
    Epoll(io::Error),
    /// The list of CPUs could not be read.
    #[error("{0}: {1}")]
    Cpus(&'static str, io::Error),
}

/// The tracefs directory of the tracepoint: the first of the usual mount points that has it.
fn tracepoint_dir() -> Result<PathBuf, TraceError> {
    event_dir("sock/inet_sock_set_state")
}

/// The tracefs directory of the event `group/name`: the first of the usual mount points that
/// has it.
pub(super) fn event_dir(event: &str) -> Result<PathBuf, TraceError> {
    let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
    let mut denied = None;
    for root in candidates {
        let dir = Path::new(root).join("events").join(event);
        match std::fs::metadata(dir.join("format")) {
            Ok(_) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                denied.get_or_insert(root);
            }
            Err(_) => {}
        }
    }
    Err(match denied {
        Some(root) => TraceError::TracefsDenied(root.to_string()),
        None => TraceError::NoTracefs {
            event: event.replacen('/', ":", 1),
            under: candidates.join(" or "),
        },
    })
}

/// Reads and parses the tracepoint's format.
pub fn read_format() -> Result<Format, TraceError> {
    let dir = tracepoint_dir()?;
    let text = std::fs::read_to_string(dir.join("format")).map_err(|_| TraceError::NoTracefs {
        event: "sock:inet_sock_set_state".into(),
        under: dir.display().to_string(),
    })?;
    Ok(parse_format(&text)?)
}

/// Parses a CPU list (`0-3,6,8-9`, as /sys/devices/system/cpu/online has it).
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                if b < a || b - a > 65_536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

pub(super) fn cpus(which: &'static str) -> Result<Vec<u32>, TraceError> {
    let text = std::fs::read_to_string(which).map_err(|e| TraceError::Cpus(which, e))?;
    parse_cpu_list(&text)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TraceError::Cpus(which, io::Error::other("unreadable CPU list")))
}

/// An epoll descriptor watching the ring buffer edge-triggered: `epoll_wait` returns when a
/// program woke the ring's readers since the last wait (a record over the watermark), not
/// merely because records wait in it.
#[allow(unsafe_code)]
fn edge_triggered_epoll(ring: &OwnedFd) -> Result<OwnedFd, TraceError> {
    // SAFETY: no pointer arguments; on success a new descriptor that nothing else owns.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return Err(TraceError::Epoll(io::Error::last_os_error()));
    }
    // SAFETY: just returned by the kernel, owned by nobody else.
    let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
    epoll_add(&epoll, ring)?;
    Ok(epoll)
}

/// Adds a ring to the epoll, edge-triggered.
#[allow(unsafe_code)]
fn epoll_add(epoll: &OwnedFd, ring: &OwnedFd) -> Result<(), TraceError> {
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: 0,
    };
    // SAFETY: both descriptors are open; `ev` is a valid event for the call to copy.
    let r = unsafe {
        libc::epoll_ctl(
            epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            ring.as_raw_fd(),
            &mut ev,
        )
    };
    if r < 0 {
        return Err(TraceError::Epoll(io::Error::last_os_error()));
    }
    Ok(())
}

/// Whether this process runs in the initial PID namespace: its `NSpid` line in
/// /proc/self/status has one pid (a nested namespace lists one per level).
fn in_initial_pid_namespace() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .is_some_and(|v| v.split_whitespace().count() == 1)
    })
}

/// bpf(2) for commands that return 0 on success (map lookups).
#[allow(unsafe_code)]
fn bpf_status(cmd: u32, attr: &mut Attr) -> io::Result<()> {
    // SAFETY: `attr` is a valid, writable `union bpf_attr` of the size passed; the key and value
    // pointers in it point to buffers the caller keeps alive, the value buffer being as large as
    // the map's value for every possible CPU (see `Tracer::lost`).
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            libc::c_long::from(cmd),
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub(super) fn create_map(
    what: &'static str,
    kind: u32,
    key: u32,
    value: u32,
    entries: u32,
) -> Result<OwnedFd, TraceError> {
    let mut attr = Attr::new();
    attr.u32(0, kind).u32(4, key).u32(8, value).u32(12, entries);
    bpf(BPF_MAP_CREATE, &mut attr).map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) => TraceError::NotPermitted,
        _ => TraceError::Map { what, error: e },
    })
}

/// What kind of program to load: its type, the attach type it is checked for (0 where the
/// type has none) and its name (at most 15 bytes, shown by `bpftool prog`).
#[derive(Debug, Clone, Copy)]
pub(super) struct ProgKind {
    pub(super) prog_type: u32,
    pub(super) attach_type: u32,
    /// The BTF id of the hook of a tracing program (0 for the others).
    pub(super) attach_btf_id: u32,
    pub(super) name: &'static str,
}

fn load(prog: &[Insn]) -> Result<OwnedFd, TraceError> {
    load_as(
        prog,
        ProgKind {
            prog_type: BPF_PROG_TYPE_TRACEPOINT,
            attach_type: 0,
            attach_btf_id: 0,
            name: "sockwarden_tcp",
        },
    )
}

/// Loads and attaches the TCP program: the raw tracepoint when the kernel's BTF allows it
/// (`sock`) and `--legacy-hooks` was not asked for, else the perf tracepoint, with a note
/// saying why.
fn attach_tcp(
    sock: Option<&SockOffsets>,
    has_btf: bool,
    netns: Option<NetnsOffsets>,
    opts: &TraceOptions,
    maps: Maps,
) -> Result<((OwnedFd, OwnedFd), Vec<String>), TraceError> {
    let raw = match (sock, opts.legacy_hooks) {
        (_, true) => Err("asked for (--legacy-hooks)".to_string()),
        (None, _) if !has_btf => Err("no kernel BTF (/sys/kernel/btf/vmlinux)".to_string()),
        (None, _) => Err("the kernel's BTF lacks btf_trace_inet_sock_set_state or a \
                          socket field the program reads (sk_protocol is a bitfield \
                          before Linux 5.6)"
            .to_string()),
        (Some(o), false) => attach_raw(o, netns, opts.filter, maps),
    };
    match raw {
        Ok(attached) => Ok((attached, Vec::new())),
        Err(why) => {
            let note = format!(
                "TCP state changes through the perf tracepoint sock:inet_sock_set_state, \
                 which assembles a trace record for each transition (the raw tracepoint \
                 was not used: {why})"
            );
            let format = read_format()?;
            let prog = load(&program(&format, netns, opts.filter, maps))?;
            // One perf event is enough: the program joins the tracepoint's own program
            // array, which runs on every CPU (a second attachment is refused with EEXIST).
            let first = cpus("/sys/devices/system/cpu/online")?[0];
            let perf = attach(format.id, first, &prog)?;
            Ok(((prog, perf), vec![note]))
        }
    }
}

/// Loads the TCP program as a BTF-typed raw tracepoint (`tp_btf`, Linux 5.5) and links it:
/// the program then runs from the tracepoint's call site with the socket and the two states,
/// without the perf tracepoint's trace record and glue.
fn attach_raw(
    o: &SockOffsets,
    netns: Option<NetnsOffsets>,
    filter: Filter,
    maps: Maps,
) -> Result<(OwnedFd, OwnedFd), String> {
    let prog = load_as(
        &btf_program(o, netns, filter, maps),
        ProgKind {
            prog_type: BPF_PROG_TYPE_TRACING,
            attach_type: BPF_TRACE_RAW_TP,
            attach_btf_id: o.attach_btf_id,
            name: "sockwarden_tcp",
        },
    )
    .map_err(|e| e.to_string())?;
    let link = link(&prog, BPF_TRACE_RAW_TP).map_err(|e| format!("attaching: {e}"))?;
    Ok((prog, link))
}

/// Loads a program: the verifier checks it here; a refusal carries the log's last lines.
pub(super) fn load_as(prog: &[Insn], kind: ProgKind) -> Result<OwnedFd, TraceError> {
    let code: Vec<u8> = prog.iter().flat_map(|i| i.bytes()).collect();
    let license = c"Dual MIT/GPL";
    let name = &kind.name.as_bytes()[..kind.name.len().min(15)];
    let attempt = |log: Option<&mut Vec<u8>>| {
        let mut attr = Attr::new();
        attr.u32(0, kind.prog_type)
            .u32(4, prog.len() as u32)
            .u64(8, code.as_ptr() as u64)
            .u64(16, license.as_ptr() as u64)
            .u32(68, kind.attach_type)
            .u32(108, kind.attach_btf_id);
        attr.0[48..48 + name.len()].copy_from_slice(name);
        if let Some(buf) = log {
            attr.u32(24, 1)
                .u32(28, buf.len() as u32)
                .u64(32, buf.as_mut_ptr() as u64);
            return bpf(BPF_PROG_LOAD, &mut attr);
        }
        bpf(BPF_PROG_LOAD, &mut attr)
    };
    match attempt(None) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let mut log = vec![0u8; 256 * 1024];
            let _ = attempt(Some(&mut log));
            let log = super::taskfiles::verifier_tail(&log);
            // EPERM without a verifier log: the caller lacks the privilege. The verifier also
            // answers EPERM to some programs it refuses; its log then says why.
            if e.raw_os_error() == Some(libc::EPERM) && log.trim().is_empty() {
                return Err(TraceError::NotPermitted);
            }
            Err(TraceError::Refused { error: e, log })
        }
    }
}

/// Opens the tracepoint on one CPU and attaches the program.
#[allow(unsafe_code)]
pub(super) fn attach(id: u64, cpu: u32, prog: &OwnedFd) -> Result<OwnedFd, TraceError> {
    let fail = |error| TraceError::Attach { cpu, error };
    // `struct perf_event_attr`, PERF_ATTR_SIZE_VER7 (128 bytes): type, size, config,
    // sample_period = 1; everything else zero (enabled, counting every event).
    #[repr(C, align(8))]
    struct PerfAttr([u8; 128]);
    let mut attr = PerfAttr([0; 128]);
    attr.0[0..4].copy_from_slice(&PERF_TYPE_TRACEPOINT.to_ne_bytes());
    attr.0[4..8].copy_from_slice(&128u32.to_ne_bytes());
    attr.0[8..16].copy_from_slice(&id.to_ne_bytes());
    attr.0[16..24].copy_from_slice(&1u64.to_ne_bytes());
    // SAFETY: `attr` is a valid `struct perf_event_attr` whose `size` field is its length; pid -1
    // with a cpu, no group and FD_CLOEXEC are valid arguments. On success the kernel returns a
    // new descriptor that nothing else owns.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.0.as_ptr(),
            -1 as libc::pid_t,
            cpu as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    // SAFETY: just returned by the kernel, owned by nobody else.
    let perf = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    for (req, arg) in [
        (PERF_EVENT_IOC_SET_BPF, prog.as_raw_fd()),
        (PERF_EVENT_IOC_ENABLE, 0),
    ] {
        // SAFETY: both requests take an integer argument (a program fd, or an ignored 0), not a
        // pointer; `perf` is an open perf event descriptor.
        let r = unsafe { libc::ioctl(perf.as_raw_fd(), req, arg) };
        if r < 0 {
            return Err(fail(io::Error::last_os_error()));
        }
    }
    Ok(perf)
}

/// `len` bytes of a map's fd from `offset`, mapped shared with the kernel (read-only, or
/// `writable` where this process writes too); the caller unmaps them.
#[allow(unsafe_code)]
pub(super) fn map_shared(
    fd: &OwnedFd,
    len: usize,
    offset: usize,
    writable: bool,
) -> Result<*mut u8, TraceError> {
    let prot = match writable {
        true => libc::PROT_READ | libc::PROT_WRITE,
        false => libc::PROT_READ,
    };
    let offset = libc::off_t::try_from(offset)
        .map_err(|_| TraceError::Mmap(io::Error::from(io::ErrorKind::InvalidInput)))?;
    // SAFETY: a new mapping at an address the kernel chooses (no hint), of an fd the caller
    // owns; nothing else refers to it. The result is checked before it is returned.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            offset,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(TraceError::Mmap(io::Error::last_os_error()));
    }
    Ok(p.cast())
}

/// The ring buffer's two mappings: the consumer page (read-write) and the producer page with
/// the data area mapped twice in a row (read-only), so a record that wraps reads contiguously.
struct Ring {
    consumer: *mut u8,
    producer: *mut u8,
    size: usize,
    page: usize,
}

impl Ring {
    #[allow(unsafe_code)]
    fn map(fd: &OwnedFd, size: usize) -> Result<Ring, TraceError> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // A ring buffer map's fd, mapped as the kernel documents it: one writable consumer
        // page at offset 0, and the read-only producer page and twice the data area at offset
        // `page`. Both are unmapped in `Drop`.
        let consumer = map_shared(fd, page, 0, true)?;
        let producer = match map_shared(fd, page + 2 * size, page, false) {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: unmapping the mapping made just above, used by nothing.
                unsafe { libc::munmap(consumer.cast(), page) };
                return Err(e);
            }
        };
        Ok(Ring {
            consumer,
            producer,
            size,
            page,
        })
    }

    /// Hands committed records to `each`, in order, and frees their space: at most `max`, so
    /// a producer faster than the consumer cannot keep the caller from checking its signals
    /// (what the ring cannot hold meanwhile is counted as lost by the program). With `upto`,
    /// only the records below that producer position (taken earlier, [`Ring::produced`]),
    /// waiting briefly for one still being written (see [`Tracer::poll`]).
    #[allow(unsafe_code)]
    fn drain(&mut self, max: usize, upto: Option<u64>, each: &mut dyn FnMut(&[u8])) -> usize {
        // SAFETY: the consumer and producer positions are the first 8 bytes of their pages,
        // which are mapped, 8-aligned, and shared with the kernel: they are read and written
        // only through atomics (acquire/release, as the kernel's own consumer does).
        let (cons_pos, prod_pos) = unsafe {
            (
                &*(self.consumer as *const AtomicU64),
                &*(self.producer as *const AtomicU64),
            )
        };
        let data = self.producer.wrapping_add(self.page);
        let mask = self.size as u64 - 1;
        let mut n = 0;
        let mut cons = cons_pos.load(Ordering::Acquire);
        loop {
            let prod = upto.unwrap_or_else(|| prod_pos.load(Ordering::Acquire));
            if cons >= prod {
                return n;
            }
            let mut spins = 0;
            while cons < prod {
                if n >= max {
                    return n;
                }
                let at = (cons & mask) as usize;
                // SAFETY: `at` < size, so the 8-byte header lies in the first copy of the data
                // area; its first word is written by the kernel with release semantics.
                let hdr = unsafe { &*(data.add(at) as *const AtomicU32) }.load(Ordering::Acquire);
                if hdr & BUSY_BIT != 0 {
                    // Reserved, not committed yet: a program is writing it (microseconds).
                    if upto.is_some() && spins < BUSY_SPINS {
                        spins += 1;
                        std::hint::spin_loop();
                        continue;
                    }
                    return n;
                }
                let len = (hdr & !(BUSY_BIT | DISCARD_BIT)) as usize;
                if hdr & DISCARD_BIT == 0 && len <= self.size {
                    // SAFETY: the record starts after its header at `at` + 8 < size + 8 and is
                    // `len` ≤ size bytes long: inside the doubly mapped data area (2 × size).
                    // The kernel does not touch a committed record until the consumer position
                    // passes it.
                    let rec =
                        unsafe { std::slice::from_raw_parts(data.add(at + RINGBUF_HDR), len) };
                    each(rec);
                    n += 1;
                }
                cons += ((len + RINGBUF_HDR + 7) & !7) as u64;
                cons_pos.store(cons, Ordering::Release);
            }
            if upto.is_some() {
                return n;
            }
        }
    }

    /// The producer position now: every record below it is reserved.
    #[allow(unsafe_code)]
    fn produced(&self) -> u64 {
        // SAFETY: as in `Ring::drain`.
        unsafe { &*(self.producer as *const AtomicU64) }.load(Ordering::Acquire)
    }
}

impl Ring {
    /// The committed records between the consumer and the producer positions, not consumed.
    #[allow(unsafe_code)]
    fn pending(&self) -> u64 {
        // SAFETY: as in `Ring::drain`: both positions are mapped, 8-aligned and read
        // atomically; each header read lies in the first copy of the data area.
        let (mut cons, prod) = unsafe {
            (
                (*(self.consumer as *const AtomicU64)).load(Ordering::Acquire),
                (*(self.producer as *const AtomicU64)).load(Ordering::Acquire),
            )
        };
        let data = self.producer.wrapping_add(self.page);
        let mask = self.size as u64 - 1;
        let mut n = 0;
        while cons < prod {
            let at = (cons & mask) as usize;
            // SAFETY: as in `Ring::drain`.
            let hdr = unsafe { &*(data.add(at) as *const AtomicU32) }.load(Ordering::Acquire);
            if hdr & BUSY_BIT != 0 {
                break;
            }
            let len = (hdr & !(BUSY_BIT | DISCARD_BIT)) as usize;
            // A doorbell ([`slotring::DOORBELL`]) is no event.
            n += u64::from(hdr & DISCARD_BIT == 0 && len != slotring::DOORBELL);
            cons += ((len + RINGBUF_HDR + 7) & !7) as u64;
        }
        n
    }
}

impl Drop for Ring {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: unmapping the two mappings `map` made, with their lengths; nothing refers to
        // them after `drop`.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(self.producer.cast(), self.page + 2 * self.size);
        }
    }
}

/// The TCP program's rings, one per possible CPU, in an array of maps indexed by CPU id.
struct CpuRings {
    rings: Vec<OwnedFd>,
    array: OwnedFd,
    size: usize,
}

impl CpuRings {
    /// `n` rings of `size` bytes each (a power of two) and the array that holds them: the
    /// program looks its CPU's up (ring buffers as inner maps: Linux 5.8, as the ring buffer
    /// itself).
    fn create(n: usize, size: usize) -> Result<CpuRings, TraceError> {
        let size32 = u32::try_from(size).unwrap_or(1 << 30);
        let rings = (0..n)
            .map(|_| create_map("ring buffer", BPF_MAP_TYPE_RINGBUF, 0, 0, size32))
            .collect::<Result<Vec<_>, _>>()?;
        let mut attr = Attr::new();
        attr.u32(0, BPF_MAP_TYPE_ARRAY_OF_MAPS)
            .u32(4, 4)
            .u32(8, 4)
            .u32(12, u32::try_from(n).unwrap_or(u32::MAX))
            .u32(20, rings[0].as_raw_fd() as u32);
        let array = bpf(BPF_MAP_CREATE, &mut attr).map_err(|error| TraceError::Map {
            what: "rings per CPU",
            error,
        })?;
        for (cpu, ring) in rings.iter().enumerate() {
            let key = cpu as u32;
            let value = ring.as_raw_fd() as u32;
            let mut attr = Attr::new();
            attr.u32(0, array.as_raw_fd() as u32)
                .u64(8, &key as *const u32 as u64)
                .u64(16, &value as *const u32 as u64);
            bpf_status(BPF_MAP_UPDATE_ELEM, &mut attr).map_err(|error| TraceError::Map {
                what: "rings per CPU",
                error,
            })?;
        }
        Ok(CpuRings { rings, array, size })
    }
}

/// The size of each CPU's ring: `--ring-size` split over the CPUs, at least
/// [`CPU_RING_MIN`] (or the whole size when it is smaller), a power of two.
fn cpu_ring_size(size: usize, cpus: usize) -> usize {
    (size / cpus.max(1))
        .max(size.min(CPU_RING_MIN))
        .max(4096)
        .next_power_of_two()
}

/// How the TCP program's records reach watch, best first (docs/watch.md, "Records and rings").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingKind {
    /// Rings of fixed slots per CPU, the counts published with store-release and
    /// load-acquire instructions (Linux 6.15; [`super::slotring`]).
    Slots,
    /// Rings of fixed slots per CPU, the counts published with plain stores and loads:
    /// x86-64 only, where those are release and acquire (Linux 5.5).
    SlotsPlain,
    /// A BPF ring buffer per CPU (Linux 5.8).
    RingBuffers,
    /// One BPF ring buffer shared by every CPU (`--legacy-hooks`).
    Shared,
}

impl RingKind {
    /// The kind, in words (watch's notes).
    pub fn what(self) -> &'static str {
        match self {
            RingKind::Slots => "a ring of slots per CPU (store-release)",
            RingKind::SlotsPlain => "a ring of slots per CPU (plain stores, x86-64)",
            RingKind::RingBuffers => "a BPF ring buffer per CPU",
            RingKind::Shared => "one BPF ring buffer shared by every CPU",
        }
    }

    /// The kinds to try, best first: `forced` alone when given, the shared ring alone with
    /// `--legacy-hooks`; the plain-store slots only on x86-64.
    fn ladder(forced: Option<RingKind>, legacy: bool) -> Vec<RingKind> {
        match (forced, legacy) {
            (Some(k), _) => vec![k],
            (None, true) => vec![RingKind::Shared],
            (None, false) => [
                RingKind::Slots,
                RingKind::SlotsPlain,
                RingKind::RingBuffers,
                RingKind::Shared,
            ]
            .into_iter()
            .filter(|&k| k != RingKind::SlotsPlain || cfg!(target_arch = "x86_64"))
            .collect(),
        }
    }
}

/// The maps behind a [`RingKind`], kept open while the program runs.
enum TcpMaps {
    Shared,
    Buffers(CpuRings),
    /// The compact records' array, then the full ones'.
    Slots(Box<[SlotArray; 2]>),
}

impl TcpMaps {
    /// The fill of a ring buffer above which a TCP record wakes the reader: a quarter of its
    /// CPU's ring buffer, or of the shared one (`shared` bytes) where the records go (the
    /// rings of slots ring their doorbell at a quarter instead).
    fn watermark(&self, shared: usize) -> u32 {
        let ring = match self {
            TcpMaps::Buffers(r) => r.size,
            TcpMaps::Shared | TcpMaps::Slots(_) => shared,
        };
        u32::try_from(ring / 4).unwrap_or(1 << 28)
    }

    /// Creates the maps of `kind` for `cpus` possible CPU ids, `per_cpu` bytes each, and says
    /// where the program writes; `doorbell` is the shared ring buffer.
    fn create(
        kind: RingKind,
        cpus: usize,
        per_cpu: usize,
        doorbell: i32,
    ) -> Result<(TcpMaps, TcpRing), TraceError> {
        let publish = match kind {
            RingKind::Shared => return Ok((TcpMaps::Shared, TcpRing::Shared)),
            RingKind::RingBuffers => {
                let rings = CpuRings::create(cpus, per_cpu)?;
                let fd = rings.array.as_raw_fd();
                return Ok((TcpMaps::Buffers(rings), TcpRing::PerCpu(fd)));
            }
            RingKind::Slots => Publish::AcquireRelease,
            RingKind::SlotsPlain => Publish::Plain,
        };
        let array = |record: usize, slot: u32| {
            SlotArray::create(record, slot, slotring::slots_for(per_cpu, slot), cpus)
        };
        let arrays = Box::new([array(COMPACT.len, 64)?, array(FULL.len, 128)?]);
        let maps = SlotMaps {
            compact: arrays[0].map(),
            full: arrays[1].map(),
            publish,
            doorbell,
        };
        Ok((TcpMaps::Slots(arrays), TcpRing::Slots(maps)))
    }
}

/// One CPU's TCP ring, of either kind.
enum CpuRing {
    Buffer(Ring),
    Slots(SlotRing),
}

impl CpuRing {
    fn produced(&self) -> u64 {
        match self {
            CpuRing::Buffer(r) => r.produced(),
            CpuRing::Slots(r) => r.produced(),
        }
    }

    fn drain(&mut self, max: usize, upto: Option<u64>, each: &mut dyn FnMut(&[u8])) -> usize {
        match self {
            CpuRing::Buffer(r) => r.drain(max, upto, each),
            CpuRing::Slots(r) => r.drain(max, upto, each),
        }
    }

    fn pending(&self) -> u64 {
        match self {
            CpuRing::Buffer(r) => r.pending(),
            CpuRing::Slots(r) => r.pending(),
        }
    }
}

/// One read of several rings: their records copied out, and their order by kernel time.
#[derive(Default)]
struct Merge {
    bytes: Vec<u8>,
    /// (kernel time, ring, offset in `bytes`, length): the first two order the records.
    order: Vec<(u64, u32, u32, u32)>,
}

impl Merge {
    /// Copies the record `rec` of ring `ring` out, with its time (its first 8 bytes); a
    /// doorbell ([`slotring::DOORBELL`]) woke this read and is no event.
    fn keep(&mut self, ring: usize, rec: &[u8]) {
        if rec.len() == slotring::DOORBELL {
            return;
        }
        let time = rec
            .get(..8)
            .map_or(0, |b| u64::from_ne_bytes(b.try_into().expect("8 bytes")));
        let at = self.bytes.len() as u32;
        self.order.push((time, ring as u32, at, rec.len() as u32));
        self.bytes.extend_from_slice(rec);
    }
}

/// The kernel's count of skipped runs (`recursion_misses` in /proc/self/fdinfo, Linux 5.12)
/// summed over those of `fds` that are BPF programs (links, maps and perf events show no such
/// line); `None` when none of them shows it.
pub fn recursion_misses<'a>(fds: impl Iterator<Item = &'a OwnedFd>) -> Option<u64> {
    fds.filter_map(|fd| {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
        fdinfo_recursion_misses(&info)
    })
    .reduce(|a, b| a + b)
}

/// The `recursion_misses:` line of a program's fdinfo.
fn fdinfo_recursion_misses(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix("recursion_misses:"))
        .and_then(|n| n.trim().parse().ok())
}

/// What [`Tracer::start`] sets up.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    /// The ring buffer's size in bytes.
    pub ring_bytes: usize,
    /// Which TCP events are written (and the namespace of unix listeners).
    pub filter: Filter,
    /// The perf and syscall tracepoints even where the BTF-typed hooks load (for the tests,
    /// which verify both sets, and for measuring one against the other).
    pub legacy_hooks: bool,
    /// Never the syscall tracepoints: a group whose fexit program cannot be loaded is left to
    /// periodic dumps (`--no-syscall-tracepoints`, [`Hooks::swept`]).
    pub no_syscall_tracepoints: bool,
    /// Only this kind of TCP ring (the tests, which load each); `None`: the best the kernel
    /// takes.
    pub ring: Option<RingKind>,
}

/// The attached program and its ring buffer: events flow until it is dropped.
pub struct Tracer {
    /// The ring every program writes into, or with rings per CPU the UDP, raw, packet and
    /// unix programs only.
    ring: Ring,
    /// The TCP program's rings per CPU (empty: it writes into `ring`); declared before the
    /// maps they point into.
    cpu_rings: Vec<CpuRing>,
    _tcp_maps: TcpMaps,
    ring_kind: RingKind,
    /// The records of one read of several rings, merged by time.
    merge: Merge,
    /// An edge-triggered epoll of the ring buffers: woken only by a record over the watermark
    /// (or a ring of slots' doorbell).
    epoll: OwnedFd,
    _connects: Option<OwnedFd>,
    _ring_fd: OwnedFd,
    lost_fd: OwnedFd,
    possible_cpus: usize,
    prog: OwnedFd,
    _perf: Vec<OwnedFd>,
    /// Whether the events carry the network namespace (the kernel's BTF gave its offsets).
    pub netns: bool,
    /// The UDP, raw, packet and unix programs that run beside the TCP one.
    pub hooks: Hooks,
    /// The events no program delivers, and why (said in watch's output).
    pub gaps: Vec<Gap>,
    /// The groups that run on their older, costlier hook because the BTF-typed one could not
    /// be loaded, and why (said on stderr).
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("ring_bytes", &self.ring.size)
            .field("cpu_rings", &self.cpu_rings.len())
            .field("ring_kind", &self.ring_kind)
            .finish()
    }
}

impl Tracer {
    /// Builds, loads and attaches the programs with a ring buffer of `opts.ring_bytes` (rounded
    /// up to a power of two, at least one page), writing what `opts` asks for.
    pub fn start(opts: &TraceOptions) -> Result<Tracer, TraceError> {
        if !in_initial_pid_namespace() {
            return Err(TraceError::OtherPidNamespace);
        }
        let blob = std::fs::read("/sys/kernel/btf/vmlinux").ok();
        let names: Vec<&str> = NetnsOffsets::NAMES
            .iter()
            .chain(UnixOffsets::NAMES)
            .chain(SockOffsets::NAMES)
            .chain(&["__sys_socket", "unix_listen"])
            .copied()
            .collect();
        let btf = blob
            .as_deref()
            .and_then(|b| Btf::parse_with_names(b, &names).ok());
        let netns = btf.as_ref().and_then(NetnsOffsets::from_btf);
        if opts.filter.only_netns.is_some() && netns.is_none() {
            return Err(TraceError::NoNetnsOffsets);
        }
        let unix = match &btf {
            None => {
                Err("no kernel BTF (/sys/kernel/btf/vmlinux) to read a unix socket".to_string())
            }
            Some(b) => UnixOffsets::from_btf(b).ok_or_else(|| {
                "the kernel's BTF lacks a struct the unix program reads".to_string()
            }),
        };
        let ring_bytes = opts.ring_bytes;
        let size = ring_bytes.max(4096).next_power_of_two();
        let ring_fd = create_map(
            "ring buffer",
            BPF_MAP_TYPE_RINGBUF,
            0,
            0,
            u32::try_from(size).unwrap_or(1 << 30),
        )?;
        let lost_fd = create_map("lost counter", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1)?;
        // `--all-events` prints each connect as it happens: nothing is kept in the kernel.
        let mut connects = (!opts.filter.all_transitions)
            .then(|| create_map("connects", BPF_MAP_TYPE_ARRAY, 4, SLOT_LEN, CONNECTS))
            .transpose()?;
        let possible = cpus("/sys/devices/system/cpu/possible")?;
        let ids = possible.iter().max().map_or(1, |&c| c as usize + 1);
        let per_cpu = cpu_ring_size(size, possible.len());
        let mut maps = Maps {
            ring: ring_fd.as_raw_fd(),
            tcp: TcpRing::Shared,
            lost: lost_fd.as_raw_fd(),
            connects: connects.as_ref().map(AsRawFd::as_raw_fd),
            watermark: TcpMaps::Shared.watermark(size),
        };
        let sock = btf.as_ref().and_then(SockOffsets::from_btf);
        let ladder = RingKind::ladder(opts.ring, opts.legacy_hooks);
        // Each ring kind, best first, with the connects table; then without it: a kernel
        // before 5.12 refuses the table's atomic operations, and each connect is then written
        // as its own record, as with `--all-events`.
        let mut refused: Vec<String> = Vec::new();
        let mut last = None;
        let mut chosen = None;
        'kinds: for keep in [true, false] {
            if !keep {
                if connects.is_none() {
                    break;
                }
                maps.connects = None;
                connects = None;
            }
            for &kind in &ladder {
                let built = TcpMaps::create(kind, ids, per_cpu, maps.ring);
                let attached = built.and_then(|(tcp_maps, tcp)| {
                    maps.tcp = tcp;
                    maps.watermark = tcp_maps.watermark(size);
                    let attached = attach_tcp(sock.as_ref(), btf.is_some(), netns, opts, maps)?;
                    Ok((attached, tcp_maps))
                });
                match attached {
                    Ok((attached, tcp_maps)) => {
                        chosen = Some((attached, tcp_maps, kind));
                        break 'kinds;
                    }
                    Err(e) => {
                        refused.push(format!("{}: {e}", kind.what()));
                        last = Some(e);
                    }
                }
            }
        }
        let Some((((prog, perf), mut notes), tcp_maps, ring_kind)) = chosen else {
            return Err(last.expect("the ladder is never empty, and each kind failed"));
        };
        if maps.connects.is_none() && !opts.filter.all_transitions {
            notes.push(format!(
                "each TCP connect is written as its own record (the program keeping connects \
                 in the kernel was refused: {})",
                refused.join("; ")
            ));
        } else if ring_kind != ladder[0] {
            notes.push(format!(
                "TCP records go through {} (refused: {})",
                ring_kind.what(),
                refused.join("; ")
            ));
        }
        let ring = Ring::map(&ring_fd, size)?;
        let epoll = edge_triggered_epoll(&ring_fd)?;
        let mut mapped = Vec::new();
        match &tcp_maps {
            TcpMaps::Shared => {}
            TcpMaps::Buffers(r) => {
                for fd in &r.rings {
                    mapped.push(CpuRing::Buffer(Ring::map(fd, r.size)?));
                    epoll_add(&epoll, fd)?;
                }
            }
            TcpMaps::Slots(arrays) => {
                let rings = arrays.iter().flat_map(|a| a.rings());
                mapped.extend(rings.map(CpuRing::Slots));
            }
        }
        let possible_cpus = possible.len();
        let perf = vec![perf];
        let fexits = btf
            .as_ref()
            .filter(|_| !opts.legacy_hooks)
            .map(Fexits::from_btf);
        let fexits = match (&btf, opts.legacy_hooks) {
            (None, false) => Some(Fexits::default()),
            _ => fexits,
        };
        let (hooks, gaps) = Hooks::attach(
            &ring_fd,
            &lost_fd,
            unix,
            opts.filter.only_netns,
            fexits,
            !opts.no_syscall_tracepoints,
        );
        notes.extend(hooks.notes.iter().cloned());
        Ok(Tracer {
            notes,
            hooks,
            gaps,
            ring,
            cpu_rings: mapped,
            _tcp_maps: tcp_maps,
            ring_kind,
            merge: Merge::default(),
            epoll,
            _connects: connects,
            _ring_fd: ring_fd,
            lost_fd,
            possible_cpus,
            prog,
            _perf: perf,
            netns: netns.is_some(),
        })
    }

    /// Hands committed records (at most 4,096 per ring) to `each`, in kernel-time order across
    /// the rings per CPU (TCP records of [`FULL`] or [`COMPACT`] length, the others of
    /// [`super::sockhooks::SOCK_RECORD`] or [`super::sockhooks::UNIX_RECORD`]); returns how
    /// many. When the rings are empty, first waits up to `timeout` or
    /// [`READ_INTERVAL`], whichever is shorter, unless a ring passes its watermark
    /// meanwhile: records are submitted without waking this reader, so a busy host costs a
    /// read every interval, not a wake-up per record or per batch. `EINTR` (a signal) ends
    /// the wait early.
    #[allow(unsafe_code)]
    pub fn poll(&mut self, timeout: std::time::Duration, each: &mut dyn FnMut(&[u8])) -> usize {
        let n = self.read(each);
        if n > 0 {
            return n;
        }
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        let ms = libc::c_int::try_from(timeout.min(READ_INTERVAL).as_millis())
            .unwrap_or(libc::c_int::MAX);
        // SAFETY: `epoll` is an epoll descriptor; one writable event, its count 1.
        unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), &mut ev, 1, ms) };
        self.read(each)
    }

    /// One read: the shared ring in its own order, or with rings per CPU every ring's records
    /// below the producer positions taken first, merged by kernel time (each record's first
    /// 8 bytes), the ring and the position breaking ties. So a record that another one
    /// depends on (a listen before the accept on its listener, a connect before its outcome)
    /// comes first whenever it was committed before the dependent one was reserved: it is
    /// then below its ring's position too, and its time is earlier. A record still being
    /// written at the read (waited for some tens of microseconds) and what follows it on its
    /// CPU are left to the next read (docs/watch.md, "Order").
    fn read(&mut self, each: &mut dyn FnMut(&[u8])) -> usize {
        let Tracer {
            ring,
            cpu_rings,
            merge,
            ..
        } = self;
        if cpu_rings.is_empty() {
            return ring.drain(DRAIN_MAX, None, each);
        }
        let shared_end = ring.produced();
        let ends: Vec<u64> = cpu_rings.iter().map(CpuRing::produced).collect();
        merge.bytes.clear();
        merge.order.clear();
        ring.drain(DRAIN_MAX, Some(shared_end), &mut |rec| merge.keep(0, rec));
        for (i, (r, end)) in cpu_rings.iter_mut().zip(ends).enumerate() {
            r.drain(DRAIN_MAX, Some(end), &mut |rec| merge.keep(i + 1, rec));
        }
        merge.order.sort_unstable();
        for &(_, _, at, len) in &merge.order {
            each(&merge.bytes[at as usize..(at + len) as usize]);
        }
        merge.order.len()
    }

    /// How many rings per CPU the TCP program writes into (0: the one shared ring).
    pub fn cpu_rings(&self) -> usize {
        self.cpu_rings.len()
    }

    /// Where the TCP program writes its records.
    pub fn ring_kind(&self) -> RingKind {
        self.ring_kind
    }

    /// Records committed to the ring buffer and not read yet (what a watch ending now leaves),
    /// counted by walking their headers without consuming them.
    pub fn unread(&self) -> u64 {
        self.ring.pending() + self.cpu_rings.iter().map(CpuRing::pending).sum::<u64>()
    }

    /// Runs of every program the kernel skipped because that program was already running on
    /// the CPU (a transition in softirq while the same program ran in a task there): events
    /// never seen, counted by the kernel (`None`: it does not count them, before Linux 5.12).
    pub fn recursion_misses(&self) -> Option<u64> {
        let own = recursion_misses(std::iter::once(&self.prog));
        own.into_iter()
            .chain(self.hooks.recursion_misses())
            .reduce(|a, b| a + b)
    }

    /// Records the program could not write because the ring buffer was full, summed over CPUs.
    pub fn lost(&self) -> u64 {
        let key = 0u32;
        let mut values = vec![0u64; self.possible_cpus.max(1)];
        let mut attr = Attr::new();
        attr.u32(0, self.lost_fd.as_raw_fd() as u32)
            .u64(8, &key as *const u32 as u64)
            .u64(16, values.as_mut_ptr() as u64);
        match bpf_status(BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(()) => values.iter().sum(),
            Err(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests;
