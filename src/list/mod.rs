//! `sockwarden list`: the responder's view, selecting and printing sockets the way `ss` does.
//!
//! [`ListOptions`] holds the resolved `ss`-style flags; [`Selection::parse`] turns them and the
//! trailing words (`state NAME`, `exclude NAME`, `dport = :22` ...) into what to collect and what
//! to keep; [`render_table`] prints aligned columns, [`render_json`] the selected sockets and
//! their processes.
//!
//! The code is split by concern: this file decides *which* sockets (tables, families, states),
//! [`filter`] parses and evaluates the expression language with its `ss` quirks, and `table`
//! formats rows. Each follows iproute2's `ss` (misc/ss.c, misc/ssfilter.y) unless its docs say
//! otherwise.

pub mod filter;
mod table;

pub use table::render_table;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::collect::Tables;
use crate::model::{Process, Protocol, Snapshot, Socket, State, StateSet};

/// `ss`'s flags, resolved from the command line.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub tcp: bool,
    pub udp: bool,
    pub raw: bool,
    pub unix: bool,
    pub packet: bool,
    pub listening: bool,
    pub all: bool,
    pub numeric: bool,
    pub processes: bool,
    pub extended: bool,
    pub info: bool,
    pub memory: bool,
    pub options: bool,
    pub bpf: bool,
    pub ipv4: bool,
    pub ipv6: bool,
    pub no_header: bool,
    pub json: bool,
    /// Trailing words: `state NAME`, `exclude NAME`, and a filter expression.
    pub words: Vec<String>,
}

/// What to collect and which sockets to keep.
#[derive(Debug, Clone)]
pub struct Selection {
    pub tables: Tables,
    /// Inet families kept (only inet sockets are affected).
    pub ipv4: bool,
    pub ipv6: bool,
    /// States kept, for every table; also what collection asks the kernel for TCP.
    ///
    /// Like `ss`, this is one mask for all tables (`ss` has a single `filter.states`):
    /// - no table flag: `ss`'s SS_CONN ([`StateSet::ss_connected_default`]); this hides
    ///   LISTEN and UNCONN everywhere, so unconnected UDP, unix dgram and packet sockets too;
    /// - otherwise the union of each flag's default: `-t`, `-x`, `-4`, `-6` add SS_CONN, `-u`
    ///   and `-w` ESTABLISHED, `-0` CLOSE (UNCONN). So `-u` alone shows connected UDP only, `-0`
    ///   alone shows all packet sockets, and `-u0` also shows unconnected UDP, exactly as `ss`;
    /// - `-a`: every state, TCP bound-inactive sockets included (the `ss` ≥ 6.8 behaviour:
    ///   bound-but-idle TCP sockets appear as UNCONN); `-l`: LISTEN and CLOSE, so TCP shows
    ///   LISTEN and UDP, raw, unix dgram and packet show UNCONN. With both, `-a` wins (the
    ///   order of flags is not known here; `ss` takes the last);
    /// - `state NAME` (repeatable): the first replaces the mask, later ones are ORed in;
    ///   `exclude NAME` starts from every state (bound-inactive included) and removes.
    pub states: StateSet,
    /// The filter expression after the state words, if any.
    pub filter: Option<filter::Expr>,
}

impl Selection {
    pub fn parse(opts: &ListOptions) -> Result<Selection, String> {
        let inet_table = opts.tcp || opts.udp || opts.raw;
        let family = opts.ipv4 || opts.ipv6;
        let any = inet_table || opts.unix || opts.packet || family;
        // -4/-6 without an inet table add every inet table, as ss's filter_merge_defaults().
        let all_inet = family && !inet_table;
        let tables = if any {
            Tables {
                tcp: opts.tcp || all_inet,
                udp: opts.udp || all_inet,
                raw: opts.raw || all_inet,
                unix: opts.unix,
                packet: opts.packet,
            }
        } else {
            Tables::ALL
        };
        let (ipv4, ipv6) = if family {
            (opts.ipv4, opts.ipv6)
        } else {
            (true, true)
        };

        let conn = StateSet::ss_connected_default();
        let mut states = if any { StateSet::EMPTY } else { conn };
        if opts.tcp || opts.unix || family {
            states = states.union(conn);
        }
        if opts.udp || opts.raw {
            states = states.union(StateSet::of(&[State::Established]));
        }
        if opts.packet {
            states = states.union(StateSet::of(&[State::Close]));
        }
        if opts.all {
            states = StateSet::ALL;
        } else if opts.listening {
            states = StateSet::of(&[State::Listen, State::Close]);
        }

        let tokens = filter::tokenize(&opts.words);
        let mut i = 0;
        let mut saw_states = false;
        while let Some(word) = tokens.get(i).map(String::as_str) {
            let exclude = match word {
                "state" => false,
                "exclude" | "excl" => true,
                _ => break,
            };
            let name = tokens.get(i + 1).ok_or_else(|| {
                format!("'{word}' needs a state name (established, listening, all, ...)")
            })?;
            let set = StateSet::parse_ss(name)?;
            if !saw_states {
                states = if exclude {
                    StateSet::ALL
                } else {
                    StateSet::EMPTY
                };
            }
            states = if exclude {
                states.minus(set)
            } else {
                states.union(set)
            };
            saw_states = true;
            i += 2;
        }
        if states.is_empty() {
            return Err("no socket states to show with such filter".into());
        }
        let unix_only = opts.unix && !(inet_table || opts.packet || family);
        let filter = filter::parse(&tokens[i..], unix_only)?;
        Ok(Selection {
            tables,
            ipv4,
            ipv6,
            states,
            filter,
        })
    }

    pub fn matches(&self, s: &Socket) -> bool {
        let t = &self.tables;
        let table = match s.protocol {
            Protocol::Tcp => t.tcp,
            Protocol::Udp => t.udp,
            Protocol::Raw => t.raw,
            Protocol::UnixStream | Protocol::UnixDgram | Protocol::UnixSeqpacket => t.unix,
            Protocol::PacketRaw | Protocol::PacketDgram => t.packet,
        };
        let family = !s.protocol.is_inet()
            || match s.family {
                crate::model::Family::Inet => self.ipv4,
                crate::model::Family::Inet6 => self.ipv6,
                _ => true,
            };
        table
            && family
            && self.states.contains(s.state)
            && self.filter.as_ref().is_none_or(|f| f.eval(s))
    }

    /// The Netid column is shown when more than one of `ss`'s tables is selected (unix counts as
    /// three: stream, dgram, seqpacket; packet as two).
    pub fn shows_netid(&self) -> bool {
        let t = &self.tables;
        let n = [
            (t.tcp, 1),
            (t.udp, 1),
            (t.raw, 1),
            (t.unix, 3),
            (t.packet, 2),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n)
        .sum::<u32>();
        n > 1
    }

    /// The State column is shown when more than one state name can appear.
    pub fn shows_state(&self) -> bool {
        let names: BTreeSet<&str> = State::ALL
            .iter()
            .filter(|s| self.states.contains(**s))
            .map(|s| s.ss_name())
            .collect();
        names.len() > 1
    }
}

#[derive(Serialize)]
struct JsonList<'a> {
    sockets: &'a [&'a Socket],
    processes: Vec<&'a Process>,
}

/// The selected sockets and the processes that own them (plus each owner's parent when the
/// snapshot has it), pretty-printed, in snapshot order, ending with a newline.
pub fn render_json(snap: &Snapshot, sockets: &[&Socket]) -> String {
    let owners: BTreeSet<u32> = sockets
        .iter()
        .flat_map(|s| s.owners.iter().map(|o| o.pid))
        .collect();
    let parents: BTreeSet<u32> = owners
        .iter()
        .filter_map(|&pid| snap.process(pid))
        .map(|p| p.ppid)
        .collect();
    let processes = snap
        .processes
        .iter()
        .filter(|p| owners.contains(&p.pid) || parents.contains(&p.pid))
        .collect();
    let doc = JsonList { sockets, processes };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Builders for hand-made snapshots, shared by the tests of this module's files.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::net::SocketAddr;

    use super::ListOptions;
    use crate::model::*;

    pub fn snapshot(sockets: Vec<Socket>, processes: Vec<Process>) -> Snapshot {
        // Through serde, so that optional fields added to Meta later default to None.
        let meta: Meta = serde_json::from_value(serde_json::json!({
            "tool": {"name": "sockwarden", "version": "0"},
            "hostname": "h",
            "kernel": "6.8",
            "boot_id": "b",
            "taken_at": "2025-01-01T00:00:00Z",
            "privileged": true,
            "sources": {},
            "attribution": true,
        }))
        .expect("test meta");
        let mut snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta,
            sockets,
            processes,
            warnings: Vec::new(),
        };
        snap.canonicalize();
        snap
    }

    fn endpoint(a: &str) -> Endpoint {
        let sa: SocketAddr = a.parse().expect("test address");
        Endpoint {
            address: sa.ip(),
            port: sa.port(),
        }
    }

    /// An inet socket; the family follows the local address.
    pub fn inet(protocol: Protocol, state: State, local: &str, remote: &str, ino: u64) -> Socket {
        let l = endpoint(local);
        let family = if l.address.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        };
        let mut s = Socket::new(protocol, family, state, ino);
        s.local = Some(l);
        s.remote = Some(endpoint(remote));
        s
    }

    pub fn unix(protocol: Protocol, state: State, name: Option<&[u8]>, ino: u64) -> Socket {
        let mut s = Socket::new(protocol, Family::Unix, state, ino);
        s.unix = Some(UnixInfo {
            name: name.map(|n| ByteString::from(n.strip_prefix(b"\0").unwrap_or(n))),
            r#abstract: name.is_some_and(|n| n.first() == Some(&0)),
            peer: None,
            pending: Vec::new(),
            backlog: None,
            vfs_inode: None,
            vfs_dev: None,
        });
        s
    }

    pub fn process(pid: u32, comm: &[u8], exe: Option<&str>, user: Option<&str>) -> Process {
        Process {
            pid,
            ppid: 1,
            comm: ByteString::from(comm),
            exe: exe.map(ByteString::from),
            exe_deleted: false,
            exe_memfd: false,
            cmdline: Vec::new(),
            uid: 0,
            euid: 0,
            user: user.map(String::from),
            start_ticks: 0,
            cgroup: None,
            container: None,
            netns: None,
        }
    }

    /// Options from `ss`-style flag letters and filter words: `opts("tlp", "sport = :22")`.
    pub fn opts(flags: &str, words: &str) -> ListOptions {
        let mut o = ListOptions {
            words: words.split_whitespace().map(String::from).collect(),
            ..ListOptions::default()
        };
        for c in flags.chars() {
            let f = match c {
                't' => &mut o.tcp,
                'u' => &mut o.udp,
                'w' => &mut o.raw,
                'x' => &mut o.unix,
                '0' => &mut o.packet,
                'l' => &mut o.listening,
                'a' => &mut o.all,
                'n' => &mut o.numeric,
                'p' => &mut o.processes,
                'e' => &mut o.extended,
                'i' => &mut o.info,
                'm' => &mut o.memory,
                'o' => &mut o.options,
                'b' => &mut o.bpf,
                '4' => &mut o.ipv4,
                '6' => &mut o.ipv6,
                'H' => &mut o.no_header,
                other => panic!("unknown test flag {other}"),
            };
            *f = true;
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{inet, opts, process, snapshot, unix};
    use super::*;
    use crate::model::{Owner, Protocol::*};

    fn sel(flags: &str, words: &str) -> Selection {
        Selection::parse(&opts(flags, words)).unwrap()
    }

    fn tcp(state: State, local: &str, remote: &str) -> Socket {
        inet(Tcp, state, local, remote, 1)
    }

    fn udp(state: State, local: &str, remote: &str) -> Socket {
        inet(Udp, state, local, remote, 2)
    }

    #[test]
    fn tables_follow_ss() {
        assert_eq!(sel("", "").tables, Tables::ALL);
        let t = sel("t", "").tables;
        assert!(t.tcp && !t.udp && !t.raw && !t.unix && !t.packet);
        let four = sel("4", "");
        assert!(four.tables.tcp && four.tables.udp && four.tables.raw);
        assert!(!four.tables.unix && !four.tables.packet);
        assert!(four.ipv4 && !four.ipv6);
        let x4 = sel("x4", "").tables;
        assert!(x4.unix && x4.tcp && x4.raw && !x4.packet);
        let u6 = sel("u6", "");
        assert!(u6.tables.udp && !u6.tables.tcp && !u6.ipv4 && u6.ipv6);
        let s = sel("t4", "state all");
        assert!(s.matches(&tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0")));
        assert!(!s.matches(&tcp(State::Listen, "[::]:22", "[::]:0")));
        assert!(
            !s.matches(&tcp(
                State::Established,
                "[::ffff:1.2.3.4]:22",
                "[::ffff:1.2.3.5]:1"
            )),
            "v4-mapped sockets are AF_INET6, hidden by -4 as in ss"
        );
        assert!(!s.matches(&udp(State::Close, "0.0.0.0:53", "0.0.0.0:0")));
    }

    #[test]
    fn default_states() {
        let listen = tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0");
        let estab = tcp(State::Established, "10.0.0.1:22", "10.0.0.2:5000");
        let bound = tcp(State::BoundInactive, "0.0.0.0:7000", "0.0.0.0:0");
        let uconn = udp(State::Close, "0.0.0.0:53", "0.0.0.0:0");
        let uestab = udp(State::Established, "10.0.0.1:40000", "10.0.0.53:53");
        let t = sel("t", "");
        assert!(!t.matches(&listen) && t.matches(&estab) && !t.matches(&bound));
        assert!(t.states.contains(State::SynSent) && !t.states.contains(State::TimeWait));
        let l = sel("tul", "");
        assert!(l.matches(&listen) && l.matches(&uconn));
        assert!(!l.matches(&estab) && !l.matches(&uestab) && !l.matches(&bound));
        let u = sel("u", "");
        assert!(u.matches(&uestab) && !u.matches(&uconn));
        assert!(
            sel("u0", "").matches(&uconn),
            "-0 adds UNCONN to the single mask"
        );
        let pkt = Socket::new(PacketRaw, crate::model::Family::Packet, State::Close, 3);
        assert!(sel("0", "").matches(&pkt) && !sel("", "").matches(&pkt));
        let a = sel("ta", "");
        assert!(
            a.matches(&listen) && a.matches(&bound),
            "-a includes bound-inactive"
        );
        assert_eq!(a.states, StateSet::ALL);
        assert!(sel("la", "").matches(&estab), "-a wins over -l");
    }

    #[test]
    fn state_and_exclude_words() {
        let listen = tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0");
        let estab = tcp(State::Established, "10.0.0.1:22", "10.0.0.2:5000");
        let x = sel("tua", "exclude listening");
        assert!(!x.matches(&listen) && x.matches(&estab));
        assert!(x.matches(&udp(State::Close, "0.0.0.0:53", "0.0.0.0:0")));
        let s = sel("t", "state listening state established");
        assert!(s.matches(&listen) && s.matches(&estab));
        assert!(!s.matches(&tcp(State::SynSent, "10.0.0.1:1", "10.0.0.2:2")));
        let only = sel("t", "state listening");
        assert_eq!(only.states, StateSet::of(&[State::Listen]));
        assert!(!only.shows_state());
        let mix = sel("t", "state connected exclude time-wait");
        assert!(mix.states.contains(State::Established));
        assert!(!mix.states.contains(State::TimeWait));
        let e = Selection::parse(&opts("t", "state sleeping")).unwrap_err();
        assert!(
            e.contains("unknown state 'sleeping'") && e.contains("established"),
            "{e}"
        );
        let e = Selection::parse(&opts("t", "state")).unwrap_err();
        assert!(e.contains("'state' needs a state name"), "{e}");
        let e = Selection::parse(&opts("t", "exclude all")).unwrap_err();
        assert!(e.contains("no socket states"), "{e}");
    }

    #[test]
    fn state_then_filter() {
        let s = sel("t", "state established dport = :4444");
        assert!(s.filter.is_some());
        assert!(s.matches(&tcp(State::Established, "10.0.0.1:40000", "6.6.6.6:4444")));
        assert!(!s.matches(&tcp(State::Established, "10.0.0.1:40000", "6.6.6.6:4443")));
        assert!(!s.matches(&tcp(State::SynSent, "10.0.0.1:40000", "6.6.6.6:4444")));
        let e = Selection::parse(&opts("t", "dport = :abc")).unwrap_err();
        assert!(e.contains("':abc' is not a port"), "{e}");
        // With only unix tables a bare address is a name glob, as `ss -x src /run/*`.
        let x = sel("xa", "src /run/*");
        assert!(x.matches(&unix(UnixStream, State::Listen, Some(b"/run/a"), 5)));
        assert!(!x.matches(&unix(UnixStream, State::Listen, Some(b"/tmp/a"), 6)));
    }

    #[test]
    fn which_columns_show() {
        assert!(!sel("t", "").shows_netid());
        assert!(sel("x", "").shows_netid(), "unix is three ss tables");
        assert!(sel("0", "").shows_netid());
        assert!(sel("tu", "").shows_netid());
        assert!(!sel("u", "").shows_state(), "-u keeps only ESTAB");
        assert!(!sel("0", "").shows_state());
        assert!(sel("t", "").shows_state());
        assert!(sel("tl", "").shows_state());
        assert!(
            !sel("t", "state syn-recv").shows_state(),
            "SYN-RECV is one name"
        );
    }

    #[test]
    fn json_has_selected_sockets_and_their_processes() {
        let mut a = tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0");
        a.owners = vec![Owner { pid: 100, fd: 3 }];
        let b = udp(State::Close, "0.0.0.0:53", "0.0.0.0:0");
        let mut owner = process(100, b"sshd", Some("/usr/sbin/sshd"), Some("root"));
        owner.ppid = 50;
        let parent = process(50, b"systemd", None, None);
        let other = process(200, b"other", None, None);
        let snap = snapshot(vec![a.clone(), b], vec![owner, parent, other]);
        let text = render_json(&snap, &[&snap.sockets[0]]);
        assert!(text.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["sockets"].as_array().unwrap().len(), 1);
        assert_eq!(v["sockets"][0]["local"]["port"], 22);
        let pids: Vec<u64> = v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(pids, [50, 100]);
        assert!(text.find("\"sockets\"").unwrap() < text.find("\"processes\"").unwrap());
        assert_eq!(
            text,
            render_json(&snap, &[&snap.sockets[0]]),
            "deterministic"
        );
        let empty: serde_json::Value = serde_json::from_str(&render_json(&snap, &[])).unwrap();
        assert_eq!(empty, serde_json::json!({"sockets": [], "processes": []}));
    }
}
