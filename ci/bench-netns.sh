#!/usr/bin/env bash
# ci/bench-netns.sh - `snapshot --all-netns` at 100 namespaces of 100 sockets each, against one
# namespace of 10k sockets, and against the C floor (ci/nsfloor.c: one dump per table per
# namespace, no parsing). Needs root, gcc and hyperfine. Prints a markdown table.
# env: NS=100 PER=100 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${NS:-100}; PER=${PER:-100}; RUNS=${RUNS:-5}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }
work=$(mktemp -d)
names=()
cleanup() {
    [ -n "${load:-}" ] && kill "$load" 2>/dev/null && wait "$load" 2>/dev/null || true
    [ -n "${big:-}" ] && kill "$big" 2>/dev/null && wait "$big" 2>/dev/null || true
    for n in "${names[@]}" swbn-big; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
gcc -O2 -o "$work/nsfloor" ci/nsfloor.c
cargo build --release -q
SW=${SOCKWARDEN:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sockwarden}
for i in $(seq 1 "$NS"); do
    n=swbn-$i; names+=("$n"); ip netns add "$n"; ip -n "$n" link set lo up
done
python3 ci/nsload.py "$PER" "${names[@]}" > "$work/ready" &
load=$!
until grep -q READY "$work/ready" 2>/dev/null; do sleep 0.2; done
paths=(/proc/self/ns/net); for n in "${names[@]}"; do paths+=("/run/netns/$n"); done
echo "### --all-netns: $NS namespaces x $PER sockets ($(date -Is), $(nproc) CPUs, $(uname -r))"
echo
"$work/nsfloor" "${paths[@]}"
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$work/multi.md" \
    -n "floor: nsfloor (C), $((NS + 1)) namespaces" "$work/nsfloor ${paths[*]}" \
    -n "sockwarden snapshot --all-netns --no-processes --no-extensions" "$SW snapshot --all-netns --no-processes --no-extensions -o /dev/null" \
    -n "sockwarden snapshot --all-netns" "$SW snapshot --all-netns -o /dev/null" >&2
cat "$work/multi.md"
kill "$load"; wait "$load" 2>/dev/null || true; load=""
for n in "${names[@]}"; do ip netns del "$n"; done; names=()
ip netns add swbn-big; ip -n swbn-big link set lo up
python3 ci/nsload.py "$((NS * PER))" swbn-big > "$work/ready2" &
big=$!
until grep -q READY "$work/ready2" 2>/dev/null; do sleep 0.2; done
echo
echo "### one namespace x $((NS * PER)) sockets"
echo
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$work/single.md" \
    -n "floor: nsfloor (C), 1 namespace" "$work/nsfloor /run/netns/swbn-big" \
    -n "sockwarden snapshot --netns swbn-big --no-processes --no-extensions" "$SW snapshot --netns swbn-big --no-processes --no-extensions -o /dev/null" \
    -n "sockwarden snapshot --netns swbn-big" "$SW snapshot --netns swbn-big -o /dev/null" >&2
cat "$work/single.md"
