#!/usr/bin/env bash
# ci/bench-scale.sh - how a scan's cost per socket grows with the host (issue 19).
#
# For each N it starts a socket load with the shared harness (shared/bench/run_bench.sh:
# sockload.py, N sockets over N/100 processes, in a private network namespace with private
# TCP/UDP hash tables and its own PID namespace, so /proc holds only the load), then runs, inside
# the load's namespaces and at nice -10, RUNS rounds of:
#
#   floor       shared/bench nldump -t -u -x      one netlink dump of tcp, udp and unix (C)
#   floor_info  nldump -t -u -x -i                the same with tcp_info and meminfo (what a
#                                                 snapshot asks the kernel for)
#   ss_tan      ss -tan
#   list        sockwarden list -tuan
#   snapshot    sockwarden snapshot -o /dev/null
#   scan        sockwarden scan --allow-partial --format json -o /dev/null   (the default pack)
#   scan_bare   sockwarden scan --allow-partial --no-default-rules --format json -o /dev/null
#   scan_noview sockwarden scan --allow-partial --no-procnet-view --format json -o /dev/null
#               (the scan as issue 19 measured it, before the /proc/net cross-view existed)
#
# The scans take --allow-partial: from 16,384 UDP sockets in the load (N above ~110k, 15% UDP)
# the /proc/net view leaves UDP unread (procnet_udp_max, docs/detection.md "Costs": the kernel
# reads /proc/net/udp in quadratic time), NET-HID-001/002 are undecided for UDP and a scan would
# stop with exit 2 before evaluating anything; with it the whole scan is measured.
#
# in turn (the order reversed every other round, so a change in the machine's load touches every
# command alike). Each run's wall and CPU time come from wait4(2), its peak RSS from
# /usr/bin/time (the command's own, not the Python runner's); sockwarden's own
# phases from SOCKWARDEN_TIMINGS=1 (dump, owners, metadata, sort, engine, report, JSON). It prints
# markdown: per N the medians in ms and in ns per socket, the phases per socket, then how the
# cost per socket grows from the smallest N to the largest, with the targets of issue 19 (scan at
# the largest N within 1.2x the smallest N's time per socket and at most 3x the netlink floor
# without the /proc/net view (the view's own cost is reported beside it: docs/detection.md "Costs"),
# peak RSS at most 512 B per socket, the rules at most 10% of a scan). The same markdown goes to
# $OUT/bench-scale-<date>.md, the raw runs to $OUT/bench-scale-<date>/N.json.
#
# usage: ci/bench-scale.sh [N...]        (default: 100000 300000)
#
# env:
#   RUNS=5                  rounds per N (medians are over these)
#   SOCKWARDEN=path         binary to measure; otherwise `cargo build --release` is run
#   SHARED_BENCH=dir        the harness (default: <repo>/../shared/bench)
#   OUT=target/bench        where the markdown and the raw runs go
#   PER_PROC=100            sockets per load process (sockload.py --procs N/PER_PROC)
#   WORKDIR=dir             the harness's state and compiled floor tools (default: a fresh
#                           directory under /tmp, so that another load on the host is left alone)
#   SOCKWARDEN_BIN2=path    a second binary (before/after): its list, snapshot and scans run in
#                           the same rounds, right after the first binary's, and a table gives
#                           the median of the per-round ratios bin2/bin1 (LABEL1/LABEL2 name them)
#
# Needs root (network and PID namespaces), python3, gcc (the floor tool), ss. A load of 1M sockets
# takes about 1.5 GB of kernel memory and a few minutes to build and tear down. Always tears the
# load down (EXIT trap). Exit status: 0 measured (targets are reported, not enforced), 2 error.
set -euo pipefail

die() { echo "bench-scale: $*" >&2; exit 2; }
say() { echo "[bench-scale $(date +%T)] $*" >&2; }

case "${1:-}" in
    -h|--help) sed -n '2,52p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(100000 300000)
for n in "${SCALES[@]}"; do
    case "$n" in ''|*[!0-9]*) die "not a number of sockets: '$n' (try --help)" ;; esac
done
RUNS=${RUNS:-5}
PER_PROC=${PER_PROC:-100}

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SHARED_BENCH=$(abspath "${SHARED_BENCH:-$SCRIPT_DIR/../../shared/bench}")
OUT=$(abspath "${OUT:-$REPO/target/bench}")
HARNESS=$SHARED_BENCH/run_bench.sh
[ -f "$HARNESS" ] || die "harness not found: $HARNESS (set SHARED_BENCH=dir)"
[ "$(id -u)" = 0 ] || die "needs root (it creates network and PID namespaces)"
[ -x /usr/bin/time ] || die "missing /usr/bin/time (apt-get install -y time)"
for tool in ss ip nsenter unshare python3 gcc bc; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
if [ -n "${SOCKWARDEN:-}" ]; then
    SOCKWARDEN=$(abspath "$SOCKWARDEN")
else
    say "cargo build --release"
    (cd "$REPO" && cargo build --release >&2)
    SOCKWARDEN=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/sockwarden
fi
[ -x "$SOCKWARDEN" ] || die "not an executable: $SOCKWARDEN"
SOCKWARDEN_BIN2=${SOCKWARDEN_BIN2:+$(abspath "$SOCKWARDEN_BIN2")}
[ -z "$SOCKWARDEN_BIN2" ] || [ -x "$SOCKWARDEN_BIN2" ] || die "not an executable: $SOCKWARDEN_BIN2"
LABEL1=${LABEL1:-bin1}
LABEL2=${LABEL2:-bin2}

# The harness keeps its state in WORKDIR: a directory of our own, so a load someone else runs
# with the harness's default directory is never stopped by this script.
WORKDIR=${WORKDIR:-$(mktemp -d /tmp/bench-scale.XXXXXX)}
export WORKDIR
export STATE=$WORKDIR/.state
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW=$OUT/bench-scale-$STAMP
MD=$OUT/bench-scale-$STAMP.md
mkdir -p "$RAW"
cleanup() { [ -f "$STATE" ] && "$HARNESS" stop >/dev/null 2>&1; true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

{
    echo "### Scale benchmark $(date -u '+%Y-%m-%d %H:%M UTC'): $("$SOCKWARDEN" --version 2>/dev/null | head -1) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(ss -V 2>&1 | head -1)."
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg). $RUNS rounds per scale, commands in turn (order reversed every other round), at nice -10,"
    echo "inside shared/bench loads (N sockets over N/$PER_PROC processes, private netns with private hash tables, own PID namespace)."
    echo "Medians; wall and CPU (user+sys) from wait4(2), peak RSS from /usr/bin/time; phases from SOCKWARDEN_TIMINGS=1."
    echo
} | tee "$MD"

for n in "${SCALES[@]}"; do
    procs=$(( n / PER_PROC > 0 ? n / PER_PROC : 1 ))
    say "scale $n sockets / $procs processes: starting the load (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    "$HARNESS" start "$n" "$procs" > "$RAW/$n.load" || die "the harness could not start the load"
    # shellcheck disable=SC1090 # the harness's state: HPID, PIDNS, NS, TAG
    . "$STATE"
    cp "$TAG.ready" "$RAW/$n.ready.json" 2>/dev/null || true
    enter=(ip netns exec "$NS")
    [ "$PIDNS" = 1 ] && enter=(nsenter -t "$HPID" -n -p -m --)
    say "measuring, $RUNS rounds"
    "${enter[@]}" nice -n -10 python3 - "$RUNS" "$SOCKWARDEN" "$WORKDIR/nldump" "$SOCKWARDEN_BIN2" \
        > "$RAW/$n.json" <<'PY'
import json, os, re, statistics, subprocess, sys, time

runs, sw, nldump, sw2 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cmds = [
    ("floor", [nldump, "-t", "-u", "-x"], (0,)),
    ("floor_info", [nldump, "-t", "-u", "-x", "-i"], (0,)),
    ("ss_tan", ["ss", "-tan"], (0,)),
]
for name, args, ok in [
    ("list", ["list", "-tuan"], (0,)),
    ("snapshot", ["snapshot", "-o", "/dev/null"], (0,)),
    ("scan", ["scan", "--allow-partial", "--format", "json", "-o", "/dev/null"], (0, 1)),
    ("scan_bare", ["scan", "--allow-partial", "--no-default-rules", "--format", "json", "-o", "/dev/null"], (0, 1)),
    ("scan_noview", ["scan", "--allow-partial", "--no-procnet-view", "--format", "json", "-o", "/dev/null"], (0, 1)),
]:
    cmds.append((name, [sw] + args, ok))
    if sw2:
        cmds.append(("b2_" + name, [sw2] + args, ok))
env = dict(os.environ, SOCKWARDEN_TIMINGS="1")
UNIT = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
PHASE = re.compile(r"\b(\w+):? ([0-9.]+)(ns|µs|us|ms|s)\b")


def run(argv, ok):
    # Peak RSS through /usr/bin/time: Linux carries the RSS high-water mark across exec, so
    # wait4 on a child forked from this Python would report at least Python's own ~15 MB.
    rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-scale-rss.{os.getpid()}")
    t = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = (time.perf_counter() - t) * 1e3
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rss_file)
    if p.returncode not in ok:
        sys.exit(f"{argv}: exit {p.returncode}: {err[-2000:]}")
    phases = {}
    for line in err.splitlines():
        if "timings:" in line:
            for name, v, unit in PHASE.findall(line.split("timings:", 1)[1]):
                phases[name] = float(v) * UNIT[unit]
    return {"wall_ms": wall, "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1e3,
            "rss_kib": rss, "phases": phases}


# One warmup each (caches, dentries), then the rounds.
for _, argv, ok in cmds:
    run(argv, ok)
out = {name: [] for name, _, _ in cmds}
for r in range(runs):
    for name, argv, ok in (cmds if r % 2 == 0 else cmds[::-1]):
        out[name].append(run(argv, ok))
json.dump(out, sys.stdout)
PY
    "$HARNESS" stop >/dev/null 2>&1 || say "the harness could not stop the load"
done

python3 - "$RAW" "$LABEL1" "$LABEL2" "${SCALES[@]}" <<'PY' | tee -a "$MD"
import json, statistics, sys

raw, label1, label2, scales = sys.argv[1], sys.argv[2], sys.argv[3], [int(n) for n in sys.argv[4:]]
LABEL = {
    "floor": "floor: `nldump -t -u -x` (one netlink dump, C)",
    "floor_info": "`nldump -t -u -x -i` (with tcp_info, meminfo)",
    "ss_tan": "`ss -tan`",
    "list": "`sockwarden list -tuan`",
    "snapshot": "`sockwarden snapshot -o /dev/null`",
    "scan": "`sockwarden scan --format json -o /dev/null`",
    "scan_bare": "`sockwarden scan --no-default-rules ...`",
    "scan_noview": "`sockwarden scan --no-procnet-view ...`",
}
PHASES = ["dump", "procnet_read", "procnet_compare", "walk", "walk_list", "walk_iter", "walk_fds",
          "walk_index", "walk_meta", "walk_stdio", "metadata", "meta_owners", "meta_procs",
          "meta_views", "sort", "during", "total",
          "engine", "report", "write", "json"]


def med(xs):
    return statistics.median(xs) if xs else None


data = {}
for n in scales:
    with open(f"{raw}/{n}.json") as f:
        data[n] = json.load(f)
    try:
        with open(f"{raw}/{n}.ready.json") as f:
            ready = json.load(f)
        counted = sum(v for v in ready.get("proc_net", {}).values() if isinstance(v, int))
    except (OSError, ValueError):
        counted = 0
    print(f"#### {n:,} sockets ({counted:,} counted by sock_diag in the load's namespace)")
    print()
    print("| command | wall ms | ns/socket | CPU ms | peak RSS KiB | RSS B/socket |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in data[n].items():
        if name.startswith("b2_"):
            continue
        w = med([r["wall_ms"] for r in rows])
        c = med([r["cpu_ms"] for r in rows])
        rss = med([r["rss_kib"] for r in rows])
        print(f"| {LABEL[name]} | {w:.1f} | {w * 1e6 / n:.0f} | {c:.1f} | {rss:.0f} | {rss * 1024 / n:.0f} |")
    print()
    print("| phase (SOCKWARDEN_TIMINGS) | scan ms | scan ns/socket | snapshot ms | snapshot ns/socket |")
    print("|---|---:|---:|---:|---:|")
    for ph in PHASES:
        cells = []
        for cmd in ("scan", "snapshot"):
            v = med([r["phases"][ph] for r in data[n][cmd] if ph in r["phases"]])
            cells += ["-", "-"] if v is None else [f"{v:.1f}", f"{v * 1e6 / n:.0f}"]
        if cells != ["-"] * 4:
            label = "collection (total)" if ph == "total" else ph
            print(f"| {label} | {' | '.join(cells)} |")
    print()
    pairs = [k for k in data[n] if "b2_" + k in data[n]]
    if pairs:
        print(f"Before/after in the same rounds: {label1} and {label2} (each {label2} run right after its {label1} run).")
        print()
        print(f"| command | {label1} ms | {label2} ms | median of per-round {label2} / {label1} (min … max) | {label1} CPU ms | {label2} CPU ms | peak RSS KiB {label1} / {label2} |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for k in pairs:
            a, b = data[n][k], data[n]["b2_" + k]
            ratios = [y["wall_ms"] / x["wall_ms"] for x, y in zip(a, b)]
            print(f"| {LABEL[k]} | {med([r['wall_ms'] for r in a]):.1f} | {med([r['wall_ms'] for r in b]):.1f} | "
                  f"{med(ratios):.3f} ({min(ratios):.3f} … {max(ratios):.3f}) | {med([r['cpu_ms'] for r in a]):.1f} | "
                  f"{med([r['cpu_ms'] for r in b]):.1f} | {med([r['rss_kib'] for r in a]):.0f} / {med([r['rss_kib'] for r in b]):.0f} |")
        for ph in ("engine",):
            a = med([r["phases"][ph] for r in data[n]["scan"] if ph in r["phases"]])
            b = med([r["phases"][ph] for r in data[n]["b2_scan"] if ph in r["phases"]])
            if a is not None and b is not None:
                print(f"| scan phase: {ph} | {a:.1f} | {b:.1f} | {b / a:.3f} (of the medians) | | | |")
        print()


def per_socket(n, name, key="wall_ms"):
    return med([r[key] for r in data[n][name]]) * 1e6 / n


def phase_per_socket(n, name, ph):
    v = med([r["phases"][ph] for r in data[n][name] if ph in r["phases"]])
    return None if v is None else v * 1e6 / n


lo, hi = scales[0], scales[-1]
print(f"#### Growth of the cost per socket, {lo:,} → {hi:,} sockets, and the targets")
print()
print(f"| | ns/socket at {lo:,} | ns/socket at {hi:,} | growth |")
print("|---|---:|---:|---:|")
for name in data[lo]:
    if name.startswith("b2_"):
        continue
    a, b = per_socket(lo, name), per_socket(hi, name)
    print(f"| {LABEL[name]} | {a:.0f} | {b:.0f} | {b / a:.2f}x |")
for ph in PHASES:
    a, b = phase_per_socket(lo, "scan", ph), phase_per_socket(hi, "scan", ph)
    if a and b:
        print(f"| scan phase: {'collection (total)' if ph == 'total' else ph} | {a:.0f} | {b:.0f} | {b / a:.2f}x |")
print()


def verdict(ok):
    return "met" if ok else "**missed**"


growth = per_socket(hi, "scan") / per_socket(lo, "scan")
floor = per_socket(hi, "scan") / per_socket(hi, "floor")
floor_noview = per_socket(hi, "scan_noview") / per_socket(hi, "floor")
rss = med([r["rss_kib"] for r in data[hi]["scan"]]) * 1024 / hi
rules = {n: med([r["wall_ms"] for r in data[n]["scan"]]) / med([r["wall_ms"] for r in data[n]["scan_bare"]]) for n in scales}
print("| target (issue 19) | value | target | |")
print("|---|---:|---:|---|")
print(f"| scan time per socket at {hi:,} / at {lo:,} | {growth:.2f} | ≤ 1.2 | {verdict(growth <= 1.2)} |")
print(f"| scan without the /proc/net view at {hi:,} / netlink floor | {floor_noview:.2f} | ≤ 3 | {verdict(floor_noview <= 3)} |")
print(f"| scan (with the view) at {hi:,} / netlink floor | {floor:.2f} | none: reported (docs/detection.md, \"Costs\") | |")
print(f"| scan peak RSS per socket at {hi:,}, bytes | {rss:.0f} | ≤ 512 | {verdict(rss <= 512)} |")
for n in scales:
    # The issue's target is at 100k; at other sizes the share is reported. (Without rules a scan
    # asks the kernel for no tcp_info: the share includes the dump's cost of what they read.)
    if n == 100000:
        print(f"| scan with the default rules / without, {n:,} sockets | {rules[n]:.3f} | ≤ 1.10 | {verdict(rules[n] <= 1.10)} |")
    else:
        print(f"| scan with the default rules / without, {n:,} sockets | {rules[n]:.3f} | reported | |")
print()
PY
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)." | tee -a "$MD"
say "markdown: $MD; raw runs: $RAW"
