//! Recording a run: one transaction that adds the run, ends the open rows, within the run's
//! namespaces, that the snapshot no longer has, and opens a row for every socket, process and
//! holding not open already. Unchanged rows are not written.
//!
//! Reading the open rows is most of an unchanged run's cost on a large host (two reads of 100k
//! rows), and it does not need the snapshot: a [`Recorder`] opens the database and reads them
//! while the snapshot is taken, and the write transaction reads them again only if another
//! connection committed in between (`PRAGMA data_version`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use rustc_hash::FxHashMap;

use super::rows::{Hash, ProcRow, SockRow, container_columns, holding_hash, socket_hash};
use super::schema::{self, Mode};
use super::{HistoryError, from_sql, scope_text, to_sql};
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
    Recorder::open(path)?.record(snap)
}

/// The three tables whose rows have versions, in the order a run syncs them.
const TABLES: [&str; 3] = ["socket_versions", "process_versions", "holdings"];

/// A table's open rows: each one's hash, with its id and namespace.
type OpenRows = FxHashMap<Hash, (i64, u64)>;

/// A history to record into, with its open rows read ahead of the run when it exists.
pub struct Recorder {
    path: PathBuf,
    /// The database and its open rows; `None` when there was no file yet (a refused run must
    /// not leave one behind).
    ready: Option<Ready>,
}

/// A history opened for writing, and its open rows.
struct Ready {
    conn: Connection,
    /// The open rows of each of [`TABLES`], as of `version`.
    open: [OpenRows; 3],
    /// `PRAGMA data_version` when `open` was read.
    version: i64,
    /// How long opening and reading took.
    read_in: std::time::Duration,
}

impl Ready {
    /// Opens (creating or migrating) the history at `path` and reads its open rows.
    fn open(path: &Path) -> Result<Ready, HistoryError> {
        let started = std::time::Instant::now();
        let conn = schema::open(path, Mode::Write)?;
        let sql = |e| HistoryError::sql(path, e);
        let tx = conn.unchecked_transaction().map_err(sql)?;
        let (open, version) = read_open(&tx).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Ready {
            conn,
            open,
            version,
            read_in: started.elapsed(),
        })
    }
}

impl Recorder {
    /// Opens the history at `path` and reads its open rows, when the file exists; errors of a
    /// file that is not a history come here.
    pub fn open(path: &Path) -> Result<Recorder, HistoryError> {
        let ready = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            _ => Some(Ready::open(path)?),
        };
        Ok(Recorder {
            path: path.to_path_buf(),
            ready,
        })
    }

    /// The database's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long opening the database and reading its open rows ahead took, when it existed.
    pub fn read_ahead(&self) -> Option<std::time::Duration> {
        self.ready.as_ref().map(|r| r.read_in)
    }

    /// Records `snap` (which must be complete: no gaps) as a new run.
    pub fn record(self, snap: &Snapshot) -> Result<Recorded, HistoryError> {
        self.prepare(snap)?.write()
    }

    /// Hashes `snap`'s rows (which must be complete: no gaps), on rayon's pool: what
    /// [`Prepared::write`] needs, computed before it so that `scan` can write while the rules
    /// run on the pool.
    pub fn prepare(self, snap: &Snapshot) -> Result<Prepared<'_>, HistoryError> {
        check_complete(snap)?;
        let default_ns = snap.meta.netns.unwrap_or(0);
        let scope = scope_of(snap, default_ns);
        // Hashing is most of an unchanged run's CPU on a large host; in parallel, and before
        // the write lock is taken.
        let socks: Vec<(&Socket, Hash)> = snap
            .sockets
            .par_iter()
            .map(|s| (s, socket_hash(s, default_ns)))
            .collect();
        let procs = process_rows(snap, default_ns, scope[0]);
        let holds = holding_hashes(&socks, &procs, default_ns);
        Ok(Prepared {
            recorder: self,
            snap,
            default_ns,
            scope,
            socks,
            procs,
            holds,
        })
    }
}

/// A run ready to write: its rows, hashed.
pub struct Prepared<'s> {
    recorder: Recorder,
    snap: &'s Snapshot,
    default_ns: u64,
    scope: Vec<u64>,
    socks: Vec<(&'s Socket, Hash)>,
    procs: Vec<(ProcRow, Hash)>,
    /// Each owner's holding hash, socket by socket.
    holds: Vec<Hash>,
}

impl Prepared<'_> {
    /// Adds the run in one transaction.
    pub fn write(self) -> Result<Recorded, HistoryError> {
        let Prepared {
            recorder,
            snap,
            default_ns,
            scope,
            socks,
            procs,
            holds,
        } = self;
        let path = recorder.path;
        let Ready {
            mut conn,
            mut open,
            version,
            ..
        } = match recorder.ready {
            Some(r) => r,
            None => Ready::open(&path)?,
        };
        let sql = |e| HistoryError::sql(&path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        if data_version(&tx).map_err(sql)? != version {
            open = read_open(&tx).map_err(sql)?.0;
        }
        let [open_socks, open_procs, open_holds] = open;
        let run = insert_run(&tx, snap, &scope).map_err(sql)?;
        let mut rec = Recorded {
            run,
            ..Recorded::default()
        };
        let synced = |table, open| Synced {
            tx: &tx,
            table,
            run,
            scope: &scope,
            open,
        };
        let sock_ids = synced(TABLES[0], open_socks)
            .sync(&socks, &mut rec.sockets, |s, h| {
                insert_socket(&tx, run, &SockRow::of(s, default_ns), h)
            })
            .map_err(sql)?;
        let proc_ids = synced(TABLES[1], open_procs)
            .sync(&procs, &mut rec.processes, |r, h| {
                insert_process(&tx, run, r, h)
            })
            .map_err(sql)?;
        let items = holding_items(&socks, &sock_ids, &procs, &proc_ids, default_ns);
        let items: Vec<(HoldItem, Hash)> = items.into_iter().zip(holds).collect();
        synced(TABLES[2], open_holds)
            .sync(&items, &mut rec.holdings, |(ns, sid, pid, o), h| {
                insert_holding(&tx, run, (*ns, *sid, *pid, *o), h)
            })
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(rec)
    }
}

/// Refuses a snapshot that could not see everything: its missing rows would be recorded as
/// ended.
fn check_complete(snap: &Snapshot) -> Result<(), HistoryError> {
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
    Ok(())
}

/// `PRAGMA data_version`: changes when another connection commits.
fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "data_version", |r| r.get(0))
}

/// The open rows of every table, and the data version they were read at (`conn` is in a
/// transaction, so both are of one state).
fn read_open(conn: &Connection) -> rusqlite::Result<([OpenRows; 3], i64)> {
    let mut tables = [
        OpenRows::default(),
        OpenRows::default(),
        OpenRows::default(),
    ];
    for (table, open) in TABLES.iter().zip(&mut tables) {
        // The partial index of open rows covers this query; left to itself the planner picks
        // `{table}_first` and reads every row from the table.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, hash, ns FROM {table} INDEXED BY {table}_open WHERE end_run IS NULL"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Ok(h) = Hash::try_from(row.get_ref(1)?.as_blob()?) {
                open.insert(h, (row.get(0)?, from_sql(row.get(2)?)));
            }
        }
    }
    Ok((tables, data_version(conn)?))
}

/// A holding to record: its namespace, socket version, process version (when the holder was
/// read) and owner.
type HoldItem = (u64, i64, Option<i64>, Owner);

/// Each owner of each socket, in order: its namespace, socket version, process version (when
/// the holder was read) and owner.
fn holding_items(
    socks: &[(&Socket, Hash)],
    sock_ids: &[i64],
    procs: &[(ProcRow, Hash)],
    proc_ids: &[i64],
    default_ns: u64,
) -> Vec<HoldItem> {
    let by_pid: HashMap<(u64, u32), i64> = procs
        .iter()
        .zip(proc_ids)
        .map(|((row, _), id)| ((row.ns, row.process.pid), *id))
        .collect();
    let mut items = Vec::with_capacity(socks.len());
    for ((s, _), sid) in socks.iter().zip(sock_ids) {
        let ns = s.netns.unwrap_or(default_ns);
        items.extend(
            s.owners
                .iter()
                .map(|o| (ns, *sid, by_pid.get(&(ns, o.pid)).copied(), *o)),
        );
    }
    items
}

/// The hash of each owner of each socket, in [`holding_items`]' order: the socket's hash, its
/// holder's in the socket's namespace, and the owner.
fn holding_hashes(
    socks: &[(&Socket, Hash)],
    procs: &[(ProcRow, Hash)],
    default_ns: u64,
) -> Vec<Hash> {
    let by_pid: HashMap<(u64, u32), Hash> = procs
        .iter()
        .map(|(row, h)| ((row.ns, row.process.pid), *h))
        .collect();
    socks
        .par_iter()
        .flat_map_iter(|(s, h)| {
            let (by_pid, ns) = (&by_pid, s.netns.unwrap_or(default_ns));
            s.owners
                .iter()
                .map(move |o| holding_hash(h, by_pid.get(&(ns, o.pid)), *o))
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

/// One table's part of a run: its open rows, to be brought to the run's items.
struct Synced<'a> {
    tx: &'a Transaction<'a>,
    table: &'static str,
    run: i64,
    /// The run's namespaces: open rows elsewhere are another scan's and stay open.
    scope: &'a [u64],
    open: OpenRows,
}

impl Synced<'_> {
    /// Brings the open rows within scope to `items`: an item whose hash matches an open row
    /// keeps that row; open rows no item matched get `end_run = run`; then any other item is
    /// inserted (`insert` returns its id). Returns each item's row id; counts (opened, ended)
    /// into `counts`.
    ///
    /// Ending comes first: the entries the ended rows leave in the open-row index (`(ns, hash)
    /// WHERE end_run IS NULL`, ~90% full) make room for the new rows' entries. Inserted first,
    /// the run's new entries found no room the first time rows were replaced after the initial
    /// load, and that index grew by the run's whole insert (docs/PERFORMANCE.md, "History").
    fn sync<T>(
        mut self,
        items: &[(T, Hash)],
        counts: &mut (u64, u64),
        mut insert: impl FnMut(&T, &Hash) -> rusqlite::Result<i64>,
    ) -> rusqlite::Result<Vec<i64>> {
        let kept: Vec<Option<i64>> = items
            .iter()
            .map(|(_, h)| self.open.remove(h).map(|(id, _)| id))
            .collect();
        // Ended in id order: the same history gives the same file.
        let ended: BTreeSet<i64> = self
            .open
            .into_values()
            .filter(|(_, ns)| self.scope.binary_search(ns).is_ok())
            .map(|(id, _)| id)
            .collect();
        end_rows(self.tx, self.table, self.run, &ended)?;
        counts.1 += ended.len() as u64;
        let mut ids = Vec::with_capacity(items.len());
        for ((item, h), kept) in items.iter().zip(kept) {
            match kept {
                Some(id) => ids.push(id),
                None => {
                    ids.push(insert(item, h)?);
                    counts.0 += 1;
                }
            }
        }
        Ok(ids)
    }
}

/// Sets `end_run = run` on the rows `ids` of `table`.
fn end_rows(tx: &Transaction, table: &str, run: i64, ids: &BTreeSet<i64>) -> rusqlite::Result<()> {
    let mut end = tx.prepare_cached(&format!("UPDATE {table} SET end_run = ?1 WHERE id = ?2"))?;
    for id in ids {
        end.execute(params![run, id])?;
    }
    Ok(())
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
