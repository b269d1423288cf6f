//! Rule examples: small, typed descriptions of a socket and its holder that a rule must match
//! (`match:`) or must not (`no_match:`). `sockwarden rules test` builds a snapshot from each and
//! runs the rule over it with the real engine, so the examples test exactly what `scan` does.
//!
//! ```yaml
//! - socket: {protocol: tcp, state: established, local: 10.0.0.5:41234, remote: 203.0.113.10:4444}
//!   process: {exe: /tmp/.x, comm: x, user: www-data, uid: 33}
//!   parent: {exe: /usr/sbin/nginx}
//!   fd: 0
//!   count: 60          # for aggregate rules: 60 such sockets (remote port and inode vary)
//! ```

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

use crate::model::{
    BpfInsn, ByteString, Container, Endpoint, Family, FdKind, Meta, Owner, PacketInfo, ProcView,
    Process, Protocol, SCHEMA_VERSION, Snapshot, Socket, State, StdioLink, TcpInfoWire, UnixInfo,
    View, ViewCoverage,
};

/// One example of a rule's `examples.match` or `examples.no_match`: a socket, optionally its holder
/// and the holder's parent. [`ExampleDoc::snapshot`] turns it into a snapshot.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleDoc {
    /// The socket; omitted keys take defaults (an established TCP socket by default).
    #[serde(default)]
    pub socket: ExSocket,
    /// The process holding the socket (pid 4242 unless given). Absent: a socket no process holds.
    #[serde(default)]
    pub process: Option<ExProcess>,
    /// The holder's parent (pid 100 unless given); used only with `process`.
    #[serde(default)]
    pub parent: Option<ExProcess>,
    /// The holder's descriptor number (default 3; with `count`, copies get 3, 4, 5, ...).
    #[serde(default)]
    pub fd: Option<u32>,
    /// Replicate the socket this many times (distinct inodes, remote ports counting up).
    #[serde(default)]
    pub count: Option<u32>,
    /// With `count`: spread the copies over this many consecutive remote addresses (copy i
    /// goes to the remote address plus i % hosts), for rules that count distinct hosts.
    #[serde(default)]
    pub hosts: Option<u32>,
    /// With `count`: `local` makes the local port the one that varies (port + i), keeping the
    /// remote port, for rules about many sockets to one service (DNS on 53).
    #[serde(default)]
    pub vary: Option<Vary>,
    /// Host facts of the snapshot's header: `resolvers` (DNS servers) and `ld_so_preload`.
    #[serde(default)]
    pub host: Option<ExHost>,
    /// Processes the holder relays: children (pids 5000, 5001, ... unless given) running on a
    /// pty whose master the holder holds, as `socat ... exec:'bash -li',pty` leaves them.
    #[serde(default)]
    pub relays: Vec<ExProcess>,
    /// `true`: the socket was accepted by a local listener (a TCP listener on its local port is
    /// added, held by the same process), so `socket.direction` is `inbound`.
    #[serde(default)]
    pub accepted: Option<bool>,
}

/// Host facts of an example.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExHost {
    /// The configured DNS servers (`socket.remote.resolver`).
    #[serde(default)]
    pub resolvers: Option<Vec<IpAddr>>,
    /// The entries of /etc/ld.so.preload (`host.ld_so_preload`).
    #[serde(default)]
    pub ld_so_preload: Option<Vec<String>>,
    /// The libraries preloaded into the scanner itself (`host.self_preload`).
    #[serde(default)]
    pub self_preload: Option<Vec<String>>,
    /// The views the snapshot read, for every table (`meta.views`). Default: every view when
    /// the example gives a socket's or a process's views, else none recorded.
    #[serde(default)]
    pub views: Option<Vec<View>>,
}

crate::model::vocabulary! {
    /// Which port of an example's `count` sockets varies.
    pub enum Vary {
        /// The remote port (the default).
        Remote => "remote",
        /// The local port.
        Local => "local",
    }
}

/// The socket of an example. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExSocket {
    /// As in a snapshot (`tcp`, `udp`, `unix_stream`, `packet_raw`, ...); default `tcp`. The family
    /// follows from it and from the addresses.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// Default `established`, or `close` for a packet socket.
    #[serde(default)]
    pub state: Option<State>,
    /// `ADDR:PORT`, `[V6]:PORT`.
    #[serde(default)]
    pub local: Option<String>,
    /// `ADDR:PORT`, `[V6]:PORT`, or an address alone (port 0); default the unspecified address,
    /// port 0. Only for TCP, UDP and raw sockets.
    #[serde(default)]
    pub remote: Option<String>,
    /// Name of the bound device (its index is then 2).
    #[serde(default)]
    pub interface: Option<String>,
    /// The socket's owner uid; default 0.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Socket inode; default 1000 (copies made by `count` take the following inodes).
    #[serde(default)]
    pub inode: Option<u64>,
    /// IPV6_V6ONLY; absent by default.
    #[serde(default)]
    pub v6only: Option<bool>,
    /// SO_MARK; absent by default.
    #[serde(default)]
    pub mark: Option<u32>,
    /// Receive queue; default 0.
    #[serde(default)]
    pub recv_q: Option<u32>,
    /// Send queue; default 0.
    #[serde(default)]
    pub send_q: Option<u32>,
    /// Unix name: a path, or `@name` for an abstract name.
    #[serde(default)]
    pub unix_name: Option<String>,
    /// Unix sockets: the connected peer's inode.
    #[serde(default)]
    pub unix_peer: Option<u64>,
    /// Packet sockets: the ethertype, host order; default 3 (ETH_P_ALL).
    #[serde(default)]
    pub ethertype: Option<u16>,
    /// The BPF program's k operands (code, jt and jf are left 0).
    #[serde(default)]
    pub bpf_k: Option<Vec<u32>>,
    /// A few `tcp_info` counters; absent: no tcp_info.
    #[serde(default)]
    pub tcp: Option<ExTcp>,
    /// The views that saw the socket (`socket.views`).
    #[serde(default)]
    pub views: Option<Vec<View>>,
    /// The views that hide it after the re-check (`socket.hidden.*`).
    #[serde(default)]
    pub hidden: Option<Vec<View>>,
}

/// The `tcp_info` values an example can set; every other counter is 0 or absent.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExTcp {
    /// Bytes the peer acknowledged.
    #[serde(default)]
    pub bytes_acked: Option<u64>,
    /// Bytes received.
    #[serde(default)]
    pub bytes_received: Option<u64>,
    /// Bytes sent, retransmissions included.
    #[serde(default)]
    pub bytes_sent: Option<u64>,
    /// Smoothed round-trip time, µs; default 0.
    #[serde(default)]
    pub rtt_us: Option<u32>,
}

/// A process of an example (the holder or its parent). Every key is optional.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExProcess {
    /// Its pid; default 4242 for the holder, 100 for the parent.
    #[serde(default)]
    pub pid: Option<u32>,
    /// Its short name; default the exe's file name, cut to 15 characters.
    #[serde(default)]
    pub comm: Option<String>,
    /// Its executable; default `/usr/bin/example`.
    #[serde(default)]
    pub exe: Option<String>,
    /// Whether the executable was deleted; default false.
    #[serde(default)]
    pub exe_deleted: Option<bool>,
    /// Whether the executable is a memfd; default: whether `exe` starts with `/memfd:`.
    #[serde(default)]
    pub exe_memfd: Option<bool>,
    /// Its arguments; default `[exe]`.
    #[serde(default)]
    pub cmdline: Option<Vec<String>>,
    /// Its user name; default `root` for uid 0, else `userUID`.
    #[serde(default)]
    pub user: Option<String>,
    /// Real uid; default 0.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Effective uid; default `uid`.
    #[serde(default)]
    pub euid: Option<u32>,
    /// Its cgroup path; absent by default.
    #[serde(default)]
    pub cgroup: Option<String>,
    /// With `container_id`: the container runtime (`docker`, `containerd`, ...).
    #[serde(default)]
    pub container_runtime: Option<String>,
    /// With `container_runtime`: the container id.
    #[serde(default)]
    pub container_id: Option<String>,
    /// Its controlling terminal (`pts/3`); absent by default.
    #[serde(default)]
    pub tty: Option<String>,
    /// Loader variables of its environment, `NAME=VALUE` (`LD_PRELOAD=/tmp/x.so`).
    #[serde(default)]
    pub env: Vec<String>,
    /// How it was seen (`process.views`): readdir, procfs, taskfiles.
    #[serde(default)]
    pub views: Option<Vec<ProcView>>,
    /// A mount over its /proc/PID (`process.proc_mount`).
    #[serde(default)]
    pub proc_mount: Option<String>,
    /// Suspicious executable mappings (`process.maps.suspicious`).
    #[serde(default)]
    pub maps: Vec<String>,
}

/// Why an example does not describe a socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExampleError {
    /// A `local`/`remote` that is neither ADDR:PORT nor an address.
    #[error("`{0}` is not ADDR:PORT or [V6]:PORT")]
    Endpoint(String),
}

fn parse_endpoint(s: &str) -> Result<Endpoint, ExampleError> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(Endpoint {
            address: sa.ip(),
            port: sa.port(),
        });
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Endpoint {
            address: ip,
            port: 0,
        });
    }
    Err(ExampleError::Endpoint(s.to_owned()))
}

fn process(p: &ExProcess, pid: u32, ppid: u32) -> Process {
    let exe = p.exe.clone().unwrap_or_else(|| "/usr/bin/example".into());
    let comm = p.comm.clone().unwrap_or_else(|| {
        let base = exe.rsplit('/').next().unwrap_or(&exe);
        base.chars().take(15).collect()
    });
    let uid = p.uid.unwrap_or(0);
    Process {
        pid: p.pid.unwrap_or(pid),
        ppid,
        comm: ByteString::from(comm.as_str()),
        exe_memfd: p.exe_memfd.unwrap_or(exe.starts_with("/memfd:")),
        exe: Some(ByteString::from(exe.as_str())),
        exe_deleted: p.exe_deleted.unwrap_or(false),
        cmdline: p
            .cmdline
            .clone()
            .unwrap_or_else(|| vec![exe.clone()])
            .iter()
            .map(|a| ByteString::from(a.as_str()))
            .collect(),
        uid,
        euid: p.euid.unwrap_or(uid),
        user: Some(p.user.clone().unwrap_or_else(|| {
            if uid == 0 {
                "root".into()
            } else {
                format!("user{uid}")
            }
        })),
        start_ticks: 0,
        cgroup: p.cgroup.clone(),
        container: match (&p.container_runtime, &p.container_id) {
            (Some(r), Some(i)) => Some(Container {
                runtime: r.clone(),
                id: i.clone(),
                pod_uid: None,
            }),
            _ => None,
        },
        netns: None,
        tty: p.tty.clone(),
        session: 0,
        pgrp: 0,
        stdio: Vec::new(),
        pty_masters: Vec::new(),
        loader_env: p.env.iter().map(|e| ByteString::from(e.as_str())).collect(),
        views: p.views.clone().unwrap_or_default(),
        proc_mount: p.proc_mount.as_deref().map(ByteString::from),
        suspicious_maps: p
            .maps
            .iter()
            .map(|m| ByteString::from(m.as_str()))
            .collect(),
    }
}

/// `ip` plus `n`, wrapping within its family.
fn offset_ip(ip: IpAddr, n: u32) -> IpAddr {
    match ip {
        IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a).wrapping_add(n))),
        IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(
            u128::from(a).wrapping_add(u128::from(n)),
        )),
    }
}

impl ExampleDoc {
    /// Builds the snapshot this example describes.
    pub fn snapshot(&self) -> Result<Snapshot, ExampleError> {
        let base = self.socket.socket()?;
        let mut processes = Vec::new();
        let parent_pid = 100;
        let mut pid = 4242;
        if let Some(p) = &self.process {
            let ppid = self
                .parent
                .as_ref()
                .and_then(|pp| pp.pid)
                .unwrap_or(parent_pid);
            let mut proc_ = process(p, pid, ppid);
            pid = proc_.pid;
            for (i, r) in self.relays.iter().enumerate() {
                let pty = 20 + i as u32;
                let mut child = process(r, 5000 + i as u32, pid);
                child.tty = Some(format!("pts/{pty}"));
                child.stdio = (0..3)
                    .map(|fd| StdioLink {
                        fd,
                        kind: FdKind::Pty,
                        path: Some(ByteString::from(format!("/dev/pts/{pty}").as_str())),
                        inode: None,
                    })
                    .collect();
                proc_.pty_masters.push(pty);
                processes.push(child);
            }
            processes.push(proc_);
            if let Some(pp) = &self.parent {
                processes.push(process(pp, ppid, 1));
            }
        }
        let n = self.count.unwrap_or(1).max(1);
        let mut sockets = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut s = base.clone();
            s.inode = base.inode + u64::from(i);
            if self.vary == Some(Vary::Local)
                && let Some(l) = s.local.as_mut()
                && i > 0
            {
                l.port = l.port.wrapping_add(i as u16);
            } else if let Some(r) = s.remote.as_mut()
                && i > 0
            {
                r.port = r.port.wrapping_add(i as u16);
                if let Some(h) = self.hosts.filter(|&h| h > 1) {
                    r.address = offset_ip(r.address, i % h);
                }
            }
            if self.process.is_some() {
                s.owners = smallvec::smallvec![Owner {
                    pid,
                    fd: self.fd.unwrap_or(3) + if self.fd.is_some() { 0 } else { i },
                }];
            }
            sockets.push(s);
        }
        if let (Some(true), Some(l)) = (self.accepted, base.local) {
            let mut listener = Socket::new(
                Protocol::Tcp,
                base.family,
                State::Listen,
                base.inode + u64::from(n),
            );
            listener.local = Some(Endpoint {
                address: if l.address.is_ipv6() {
                    IpAddr::from([0u16; 8])
                } else {
                    IpAddr::from([0u8; 4])
                },
                port: l.port,
            });
            listener.owners = sockets[0].owners.clone();
            sockets.push(listener);
        }
        let mut meta = Meta::blank("example");
        if let Some(h) = &self.host {
            meta.resolvers = h.resolvers.clone().map(|mut r| {
                r.sort();
                r
            });
            meta.ld_so_preload = h.ld_so_preload.clone();
            meta.self_preload = h.self_preload.clone();
        }
        meta.views = self.coverage();
        let mut snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta,
            sockets,
            processes,
            namespaces: Vec::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
        };
        snap.canonicalize();
        Ok(snap)
    }
}

impl ExampleDoc {
    /// `meta.views`: the host's views, or every view when the example describes what a view saw.
    fn coverage(&self) -> Option<ViewCoverage> {
        let described = self.socket.views.is_some()
            || self.socket.hidden.is_some()
            || self.process.as_ref().is_some_and(|p| p.views.is_some());
        let views = match self.host.as_ref().and_then(|h| h.views.clone()) {
            Some(v) => v,
            None if described => View::ALL.to_vec(),
            None => return None,
        };
        let mut c = ViewCoverage::default();
        for v in views {
            c.read.insert(v, Protocol::ALL.to_vec());
        }
        Some(c)
    }
}

impl ExSocket {
    /// The socket the example describes, with defaults for what it leaves out: TCP,
    /// established (close for packet sockets), unspecified endpoints, uid 0, inode 1000.
    fn socket(&self) -> Result<Socket, ExampleError> {
        let x = self;
        let protocol = x.protocol.unwrap_or(Protocol::Tcp);
        let state = x
            .state
            .unwrap_or(if protocol.is_packet() || protocol.is_netlink() {
                State::Close
            } else {
                State::Established
            });
        let local = x.local.as_deref().map(parse_endpoint).transpose()?;
        let remote = x.remote.as_deref().map(parse_endpoint).transpose()?;
        let family = if protocol.is_unix() {
            Family::Unix
        } else if protocol.is_packet() {
            Family::Packet
        } else if protocol.is_netlink() {
            Family::Netlink
        } else if local.or(remote).is_some_and(|e| e.address.is_ipv6()) {
            Family::Inet6
        } else {
            Family::Inet
        };
        let unspec = |fam| match fam {
            Family::Inet6 => IpAddr::from([0u16; 8]),
            _ => IpAddr::from([0u8; 4]),
        };
        let mut base = Socket::new(protocol, family, state, x.inode.unwrap_or(1000));
        if protocol.is_inet() {
            base.local = Some(local.unwrap_or(Endpoint {
                address: unspec(family),
                port: 0,
            }));
            base.remote = Some(remote.unwrap_or(Endpoint {
                address: unspec(family),
                port: 0,
            }));
        }
        base.interface = x.interface.as_deref().map(Box::from);
        base.ifindex = x.interface.as_ref().map(|_| 2);
        base.uid = Some(x.uid.unwrap_or(0));
        base.v6only = x.v6only;
        base.mark = x.mark;
        base.recv_q = x.recv_q.unwrap_or(0);
        base.send_q = x.send_q.unwrap_or(0);
        if let Some(t) = &x.tcp {
            let wire = TcpInfoWire {
                bytes_acked: t.bytes_acked,
                bytes_received: t.bytes_received,
                bytes_sent: t.bytes_sent,
                rtt: t.rtt_us.unwrap_or(0),
                ..TcpInfoWire::default()
            };
            base.tcp_info = Some(Box::new(wire.into()));
        }
        base.unix = x.unix_info();
        base.packet = x.packet_info();
        base.views = x.views.iter().flatten().copied().collect();
        base.hidden = x.hidden.iter().flatten().copied().collect();
        Ok(base)
    }

    /// A unix socket's name (`@name` is abstract) and peer.
    fn unix_info(&self) -> Option<Box<UnixInfo>> {
        if !self.protocol.unwrap_or(Protocol::Tcp).is_unix() {
            return None;
        }
        let (name, abs) = match self.unix_name.as_deref() {
            Some(n) => match n.strip_prefix('@') {
                Some(a) => (Some(ByteString::from(a)), true),
                None => (Some(ByteString::from(n)), false),
            },
            None => (None, false),
        };
        Some(Box::new(UnixInfo {
            name,
            r#abstract: abs,
            peer: self.unix_peer,
            pending: Vec::new(),
            backlog: None,
            vfs_inode: None,
            vfs_dev: None,
        }))
    }

    /// A packet socket's ethertype and BPF program (each `k` as a `jeq #k` instruction).
    fn packet_info(&self) -> Option<Box<PacketInfo>> {
        if !self.protocol.unwrap_or(Protocol::Tcp).is_packet() {
            return None;
        }
        Some(Box::new(PacketInfo {
            ethertype: self.ethertype.unwrap_or(3),
            version: None,
            flags: None,
            fanout: None,
            copy_thresh: None,
            rx_ring: None,
            tx_ring: None,
            bpf: self.bpf_k.as_ref().map(|ks| {
                ks.iter()
                    .map(|&k| BpfInsn {
                        code: 0x15,
                        jt: 0,
                        jf: 0,
                        k,
                    })
                    .collect()
            }),
        }))
    }
}
