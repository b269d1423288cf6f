//! NETLINK_SOCK_DIAG transport: send one dump request, stream the replies to a callback.
//!
//! Framing is a pure function ([`frames`]) so that recorded dumps (ss's `-D` files, our fixtures)
//! go through exactly the code that live replies go through. A reply that cannot be decoded is
//! counted by the caller and skipped; it never ends the dump. `NLMSG_DONE` may carry an error code
//! (the kernel answers an unsupported protocol that way) and is checked.

use std::io;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NetlinkBuffer,
    NetlinkHeader, NetlinkMessage,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{Socket as NlSocket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use crate::model::SkMemInfo;

/// `SOCK_DIAG_BY_FAMILY`: the message type of every request and reply.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// One netlink message out of a receive buffer or a recorded dump.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// `nlmsg_type`: [`SOCK_DIAG_BY_FAMILY`] for a reply, or `NLMSG_DONE`, `NLMSG_ERROR`,
    /// `NLMSG_NOOP`.
    pub kind: u16,
    /// `nlmsg_flags`: `NLM_F_DUMP_INTR` here means the kernel's table changed during the dump.
    pub flags: u16,
    /// `nlmsg_seq`: the sequence number of the request this message answers.
    pub seq: u32,
    /// The message body: the `nlmsg_len - 16` bytes after the header, without the padding.
    pub payload: &'a [u8],
}

/// Splits a buffer of concatenated netlink messages. Stops (with an error item) at the first
/// message whose length field does not fit the buffer: after that, nothing can be trusted.
pub fn frames(buf: &[u8]) -> impl Iterator<Item = Result<Frame<'_>, super::decode::DecodeError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let nl = match NetlinkBuffer::new_checked(rest) {
            Ok(nl) => nl,
            Err(e) => {
                rest = &[];
                return Some(Err(super::decode::DecodeError::Frame(e.to_string())));
            }
        };
        let len = nl.length() as usize;
        let frame = Frame {
            kind: nl.message_type(),
            flags: nl.flags(),
            seq: nl.sequence_number(),
            payload: nl.payload(),
        };
        // Messages are padded to 4 bytes; the last one may lack its padding.
        let step = (len + 3) & !3;
        rest = rest.get(step..).unwrap_or(&[]);
        Some(Ok(frame))
    })
}

/// Why a dump failed.
#[derive(Debug)]
pub enum DumpError {
    /// The kernel has no handler for this family/protocol (ENOENT, EOPNOTSUPP, EINVAL).
    Unsupported(io::Error),
    /// Any other failure: the socket could not send or receive, the kernel answered with another
    /// error, or a reply was malformed.
    Io(io::Error),
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpError::Unsupported(e) => write!(f, "not supported by this kernel ({e})"),
            DumpError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Counts from one dump, for warnings.
#[derive(Debug, Default, Clone, Copy)]
pub struct DumpStats {
    /// Replies handed to the callback (`NLMSG_DONE`, errors and no-ops are not counted).
    pub messages: u64,
    /// The kernel flagged the dump as interrupted (the table changed under it).
    pub interrupted: bool,
}

/// A NETLINK_SOCK_DIAG socket in the calling thread's network namespace.
pub struct DiagSocket {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
}

impl DiagSocket {
    /// Opens and connects a NETLINK_SOCK_DIAG socket, asking for a 1 MiB receive buffer (best
    /// effort, as `ss` does). Fails when the kernel has no sock_diag support or the process may not
    /// create netlink sockets.
    pub fn open() -> io::Result<DiagSocket> {
        let mut sock = NlSocket::new(NETLINK_SOCK_DIAG)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Large dumps arrive faster than small receive buffers drain; ss uses 1 MiB too.
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(DiagSocket {
            sock,
            seq: 0,
            buf: vec![0; 256 * 1024],
        })
    }

    /// Sends a request built by netlink-packet-sock-diag and streams the replies.
    pub fn dump_message(
        &mut self,
        msg: SockDiagMessage,
        on_reply: impl FnMut(&[u8]),
    ) -> Result<DumpStats, DumpError> {
        let mut hdr = NetlinkHeader::default();
        hdr.flags = NLM_F_REQUEST | NLM_F_DUMP;
        self.seq = self.seq.wrapping_add(1);
        hdr.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(hdr, msg.into());
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.exchange(&bytes, on_reply)
    }

    /// Sends a hand-built request body (for families the crate lacks, such as AF_PACKET).
    pub fn dump_raw(
        &mut self,
        body: &[u8],
        on_reply: impl FnMut(&[u8]),
    ) -> Result<DumpStats, DumpError> {
        self.seq = self.seq.wrapping_add(1);
        let len = 16 + body.len();
        let mut bytes = Vec::with_capacity(len);
        bytes.extend_from_slice(&(len as u32).to_ne_bytes());
        bytes.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        bytes.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        bytes.extend_from_slice(&self.seq.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes.extend_from_slice(body);
        self.exchange(&bytes, on_reply)
    }

    fn exchange(
        &mut self,
        request: &[u8],
        mut on_reply: impl FnMut(&[u8]),
    ) -> Result<DumpStats, DumpError> {
        self.sock.send(request, 0).map_err(DumpError::Io)?;
        let mut stats = DumpStats::default();
        loop {
            let n = self
                .sock
                .recv(&mut &mut self.buf[..], 0)
                .map_err(DumpError::Io)?;
            for frame in frames(&self.buf[..n]) {
                let frame = frame.map_err(|e| DumpError::Io(io::Error::other(e)))?;
                if frame.seq != self.seq {
                    continue; // a stale reply from an earlier, abandoned request
                }
                if frame.flags & NLM_F_DUMP_INTR != 0 {
                    stats.interrupted = true;
                }
                match frame.kind {
                    NLMSG_NOOP => {}
                    NLMSG_DONE => {
                        let code = frame
                            .payload
                            .get(..4)
                            .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
                            .unwrap_or(0);
                        return if code < 0 {
                            Err(classify(-code))
                        } else {
                            Ok(stats)
                        };
                    }
                    NLMSG_ERROR => {
                        let code = frame
                            .payload
                            .get(..4)
                            .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
                            .unwrap_or(-libc::EIO);
                        if code == 0 {
                            return Ok(stats); // an ACK
                        }
                        return Err(classify(-code));
                    }
                    _ => {
                        stats.messages += 1;
                        on_reply(frame.payload);
                    }
                }
            }
        }
    }
}

/// `SK_MEMINFO_*` (include/uapi/linux/sock_diag.h), the same attribute in inet, unix and packet
/// replies: seven u32 since 3.6, backlog since 4.4, drops since 4.11; kept as far as the kernel
/// sent them.
pub fn decode_skmeminfo(v: &[u8]) -> Option<SkMemInfo> {
    let at = |i: usize| {
        v.get(i * 4..i * 4 + 4)
            .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
    };
    Some(SkMemInfo {
        rmem_alloc: at(0)?,
        rcvbuf: at(1)?,
        wmem_alloc: at(2)?,
        sndbuf: at(3)?,
        fwd_alloc: at(4)?,
        wmem_queued: at(5)?,
        optmem: at(6)?,
        backlog: at(7),
        drops: at(8),
    })
}

fn classify(errno: i32) -> DumpError {
    let e = io::Error::from_raw_os_error(errno);
    match errno {
        libc::ENOENT | libc::EOPNOTSUPP | libc::EINVAL | libc::EPROTONOSUPPORT => {
            DumpError::Unsupported(e)
        }
        _ => DumpError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&2u16.to_ne_bytes());
        v.extend_from_slice(&7u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn frames_split_padded_messages() {
        let mut buf = msg(20, &[1, 2, 3, 4, 5]);
        buf.extend(msg(3, &0i32.to_ne_bytes()));
        let got: Vec<_> = frames(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].kind, 20);
        assert_eq!(got[0].payload, &[1, 2, 3, 4, 5]);
        assert_eq!(got[0].seq, 7);
        assert_eq!(got[1].kind, NLMSG_DONE);
    }

    #[test]
    fn truncated_message_is_an_error_not_a_panic() {
        let mut buf = msg(20, &[0; 40]);
        buf.truncate(30);
        let got: Vec<_> = frames(&buf).collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
        // A length field smaller than a header must not loop forever either.
        let bad = [4u8, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(frames(&bad).all(|f| f.is_err()));
    }
}
