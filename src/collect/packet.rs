//! AF_PACKET sockets through packet_diag, which netlink-packet-sock-diag does not cover.
//!
//! The request (`struct packet_diag_req`, 20 bytes) and reply (`struct packet_diag_msg` plus
//! PACKET_DIAG_* attributes) come from include/uapi/linux/packet_diag.h. The attached classic BPF
//! program (PACKET_DIAG_FILTER) is what makes BPFDoor-style backdoors visible. Without
//! CAP_NET_ADMIN the kernel sends an empty filter for every socket, so "no program" cannot be told
//! from "withheld" then: the snapshot's `privileged` flag says which.

use netlink_packet_core::NlasIterator;

use super::decode::{DecodeError, Reply};
use super::netlink::decode_skmeminfo;
use crate::model::{BpfInsn, Family, PacketInfo, PacketRing, Protocol, Socket, State};

const AF_PACKET: u8 = 17;
const PACKET_SHOW_INFO: u32 = 0x01;
const PACKET_SHOW_MCLIST: u32 = 0x02;
const PACKET_SHOW_RING_CFG: u32 = 0x04;
const PACKET_SHOW_FANOUT: u32 = 0x08;
const PACKET_SHOW_MEMINFO: u32 = 0x10;
const PACKET_SHOW_FILTER: u32 = 0x20;

const PACKET_DIAG_INFO: u16 = 0;
const PACKET_DIAG_RX_RING: u16 = 2;
const PACKET_DIAG_TX_RING: u16 = 3;
const PACKET_DIAG_FANOUT: u16 = 4;
const PACKET_DIAG_UID: u16 = 5;
const PACKET_DIAG_MEMINFO: u16 = 6;
const PACKET_DIAG_FILTER: u16 = 7;

/// The body of a dump request for every packet socket, with every attribute.
pub fn request() -> Vec<u8> {
    let show = PACKET_SHOW_INFO
        | PACKET_SHOW_MCLIST
        | PACKET_SHOW_RING_CFG
        | PACKET_SHOW_FANOUT
        | PACKET_SHOW_MEMINFO
        | PACKET_SHOW_FILTER;
    let mut b = Vec::with_capacity(20);
    b.push(AF_PACKET); // sdiag_family
    b.push(0); // sdiag_protocol: must be 0
    b.extend_from_slice(&0u16.to_ne_bytes()); // pad
    b.extend_from_slice(&0u32.to_ne_bytes()); // pdiag_ino: all
    b.extend_from_slice(&show.to_ne_bytes()); // pdiag_show
    b.extend_from_slice(&[0xff; 8]); // pdiag_cookie: INET_DIAG_NOCOOKIE
    b
}

/// Decodes one `packet_diag_msg` reply.
pub fn decode_packet(payload: &[u8]) -> Result<Socket, DecodeError> {
    if payload.len() < 16 {
        return Err(DecodeError::Short {
            reply: Reply::Packet,
            len: payload.len(),
            need: 16,
        });
    }
    if payload[0] != AF_PACKET {
        return Err(DecodeError::Family {
            reply: Reply::Packet,
            family: payload[0],
        });
    }
    let protocol = match payload[1] {
        3 => Protocol::PacketRaw,   // SOCK_RAW
        2 => Protocol::PacketDgram, // SOCK_DGRAM
        kind => {
            return Err(DecodeError::SocketType {
                reply: Reply::Packet,
                kind,
            });
        }
    };
    let ethertype = u16::from_ne_bytes([payload[2], payload[3]]);
    let inode = u32::from_ne_bytes(payload[4..8].try_into().unwrap());
    let cookie = u64::from_ne_bytes(payload[8..16].try_into().unwrap());
    let mut s = Socket::new(protocol, Family::Packet, State::Close, u64::from(inode));
    s.cookie = Some(cookie);
    let mut info = PacketInfo {
        ethertype,
        version: None,
        copy_thresh: None,
        flags: None,
        rx_ring: None,
        tx_ring: None,
        fanout: None,
        bpf: None,
    };
    for nla in NlasIterator::new(&payload[16..]) {
        let nla = nla.map_err(|e| DecodeError::Attribute {
            reply: Reply::Packet,
            reason: e.to_string(),
        })?;
        let v = nla.value();
        let u32_at = |o: usize| {
            v.get(o..o + 4)
                .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
        };
        match nla.kind() {
            PACKET_DIAG_INFO => {
                // struct packet_diag_info { index, version, reserve, copy_thresh, tstamp, flags }
                if let Some(ifindex) = u32_at(0).filter(|&i| i != 0) {
                    s.ifindex = Some(ifindex);
                }
                info.version = u32_at(4);
                info.copy_thresh = u32_at(12);
                info.flags = u32_at(20);
            }
            PACKET_DIAG_RX_RING => info.rx_ring = decode_ring(v),
            PACKET_DIAG_TX_RING => info.tx_ring = decode_ring(v),
            PACKET_DIAG_FANOUT => info.fanout = u32_at(0),
            PACKET_DIAG_UID => s.uid = u32_at(0),
            PACKET_DIAG_MEMINFO => {
                s.memory = decode_skmeminfo(v).map(Box::new);
                // As ss does: Recv-Q is the receive memory in use, Send-Q is 0.
                if let Some(m) = &s.memory {
                    s.recv_q = m.rmem_alloc;
                }
            }
            PACKET_DIAG_FILTER => {
                let prog = decode_bpf(v)?;
                if !prog.is_empty() {
                    info.bpf = Some(prog);
                }
            }
            _ => {}
        }
    }
    s.packet = Some(Box::new(info));
    Ok(s)
}

/// `struct packet_diag_ring`: seven u32 (block size and count, frame size and count, retire
/// timeout, private size, features); none when the attribute is shorter.
fn decode_ring(v: &[u8]) -> Option<PacketRing> {
    let mut f = [0u32; 7];
    for (i, x) in f.iter_mut().enumerate() {
        *x = u32::from_ne_bytes(v.get(i * 4..i * 4 + 4)?.try_into().ok()?);
    }
    let [
        block_size,
        block_nr,
        frame_size,
        frame_nr,
        retire_tmo,
        sizeof_priv,
        features,
    ] = f;
    Some(PacketRing {
        block_size,
        block_nr,
        frame_size,
        frame_nr,
        retire_tmo,
        sizeof_priv,
        features,
    })
}

/// `struct sock_filter[]`: { u16 code; u8 jt; u8 jf; u32 k } per instruction.
pub fn decode_bpf(v: &[u8]) -> Result<Vec<BpfInsn>, DecodeError> {
    if !v.len().is_multiple_of(8) {
        return Err(DecodeError::Filter { len: v.len() });
    }
    Ok(v.chunks_exact(8)
        .map(|c| BpfInsn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes(c[4..8].try_into().unwrap()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn request_is_20_bytes() {
        // A 16-byte request gets EINVAL from the kernel (research/crates.md).
        assert_eq!(request().len(), 20);
        assert_eq!(request()[0], 17);
    }

    /// The BPFDoor-like program from the lab (ss -0b printed
    /// `0x28 0 0 12, 0x15 0 3 2048, 0x30 0 0 23, 0x15 0 1 17, 0x06 0 0 262144, 0x06 0 0 0`).
    #[test]
    fn raw_socket_with_bpf_filter() {
        let mut p = vec![17, 3];
        p.extend_from_slice(&0x0800u16.to_ne_bytes());
        p.extend_from_slice(&164811u32.to_ne_bytes());
        p.extend_from_slice(&0x7783u64.to_ne_bytes());
        let mut info = Vec::new();
        for x in [2u32, 0, 0, 128, 0, 1] {
            info.extend_from_slice(&x.to_ne_bytes());
        }
        p.extend(nla(0, &info));
        let mut ring = Vec::new();
        for x in [4096u32, 1, 2048, 2, 0, 0, 0] {
            ring.extend_from_slice(&x.to_ne_bytes());
        }
        p.extend(nla(2, &ring));
        p.extend(nla(3, &ring[..24]));
        p.extend(nla(5, &0u32.to_ne_bytes()));
        let prog: [(u16, u8, u8, u32); 6] = [
            (0x28, 0, 0, 12),
            (0x15, 0, 3, 2048),
            (0x30, 0, 0, 23),
            (0x15, 0, 1, 17),
            (0x06, 0, 0, 262144),
            (0x06, 0, 0, 0),
        ];
        let mut f = Vec::new();
        for (code, jt, jf, k) in prog {
            f.extend_from_slice(&code.to_ne_bytes());
            f.push(jt);
            f.push(jf);
            f.extend_from_slice(&k.to_ne_bytes());
        }
        p.extend(nla(7, &f));
        let s = decode_packet(&p).unwrap();
        assert_eq!(s.protocol, Protocol::PacketRaw);
        assert_eq!(s.inode, 164811);
        assert_eq!(s.cookie, Some(0x7783));
        assert_eq!(s.ifindex, Some(2));
        assert_eq!(s.uid, Some(0));
        let pk = s.packet.unwrap();
        assert_eq!(pk.ethertype, 0x0800);
        assert_eq!(pk.flags, Some(1));
        assert_eq!(pk.copy_thresh, Some(128));
        let rx = pk.rx_ring.unwrap();
        assert_eq!(
            (rx.block_size, rx.block_nr, rx.frame_size, rx.frame_nr),
            (4096, 1, 2048, 2)
        );
        assert_eq!(pk.tx_ring, None, "a short ring attribute is none");
        let bpf = pk.bpf.unwrap();
        assert_eq!(bpf.len(), 6);
        assert_eq!(
            bpf[1],
            BpfInsn {
                code: 0x15,
                jt: 0,
                jf: 3,
                k: 2048
            }
        );
    }

    #[test]
    fn empty_filter_means_none_and_bad_input_errors() {
        let mut p = vec![17, 2, 3, 0];
        p.extend_from_slice(&[0; 12]);
        p.extend(nla(7, &[]));
        let s = decode_packet(&p).unwrap();
        assert_eq!(s.protocol, Protocol::PacketDgram);
        assert_eq!(s.packet.unwrap().bpf, None);
        assert!(decode_packet(&p[..10]).is_err());
        assert!(decode_bpf(&[0; 7]).is_err());
        let mut bad = p.clone();
        bad[1] = 1;
        assert!(decode_packet(&bad).is_err());
    }
}
