//! netlink_diag replies: decode or error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::nldiag::decode_netlink;

fuzz_target!(|data: &[u8]| {
    let _ = decode_netlink(data);
});
