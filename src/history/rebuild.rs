//! Rebuilding the snapshot a run took: the rows open at that run, within its namespaces.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::at::rfc3339;
use super::record::Detail;
use super::rows::SockRow;
use super::schema::{self, Mode};
use super::{At, HistoryError, from_sql, parse_scope, to_sql};
use crate::model::{ByteString, Container, Endpoint, Owner, Process, Snapshot, Socket};

/// The snapshot the run that `at` names took, rebuilt from the intervals open at that run:
/// canonical order, `meta.sources.history` = `run ID of PATH`.
pub fn load(path: &Path, at: &At) -> Result<Snapshot, HistoryError> {
    let mut conn = schema::open(path, Mode::Read)?;
    let sql = |e| HistoryError::sql(path, e);
    // One read transaction: a recorder committing meanwhile is not half seen.
    let tx = conn.transaction().map_err(sql)?;
    let run = resolve(&tx, path, at)?;
    let (scope, detail): (String, String) = tx
        .query_row("SELECT scope, detail FROM runs WHERE id = ?1", [run], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(sql)?;
    let bad = |what: String| HistoryError::Inconsistent {
        path: path.to_path_buf(),
        what: format!("run {run}: {what}"),
    };
    let scope = parse_scope(&scope).ok_or_else(|| bad(format!("scope {scope:?}")))?;
    let detail: Detail = serde_json::from_str(&detail).map_err(|e| bad(format!("detail: {e}")))?;
    let late = is_late(&tx, run).map_err(sql)?;
    let mut sockets = Vec::new();
    let mut processes = BTreeMap::new();
    for ns in &scope {
        let mut by_id: HashMap<i64, usize> = HashMap::new();
        for (id, s) in read_sockets(&tx, run, *ns, late).map_err(sql)? {
            let s = s.map_err(&bad)?;
            by_id.insert(id, sockets.len());
            sockets.push(s);
        }
        for (sid, owner) in read_holdings(&tx, run, *ns, late).map_err(sql)? {
            let i = by_id
                .get(&sid)
                .ok_or_else(|| bad(format!("a holding names socket version {sid}")))?;
            sockets[*i].owners.push(owner);
        }
        for p in read_processes(&tx, run, *ns, late).map_err(sql)? {
            let p = p.map_err(&bad)?;
            processes.entry(p.pid).or_insert(p);
        }
    }
    let mut meta = detail.meta;
    meta.sources
        .insert("history".into(), format!("run {run} of {}", path.display()));
    let mut snap = Snapshot {
        schema_version: crate::model::SCHEMA_VERSION,
        meta,
        sockets,
        processes: processes.into_values().collect(),
        namespaces: detail.namespaces,
        warnings: detail.warnings,
        gaps: Vec::new(),
    };
    snap.validate().map_err(|e| bad(e.to_string()))?;
    Ok(snap)
}

/// The run `at` names.
fn resolve(conn: &Connection, path: &Path, at: &At) -> Result<i64, HistoryError> {
    let sql = |e| HistoryError::sql(path, e);
    let latest_before = |t: &str| {
        conn.query_row(
            "SELECT id FROM runs WHERE started_at <= ?1 ORDER BY started_at DESC, id DESC LIMIT 1",
            [t],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql)
    };
    let first = || {
        conn.query_row("SELECT min(started_at) FROM runs", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .map_err(sql)
    };
    match at {
        At::Run(id) => {
            let found: Option<i64> = conn
                .query_row("SELECT id FROM runs WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(sql)?;
            found.ok_or(HistoryError::NoSuchRun {
                path: path.to_path_buf(),
                id: *id,
            })
        }
        At::Latest => latest_before("9999-12-31T23:59:59Z")?
            .ok_or_else(|| HistoryError::NoRuns(path.to_path_buf())),
        At::Time(t) => {
            let t = rfc3339(*t.max(&SystemTime::UNIX_EPOCH));
            match latest_before(&t)? {
                Some(id) => Ok(id),
                None => match first()? {
                    Some(first) => Err(HistoryError::BeforeFirst {
                        path: path.to_path_buf(),
                        at: t,
                        first,
                    }),
                    None => Err(HistoryError::NoRuns(path.to_path_buf())),
                },
            }
        }
    }
}

/// The query of the rows of `table` open at run `?1` in namespace `?2`, selecting `columns`.
///
/// A row is open at R when `first_run <= R` and it has not ended by R. For a run in the first
/// half of the history, the rows that began by R are the fewer: `(ns, first_run)` finds them.
/// For a later run (`late`: `@now`, which every `--since-last` rebuilds), those are nearly every
/// row ever written, while the open rows and the rows that ended after R are few: the open-row
/// index and `(ns, end_run, first_run) WHERE end_run IS NOT NULL` find them (named with
/// `INDEXED BY`: SQLite has no statistics to choose by, and fails rather than scan if an index
/// went missing).
fn open_at(table: &str, columns: &str, late: bool) -> String {
    if !late {
        return format!(
            "SELECT {columns} FROM {table} INDEXED BY {table}_first \
             WHERE ns = ?2 AND first_run <= ?1 AND (end_run IS NULL OR end_run > ?1)"
        );
    }
    format!(
        "SELECT {columns} FROM {table} INDEXED BY {table}_open \
         WHERE ns = ?2 AND end_run IS NULL AND first_run <= ?1 \
         UNION ALL SELECT {columns} FROM {table} INDEXED BY {table}_ended \
         WHERE ns = ?2 AND end_run > ?1 AND first_run <= ?1"
    )
}

/// Whether run `run` is in the later half of the history's runs (see [`open_at`]).
fn is_late(conn: &Connection, run: i64) -> rusqlite::Result<bool> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT min(id), max(id) FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(match (lo, hi) {
        (Some(lo), Some(hi)) => run - lo > hi - run,
        _ => false,
    })
}

pub(super) type Parsed<T> = Result<T, String>;

fn read_sockets(
    conn: &Connection,
    run: i64,
    ns: u64,
    late: bool,
) -> rusqlite::Result<Vec<(i64, Parsed<Socket>)>> {
    let mut stmt = conn.prepare_cached(&open_at("socket_versions", SOCKET_COLUMNS, late))?;
    let rows = stmt.query_map(params![run, to_sql(ns)], |r| {
        Ok((r.get(0)?, socket_row(r, ns)?))
    })?;
    rows.collect()
}

/// The columns [`socket_row`] reads, in its order.
pub(super) const SOCKET_COLUMNS: &str = "id, netns, protocol, family, state, local_address, \
    local_port, remote_address, remote_port, inode, cookie, uid, ifindex, interface, v6only, \
    unix_name, unix_abstract, unix_peer, packet_ethertype";

/// One socket row ([`SOCKET_COLUMNS`]); a value this build cannot read back (an unknown
/// protocol, an address that does not parse) is the `Err` text.
pub(super) fn socket_row(r: &Row, ns: u64) -> rusqlite::Result<Parsed<Socket>> {
    let name = |i: usize| r.get::<_, String>(i);
    let (protocol, family, state) = (name(2)?, name(3)?, name(4)?);
    let endpoint = |a: usize| -> rusqlite::Result<Parsed<Option<Endpoint>>> {
        let addr: Option<String> = r.get(a)?;
        let port: Option<u16> = r.get(a + 1)?;
        Ok(match (addr, port) {
            (Some(addr), Some(port)) => match addr.parse::<IpAddr>() {
                Ok(address) => Ok(Some(Endpoint { address, port })),
                Err(_) => Err(format!("address {addr:?}")),
            },
            (None, None) => Ok(None),
            _ => Err("an address without a port".into()),
        })
    };
    let (local, remote) = (endpoint(5)?, endpoint(7)?);
    let unix_abstract: Option<bool> = r.get(16)?;
    let unix = unix_abstract.map(|ab| -> rusqlite::Result<_> {
        let name: Option<Vec<u8>> = r.get(15)?;
        let peer: Option<i64> = r.get(17)?;
        Ok((name.map(ByteString), ab, peer.map(from_sql)))
    });
    let unix = unix.transpose()?;
    let parsed = (|| -> Parsed<SockRow> {
        Ok(SockRow {
            ns,
            netns: r.get::<_, Option<i64>>(1).ok().flatten().map(from_sql),
            protocol: crate::model::Protocol::parse(&protocol)
                .ok_or_else(|| format!("protocol {protocol:?}"))?,
            family: crate::model::Family::parse(&family)
                .ok_or_else(|| format!("family {family:?}"))?,
            state: crate::model::State::parse(&state).ok_or_else(|| format!("state {state:?}"))?,
            local: local?,
            remote: remote?,
            inode: from_sql(r.get(9).map_err(|e| e.to_string())?),
            cookie: r
                .get::<_, Option<i64>>(10)
                .map_err(|e| e.to_string())?
                .map(from_sql),
            uid: r.get(11).map_err(|e| e.to_string())?,
            ifindex: r.get(12).map_err(|e| e.to_string())?,
            interface: r.get(13).map_err(|e| e.to_string())?,
            v6only: r.get(14).map_err(|e| e.to_string())?,
            unix,
            packet_ethertype: r.get(18).map_err(|e| e.to_string())?,
        })
    })();
    Ok(parsed.map(|row| row.to_socket()))
}

fn read_holdings(
    conn: &Connection,
    run: i64,
    ns: u64,
    late: bool,
) -> rusqlite::Result<Vec<(i64, Owner)>> {
    let mut stmt = conn.prepare_cached(&open_at("holdings", "socket_version, pid, fd", late))?;
    let rows = stmt.query_map(params![run, to_sql(ns)], |r| {
        Ok((
            r.get(0)?,
            Owner {
                pid: r.get(1)?,
                fd: r.get(2)?,
            },
        ))
    })?;
    rows.collect()
}

fn read_processes(
    conn: &Connection,
    run: i64,
    ns: u64,
    late: bool,
) -> rusqlite::Result<Vec<Parsed<Process>>> {
    let mut stmt = conn.prepare_cached(&open_at("process_versions", PROCESS_COLUMNS, late))?;
    let rows = stmt.query_map(params![run, to_sql(ns)], |r| process_row(r, 0))?;
    rows.collect()
}

/// The columns [`process_row`] reads, in its order.
pub(super) const PROCESS_COLUMNS: &str = "pid, start_ticks, ppid, comm, exe, exe_deleted, \
    exe_memfd, cmdline, uid, euid, user, cgroup, container_runtime, container_id, \
    container_pod_uid, netns";

/// One process row, its [`PROCESS_COLUMNS`] from column `at` on; a command line that does not
/// parse is the `Err` text.
pub(super) fn process_row(r: &Row, at: usize) -> rusqlite::Result<Parsed<Process>> {
    let cmdline: String = r.get(at + 7)?;
    let container = match (r.get::<_, Option<String>>(at + 12)?, r.get(at + 13)?) {
        (Some(runtime), Some(id)) => Some(Container {
            runtime,
            id,
            pod_uid: r.get(at + 14)?,
        }),
        _ => None,
    };
    let p = Process {
        pid: r.get(at)?,
        start_ticks: from_sql(r.get(at + 1)?),
        ppid: r.get(at + 2)?,
        comm: ByteString(r.get(at + 3)?),
        exe: r.get::<_, Option<Vec<u8>>>(at + 4)?.map(ByteString),
        exe_deleted: r.get(at + 5)?,
        exe_memfd: r.get(at + 6)?,
        cmdline: Vec::new(),
        uid: r.get(at + 8)?,
        euid: r.get(at + 9)?,
        user: r.get(at + 10)?,
        cgroup: r.get(at + 11)?,
        container,
        netns: r.get::<_, Option<i64>>(at + 15)?.map(from_sql),
        // Not kept by the history (docs/history.md): the tree and stdio of a past run.
        tty: None,
        session: 0,
        pgrp: 0,
        stdio: Vec::new(),
        pty_masters: Vec::new(),
        loader_env: Vec::new(),
        // Nor how the views saw it: a rebuilt run has no cross-view (docs/history.md).
        views: Vec::new(),
        proc_mount: None,
        suspicious_maps: Vec::new(),
    };
    Ok(serde_json::from_str(&cmdline)
        .map(|cmdline| Process { cmdline, ..p })
        .map_err(|e| format!("cmdline: {e}")))
}
