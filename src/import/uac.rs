//! UAC collections (github.com/tclahr/uac, 3.x): a directory or its `.tar.gz` archive.
//!
//! What is read, under `live_response/` (the file names are UAC's, from its artifacts):
//! - `network/`: `ss_-anp.txt`, `ss_-tanp.txt`, `ss_-uanp.txt`, `ss_-tlnp.txt`,
//!   `ss_-ulnp.txt`, `ss_-0bp.txt`, `netstat_-anp.txt`, `netstat_-lpeanut.txt`,
//!   `lsof_-nPli.txt`, `lsof_-U.txt`, `proc_net_*.txt`; `hostname.txt` for the host's name.
//!   The captures without `-n` (`ss_-ap.txt`, ...) hold service names and are not read.
//! - `process/proc/PID/`: `comm.txt`, `stat.txt` (ppid, start time), `status.txt` (uids),
//!   `cmdline.txt` (only when it kept its NUL separators: UAC's `strings` copy drops short
//!   arguments), `fd.txt` (`ls -la /proc/PID/fd`: which process holds which socket inode).
//! - `process/running_processes_full_paths.txt` (`ls -l /proc/[0-9]*/exe`): executables.
//! - `process/ps_auxwww.txt`: user names, and the command line where no exact copy exists
//!   (as ps prints it: arguments joined by blanks, control characters as `?`).
//!
//! Nothing is extracted: members are read into memory, each at most the input cap
//! (`--max-input-size`), the archive's whole decompressed stream at most four times it, and
//! symbolic links in a directory are not followed. A member's path only selects it, so `..` or
//! an absolute path in an archive cannot reach anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use super::{Facts, Format, ImportError, Options, Parsed, Part, parse_bytes};
use crate::diag::Diagnostic;
use crate::input::{self, InputError};
use crate::model::ByteString;

/// The network captures read, by file name.
const NETWORK: &[&str] = &[
    "ss_-anp.txt",
    "ss_-tanp.txt",
    "ss_-uanp.txt",
    "ss_-tlnp.txt",
    "ss_-ulnp.txt",
    "ss_-0bp.txt",
    "netstat_-anp.txt",
    "netstat_-lpeanut.txt",
    "lsof_-nPli.txt",
    "lsof_-U.txt",
    "proc_net_tcp.txt",
    "proc_net_tcp6.txt",
    "proc_net_udp.txt",
    "proc_net_udp6.txt",
    "proc_net_raw.txt",
    "proc_net_raw6.txt",
    "proc_net_unix.txt",
    "proc_net_packet.txt",
];

/// What a member of the collection is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Member {
    /// `uac.log`: the commands in the order they ran.
    Log,
    Network,
    Hostname,
    Exe,
    Ps,
    Proc(u32, ProcFile),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProcFile {
    Comm,
    Stat,
    Status,
    Cmdline,
    Fd,
}

/// The collection root (the path up to `live_response/`) and what the member is, for members
/// that are read.
fn classify(path: &str) -> Option<(&str, Member)> {
    if let Some(root) = path.strip_suffix("uac.log")
        && (root.is_empty() || root.ends_with('/'))
        && !root.contains("live_response/")
    {
        return Some((root, Member::Log));
    }
    let at = path.find("live_response/")?;
    if at > 0 && !path[..at].ends_with('/') {
        return None;
    }
    let root = &path[..at];
    let rel = &path[at + "live_response/".len()..];
    if let Some(f) = rel.strip_prefix("network/") {
        if NETWORK.contains(&f) {
            return Some((root, Member::Network));
        }
        if f == "hostname.txt" {
            return Some((root, Member::Hostname));
        }
        return None;
    }
    let p = rel.strip_prefix("process/")?;
    if p == "running_processes_full_paths.txt" {
        return Some((root, Member::Exe));
    }
    if p == "ps_auxwww.txt" {
        return Some((root, Member::Ps));
    }
    let (pid, file) = p.strip_prefix("proc/")?.split_once('/')?;
    let pid: u32 = pid.parse().ok()?;
    let f = match file {
        "comm.txt" => ProcFile::Comm,
        "stat.txt" => ProcFile::Stat,
        "status.txt" => ProcFile::Status,
        "cmdline.txt" => ProcFile::Cmdline,
        "fd.txt" => ProcFile::Fd,
        _ => return None,
    };
    Some((root, Member::Proc(pid, f)))
}

/// Reads a collection directory.
pub fn read_dir(dir: &Path, opts: &Options) -> Result<Vec<Part>, ImportError> {
    let name = dir.display().to_string();
    let max = input::Kind::Snapshot.max();
    let mut members = Vec::new();
    let mut plain = Vec::new();
    let mut total: u64 = 0;
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .max_depth(8)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| ImportError::Collection {
            name: name.clone(),
            message: e.to_string(),
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let rel = rel.to_string_lossy().into_owned();
        if classify(&rel).is_none() {
            if e.depth() == 1 {
                plain.push(e.path().to_path_buf());
            }
            continue;
        }
        let bytes = input::read_bytes(e.path(), input::Kind::Snapshot)?;
        total += bytes.len() as u64;
        if total > max.saturating_mul(4) {
            return Err(InputError::TooLarge(name, max.saturating_mul(4)).into());
        }
        members.push((rel, bytes));
    }
    if members.is_empty() {
        return read_plain(&name, &plain, opts);
    }
    collect(&name, "/", members, opts)
}

/// A directory that is not a UAC collection: each file in it is one capture (`before/` holding
/// `ss_-anp.txt` and `netstat_-anp.txt`).
fn read_plain(
    name: &str,
    files: &[std::path::PathBuf],
    opts: &Options,
) -> Result<Vec<Part>, ImportError> {
    if files.is_empty() {
        return Err(ImportError::Collection {
            name: name.to_string(),
            message: "no evidence in this directory (neither a UAC collection nor captures)".into(),
        });
    }
    let mut parts = Vec::new();
    let mut diags = Vec::new();
    for f in files {
        let bytes = input::read_bytes(f, input::Kind::Snapshot)?;
        match parse_bytes(&f.display().to_string(), &bytes, opts) {
            Ok(p) => parts.push(p),
            Err(ImportError::Invalid(mut d)) => diags.append(&mut d),
            Err(e) => return Err(e),
        }
    }
    if diags.is_empty() {
        Ok(parts)
    } else {
        Err(ImportError::Invalid(diags))
    }
}

/// Reads a collection archive (`.tar.gz`).
pub fn read_archive(name: &str, bytes: &[u8], opts: &Options) -> Result<Vec<Part>, ImportError> {
    let max = input::Kind::Snapshot.max();
    let bad = |m: String| ImportError::Collection {
        name: name.to_string(),
        message: m,
    };
    // The whole decompressed stream is capped: a gzip bomb ends in an error, not in a full disk
    // or memory.
    let stream = flate2::read::GzDecoder::new(bytes).take(max.saturating_mul(4));
    let mut archive = tar::Archive::new(stream);
    let mut members = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("a damaged or truncated archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if classify(&path).is_none() {
            continue;
        }
        let mut buf = Vec::new();
        (&mut entry)
            .take(max.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("{path}: a damaged or truncated archive: {e}")))?;
        if buf.len() as u64 > max {
            return Err(InputError::TooLarge(format!("{name}:{path}"), max).into());
        }
        members.push((path, buf));
    }
    collect(name, ":", members, opts)
}

/// Parses the selected members of one collection into parts: each network capture is a part,
/// and the process listings together are one more.
fn collect(
    name: &str,
    sep: &str,
    members: Vec<(String, Vec<u8>)>,
    opts: &Options,
) -> Result<Vec<Part>, ImportError> {
    let mut roots: Vec<&str> = members
        .iter()
        .filter_map(|(p, _)| classify(p).map(|c| c.0))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    if roots.len() > 1 {
        return Err(ImportError::Collection {
            name: name.to_string(),
            message: format!(
                "holds {} collections ({}): import one host at a time",
                roots.len(),
                roots.join(", ")
            ),
        });
    }
    if !members
        .iter()
        .any(|(p, _)| matches!(classify(p), Some((_, Member::Network))))
    {
        return Err(ImportError::Collection {
            name: name.to_string(),
            message: "no network capture of UAC's (live_response/network/ss_-anp.txt, \
                      netstat_-anp.txt, lsof_-nPli.txt, proc_net_*.txt, ...)"
                .into(),
        });
    }
    let member_opts = Options {
        format: None,
        lenient: opts.lenient,
    };
    let mut parts = Vec::new();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut procs = Parsed::default();
    let mut hostname = None;
    let mut ps: BTreeMap<u32, Facts> = BTreeMap::new();
    let order = members
        .iter()
        .find(|(p, _)| matches!(classify(p), Some((_, Member::Log))))
        .map(|(_, b)| command_order(&String::from_utf8_lossy(b)));
    for (path, bytes) in &members {
        let Some((_, member)) = classify(path) else {
            continue;
        };
        let full = format!("{name}{sep}{}", path.trim_start_matches('/'));
        match member {
            Member::Log => {}
            Member::Network => match parse_bytes(&full, bytes, &member_opts) {
                Ok(mut p) => {
                    let file = path.rsplit('/').next().unwrap_or(path);
                    p.taken = order
                        .as_ref()
                        .and_then(|o| o.get(&capture_command(file)).copied());
                    parts.push(p);
                }
                Err(ImportError::Invalid(mut d)) => diags.append(&mut d),
                Err(e) => return Err(e),
            },
            Member::Hostname => {
                let t = String::from_utf8_lossy(bytes);
                hostname = t.lines().next().map(|l| l.trim().to_string());
            }
            Member::Exe => exe_paths(bytes, &mut procs.processes),
            Member::Ps => ps_aux(bytes, &mut ps),
            Member::Proc(pid, f) => proc_file(pid, f, bytes, &mut procs),
        }
    }
    if !diags.is_empty() {
        return Err(ImportError::Invalid(diags));
    }
    // ps fills only what the per-process files did not give (an exact argv wins).
    for (pid, f) in ps {
        procs.processes.entry(pid).or_default().absorb(&f);
    }
    procs.hostname = hostname;
    if let Some(o) = &order {
        let pids: BTreeSet<u32> = procs.fds.iter().map(|f| f.0).collect();
        procs.fd_taken = pids
            .into_iter()
            .filter_map(|pid| Some((pid, *o.get(&format!("ls -la /proc/{pid}/fd"))?)))
            .collect();
    }
    parts.push(Part {
        name: format!("{name}{sep}live_response/process"),
        format: Format::Uac,
        parsed: procs,
        taken: None,
    });
    Ok(parts)
}

/// The command UAC ran for a network capture, from the capture's name (UAC names the output
/// after the command): `ss_-anp.txt` is `ss -anp`, `proc_net_tcp6.txt` is `cat /proc/net/tcp6`.
fn capture_command(file: &str) -> String {
    let stem = file.strip_suffix(".txt").unwrap_or(file);
    match stem.strip_prefix("proc_net_") {
        Some(table) => format!("cat /proc/net/{table}"),
        None => stem.replace('_', " "),
    }
}

/// Each command of a uac.log (`2026-12-06 13:00:01 +0000 CMD ss -anp`, a failed one followed by
/// ` 2> MESSAGE`, a compressed one by ` | gzip - | cat -`), without double quotes, with its
/// position among the commands:
/// the order in which the collection was taken. A command run twice keeps its first position.
fn command_order(log: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let mut n = 0;
    for l in log.lines() {
        let Some((_, cmd)) = l.split_once(" CMD ") else {
            continue;
        };
        let cmd = cmd.split(" 2> ").next().unwrap_or(cmd);
        let cmd = cmd.strip_suffix(" | gzip - | cat -").unwrap_or(cmd).trim();
        // A `foreach` value is spliced in double quotes: `ls -la /proc/"42"/fd`.
        out.entry(cmd.replace('"', "")).or_insert(n);
        n += 1;
    }
    out
}

fn facts(out: &mut Parsed, pid: u32) -> &mut Facts {
    out.processes.entry(pid).or_default()
}

fn proc_file(pid: u32, f: ProcFile, bytes: &[u8], out: &mut Parsed) {
    let text = String::from_utf8_lossy(bytes);
    match f {
        ProcFile::Comm => {
            let c = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            if !c.is_empty() {
                let fa = facts(out, pid);
                fa.comm = Some(ByteString::from(c.to_vec()));
                fa.comm_truncated = false;
            }
        }
        ProcFile::Stat => {
            // `pid (comm) S ppid ... starttime(22)`: the comm may hold `)`, so the last one.
            if let Some(close) = text.rfind(')') {
                let f: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
                let fa = facts(out, pid);
                fa.ppid = f.get(1).and_then(|v| v.parse().ok());
                fa.start_ticks = f.get(19).and_then(|v| v.parse().ok());
            }
        }
        ProcFile::Status => {
            for l in text.lines() {
                if let Some(v) = l.strip_prefix("Uid:") {
                    let ids: Vec<u32> = v
                        .split_ascii_whitespace()
                        .filter_map(|x| x.parse().ok())
                        .collect();
                    let fa = facts(out, pid);
                    fa.uid = ids.first().copied();
                    fa.euid = ids.get(1).copied();
                } else if let Some(v) = l.strip_prefix("PPid:") {
                    facts(out, pid).ppid = v.trim().parse().ok();
                }
            }
        }
        ProcFile::Cmdline => {
            // Only an exact copy (NUL-separated); `strings` output has lost short arguments.
            if bytes.contains(&0) {
                let args: Vec<ByteString> = bytes
                    .strip_suffix(b"\0")
                    .unwrap_or(bytes)
                    .split(|b| *b == 0)
                    .map(|a| ByteString::from(a.to_vec()))
                    .collect();
                facts(out, pid).cmdline = Some(args);
            }
        }
        ProcFile::Fd => {
            for l in text.lines() {
                if let Some((fd, inode)) = fd_line(l) {
                    out.fds.push((pid, fd, inode));
                }
            }
        }
    }
}

/// `lrwx------ 1 root root 64 Dec  6 06:00 3 -> socket:[165485]`.
fn fd_line(l: &str) -> Option<(u32, u64)> {
    let (left, target) = l.rsplit_once(" -> ")?;
    let inode = target
        .trim()
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let fd = left.rsplit(' ').next()?.parse().ok()?;
    Some((fd, inode))
}

/// `lrwxrwxrwx 1 root root 0 Dec  6 06:00 /proc/1/exe -> /usr/lib/systemd/systemd`.
fn exe_paths(bytes: &[u8], out: &mut BTreeMap<u32, Facts>) {
    for l in bytes.split(|b| *b == b'\n') {
        let Some(at) = find(l, b" /proc/") else {
            continue;
        };
        let rest = &l[at + b" /proc/".len()..];
        let Some(slash) = rest.iter().position(|b| *b == b'/') else {
            continue;
        };
        let Ok(pid) = std::str::from_utf8(&rest[..slash])
            .unwrap_or("")
            .parse::<u32>()
        else {
            continue;
        };
        let Some(arrow) = find(rest, b"/exe -> ") else {
            continue;
        };
        let mut target = &rest[arrow + b"/exe -> ".len()..];
        let deleted = target.ends_with(b" (deleted)");
        if deleted {
            target = &target[..target.len() - b" (deleted)".len()];
        }
        let f = out.entry(pid).or_default();
        f.exe = Some(ByteString::from(target.to_vec()));
        f.exe_deleted = deleted;
    }
}

/// `ps auxwww`: `USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND`. A user name longer
/// than 8 characters is cut and marked `+`, and a uid without a name is a number: neither is a
/// name.
fn ps_aux(bytes: &[u8], out: &mut BTreeMap<u32, Facts>) {
    let text = String::from_utf8_lossy(bytes);
    for l in text.lines().skip(1) {
        let t: Vec<(usize, &str)> = super::tokens(l).collect();
        if t.len() < 11 {
            continue;
        }
        let Ok(pid) = t[1].1.parse::<u32>() else {
            continue;
        };
        let f = out.entry(pid).or_default();
        let user = t[0].1;
        if !user.ends_with('+') && !user.bytes().all(|b| b.is_ascii_digit()) {
            f.user = Some(user.to_string());
        }
        let command = &l[t[10].0..];
        f.cmdline = Some(
            command
                .split(' ')
                .map(|a| ByteString::from(a.as_bytes().to_vec()))
                .collect(),
        );
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// uac.log's CMD lines give each capture's place in the collection (issue 17): quotes of a
    /// `foreach` value, a stderr tail and a compression pipe do not change the command.
    #[test]
    fn the_log_orders_the_captures() {
        let log = "2026-12-06 13:00:00 +0000 INF Parsing live_response/process/ps.yaml
2026-12-06 13:00:00 +0000 CMD for pid in /proc/[0-9]*; do echo ${pid} | sed -e 's:/proc/::'; done
2026-12-06 13:00:00 +0000 CMD ls -la /proc/\"42\"/fd
2026-12-06 13:00:01 +0000 CMD ss -anp 2> Cannot open netlink socket
2026-12-06 13:00:01 +0000 CMD cat /proc/net/tcp6 | gzip - | cat -
2026-12-06 13:00:02 +0000 CMD ss -anp
";
        let o = command_order(log);
        assert_eq!(o["ls -la /proc/42/fd"], 1);
        assert_eq!(o[&capture_command("ss_-anp.txt")], 2);
        assert_eq!(o[&capture_command("proc_net_tcp6.txt")], 3);
        assert_eq!(capture_command("netstat_-lpeanut.txt"), "netstat -lpeanut");
        assert_eq!(classify("uac.log"), Some(("", Member::Log)));
        assert_eq!(classify("c/uac.log"), Some(("c/", Member::Log)));
        assert_eq!(classify("c/xuac.log"), None);
        assert_eq!(classify("live_response/uac.log"), None);
    }

    #[test]
    fn members_are_chosen_by_path_only() {
        assert_eq!(
            classify("uac-h-linux-1/live_response/network/ss_-anp.txt"),
            Some(("uac-h-linux-1/", Member::Network))
        );
        assert_eq!(
            classify("live_response/process/proc/42/fd.txt"),
            Some(("", Member::Proc(42, ProcFile::Fd)))
        );
        assert_eq!(classify("x/live_response/network/ss_-ap.txt"), None);
        assert_eq!(classify("xlive_response/network/ss_-anp.txt"), None);
        assert_eq!(classify("../../etc/passwd"), None);
    }

    #[test]
    fn process_listings() {
        let mut p = Parsed::default();
        proc_file(
            7,
            ProcFile::Stat,
            b"7 (a) b) S 1 7 7 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0\n",
            &mut p,
        );
        proc_file(
            7,
            ProcFile::Status,
            b"Name:\ta\nPPid:\t1\nUid:\t1000\t0\t0\t0\n",
            &mut p,
        );
        proc_file(7, ProcFile::Cmdline, b"nc\0-l\x004444\0", &mut p);
        proc_file(7, ProcFile::Fd, b"total 0\nlrwx------ 1 root root 64 Dec  6 06:00 3 -> socket:[165485]\nlr-x------ 1 root root 64 Dec  6 06:00 4 -> /dev/null\n", &mut p);
        exe_paths(
            b"lrwxrwxrwx 1 root root 0 Dec  6 06:00 /proc/7/exe -> /tmp/x y (deleted)\n",
            &mut p.processes,
        );
        let f = &p.processes[&7];
        assert_eq!(
            (f.ppid, f.start_ticks, f.uid, f.euid),
            (Some(1), Some(12345), Some(1000), Some(0))
        );
        assert_eq!(f.cmdline.as_ref().unwrap().len(), 3);
        assert_eq!(f.exe.as_ref().unwrap().as_bytes(), b"/tmp/x y");
        assert!(f.exe_deleted);
        assert_eq!(p.fds, vec![(7, 3, 165485)]);
        let mut ps = BTreeMap::new();
        ps_aux(b"USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nwww-data 9 0.0 0.1 1 2 ? S 06:00 0:00 nc -l  4444\nsystemd+ 10 0.0 0.1 1 2 ? S 06:00 0:00 /lib/systemd/systemd-timesyncd\n", &mut ps);
        assert_eq!(ps[&9].user.as_deref(), Some("www-data"));
        assert_eq!(ps[&9].cmdline.as_ref().unwrap().len(), 4);
        assert_eq!(ps[&10].user, None);
        // A `strings` copy of cmdline is not taken.
        let mut q = Parsed::default();
        proc_file(8, ProcFile::Cmdline, b"/usr/bin/python3\n", &mut q);
        assert!(q.processes.get(&8).is_none_or(|f| f.cmdline.is_none()));
    }
}
