//! The kept fields of a socket, a process and a holding, as the history's rows hold them, their
//! content hashes, and the conversions to and from the snapshot's structs.
//!
//! A row keeps what identifies a socket or a process and what describes it; the counters that
//! tick (queues, timers, tcp_info, memory) are left out, or every run would write every socket
//! again. [`keep_socket`] and [`keep_process`] are the projection: what a reconstruction gives
//! back is exactly the projection of what was recorded.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{
    ByteString, Container, Endpoint, Family, Owner, PacketInfo, Process, Protocol, Socket, State,
    UnixInfo,
};

/// A content hash: the first 16 bytes of the SHA-256 of a row's kept fields (JSON-encoded, the
/// field order fixed by the struct).
pub type Hash = [u8; 16];

fn hash_of(row: &impl Serialize) -> Hash {
    let bytes = serde_json::to_vec(row).expect("rows serialize");
    let digest = Sha256::digest(&bytes);
    let mut h = [0u8; 16];
    h.copy_from_slice(&digest[..16]);
    h
}

/// A socket's kept fields, and the namespace (`ns`) the run filed it under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
            interface: s.interface.clone(),
            v6only: s.v6only,
            unix: s
                .unix
                .as_ref()
                .map(|u| (u.name.clone(), u.r#abstract, u.peer)),
            packet_ethertype: s.packet.as_ref().map(|p| p.ethertype),
        }
    }

    /// The content hash.
    pub fn hash(&self) -> Hash {
        hash_of(self)
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
        s.interface = self.interface.clone();
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
                bpf: None,
            })
        });
        s
    }
}

/// A process's kept fields (all of [`Process`]), and the namespace the run filed it under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcRow {
    /// The namespace of the sockets it holds (or whose holder it is the parent of).
    pub ns: u64,
    /// The process.
    pub process: Process,
}

impl ProcRow {
    /// The content hash.
    pub fn hash(&self) -> Hash {
        hash_of(self)
    }
}

/// A holding's identity: the socket's and the process's content hashes, the pid and the fd.
pub fn holding_hash(socket: &Hash, process: Option<&Hash>, owner: Owner) -> Hash {
    hash_of(&(socket, process, owner.pid, owner.fd))
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
