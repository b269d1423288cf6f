//! A list file's text, as a rule directory's list file and as a `--lists` override (only known
//! names): loaded or diagnostics, never a panic; then every list's items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::rules::lists::Lists;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lists = Lists::default();
    if lists.load("f.yaml", text, None).is_ok() {
        for n in lists.names() {
            let _ = lists.get(&n);
            let _ = lists.items(&n);
        }
    }
    let known = ["trusted_networks".to_string(), "ports".to_string()];
    let _ = Lists::default().load("o.yaml", text, Some(&known));
});
