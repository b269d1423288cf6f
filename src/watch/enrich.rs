//! Who acted: the process behind an event, read from /proc as soon as the event arrives, cached
//! per (pid, start time) so a reused pid is never mistaken for the process it replaced.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::event::Event;
use crate::collect::procwalk::{self, read_process};
use crate::model::{ByteString, Process};

/// /proc reports start times in USER_HZ ticks, 100 per second on every Linux architecture
/// sockwarden builds for.
const TICKS_PER_SECOND: u64 = 100;

/// How long a pid's start time, read from /proc, is trusted without reading it again. The
/// kernel hands pids out in a cycle of `pid_max` (at least 32,768; 4,194,304 by default on
/// 64-bit): a pid verified this recently cannot name another process unless that many
/// processes were created meanwhile. This spares the /proc read on every event of a busy
/// process (the load test: most events of a 10,000 connections/s client).
const REVALIDATE: Duration = Duration::from_millis(250);

/// A socket's holder as watch saw it: the process and its parent, or, for a process that was
/// gone before /proc could be read, what the event carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The process (from /proc, or from the event when `gone`).
    pub process: Process,
    /// Its parent, when /proc still had it.
    pub parent: Option<Process>,
    /// The process had exited (or its pid was reused) when the event was read: `process` has
    /// only the event's pid, comm and uid.
    pub gone: bool,
}

/// The bounded cache of holders.
pub struct Enricher {
    proc_root: PathBuf,
    cache: LruCache<(u32, u64), Arc<Holder>>,
    users: LruCache<u32, Option<String>>,
    /// Each pid's start time and when it was last read from /proc.
    verified: LruCache<u32, (u64, Instant)>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Enricher {
    /// A cache of at most `capacity` processes (and as many user names).
    pub fn new(proc_root: PathBuf, capacity: usize) -> Enricher {
        let cap = NonZeroUsize::new(capacity.max(1)).expect("at least 1");
        Enricher {
            proc_root,
            cache: LruCache::new(cap),
            users: LruCache::new(cap),
            verified: LruCache::new(cap),
        }
    }

    /// Processes in the cache.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The holder of an event that ran in the acting process's context. A pid whose current
    /// process started after the event (reused) counts as gone.
    pub fn holder(&mut self, ev: &Event) -> Arc<Holder> {
        self.holder_for(ev.tgid, ev.ktime_ns, ev.uid, &ev.comm)
    }

    /// As [`Enricher::holder`], from the fields any event carries.
    pub fn holder_for(
        &mut self,
        tgid: u32,
        ktime_ns: u64,
        uid: u32,
        comm: &ByteString,
    ) -> Arc<Holder> {
        match self.lookup(tgid, Some(ktime_ns)) {
            Some(h) => h,
            None => Arc::new(Holder {
                process: gone_process(tgid, uid, comm.clone(), self.user(uid)),
                parent: None,
                gone: true,
            }),
        }
    }

    /// The network namespace `pid` is in now (the inode of /proc/PID/ns/net).
    pub fn netns_of(&self, pid: u32) -> Option<u64> {
        let link = std::fs::read_link(self.proc_root.join(pid.to_string()).join("ns/net")).ok()?;
        bracketed(link.to_str()?, "net:[")
    }

    /// The inode of the socket `pid` holds at `fd`, when that fd is a socket.
    pub fn socket_inode(&self, pid: u32, fd: u32) -> Option<u64> {
        let link = std::fs::read_link(
            self.proc_root
                .join(pid.to_string())
                .join("fd")
                .join(fd.to_string()),
        )
        .ok()?;
        bracketed(link.to_str()?, "socket:[")
    }

    /// The holder of a pid from a sock_diag dump (the listener table's seed): no event time.
    pub fn holder_of_pid(&mut self, pid: u32) -> Option<Arc<Holder>> {
        self.lookup(pid, None)
    }

    fn lookup(&mut self, pid: u32, event_ns: Option<u64>) -> Option<Arc<Holder>> {
        let start = match self.verified.get(&pid) {
            Some(&(start, at)) if at.elapsed() < REVALIDATE => start,
            _ => {
                let start = self.start_ticks(pid)?;
                self.verified.put(pid, (start, Instant::now()));
                start
            }
        };
        if event_ns.is_some_and(|ns| start / TICKS_PER_SECOND > ns / 1_000_000_000 + 1) {
            return None; // started after the event: the pid was reused
        }
        if let Some(h) = self.cache.get(&(pid, start)) {
            return Some(h.clone());
        }
        let (mut process, _) = read_process(&self.proc_root, pid).ok()?;
        if process.start_ticks != start {
            return None;
        }
        process.user = self.user(process.uid);
        let parent = (process.ppid != 0)
            .then(|| read_process(&self.proc_root, process.ppid).ok())
            .flatten()
            .map(|(mut p, _)| {
                p.user = self.user(p.uid);
                p
            });
        let h = Arc::new(Holder {
            process,
            parent,
            gone: false,
        });
        self.cache.put((pid, start), h.clone());
        Some(h)
    }

    fn start_ticks(&self, pid: u32) -> Option<u64> {
        let stat = std::fs::read(self.proc_root.join(pid.to_string()).join("stat")).ok()?;
        procwalk::parse_stat(&stat).map(|(_, _, start)| start)
    }

    fn user(&mut self, uid: u32) -> Option<String> {
        if let Some(u) = self.users.get(&uid) {
            return u.clone();
        }
        let name = crate::collect::host::user_names([uid]).remove(&uid);
        self.users.put(uid, name.clone());
        name
    }
}

/// `N` of a link text `PREFIXN]`.
fn bracketed(link: &str, prefix: &str) -> Option<u64> {
    link.strip_prefix(prefix)?.strip_suffix(']')?.parse().ok()
}

/// A process known only from an event: pid, comm, uid; the rest empty.
pub fn gone_process(pid: u32, uid: u32, comm: ByteString, user: Option<String>) -> Process {
    Process {
        uid,
        euid: uid,
        user,
        pid,
        comm,
        ..Process::default()
    }
}
