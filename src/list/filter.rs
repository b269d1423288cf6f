//! The `ss` filter expression (`sport = :22 and dst 10.0.0.0/8`), parsed and evaluated.
//!
//! Kept apart from selection and rendering because the grammar has quirks that need their own
//! tests. It follows `misc/ssfilter.y` of iproute2:
//!
//! - Every word is split on spaces and tabs, and a backslash makes the next character literal, so
//!   `'sport = :22'` as one shell word works as it does in `ss`.
//! - `and`/`&`/`&&`, `or`/`|`/`||` and juxtaposition (which means `and`) have **equal precedence
//!   and are left-associative**: `a or b and c` is `(a or b) and c`. This is what `ss` does (its
//!   grammar is left-recursive, so the `%left` declarations never apply), although `ss(8)` says
//!   `and` binds tighter. `not`/`!` binds to the next primary. `(` and `)` are separate words.
//! - `sport`/`dport` take an optional operator (`=` `==` `eq` `!=` `ne` `neq` `<` `lt` `>` `gt`
//!   `<=` `le` `leq` `>=` `ge` `geq`; none means `=`) and a port written `:22`, `22` or `*:22`.
//!   A port predicate is false for unix and packet sockets whatever the operator.
//! - `src`/`dst` take an optional `=` and `ADDR[/PREFIX][:PORT]`, `[IPV6][/PREFIX][:PORT]`,
//!   `:PORT`, `*:PORT` or `*`. An IPv4 prefix also matches v4-mapped IPv6 addresses, as in `ss`.
//!   Host names and service names are never resolved. `unix:GLOB` (or a word starting with `/`
//!   or `@`, or any address when only unix tables are listed) is an `fnmatch`-style,
//!   case-insensitive glob on a unix socket's name; for `dst` it is matched against the empty
//!   string, because `ss` never resolves the peer's name either.
//! - `dev [=|!=] NAME|INDEX` and `fwmark [=|!=] MARK[/MASK]` as in `ss`; `autobound` and
//!   `cgroup` are rejected with an error.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::model::Socket;

/// What an expression may start with, for error messages.
const EXPECTED: &str = "sport, dport, src, dst, dev, fwmark, not or '('";

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `a and b` (also `&`, `&&`, or two expressions side by side).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (also `|`, `||`); same precedence as `and`, left to right.
    Or(Box<Expr>, Box<Expr>),
    /// `not a` (also `!`). A predicate that does not apply to a socket is false, so its `not` is
    /// true (`not sport = :22` keeps every unix socket).
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

/// A port comparison, socket's port on the left: `sport < :1024` is `port < 1024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`, `==`, `eq`, or no operator.
    Eq,
    /// `!=`, `ne`, `neq`.
    Ne,
    /// `<`, `lt`.
    Lt,
    /// `>`, `gt`.
    Gt,
    /// `<=`, `le`, `leq`.
    Le,
    /// `>=`, `ge`, `geq`.
    Ge,
}

/// One condition on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    /// `sport`/`dport OP PORT`: inet sockets only.
    Port(Side, Cmp, u16),
    /// `src`/`dst` with an address or prefix and a port (`None` = any): inet sockets only.
    Host(Side, Option<IpNet>, Option<u16>),
    /// `src`/`dst` with a glob on a unix socket's name: unix sockets only.
    UnixName(Side, Vec<u8>),
    /// `dev`: the bound device, by index or by name.
    DevIndex(u32),
    /// `dev NAME`: the bound device by name, as resolved in the socket's namespace.
    DevName(String),
    /// `fwmark VALUE/MASK`: `(mark & MASK) == VALUE`.
    Mark(u32, u32),
}

impl Expr {
    /// Whether the socket passes the expression.
    pub fn eval(&self, s: &Socket) -> bool {
        match self {
            Expr::And(a, b) => a.eval(s) && b.eval(s),
            Expr::Or(a, b) => a.eval(s) || b.eval(s),
            Expr::Not(a) => !a.eval(s),
            Expr::Pred(p) => p.eval(s),
        }
    }
}

impl Pred {
    fn eval(&self, s: &Socket) -> bool {
        let end = |side: &Side| {
            if *side == Side::Src {
                s.local
            } else {
                s.remote
            }
        };
        let inet = s.protocol.is_inet();
        match self {
            Pred::Port(side, cmp, want) => {
                inet && end(side).is_some_and(|e| cmp.test(e.port, *want))
            }
            Pred::Host(side, net, port) => {
                inet && end(side).is_some_and(|e| {
                    port.is_none_or(|p| p == e.port)
                        && net.is_none_or(|n| addr_matches(&n, e.address))
                })
            }
            Pred::UnixName(side, glob) => {
                let name = match side {
                    Side::Src => unix_name(s).unwrap_or_default(),
                    Side::Dst => Vec::new(),
                };
                s.protocol.is_unix() && glob_match(glob, &name)
            }
            Pred::DevIndex(i) => s.ifindex == Some(*i),
            Pred::DevName(n) => s.interface.as_deref() == Some(n.as_str()),
            Pred::Mark(value, mask) => s.mark.unwrap_or(0) & mask == *value,
        }
    }
}

impl Cmp {
    fn test(self, have: u16, want: u16) -> bool {
        match self {
            Cmp::Eq => have == want,
            Cmp::Ne => have != want,
            Cmp::Lt => have < want,
            Cmp::Gt => have > want,
            Cmp::Le => have <= want,
            Cmp::Ge => have >= want,
        }
    }
}

/// `ss`'s `inet2_addr_match()`: a zero-length prefix matches anything, an IPv4 prefix also
/// matches a v4-mapped IPv6 address.
fn addr_matches(net: &IpNet, a: IpAddr) -> bool {
    match (net, a) {
        _ if net.prefix_len() == 0 => true,
        (IpNet::V4(n), IpAddr::V4(a)) => n.contains(&a),
        (IpNet::V4(n), IpAddr::V6(a)) => a.to_ipv4_mapped().is_some_and(|m| n.contains(&m)),
        (IpNet::V6(n), IpAddr::V6(a)) => n.contains(&a),
        (IpNet::V6(_), IpAddr::V4(_)) => false,
    }
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
    Op(Cmp),
    Word,
}

fn classify(w: &str) -> Tok {
    match w {
        "!" | "not" => Tok::Not,
        "&" | "&&" | "and" => Tok::And,
        "|" | "||" | "or" => Tok::Or,
        "(" => Tok::Open,
        ")" => Tok::Close,
        "=" | "==" | "eq" => Tok::Op(Cmp::Eq),
        "!=" | "ne" | "neq" => Tok::Op(Cmp::Ne),
        ">=" | "ge" | "geq" => Tok::Op(Cmp::Ge),
        "<=" | "le" | "leq" => Tok::Op(Cmp::Le),
        ">" | "gt" => Tok::Op(Cmp::Gt),
        "<" | "lt" => Tok::Op(Cmp::Lt),
        _ => Tok::Word,
    }
}

/// Parses the expression words (after `state`/`exclude`). `unix_hosts`: only unix tables are
/// listed, so a bare `src`/`dst` address is a unix name glob (as `ss -x src /run/*`).
pub fn parse(tokens: &[String], unix_hosts: bool) -> Result<Option<Expr>, FilterError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    if tokens.len() > MAX_WORDS {
        return Err(FilterError::TooLong(tokens.len()));
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        unix_hosts,
        depth: 0,
    };
    let e = p.list()?;
    if p.pos < tokens.len() {
        return Err(FilterError::UnmatchedClose);
    }
    Ok(Some(e))
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
    /// A key `ss` has that this filter does not (`autobound`, `cgroup`).
    #[error("'{0}' filters are not supported")]
    Unsupported(String),
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
    /// A `sport`/`dport` value that is not a port.
    #[error(
        "{key}: '{value}' is not a port: expected :PORT, PORT or *:PORT with PORT 0-65535 \
         (service names are not resolved)"
    )]
    Port {
        /// `sport` or `dport`.
        key: String,
        /// The value.
        value: String,
    },
    /// A `src`/`dst` value that is not an address.
    #[error(
        "{key}: '{value}' is not an address: expected ADDR[/PREFIX][:PORT], \
         [IPV6][/PREFIX][:PORT], :PORT, * or unix:GLOB (names are not resolved)"
    )]
    Address {
        /// `src` or `dst`.
        key: String,
        /// The value.
        value: String,
    },
    /// An address family prefix other than `unix:`.
    #[error("{key}: '{value}': the '{prefix}' prefix is not supported (only unix:GLOB)")]
    Prefix {
        /// `src` or `dst`.
        key: String,
        /// The value.
        value: String,
        /// The prefix.
        prefix: &'static str,
    },
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
    unix_hosts: bool,
    /// Parentheses and `not`s open at this point.
    depth: usize,
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
            "src" | "dst" | "sport" | "dport" | "dev" | "fwmark" => self.operator(),
            "autobound" | "cgroup" => return Err(FilterError::Unsupported(w.to_owned())),
            "state" | "exclude" | "excl" => return Err(FilterError::LateState(w.to_owned())),
            _ => return Err(FilterError::UnknownWord(w.to_owned())),
        };
        let v = self.value(w)?;
        let pred = match (w, op) {
            ("src" | "dst", None | Some(Cmp::Eq)) => self.host(side, w, v)?,
            ("src" | "dst", _) => return Err(FilterError::HostOperator(w.to_owned())),
            ("sport" | "dport", op) => {
                let bare = v.strip_prefix("*:").or(v.strip_prefix(':')).unwrap_or(v);
                let port = parse_port(bare).ok_or_else(|| FilterError::Port {
                    key: w.to_owned(),
                    value: v.to_owned(),
                })?;
                Pred::Port(side, op.unwrap_or(Cmp::Eq), port)
            }
            (_, Some(Cmp::Lt | Cmp::Gt | Cmp::Le | Cmp::Ge)) => {
                return Err(FilterError::Ordering(w.to_owned()));
            }
            ("dev", _) => v.parse().map_or(Pred::DevName(v.into()), Pred::DevIndex),
            _ => parse_markmask(v).ok_or_else(|| FilterError::Mark(v.to_owned()))?,
        };
        Ok(match op {
            Some(Cmp::Ne) if !matches!(pred, Pred::Port(..)) => {
                Expr::Not(Box::new(Expr::Pred(pred)))
            }
            _ => Expr::Pred(pred),
        })
    }

    fn operator(&mut self) -> Option<Cmp> {
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

    fn host(&self, side: Side, key: &str, w: &str) -> Result<Pred, FilterError> {
        if let Some(glob) = w.strip_prefix("unix:") {
            return Ok(Pred::UnixName(side, glob.into()));
        }
        for prefix in ["inet:", "inet6:", "link:", "netlink:", "vsock:"] {
            if w.starts_with(prefix) {
                return Err(FilterError::Prefix {
                    key: key.to_owned(),
                    value: w.to_owned(),
                    prefix,
                });
            }
        }
        if self.unix_hosts || w.starts_with('/') || w.starts_with('@') {
            return Ok(Pred::UnixName(side, w.into()));
        }
        let (net, port) = parse_inet_host(w).ok_or_else(|| FilterError::Address {
            key: key.to_owned(),
            value: w.to_owned(),
        })?;
        Ok(Pred::Host(side, net, port))
    }
}

/// Decimal digits only, 0-65535.
fn parse_port(s: &str) -> Option<u16> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| s.parse().ok()).flatten()
}

/// A port after an address: a number, or `*` for any (`Some(None)`).
fn host_port(s: &str) -> Option<Option<u16>> {
    if s == "*" {
        Some(None)
    } else {
        parse_port(s).map(Some)
    }
}

fn with_prefix(addr: IpAddr, len: Option<&str>) -> Option<IpNet> {
    match len {
        None => Some(IpNet::from(addr)),
        Some(l) => IpNet::new(addr, parse_port(l)?.try_into().ok()?).ok(),
    }
}

/// `ss`'s inet HOST forms; `None` when the word is not one of them. The port separator is the
/// last `:`; IPv6 needs brackets when a port or prefix follows, as in `ss`, but a bare IPv6
/// address or prefix is accepted too.
fn parse_inet_host(w: &str) -> Option<(Option<IpNet>, Option<u16>)> {
    if w == "*" {
        return Some((None, None));
    }
    if let Some(rest) = w.strip_prefix('[') {
        let (inner, tail) = rest.split_once(']')?;
        let (addr, len) = inner
            .split_once('/')
            .map_or((inner, None), |(a, l)| (a, Some(l)));
        let (pre, port) = match tail.split_once(':') {
            Some((pre, p)) => (pre, host_port(p)?),
            None => (tail, None),
        };
        let len = match (pre.strip_prefix('/'), len) {
            (None, len) if pre.is_empty() => len,
            (Some(l), None) => Some(l),
            _ => return None,
        };
        return Some((Some(with_prefix(addr.parse().ok()?, len)?), port));
    }
    if let Ok(a) = w.parse::<IpAddr>() {
        return Some((Some(IpNet::from(a)), None));
    }
    if let Ok(n) = w.parse::<IpNet>() {
        return Some((Some(n), None));
    }
    let (addr, port) = w.rsplit_once(':')?;
    let port = host_port(port)?;
    if addr.is_empty() || addr == "*" {
        return Some((None, port));
    }
    let (a, len) = addr
        .split_once('/')
        .map_or((addr, None), |(a, l)| (a, Some(l)));
    let a: Ipv4Addr = a.parse().ok()?;
    Some((Some(with_prefix(a.into(), len)?), port))
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
