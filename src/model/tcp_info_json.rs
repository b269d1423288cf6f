//! The JSON of `tcp_info`, written by hand.
//!
//! A TCP socket's tcp_info is 28 to 54 numbers; through serde's field-by-field path they were
//! most of the 100 MB a 100k-socket snapshot writes, and the single largest cost after the
//! kernel's own work (docs/PERFORMANCE.md). Here the object is formatted directly (static keys,
//! itoa) and handed to serde_json as a raw value, so the bytes are exactly what the derived
//! serializer wrote (same keys, same order, absent fields skipped; a test checks it), in a
//! fraction of the time. Reading still goes through the derived `Deserialize`.

use serde::ser::{Serialize, Serializer};

use super::TcpInfo;

fn num<N: itoa::Integer>(o: &mut String, key: &str, v: N) {
    o.push_str(key);
    o.push_str(itoa::Buffer::new().format(v));
}

impl TcpInfo {
    /// The compact JSON object.
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(1024);
        num(&mut o, "{\"state\":", self.state);
        num(&mut o, ",\"ca_state\":", self.ca_state);
        num(&mut o, ",\"retransmits\":", self.retransmits);
        num(&mut o, ",\"probes\":", self.probes);
        num(&mut o, ",\"backoff\":", self.backoff);
        num(&mut o, ",\"options\":", self.options);
        num(&mut o, ",\"snd_wscale\":", self.snd_wscale);
        num(&mut o, ",\"rcv_wscale\":", self.rcv_wscale);
        num(&mut o, ",\"rto\":", self.rto);
        num(&mut o, ",\"ato\":", self.ato);
        num(&mut o, ",\"snd_mss\":", self.snd_mss);
        num(&mut o, ",\"rcv_mss\":", self.rcv_mss);
        num(&mut o, ",\"unacked\":", self.unacked);
        num(&mut o, ",\"sacked\":", self.sacked);
        num(&mut o, ",\"lost\":", self.lost);
        num(&mut o, ",\"retrans\":", self.retrans);
        num(&mut o, ",\"last_data_sent\":", self.last_data_sent);
        num(&mut o, ",\"last_ack_sent\":", self.last_ack_sent);
        num(&mut o, ",\"last_data_recv\":", self.last_data_recv);
        num(&mut o, ",\"last_ack_recv\":", self.last_ack_recv);
        num(&mut o, ",\"pmtu\":", self.pmtu);
        num(&mut o, ",\"rcv_ssthresh\":", self.rcv_ssthresh);
        num(&mut o, ",\"rtt\":", self.rtt);
        num(&mut o, ",\"rttvar\":", self.rttvar);
        num(&mut o, ",\"snd_ssthresh\":", self.snd_ssthresh);
        num(&mut o, ",\"snd_cwnd\":", self.snd_cwnd);
        num(&mut o, ",\"advmss\":", self.advmss);
        num(&mut o, ",\"reordering\":", self.reordering);
        if let Some(v) = self.rcv_rtt {
            num(&mut o, ",\"rcv_rtt\":", v);
        }
        if let Some(v) = self.rcv_space {
            num(&mut o, ",\"rcv_space\":", v);
        }
        if let Some(v) = self.total_retrans {
            num(&mut o, ",\"total_retrans\":", v);
        }
        if let Some(v) = self.pacing_rate {
            num(&mut o, ",\"pacing_rate\":", v);
        }
        if let Some(v) = self.max_pacing_rate {
            num(&mut o, ",\"max_pacing_rate\":", v);
        }
        if let Some(v) = self.bytes_acked {
            num(&mut o, ",\"bytes_acked\":", v);
        }
        if let Some(v) = self.bytes_received {
            num(&mut o, ",\"bytes_received\":", v);
        }
        if let Some(v) = self.segs_out {
            num(&mut o, ",\"segs_out\":", v);
        }
        if let Some(v) = self.segs_in {
            num(&mut o, ",\"segs_in\":", v);
        }
        if let Some(v) = self.notsent_bytes {
            num(&mut o, ",\"notsent_bytes\":", v);
        }
        if let Some(v) = self.min_rtt {
            num(&mut o, ",\"min_rtt\":", v);
        }
        if let Some(v) = self.data_segs_in {
            num(&mut o, ",\"data_segs_in\":", v);
        }
        if let Some(v) = self.data_segs_out {
            num(&mut o, ",\"data_segs_out\":", v);
        }
        if let Some(v) = self.delivery_rate {
            num(&mut o, ",\"delivery_rate\":", v);
        }
        if let Some(v) = self.busy_time {
            num(&mut o, ",\"busy_time\":", v);
        }
        if let Some(v) = self.rwnd_limited {
            num(&mut o, ",\"rwnd_limited\":", v);
        }
        if let Some(v) = self.sndbuf_limited {
            num(&mut o, ",\"sndbuf_limited\":", v);
        }
        if let Some(v) = self.delivered {
            num(&mut o, ",\"delivered\":", v);
        }
        if let Some(v) = self.delivered_ce {
            num(&mut o, ",\"delivered_ce\":", v);
        }
        if let Some(v) = self.bytes_sent {
            num(&mut o, ",\"bytes_sent\":", v);
        }
        if let Some(v) = self.bytes_retrans {
            num(&mut o, ",\"bytes_retrans\":", v);
        }
        if let Some(v) = self.dsack_dups {
            num(&mut o, ",\"dsack_dups\":", v);
        }
        if let Some(v) = self.reord_seen {
            num(&mut o, ",\"reord_seen\":", v);
        }
        if let Some(v) = self.rcv_ooopack {
            num(&mut o, ",\"rcv_ooopack\":", v);
        }
        if let Some(v) = self.snd_wnd {
            num(&mut o, ",\"snd_wnd\":", v);
        }
        if let Some(v) = self.rcv_wnd {
            num(&mut o, ",\"rcv_wnd\":", v);
        }
        o.push('}');
        o
    }
}

impl Serialize for TcpInfo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_json())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_json_round_trips_and_matches_field_order() {
        let full = TcpInfo {
            state: 1,
            rtt: 1234,
            snd_cwnd: 10,
            reordering: 3,
            rcv_rtt: Some(7),
            pacing_rate: Some(u64::MAX),
            bytes_acked: Some(1001),
            snd_wnd: Some(65535),
            rcv_wnd: Some(1),
            ..TcpInfo::default()
        };
        let short = TcpInfo {
            state: 10,
            ..TcpInfo::default()
        };
        for t in [full, short] {
            let text = t.to_json();
            let back: TcpInfo = serde_json::from_str(&text).unwrap();
            assert_eq!(back, t, "{text}");
            // Keys in declaration order, absent options left out.
            let pos = |k: &str| text.find(&format!("\"{k}\":"));
            let order = ["state", "ca_state", "rto", "rtt", "snd_cwnd", "reordering"];
            let at: Vec<usize> = order.iter().map(|k| pos(k).unwrap()).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
            assert_eq!(pos("bytes_sent"), None);
            // Inside a larger document it is written verbatim.
            let doc = serde_json::to_string(&vec![&t]).unwrap();
            assert_eq!(doc, format!("[{text}]"));
        }
        let text = TcpInfo::default().to_json();
        assert!(text.starts_with("{\"state\":0,\"ca_state\":0,"), "{text}");
        assert!(text.ends_with("\"reordering\":0}"), "{text}");
    }
}
