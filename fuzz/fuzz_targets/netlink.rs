//! Netlink framing (every frame of the buffer) and the SK_MEMINFO attribute, on the whole
//! input and on each frame's payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::netlink::{decode_skmeminfo, frames};

fuzz_target!(|data: &[u8]| {
    let mut n = 0usize;
    for f in frames(data) {
        if let Ok(f) = f {
            let _ = decode_skmeminfo(f.payload);
        }
        n += 1;
        // Every frame consumes at least one byte (a header is 16), so a buffer can never
        // yield more frames than it has bytes: more would be a loop that never ends.
        assert!(n <= data.len(), "frames() yielded more items than bytes");
    }
    let _ = decode_skmeminfo(data);
});
