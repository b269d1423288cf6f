//! The `ss` filter expression (`sport = :22 and dst 10.0.0.0/8`), parsed and evaluated.
//!
//! Kept apart from selection and rendering because the grammar has quirks that need their own
//! tests. It follows iproute2 6.1's `misc/ssfilter.y` and `parse_hostcond()`/`run_ssfilter()` in
//! `misc/ss.c`:
//!
//! - Every word is split on spaces and tabs, and a backslash makes the next character literal, so
//!   `'sport = :22'` as one shell word works as it does in `ss`. `(` and `)` are words of their
//!   own; a parenthesis glued to a word is an error with a hint.
//! - `and`/`&`/`&&`, `or`/`|`/`||` and juxtaposition (which means `and`) have **equal precedence
//!   and are left-associative**: `a or b and c` is `(a or b) and c`. This is what `ss` does (its
//!   grammar is left-recursive, so the `%left` declarations never apply), although `ss(8)` says
//!   `and` binds tighter. `not`/`!` binds to the next primary.
//! - `sport`/`dport` take an optional operator (`=` `==` `eq` `!=` `ne` `neq` `<` `lt` `>` `gt`
//!   `<=` `le` `leq` `>=` `ge` `geq`) and a port: a C integer (`22`, `:22`, `0x16`; not
//!   range-checked), a service name (`:ssh`, from /etc/services, for the TCP and/or UDP tables
//!   listed; unknown or ambiguous is an error), or anything starting with `*` (any port: `*:22`
//!   is *any* port, as in `ss`). As in `ss`, a port compares with a unix socket's inode (its
//!   peer's for `dport`) and a packet socket's ifindex.
//! - `src`/`dst` take an optional `=` and `[FAMILY:]ADDR[/LEN][:PORT]`, `[IPV6[/LEN]][:PORT]`,
//!   `:PORT`, `*:PORT` or `*`. IPv4 follows iproute2 (`192.0.2/24`, `127.1` = 127.1.0.0); `any`,
//!   `all`, `default` are any address; other words are host names, resolved through the system
//!   resolver. An IPv4 prefix also matches v4-mapped IPv6 addresses. FAMILY `unix:` makes the
//!   address a case-insensitive `fnmatch` glob on the socket's name (`dst` sees an empty name),
//!   `link:PROTO[:IFACE]` tests packet sockets, `netlink:PROTO[:PORTID]` netlink sockets, and
//!   `inet:`/`inet6:` force the family. Any family (prefix, or the last of `-4`/`-6`/`-x`/`-0`/
//!   `-f`) also makes `ss` list only that family; [`Parsed::family`] says which.
//! - `dev [=|!=] NAME|INDEX` (an unknown name is an error), `fwmark [=|!=] MARK[/MASK]`,
//!   `cgroup [=|!=] PATH` (a cgroup v2 directory, as given or under the cgroup2 mount: its id)
//!   and `autobound` as in `ss`.
//! - A netlink socket's port is its port id (a C `int`: autobound ids are negative; `dport`
//!   sees -1), its `src` address its protocol number as a 32-bit word (`dst`: zero), and it is
//!   `autobound` when its port id is negative, as in `ss`'s `netlink_show_one()`.
//! - TCP and UDP sockets pass `ss`'s two checks: the kernel's bytecode (which also compares the
//!   address family, so `dst 0.0.0.0/0` keeps IPv4 and v4-mapped sockets only, and is skipped
//!   entirely when the expression has a `dev`) and the userspace `run_ssfilter()`. Raw sockets
//!   read from /proc/net/raw and unix and packet sockets pass the userspace check only.

mod addr;
pub mod lookup;

pub use addr::{Ctx, HostCond, HostKind, Prefix, ll_proto_name};

use std::collections::BTreeSet;

use crate::model::{Family, Protocol, Socket};

/// What an expression may start with, for error messages.
const EXPECTED: &str = "sport, dport, src, dst, dev, fwmark, cgroup, autobound, not or '('";

/// An address family as `ss`'s `-f` names it (and as filter prefixes force it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Af {
    /// `inet`: IPv4.
    Inet,
    /// `inet6`: IPv6.
    Inet6,
    /// `unix`.
    Unix,
    /// `link`: packet sockets.
    Packet,
    /// `netlink`.
    Netlink,
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `a and b` (also `&`, `&&`, or two expressions side by side).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (also `|`, `||`); same precedence as `and`, left to right.
    Or(Box<Expr>, Box<Expr>),
    /// `not a` (also `!`; `sport != P` is `not sport = P`, `sport > P` is `not sport <= P`).
    Not(Box<Expr>),
    /// One condition.
    Pred(Pred),
}

/// `src`/`sport` look at the local end, `dst`/`dport` at the remote end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The local end (`src`, `sport`).
    Src,
    /// The remote end (`dst`, `dport`).
    Dst,
}

/// One condition on a socket (`ss`'s SSF_* nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    /// `src`/`dst`, and `sport`/`dport` with `=`: address and port.
    Host(Side, HostCond),
    /// `sport >= P` (`dport`): port (inode, ifindex) at least P.
    Ge(Side, i64),
    /// `sport <= P`: port at most P.
    Le(Side, i64),
    /// `dev`: the bound device's index (0: none).
    Dev(u32),
    /// `fwmark VALUE/MASK`: `(mark & MASK) == VALUE`.
    Mark(u32, u32),
    /// `autobound`: a port from the ephemeral range (inclusive), an unnamed or autobound
    /// (`@` and five hex digits) unix socket, an unbound packet socket.
    Auto(u16, u16),
    /// `cgroup PATH`: the socket was created in this cgroup v2 (by id); only inet sockets
    /// carry one.
    Cgroup(u64),
}

/// A parsed expression, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The expression.
    pub expr: Expr,
    /// Whether `ss` would also send it to the kernel as bytecode (false when it has a `dev`).
    pub bytecode: bool,
}

impl Filter {
    /// Whether the socket passes, as in `ss`: the kernel's bytecode for TCP, UDP (and raw from
    /// raw_diag) sockets, then the userspace check for every socket.
    pub fn eval(&self, s: &Socket) -> bool {
        let kernel = match s.protocol {
            Protocol::Tcp | Protocol::Udp => true,
            Protocol::Raw => s.cookie.is_some(),
            _ => false,
        };
        (!kernel || !self.bytecode || self.expr.eval(s, true)) && self.expr.eval(s, false)
    }
}

impl Expr {
    /// The expression's value for `s`, with the kernel's (`kernel`) or `ss`'s userspace leaves.
    pub fn eval(&self, s: &Socket, kernel: bool) -> bool {
        match self {
            Expr::And(a, b) => a.eval(s, kernel) && b.eval(s, kernel),
            Expr::Or(a, b) => a.eval(s, kernel) || b.eval(s, kernel),
            Expr::Not(a) => !a.eval(s, kernel),
            Expr::Pred(p) => {
                if kernel {
                    p.kernel(s)
                } else {
                    p.user(s)
                }
            }
        }
    }

    fn has_dev(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.has_dev() || b.has_dev(),
            Expr::Not(a) => a.has_dev(),
            Expr::Pred(p) => matches!(p, Pred::Dev(_)),
        }
    }
}

/// The port `ss` compares: inet ports, a unix socket's inode (peer inode for `Dst`), a packet
/// socket's ifindex (0 for `Dst`), a netlink socket's port id as a C `int` (-1 for `Dst`).
fn ss_port(s: &Socket, side: Side) -> i64 {
    if let Some(n) = &s.netlink {
        return match side {
            Side::Src => i64::from(n.portid as i32),
            Side::Dst => -1,
        };
    }
    if s.protocol.is_unix() {
        return match side {
            Side::Src => s.inode as i64,
            Side::Dst => s.unix.as_ref().and_then(|u| u.peer).unwrap_or(0) as i64,
        };
    }
    if s.protocol.is_packet() {
        return match side {
            Side::Src => i64::from(s.ifindex.unwrap_or(0)),
            Side::Dst => 0,
        };
    }
    let end = if side == Side::Src { s.local } else { s.remote };
    end.map_or(0, |e| i64::from(e.port))
}

/// The address bytes `ss` compares (network order): inet addresses; zeros for an unnamed unix
/// socket, every unix `Dst`, packet `Dst` and netlink `Dst`; a packet socket's ethertype and a
/// netlink socket's protocol as a host-order word. `None` for a named unix socket, where `ss`
/// compares a pointer (treated as never matching).
fn ss_addr(s: &Socket, side: Side) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if let Some(n) = &s.netlink {
        if side == Side::Src {
            out[..4].copy_from_slice(&u32::from(n.protocol).to_ne_bytes());
        }
        return Some(out);
    }
    if s.protocol.is_unix() {
        let named = side == Side::Src && s.unix.as_ref().is_some_and(|u| u.name.is_some());
        return (!named).then_some(out);
    }
    if s.protocol.is_packet() {
        if side == Side::Src {
            let prot = u32::from(s.packet.as_ref().map_or(0, |p| p.ethertype));
            out[..4].copy_from_slice(&prot.to_ne_bytes());
        }
        return Some(out);
    }
    let end = if side == Side::Src { s.local } else { s.remote };
    match end.map(|e| e.address) {
        Some(std::net::IpAddr::V4(a)) => out[..4].copy_from_slice(&a.octets()),
        Some(std::net::IpAddr::V6(a)) => out.copy_from_slice(&a.octets()),
        None => {}
    }
    Some(out)
}

/// `inet2_addr_match()`: the bits, or an IPv4 prefix against a v4-mapped IPv6 socket address.
fn user_addr_match(s: &Socket, a: &[u8; 16], p: &Prefix) -> bool {
    if p.matches_bits(a) {
        return true;
    }
    let mapped = a[..10] == [0; 10] && a[10..12] == [0xff, 0xff];
    !p.v6 && s.family == Family::Inet6 && s.protocol.is_inet() && mapped && p.matches_bits(&a[12..])
}

impl Pred {
    /// `run_ssfilter()`'s leaf.
    fn user(&self, s: &Socket) -> bool {
        match self {
            Pred::Host(side, c) => match &c.kind {
                HostKind::Unix(glob) => {
                    let name = match side {
                        Side::Src => unix_name(s).unwrap_or_default(),
                        Side::Dst => Vec::new(),
                    };
                    s.protocol.is_unix() && glob_match(glob, &name)
                }
                HostKind::Link(proto) => {
                    let ether = s.packet.as_ref().map(|p| p.ethertype);
                    s.protocol.is_packet()
                        && (c.port == -1 || c.port == ss_port(s, *side))
                        && proto.is_none_or(|p| *side == Side::Src && ether == Some(p))
                }
                HostKind::Netlink(proto) => {
                    // ss's SCOND/DCOND: the port id, then the protocol as a 32-bit address.
                    s.protocol.is_netlink()
                        && (c.port == -1 || c.port == ss_port(s, *side))
                        && proto.is_none_or(|p| {
                            ss_addr(s, *side).is_some_and(|a| a[..4] == p.to_ne_bytes())
                        })
                }
                HostKind::Inet => {
                    if c.port != -1 && c.port != ss_port(s, *side) {
                        return false;
                    }
                    match c.addrs.first() {
                        Some(first) if first.len > 0 => ss_addr(s, *side)
                            .is_some_and(|a| c.addrs.iter().any(|p| user_addr_match(s, &a, p))),
                        _ => true,
                    }
                }
            },
            Pred::Ge(side, p) => ss_port(s, *side) >= *p,
            Pred::Le(side, p) => ss_port(s, *side) <= *p,
            Pred::Dev(i) => {
                let have = if s.protocol.is_unix() {
                    0
                } else {
                    s.ifindex.unwrap_or(0)
                };
                have == *i
            }
            Pred::Mark(value, mask) => {
                let m = if s.protocol.is_inet() && s.cookie.is_some() {
                    s.mark.unwrap_or(0)
                } else {
                    0
                };
                m & mask == *value
            }
            Pred::Auto(lo, hi) => autobound(s, *lo, *hi),
            Pred::Cgroup(id) => s.cgroup_id.unwrap_or(0) == *id,
        }
    }

    /// The kernel's `inet_diag_bc_run()` leaf, for inet sockets. The kernel's autobound test is
    /// "port not locked by bind()", which sock_diag does not report: taken as true here.
    fn kernel(&self, s: &Socket) -> bool {
        let port = |side: Side| ss_port(s, side);
        match self {
            Pred::Host(side, c) => {
                if c.port != -1 && c.port != port(*side) {
                    return false;
                }
                let Some(first) = c.addrs.first() else {
                    return true;
                };
                let a = ss_addr(s, *side).unwrap_or_default();
                let v6 = s.family == Family::Inet6;
                if c.family.is_some_and(|f| (f == Af::Inet6) != v6) {
                    let mapped = a[..10] == [0; 10] && a[10..12] == [0xff, 0xff];
                    return v6 && !first.v6 && mapped && first.matches_bits(&a[12..]);
                }
                first.len == 0 || first.matches_bits(&a)
            }
            // The bytecode carries the port as 16 bits.
            Pred::Ge(side, p) => port(*side) >= i64::from(*p as u16),
            Pred::Le(side, p) => port(*side) <= i64::from(*p as u16),
            Pred::Dev(_) | Pred::Auto(..) => true,
            Pred::Mark(value, mask) => s.mark.unwrap_or(0) & mask == *value,
            Pred::Cgroup(id) => s.cgroup_id.unwrap_or(0) == *id,
        }
    }
}

/// `ss`'s userspace autobound test.
fn autobound(s: &Socket, lo: u16, hi: u16) -> bool {
    if s.protocol.is_unix() {
        return match unix_name(s) {
            None => true,
            Some(n) => {
                n.len() == 6
                    && n[0] == b'@'
                    && n[1..].iter().all(|b| b"0123456789abcdef".contains(b))
            }
        };
    }
    if s.protocol.is_packet() {
        return s.ifindex.unwrap_or(0) == 0 && s.packet.as_ref().is_none_or(|p| p.ethertype == 0);
    }
    if s.protocol.is_netlink() {
        // Autobound port ids are negative.
        return ss_port(s, Side::Src) < 0;
    }
    let p = ss_port(s, Side::Src);
    p >= i64::from(lo) && p <= i64::from(hi)
}

/// A unix socket's name as `ss` shows it: abstract names get a leading `@` and every NUL becomes
/// `@`. `None` when unnamed. Raw bytes: escape before display.
pub(crate) fn unix_name(s: &Socket) -> Option<Vec<u8>> {
    let u = s.unix.as_ref()?;
    let name = u.name.as_ref()?.as_bytes();
    if !u.r#abstract {
        return Some(name.to_vec());
    }
    let at = |&b: &u8| if b == 0 { b'@' } else { b };
    Some(std::iter::once(b'@').chain(name.iter().map(at)).collect())
}

/// `fnmatch(pattern, name, FNM_CASEFOLD)` on bytes: `*`, `?`, `[...]` (with `!`/`^` and
/// ranges) and `\` escapes; `*` also matches `/`.
pub(crate) fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if p.get(pi) == Some(&b'*') {
            star = Some((pi + 1, si));
            pi += 1;
        } else if let Some(next) = glob_step(p, pi, s[si]) {
            (pi, si) = (next, si + 1);
        } else if let Some((sp, ss)) = star {
            // Let the last `*` swallow one more byte and retry.
            (pi, si) = (sp, ss + 1);
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches one non-`*` pattern element at `p[pi]` against `c`; returns the next pattern index.
fn glob_step(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    let eq = |a: u8| a.eq_ignore_ascii_case(&c);
    match *p.get(pi)? {
        b'?' => Some(pi + 1),
        b'\\' if pi + 1 < p.len() => eq(p[pi + 1]).then_some(pi + 2),
        b'[' => {
            let mut j = pi + 1;
            let negate = matches!(p.get(j), Some(b'!' | b'^'));
            j += usize::from(negate);
            let (mut hit, start) = (false, j);
            loop {
                let Some(&lo) = p.get(j) else {
                    // Without a closing bracket the '[' is literal.
                    return eq(b'[').then_some(pi + 1);
                };
                if lo == b']' && j > start {
                    return (hit != negate).then_some(j + 1);
                }
                if p.get(j + 1) == Some(&b'-') && p.get(j + 2).is_some_and(|&h| h != b']') {
                    let range = lo..=p[j + 2];
                    hit |= [c, c.to_ascii_lowercase(), c.to_ascii_uppercase()]
                        .iter()
                        .any(|x| range.contains(x));
                    j += 3;
                } else {
                    hit |= eq(lo);
                    j += 1;
                }
            }
        }
        other => eq(other).then_some(pi + 1),
    }
}

/// Splits words the way `ss`'s lexer does: on spaces and tabs, `\` escaping the next character.
pub fn tokenize(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        let mut cur: Option<String> = None;
        let mut chars = w.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' => out.extend(cur.take()),
                '\\' => cur.get_or_insert_default().extend(chars.next()),
                c => cur.get_or_insert_default().push(c),
            }
        }
        out.extend(cur);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    And,
    Or,
    Not,
    Open,
    Close,
    Op(Op),
    Word,
}

/// The comparison words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

fn classify(w: &str) -> Tok {
    match w {
        "!" | "not" => Tok::Not,
        "&" | "&&" | "and" => Tok::And,
        "|" | "||" | "or" => Tok::Or,
        "(" => Tok::Open,
        ")" => Tok::Close,
        "=" | "==" | "eq" => Tok::Op(Op::Eq),
        "!=" | "ne" | "neq" => Tok::Op(Op::Ne),
        ">=" | "ge" | "geq" => Tok::Op(Op::Ge),
        "<=" | "le" | "leq" => Tok::Op(Op::Le),
        ">" | "gt" => Tok::Op(Op::Gt),
        "<" | "lt" => Tok::Op(Op::Lt),
        _ => Tok::Word,
    }
}

/// A parsed filter and what parsing it decided besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The expression.
    pub filter: Filter,
    /// The family the last `src`/`dst`/`sport`/`dport` value forced (its `unix:`, `link:` ...
    /// prefix, or the preferred family); `ss` then lists only that family.
    pub family: Option<Af>,
    /// Deliberate differences from `ss` this expression ran into, to print as notes.
    pub notes: Vec<String>,
    /// A `src`/`dst` value is an inet address (docs/list.md D4: where unix sockets are listed
    /// too, it never matches a named one).
    pub inet_address: bool,
}

/// Parses the expression words (after `state`/`exclude`).
pub fn parse(tokens: &[String], ctx: &Ctx) -> Result<Option<Parsed>, FilterError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    if tokens.len() > MAX_WORDS {
        return Err(FilterError::TooLong(tokens.len()));
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        ctx,
        depth: 0,
        family: None,
        notes: Vec::new(),
        prefixed: BTreeSet::new(),
        inet_address: false,
    };
    let expr = p.list()?;
    if p.pos < tokens.len() {
        return Err(FilterError::UnmatchedClose);
    }
    let inet_only = p.prefixed.iter().all(|f| matches!(f, Af::Inet | Af::Inet6));
    if p.prefixed.len() > 1 && !inet_only {
        // docs/list.md D8, D9 and D10.
        p.notes.push(FAMILY_MIX_NOTE.to_owned());
    }
    let bytecode = !expr.has_dev();
    Ok(Some(Parsed {
        filter: Filter { expr, bytecode },
        family: p.family,
        notes: p.notes,
        inet_address: p.inet_address,
    }))
}

/// Compiles a whole expression given as one string, outside `list` (`ss:` in a rule, `scan
/// --filter`): no preferred family, service names from the TCP and UDP databases (an ambiguous
/// one is an error), no `state`/`exclude` words.
pub fn compile(text: &str, lookup: &dyn lookup::Lookup) -> Result<Filter, FilterError> {
    let tokens = tokenize(&[text.to_owned()]);
    let ctx = Ctx {
        preferred: None,
        tcp: true,
        udp: true,
        lookup,
    };
    match parse(&tokens, &ctx)? {
        Some(p) => Ok(p.filter),
        None => Err(FilterError::Truncated),
    }
}

/// Why a filter expression did not parse; each names the word at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// More than [`MAX_WORDS`] words.
    #[error("the filter has {0} words; at most {MAX_WORDS} are accepted")]
    TooLong(usize),
    /// Deeper than [`MAX_DEPTH`].
    #[error("the filter nests parentheses and `not` deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A `)` with no `(`.
    #[error("unmatched ')' in the filter")]
    UnmatchedClose,
    /// A `(` with no `)`.
    #[error("missing ')' in the filter")]
    MissingClose,
    /// The words ended where an expression was expected.
    #[error("the filter ends where an expression was expected: expected {EXPECTED}")]
    Truncated,
    /// An operator or keyword where an expression was expected.
    #[error("unexpected '{0}' in the filter: expected {EXPECTED}")]
    Unexpected(String),
    /// A word that is no filter key.
    #[error("unknown word '{0}' in the filter: expected {EXPECTED}")]
    UnknownWord(String),
    /// A parenthesis glued to a word.
    #[error("'{0}': '(' and ')' must be words of their own, as in ss: '( sport = :22 )'")]
    GluedParen(String),
    /// `state`/`exclude` after the expression started.
    #[error("'{0}' must come before the filter expression")]
    LateState(String),
    /// `src`/`dst` with an operator other than `=`.
    #[error("'{0}' takes '=' or nothing")]
    HostOperator(String),
    /// `dev`/`fwmark` with an ordering operator.
    #[error("'{0}' takes '=', '!=' or nothing")]
    Ordering(String),
    /// A key with no value after it.
    #[error("'{key}' needs a value{}", found.as_ref().map(|f| format!(", not '{f}'")).unwrap_or_default())]
    NoValue {
        /// The key.
        key: String,
        /// The operator or keyword found instead, if any.
        found: Option<String>,
    },
    /// A port that is no number and no service name of the listed tables.
    #[error(
        "{key}: '{value}' does not look like a port: expected a number or a service name \
         from /etc/services for the tcp/udp tables listed"
    )]
    Port {
        /// The key.
        key: String,
        /// The port word.
        value: String,
    },
    /// A service name the TCP and UDP databases give different ports for.
    #[error("ambiguous port '{0}': tcp and udp differ; list one table (-t or -u) or use a number")]
    AmbiguousPort(String),
    /// A value that no family's syntax takes.
    #[error("{key}: '{value}' is not an address of the family it names")]
    Address {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// An inet address that is no address, prefix or known host name.
    #[error("{key}: an inet prefix or a host name is expected rather than '{value}'{hint}")]
    Prefix {
        /// The key.
        key: String,
        /// The address part.
        value: String,
        /// A hint, or empty.
        hint: &'static str,
    },
    /// A device name that is no device here.
    #[error("dev: cannot find device '{0}' (a name in this namespace, or an index)")]
    Device(String),
    /// A `cgroup` path that is no cgroup v2 directory.
    #[error(
        "cgroup: '{0}' is not a cgroup v2 directory (a path on the cgroup2 filesystem, or \
         relative to its mount point)"
    )]
    Cgroup(String),
    /// A `fwmark` value that is not MARK[/MASK].
    #[error("fwmark: '{0}' is not a mark: expected MARK[/MASK]")]
    Mark(String),
}

/// The deepest nesting of parentheses and `not` the parser accepts: the parser and the
/// evaluator recurse once per level, and a hostile command line must not exhaust the stack.
pub const MAX_DEPTH: usize = 100;
/// The most words a filter may have: `and`/`or` chains build a tree as deep as they are long.
pub const MAX_WORDS: usize = 10_000;

struct Parser<'a> {
    toks: &'a [String],
    pos: usize,
    ctx: &'a Ctx<'a>,
    /// Parentheses and `not`s open at this point.
    depth: usize,
    family: Option<Af>,
    notes: Vec<String>,
    /// The families the values are made for (a `netlink:`, `unix:` ... value, a bare value
    /// read as a unix name, an `inet:`/`inet6:` address), for the note of D8 to D10.
    prefixed: BTreeSet<Af>,
    /// A `src`/`dst` value was an inet address ([`Parsed::inet_address`]).
    inet_address: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).map(|w| classify(w))
    }

    fn next(&mut self) -> Option<&'a str> {
        let w = self.toks.get(self.pos)?;
        self.pos += 1;
        Some(w)
    }

    /// `exprlist`: left-associative, `and` and `or` of equal precedence (see the module docs).
    fn list(&mut self) -> Result<Expr, FilterError> {
        let mut acc = self.expr()?;
        loop {
            let or = match self.peek() {
                None | Some(Tok::Close) => return Ok(acc),
                Some(t @ (Tok::Or | Tok::And)) => {
                    self.pos += 1;
                    t == Tok::Or
                }
                Some(_) => false,
            };
            let (a, b) = (Box::new(acc), Box::new(self.expr()?));
            acc = if or { Expr::Or(a, b) } else { Expr::And(a, b) };
        }
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let w = self.next().ok_or(FilterError::Truncated)?;
        let tok = classify(w);
        if matches!(tok, Tok::Open | Tok::Not) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(FilterError::TooDeep);
            }
        }
        let e = match tok {
            Tok::Open => {
                let e = self.list()?;
                match self.next() {
                    Some(")") => Ok(e),
                    _ => Err(FilterError::MissingClose),
                }
            }
            Tok::Not => Ok(Expr::Not(Box::new(self.expr()?))),
            Tok::Word => return self.primary(w),
            _ => {
                return Err(FilterError::Unexpected(w.to_owned()));
            }
        };
        self.depth -= 1;
        e
    }

    fn primary(&mut self, w: &str) -> Result<Expr, FilterError> {
        let side = if w.starts_with('s') {
            Side::Src
        } else {
            Side::Dst
        };
        let op = match w {
            "src" | "dst" | "sport" | "dport" | "dev" | "fwmark" | "cgroup" => self.operator(),
            "autobound" => {
                let (lo, hi) = self.ctx.lookup.port_range();
                if self.ctx.tcp || self.ctx.udp {
                    self.notes.push(AUTOBOUND_NOTE.to_owned());
                }
                return Ok(Expr::Pred(Pred::Auto(lo, hi)));
            }
            "state" | "exclude" | "excl" => return Err(FilterError::LateState(w.to_owned())),
            _ if glued(w) => return Err(FilterError::GluedParen(w.to_owned())),
            _ => return Err(FilterError::UnknownWord(w.to_owned())),
        };
        let v = self.value(w)?;
        if glued(v) {
            return Err(FilterError::GluedParen(v.to_owned()));
        }
        let not = |p: Pred| Expr::Not(Box::new(Expr::Pred(p)));
        Ok(match (w, op) {
            ("src" | "dst", None | Some(Op::Eq)) => Expr::Pred(self.host(side, w, v, false)?),
            ("src" | "dst", _) => return Err(FilterError::HostOperator(w.to_owned())),
            ("sport" | "dport", op) => {
                let Pred::Host(_, c) = self.host(side, w, v, true)? else {
                    unreachable!("host() returns Host")
                };
                match op {
                    None | Some(Op::Eq) => Expr::Pred(Pred::Host(side, c)),
                    Some(Op::Ne) => not(Pred::Host(side, c)),
                    Some(Op::Ge) => Expr::Pred(Pred::Ge(side, c.port)),
                    Some(Op::Le) => Expr::Pred(Pred::Le(side, c.port)),
                    Some(Op::Gt) => not(Pred::Le(side, c.port)),
                    Some(Op::Lt) => not(Pred::Ge(side, c.port)),
                }
            }
            (_, Some(Op::Lt | Op::Gt | Op::Le | Op::Ge)) => {
                return Err(FilterError::Ordering(w.to_owned()));
            }
            ("cgroup", op) => {
                let id = self
                    .ctx
                    .lookup
                    .cgroup_id(v)
                    .ok_or_else(|| FilterError::Cgroup(v.to_owned()))?;
                if self.ctx.lookup.cgroup_elsewhere(v) {
                    // docs/list.md D7.
                    self.notes.push(format!(
                        "cgroup {v}: '{v}' is not on the cgroup2 filesystem: read under its \
                         mount (ss would take the file handle of '{v}' itself)"
                    ));
                }
                let p = Pred::Cgroup(id);
                if op == Some(Op::Ne) {
                    not(p)
                } else {
                    Expr::Pred(p)
                }
            }
            ("dev", op) => {
                let p = Pred::Dev(self.device(v)?);
                if op == Some(Op::Ne) {
                    not(p)
                } else {
                    Expr::Pred(p)
                }
            }
            (_, op) => {
                let p = parse_markmask(v).ok_or_else(|| FilterError::Mark(v.to_owned()))?;
                if op == Some(Op::Ne) {
                    not(p)
                } else {
                    Expr::Pred(p)
                }
            }
        })
    }

    fn operator(&mut self) -> Option<Op> {
        let Some(Tok::Op(c)) = self.peek() else {
            return None;
        };
        self.pos += 1;
        Some(c)
    }

    fn value(&mut self, key: &str) -> Result<&'a str, FilterError> {
        match self.next() {
            Some(v) if classify(v) == Tok::Word => Ok(v),
            found => Err(FilterError::NoValue {
                key: key.to_owned(),
                found: found.map(str::to_owned),
            }),
        }
    }

    /// `parse_hostcond()`; a `/path` or `@name` without `unix:` is taken as `unix:` with a note
    /// (`ss` refuses it unless unix is the preferred family).
    fn host(&mut self, side: Side, key: &str, w: &str, is_port: bool) -> Result<Pred, FilterError> {
        // ss's preferred_family changes as the filter is parsed: each value with a family makes
        // it that family (filter_af_set()), so a later value without a prefix defaults to it.
        let ctx = Ctx {
            preferred: self.family.or(self.ctx.preferred),
            ..*self.ctx
        };
        let bare_unix = !is_port
            && (w.starts_with('/') || w.starts_with('@'))
            && ctx.preferred.is_none_or(|f| f != Af::Unix);
        let word = if bare_unix {
            self.notes.push(format!(
                "'{key} {w}' is read as '{key} unix:{w}' (ss would need the unix: prefix or -x)"
            ));
            format!("unix:{w}")
        } else {
            w.to_owned()
        };
        let (cond, fam) = addr::parse_hostcond(key, &word, is_port, &ctx)?;
        // The family each value is made for: its kind (a bare value read as a unix name after
        // -x too), or an inet:/inet6: prefix.
        let made_for = match &cond.kind {
            HostKind::Unix(_) => Some(Af::Unix),
            HostKind::Link(_) => Some(Af::Packet),
            HostKind::Netlink(_) => Some(Af::Netlink),
            HostKind::Inet => addr::prefix_family(&word),
        };
        self.prefixed.extend(made_for);
        let address = cond.addrs.first().is_some_and(|a| a.len > 0);
        if !is_port && cond.kind == HostKind::Inet && address {
            self.inet_address = true;
        }
        if fam.is_some() {
            self.family = fam;
        }
        Ok(Pred::Host(side, cond))
    }

    /// `parse_devcond()`: a device name here, else a C number.
    fn device(&self, v: &str) -> Result<u32, FilterError> {
        if let Some(i) = self.ctx.lookup.device(v) {
            return Ok(i);
        }
        addr::c_integer(v)
            .or_else(|| v.strip_prefix('+').and_then(addr::c_integer))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| FilterError::Device(v.to_owned()))
    }
}

/// The note for `autobound` on TCP/UDP.
const AUTOBOUND_NOTE: &str = "autobound: sockwarden tests the ephemeral port range only; ss also \
     asks the kernel whether bind() chose the port, so explicitly bound ports in that range differ";

/// The note for a filter whose values are made for different families (`unix:` and `inet:`,
/// `netlink:` and anything else).
const FAMILY_MIX_NOTE: &str = "values of several families in one filter: sockwarden matches \
     each value against its own family's sockets only; ss tests values on sockets they were not \
     made for (and crashes on a unix value followed by an inet: one, or unix: with netlink:)";

/// A word with a parenthesis at either end that is not a parenthesis itself.
fn glued(w: &str) -> bool {
    w.len() > 1 && (w.starts_with(['(', ')']) || w.ends_with(['(', ')']))
}

/// `MARK[/MASK]`, each decimal, `0x` hex or `0` octal (C's `%i`).
fn parse_markmask(s: &str) -> Option<Pred> {
    let num = |t: &str| match t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None if t.len() > 1 && t.starts_with('0') => u32::from_str_radix(&t[1..], 8).ok(),
        None => t.parse().ok(),
    };
    let (value, mask) = match s.split_once('/') {
        Some((v, m)) => (num(v)?, num(m)?),
        None => (num(s)?, u32::MAX),
    };
    Some(Pred::Mark(value, mask))
}

#[cfg(test)]
mod tests;
