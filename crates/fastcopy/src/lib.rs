//! `memcpy` and `memmove` for sockwarden's static musl build.
//!
//! Why this crate exists: musl's x86_64 `memcpy` is `rep movsq` wrapped in byte loops, which is
//! slow for the small copies a program makes most. Rust code calls `memcpy` for every copy
//! whose length is not a compile-time constant (a name into a buffer, a formatted number, a
//! `Vec` that grows, a struct moved by a sort), so no change in sockwarden's own code reaches
//! them all. Measured on 2026-12-06 at 100k sockets (shared/bench, `snapshot --no-processes`,
//! 2-vCPU Xeon VM): 3.6 million `memcpy` calls, 75% of them under 16 bytes; `memcpy` took 31%
//! of the static build's CPU samples against 12% for glibc's in the dynamic build, and the
//! static build was 1.4-1.5x slower than the glibc one (docs/PERFORMANCE.md). No maintained
//! crate provides a replacement for a hosted target (compiler_builtins' `mem` feature is for
//! targets without a C library and needs a nightly `build-std`), hence these two functions.
//!
//! With the `export` feature (enabled only for `target_env = "musl"` in sockwarden's
//! Cargo.toml) they are defined under their C names. A static link resolves `memcpy` and
//! `memmove` to these definitions before it reaches `libc.a`, so musl's `memcpy.o` and
//! `memmove.o` are never pulled in (musl's `memmove` is the only user of `memcpy.o`'s
//! `__memcpy_fwd`; `ci/build-static.sh` checks that symbol is absent from the binary).
//!
//! How it copies (both functions allow overlapping blocks; `memcpy` is `memmove`):
//! - up to 64 bytes: two or four loads that together cover the block (they may overlap each
//!   other), then as many stores: every load happens before any store, so the blocks may overlap;
//! - larger blocks: 32-byte chunks with unaligned 16-byte SSE2 loads and stores (SSE2 is part of
//!   the x86_64 baseline), forwards when the destination starts before the source or the blocks
//!   are apart, backwards otherwise; the chunk at the far end is loaded before the loop starts,
//!   so a partial last chunk is one overlapping store;
//! - from 2 KiB, apart blocks go through `rep movsb`, which CPUs with ERMSB (Intel since Ivy
//!   Bridge, AMD since Zen 3) run at their fastest.
//!
//! `#![no_builtins]` keeps LLVM from recognising the copy loops as a `memcpy` and calling it,
//! which here would be this function calling itself.
#![no_std]
#![no_builtins]
#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::__m128i;
use core::ptr::{read_unaligned as load, write_unaligned as store};

/// 16 bytes, moved by one unaligned SSE2 load (`movdqu`) or store.
type V = __m128i;

/// From this size, blocks that do not overlap are copied with `rep movsb`.
const REP_MOVSB_MIN: usize = 2048;

/// Copies `len` bytes from `src` to `dest` and returns `dest`.
///
/// # Safety
///
/// C's `memcpy` contract: `src` is valid for reads and `dest` for writes of `len` bytes. The
/// blocks may overlap (this is [`memmove`]).
#[cfg_attr(feature = "export", unsafe(no_mangle))]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, len: usize) -> *mut u8 {
    // SAFETY: the caller's contract is `copy`'s.
    unsafe { copy(dest, src, len) };
    dest
}

/// Copies `len` bytes from `src` to `dest`, which may overlap, and returns `dest`.
///
/// # Safety
///
/// C's `memmove` contract: `src` is valid for reads and `dest` for writes of `len` bytes.
#[cfg_attr(feature = "export", unsafe(no_mangle))]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, len: usize) -> *mut u8 {
    // SAFETY: the caller's contract is `copy`'s.
    unsafe { copy(dest, src, len) };
    dest
}

/// # Safety
///
/// `s` valid for reads and `d` for writes of `n` bytes; the blocks may overlap.
#[inline(always)]
unsafe fn copy(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY (all three): forwarded contract.
    unsafe {
        if n <= 16 {
            small(d, s, n);
        } else if n <= 64 {
            medium(d, s, n);
        } else {
            large(d, s, n);
        }
    }
}

/// 0 to 16 bytes.
///
/// # Safety
///
/// As [`copy`], with `n <= 16`. Every offset read or written is below `n`.
#[inline(always)]
unsafe fn small(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: each access is within the first `n` bytes of its block (for n >= 8, offsets 0
    // and n - 8 with 8-byte accesses; for 4 <= n < 8, 0 and n - 4 with 4-byte ones; for
    // 1 <= n < 4, single bytes at 0, n / 2 and n - 1); unaligned accesses are used throughout.
    unsafe {
        if n >= 8 {
            let (a, b) = (load(s.cast::<u64>()), load(s.add(n - 8).cast::<u64>()));
            store(d.cast::<u64>(), a);
            store(d.add(n - 8).cast::<u64>(), b);
        } else if n >= 4 {
            let (a, b) = (load(s.cast::<u32>()), load(s.add(n - 4).cast::<u32>()));
            store(d.cast::<u32>(), a);
            store(d.add(n - 4).cast::<u32>(), b);
        } else if n > 0 {
            let (a, b, c) = (s.read(), s.add(n / 2).read(), s.add(n - 1).read());
            d.write(a);
            d.add(n / 2).write(b);
            d.add(n - 1).write(c);
        }
    }
}

/// 17 to 64 bytes.
///
/// # Safety
///
/// As [`copy`], with `16 < n <= 64`.
#[inline(always)]
unsafe fn medium(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: 16-byte accesses at offsets 0 and n - 16 (and 16 and n - 32 when n > 32), all
    // within the first `n` bytes since n > 16 (n > 32); all loads precede all stores.
    unsafe {
        if n <= 32 {
            let (a, b) = (load(s.cast::<V>()), load(s.add(n - 16).cast::<V>()));
            store(d.cast::<V>(), a);
            store(d.add(n - 16).cast::<V>(), b);
        } else {
            let (a, b) = (load(s.cast::<V>()), load(s.add(16).cast::<V>()));
            let (c, e) = (
                load(s.add(n - 32).cast::<V>()),
                load(s.add(n - 16).cast::<V>()),
            );
            store(d.cast::<V>(), a);
            store(d.add(16).cast::<V>(), b);
            store(d.add(n - 32).cast::<V>(), c);
            store(d.add(n - 16).cast::<V>(), e);
        }
    }
}

/// More than 64 bytes: chooses the direction that never overwrites source bytes not yet read.
///
/// # Safety
///
/// As [`copy`], with `n > 64`.
#[inline(always)]
unsafe fn large(d: *mut u8, s: *const u8, n: usize) {
    // d - s, wrapping: below n exactly when d lies inside the source block (s <= d < s + n),
    // the one case a forward copy would overwrite bytes it has yet to read.
    let ahead = (d as usize).wrapping_sub(s as usize);
    let behind = (s as usize).wrapping_sub(d as usize);
    // SAFETY (all three): forwarded contract; `rep_movsb` only for blocks that do not overlap.
    unsafe {
        if ahead < n {
            backward(d, s, n);
        } else if n >= REP_MOVSB_MIN && behind >= n {
            rep_movsb(d, s, n);
        } else {
            forward(d, s, n);
        }
    }
}

/// Front to back, 32 bytes at a time; the last 32 bytes are loaded first and stored last.
///
/// # Safety
///
/// As [`copy`], with `n > 32` and `d` not inside the source block (`d < s` or `d >= s + n`):
/// a store to `d[i..i + 32]` then ends at or below `s + i + 32`, never past bytes still unread.
#[inline(always)]
unsafe fn forward(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: offsets i, i + 16 < n - 16 in the loop and n - 32, n - 16 for the tail are all
    // within the blocks (n > 32); the ordering argument is in the contract above.
    unsafe {
        let (ta, tb) = (
            load(s.add(n - 32).cast::<V>()),
            load(s.add(n - 16).cast::<V>()),
        );
        let mut i = 0;
        while i + 32 < n {
            let (a, b) = (load(s.add(i).cast::<V>()), load(s.add(i + 16).cast::<V>()));
            store(d.add(i).cast::<V>(), a);
            store(d.add(i + 16).cast::<V>(), b);
            i += 32;
        }
        store(d.add(n - 32).cast::<V>(), ta);
        store(d.add(n - 16).cast::<V>(), tb);
    }
}

/// Back to front, 32 bytes at a time; the first 32 bytes are loaded first and stored last.
///
/// # Safety
///
/// As [`copy`], with `n > 32` and `s <= d`: a store to `d[e - 32..e]` then starts at or above
/// `s + e - 32`, never below it where the bytes still unread are.
#[inline(always)]
unsafe fn backward(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: in the loop e > 32, so offsets e - 32 and e - 16 are in 0..n - 16; the head's
    // offsets 0 and 16 are within the blocks (n > 32); ordering as in the contract above.
    unsafe {
        let (ha, hb) = (load(s.cast::<V>()), load(s.add(16).cast::<V>()));
        let mut e = n;
        while e > 32 {
            let (a, b) = (
                load(s.add(e - 32).cast::<V>()),
                load(s.add(e - 16).cast::<V>()),
            );
            store(d.add(e - 32).cast::<V>(), a);
            store(d.add(e - 16).cast::<V>(), b);
            e -= 32;
        }
        store(d.cast::<V>(), ha);
        store(d.add(16).cast::<V>(), hb);
    }
}

/// `rep movsb`: the CPU's string copy.
///
/// # Safety
///
/// As [`copy`], and the blocks must not overlap.
#[inline(always)]
unsafe fn rep_movsb(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: `rep movsb` copies rcx bytes from [rsi] to [rdi] upwards (the direction flag is
    // clear on entry to any function, by the System V ABI), exactly the `n` bytes the caller
    // vouches for; it touches no stack and no flags the compiler relies on.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") d => _,
            inout("rsi") s => _,
            options(nostack, preserves_flags)
        );
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::{memcpy, memmove};

    /// Bytes that differ at every position (a copy off by one shows).
    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Every length to 600 and a few large ones, every source and destination misalignment
    /// 0..16, checked against the slice copy, with guard bytes around the destination.
    #[test]
    fn memcpy_copies_every_length_and_alignment() {
        let lens = (0..=600).chain([1023, 1024, 2047, 2048, 2049, 4096, 10_000, 65_537]);
        for n in lens {
            let src = pattern(n + 16, 7);
            for so in 0..16 {
                for d_off in [0, 1, 3, 7, 8, 15] {
                    let mut dst = std::vec![0xAAu8; n + 48];
                    let at = 16 + d_off;
                    // SAFETY: src has n + 16 > so + n bytes; dst has n + 48 > at + n bytes.
                    let r = unsafe { memcpy(dst.as_mut_ptr().add(at), src.as_ptr().add(so), n) };
                    assert_eq!(r, dst[at..].as_mut_ptr(), "returns dest");
                    assert_eq!(
                        &dst[at..at + n],
                        &src[so..so + n],
                        "n={n} so={so} do={d_off}"
                    );
                    assert!(dst[..at].iter().all(|&b| b == 0xAA), "wrote before, n={n}");
                    assert!(
                        dst[at + n..].iter().all(|&b| b == 0xAA),
                        "wrote after, n={n}"
                    );
                }
            }
        }
    }

    /// Overlapping blocks in both directions at every distance up to 300 bytes (and one large
    /// block), checked against `copy_within`.
    #[test]
    fn memmove_handles_every_overlap() {
        let base = pattern(20_000, 3);
        let lens = [
            0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129,
            200, 255, 256, 511, 2048, 3000, 9000,
        ];
        for n in lens {
            for shift in -300i64..=300 {
                let from = 5000usize;
                let to = (from as i64 + shift) as usize;
                let mut want = base.clone();
                want.copy_within(from..from + n, to);
                let mut got = base.clone();
                let p = got.as_mut_ptr();
                // SAFETY: from + n and to + n are below 20,000: both blocks lie inside `got`.
                unsafe { memmove(p.add(to), p.add(from), n) };
                assert!(got == want, "n={n} shift={shift}");
                // memcpy is memmove here, and callers (musl itself) may rely on it.
                let mut got = base.clone();
                let p = got.as_mut_ptr();
                // SAFETY: as above.
                unsafe { memcpy(p.add(to), p.add(from), n) };
                assert!(got == want, "memcpy n={n} shift={shift}");
            }
        }
    }
}
