//! unix_diag replies: decode or error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::unix::decode_unix;

fuzz_target!(|data: &[u8]| {
    let _ = decode_unix(data);
});
