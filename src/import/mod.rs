//! Imported evidence: the text of `ss`, `netstat`, `lsof`, `/proc/net/*` and whole UAC
//! collections, read into a normal [`Snapshot`] (docs/import.md).
//!
//! Most incidents start with evidence someone else collected on a host where sockwarden was
//! never installed. Each file is one *part*: its format is detected from its name and first
//! lines ([`detect`]) unless `--format` forces it, one parser per format reads it into sockets
//! and process facts, and `merge` joins the parts of one host, socket by socket (by inode,
//! else by endpoints). What no part could tell (owners, uid, inode, a whole table) is recorded
//! in `meta.evidence.unknown` and as gaps, so that a rule testing it gives "unknown", never a
//! false match or a false clean (see `engine::undetermined`).
//!
//! Every byte is attacker-controlled: files are read through [`crate::input`] (bounded),
//! archives with per-member and total caps, never extracted to disk. A line that does not
//! parse is a located [`Diagnostic`] (`file:line:col`); all of them are reported at once, and
//! `--lenient` skips bad lines and counts them in the snapshot's warnings.

mod crosscheck;
mod detect;
mod lines;
mod lsof;
mod merge;
mod netstat;
mod procnet;
mod ss;
mod uac;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use detect::detect;
pub use lines::Lines;

use crate::diag::Diagnostic;
use crate::input::InputError;
use crate::model::{ByteString, Family, Kind, Snapshot, Socket, State, View};

crate::model::vocabulary! {
    /// The formats `sockwarden import` reads (`--format` takes these names).
    pub enum Format {
        /// `ss` output (iproute2), any table and detail flags, with or without a header.
        Ss => "ss",
        /// `netstat` output (net-tools): internet and unix sections.
        Netstat => "netstat",
        /// `lsof` output in its default columns (`-nPi`, `-nPli`, `-U`).
        Lsof => "lsof",
        /// `lsof -F` field output (NUL- or newline-separated fields).
        LsofF => "lsof-f",
        /// A copy of `/proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix,packet}`.
        Procnet => "procnet",
        /// A UAC collection: its directory or `.tar.gz` archive.
        Uac => "uac",
    }
}

impl Format {
    /// The view of the kernel's sockets that a capture of this format went through
    /// (docs/import.md, "Cross-checking the parts"): `ss` reads netlink, `netstat` and `cat`
    /// read /proc/net, `lsof` and UAC's `ls -la /proc/PID/fd` walk the descriptors.
    pub fn view(self) -> View {
        match self {
            Format::Ss => View::Netlink,
            Format::Netstat | Format::Procnet => View::Procnet,
            Format::Lsof | Format::LsofF | Format::Uac => View::Fdwalk,
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The format of every file, instead of detecting it.
    pub format: Option<Format>,
    /// Skip lines that do not parse (counted in the warnings) instead of failing.
    pub lenient: bool,
}

/// Why evidence could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read (or is not a regular file, or is too large).
    #[error(transparent)]
    Input(#[from] InputError),
    /// An archive or directory that cannot be read as a collection.
    #[error("{name}: {message}")]
    Collection {
        /// The archive or directory.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Lines, files or formats that could not be read, located; every one of them.
    #[error("{}", problems(.0))]
    Invalid(Vec<Diagnostic>),
}

/// `N problems in the evidence:` and each one on its own line, escaped (the messages quote
/// the evidence's text).
fn problems(d: &[Diagnostic]) -> String {
    let mut s = format!(
        "{} problem{} in the evidence (--lenient skips bad lines):",
        d.len(),
        if d.len() == 1 { "" } else { "s" }
    );
    for x in d {
        s.push('\n');
        s.push_str(&crate::text::escape_str(&x.to_string()));
    }
    s
}

/// What one part says about a process (each fact `None` when the part does not tell it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The kernel's short name, as far as the part shows it.
    pub comm: Option<ByteString>,
    /// The part cut `comm` (lsof's 9-character COMMAND): another part's wins.
    pub comm_truncated: bool,
    /// A name that is not the comm (netstat's `argv[0]` basename): shown when nothing better is
    /// known, never tested as `process.comm`.
    pub label: Option<ByteString>,
    /// The executable's path, without " (deleted)".
    pub exe: Option<ByteString>,
    /// The executable was deleted (the link ended in " (deleted)").
    pub exe_deleted: bool,
    /// argv.
    pub cmdline: Option<Vec<ByteString>>,
    /// Real uid.
    pub uid: Option<u32>,
    /// Effective uid.
    pub euid: Option<u32>,
    /// The user name.
    pub user: Option<String>,
    /// The parent's pid.
    pub ppid: Option<u32>,
    /// Start time, clock ticks after boot.
    pub start_ticks: Option<u64>,
}

impl Facts {
    /// Fills what `self` does not know from `other`.
    pub fn absorb(&mut self, other: &Facts) {
        let better = other.comm.is_some()
            && (self.comm.is_none() || (self.comm_truncated && !other.comm_truncated));
        if better {
            self.comm = other.comm.clone();
            self.comm_truncated = other.comm_truncated;
        }
        macro_rules! fill {
            ($($f:ident),*) => {$(
                if self.$f.is_none() {
                    self.$f = other.$f.clone();
                }
            )*};
        }
        fill!(label, exe, cmdline, uid, euid, user, ppid, start_ticks);
        self.exe_deleted |= other.exe_deleted;
    }
}

crate::model::vocabulary! {
    /// What a part can tell about its sockets, beyond protocol, state and endpoints: each value
    /// names the rule fields it answers ([`Give::fields`]).
    pub enum Give {
        /// Every process holding each socket it lists (`process.*`, `fd`, `socket.owned`).
        Owners => "owners",
        /// The socket inode.
        Inode => "inode",
        /// The socket's uid.
        Uid => "uid",
        /// Receive and send queues.
        Queues => "queues",
        /// The TCP timer.
        Timer => "timer",
        /// Socket memory.
        Memory => "memory",
        /// The firewall mark.
        Mark => "mark",
        /// IPV6_V6ONLY.
        V6only => "v6only",
        /// Shutdown bits.
        Shutdown => "shutdown",
        /// The bound device's name.
        Interface => "interface",
        /// A unix socket's full name.
        UnixName => "unix_name",
        /// A unix socket's peer inode.
        UnixPeer => "unix_peer",
        /// A packet socket's classic BPF filter.
        Bpf => "bpf",
    }
}

impl Give {
    /// The rule fields (or `PREFIX.*`) this fact answers.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Give::Owners => &[
                "process.*",
                "parent.*",
                "fd",
                "socket.owned",
                "socket.uid_is_holder",
            ],
            Give::Inode => &["socket.inode"],
            Give::Uid => &["socket.uid", "socket.uid_is_holder"],
            Give::Queues => &["socket.recv_q", "socket.send_q"],
            Give::Timer => &["socket.timer.*"],
            Give::Memory => &["socket.memory.*"],
            Give::Mark => &["socket.mark"],
            Give::V6only => &["socket.v6only"],
            Give::Shutdown => &["socket.shutdown"],
            Give::Interface => &["socket.interface"],
            Give::UnixName => &["socket.unix.name", "socket.unix.abstract"],
            Give::UnixPeer => &["socket.unix.peer"],
            Give::Bpf => &[
                "socket.packet.bpf",
                "socket.packet.bpf_len",
                "socket.packet.bpf_k",
            ],
        }
    }
}

/// A set of [`Give`]s, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gives(pub u32);

impl Gives {
    /// The set of these facts.
    pub fn of(g: &[Give]) -> Gives {
        Gives(g.iter().fold(0, |m, g| m | g.bit()))
    }
    /// Whether `g` is in the set.
    pub fn has(self, g: Give) -> bool {
        self.0 & g.bit() != 0
    }
    /// Adds `g`.
    pub fn add(&mut self, g: Give) {
        self.0 |= g.bit();
    }
    /// Removes `g`.
    pub fn remove(&mut self, g: Give) {
        self.0 &= !g.bit();
    }
}

/// One socket as one part saw it, with what that part tells of it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The socket; `inode` 0 when the part does not show it (see `gives`).
    pub socket: Socket,
    /// Which facts of `socket` this part gave.
    pub gives: Gives,
}

/// One file read: its sockets, what it tells of processes, which tables it covers.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The sockets, in file order.
    pub sockets: Vec<Seen>,
    /// Process facts by pid.
    pub processes: BTreeMap<u32, Facts>,
    /// (pid, fd, inode) of sockets held by processes, from fd listings that name no table
    /// (UAC's `ls -la /proc/PID/fd`): they complete the owners of sockets known by inode.
    pub fds: Vec<(u32, u32, u64)>,
    /// Tables this part lists completely (every state), and those it lists only partly.
    pub covers: Vec<(Kind, Coverage)>,
    /// Records of tables sockwarden does not model (netlink, mptcp, vsock, ...), by table name.
    pub unsupported: BTreeMap<String, u64>,
    /// Lines skipped under `--lenient`.
    pub skipped: u64,
    /// The host's name, when the part names it.
    pub hostname: Option<String>,
    /// The one address family an inet table lists (a copy of /proc/net/tcp has no IPv6
    /// sockets, /proc/net/tcp6 no IPv4 ones); `None`: both.
    pub family: Option<Family>,
    /// Where each process's fd listing (`fds`) was taken in the collection's order of commands
    /// (UAC's uac.log), by pid.
    pub fd_taken: BTreeMap<u32, u64>,
}

/// How much of a table a part lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coverage {
    /// Only the sockets a process holds (lsof), or some other part of the table.
    Partial(&'static str),
    /// The listening sockets only (`-l`): TCP listeners, unconnected UDP and raw sockets, unix
    /// listeners.
    Listening(&'static str),
    /// The connected sockets only (`ss` without `-a` or `-l`).
    Connected(&'static str),
    /// Every socket of the table, in every state.
    Complete,
}

impl Coverage {
    /// Why the table is listed only in part; `None` when it is complete.
    pub fn why(self) -> Option<&'static str> {
        match self {
            Coverage::Partial(w) | Coverage::Listening(w) | Coverage::Connected(w) => Some(w),
            Coverage::Complete => None,
        }
    }

    /// Whether a socket in `state` is listed (what the tools call listening: LISTEN, and the
    /// unconnected state CLOSE of UDP and raw sockets).
    pub fn lists(self, state: State) -> bool {
        let listening = matches!(state, State::Listen | State::Close);
        match self {
            Coverage::Complete => true,
            Coverage::Listening(_) => listening,
            Coverage::Connected(_) => !listening,
            Coverage::Partial(_) => false,
        }
    }
}

/// One part of the evidence, named as the user (or the archive) names it.
#[derive(Debug, Clone)]
pub struct Part {
    /// The file: a path, or `ARCHIVE:MEMBER`.
    pub name: String,
    /// Its format.
    pub format: Format,
    /// What it holds.
    pub parsed: Parsed,
    /// Where it was taken in the collection's order of commands (UAC's uac.log); `None` when
    /// the evidence does not say.
    pub taken: Option<u64>,
}

/// Imports every file, directory or archive in `paths` into one snapshot of one host.
pub fn import(paths: &[PathBuf], opts: &Options) -> Result<Snapshot, ImportError> {
    let mut parts = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        match read_path(p, opts) {
            Ok(mut v) => parts.append(&mut v),
            Err(ImportError::Invalid(mut d)) => diags.append(&mut d),
            Err(e) => return Err(e),
        }
    }
    if !diags.is_empty() {
        diags.sort();
        return Err(ImportError::Invalid(diags));
    }
    Ok(merge::merge(parts))
}

/// Joins parts already read into one snapshot.
pub fn merge_parts(parts: Vec<Part>) -> Snapshot {
    merge::merge(parts)
}

/// Whether `path` looks like evidence rather than a saved snapshot: a directory, a gzip
/// archive, or a file whose first non-blank byte is not `{`. Standard input is never evidence
/// here (it is sniffed when read, see `source`).
pub fn is_evidence(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    if path == Path::new("-") {
        return false;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.is_dir() {
        return true;
    }
    if !meta.is_file() {
        return false;
    }
    let mut head = [0u8; 512];
    // Non-blocking, as `input` opens: a FIFO swapped in after the check must not block.
    let n = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    looks_like_evidence(&head[..n])
}

/// Whether these first bytes of a file are evidence (not a JSON snapshot).
pub fn looks_like_evidence(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        None => false,
        Some(b'{') => false,
        Some(_) => true,
    }
}

/// The parts one command-line path gives: a collection directory or archive (UAC), or one
/// file.
fn read_path(path: &Path, opts: &Options) -> Result<Vec<Part>, ImportError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputError::Io(name.clone(), e))?;
    if meta.is_dir() {
        return uac::read_dir(path, opts);
    }
    let bytes = crate::input::read_bytes(path, crate::input::Kind::Snapshot)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return uac::read_archive(&name, &bytes, opts);
    }
    Ok(vec![parse_bytes(&name, &bytes, opts)?])
}

/// Reads one file's bytes as evidence: detects (or takes) its format and parses it.
pub fn parse_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<Part, ImportError> {
    let text = String::from_utf8_lossy(bytes);
    let format = match opts.format {
        Some(Format::Uac) | None => detect(name, &text)
            .map_err(|m| ImportError::Invalid(vec![Diagnostic::new(name, 1, 1, m)]))?,
        Some(f) => f,
    };
    let parsed = parse_text(name, &text, format, opts.lenient)?;
    Ok(Part {
        name: name.to_string(),
        format,
        parsed,
        taken: None,
    })
}

/// Parses text of a known format.
pub fn parse_text(
    name: &str,
    text: &str,
    format: Format,
    lenient: bool,
) -> Result<Parsed, ImportError> {
    let mut lines = Lines::new(name, text, lenient);
    let parsed = match format {
        Format::Ss => ss::parse(&mut lines),
        Format::Netstat => netstat::parse(&mut lines),
        Format::Lsof => lsof::parse_text(&mut lines),
        Format::LsofF => lsof::parse_fields(&mut lines),
        Format::Procnet => procnet::parse(&mut lines),
        Format::Uac => {
            lines.bad(
                1,
                1,
                "a UAC collection is a directory or a .tar.gz archive, not a file",
            );
            Parsed::default()
        }
    };
    lines.finish(parsed)
}

/// Splits `s` at ASCII whitespace, with each token's byte offset (for column numbers).
/// A unix socket's name as the tools print it (`@` marks an abstract name; empty or absent:
/// unnamed), with nothing else known about it.
pub(crate) fn unix_info(path: Option<&str>) -> Box<crate::model::UnixInfo> {
    let (name, r#abstract) = match path.filter(|p| !p.is_empty()) {
        None => (None, false),
        Some(p) => match p.strip_prefix('@') {
            Some(a) => (Some(a), true),
            None => (Some(p), false),
        },
    };
    Box::new(crate::model::UnixInfo::named(
        name.map(|n| ByteString::from(n.as_bytes().to_vec())),
        r#abstract,
    ))
}

pub(crate) fn tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        Some((start, &s[start..i]))
    })
}

/// An address as a key that agrees across tools: v4-mapped IPv6 as IPv4 (netstat and lsof show
/// them so).
pub(crate) fn canonical_ip(a: std::net::IpAddr) -> std::net::IpAddr {
    match a {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => a,
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every prefix of every line of real captures, and each with a multi-byte character
    /// spliced in, through every parser: located problems or sockets, never a panic (the fuzz
    /// target `import` does the same at random).
    #[test]
    fn cut_and_spliced_lines_never_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sslab/");
        let files = [
            ("ss_0npeb_packet_bpf.txt", "ss_-0npeb.txt"),
            ("netstat_wanpe_raw.txt", "netstat.txt"),
            ("netstat_xanpe_unix.txt", "netstat.txt"),
            ("lsof_nP_U.txt", "lsof.txt"),
        ];
        let formats = [
            Format::Ss,
            Format::Netstat,
            Format::Lsof,
            Format::LsofF,
            Format::Procnet,
        ];
        for (file, name) in files {
            let text = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
            let lines: Vec<&str> = text.lines().take(12).collect();
            let header = lines[0];
            for l in &lines[1..] {
                let cuts = l.char_indices().map(|(i, _)| i).step_by(3);
                for at in cuts {
                    for mid in ["", "é", "\u{202e}", "\0", ")"] {
                        let doc = format!("{header}\n{}{mid}{}\n", &l[..at], &l[at..]);
                        for f in formats {
                            for lenient in [false, true] {
                                let _ = parse_text(name, &doc, f, lenient);
                            }
                        }
                    }
                }
            }
        }
    }
}
