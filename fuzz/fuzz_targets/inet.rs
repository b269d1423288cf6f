//! inet_diag replies: one payload per protocol, the same bytes as a recorded dump, and the
//! tcp_info struct on its own. Every input must decode or be an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::inet::{decode_inet, decode_inet_dump, decode_tcp_info};
use sockwarden::model::Protocol;

const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Raw];

fuzz_target!(|data: &[u8]| {
    for p in PROTOCOLS {
        let _ = decode_inet(data, p);
    }
    let _ = decode_inet_dump(data, Protocol::Tcp);
    let _ = decode_inet_dump(data, Protocol::Udp);
    let _ = decode_tcp_info(data);
});
