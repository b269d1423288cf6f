//! The local socket history (docs/history.md): an SQLite database of recorded runs, storing
//! intervals rather than copies. A socket version, a process version and a holding (which
//! process holds which socket on which fd) are each one row with the run that first saw it and the
//! run that no longer did; a run that changes nothing adds one row to `runs`.
//!
//! - [`record`] adds a complete live snapshot as a run, in one transaction.
//! - [`load`] rebuilds the snapshot a run took from the intervals open at that run (`@TIME`).
//! - [`runs`] lists the runs; [`prune`] forgets the old ones.
//! - [`timeline`] answers when the sockets a query names came, who held them, and when they went.
//!
//! The file is attacker-reachable input like any other: it must be ours (the header's
//! application id and the `meta` table), of a schema this build knows, and every SQLite error
//! is reported with the file's name; nothing is recreated over an existing file.

mod at;
mod prune;
mod rebuild;
mod record;
pub mod rows;
mod schema;
mod timeline;

use std::path::{Path, PathBuf};

pub use at::{At, BadAt};
pub use prune::{Capped, Pruned, cap, prune};
pub use rebuild::load;
pub use record::{Prepared, Recorded, Recorder, record};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use timeline::{
    BadQuery, BadTerm, Entry, Holding, Interval, Key as TimelineKey, Query, Seen, Timeline,
    timeline,
};

/// Where the history lives when neither `--history` nor the `history` setting says.
pub const DEFAULT_PATH: &str = "/var/lib/sockwarden/history.db";

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// There is no history at this path (nothing was recorded there yet).
    #[error("{}: no history there (record one with `sockwarden scan --record`)", .0.display())]
    Missing(PathBuf),
    /// The file exists but is not a sockwarden history: empty, foreign, or not SQLite at all.
    #[error("{}: not a sockwarden history database: {why}; refusing to use or replace it", path.display())]
    NotOurs {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        why: String,
    },
    /// A history written by a newer sockwarden.
    #[error(
        "{}: history schema_version {found} is newer than this sockwarden's ({SCHEMA_VERSION})",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its `schema_version`.
        found: i64,
    },
    /// An older history opened read-only: recording with this build migrates it.
    #[error(
        "{}: history schema_version {found} needs migrating to {SCHEMA_VERSION}; record a run \
         with this sockwarden first",
        path.display()
    )]
    NeedsMigration {
        /// The file.
        path: PathBuf,
        /// Its `schema_version`.
        found: i64,
    },
    /// SQLite found the file damaged: truncated, or overwritten in part.
    #[error(
        "{}: the history database is corrupt or truncated; it is left as it is (move it aside \
         to start a new history)",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
    /// SQLite failed otherwise: a lock held too long, a full disk, a read-only directory.
    #[error("{}: history database error: {source}", path.display())]
    Sql {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file (or its directory) could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A row that contradicts the schema (a value this build cannot read back).
    #[error("{}: history row is inconsistent: {what}", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// Which row and what is wrong.
        what: String,
    },
    /// Nothing has been recorded yet.
    #[error("{}: no run recorded yet", .0.display())]
    NoRuns(PathBuf),
    /// `@run:ID` names no run.
    #[error("{}: there is no run {id}", path.display())]
    NoSuchRun {
        /// The file.
        path: PathBuf,
        /// The id asked for.
        id: i64,
    },
    /// `@TIME` before the first run.
    #[error("{}: no run at or before {at}: the first run started at {first}", path.display())]
    BeforeFirst {
        /// The file.
        path: PathBuf,
        /// The time asked for (RFC 3339, UTC).
        at: String,
        /// The first run's `started_at`.
        first: String,
    },
    /// Only a complete snapshot may be recorded.
    #[error("only a complete snapshot is recorded: this one could not read {0}")]
    Incomplete(String),
}

impl HistoryError {
    /// SQLite's error, with the file; "not a database" and "corrupt" are told in words.
    fn sql(path: &Path, source: rusqlite::Error) -> HistoryError {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => HistoryError::NotOurs {
                path,
                why: "not an SQLite database".into(),
            },
            Some(ErrorCode::DatabaseCorrupt) => HistoryError::Corrupt { path },
            _ => HistoryError::Sql { path, source },
        }
    }

    fn io(path: &Path, source: std::io::Error) -> HistoryError {
        HistoryError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One recorded run, as `sockwarden history runs` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Run {
    /// The run's id: runs are numbered in the order they were committed.
    pub id: i64,
    /// When its snapshot was taken (RFC 3339, UTC, seconds).
    pub started_at: String,
    /// The host's name.
    pub host: String,
    /// The sockwarden version that recorded it.
    pub tool_version: String,
    /// The network namespaces (by inode) the run covered, sorted.
    pub scope: Vec<u64>,
    /// How many sockets it saw.
    pub socket_count: u64,
}

/// Every recorded run, oldest first.
pub fn runs(path: &Path) -> Result<Vec<Run>, HistoryError> {
    let conn = schema::open(path, schema::Mode::Read)?;
    let sql = |e| HistoryError::sql(path, e);
    let mut stmt = conn
        .prepare(
            "SELECT id, started_at, host, tool_version, scope, socket_count FROM runs ORDER BY id",
        )
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, started_at, host, tool_version, scope, count) = row.map_err(sql)?;
        out.push(Run {
            id,
            started_at,
            host,
            tool_version,
            scope: parse_scope(&scope).ok_or_else(|| HistoryError::Inconsistent {
                path: path.to_path_buf(),
                what: format!("run {id}: scope {scope:?} is not a list of inodes"),
            })?,
            socket_count: count as u64,
        });
    }
    Ok(out)
}

/// A run's scope as stored: the inodes, comma-separated, ascending.
fn scope_text(scope: &[u64]) -> String {
    scope
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_scope(text: &str) -> Option<Vec<u64>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',').map(|s| s.parse().ok()).collect()
}

/// SQLite stores signed 64-bit integers: an inode or cookie above `i64::MAX` is stored as the
/// signed value with the same bits (docs/history.md).
fn to_sql(v: u64) -> i64 {
    v as i64
}

fn from_sql(v: i64) -> u64 {
    v as u64
}

#[cfg(test)]
mod tests;
