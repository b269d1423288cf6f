#!/usr/bin/env python3
"""ci/perf-share.py - what BPF and tracing cost a traced workload, as a share of its `perf`
samples (ci/bench-watch.sh with PERF=1, issue 18; the method of docs/PERFORMANCE.md's
"Issue 18, session 10").

usage: perf-share.py PERF.DATA [COMM]      (COMM: the workload's, default connload)

Reads `perf report` (self time per kernel symbol, the samples of COMM only, as a share of
them) and prints one markdown row per part: the BPF programs, the ring buffer, the connects
map, the tracepoints' glue, the syscall tracing slow path, the helpers, the cgroup hooks.
"""
import re
import subprocess
import sys

# (part, symbol pattern), first match wins.
PARTS = [
    ("BPF programs (`bpf_prog_*`)", r"^bpf_prog_[0-9a-f]+_"),
    ("ring buffer (reserve, submit, query, wake-ups)",
     r"ringbuf|^irq_work|^__irq_work|^bpf_ringbuf"),
    ("connects map (hash: update, lookup, delete; array)",
     r"htab|freelist|^jhash|^lookup_elem_raw|^array_map|^bpf_map_"),
    ("perf tracepoint glue (`perf_trace_*`, `perf_tp_event`)", r"^perf_trace_|^perf_tp_|^perf_swevent"),
    ("raw tracepoint glue (`bpf_trace_run*`, prog enter/exit)",
     r"^bpf_trace_run|^__bpf_prog_enter|^__bpf_prog_exit|^__bpf_trace_"),
    ("`trace_call_bpf`", r"^trace_call_bpf"),
    ("syscall tracing slow path", r"^syscall_trace_enter|^perf_syscall_|^syscall_exit_work"
     r"|^trace_sys_|^__traceiter_sys|^syscall_enter_from_user_mode_work"),
    ("helpers (time, pid, uid, cgroup, comm, probe reads)",
     r"^bpf_ktime|^bpf_get_current|^bpf_probe_read|^copy_from_kernel_nofault"
     r"|^__get_task_comm|^ktime_get_mono_fast|^bpf_get_ns|^strscpy"),
    ("cgroup hooks", r"cgroup_bpf|^bpf_prog_run_array_cg|^__cgroup_bpf"),
    # Only with STATS=1 beside PERF=1 (the scheduler reads the clock too: 0 here otherwise).
    ("clock reads (`bpf_stats`, when on)", r"^bpf_prog_inc_misses|^sched_clock|^local_clock"),
]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    comm = sys.argv[2] if len(sys.argv) == 3 else "connload"
    out = subprocess.run(
        ["perf", "report", "-i", sys.argv[1], "--no-children", "--comm", comm,
         "--percentage", "relative", "--sort", "sym", "--stdio", "-q", "-g", "none",
         "--percent-limit", "0"],
        check=True, capture_output=True, text=True).stdout
    sums = {name: 0.0 for name, _ in PARTS}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+\[[k.]\]\s+(\S+)", line)
        if not m:
            continue
        pct, sym = float(m.group(1)), m.group(2)
        for name, pat in PARTS:
            if re.search(pat, sym):
                sums[name] += pct
                break
    print(f"| share of {comm}'s samples | % |")
    print("|---|---:|")
    for name, _ in PARTS:
        print(f"| {name} | {sums[name]:.2f} |")
    print(f"| **total** | **{sum(sums.values()):.2f}** |")


if __name__ == "__main__":
    main()
