//! Evidence text for every import format (`ss`, `netstat`, `lsof`, `lsof -F`, `/proc/net`
//! copies): parsed, or located problems, never a panic; strict and lenient alike. The first
//! byte picks the format, the file name (which tells tables and flags) and lenience. What parses
//! is merged as three parts of a collection taken in turn (the cross-check of views).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::import::{Format, Part, merge_parts, parse_text};

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
    if let Ok(parsed) = parse_text(name, &text, format, lenient) {
        // The merge and the cross-check of parts (issue 17): the part as three views taken in
        // turn, so that each table view sits between the others.
        let part = |format, taken| Part {
            name: name.to_string(),
            format,
            parsed: parsed.clone(),
            taken: Some(taken),
        };
        let parts = vec![part(format, 0), part(Format::Ss, 1), part(Format::Procnet, 2)];
        let _ = merge_parts(parts);
    }
    let _ = sockwarden::import::detect(name, &text);
});
