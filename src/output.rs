//! Where output goes: atomic file writes that never follow a planted link, and stdout that
//! treats a closed pipe as success.
//!
//! sockwarden runs as root and often writes into directories that a less privileged user can
//! write (a node_exporter textfile directory owned by its service user, a shared report
//! directory). Everything about a file write is therefore chosen so that such a user cannot steer
//! it:
//!
//! - The data goes to an unnamed file (`O_TMPFILE`) in the target's directory, so no name exists
//!   while it is written: nothing to plant a link at, and nothing left behind by `kill -9`. Where
//!   the filesystem cannot make unnamed files, a named temporary file created with `O_EXCL`
//!   under an unpredictable name (the `tempfile` crate) takes its place, and a SIGINT, SIGTERM or
//!   SIGHUP removes it before the process ends.
//! - The finished file is given a name with `linkat`, which fails rather than follow anything at
//!   that name: the target's own name when nothing is there, else a fresh unpredictable name that
//!   is at once renamed over the target. A reader (or a crash) sees the old file or the new one,
//!   never half of one, and only those two syscalls apart can a `kill -9` leave a second name.
//!   File and directory are synced first.
//! - A target that is a symbolic link, a directory, a FIFO, a socket or a device is refused:
//!   renaming over a link to a device, or opening a FIFO with no reader, is exactly what an
//!   attacker would plant. The one exception is `/dev/null` itself (a discard, used by
//!   benchmarks). `-` means stdout.
//! - An existing target keeps its permission bits, owner and group; a new file is created
//!   0640 minus the umask (reports carry command lines, which may hold secrets), or 0644 minus
//!   the umask for [`Readers::Everyone`] (metrics, which node_exporter reads as another user and
//!   which hold rule ids and counts only).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// Permission bits of a new output file, before the umask.
pub const NEW_FILE_MODE: u32 = 0o640;

/// Who may read a new output file (an existing one keeps its mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Owner and group: [`NEW_FILE_MODE`].
    OwnerAndGroup,
    /// Everyone (0644): for documents another service reads and that hold nothing secret.
    Everyone,
}

impl Readers {
    /// The permission bits of a new file, before the umask.
    pub fn mode(self) -> u32 {
        match self {
            Readers::OwnerAndGroup => NEW_FILE_MODE,
            Readers::Everyone => 0o644,
        }
    }
}

/// Named temporary files that exist right now and must go if a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static SIGNALS: Once = Once::new();

/// Writes `bytes` to `path` atomically (see the module documentation).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file_with(path, Readers::OwnerAndGroup, |w| w.write_all(bytes))
}

/// Writes to stdout; a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Writes to `path` atomically, or to stdout when `path` is `None` or `-`.
pub fn emit(path: Option<&Path>, bytes: &[u8]) -> io::Result<()> {
    emit_with(path, |w| w.write_all(bytes))
}

/// As [`emit`], and a new file gets the mode `readers` says.
pub fn emit_for(path: Option<&Path>, bytes: &[u8], readers: Readers) -> io::Result<()> {
    match path {
        Some(p) if p != Path::new("-") => write_file_with(p, readers, |w| w.write_all(bytes)),
        _ => emit(None, bytes),
    }
}

const BUF: usize = 1 << 20;

/// Opens `path` for a stream of appended lines (`watch -o FILE`): created with
/// [`NEW_FILE_MODE`] when absent, and refused when it is a symbolic link (O_NOFOLLOW), so a link
/// planted in a shared directory cannot redirect the stream. Lines are whole when written with
/// one `write` each (O_APPEND).
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(NEW_FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refuse(path, "a symbolic link"),
            _ => e,
        })
}

/// A stream of appended lines (`watch -o FILE --rotate-size SIZE --rotate-keep N`) that is
/// rotated by size, at a line boundary: when a write would take the file past `max` bytes,
/// FILE.N-1 is renamed to FILE.N, ..., FILE to FILE.1 (each rename atomic; what was FILE.N is
/// replaced, so at most `keep` old files remain), and a new FILE is created with `O_EXCL` and
/// `O_NOFOLLOW`: a name planted at FILE meanwhile (a link, or a file another user owns) makes
/// the write fail rather than be followed or shared. A rename moves whatever is at a name (a
/// link is moved, never followed).
#[derive(Debug)]
pub struct Rotating {
    path: PathBuf,
    max: u64,
    keep: u32,
    file: File,
    size: u64,
    at_line_start: bool,
}

impl Rotating {
    /// Opens `path` for appending as [`open_append`] does; rotates when it would exceed `max`
    /// bytes, keeping `keep` (at least 1) old files.
    pub fn open(path: &Path, max: u64, keep: u32) -> io::Result<Rotating> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_path_buf(),
            max: max.max(1),
            keep: keep.max(1),
            file,
            size,
            at_line_start: true,
        })
    }

    /// FILE.n.
    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        for n in (1..self.keep).rev() {
            match fs::rename(self.numbered(n), self.numbered(n + 1)) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                r => r?,
            }
        }
        fs::rename(&self.path, self.numbered(1))?;
        self.reopen()
    }

    /// Creates the new FILE after the renames: never through a name someone planted.
    fn reopen(&mut self) -> io::Result<()> {
        self.file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(NEW_FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => refuse(
                    &self.path,
                    "a name someone created while the output was being rotated",
                ),
                _ => e,
            })?;
        self.size = 0;
        Ok(())
    }
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.at_line_start && self.size > 0 && self.size + buf.len() as u64 > self.max {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        if n > 0 {
            self.at_line_start = buf[n - 1] == b'\n';
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Streams output produced by `produce` to `path` (atomically, as [`write_atomic`]) or to stdout
/// when `path` is `None` or `-`, through a large buffer: a 100k-socket snapshot is ~100 MB of
/// JSON and is never held in memory whole.
pub fn emit_with(
    path: Option<&Path>,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match path {
        Some(p) if p != Path::new("-") => write_file_with(p, Readers::OwnerAndGroup, produce),
        _ => {
            let mut w = io::BufWriter::with_capacity(BUF, io::stdout().lock());
            match produce(&mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            }
        }
    }
}

/// What is at the target path now, as far as the write is concerned.
enum Target {
    /// Nothing: a new file.
    Absent,
    /// A regular file whose permission bits, owner and group the new file takes over.
    Regular { mode: u32, uid: u32, gid: u32 },
    /// `/dev/null`: written in place.
    Null,
}

fn refuse(p: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {what}; refusing to write through it (name a regular file, or - for stdout)",
            p.display()
        ),
    )
}

/// Looks at the target without following a link.
fn inspect(p: &Path) -> io::Result<Target> {
    let meta = match fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::Absent),
        Err(e) => return Err(e),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(Target::Regular {
            mode: meta.mode() & 0o7777 & !0o6000,
            uid: meta.uid(),
            gid: meta.gid(),
        });
    }
    // /dev/null is character device 1:3 on Linux.
    if ft.is_char_device() && meta.rdev() == libc::makedev(1, 3) {
        return Ok(Target::Null);
    }
    Err(refuse(p, crate::input::file_kind(ft)))
}

fn write_file_with(
    p: &Path,
    readers: Readers,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let target = inspect(p)?;
    install_signal_cleanup();
    if let Target::Null = target {
        let f = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY)
            .open(p)?;
        let mut w = io::BufWriter::with_capacity(BUF, f);
        produce(&mut w)?;
        return w.flush();
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = p
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600));
    match open_unnamed(dir) {
        Ok(file) => {
            let file = fill(file, &target, readers, produce)?;
            // Give the finished file a fresh, unpredictable name (linkat fails if anything is
            // there, and never follows it), then rename it over the target.
            let fd_path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
            let link = |to: &Path| {
                nix::unistd::linkat(
                    nix::fcntl::AT_FDCWD,
                    fd_path.as_str(),
                    nix::fcntl::AT_FDCWD,
                    to,
                    nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
                )
                .map_err(io::Error::from)
            };
            // A new file: linked straight to its name, so no other name ever exists.
            let direct = matches!(target, Target::Absent) && link(p).is_ok();
            if !direct {
                let named = builder.make_in(dir, link)?;
                let guard = Pending::new(named.path());
                named.persist(p).map_err(|e| e.error)?;
                drop(guard);
            }
        }
        Err(_) => {
            // No O_TMPFILE here (some network and FUSE filesystems): a named file, O_EXCL.
            let named = builder.tempfile_in(dir)?;
            let guard = Pending::new(named.path());
            let (file, tmp) = named.into_parts();
            let file = fill(file, &target, readers, produce)?;
            drop(file);
            tmp.persist(p).map_err(|e| e.error)?;
            drop(guard);
        }
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Opens an unnamed file in `dir` (O_TMPFILE), readable and writable by its owner only until
/// [`fill`] sets its final mode.
fn open_unnamed(dir: &Path) -> io::Result<File> {
    if !Path::new("/proc/self/fd").is_dir() {
        return Err(io::Error::other("/proc is not mounted: linkat needs it"));
    }
    OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir)
}

/// Writes the content, gives the file its final mode and owner, and syncs it.
fn fill(
    file: File,
    target: &Target,
    readers: Readers,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<File> {
    let mut w = io::BufWriter::with_capacity(BUF, file);
    produce(&mut w)?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    match *target {
        Target::Regular { mode, uid, gid } => {
            let meta = file.metadata()?;
            if meta.uid() != uid || meta.gid() != gid {
                // Only root (or the owner, for the group) can give a file away; a user who
                // could not is writing over a file it could not chown, and keeps the file as
                // its own rather than failing the report.
                match std::os::unix::fs::fchown(&file, Some(uid), Some(gid)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
                    Err(e) => return Err(e),
                }
            }
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        Target::Absent => {
            let umask = current_umask();
            file.set_permissions(fs::Permissions::from_mode(readers.mode() & !umask))?;
        }
        Target::Null => {}
    }
    file.sync_all()?;
    Ok(file)
}

/// The process's umask, read from /proc/self/status (reading it with umask(2) would change it).
fn current_umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// A named temporary file registered for removal if a signal ends the process before it is
/// renamed into place.
struct Pending(PathBuf);

impl Pending {
    fn new(p: &Path) -> Pending {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.to_path_buf());
        Pending(p.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|x| x != &self.0);
    }
}

/// Removes every pending temporary file.
fn remove_pending() {
    for p in PENDING.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = fs::remove_file(p);
    }
}

/// On the first named temporary file: a thread that, on SIGINT, SIGTERM or SIGHUP, removes the
/// pending temporary files and ends the process as the signal would have (128 + signal).
fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    SIGNALS.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                remove_pending();
                std::process::exit(128 + sig);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appended_stream_refuses_a_planted_link_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        let link = dir.path().join("watch.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_append(&link).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link; refusing"), "{err}");
        assert!(!target.exists());
        let file = dir.path().join("real.jsonl");
        open_append(&file).unwrap().write_all(b"a\n").unwrap();
        open_append(&file).unwrap().write_all(b"b\n").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"a\nb\n");
        assert_eq!(
            fs::metadata(&file).unwrap().mode() & 0o777,
            NEW_FILE_MODE & !umask()
        );
    }

    #[test]
    fn a_rotating_stream_keeps_n_files_at_line_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("watch.jsonl");
        let mut w = io::LineWriter::new(Rotating::open(&file, 25, 2).unwrap());
        for i in 0..10 {
            writeln!(w, "line {i:02} abcdefgh").unwrap(); // 17 bytes each
        }
        w.flush().unwrap();
        // One line per file (two would exceed 25 bytes); FILE.3 never exists with keep 2.
        assert_eq!(fs::read_to_string(&file).unwrap(), "line 09 abcdefgh\n");
        let one = dir.path().join("watch.jsonl.1");
        let two = dir.path().join("watch.jsonl.2");
        assert_eq!(fs::read_to_string(&one).unwrap(), "line 08 abcdefgh\n");
        assert_eq!(fs::read_to_string(&two).unwrap(), "line 07 abcdefgh\n");
        assert_eq!(
            names(dir.path()),
            ["watch.jsonl", "watch.jsonl.1", "watch.jsonl.2"]
        );
        assert_eq!(
            fs::metadata(&file).unwrap().mode() & 0o777,
            NEW_FILE_MODE & !umask()
        );
    }

    /// A link planted at an old file's name is moved by the rename, never written through; one
    /// planted at FILE itself during the rotation makes the write fail.
    #[test]
    fn rotation_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.jsonl");
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious\n").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("w.jsonl.1")).unwrap();
        let mut w = Rotating::open(&file, 10, 3).unwrap();
        w.write_all(b"0123456789\n").unwrap();
        w.write_all(b"abcdefghij\n").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious\n");
        assert!(
            fs::symlink_metadata(dir.path().join("w.jsonl.2"))
                .unwrap()
                .is_symlink()
        );
        assert_eq!(
            fs::read(dir.path().join("w.jsonl.1")).unwrap(),
            b"0123456789\n"
        );
        // A link planted at FILE after the renames, before the new FILE is created: refused.
        fs::rename(&file, dir.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(&victim, &file).unwrap();
        let err = w.reopen().unwrap_err().to_string();
        assert!(err.contains("refusing"), "{err}");
        // And a regular file someone else created there is not shared either.
        fs::remove_file(&file).unwrap();
        fs::write(&file, b"theirs\n").unwrap();
        assert!(w.reopen().is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"precious\n");
    }

    /// The process's umask, read without changing it (other tests create files meanwhile).
    fn umask() -> u32 {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let v = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .unwrap();
        u32::from_str_radix(v.trim(), 8).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snap.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["snap.json"]);
    }

    #[test]
    fn dev_null_is_written_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let meta = fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device());
    }

    #[test]
    fn links_fifos_directories_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        for (p, what) in [
            (link.as_path(), "a symbolic link"),
            (fifo.as_path(), "a FIFO"),
            (dir.path(), "a directory"),
            (Path::new("/dev/zero"), "a device"),
        ] {
            let e = write_atomic(p, b"x").unwrap_err();
            assert!(e.to_string().contains(what), "{p:?}: {e}");
        }
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn an_existing_file_keeps_its_mode_and_a_new_one_is_0640_minus_umask() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        let q = dir.path().join("new.json");
        write_atomic(&q, b"x").unwrap();
        assert_eq!(
            fs::metadata(&q).unwrap().mode() & 0o7777,
            NEW_FILE_MODE & !current_umask()
        );
        // Metrics: readable by everyone (node_exporter runs as another user), umask still applies.
        let m = dir.path().join("sockwarden.prom");
        emit_for(Some(&m), b"x 1\n", Readers::Everyone).unwrap();
        assert_eq!(
            fs::metadata(&m).unwrap().mode() & 0o7777,
            0o644 & !current_umask()
        );
        // An existing metrics file keeps its mode, as every target does.
        fs::set_permissions(&m, fs::Permissions::from_mode(0o600)).unwrap();
        emit_for(Some(&m), b"x 2\n", Readers::Everyone).unwrap();
        assert_eq!(fs::metadata(&m).unwrap().mode() & 0o7777, 0o600);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        fs::write(&p, b"old").unwrap();
        let e = emit_with(Some(&p), |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("producer failed"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("producer failed"));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["r.json"]);
    }

    #[test]
    fn pending_temporaries_are_removed_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".x.tmp");
        fs::write(&p, b"partial").unwrap();
        let guard = Pending::new(&p);
        remove_pending();
        assert!(!p.exists());
        drop(guard);
        assert!(PENDING.lock().unwrap().iter().all(|x| x != &p));
    }

    #[test]
    fn atomic_write_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope/snap.json");
        assert!(write_atomic(&p, b"x").is_err());
    }
}
