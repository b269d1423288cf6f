//! A baseline file's text: parsed and compiled, or diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sockwarden::baseline::parse("b.yaml", text);
});
