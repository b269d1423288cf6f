//! Cross-view: which independent views of the kernel saw a socket or a process, and which lie.
//!
//! A user-land rootkit (a hooked libc through /etc/ld.so.preload) or a kernel one filters what
//! one interface shows: lines of /proc/net/tcp, entries of a /proc readdir, a /proc/PID hidden by
//! a mount over it. It rarely filters every interface, so each socket records the views that saw
//! it ([`Views`]) and the views that, after a re-check, still miss it while it exists (the
//! socket's `hidden`); the snapshot's [`ViewCoverage`] says which views were read for which
//! tables, so that a rule on a view that was not read is undetermined, never clean
//! (docs/detection.md, "Cross-view").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Protocol;

vocabulary! {
    /// One independent view of the kernel's sockets and of who holds them.
    pub enum View {
        /// The NETLINK_SOCK_DIAG dump (what `ss` reads).
        Netlink => "netlink",
        /// The text tables /proc/net/{tcp,tcp6,udp,udp6} (what `netstat` reads).
        Procnet => "procnet",
        /// The walk of /proc/PID/fd: one readlink per descriptor (what `ss -p` and `lsof` do).
        Fdwalk => "fdwalk",
        /// The kernel's task-file BPF iterator: every descriptor of every task, from inside the
        /// kernel, without /proc.
        Taskfiles => "taskfiles",
    }
}

vocabulary! {
    /// How a process was seen.
    pub enum ProcView {
        /// The listing of /proc (readdir) names its pid.
        Readdir => "readdir",
        /// /proc/PID/stat could be read.
        Procfs => "procfs",
        /// The task-file BPF iterator visited its descriptors.
        Taskfiles => "taskfiles",
    }
}

/// A set of [`View`]s, one bit each; written as a sorted list of names (`["netlink","procnet"]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Views(pub u8);

impl Views {
    /// No view.
    pub const NONE: Views = Views(0);

    /// Whether `v` is in the set.
    pub fn has(self, v: View) -> bool {
        self.0 & (1 << v.index()) != 0
    }

    /// Adds `v`.
    pub fn add(&mut self, v: View) {
        self.0 |= 1 << v.index();
    }

    /// The set with `v` added.
    pub fn with(mut self, v: View) -> Views {
        self.add(v);
        self
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The views in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = View> {
        View::ALL.into_iter().filter(move |v| self.has(*v))
    }
}

impl FromIterator<View> for Views {
    fn from_iter<I: IntoIterator<Item = View>>(it: I) -> Views {
        let mut s = Views::NONE;
        it.into_iter().for_each(|v| s.add(v));
        s
    }
}

impl Serialize for Views {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl schemars::JsonSchema for Views {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Views".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let view = g.subschema_for::<View>();
        schemars::json_schema!({
            "description": "A set of views, written as a sorted list of their names.",
            "type": "array",
            "items": view,
            "uniqueItems": true
        })
    }
}

impl<'de> Deserialize<'de> for Views {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<View>::deserialize(d)?.into_iter().collect())
    }
}

/// Which views a live or imported snapshot read, for which tables, and what the re-check (for
/// evidence: the collection's order) found (`meta.views`). Absent from rebuilt and older
/// snapshots: their cross-view fields are missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewCoverage {
    /// Per view, the protocols whose sockets it was read for, sorted. A view that was read for
    /// some processes only (the fd walk of the processes the BPF iterator did not visit) is not
    /// listed.
    pub read: BTreeMap<View, Vec<Protocol>>,
    /// Views that were not read (or only in part), and why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<View, String>,
    /// Disagreements between views that were re-checked after a short delay.
    #[serde(default)]
    pub rechecked: u64,
    /// Of those, the ones the re-check explained as churn (the socket or process was created,
    /// closed or exited between two reads): not reported.
    #[serde(default)]
    pub churn: u64,
}

impl ViewCoverage {
    /// Whether view `v` was read for sockets of protocol `p`.
    pub fn read_for(&self, v: View, p: Protocol) -> bool {
        self.read.get(&v).is_some_and(|ps| ps.contains(&p))
    }

    /// Whether `socket.hidden.V` (or a process field comparing `V`) could be decided for sockets
    /// of protocol `p`: `V` and the view it is compared with were both read for `p`.
    pub fn compared(&self, v: View, p: Protocol) -> bool {
        let other = match v {
            View::Netlink => View::Procnet,
            View::Procnet => View::Netlink,
            View::Fdwalk => View::Taskfiles,
            View::Taskfiles => View::Fdwalk,
        };
        self.read_for(v, p) && self.read_for(other, p)
    }

    /// The rule fields that compare views.
    pub const FIELDS: [&'static str; 4] = [
        "socket.hidden.procnet",
        "socket.hidden.netlink",
        "socket.hidden.fdwalk",
        "process.hidden",
    ];

    /// Whether a rule field's value depends on the comparison of views: the fields that compare
    /// them ([`ViewCoverage::FIELDS`]), and `socket.views`.
    pub fn decides(field: &str) -> bool {
        field == "socket.views" || Self::FIELDS.contains(&field)
    }

    /// The rule fields whose value this coverage leaves undecided for protocol `p`: a view that
    /// was not compared is neither "hidden" nor "not hidden". `process.hidden` needs the BPF
    /// iterator only (it is compared with the /proc listing, which is always read).
    pub fn is_unknown(&self, field: &str, p: Protocol) -> bool {
        match field {
            "socket.hidden.procnet" => !self.compared(View::Procnet, p),
            "socket.hidden.netlink" => !self.compared(View::Netlink, p),
            "socket.hidden.fdwalk" => !self.compared(View::Fdwalk, p),
            "process.hidden" => !self.read_for(View::Taskfiles, p),
            _ => false,
        }
    }

    /// Whether some cross-view field is undecided for some protocol.
    pub fn any_unknown(&self) -> bool {
        Protocol::ALL
            .iter()
            .any(|&p| Self::FIELDS.iter().any(|f| self.is_unknown(f, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_a_sorted_list_in_json() {
        let v: Views = [View::Taskfiles, View::Netlink].into_iter().collect();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["netlink","taskfiles"]"#
        );
        assert_eq!(
            serde_json::from_str::<Views>(r#"["taskfiles","netlink"]"#).unwrap(),
            v
        );
        assert!(serde_json::from_str::<Views>(r#"["ss"]"#).is_err());
    }

    #[test]
    fn a_view_read_alone_leaves_its_hidden_field_unknown() {
        let mut c = ViewCoverage::default();
        c.read
            .insert(View::Netlink, vec![Protocol::Tcp, Protocol::Udp]);
        c.read.insert(View::Procnet, vec![Protocol::Tcp]);
        c.read
            .insert(View::Fdwalk, vec![Protocol::Tcp, Protocol::Udp]);
        assert!(!c.is_unknown("socket.hidden.procnet", Protocol::Tcp));
        assert!(c.is_unknown("socket.hidden.procnet", Protocol::Udp));
        // No BPF iterator: the fd walk has nothing to be compared with.
        assert!(c.is_unknown("socket.hidden.fdwalk", Protocol::Tcp));
        assert!(c.is_unknown("process.hidden", Protocol::Tcp));
        assert!(!c.is_unknown("socket.local.port", Protocol::Tcp));
    }
}
