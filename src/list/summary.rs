//! `list -s`: `ss`'s summary (`print_summary()` in iproute2 6.1's misc/ss.c), the same figures
//! from the same sources ([`crate::collect::sockstat`]) in the same layout.

use std::fmt::Write as _;

use crate::collect::sockstat::SockStat;

/// The summary as `ss -s` prints it, blank line after the transport table included.
pub fn render_summary(s: &SockStat) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Total: {}", s.sockets);
    let _ = writeln!(
        o,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        s.tcp_alloc + s.tcp_tw,
        s.tcp_estab,
        s.tcp_alloc - (s.tcp4 + s.tcp6 - s.tcp_tw),
        s.tcp_orphans,
        s.tcp_tw
    );
    o.push('\n');
    o.push_str("Transport Total     IP        IPv6\n");
    let inet4 = s.raw4 + s.udp4 + s.tcp4;
    let inet6 = s.raw6 + s.udp6 + s.tcp6;
    for (name, v4, v6) in [
        ("RAW", s.raw4, s.raw6),
        ("UDP", s.udp4, s.udp6),
        ("TCP", s.tcp4, s.tcp6),
        ("INET", inet4, inet6),
        ("FRAG", s.frag4, s.frag6),
    ] {
        // printf("%s\t  %-9d %-9d %-9d\n"): the last column is padded too.
        let _ = writeln!(o, "{name}\t  {:<9} {v4:<9} {v6:<9}", v4 + v6);
    }
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_figures_are_ss_6_1s() {
        let s = SockStat {
            sockets: 14,
            tcp_alloc: 101009,
            tcp4: 1,
            tcp_tw: 2,
            tcp_estab: 3,
            tcp_orphans: 4,
            udp6: 1,
            raw4: 10,
            ..SockStat::default()
        };
        assert_eq!(
            render_summary(&s),
            "Total: 14\n\
             TCP:   101011 (estab 3, closed 101010, orphaned 4, timewait 2)\n\
             \n\
             Transport Total     IP        IPv6\n\
             RAW\t  10        10        0        \n\
             UDP\t  1         0         1        \n\
             TCP\t  1         1         0        \n\
             INET\t  12        11        1        \n\
             FRAG\t  0         0         0        \n\
             \n"
        );
    }
}
