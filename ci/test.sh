#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test (unit, decoder fixtures, live
# network-namespace tests, the differential test against ss, live scan scenarios). Live tests
# need root; under CI=true they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
# The engine benchmark's smoke run (the benchmark itself: ci/bench.sh or cargo bench).
cargo test --benches --locked
# The static musl binary the container and static-build tests use (about 4 minutes of fat LTO
# on 2 cores the first time; cargo's cache makes it a no-op when nothing changed).
bash ci/build-static.sh
# The Debian package from the static musl build (tests/it/package.rs installs it; a missing
# package fails the test under CI=true).
bash packaging/deb/build.sh
cargo test --workspace --locked --lib --bins --tests
# Fuzz smoke (nightly only; says "fuzz smoke skipped: ..." without it): every target built,
# every crash reproducer replayed, 5 s of fuzzing each (docs/fuzzing.md has the long runs).
bash ci/fuzz-smoke.sh
