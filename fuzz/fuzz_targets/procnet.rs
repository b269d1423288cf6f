//! /proc/net/raw and raw6 text, for both families: parsed or counted as bad, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::procnet::parse_raw_table;
use sockwarden::model::Family;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for family in [Family::Inet, Family::Inet6] {
        let _ = parse_raw_table(&text, family);
    }
});
