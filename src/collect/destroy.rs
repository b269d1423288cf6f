//! sock_diag destroy notifications and SOCK_DESTROY.
//!
//! The kernel multicasts a socket's `inet_diag_msg` when it is destroyed (groups
//! SKNLGRP_INET_TCP_DESTROY and SKNLGRP_INET6_TCP_DESTROY, SKNLGRP_INET_UDP_DESTROY and
//! SKNLGRP_INET6_UDP_DESTROY; joining them needs CAP_NET_ADMIN in the namespace's user
//! namespace). `watch`'s fallback reads the TCP ones between two dumps: a connection that opened
//! and closed in between is seen at its end, with its addresses, though not its process; `list
//! -E` prints them as they come, as `ss -E`.
//!
//! [`Killer`] sends SOCK_DESTROY for one TCP or UDP socket, as `ss -K` does (`kill_inet_sock()`
//! in misc/ss.c): the socket's own `inet_diag_sockid` (addresses, ports, interface, cookie), and
//! the kernel aborts it (the holder sees ECONNABORTED). It needs CAP_NET_ADMIN and a kernel built
//! with CONFIG_INET_DIAG_DESTROY.

use std::io;

use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR};
use netlink_sys::{Socket as NlSocket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use super::inet::decode_inet;
use super::netlink::{SOCK_DIAG_BY_FAMILY, frames};
use crate::model::{Family, Protocol, Socket};

/// `SKNLGRP_INET_TCP_DESTROY` and `SKNLGRP_INET6_TCP_DESTROY` (groups 1 and 3), as the bind
/// address's bitmask of groups.
const TCP_DESTROY_GROUPS: u32 = (1 << 0) | (1 << 2);
/// `SKNLGRP_INET_UDP_DESTROY` and `SKNLGRP_INET6_UDP_DESTROY` (groups 2 and 4).
const UDP_DESTROY_GROUPS: u32 = (1 << 1) | (1 << 3);
/// `SOCK_DESTROY`: the message type that asks the kernel to abort one socket.
pub const SOCK_DESTROY: u16 = 21;

/// A netlink socket subscribed to destroy notifications of one protocol (TCP or UDP) in the
/// calling thread's namespace.
pub struct Destroyed {
    sock: NlSocket,
    buf: Vec<u8>,
    protocol: Protocol,
}

impl std::fmt::Debug for Destroyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Destroyed")
    }
}

impl Destroyed {
    /// Subscribes to TCP's groups; fails without CAP_NET_ADMIN (EPERM) or on a kernel without
    /// the groups.
    pub fn open() -> io::Result<Destroyed> {
        Destroyed::open_for(Protocol::Tcp)
    }

    /// Subscribes to the IPv4 and IPv6 groups of `protocol` (TCP or UDP; any other is UDP's).
    pub fn open_for(protocol: Protocol) -> io::Result<Destroyed> {
        let groups = if protocol == Protocol::Tcp {
            TCP_DESTROY_GROUPS
        } else {
            UDP_DESTROY_GROUPS
        };
        let mut sock = NlSocket::new(NETLINK_SOCK_DIAG)?;
        sock.bind(&SocketAddr::new(0, groups))?;
        sock.set_non_blocking(true)?;
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(Destroyed {
            sock,
            buf: vec![0; 64 * 1024],
            protocol,
        })
    }

    /// The socket's descriptor, to wait on with poll(2).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    /// The sockets destroyed since the last call, and how many notifications were lost (the
    /// receive buffer overflowed: ENOBUFS) or did not decode.
    pub fn drain(&mut self) -> (Vec<Socket>, u64) {
        let mut out = Vec::new();
        let mut missed = 0;
        loop {
            match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(n) => {
                    for frame in frames(&self.buf[..n.min(self.buf.len())]) {
                        match frame {
                            Ok(f) if f.kind == SOCK_DIAG_BY_FAMILY => {
                                match decode_inet(f.payload, self.protocol) {
                                    Ok(s) => out.push(s),
                                    Err(_) => missed += 1,
                                }
                            }
                            Ok(_) => {}
                            Err(_) => {
                                missed += 1;
                                break;
                            }
                        }
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => missed += 1,
                Err(_) => return (out, missed),
            }
        }
    }
}

/// The body of a SOCK_DESTROY request for `s` (`struct inet_diag_req_v2` with the socket's
/// `inet_diag_sockid`), or `None` for a socket SOCK_DESTROY cannot name: not TCP or UDP, or
/// without its addresses or cookie (a socket read from a file).
pub fn destroy_request(s: &Socket) -> Option<Vec<u8>> {
    let (family, proto) = match (s.family, s.protocol) {
        (Family::Inet, Protocol::Tcp) => (libc::AF_INET, libc::IPPROTO_TCP),
        (Family::Inet6, Protocol::Tcp) => (libc::AF_INET6, libc::IPPROTO_TCP),
        (Family::Inet, Protocol::Udp) => (libc::AF_INET, libc::IPPROTO_UDP),
        (Family::Inet6, Protocol::Udp) => (libc::AF_INET6, libc::IPPROTO_UDP),
        _ => return None,
    };
    let (local, remote, cookie) = (s.local?, s.remote?, s.cookie?);
    let mut b = Vec::with_capacity(56);
    b.push(family as u8); // sdiag_family
    b.push(proto as u8); // sdiag_protocol
    b.push(0); // idiag_ext
    b.push(0); // pad
    b.extend_from_slice(&u32::MAX.to_ne_bytes()); // idiag_states: any
    b.extend_from_slice(&local.port.to_be_bytes()); // idiag_sport
    b.extend_from_slice(&remote.port.to_be_bytes()); // idiag_dport
    for a in [local.address, remote.address] {
        let mut words = [0u8; 16];
        match a {
            IpAddr::V4(v4) => words[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => words.copy_from_slice(&v6.octets()),
        }
        b.extend_from_slice(&words); // idiag_src, idiag_dst
    }
    b.extend_from_slice(&s.ifindex.unwrap_or(0).to_ne_bytes()); // idiag_if
    b.extend_from_slice(&cookie.to_ne_bytes()); // idiag_cookie, as the kernel sent it
    Some(b)
}

/// What SOCK_DESTROY did to one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kill {
    /// The kernel aborted it.
    Killed,
    /// It was gone already (ENOENT), or the kernel cannot destroy sockets of its kind
    /// (EOPNOTSUPP): `ss -K` passes over these silently.
    Skipped {
        /// The kernel answered EOPNOTSUPP (rather than ENOENT).
        unsupported: bool,
    },
}

/// A NETLINK_SOCK_DIAG socket that sends SOCK_DESTROY requests in the calling thread's
/// namespace.
pub struct Killer {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Killer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Killer")
    }
}

impl Killer {
    /// Opens the socket.
    pub fn open() -> io::Result<Killer> {
        let mut sock = NlSocket::new(NETLINK_SOCK_DIAG)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        Ok(Killer {
            sock,
            seq: 0,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Asks the kernel to destroy `s`. EPERM (no CAP_NET_ADMIN) and other failures are errors;
    /// a socket SOCK_DESTROY cannot name is skipped as unsupported.
    pub fn kill(&mut self, s: &Socket) -> io::Result<Kill> {
        let Some(body) = destroy_request(s) else {
            return Ok(Kill::Skipped { unsupported: true });
        };
        self.seq = self.seq.wrapping_add(1);
        let len = 16 + body.len();
        let mut req = Vec::with_capacity(len);
        req.extend_from_slice(&(len as u32).to_ne_bytes());
        req.extend_from_slice(&SOCK_DESTROY.to_ne_bytes());
        req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        req.extend_from_slice(&self.seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        req.extend_from_slice(&body);
        self.sock.send(&req, 0)?;
        loop {
            let n = self.sock.recv(&mut &mut self.buf[..], 0)?;
            for frame in frames(&self.buf[..n.min(self.buf.len())]) {
                let f = frame.map_err(io::Error::other)?;
                if f.seq != self.seq || f.kind != NLMSG_ERROR {
                    continue;
                }
                let code = f
                    .payload
                    .get(..4)
                    .map_or(-libc::EIO, |b| i32::from_ne_bytes(b.try_into().unwrap()));
                return match -code {
                    0 => Ok(Kill::Killed),
                    libc::ENOENT => Ok(Kill::Skipped { unsupported: false }),
                    libc::EOPNOTSUPP => Ok(Kill::Skipped { unsupported: true }),
                    e => Err(io::Error::from_raw_os_error(e)),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, State};

    #[test]
    fn destroy_request_names_the_socket_as_the_kernel_sent_it() {
        let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Established, 7);
        s.local = Some(Endpoint {
            address: "192.0.2.1".parse().unwrap(),
            port: 22,
        });
        s.remote = Some(Endpoint {
            address: "192.0.2.99".parse().unwrap(),
            port: 40000,
        });
        s.ifindex = Some(3);
        s.cookie = Some(0x0102_0304_0506_0708);
        let b = destroy_request(&s).unwrap();
        assert_eq!(b.len(), 56, "sizeof(struct inet_diag_req_v2)");
        assert_eq!(&b[..4], &[2, 6, 0, 0]);
        assert_eq!(&b[8..12], &[0, 22, 0x9c, 0x40], "ports in network order");
        assert_eq!(&b[12..16], &[192, 0, 2, 1]);
        assert_eq!(&b[28..32], &[192, 0, 2, 99]);
        assert_eq!(&b[44..48], &3u32.to_ne_bytes());
        assert_eq!(&b[48..56], &0x0102_0304_0506_0708u64.to_ne_bytes());
        let mut u6 = s.clone();
        (u6.protocol, u6.family) = (Protocol::Udp, Family::Inet6);
        u6.local = Some(Endpoint {
            address: "2001:db8::1".parse().unwrap(),
            port: 53,
        });
        let b = destroy_request(&u6).unwrap();
        assert_eq!(&b[..2], &[10, 17]);
        assert_eq!(
            b[12..28],
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
        );
        s.cookie = None;
        assert_eq!(
            destroy_request(&s),
            None,
            "a socket from a file has no cookie"
        );
        let unix = Socket::new(Protocol::UnixStream, Family::Unix, State::Established, 1);
        assert_eq!(destroy_request(&unix), None);
    }
}
