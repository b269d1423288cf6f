#!/usr/bin/env python3
"""ci/bpf-prog-stats.py - the kernel's own count of what each BPF program of a process costs
(ci/bench-watch.sh, issue 18). With kernel.bpf_stats_enabled=1 the kernel adds up `run_cnt`
and `run_time_ns` per program; this reads them with `bpftool prog show -j`.

usage: bpf-prog-stats.py snap PID OUT.json        programs held by PID (else named sw_*,
                                                   sockwarden_*), their counters now
       bpf-prog-stats.py diff BEFORE AFTER CONNECTIONS CPU_SECONDS
                                                   a markdown table: per program the runs,
                                                   ns per run and ns per connection between
                                                   the two snapshots, and the sum as a share
                                                   of the workload's CPU per connection

The time counted is the program's own run (from entry to exit, as `bpf_prog_run` times it):
not the tracepoint's glue around it, nor the ring buffer's wake-ups it causes elsewhere.
"""
import json
import subprocess
import sys


def snap(pid, out):
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], check=True,
                                      capture_output=True, text=True).stdout)
    mine = {}
    for p in progs:
        held = any(h.get("pid") == pid for h in p.get("pids", []))
        named = p.get("name", "").startswith(("sw_", "sockwarden_"))
        if held or named:
            key = f'{p.get("name", "?")}#{p["id"]}'
            mine[key] = [p.get("run_cnt", 0), p.get("run_time_ns", 0)]
    with open(out, "w") as f:
        json.dump(mine, f)


def diff(before, after, connections, cpu_seconds):
    with open(before) as f:
        b = json.load(f)
    with open(after) as f:
        a = json.load(f)
    conns = max(int(connections), 1)
    workload_ns = float(cpu_seconds) * 1e9 / conns
    print("| BPF program | runs | runs per connection | ns per run | ns per connection |")
    print("|---|---:|---:|---:|---:|")
    total_runs = total_ns = 0
    for key in sorted(a):
        runs = a[key][0] - b.get(key, [0, 0])[0]
        ns = a[key][1] - b.get(key, [0, 0])[1]
        total_runs += runs
        total_ns += ns
        per_run = f"{ns / runs:.0f}" if runs else "-"
        name = key.split("#")[0]
        print(f"| {name} | {runs:,} | {runs / conns:.2f} | {per_run} | {ns / conns:.1f} |")
    print(f"| **all** | {total_runs:,} | {total_runs / conns:.2f} | "
          f"{(total_ns / total_runs if total_runs else 0):.0f} | **{total_ns / conns:.1f}** |")
    print()
    share = 100 * total_ns / conns / workload_ns if workload_ns else 0
    print(f"BPF programs (bpf_stats): {total_ns / conns:.1f} ns per connection, "
          f"{share:.2f}% of the workload's {workload_ns:.0f} ns of CPU per connection "
          f"(measured with the watch)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "snap":
        snap(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "diff":
        diff(*sys.argv[2:])
    else:
        sys.exit(__doc__)
