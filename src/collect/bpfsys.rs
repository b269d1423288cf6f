//! The bpf(2) numbers that more than one of the run-time assembled programs uses (the
//! task-file iterator, the TCP tracer, the socket hooks), from the kernel's uapi
//! `include/uapi/linux/bpf.h`: each defined once here rather than in every builder.

/// `BPF_PROG_LOAD` command.
pub(super) const BPF_PROG_LOAD: u32 = 5;
/// `BPF_LINK_CREATE` command (Linux 5.7).
pub(super) const BPF_LINK_CREATE: u32 = 28;
/// `BPF_MAP_TYPE_ARRAY`.
pub(super) const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_PROG_TYPE_TRACEPOINT`.
pub(super) const BPF_PROG_TYPE_TRACEPOINT: u32 = 5;
/// `BPF_PROG_TYPE_TRACING` (iterators, raw tracepoints with BTF, fentry and fexit).
pub(super) const BPF_PROG_TYPE_TRACING: u32 = 26;
/// Helper `bpf_get_current_pid_tgid`.
pub(super) const FN_GET_CURRENT_PID_TGID: i32 = 14;
/// Helper `bpf_probe_read_kernel` (Linux 5.5).
pub(super) const FN_PROBE_READ_KERNEL: i32 = 113;
/// Helper `bpf_get_smp_processor_id`.
pub(super) const FN_GET_SMP_PROCESSOR_ID: i32 = 8;
/// Helper `bpf_ringbuf_output` (Linux 5.8).
pub(super) const FN_RINGBUF_OUTPUT: i32 = 130;
/// `bpf_ringbuf_output`'s and `bpf_ringbuf_submit`'s flag that wakes the reader at once.
pub(super) const BPF_RB_FORCE_WAKEUP: i32 = 2;
