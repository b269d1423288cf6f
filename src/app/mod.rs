//! Runs one command and returns its exit status. The exit status is a contract:
//! 0 ok (no findings), 1 findings or differences, 2 error.

mod baseline_cmd;
mod history_cmd;
mod rules_cmd;
mod scan;
mod ss_live;
mod watch;

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, ListArgs, SnapshotArgs};
use crate::collect::CollectOptions;
use crate::list::{self, Selection};
use crate::model::Snapshot;
use crate::output;
use crate::schema::SchemaName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How a run ended, as the process exit status (a contract for automation).
pub enum ExitStatus {
    /// 0: nothing at or above `--fail-on`, no difference.
    Ok,
    /// 1: findings at or above `--fail-on`, or differences.
    Findings,
    /// 2: an error, including a scope that could not be read.
    Error,
    /// `scan --exit-bits`: 1 new, 2 gone, 4 changed, 8 rule finding; 32 an error.
    Bits(u8),
}

impl ExitStatus {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
            ExitStatus::Bits(b) => i32::from(b),
        }
    }
}

/// Runs the command `cli` names and returns how it ended.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    fix_mmap_threshold();
    // `scan` resolves these with its configuration file and environment.
    if let Command::Scan(args) = &cli.command {
        return scan::scan(args, &cli);
    }
    if let Some(max) = cli.max_input_size {
        crate::input::set_max(max);
    }
    let partial = Partial(cli.allow_partial);
    let history = history_cmd::HistoryPath::from_flag(cli.history.as_deref());
    match cli.command {
        Command::Snapshot(args) => snapshot(&args, partial, &history),
        Command::List(args) => list_cmd(&args, partial, &history),
        Command::Import(args) => import_cmd(&args),
        Command::Scan(_) => unreachable!("handled above"),
        Command::Config(cmd) => config_cmd(&cmd),
        Command::Rules(cmd) => rules_cmd::run(&cmd),
        Command::Baseline(cmd) => baseline_cmd::run(&cmd, partial, &history),
        Command::Diff(args) => baseline_cmd::diff(&args, partial, &history),
        Command::History(cmd) => history_cmd::run(&cmd, &history),
        Command::Watch(args) => watch::watch(&args),
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man_pages(&dir),
        Command::Schema { name, write } => schema_cmd(name, write.as_deref()),
    }
}

/// `--allow-partial`: whether a snapshot with gaps may be used.
#[derive(Debug, Clone, Copy)]
pub struct Partial(pub bool);

impl Partial {
    /// Fails closed: a snapshot that misses a scope it was asked to cover is an error naming
    /// each missing scope, unless `--allow-partial` was given (then each is a warning on stderr,
    /// and the report's coverage section lists them).
    pub fn check(self, snap: &Snapshot, name: &str) -> Result<()> {
        if snap.gaps.is_empty() {
            return Ok(());
        }
        for g in &snap.gaps {
            eprintln!(
                "sockwarden: {}: {name} could not read {}",
                if self.0 { "warning" } else { "error" },
                crate::text::escape_str(&g.to_string())
            );
        }
        if self.0 {
            return Ok(());
        }
        anyhow::bail!(
            "{name} is incomplete ({} scope{} could not be read); nothing was reported. \
             --allow-partial reports what was read and lists what is missing",
            snap.gaps.len(),
            if snap.gaps.len() == 1 { "" } else { "s" }
        )
    }
}

fn snapshot(
    args: &SnapshotArgs,
    partial: Partial,
    history: &history_cmd::HistoryPath,
) -> Result<ExitStatus> {
    let mut opts = CollectOptions::full();
    opts.attribution = !args.no_processes;
    opts.owners_from = args.owners.source();
    if args.no_extensions {
        opts.extensions = crate::collect::Want::now(crate::model::Extensions::NONE);
    }
    opts.procnet_view = !args.no_procnet_view;
    if let Some(cap) = args.procnet_udp_max {
        opts.procnet_udp_max = cap.0;
    }
    opts.netns = args.ns.select();
    // The history's open rows are read while the snapshot is taken.
    let (recorder, taken) = std::thread::scope(|scope| {
        let recorder = args
            .record
            .then(|| scope.spawn(|| history_cmd::recorder(history)));
        let taken = Source::Live(opts).take_timed();
        let recorder = recorder.map(|r| r.join().expect("history reading panicked"));
        (recorder, taken)
    });
    let (snap, timings) = taken?;
    partial.check(&snap, "the snapshot")?;
    if let Some(recorder) = recorder.transpose()? {
        history_cmd::record(recorder, &snap)?;
    }
    let w0 = std::time::Instant::now();
    // With --record, the JSON goes only where -o says: a timer's stdout stays quiet.
    if !args.record || args.output.is_some() {
        output::emit_with(args.output.as_deref(), |w| snap.write_json(w, args.pretty))
            .with_context(|| match &args.output {
                Some(p) => format!("cannot write {}", p.display()),
                None => "cannot write to stdout".into(),
            })?;
    }
    if std::env::var_os("SOCKWARDEN_TIMINGS").is_some() {
        eprintln!("sockwarden: timings: {timings:?}, json {:?}", w0.elapsed());
    }
    report_warnings(&snap);
    exit_without_freeing(snap);
    Ok(ExitStatus::Ok)
}

/// `sockwarden import`: the evidence as a snapshot. What it could not see is recorded in the
/// snapshot (gaps, `meta.evidence.unknown`) and told on stderr; the commands that read the
/// snapshot decide, as for any snapshot with gaps.
fn import_cmd(args: &crate::cli::ImportArgs) -> Result<ExitStatus> {
    let opts = crate::import::Options {
        format: args.format,
        lenient: args.lenient,
    };
    let snap = crate::import::import(&args.paths, &opts)?;
    output::emit_with(args.output.as_deref(), |w| snap.write_json(w, args.pretty)).with_context(
        || match &args.output {
            Some(p) => format!("cannot write {}", p.display()),
            None => "cannot write to stdout".into(),
        },
    )?;
    let ev = snap.meta.evidence.as_ref();
    let parts = ev.map_or(0, |e| e.parts.len());
    eprintln!(
        "sockwarden: imported {} sockets and {} processes from {parts} part{}",
        snap.sockets.len(),
        snap.processes.len(),
        if parts == 1 { "" } else { "s" }
    );
    for g in &snap.gaps {
        eprintln!(
            "sockwarden: note: not in the evidence: {}",
            crate::text::escape_str(&g.to_string())
        );
    }
    report_warnings(&snap);
    Ok(ExitStatus::Ok)
}

/// Prints the completion script for `shell`, generated from the clap definitions.
fn completions(shell: clap_complete::Shell) -> Result<ExitStatus> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "sockwarden", &mut out);
    output::write_stdout(&out)?;
    Ok(ExitStatus::Ok)
}

/// `sockwarden schema`: one schema on stdout, every schema into a directory, or the list of
/// names with their URLs.
fn schema_cmd(name: Option<SchemaName>, write: Option<&Path>) -> Result<ExitStatus> {
    if let Some(dir) = write {
        let files = crate::schema::write_all(dir)
            .with_context(|| format!("cannot write the schemas into {}", dir.display()))?;
        eprintln!("sockwarden: {} schemas in {}", files.len(), dir.display());
        return Ok(ExitStatus::Ok);
    }
    let text = match name {
        Some(n) => n.text(),
        None => SchemaName::ALL
            .iter()
            .map(|n| format!("{:<10} {}\n", n.name(), n.id()))
            .collect(),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitStatus::Ok)
}

/// Writes one manual page per command (`sockwarden.1`, `sockwarden-scan.1`,
/// `sockwarden-rules-list.1`, ...), generated from the clap definitions, each atomically.
fn man_pages(dir: &std::path::Path) -> Result<ExitStatus> {
    fn write(cmd: clap::Command, dir: &std::path::Path, n: &mut usize) -> Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            write(sub, dir, n)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let path = dir.join(man.get_filename());
        let mut page = Vec::new();
        man.render(&mut page)?;
        output::write_atomic(&path, &page)
            .with_context(|| format!("cannot write {}", path.display()))?;
        *n += 1;
        Ok(())
    }
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    let mut n = 0;
    write(cmd, dir, &mut n)?;
    eprintln!("sockwarden: {n} manual pages in {}", dir.display());
    Ok(ExitStatus::Ok)
}

/// Pins glibc's mmap threshold at its default, 128 KiB.
///
/// glibc raises the threshold to the size of any mmapped block that is freed (up to 32 MiB), after
/// which blocks below it come from the heap, where freed memory stays resident. A snapshot frees a
/// few large temporaries early (the 5.5 MB kernel BTF, the BPF iterator's records), so every later
/// buffer below that size stayed resident: at 100k sockets peak RSS was 97 MB with the dynamic
/// threshold and 82 MB with a fixed one, in the same wall time (8 alternating runs each,
/// 2026-11-28). Setting the threshold also turns the adjustment off (mallopt(3)).
#[allow(unsafe_code)]
fn fix_mmap_threshold() {
    // SAFETY: mallopt takes two integers and only changes allocator tuning; it is thread-safe
    // and valid at any time. No Rust crate wraps it (nix, rustix: no). The return value (1 ok,
    // 0 error) is ignored on purpose: a failure leaves glibc's defaults, which are correct.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Hands a snapshot to the end of the process instead of freeing it: the command is done with it,
/// and freeing 100k sockets (their strings, boxes and owner lists) one by one took ~30 ms of a
/// ~500 ms snapshot, on one thread, after the output was complete. The kernel reclaims the memory
/// when the process exits, a few microseconds later.
fn exit_without_freeing<T>(value: T) {
    std::mem::forget(value);
}

fn list_cmd(
    args: &ListArgs,
    partial: Partial,
    history: &history_cmd::HistoryPath,
) -> Result<ExitStatus> {
    let mut opts = args.options();
    if !opts.numeric && !opts.json {
        // As ss without -n: ports print as their /etc/services names.
        opts.services = Some(std::sync::Arc::new(
            list::filter::lookup::ServiceNames::system(),
        ));
    }
    // With --netns, device names and the port range are the namespace's, as with `ss -N`.
    let sel = match (&args.ns.netns, &args.from) {
        (Some(spec), None) => match crate::collect::netns::resolve(spec, Path::new("/proc")) {
            Ok(path) => Selection::parse_with(&opts, &list::filter::lookup::InNetns { path })?,
            // A namespace that cannot be found is the collection's to report: a gap naming it
            // (exit 2 unless --allow-partial), as for every other command.
            Err(_) => Selection::parse(&opts)?,
        },
        _ => Selection::parse(&opts)?,
    };
    for note in &sel.notes {
        eprintln!("sockwarden: note: {note}");
    }
    if opts.summary {
        // As ss: the summary first; alone (no table flag, no filter words), only the summary.
        let stat = summary_stat(args)?;
        output::write_stdout(list::render_summary(&stat).as_bytes())?;
        if sel.defaults && opts.words.is_empty() {
            return Ok(ExitStatus::Ok);
        }
    }
    if let Some(why) = sel.nothing {
        // ss prints this and exits 0 without listing anything.
        eprintln!("sockwarden: {why}");
        return Ok(ExitStatus::Ok);
    }
    if opts.events {
        ss_live::follow_events(args, &sel, &opts)?;
        return Ok(ExitStatus::Ok);
    }
    let source = history_cmd::source(args.from.as_deref(), history, || {
        let mut c = CollectOptions::full();
        c.tables = sel.tables;
        c.ipv4 = sel.ipv4;
        c.ipv6 = sel.ipv6;
        c.tcp_states = sel.states;
        // `-i` and `-m` show everything the kernel sends, as ss does.
        if !(opts.info || opts.memory) {
            c.extensions = crate::collect::Want::now(crate::model::Extensions::NONE);
        }
        c.attribution = opts.processes;
        c.owners_from = args.owners.source();
        c.netns = args.ns.select();
        // A listing shows what `ss` shows: no second view, no re-check.
        c.crossview = false;
        c
    })?;
    let snap = source.take()?;
    partial.check(&snap, "the listing")?;
    let mut selected: Vec<_> = snap.sockets.iter().filter(|s| sel.matches(s)).collect();
    if opts.kill {
        selected = ss_live::kill_selected(args, &selected)?;
    }
    let text = if opts.json {
        list::render_json(&snap, &selected)
    } else {
        list_lookups(&mut opts, &selected, source.is_live());
        list::ss_order(&mut selected);
        list::render_table(&snap, &selected, &opts)
    };
    output::write_stdout(text.as_bytes())?;
    if source.is_live() {
        report_warnings(&snap);
    }
    exit_without_freeing(snap);
    Ok(ExitStatus::Ok)
}

/// The names `list` prints that come from the system, looked up once for the selected sockets:
/// host names with `-r`, and with `-e` the cgroup paths of a live listing (a saved snapshot's
/// cgroup ids are another moment's, perhaps another host's: they print as unreachable).
fn list_lookups(opts: &mut list::ListOptions, selected: &[&crate::model::Socket], live: bool) {
    use list::filter::lookup::{CgroupPaths, HostNames};
    if opts.resolve {
        let addrs = list::host_addresses(selected);
        opts.hosts = Some(std::sync::Arc::new(HostNames::resolve(addrs)));
    }
    let has_cgroup = selected.iter().any(|s| s.cgroup_id.is_some_and(|i| i != 0));
    if (opts.extended || opts.show_cgroup) && live && has_cgroup {
        opts.cgroups = Some(std::sync::Arc::new(CgroupPaths::system()));
    }
}

/// `list -s`'s counters, from the namespace `list` reads (the live system only).
fn summary_stat(args: &ListArgs) -> Result<crate::collect::sockstat::SockStat> {
    use crate::collect::sockstat::SockStat;
    if args.from.is_some() {
        anyhow::bail!("-s reads the live system's counters: it cannot be used with --from");
    }
    if args.ns.all_netns {
        anyhow::bail!("-s reads one namespace's counters: use --netns NS, not --all-netns");
    }
    let Some(spec) = &args.ns.netns else {
        return Ok(SockStat::read()?);
    };
    let path = crate::collect::netns::resolve(spec, Path::new("/proc"))
        .map_err(|e| anyhow::anyhow!("--netns {spec}: {e}"))?;
    Ok(crate::collect::netns::run_in(&path, SockStat::read)
        .map_err(|e| anyhow::anyhow!("--netns {spec}: {e}"))??)
}

/// Tells the user on stderr what the snapshot could not see (escaped: a saved snapshot's
/// warnings are whatever its file says).
fn report_warnings(snap: &Snapshot) {
    use crate::text::escape_str;
    for w in &snap.warnings {
        let pids = if w.pids.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = w.pids.iter().take(20).map(u32::to_string).collect();
            format!(
                "; pids {}{}",
                shown.join(", "),
                if w.pids.len() > 20 { ", ..." } else { "" }
            )
        };
        eprintln!(
            "sockwarden: warning: {} ({}: {}{pids})",
            escape_str(&w.message),
            escape_str(&w.code),
            w.count
        );
    }
}

use crate::source::Source;
pub use crate::source::{load_snapshot, parse_snapshot};

/// The settings from `flags`, this process's SOCKWARDEN_* environment and the configuration
/// file; every problem of the file is printed, located, before the error.
fn settings(
    flags: crate::config::Flags,
    choice: &crate::config::ConfigChoice,
) -> Result<crate::config::Settings> {
    let vars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())));
    crate::config::Settings::resolve(flags, vars, choice).map_err(|e| {
        if let crate::config::ConfigError::Invalid(diags) = &e {
            for d in diags {
                eprintln!("{}", crate::text::escape_str(&d.to_string()));
            }
        }
        anyhow::Error::new(e)
    })
}

/// `sockwarden config show`: the settings `scan` would use, with their origins.
fn config_cmd(cmd: &crate::cli::ConfigCommand) -> Result<ExitStatus> {
    let crate::cli::ConfigCommand::Show { config, json } = cmd;
    let settings = settings(crate::config::Flags::default(), &config.choice())?;
    let text = if *json {
        let mut t = serde_json::to_string_pretty(&settings.show_json())?;
        t.push('\n');
        t
    } else {
        settings.show()
    };
    output::emit(None, text.as_bytes())?;
    Ok(ExitStatus::Ok)
}
