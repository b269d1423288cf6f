//! `struct tcp_info`, kept compact: one presence mask and plain values.
//!
//! The kernel's struct has grown over the years, so every field after its first 92 bytes
//! (after `reordering`) may be missing on an older kernel, and a saved snapshot says so by leaving it
//! out. As 26 `Option<u32>`/`Option<u64>` fields that cost 8 or 16 bytes each: 384 bytes per TCP
//! socket, 65% of a busy host's sockets (issue 19). Here the optional values are plain integers
//! and one bit each in [`TcpInfo`]'s presence mask says which are there: 240 bytes. Readers take
//! them through accessors returning `Option`; [`TcpInfoWire`], the old struct with its `Option`s,
//! is the serde form (so JSON, schemas and saved files are unchanged) and the way to build one:
//! `TcpInfoWire { rtt: 5, ..Default::default() }.into()`. (Its documentation is the schema's,
//! so it says nothing of the compact form.)
//!
//! Every field is declared once, in [`tcp_info!`]'s invocation below: the compact struct, the wire
//! struct, the conversions, the accessors and the JSON encoder's field list derive from it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// For the documentation's links only (the fields' docs are also the schema's, unchanged).
#[cfg(doc)]
use super::State;

/// Declares [`TcpInfo`] and [`TcpInfoWire`] from one list of fields: `plain` ones (the first 92
/// bytes, in every kernel's struct) are public fields of both; `optional` ones are `Option`s in
/// the wire form and a value plus a presence bit in the compact form.
macro_rules! tcp_info {
    (
        plain {
            $(#[$fmeta:meta])* $first:ident: $fty:ty,
            $( $(#[$pmeta:meta])* $p:ident: $pty:ty, )*
        }
        optional {
            $( $(#[$ometa:meta])* $o:ident: $oty:ty, )*
        }
    ) => {
        /// `struct tcp_info`, as far as the running kernel sent it. Fields the kernel's struct is too
        /// short for are absent. Times are in microseconds (rtt, rto) or milliseconds (last_*), as the
        /// kernel gives them.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename = "TcpInfo")]
        pub struct TcpInfoWire {
            $(#[$fmeta])* pub $first: $fty,
            $( $(#[$pmeta])* pub $p: $pty, )*
            $(
                $(#[$ometa])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $o: Option<$oty>,
            )*
            /// The latest delivery-rate sample was limited by the application, not the network
            /// (`tcpi_delivery_rate_app_limited`; `ss -i` app_limited). Present when the kernel's
            /// struct has `delivery_rate`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub delivery_rate_app_limited: Option<bool>,
        }

        /// A field of `struct tcp_info` by name, in the struct's order: what a projection
        /// ([`TcpFields`]) keeps and [`TcpInfo::get`] reads.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum TcpField {
            $(#[$fmeta])* $first,
            $( $(#[$pmeta])* $p, )*
            $( $(#[$ometa])* $o, )*
        }

        impl TcpField {
            /// Every field, in the struct's order.
            pub const ALL: &'static [TcpField] = &[
                TcpField::$first,
                $( TcpField::$p, )*
                $( TcpField::$o, )*
            ];

            /// The field's name, as the JSON form spells it.
            pub fn name(self) -> &'static str {
                match self {
                    TcpField::$first => stringify!($first),
                    $( TcpField::$p => stringify!($p), )*
                    $( TcpField::$o => stringify!($o), )*
                }
            }
        }

        /// The positions of the optional fields' presence bits.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum Bit {
            $( $o, )*
            /// `delivery_rate_app_limited` is present.
            app_limited_present,
            /// Its value.
            app_limited,
        }

        /// `struct tcp_info`, as far as the running kernel sent it (its documentation and JSON
        /// form are [`TcpInfoWire`]'s). The fields every kernel sends are public; the later ones
        /// are read through accessors of the same name, `None` when the kernel's struct (or the
        /// saved snapshot) did not have them.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(from = "TcpInfoWire", into = "TcpInfoWire")]
        pub struct TcpInfo {
            $(#[$fmeta])* pub $first: $fty,
            $( $(#[$pmeta])* pub $p: $pty, )*
            // Invariant: a value whose bit is clear is 0, so the derived equality is the wire's.
            $( $o: $oty, )*
            /// One bit per optional field (`Bit`): set when it is present.
            present: u32,
        }

        impl TcpInfo {
            $(
                $(#[$ometa])*
                #[inline]
                pub fn $o(&self) -> Option<$oty> {
                    (self.present & (1 << Bit::$o as u32) != 0).then_some(self.$o)
                }
            )*

            /// One numeric field's value, `None` when the kernel's struct did not have it.
            #[inline]
            pub fn get(&self, f: TcpField) -> Option<u64> {
                match f {
                    TcpField::$first => Some(u64::from(self.$first)),
                    $( TcpField::$p => Some(u64::from(self.$p)), )*
                    $( TcpField::$o => self.$o().map(u64::from), )*
                }
            }

            /// The latest delivery-rate sample was limited by the application, not the network
            /// (`tcpi_delivery_rate_app_limited`; `ss -i` app_limited). Present when the kernel's
            /// struct has `delivery_rate`.
            #[inline]
            pub fn delivery_rate_app_limited(&self) -> Option<bool> {
                (self.present & (1 << Bit::app_limited_present as u32) != 0)
                    .then_some(self.present & (1 << Bit::app_limited as u32) != 0)
            }

            /// Calls `f` with each numeric field's JSON key and value, in the JSON's order: every
            /// plain field (the first key opens the object: `{"state":`), then each optional one
            /// that is present (`,"rcv_rtt":`). `delivery_rate_app_limited` is not numeric and is
            /// left to the caller.
            #[inline(always)]
            pub(crate) fn json_numbers(&self, mut f: impl FnMut(&'static [u8], u64)) {
                f(concat!("{\"", stringify!($first), "\":").as_bytes(), u64::from(self.$first));
                $( f(concat!(",\"", stringify!($p), "\":").as_bytes(), u64::from(self.$p)); )*
                $(
                    if self.present & (1 << Bit::$o as u32) != 0 {
                        f(concat!(",\"", stringify!($o), "\":").as_bytes(), u64::from(self.$o));
                    }
                )*
            }
        }

        impl From<TcpInfoWire> for TcpInfo {
            fn from(w: TcpInfoWire) -> TcpInfo {
                let mut present = 0;
                let mut t = TcpInfo {
                    $first: w.$first,
                    $( $p: w.$p, )*
                    $(
                        $o: match w.$o {
                            Some(v) => {
                                present |= 1 << Bit::$o as u32;
                                v
                            }
                            None => 0,
                        },
                    )*
                    present: 0,
                };
                if let Some(v) = w.delivery_rate_app_limited {
                    present |= 1 << Bit::app_limited_present as u32;
                    if v {
                        present |= 1 << Bit::app_limited as u32;
                    }
                }
                t.present = present;
                t
            }
        }

        impl From<&TcpInfo> for TcpInfoWire {
            fn from(t: &TcpInfo) -> TcpInfoWire {
                TcpInfoWire {
                    $first: t.$first,
                    $( $p: t.$p, )*
                    $( $o: t.$o(), )*
                    delivery_rate_app_limited: t.delivery_rate_app_limited(),
                }
            }
        }
    };
}

tcp_info! {
    plain {
        /// The TCP state in the kernel's numbering (as [`State::from_kernel`] takes it).
        state: u8,
        /// Congestion-avoidance state: 0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss.
        ca_state: u8,
        /// Retransmission timeouts in a row, not yet recovered from.
        retransmits: u8,
        /// Zero-window or keepalive probes sent without an answer.
        probes: u8,
        /// Exponential backoff of the retransmission timer (doublings so far).
        backoff: u8,
        /// Negotiated options, `TCPI_OPT_*` bits: 1 timestamps, 2 SACK, 4 window scaling, 8 ECN, 16 ECN
        /// seen, 32 data in SYN (TCP Fast Open).
        options: u8,
        /// Window-scale shift the peer announced: applies to the window it advertises.
        snd_wscale: u8,
        /// Window-scale shift this side announced: applies to the window it advertises.
        rcv_wscale: u8,
        /// Retransmission timeout, µs.
        rto: u32,
        /// Delayed-ACK timeout, µs.
        ato: u32,
        /// Maximum segment size for sending, bytes.
        snd_mss: u32,
        /// Estimated size of the peer's segments, bytes.
        rcv_mss: u32,
        /// Segments sent and not yet acknowledged; for a listener, the connections waiting to be
        /// accepted.
        unacked: u32,
        /// Segments selectively acknowledged; for a listener, the listen() backlog.
        sacked: u32,
        /// Segments presumed lost.
        lost: u32,
        /// Segments retransmitted and not yet acknowledged.
        retrans: u32,
        /// Milliseconds since data was last sent.
        last_data_sent: u32,
        /// Not kept by Linux: always 0.
        last_ack_sent: u32,
        /// Milliseconds since data was last received.
        last_data_recv: u32,
        /// Milliseconds since an acknowledgment was last received.
        last_ack_recv: u32,
        /// Path MTU, bytes.
        pmtu: u32,
        /// Current clamp of the advertised receive window, bytes.
        rcv_ssthresh: u32,
        /// Smoothed round-trip time, µs.
        rtt: u32,
        /// Round-trip time variation (mean deviation), µs.
        rttvar: u32,
        /// Slow-start threshold, segments (2147483647, "infinite", until the first loss).
        snd_ssthresh: u32,
        /// Congestion window, segments.
        snd_cwnd: u32,
        /// Maximum segment size advertised to the peer, bytes.
        advmss: u32,
        /// Reordering the connection tolerates before it assumes a loss, segments.
        reordering: u32,
    }
    optional {
        /// Round-trip time as the receiver estimates it, µs (0 until measured).
        rcv_rtt: u32,
        /// Receive buffer space that auto-tuning aims at, bytes.
        rcv_space: u32,
        /// Segments retransmitted over the connection's life.
        total_retrans: u32,
        /// Pacing rate, bytes per second (`u64::MAX`: unlimited).
        pacing_rate: u64,
        /// SO_MAX_PACING_RATE, bytes per second (`u64::MAX`: not set).
        max_pacing_rate: u64,
        /// Bytes the peer acknowledged (RFC 4898 tcpEStatsAppHCThruOctetsAcked).
        bytes_acked: u64,
        /// Bytes received in order (RFC 4898 tcpEStatsAppHCThruOctetsReceived).
        bytes_received: u64,
        /// Segments sent, retransmissions included.
        segs_out: u32,
        /// Segments received.
        segs_in: u32,
        /// Bytes the application wrote that have not been sent yet.
        notsent_bytes: u32,
        /// Lowest round-trip time seen over the recent window (`net.ipv4.tcp_min_rtt_wlen`), µs.
        min_rtt: u32,
        /// Segments received that carried data.
        data_segs_in: u32,
        /// Segments sent that carried data, retransmissions included.
        data_segs_out: u32,
        /// The latest delivery-rate sample, bytes per second.
        delivery_rate: u64,
        /// Time spent with data in flight, µs.
        busy_time: u64,
        /// Time sending was limited by the peer's receive window, µs.
        rwnd_limited: u64,
        /// Time sending was limited by the send buffer, µs.
        sndbuf_limited: u64,
        /// Data segments delivered to the peer, retransmissions included.
        delivered: u32,
        /// Of `delivered`, those the peer reported as ECN congestion-experienced.
        delivered_ce: u32,
        /// Bytes sent, retransmissions included (RFC 4898 tcpEStatsPerfHCDataOctetsOut).
        bytes_sent: u64,
        /// Bytes retransmitted (RFC 4898 tcpEStatsPerfOctetsRetrans).
        bytes_retrans: u64,
        /// Segments the peer reported as received twice, by D-SACK.
        dsack_dups: u32,
        /// Reordering events seen.
        reord_seen: u32,
        /// Segments received out of order.
        rcv_ooopack: u32,
        /// The window the peer advertises (this side's send window), bytes.
        snd_wnd: u32,
        /// The window this side advertises (its receive window), bytes.
        rcv_wnd: u32,
    }
}

/// A set of [`TcpField`]s: what a run keeps of each socket's `tcp_info` (one bit per field,
/// in the struct's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFields(u64);

impl TcpFields {
    /// No field.
    pub const NONE: TcpFields = TcpFields(0);
    /// Every field, and `delivery_rate_app_limited`: the whole struct, kept as [`TcpInfo`].
    pub const ALL: TcpFields = TcpFields(u64::MAX);

    /// Just `f`.
    pub const fn of(f: TcpField) -> TcpFields {
        TcpFields(1 << f as u32)
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, o: TcpFields) -> TcpFields {
        TcpFields(self.0 | o.0)
    }

    /// Whether `f` is in the set.
    pub const fn has(self, f: TcpField) -> bool {
        self.0 & (1 << f as u32) != 0
    }

    /// Whether every field of `o` is in the set.
    pub const fn covers(self, o: TcpFields) -> bool {
        o.0 & !self.0 == 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the set is the whole struct.
    pub const fn is_all(self) -> bool {
        self.0 == u64::MAX
    }
}

/// The fields of one socket's `tcp_info` a run kept ([`TcpFields`]), when it needed only a few.
/// One field (the default pack reads `bytes_acked` alone) is kept inline, in the 16 bytes the
/// socket has for it: no allocation, where the whole struct is a 256-byte one. More fields take
/// one allocation: the mask of those the kernel sent, then their values in the struct's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpKept(Kept);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kept {
    /// The one field the run kept, which the kernel sent.
    One(TcpField, u64),
    /// `[mask, values...]`; boxed twice so that the enum stays 16 bytes.
    Many(Box<Box<[u64]>>),
}

impl TcpKept {
    /// The fields of `t` in `keep`; `None` when the kernel sent none of them.
    pub fn of(t: &TcpInfo, keep: TcpFields) -> Option<TcpKept> {
        let mut present = TcpField::ALL
            .iter()
            .filter(|&&f| keep.has(f))
            .filter_map(|&f| Some((f, t.get(f)?)));
        let first = present.next()?;
        let Some(second) = present.next() else {
            return Some(TcpKept(Kept::One(first.0, first.1)));
        };
        let mut v = vec![0];
        let mut mask = 0u64;
        for (f, x) in [first, second].into_iter().chain(present) {
            mask |= 1 << f as u32;
            v.push(x);
        }
        v[0] = mask;
        Some(TcpKept(Kept::Many(Box::new(v.into_boxed_slice()))))
    }

    /// One field's value; `None` when the kernel did not send it or the run did not keep it.
    #[inline]
    pub fn get(&self, f: TcpField) -> Option<u64> {
        match &self.0 {
            Kept::One(g, x) => (*g == f).then_some(*x),
            Kept::Many(v) => {
                let mask = v[0];
                let bit = 1u64 << f as u32;
                (mask & bit != 0).then(|| v[1 + (mask & (bit - 1)).count_ones() as usize])
            }
        }
    }
}

impl From<TcpInfo> for TcpInfoWire {
    fn from(t: TcpInfo) -> TcpInfoWire {
        TcpInfoWire::from(&t)
    }
}

// The schema (docs/schema/) is the wire form's: the same name, fields and documentation as
// before the compact form.
impl JsonSchema for TcpInfo {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        TcpInfoWire::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        TcpInfoWire::schema_id()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        TcpInfoWire::json_schema(g)
    }
}

#[cfg(test)]
mod tests;
