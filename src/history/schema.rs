//! The database file: creating it, recognising it as ours, and migrating its schema.
//!
//! A history is ours when its header's `application_id` is [`APPLICATION_ID`] and its `meta`
//! table names a `schema_version`. Anything else (an empty, truncated, corrupt or foreign file)
//! is an error naming the file: a history is never recreated over something that is there.
//! A new file is built beside the target under a temporary name and linked into place, so a
//! recorder killed while creating it leaves either nothing or a complete, empty history.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::HistoryError;

/// `PRAGMA application_id` of a sockwarden history: "SWHi" in ASCII.
pub const APPLICATION_ID: i32 = 0x5357_4869;

/// The schema version this build writes and reads (docs/history.md).
pub const SCHEMA_VERSION: i64 = 2;

/// Each migration brings the schema from the version before it to its own; a new schema version
/// is one more entry, applied in its own transaction with the `schema_version` it sets.
const MIGRATIONS: &[(i64, &str)] = &[(1, V1), (2, V2)];

/// Version 1: runs, and the intervals of socket versions, process versions and holdings.
const V1: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    host TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    scope TEXT NOT NULL,
    socket_count INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX runs_started_at ON runs (started_at, id);
CREATE TABLE socket_versions (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    end_run INTEGER,
    ns INTEGER NOT NULL,
    netns INTEGER,
    protocol TEXT NOT NULL,
    family TEXT NOT NULL,
    state TEXT NOT NULL,
    local_address TEXT,
    local_port INTEGER,
    remote_address TEXT,
    remote_port INTEGER,
    inode INTEGER NOT NULL,
    cookie INTEGER,
    uid INTEGER,
    ifindex INTEGER,
    interface TEXT,
    v6only INTEGER,
    unix_name BLOB,
    unix_abstract INTEGER,
    unix_peer INTEGER,
    packet_ethertype INTEGER
);
CREATE INDEX socket_versions_open ON socket_versions (ns, hash) WHERE end_run IS NULL;
CREATE INDEX socket_versions_first ON socket_versions (ns, first_run);
CREATE TABLE process_versions (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    end_run INTEGER,
    ns INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    start_ticks INTEGER NOT NULL,
    ppid INTEGER NOT NULL,
    comm BLOB NOT NULL,
    exe BLOB,
    exe_deleted INTEGER NOT NULL,
    exe_memfd INTEGER NOT NULL,
    cmdline TEXT NOT NULL,
    uid INTEGER NOT NULL,
    euid INTEGER NOT NULL,
    user TEXT,
    cgroup TEXT,
    container_runtime TEXT,
    container_id TEXT,
    container_pod_uid TEXT,
    netns INTEGER
);
CREATE INDEX process_versions_open ON process_versions (ns, hash) WHERE end_run IS NULL;
CREATE INDEX process_versions_first ON process_versions (ns, first_run);
CREATE TABLE holdings (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    end_run INTEGER,
    ns INTEGER NOT NULL,
    socket_version INTEGER NOT NULL REFERENCES socket_versions (id),
    process_version INTEGER REFERENCES process_versions (id),
    pid INTEGER NOT NULL,
    fd INTEGER NOT NULL
);
CREATE INDEX holdings_open ON holdings (ns, hash) WHERE end_run IS NULL;
CREATE INDEX holdings_first ON holdings (ns, first_run);
";

/// Version 2: the indexes `history timeline` searches by (and that deleting a version in a
/// prune needs, to check no holding names it): the sockets' addresses and ports, the processes'
/// pid, exe, user and container, and the holdings by socket and process version; and the ended
/// rows by `(ns, end_run, first_run)`, which rebuild a recent run without reading every row
/// ever written. Partial indexes leave out the rows without the column (unix sockets have no
/// address; open rows have no end).
const V2: &str = "
CREATE INDEX socket_versions_local_port ON socket_versions (local_port)
    WHERE local_port IS NOT NULL;
CREATE INDEX socket_versions_remote_port ON socket_versions (remote_port)
    WHERE remote_port IS NOT NULL;
CREATE INDEX socket_versions_local_address ON socket_versions (local_address)
    WHERE local_address IS NOT NULL;
CREATE INDEX socket_versions_remote_address ON socket_versions (remote_address)
    WHERE remote_address IS NOT NULL;
CREATE INDEX holdings_socket_version ON holdings (socket_version);
CREATE INDEX holdings_process_version ON holdings (process_version);
CREATE INDEX process_versions_pid ON process_versions (pid);
CREATE INDEX process_versions_exe ON process_versions (exe) WHERE exe IS NOT NULL;
CREATE INDEX process_versions_user ON process_versions (user) WHERE user IS NOT NULL;
CREATE INDEX process_versions_container_id ON process_versions (container_id)
    WHERE container_id IS NOT NULL;
CREATE INDEX socket_versions_ended ON socket_versions (ns, end_run, first_run)
    WHERE end_run IS NOT NULL;
CREATE INDEX process_versions_ended ON process_versions (ns, end_run, first_run)
    WHERE end_run IS NOT NULL;
CREATE INDEX holdings_ended ON holdings (ns, end_run, first_run) WHERE end_run IS NOT NULL;
";

/// How a history is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only: the file must exist.
    Read,
    /// Read and write: created when absent, migrated when older.
    Write,
}

/// Opens the history at `path`, checked to be ours and at [`SCHEMA_VERSION`].
pub fn open(path: &Path, mode: Mode) -> Result<Connection, HistoryError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && mode == Mode::Write => {
            create(path)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HistoryError::Missing(path.to_path_buf()));
        }
        Err(e) => return Err(HistoryError::io(path, e)),
        Ok(m) if !m.file_type().is_file() => {
            return Err(HistoryError::NotOurs {
                path: path.to_path_buf(),
                why: "not a regular file".into(),
            });
        }
        Ok(_) => {}
    }
    let flags = match mode {
        Mode::Read => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Mode::Write => OpenFlags::SQLITE_OPEN_READ_WRITE,
    } | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let real = in_real_dir(path)?;
    let conn = Connection::open_with_flags(&real, flags).map_err(|e| HistoryError::sql(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| HistoryError::sql(path, e))?;
    check(&conn, path)?;
    if mode == Mode::Write {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| HistoryError::sql(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| HistoryError::sql(path, e))?;
        migrate(&conn, path)?;
    }
    Ok(conn)
}

/// `path` with its directory resolved: SQLite's `SQLITE_OPEN_NOFOLLOW` refuses a symbolic link
/// anywhere in the name, and systemd's `DynamicUser=` makes the state directory one
/// (/var/lib/sockwarden -> private/sockwarden). The directory is the administrator's; a link at
/// the file itself stays refused (above, and by `NOFOLLOW` on the resolved name).
fn in_real_dir(path: &Path) -> Result<PathBuf, HistoryError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| HistoryError::NotOurs {
        path: path.to_path_buf(),
        why: "not a file name".into(),
    })?;
    let dir = std::fs::canonicalize(dir).map_err(|e| HistoryError::io(dir, e))?;
    Ok(dir.join(name))
}

/// Refuses a file that is not a sockwarden history, or of a newer schema.
fn check(conn: &Connection, path: &Path) -> Result<(), HistoryError> {
    let not_ours = |why: String| HistoryError::NotOurs {
        path: path.to_path_buf(),
        why,
    };
    if std::fs::metadata(path)
        .map_err(|e| HistoryError::io(path, e))?
        .len()
        == 0
    {
        return Err(not_ours("the file is empty".into()));
    }
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| HistoryError::sql(path, e))?;
    if id != APPLICATION_ID {
        return Err(not_ours(format!(
            "its application_id is {id:#x}, not sockwarden's {APPLICATION_ID:#x}"
        )));
    }
    let version = schema_version(conn, path)?
        .ok_or_else(|| not_ours("it has no schema_version in a meta table".into()))?;
    if version > SCHEMA_VERSION {
        return Err(HistoryError::TooNew {
            path: path.to_path_buf(),
            found: version,
        });
    }
    if version < SCHEMA_VERSION && conn.is_readonly("main").unwrap_or(true) {
        return Err(HistoryError::NeedsMigration {
            path: path.to_path_buf(),
            found: version,
        });
    }
    Ok(())
}

fn schema_version(conn: &Connection, path: &Path) -> Result<Option<i64>, HistoryError> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| HistoryError::sql(path, e))?
        > 0;
    if !has_meta {
        return Ok(None);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| HistoryError::sql(path, e))?;
    Ok(v.and_then(|v| v.parse().ok()))
}

/// Applies every migration above the file's version, each in its own transaction.
fn migrate(conn: &Connection, path: &Path) -> Result<(), HistoryError> {
    let sql = |e| HistoryError::sql(path, e);
    for (version, script) in MIGRATIONS {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
        let current = schema_version(conn, path)?.unwrap_or(0);
        if current >= *version {
            conn.execute_batch("COMMIT").map_err(sql)?;
            continue;
        }
        let applied = conn.execute_batch(script).and_then(|()| {
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [version.to_string()],
            )
        });
        match applied {
            Ok(_) => conn.execute_batch("COMMIT").map_err(sql)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(sql(e));
            }
        }
    }
    Ok(())
}

/// Creates an empty history (schema version 0: the meta table) under a temporary name beside
/// `path`, then links it into place; when another recorder linked one first, theirs is used.
fn create(path: &Path) -> Result<(), HistoryError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The directory too, private, when it is missing (a host without the package's
    // /var/lib/sockwarden).
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&dir)
        .map_err(|e| HistoryError::io(&dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".history.db.")
        .tempfile_in(&dir)
        .map_err(|e| HistoryError::io(&dir, e))?;
    {
        let conn = Connection::open(tmp.path()).map_err(|e| HistoryError::sql(path, e))?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| HistoryError::sql(path, e))?;
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta (key, value) VALUES ('schema_version', '0');
             COMMIT;",
        )
        .map_err(|e| HistoryError::sql(path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| HistoryError::io(path, e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(HistoryError::io(path, e)),
    }
}
