//! The history's side of the commands: where the database is, `--record`, `@TIME` sources, and
//! `sockwarden history runs`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::ExitStatus;
use crate::cli::HistoryCommand;
use crate::collect::CollectOptions;
use crate::history;
use crate::model::Snapshot;
use crate::source::Source;
use crate::text::escape_str;

/// Where the history is, resolved only when a command needs it: `--history`, else the
/// `history` setting (SOCKWARDEN_HISTORY, the configuration file), else the default.
pub struct HistoryPath {
    flag: Option<PathBuf>,
    resolved: Option<PathBuf>,
}

impl HistoryPath {
    /// The path `--history` gives, or the settings when it is absent.
    pub fn from_flag(flag: Option<&Path>) -> HistoryPath {
        HistoryPath {
            flag: flag.map(Path::to_path_buf),
            resolved: None,
        }
    }

    /// A path already resolved (`scan` resolves every setting up front).
    pub fn resolved(path: PathBuf) -> HistoryPath {
        HistoryPath {
            flag: None,
            resolved: Some(path),
        }
    }

    /// The database's path.
    pub fn path(&self) -> Result<PathBuf> {
        if let Some(p) = self.resolved.as_ref().or(self.flag.as_ref()) {
            return Ok(p.clone());
        }
        let choice = crate::cli::ConfigArgs::default().choice();
        let settings = super::settings(crate::config::Flags::default(), &choice)?;
        Ok(settings.history.value)
    }
}

/// The snapshot source `from` names: a moment of the history (`@...`), a saved file, else live.
pub fn source(
    from: Option<&Path>,
    history: &HistoryPath,
    live: impl FnOnce() -> CollectOptions,
) -> Result<Source> {
    let db = match from {
        Some(f) if Source::is_history(f) => history.path()?,
        _ => PathBuf::new(),
    };
    Ok(Source::new(from, &db, live)?)
}

/// `--record`'s database, opened and its open rows read: on a thread while the snapshot is
/// taken.
pub fn recorder(history: &HistoryPath) -> Result<history::Recorder> {
    Ok(history::Recorder::open(&history.path()?)?)
}

/// `--record`: adds `snap` as a run and says on stderr what it changed.
pub fn record(recorder: history::Recorder, snap: &Snapshot) -> Result<()> {
    Recording::prepare(recorder, snap)?.write()
}

/// A run being recorded: hashed (on rayon's pool), then written (`scan` writes it while the rules
/// run).
pub struct Recording<'s> {
    prepared: history::Prepared<'s>,
    path: PathBuf,
    ahead: Option<std::time::Duration>,
    sockets: usize,
    started: std::time::Instant,
}

impl<'s> Recording<'s> {
    /// Hashes `snap`'s rows for `recorder`.
    pub fn prepare(recorder: history::Recorder, snap: &'s Snapshot) -> Result<Recording<'s>> {
        let started = std::time::Instant::now();
        let (path, ahead) = (recorder.path().to_path_buf(), recorder.read_ahead());
        Ok(Recording {
            prepared: recorder.prepare(snap)?,
            path,
            ahead,
            sockets: snap.sockets.len(),
            started,
        })
    }

    /// Writes the run and says on stderr what it changed.
    pub fn write(self) -> Result<()> {
        let r = self.prepared.write()?;
        let ahead = match self.ahead {
            Some(t) => format!(", open rows read ahead in {} ms", t.as_millis()),
            None => String::new(),
        };
        eprintln!(
            "sockwarden: recorded run {} in {} ({} sockets; versions opened/ended: sockets {}/{}, \
             processes {}/{}, holdings {}/{}; {} ms{ahead})",
            r.run,
            escape_str(&self.path.display().to_string()),
            self.sockets,
            r.sockets.0,
            r.sockets.1,
            r.processes.0,
            r.processes.1,
            r.holdings.0,
            r.holdings.1,
            self.started.elapsed().as_millis(),
        );
        Ok(())
    }
}

/// `--since-last`: the latest recorded run and its snapshot, `None` when nothing was recorded
/// yet (a missing history or one without runs).
pub fn previous(history: &HistoryPath) -> Result<Option<(history::Run, Snapshot)>> {
    let path = history.path()?;
    let runs = match history::runs(&path) {
        Ok(r) => r,
        Err(history::HistoryError::Missing(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // The run `@now` names: the latest started, the highest id among equals.
    let Some(latest) = runs
        .into_iter()
        .max_by(|a, b| (&a.started_at, a.id).cmp(&(&b.started_at, b.id)))
    else {
        return Ok(None);
    };
    let snap = history::load(&path, &history::At::Run(latest.id))?;
    Ok(Some((latest, snap)))
}

/// The `--since-last` section: `diff` of the previous run and `snap`, and this report's
/// findings split by whether the previous run, scanned with the same rules and baseline, had
/// them (by finding id).
pub fn since_last(
    prev: Option<(history::Run, Snapshot)>,
    snap: &Snapshot,
    rules: &crate::rules::RuleSet,
    baseline: Option<&(crate::baseline::Baseline, crate::baseline::Compiled)>,
    rep: &crate::report::ScanReport,
) -> crate::report::SinceLast {
    use std::collections::BTreeSet;
    let (run, old) = match prev {
        Some((run, s)) => (Some(run), s),
        None => (None, empty_like(snap)),
    };
    let findings = crate::engine::evaluate(rules, &old);
    let drift = baseline.map(|(b, c)| crate::baseline::drift::compare(b, c, &old));
    let old_rep = crate::report::build(&old, rules, &findings, drift.as_ref());
    let before: BTreeSet<&str> = old_rep.findings.iter().map(|f| f.id.as_str()).collect();
    let now: BTreeSet<&str> = rep.findings.iter().map(|f| f.id.as_str()).collect();
    let ids = |s: BTreeSet<&&str>| s.into_iter().map(|i| i.to_string()).collect();
    crate::report::SinceLast {
        changes: crate::baseline::diff::compare(&old, snap),
        new: ids(now.difference(&before).collect()),
        still_present: ids(now.intersection(&before).collect()),
        resolved: ids(before.difference(&now).collect()),
        started_at: run.as_ref().map(|r| r.started_at.clone()),
        run: run.map(|r| r.id),
    }
}

/// A snapshot of nothing, with `snap`'s header: what the first run is compared with.
fn empty_like(snap: &Snapshot) -> Snapshot {
    Snapshot {
        schema_version: snap.schema_version,
        meta: snap.meta.clone(),
        sockets: Vec::new(),
        processes: Vec::new(),
        namespaces: Vec::new(),
        warnings: Vec::new(),
        gaps: Vec::new(),
    }
}

/// `sockwarden history ...`.
pub fn run(cmd: &HistoryCommand, history: &HistoryPath) -> Result<ExitStatus> {
    let json = match cmd {
        HistoryCommand::Runs { json } => *json,
        HistoryCommand::Prune { keep, max_size } => return prune(history, *keep, *max_size),
        HistoryCommand::Timeline { query, json, limit } => {
            return timeline(history, query, *json, *limit);
        }
    };
    let runs = history::runs(&history.path()?)?;
    let text = if json {
        let mut t = serde_json::to_string_pretty(&runs)?;
        t.push('\n');
        t
    } else {
        runs_table(&runs)
    };
    crate::output::write_stdout(text.as_bytes())?;
    Ok(ExitStatus::Ok)
}

/// `history prune [--keep DURATION] [--max-size SIZE]`: the window first, then the size cap
/// (the flag, else the `history_max_size` setting); at least one of them.
fn prune(
    history: &HistoryPath,
    keep: Option<std::time::Duration>,
    max_size: Option<u64>,
) -> Result<ExitStatus> {
    let path = history.path()?;
    let choice = crate::cli::ConfigArgs::default().choice();
    let flags = crate::config::Flags {
        history_max_size: max_size,
        ..crate::config::Flags::default()
    };
    let cap = super::settings(flags, &choice)?.history_max_size.value.0;
    if keep.is_none() && cap.is_none() {
        anyhow::bail!(
            "history prune: give --keep DURATION or --max-size SIZE (or set history_max_size)"
        );
    }
    let shown = escape_str(&path.display().to_string());
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    if let Some(keep) = keep {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(keep)
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        let p = history::prune(&path, cutoff)?;
        eprintln!(
            "sockwarden: pruned {} run{} and {} row{} older than {} from {shown}{}",
            p.runs,
            plural(p.runs),
            p.rows,
            plural(p.rows),
            humantime::format_duration(keep),
            if p.vacuumed { "; compacted" } else { "" }
        );
    }
    if let Some(max) = cap {
        let c = history::cap(&path, max)?;
        eprintln!(
            "sockwarden: size cap {max} bytes: {} -> {} bytes; pruned {} run{} and {} row{} \
             from {shown}{}",
            c.size_before,
            c.size_after,
            c.pruned.runs,
            plural(c.pruned.runs),
            c.pruned.rows,
            plural(c.pruned.rows),
            if c.pruned.vacuumed { "; compacted" } else { "" }
        );
        if c.over {
            eprintln!(
                "sockwarden: warning: {shown} is still over its size cap: the latest run alone \
                 takes {} bytes; raise history_max_size",
                c.size_after
            );
        }
    }
    Ok(ExitStatus::Ok)
}

/// `history timeline QUERY`: the table, or `--json`.
fn timeline(
    history: &HistoryPath,
    query: &[String],
    json: bool,
    limit: usize,
) -> Result<ExitStatus> {
    let query = history::Query::parse(query)?;
    let t = history::timeline(&history.path()?, &query, limit)?;
    let text = if json {
        let mut s = serde_json::to_string_pretty(&t)?;
        s.push('\n');
        s
    } else {
        timeline_table(&t)
    };
    crate::output::write_stdout(text.as_bytes())?;
    Ok(ExitStatus::Ok)
}

/// The timeline for a terminal: per socket version a line with its interval (`FIRST .. LAST`,
/// then `gone by TIME` or `present`) and the socket, then one line per holder with its own
/// interval; attacker-controlled text escaped.
fn timeline_table(t: &history::Timeline) -> String {
    let several_ns = t.entries.windows(2).any(|w| w[0].ns != w[1].ns);
    let mut out = String::new();
    if t.entries.is_empty() {
        out.push_str("no socket in the history matches\n");
    }
    for e in &t.entries {
        let mut what = socket_text(&e.socket);
        if several_ns {
            let _ = write!(what, " in netns {}", e.ns);
        }
        let _ = writeln!(out, "{}  {what}", interval_text(&e.interval));
        for h in &e.holders {
            let who = match &h.process {
                Some(p) => holder_text(p),
                None => "(not read)".into(),
            };
            let _ = writeln!(
                out,
                "    pid {} fd {} {who}  {}",
                h.pid,
                h.fd,
                interval_text(&h.interval)
            );
        }
    }
    if t.truncated {
        let _ = writeln!(
            out,
            "... more versions match: the oldest {} are listed (--limit)",
            t.entries.len()
        );
    }
    out
}

/// `FIRST .. LAST, gone by TIME` or `FIRST .. LAST, present`; a first run that was pruned is
/// `before the oldest run`.
fn interval_text(i: &history::Interval) -> String {
    let at = |s: &history::Seen| match &s.at {
        Some(t) => escape_str(t),
        None => "(before the oldest run)".into(),
    };
    let last = i.last_seen.as_ref().map(at).unwrap_or_else(|| "?".into());
    match &i.gone {
        Some(g) => format!("{} .. {last}, gone by {}", at(&i.first_seen), at(g)),
        None => format!("{} .. {last}, present", at(&i.first_seen)),
    }
}

/// `PROTO STATE LOCAL -> REMOTE`, a unix socket's name, or the inode; escaped.
fn socket_text(s: &crate::model::Socket) -> String {
    use crate::report::endpoint_text;
    let head = format!("{} {}", s.protocol.netid(), s.state.name());
    if s.protocol.is_inet() {
        // A listener's remote end is the unspecified address, port 0: no peer to show.
        return match s
            .remote
            .filter(|r| r.port != 0 || !r.address.is_unspecified())
        {
            Some(r) => format!(
                "{head} {} -> {}",
                endpoint_text(s.local),
                endpoint_text(Some(r))
            ),
            None => format!("{head} {}", endpoint_text(s.local)),
        };
    }
    match s
        .unix
        .as_ref()
        .and_then(|u| u.name.as_ref().map(|n| (n, u.r#abstract)))
    {
        Some((n, ab)) => format!(
            "{head} {}{}",
            if ab { "@" } else { "" },
            escape_str(&n.to_str_lossy())
        ),
        None => format!("{head} inode {}", s.inode),
    }
}

/// `EXE (USER)[ container RUNTIME ID] [CMDLINE]`, escaped.
fn holder_text(p: &crate::model::Process) -> String {
    let exe = p
        .exe
        .as_ref()
        .map(|e| e.to_str_lossy().into_owned())
        .unwrap_or_else(|| p.comm.to_str_lossy().into_owned());
    let user = p.user.clone().unwrap_or_else(|| p.uid.to_string());
    let container = p
        .container
        .as_ref()
        .map(|c| format!(" container {}", crate::report::container_text(c)))
        .unwrap_or_default();
    let cmd: Vec<String> = p
        .cmdline
        .iter()
        .map(|a| a.to_str_lossy().into_owned())
        .collect();
    escape_str(&format!("{exe} ({user}){container} [{}]", cmd.join(" ")))
}

fn runs_table(runs: &[history::Run]) -> String {
    let mut out = String::from("ID\tSTARTED_AT\tHOST\tVERSION\tSOCKETS\tSCOPE\n");
    for r in runs {
        let scope: Vec<String> = r.scope.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            escape_str(&r.started_at),
            escape_str(&r.host),
            escape_str(&r.tool_version),
            r.socket_count,
            scope.join(",")
        );
    }
    out
}
