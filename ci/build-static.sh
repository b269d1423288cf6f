#!/usr/bin/env bash
# Builds the fully static binary (x86_64 musl, release profile: fat LTO, one codegen unit) that
# the container image and the Debian package ship, and prints its path:
#
#   target/x86_64-unknown-linux-musl/release/sockwarden   (under CARGO_TARGET_DIR when set)
#
# Installs the rustup target when it is missing, and musl-tools (musl-gcc) when a dependency
# compiles C code (mimalloc and rusqlite's bundled SQLite do).
# Checks that the result is static: no program interpreter (PT_INTERP) and no DT_NEEDED library,
# and that memcpy/memmove are crates/fastcopy's, not musl's.
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
# crates/fastcopy must replace musl's memcpy and memmove: musl's memmove.o is the only user of
# its memcpy.o's __memcpy_fwd, so that symbol in the binary means musl's copies were linked.
symbols=$(nm "$bin")
if grep -q ' __memcpy_fwd$' <<<"$symbols" || ! grep -q ' T memcpy$' <<<"$symbols"; then
    echo "build-static: $bin does not copy memory through crates/fastcopy" >&2
    exit 1
fi
echo "$bin"
