//! A saved snapshot through the whole `scan --from` path: parse, evaluate the default rule set,
//! build the report and render it as JSON and as the HTML page. Hostile snapshots must be an
//! error or a report.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sockwarden::rules::{self, RuleSet};
use sockwarden::{app, engine, report};

static RULES: LazyLock<RuleSet> = LazyLock::new(|| {
    let (r, l) = rules::default_sources();
    rules::load(&r, &l, &[], &[]).expect("the default rule set loads")
});

fuzz_target!(|data: &[u8]| {
    let Ok(snap) = app::parse_snapshot(data, "s.json") else {
        return;
    };
    let findings = engine::evaluate(&RULES, &snap);
    let rep = report::build(&snap, &RULES, &findings, None);
    let _ = report::render(report::Format::Json, &rep, &RULES, &snap, false);
    let _ = report::render(report::Format::Html, &rep, &RULES, &snap, false);
});
