//! AF_NETLINK sockets through netlink_diag, which netlink-packet-sock-diag does not cover.
//!
//! The request (`struct netlink_diag_req`, 20 bytes) and reply (`struct netlink_diag_msg`, 28
//! bytes, plus NETLINK_DIAG_* attributes) come from include/uapi/linux/netlink_diag.h; the kernel
//! side is net/netlink/diag.c. `ss` asks for every protocol (`NDIAG_PROTO_ALL`) with groups and
//! memory (`netlink_show_netlink()` in misc/ss.c); flags are asked for too, for the snapshot.
//!
//! The kernel lists a socket that is bound and subscribed to a multicast group twice (once from
//! the protocol's hash table, once from its multicast list); `ss` prints both, and so does `list`.

use netlink_packet_core::NlasIterator;

use super::decode::{DecodeError, Reply};
use super::netlink::decode_skmeminfo;
use crate::model::{Family, NetlinkInfo, Protocol, Socket, State};

const AF_NETLINK: u8 = 16;
/// `NDIAG_PROTO_ALL`: every netlink protocol.
const NDIAG_PROTO_ALL: u8 = 0xff;
const NDIAG_SHOW_MEMINFO: u32 = 0x01;
const NDIAG_SHOW_GROUPS: u32 = 0x02;
const NDIAG_SHOW_FLAGS: u32 = 0x08;

const NETLINK_DIAG_MEMINFO: u16 = 0;
const NETLINK_DIAG_GROUPS: u16 = 1;
const NETLINK_DIAG_FLAGS: u16 = 4;

/// `ndiag_state` of a connected socket (`NETLINK_CONNECTED`).
const NETLINK_CONNECTED: u8 = 1;
/// `struct netlink_diag_msg`'s size.
const MSG_LEN: usize = 28;

/// The body of a dump request for every netlink socket, with groups, memory and flags.
pub fn request() -> Vec<u8> {
    let show = NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS | NDIAG_SHOW_FLAGS;
    let mut b = Vec::with_capacity(20);
    b.push(AF_NETLINK); // sdiag_family
    b.push(NDIAG_PROTO_ALL); // sdiag_protocol
    b.extend_from_slice(&0u16.to_ne_bytes()); // pad
    b.extend_from_slice(&0u32.to_ne_bytes()); // ndiag_ino: all
    b.extend_from_slice(&show.to_ne_bytes()); // ndiag_show
    b.extend_from_slice(&[0xff; 8]); // ndiag_cookie: none
    b
}

/// Decodes one `netlink_diag_msg` reply. The socket's state is `close` (ss's UNCONN, whatever
/// the kernel's `ndiag_state`); Recv-Q and Send-Q are the receive and send memory in use, as
/// `ss` shows them.
pub fn decode_netlink(payload: &[u8]) -> Result<Socket, DecodeError> {
    if payload.len() < MSG_LEN {
        return Err(DecodeError::Short {
            reply: Reply::Netlink,
            len: payload.len(),
            need: MSG_LEN,
        });
    }
    if payload[0] != AF_NETLINK {
        return Err(DecodeError::Family {
            reply: Reply::Netlink,
            family: payload[0],
        });
    }
    let kind = match payload[1] {
        3 => "raw",   // SOCK_RAW
        2 => "dgram", // SOCK_DGRAM
        kind => {
            return Err(DecodeError::SocketType {
                reply: Reply::Netlink,
                kind,
            });
        }
    };
    let u32_at = |o: usize| u32::from_ne_bytes(payload[o..o + 4].try_into().unwrap());
    let connected = payload[3] == NETLINK_CONNECTED;
    let mut info = NetlinkInfo {
        protocol: payload[2],
        r#type: kind.into(),
        portid: u32_at(4),
        dst_portid: connected.then(|| u32_at(8)),
        dst_group: connected.then(|| u32_at(12)),
        groups: Vec::new(),
        flags: None,
    };
    let mut s = Socket::new(
        Protocol::Netlink,
        Family::Netlink,
        State::Close,
        u64::from(u32_at(16)),
    );
    s.cookie = Some(u64::from_ne_bytes(payload[20..28].try_into().unwrap()));
    for nla in NlasIterator::new(&payload[MSG_LEN..]) {
        let nla = nla.map_err(|e| DecodeError::Attribute {
            reply: Reply::Netlink,
            reason: e.to_string(),
        })?;
        let v = nla.value();
        match nla.kind() {
            NETLINK_DIAG_MEMINFO => {
                s.memory = decode_skmeminfo(v).map(Box::new);
                if let Some(m) = &s.memory {
                    (s.recv_q, s.send_q) = (m.rmem_alloc, m.wmem_alloc);
                }
            }
            NETLINK_DIAG_GROUPS => info.groups = decode_groups(v),
            NETLINK_DIAG_FLAGS => {
                info.flags = v
                    .get(..4)
                    .map(|b| u32::from_ne_bytes(b.try_into().unwrap()));
            }
            _ => {}
        }
    }
    s.netlink = Some(Box::new(info));
    Ok(s)
}

/// The group bitmap (an array of `unsigned long`, bit N = group N + 1) as group numbers.
fn decode_groups(v: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    for (w, chunk) in v.chunks_exact(8).enumerate() {
        let bits = u64::from_ne_bytes(chunk.try_into().unwrap());
        out.extend(
            (0..64u32)
                .filter(|b| bits & (1 << b) != 0)
                .map(|b| w as u32 * 64 + b + 1),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn request_is_20_bytes_for_every_protocol() {
        let r = request();
        assert_eq!(r.len(), 20);
        assert_eq!((r[0], r[1]), (16, 0xff));
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 0x0b);
    }

    /// Captured from this kernel (6.18, x86_64): a NETLINK_ROUTE raw socket bound to the
    /// groups 1, 3 and 33 (port id = its pid, 25673), with memory and flags.
    #[test]
    fn rtnl_socket_with_groups() {
        let p = hex(
            "10030007496400000000000000000000b45c6300c88c0700000000000c000100050000000100\
             0000280000000000000000400300000000000040030000000000000000000000000000000000\
             000000000800040000000000",
        );
        let s = decode_netlink(&p).unwrap();
        assert_eq!(
            (s.protocol, s.family, s.state),
            (Protocol::Netlink, Family::Netlink, State::Close)
        );
        assert_eq!(s.inode, 0x635cb4);
        assert_eq!(s.cookie, Some(0x78cc8));
        let n = s.netlink.unwrap();
        assert_eq!((n.protocol, n.r#type.as_str(), n.portid), (0, "raw", 25673));
        assert_eq!(
            (n.dst_portid, n.dst_group),
            (None, None),
            "state 7: not connected"
        );
        assert_eq!(n.groups, [1, 3, 33]);
        assert_eq!(n.flags, Some(0));
        let m = s.memory.unwrap();
        assert_eq!((m.rcvbuf, m.sndbuf), (212992, 212992));
        assert_eq!((s.recv_q, s.send_q), (0, 0));
    }

    /// Captured: a NETLINK_KOBJECT_UEVENT dgram socket connected to group 1, and python's own
    /// NETLINK_SOCK_DIAG socket while it dumped (4352 bytes queued, flag 1: dump running).
    #[test]
    fn connected_socket_and_a_dumping_one() {
        let c = hex(
            "10020f01496400000000000001000000b55c6300ca8c07000000000028000000000000000040\
             0300000000000040030000000000000000000000000000000000000000000800040000000000",
        );
        let n = decode_netlink(&c).unwrap().netlink.unwrap();
        assert_eq!((n.protocol, n.r#type.as_str()), (15, "dgram"));
        assert_eq!((n.dst_portid, n.dst_group), (Some(0), Some(1)));
        assert!(n.groups.is_empty());
        let d = hex(
            "10030407496400000000000000000000b65c6300c98c07000000000028000000001100000040\
             0300000000000040030000000000000000000000000000000000000000000800040001000000",
        );
        let s = decode_netlink(&d).unwrap();
        assert_eq!(s.recv_q, 0x1100);
        let n = s.netlink.unwrap();
        assert_eq!((n.protocol, n.flags), (4, Some(1)));
    }

    #[test]
    fn bad_replies_are_errors_not_panics() {
        let c = hex("10020f01496400000000000001000000b55c6300ca8c070000000000");
        assert!(decode_netlink(&c).is_ok(), "no attributes");
        assert!(matches!(
            decode_netlink(&c[..27]),
            Err(DecodeError::Short { need: 28, .. })
        ));
        let mut bad = c.clone();
        bad[0] = 17;
        assert!(matches!(
            decode_netlink(&bad),
            Err(DecodeError::Family { .. })
        ));
        let mut bad = c.clone();
        bad[1] = 5;
        assert!(matches!(
            decode_netlink(&bad),
            Err(DecodeError::SocketType { .. })
        ));
        let mut bad = c;
        bad.extend_from_slice(&[0xff, 0x00, 0x01, 0x00]);
        assert!(
            decode_netlink(&bad).is_err(),
            "an attribute longer than the reply"
        );
        assert_eq!(decode_groups(&[0; 7]), Vec::<u32>::new(), "no whole word");
    }
}
