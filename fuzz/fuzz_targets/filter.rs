//! `ss`-style filter words: the whole input as `list` trailing words (state words, then an
//! expression), tokenized, parsed for both table kinds, and through `Selection::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::list::{ListOptions, Selection, filter};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<String> = text.split_whitespace().map(String::from).collect();
    let tokens = filter::tokenize(&words);
    let _ = filter::parse(&tokens, false);
    let _ = filter::parse(&tokens, true);
    // The first byte picks the table flags, as different `ss` flag sets would.
    let b = data.first().copied().unwrap_or(0);
    let opts = ListOptions {
        tcp: b & 1 != 0,
        udp: b & 2 != 0,
        unix: b & 4 != 0,
        packet: b & 8 != 0,
        listening: b & 16 != 0,
        all: b & 32 != 0,
        ipv4: b & 64 != 0,
        ipv6: b & 128 != 0,
        words,
        ..ListOptions::default()
    };
    let _ = Selection::parse(&opts);
});
