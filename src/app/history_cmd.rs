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

/// `--record`: adds `snap` as a run and says on stderr what it changed.
pub fn record(history: &HistoryPath, snap: &Snapshot) -> Result<()> {
    let path = history.path()?;
    let started = std::time::Instant::now();
    let r = history::record(&path, snap)?;
    eprintln!(
        "sockwarden: recorded run {} in {} ({} sockets; versions opened/ended: sockets {}/{}, \
         processes {}/{}, holdings {}/{}; {} ms)",
        r.run,
        escape_str(&path.display().to_string()),
        snap.sockets.len(),
        r.sockets.0,
        r.sockets.1,
        r.processes.0,
        r.processes.1,
        r.holdings.0,
        r.holdings.1,
        started.elapsed().as_millis()
    );
    Ok(())
}

/// `sockwarden history ...`.
pub fn run(cmd: &HistoryCommand, history: &HistoryPath) -> Result<ExitStatus> {
    let json = match cmd {
        HistoryCommand::Runs { json } => *json,
        HistoryCommand::Prune { keep } => return prune(history, *keep),
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

/// `history prune --keep DURATION`.
fn prune(history: &HistoryPath, keep: std::time::Duration) -> Result<ExitStatus> {
    let path = history.path()?;
    let cutoff = std::time::SystemTime::now()
        .checked_sub(keep)
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let p = history::prune(&path, cutoff)?;
    eprintln!(
        "sockwarden: pruned {} run{} and {} row{} from {}{}",
        p.runs,
        if p.runs == 1 { "" } else { "s" },
        p.rows,
        if p.rows == 1 { "" } else { "s" },
        escape_str(&path.display().to_string()),
        if p.vacuumed { "; compacted" } else { "" }
    );
    Ok(ExitStatus::Ok)
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
