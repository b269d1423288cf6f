//! Decoding `inet_diag_msg` replies (TCP, UDP, raw; IPv4 and IPv6) into [`Socket`]s.
//!
//! Pure functions from bytes to values. The header and the attributes are parsed by
//! netlink-packet-sock-diag (built without `rich_nlas`, so tcp_info arrives as raw bytes and is
//! decoded here with length checks: the kernel's struct grows with every release, and older kernels
//! send a shorter one). The timer fields are read from the raw header, because the crate folds
//! the TIME-WAIT expiry and unknown timer kinds away.

use netlink_packet_core::{NlaBuffer, NlasIterator, Parseable};
use netlink_packet_sock_diag::constants::{INET_DIAG_INFO, INET_DIAG_SKMEMINFO};
use netlink_packet_sock_diag::inet::{InetResponseHeader, nlas::Nla};

use super::decode::{DecodeError, Reply};
use super::netlink::SOCK_DIAG_BY_FAMILY;
use super::netlink::decode_skmeminfo;
use crate::model::{
    BbrInfo, Endpoint, Family, Protocol, Socket, State, TcpFields, TcpInfo, TcpInfoWire, TcpKept,
    Timer, TimerKind, congestion_name,
};

const INET_DIAG_CGROUP_ID: u16 = 21;
/// BBR's `struct tcp_bbr_info`, sent when the request asks for INET_DIAG_VEGASINFO (the
/// request's extension byte has no bit for it: the congestion control picks the attribute).
const INET_DIAG_BBRINFO: u16 = 16;
/// `sizeof(struct inet_diag_msg)`: the attributes follow it.
const HEADER_LEN: usize = 72;

/// Decodes one reply payload (everything after the netlink header).
///
/// The header is parsed by the crate's `InetResponseHeader` and the attributes are walked with
/// its `NlasIterator`; tcp_info, skmeminfo and the cgroup id are read straight from the reply
/// buffer (the crate's owned `InetResponse` copies tcp_info into a Vec and spills its attribute
/// list to the heap: ~5 allocations per TCP socket, measured as a tenth of the dump's time at
/// 100k sockets).
pub fn decode_inet(payload: &[u8], protocol: Protocol) -> Result<Socket, DecodeError> {
    decode_inet_keeping(payload, protocol, TcpFields::ALL)
}

/// [`decode_inet`], keeping only the `keep` fields of tcp_info (in `Socket::tcp_kept`, unless
/// `keep` is the whole struct): what a scan's rules read ([`crate::model::Extensions`]).
pub fn decode_inet_keeping(
    payload: &[u8],
    protocol: Protocol,
    keep: TcpFields,
) -> Result<Socket, DecodeError> {
    let family = match payload.first() {
        Some(2) => Family::Inet,
        Some(10) => Family::Inet6,
        Some(&family) => {
            return Err(DecodeError::Family {
                reply: Reply::Inet,
                family,
            });
        }
        None => {
            return Err(DecodeError::Short {
                reply: Reply::Inet,
                len: 0,
                need: HEADER_LEN,
            });
        }
    };
    let h = InetResponseHeader::parse(payload).map_err(|e| DecodeError::Header {
        reply: Reply::Inet,
        reason: e.to_string(),
    })?;
    let mut state = State::from_kernel(h.state).ok_or(DecodeError::State {
        reply: Reply::Inet,
        state: h.state,
    })?;
    // A TCP socket in CLOSE only appears in a dump through the bind hash (state bit 13):
    // it is bound but neither listening nor connected.
    if protocol == Protocol::Tcp && state == State::Close {
        state = State::BoundInactive;
    }
    let id = &h.socket_id;
    let mut s = Socket::new(protocol, family, state, u64::from(h.inode));
    s.local = Some(Endpoint {
        address: id.source_address,
        port: id.source_port,
    });
    s.remote = Some(Endpoint {
        address: id.destination_address,
        port: id.destination_port,
    });
    if id.interface_id != 0 {
        s.ifindex = Some(id.interface_id);
    }
    s.uid = Some(h.uid);
    s.cookie = Some(u64::from_ne_bytes(id.cookie));
    s.recv_q = h.recv_queue;
    s.send_q = h.send_queue;
    s.timer = raw_timer(payload);
    for nla in NlasIterator::new(payload.get(HEADER_LEN..).unwrap_or_default()) {
        let nla = nla.map_err(|e| attribute_error(&e))?;
        attribute(&mut s, &nla, keep)?;
    }
    Ok(s)
}

/// Applies one attribute of an inet_diag reply to the socket.
fn attribute(s: &mut Socket, nla: &NlaBuffer<&[u8]>, keep: TcpFields) -> Result<(), DecodeError> {
    match nla.kind() {
        INET_DIAG_INFO if keep.is_all() => {
            s.tcp_info = decode_tcp_info(nla.value()).map(Box::new);
        }
        INET_DIAG_INFO if !keep.is_empty() => {
            s.tcp_kept = decode_tcp_info(nla.value()).and_then(|t| TcpKept::of(&t, keep));
        }
        INET_DIAG_INFO => {}
        INET_DIAG_SKMEMINFO => s.memory = decode_skmeminfo(nla.value()).map(Box::new),
        INET_DIAG_BBRINFO => s.bbr = decode_bbr_info(nla.value()).map(Box::new),
        INET_DIAG_CGROUP_ID => {
            if let Some(b) = nla.value().get(..8) {
                s.cgroup_id = Some(u64::from_ne_bytes(b.try_into().unwrap()));
            }
        }
        _ => match Nla::parse(nla).map_err(|e| attribute_error(&e))? {
            Nla::Congestion(name) => s.congestion = Some(congestion_name(name)),
            Nla::Shutdown(v) => s.shutdown = Some(v),
            Nla::SkV6Only(v) => s.v6only = Some(v),
            Nla::Mark(v) => s.mark = Some(v),
            _ => {}
        },
    }
    Ok(())
}

fn attribute_error(e: &impl std::fmt::Display) -> DecodeError {
    DecodeError::Attribute {
        reply: Reply::Inet,
        reason: e.to_string(),
    }
}

/// Decodes a recorded dump: concatenated netlink messages as `ss -D` writes them (several
/// batches, each closed by NLMSG_DONE). Returns the sockets and the number of undecodable replies.
pub fn decode_inet_dump(buf: &[u8], protocol: Protocol) -> (Vec<Socket>, u64) {
    let mut out = Vec::new();
    let mut bad = 0;
    for frame in super::netlink::frames(buf) {
        match frame {
            Ok(f) if f.kind == SOCK_DIAG_BY_FAMILY => match decode_inet(f.payload, protocol) {
                Ok(s) => out.push(s),
                Err(_) => bad += 1,
            },
            Ok(_) => {}
            Err(_) => {
                bad += 1;
                break;
            }
        }
    }
    (out, bad)
}

/// Decodes `struct tcp_bbr_info` (include/uapi/linux/inet_diag.h: bw_lo, bw_hi, min_rtt,
/// pacing_gain, cwnd_gain, five u32). As `ss`, a shorter attribute is read as if zero-filled;
/// one without the bandwidth is none.
pub fn decode_bbr_info(b: &[u8]) -> Option<BbrInfo> {
    if b.len() < 8 {
        return None;
    }
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map_or(0, |x| u32::from_ne_bytes(x.try_into().unwrap()))
    };
    Some(BbrInfo {
        bw: u64::from(u32_at(4)) << 32 | u64::from(u32_at(0)),
        min_rtt: u32_at(8),
        pacing_gain: u32_at(12),
        cwnd_gain: u32_at(16),
    })
}

/// `idiag_timer`, `idiag_retrans` and `idiag_expires` straight from the 72-byte header.
fn raw_timer(payload: &[u8]) -> Option<Timer> {
    let kind = *payload.get(2)?;
    if kind == 0 {
        return None;
    }
    let retrans = *payload.get(3)?;
    let expires_ms = u32::from_ne_bytes(payload.get(52..56)?.try_into().ok()?);
    let kind = TimerKind::from_kernel(kind)?;
    Some(Timer {
        kind,
        expires_ms,
        retrans,
    })
}

/// Decodes `struct tcp_info` (include/uapi/linux/tcp.h) from however many bytes the kernel sent.
/// The first 104 bytes have existed since Linux 2.6; later fields are kept only when present.
pub fn decode_tcp_info(b: &[u8]) -> Option<TcpInfo> {
    let u8_at = |o: usize| b.get(o).copied();
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|x| u32::from_ne_bytes(x.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .map(|x| u64::from_ne_bytes(x.try_into().unwrap()))
    };
    if b.len() < 92 {
        return None;
    }
    let wscale = u8_at(6)?;
    let wire = TcpInfoWire {
        state: u8_at(0)?,
        ca_state: u8_at(1)?,
        retransmits: u8_at(2)?,
        probes: u8_at(3)?,
        backoff: u8_at(4)?,
        options: u8_at(5)?,
        snd_wscale: wscale & 0x0f,
        rcv_wscale: wscale >> 4,
        rto: u32_at(8)?,
        ato: u32_at(12)?,
        snd_mss: u32_at(16)?,
        rcv_mss: u32_at(20)?,
        unacked: u32_at(24)?,
        sacked: u32_at(28)?,
        lost: u32_at(32)?,
        retrans: u32_at(36)?,
        last_data_sent: u32_at(44)?,
        last_ack_sent: u32_at(48)?,
        last_data_recv: u32_at(52)?,
        last_ack_recv: u32_at(56)?,
        pmtu: u32_at(60)?,
        rcv_ssthresh: u32_at(64)?,
        rtt: u32_at(68)?,
        rttvar: u32_at(72)?,
        snd_ssthresh: u32_at(76)?,
        snd_cwnd: u32_at(80)?,
        advmss: u32_at(84)?,
        reordering: u32_at(88)?,
        rcv_rtt: u32_at(92),
        rcv_space: u32_at(96),
        total_retrans: u32_at(100),
        pacing_rate: u64_at(104),
        max_pacing_rate: u64_at(112),
        bytes_acked: u64_at(120),
        bytes_received: u64_at(128),
        segs_out: u32_at(136),
        segs_in: u32_at(140),
        notsent_bytes: u32_at(144),
        min_rtt: u32_at(148),
        data_segs_in: u32_at(152),
        data_segs_out: u32_at(156),
        delivery_rate: u64_at(160),
        busy_time: u64_at(168),
        rwnd_limited: u64_at(176),
        sndbuf_limited: u64_at(184),
        delivered: u32_at(192),
        delivered_ce: u32_at(196),
        bytes_sent: u64_at(200),
        bytes_retrans: u64_at(208),
        dsack_dups: u32_at(216),
        reord_seen: u32_at(220),
        rcv_ooopack: u32_at(224),
        snd_wnd: u32_at(228),
        rcv_wnd: u32_at(232),
        // A bit field after the window scales, in the byte at 7 since the kernel that added
        // delivery_rate (4.9).
        delivery_rate_app_limited: (b.len() >= 168).then(|| b[7] & 1 != 0),
    };
    Some(wire.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_info_short_struct_keeps_what_exists() {
        let mut b = vec![0u8; 104];
        b[0] = 1;
        b[6] = 0x79; // rcv_wscale 7, snd_wscale 9
        b[68..72].copy_from_slice(&1234u32.to_ne_bytes());
        b[80..84].copy_from_slice(&10u32.to_ne_bytes());
        let t = decode_tcp_info(&b).unwrap();
        assert_eq!(t.state, 1);
        assert_eq!((t.snd_wscale, t.rcv_wscale), (9, 7));
        assert_eq!(t.rtt, 1234);
        assert_eq!(t.snd_cwnd, 10);
        assert_eq!(t.total_retrans(), Some(0));
        assert_eq!(t.bytes_acked(), None);
        assert_eq!(t.snd_wnd(), None);
        assert!(decode_tcp_info(&b[..60]).is_none());
    }

    #[test]
    fn tcp_info_full_struct() {
        let mut b = vec![0u8; 280];
        b[120..128].copy_from_slice(&1001u64.to_ne_bytes());
        b[128..136].copy_from_slice(&77u64.to_ne_bytes());
        b[200..208].copy_from_slice(&5000u64.to_ne_bytes());
        b[228..232].copy_from_slice(&65535u32.to_ne_bytes());
        let t = decode_tcp_info(&b).unwrap();
        assert_eq!(t.bytes_acked(), Some(1001));
        assert_eq!(t.bytes_received(), Some(77));
        assert_eq!(t.bytes_sent(), Some(5000));
        assert_eq!(t.snd_wnd(), Some(65535));
    }

    /// A hand-built INET_DIAG_BBRINFO attribute, little-endian: bw_lo 0x21c0d18c (566,284,684
    /// bytes/s), bw_hi 0, min_rtt 12 µs, both gains 739/256 (`ss -ti` would print
    /// `bbr:(bw:4.53Gbps,mrtt:0.012,pacing_gain:2.88672,cwnd_gain:2.88672)`).
    #[test]
    fn bbr_info_from_recorded_bytes() {
        let attr: [u8; 20] = [
            0x8c, 0xd1, 0xc0, 0x21, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0xe3, 0x02,
            0x00, 0x00, 0xe3, 0x02, 0x00, 0x00,
        ];
        let b = decode_bbr_info(&attr).unwrap();
        assert_eq!(b.bw, 0x21c0_d18c);
        assert_eq!((b.min_rtt, b.pacing_gain, b.cwnd_gain), (12, 739, 739));
        let mut hi = attr;
        hi[4] = 1;
        assert_eq!(decode_bbr_info(&hi).unwrap().bw, (1 << 32) | 0x21c0_d18c);
        let short = decode_bbr_info(&attr[..12]).unwrap();
        assert_eq!(
            (short.min_rtt, short.pacing_gain),
            (12, 0),
            "zero-filled as ss"
        );
        assert!(decode_bbr_info(&attr[..7]).is_none());
        // Through the reply decoder: the attribute after a 72-byte header.
        let mut reply = vec![0u8; HEADER_LEN];
        reply[0] = 2;
        reply[1] = 1;
        reply.extend_from_slice(&24u16.to_ne_bytes());
        reply.extend_from_slice(&INET_DIAG_BBRINFO.to_ne_bytes());
        reply.extend_from_slice(&attr);
        let s = decode_inet(&reply, Protocol::Tcp).unwrap();
        assert_eq!(s.bbr.as_deref(), Some(&b));
    }

    /// A TCP reply with the attributes `want` asks the kernel for, every tcp_info byte and
    /// memory counter distinct and non-zero, the congestion control `cubic`.
    fn reply_for(want: crate::model::Extensions) -> Vec<u8> {
        let mut reply = vec![0u8; HEADER_LEN];
        reply[0] = 2;
        reply[1] = 1;
        let mut attr = |kind: u16, value: &[u8]| {
            reply.extend_from_slice(&(4 + value.len() as u16).to_ne_bytes());
            reply.extend_from_slice(&kind.to_ne_bytes());
            reply.extend_from_slice(value);
            reply.resize(reply.len().next_multiple_of(4), 0);
        };
        if !want.tcp.is_empty() {
            let info: Vec<u8> = (0..236u32).map(|i| (i * 7 % 251 + 1) as u8).collect();
            attr(INET_DIAG_INFO, &info);
        }
        if want.memory {
            let mem: Vec<u8> = (1..=9u32).flat_map(|i| (i * 1000).to_ne_bytes()).collect();
            attr(INET_DIAG_SKMEMINFO, &mem);
        }
        if want.congestion {
            attr(4, b"cubic\0"); // INET_DIAG_CONG
        }
        reply
    }

    /// Issue 19: a run collects what its rules read, each field's `needs` in the registry. For
    /// every rule field, the reply the kernel sends for that field's needs alone, decoded
    /// keeping those tcp_info fields, gives the value the whole reply gives: a field whose
    /// `needs` misses what its getter reads would see "absent" here, and fail.
    #[test]
    fn every_rule_field_reads_what_its_needs_collect() {
        use crate::model::Extensions;
        use crate::rules::fields::{self, Subject, Value};
        fn subject(s: &Socket) -> Subject<'_> {
            Subject {
                socket: s,
                owner: None,
                process: None,
                parent: None,
                ephemeral: (32768, 60999),
                netns: None,
                world: None,
            }
        }
        let whole = decode_inet(&reply_for(Extensions::ALL), Protocol::Tcp).unwrap();
        assert!(whole.tcp_info.is_some() && whole.memory.is_some());
        let mut extension_fields = 0;
        for f in fields::all() {
            let part =
                decode_inet_keeping(&reply_for(f.needs), Protocol::Tcp, f.needs.tcp).unwrap();
            let want = (f.get)(&subject(&whole));
            assert_eq!((f.get)(&subject(&part)), want, "{}", f.name);
            if !f.needs.is_none() {
                extension_fields += 1;
                assert_ne!(
                    want,
                    Value::Missing,
                    "{}: the test gives it a value",
                    f.name
                );
                assert!(part.tcp_info.is_none(), "{}: only the kept fields", f.name);
            }
        }
        assert!(extension_fields >= 16, "{extension_fields}");
        // Nothing asked: nothing decoded, nothing kept.
        let none =
            decode_inet_keeping(&reply_for(Extensions::NONE), Protocol::Tcp, TcpFields::NONE)
                .unwrap();
        assert!(none.tcp_kept.is_none() && none.memory.is_none() && none.congestion.is_none());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for len in 0..80 {
            let b = vec![2u8; len];
            let _ = decode_inet(&b, Protocol::Tcp);
        }
        assert!(decode_inet(&[2, 10, 0, 0], Protocol::Tcp).is_err());
    }
}
