//! The snapshot: plain data, the contract between collection and everything after it.
//!
//! Only `collect` builds a [`Snapshot`] from the live system; `list`, rules, baselines and reports
//! read it, live or from a saved JSON file. The JSON form is documented in docs/snapshot.md and
//! versioned by [`SCHEMA_VERSION`]. Every collection in it is sorted, so the same host state gives
//! byte-identical output.

#[macro_use]
mod vocab;
mod bytes;
mod json;
mod order;
mod state;

pub use bytes::ByteString;
pub use order::sort_sockets;
pub use state::{State, StateSet};
pub(crate) use vocab::vocabulary;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Version of the snapshot JSON document. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: u32,
    pub meta: Meta,
    /// Sorted by [`Socket::sort_key`].
    pub sockets: Vec<Socket>,
    /// Every process that holds a socket, and the parent of each; sorted by pid.
    pub processes: Vec<Process>,
    /// With `--all-netns` or `--netns`: the network namespaces that were dumped, by inode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<Namespace>,
    /// What could not be seen, counted. Sorted by code.
    pub warnings: Vec<Warning>,
    /// Scopes the command was asked to read and could not (a namespace, a table, the owners).
    /// Empty for a complete snapshot; commands refuse one with gaps (exit 2) unless run with
    /// `--allow-partial`. Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
}

/// A scope that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// What was missed: `netns`, `netns:NAME`, `table:TABLE`, `owners`.
    pub scope: String,
    pub reason: String,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.scope, self.reason)
    }
}

/// A network namespace a snapshot covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    pub inode: u64,
    /// Its name under /run/netns, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace sockwarden itself runs in (usually the host's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub current: bool,
    /// Processes whose network namespace this is, sorted.
    #[serde(default)]
    pub pids: Vec<u32>,
    /// Containers with processes in it (`RUNTIME:ID`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub tool: Tool,
    pub hostname: String,
    pub kernel: String,
    pub boot_id: String,
    /// RFC 3339, UTC, seconds.
    pub taken_at: String,
    /// Inode of the network namespace the sockets were dumped in.
    pub netns: Option<u64>,
    /// True when running as root with the capabilities that a complete view needs
    /// (CAP_NET_ADMIN for BPF filters, CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH for other users' /proc).
    pub privileged: bool,
    /// Where each socket table came from: "netlink", "procfs", or "unavailable: reason".
    pub sources: BTreeMap<String, String>,
    /// Whether process attribution (/proc walk) ran.
    pub attribution: bool,
    /// net.ipv4.ip_local_port_range of the namespace: which local ports are ephemeral.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_local_port_range: Option<(u16, u16)>,
}

impl Meta {
    /// A header for snapshots built by hand (rule examples, tests, benchmarks): this tool,
    /// `hostname`, privileged, attributed, Linux's default ephemeral range; the rest empty.
    pub fn blank(hostname: &str) -> Meta {
        Meta {
            tool: Tool {
                name: "sockwarden".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            hostname: hostname.into(),
            kernel: String::new(),
            boot_id: String::new(),
            taken_at: String::new(),
            netns: None,
            privileged: true,
            sources: BTreeMap::new(),
            attribution: true,
            ip_local_port_range: Some((32768, 60999)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    /// Stable machine code, e.g. `proc_vanished`, `proc_denied`, `decode_error`.
    pub code: String,
    pub count: u64,
    pub message: String,
    /// The processes concerned, when the warning is about processes: sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
}

vocabulary! {
    /// The address family of a socket.
    pub enum Family {
        Inet => "inet",
        Inet6 => "inet6",
        Unix => "unix",
        Packet => "packet",
    }
}

vocabulary! {
    /// What `ss` calls the Netid: the table a socket belongs to. The declaration order is the
    /// snapshot's sort order.
    pub enum Protocol {
        Tcp => "tcp",
        Udp => "udp",
        Raw => "raw",
        UnixStream => "unix_stream",
        UnixDgram => "unix_dgram",
        UnixSeqpacket => "unix_seqpacket",
        PacketRaw => "packet_raw",
        PacketDgram => "packet_dgram",
    }
}

vocabulary! {
    /// The kind of socket table, as `socket.kind` in rules: the protocols grouped as `ss`'s
    /// table flags group them.
    pub enum Kind {
        Tcp => "tcp",
        Udp => "udp",
        Raw => "raw",
        Unix => "unix",
        Packet => "packet",
    }
}

impl Protocol {
    /// The table kind.
    pub const fn kind(self) -> Kind {
        match self {
            Protocol::Tcp => Kind::Tcp,
            Protocol::Udp => Kind::Udp,
            Protocol::Raw => Kind::Raw,
            Protocol::UnixStream | Protocol::UnixDgram | Protocol::UnixSeqpacket => Kind::Unix,
            Protocol::PacketRaw | Protocol::PacketDgram => Kind::Packet,
        }
    }

    /// The Netid column of `ss`.
    pub fn netid(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Raw => "raw",
            Protocol::UnixStream => "u_str",
            Protocol::UnixDgram => "u_dgr",
            Protocol::UnixSeqpacket => "u_seq",
            Protocol::PacketRaw => "p_raw",
            Protocol::PacketDgram => "p_dgr",
        }
    }

    /// TCP, UDP or raw IP.
    pub fn is_inet(self) -> bool {
        matches!(self.kind(), Kind::Tcp | Kind::Udp | Kind::Raw)
    }

    /// A unix socket of any type.
    pub fn is_unix(self) -> bool {
        self.kind() == Kind::Unix
    }

    /// A packet socket of any type.
    pub fn is_packet(self) -> bool {
        self.kind() == Kind::Packet
    }
}

/// An IP endpoint. The address is kept as the kernel gave it: a v4-mapped IPv6 address stays IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub address: IpAddr,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Socket {
    pub protocol: Protocol,
    pub family: Family,
    pub state: State,
    /// inet: local address and port (raw sockets: port = IP protocol number, as in `ss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Endpoint>,
    /// Bound device (SO_BINDTODEVICE, or an IPv6 scope), by index, and its name in the socket's
    /// namespace when it could be resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Socket inode (0 for TIME-WAIT, SYN-RECV and not yet accepted sockets).
    pub inode: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<u64>,
    pub recv_q: u32,
    pub send_q: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<Timer>,
    /// SHUT_RD = 1, SHUT_WR = 2 bits as the kernel reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v6only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub congestion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_info: Option<Box<TcpInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SkMemInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix: Option<Box<UnixInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet: Option<Box<PacketInfo>>,
    /// Processes holding a file descriptor on this socket, sorted by (pid, fd).
    #[serde(default)]
    pub owners: Vec<Owner>,
    /// The network namespace the socket lives in (set when several namespaces are dumped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<u64>,
}

impl Socket {
    /// A blank socket of the given kind, for decoders to fill in.
    pub fn new(protocol: Protocol, family: Family, state: State, inode: u64) -> Socket {
        Socket {
            protocol,
            family,
            state,
            local: None,
            remote: None,
            ifindex: None,
            interface: None,
            uid: None,
            inode,
            cookie: None,
            recv_q: 0,
            send_q: 0,
            timer: None,
            shutdown: None,
            mark: None,
            v6only: None,
            congestion: None,
            tcp_info: None,
            memory: None,
            cgroup_id: None,
            unix: None,
            packet: None,
            owners: Vec::new(),
            netns: None,
        }
    }

    /// Total order used for every list of sockets that reaches output.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.netns,
            self.protocol,
            self.family,
            self.local,
            self.remote,
            self.unix.as_ref().map(|u| (&u.name, u.peer)),
            self.inode,
            self.cookie,
            self.state,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub pid: u32,
    pub fd: u32,
}

/// The kernel's `idiag_timer` with its expiry and retransmit count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timer {
    /// `on` (retransmit), `keepalive`, `timewait`, `persist`, `delack`, or `unknown(N)`.
    pub kind: String,
    pub expires_ms: u32,
    pub retrans: u8,
}

/// SK_MEMINFO_*: what `ss -m` prints as skmem:(r,rb,t,tb,f,w,o,bl,d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkMemInfo {
    pub rmem_alloc: u32,
    pub rcvbuf: u32,
    pub wmem_alloc: u32,
    pub sndbuf: u32,
    pub fwd_alloc: u32,
    pub wmem_queued: u32,
    pub optmem: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drops: Option<u32>,
}

/// `struct tcp_info`, as far as the running kernel sent it. Fields the kernel's struct is too
/// short for are absent. Times are in microseconds (rtt, rto) or milliseconds (last_*), as the
/// kernel gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpInfo {
    pub state: u8,
    pub ca_state: u8,
    pub retransmits: u8,
    pub probes: u8,
    pub backoff: u8,
    pub options: u8,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub rto: u32,
    pub ato: u32,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    pub unacked: u32,
    pub sacked: u32,
    pub lost: u32,
    pub retrans: u32,
    pub last_data_sent: u32,
    pub last_ack_sent: u32,
    pub last_data_recv: u32,
    pub last_ack_recv: u32,
    pub pmtu: u32,
    pub rcv_ssthresh: u32,
    pub rtt: u32,
    pub rttvar: u32,
    pub snd_ssthresh: u32,
    pub snd_cwnd: u32,
    pub advmss: u32,
    pub reordering: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcv_rtt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcv_space: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_retrans: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_rate: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pacing_rate: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_acked: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_received: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segs_out: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segs_in: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notsent_bytes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rtt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_segs_in: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_segs_out: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_rate: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rwnd_limited: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sndbuf_limited: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_ce: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_retrans: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsack_dups: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reord_seen: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcv_ooopack: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snd_wnd: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcv_wnd: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnixInfo {
    /// Bound name, exact bytes; for an abstract name without the leading NUL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ByteString>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub r#abstract: bool,
    /// Inode of the connected peer socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<u64>,
    /// Listener: inodes of connections not yet accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<u64>,
    /// Listener: the backlog given to listen().
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    /// A bound path's filesystem inode and device (`ss -e` ino:/dev:).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vfs_inode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vfs_dev: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketInfo {
    /// Ethertype in host order (3 = ETH_P_ALL, 0x0800 = IPv4).
    pub ethertype: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<u32>,
    /// The attached classic BPF program; `None` when none is attached (or when the kernel
    /// withheld it: without CAP_NET_ADMIN every socket reports an empty program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpf: Option<Vec<BpfInsn>>,
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub comm: ByteString,
    /// Target of /proc/PID/exe without the " (deleted)" suffix; absent when unreadable
    /// (kernel threads, or no permission).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<ByteString>,
    pub exe_deleted: bool,
    /// The executable is an anonymous memfd (fileless execution).
    pub exe_memfd: bool,
    /// argv, each argument's exact bytes.
    pub cmdline: Vec<ByteString>,
    pub uid: u32,
    pub euid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Start time in clock ticks after boot (/proc/PID/stat field 22).
    pub start_ticks: u64,
    /// The cgroup v2 path (or the first v1 hierarchy's), as /proc/PID/cgroup shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    /// docker, containerd, cri-o, podman, kubepods, lxc, systemd-nspawn.
    pub runtime: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
}

impl Snapshot {
    /// Sort every collection into its canonical order.
    pub fn canonicalize(&mut self) {
        for s in &mut self.sockets {
            s.owners.sort_unstable();
            s.owners.dedup();
        }
        // Collection hands the sockets over in order: checking is one linear pass.
        if !self
            .sockets
            .is_sorted_by(|a, b| a.sort_key() <= b.sort_key())
        {
            use rayon::slice::ParallelSliceMut;
            self.sockets
                .par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
        self.processes.sort_by_key(|p| p.pid);
        for n in &mut self.namespaces {
            n.pids.sort_unstable();
            n.pids.dedup();
            n.containers.sort();
            n.containers.dedup();
        }
        self.namespaces.sort_by_key(|n| n.inode);
        for w in &mut self.warnings {
            w.pids.sort_unstable();
            w.pids.dedup();
        }
        self.warnings.sort();
        self.gaps.sort();
        self.gaps.dedup();
    }

    /// Checks a snapshot read from a file, which may have been edited by anyone, and brings it
    /// into canonical order: every later stage (owner look-ups by binary search, diffs by merge)
    /// relies on that order, so a reordered file must give the same results, and a file that
    /// cannot be ordered unambiguously is refused. Errors: a process or namespace listed twice,
    /// a socket listed twice, an owner that names a process the file neither lists nor names in
    /// a `proc_meta_vanished`/`proc_meta_denied` warning.
    pub fn validate(&mut self) -> Result<(), String> {
        self.canonicalize();
        if let Some(w) = self.processes.windows(2).find(|w| w[0].pid == w[1].pid) {
            return Err(format!("process {} is listed twice", w[0].pid));
        }
        if let Some(w) = self
            .namespaces
            .windows(2)
            .find(|w| w[0].inode == w[1].inode)
        {
            return Err(format!("network namespace {} is listed twice", w[0].inode));
        }
        if let Some(i) = (1..self.sockets.len())
            .find(|&i| self.sockets[i - 1].sort_key() == self.sockets[i].sort_key())
        {
            let s = &self.sockets[i];
            return Err(format!(
                "socket {} inode {} is listed twice",
                s.protocol.netid(),
                s.inode
            ));
        }
        // Holders whose metadata could not be read are named by the warnings that say so;
        // files written before warnings named pids only count them.
        let excused: Vec<&Warning> = self
            .warnings
            .iter()
            .filter(|w| w.code == "proc_meta_vanished" || w.code == "proc_meta_denied")
            .collect();
        let uncounted: u64 = excused
            .iter()
            .filter(|w| w.pids.is_empty())
            .map(|w| w.count)
            .sum();
        let mut missing: Vec<u32> = self
            .sockets
            .iter()
            .flat_map(|s| s.owners.iter().map(|o| o.pid))
            .filter(|&pid| self.process(pid).is_none())
            .filter(|pid| !excused.iter().any(|w| w.pids.binary_search(pid).is_ok()))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.len() as u64 > uncounted {
            return Err(format!(
                "sockets name process {} (and {} more), which the file does not list",
                missing[0],
                missing.len() - 1
            ));
        }
        Ok(())
    }

    /// A namespace's label, as rules and baselines use it: `host` for the namespace the snapshot
    /// was taken from (or when only one was dumped), its name under /run/netns, else `ns:INODE`.
    pub fn netns_label(&self, inode: Option<u64>) -> String {
        let Some(inode) = inode else {
            return "host".into();
        };
        match self.namespaces.iter().find(|n| n.inode == inode) {
            Some(n) if n.current => "host".into(),
            Some(Namespace {
                name: Some(name), ..
            }) => name.clone(),
            _ if self.meta.netns == Some(inode) => "host".into(),
            _ => format!("ns:{inode}"),
        }
    }

    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.processes
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.processes[i])
    }
}
