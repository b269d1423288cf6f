//! Which format a file is in, from its first lines (and, where the text alone cannot tell, its
//! name: `ss_-tanp.txt`, `proc_net_udp6.txt`).

use super::Format;

/// The netids `ss` prints, the ones sockwarden models and the others.
pub(crate) const SS_NETIDS: &[&str] = &[
    "tcp",
    "udp",
    "raw",
    "u_str",
    "u_dgr",
    "u_seq",
    "p_raw",
    "p_dgr",
    "nl",
    "mptcp",
    "sctp",
    "dccp",
    "v_str",
    "v_dgr",
    "v_seq",
    "xdp",
    "tipc",
    "icmp6",
    "???",
    "u_str_seq",
];

/// The states `ss` prints.
pub(crate) const SS_STATES: &[&str] = &[
    "ESTAB",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "UNCONN",
    "CLOSE-WAIT",
    "LAST-ACK",
    "LISTEN",
    "CLOSING",
    "UNKNOWN",
];

/// The format of the file `name` whose text is `text`, or why none fits.
pub fn detect(name: &str, text: &str) -> Result<Format, String> {
    let first = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let t = first.trim_start();
    let mut words = t.split_ascii_whitespace();
    let w0 = words.next().unwrap_or("");
    let w1 = words.next().unwrap_or("");
    if (w0 == "Netid" || w0 == "State" || w0 == "Recv-Q") && t.contains("Local Address") {
        return Ok(Format::Ss);
    }
    if t.starts_with("Active Internet connections")
        || t.starts_with("Active UNIX domain sockets")
        || (w0 == "Proto" && (w1 == "Recv-Q" || w1 == "RefCnt"))
    {
        return Ok(Format::Netstat);
    }
    if w0 == "COMMAND" && w1 == "PID" {
        return Ok(Format::Lsof);
    }
    if is_lsof_fields(first) {
        return Ok(Format::LsofF);
    }
    if (w0 == "sl" && t.contains("local_address"))
        || (w0 == "Num" && w1 == "RefCount")
        || (w0 == "sk" && w1 == "RefCnt")
    {
        return Ok(Format::Procnet);
    }
    // `ss -H`: a record line starts with a netid or a state, then the queues.
    if SS_NETIDS.contains(&w0) || SS_STATES.contains(&w0) {
        return Ok(Format::Ss);
    }
    Err(format!(
        "unknown format: expected the output of ss, netstat, lsof or lsof -F, or a copy of \
         /proc/net/* (--format names it); `{name}` starts with something else"
    ))
}

/// `lsof -F`: the first field is `p` and a pid (fields end at NUL or at the end of a line).
fn is_lsof_fields(first: &str) -> bool {
    let f = first.split('\0').next().unwrap_or("");
    f.len() > 1 && f.starts_with('p') && f[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The option letters in a capture's file name, as UAC and people name them: `ss_-tanp.txt`,
/// `ss -tanp.txt`, `ss_tuawx0np.txt` give `tanp`, `tanp`, `tuawx0np`; `None` when the name
/// does not start with the command.
pub(crate) fn name_flags<'a>(name: &'a str, command: &str) -> Option<&'a str> {
    let base = name.rsplit(['/', ':']).next().unwrap_or(name);
    let rest = base.strip_prefix(command)?;
    let rest = rest.trim_start_matches(['_', ' ', '-']);
    let end = rest.find(['_', '.', ' ', '-']).unwrap_or(rest.len());
    let flags = &rest[..end];
    (!flags.is_empty() && flags.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_line() {
        let cases = [
            (
                "Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n",
                Format::Ss,
            ),
            (
                "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n",
                Format::Ss,
            ),
            ("tcp   LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", Format::Ss),
            ("ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n", Format::Ss),
            (
                "Active Internet connections (servers and established)\n",
                Format::Netstat,
            ),
            (
                "COMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n",
                Format::Lsof,
            ),
            ("p31355\0csslab-main\0\n", Format::LsofF),
            ("p1\ncinit\n", Format::LsofF),
            (
                "  sl  local_address rem_address   st tx_queue\n",
                Format::Procnet,
            ),
            (
                "Num       RefCount Protocol Flags    Type St Inode Path\n",
                Format::Procnet,
            ),
            (
                "sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n",
                Format::Procnet,
            ),
        ];
        for (text, f) in cases {
            assert_eq!(detect("x", text), Ok(f), "{text}");
        }
        assert!(
            detect("x", "hello world\n")
                .unwrap_err()
                .contains("unknown format")
        );
    }

    #[test]
    fn flags_come_from_the_file_name() {
        assert_eq!(name_flags("dir/ss_-tanp.txt", "ss"), Some("tanp"));
        assert_eq!(name_flags("ss_tuawx0np.txt", "ss"), Some("tuawx0np"));
        assert_eq!(
            name_flags("a.tar.gz:uac/live_response/network/ss_-0bp.txt", "ss"),
            Some("0bp")
        );
        assert_eq!(name_flags("bench/ss_-tanp-100000.txt", "ss"), Some("tanp"));
        assert_eq!(name_flags("capture.txt", "ss"), None);
    }
}
