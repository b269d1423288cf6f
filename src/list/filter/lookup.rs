//! What a filter needs from the system while it is parsed: service names, host names, device
//! names and the ephemeral port range. Behind a trait so that tests parse without the system.

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
        let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
        let mount = mounts.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            let (_, dir, fs) = (w.next()?, w.next()?, w.next()?);
            (fs == "cgroup2").then(|| dir.to_owned())
        })?;
        let full = std::path::Path::new(&mount).join(path.trim_start_matches('/'));
        (full.is_dir() && on_cgroup2(&full))
            .then(|| std::fs::metadata(&full).ok().map(|m| m.ino()))
            .flatten()
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
}

/// Port numbers to service names, for printing ports as `ss` does without `-n`
/// (`getservbyport(3)`: the official name of the first /etc/services line with that port and
/// protocol).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceNames {
    by_port: std::collections::BTreeMap<(u16, String), String>,
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
        ServiceNames { by_port }
    }

    /// /etc/services of this system; empty when it cannot be read (ports print as numbers).
    pub fn system() -> ServiceNames {
        std::fs::read_to_string("/etc/services")
            .map(|t| ServiceNames::parse(&t))
            .unwrap_or_default()
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
    }
}
