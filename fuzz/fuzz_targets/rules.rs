//! A rule file's text, loaded with the default lists: a rule set or diagnostics, never a panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sockwarden::rules::{self, Source};

static LISTS: LazyLock<Vec<Source>> = LazyLock::new(|| rules::default_sources().1);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = Source {
        path: "r.yaml".into(),
        text: text.into(),
    };
    let _ = rules::load(&[src], &LISTS, &[], &[]);
});
