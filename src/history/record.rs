//! Recording a run: one transaction that adds the run, opens a row for every socket, process and
//! holding not open already, and ends the open rows, within the run's namespaces, that the
//! snapshot no longer has. Unchanged rows are not written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;
use rusqlite::{Transaction, TransactionBehavior, params};

use super::rows::{Hash, ProcRow, SockRow, container_columns, holding_hash, socket_hash};
use super::schema::{self, Mode};
use super::{HistoryError, scope_text, to_sql};
use crate::model::{Owner, Snapshot, Socket};

/// What a recorded run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    /// The new run's id.
    pub run: i64,
    /// Socket versions opened, and ended.
    pub sockets: (u64, u64),
    /// Process versions opened, and ended.
    pub processes: (u64, u64),
    /// Holdings opened, and ended.
    pub holdings: (u64, u64),
}

/// The run's detail column: what a reconstruction needs beyond the rows.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Detail {
    pub meta: crate::model::Meta,
    pub namespaces: Vec<crate::model::Namespace>,
    pub warnings: Vec<crate::model::Warning>,
}

/// Records `snap` (which must be complete: no gaps) as a new run of the history at `path`,
/// created when absent.
pub fn record(path: &Path, snap: &Snapshot) -> Result<Recorded, HistoryError> {
    if !snap.gaps.is_empty() {
        let missed: Vec<String> = snap.gaps.iter().map(|g| g.scope.clone()).collect();
        return Err(HistoryError::Incomplete(missed.join(", ")));
    }
    // Without attribution every holding would look ended, and every process gone.
    if !snap.meta.attribution {
        return Err(HistoryError::Incomplete(
            "the owners (process attribution did not run)".into(),
        ));
    }
    let default_ns = snap.meta.netns.unwrap_or(0);
    let scope = scope_of(snap, default_ns);
    // Hashing is most of an unchanged run's CPU on a large host: in parallel, and before the
    // write lock is taken.
    let socks: Vec<(&Socket, Hash)> = snap
        .sockets
        .par_iter()
        .map(|s| (s, socket_hash(s, default_ns)))
        .collect();
    let procs = process_rows(snap, default_ns, scope[0]);
    let mut conn = schema::open(path, Mode::Write)?;
    let sql = |e| HistoryError::sql(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let run = insert_run(&tx, snap, &scope).map_err(sql)?;
    let mut rec = Recorded {
        run,
        ..Recorded::default()
    };
    let sock_ids = sync(
        &tx,
        "socket_versions",
        run,
        &scope,
        &socks,
        &mut rec.sockets,
        |s, h| insert_socket(&tx, run, &SockRow::of(s, default_ns), h),
    )
    .map_err(sql)?;
    let proc_ids = sync(
        &tx,
        "process_versions",
        run,
        &scope,
        &procs,
        &mut rec.processes,
        |r, h| insert_process(&tx, run, r, h),
    )
    .map_err(sql)?;
    let holds = holding_items(&socks, &sock_ids, &procs, &proc_ids, default_ns);
    sync(
        &tx,
        "holdings",
        run,
        &scope,
        &holds,
        &mut rec.holdings,
        |(ns, sid, pid, o), h| insert_holding(&tx, run, (*ns, *sid, *pid, *o), h),
    )
    .map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(rec)
}

/// A holding to record: its namespace, socket version, process version (when the holder was
/// read) and owner.
type HoldItem = (u64, i64, Option<i64>, Owner);

/// The holdings of the snapshot's sockets, with their hashes: each owner of each socket, linked
/// to the socket's version and to its holder's version in the socket's namespace.
fn holding_items(
    socks: &[(&Socket, Hash)],
    sock_ids: &[i64],
    procs: &[(ProcRow, Hash)],
    proc_ids: &[i64],
    default_ns: u64,
) -> Vec<(HoldItem, Hash)> {
    let by_pid: HashMap<(u64, u32), (i64, Hash)> = procs
        .iter()
        .zip(proc_ids)
        .map(|((row, h), id)| ((row.ns, row.process.pid), (*id, *h)))
        .collect();
    socks
        .par_iter()
        .zip(sock_ids.par_iter())
        .flat_map_iter(|((s, h), sid)| {
            let (by_pid, ns) = (&by_pid, s.netns.unwrap_or(default_ns));
            s.owners.iter().map(move |o| {
                let p = by_pid.get(&(ns, o.pid));
                let hh = holding_hash(h, p.map(|(_, ph)| ph), *o);
                ((ns, *sid, p.map(|(id, _)| *id), *o), hh)
            })
        })
        .collect()
}

fn insert_holding(tx: &Transaction, run: i64, item: HoldItem, h: &Hash) -> rusqlite::Result<i64> {
    let (ns, sid, pid, o) = item;
    tx.prepare_cached(
        "INSERT INTO holdings (hash, first_run, ns, socket_version, process_version, pid, fd) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![&h[..], run, to_sql(ns), sid, pid, o.pid, o.fd])?;
    Ok(tx.last_insert_rowid())
}

/// The namespaces a snapshot covers: those it lists, those its sockets name, or else the one it
/// was taken in (`default_ns`); sorted, never empty.
fn scope_of(snap: &Snapshot, default_ns: u64) -> Vec<u64> {
    let mut scope: BTreeSet<u64> = snap.namespaces.iter().map(|n| n.inode).collect();
    scope.extend(snap.sockets.iter().map(|s| s.netns.unwrap_or(default_ns)));
    if scope.is_empty() {
        scope.insert(default_ns);
    }
    scope.into_iter().collect()
}

fn insert_run(tx: &Transaction, snap: &Snapshot, scope: &[u64]) -> rusqlite::Result<i64> {
    let detail = Detail {
        meta: snap.meta.clone(),
        namespaces: snap.namespaces.clone(),
        warnings: snap.warnings.clone(),
    };
    let detail = serde_json::to_string(&detail).expect("the snapshot's header serializes");
    tx.execute(
        "INSERT INTO runs (started_at, host, tool_version, scope, socket_count, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            snap.meta.taken_at,
            snap.meta.hostname,
            env!("CARGO_PKG_VERSION"),
            scope_text(scope),
            snap.sockets.len() as i64,
            detail
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Brings `table`'s open rows within `scope` to `items`: an item whose hash matches an open row
/// keeps that row; any other is inserted (`insert` returns its id); open rows no item matched
/// get `end_run = run`. Returns each item's row id; counts (opened, ended) into `counts`.
fn sync<T>(
    tx: &Transaction,
    table: &str,
    run: i64,
    scope: &[u64],
    items: &[(T, Hash)],
    counts: &mut (u64, u64),
    mut insert: impl FnMut(&T, &Hash) -> rusqlite::Result<i64>,
) -> rusqlite::Result<Vec<i64>> {
    let mut open: HashMap<Hash, i64> = HashMap::new();
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT id, hash FROM {table} WHERE end_run IS NULL AND ns = ?1"
    ))?;
    for ns in scope {
        let rows = stmt.query_map([to_sql(*ns)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            let (id, hash) = row?;
            if let Ok(h) = Hash::try_from(hash.as_slice()) {
                open.insert(h, id);
            }
        }
    }
    let mut ids = Vec::with_capacity(items.len());
    for (item, h) in items {
        match open.remove(h) {
            Some(id) => ids.push(id),
            None => {
                let id = insert(item, h)?;
                counts.0 += 1;
                ids.push(id);
            }
        }
    }
    // Ended in id order: the same history gives the same file.
    let ended: BTreeSet<i64> = open.into_values().collect();
    let mut end = tx.prepare_cached(&format!("UPDATE {table} SET end_run = ?1 WHERE id = ?2"))?;
    for id in &ended {
        end.execute(params![run, id])?;
    }
    counts.1 += ended.len() as u64;
    Ok(ids)
}

fn insert_socket(tx: &Transaction, run: i64, r: &SockRow, h: &Hash) -> rusqlite::Result<i64> {
    let (un, ua, up) = match &r.unix {
        Some((name, ab, peer)) => (
            name.as_ref().map(|n| n.as_bytes().to_vec()),
            Some(*ab),
            peer.map(to_sql),
        ),
        None => (None, None, None),
    };
    let mut stmt = tx.prepare_cached(
        "INSERT INTO socket_versions (hash, first_run, ns, netns, protocol, family, state, \
         local_address, local_port, remote_address, remote_port, inode, cookie, uid, ifindex, \
         interface, v6only, unix_name, unix_abstract, unix_peer, packet_ethertype) VALUES \
         (?21, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20)",
    )?;
    stmt.execute(params![
        run,
        to_sql(r.ns),
        r.netns.map(to_sql),
        r.protocol.name(),
        r.family.name(),
        r.state.name(),
        r.local.map(|e| e.address.to_string()),
        r.local.map(|e| e.port),
        r.remote.map(|e| e.address.to_string()),
        r.remote.map(|e| e.port),
        to_sql(r.inode),
        r.cookie.map(to_sql),
        r.uid,
        r.ifindex,
        r.interface,
        r.v6only,
        un,
        ua,
        up,
        r.packet_ethertype,
        &h[..],
    ])?;
    Ok(tx.last_insert_rowid())
}

fn insert_process(tx: &Transaction, run: i64, r: &ProcRow, h: &Hash) -> rusqlite::Result<i64> {
    let p = &r.process;
    let (runtime, id, pod) = container_columns(p.container.as_ref());
    let cmdline = serde_json::to_string(&p.cmdline).expect("byte strings serialize");
    let mut stmt = tx.prepare_cached(
        "INSERT INTO process_versions (hash, first_run, ns, pid, start_ticks, ppid, comm, exe, \
         exe_deleted, exe_memfd, cmdline, uid, euid, user, cgroup, container_runtime, \
         container_id, container_pod_uid, netns) VALUES (?19, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
         ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?;
    stmt.execute(params![
        run,
        to_sql(r.ns),
        p.pid,
        to_sql(p.start_ticks),
        p.ppid,
        p.comm.as_bytes(),
        p.exe.as_ref().map(|e| e.as_bytes()),
        p.exe_deleted,
        p.exe_memfd,
        cmdline,
        p.uid,
        p.euid,
        p.user,
        p.cgroup,
        runtime,
        id,
        pod,
        p.netns.map(to_sql),
        &h[..],
    ])?;
    Ok(tx.last_insert_rowid())
}

/// The processes of each namespace: the holders of its sockets and their parents, filed under
/// that namespace (a process holding sockets in two namespaces is a row in each). A process the
/// snapshot lists that none of its sockets accounts for is filed under `fallback_ns`.
fn process_rows(snap: &Snapshot, default_ns: u64, fallback_ns: u64) -> Vec<(ProcRow, Hash)> {
    let mut per_ns: BTreeMap<u64, BTreeSet<u32>> = BTreeMap::new();
    for s in &snap.sockets {
        let set = per_ns.entry(s.netns.unwrap_or(default_ns)).or_default();
        set.extend(s.owners.iter().map(|o| o.pid));
    }
    for set in per_ns.values_mut() {
        let parents: Vec<u32> = set
            .iter()
            .filter_map(|&pid| snap.process(pid).map(|p| p.ppid))
            .collect();
        set.extend(parents);
    }
    let filed: BTreeSet<u32> = per_ns.values().flatten().copied().collect();
    let orphans: BTreeSet<u32> = snap
        .processes
        .iter()
        .map(|p| p.pid)
        .filter(|pid| !filed.contains(pid))
        .collect();
    per_ns.entry(fallback_ns).or_default().extend(orphans);
    let mut out = Vec::new();
    for (ns, pids) in per_ns {
        for pid in pids {
            if let Some(p) = snap.process(pid) {
                let row = ProcRow {
                    ns,
                    process: p.clone(),
                };
                let h = row.hash();
                out.push((row, h));
            }
        }
    }
    out
}
