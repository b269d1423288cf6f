#!/usr/bin/env bash
# The history's costs (docs/PERFORMANCE.md, "History"): in a private network namespace holding
# SOCKETS TCP sockets (ci/nsload.py), the time of `snapshot` and of `snapshot --record` (first
# run, unchanged run, runs with CHURN sockets replaced), the database's growth per run and per
# changed socket, and the time to rebuild a run (`list --from @run:ID`); then `scan` against
# `scan --record` alternately on the same namespace (the recording's overhead); then the history
# extended to TOTAL runs by ci/history-synth.py (synthetic runs of CHURN sockets replaced, the
# shape a recorder writes: 2,000 runs is a week at five minutes) and the time to rebuild the
# oldest, middle and latest run and an `@TIME`, and of `history timeline` for one port. Needs
# root, a release build (BIN, default target/release/sockwarden), python3 and the sqlite3 shell
# (not installed by ci/deps.sh: no test needs them).
#
# usage: ci/bench-history.sh [SOCKETS [CHURN [RUNS [TOTAL]]]]    (defaults 100000 1000 5 2000)
# KEEP_DB=FILE keeps a copy of the history at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKETS=${1:-100000}
CHURN=${2:-1000}
RUNS=${3:-5}
TOTAL=${4:-2000}
BIN=${BIN:-target/release/sockwarden}
NS=swbench-hist-$$
WORK=$(mktemp -d)
DB=$WORK/history.db
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    if [ -n "${KEEP_DB:-}" ] && [ -f "$DB" ]; then cp "$DB" "$KEEP_DB"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
# Starts nsload.py with COUNT sockets; its pid goes to $loader.
start_load() {
    local fifo=$WORK/ready.$1.$RANDOM
    mkfifo "$fifo"
    python3 ci/nsload.py "$1" "$NS" >"$fifo" &
    loader=$!
    pids+=("$loader")
    read -r _ <"$fifo"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
sw() { ip netns exec "$NS" "$BIN" --history "$DB" "$@"; }
size() { stat -c %s "$DB"; }
# The pages of each b-tree (table or index) of the history, `name count` per line, and what a
# run changed: which b-trees grew by how many pages (SQLite's dbstat, in Debian's sqlite3).
pages() { sqlite3 "$DB" "SELECT name || ' ' || count(*) FROM dbstat GROUP BY name" | LC_ALL=C sort; }
# How full each b-tree's pages are: `name pages used%`.
fill() {
    sqlite3 "$DB" "SELECT name || ' ' || count(*) || ' ' ||
        (100 * sum(pgsize - unused) / sum(pgsize)) || '%' FROM dbstat GROUP BY name" |
        LC_ALL=C sort | paste -sd, | sed 's/,/, /g'
}
grown() {
    LC_ALL=C join -a1 -a2 -e0 -o 0,1.2,2.2 <(echo "$1") <(echo "$2") |
        awk '$3 != $2 { printf "%s%s %+d", sep, $1, $3 - $2; sep = ", " } END { print "" }'
}
timed() { local t0; t0=$(date +%s%N); "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }; ms "$t0"; }
# The recording's own share of a `--record` run, as the recorder reports it on stderr: the
# write after the snapshot, and the read of the open rows done while the snapshot was taken.
rec_ms() {
    local w a
    w=$(grep -o '; [0-9]* ms' "$WORK/err" | tr -dc '0-9')
    a=$(grep -o 'ahead in [0-9]* ms' "$WORK/err" | tr -dc '0-9')
    echo "$w ms after the snapshot${a:+, $a ms read ahead}"
}

# One loader holds at most 16,000 sockets (RLIMIT_NOFILE's hard limit may be 20,000).
left=$SOCKETS
while [ "$left" -gt 0 ]; do
    n=$(( left > 16000 ? 16000 : left ))
    start_load "$n"
    left=$(( left - n ))
done
start_load "$CHURN"
churner=$loader
echo "sockets: $SOCKETS + $CHURN churning, machine: $(nproc) cores, $(uname -r), $(date -u +%FT%TZ)"
echo "snapshot (no record): $(timed sw snapshot -o /dev/null) ms, $(timed sw snapshot -o /dev/null) ms"
t=$(timed sw snapshot --record)
echo "record run 1 (all new): $t ms (recording $(rec_ms)), db $(size) bytes"
echo "  b-trees (pages, filled): $(fill)"
s0=$(size)
t=$(timed sw snapshot --record)
echo "record run 2 (unchanged): $t ms (recording $(rec_ms)), db +$(( $(size) - s0 )) bytes"
for i in $(seq 1 "$RUNS"); do
    kill "$churner"; wait "$churner" 2>/dev/null || true
    start_load "$CHURN"
    churner=$loader
    s0=$(size)
    p0=$(pages)
    t=$(timed sw snapshot --record)
    grow=$(( $(size) - s0 ))
    # What changed, as the recorder counted it: more than the churner's sockets (killing it
    # leaves its connections' ends in TIME-WAIT, each a new version, ended a minute later).
    changed=$(grep -o 'sockets [0-9]*/[0-9]*' "$WORK/err" | tr -dc '0-9/' | tr / +)
    echo "record churn run $i ($CHURN sockets replaced): $t ms (recording $(rec_ms))," \
        "db +$grow bytes, socket versions opened+ended $changed:" \
        "$(( grow / ($changed) )) bytes per changed socket version (holdings included)"
    echo "  pages grown: $(grown "$p0" "$(pages)")"
done
echo "  b-trees (pages, filled): $(fill)"
# The WAL is checkpointed when the last connection closes; the size above is the main file.
echo "rebuild @run:1: $(timed sw list --from @run:1 -tan) ms; @now: $(timed sw list --from @now -tan) ms"
echo "list live: $(timed sw list -tan) ms"
sqlite3 "$DB" "SELECT 'rows: socket_versions ' || (SELECT count(*) FROM socket_versions) ||
  ', holdings ' || (SELECT count(*) FROM holdings) || ', runs ' || (SELECT count(*) FROM runs)"

# The recording's overhead: scan and scan --record alternately on the unchanged namespace (the
# churner stays put now), five of each.
for i in 1 2 3 4 5; do
    a=$(timed sw scan --no-config --format json -o /dev/null)
    b=$(timed sw scan --no-config --record --format json -o /dev/null)
    echo "scan $a ms, scan --record $b ms (recording $(rec_ms))"
done

# A week of runs: extend the history with synthetic ones, then read it.
python3 ci/history-synth.py "$DB" "$TOTAL" "$CHURN"
echo "db after $TOTAL runs: $(size) bytes"
mid=$(( TOTAL / 2 ))
at=$(sqlite3 "$DB" "SELECT started_at FROM runs WHERE id = $(( TOTAL * 3 / 4 ))")
for what in @run:1 "@run:$mid" "@$at" @now; do
    echo "rebuild $what: $(timed sw list --from "$what" -tan) ms"
done
# A replaced connection's ephemeral port (its peer's remote port): one port, either end.
churned=$(sqlite3 "$DB" "SELECT remote_port FROM socket_versions WHERE first_run = $mid
  AND state = 'established' AND remote_port NOT IN
  (SELECT local_port FROM socket_versions WHERE state = 'listen') LIMIT 1")
listen=$(sqlite3 "$DB" "SELECT local_port FROM socket_versions WHERE state = 'listen' LIMIT 1")
echo "timeline port=$churned (a replaced connection's port): $(timed sw history timeline "port=$churned" --json) ms," \
    "$(sw history timeline "port=$churned" --json |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))') versions"
echo "timeline lport=$listen state=listen: $(timed sw history timeline "lport=$listen" state=listen) ms"
echo "timeline port=$listen (the listener and every connection to it, first 1,000):" \
    "$(timed sw history timeline "port=$listen" --json) ms"
sqlite3 "$DB" "SELECT 'rows: socket_versions ' || (SELECT count(*) FROM socket_versions) ||
  ', holdings ' || (SELECT count(*) FROM holdings) || ', runs ' || (SELECT count(*) FROM runs)"
