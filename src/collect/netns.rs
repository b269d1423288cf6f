//! Every network namespace in one snapshot (`--all-netns`), or one chosen namespace (`--netns`).
//!
//! Namespaces are found through /proc/*/ns/net (every process's), /proc/*/task/*/ns/net (a
//! thread that moved elsewhere) and /run/netns/* (named namespaces, which may hold no process).
//! Each is dumped from a dedicated, short-lived thread that joins it with setns(2): setns changes
//! only the calling thread, and a rayon worker must never be moved, since the pool reuses it.
//! Netlink sockets, /proc/thread-self/net and if_indextoname all answer for the thread's
//! namespace. The /proc walk is done once for all namespaces: socket inodes are unique across
//! them. A namespace that vanishes or cannot be entered is a counted warning.
//!
//! Cost model: by default every namespace shares the kernel's TCP hash table, so a dump in an
//! almost empty namespace still walks every TCP socket of the host; N namespaces cost about
//! N × (host sockets) in the kernel (docs/PERFORMANCE.md). They are dumped at most two at a time,
//! the number of cores here, while the /proc walk runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::procwalk::ns_inode;

/// Which namespaces to dump.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Select {
    /// The calling thread's namespace only.
    #[default]
    Current,
    /// Every namespace found.
    All,
    /// One namespace: a name under /run/netns, a pid, or a path to a namespace file.
    One(String),
    /// These namespaces, found earlier by [`discover`] ([`Select::known`]): a caller that
    /// dumps every namespace often (watch's sweep) looks for them less often than it dumps.
    /// One gone since is churn, as with `All`.
    Found(Vec<Known>),
}

/// A namespace found earlier: its inode, its name under /run/netns, a file to enter it by.
pub type Known = (u64, Option<String>, PathBuf);

impl Select {
    /// Every namespace on the host now, as [`Select::Found`] (the gaps of the discovery are
    /// those of the first dump of `All`; see `collect`).
    pub fn known(proc_root: &Path) -> Select {
        let (found, _) = discover_all(proc_root);
        Select::Found(
            found
                .into_values()
                .map(|f| (f.inode, f.name, f.path))
                .collect(),
        )
    }
}

/// A namespace found, and how to enter it.
#[derive(Debug, Clone)]
pub struct Found {
    /// The namespace's inode (the number in `net:[INODE]`): its identity, as `Socket::netns` and
    /// `Process::netns` record it.
    pub inode: u64,
    /// Its name under /run/netns, when it has one.
    pub name: Option<String>,
    /// A file that refers to it (/run/netns/NAME, /proc/PID/ns/net, /proc/PID/task/TID/ns/net).
    pub path: PathBuf,
    /// Processes with the namespace as their own or with a thread in it, from the pids given to
    /// [`discover`]; empty for a named namespace no process uses.
    pub pids: BTreeSet<u32>,
}

/// [`discover`] over every process listed in `proc_root`.
pub fn discover_all(proc_root: &Path) -> (BTreeMap<u64, Found>, Vec<u32>) {
    let pids = super::procwalk::list_pids(proc_root).unwrap_or_default();
    discover(proc_root, &pids)
}

/// Finds every network namespace. Returns them by inode, and the processes whose namespace link
/// could not be read (permission).
pub fn discover(proc_root: &Path, pids: &[u32]) -> (BTreeMap<u64, Found>, Vec<u32>) {
    let mut out: BTreeMap<u64, Found> = BTreeMap::new();
    let mut unreadable = Vec::new();
    if let Ok(dir) = fs::read_dir("/run/netns") {
        for e in dir.flatten() {
            let path = e.path();
            if let Ok(meta) = fs::metadata(&path) {
                let name = e.file_name().to_string_lossy().into_owned();
                out.entry(meta.ino())
                    .or_insert_with(|| Found {
                        inode: meta.ino(),
                        name: None,
                        path: path.clone(),
                        pids: BTreeSet::new(),
                    })
                    .name = Some(name);
            }
        }
    }
    for &pid in pids {
        let base = proc_root.join(pid.to_string());
        let link = base.join("ns/net");
        let own = match fs::read_link(&link) {
            Ok(t) => ns_inode(t.as_os_str().as_bytes()),
            Err(e) => {
                // A process that exited meanwhile is not a blind spot; a refusal is.
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    unreadable.push(pid);
                }
                continue;
            }
        };
        if let Some(ino) = own {
            out.entry(ino)
                .or_insert_with(|| Found {
                    inode: ino,
                    name: None,
                    path: link.clone(),
                    pids: BTreeSet::new(),
                })
                .pids
                .insert(pid);
        }
        // Threads that joined another namespace.
        let Ok(tasks) = fs::read_dir(base.join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tlink = t.path().join("ns/net");
            let Some(tino) = fs::read_link(&tlink)
                .ok()
                .and_then(|x| ns_inode(x.as_os_str().as_bytes()))
            else {
                continue;
            };
            if Some(tino) != own {
                out.entry(tino)
                    .or_insert_with(|| Found {
                        inode: tino,
                        name: None,
                        path: tlink,
                        pids: BTreeSet::new(),
                    })
                    .pids
                    .insert(pid);
            }
        }
    }
    (out, unreadable)
}

/// Resolves `--netns NAME|PID|PATH` to a namespace file.
pub fn resolve(spec: &str, proc_root: &Path) -> Result<PathBuf, ResolveError> {
    let candidates = [
        PathBuf::from("/run/netns").join(spec),
        proc_root.join(spec).join("ns/net"),
        PathBuf::from(spec),
    ];
    let pick = if spec.bytes().all(|b| b.is_ascii_digit()) {
        &candidates[1]
    } else if spec.contains('/') {
        &candidates[2]
    } else {
        &candidates[0]
    };
    fs::metadata(pick)
        .map(|_| pick.clone())
        .map_err(|error| ResolveError {
            spec: spec.to_owned(),
            path: pick.clone(),
            error,
        })
}

/// `--netns NAME|PID|PATH` names no namespace file that can be examined.
#[derive(Debug, thiserror::Error)]
#[error("--netns {spec}: {}: {error}", path.display())]
pub struct ResolveError {
    /// What was given.
    pub spec: String,
    /// The file it was taken to mean.
    pub path: PathBuf,
    /// Why that file could not be examined.
    pub error: std::io::Error,
}

/// Why a namespace could not be entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EnterError {
    /// What failed: opening the namespace file or setns(2) on it (naming the file and the
    /// system's error), or the dump thread's panic.
    pub message: String,
    /// The namespace file is gone (its last process exited): churn, not a blind spot.
    pub gone: bool,
}

impl EnterError {
    /// Whether the namespace vanished rather than refused entry.
    pub fn vanished(&self) -> bool {
        self.gone
    }
}

/// Whether `f` is a namespace file. A name under /run/netns is an empty file before `ip netns
/// add` mounts the namespace on it and after `ip netns del` unmounts it (and before it unlinks
/// it): `setns` then refuses it (EINVAL), and the namespace is coming or going, not refused.
fn is_nsfs(f: &fs::File) -> bool {
    nix::sys::statfs::fstatfs(f).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// Runs `work` on a new thread that has joined the namespace behind `path`; returns what it
/// returns, or why the namespace could not be entered.
pub fn run_in<T: Send>(path: &Path, work: impl FnOnce() -> T + Send) -> Result<T, EnterError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let f = fs::File::open(path).map_err(|e| EnterError {
                    message: format!("{}: {e}", path.display()),
                    gone: matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)),
                })?;
                nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                    EnterError {
                        message: format!("setns {}: {e}", path.display()),
                        gone: e == nix::errno::Errno::EINVAL && !is_nsfs(&f),
                    }
                })?;
                Ok(work())
            })
            .join()
            .unwrap_or_else(|_| {
                Err(EnterError {
                    message: "the namespace's dump thread panicked".into(),
                    gone: false,
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_that_cannot_be_entered_is_an_error_value() {
        let r = run_in(Path::new("/nonexistent/netns"), || 1);
        let e = r.unwrap_err();
        assert!(e.message.contains("/nonexistent/netns") && e.vanished());
        // A file that is not a namespace: open works, setns refuses (EINVAL). Under
        // /run/netns that is a namespace `ip netns` is adding or deleting: it counts as gone.
        let e = run_in(Path::new("/proc/self/status"), || 1).unwrap_err();
        assert!(e.message.starts_with("setns") && e.vanished());
    }

    #[test]
    fn discovery_finds_the_current_namespace_with_this_process() {
        let me = std::process::id();
        let (found, _) = discover(Path::new("/proc"), &[me]);
        let ino = crate::collect::host::current_netns().unwrap();
        assert!(found[&ino].pids.contains(&me));
        assert!(resolve(&me.to_string(), Path::new("/proc")).is_ok());
        assert!(resolve("no-such-namespace-name", Path::new("/proc")).is_err());
    }

    /// The namespaces known now include this one, with a file that enters it.
    #[test]
    fn known_namespaces_include_the_current_one_and_enter_it() {
        let ino = crate::collect::host::current_netns().unwrap();
        let Select::Found(known) = Select::known(Path::new("/proc")) else {
            panic!("not Found");
        };
        let (_, _, path) = known.iter().find(|(i, _, _)| *i == ino).unwrap();
        assert_eq!(
            run_in(path, crate::collect::host::current_netns).unwrap(),
            Some(ino)
        );
    }
}
