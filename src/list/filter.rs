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

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{Endpoint, Socket};

/// What an expression may start with, for error messages.
const EXPECTED: &str = "sport, dport, src, dst, dev, fwmark, not or '('";

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Pred(Pred),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Src,
    Dst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
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

/// One condition on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    /// `sport`/`dport`: inet sockets only.
    Port {
        side: Side,
        cmp: Cmp,
        port: u16,
    },
    /// `src`/`dst` with an IP address, prefix and/or port: inet sockets only. `None` = any.
    Host {
        side: Side,
        net: Option<IpNet>,
        port: Option<u16>,
    },
    /// `src`/`dst` with a glob on a unix socket's name: unix sockets only.
    UnixName {
        side: Side,
        glob: Vec<u8>,
    },
    /// `dev`: the bound device, by index or by name.
    DevIndex(u32),
    DevName(String),
    /// `fwmark`: `(mark & mask) == value`.
    Mark {
        value: u32,
        mask: u32,
    },
}

impl Expr {
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
        let endpoint = |side: &Side| -> Option<Endpoint> {
            match side {
                Side::Src => s.local,
                Side::Dst => s.remote,
            }
        };
        match self {
            Pred::Port { side, cmp, port } => {
                s.protocol.is_inet() && endpoint(side).is_some_and(|e| cmp.test(e.port, *port))
            }
            Pred::Host { side, net, port } => {
                s.protocol.is_inet()
                    && endpoint(side).is_some_and(|e| {
                        port.is_none_or(|p| p == e.port)
                            && net.is_none_or(|n| addr_matches(&n, e.address))
                    })
            }
            Pred::UnixName { side, glob } => {
                s.protocol.is_unix() && {
                    let name = match side {
                        Side::Src => unix_name(s).unwrap_or_default(),
                        Side::Dst => Vec::new(),
                    };
                    glob_match(glob, &name)
                }
            }
            Pred::DevIndex(i) => s.ifindex == Some(*i),
            Pred::DevName(n) => s.interface.as_deref() == Some(n.as_str()),
            Pred::Mark { value, mask } => s.mark.unwrap_or(0) & mask == *value,
        }
    }
}

/// `ss`'s `inet2_addr_match()`: a zero-length prefix matches anything, an IPv4 prefix also
/// matches a v4-mapped IPv6 address.
fn addr_matches(net: &IpNet, a: IpAddr) -> bool {
    if net.prefix_len() == 0 {
        return true;
    }
    match (net, a) {
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
    let name = u.name.as_ref()?;
    if u.r#abstract {
        let mut v = vec![b'@'];
        v.extend(
            name.as_bytes()
                .iter()
                .map(|&b| if b == 0 { b'@' } else { b }),
        );
        Some(v)
    } else {
        Some(name.as_bytes().to_vec())
    }
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
            continue;
        }
        if pi < p.len()
            && let Some(next) = glob_step(p, pi, s[si])
        {
            pi = next;
            si += 1;
            continue;
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches one non-`*` pattern element at `p[pi]` against `c`; returns the next pattern index.
fn glob_step(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    let eq = |a: u8, b: u8| a.eq_ignore_ascii_case(&b);
    match p[pi] {
        b'?' => Some(pi + 1),
        b'\\' if pi + 1 < p.len() => eq(p[pi + 1], c).then_some(pi + 2),
        b'[' => {
            let mut j = pi + 1;
            let negate = matches!(p.get(j), Some(b'!' | b'^'));
            if negate {
                j += 1;
            }
            let (mut hit, mut first) = (false, true);
            loop {
                let Some(&lo) = p.get(j) else {
                    // No closing bracket: the '[' is literal.
                    return eq(b'[', c).then_some(pi + 1);
                };
                if lo == b']' && !first {
                    break;
                }
                first = false;
                if p.get(j + 1) == Some(&b'-') && p.get(j + 2).is_some_and(|&h| h != b']') {
                    let hi = p[j + 2];
                    let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
                    hit |= [c, l, u].iter().any(|x| (lo..=hi).contains(x));
                    j += 3;
                } else {
                    hit |= eq(lo, c);
                    j += 1;
                }
            }
            (hit != negate).then_some(j + 1)
        }
        other => eq(other, c).then_some(pi + 1),
    }
}

/// Splits words the way `ss`'s lexer does: on spaces and tabs, `\` escaping the next character.
pub fn tokenize(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        let mut cur = String::new();
        let mut started = false;
        let mut chars = w.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' => {
                    if started {
                        out.push(std::mem::take(&mut cur));
                        started = false;
                    }
                }
                '\\' => {
                    started = true;
                    cur.extend(chars.next());
                }
                c => {
                    started = true;
                    cur.push(c);
                }
            }
        }
        if started {
            out.push(cur);
        }
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
pub fn parse(tokens: &[String], unix_hosts: bool) -> Result<Option<Expr>, String> {
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        unix_hosts,
    };
    let e = p.list()?;
    if p.pos < tokens.len() {
        return Err("unmatched ')' in the filter".into());
    }
    Ok(Some(e))
}

struct Parser<'a> {
    toks: &'a [String],
    pos: usize,
    unix_hosts: bool,
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
    fn list(&mut self) -> Result<Expr, String> {
        let mut acc = self.expr()?;
        loop {
            let combine: fn(Box<Expr>, Box<Expr>) -> Expr = match self.peek() {
                None | Some(Tok::Close) => return Ok(acc),
                Some(Tok::Or) => {
                    self.pos += 1;
                    Expr::Or
                }
                Some(Tok::And) => {
                    self.pos += 1;
                    Expr::And
                }
                Some(_) => Expr::And,
            };
            let rhs = self.expr()?;
            acc = combine(Box::new(acc), Box::new(rhs));
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let Some(w) = self.next() else {
            return Err(format!(
                "the filter ends where an expression was expected: expected {EXPECTED}"
            ));
        };
        match classify(w) {
            Tok::Open => {
                let e = self.list()?;
                match self.next() {
                    Some(")") => Ok(e),
                    _ => Err("missing ')' in the filter".into()),
                }
            }
            Tok::Not => Ok(Expr::Not(Box::new(self.expr()?))),
            Tok::Word => self.primary(w),
            _ => Err(format!(
                "unexpected '{w}' in the filter: expected {EXPECTED}"
            )),
        }
    }

    fn primary(&mut self, w: &str) -> Result<Expr, String> {
        let pred = match w {
            "src" | "dst" => {
                let side = if w == "src" { Side::Src } else { Side::Dst };
                match self.operator() {
                    None | Some(Cmp::Eq) => {}
                    Some(_) => {
                        return Err(format!("'{w}' takes '=' or nothing before the address"));
                    }
                }
                let v = self.value(w, "an address")?;
                self.host(side, w, v)?
            }
            "sport" | "dport" => {
                let side = if w == "sport" { Side::Src } else { Side::Dst };
                let cmp = self.operator().unwrap_or(Cmp::Eq);
                let v = self.value(w, "a port")?;
                let port = parse_port(v.strip_prefix("*:").or(v.strip_prefix(':')).unwrap_or(v))
                    .ok_or_else(|| {
                        format!(
                            "{w}: '{v}' is not a port: expected :PORT, PORT or *:PORT with PORT \
                             0-65535 (service names are not resolved)"
                        )
                    })?;
                Pred::Port { side, cmp, port }
            }
            "dev" | "fwmark" => {
                let negate = match self.operator() {
                    None | Some(Cmp::Eq) => false,
                    Some(Cmp::Ne) => true,
                    Some(_) => return Err(format!("'{w}' takes '=', '!=' or nothing")),
                };
                let v = self.value(w, if w == "dev" { "a device" } else { "a mark" })?;
                let pred = if w == "dev" {
                    match v.parse::<u32>() {
                        Ok(i) => Pred::DevIndex(i),
                        Err(_) => Pred::DevName(v.to_string()),
                    }
                } else {
                    parse_markmask(v).ok_or_else(|| {
                        format!("fwmark: '{v}' is not a mark: expected MARK or MARK/MASK")
                    })?
                };
                if negate {
                    return Ok(Expr::Not(Box::new(Expr::Pred(pred))));
                }
                pred
            }
            "autobound" | "cgroup" => {
                return Err(format!("'{w}' filters are not supported by sockwarden"));
            }
            "state" | "exclude" | "excl" => {
                return Err(format!("'{w}' must come before the filter expression"));
            }
            _ => {
                return Err(format!(
                    "unknown word '{w}' in the filter: expected {EXPECTED}"
                ));
            }
        };
        Ok(Expr::Pred(pred))
    }

    fn operator(&mut self) -> Option<Cmp> {
        match self.peek() {
            Some(Tok::Op(c)) => {
                self.pos += 1;
                Some(c)
            }
            _ => None,
        }
    }

    fn value(&mut self, key: &str, what: &str) -> Result<&'a str, String> {
        match self.next() {
            Some(v) if classify(v) == Tok::Word => Ok(v),
            Some(v) => Err(format!("'{key}' needs {what}, not '{v}'")),
            None => Err(format!("'{key}' needs {what}")),
        }
    }

    fn host(&self, side: Side, key: &str, w: &str) -> Result<Pred, String> {
        if let Some(glob) = w.strip_prefix("unix:") {
            return Ok(Pred::UnixName {
                side,
                glob: glob.as_bytes().to_vec(),
            });
        }
        for prefix in ["inet:", "inet6:", "link:", "netlink:", "vsock:"] {
            if w.starts_with(prefix) {
                return Err(format!(
                    "{key}: '{w}': the '{prefix}' prefix is not supported (only unix:GLOB)"
                ));
            }
        }
        if self.unix_hosts || w.starts_with('/') || w.starts_with('@') {
            return Ok(Pred::UnixName {
                side,
                glob: w.as_bytes().to_vec(),
            });
        }
        let (net, port) = parse_inet_host(w).ok_or_else(|| {
            format!(
                "{key}: '{w}' is not an address: expected ADDR[/PREFIX][:PORT], \
                 [IPV6][/PREFIX][:PORT], :PORT, * or unix:GLOB (host and service names are not \
                 resolved)"
            )
        })?;
        Ok(Pred::Host { side, net, port })
    }
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A port after an address: a number or `*` (any, `Some(None)`).
fn host_port(s: &str) -> Option<Option<u16>> {
    if s == "*" {
        Some(None)
    } else {
        parse_port(s).map(Some)
    }
}

fn parse_prefix(addr: IpAddr, len: Option<&str>) -> Option<IpNet> {
    match len {
        None => Some(IpNet::from(addr)),
        Some(l) => IpNet::new(addr, parse_port(l)?.try_into().ok()?).ok(),
    }
}

/// `ss`'s inet HOST forms; `None` when the word is not one of them.
fn parse_inet_host(w: &str) -> Option<(Option<IpNet>, Option<u16>)> {
    if w == "*" {
        return Some((None, None));
    }
    if let Some(rest) = w.strip_prefix('[') {
        let (inner, tail) = rest.split_once(']')?;
        let (addr, mut len) = match inner.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (inner, None),
        };
        let (pre, port) = match tail.split_once(':') {
            Some((pre, p)) => (pre, host_port(p)?),
            None => (tail, None),
        };
        if let Some(l) = pre.strip_prefix('/') {
            if len.is_some() {
                return None;
            }
            len = Some(l);
        } else if !pre.is_empty() {
            return None;
        }
        return Some((Some(parse_prefix(addr.parse().ok()?, len)?), port));
    }
    // A whole address or prefix, IPv6 included (ss would want brackets for IPv6).
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
    let (a, len) = match addr.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (addr, None),
    };
    let a: std::net::Ipv4Addr = a.parse().ok()?;
    Some((Some(parse_prefix(IpAddr::V4(a), len)?), port))
}

/// `MARK[/MASK]`, each decimal, `0x` hex or `0` octal (C's `%i`).
fn parse_markmask(s: &str) -> Option<Pred> {
    let num = |t: &str| -> Option<u32> {
        if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()
        } else if t.len() > 1 && t.starts_with('0') {
            u32::from_str_radix(&t[1..], 8).ok()
        } else {
            t.parse().ok()
        }
    };
    let (value, mask) = match s.split_once('/') {
        Some((v, m)) => (num(v)?, num(m)?),
        None => (num(s)?, u32::MAX),
    };
    Some(Pred::Mark { value, mask })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::fixtures::{inet, unix};
    use crate::model::{Protocol, State};

    fn expr(words: &str) -> Expr {
        parse(&tokenize(&[words.to_string()]), false)
            .unwrap()
            .unwrap()
    }

    fn err(words: &str) -> String {
        parse(&tokenize(&[words.to_string()]), false).unwrap_err()
    }

    fn tcp(local: &str, remote: &str) -> Socket {
        inet(Protocol::Tcp, State::Established, local, remote, 1)
    }

    #[test]
    fn tokenizer_splits_words_like_ss() {
        let t = tokenize(&[
            "sport = :22".into(),
            "(".into(),
            r"a\ b".into(),
            "\t".into(),
        ]);
        assert_eq!(t, ["sport", "=", ":22", "(", "a b"]);
    }

    #[test]
    fn port_operators() {
        let s = tcp("10.0.0.1:2048", "10.0.0.2:80");
        let e = expr("sport >= 1024 and dport < 100");
        assert!(e.eval(&s));
        assert!(!e.eval(&tcp("10.0.0.1:1000", "10.0.0.2:80")));
        assert!(!e.eval(&tcp("10.0.0.1:2048", "10.0.0.2:100")));
        for (w, want) in [
            ("sport :2048", true),
            ("sport eq 2048", true),
            ("sport == *:2048", true),
            ("sport != :2048", false),
            ("sport neq 1", true),
            ("sport gt 2048", false),
            ("sport ge 2048", true),
            ("sport le 2047", false),
            ("sport lt 2049", true),
            ("dport > 79", true),
        ] {
            assert_eq!(expr(w).eval(&s), want, "{w}");
        }
    }

    #[test]
    fn grouping_with_a_prefix() {
        let e = expr("( sport = 22 or sport = 80 ) and dst 10.0.0.0/8");
        assert!(e.eval(&tcp("192.168.1.1:80", "10.9.8.7:5000")));
        assert!(e.eval(&tcp("192.168.1.1:22", "10.0.0.1:5000")));
        assert!(!e.eval(&tcp("192.168.1.1:22", "11.0.0.1:5000")));
        assert!(!e.eval(&tcp("192.168.1.1:443", "10.0.0.1:5000")));
    }

    /// `ss` gives `and` and `or` equal precedence, left-associative: `a or b and c` is
    /// `(a or b) and c`, where C-like precedence would give `a or (b and c)`.
    #[test]
    fn and_or_have_equal_precedence() {
        let e = expr("sport = :22 or sport = :80 and dport = :5000");
        let s = tcp("10.0.0.1:22", "10.0.0.2:1234");
        assert!(
            !e.eval(&s),
            "(a or b) and c is false here; a or (b and c) would be true"
        );
        let p = |side, port| {
            Box::new(Expr::Pred(Pred::Port {
                side,
                cmp: Cmp::Eq,
                port,
            }))
        };
        assert_eq!(
            e,
            Expr::And(
                Box::new(Expr::Or(p(Side::Src, 22), p(Side::Src, 80))),
                p(Side::Dst, 5000)
            )
        );
        // The other order, as in ss's own check: 3 matches there, true here.
        assert!(expr("dport = :5000 and sport = :80 or sport = :22").eval(&s));
        // Juxtaposition is `and`; `not` binds to the next primary.
        assert!(!expr("sport = :22 dport = :5000").eval(&s));
        assert!(expr("not sport = :80 and sport = :22").eval(&s));
        assert!(!expr("! ( sport = :22 || dport = :1 )").eval(&s));
    }

    #[test]
    fn v4_prefix_matches_v4_mapped() {
        let mapped = tcp("[::ffff:127.0.0.1]:22", "[::ffff:127.0.0.1]:40000");
        assert!(expr("src 127.0.0.1").eval(&mapped));
        assert!(expr("dst 127.0.0.0/8:40000").eval(&mapped));
        assert!(!expr("src 127.0.0.2").eval(&mapped));
        let v6 = tcp("[::1]:22", "[::1]:40000");
        assert!(!expr("src 127.0.0.1").eval(&v6));
        assert!(expr("src [::1]").eval(&v6));
        assert!(expr("src ::1").eval(&v6));
        assert!(!expr("src [::ffff:127.0.0.1]").eval(&tcp("127.0.0.1:22", "127.0.0.1:1")));
    }

    #[test]
    fn host_forms() {
        let s = tcp("[2001:db8::1]:443", "[2001:db9::2]:5555");
        for (w, want) in [
            ("src [2001:db8::]/32", true),
            ("src [2001:db8::/32]:443", true),
            ("src [2001:db8::1]:443", true),
            ("src [2001:db8::1]:444", false),
            ("dst [2001:db8::]/32", false),
            ("src *:443", true),
            ("src :443", true),
            ("src *", true),
            ("dst 0.0.0.0/0", true),
        ] {
            assert_eq!(expr(w).eval(&s), want, "{w}");
        }
        let v4 = tcp("192.0.2.1:80", "198.51.100.7:1234");
        assert!(expr("src = 192.0.2.0/24:80").eval(&v4));
        assert!(expr("dst 198.51.100.7:*").eval(&v4));
        assert!(!expr("src 192.0.2.0/24:81").eval(&v4));
    }

    #[test]
    fn port_and_address_predicates_never_match_unix() {
        let u = unix(Protocol::UnixStream, State::Established, Some(b"/run/a"), 9);
        assert!(!expr("sport = :0").eval(&u));
        assert!(!expr("sport != :22").eval(&u));
        assert!(!expr("src *").eval(&u));
        assert!(expr("not sport = :22").eval(&u));
    }

    #[test]
    fn unix_name_globs() {
        let run = unix(
            Protocol::UnixStream,
            State::Listen,
            Some(b"/run/dbus/SOCKET"),
            9,
        );
        let abs = unix(Protocol::UnixDgram, State::Close, Some(b"\0ab\0cd"), 10);
        let unnamed = unix(Protocol::UnixStream, State::Established, None, 11);
        assert!(expr("src unix:/run/*").eval(&run));
        assert!(expr("src /RUN/*/socket").eval(&run), "case-insensitive");
        assert!(!expr("src unix:/tmp/*").eval(&run));
        assert!(expr("src @ab@c?").eval(&abs));
        assert!(expr("src unix:@[a-b]b*").eval(&abs));
        assert!(!expr("src unix:@[!a]*").eval(&abs));
        assert!(expr("src unix:*").eval(&unnamed));
        assert!(!expr("src unix:?*").eval(&unnamed));
        assert!(!expr("src unix:*").eval(&tcp("1.2.3.4:1", "1.2.3.4:2")));
        assert!(
            !expr("dst unix:/run/*").eval(&run),
            "peer names are unknown"
        );
        let only_unix = parse(&["src".into(), "/run/*".into()], true)
            .unwrap()
            .unwrap();
        assert!(only_unix.eval(&run));
        let unix_default = parse(&["src".into(), "*dbus*".into()], true)
            .unwrap()
            .unwrap();
        assert!(unix_default.eval(&run));
    }

    #[test]
    fn dev_and_fwmark() {
        let mut s = tcp("0.0.0.0:53", "0.0.0.0:0");
        s.ifindex = Some(2);
        s.interface = Some("eth0".into());
        s.mark = Some(0x2a);
        assert!(expr("dev eth0").eval(&s));
        assert!(expr("dev = 2").eval(&s));
        assert!(!expr("dev != eth0").eval(&s));
        assert!(expr("fwmark = 0x2a").eval(&s));
        assert!(expr("fwmark 0x20/0xf0").eval(&s));
        assert!(!expr("fwmark 42/0xf").eval(&s));
    }

    #[test]
    fn errors_name_the_word() {
        let e = err("dport = :abc");
        assert!(e.contains("':abc' is not a port"), "{e}");
        let e = err("sport = :ssh");
        assert!(e.contains("service names are not resolved"), "{e}");
        assert!(err("sport = :65536").contains("65536"));
        let e = err("sprot = :22");
        assert!(
            e.contains("unknown word 'sprot'") && e.contains("sport, dport"),
            "{e}"
        );
        assert!(err("src example.com").contains("'example.com' is not an address"));
        assert!(err("src != 1.2.3.4").contains("'src' takes '='"));
        assert!(err("( sport = :22").contains("missing ')'"));
        assert!(err("sport = :22 )").contains("unmatched ')'"));
        assert!(err("sport = :22 and").contains("ends where an expression was expected"));
        assert!(err("sport =").contains("'sport' needs a port"));
        assert!(err("sport = and").contains("not 'and'"));
        assert!(err("or sport = :1").contains("unexpected 'or'"));
        assert!(err("sport = :1 state listening").contains("must come before"));
        assert!(err("autobound").contains("not supported"));
        assert!(err("src link:ip").contains("'link:' prefix is not supported"));
        assert!(err("src fe80::1:22:x").contains("is not an address"));
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match(b"a*b*c", b"axxbyyc"));
        assert!(!glob_match(b"a*b*c", b"axxbyy"));
        assert!(glob_match(b"\\*x", b"*x"));
        assert!(!glob_match(b"\\*x", b"ax"));
        assert!(glob_match(b"[]]", b"]"));
        assert!(
            glob_match(b"[ab", b"[ab"),
            "an unterminated class is literal"
        );
        assert!(glob_match(b"", b""));
        assert!(!glob_match(b"", b"a"));
    }
}
