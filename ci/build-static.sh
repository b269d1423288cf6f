#!/usr/bin/env bash
# Builds the fully static binary (x86_64 musl, release profile: fat LTO, one codegen unit) that
# the container image and the Debian package ship, and prints its path:
#
#   target/x86_64-unknown-linux-musl/release/sockwarden   (under CARGO_TARGET_DIR when set)
#
# Installs the rustup target when it is missing. No dependency compiles C code, so musl-tools
# (musl-gcc) is not needed; should one ever do, this script installs it with apt.
# Checks that the result is static: no program interpreter (PT_INTERP) and no DT_NEEDED library.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET" >&2
fi
# A C dependency (a build script invoking `cc`) would need musl-gcc.
if grep -q '^name = "cc"$' Cargo.lock && ! command -v musl-gcc >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >&2
fi
cargo build --release --locked --target "$TARGET" >&2
dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin=$dir/$TARGET/release/sockwarden
if readelf -lW "$bin" | grep -q 'INTERP' || readelf -dW "$bin" | grep -q '(NEEDED)'; then
    echo "build-static: $bin is not static:" >&2
    readelf -lW "$bin" | grep -A1 INTERP >&2 || true
    readelf -dW "$bin" | grep NEEDED >&2 || true
    exit 1
fi
echo "$bin"
