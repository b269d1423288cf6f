//! A list file's text: loaded or a diagnostic, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::rules::lists::Lists;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lists = Lists::default();
    if lists.load("f.yaml", text).is_ok() {
        let names: Vec<String> = lists.names().map(String::from).collect();
        for n in names {
            let _ = lists.get(&n);
        }
    }
});
