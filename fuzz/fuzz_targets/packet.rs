//! packet_diag replies and the classic BPF program attribute: decode or error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::packet::{decode_bpf, decode_packet};

fuzz_target!(|data: &[u8]| {
    let _ = decode_packet(data);
    let _ = decode_bpf(data);
});
