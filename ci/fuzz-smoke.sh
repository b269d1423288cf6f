#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets (fuzz/), replays every crash reproducer kept in
# tests/fixtures/fuzz/<target>/, then fuzzes each target for a few seconds from its committed
# seed corpus. Fails on any crash. Skips (exit 0) where the nightly toolchain or cargo-fuzz is
# missing; under CI=true it installs cargo-fuzz when nightly is there.
#
#   ci/fuzz-smoke.sh                   # every target, FUZZ_SECONDS=5 each
#   FUZZ_SECONDS=60 ci/fuzz-smoke.sh btf inet
#
# Long runs and how to read them: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-5}
skip() {
    echo "fuzz smoke skipped: $*"
    exit 0
}

command -v cargo >/dev/null 2>&1 || skip "cargo is not installed"
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain (rustup toolchain install nightly)"
if ! command -v cargo-fuzz >/dev/null 2>&1 && [ "${CI:-}" = true ]; then
    echo "fuzz smoke: installing cargo-fuzz"
    cargo install --debug cargo-fuzz --locked   # run once per CI: optimization buys nothing
fi
command -v cargo-fuzz >/dev/null 2>&1 || skip "cargo-fuzz is not installed (cargo install cargo-fuzz --locked)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

started=$SECONDS
cargo +nightly fuzz build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
for t in "${targets[@]}"; do
    log="$work/$t.log"
    # Crash reproducers: each file runs once. Names starting with "open-" are crashes that are
    # not fixed yet (see docs/fuzzing.md); they are listed, not run.
    regressions=()
    open=0
    if [ -d "tests/fixtures/fuzz/$t" ]; then
        for f in "tests/fixtures/fuzz/$t"/*; do
            [ -f "$f" ] || continue
            case "$(basename "$f")" in
            open-*) open=$((open + 1)) ;;
            *) regressions+=("$f") ;;
            esac
        done
    fi
    if [ ${#regressions[@]} -gt 0 ] &&
        ! cargo +nightly fuzz run "$t" "${regressions[@]}" -- -runs=1 >"$log" 2>&1; then
        echo "fuzz smoke: $t: a reproducer in tests/fixtures/fuzz/$t crashes again:"
        tail -n 40 "$log"
        failed+=("$t")
        continue
    fi
    # A few seconds of fuzzing from the committed seeds; new inputs go to a scratch directory,
    # never into fuzz/corpus.
    mkdir -p "$work/corpus-$t"
    dict=()
    [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
    if cargo +nightly fuzz run "$t" "$work/corpus-$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 "${dict[@]}" >>"$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1 || true)
        note=""
        [ "$open" -gt 0 ] && note=", $open open reproducers not run"
        echo "fuzz smoke: $t ok (${#regressions[@]} reproducers, ${runs:-no stats}$note)"
    else
        echo "fuzz smoke: $t: crash (the input is in fuzz/artifacts/$t/):"
        tail -n 60 "$log"
        failed+=("$t")
    fi
done
echo "fuzz smoke: ${#targets[@]} targets in $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz smoke FAILED: ${failed[*]}"
    exit 1
fi
