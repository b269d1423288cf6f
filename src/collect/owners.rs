//! Where socket owners come from: the task-file BPF iterator ([`super::taskfiles`]) or the
//! /proc fd walk ([`super::procwalk`]), chosen per `--owners-from`, and the walk for every
//! process the iterator did not visit. `meta.sources.owners` gets the answer and its reason.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::crossview::OwnerViews;
use super::{CollectOptions, WalkParts, procwalk, taskfiles};

crate::model::vocabulary! {
    /// Where socket holders come from (`--owners-from`, `owners_from`; `meta.sources.owners`
    /// records which one answered).
    #[derive(Default)]
    pub enum OwnersFrom {
        /// The task-file BPF iterator on hosts with [`AUTO_BPF_MIN_FILES`] or more open files
        /// when it can be loaded (below that the walk is faster), else the /proc walk.
        #[default]
        Auto => "auto",
        /// The iterator only: when it cannot be loaded, no owners, and a gap `owners` (exit 2
        /// unless `--allow-partial`).
        Bpf => "bpf",
        /// The /proc walk only.
        Procfs => "procfs",
    }
}

/// Below this many open files on the host, `auto` walks /proc instead of loading the iterator.
///
/// The iterator has a fixed cost (reading the kernel's 5.5 MB BTF, 4 KiB per read(2), and
/// verifying the program: ~10 ms) and the walk costs ~3 µs of CPU per descriptor. Measured with
/// the bench harness on 2 vCPUs (hyperfine, 20 runs each, 2026-11-28), snapshot with the iterator
/// against the walk: 2k sockets (2,694 open files) 23.5 vs 16.4 ms, 5k (6,204) 36.1 vs 32.6 ms,
/// 10k (12,054) 53.4 vs 53.1 ms, 100k 256-302 vs 354-506 ms; on this host's own 300 files 15.7
/// vs 5.0 ms.
pub const AUTO_BPF_MIN_FILES: u64 = 10_000;

/// Whether `auto` walks /proc, given the host's open files (unknown: try the iterator).
fn auto_walks(open_files: Option<u64>) -> bool {
    open_files.is_some_and(|n| n < AUTO_BPF_MIN_FILES)
}

/// Open files on the host: the first field of /proc/sys/fs/file-nr (every `struct file`, in
/// every namespace): what a /proc walk has to readlink, at most.
fn open_files() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/fs/file-nr").ok()?;
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// Finds every socket descriptor: through the task-file iterator or by walking /proc/*/fd.
/// Returns the holdings, the `meta.sources.owners` entry and, for cross-view, what each view
/// found: with `opts.crossview`, a host whose owners come from the walk also reads the
/// iterator (a second, independent view at ~10 ms), and the iterator's holdings join the walk's.
pub(super) fn find_holdings(
    opts: &CollectOptions,
    pids: &[u32],
    parts: &mut WalkParts,
) -> (Option<procwalk::FdWalk>, String, OwnerViews) {
    let seen = pids.len() as u64;
    let mut views = OwnerViews::default();
    let walk = match opts.owners_from {
        OwnersFrom::Procfs => true,
        OwnersFrom::Auto => auto_walks(open_files()),
        OwnersFrom::Bpf => false,
    };
    let bpf = |parts: &mut WalkParts| {
        let t0 = Instant::now();
        let r = if opts.proc_root == Path::new("/proc") {
            taskfiles::socket_fds().map(|mut tf| {
                // Sorted once here, beside the dump: the join and cross-view's comparison both
                // want them by inode (cross-view sorted them again after the dump).
                tf.sockets.par_sort_unstable();
                tf
            })
        } else {
            Err(taskfiles::IterError::NotProc(opts.proc_root.clone()))
        };
        parts.walk_iter = t0.elapsed();
        r
    };
    let walk_fds = |pids: &[u32], parts: &mut WalkParts| {
        let t0 = Instant::now();
        let fw = procwalk::walk_fds(&opts.proc_root, pids);
        parts.walk_fds = t0.elapsed();
        fw
    };
    let join = |fw: procwalk::FdWalk, extra: Vec<_>, parts: &mut WalkParts| {
        let t0 = Instant::now();
        let fw = fw.with_holdings(extra, seen);
        parts.walk_index = t0.elapsed();
        fw
    };
    if walk {
        let fw = walk_fds(pids, parts);
        views.fdwalk = fw.inodes();
        if !opts.crossview {
            views.taskfiles_missing = Some("not read".into());
            return (Some(fw), "procfs".into(), views);
        }
        return match bpf(parts) {
            Ok(tf) => {
                views.taskfiles_pids = tf.pids;
                views.taskfiles = tf.sockets.clone();
                (Some(join(fw, tf.sockets, parts)), "procfs".into(), views)
            }
            Err(e) => {
                views.taskfiles_missing = Some(format!("unavailable: {e}"));
                (Some(fw), "procfs".into(), views)
            }
        };
    }
    match (bpf(parts), opts.owners_from) {
        (Ok(tf), _) => {
            // Processes the iterator did not visit (kernel threads, which have no descriptors,
            // and whatever else it skips: this machine's sandbox init) are walked through /proc,
            // so nothing goes unseen without a warning.
            let unseen: Vec<u32> = pids
                .iter()
                .filter(|p| tf.pids.binary_search(p).is_err())
                .copied()
                .collect();
            let rest = walk_fds(&unseen, parts);
            views.fdwalk = rest.inodes();
            views.fdwalk_partial = Some(
                "read per descriptor only for the processes the BPF iterator did not visit (it \
                 gives the owners: --owners-from bpf, or a host with many open files); for the \
                 others, per process: whether /proc/PID/fd opens"
                    .into(),
            );
            if opts.crossview {
                views.taskfiles = tf.sockets.clone();
            }
            views.taskfiles_pids = tf.pids;
            (
                Some(join(rest, tf.sockets, parts)),
                "bpf_iter".into(),
                views,
            )
        }
        (Err(e), OwnersFrom::Bpf) => {
            views.taskfiles_missing = Some(format!("unavailable: {e}"));
            views.fdwalk_missing = Some("not read: --owners-from bpf".into());
            (None, format!("unavailable: {e}"), views)
        }
        (Err(e), _) => {
            views.taskfiles_missing = Some(format!("unavailable: {e}"));
            let fw = walk_fds(pids, parts);
            views.fdwalk = fw.inodes();
            (
                Some(fw),
                format!("procfs (bpf_iter unavailable: {e})"),
                views,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_walks_proc_only_on_hosts_with_few_open_files() {
        assert!(auto_walks(Some(300)));
        assert!(auto_walks(Some(AUTO_BPF_MIN_FILES - 1)));
        assert!(!auto_walks(Some(AUTO_BPF_MIN_FILES)));
        assert!(!auto_walks(Some(1_000_000)));
        assert!(!auto_walks(None), "unknown: try the iterator");
    }

    #[test]
    fn open_files_reads_the_kernels_count() {
        // This test process alone holds a few files open.
        assert!(open_files().is_some_and(|n| n >= 3));
    }
}
