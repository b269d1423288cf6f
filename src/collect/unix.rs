//! Decoding `unix_diag_msg` replies into [`Socket`]s.
//!
//! netlink-packet-sock-diag parses the header, name, peer, pending connections and queue lengths.
//! Three attributes are read from the raw bytes instead: UNIX_DIAG_VFS (the crate keeps its fields
//! private), UNIX_DIAG_MEMINFO (the kernel sends all nine SK_MEMINFO values, the crate keeps three)
//! and UNIX_DIAG_UID (the crate does not know it).

use netlink_packet_core::{NlasIterator, ParseableParametrized};
use netlink_packet_sock_diag::{
    SockDiagMessage,
    unix::nlas::{Nla, UnixDiagName},
};

use super::decode::{DecodeError, Reply};
use super::netlink::SOCK_DIAG_BY_FAMILY;
use super::netlink::decode_skmeminfo;
use crate::model::{ByteString, Family, Protocol, Socket, State, UnixInfo};

const UNIX_DIAG_VFS: u16 = 1;
const UNIX_DIAG_MEMINFO: u16 = 5;
const UNIX_DIAG_UID: u16 = 7;
/// UDIAG_SHOW_UID: not among the crate's flags.
pub const UDIAG_SHOW_UID: u32 = 0x40;

/// Decodes one unix_diag reply payload (everything after the netlink header) into a socket with
/// its [`UnixInfo`] filled in. For a listener, `recv_q` is the number of connections waiting to be
/// accepted and `send_q` the listen() backlog (also kept as `unix.backlog`); otherwise `recv_q` is
/// the bytes waiting to be read (a datagram socket: the next datagram's size) and `send_q` the
/// send-buffer memory still in use. An error names what could not be parsed: the message, a
/// socket type other than stream, datagram or seqpacket, or an unknown state.
pub fn decode_unix(payload: &[u8]) -> Result<Socket, DecodeError> {
    let msg = SockDiagMessage::parse_with_param(payload, SOCK_DIAG_BY_FAMILY).map_err(|e| {
        DecodeError::Header {
            reply: Reply::Unix,
            reason: e.to_string(),
        }
    })?;
    let SockDiagMessage::UnixResponse(resp) = msg else {
        return Err(DecodeError::Family {
            reply: Reply::Unix,
            family: payload.first().copied().unwrap_or_default(),
        });
    };
    let h = &resp.header;
    let protocol = match h.kind {
        1 => Protocol::UnixStream,
        2 => Protocol::UnixDgram,
        5 => Protocol::UnixSeqpacket,
        kind => {
            return Err(DecodeError::SocketType {
                reply: Reply::Unix,
                kind,
            });
        }
    };
    let state = State::from_kernel(h.state).ok_or(DecodeError::State {
        reply: Reply::Unix,
        state: h.state,
    })?;
    let mut s = Socket::new(protocol, Family::Unix, state, u64::from(h.inode));
    s.cookie = Some(u64::from_ne_bytes(h.cookie));
    let mut info = UnixInfo {
        name: None,
        r#abstract: false,
        peer: None,
        pending: Vec::new(),
        backlog: None,
        vfs_inode: None,
        vfs_dev: None,
    };
    for nla in &resp.nlas {
        match nla {
            Nla::Name(UnixDiagName::Pathname(p)) => {
                use std::os::unix::ffi::OsStrExt;
                info.name = Some(ByteString::from(p.as_bytes()));
            }
            Nla::Name(UnixDiagName::Abstract(a)) => {
                info.name = Some(ByteString::from(a.as_slice()));
                info.r#abstract = true;
            }
            Nla::Peer(p) if *p != 0 => info.peer = Some(u64::from(*p)),
            Nla::PendingConnections(v) => info.pending = v.iter().map(|&i| u64::from(i)).collect(),
            Nla::ReceiveQueueLength(a, b) => {
                // For a listener: pending count and backlog; otherwise: rx and tx queue bytes.
                if state == State::Listen {
                    s.recv_q = *a;
                    s.send_q = *b;
                    info.backlog = Some(*b);
                } else {
                    s.recv_q = *a;
                    s.send_q = *b;
                }
            }
            Nla::Shutdown(v) => s.shutdown = Some(*v),
            _ => {}
        }
    }
    for nla in NlasIterator::new(payload.get(16..).unwrap_or(&[])).flatten() {
        let v = nla.value();
        match nla.kind() {
            UNIX_DIAG_VFS if v.len() >= 8 => {
                info.vfs_inode = Some(u32::from_ne_bytes(v[0..4].try_into().unwrap()));
                info.vfs_dev = Some(u32::from_ne_bytes(v[4..8].try_into().unwrap()));
            }
            UNIX_DIAG_MEMINFO => s.memory = decode_skmeminfo(v).map(Box::new),
            UNIX_DIAG_UID if v.len() >= 4 => {
                s.uid = Some(u32::from_ne_bytes(v[0..4].try_into().unwrap()))
            }
            _ => {}
        }
    }
    s.unix = Some(Box::new(info));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn header(kind: u8, state: u8, ino: u32) -> Vec<u8> {
        let mut v = vec![1, kind, state, 0];
        v.extend_from_slice(&ino.to_ne_bytes());
        v.extend_from_slice(&[0x11, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn abstract_listener_with_everything() {
        let mut p = header(1, 10, 4242);
        p.extend(nla(0, b"\0ab\0cd")); // abstract name with an embedded NUL
        p.extend(nla(1, &[1, 0, 0, 0, 2, 0, 0, 0]));
        p.extend(nla(3, &[7, 0, 0, 0, 8, 0, 0, 0]));
        p.extend(nla(4, &[2, 0, 0, 0, 128, 0, 0, 0]));
        let mem: Vec<u8> = (1..=9u32).flat_map(|i| i.to_ne_bytes()).collect();
        p.extend(nla(5, &mem));
        p.extend(nla(7, &1000u32.to_ne_bytes()));
        let s = decode_unix(&p).unwrap();
        assert_eq!(s.protocol, Protocol::UnixStream);
        assert_eq!(s.state, State::Listen);
        assert_eq!(s.inode, 4242);
        assert_eq!(s.cookie, Some(0x11));
        assert_eq!(s.uid, Some(1000));
        assert_eq!((s.recv_q, s.send_q), (2, 128));
        let u = s.unix.unwrap();
        assert!(u.r#abstract);
        assert_eq!(u.name.unwrap().as_bytes(), b"ab\0cd");
        assert_eq!(u.pending, vec![7, 8]);
        assert_eq!(u.backlog, Some(128));
        assert_eq!((u.vfs_inode, u.vfs_dev), (Some(1), Some(2)));
        assert_eq!(s.memory.unwrap().drops, Some(9));
    }

    #[test]
    fn path_dgram_with_peer() {
        let mut p = header(2, 1, 99);
        p.extend(nla(0, b"/run/x\xff.sock\0"));
        p.extend(nla(2, &98u32.to_ne_bytes()));
        let s = decode_unix(&p).unwrap();
        assert_eq!(s.protocol, Protocol::UnixDgram);
        let u = s.unix.unwrap();
        assert!(!u.r#abstract);
        assert_eq!(u.name.unwrap().as_bytes(), b"/run/x\xff.sock");
        assert_eq!(u.peer, Some(98));
    }

    #[test]
    fn bad_type_and_short_input_are_errors() {
        assert!(decode_unix(&header(9, 1, 1)).is_err());
        for n in 0..16 {
            assert!(decode_unix(&header(1, 1, 1)[..n]).is_err());
        }
    }
}
