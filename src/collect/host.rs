//! Host facts for the snapshot header, user names, and interface names.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::ffi::OsStrExt;

use nix::unistd::{Uid, User};

use super::procwalk::ns_inode;

/// The host name from gethostname(2) (in the UTS namespace sockwarden runs in), lossily decoded;
/// empty when it cannot be read.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The running kernel's release (`uname -r`), from /proc/sys/kernel/osrelease; empty when
/// unreadable.
pub fn kernel_release() -> String {
    read_trimmed("/proc/sys/kernel/osrelease")
}

/// The random id the kernel chose at this boot (/proc/sys/kernel/random/boot_id). Boot-relative
/// values such as `start_ticks` are comparable between two snapshots only when their boot ids
/// are equal. Empty when unreadable.
pub fn boot_id() -> String {
    read_trimmed("/proc/sys/kernel/random/boot_id")
}

fn read_trimmed(p: &str) -> String {
    fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The network namespace of the calling thread.
pub fn current_netns() -> Option<u64> {
    fs::read_link("/proc/thread-self/ns/net")
        .ok()
        .and_then(|p| ns_inode(p.as_os_str().as_bytes()))
}

/// The capabilities a complete view needs: CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19)
/// for other users' /proc entries and fd tables, CAP_NET_ADMIN (12) for packet sockets' BPF
/// filters.
pub const NEEDED_CAPS: u64 = (1 << 2) | (1 << 12) | (1 << 19);

/// Whether this process can see everything: the capabilities in [`NEEDED_CAPS`] are effective,
/// and they are capabilities of the host's user namespace. Inside a user namespace (a rootless
/// container, `unshare -r`) a process may hold every capability and uid 0, yet they give it no
/// right over the host's processes and namespaces; uid 0 by itself means nothing either way.
pub fn privileged() -> bool {
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    cap_eff & NEEDED_CAPS == NEEDED_CAPS && in_initial_user_namespace()
}

/// Whether this process runs in the initial user namespace: its uid map is the identity over
/// all 2^32 - 1 ids, which no other user namespace can have.
pub fn in_initial_user_namespace() -> bool {
    fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| is_identity_map(&m))
}

fn is_identity_map(map: &str) -> bool {
    let rows: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    rows.len() == 1 && rows[0] == ["0", "0", "4294967295"]
}

/// Resolves each uid once.
pub fn user_names(uids: impl IntoIterator<Item = u32>) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    for uid in uids {
        out.entry(uid).or_insert_with(|| {
            User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_default()
        });
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// Interface index → name, in the calling thread's network namespace (rtnetlink-free: one
/// if_indextoname per distinct index).
pub fn interface_names(indexes: impl IntoIterator<Item = u32>) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    for i in indexes {
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(i)
            && let Ok(name) = nix::net::if_::if_indextoname(i)
        {
            e.insert(name.to_string_lossy().into_owned());
        }
    }
    out
}

/// RFC 3339 UTC timestamp, seconds precision.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The local port range of the calling thread's network namespace.
pub fn ip_local_port_range() -> Option<(u16, u16)> {
    let s = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut f = s.split_ascii_whitespace();
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

/// The DNS servers this host is configured to use, sorted, each once: `nameserver` lines of
/// /etc/resolv.conf and, where systemd-resolved runs, of /run/systemd/resolve/resolv.conf (its
/// upstream servers, static and learned), and `DNS=` / `FallbackDNS=` of resolved.conf and its
/// drop-ins. Files that do not exist add nothing. Read in the mount namespace sockwarden runs
/// in, so `ip netns exec` sees the namespace's own /etc/netns/NAME/resolv.conf.
pub fn resolvers() -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    for p in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
        if let Some(t) = read_small(std::path::Path::new(p)) {
            out.extend(parse_resolv_conf(&t));
        }
    }
    let mut confs = vec![std::path::PathBuf::from("/etc/systemd/resolved.conf")];
    for dir in [
        "/etc/systemd/resolved.conf.d",
        "/run/systemd/resolved.conf.d",
        "/usr/lib/systemd/resolved.conf.d",
    ] {
        if let Ok(rd) = fs::read_dir(dir) {
            let mut v: Vec<_> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                .collect();
            v.sort();
            confs.extend(v);
        }
    }
    for c in confs {
        if let Some(t) = read_small(&c) {
            out.extend(parse_resolved_conf(&t));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The entries of /etc/ld.so.preload (libraries the dynamic loader injects into every
/// program), in file order; empty when the file is absent or empty. `None` when it exists but
/// could not be read (it is root-only on hardened hosts).
pub fn ld_so_preload() -> Option<Vec<String>> {
    match fs::File::open("/etc/ld.so.preload") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Vec::new()),
        Err(_) => None,
        Ok(_) => {
            read_small(std::path::Path::new("/etc/ld.so.preload")).map(|t| parse_ld_so_preload(&t))
        }
    }
}

/// The libraries preloaded into this process: the entries of its own `LD_PRELOAD` (as it
/// started: /proc/self/environ, which a library cannot hide by unsetting the variable) and of
/// /etc/ld.so.preload that /proc/self/maps shows mapped. Sorted. A statically linked build maps
/// nothing: always empty there.
pub fn self_preload() -> Vec<String> {
    let environ = fs::read("/proc/self/environ").unwrap_or_default();
    let mut wanted: Vec<String> = environ
        .split(|&b| b == 0)
        .filter_map(|e| e.strip_prefix(b"LD_PRELOAD="))
        .flat_map(|v| parse_ld_so_preload(&String::from_utf8_lossy(v)))
        .collect();
    wanted.extend(ld_so_preload().unwrap_or_default());
    let maps = fs::read("/proc/self/maps").unwrap_or_default();
    preloaded(&maps, wanted)
}

/// The entries of `wanted` that a maps text shows mapped: by path, or by file name for an entry
/// without a slash (the loader searches the library path for those).
pub fn preloaded(maps: &[u8], wanted: Vec<String>) -> Vec<String> {
    let mapped: Vec<&[u8]> = maps
        .split(|&b| b == b'\n')
        .filter_map(|l| l.iter().position(|&b| b == b'/').map(|i| &l[i..]))
        .collect();
    let mut out: Vec<String> = wanted
        .into_iter()
        .filter(|w| {
            let w = w.as_bytes();
            mapped.iter().any(|m| {
                let m = m.strip_suffix(b" (deleted)").unwrap_or(m);
                if w.contains(&b'/') {
                    *m == *w
                } else {
                    m.rsplit(|&b| b == b'/').next() == Some(w)
                }
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Entries of an ld.so.preload file: separated by white space or `:`, `#` comments dropped.
pub fn parse_ld_so_preload(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_ascii_whitespace() || c == ':'))
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// A host configuration file, at most 1 MiB of it, lossily decoded (bytes that are not UTF-8
/// must not hide the rest of a planted file); `None` when unreadable.
fn read_small(p: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut b = Vec::new();
    fs::File::open(p)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut b)
        .ok()?;
    Some(String::from_utf8_lossy(&b).into_owned())
}

/// `nameserver ADDRESS` lines of a resolv.conf.
pub fn parse_resolv_conf(text: &str) -> Vec<std::net::IpAddr> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_ascii_whitespace();
            (f.next()? == "nameserver").then_some(())?;
            dns_server(f.next()?)
        })
        .collect()
}

/// The servers of `DNS=` and `FallbackDNS=` lines of a resolved.conf (any section: only
/// `[Resolve]` has them).
pub fn parse_resolved_conf(text: &str) -> Vec<std::net::IpAddr> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .filter(|(k, _)| matches!(k.trim(), "DNS" | "FallbackDNS"))
        .flat_map(|(_, v)| v.split_ascii_whitespace().filter_map(dns_server))
        .collect()
}

/// One server as resolved.conf and resolv.conf write it: `ADDR`, `ADDR%IFACE`, `ADDR:PORT`,
/// `[ADDR]:PORT%IFACE`, each optionally followed by `#SERVER_NAME`.
fn dns_server(tok: &str) -> Option<std::net::IpAddr> {
    let tok = tok.split('#').next()?;
    let unscoped = |s: &str| s.split('%').next().unwrap_or(s).to_string();
    if let Some(rest) = tok.strip_prefix('[') {
        return unscoped(&rest[..rest.find(']')?]).parse().ok();
    }
    let tok = unscoped(tok);
    if let Ok(ip) = tok.parse() {
        return Some(ip);
    }
    let (addr, _port) = tok.rsplit_once(':')?;
    addr.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(std::net::IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_servers_of_resolv_conf_and_resolved_conf() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let rc = "# generated\nsearch example.org\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n\
                  options edns0\nnameserver\n";
        assert_eq!(parse_resolv_conf(rc), vec![ip("192.0.2.53"), ip("fe80::1")]);
        let conf = "[Resolve]\nDNS=198.51.100.1#dns.example 198.51.100.2:5353 [2001:db8::53]:53%eth0#x\n\
                    FallbackDNS=2001:db8::1\n#DNS=203.0.113.1\nDomains=~.\n";
        assert_eq!(
            parse_resolved_conf(conf),
            vec![
                ip("198.51.100.1"),
                ip("198.51.100.2"),
                ip("2001:db8::53"),
                ip("2001:db8::1")
            ]
        );
        assert_eq!(
            parse_ld_so_preload("# none\n/lib/x.so /tmp/y.so:/z.so\n\n"),
            vec!["/lib/x.so", "/tmp/y.so", "/z.so"]
        );
        assert!(parse_ld_so_preload("\n# only a comment\n").is_empty());
    }

    #[test]
    fn preloaded_libraries_are_the_wanted_ones_that_are_mapped() {
        let maps = b"7f00-7f01 r-xp 00000000 08:01 5 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r-xp 00000000 08:01 6 /tmp/w/libhide.so
7f04-7f05 r-xp 00000000 08:01 7 /usr/lib/libjemalloc.so.2 (deleted)
";
        let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            preloaded(
                maps,
                want(&["/tmp/w/libhide.so", "/tmp/other.so", "libjemalloc.so.2"])
            ),
            want(&["/tmp/w/libhide.so", "libjemalloc.so.2"])
        );
        assert!(preloaded(maps, want(&["libhide"])).is_empty());
        // This test binary runs without a preload (unless the machine has one).
        if std::env::var_os("LD_PRELOAD").is_none()
            && ld_so_preload().unwrap_or_default().is_empty()
        {
            assert!(self_preload().is_empty());
        }
    }

    #[test]
    fn only_the_full_identity_map_is_the_initial_user_namespace() {
        assert!(is_identity_map("         0          0 4294967295\n"));
        assert!(!is_identity_map("         0       1000          1\n"));
        assert!(!is_identity_map("0 0 4294967294\n"));
        assert!(!is_identity_map("0 0 1000\n1000 1000 4294966295\n"));
    }
}
