#!/usr/bin/env bash
# ci/bench-import.sh - how fast `sockwarden import` reads a large `ss -tanp` capture (issue 17).
#
# Writes a synthetic 100,000-line `ss -tanp` capture (a header, then listeners and established
# connections over 1,000 owning processes, in ss 6.1's column layout with users:(...)), then
# measures `sockwarden import FILE` (the snapshot to stdout, discarded) with hyperfine (median of RUNS runs after one
# warmup) and once with /usr/bin/time for the peak RSS. The target is under 1 s.
#
# usage: ci/bench-import.sh        env: LINES=100000 RUNS=10 SOCKWARDEN=path OUT=target/bench
# No root needed. Without SOCKWARDEN, `cargo build --release` is run first.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-100000}
RUNS=${RUNS:-10}
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
if [ -z "${SOCKWARDEN:-}" ]; then
  cargo build --release --quiet
  SOCKWARDEN="${CARGO_TARGET_DIR:-target}/release/sockwarden"
fi
CAPTURE="$OUT/ss_-tanp.txt"   # the name tells import the table (-t)
python3 - "$CAPTURE" "$LINES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("State      Recv-Q Send-Q        Local Address:Port          Peer Address:Port  Process\n")
    for i in range(n):
        pid = 1000 + i % 1000
        fd = 3 + i // 1000
        if i % 50 == 0:
            f.write(f"LISTEN     0      4096           10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:{1024 + i % 60000:<5}            0.0.0.0:*      users:((\"svc-{pid}\",pid={pid},fd={fd}))\n")
        else:
            f.write(f"ESTAB      0      0              10.0.{i >> 8 & 255}.{i & 255}:{1024 + i % 60000:<5}      203.0.113.{i % 250 + 1}:{443 + i % 7:<5} users:((\"cli-{pid}\",pid={pid},fd={fd}))\n")
PY
echo "capture: $CAPTURE ($(wc -l < "$CAPTURE") lines, $(du -h "$CAPTURE" | cut -f1))"
hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$OUT/bench-import.md" \
  "$SOCKWARDEN import $CAPTURE"
/usr/bin/time -f "peak RSS %M KiB, %e s" "$SOCKWARDEN" import "$CAPTURE" > /dev/null
