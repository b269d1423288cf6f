//! `sockwarden scan`: load rules, take or read a snapshot, evaluate, report, exit 0/1/2.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{ExitStatus, Partial, load_snapshot, report_warnings};
use crate::cli::ScanArgs;
use crate::collect::{self, CollectOptions};
use crate::engine;
use crate::output;
use crate::report;
use crate::rules::{self, RuleSet, Source};

/// Rule and list sources from the command line.
pub struct RuleInputs<'a> {
    pub defaults: bool,
    pub paths: &'a [PathBuf],
    pub lists: &'a [PathBuf],
    pub disable: &'a [String],
}

/// Loads the rule set, or prints every problem and fails.
pub fn load_rules(inputs: &RuleInputs) -> Result<RuleSet> {
    let (mut rule_srcs, mut list_srcs) = rules::default_sources();
    if !inputs.defaults {
        rule_srcs.clear();
    }
    for p in inputs.paths {
        let (r, l) = read_rule_path(p)?;
        rule_srcs.extend(r);
        list_srcs.extend(l);
    }
    let mut overrides = Vec::new();
    for p in inputs.lists {
        overrides.push(read_source(p)?);
    }
    match rules::load(&rule_srcs, &list_srcs, &overrides, inputs.disable) {
        Ok(rs) => {
            for id in inputs.disable {
                if !rs.disabled.contains(id) {
                    let ids = rs.rules.iter().map(|r| r.doc.id.as_str());
                    let hint = crate::rules::fields::closest(id, ids)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    bail!("--disable {id}: no rule has that id{hint}");
                }
            }
            Ok(rs)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            bail!(
                "{} problem{} in the rules; nothing was scanned",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" }
            )
        }
    }
}

fn read_source(p: &Path) -> Result<Source> {
    let text = crate::input::read_text(p, crate::input::Kind::Document)?;
    Ok(Source {
        path: p.display().to_string(),
        text,
    })
}

/// A rule file, or a directory searched recursively for *.yaml/*.yml, following links (a link
/// loop is an error; a file reached twice through links is read once). Files under a `lists/`
/// directory directly inside the directory given are list files (the layout of the built-in
/// pack, docs/rules-language.md); every other file is a rule file, whatever its path holds.
/// Sorted, so the load order never depends on the filesystem.
pub fn read_rule_path(p: &Path) -> Result<(Vec<Source>, Vec<Source>)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    if !meta.is_dir() {
        return Ok((vec![read_source(p)?], Vec::new()));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(p)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| match e.loop_ancestor() {
            Some(a) => anyhow::anyhow!(
                "{}: a symbolic link loop (back to {}) in the rule directory",
                e.path()
                    .map_or_else(|| p.display().to_string(), |x| x.display().to_string()),
                a.display()
            ),
            None => anyhow::anyhow!("{}: {e}", p.display()),
        })?;
        let is_yaml = entry
            .path()
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml");
        if !entry.file_type().is_file() || !is_yaml {
            continue;
        }
        let m = entry
            .metadata()
            .map_err(|e| anyhow::anyhow!("{}: {e}", entry.path().display()))?;
        if seen.insert((m.dev(), m.ino())) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    let lists_dir = p.join("lists");
    let mut rules = Vec::new();
    let mut lists = Vec::new();
    for f in files {
        let s = read_source(&f)?;
        if f.starts_with(&lists_dir) {
            lists.push(s);
        } else {
            rules.push(s);
        }
    }
    Ok((rules, lists))
}

pub fn scan(args: &ScanArgs, partial: Partial) -> Result<ExitStatus> {
    if !args.exit_bits {
        return scan_inner(args, partial);
    }
    // With --exit-bits, 2 means "gone": an error must not look like it.
    match scan_inner(args, partial) {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("sockwarden: error: {e:#}");
            Ok(ExitStatus::Bits(32))
        }
    }
}

/// Where each report goes: `FORMAT=FILE` entries, and the --format report to a plain FILE or,
/// when none is given, to stdout. A `WORD=...` whose word is not a format is an error, not a
/// file named `xml=foo.xml`; a file whose name holds `=` can be given as `./a=b`.
fn targets(
    args: &ScanArgs,
    main: report::Format,
) -> Result<Vec<(report::Format, Option<PathBuf>)>> {
    let mut targets = Vec::new();
    let mut plain_file = false;
    for o in &args.output {
        match o.split_once('=') {
            Some((f, p)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                let Some(format) = report::Format::parse(f) else {
                    bail!(
                        "-o {o}: unknown format `{f}` (one of {}; write ./{o} for a file of that \
                         name)",
                        report::Format::NAMES.join(", ")
                    );
                };
                if p.is_empty() {
                    bail!("-o {o}: no file named after `{f}=`");
                }
                targets.push((format, Some(PathBuf::from(p))));
            }
            _ => {
                plain_file = true;
                targets.push((main, Some(PathBuf::from(o))));
            }
        }
    }
    if !plain_file {
        targets.push((main, None));
    }
    Ok(targets)
}

fn scan_inner(args: &ScanArgs, partial: Partial) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let main = args.format;
    let targets = targets(args, main)?;
    let fail_on = args.fail_on;
    // Rules and baseline load on their own thread while the snapshot is taken: the two are
    // independent, and parsing the default pack (YAML with its examples) takes 10-20 ms, a third
    // of a 10k-socket scan. Their errors are still reported first, and alone.
    let (loaded, snap) = std::thread::scope(|scope| {
        let loader = scope.spawn(|| -> Result<_> {
            let rules = load_rules(&RuleInputs {
                defaults: !args.sources.no_default_rules,
                paths: &args.sources.rules,
                lists: &args.sources.lists,
                disable: &args.disable,
            })?;
            let baseline = args
                .baseline
                .as_deref()
                .map(|p| super::baseline_cmd::load_baseline(p, args.baseline_sha256.as_deref()))
                .transpose()?;
            Ok((rules, baseline))
        });
        let snap = match &args.from {
            Some(p) => load_snapshot(p),
            None => Ok(collect::collect(&CollectOptions {
                netns: args.ns.select(),
                ..CollectOptions::full()
            })),
        };
        (loader.join().expect("rule loading panicked"), snap)
    });
    let (rules, baseline) = loaded?;
    let snap = snap?;
    partial.check(&snap, "the scan")?;
    let t0 = std::time::Instant::now();
    let findings = engine::evaluate(&rules, &snap);
    let t_engine = t0.elapsed();
    let comparison = baseline
        .as_ref()
        .map(|(b, c)| crate::baseline::drift::compare(b, c, &snap));
    let mut rep = report::build(&snap, &rules, &findings, comparison.as_ref());
    if args.from.is_none() {
        rep.duration_seconds = Some(started.elapsed().as_secs_f64());
    }
    if std::env::var_os("SOCKWARDEN_TIMINGS").is_some() {
        eprintln!(
            "sockwarden: timings: engine {t_engine:?} ({} rules, {} findings)",
            rules.rules.len(),
            findings.len()
        );
    }
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for (format, path) in &targets {
        let text = report::render(*format, &rep, &rules, color && path.is_none());
        output::emit(path.as_deref(), text.as_bytes()).map_err(|e| match path {
            Some(p) => anyhow::anyhow!("cannot write {}: {e}", p.display()),
            None => anyhow::anyhow!("cannot write the report: {e}"),
        })?;
    }
    if args.from.is_none() && args.format != report::Format::Table {
        report_warnings(&snap);
    }
    super::exit_without_freeing(snap);
    let hit = rep.findings.iter().any(|f| f.severity >= fail_on);
    if args.exit_bits {
        use crate::baseline::Category::*;
        let mut bits = 0u8;
        for f in &rep.findings {
            bits |= match f.category {
                Some(NewListener | NewOutbound | NewInbound) => 1,
                Some(ListenerGone) => 2,
                Some(ListenerRebound | ListenerOwnerChanged) => 4,
                None if f.severity >= fail_on => 8,
                None => 0,
            };
        }
        return Ok(ExitStatus::Bits(bits));
    }
    Ok(if hit {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
