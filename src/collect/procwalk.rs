//! Process attribution: one parallel walk of /proc/*/fd, then metadata for the socket holders.
//!
//! The walk is the expensive part of any `ss -p` (research/bench.md: 3-4 µs per fd), so it does
//! exactly one `readlink` per fd and nothing else per fd: no open, no stat, no xattr. Inodes go into
//! a hash map (FxHash: inodes are not attacker-chosen keys) sized from the result, never a fixed bucket count (ss's 256 buckets make `ss -p`
//! quadratic). Metadata is read only for processes that hold a socket and for their parents.
//!
//! /proc files are read by hand rather than through the procfs crate: comm, cmdline and exe are
//! attacker-chosen bytes that must be kept exactly, and procfs returns them as lossy Strings.
//! A process that exits or refuses access mid-walk is counted, never fatal.

use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::container::container_from_cgroup;
use crate::model::{ByteString, FdKind, Owner, Process, StdioLink};

/// The result of the fd walk.
#[derive(Debug, Default)]
pub struct FdWalk {
    /// Every (socket inode, holder) found, sorted by inode, pid and fd.
    holdings: Vec<(u64, Owner)>,
    /// Socket inode → index of its first entry in `holdings`.
    first: FxHashMap<u64, u32>,
    /// Processes seen in /proc.
    pub processes_seen: u64,
    /// Processes that exited between the /proc listing and the read of their fd table.
    pub vanished: Vec<u32>,
    /// Processes whose fd table could not be read (permission).
    pub denied: Vec<u32>,
    /// Processes whose fd table was listed but some of whose descriptors the kernel refused to
    /// resolve (EACCES/EPERM even for root: a security module, ptrace rules, a sandbox's init).
    /// Their sockets, if any, show no owner.
    pub links_denied: Vec<u32>,
    /// Socket file descriptors found.
    pub socket_fds: u64,
}

impl FdWalk {
    /// Every (pid, fd) holding the socket with this inode, sorted. Its exact length is known, so
    /// that collecting it allocates exactly the owners (one socket in a million-socket snapshot
    /// would otherwise reserve four).
    pub fn owners(&self, inode: u64) -> impl ExactSizeIterator<Item = Owner> + '_ {
        let start = self
            .first
            .get(&inode)
            .map_or(self.holdings.len(), |&i| i as usize);
        let rest = &self.holdings[start..];
        let n = rest.iter().take_while(|(i, _)| *i == inode).count();
        rest[..n].iter().map(|(_, o)| *o)
    }

    /// Every socket inode some walked descriptor holds.
    pub fn inodes(&self) -> rustc_hash::FxHashSet<u64> {
        let mut set = rustc_hash::FxHashSet::default();
        set.reserve(self.first.len());
        set.extend(self.holdings.iter().map(|(i, _)| *i));
        set
    }

    /// Every pid that holds a socket, sorted, once each.
    pub fn holders(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.holdings.iter().map(|(_, o)| o.pid).collect();
        pids.par_sort_unstable();
        pids.dedup();
        pids
    }
}

enum PidFds {
    /// The socket descriptors, and whether the kernel refused to resolve some descriptor.
    Sockets(Vec<(u64, u32)>, bool),
    Vanished,
    Denied,
}

/// Lists the numeric entries of `proc_root`.
pub fn list_pids(proc_root: &Path) -> io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = fs::read_dir(proc_root)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            std::str::from_utf8(e.file_name().as_bytes())
                .ok()?
                .parse()
                .ok()
        })
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// Walks /proc/PID/fd for every pid, in parallel, and maps socket inodes to their holders.
pub fn walk_fds(proc_root: &Path, pids: &[u32]) -> FdWalk {
    let per_pid: Vec<(u32, PidFds)> = pids
        .par_iter()
        .map(|&pid| (pid, read_fd_table(proc_root, pid)))
        .collect();
    let mut walk = FdWalk {
        processes_seen: pids.len() as u64,
        ..FdWalk::default()
    };
    for (pid, r) in per_pid {
        match r {
            PidFds::Sockets(v, links_denied) => {
                walk.socket_fds += v.len() as u64;
                if links_denied {
                    walk.links_denied.push(pid);
                }
                walk.holdings
                    .extend(v.into_iter().map(|(inode, fd)| (inode, Owner { pid, fd })));
            }
            PidFds::Vanished => walk.vanished.push(pid),
            PidFds::Denied => walk.denied.push(pid),
        }
    }
    walk.index();
    walk
}

impl FdWalk {
    /// This walk (of the processes another source did not visit) with that source's holdings
    /// added: the task-file iterator's sockets, re-indexed together. `processes_seen` becomes
    /// the number of processes in /proc.
    /// `extra` comes sorted (the walker sorts the iterator's records once, for cross-view too):
    /// the two lists are merged, not sorted again.
    pub fn with_holdings(mut self, mut extra: Vec<(u64, Owner)>, processes_seen: u64) -> FdWalk {
        self.socket_fds += extra.len() as u64;
        self.processes_seen = processes_seen;
        if !extra.is_sorted() {
            extra.par_sort_unstable();
        }
        self.holdings = merge_sorted(std::mem::take(&mut self.holdings), extra);
        self.first.clear();
        self.index();
        self
    }

    fn index(&mut self) {
        // A flat sorted list and an index of first entries, not a map of Vecs: 100k sockets need
        // two allocations instead of 100k, and the join only reads it. Sorted, then deduplicated:
        // a thread with its own fd table can show its process's (inode, pid, fd) twice.
        if !self.holdings.is_sorted() {
            self.holdings.par_sort_unstable();
        }
        self.holdings.dedup();
        self.first.reserve(self.holdings.len());
        for (i, (inode, _)) in self.holdings.iter().enumerate() {
            self.first.entry(*inode).or_insert(i as u32);
        }
    }
}

/// Two sorted lists as one sorted list, in one pass (the larger one's allocation is reused when
/// the other is empty: the usual case, the iterator having visited every process with files).
fn merge_sorted<T: Ord + Copy>(a: Vec<T>, b: Vec<T>) -> Vec<T> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn read_fd_table(proc_root: &Path, pid: u32) -> PidFds {
    let mut dir = proc_root.join(pid.to_string());
    dir.push("fd");
    // The directory is opened once and every link is read relative to it (readlinkat), so the
    // kernel does not resolve /proc/PID/fd again for each of a process's descriptors.
    let handle = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(&dir)
    {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return PidFds::Denied,
        Err(_) => return PidFds::Vanished,
    };
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return PidFds::Denied,
        Err(_) => return PidFds::Vanished,
    };
    let mut out = Vec::new();
    let mut denied = false;
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(fd) = std::str::from_utf8(name.as_bytes())
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        match nix::fcntl::readlinkat(&handle, name.as_os_str()) {
            Ok(target) => {
                if let Some(inode) = socket_inode(target.as_bytes()) {
                    out.push((inode, fd));
                }
            }
            Err(e) => denied |= link_refused(e),
        }
    }
    PidFds::Sockets(out, denied)
}

/// Whether a failed readlink of /proc/PID/fd/N means the kernel refused it (to be counted), as
/// opposed to the descriptor having been closed since the listing (ENOENT: nothing to see).
fn link_refused(e: nix::errno::Errno) -> bool {
    matches!(e, nix::errno::Errno::EACCES | nix::errno::Errno::EPERM)
}

/// `socket:[12345]` → 12345.
///
/// (Also used by cross-view's re-check of one descriptor.)
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let rest = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(rest).ok()?.parse().ok()
}

/// Why a process's metadata could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaError {
    /// The process exited, its pid was reused while it was read, or its stat or status file could
    /// not be read or parsed for another reason than permission: counted as `proc_meta_vanished`.
    Vanished,
    /// Reading /proc/PID/stat or /proc/PID/status was refused (permission): counted as
    /// `proc_meta_denied`.
    Denied,
}

/// What a process's metadata may lack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaFlags {
    /// Fields that need privileges the caller lacks (exe of another user's process) are empty.
    pub partial: bool,
    /// The process was exiting (a zombie, or gone) by the end of the read: its exe and command
    /// line may be empty although it had them.
    pub exiting: bool,
}

/// Reads one process's metadata; the flags say what may be missing. A process whose pid was
/// reused while it was read (another start time) is `Vanished`: its fields would mix two
/// processes.
pub fn read_process(proc_root: &Path, pid: u32) -> Result<(Process, MetaFlags), MetaError> {
    let dir = proc_root.join(pid.to_string());
    // Every file below is opened relative to this one directory (its dentry is tied to this
    // process: a reused pid is another directory), not by a path the kernel resolves again.
    let fd = PidDir::open(&dir).map_err(meta_error)?;
    let stat = fd.read("stat", 512).map_err(meta_error)?;
    let (comm, ppid, start_ticks) = parse_stat(&stat).ok_or(MetaError::Vanished)?;
    let (pgrp, session, tty_nr) = parse_stat_ids(&stat).unwrap_or_default();
    let status = fd.read("status", 2048).map_err(meta_error)?;
    let (uid, euid) = parse_uids(&status).ok_or(MetaError::Vanished)?;
    let mut flags = MetaFlags::default();
    let (exe, exe_deleted, exe_memfd) = match fd.readlink("exe") {
        Ok(p) => {
            let (exe, deleted, memfd) = classify_exe(&p);
            (Some(exe), deleted, memfd)
        }
        Err(e) => {
            // Kernel threads have no exe (ENOENT); other users' processes need privileges.
            if e.kind() == io::ErrorKind::PermissionDenied {
                flags.partial = true;
            }
            (None, false, false)
        }
    };
    // One read of up to 4 KiB takes any ordinary command line whole: the kernel copies the
    // argument area afresh on every read(2), and a process that exited between two reads was
    // once recorded with its command line cut after a 32-byte probe (the caller's second look
    // at its stat flags it `exiting`).
    let cmdline = fd.read("cmdline", 4096).unwrap_or_default();
    let cmdline = split_cmdline(&cmdline);
    let loader_env = match fd.read("environ", 4096) {
        Ok(env) => loader_vars(&env),
        Err(e) => {
            // The same ptrace check as the exe link: other users' processes need privileges.
            if e.kind() == io::ErrorKind::PermissionDenied {
                flags.partial = true;
            }
            Vec::new()
        }
    };
    let cgroup = fd.read("cgroup", 256).ok().and_then(|c| parse_cgroup(&c));
    let container = cgroup.as_deref().and_then(container_from_cgroup);
    let netns = match fd.readlink("ns/net") {
        Ok(p) => ns_inode(&p),
        Err(e) => {
            // An exiting process loses its namespace links (ENOENT): not a permission gap.
            if e.kind() == io::ErrorKind::PermissionDenied {
                flags.partial = true;
            }
            None
        }
    };
    let suspicious_maps = read_maps(&fd, &dir, exe.as_ref());
    // Still the same process, and still alive? An exiting process loses its exe link and its
    // memory (so its command line) before it disappears.
    match fd.read("stat", 512).ok().as_deref().and_then(stat_state) {
        Some((_, start)) if start != start_ticks => return Err(MetaError::Vanished),
        Some((b'Z' | b'X' | b'x', _)) | None => flags.exiting = true,
        Some(_) => {}
    }
    Ok((
        Process {
            pid,
            ppid,
            comm: ByteString(comm),
            exe,
            exe_deleted,
            exe_memfd,
            cmdline,
            uid,
            euid,
            user: None,
            start_ticks,
            cgroup,
            container,
            netns,
            tty: tty_name(tty_nr),
            session,
            pgrp,
            // Filled by the caller from the stdio pass over every process.
            stdio: Vec::new(),
            pty_masters: Vec::new(),
            loader_env,
            // Filled by cross-view.
            views: Vec::new(),
            proc_mount: None,
            suspicious_maps,
        },
        flags,
    ))
}

/// The suspicious executable mappings of /proc/PID/maps ([`suspicious_maps`]) other than the
/// executable itself (its path is `exe_*`'s business: NET-PRC-001 and -002); the directories
/// are checked through /proc/PID/root, in the process's own mount namespace. Empty when the
/// file cannot be read (the same ptrace check as `environ`, counted there).
fn read_maps(fd: &PidDir, dir: &Path, exe: Option<&ByteString>) -> Vec<ByteString> {
    let Ok(mut file) = fd.open_file("maps") else {
        return Vec::new();
    };
    let root = dir.join("root");
    let world_writable = |d: &[u8]| {
        let rel = d.strip_prefix(b"/").unwrap_or(d);
        let p = root.join(std::ffi::OsStr::from_bytes(rel));
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
    };
    let mut v = match exec_mappings(&file) {
        Ok(paths) => suspicious_paths(paths.iter().map(Vec::as_slice), world_writable),
        Err(_) => {
            // A kernel before 6.11 (no PROCMAP_QUERY), or a path longer than PATH_MAX: the
            // whole text, which the kernel hands out a page per read(2) at most.
            use std::io::Read;
            let mut maps = Vec::with_capacity(16 * 1024);
            if file.read_to_end(&mut maps).is_err() {
                return Vec::new();
            }
            suspicious_maps(&maps, world_writable)
        }
    };
    if let Some(exe) = exe {
        v.retain(|m| {
            let file = m.as_bytes();
            let file = file.strip_suffix(b" (deleted)").unwrap_or(file);
            file != exe.as_bytes()
        });
    }
    v
}

/// Executable file mappings of a maps text that an attacker could have planted: from a
/// directory `world_writable` says anyone may write (/tmp, /dev/shm, /var/tmp), or of a file
/// deleted since it was mapped, outside /usr and /lib (where a package upgrade deletes what
/// running daemons still map). memfd mappings are left out (JIT runtimes use them; a memfd
/// executable is `exe_memfd`). Sorted, each once, with the ` (deleted)` the kernel adds.
pub fn suspicious_maps(maps: &[u8], world_writable: impl Fn(&[u8]) -> bool) -> Vec<ByteString> {
    suspicious_paths(exec_paths(maps), world_writable)
}

/// The paths of a maps text's executable file mappings, as the text shows them.
fn exec_paths(maps: &[u8]) -> impl Iterator<Item = &[u8]> {
    maps.split(|&b| b == b'\n').filter_map(|line| {
        // address perms offset dev inode path: the path starts after the fifth field and may
        // itself hold spaces.
        let mut rest = line;
        let mut fields = Vec::with_capacity(5);
        for _ in 0..5 {
            let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
            rest = &rest[start..];
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            fields.push(&rest[..end]);
            rest = &rest[end..];
        }
        let path = &rest[rest.iter().position(|&b| b != b' ').unwrap_or(rest.len())..];
        (fields[1].get(2) == Some(&b'x') && path.starts_with(b"/")).then_some(path)
    })
}

/// `struct procmap_query` (uapi linux/fs.h, Linux 6.11): 104 bytes.
#[repr(C)]
#[derive(Default)]
struct ProcmapQuery {
    size: u64,
    query_flags: u64,
    query_addr: u64,
    vma_start: u64,
    vma_end: u64,
    vma_flags: u64,
    vma_page_size: u64,
    vma_offset: u64,
    inode: u64,
    dev_major: u32,
    dev_minor: u32,
    vma_name_size: u32,
    build_id_size: u32,
    vma_name_addr: u64,
    build_id_addr: u64,
}

/// `_IOWR('f', 17, struct procmap_query)`.
const PROCMAP_QUERY: libc::c_ulong = 0xC068_6611;
/// `PROCMAP_QUERY_VMA_EXECUTABLE | PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
/// PROCMAP_QUERY_FILE_BACKED_VMA`: the next executable file mapping at or after the address.
const QUERY_NEXT_EXEC_FILE: u64 = 0x04 | 0x10 | 0x20;

/// The paths of a process's executable file mappings, from the PROCMAP_QUERY ioctl on its open
/// maps file: the kernel skips the other mappings itself and prints a path only for these, where
/// reading maps formats every mapping (~3x the cost of the rest of a process's metadata at 100k
/// sockets: docs/PERFORMANCE.md, issue 19 session 9). Paths come as maps shows them (a newline
/// as `\012`, ` (deleted)` kept). `Err` on kernels without the ioctl (before 6.11).
#[allow(unsafe_code)]
fn exec_mappings(maps: &fs::File) -> io::Result<Vec<Vec<u8>>> {
    use std::os::fd::AsRawFd;
    let mut name = vec![0u8; libc::PATH_MAX as usize];
    let mut out = Vec::new();
    let mut addr = 0u64;
    loop {
        let mut q = ProcmapQuery {
            size: std::mem::size_of::<ProcmapQuery>() as u64,
            query_flags: QUERY_NEXT_EXEC_FILE,
            query_addr: addr,
            vma_name_size: name.len() as u32,
            vma_name_addr: name.as_mut_ptr() as u64,
            ..ProcmapQuery::default()
        };
        // SAFETY: no wrapper in libc, nix or rustix. `q` is a valid, writable `struct
        // procmap_query` whose `size` says how much of it the kernel may read and write; the one
        // pointer in it (`vma_name_addr`) points to `name`, alive across the call, of the size
        // written beside it; `build_id_size` is 0, so the kernel writes no build id.
        let r = unsafe { libc::ioctl(maps.as_raw_fd(), PROCMAP_QUERY as _, &mut q) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOENT) {
                return Ok(out); // no mapping after `addr`
            }
            return Err(e);
        }
        // `vma_name_size` comes back as the name's length with its NUL.
        let n = (q.vma_name_size as usize).saturating_sub(1).min(name.len());
        out.push(escape_newlines(&name[..n]));
        if q.vma_end <= addr {
            return Err(io::Error::other("PROCMAP_QUERY did not advance"));
        }
        addr = q.vma_end;
    }
}

/// A path as /proc/PID/maps prints it: the kernel escapes a newline as `\012`.
fn escape_newlines(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &b in path {
        if b == b'\n' {
            out.extend_from_slice(b"\\012");
        } else {
            out.push(b);
        }
    }
    out
}

/// [`suspicious_maps`] of the executable file mappings' paths.
fn suspicious_paths<'m>(
    paths: impl Iterator<Item = &'m [u8]>,
    world_writable: impl Fn(&[u8]) -> bool,
) -> Vec<ByteString> {
    let mut dirs: Vec<(&[u8], bool)> = Vec::new();
    let mut out: Vec<ByteString> = Vec::new();
    for path in paths {
        let (file, deleted) = match path.strip_suffix(b" (deleted)") {
            Some(f) => (f, true),
            None => (path, false),
        };
        if file.starts_with(b"/memfd:") {
            continue;
        }
        let system = [&b"/usr/"[..], b"/lib/", b"/lib64/", b"/lib32/"]
            .iter()
            .any(|p| file.starts_with(p));
        let dir = &file[..file.iter().rposition(|&b| b == b'/').unwrap_or(0).max(1)];
        let writable = match dirs.iter().find(|(d, _)| *d == dir) {
            Some((_, w)) => *w,
            None => {
                let w = world_writable(dir);
                dirs.push((dir, w));
                w
            }
        };
        if writable || (deleted && !system) {
            out.push(ByteString(path.to_vec()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A process's /proc directory, opened once (`O_PATH`): its files are opened and its links read
/// relative to it, so the kernel looks up /proc/PID once per process instead of once per file.
pub(super) struct PidDir(std::os::fd::OwnedFd);

impl PidDir {
    pub(super) fn open(dir: &Path) -> io::Result<PidDir> {
        let f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir)?;
        Ok(PidDir(f.into()))
    }

    /// The whole file, read in as few system calls as possible: open, a read of `expect` bytes
    /// that takes a typical file whole, a read that finds the end, close. `File::read_to_end`
    /// also asks for the size (`statx`, then `lseek`: 0 for every /proc file), two calls more
    /// per file, ~10% of reading a process at 10,000 processes (issue 19).
    pub(super) fn read(&self, name: &str, expect: usize) -> io::Result<Vec<u8>> {
        read_whole(&self.open_file(name)?, expect.max(1))
    }

    /// A file under the directory, opened for reading.
    pub(super) fn open_file(&self, name: &str) -> io::Result<fs::File> {
        let fd = nix::fcntl::openat(
            &self.0,
            name,
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        Ok(fs::File::from(fd))
    }

    /// A link's target (`exe`, `ns/net`, `fd/N`).
    pub(super) fn readlink(&self, name: &str) -> io::Result<Vec<u8>> {
        Ok(nix::fcntl::readlinkat(&self.0, name)?.into_vec())
    }
}

/// Reads `file` to its end into a buffer of `expect` bytes to start with. Through `Take`: the
/// generic `read_to_end`, which reads into the spare capacity as it is (not zeroed first) and
/// never asks for the size.
fn read_whole(file: &fs::File, expect: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(expect);
    file.take(u64::MAX).read_to_end(&mut out)?;
    Ok(out)
}

/// A failed read of a file every process has: refused is `Denied`, anything else `Vanished`.
fn meta_error(e: io::Error) -> MetaError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => MetaError::Denied,
        _ => MetaError::Vanished,
    }
}

/// The state character and start time from `/proc/PID/stat`.
fn stat_state(stat: &[u8]) -> Option<(u8, u64)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    Some((
        *fields.first()?.as_bytes().first()?,
        fields.get(19)?.parse().ok()?,
    ))
}

/// `/proc/PID/stat`: comm is everything between the first '(' and the last ')', since a comm may
/// itself hold ')' and spaces (ss and lsof cut it at the first ')').
pub fn parse_stat(stat: &[u8]) -> Option<(Vec<u8>, u32, u64)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?.to_vec();
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // fields[0] is field 3 (state); ppid is field 4; starttime is field 22.
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((comm, ppid, start))
}

/// The dynamic loader's injection variables (`LD_PRELOAD`, `LD_LIBRARY_PATH`, `LD_AUDIT`) of a
/// NUL-separated environment, as `NAME=VALUE` entries, sorted. The environment is the one the
/// process started with (what /proc shows), which is what its loader acted on.
pub fn loader_vars(environ: &[u8]) -> Vec<ByteString> {
    let mut out: Vec<ByteString> = environ
        .split(|&b| b == 0)
        .filter(|e| {
            [&b"LD_PRELOAD="[..], b"LD_LIBRARY_PATH=", b"LD_AUDIT="]
                .iter()
                .any(|p| e.starts_with(p))
        })
        .map(|e| ByteString(e.to_vec()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Process group, session and controlling terminal (`tty_nr`) from `/proc/PID/stat`.
pub fn parse_stat_ids(stat: &[u8]) -> Option<(u32, u32, u32)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // fields[2] is field 5 (pgrp), then session and tty_nr (a dev_t, as a signed int).
    Some((
        f.get(2)?.parse().ok()?,
        f.get(3)?.parse().ok()?,
        f.get(4)?.parse::<i64>().ok()? as u32,
    ))
}

/// The name of a controlling terminal from its `tty_nr` (major in bits 8-19, minor in bits
/// 0-7 and 20-31): `pts/N` for Unix 98 ptys (majors 136-143), `ttyN` and `ttySN` (major 4),
/// `console`, else `MAJOR:MINOR`; `None` for 0 (no terminal).
pub fn tty_name(tty_nr: u32) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match (major, minor) {
        (136..=143, m) => format!("pts/{}", (major - 136) * 256 + m),
        (4, m) if m < 64 => format!("tty{m}"),
        (4, m) => format!("ttyS{}", m - 64),
        (5, 1) => "console".to_string(),
        (maj, m) => format!("{maj}:{m}"),
    })
}

/// What descriptors 0, 1 and 2 of a process lead to: one `readlink` each, and a `stat` only for
/// a path (to tell a FIFO from a file). Empty when the fd table cannot be read (permission, or
/// the process is gone). Also whether /proc/PID/fd opened at all (refused counts as opened: a
/// permission, not a hidden table), which cross-view asks of every socket holder.
pub fn read_stdio(proc_root: &Path, pid: u32) -> (Vec<StdioLink>, bool) {
    let dir = proc_root.join(pid.to_string()).join("fd");
    // One open of the table, the links read relative to it (as `read_fd_table` does).
    let handle = match fs::File::open(&dir) {
        Ok(h) => h,
        Err(e) => return (Vec::new(), e.kind() == io::ErrorKind::PermissionDenied),
    };
    let mut out = Vec::with_capacity(3);
    for (fd, name) in [(0u32, "0"), (1, "1"), (2, "2")] {
        match nix::fcntl::readlinkat(&handle, name) {
            Ok(target) => out.push(classify_fd(fd, target.as_bytes(), || {
                let st =
                    nix::sys::stat::fstatat(&handle, name, nix::fcntl::AtFlags::empty()).ok()?;
                Some((st.st_mode & libc::S_IFMT == libc::S_IFIFO, st.st_ino))
            })),
            Err(nix::errno::Errno::ENOENT) if dir.exists() => out.push(StdioLink {
                fd,
                kind: FdKind::Closed,
                path: None,
                inode: None,
            }),
            Err(_) => return (Vec::new(), true),
        }
    }
    (out, true)
}

/// The FIFOs a process holds on descriptors above 2, as links of kind `fifo` (a pipeline stage
/// such as `cat FIFO` reads one there). Empty when the fd table cannot be read.
pub fn read_fifos(proc_root: &Path, pid: u32) -> Vec<StdioLink> {
    let dir = proc_root.join(pid.to_string()).join("fd");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<StdioLink> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let fd: u32 = e.file_name().to_str()?.parse().ok()?;
            let target = fs::read_link(e.path()).ok()?;
            let t = target.as_os_str().as_bytes();
            if fd < 3 || !t.starts_with(b"/") || t.starts_with(b"/dev/") {
                return None;
            }
            let link = classify_fd(fd, t, || {
                use std::os::unix::fs::{FileTypeExt, MetadataExt};
                fs::metadata(e.path())
                    .ok()
                    .map(|m| (m.file_type().is_fifo(), m.ino()))
            });
            (link.kind == FdKind::Fifo).then_some(link)
        })
        .collect();
    out.sort_by_key(|l| l.fd);
    out
}

/// One standard descriptor from its link text; `stat` tells a FIFO (and its inode) from a file,
/// and is called only for a path that is not a known device.
pub fn classify_fd(
    fd: u32,
    target: &[u8],
    stat: impl FnOnce() -> Option<(bool, u64)>,
) -> StdioLink {
    let bracketed = |prefix: &[u8]| -> Option<u64> {
        let rest = target.strip_prefix(prefix)?.strip_suffix(b"]")?;
        std::str::from_utf8(rest).ok()?.parse().ok()
    };
    let link = |kind, path: Option<&[u8]>, inode| StdioLink {
        fd,
        kind,
        path: path.map(ByteString::from),
        inode,
    };
    if let Some(i) = bracketed(b"socket:[") {
        return link(FdKind::Socket, None, Some(i));
    }
    if let Some(i) = bracketed(b"pipe:[") {
        return link(FdKind::Pipe, None, Some(i));
    }
    if target == b"/dev/null" {
        return link(FdKind::Null, Some(target), None);
    }
    if target.starts_with(b"/dev/pts/") {
        return link(FdKind::Pty, Some(target), None);
    }
    if target.starts_with(b"/dev/tty") || target == b"/dev/console" {
        return link(FdKind::Tty, Some(target), None);
    }
    if !target.starts_with(b"/") {
        return link(FdKind::Other, None, None);
    }
    match stat() {
        Some((true, ino)) => link(FdKind::Fifo, Some(target), Some(ino)),
        _ => link(FdKind::File, Some(target), None),
    }
}

/// The pty indexes whose master this process holds: each `/dev/ptmx` descriptor's `tty-index`
/// from its fdinfo. Read only for the few processes that may hold a shell's terminal.
pub fn pty_masters(proc_root: &Path, pid: u32) -> Vec<u32> {
    let dir = proc_root.join(pid.to_string());
    let Ok(entries) = fs::read_dir(dir.join("fd")) else {
        return Vec::new();
    };
    let mut out: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            fs::read_link(e.path())
                .is_ok_and(|t| matches!(t.as_os_str().as_bytes(), b"/dev/ptmx" | b"/dev/pts/ptmx"))
        })
        .filter_map(|e| {
            let info = fs::read(dir.join("fdinfo").join(e.file_name())).ok()?;
            tty_index(&info)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `tty-index:` of a ptmx descriptor's fdinfo.
pub fn tty_index(fdinfo: &[u8]) -> Option<u32> {
    String::from_utf8_lossy(fdinfo)
        .lines()
        .find_map(|l| l.strip_prefix("tty-index:"))?
        .trim()
        .parse()
        .ok()
}

/// The parent pid of a process (`None` when it is gone).
pub fn ppid(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = fs::read(proc_root.join(pid.to_string()).join("stat")).ok()?;
    parse_stat(&stat).map(|(_, ppid, _)| ppid)
}

/// What [`read_stdio_many`] read: every process's stdio, and the processes whose fd table did
/// not open.
#[derive(Debug, Default)]
pub struct StdioMany {
    /// pid → descriptors 0-2; processes whose descriptors could not be read are left out.
    pub links: FxHashMap<u32, Vec<StdioLink>>,
    /// The pids whose /proc/PID/fd did not open (for a reason other than permission), sorted.
    pub fd_dir_closed: Vec<u32>,
}

/// [`read_stdio`] for every pid, in parallel.
pub fn read_stdio_many(proc_root: &Path, pids: &[u32]) -> StdioMany {
    let per_pid: Vec<(u32, Vec<StdioLink>, bool)> = pids
        .par_iter()
        .map(|&pid| {
            let (links, opened) = read_stdio(proc_root, pid);
            (pid, links, opened)
        })
        .collect();
    let mut out = StdioMany::default();
    for (pid, links, opened) in per_pid {
        if !opened {
            out.fd_dir_closed.push(pid);
        }
        if !links.is_empty() {
            out.links.insert(pid, links);
        }
    }
    out
}

/// Real and effective uid from `/proc/PID/status`.
pub fn parse_uids(status: &[u8]) -> Option<(u32, u32)> {
    let text = String::from_utf8_lossy(status);
    let line = text.lines().find(|l| l.starts_with("Uid:"))?;
    let mut f = line["Uid:".len()..].split_ascii_whitespace();
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

/// Splits the exe link target into (path, deleted, memfd).
pub fn classify_exe(target: &[u8]) -> (ByteString, bool, bool) {
    let (path, deleted) = match target.strip_suffix(b" (deleted)") {
        Some(p) => (p, true),
        None => (target, false),
    };
    let memfd = path.starts_with(b"/memfd:");
    (ByteString::from(path), deleted, memfd)
}

/// argv from `/proc/PID/cmdline`: NUL-separated, with a trailing NUL.
pub fn split_cmdline(raw: &[u8]) -> Vec<ByteString> {
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0).map(ByteString::from).collect()
}

/// The cgroup v2 path (`0::/path`), else the first hierarchy's path.
pub fn parse_cgroup(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut first = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(_), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if id == "0" {
            return Some(path.to_string());
        }
        first.get_or_insert_with(|| path.to_string());
    }
    first
}

/// `net:[4026531840]` → 4026531840.
pub fn ns_inode(link: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(link).ok()?;
    s.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

/// One process's metadata, or why it could not be read; the flags say what may be missing.
pub type MetaResult = Result<(Process, MetaFlags), MetaError>;

/// Reads metadata for `pids` in parallel.
pub fn read_many(proc_root: &Path, pids: &[u32]) -> Vec<(u32, MetaResult)> {
    pids.par_iter()
        .map(|&pid| (pid, read_process(proc_root, pid)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_whole_reads_past_its_first_buffer_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("big"), &body).unwrap();
        fs::write(dir.path().join("empty"), b"").unwrap();
        let pid_dir = PidDir::open(dir.path()).unwrap();
        assert_eq!(pid_dir.read("big", 16).unwrap(), body);
        assert_eq!(pid_dir.read("big", 10_000).unwrap(), body);
        assert_eq!(pid_dir.read("empty", 0).unwrap(), b"");
        // A /proc file, whose size the kernel reports as 0.
        let stat = PidDir::open(Path::new("/proc/self"))
            .unwrap()
            .read("stat", 8)
            .unwrap();
        assert!(stat.ends_with(b"\n") && stat.len() > 50, "{stat:?}");
    }

    #[test]
    fn suspicious_maps_are_writable_dirs_and_deleted_files_outside_the_system() {
        let maps = b"55d0c0000000-55d0c0001000 r--p 00000000 08:01 131 /usr/bin/sleep
55d0c0001000-55d0c0005000 r-xp 00001000 08:01 131 /usr/bin/sleep
7f0000000000-7f0000001000 r-xp 00000000 08:01 99 /tmp/.x/lib hook.so
7f0000001000-7f0000002000 rw-p 00001000 08:01 99 /tmp/.x/lib hook.so
7f0000002000-7f0000003000 r-xp 00000000 08:01 98 /opt/app/libgone.so (deleted)
7f0000003000-7f0000004000 r-xp 00000000 08:01 97 /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)
7f0000004000-7f0000005000 r-xp 00000000 00:01 96 /memfd:doublemapper (deleted)
7f0000005000-7f0000006000 r--p 00000000 08:01 95 /dev/shm/data (deleted)
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
7f0000006000-7f0000007000 r-xp 00000000 00:00 0
";
        let asked = std::cell::RefCell::new(Vec::new());
        let v = suspicious_maps(maps, |d| {
            asked.borrow_mut().push(d.to_vec());
            d == b"/tmp/.x"
        });
        let v: Vec<String> = v.iter().map(|b| b.to_str_lossy().into_owned()).collect();
        assert_eq!(v, ["/opt/app/libgone.so (deleted)", "/tmp/.x/lib hook.so"]);
        // Each directory is asked about once.
        let mut a = asked.into_inner();
        let n = a.len();
        a.dedup();
        assert_eq!(a.len(), n);
    }

    /// The ioctl and the text agree on this test process's own executable file mappings
    /// (its binary and libc at least), in the same order.
    #[test]
    fn procmap_query_sees_the_executable_mappings_maps_shows() {
        let maps = fs::read("/proc/self/maps").unwrap();
        let from_text: Vec<Vec<u8>> = exec_paths(&maps).map(<[u8]>::to_vec).collect();
        let file = fs::File::open("/proc/self/maps").unwrap();
        let from_ioctl = exec_mappings(&file).expect("Linux 6.11 or later");
        assert!(from_text.len() >= 2, "{from_text:?}");
        assert_eq!(from_ioctl, from_text);
        assert_eq!(escape_newlines(b"/tmp/a\nb"), b"/tmp/a\\012b");
    }

    #[test]
    fn stat_with_hostile_comm() {
        let stat = b"31399 (odd) na me) S 31355 31355 1 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 8812345 2 3";
        let (comm, ppid, start) = parse_stat(stat).unwrap();
        assert_eq!(comm, b"odd) na me");
        assert_eq!(ppid, 31355);
        assert_eq!(start, 8812345);
        assert!(parse_stat(b"12 (x").is_none());
        assert!(parse_stat(b"garbage").is_none());
    }

    #[test]
    fn stat_ids_and_terminals() {
        let stat = b"31399 (bash) S 31355 31399 31399 34818 31399 4194560 95 0 0 0 0 0 0 0 20 0 1 0 8812345 2 3";
        let (pgrp, session, tty) = parse_stat_ids(stat).unwrap();
        assert_eq!((pgrp, session), (31399, 31399));
        // 34818 = major 136, minor 2.
        assert_eq!(tty_name(tty).as_deref(), Some("pts/2"));
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name((137 << 8) | 5).as_deref(), Some("pts/261"));
        assert_eq!(tty_name((4 << 8) | 1).as_deref(), Some("tty1"));
        assert_eq!(tty_name((4 << 8) | 64).as_deref(), Some("ttyS0"));
        assert_eq!(tty_name((5 << 8) | 1).as_deref(), Some("console"));
        // A minor above 255 uses the high bits.
        assert_eq!(tty_name((136 << 8) | (1 << 20)).as_deref(), Some("pts/256"));
    }

    #[test]
    fn loader_variables() {
        let env = b"PATH=/usr/bin\0LD_PRELOAD=/tmp/x.so\0HOME=/root\0LD_LIBRARY_PATH=/dev/shm\0XLD_PRELOAD=no\0";
        let v = loader_vars(env);
        assert_eq!(
            v,
            vec![
                ByteString(b"LD_LIBRARY_PATH=/dev/shm".to_vec()),
                ByteString(b"LD_PRELOAD=/tmp/x.so".to_vec())
            ]
        );
        assert!(loader_vars(b"").is_empty());
    }

    #[test]
    fn stdio_kinds() {
        let none = || None;
        assert_eq!(classify_fd(0, b"socket:[77]", none).kind, FdKind::Socket);
        assert_eq!(classify_fd(0, b"socket:[77]", none).inode, Some(77));
        assert_eq!(classify_fd(1, b"pipe:[5]", none).inode, Some(5));
        assert_eq!(classify_fd(1, b"/dev/null", none).kind, FdKind::Null);
        assert_eq!(classify_fd(1, b"/dev/pts/3", none).kind, FdKind::Pty);
        assert_eq!(classify_fd(1, b"/dev/tty1", none).kind, FdKind::Tty);
        assert_eq!(
            classify_fd(1, b"anon_inode:[eventfd]", none).kind,
            FdKind::Other
        );
        let fifo = classify_fd(0, b"/tmp/f", || Some((true, 9)));
        assert_eq!((fifo.kind, fifo.inode), (FdKind::Fifo, Some(9)));
        let file = classify_fd(2, b"/var/log/x (deleted)", || Some((false, 9)));
        assert_eq!((file.kind, file.inode), (FdKind::File, None));
        assert_eq!(tty_index(b"pos:\t0\nflags:\t02\ntty-index:\t7\n"), Some(7));
        assert_eq!(tty_index(b"pos:\t0\n"), None);
    }

    #[test]
    fn uids() {
        let st = b"Name:\tx\nUmask:\t0022\nState:\tS\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_uids(st), Some((1000, 0)));
        assert_eq!(parse_uids(b"Name: x\n"), None);
    }

    #[test]
    fn exe_forms() {
        assert_eq!(
            classify_exe(b"/usr/sbin/sshd"),
            ("/usr/sbin/sshd".into(), false, false)
        );
        assert_eq!(
            classify_exe(b"/tmp/x (deleted)"),
            ("/tmp/x".into(), true, false)
        );
        assert_eq!(
            classify_exe(b"/memfd:payload (deleted)"),
            ("/memfd:payload".into(), true, true)
        );
    }

    #[test]
    fn cmdline_keeps_bytes() {
        let v = split_cmdline(b"python3\0-c\0print(1)\xff\0");
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].as_bytes(), b"print(1)\xff");
        assert!(split_cmdline(b"").is_empty());
        assert_eq!(split_cmdline(b"nginx: worker process").len(), 1);
    }

    #[test]
    fn cgroup_prefers_v2() {
        assert_eq!(
            parse_cgroup(b"12:cpu:/a\n0::/system.slice/sshd.service\n").as_deref(),
            Some("/system.slice/sshd.service")
        );
        assert_eq!(
            parse_cgroup(b"3:memory:/docker/ab\n").as_deref(),
            Some("/docker/ab")
        );
        assert_eq!(parse_cgroup(b""), None);
    }

    #[test]
    fn links() {
        assert_eq!(socket_inode(b"socket:[165940]"), Some(165940));
        assert_eq!(socket_inode(b"pipe:[1]"), None);
        assert_eq!(socket_inode(b"socket:[x]"), None);
        assert_eq!(ns_inode(b"net:[4026531840]"), Some(4026531840));
    }

    #[test]
    fn merging_sorted_lists_keeps_them_sorted() {
        assert_eq!(
            merge_sorted(vec![1, 4, 9], vec![2, 4, 10, 11]),
            [1, 2, 4, 4, 9, 10, 11]
        );
        assert_eq!(merge_sorted(vec![], vec![3, 5]), [3, 5]);
        assert_eq!(merge_sorted(vec![3, 5], vec![]), [3, 5]);
        assert_eq!(merge_sorted(vec![7], vec![1, 2]), [1, 2, 7]);
    }

    #[test]
    fn refused_links_are_told_apart_from_closed_descriptors() {
        use nix::errno::Errno;
        assert!(link_refused(Errno::EACCES));
        assert!(link_refused(Errno::EPERM));
        assert!(!link_refused(Errno::ENOENT));
        assert!(!link_refused(Errno::EINVAL));
    }

    /// A /proc-shaped tree of symlinks: a socket shared by two processes (one of them twice),
    /// other file kinds, a non-numeric entry, and a pid whose fd directory is gone.
    #[test]
    fn walk_maps_every_holder_of_every_socket() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let fds: [(u32, &[(u32, &str)]); 3] = [
            (
                10,
                &[
                    (0, "/dev/null"),
                    (3, "socket:[500]"),
                    (4, "socket:[7]"),
                    (9, "socket:[500]"),
                ],
            ),
            (
                2,
                &[
                    (5, "socket:[500]"),
                    (6, "pipe:[500]"),
                    (7, "anon_inode:[eventfd]"),
                ],
            ),
            (30, &[(1, "socket:[99]")]),
        ];
        for (pid, links) in fds {
            let dir = root.path().join(pid.to_string()).join("fd");
            fs::create_dir_all(&dir).unwrap();
            for (fd, target) in links {
                symlink(target, dir.join(fd.to_string())).unwrap();
            }
        }
        fs::create_dir_all(root.path().join("self")).unwrap();
        fs::create_dir_all(root.path().join("41")).unwrap(); // no fd directory: vanished
        let pids = list_pids(root.path()).unwrap();
        assert_eq!(pids, vec![2, 10, 30, 41]);
        let walk = walk_fds(root.path(), &pids);
        let owners = |inode| {
            walk.owners(inode)
                .map(|o| (o.pid, o.fd))
                .collect::<Vec<_>>()
        };
        assert_eq!(owners(500), vec![(2, 5), (10, 3), (10, 9)]);
        // Collected at its exact length: a socket's owners reserve no spare room.
        let held: Vec<Owner> = walk.owners(7).collect();
        assert_eq!((held.len(), held.capacity()), (1, 1));
        assert_eq!(owners(7), vec![(10, 4)]);
        assert_eq!(owners(99), vec![(30, 1)]);
        assert_eq!(owners(8), vec![]);
        assert_eq!(owners(u64::MAX), vec![]);
        assert_eq!(walk.holders(), vec![2, 10, 30]);
        assert_eq!(
            (
                walk.processes_seen,
                walk.vanished.clone(),
                walk.denied.clone(),
                walk.socket_fds
            ),
            (4, vec![41], vec![], 5)
        );
    }
}
