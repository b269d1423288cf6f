//! `ss`-style filter words: the whole input as `list` trailing words (state words, then an
//! expression), tokenized, parsed under both preferred families, and through
//! `Selection::parse_with`. Name lookups answer from fixed tables: fuzzing must not send a host
//! name to the system resolver (DNS) or depend on the machine's /etc/services.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use sockwarden::list::filter::{self, Ctx, lookup::Lookup};
use sockwarden::list::{ListOptions, Selection, Selector};

/// Offline answers: two services, one host, one device.
struct Offline;

impl Lookup for Offline {
    fn service(&self, name: &str, _proto: &str) -> Option<u16> {
        match name {
            "ssh" => Some(22),
            "http" => Some(80),
            _ => None,
        }
    }
    fn hosts(&self, name: &str) -> Vec<IpAddr> {
        match name {
            "localhost" => vec![IpAddr::from([127, 0, 0, 1]), "::1".parse().unwrap()],
            _ => Vec::new(),
        }
    }
    fn device(&self, name: &str) -> Option<u32> {
        (name == "lo").then_some(1)
    }
    fn port_range(&self) -> (u16, u16) {
        (32768, 60999)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<String> = text.split_whitespace().map(String::from).collect();
    let tokens = filter::tokenize(&words);
    for tcp in [false, true] {
        let ctx = Ctx {
            preferred: None,
            tcp,
            udp: !tcp,
            lookup: &Offline,
        };
        let _ = filter::parse(&tokens, &ctx);
    }
    // The first byte picks the flags, in order, as different `ss` command lines would.
    let b = data.first().copied().unwrap_or(0);
    let all = [
        Selector::Tcp,
        Selector::Udp,
        Selector::Unix,
        Selector::Packet,
        Selector::Listening,
        Selector::All,
        Selector::Ipv4,
        Selector::Ipv6,
    ];
    let selectors = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| b & (1 << i) != 0)
        .map(|(_, s)| s)
        .collect();
    let opts = ListOptions {
        selectors,
        words,
        ..ListOptions::default()
    };
    let _ = Selection::parse_with(&opts, &Offline);
});
