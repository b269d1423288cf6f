#!/usr/bin/env bash
# ci/bench-watch.sh - issue 18's load test: RATE new TCP connections per second for DURATION
# seconds in a network namespace (ci/connload.c), once without and once under
# `sockwarden watch` (BPF mode, the built-in rules). Prints a markdown table: the watch's CPU
# (% of one core, from /proc/PID/stat), the workload's CPU with and without the watch (its
# slowdown), the watch's RSS after start-up and at the end, events read, lost and unread.
# Needs root, gcc and a release build (built here). Not a test: the figures go to
# docs/PERFORMANCE.md with the date and the machine.
# Also the CPU cost of one getppid() call (ci/syscall-cost.c) without and with the watch
# attached: a syscall tracepoint puts every system call of every task on the slow path.
# env: RATE=10000 DURATION=60 SOCKWARDEN=path/to/sockwarden
#      WATCH_ARGS="--legacy-hooks": extra arguments for the watch (e.g. the old hooks)
#      ONE_NETNS=1: the watch watches the load's namespace only (`--netns`), so other
#      namespaces' traffic on a shared machine is dropped in the kernel; 0 for a watch of every
#      namespace (and for builds before `--netns`).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000}
DURATION=${DURATION:-60}
ONE_NETNS=${ONE_NETNS:-1}
STATS=${STATS:-1}
PERF=${PERF:-0}
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
# Debian packages: bpftool, linux-perf (not test dependencies: ci/deps.sh does not install them).
[ "$STATS" = 1 ] && ! command -v bpftool >/dev/null && { echo "STATS=1 needs bpftool" >&2; exit 2; }
[ "$PERF" = 1 ] && ! command -v perf >/dev/null && { echo "PERF=1 needs perf" >&2; exit 2; }
work=$(mktemp -d)
ns=swbw-$$
wpid=""
cleanup() {
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    sysctl -qw kernel.bpf_stats_enabled="$stats_was" || true
    rm -rf "$work"
}
trap cleanup EXIT
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# The load runs from the target directory, not from $work: a program in /tmp is what the
# volatile-executable rules (NET-PRC-001, NET-PRC-008) report, and the load is meant to be
# benign: every connection would then be a finding (the engine and the report on each event).
mkdir -p "$target_dir/bench-watch"
load="$target_dir/bench-watch/connload"
gcc -O2 -pthread -o "$load" ci/connload.c
gcc -O2 -o "$target_dir/bench-watch/syscall-cost" ci/syscall-cost.c
# The median of three runs of 10M getppid() calls, in ns of CPU per call.
syscall_ns() {
    for _ in 1 2 3; do "$target_dir/bench-watch/syscall-cost" 10000000 | awk '{ print $2 }'; done |
        sort -n | sed -n 2p
}
if [ -z "${SOCKWARDEN:-}" ]; then
    cargo build --release -q
    SOCKWARDEN=$target_dir/release/sockwarden
fi
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
hz=$(getconf CLK_TCK)

# utime + stime of PID, in clock ticks.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2"; }

ip netns exec "$ns" "$load" "$RATE" "$DURATION" >"$work/without"
sys_without=$(syscall_ns)

scope=()
[ "$ONE_NETNS" = 1 ] && scope=(--netns "$ns")
# shellcheck disable=SC2086 # WATCH_ARGS: words
"$SOCKWARDEN" watch --format jsonl --duration "$((DURATION + 45))s" "${scope[@]}" ${WATCH_ARGS:-} \
    >"$work/watch.jsonl" 2>"$work/watch.err" &
wpid=$!
until grep -q "through BPF" "$work/watch.err" 2>/dev/null; do
    kill -0 "$wpid" 2>/dev/null || { cat "$work/watch.err" >&2; exit 2; }
    sleep 0.1
done
sleep 1
sys_with=$(syscall_ns)
t0=$(ticks "$wpid"); rss0=$(rss_kib "$wpid"); s0=$(date +%s.%N)
if [ "$STATS" = 1 ]; then
    sysctl -qw kernel.bpf_stats_enabled=1
    ci/bpf-prog-stats.py snap "$wpid" "$work/stats0"
fi
perf=()
[ "$PERF" = 1 ] && perf=(perf record -q -g -F 1999 -o "$work/perf.data" --)
"${perf[@]}" ip netns exec "$ns" "$load" "$RATE" "$DURATION" >"$work/with"
if [ "$STATS" = 1 ]; then
    ci/bpf-prog-stats.py snap "$wpid" "$work/stats1"
    sysctl -qw kernel.bpf_stats_enabled="$stats_was"
fi
sleep 1 # the watch reads what the ring still holds
t1=$(ticks "$wpid"); rss1=$(rss_kib "$wpid"); s1=$(date +%s.%N)
kill -INT "$wpid"
wait "$wpid" || true
wpid=""
summary=$(tail -1 "$work/watch.jsonl")
stat() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['sockwarden']['watch']['$1'])" "$summary"; }

cpu_pct=$(python3 -c "print(f'{100 * ($t1 - $t0) / $hz / ($s1 - $s0):.1f}')")
w_cpu=$(field cpu_seconds "$work/without"); c_cpu=$(field cpu_seconds "$work/with")
slow=$(python3 -c "print(f'{100 * ($c_cpu - $w_cpu) / $w_cpu:+.1f}')")
echo "### watch under $RATE connections/s for ${DURATION}s ($(date -Is), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), ${scope[*]:-every namespace})"
echo
echo "| run | connections | achieved/s | workload CPU s | failed |"
echo "|---|---|---|---|---|"
for r in without with; do
    echo "| $r watch | $(field connections "$work/$r") | $(field rate "$work/$r") | $(field cpu_seconds "$work/$r") | $(field failed "$work/$r") |"
done
echo
echo "| watch CPU (% of one core) | workload CPU change | RSS start | RSS end | events | lost | unread |"
echo "|---|---|---|---|---|---|---|"
echo "| $cpu_pct | $slow% | $((rss0 / 1024)) MiB | $((rss1 / 1024)) MiB | $(stat events) | $(stat lost) | $(stat unread) |"
echo
echo "findings: $(stat findings), duplicates: $(stat duplicates), suppressed: $(stat suppressed)"
echo "getppid(): $sys_without ns of CPU per call without the watch, $sys_with ns with it"
echo "hooks: $(grep -c '^sockwarden: note:' "$work/watch.err" || true) on a fallback; ${WATCH_ARGS:-default}"
if [ "$STATS" = 1 ]; then
    echo
    ci/bpf-prog-stats.py diff "$work/stats0" "$work/stats1" "$(field connections "$work/with")" \
        "$c_cpu"
fi
if [ "$PERF" = 1 ]; then
    echo
    ci/perf-share.py "$work/perf.data" connload
fi
[ "$STATS" = 1 ] || [ "$PERF" = 1 ] && echo "(STATS=$STATS PERF=$PERF: the loaded run's workload CPU includes their cost)"
exit 0
