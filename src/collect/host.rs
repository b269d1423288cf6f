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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_full_identity_map_is_the_initial_user_namespace() {
        assert!(is_identity_map("         0          0 4294967295\n"));
        assert!(!is_identity_map("         0       1000          1\n"));
        assert!(!is_identity_map("0 0 4294967294\n"));
        assert!(!is_identity_map("0 0 1000\n1000 1000 4294966295\n"));
    }
}
