//! Retention: forgetting runs older than a cutoff, keeping every interval that still overlaps the
//! kept window.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use rusqlite::{OptionalExtension, TransactionBehavior};

use super::HistoryError;
use super::at::rfc3339;
use super::schema::{self, Mode};

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// Runs deleted.
    pub runs: u64,
    /// Socket versions, process versions and holdings deleted.
    pub rows: u64,
    /// Whether the file was compacted (`VACUUM`) afterwards.
    pub vacuumed: bool,
}

/// Deletes the runs before the one in effect at `cutoff` (the latest run started at or before
/// it, so that `@cutoff` still answers), and the rows no kept run sees: those that ended at or
/// before the first kept run. Rows still open, or open at a kept run, are kept whatever their
/// `first_run`. The latest run is always kept. Compacts the file when a quarter or more of it is
/// free afterwards.
pub fn prune(path: &Path, cutoff: SystemTime) -> Result<Pruned, HistoryError> {
    let mut conn = schema::open(path, Mode::Write)?;
    let sql = |e| HistoryError::sql(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let cutoff = rfc3339(cutoff);
    let boundary: Option<i64> = tx
        .query_row(
            "SELECT id FROM runs WHERE started_at <= ?1 ORDER BY started_at DESC, id DESC LIMIT 1",
            [&cutoff],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let mut pruned = Pruned::default();
    if let Some(first_kept) = boundary {
        (pruned.runs, pruned.rows) = delete_before(&tx, first_kept).map_err(sql)?;
    }
    tx.commit().map_err(sql)?;
    let (free, pages): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT freelist_count FROM pragma_freelist_count), \
             (SELECT page_count FROM pragma_page_count)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql)?;
    if pruned.rows + pruned.runs > 0 && free * 4 >= pages {
        conn.execute_batch("VACUUM").map_err(sql)?;
        pruned.vacuumed = true;
    }
    Ok(pruned)
}

/// Deletes the runs before `first_kept` and the rows that ended at or before it (no kept run
/// sees them): the runs deleted, and the rows.
fn delete_before(tx: &rusqlite::Transaction, first_kept: i64) -> rusqlite::Result<(u64, u64)> {
    let mut rows = 0;
    // Holdings first: a holding ends no later than its socket and process versions.
    for table in ["holdings", "socket_versions", "process_versions"] {
        let n = tx.execute(
            &format!("DELETE FROM {table} WHERE end_run IS NOT NULL AND end_run <= ?1"),
            [first_kept],
        )?;
        rows += n as u64;
    }
    let runs = tx.execute("DELETE FROM runs WHERE id < ?1", [first_kept])?;
    Ok((runs as u64, rows))
}

/// What a size cap did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Capped {
    /// Runs, rows and compaction, as a prune reports them.
    #[serde(flatten)]
    pub pruned: Pruned,
    /// The file's size before, in bytes (pages times page size).
    pub size_before: u64,
    /// Its size after.
    pub size_after: u64,
    /// The cap could not be met: the latest run alone needs more.
    pub over: bool,
}

/// Brings the history under `max_bytes`: when the file is larger, first compacts it if its
/// free pages alone are the excess; otherwise deletes the oldest runs (and the rows no kept run
/// sees, exactly as [`prune`] does) until the estimate of what is left fits, then compacts,
/// and measures again (at most six rounds, each aiming twice as far as the one before: the
/// estimate is per average row). The latest run is
/// never deleted; when it alone is over the cap, [`Capped::over`] says so.
pub fn cap(path: &Path, max_bytes: u64) -> Result<Capped, HistoryError> {
    let mut conn = schema::open(path, Mode::Write)?;
    let sql = |e| HistoryError::sql(path, e);
    let mut out = Capped {
        size_before: size(&conn).map_err(sql)?.0,
        ..Capped::default()
    };
    for round in 0..6u32 {
        let (bytes, live) = size(&conn).map_err(sql)?;
        if bytes <= max_bytes {
            break;
        }
        if live > max_bytes {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // The estimate counts rows, not the pages every table and index keeps however few
            // rows it has: a round that left the file over the cap aims twice as far.
            let excess = (live - max_bytes).saturating_mul(1 << round);
            let Some(first_kept) = first_kept_for(&tx, excess, live).map_err(sql)? else {
                break;
            };
            let (runs, rows) = delete_before(&tx, first_kept).map_err(sql)?;
            tx.commit().map_err(sql)?;
            out.pruned.runs += runs;
            out.pruned.rows += rows;
            if runs + rows == 0 {
                break;
            }
        }
        // A file over its cap shrinks only by compaction.
        conn.execute_batch("VACUUM").map_err(sql)?;
        out.pruned.vacuumed = true;
    }
    out.size_after = size(&conn).map_err(sql)?.0;
    out.over = out.size_after > max_bytes;
    Ok(out)
}

/// The file's size and the part of it in use (without free pages), in bytes.
fn size(conn: &rusqlite::Connection) -> rusqlite::Result<(u64, u64)> {
    conn.query_row(
        "SELECT (SELECT page_count FROM pragma_page_count), \
         (SELECT freelist_count FROM pragma_freelist_count), \
         (SELECT page_size FROM pragma_page_size)",
        [],
        |r| {
            let (pages, free, size): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(((pages * size) as u64, ((pages - free) * size) as u64))
        },
    )
}

/// The oldest run to keep so that about `excess` of the `live` bytes are freed: each run row
/// weighs its `detail` and each version or holding row the average of the rest; deleting the
/// runs before K frees them and the rows that ended at or before K. `None` when only the latest
/// run is left (nothing to delete).
fn first_kept_for(
    tx: &rusqlite::Transaction,
    excess: u64,
    live: u64,
) -> rusqlite::Result<Option<i64>> {
    let runs: Vec<(i64, u64)> = tx
        .prepare("SELECT id, length(detail) + 64 FROM runs ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
        .collect::<Result<_, _>>()?;
    if runs.len() < 2 {
        return Ok(None);
    }
    let mut ended: BTreeMap<i64, u64> = BTreeMap::new();
    let mut rows = 0u64;
    for table in ["holdings", "socket_versions", "process_versions"] {
        rows += tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })? as u64;
        let mut stmt = tx.prepare(&format!(
            "SELECT end_run, count(*) FROM {table} WHERE end_run IS NOT NULL GROUP BY end_run"
        ))?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
            let (run, n) = row?;
            *ended.entry(run).or_default() += n as u64;
        }
    }
    let run_bytes: u64 = runs.iter().map(|r| r.1).sum();
    let per_row = live.saturating_sub(run_bytes) / rows.max(1);
    let mut freed = 0u64;
    let mut ended = ended.into_iter().peekable();
    let latest = runs[runs.len() - 1].0;
    for (i, &(id, _)) in runs.iter().enumerate().skip(1) {
        // Keeping run `id` deletes the run before it and the rows that ended by `id`.
        freed += runs[i - 1].1;
        while let Some((_, n)) = ended.next_if(|(end, _)| *end <= id) {
            freed += n * per_row;
        }
        if freed >= excess || id == latest {
            return Ok(Some(id));
        }
    }
    Ok(Some(latest))
}
