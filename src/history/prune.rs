//! Retention: forgetting runs older than a cutoff, keeping every interval that still overlaps the
//! kept window.

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
        // Holdings first: a holding ends no later than its socket and process versions.
        for table in ["holdings", "socket_versions", "process_versions"] {
            let n = tx
                .execute(
                    &format!("DELETE FROM {table} WHERE end_run IS NOT NULL AND end_run <= ?1"),
                    [first_kept],
                )
                .map_err(sql)?;
            pruned.rows += n as u64;
        }
        let n = tx
            .execute("DELETE FROM runs WHERE id < ?1", [first_kept])
            .map_err(sql)?;
        pruned.runs = n as u64;
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
