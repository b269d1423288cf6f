//! `sockwarden rules list | explain | fields | check | test`.

use std::fmt::Write;

use anyhow::{Result, bail};

use super::ExitStatus;
use super::scan::{RuleInputs, load_rules};
use crate::cli::{RuleSourceArgs, RulesCommand};
use crate::engine;
use crate::output;
use crate::rules::{RuleSet, fields};
use crate::text::escape_str;

pub fn run(cmd: &RulesCommand) -> Result<ExitStatus> {
    match cmd {
        RulesCommand::List(src) => {
            let rs = load(src)?;
            let mut out = String::new();
            for r in &rs.rules {
                let d = &r.doc;
                let _ = writeln!(
                    out,
                    "{:<12} {:<8} {:<12} {:<24} {}",
                    d.id,
                    d.severity.name(),
                    format!("{:?}", d.status).to_lowercase(),
                    d.tags.join(","),
                    escape_str(&d.title)
                );
            }
            let _ = writeln!(out, "{} rules", rs.rules.len());
            output::write_stdout(out.as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Explain { id, src } => {
            let rs = load(src)?;
            let Some(r) = rs.rules.iter().find(|r| r.id() == id) else {
                bail!("no rule with id `{id}` (see `sockwarden rules list`)");
            };
            let text = crate::rules::doc::render_markdown(r);
            output::write_stdout(text.as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Fields => {
            let mut out = String::new();
            for f in fields::all() {
                let ty = match f.ty {
                    fields::FieldType::Enum(v) => format!("enum({})", v.join("|")),
                    t => t.name().to_string(),
                };
                let _ = writeln!(out, "{:<28} {:<12} {}", f.name, ty, f.doc);
            }
            output::write_stdout(out.as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Docs { dir, check } => docs(dir, *check),
        RulesCommand::Check { paths } => {
            let rs = load_paths(paths)?;
            output::write_stdout(format!("{} rules OK\n", rs.rules.len()).as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Test { paths } => {
            let rs = load_paths(paths)?;
            let (report, failed) = test_examples(&rs);
            output::write_stdout(report.as_bytes())?;
            Ok(if failed > 0 {
                ExitStatus::Findings
            } else {
                ExitStatus::Ok
            })
        }
    }
}

fn load(src: &RuleSourceArgs) -> Result<RuleSet> {
    load_rules(&RuleInputs {
        defaults: !src.no_default_rules,
        paths: &src.rules,
        lists: &src.lists,
        disable: &[],
    })
}

/// Rules from the given paths only, with the default lists plus any lists in those paths.
fn load_paths(paths: &[std::path::PathBuf]) -> Result<RuleSet> {
    load_rules(&RuleInputs {
        defaults: false,
        paths,
        lists: &[],
        disable: &[],
    })
}

/// Runs each rule, alone, over each of its examples. Returns the report and the failure count.
pub fn test_examples(rs: &RuleSet) -> (String, usize) {
    let mut out = String::new();
    let mut failed = 0;
    let mut passed = 0;
    for (ri, rule) in rs.rules.iter().enumerate() {
        let single = RuleSet {
            rules: vec![rs.rules[ri].clone()],
            lists: rs.lists.clone(),
            disabled: Vec::new(),
        };
        let cases = rule
            .doc
            .examples
            .matches
            .iter()
            .map(|e| (true, e))
            .chain(rule.doc.examples.no_match.iter().map(|e| (false, e)));
        for (i, (want, ex)) in cases.enumerate() {
            let label = if want { "match" } else { "no_match" };
            let verdict = match ex.snapshot() {
                Err(e) => Err(format!("example does not build: {e}")),
                Ok(snap) => {
                    let got = !engine::evaluate(&single, &snap).is_empty();
                    if got == want {
                        Ok(())
                    } else if want {
                        Err("expected a finding, got none".to_string())
                    } else {
                        Err("expected no finding, got one".to_string())
                    }
                }
            };
            match verdict {
                Ok(()) => {
                    passed += 1;
                    let _ = writeln!(out, "ok   {} {label} #{i}", rule.id());
                }
                Err(e) => {
                    failed += 1;
                    let _ = writeln!(
                        out,
                        "FAIL {} {label} #{i}: {e} ({})",
                        rule.id(),
                        rule.source
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, failed)
}

/// Generates docs/rules from the default pack, or checks that it is current.
fn docs(dir: &std::path::Path, check: bool) -> Result<ExitStatus> {
    let rs = load(&RuleSourceArgs::default())?;
    let mut pages: Vec<(std::path::PathBuf, String)> = rs
        .rules
        .iter()
        .map(|r| {
            (
                dir.join(format!("{}.md", r.id())),
                crate::rules::doc::render_markdown(r),
            )
        })
        .collect();
    pages.push((dir.join("README.md"), crate::rules::doc::render_index(&rs)));
    if check {
        let stale: Vec<String> = pages
            .iter()
            .filter(|(p, text)| std::fs::read_to_string(p).ok().as_deref() != Some(text.as_str()))
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !stale.is_empty() {
            bail!(
                "rule docs are stale: {}; run `sockwarden rules docs {}`",
                stale.join(", "),
                dir.display()
            );
        }
        output::write_stdout(format!("{} rule pages are current\n", pages.len() - 1).as_bytes())?;
    } else {
        std::fs::create_dir_all(dir)?;
        for (p, text) in &pages {
            output::write_atomic(p, text.as_bytes())?;
        }
        output::write_stdout(
            format!("wrote {} pages to {}\n", pages.len(), dir.display()).as_bytes(),
        )?;
    }
    Ok(ExitStatus::Ok)
}
