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
use crate::model::{Family, Process, Protocol, Snapshot, Socket, State, StateSet};

/// `ss`'s flags, resolved from the command line.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `-t`: the TCP table.
    pub tcp: bool,
    /// `-u`: the UDP table.
    pub udp: bool,
    /// `-w`: the raw IP table.
    pub raw: bool,
    /// `-x`: unix sockets.
    pub unix: bool,
    /// `-0`: packet sockets.
    pub packet: bool,
    /// `-l`: listening and unconnected sockets only (LISTEN and CLOSE); `-a` wins over it.
    pub listening: bool,
    /// `-a`: every state but TCP bound-inactive.
    pub all: bool,
    /// `-n`: accepted for `ss` compatibility; service names are never resolved anyway.
    pub numeric: bool,
    /// `-p`: attribute sockets to processes and show pid, fd, exe and user.
    pub processes: bool,
    /// `-e`: uid, inode, cookie, mark, v6only, shutdown.
    pub extended: bool,
    /// `-i`: tcp_info and congestion control.
    pub info: bool,
    /// `-m`: socket memory (skmem).
    pub memory: bool,
    /// `-o`: timers.
    pub options: bool,
    /// `-b`: packet sockets' classic BPF filters.
    pub bpf: bool,
    /// `-4`: IPv4 inet sockets only (adds every inet table when none is named).
    pub ipv4: bool,
    /// `-6`: IPv6 inet sockets only (adds every inet table when none is named).
    pub ipv6: bool,
    /// `-H`: no header line.
    pub no_header: bool,
    /// `--json`: print the selected sockets and their processes as JSON instead of a table.
    pub json: bool,
    /// Trailing words: `state NAME`, `exclude NAME`, and a filter expression.
    pub words: Vec<String>,
}

/// What to collect and which sockets to keep.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The socket tables to dump: those named by flags (`-4`/`-6` alone name every inet table), or
    /// all of them when no table or family flag is given.
    pub tables: Tables,
    /// Inet families kept (only inet sockets are affected).
    pub ipv4: bool,
    /// Whether IPv6 inet sockets are kept.
    pub ipv6: bool,
    /// States kept, for every table; also what collection asks the kernel for TCP.
    ///
    /// Like `ss`, this is one mask for all tables (`ss` keeps a single `filter.states`, to which
    /// each table flag ORs its default; it does not keep a mask per table):
    /// - no table flag: `ss`'s SS_CONN ([`StateSet::ss_connected_default`]); this hides
    ///   LISTEN and UNCONN everywhere, so unconnected UDP, unix dgram and packet sockets too;
    /// - otherwise the union of each flag's default: `-t`, `-x`, `-4`, `-6` add SS_CONN, `-u`
    ///   and `-w` ESTABLISHED, `-0` CLOSE (UNCONN). So `-u` alone shows connected UDP only, `-0`
    ///   alone shows all packet sockets, and `-u0` also shows unconnected UDP, exactly as `ss`;
    /// - `-a` and `state all`: every state but TCP bound-inactive, as `ss` 6.1 (asking the kernel
    ///   for bound-inactive sockets walks its bind hash; `state bound-inactive` asks, and they
    ///   show as UNCONN as in `ss` ≥ 6.8); `-l`: LISTEN and CLOSE, so
    ///   TCP shows LISTEN and UDP, raw, unix dgram and packet show UNCONN. With both, `-a` wins
    ///   (the order of flags is not known here; `ss` takes the last);
    /// - `state NAME` (repeatable): the first replaces the mask, later ones are ORed in;
    ///   `exclude NAME` starts from `all` and removes.
    pub states: StateSet,
    /// The filter expression after the state words, if any.
    pub filter: Option<filter::Expr>,
}

/// Why the flags and words select nothing that can be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// `state`/`exclude` as the last word.
    #[error("'{0}' needs a state name (established, listening, all, ...)")]
    StateName(String),
    /// A state name `ss` does not know.
    #[error(transparent)]
    State(#[from] crate::model::UnknownState),
    /// The states chosen leave none.
    #[error("no socket states to show with such filter")]
    NoStates,
    /// The filter expression.
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
}

impl Selection {
    /// Resolves the flags and the trailing words into a selection, as `ss` does (see `states`). An
    /// error names the bad word: an unknown state, a state word without a name, a filter that does
    /// not parse, or states that leave nothing to show.
    pub fn parse(opts: &ListOptions) -> Result<Selection, SelectionError> {
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
            states = StateSet::SS_ALL;
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
            let name = tokens
                .get(i + 1)
                .ok_or_else(|| SelectionError::StateName(word.to_owned()))?;
            let set = StateSet::parse_ss(name)?;
            if !saw_states {
                states = if exclude {
                    StateSet::SS_ALL
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
            return Err(SelectionError::NoStates);
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

    /// Whether a socket is kept: its table selected, its family (inet only) kept, its state in
    /// `states`, and the filter expression true for it.
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
                Family::Inet => self.ipv4,
                Family::Inet6 => self.ipv6,
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
        let n = |on: bool, tables: u32| if on { tables } else { 0 };
        n(t.tcp, 1) + n(t.udp, 1) + n(t.raw, 1) + n(t.unix, 3) + n(t.packet, 2) > 1
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

    use serde::{Serialize, de::DeserializeOwned};
    use serde_json::{Value, json};

    use super::ListOptions;
    use crate::model::*;

    /// `base` with the fields in `fields` replaced (through JSON), to keep tests short.
    pub fn patch<T: Serialize + DeserializeOwned>(base: T, fields: Value) -> T {
        let mut v = serde_json::to_value(base).expect("serializable");
        for (k, x) in fields.as_object().expect("an object") {
            v[k] = x.clone();
        }
        serde_json::from_value(v).expect("valid fields")
    }

    pub fn snapshot(sockets: Vec<Socket>, processes: Vec<Process>) -> Snapshot {
        // Through serde, so that optional fields added to Meta later default to None.
        let meta = json!({"tool": {"name": "sockwarden", "version": "0"}, "hostname": "h",
            "kernel": "6.8", "boot_id": "b", "taken_at": "2025-01-01T00:00:00Z",
            "privileged": true, "sources": {}, "attribution": true});
        let mut snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: serde_json::from_value(meta).expect("test meta"),
            sockets,
            processes,
            namespaces: Vec::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
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

    /// A socket from `"NETID STATE [LOCAL REMOTE | UNIX-NAME]"`, e.g.
    /// `sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0")`; inode 1. The family follows the address.
    pub fn sock(spec: &str) -> Socket {
        let w: Vec<&str> = spec.split_whitespace().collect();
        let protocol = Protocol::ALL
            .into_iter()
            .find(|p| p.netid() == w[0])
            .expect("netid");
        let state = State::ALL
            .into_iter()
            .find(|s| s.ss_name() == w[1])
            .expect("state");
        if protocol.is_unix() {
            return unix(protocol, state, w.get(2).map(|n| n.as_bytes()), 1);
        }
        let family = if protocol.is_packet() {
            Family::Packet
        } else if w[2].starts_with('[') {
            Family::Inet6
        } else {
            Family::Inet
        };
        let mut s = Socket::new(protocol, family, state, 1);
        if protocol.is_inet() {
            s.local = Some(endpoint(w[2]));
            s.remote = Some(endpoint(w[3]));
        }
        s
    }

    /// A unix socket; a name starting with NUL is abstract.
    pub fn unix(protocol: Protocol, state: State, name: Option<&[u8]>, ino: u64) -> Socket {
        let mut s = Socket::new(protocol, Family::Unix, state, ino);
        let info = json!({"abstract": name.is_some_and(|n| n.first() == Some(&0))});
        let mut info: UnixInfo = serde_json::from_value(info).expect("unix info");
        info.name = name.map(|n| ByteString::from(n.strip_prefix(b"\0").unwrap_or(n)));
        s.unix = Some(info.into());
        s
    }

    pub fn process(pid: u32, comm: &[u8], exe: Option<&str>, user: Option<&str>) -> Process {
        let p = json!({"pid": pid, "ppid": 1, "comm": "", "exe_deleted": false,
            "exe_memfd": false, "cmdline": [], "uid": 0, "euid": 0, "start_ticks": 0});
        let mut p: Process = serde_json::from_value(p).expect("process");
        p.comm = ByteString::from(comm);
        p.exe = exe.map(ByteString::from);
        p.user = user.map(String::from);
        p
    }

    /// Options from `ss`-style flag letters and filter words: `opts("tlp", "sport = :22")`.
    pub fn opts(flags: &str, words: &str) -> ListOptions {
        let mut o = ListOptions {
            words: words.split_whitespace().map(String::from).collect(),
            ..ListOptions::default()
        };
        for c in flags.chars() {
            *match c {
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
            } = true;
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{opts, process, snapshot, sock};
    use super::*;
    use crate::model::Owner;

    fn sel(flags: &str, words: &str) -> Selection {
        Selection::parse(&opts(flags, words)).unwrap()
    }

    fn err(flags: &str, words: &str) -> String {
        Selection::parse(&opts(flags, words))
            .unwrap_err()
            .to_string()
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
        assert!(s.matches(&sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0")));
        assert!(!s.matches(&sock("tcp LISTEN [::]:22 [::]:0")));
        let mapped = sock("tcp ESTAB [::ffff:1.2.3.4]:22 [::ffff:1.2.3.5]:1");
        assert!(
            !s.matches(&mapped),
            "v4-mapped sockets are AF_INET6: hidden by -4, as in ss"
        );
        assert!(!s.matches(&sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0")));
    }

    #[test]
    fn default_states() {
        let listen = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
        let estab = sock("tcp ESTAB 10.0.0.1:22 10.0.0.2:5000");
        let mut bound = sock("tcp UNCONN 0.0.0.0:7000 0.0.0.0:0");
        bound.state = State::BoundInactive;
        let uconn = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        let uestab = sock("udp ESTAB 10.0.0.1:40000 10.0.0.53:53");
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
        let pkt = sock("p_raw UNCONN");
        assert!(sel("0", "").matches(&pkt) && !sel("", "").matches(&pkt));
        assert!(!sel("", "").matches(&uconn) && sel("", "").matches(&estab));
        let a = sel("ta", "");
        assert!(
            a.matches(&listen) && !a.matches(&bound),
            "-a is ss 6.1's all: no bound-inactive"
        );
        assert_eq!(a.states, StateSet::SS_ALL);
        let b = sel("t", "state bound-inactive");
        assert!(b.matches(&bound) && !b.matches(&listen));
        assert!(sel("la", "").matches(&estab), "-a wins over -l");
        assert!(!sel("u", "").matches(&estab), "tables still apply");
    }

    #[test]
    fn state_and_exclude_words() {
        let listen = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
        let estab = sock("tcp ESTAB 10.0.0.1:22 10.0.0.2:5000");
        let x = sel("tua", "exclude listening");
        assert!(!x.matches(&listen) && x.matches(&estab));
        assert!(x.matches(&sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0")));
        let s = sel("t", "state listening state established");
        assert!(s.matches(&listen) && s.matches(&estab));
        assert!(!s.matches(&sock("tcp SYN-SENT 10.0.0.1:1 10.0.0.2:2")));
        let only = sel("ta", "state listening");
        assert_eq!(only.states, StateSet::of(&[State::Listen]));
        let mix = sel("t", "state connected exclude time-wait");
        assert!(mix.states.contains(State::Established));
        assert!(!mix.states.contains(State::TimeWait));
        let e = err("t", "state sleeping");
        assert!(
            e.contains("unknown state 'sleeping'") && e.contains("established"),
            "{e}"
        );
        assert!(err("t", "state").contains("'state' needs a state name"));
        assert!(err("t", "exclude all").contains("no socket states"));
    }

    #[test]
    fn state_then_filter() {
        let s = sel("t", "state established dport = :4444");
        assert!(s.filter.is_some());
        assert!(s.matches(&sock("tcp ESTAB 10.0.0.1:40000 6.6.6.6:4444")));
        assert!(!s.matches(&sock("tcp ESTAB 10.0.0.1:40000 6.6.6.6:4443")));
        assert!(!s.matches(&sock("tcp SYN-SENT 10.0.0.1:40000 6.6.6.6:4444")));
        let e = err("t", "dport = :abc");
        assert!(e.contains("':abc' is not a port"), "{e}");
        // With only unix tables a bare address is a name glob, as `ss -x src /run/*`.
        let x = sel("xa", "src /run/*");
        assert!(x.matches(&sock("u_str LISTEN /run/a")));
        assert!(!x.matches(&sock("u_str LISTEN /tmp/a")));
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
        assert!(!sel("t", "state listening").shows_state());
    }

    #[test]
    fn json_has_selected_sockets_and_their_processes() {
        let mut a = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
        a.owners = vec![Owner { pid: 100, fd: 3 }];
        let b = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        let mut owner = process(100, b"sshd", Some("/usr/sbin/sshd"), Some("root"));
        owner.ppid = 50;
        let procs = [(50, "systemd"), (200, "other"), (300, "unrelated")];
        let procs = procs.map(|(pid, c)| process(pid, c.as_bytes(), None, None));
        let snap = snapshot(vec![a, b], [owner].into_iter().chain(procs).collect());
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
