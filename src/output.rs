//! Where output goes: atomic file writes, and stdout that treats a closed pipe as success.
//!
//! A report or snapshot written to a file is first written to a temporary file in the same
//! directory, synced, then renamed over the target: a reader (or a crash, or kill -9) sees the
//! old file or the new one, never half of one. `sockwarden list | head` must not panic or fail
//! when `head` exits: a broken pipe ends the output quietly.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
/// A target that exists and is not a regular file (`/dev/null`, a FIFO, a terminal) is written
/// in place: renaming over it would replace the device node itself.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    emit_with(Some(path), |w| w.write_all(bytes))
}

/// Writes to stdout; a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Streams output produced by `produce` to `path` (atomically, as [`write_atomic`]) or to stdout
/// when `path` is `None` or `-`, through a large buffer: a 100k-socket snapshot is ~100 MB of
/// JSON and is never held in memory whole.
pub fn emit_with(
    path: Option<&Path>,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    const BUF: usize = 1 << 20;
    match path {
        Some(p) if p != Path::new("-") => {
            let is_special = fs::metadata(p).is_ok_and(|m| !m.file_type().is_file());
            if is_special {
                let f = fs::OpenOptions::new().write(true).open(p)?;
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
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".tmp.{}", std::process::id()));
            let tmp = dir.join(tmp_name);
            let result = (|| {
                let mut w = io::BufWriter::with_capacity(BUF, fs::File::create(&tmp)?);
                produce(&mut w)?;
                let f = w.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                fs::rename(&tmp, p)?;
                if let Ok(d) = fs::File::open(dir) {
                    let _ = d.sync_all();
                }
                Ok(())
            })();
            if result.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            result
        }
        _ => {
            let mut w = io::BufWriter::with_capacity(BUF, io::stdout().lock());
            match produce(&mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            }
        }
    }
}

/// Writes to `path` atomically, or to stdout when `path` is `None` or `-`.
pub fn emit(path: Option<&Path>, bytes: &[u8]) -> io::Result<()> {
    emit_with(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snap.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn device_targets_are_written_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let meta = fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device());
    }

    #[test]
    fn atomic_write_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope/snap.json");
        assert!(write_atomic(&p, b"x").is_err());
    }
}
