#!/usr/bin/env bash
# ci/bench.sh - sockwarden against ss on real socket loads, for humans and CI alike.
#
# For each scale it starts a socket load with the shared harness (shared/bench/run_bench.sh:
# sockload.py in a private network namespace with private TCP/UDP hash tables and its own PID
# namespace, so /proc holds only the load), then measures, inside the load's namespaces:
#
#   sockwarden snapshot                 full: attribution + extensions (owners: BPF iterator)
#   sockwarden snapshot --owners-from procfs   the same with the /proc walk (no BPF)
#   sockwarden snapshot --no-processes  collection without attribution
#   ss -tuanp                           the tool to beat, with processes
#   ss -tuan                            the same, without processes
#
# with hyperfine (median wall time; RUNS runs after WARMUP warmups, at nice -10) and one
# /usr/bin/time run (peak RSS). It prints a markdown table per scale with the ratios we aim for
# (docs/PERFORMANCE.md) and writes the same markdown to $OUT/bench-<date>.md.
#
# usage: ci/bench.sh [--quick] [-h|--help]
#   --quick   one small scale (1000:10), RUNS=3: a smoke test
#
# env:
#   SCALES="10000:100 100000:1000"  SOCKETS:PROCESSES pairs (sockload.py --sockets / --procs)
#   RUNS=5 WARMUP=1                 hyperfine runs and warmups per command (3 / 1 with --quick)
#   SOCKWARDEN=path                 binary to measure; otherwise `cargo build --release` is run and
#                                   the binary is taken from cargo's target dir (CARGO_TARGET_DIR)
#   SOCKWARDEN_BIN2=path            a second binary (e.g. the static musl build) measured on the
#                                   same loads: each sockwarden command is measured for the first
#                                   binary, then at once for the second, and a side-by-side table
#                                   gives the ratios (LABEL1/LABEL2 name them; default bin1/bin2);
#                                   then snapshot, snapshot --no-processes, list and scan run
#                                   alternating (A B, B A, ...) for ALTERNATE rounds (default 15),
#                                   and the median of each round's B/A ratio is reported, which a
#                                   change in the machine's load during the run affects least
#   SHARED_BENCH=dir                the harness (default: <repo>/../shared/bench)
#   OUT=target/bench                where the markdown and the raw harness results go
#   INSTALL=1                       apt-get install what is missing (hyperfine, time)
#   STRICT=1                        exit 1 when a target is missed (default: report only)
#   CMD_BUDGET_S=240                per-command time budget, passed to the harness
#
# Needs root (network and PID namespaces). Always tears the load down (EXIT trap) and checks that
# no namespace and no sockload process of its own is left behind.
# Exit status: 0 ok, 1 a target missed with STRICT=1, 2 error.
set -euo pipefail

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "[bench $(date +%T)] $*" >&2; }

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (try --help)" ;;
    esac
done

if [ "$QUICK" = 1 ]; then
    SCALES=1000:10
    RUNS=${RUNS:-3}
else
    SCALES=${SCALES:-"10000:100 100000:1000"}
    RUNS=${RUNS:-5}
fi
WARMUP=${WARMUP:-1}
INSTALL=${INSTALL:-0}
STRICT=${STRICT:-0}
CMD_BUDGET_S=${CMD_BUDGET_S:-240}

# Targets (docs/PERFORMANCE.md).
TARGET_FULL_RATIO=0.15     # snapshot / ss -tuanp, median wall
TARGET_NOPROC_RATIO=1.2    # snapshot --no-processes / ss -tuan, median wall
TARGET_RSS_PER_SOCKET=1024 # snapshot peak RSS / sockets, bytes

# ---------------------------------------------------------------- locations
abspath() { # abspath PATH: absolute path of PATH (relative to the invocation's cwd)
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SHARED_BENCH=$(abspath "${SHARED_BENCH:-$SCRIPT_DIR/../../shared/bench}")
OUT=$(abspath "${OUT:-$REPO/target/bench}")
if [ -n "${SOCKWARDEN:-}" ]; then SOCKWARDEN=$(abspath "$SOCKWARDEN"); fi
if [ -n "${SOCKWARDEN_BIN2:-}" ]; then SOCKWARDEN_BIN2=$(abspath "$SOCKWARDEN_BIN2"); fi
LABEL1=${LABEL1:-bin1}
LABEL2=${LABEL2:-bin2}
ALTERNATE=${ALTERNATE:-15}
if [ -n "${CARGO_TARGET_DIR:-}" ]; then export CARGO_TARGET_DIR; CARGO_TARGET_DIR=$(abspath "$CARGO_TARGET_DIR"); fi
HARNESS=$SHARED_BENCH/run_bench.sh
[ -f "$HARNESS" ] || die "harness not found: $HARNESS (set SHARED_BENCH=dir)"
[ -f "$SHARED_BENCH/sockload.py" ] || die "sockload.py not found in $SHARED_BENCH"
cd "$REPO"

# ---------------------------------------------------------------- prerequisites
[ "$(id -u)" = 0 ] || die "needs root (it creates network and PID namespaces)"
install_pkgs() { # install_pkgs PKG...: only with INSTALL=1
    if [ "$INSTALL" = 1 ]; then
        say "INSTALL=1: apt-get install -y $*"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
    else
        die "missing: $* (install with: apt-get install -y $*, or rerun with INSTALL=1)"
    fi
}
command -v hyperfine >/dev/null 2>&1 || install_pkgs hyperfine
[ -x /usr/bin/time ] || install_pkgs time
for tool in ss ip nsenter unshare python3 bc; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (the harness needs it)"
done

# ---------------------------------------------------------------- the binary
if [ -z "${SOCKWARDEN:-}" ]; then
    say "cargo build --release${CARGO_TARGET_DIR:+ (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)}"
    cargo build --release >&2
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    SOCKWARDEN=$target_dir/release/sockwarden
fi
[ -x "$SOCKWARDEN" ] || die "not an executable: $SOCKWARDEN"
SW_VERSION=$("$SOCKWARDEN" --version 2>/dev/null || echo "sockwarden (version unknown)")
if [ -n "${SOCKWARDEN_BIN2:-}" ]; then
    [ -x "$SOCKWARDEN_BIN2" ] || die "not an executable: $SOCKWARDEN_BIN2"
    SW_VERSION2=$("$SOCKWARDEN_BIN2" --version 2>/dev/null || echo "sockwarden (version unknown)")
fi
GIT_REV=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- scratch, teardown
WORKDIR=$(mktemp -d /tmp/sockwarden-bench.XXXXXX)
STAMP=$(date +%Y-%m-%d-%H%M%S)
RAW=$OUT/raw-$STAMP
mkdir -p "$RAW"
# The harness keeps its state, logs and compiled floor tools in WORKDIR; a private one per run,
# so a load someone else started with the harness is never touched.
export WORKDIR STATE="$WORKDIR/.state" RUNS WARMUP CMD_BUDGET_S
unset SKIP ONLY   # harness filters: every command here is measured
START_PID=""   # pid of `run_bench.sh start`: the load's netns is sockbench-<that pid>

# shellcheck disable=SC2317 # invoked by the EXIT trap
teardown() {
    local rc=$?
    set +e
    trap '' INT TERM
    if [ -n "$START_PID" ]; then   # interrupted while the load was starting
        kill -0 "$START_PID" 2>/dev/null && kill -TERM "$START_PID" 2>/dev/null
        wait "$START_PID" 2>/dev/null
    fi
    if [ -f "$STATE" ]; then
        say "teardown: stopping the load"
        "$HARNESS" stop >&2
    fi
    if [ -n "$START_PID" ]; then
        local ns="sockbench-$START_PID" p
        if ip netns list 2>/dev/null | grep -qw "$ns"; then
            # `start` died before it wrote its state: everything in our netns is ours
            say "teardown: removing $ns by hand"
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
            sleep 1
            ip netns del "$ns"
        fi
    fi
    # Leftover check: our namespace must be gone; any sockload process is reported.
    local ours_left=0 left_ns left_procs
    left_ns=$(ip netns list 2>/dev/null | grep -o 'sockbench-[0-9]*' || true)
    if [ -n "$START_PID" ] && printf '%s\n' "$left_ns" | grep -qx "sockbench-$START_PID"; then
        say "LEFT BEHIND: netns sockbench-$START_PID"; ours_left=1
    fi
    left_procs=$(pgrep -af sockload || true)
    if [ -n "$left_ns$left_procs" ]; then
        say "teardown check: still present (other runs' loads unless named above):"
        [ -n "$left_ns" ] && printf '  netns %s\n' "$left_ns" >&2
        [ -n "$left_procs" ] && printf '  %s\n' "$left_procs" >&2
    else
        say "teardown check: no sockbench netns (ip netns list), no sockload process (pgrep -f sockload)"
    fi
    rm -rf "$WORKDIR"
    [ "$ours_left" = 1 ] && [ "$rc" = 0 ] && rc=2
    exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the snapshot command
# `snapshot -o FILE` writes atomically (temp file + rename). Aimed at /dev/null, a version that
# does that blindly would replace the host's /dev/null device with a regular file (the load's
# mount namespace shares /dev). So probe first, on a scratch device node in a private mount
# namespace: only if the node survives is `-o /dev/null` used; otherwise the JSON goes to
# stdout and the shell discards it (`> /dev/null`), which is what ss's output gets too.
probe_dev_null() {
    # shellcheck disable=SC2016 # the inner script gets its values as $1 $2
    unshare --mount --propagation private sh -c '
        d=$1; bin=$2
        mount -t tmpfs bench-probe "$d" || exit 3
        mknod "$d/null" c 1 3 || exit 3
        "$bin" snapshot --no-processes --no-extensions -o "$d/null" >/dev/null 2>&1
        [ -c "$d/null" ]' probe "$WORKDIR/probe" "$SOCKWARDEN"
}
mkdir -p "$WORKDIR/probe"
if probe_dev_null; then
    SNAP_TO="-o /dev/null"
else
    SNAP_TO="> /dev/null"
    say "WARNING: '$SOCKWARDEN snapshot -o <char device>' replaces the device node with a regular"
    say "  file (atomic rename); measuring 'snapshot > /dev/null' (stdout) instead of '-o /dev/null'"
fi
rmdir "$WORKDIR/probe" 2>/dev/null || true

# name|label|command (the command runs under `sh -c` inside the load's namespaces)
COMMANDS=(
    "sw_full|sockwarden snapshot $SNAP_TO|$SOCKWARDEN snapshot $SNAP_TO"
    "sw_noproc|sockwarden snapshot --no-processes $SNAP_TO|$SOCKWARDEN snapshot --no-processes $SNAP_TO"
    "sw_noproc_noext|sockwarden snapshot --no-processes --no-extensions $SNAP_TO|$SOCKWARDEN snapshot --no-processes --no-extensions $SNAP_TO"
    "sw_list_tuan|sockwarden list -tuan > /dev/null|$SOCKWARDEN list -tuan > /dev/null"
    "sw_scan|sockwarden scan (default pack) --format json -o /dev/null|$SOCKWARDEN scan --format json -o /dev/null; true"
    "sw_scan_norules|sockwarden scan --no-default-rules --format json -o /dev/null|$SOCKWARDEN scan --no-default-rules --format json -o /dev/null"
    "sw_full_noext|sockwarden snapshot --no-extensions $SNAP_TO|$SOCKWARDEN snapshot --no-extensions $SNAP_TO"
    "sw_full_procfs|sockwarden snapshot --owners-from procfs $SNAP_TO|$SOCKWARDEN snapshot --owners-from procfs $SNAP_TO"
    "ss_tuanp|ss -tuanp > /dev/null|ss -tuanp > /dev/null"
    "ss_tuan|ss -tuan > /dev/null|ss -tuan > /dev/null"
)
# With a second binary: each sockwarden command again right after the first binary's, same load.
if [ -n "${SOCKWARDEN_BIN2:-}" ]; then
    paired=()
    for c in "${COMMANDS[@]}"; do
        paired+=("$c")
        case "$c" in
            sw_*)
                name=${c%%|*}; rest=${c#*|}; label=${rest%%|*}; cmd=${rest#*|}
                paired+=("b2_$name|$label [$LABEL2]|${cmd//$SOCKWARDEN/$SOCKWARDEN_BIN2}") ;;
        esac
    done
    COMMANDS=("${paired[@]}")
fi

# Peak RSS of a snapshot of an empty network and PID namespace: the fixed part, so the
# per-socket cost can also be read above it.
# shellcheck disable=SC2016 # the inner script gets its values as $1 $2
unshare --net --pid --fork --mount-proc sh -c '/usr/bin/time -f %M -o "$1" "$2" snapshot > /dev/null' \
    base "$RAW/empty_ns.time" "$SOCKWARDEN" || say "could not measure the empty-namespace RSS"

# ---------------------------------------------------------------- alternation (two binaries)
# alternate FILE: inside the load's namespaces (as the harness's nsrun enters them), at nice -10,
# each command runs for both binaries in turn, A B then B A, ALTERNATE rounds after one warmup
# each; FILE gets a markdown table with both medians and the median of the per-round ratios.
alternate() {
    # shellcheck disable=SC1090 # the harness's state: HPID, PIDNS, NS
    . "$STATE"
    local enter=(ip netns exec "$NS")
    [ "$PIDNS" = 1 ] && enter=(nsenter -t "$HPID" -n -p -m --)
    "${enter[@]}" nice -n -10 python3 - "$ALTERNATE" "$LABEL1" "$LABEL2" "$SOCKWARDEN" "$SOCKWARDEN_BIN2" "$SNAP_TO" > "$1" <<'PY'
import statistics, subprocess, sys, time

rounds, l1, l2, a, b, snap_to = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
cmds = [
    ("snapshot", f"snapshot {snap_to}"),
    ("snapshot --no-processes", f"snapshot --no-processes {snap_to}"),
    ("list -tuan", "list -tuan > /dev/null"),
    ("scan --format json -o /dev/null", "scan --format json -o /dev/null"),
]


def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1e3


print(f"Alternating, {rounds} rounds per command (A B, then B A, ...), after one warmup each:")
print()
print(f"| command | {l1} median ms | {l2} median ms | median of per-round {l2} / {l1} | min … max of the ratio |")
print("|---|---:|---:|---:|---:|")
for label, args in cmds:
    ca, cb = f"{a} {args}", f"{b} {args}"
    run(ca), run(cb)
    ta, tb = [], []
    for i in range(rounds):
        if i % 2 == 0:
            ta.append(run(ca)); tb.append(run(cb))
        else:
            tb.append(run(cb)); ta.append(run(ca))
    r = [y / x for x, y in zip(ta, tb)]
    print(f"| `{label}` | {statistics.median(ta):.2f} | {statistics.median(tb):.2f} | "
          f"{statistics.median(r):.3f} | {min(r):.3f} … {max(r):.3f} |")
print()
PY
}

# ---------------------------------------------------------------- measure
MD=$OUT/bench-$STAMP.md
if [ "$QUICK" = 1 ]; then MD=$OUT/bench-$STAMP-quick.md; fi
{
    echo "### Benchmark $(date -Is): $SW_VERSION ($GIT_REV)"
    echo
    if [ -n "${SOCKWARDEN_BIN2:-}" ]; then
        echo "Binaries: $LABEL1 = \`$SOCKWARDEN\` ($SW_VERSION), $LABEL2 = \`$SOCKWARDEN_BIN2\` ($SW_VERSION2);"
        echo "each sockwarden command measured for $LABEL1, then at once for $LABEL2, on the same load."
        echo
    fi
    echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(ss -V 2>&1 | head -1), $(hyperfine --version)."
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Harness: shared/bench/run_bench.sh (private netns with private TCP/UDP hash, own PID"
    echo "namespace); each command: 1 run under /usr/bin/time (peak RSS), then hyperfine"
    echo "(up to $RUNS runs, $WARMUP warmup; fewer when a run is slow), all at nice -10, warm caches."
    echo "\"busy CPUs\" is the machine-wide CPU use during that command's hyperfine runs (ours + others')."
    echo "sockwarden snapshot covers every family (tcp, udp, unix, packet, raw); ss -tuan covers tcp and udp."
    echo
} | tee "$MD"

for scale in $SCALES; do
    sockets=${scale%%:*}
    procs=${scale#*:}
    [ "$procs" = "$scale" ] && procs=$(( sockets / 100 > 0 ? sockets / 100 : 1 ))
    case "$sockets$procs" in *[!0-9]*|"") die "bad scale '$scale' (want SOCKETS:PROCESSES)" ;; esac
    out=$RAW/$sockets
    mkdir -p "$out"
    cut -d' ' -f1-3 /proc/loadavg > "$out/loadavg_before"
    say "scale $sockets sockets / $procs processes: starting the load (load average $(cat "$out/loadavg_before"))"
    "$HARNESS" start "$sockets" "$procs" > "$out/load.env" &
    START_PID=$!
    wait "$START_PID" || die "the harness could not start the load (see above)"
    tag=$(sed -n 's/^TAG=//p' "$STATE")
    cp "$tag.ready" "$out/ready.json"
    for c in "${COMMANDS[@]}"; do
        name=${c%%|*}; rest=${c#*|}; label=${rest%%|*}; cmd=${rest#*|}
        echo "$label" > "$out/$name.label"
        say "measuring: $label"
        OUT=$out "$HARNESS" time "$name" "$cmd"
    done
    if [ -n "${SOCKWARDEN_BIN2:-}" ] && [ "$ALTERNATE" -gt 0 ]; then
        say "alternating $LABEL1 and $LABEL2, $ALTERNATE rounds per command"
        alternate "$out/alternate.md"
    fi
    cut -d' ' -f1-3 /proc/loadavg > "$out/loadavg_after"
    "$HARNESS" stop
    START_PID=""
done

# ---------------------------------------------------------------- report
set +e
python3 - "$RAW" "$TARGET_FULL_RATIO" "$TARGET_NOPROC_RATIO" "$TARGET_RSS_PER_SOCKET" "$SCALES" "$LABEL1" "$LABEL2" <<'PY' | tee -a "$MD"
import json, os, sys

raw, t_full, t_noproc, t_rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
scales = sys.argv[5].split()
label1, label2 = sys.argv[6], sys.argv[7]
missed = 0


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def result(d, name):
    r = {"label": read(f"{d}/{name}.label", name)}
    status = read(f"{d}/{name}.status", "not run")
    r["status"] = status
    t = read(f"{d}/{name}.time")
    if t:
        r["rss_kib"] = int(t.splitlines()[-1].split()[3])
    try:
        with open(f"{d}/{name}.json") as f:
            h = json.load(f)["results"][0]
        r.update(median=h["median"] * 1e3, mean=h["mean"] * 1e3, sd=(h["stddev"] or 0) * 1e3,
                 min=h["min"] * 1e3, max=h["max"] * 1e3, runs=len(h["times"]))
    except (OSError, KeyError, IndexError, ValueError):
        pass
    cpu = read(f"{d}/{name}.cpu", "")
    r["busy"] = dict(kv.split("=") for kv in cpu.split()).get("busy_cpus", "-") if cpu else "-"
    return r


def ms(x):
    return f"{x:.2f}"


def verdict(value, target):
    global missed
    if value is None:
        missed += 1
        return "n/a"
    if value <= target:
        return "met"
    missed += 1
    return "**missed**"


base = read(f"{raw}/empty_ns.time")
base_rss = int(base.splitlines()[-1]) if base and base.splitlines()[-1].isdigit() else None

for scale in scales:
    sockets, _, procs = scale.partition(":")
    d = f"{raw}/{sockets}"
    ready = json.loads(read(f"{d}/ready.json", "{}"))
    counted = ready.get("proc_net", {})
    total = sum(v for v in counted.values() if isinstance(v, int))
    env = dict(line.split("=", 1) for line in read(f"{d}/load.env", "").splitlines() if "=" in line)
    print(f"#### {int(sockets):,} sockets over {ready.get('procs', procs)} processes")
    print()
    print(f"Sockets in the load's netns (sock_diag): {total:,} "
          f"({', '.join(f'{k} {v}' for k, v in counted.items())}); load ready in {float(env.get('READY_WALL_S', 'nan')):.2f} s. "
          f"Load average before: {read(f'{d}/loadavg_before', '?')}, after: {read(f'{d}/loadavg_after', '?')}.")
    print()
    print("| command | median wall ms | mean ± σ ms | min … max ms | runs | peak RSS KiB | busy CPUs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    res = {n: result(d, n) for n in ("sw_full", "sw_full_procfs", "sw_full_noext", "sw_noproc", "sw_noproc_noext", "sw_list_tuan", "sw_scan", "sw_scan_norules", "ss_tuanp", "ss_tuan")}
    for r in res.values():
        if "median" in r:
            print(f"| `{r['label']}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['sd'])} | "
                  f"{ms(r['min'])} … {ms(r['max'])} | {r['runs']} | {r.get('rss_kib', '-')} | {r['busy']} |")
        else:
            print(f"| `{r['label']}` | failed ({r['status']}) | - | - | - | {r.get('rss_kib', '-')} | {r['busy']} |")
    print()

    def ratio(a, b):
        if "median" in res[a] and "median" in res[b] and res[b]["median"] > 0:
            return res[a]["median"] / res[b]["median"]
        return None

    full = ratio("sw_full", "ss_tuanp")
    noproc = ratio("sw_noproc", "ss_tuan")
    noext = ratio("sw_noproc_noext", "ss_tuan") if "sw_noproc_noext" in res else None
    listr = ratio("sw_list_tuan", "ss_tuan") if "sw_list_tuan" in res else None
    scanr = ratio("sw_scan", "sw_full") if "sw_scan" in res else None
    enginer = ratio("sw_scan", "sw_scan_norules")
    fullnoext = ratio("sw_full_noext", "ss_tuanp")
    fullprocfs = ratio("sw_full_procfs", "ss_tuanp")
    rss = res["sw_full"].get("rss_kib")
    per_sock = rss * 1024 / total if rss and total else None
    print("| ratio | value | target | |")
    print("|---|---:|---:|---|")
    print(f"| snapshot / `ss -tuanp`, median wall | {'n/a' if full is None else f'{full:.3f}'} | ≤ {t_full} | {verdict(full, t_full)} |")
    print(f"| snapshot --owners-from procfs / `ss -tuanp` (the /proc walk, as without BPF) | {'n/a' if fullprocfs is None else f'{fullprocfs:.3f}'} | | (for reading) |")
    print(f"| snapshot --no-processes / `ss -tuan`, median wall | {'n/a' if noproc is None else f'{noproc:.3f}'} | ≤ {t_noproc} | {verdict(noproc, t_noproc)} |")
    print(f"| snapshot --no-processes --no-extensions / `ss -tuan` (same content as ss: no tcp_info) | {'n/a' if noext is None else f'{noext:.3f}'} | ≤ {t_noproc} | {verdict(noext, t_noproc)} |")
    print(f"| `list -tuan` / `ss -tuan` (the same job) | {'n/a' if listr is None else f'{listr:.3f}'} | ≤ {t_noproc} | {verdict(listr, t_noproc)} |")
    print(f"| snapshot --no-extensions / `ss -tuanp` (ss's content: attribution, no tcp_info) | {'n/a' if fullnoext is None else f'{fullnoext:.3f}'} | ≤ {t_full} | {verdict(fullnoext, t_full)} |")
    print(f"| scan with the default pack / scan with no rules (what the default rules add) | {'n/a' if enginer is None else f'{enginer:.3f}'} | ≤ 1.10 | {verdict(enginer, 1.10)} |")
    print(f"| scan (snapshot + the default rules, no snapshot JSON) / snapshot | {'n/a' if scanr is None else f'{scanr:.3f}'} | | (for reading) |")
    print(f"| snapshot peak RSS per socket, bytes | {'n/a' if per_sock is None else f'{per_sock:.0f}'} | ≤ {t_rss:.0f} | {verdict(per_sock, t_rss)} |")
    if rss and total and base_rss:
        print(f"| … the same above an empty namespace's {base_rss} KiB, bytes | {(rss - base_rss) * 1024 / total:.0f} | | (for reading) |")
    print()
    pairs = [n for n in res if n.startswith("sw_") and os.path.exists(f"{d}/b2_{n}.label")]
    if pairs:
        print(f"Side by side: {label2} / {label1}, each pair measured back to back on this load.")
        print()
        print(f"| command | {label1} median ms | {label2} median ms | {label2} / {label1} | {label1} peak RSS KiB | {label2} peak RSS KiB |")
        print("|---|---:|---:|---:|---:|---:|")
        for n in pairs:
            a, b = res[n], result(d, f"b2_{n}")
            ratio2 = f"{b['median'] / a['median']:.3f}" if "median" in a and "median" in b else "n/a"
            am = ms(a["median"]) if "median" in a else a["status"]
            bm = ms(b["median"]) if "median" in b else b["status"]
            print(f"| `{a['label']}` | {am} | {bm} | {ratio2} | {a.get('rss_kib', '-')} | {b.get('rss_kib', '-')} |")
        print()
    alt = read(f"{d}/alternate.md")
    if alt:
        print(alt)
        print()
sys.exit(1 if missed else 0)
PY
report_rc=${PIPESTATUS[0]}
set -e
if [ "$QUICK" != 1 ] && [ "${ENGINE:-1}" = 1 ]; then
    say "engine benchmark (cargo bench --bench engine)"
    { echo; echo "#### Rule engine (cargo bench --bench engine, synthetic 100k-socket snapshot)"; echo
      (cd "$REPO" && cargo bench --quiet --bench engine 2>/dev/null); echo; } | tee -a "$MD"
fi
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)." | tee -a "$MD"
say "markdown: $MD"
say "raw harness results: $RAW"
if [ "$report_rc" != 0 ]; then
    say "some targets were missed or could not be computed"
    [ "$STRICT" = 1 ] && exit 1
fi
exit 0
