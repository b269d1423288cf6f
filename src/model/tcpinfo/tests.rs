use super::*;

/// Every optional field set to a distinct value, the plain ones too.
fn full_wire() -> TcpInfoWire {
    let mut v = serde_json::to_value(TcpInfoWire::default()).unwrap();
    let keys = [
        "rcv_rtt",
        "rcv_space",
        "total_retrans",
        "pacing_rate",
        "max_pacing_rate",
        "bytes_acked",
        "bytes_received",
        "segs_out",
        "segs_in",
        "notsent_bytes",
        "min_rtt",
        "data_segs_in",
        "data_segs_out",
        "delivery_rate",
        "busy_time",
        "rwnd_limited",
        "sndbuf_limited",
        "delivered",
        "delivered_ce",
        "bytes_sent",
        "bytes_retrans",
        "dsack_dups",
        "reord_seen",
        "rcv_ooopack",
        "snd_wnd",
        "rcv_wnd",
    ];
    for (i, k) in keys.iter().enumerate() {
        v[*k] = (1000 + i as u64).into();
    }
    v["delivery_rate_app_limited"] = true.into();
    v["rtt"] = 77.into();
    let w: TcpInfoWire = serde_json::from_value(v).unwrap();
    assert_eq!(w.rcv_wnd, Some(1025), "every optional field set");
    w
}

/// The compact form holds exactly what the wire form holds: each optional field absent in
/// turn (a value of 0 present is not the same as absent), and back.
#[test]
fn compact_and_wire_forms_hold_the_same_values() {
    let full = full_wire();
    assert_eq!(TcpInfoWire::from(TcpInfo::from(full.clone())), full);
    let keys: Vec<String> = serde_json::to_value(&full)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for k in keys {
        let mut v = serde_json::to_value(&full).unwrap();
        for value in [serde_json::Value::Null, 0.into()] {
            if value.is_null() {
                v.as_object_mut().unwrap().remove(&k);
            } else if k == "delivery_rate_app_limited" {
                v[&k] = false.into();
            } else {
                v[&k] = value;
            }
            let Ok(w) = serde_json::from_value::<TcpInfoWire>(v.clone()) else {
                continue; // a plain field cannot be absent
            };
            let t = TcpInfo::from(w.clone());
            assert_eq!(TcpInfoWire::from(&t), w, "{k}");
            // serde goes through the wire form: the same JSON, and the same value read back.
            assert_eq!(serde_json::to_value(&t).unwrap(), v, "{k}");
            assert_eq!(serde_json::from_value::<TcpInfo>(v.clone()).unwrap(), t);
            if w != full {
                assert_ne!(t, TcpInfo::from(full.clone()), "{k} changed");
            }
        }
    }
    let t = TcpInfo::from(full);
    assert_eq!(t.rcv_rtt(), Some(1000));
    assert_eq!(t.rcv_wnd(), Some(1025));
    assert_eq!(t.delivery_rate_app_limited(), Some(true));
    let empty = TcpInfo::default();
    assert_eq!(
        (empty.rcv_rtt(), empty.delivery_rate_app_limited()),
        (None, None)
    );
}

/// A saved snapshot's unknown key is still refused, under the old name.
#[test]
fn unknown_fields_are_refused_as_before() {
    let e = serde_json::from_str::<TcpInfo>(r#"{"state":1,"nope":2}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `nope`"), "{e}");
    let e = serde_json::from_str::<TcpInfo>("[]").unwrap_err();
    assert!(e.to_string().contains("struct TcpInfo"), "{e}");
}

/// The size that issue 19 brought it to: 26 optional values as plain integers and one presence
/// mask, 240 bytes (the `Option` fields were 384). A field added later must not grow it past
/// the bound unnoticed.
/// The kept form answers as the whole struct for the fields it keeps, `None` for the others
/// and for those the kernel did not send.
#[test]
fn kept_fields_read_as_the_whole_struct() {
    let wire = TcpInfoWire {
        rtt: 1234,
        snd_cwnd: 10,
        retransmits: 3,
        bytes_acked: Some(1 << 40),
        segs_out: Some(77),
        last_data_recv: 9,
        ..TcpInfoWire::default()
    };
    let t = TcpInfo::from(wire);
    let keep = [
        TcpField::rtt,
        TcpField::bytes_acked,
        TcpField::segs_out,
        TcpField::bytes_sent,
        TcpField::rcv_wnd,
    ];
    let set = keep
        .iter()
        .fold(TcpFields::NONE, |s, &f| s.union(TcpFields::of(f)));
    let k = TcpKept::of(&t, set).unwrap();
    for &f in TcpField::ALL {
        let want = if set.has(f) { t.get(f) } else { None };
        assert_eq!(k.get(f), want, "{}", f.name());
    }
    assert_eq!(k.get(TcpField::bytes_acked), Some(1 << 40));
    assert_eq!(k.get(TcpField::bytes_sent), None, "not sent by the kernel");
    assert_eq!(k.get(TcpField::snd_cwnd), None, "not kept");
    // Every field kept: the same answers as the struct.
    let all = TcpKept::of(&t, TcpFields::ALL).unwrap();
    for &f in TcpField::ALL {
        assert_eq!(all.get(f), t.get(f), "{}", f.name());
    }
    // One field, inline: itself, and nothing else.
    let one = TcpKept::of(&t, TcpFields::of(TcpField::bytes_acked)).unwrap();
    for &f in TcpField::ALL {
        let want = (f == TcpField::bytes_acked).then_some(1 << 40);
        assert_eq!(one.get(f), want, "{}", f.name());
    }
    // Kept fields the kernel did not send: nothing to keep.
    assert_eq!(TcpKept::of(&t, TcpFields::of(TcpField::bytes_sent)), None);
    assert_eq!(TcpField::ALL.len(), 54);
}

#[test]
fn tcp_info_stays_compact() {
    assert!(
        std::mem::size_of::<TcpInfo>() <= 240,
        "{}",
        std::mem::size_of::<TcpInfo>()
    );
}
