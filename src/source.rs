//! Where a snapshot comes from: the one place that decides between the live system, a saved
//! file and a moment of the recorded history (`@TIME`, docs/history.md), so `list`, `scan`,
//! `baseline` and `diff` read snapshots the same way (and the coming source, imported evidence,
//! imported evidence, docs/import.md).
//!
//! A saved snapshot is attacker-controlled: it is read through [`crate::input`] (a regular file
//! or stdin, size-capped), parsed, version-checked and validated ([`Snapshot::validate`]), so a
//! reordered or inconsistent file gives the same results or a located error, never a silent
//! difference. Whether a snapshot with gaps may be used is the caller's decision
//! ([`crate::app::Partial`]).

use std::path::{Path, PathBuf};

use crate::collect::{self, CollectOptions, Timings};
use crate::history::{self, At, BadAt, HistoryError};
use crate::import::{self, ImportError};
use crate::input::{self, InputError};
use crate::model::{SCHEMA_VERSION, Snapshot};

/// Where a command's snapshot comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The live system (the host, one namespace or all), collected with these options.
    Live(CollectOptions),
    /// A saved snapshot file, or `-` for standard input.
    Saved(PathBuf),
    /// Collected evidence (`ss`, `netstat`, `lsof` output, `/proc/net/*` copies, a UAC
    /// collection) read into a snapshot (docs/import.md).
    Evidence {
        /// The files, directories or archives, all of one host.
        paths: Vec<PathBuf>,
        /// Format and strictness.
        options: import::Options,
    },
    /// A recorded run of the history: the snapshot rebuilt from its intervals.
    History {
        /// The history database.
        db: PathBuf,
        /// Which run.
        at: At,
    },
}

/// Why a snapshot could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read (or is not a regular file, or is too large).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Not a snapshot document: where the JSON parser stopped, and why.
    #[error("{name}:{line}:{col}: not a sockwarden snapshot: {message}")]
    Parse {
        /// The file as named on the command line (`-` for standard input).
        name: String,
        /// 1-based line where parsing stopped.
        line: usize,
        /// 1-based column where parsing stopped.
        col: usize,
        /// The JSON parser's message: a syntax error, a wrong type, an unknown or missing field.
        message: String,
    },
    /// A snapshot of a schema version this build does not read.
    #[error(
        "{name}: snapshot schema_version {found} is not supported (this sockwarden reads \
         {SCHEMA_VERSION})"
    )]
    Version {
        /// The file as named on the command line (`-` for standard input).
        name: String,
        /// The document's `schema_version`, not [`SCHEMA_VERSION`].
        found: u32,
    },
    /// A snapshot whose contents contradict themselves (see [`Snapshot::validate`]).
    #[error("{name}: not a usable snapshot: {problem}")]
    Invalid {
        /// The file as named on the command line (`-` for standard input).
        name: String,
        /// What is inconsistent: a process, namespace or socket listed twice, or an owner that
        /// names a process the file does not account for.
        problem: crate::model::Inconsistent,
    },
    /// Evidence that could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// `@...` that names no moment of the history.
    #[error(transparent)]
    At(#[from] BadAt),
    /// The history could not be read, or has no run at that moment.
    #[error(transparent)]
    History(#[from] HistoryError),
}

impl Source {
    /// A moment of the history in `db` when `from` is `@...` (see [`At::parse`]; a file whose
    /// name starts with `@` is `./@...`), evidence when `from` is a directory, an archive or a
    /// text file that is not JSON ([`import::is_evidence`]), a saved file when it is another
    /// path, else the live system with `live`'s options.
    pub fn new(
        from: Option<&Path>,
        db: &Path,
        live: impl FnOnce() -> CollectOptions,
    ) -> Result<Source, SourceError> {
        Ok(match from {
            Some(p) => match At::source(p.as_os_str()) {
                Some(text) => Source::History {
                    db: db.to_path_buf(),
                    at: At::parse(text, std::time::SystemTime::now())?,
                },
                None if import::is_evidence(p) => Source::Evidence {
                    paths: vec![p.to_path_buf()],
                    options: import::Options::default(),
                },
                None => Source::Saved(p.to_path_buf()),
            },
            None => Source::Live(live()),
        })
    }

    /// Whether `from` names a moment of the history (`@...`) rather than a file.
    pub fn is_history(from: &Path) -> bool {
        At::source(from.as_os_str()).is_some()
    }

    /// Whether the snapshot is taken now (its warnings are worth telling, its timing real).
    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live(_))
    }

    /// Takes or reads the snapshot.
    pub fn take(&self) -> Result<Snapshot, SourceError> {
        self.take_timed().map(|(s, _)| s)
    }

    /// [`Source::take`], with the collection's phase timings (zero for a saved file).
    pub fn take_timed(&self) -> Result<(Snapshot, Timings), SourceError> {
        match self {
            Source::Live(opts) => Ok(collect::collect_timed(opts)),
            Source::Saved(p) => load_snapshot(p).map(|s| (s, Timings::default())),
            Source::Evidence { paths, options } => {
                Ok((import::import(paths, options)?, Timings::default()))
            }
            Source::History { db, at } => Ok((history::load(db, at)?, Timings::default())),
        }
    }

    /// [`Source::take_timed`], calling `during` on a live snapshot while its /proc/net view is
    /// still read ([`collect::collect_timed_with`]); its answer is `None` when it was not
    /// called, or when the view changed more than the sockets' views.
    pub fn take_timed_with<R>(
        &self,
        during: impl FnOnce(&Snapshot) -> R,
    ) -> Result<(Snapshot, Timings, Option<R>), SourceError> {
        match self {
            Source::Live(opts) => Ok(collect::collect_timed_with(opts, during)),
            _ => self.take_timed().map(|(s, t)| (s, t, None)),
        }
    }
}

/// Reads a saved snapshot; errors name file:line:col. Standard input holding evidence rather
/// than JSON (`ss -tanp | sockwarden scan --from -`) is imported.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, SourceError> {
    let bytes = input::read_bytes(path, input::Kind::Snapshot)?;
    let name = path.display().to_string();
    if path == Path::new("-") && import::looks_like_evidence(&bytes[..bytes.len().min(512)]) {
        let part = import::parse_bytes(&name, &bytes, &import::Options::default())?;
        return Ok(import::merge_parts(vec![part]));
    }
    parse_snapshot(&bytes, &name)
}

/// Parses, version-checks and validates a saved snapshot's bytes; `name` (the file) prefixes
/// every error.
pub fn parse_snapshot(bytes: &[u8], name: &str) -> Result<Snapshot, SourceError> {
    let mut snap: Snapshot = serde_json::from_slice(bytes).map_err(|e| SourceError::Parse {
        name: name.to_string(),
        line: e.line(),
        col: e.column(),
        message: e.to_string(),
    })?;
    if snap.schema_version != SCHEMA_VERSION {
        return Err(SourceError::Version {
            name: name.to_string(),
            found: snap.schema_version,
        });
    }
    snap.validate().map_err(|problem| SourceError::Invalid {
        name: name.to_string(),
        problem,
    })?;
    Ok(snap)
}
