//! The kept fields of a socket, a process and a holding, as the history's rows hold them, their
//! content hashes, and the conversions to and from the snapshot's structs.
//!
//! A row keeps what identifies a socket or a process and what describes it; the counters that
//! tick (queues, timers, tcp_info, memory) are left out, or every run would write every socket
//! again. [`keep_socket`] and [`keep_process`] are the projection: what a reconstruction gives
//! back is exactly the projection of what was recorded.

use sha2::{Digest, Sha256};

use crate::model::{
    ByteString, Container, Endpoint, Family, Owner, PacketInfo, Process, Protocol, Socket, State,
    UnixInfo,
};

/// A content hash: the first 16 bytes of the SHA-256 of a row's kept fields, each written in a
/// fixed order with a tag for an absent value and a length before variable-length bytes, so
/// that two different rows never write the same bytes.
pub type Hash = [u8; 16];

/// The hasher's input, written field by field without building a document (hashing is most of
/// an unchanged run's cost on a large host).
struct Feed(Sha256);

impl Feed {
    fn new() -> Feed {
        Feed(Sha256::new())
    }
    fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.update(b);
    }
    fn flag(&mut self, b: bool) {
        self.0.update([u8::from(b)]);
    }
    /// A tag for `Some`/`None`, then the value.
    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Feed, T)) {
        self.flag(v.is_some());
        if let Some(v) = v {
            f(self, v);
        }
    }
    fn endpoint(&mut self, e: Option<Endpoint>) {
        self.opt(e, |h, e| {
            match e.address {
                std::net::IpAddr::V4(a) => h.bytes(&a.octets()),
                std::net::IpAddr::V6(a) => h.bytes(&a.octets()),
            }
            h.u64(u64::from(e.port));
        });
    }
    fn finish(self) -> Hash {
        let digest = self.0.finalize();
        let mut h = [0u8; 16];
        h.copy_from_slice(&digest[..16]);
        h
    }
}

/// The content hash of `s`'s kept fields, filed under its namespace (else `default_ns`):
/// equal to `SockRow::of(s, default_ns).hash()`, without building the row.
pub fn socket_hash(s: &Socket, default_ns: u64) -> Hash {
    let mut h = Feed::new();
    h.u64(s.netns.unwrap_or(default_ns));
    h.opt(s.netns, Feed::u64);
    for name in [s.protocol.name(), s.family.name(), s.state.name()] {
        h.bytes(name.as_bytes());
    }
    h.endpoint(s.local);
    h.endpoint(s.remote);
    h.u64(s.inode);
    h.opt(s.cookie, Feed::u64);
    h.opt(s.uid, |h, v| h.u64(u64::from(v)));
    h.opt(s.ifindex, |h, v| h.u64(u64::from(v)));
    h.opt(s.interface.as_deref(), |h, v| h.bytes(v.as_bytes()));
    h.opt(s.v6only, Feed::flag);
    h.opt(s.unix.as_deref(), |h, u| {
        h.opt(u.name.as_ref(), |h, n| h.bytes(n.as_bytes()));
        h.flag(u.r#abstract);
        h.opt(u.peer, Feed::u64);
    });
    h.opt(s.packet.as_deref(), |h, p| h.u64(u64::from(p.ethertype)));
    h.finish()
}

fn process_hash(ns: u64, p: &Process) -> Hash {
    let mut h = Feed::new();
    h.u64(ns);
    for v in [p.pid, p.ppid, p.uid, p.euid] {
        h.u64(u64::from(v));
    }
    h.u64(p.start_ticks);
    h.bytes(p.comm.as_bytes());
    h.opt(p.exe.as_ref(), |h, e| h.bytes(e.as_bytes()));
    h.flag(p.exe_deleted);
    h.flag(p.exe_memfd);
    h.u64(p.cmdline.len() as u64);
    for a in &p.cmdline {
        h.bytes(a.as_bytes());
    }
    h.opt(p.user.as_deref(), |h, u| h.bytes(u.as_bytes()));
    h.opt(p.cgroup.as_deref(), |h, c| h.bytes(c.as_bytes()));
    h.opt(p.container.as_ref(), |h, c| {
        h.bytes(c.runtime.as_bytes());
        h.bytes(c.id.as_bytes());
        h.opt(c.pod_uid.as_deref(), |h, u| h.bytes(u.as_bytes()));
    });
    h.opt(p.netns, Feed::u64);
    h.finish()
}

/// A socket's kept fields, and the namespace (`ns`) the run filed it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockRow {
    /// The namespace that scopes the row: the socket's `netns`, else the snapshot's `meta.netns`,
    /// else 0.
    pub ns: u64,
    /// The socket's `netns` field as recorded (absent in a one-namespace snapshot).
    pub netns: Option<u64>,
    /// Protocol name.
    pub protocol: Protocol,
    /// Family name.
    pub family: Family,
    /// State name.
    pub state: State,
    /// Local endpoint.
    pub local: Option<Endpoint>,
    /// Remote endpoint.
    pub remote: Option<Endpoint>,
    /// Socket inode.
    pub inode: u64,
    /// Socket cookie.
    pub cookie: Option<u64>,
    /// Owning uid.
    pub uid: Option<u32>,
    /// Bound device index.
    pub ifindex: Option<u32>,
    /// Bound device name.
    pub interface: Option<String>,
    /// IPV6_V6ONLY.
    pub v6only: Option<bool>,
    /// Unix part: `Some((name, abstract, peer))` when the socket had one.
    pub unix: Option<(Option<ByteString>, bool, Option<u64>)>,
    /// Packet part: the ethertype, when the socket had one.
    pub packet_ethertype: Option<u16>,
}

impl SockRow {
    /// The row of `s`, filed under `default_ns` when the socket names no namespace.
    pub fn of(s: &Socket, default_ns: u64) -> SockRow {
        SockRow {
            ns: s.netns.unwrap_or(default_ns),
            netns: s.netns,
            protocol: s.protocol,
            family: s.family,
            state: s.state,
            local: s.local,
            remote: s.remote,
            inode: s.inode,
            cookie: s.cookie,
            uid: s.uid,
            ifindex: s.ifindex,
            interface: s.interface.as_deref().map(String::from),
            v6only: s.v6only,
            unix: s
                .unix
                .as_ref()
                .map(|u| (u.name.clone(), u.r#abstract, u.peer)),
            packet_ethertype: s.packet.as_ref().map(|p| p.ethertype),
        }
    }

    /// The content hash (see [`socket_hash`]).
    pub fn hash(&self) -> Hash {
        socket_hash(&self.to_socket(), self.ns)
    }

    /// The socket this row describes, without owners (they are holdings).
    pub fn to_socket(&self) -> Socket {
        let mut s = Socket::new(self.protocol, self.family, self.state, self.inode);
        s.netns = self.netns;
        s.local = self.local;
        s.remote = self.remote;
        s.cookie = self.cookie;
        s.uid = self.uid;
        s.ifindex = self.ifindex;
        s.interface = self.interface.as_deref().map(Box::from);
        s.v6only = self.v6only;
        s.unix = self.unix.as_ref().map(|(name, r#abstract, peer)| {
            Box::new(UnixInfo {
                name: name.clone(),
                r#abstract: *r#abstract,
                peer: *peer,
                pending: Vec::new(),
                backlog: None,
                vfs_inode: None,
                vfs_dev: None,
            })
        });
        s.packet = self.packet_ethertype.map(|ethertype| {
            Box::new(PacketInfo {
                ethertype,
                version: None,
                flags: None,
                fanout: None,
                copy_thresh: None,
                rx_ring: None,
                tx_ring: None,
                bpf: None,
            })
        });
        s
    }
}

/// A process's kept fields (all of [`Process`]), and the namespace the run filed it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRow {
    /// The namespace of the sockets it holds (or whose holder it is the parent of).
    pub ns: u64,
    /// The process.
    pub process: Process,
}

impl ProcRow {
    /// The content hash.
    pub fn hash(&self) -> Hash {
        process_hash(self.ns, &self.process)
    }
}

/// A holding's identity: the socket's and the process's content hashes, the pid and the fd.
pub fn holding_hash(socket: &Hash, process: Option<&Hash>, owner: Owner) -> Hash {
    let mut h = Feed::new();
    h.bytes(socket);
    h.opt(process, |h, p| h.bytes(p));
    h.u64(u64::from(owner.pid));
    h.u64(u64::from(owner.fd));
    h.finish()
}

/// The projection of a socket onto the fields the history keeps: what `@TIME` gives back.
pub fn keep_socket(s: &Socket) -> Socket {
    let mut kept = SockRow::of(s, 0).to_socket();
    kept.owners = s.owners.clone();
    kept
}

/// The projection of a process onto the fields the history keeps (all of them).
pub fn keep_process(p: &Process) -> Process {
    p.clone()
}

/// `container` as three nullable columns.
pub fn container_columns(c: Option<&Container>) -> (Option<&str>, Option<&str>, Option<&str>) {
    match c {
        Some(c) => (
            Some(c.runtime.as_str()),
            Some(c.id.as_str()),
            c.pod_uid.as_deref(),
        ),
        None => (None, None, None),
    }
}
