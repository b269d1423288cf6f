//! What a filter needs from the system while it is parsed: service names, host names, device
//! names and the ephemeral port range. Behind a trait so that tests parse without the system.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, ToSocketAddrs};

/// The name lookups `ss` does while it parses a filter.
pub trait Lookup {
    /// The port of service `name` for `proto` (`tcp` or `udp`), as `getservbyname(3)`.
    fn service(&self, name: &str, proto: &str) -> Option<u16>;
    /// The addresses of host `name`: IPv4 first, then IPv6, as `ss`'s two `gethostbyname2`.
    fn hosts(&self, name: &str) -> Vec<IpAddr>;
    /// The index of network device `name` in the current namespace.
    fn device(&self, name: &str) -> Option<u32>;
    /// `net.ipv4.ip_local_port_range` (`autobound`); `ss` falls back to 1024-4999.
    fn port_range(&self) -> (u16, u16);
    /// The id of cgroup v2 `path` (`cgroup = PATH`): a directory of the cgroup2 filesystem, as
    /// given or relative to its mount point; `None` when there is none.
    fn cgroup_id(&self, path: &str) -> Option<u64> {
        let _ = path;
        None
    }
    /// Whether `path` exists as given but not on the cgroup2 filesystem, so that
    /// [`Lookup::cgroup_id`] read it under the cgroup2 mount where `ss` would take the file
    /// handle of `path` itself (docs/list.md D7).
    fn cgroup_elsewhere(&self, path: &str) -> bool {
        let _ = path;
        false
    }
}

/// The running system: `/etc/services` (read here, not through NSS), the system resolver
/// (`getaddrinfo`, so /etc/hosts and DNS as nsswitch.conf says), `if_nametoindex`, and
/// `/proc/sys/net/ipv4/ip_local_port_range`.
#[derive(Debug, Default, Clone, Copy)]
pub struct System;

impl Lookup for System {
    fn service(&self, name: &str, proto: &str) -> Option<u16> {
        let text = std::fs::read_to_string("/etc/services").ok()?;
        service_in(&text, name, proto)
    }

    fn hosts(&self, name: &str) -> Vec<IpAddr> {
        let Ok(addrs) = (name, 0).to_socket_addrs() else {
            return Vec::new();
        };
        let mut all: Vec<IpAddr> = Vec::new();
        for a in addrs {
            if !all.contains(&a.ip()) {
                all.push(a.ip());
            }
        }
        // gethostbyname2(AF_INET) then (AF_INET6): IPv4 first, each family in resolver order.
        all.sort_by_key(IpAddr::is_ipv6);
        all
    }

    fn device(&self, name: &str) -> Option<u32> {
        nix::net::if_::if_nametoindex(name).ok()
    }

    /// The inode of the directory: a cgroup2 directory's inode is its id (kernfs node id).
    fn cgroup_id(&self, path: &str) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        let on_cgroup2 = |p: &std::path::Path| {
            nix::sys::statfs::statfs(p)
                .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        };
        let direct = std::path::Path::new(path);
        if direct.is_dir() && on_cgroup2(direct) {
            return std::fs::metadata(direct).ok().map(|m| m.ino());
        }
        let mount = cgroup2_mount()?;
        let full = mount.join(path.trim_start_matches('/'));
        (full.is_dir() && on_cgroup2(&full))
            .then(|| std::fs::metadata(&full).ok().map(|m| m.ino()))
            .flatten()
    }

    fn cgroup_elsewhere(&self, path: &str) -> bool {
        let p = std::path::Path::new(path);
        p.exists()
            && !nix::sys::statfs::statfs(p)
                .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
    }

    fn port_range(&self) -> (u16, u16) {
        let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range");
        let mut nums = text.iter().flat_map(|t| t.split_whitespace());
        match (nums.next().map(str::parse), nums.next().map(str::parse)) {
            (Some(Ok(lo)), Some(Ok(hi))) => (lo, hi),
            _ => (1024, 4999),
        }
    }
}

/// Where the cgroup2 filesystem is mounted: the first `cgroup2` line of /proc/self/mounts, as
/// iproute2's `find_cgroup2_mount()`.
fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        let (_, dir, fs) = (w.next()?, w.next()?, w.next()?);
        // /proc/self/mounts writes a space in a mount point as \040.
        (fs == "cgroup2").then(|| std::path::PathBuf::from(dir.replace("\\040", " ")))
    })
}

/// Cgroup v2 paths by id, for `-e`'s `cgroup:` (iproute2's `cg_id_to_path()`): every directory
/// of the cgroup2 mount, not crossing into other mounts, by its inode (the cgroup's id), as the
/// path under the mount (`/` for the root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupPaths {
    by_id: BTreeMap<u64, String>,
}

impl CgroupPaths {
    /// Walks this system's cgroup2 mount; empty when there is none (every id then prints as
    /// unreachable, as in `ss`).
    pub fn system() -> CgroupPaths {
        use std::os::unix::fs::MetadataExt;
        let Some(mount) = cgroup2_mount() else {
            return CgroupPaths::default();
        };
        let mut by_id = BTreeMap::new();
        let walk = walkdir::WalkDir::new(&mount).same_file_system(true);
        for entry in walk.into_iter().filter_map(Result::ok) {
            if !entry.file_type().is_dir() {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            let rel = entry.path().strip_prefix(&mount).unwrap_or(entry.path());
            let path = format!("/{}", rel.to_string_lossy());
            by_id.entry(meta.ino()).or_insert(path);
        }
        CgroupPaths { by_id }
    }

    /// Paths by id, as given (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (u64, &'a str)>) -> CgroupPaths {
        let by_id = pairs.into_iter().map(|(i, p)| (i, p.to_owned())).collect();
        CgroupPaths { by_id }
    }

    /// The path of cgroup `id`, else `unreachable:HEX` as `ss` prints an id it cannot find.
    pub fn path(&self, id: u64) -> std::borrow::Cow<'_, str> {
        match self.by_id.get(&id) {
            Some(p) => p.as_str().into(),
            None => format!("unreachable:{id:x}").into(),
        }
    }
}

/// Host names of addresses, for `-r`: what iproute2's `resolve_address()` finds with
/// `gethostbyaddr()` (here `getnameinfo(NI_NAMEREQD)`, which asks the same resolver: /etc/hosts
/// and DNS as nsswitch.conf says), a v4-mapped IPv6 address looked up as its IPv4 address.
/// Addresses without a name are absent (they print as numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostNames {
    by_addr: BTreeMap<IpAddr, String>,
}

impl HostNames {
    /// Looks up each distinct address once, in parallel on rayon's threads (so that the
    /// timeouts of a slow resolver overlap; `ss` asks one address after the other).
    pub fn resolve(addrs: impl IntoIterator<Item = IpAddr>) -> HostNames {
        use rayon::prelude::*;
        let distinct: BTreeSet<IpAddr> = addrs.into_iter().collect();
        let by_addr = distinct
            .into_par_iter()
            .filter_map(|a| reverse_lookup(a).map(|n| (a, n)))
            .collect();
        HostNames { by_addr }
    }

    /// Names by address, as given (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (IpAddr, &'a str)>) -> HostNames {
        let by_addr = pairs.into_iter().map(|(a, n)| (a, n.to_owned())).collect();
        HostNames { by_addr }
    }

    /// The name of `addr`, when it has one.
    pub fn name(&self, addr: IpAddr) -> Option<&str> {
        self.by_addr.get(&addr).map(String::as_str)
    }
}

/// The host name of one address through the system resolver, or none.
#[allow(unsafe_code)]
fn reverse_lookup(addr: IpAddr) -> Option<String> {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    let sa = nix::sys::socket::SockaddrStorage::from(std::net::SocketAddr::new(addr, 0));
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `sa` is a valid, initialized sockaddr of `sa.len()` bytes for the whole call;
    // `host` is a writable buffer of exactly the length passed; no service buffer is asked for
    // (null with length 0, which getnameinfo allows). std has no reverse lookup, and this is
    // the one call `-r` needs (the dns-lookup crate wraps the same call and would add socket2).
    let rc = unsafe {
        libc::getnameinfo(
            nix::sys::socket::SockaddrLike::as_ptr(&sa),
            nix::sys::socket::SockaddrLike::len(&sa),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// The running system, with device names and the ephemeral port range taken from another network
/// namespace: `list --netns` parses `dev NAME` and `autobound` there, as `ss -N NAME` (which
/// enters the namespace before it parses the filter). Services and host names stay the system's.
#[derive(Debug, Clone)]
pub struct InNetns {
    /// The namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`, ...).
    pub path: std::path::PathBuf,
}

impl Lookup for InNetns {
    fn service(&self, name: &str, proto: &str) -> Option<u16> {
        System.service(name, proto)
    }

    fn hosts(&self, name: &str) -> Vec<IpAddr> {
        System.hosts(name)
    }

    /// None when the namespace cannot be entered (listing it fails later, saying why).
    fn device(&self, name: &str) -> Option<u32> {
        crate::collect::netns::run_in(&self.path, || System.device(name))
            .ok()
            .flatten()
    }

    fn port_range(&self) -> (u16, u16) {
        crate::collect::netns::run_in(&self.path, || System.port_range()).unwrap_or((1024, 4999))
    }

    fn cgroup_id(&self, path: &str) -> Option<u64> {
        System.cgroup_id(path)
    }

    fn cgroup_elsewhere(&self, path: &str) -> bool {
        System.cgroup_elsewhere(path)
    }
}

/// Port numbers to service names, for printing ports as `ss` does without `-n`
/// (`getservbyport(3)`: the official name of the first /etc/services line with that port and
/// protocol).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceNames {
    by_port: std::collections::BTreeMap<(u16, String), String>,
    /// IP protocol numbers to names (/etc/protocols), for raw sockets' "ports".
    protocols: BTreeMap<u16, String>,
}

impl ServiceNames {
    /// The names in an /etc/services text.
    pub fn parse(text: &str) -> ServiceNames {
        let mut by_port = std::collections::BTreeMap::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            let (Some(name), Some(spec)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = spec.split_once('/') else {
                continue;
            };
            if let Ok(port) = port.parse::<u16>() {
                by_port
                    .entry((port, proto.to_owned()))
                    .or_insert_with(|| name.to_owned());
            }
        }
        ServiceNames {
            by_port,
            protocols: BTreeMap::new(),
        }
    }

    /// Adds the IP protocol names of an /etc/protocols text (`getprotobynumber(3)`: the
    /// official name of the first line with that number).
    pub fn with_protocols(mut self, text: &str) -> ServiceNames {
        for line in text.lines() {
            let mut words = line
                .split('#')
                .next()
                .unwrap_or_default()
                .split_whitespace();
            if let (Some(name), Some(Ok(n))) = (words.next(), words.next().map(str::parse)) {
                self.protocols.entry(n).or_insert_with(|| name.to_owned());
            }
        }
        self
    }

    /// /etc/services and /etc/protocols of this system; empty when they cannot be read (ports
    /// print as numbers, protocols as `ipproto-N`).
    pub fn system() -> ServiceNames {
        let services = std::fs::read_to_string("/etc/services")
            .map(|t| ServiceNames::parse(&t))
            .unwrap_or_default();
        match std::fs::read_to_string("/etc/protocols") {
            Ok(text) => services.with_protocols(&text),
            Err(_) => services,
        }
    }

    /// The name of IP protocol `n`, as `ss` prints a raw socket's protocol.
    pub fn protocol(&self, n: u16) -> Option<&str> {
        self.protocols.get(&n).map(String::as_str)
    }

    /// The name of `port` for `proto` (`tcp`, `udp`).
    pub fn name(&self, port: u16, proto: &str) -> Option<&str> {
        self.by_port
            .get(&(port, proto.to_owned()))
            .map(String::as_str)
    }
}

/// The port of `name` (official name or alias) for `proto` in an `/etc/services` text: the first
/// line that names it, as glibc's files backend.
pub fn service_in(text: &str, name: &str, proto: &str) -> Option<u16> {
    text.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut words = line.split_whitespace();
        let official = words.next()?;
        let (port, p) = words.next()?.split_once('/')?;
        let named = official == name || words.any(|alias| alias == name);
        (named && p == proto).then(|| port.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_file_official_names_and_aliases() {
        let text = "# c\nssh\t22/tcp\nhttp 80/tcp www # WorldWideWeb\nhttp-alt 8080/tcp webcache\n\
                    domain 53/udp\nsyslog 514/udp\nshell 514/tcp cmd\n";
        assert_eq!(service_in(text, "ssh", "tcp"), Some(22));
        assert_eq!(service_in(text, "ssh", "udp"), None);
        assert_eq!(service_in(text, "www", "tcp"), Some(80));
        assert_eq!(service_in(text, "webcache", "tcp"), Some(8080));
        assert_eq!(service_in(text, "WorldWideWeb", "tcp"), None, "comments");
        assert_eq!(service_in(text, "cmd", "tcp"), Some(514));
        assert_eq!(service_in(text, "nope", "tcp"), None);
        let names = ServiceNames::parse(text);
        assert_eq!(names.name(22, "tcp"), Some("ssh"));
        assert_eq!(names.name(22, "udp"), None);
        assert_eq!(names.name(514, "udp"), Some("syslog"));
        assert_eq!(names.name(514, "tcp"), Some("shell"));
        assert_eq!(names.name(8080, "tcp"), Some("http-alt"));
        let protos = "ip\t0\tIP\nicmp 1 ICMP # c\nipv6-icmp 58 IPv6-ICMP\nalias 1 X\n";
        let names = names.with_protocols(protos);
        assert_eq!(names.protocol(1), Some("icmp"), "the first line wins");
        assert_eq!(names.protocol(58), Some("ipv6-icmp"));
        assert_eq!(names.protocol(253), None);
    }
}
