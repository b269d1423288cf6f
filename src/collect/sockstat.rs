//! `ss -s`'s sources: /proc/net/sockstat, /proc/net/sockstat6 and the `Tcp:` lines of
//! /proc/net/snmp, read in the calling thread's network namespace (/proc/thread-self/net, so
//! that `list -s --netns NS` reads NS from a thread that entered it).
//!
//! The parsers are pure and follow `get_sockstat_line()` and `get_snmp_int()` in iproute2 6.1's
//! misc/ss.c: each counter is the number after its name, a missing line or counter is 0.

use std::path::Path;

/// The kernel's socket counters, as `ss`'s `struct ssummary` holds them (C `int`s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SockStat {
    /// `sockets: used`: sockets allocated in the namespace, of every family.
    pub sockets: i64,
    /// `TCP: mem`: pages of TCP buffer memory.
    pub tcp_mem: i64,
    /// `TCP: alloc`: TCP sockets allocated (every state, TIME-WAIT excluded).
    pub tcp_alloc: i64,
    /// `TCP: orphan`: TCP sockets no process holds any more.
    pub tcp_orphans: i64,
    /// `TCP: tw`: TIME-WAIT sockets.
    pub tcp_tw: i64,
    /// `TCP: inuse`: IPv4 TCP sockets in the hash tables.
    pub tcp4: i64,
    /// `UDP: inuse`.
    pub udp4: i64,
    /// `RAW: inuse`.
    pub raw4: i64,
    /// `FRAG: inuse`: IPv4 reassembly queues.
    pub frag4: i64,
    /// `FRAG: memory`.
    pub frag4_mem: i64,
    /// `TCP6: inuse`.
    pub tcp6: i64,
    /// `UDP6: inuse`.
    pub udp6: i64,
    /// `RAW6: inuse`.
    pub raw6: i64,
    /// `FRAG6: inuse`.
    pub frag6: i64,
    /// `FRAG6: memory`.
    pub frag6_mem: i64,
    /// `Tcp: CurrEstab` of /proc/net/snmp: connections in ESTABLISHED or CLOSE-WAIT.
    pub tcp_estab: i64,
}

/// Why the counters could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SockStatError {
    /// The file.
    pub path: String,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

impl SockStat {
    /// Reads the calling thread's namespace's counters. /proc/net/sockstat6 is optional (a
    /// kernel without IPv6), as in `ss`.
    pub fn read() -> Result<SockStat, SockStatError> {
        SockStat::read_from(Path::new("/proc/thread-self/net"))
    }

    /// Reads the three files under `dir` (a `/proc/PID/net` directory).
    pub fn read_from(dir: &Path) -> Result<SockStat, SockStatError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| SockStatError {
                path: path.display().to_string(),
                source,
            })
        };
        let mut s = SockStat::default();
        s.add_sockstat(&read("sockstat")?);
        if let Ok(text) = read("sockstat6") {
            s.add_sockstat(&text);
        }
        s.tcp_estab = snmp_value(&read("snmp")?, "Tcp:", "CurrEstab").unwrap_or(0);
        Ok(s)
    }

    /// Takes the counters of a sockstat or sockstat6 text.
    pub fn add_sockstat(&mut self, text: &str) {
        for line in text.lines() {
            let Some((id, rest)) = line.split_once(' ') else {
                continue;
            };
            // `%*s%d%*s%d...`: each counter follows its name.
            let values: Vec<i64> = rest
                .split_whitespace()
                .skip(1)
                .step_by(2)
                .map_while(|v| v.parse().ok())
                .collect();
            let v = |i: usize| values.get(i).copied().unwrap_or(0);
            match id {
                "sockets:" => self.sockets = v(0),
                "UDP:" => self.udp4 = v(0),
                "UDP6:" => self.udp6 = v(0),
                "RAW:" => self.raw4 = v(0),
                "RAW6:" => self.raw6 = v(0),
                "TCP6:" => self.tcp6 = v(0),
                "FRAG:" => (self.frag4, self.frag4_mem) = (v(0), v(1)),
                "FRAG6:" => (self.frag6, self.frag6_mem) = (v(0), v(1)),
                "TCP:" => {
                    self.tcp4 = v(0);
                    self.tcp_orphans = v(1);
                    self.tcp_tw = v(2);
                    self.tcp_alloc = v(3);
                    self.tcp_mem = v(4);
                }
                _ => {}
            }
        }
    }
}

/// The value of `key` in the `proto` lines of /proc/net/snmp (a line of names, then a line of
/// values, both starting with `proto`), as `get_snmp_int()`.
pub fn snmp_value(text: &str, proto: &str, key: &str) -> Option<i64> {
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        if !names.starts_with(proto) {
            continue;
        }
        let pos = names.split(' ').position(|w| w == key)?;
        let values = lines.next().filter(|l| l.starts_with(proto))?;
        return values.split(' ').nth(pos)?.trim().parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /proc/net/sockstat and sockstat6 of a Linux 6.18 host.
    const SOCKSTAT: &str = "sockets: used 14\nTCP: inuse 3 orphan 1 tw 2 alloc 101009 mem 7\n\
        UDP: inuse 4 mem 1\nUDPLITE: inuse 0\nRAW: inuse 5\nFRAG: inuse 6 memory 8\n";
    const SOCKSTAT6: &str = "TCP6: inuse 9\nUDP6: inuse 10\nUDPLITE6: inuse 0\nRAW6: inuse 11\n\
        FRAG6: inuse 12 memory 13\n";
    const SNMP: &str = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
        Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails \
        EstabResets CurrEstab InSegs\nTcp: 1 200 120000 -1 10 11 0 0 42 1000\n\
        Udp: InDatagrams\nUdp: 5\n";

    #[test]
    fn sockstat_lines_as_ss_reads_them() {
        let mut s = SockStat::default();
        s.add_sockstat(SOCKSTAT);
        s.add_sockstat(SOCKSTAT6);
        let want = SockStat {
            sockets: 14,
            tcp_mem: 7,
            tcp_alloc: 101009,
            tcp_orphans: 1,
            tcp_tw: 2,
            tcp4: 3,
            udp4: 4,
            raw4: 5,
            frag4: 6,
            frag4_mem: 8,
            tcp6: 9,
            udp6: 10,
            raw6: 11,
            frag6: 12,
            frag6_mem: 13,
            tcp_estab: 0,
        };
        assert_eq!(s, want);
        let mut odd = SockStat::default();
        odd.add_sockstat("TCP: inuse x orphan 1\nnonsense\n\nRAW:\n");
        assert_eq!(
            odd,
            SockStat::default(),
            "a bad number stops the line, as sscanf"
        );
    }

    #[test]
    fn snmp_value_by_name() {
        assert_eq!(snmp_value(SNMP, "Tcp:", "CurrEstab"), Some(42));
        assert_eq!(snmp_value(SNMP, "Tcp:", "MaxConn"), Some(-1));
        assert_eq!(snmp_value(SNMP, "Tcp:", "Nope"), None);
        assert_eq!(snmp_value(SNMP, "Udp:", "InDatagrams"), Some(5));
        assert_eq!(
            snmp_value("Tcp: CurrEstab\nIp: 3\n", "Tcp:", "CurrEstab"),
            None
        );
    }
}
