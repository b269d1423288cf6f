//! Evidence text for every import format (`ss`, `netstat`, `lsof`, `lsof -F`, `/proc/net`
//! copies): parsed, or located problems, never a panic; strict and lenient alike. The first
//! byte picks the format, the file name (which tells tables and flags) and lenience.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::import::{Format, parse_text};

const NAMES: [&str; 6] = [
    "ss_-tuawx0npeimob.txt",
    "ss_-Htanp.txt",
    "netstat_-anpeo.txt",
    "lsof_-nPli.txt",
    "proc_net_tcp6.txt",
    "proc_net_unix.txt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let formats = [Format::Ss, Format::Netstat, Format::Lsof, Format::LsofF, Format::Procnet];
    let format = formats[usize::from(sel) % formats.len()];
    let name = NAMES[usize::from(sel >> 3) % NAMES.len()];
    let lenient = sel & 0x80 != 0;
    let _ = parse_text(name, &text, format, lenient);
    let _ = sockwarden::import::detect(name, &text);
});
