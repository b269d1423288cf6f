//! sock_diag destroy notifications: the kernel multicasts a socket's `inet_diag_msg` when it is
//! destroyed (groups SKNLGRP_INET_TCP_DESTROY and SKNLGRP_INET6_TCP_DESTROY; joining them needs
//! CAP_NET_ADMIN in the namespace's user namespace). `watch`'s fallback
//! reads them between two dumps: a connection that opened and closed in between is seen at its
//! end, with its addresses, though not its process.

use std::io;

use netlink_sys::{Socket as NlSocket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use super::inet::decode_inet;
use super::netlink::{SOCK_DIAG_BY_FAMILY, frames};
use crate::model::{Protocol, Socket};

/// `SKNLGRP_INET_TCP_DESTROY` and `SKNLGRP_INET6_TCP_DESTROY` (groups 1 and 3), as the bind
/// address's bitmask of groups.
const TCP_DESTROY_GROUPS: u32 = (1 << 0) | (1 << 2);

/// A netlink socket subscribed to TCP destroy notifications of the calling thread's namespace.
pub struct Destroyed {
    sock: NlSocket,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Destroyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Destroyed")
    }
}

impl Destroyed {
    /// Subscribes; fails without CAP_NET_ADMIN (EPERM) or on a kernel without the groups.
    pub fn open() -> io::Result<Destroyed> {
        let mut sock = NlSocket::new(NETLINK_SOCK_DIAG)?;
        sock.bind(&SocketAddr::new(0, TCP_DESTROY_GROUPS))?;
        sock.set_non_blocking(true)?;
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(Destroyed {
            sock,
            buf: vec![0; 64 * 1024],
        })
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
                                match decode_inet(f.payload, Protocol::Tcp) {
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
