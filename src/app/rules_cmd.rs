//! `sockwarden rules list | explain | fields | check | test | new | docs`.

use std::fmt::Write;

use anyhow::{Result, bail};

use super::ExitStatus;
use super::scan::{RuleInputs, load_rules};
use crate::cli::{EffectiveArgs, RulesCommand};
use crate::engine;
use crate::output;
use crate::rules::select::{Action, Pick};
use crate::rules::{Origin, Rule, RuleSet, fields};
use crate::text::escape_str;

pub fn run(cmd: &RulesCommand) -> Result<ExitStatus> {
    match cmd {
        RulesCommand::List(args) => list(args),
        RulesCommand::Explain { id, args } => explain(id, args),
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
        RulesCommand::New { id } => {
            output::write_stdout(new_rule(id)?.as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Check {
            paths,
            over_defaults,
        } => {
            let rs = load_paths(paths, *over_defaults)?;
            let n = rs.rules.len() + rs.disabled.len();
            output::write_stdout(format!("{n} rules OK\n").as_bytes())?;
            Ok(ExitStatus::Ok)
        }
        RulesCommand::Test {
            paths,
            over_defaults,
        } => {
            let rs = load_paths(paths, *over_defaults)?;
            let only_layered = *over_defaults;
            let (report, failed) = test_examples(&rs, |r| !only_layered || !is_built_in(r));
            output::write_stdout(report.as_bytes())?;
            Ok(if failed > 0 {
                ExitStatus::Findings
            } else {
                ExitStatus::Ok
            })
        }
    }
}

/// `rules new ID`: a rule file (src/app/rule_template.yaml) that loads and passes its examples
/// as it is, for the author to change; its first line points editors at the rule schema.
fn new_rule(id: &str) -> Result<String> {
    if !crate::rules::valid_id(id) {
        bail!(
            "rule id `{}` must be upper-case letters, digits and dashes",
            escape_str(id)
        );
    }
    Ok(include_str!("rule_template.yaml")
        .replace("{SCHEMA}", &crate::schema::SchemaName::Rule.id())
        .replace("{ID}", id))
}

/// `rules list`: one line per rule; with --effective every rule, on or off, and what changed it.
fn list(args: &EffectiveArgs) -> Result<ExitStatus> {
    let rs = load(args)?;
    let mut out = String::new();
    let shown: Vec<&Rule> = if args.effective {
        let mut all: Vec<&Rule> = rs.rules.iter().chain(&rs.disabled).collect();
        all.sort_by(|a, b| a.id().cmp(b.id()));
        all
    } else {
        rs.rules.iter().collect()
    };
    for r in &shown {
        let d = &r.doc;
        let _ = write!(
            out,
            "{:<12} {:<8} {:<12} {:<24} {}",
            d.id,
            d.severity.name(),
            format!("{:?}", d.status).to_lowercase(),
            escape_str(&d.tags.join(",")),
            escape_str(&d.title)
        );
        if args.effective {
            let _ = write!(out, "  [{}]", if d.enabled { "on" } else { "off" });
            for l in &r.origins.layers {
                let _ = write!(out, " [overridden by {}]", escape_str(&l.path));
            }
            if let o @ Origin::Pick(_) = &r.origins.enabled {
                let _ = write!(out, " [{}]", escape_str(&r.locate(o)));
            }
        }
        out.push('\n');
    }
    if args.effective {
        let _ = writeln!(
            out,
            "{} rules, {} on, {} off",
            shown.len(),
            rs.rules.len(),
            rs.disabled.len()
        );
    } else {
        let _ = writeln!(out, "{} rules", rs.rules.len());
    }
    output::write_stdout(out.as_bytes())?;
    Ok(ExitStatus::Ok)
}

/// `rules explain ID`: the rule's page, then each part in force with where it was set.
fn explain(id: &str, args: &EffectiveArgs) -> Result<ExitStatus> {
    let rs = load(args)?;
    let all = || rs.rules.iter().chain(&rs.disabled);
    let Some(r) = all().find(|r| r.id() == id) else {
        let hint = fields::closest(id, all().map(Rule::id))
            .map(|h| format!("; did you mean `{h}`?"))
            .unwrap_or_default();
        bail!("no rule with id `{id}` (see `sockwarden rules list`){hint}");
    };
    let mut text = crate::rules::doc::render_markdown(r);
    text.push_str(&origins(r));
    output::write_stdout(text.as_bytes())?;
    Ok(ExitStatus::Ok)
}

/// The "In force" section of `rules explain`: every part with its origin, then the text of each
/// override applied.
fn origins(r: &Rule) -> String {
    let o = &r.origins;
    let d = &r.doc;
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "enabled".into(),
            d.enabled.to_string(),
            r.locate(&o.enabled),
        ),
        (
            "severity".into(),
            d.severity.name().into(),
            r.locate(&o.severity),
        ),
        ("condition".into(), "below".into(), r.locate(&o.when)),
    ];
    for (t, at) in d.tags.iter().zip(&o.tags) {
        let name = crate::rules::attack::name(t)
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        rows.push(("tag".into(), format!("{t}{name}"), r.locate(at)));
    }
    for (i, at) in o.exceptions.iter().enumerate() {
        rows.push((format!("exception {}", i + 1), "below".into(), r.locate(at)));
    }
    let mut out = String::from(
        "\n## In force\n\nEach part of the rule as `scan` evaluates it, and where it was set:\n\n",
    );
    out.push_str("| part | value | set at |\n|---|---|---|\n");
    for (part, value, at) in rows {
        let _ = writeln!(
            out,
            "| {part} | {} | `{}` |",
            escape_str(&value).replace('|', "\\|"),
            escape_str(&at)
        );
    }
    let parts = std::iter::once(("Condition".to_string(), &o.when)).chain(
        o.exceptions
            .iter()
            .enumerate()
            .map(|(i, at)| (format!("Exception {}", i + 1), at)),
    );
    for (title, at) in parts {
        if let Some(x) = r.excerpt(at) {
            let _ = writeln!(
                out,
                "\n### {title} ({})\n\n```yaml\n{}\n```",
                escape_str(&r.locate(at)),
                fenced(&x)
            );
        }
    }
    for l in &o.layers {
        let _ = writeln!(
            out,
            "\n### Override {}\n\n```yaml\n{}\n```",
            escape_str(&l.path),
            fenced(l.text.trim_end())
        );
    }
    out
}

/// YAML for a terminal: each line escaped (a rule file is input, and may hold control
/// characters), line breaks kept.
fn fenced(text: &str) -> String {
    text.lines().map(escape_str).collect::<Vec<_>>().join("\n")
}

/// Whether a rule and every layer that changed it come from the built-in pack.
fn is_built_in(r: &Rule) -> bool {
    let embedded = |p: &str| crate::rules::embedded::FILES.iter().any(|(f, _)| *f == p);
    embedded(&r.source) && r.origins.layers.iter().all(|l| embedded(&l.path))
}

fn load(args: &EffectiveArgs) -> Result<RuleSet> {
    let src = &args.src;
    if !args.effective {
        let picks = switches(&args.switches);
        return load_rules(&RuleInputs {
            defaults: !src.no_default_rules,
            paths: &src.rules,
            lists: &src.lists,
            picks: &picks,
        });
    }
    let some = |v: &[std::path::PathBuf]| (!v.is_empty()).then(|| v.to_vec());
    let some_s = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    let flags = crate::config::Flags {
        default_rules: src.no_default_rules.then_some(false),
        rules: some(&src.rules),
        lists: some(&src.lists),
        disable: some_s(&args.switches.disable),
        enable: some_s(&args.switches.enable),
        ..crate::config::Flags::default()
    };
    let settings = super::settings(flags, &args.config.choice())?;
    load_rules(&RuleInputs {
        defaults: settings.default_rules.value,
        paths: &settings.rule_paths(),
        lists: &settings.list_paths(),
        picks: &settings.picks(),
    })
}

/// `--disable`/`--enable` from the command line.
pub(super) fn switches(s: &crate::cli::SwitchArgs) -> Vec<Pick> {
    let picks = |action, v: &[String]| {
        v.iter()
            .map(move |p| Pick {
                action,
                pattern: p.clone(),
                from: "command line".into(),
            })
            .collect::<Vec<_>>()
    };
    let mut out = picks(Action::Disable, &s.disable);
    out.extend(picks(Action::Enable, &s.enable));
    out
}

/// Rules from the given paths, with the default lists plus any lists in those paths; with
/// `over_defaults`, over the built-in pack.
fn load_paths(paths: &[std::path::PathBuf], over_defaults: bool) -> Result<RuleSet> {
    load_rules(&RuleInputs {
        defaults: over_defaults,
        paths,
        lists: &[],
        picks: &[],
    })
}

/// Runs each rule, alone, over each of its examples, for each variant of the rule the example
/// must hold for ([`Rule::example_runs`]); rules switched off are tested too. Only rules that
/// `wanted` accepts are run. Returns the report and the failure count.
pub fn test_examples(rs: &RuleSet, wanted: impl Fn(&Rule) -> bool) -> (String, usize) {
    let mut out = String::new();
    let mut failed = 0;
    let mut passed = 0;
    let last_variant = |r: &Rule| r.origins.earlier.len();
    for rule in rs.rules.iter().chain(&rs.disabled).filter(|r| wanted(r)) {
        for run in rule.example_runs() {
            let label = if run.want { "match" } else { "no_match" };
            for &v in &run.variants {
                let single = RuleSet {
                    rules: vec![rule.variant(v)],
                    lists: rs.lists.clone(),
                    disabled: Vec::new(),
                };
                let against = if v == last_variant(rule) && v > 0 {
                    " against the effective rule"
                } else if v < last_variant(rule) {
                    " against the rule before later overrides"
                } else {
                    ""
                };
                let verdict = verdict(&single, run.example, run.want);
                // An override's examples name their file: `no_match #0` alone is the rule's own.
                let i = if run.file == rule.source {
                    run.index.to_string()
                } else {
                    format!("{} of {}", run.index, escape_str(run.file))
                };
                match verdict {
                    Ok(()) => {
                        passed += 1;
                        let _ = writeln!(out, "ok   {} {label} #{i}{against}", rule.id());
                    }
                    Err(e) => {
                        failed += 1;
                        let _ = writeln!(
                            out,
                            "FAIL {} {label} #{i}{against}: {e} ({})",
                            rule.id(),
                            run.file
                        );
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, failed)
}

/// Whether the one-rule set matches the example as wanted.
fn verdict(
    single: &RuleSet,
    ex: &crate::rules::examples::ExampleDoc,
    want: bool,
) -> Result<(), String> {
    let snap = ex
        .snapshot()
        .map_err(|e| format!("example does not build: {e}"))?;
    let got = !engine::evaluate(single, &snap).is_empty();
    match (got, want) {
        (g, w) if g == w => Ok(()),
        (_, true) => Err("expected a finding, got none".into()),
        (_, false) => Err("expected no finding, got one".into()),
    }
}

/// Generates docs/rules from the default pack, or checks that it is current.
fn docs(dir: &std::path::Path, check: bool) -> Result<ExitStatus> {
    let rs = load(&EffectiveArgs::default())?;
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
