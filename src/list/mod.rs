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
mod summary;
mod table;

pub use summary::render_summary;
pub use table::render_table;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::collect::Tables;
use crate::model::{Family, Kind, Process, Protocol, Snapshot, Socket, State, StateSet};
use filter::Af;
use filter::lookup::Lookup;

/// A flag that chooses tables, families or states, kept in command-line order: `ss` applies them
/// in order (`-a`/`-l`: the last wins; `-A` drops the tables named before it; `-4`/`-6`/`-x`/`-0`/
/// `-f`: the last is the family filter values default to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `-t`: the TCP table.
    Tcp,
    /// `-u`: the UDP table.
    Udp,
    /// `-w`: the raw IP table.
    Raw,
    /// `-x`: the unix family.
    Unix,
    /// `-0`: the packet family.
    Packet,
    /// `-4`: the inet family.
    Ipv4,
    /// `-6`: the inet6 family.
    Ipv6,
    /// `-a`: every state.
    All,
    /// `-l`: LISTEN and UNCONN.
    Listening,
    /// `-A QUERY`: comma-separated table names, `!` removing one (`all,!tcp`).
    Query(String),
    /// `-f FAMILY`: inet, inet6, link, unix, netlink (and vsock, tipc, xdp).
    Family(String),
}

/// `ss`'s flags, resolved from the command line.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Table, family and state flags in command-line order.
    pub selectors: Vec<Selector>,
    /// `-n`: numbers instead of service names, netlink protocol names and rates with units.
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
    /// `-H`: no header line.
    pub no_header: bool,
    /// `-O`: every socket on one line (`-m`/`-i` details on the socket's line).
    pub oneline: bool,
    /// `-X`: sockwarden's columns `ss` lacks: with `-p`, the holders' Exe and User.
    pub extra: bool,
    /// Service names for ports (`ss` without `-n`); `None` prints numbers.
    pub services: Option<std::sync::Arc<filter::lookup::ServiceNames>>,
    /// `--cgroup`: every TCP and UDP socket's cgroup path, after the `-e` details.
    pub show_cgroup: bool,
    /// `-r`: print addresses as host names (looked up into `hosts` before printing).
    pub resolve: bool,
    /// With `-r`: the host names of the addresses to print; `None` prints numbers.
    pub hosts: Option<std::sync::Arc<filter::lookup::HostNames>>,
    /// With `-e`: the paths of the cgroups v2 by id (`cgroup:`); `None` prints
    /// `unreachable:ID`, as `ss` for an id it cannot find.
    pub cgroups: Option<std::sync::Arc<filter::lookup::CgroupPaths>>,
    /// `--json`: print the selected sockets and their processes as JSON instead of a table.
    pub json: bool,
    /// `-s`: print `ss`'s summary first ([`render_summary`]).
    pub summary: bool,
    /// `-K`: destroy the selected TCP and UDP sockets and print those destroyed.
    pub kill: bool,
    /// `-E`: print sockets as they are destroyed.
    pub events: bool,
    /// Trailing words: `state NAME`, `exclude NAME`, and a filter expression.
    pub words: Vec<String>,
}

/// `ss`'s socket tables (`enum dbs` in ss.c), as bits.
pub mod db {
    /// TCP.
    pub const TCP: u32 = 1;
    /// UDP.
    pub const UDP: u32 = 1 << 1;
    /// Raw IP.
    pub const RAW: u32 = 1 << 2;
    /// Unix stream.
    pub const UNIX_ST: u32 = 1 << 3;
    /// Unix datagram.
    pub const UNIX_DG: u32 = 1 << 4;
    /// Unix seqpacket.
    pub const UNIX_SQ: u32 = 1 << 5;
    /// Packet raw.
    pub const PACKET_R: u32 = 1 << 6;
    /// Packet dgram.
    pub const PACKET_DG: u32 = 1 << 7;
    /// Netlink.
    pub const NETLINK: u32 = 1 << 8;
    /// DCCP, SCTP, MPTCP, vsock stream and dgram, XDP, TIPC: tables sockwarden does not list.
    pub const OTHER: [u32; 7] = [1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15];
    /// The unix tables.
    pub const UNIX: u32 = UNIX_ST | UNIX_DG | UNIX_SQ;
    /// The packet tables.
    pub const PACKET: u32 = PACKET_R | PACKET_DG;
    /// The inet tables: TCP, UDP, raw, DCCP, SCTP, MPTCP.
    pub const INET: u32 = TCP | UDP | RAW | OTHER[0] | OTHER[1] | OTHER[2];
    /// The tables sockwarden lists.
    pub const LISTED: u32 = TCP | UDP | RAW | UNIX | PACKET | NETLINK;
}

/// `-A` names and their tables (`filter_db_parse()`); the `OTHER` ones list nothing here.
const QUERY_NAMES: &[(&str, u32)] = {
    use db::*;
    let [dccp, sctp, mptcp, vst, vdg, xdp, tipc] = OTHER;
    &[
        (
            "all",
            TCP | UDP | RAW | UNIX | PACKET | NETLINK | dccp | sctp | vst | vdg | xdp,
        ),
        ("inet", TCP | UDP | RAW | dccp | sctp | mptcp),
        ("tcp", TCP),
        ("udp", UDP),
        ("raw", RAW),
        ("dccp", dccp),
        ("mptcp", mptcp),
        ("sctp", sctp),
        ("unix", UNIX),
        ("unix_stream", UNIX_ST),
        ("u_str", UNIX_ST),
        ("unix_dgram", UNIX_DG),
        ("u_dgr", UNIX_DG),
        ("unix_seqpacket", UNIX_SQ),
        ("u_seq", UNIX_SQ),
        ("packet", PACKET),
        ("packet_raw", PACKET_R),
        ("p_raw", PACKET_R),
        ("packet_dgram", PACKET_DG),
        ("p_dgr", PACKET_DG),
        ("netlink", NETLINK),
        ("tipc", tipc),
        ("vsock", vst | vdg),
        ("vsock_stream", vst),
        ("v_str", vst),
        ("vsock_dgram", vdg),
        ("v_dgr", vdg),
        ("xdp", xdp),
    ]
};

/// `ss`'s address families (`-f`), as bits.
mod fam {
    pub const INET: u32 = 1;
    pub const INET6: u32 = 1 << 1;
    pub const UNIX: u32 = 1 << 2;
    pub const PACKET: u32 = 1 << 3;
    pub const NETLINK: u32 = 1 << 4;
    pub const VSOCK: u32 = 1 << 5;
    pub const TIPC: u32 = 1 << 6;
    pub const XDP: u32 = 1 << 7;
}

fn af_bit(af: Af) -> u32 {
    match af {
        Af::Inet => fam::INET,
        Af::Inet6 => fam::INET6,
        Af::Unix => fam::UNIX,
        Af::Packet => fam::PACKET,
        Af::Netlink => fam::NETLINK,
    }
}

/// `default_dbs[]`: a table's default states and families.
fn db_defaults(bit: u32) -> (StateSet, u32) {
    let conn = StateSet::ss_connected_default();
    let close = StateSet::of(&[State::Close]);
    match bit {
        db::UDP | db::RAW => (StateSet::of(&[State::Established]), fam::INET | fam::INET6),
        db::UNIX_DG => (close, fam::UNIX),
        db::UNIX_ST | db::UNIX_SQ => (conn, fam::UNIX),
        db::PACKET_R | db::PACKET_DG => (close, fam::PACKET),
        db::NETLINK => (close, fam::NETLINK),
        b if b == db::OTHER[3] || b == db::OTHER[4] => (conn, fam::VSOCK),
        b if b == db::OTHER[5] => (close, fam::XDP),
        b if b == db::OTHER[6] => {
            let tipc = [State::Established, State::Listen, State::Close];
            (StateSet::of(&tipc), fam::TIPC)
        }
        _ => (conn, fam::INET | fam::INET6),
    }
}

/// `default_afs[]`: a family's default tables and states.
fn af_defaults(bit: u32) -> (u32, StateSet) {
    let close = StateSet::of(&[State::Close]);
    match bit {
        fam::UNIX => (db::UNIX, StateSet::ss_connected_default()),
        fam::PACKET => (db::PACKET, close),
        fam::NETLINK => (db::NETLINK, close),
        fam::VSOCK => (
            db::OTHER[3] | db::OTHER[4],
            StateSet::ss_connected_default(),
        ),
        fam::XDP => (db::OTHER[5], close),
        fam::TIPC => (db::OTHER[6], db_defaults(db::OTHER[6]).0),
        _ => (db::INET, StateSet::ss_connected_default()),
    }
}

/// `ss`'s `struct filter` while the command line is read.
#[derive(Debug, Default)]
struct SsFilter {
    dbs: u32,
    families: u32,
    states: StateSet,
    /// `state_filter` in ss's main(): from -a, -l, -A, state/exclude words.
    state_filter: StateSet,
    do_default: bool,
    saw_query: bool,
    preferred: Option<Af>,
    notes: Vec<String>,
}

impl SsFilter {
    fn db_set(&mut self, bits: u32, enable: bool) {
        for bit in (0..16).map(|i| 1u32 << i).filter(|b| bits & b != 0) {
            if enable {
                self.states = self.states.union(db_defaults(bit).0);
                self.dbs |= bit;
            } else {
                self.dbs &= !bit;
            }
        }
        self.do_default = false;
    }

    fn af_set(&mut self, bit: u32, af: Option<Af>) {
        self.states = self.states.union(af_defaults(bit).1);
        self.families |= bit;
        self.do_default = false;
        self.preferred = af;
    }

    fn apply(&mut self, sel: &Selector) -> Result<(), SelectionError> {
        match sel {
            Selector::Tcp => self.db_set(db::TCP, true),
            Selector::Udp => self.db_set(db::UDP, true),
            Selector::Raw => self.db_set(db::RAW, true),
            Selector::Unix => self.af_set(fam::UNIX, Some(Af::Unix)),
            Selector::Packet => self.af_set(fam::PACKET, Some(Af::Packet)),
            Selector::Ipv4 => self.af_set(fam::INET, Some(Af::Inet)),
            Selector::Ipv6 => self.af_set(fam::INET6, Some(Af::Inet6)),
            Selector::All => self.state_filter = StateSet::SS_ALL,
            Selector::Listening => self.state_filter = StateSet::of(&[State::Listen, State::Close]),
            Selector::Family(f) => self.family(f)?,
            Selector::Query(q) => self.query(q)?,
        }
        Ok(())
    }

    fn family(&mut self, f: &str) -> Result<(), SelectionError> {
        let (bit, af) = match f {
            "inet" => (fam::INET, Some(Af::Inet)),
            "inet6" => (fam::INET6, Some(Af::Inet6)),
            "link" => (fam::PACKET, Some(Af::Packet)),
            "unix" => (fam::UNIX, Some(Af::Unix)),
            "netlink" => (fam::NETLINK, Some(Af::Netlink)),
            "vsock" => (fam::VSOCK, None),
            "tipc" => (fam::TIPC, None),
            "xdp" => (fam::XDP, None),
            _ => return Err(SelectionError::Family(f.to_owned())),
        };
        if !matches!(f, "inet" | "inet6" | "link" | "unix" | "netlink") {
            self.notes
                .push(format!("sockwarden does not list {f} sockets"));
        }
        self.af_set(bit, af);
        Ok(())
    }

    /// `-A`: the first one drops the tables chosen so far and defaults the states to SS_CONN.
    fn query(&mut self, q: &str) -> Result<(), SelectionError> {
        if !self.saw_query {
            self.dbs = 0;
            if self.state_filter.is_empty() {
                self.state_filter = StateSet::ss_connected_default();
            }
            self.saw_query = true;
            self.do_default = false;
        }
        for name in q.split(',') {
            let (enable, bare) = match name.strip_prefix('!') {
                Some(n) => (false, n),
                None => (true, name),
            };
            let bits = QUERY_NAMES
                .iter()
                .find(|(n, _)| *n == bare)
                .map(|(_, b)| *b)
                .ok_or_else(|| SelectionError::Query(name.to_owned()))?;
            if enable && bits & db::LISTED == 0 {
                self.notes
                    .push(format!("sockwarden does not list {bare} sockets"));
            }
            self.db_set(bits, enable);
        }
        Ok(())
    }

    /// `filter_merge_defaults()`: a table brings its families, a family its tables.
    fn merge_defaults(&mut self) {
        for bit in (0..16).map(|i| 1u32 << i).filter(|b| self.dbs & b != 0) {
            let fams = db_defaults(bit).1;
            if fams & self.families == 0 {
                self.families |= fams;
            }
        }
        for bit in (0..8).map(|i| 1u32 << i).filter(|b| self.families & b != 0) {
            let dbs = af_defaults(bit).0;
            if dbs & self.dbs == 0 {
                self.dbs |= dbs;
            }
        }
    }

    /// The leading `state NAME` / `exclude NAME` words; returns how many words they took.
    fn state_words(&mut self, tokens: &[String]) -> Result<usize, SelectionError> {
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
            if name.eq_ignore_ascii_case("listen") {
                // docs/list.md D6.
                self.notes.push(
                    "state 'listen' is read as 'listening' (ss knows only 'listening')".into(),
                );
            }
            let set = if name.eq_ignore_ascii_case("unknown") {
                // Kernel state 0: no socket has it.
                StateSet(1)
            } else {
                StateSet::parse_ss(name)?
            };
            if !saw_states {
                self.state_filter = if exclude {
                    StateSet::SS_ALL
                } else {
                    StateSet::EMPTY
                };
            }
            self.state_filter = if exclude {
                self.state_filter.minus(set)
            } else {
                self.state_filter.union(set)
            };
            saw_states = true;
            i += 2;
        }
        Ok(i)
    }
}

/// What to collect and which sockets to keep.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The socket tables to dump (those of `dbs` that sockwarden lists).
    pub tables: Tables,
    /// `ss`'s tables ([`db`] bits), after `filter_merge_defaults()`.
    pub dbs: u32,
    /// Whether IPv4 inet sockets are kept (the inet family is selected).
    pub ipv4: bool,
    /// Whether IPv6 inet sockets are kept.
    pub ipv6: bool,
    /// Whether unix sockets' family is selected.
    pub unix: bool,
    /// Whether packet sockets' family is selected.
    pub packet: bool,
    /// Whether netlink sockets' family is selected.
    pub netlink: bool,
    /// The one inet family `ss` asks sock_diag for TCP and UDP sockets, when the last of
    /// `-4`/`-6`/`-x`/`-0`/`-f` is `inet` or `inet6` (`inet_show_netlink()`): `-4 -6` lists IPv6
    /// TCP/UDP sockets only, but raw sockets (read from /proc/net/raw*) of both families.
    pub diag_family: Option<Family>,
    /// States kept, for every table; also what collection asks the kernel for TCP.
    ///
    /// Like `ss`, this is one mask for all tables: with no table flag `ss`'s SS_CONN
    /// ([`StateSet::ss_connected_default`]); otherwise the union of each flag's default (`-t`,
    /// `-x`, `-4`, `-6`: SS_CONN, `-u`, `-w`: ESTABLISHED, `-0`: UNCONN); `-A` alone: SS_CONN;
    /// `-a` (every state but TCP bound-inactive, as `ss` 6.1) or `-l` (LISTEN and UNCONN),
    /// the last of them winning; `state NAME` (the first replaces, later ones add) and
    /// `exclude NAME` (from `all`) replace all that.
    pub states: StateSet,
    /// The filter expression after the state words, if any.
    pub filter: Option<filter::Filter>,
    /// Where the selection knowingly differs from `ss` (docs/list.md), to print as notes.
    pub notes: Vec<String>,
    /// Why nothing is listed, when `ss` would print only this message (and exit 0).
    pub nothing: Option<&'static str>,
    /// No table, family or `-A` flag was given (`ss`'s `do_default`): `-s` then prints the
    /// summary only, when no filter words follow.
    pub defaults: bool,
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
    /// `-A` with a name `ss` does not know.
    #[error(
        "-A: '{0}' is not a socket table: expected all, inet, tcp, udp, raw, unix, unix_stream, \
         unix_dgram, unix_seqpacket, packet, packet_raw, packet_dgram, netlink (or dccp, sctp, \
         mptcp, vsock, tipc, xdp), comma-separated, '!' to remove"
    )]
    Query(String),
    /// `-f` with a family `ss` does not know.
    #[error(
        "-f: '{0}' is not a family: expected inet, inet6, link, unix, netlink, vsock, tipc, xdp"
    )]
    Family(String),
    /// The filter expression.
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
}

impl Selection {
    /// Resolves the flags and the trailing words into a selection, as `ss` does, with the
    /// system's name lookups (see [`Selection::parse_with`]).
    pub fn parse(opts: &ListOptions) -> Result<Selection, SelectionError> {
        Selection::parse_with(opts, &filter::lookup::System)
    }

    /// Resolves the flags and the trailing words as `ss`'s main() does: flags in order, the
    /// state words, the defaults, then the filter (whose family prefix narrows the families).
    /// An error names the bad word.
    pub fn parse_with(
        opts: &ListOptions,
        lookup: &dyn Lookup,
    ) -> Result<Selection, SelectionError> {
        let mut f = SsFilter {
            do_default: true,
            ..SsFilter::default()
        };
        for s in &opts.selectors {
            f.apply(s)?;
        }
        let defaults = f.do_default;
        let tokens = filter::tokenize(&opts.words);
        let i = f.state_words(&tokens)?;
        if f.do_default {
            if f.state_filter.is_empty() {
                f.state_filter = StateSet::ss_connected_default();
            }
            f.db_set(QUERY_NAMES[0].1, true);
        }
        if !f.state_filter.is_empty() {
            f.states = f.state_filter;
        }
        f.merge_defaults();
        let nothing = if f.dbs == 0 {
            Some("no socket tables to show with such filter")
        } else if f.families == 0 {
            Some("no families to show with such filter")
        } else if f.states.is_empty() {
            Some("no socket states to show with such filter")
        } else {
            None
        };
        let ctx = filter::Ctx {
            preferred: f.preferred,
            tcp: f.dbs & db::TCP != 0,
            udp: f.dbs & db::UDP != 0,
            lookup,
        };
        let parsed = if nothing.is_some() {
            None
        } else {
            filter::parse(&tokens[i..], &ctx)?
        };
        if let Some(af) = parsed.as_ref().and_then(|p| p.family) {
            // filter_af_set(): the prefix's family is also the preferred one.
            f.families = af_bit(af);
            f.preferred = Some(af);
        }
        let unix_listed = f.families & fam::UNIX != 0 && f.dbs & db::UNIX != 0;
        if unix_listed && parsed.as_ref().is_some_and(|p| p.inet_address) {
            // docs/list.md D4.
            f.notes.push(
                "an inet address never matches a named unix socket here; ss compares bytes of \
                 an internal pointer with it"
                    .into(),
            );
        }
        let mut sel = f.into_selection(parsed, nothing);
        sel.defaults = defaults;
        Ok(sel)
    }

    /// Whether a socket is kept: its table and family selected, its state in `states`, and the
    /// filter expression true for it.
    pub fn matches(&self, s: &Socket) -> bool {
        let (table, family) = match s.protocol {
            Protocol::Tcp => (db::TCP, self.diag_family(s)),
            Protocol::Udp => (db::UDP, self.diag_family(s)),
            Protocol::Raw => (db::RAW, self.inet_family(s)),
            Protocol::UnixStream => (db::UNIX_ST, self.unix),
            Protocol::UnixDgram => (db::UNIX_DG, self.unix),
            Protocol::UnixSeqpacket => (db::UNIX_SQ, self.unix),
            // ss 6.1 never tells packet_raw from packet_dgram: either lists every packet socket
            // (packet_show_sock() does not look, packet_show_line() looks too early).
            Protocol::PacketRaw | Protocol::PacketDgram => (db::PACKET, self.packet),
            Protocol::Netlink => (db::NETLINK, self.netlink),
        };
        self.nothing.is_none()
            && self.dbs & table != 0
            && family
            && self.states.contains(s.state)
            && self.filter.as_ref().is_none_or(|f| f.eval(s))
    }

    /// Whether a socket the kernel reports destroyed (`-E`) is printed: as [`Selection::matches`]
    /// without the states (`ss -E` does not look at them: a destroyed socket is CLOSE).
    pub fn matches_event(&self, s: &Socket) -> bool {
        let mut probe = self.clone();
        probe.states = StateSet::ALL;
        probe.matches(s)
    }

    fn diag_family(&self, s: &Socket) -> bool {
        self.inet_family(s) && self.diag_family.is_none_or(|f| f == s.family)
    }

    fn inet_family(&self, s: &Socket) -> bool {
        match s.family {
            Family::Inet => self.ipv4,
            Family::Inet6 => self.ipv6,
            _ => false,
        }
    }

    /// The Netid column is shown when more than one of `ss`'s tables is selected.
    pub fn shows_netid(&self) -> bool {
        self.dbs.count_ones() > 1
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

impl SsFilter {
    fn into_selection(
        mut self,
        parsed: Option<filter::Parsed>,
        nothing: Option<&'static str>,
    ) -> Selection {
        let has = |bit: u32| self.families & bit != 0;
        let (ipv4, ipv6, unix, packet, netlink) = (
            has(fam::INET),
            has(fam::INET6),
            has(fam::UNIX),
            has(fam::PACKET),
            has(fam::NETLINK),
        );
        let dbs = self.dbs;
        let tables = Tables {
            tcp: dbs & db::TCP != 0 && (ipv4 || ipv6),
            udp: dbs & db::UDP != 0 && (ipv4 || ipv6),
            raw: dbs & db::RAW != 0 && (ipv4 || ipv6),
            unix: dbs & db::UNIX != 0 && unix,
            packet: dbs & db::PACKET != 0 && packet,
            // As ss's netlink_show(): netlink sockets are all UNCONN, so they are dumped only
            // when that state is shown.
            netlink: dbs & db::NETLINK != 0 && netlink && self.states.contains(State::Close),
        };
        let (filter, mut notes) = match parsed {
            Some(p) => (Some(p.filter), p.notes),
            None => (None, Vec::new()),
        };
        notes.append(&mut self.notes);
        notes.dedup();
        Selection {
            tables,
            dbs,
            ipv4,
            ipv6,
            unix,
            packet,
            netlink,
            diag_family: match self.preferred {
                Some(Af::Inet) => Some(Family::Inet),
                Some(Af::Inet6) => Some(Family::Inet6),
                _ => None,
            },
            states: self.states,
            filter,
            notes,
            nothing,
            defaults: false,
        }
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

/// The addresses `-r` looks up for these sockets, as `ss`'s `inet_addr_print()` does: the local
/// and peer addresses of TCP, UDP and raw sockets, but not the IPv6 wildcard of a dual-stack
/// socket (printed `*`).
pub fn host_addresses(sockets: &[&Socket]) -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    for s in sockets.iter().filter(|s| s.protocol.is_inet()) {
        let v6only = s.v6only == Some(true);
        for e in [s.local, s.remote].into_iter().flatten() {
            let wildcard = match e.address {
                std::net::IpAddr::V6(a) => a.is_unspecified() && !v6only,
                std::net::IpAddr::V4(_) => false,
            };
            if !wildcard {
                out.push(e.address);
            }
        }
    }
    out
}

/// `ss`'s table order: it prints netlink, then packet, unix, raw, UDP and TCP sockets
/// (`main()` in misc/ss.c). Within a table the snapshot's order is kept.
pub fn ss_table_rank(p: Protocol) -> u8 {
    match p.kind() {
        Kind::Netlink => 0,
        Kind::Packet => 1,
        Kind::Unix => 2,
        Kind::Raw => 3,
        Kind::Udp => 4,
        Kind::Tcp => 5,
    }
}

/// Puts the selected sockets in `ss`'s order: by namespace (with `--all-netns`), then by table
/// ([`ss_table_rank`]); a stable sort, so each table keeps the snapshot's order.
pub fn ss_order(sockets: &mut [&Socket]) {
    sockets.sort_by_key(|s| (s.netns, ss_table_rank(s.protocol)));
}

/// Builders for hand-made snapshots, shared by the tests of this module's files.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::net::SocketAddr;

    use serde::{Serialize, de::DeserializeOwned};
    use serde_json::{Value, json};

    use super::{ListOptions, Selector};
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
        if protocol.is_netlink() {
            return netlink(w.get(2).copied().unwrap_or("0:0"));
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

    /// A netlink socket from `"PROTO:PORTID"` (numbers; the port id may be negative); inode 1.
    pub fn netlink(spec: &str) -> Socket {
        let (proto, port) = spec.split_once(':').expect("PROTO:PORTID");
        let mut s = Socket::new(Protocol::Netlink, Family::Netlink, State::Close, 1);
        s.netlink = Some(Box::new(NetlinkInfo {
            protocol: proto.parse().expect("protocol"),
            r#type: "raw".into(),
            portid: port.parse::<i32>().expect("port id") as u32,
            dst_portid: None,
            dst_group: None,
            groups: Vec::new(),
            flags: None,
        }));
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
            let sel = match c {
                't' => Some(Selector::Tcp),
                'u' => Some(Selector::Udp),
                'w' => Some(Selector::Raw),
                'x' => Some(Selector::Unix),
                '0' => Some(Selector::Packet),
                'l' => Some(Selector::Listening),
                'a' => Some(Selector::All),
                '4' => Some(Selector::Ipv4),
                '6' => Some(Selector::Ipv6),
                _ => None,
            };
            if let Some(sel) = sel {
                o.selectors.push(sel);
                continue;
            }
            *match c {
                'n' => &mut o.numeric,
                'p' => &mut o.processes,
                'e' => &mut o.extended,
                'i' => &mut o.info,
                'm' => &mut o.memory,
                'o' => &mut o.options,
                'b' => &mut o.bpf,
                'H' => &mut o.no_header,
                'O' => &mut o.oneline,
                'X' => &mut o.extra,
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
        assert_eq!(
            sel("", "").tables,
            Tables {
                netlink: false,
                ..Tables::ALL
            },
            "netlink sockets are UNCONN: not dumped for SS_CONN"
        );
        assert_eq!(sel("a", "").tables, Tables::ALL);
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
        let none = sel("t", "exclude all");
        assert!(
            none.nothing.is_none() && none.matches(&estab),
            "an empty state set is ignored"
        );
        assert_eq!(
            none.states,
            StateSet::ss_connected_default(),
            "as ss: -t's default"
        );
        assert!(
            !sel("t", "state unknown").matches(&estab),
            "state 0: no socket"
        );
    }

    #[test]
    fn state_then_filter() {
        let s = sel("t", "state established dport = :4444");
        assert!(s.filter.is_some());
        assert!(s.matches(&sock("tcp ESTAB 10.0.0.1:40000 6.6.6.6:4444")));
        assert!(!s.matches(&sock("tcp ESTAB 10.0.0.1:40000 6.6.6.6:4443")));
        assert!(!s.matches(&sock("tcp SYN-SENT 10.0.0.1:40000 6.6.6.6:4444")));
        let e = err("t", "dport = :abc");
        assert!(e.contains("'abc' does not look like a port"), "{e}");
        // With unix the preferred family a bare address is a name glob, as `ss -x src /run/*`.
        let x = sel("xa", "src /run/*");
        assert!(x.matches(&sock("u_str LISTEN /run/a")));
        assert!(!x.matches(&sock("u_str LISTEN /tmp/a")));
    }

    #[test]
    fn flag_order_and_queries_follow_ss() {
        let listen = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
        let estab = sock("tcp ESTAB 10.0.0.1:22 10.0.0.2:5000");
        let uconn = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        let ux = sock("u_str ESTAB");
        assert!(
            sel("tal", "").matches(&listen) && !sel("tal", "").matches(&estab),
            "-l last"
        );
        assert!(sel("tla", "").matches(&estab), "-a last");
        let q = |sels: Vec<Selector>, words: &str| {
            let mut o = opts("", words);
            o.selectors = sels;
            Selection::parse(&o).unwrap()
        };
        let inet_unix = q(vec![Selector::Query("inet,unix".into())], "");
        assert!(inet_unix.matches(&estab) && inet_unix.matches(&ux));
        assert!(!inet_unix.matches(&listen), "-A alone: SS_CONN");
        let not_tcp = q(vec![Selector::All, Selector::Query("all,!tcp".into())], "");
        assert!(!not_tcp.matches(&estab) && not_tcp.matches(&uconn) && not_tcp.matches(&ux));
        let dropped = q(vec![Selector::Tcp, Selector::Query("udp".into())], "");
        assert!(!dropped.matches(&estab), "-A drops -t given before it");
        let kept = q(vec![Selector::Unix, Selector::Query("tcp".into())], "");
        assert!(
            kept.matches(&ux) && kept.matches(&estab),
            "families survive -A"
        );
        let link = q(vec![Selector::Family("link".into())], "");
        assert!(link.matches(&sock("p_raw UNCONN")) && !link.matches(&ux));
        let e = Selection::parse(&ListOptions {
            selectors: vec![Selector::Query("tcpp".into())],
            ..ListOptions::default()
        });
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("'tcpp' is not a socket table")
        );
        let nl = q(vec![Selector::Family("netlink".into())], "");
        assert!(nl.notes.is_empty() && nl.netlink && nl.tables.netlink);
        assert!(nl.matches(&sock("nl UNCONN")) && !nl.matches(&ux));
        assert!(!nl.tables.tcp && !nl.tables.unix);
        let x4 = q(vec![Selector::Ipv4, Selector::Unix], "src /x*");
        assert!(
            x4.unix && !x4.ipv4,
            "a filter value narrows the families, as in ss"
        );
    }

    #[test]
    fn last_inet_family_flag_limits_the_tcp_udp_dump_as_in_ss() {
        let t4 = sock("tcp LISTEN 0.0.0.0:22 0.0.0.0:0");
        let t6 = sock("tcp LISTEN [::]:22 [::]:0");
        let u4 = sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0");
        let r4 = sock("raw UNCONN 0.0.0.0:1 0.0.0.0:0");
        let s = sel("46a", "");
        assert!(s.matches(&t6) && !s.matches(&t4) && !s.matches(&u4));
        assert!(s.matches(&r4), "raw comes from /proc/net/raw, by family");
        let s = sel("64a", "");
        assert!(s.matches(&t4) && s.matches(&u4) && !s.matches(&t6));
        let s = sel("6x4xa", "");
        assert!(s.matches(&t4) && s.matches(&t6), "-x last: both dumps");
        let s = sel("4a", "src inet6:[::]");
        assert!(
            s.matches(&t6) && !s.matches(&t4),
            "a prefix is the last family"
        );
    }

    #[test]
    fn netlink_sockets_follow_ss_tables_states_and_filters() {
        let kernel = sock("nl UNCONN 0:0");
        let ss = sock("nl UNCONN 4:4242");
        let auto = sock("nl UNCONN 16:-4123");
        assert!(sel("a", "").matches(&kernel), "ss -a lists netlink");
        assert!(!sel("", "").matches(&kernel), "UNCONN: not without -a/-l");
        assert!(sel("l", "").matches(&kernel));
        assert!(!sel("ta", "").matches(&kernel) && !sel("xa", "").matches(&kernel));
        let q = |query: &str, words: &str| {
            let mut o = opts("a", words);
            o.selectors.push(Selector::Query(query.into()));
            Selection::parse(&o).unwrap()
        };
        assert!(q("netlink", "").matches(&ss) && !q("all,!netlink", "").matches(&ss));
        let p = sel("a", "src netlink:tcpdiag");
        assert!(p.matches(&ss) && !p.matches(&kernel) && !p.matches(&auto));
        assert!(
            p.netlink && !p.unix && !p.ipv4,
            "the prefix narrows the families"
        );
        assert!(sel("a", "src netlink:rtnl:kernel").matches(&kernel));
        assert!(!sel("a", "src netlink:rtnl:kernel").matches(&ss));
        assert!(sel("a", "src netlink:*:4242").matches(&ss));
        assert!(sel("a", "src netlink:16").matches(&auto));
        assert!(
            sel("a", "sport = :4242").matches(&ss),
            "the port id is the port"
        );
        assert!(
            sel("a", "sport < :0").matches(&auto),
            "autobound ids are negative"
        );
        assert!(sel("a", "autobound").matches(&auto) && !sel("a", "autobound").matches(&ss));
        assert!(!sel("a", "dport = :0").matches(&kernel), "dport is -1");
        assert!(sel("a", "dport < :0").matches(&kernel));
        assert!(
            sel("a", "dst netlink:rtnl").matches(&ss),
            "dst compares protocol 0 with a zero address, as ss"
        );
        assert!(!sel("a", "dst netlink:genl").matches(&auto));
        assert!(
            sel("a", "src 16.0.0.0/8").matches(&auto),
            "ss's address bytes"
        );
        assert!(!sel("a", "src 127.0.0.1").matches(&kernel));
        let e = err("a", "src netlink:nosuch");
        assert!(e.contains("netlink:nosuch"), "{e}");
        assert!(err("a", "src netlink:256").contains("netlink:256"));
    }

    /// D2 and D6 of docs/list.md print a note.
    #[test]
    fn selection_differences_print_notes() {
        let listen = sel("t", "state listen");
        assert!(listen.notes.iter().any(|n| n.contains("'listening'")), "D6");
        assert!(sel("t", "state listening").notes.is_empty());
        let mut o = opts("a", "");
        o.selectors.push(Selector::Query("sctp".into()));
        let s = Selection::parse(&o).unwrap();
        assert!(
            s.notes.iter().any(|n| n.contains("does not list sctp")),
            "D2"
        );
        let d4 = sel("a", "src 127.0.0.1 or src unix:/x*");
        assert!(
            d4.unix && d4.notes.iter().any(|n| n.contains("named unix socket")),
            "D4"
        );
        assert!(
            sel("a", "src 127.0.0.1").notes.len() == 1,
            "no prefix: ss keeps every family, unix too"
        );
        assert!(
            sel("t", "src 127.0.0.1").notes.is_empty(),
            "unix not listed: no note"
        );
        assert!(
            sel("a", "src inet:127.0.0.1").notes.is_empty(),
            "inet: narrows"
        );
    }

    #[test]
    fn tables_print_in_ss_order() {
        let snap = snapshot(
            vec![
                sock("tcp ESTAB 10.0.0.1:22 10.0.0.2:5000"),
                sock("udp UNCONN 0.0.0.0:53 0.0.0.0:0"),
                sock("raw UNCONN 0.0.0.0:1 0.0.0.0:0"),
                sock("u_str LISTEN /run/a"),
                sock("p_raw UNCONN"),
                sock("nl UNCONN 0:0"),
            ],
            Vec::new(),
        );
        let mut all: Vec<&Socket> = snap.sockets.iter().collect();
        ss_order(&mut all);
        let netids: Vec<&str> = all.iter().map(|s| s.protocol.netid()).collect();
        assert_eq!(netids, ["nl", "p_raw", "u_str", "raw", "udp", "tcp"]);
    }

    #[test]
    fn packet_raw_and_dgram_queries_list_every_packet_socket_as_ss_6_1() {
        let mut o = opts("a", "");
        o.selectors.push(Selector::Query("packet_raw".into()));
        let s = Selection::parse(&o).unwrap();
        assert!(s.matches(&sock("p_raw UNCONN")) && s.matches(&sock("p_dgr UNCONN")));
        assert!(!s.matches(&sock("u_str ESTAB")));
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
        a.owners = smallvec::smallvec![Owner { pid: 100, fd: 3 }];
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
