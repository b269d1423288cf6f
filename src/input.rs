//! Reading files that come from outside: saved snapshots, rules, lists, baselines.
//!
//! Every such file is attacker-controlled, and sockwarden runs unattended as root, so a read
//! must end, in bounded memory, whatever the path names: `/dev/zero` would be read until memory
//! runs out, a FIFO with no writer blocks `open` forever, a terminal waits for a person. So a
//! path must name a regular file (it is opened with `O_NONBLOCK`, which makes opening a FIFO
//! return at once, and checked with `fstat` before anything is read), `-` means standard input,
//! and no read takes more than a cap: [`DEFAULT_MAX_SNAPSHOT`] for snapshots,
//! [`DEFAULT_MAX_DOCUMENT`] for YAML documents, both replaced by `--max-input-size`. A UTF-8
//! byte-order mark at the start of a text file is dropped (editors on Windows write one).

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::OnceLock;

/// Largest snapshot read by default: 2 GiB (a 1M-socket snapshot is about 1 GB).
pub const DEFAULT_MAX_SNAPSHOT: u64 = 2 << 30;
/// Largest YAML document (rule, lists or baseline file) read by default: 64 MiB.
pub const DEFAULT_MAX_DOCUMENT: u64 = 64 << 20;

static MAX_OVERRIDE: OnceLock<u64> = OnceLock::new();

/// What is being read: decides the default size cap (errors name the input by its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A saved snapshot (JSON): capped at [`DEFAULT_MAX_SNAPSHOT`] by default.
    Snapshot,
    /// A YAML or text document (a rule, lists or baseline file, a baseline's `.sha256` pin): capped
    /// at [`DEFAULT_MAX_DOCUMENT`] by default.
    Document,
}

impl Kind {
    /// The cap in force: `--max-input-size` when given, else the kind's default.
    pub fn max(self) -> u64 {
        MAX_OVERRIDE.get().copied().unwrap_or(match self {
            Kind::Snapshot => DEFAULT_MAX_SNAPSHOT,
            Kind::Document => DEFAULT_MAX_DOCUMENT,
        })
    }
}

/// Sets the cap for every input (`--max-input-size`); the first call wins.
pub fn set_max(bytes: u64) {
    let _ = MAX_OVERRIDE.set(bytes);
}

/// Parses a size such as `512M`, `2GiB`, `1000000` (bytes; K, M, G, T are powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n.parse().map_err(|_| SizeError::Number(s.to_owned()))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(SizeError::Unit {
                text: s.to_owned(),
                unit: unit.to_owned(),
            });
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| SizeError::TooLarge(s.to_owned()))
}

/// Why a size did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not a number.
    #[error("`{0}`: a size is a number with an optional K, M, G or T")]
    Number(String),
    /// A unit other than K, M, G, T.
    #[error("`{text}`: unknown size unit `{unit}` (K, M, G or T)")]
    Unit {
        /// The size given.
        text: String,
        /// Its unit.
        unit: String,
    },
    /// More than 2^64 bytes.
    #[error("`{0}`: too large")]
    TooLarge(String),
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path (or `-`), and why it could not be opened, examined or read.
    #[error("{0}: cannot read: {1}")]
    Io(String, io::Error),
    /// The path, and what it is instead of a regular file: `a directory`, `a FIFO`, `a socket` or
    /// `a device`.
    #[error("{0}: is {1}, not a regular file; refusing to read it (use - for standard input)")]
    NotRegular(String, &'static str),
    /// The path, and the cap in bytes that it exceeds (by its size, or by growing while it was
    /// read).
    #[error(
        "{0}: larger than {1} bytes, the most read from one input; raise it with \
         --max-input-size"
    )]
    TooLarge(String, u64),
    /// The path, and the 1-based line and column (in bytes) of the first byte that is not valid
    /// UTF-8.
    #[error("{0}:{1}:{2}: not valid UTF-8")]
    NotUtf8(String, usize, usize),
}

/// Reads `path` (or standard input for `-`) whole, refusing anything but a regular file and
/// anything larger than the cap for `kind`.
pub fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, InputError> {
    let name = path.display().to_string();
    let max = kind.max();
    if path == Path::new("-") {
        return read_capped(io::stdin().lock(), &name, max, 0);
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| InputError::Io(name.clone(), e))?;
    let meta = file
        .metadata()
        .map_err(|e| InputError::Io(name.clone(), e))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(InputError::NotRegular(name, file_kind(ft)));
    }
    if meta.len() > max {
        return Err(InputError::TooLarge(name, max));
    }
    read_capped(file, &name, max, meta.len())
}

/// What a file that is not a regular file is, for errors: `a symbolic link` (when not followed),
/// `a directory`, `a FIFO`, `a socket` or `a device`.
pub fn file_kind(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a device"
    }
}

/// Reads at most `max` bytes; a reader with more is refused (a file that grows while read).
fn read_capped(r: impl Read, name: &str, max: u64, hint: u64) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    r.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| InputError::Io(name.to_string(), e))?;
    if buf.len() as u64 > max {
        return Err(InputError::TooLarge(name.to_string(), max));
    }
    Ok(buf)
}

/// Reads a text document: as [`read_bytes`], then UTF-8 (located error) without a leading
/// byte-order mark.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, InputError> {
    let bytes = read_bytes(path, kind)?;
    text_from(bytes, &path.display().to_string())
}

/// `bytes` as UTF-8 text without a leading byte-order mark; an invalid byte is located.
pub fn text_from(mut bytes: Vec<u8>, name: &str) -> Result<String, InputError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let line = 1 + b[..at].iter().filter(|&&c| c == b'\n').count();
        let col = 1 + at
            - b[..at]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1);
        InputError::NotUtf8(name.to_string(), line, col)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        for (p, what) in [
            (Path::new("/dev/zero"), "a device"),
            (fifo.as_path(), "a FIFO"),
            (dir.path(), "a directory"),
        ] {
            let e = read_bytes(p, Kind::Document).unwrap_err();
            assert!(e.to_string().contains(what), "{p:?}: {e}");
        }
    }

    #[test]
    fn a_file_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        assert_eq!(read_bytes(&p, Kind::Document).unwrap().len(), 100);
        let e = read_capped(&b"0123456789"[..], "s", 9, 0).unwrap_err();
        assert!(e.to_string().contains("--max-input-size"), "{e}");
        assert_eq!(read_capped(&b"012345678"[..], "s", 9, 0).unwrap().len(), 9);
    }

    #[test]
    fn a_bom_is_dropped_and_bad_utf8_is_located() {
        assert_eq!(
            text_from(b"\xEF\xBB\xBFid: x\n".to_vec(), "f").unwrap(),
            "id: x\n"
        );
        let e = text_from(b"a: 1\nb: \xff\n".to_vec(), "f.yaml").unwrap_err();
        assert_eq!(e.to_string(), "f.yaml:2:4: not valid UTF-8");
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("4K").unwrap(), 4096);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert!(parse_size("2X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
