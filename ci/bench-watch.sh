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
#      STATS=1 (default): the kernel's count of each BPF program's runs and time (bpftool);
#      PERF=1: the share of connload's `perf` samples in BPF and tracing, part by part.
#
# ROUNDS=N: the slowdown, measured so that it can be read (docs/PERFORMANCE.md, "Issue 18,
# session 12"). One run of the default mode compares two runs minutes apart, and the
# workload's CPU moves by +-20% between such runs on a shared virtual machine: ten times the
# effect. Instead, N rounds, each of connload without a watch and under one (or under each of
# two binaries, SOCKWARDEN and SOCKWARDEN2: before and after in the same rounds), DURATION
# seconds each (default 5 in this mode: 50,000 connections at 10,000/s), in the same namespace
# with the same listener setup, connload pinned to one CPU (LOAD_CPU, default the last); the watch is started and settled (its programs attached, 1 s)
# before its run and stopped after it, so a run without a watch has no program attached. The
# order of the runs rotates from round to round (none-A-B, A-B-none, B-none-A), so a drift of
# the machine during a round falls on each in turn. Per round, the ratio of each traced run's
# CPU per connection (connload's user + system, getrusage) to the same round's untraced run;
# printed: each round's ratios, their median with the interquartile range and a 95% bootstrap
# interval of the median, and the ratio of the medians (ci/rounds-stats.py). The median of
# per-round ratios is the figure: a pair shares the machine's state of the moment, and the
# median ignores the rounds a burst of other work hit. Also checked per run: lost events
# (summed and printed). STATS and PERF are off in this mode; ROUNDS_TSV=FILE keeps the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000}
ROUNDS=${ROUNDS:-0}
if [ "$ROUNDS" -gt 0 ]; then
    DURATION=${DURATION:-5}
    STATS=0
    PERF=0
fi
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

scope=()
[ "$ONE_NETNS" = 1 ] && scope=(--netns "$ns")

# Starts a watch of binary $1 and waits until its programs are attached (then 1 s more).
start_watch() {
    # shellcheck disable=SC2086 # WATCH_ARGS: words
    "$1" watch --format jsonl --duration "$((DURATION + 45))s" "${scope[@]}" ${WATCH_ARGS:-} \
        >"$work/watch.jsonl" 2>"$work/watch.err" &
    wpid=$!
    until grep -q "through BPF" "$work/watch.err" 2>/dev/null; do
        kill -0 "$wpid" 2>/dev/null || { cat "$work/watch.err" >&2; exit 2; }
        sleep 0.1
    done
    sleep 1
}
stop_watch() {
    kill -INT "$wpid"
    wait "$wpid" || true
    wpid=""
}

if [ "$ROUNDS" -gt 0 ]; then
    # Both of connload's threads on one CPU (the last, unless LOAD_CPU says another; empty:
    # not pinned): its CPU per connection then does not depend on whether the other CPUs are
    # free (cross-CPU wake-ups cost more than a switch on one CPU), the largest source of
    # its spread between runs on a shared machine (measured: +-7% pinned, +-25% not).
    LOAD_CPU=${LOAD_CPU-$(($(nproc) - 1))}
    pin=()
    [ -n "$LOAD_CPU" ] && pin=(taskset -c "$LOAD_CPU")
    bins=("$SOCKWARDEN")
    [ -n "${SOCKWARDEN2:-}" ] && bins+=("$SOCKWARDEN2")
    labels=(none "$(basename "$SOCKWARDEN")")
    if [ -n "${SOCKWARDEN2:-}" ]; then
        b=$(basename "$SOCKWARDEN2")
        [ "$b" = "${labels[1]}" ] && b=$b-2
        labels+=("$b")
    fi
    : >"$work/rounds.tsv"
    lost=0
    for ((r = 1; r <= ROUNDS; r++)); do
        n=${#labels[@]}
        for ((k = 0; k < n; k++)); do
            i=$(((r - 1 + k) % n))
            if [ "$i" -gt 0 ]; then start_watch "${bins[$((i - 1))]}"; fi
            ip netns exec "$ns" "${pin[@]}" "$load" "$RATE" "$DURATION" >"$work/run"
            if [ "$i" -gt 0 ]; then
                sleep 1 # the watch reads what the ring still holds
                stop_watch
                l=$(tail -1 "$work/watch.jsonl" |
                    python3 -c 'import json,sys; print(json.load(sys.stdin)["sockwarden"]["watch"]["lost"])')
                lost=$((lost + l))
            fi
            printf '%s\t%s\t%s\t%s\n' "$r" "${labels[$i]}" "$(field connections "$work/run")" \
                "$(field cpu_seconds "$work/run")" >>"$work/rounds.tsv"
        done
    done
    echo "### watch's slowdown of connload, $ROUNDS rounds of ${DURATION}s at $RATE connections/s ($(date -Is), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), ${scope[*]:-every namespace})"
    echo
    ci/rounds-stats.py "$work/rounds.tsv"
    echo
    echo "lost events, all traced runs: $lost; binaries: ${bins[*]}; connload on CPU ${LOAD_CPU:-any}"
    [ -n "${ROUNDS_TSV:-}" ] && cp "$work/rounds.tsv" "$ROUNDS_TSV"
    exit 0
fi

ip netns exec "$ns" "$load" "$RATE" "$DURATION" >"$work/without"
sys_without=$(syscall_ns)

start_watch "$SOCKWARDEN"
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
stop_watch
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
