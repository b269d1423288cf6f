//! `sockwarden scan`: load rules, take or read a snapshot, evaluate, report, exit 0/1/2.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::history_cmd::{self, HistoryPath};
use super::{ExitStatus, Partial, report_warnings};
use crate::baseline::{Baseline, Compiled};
use crate::cli::ScanArgs;
use crate::collect::{CollectOptions, Promise, Want};
use crate::config::Settings;
use crate::engine;
use crate::output;
use crate::report;
pub use crate::rules::discover::{self, RuleInputs};
use crate::rules::{RuleSet, Severity};

/// Loads the rule set, or prints every problem and fails.
pub fn load_rules(inputs: &RuleInputs) -> Result<RuleSet> {
    discover::load(inputs).map_err(|e| {
        match &e {
            discover::LoadError::Invalid(diags) => {
                // Messages quote the files (ids, keys, list names): escaped for the terminal.
                for d in diags {
                    eprintln!("{}", crate::text::escape_str(&d.to_string()));
                }
            }
            discover::LoadError::Picks(errors) => {
                // Patterns come from the command line, the environment or the file: escaped.
                for p in errors {
                    eprintln!("{}", crate::text::escape_str(&p.to_string()));
                }
            }
            _ => {}
        }
        anyhow::anyhow!("{e}")
    })
}

/// Resolves the settings (flags over SOCKWARDEN_* over the configuration file over defaults),
/// then scans once or, with `--every`, forever.
pub fn scan(args: &ScanArgs, global: &crate::cli::Cli) -> Result<ExitStatus> {
    let settings = match resolve(args, global) {
        Ok(s) => s,
        // With --exit-bits, 2 means "gone": an error must not look like it.
        Err(e) if args.exit_bits => {
            eprintln!("sockwarden: error: {e:#}");
            return Ok(ExitStatus::Bits(32));
        }
        Err(e) => return Err(e),
    };
    if let Some(max) = settings.max_input_size.value.0 {
        crate::input::set_max(max);
    }
    let run = Run {
        args,
        settings: &settings,
        partial: Partial(settings.allow_partial.value),
    };
    if let Some(every) = args.every {
        repeat(&run, every);
    }
    if !args.exit_bits {
        return scan_inner(&run);
    }
    match scan_inner(&run) {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("sockwarden: error: {e:#}");
            Ok(ExitStatus::Bits(32))
        }
    }
}

/// `--every`: scans forever, one scan per period; each outcome goes to stderr, and an error
/// does not stop the next scan (a transient failure must not end a DaemonSet's monitoring).
fn repeat(run: &Run, every: std::time::Duration) -> ! {
    loop {
        let started = std::time::Instant::now();
        match scan_inner(run) {
            Ok(status) => eprintln!("sockwarden: scan done, exit status {}", status.code()),
            Err(e) => eprintln!("sockwarden: error: {e:#}"),
        }
        std::thread::sleep(every.saturating_sub(started.elapsed()));
    }
}

/// Where each report goes: `FORMAT=FILE` entries, and the --format report to a plain FILE or,
/// when none is given, to stdout. A `WORD=...` whose word is not a format is an error, not a
/// file named `xml=foo.xml`; a file whose name holds `=` can be given as `./a=b`. `parse` and
/// `names` are the command's format vocabulary (`scan` and `diff` have their own).
pub(super) fn targets<F: Copy>(
    outputs: &[String],
    main: F,
    parse: impl Fn(&str) -> Option<F>,
    names: &[&str],
) -> Result<Vec<(F, Option<PathBuf>)>> {
    let mut targets = Vec::new();
    let mut plain_file = false;
    for o in outputs {
        match o.split_once('=') {
            Some((f, p)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                let Some(format) = parse(f) else {
                    bail!(
                        "-o {o}: unknown format `{f}` (one of {}; write ./{o} for a file of that \
                         name)",
                        names.join(", ")
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

/// One scan's command line and resolved settings.
struct Run<'a> {
    args: &'a ScanArgs,
    settings: &'a Settings,
    partial: Partial,
}

/// The settings of this scan, or every problem of the configuration.
fn resolve(args: &ScanArgs, global: &crate::cli::Cli) -> Result<Settings> {
    let mut flags = args.flags(global.allow_partial, global.max_input_size);
    flags.history = global.history.clone();
    super::settings(flags, &args.config.choice())
}

fn scan_inner(run: &Run) -> Result<ExitStatus> {
    let (args, settings, partial) = (run.args, run.settings, run.partial);
    let started = std::time::Instant::now();
    let format = settings.format.value;
    let targets = targets(
        &settings.outputs.value.0,
        format,
        report::Format::parse,
        &report::Format::NAMES,
    )?;
    let history = HistoryPath::resolved(settings.history.value.clone());
    // A scan collects the extensions its rules read (docs/detection.md, "Costs"): the rules,
    // loading on their own thread, answer while the collection starts.
    // With the default pack alone, its needs are the guess until they do (a table dumped with
    // a guess that proves short is dumped again); rule files may read anything: the dump waits.
    let guess = (settings.default_rules.value && settings.rule_paths().is_empty())
        .then_some(crate::rules::DEFAULT_PACK_NEEDS);
    let (extensions, promise) = Want::later(guess);
    let source = history_cmd::source(args.from.as_deref(), &history, || CollectOptions {
        extensions: extensions.clone(),
        netns: settings.netns.value.clone(),
        owners_from: settings.owners_from.value,
        procnet_view: settings.procnet_view.value,
        procnet_udp_max: settings.procnet_udp_max.value.0,
        ..CollectOptions::full()
    })?;
    // Rules and baseline load on their own thread while the snapshot is taken: the two are
    // independent, and parsing the default pack (YAML with its examples) takes 10-20 ms, a third
    // of a 10k-socket scan. Their errors are still reported first, and alone.
    // So does `--record`'s reading of the history's open rows.
    // The rules that read no view are evaluated while the /proc/net view is still read, the
    // longest part of a live collection (`collect_timed_with`); the others after it. With
    // `--filter` they all wait for the restricted snapshot.
    let (loaded, recorder, snap) = std::thread::scope(|scope| {
        let loader = std::cell::Cell::new(Some(scope.spawn(|| load_inputs(settings, promise))));
        let loaded = std::cell::OnceCell::new();
        let join = || {
            loaded.get_or_init(|| {
                let h = loader.take().expect("the loader is joined once");
                h.join().expect("rule loading panicked")
            })
        };
        let recorder = args
            .record
            .then(|| scope.spawn(|| history_cmd::recorder(&history)));
        let snap = source.take_timed_with(|partial, reading| {
            let (rules, _) = join().as_ref().ok().filter(|_| args.filter.is_none())?;
            Some(evaluate_early(rules, partial, reading))
        });
        join();
        let recorder = recorder.map(|r| r.join().expect("history reading panicked"));
        (loaded.into_inner().expect("joined"), recorder, snap)
    });
    let (rules, baseline) = loaded?;
    let (mut snap, t_collect, early) = snap?;
    let early = early.flatten();
    partial.check(&snap, "the scan")?;
    let recorder = recorder.transpose()?;
    // The previous run, read before this scan's own run is recorded.
    let previous = if args.since_last {
        Some(history_cmd::previous(&history)?)
    } else {
        None
    };
    // The history keeps the whole snapshot: with `--filter` the run is written before the
    // snapshot is restricted; otherwise it is hashed on rayon's pool, then written while the
    // rules run there (neither changes the snapshot).
    let mut recorder = recorder;
    if args.filter.is_some()
        && let Some(r) = recorder.take()
    {
        history_cmd::record(r, &snap)?;
    }
    let filter = restrict(args.filter.as_deref(), &mut snap)?;
    let recording = recorder
        .map(|r| history_cmd::Recording::prepare(r, &snap))
        .transpose()?;
    let t0 = std::time::Instant::now();
    let (recorded, evaluation, t_engine) = std::thread::scope(|scope| {
        let recording = recording.map(|r| scope.spawn(|| r.write()));
        let (evaluation, t_early) = evaluate_rest(&rules, &snap, early);
        let t_engine = t0.elapsed() + t_early;
        let recorded = recording.map(|r| r.join().expect("recording panicked"));
        (recorded, evaluation, t_engine)
    });
    let engine::Evaluation {
        findings,
        undetermined: und,
    } = evaluation;
    recorded.transpose()?;
    let comparison = baseline
        .as_ref()
        .map(|(b, c)| crate::baseline::drift::compare(b, c, &snap));
    let t1 = std::time::Instant::now();
    let mut rep = report::build(&snap, &rules, &findings, comparison.as_ref());
    rep.coverage.filter = filter;
    undetermined(&rules, &snap, &und, partial, &mut rep)?;
    if let Some(prev) = previous {
        let b = baseline.as_ref();
        rep.since_last = Some(history_cmd::since_last(prev, &snap, &rules, b, &rep));
    }
    if source.is_live() {
        rep.duration_seconds = Some(started.elapsed().as_secs_f64());
    }
    let t_report = t1.elapsed();
    let t2 = std::time::Instant::now();
    write_reports(&targets, &rep, &rules, &snap)?;
    if std::env::var_os("SOCKWARDEN_TIMINGS").is_some() {
        // One line, read by ci/bench-scale.sh: the collection's phases, then the scan's own.
        eprintln!(
            "sockwarden: timings: {t_collect:?}, engine {t_engine:?} ({} rules, {} findings), \
             report {t_report:?}, write {:?}",
            rules.rules.len(),
            findings.len(),
            t2.elapsed()
        );
    }
    if source.is_live() && format != report::Format::Table {
        report_warnings(&snap);
    }
    if args.every.is_none() {
        // A one-off scan ends here: the kernel frees the snapshot faster. A repeating scan
        // drops it, or memory would grow by a snapshot per period.
        super::exit_without_freeing(snap);
    }
    Ok(exit_status(args.exit_bits, settings.fail_on.value, &rep))
}

/// The rules that read no cross-view field, on the snapshot before its /proc/net view is
/// compared (`collect_timed_with`), and the time they took. While the view is still `reading`,
/// on this thread alone: the pool's workers would take the core of that read, the critical
/// path. Once it is done, on every core.
fn evaluate_early(
    rules: &RuleSet,
    partial: &crate::model::Snapshot,
    reading: bool,
) -> (engine::Evaluation, std::time::Duration) {
    let t0 = std::time::Instant::now();
    let threads = match reading {
        true => engine::Threads::Caller,
        false => engine::Threads::Pool,
    };
    let early = engine::evaluate_some(rules, partial, &engine::view_picks(rules, false), threads);
    (early, t0.elapsed())
}

/// Every rule on the final snapshot: those [`evaluate_early`] left, merged with its evaluation,
/// or all of them; with the early evaluation's time.
fn evaluate_rest(
    rules: &RuleSet,
    snap: &crate::model::Snapshot,
    early: Option<(engine::Evaluation, std::time::Duration)>,
) -> (engine::Evaluation, std::time::Duration) {
    match early {
        Some((early, took)) => {
            let picks = engine::view_picks(rules, true);
            let late = engine::evaluate_some(rules, snap, &picks, engine::Threads::Pool);
            (early.merge(late, rules), took)
        }
        None => (engine::evaluate_all(rules, snap), std::time::Duration::ZERO),
    }
}

/// `--filter EXPR`: keeps the sockets the `ss` expression selects (an expression that does
/// not parse is an error, exit 2); returns the expression for the report's coverage, escaped.
fn restrict(expr: Option<&str>, snap: &mut crate::model::Snapshot) -> Result<Option<String>> {
    let Some(expr) = expr else {
        return Ok(None);
    };
    let f = crate::list::filter::compile(expr, &crate::list::filter::lookup::System)
        .map_err(|e| anyhow::anyhow!("--filter: {e}"))?;
    snap.sockets.retain(|s| f.eval(s));
    Ok(Some(crate::text::escape_str(expr)))
}

/// Rules that imported evidence leaves undecided (they test a field the evidence does not
/// give), or a cross-view rule whose views were not read: not a clean pass. Each is told on stderr; the scan fails closed (exit 2) unless
/// `--allow-partial`, and then the report's coverage lists each as `rule:ID`.
fn undetermined(
    rules: &RuleSet,
    snap: &crate::model::Snapshot,
    und: &[engine::Undetermined],
    partial: Partial,
    rep: &mut report::ScanReport,
) -> Result<()> {
    if und.is_empty() {
        return Ok(());
    }
    let mut gaps = Vec::new();
    for u in und {
        let gap = crate::model::Gap {
            scope: format!("rule:{}", rules.rules[u.rule].id()),
            reason: format!(
                "not decided for {} socket holder{}: {} {}",
                u.subjects,
                if u.subjects == 1 { "" } else { "s" },
                if snap.meta.evidence.is_some() {
                    "the evidence does not give"
                } else {
                    "the views these fields compare were not read (meta.views.missing):"
                },
                u.fields.join(", ")
            ),
        };
        eprintln!(
            "sockwarden: {}: {}",
            if partial.0 { "warning" } else { "error" },
            crate::text::escape_str(&gap.to_string())
        );
        gaps.push(gap);
    }
    if !partial.0 {
        let ids: Vec<&str> = und.iter().map(|u| rules.rules[u.rule].id()).collect();
        bail!(
            "{} rule{} could not be decided on this {} (docs/import.md, docs/detection.md); \
             nothing was reported{}. --allow-partial reports the rest and lists them as not \
             checked; --disable {} switches {} off",
            und.len(),
            if und.len() == 1 { "" } else { "s" },
            if snap.meta.evidence.is_some() {
                "evidence"
            } else {
                "snapshot"
            },
            views_missing(snap, und),
            ids.join(" --disable "),
            if ids.len() == 1 { "it" } else { "them" },
        );
    }
    rep.coverage.complete = false;
    rep.coverage.gaps.extend(gaps);
    rep.coverage
        .gaps
        .sort_by(|a, b| (&a.scope, &a.reason).cmp(&(&b.scope, &b.reason)));
    Ok(())
}

/// Why the views the undecided rules compare were not read (`meta.views.missing`), for the
/// error of a live scan: `. Why: the VIEW view: WHY` (the reason says how to read the view),
/// escaped.
fn views_missing(snap: &crate::model::Snapshot, und: &[engine::Undetermined]) -> String {
    use crate::model::View;
    let Some(views) = snap
        .meta
        .views
        .as_ref()
        .filter(|_| snap.meta.evidence.is_none())
    else {
        return String::new();
    };
    let wanted: std::collections::BTreeSet<View> = und
        .iter()
        .flat_map(|u| &u.fields)
        .flat_map(|f| match *f {
            "socket.hidden.procnet" | "socket.hidden.netlink" => {
                &[View::Procnet, View::Netlink][..]
            }
            "socket.hidden.fdwalk" => &[View::Fdwalk, View::Taskfiles][..],
            "process.hidden" => &[View::Taskfiles][..],
            _ => &[][..],
        })
        .copied()
        .collect();
    let why: Vec<String> = views
        .missing
        .iter()
        .filter(|(view, _)| wanted.contains(view))
        .map(|(view, why)| format!("the {} view: {}", view.name(), crate::text::escape_str(why)))
        .collect();
    if why.is_empty() {
        return String::new();
    }
    format!(". Why: {}", why.join("; "))
}

/// The rules, and the baseline when one is given (checked against its pin).
/// Loads the rules, answers `promise` with what they read, then loads the baseline.
fn load_inputs(
    settings: &Settings,
    promise: Promise,
) -> Result<(RuleSet, Option<(Baseline, Compiled)>)> {
    let rules = load_rules(&RuleInputs {
        defaults: settings.default_rules.value,
        paths: &settings.rule_paths(),
        lists: &settings.list_paths(),
        picks: &settings.picks(),
    })?;
    // Neither a baseline's drift nor any report format reads an extension: the rules decide.
    promise.fulfil(rules.needs());
    let baseline = settings
        .baseline
        .value
        .as_deref()
        .map(|p| super::baseline_cmd::load_baseline(p, settings.baseline_sha256.value.as_deref()))
        .transpose()?;
    Ok((rules, baseline))
}

/// Writes every requested format; the table is coloured only on a terminal, without NO_COLOR.
fn write_reports(
    targets: &[(report::Format, Option<PathBuf>)],
    rep: &report::ScanReport,
    rules: &RuleSet,
    snap: &crate::model::Snapshot,
) -> Result<()> {
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for (format, path) in targets {
        let text = report::render(*format, rep, rules, snap, color && path.is_none());
        // Metrics are read by node_exporter, another user, and hold ids and counts only.
        let readers = match format {
            report::Format::Prometheus => output::Readers::Everyone,
            _ => output::Readers::OwnerAndGroup,
        };
        output::emit_for(path.as_deref(), text.as_bytes(), readers).map_err(|e| match path {
            Some(p) => anyhow::anyhow!("cannot write {}: {e}", p.display()),
            None => anyhow::anyhow!("cannot write the report: {e}"),
        })?;
    }
    Ok(())
}

/// 1 with a finding at or above --fail-on, else 0; with --exit-bits, AIDE-style bits: 1 new,
/// 2 gone, 4 changed, 8 a rule finding at or above --fail-on. With --since-last, only findings
/// new since the previous run count.
fn exit_status(exit_bits: bool, fail_on: Severity, rep: &report::ScanReport) -> ExitStatus {
    use crate::baseline::Category::*;
    let counted = rep
        .findings
        .iter()
        .filter(|f| rep.since_last.as_ref().is_none_or(|s| s.is_new(&f.id)));
    if !exit_bits {
        let hit = counted.clone().any(|f| f.severity >= fail_on);
        return if hit {
            ExitStatus::Findings
        } else {
            ExitStatus::Ok
        };
    }
    let mut bits = 0u8;
    for f in counted {
        bits |= match f.category {
            Some(NewListener | NewOutbound | NewInbound) => 1,
            Some(ListenerGone) => 2,
            Some(ListenerRebound | ListenerOwnerChanged) => 4,
            None if f.severity >= fail_on => 8,
            None => 0,
        };
    }
    ExitStatus::Bits(bits)
}
