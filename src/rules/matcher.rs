//! Operators, compiled once into the structure that evaluates them fastest: CIDR lists into a
//! sorted table of merged ranges (binary search), ports into a 64 Ki-bit set, several regexes
//! into one RegexSet, globs into a GlobSet, string sets into hash sets, number sets into sorted
//! arrays (a binary search over a few ports beats hashing each one).
//!
//! Every operator is false on a missing value except `exists: false`: a rule about the process
//! never fires on a socket no process holds unless it says so.

use std::collections::HashSet;
use std::net::IpAddr;

use globset::{GlobSet, GlobSetBuilder};
use regex::RegexSet;

use super::fields::{FieldType, Value};
use crate::net::{NetTable, PortSet, canonical};

/// Why an operator and its values do not compile for a field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// An operator that takes one value was given another number.
    #[error("`{op}` takes one value, got {got}")]
    TakesOne {
        /// The operator.
        op: Op,
        /// How many values it got.
        got: usize,
    },
    /// The operator does not apply to the field's type.
    #[error("`{op}` does not apply to a {ty} field")]
    WrongType {
        /// The operator.
        op: Op,
        /// The field type's name.
        ty: &'static str,
    },
    /// A value outside an enumerated field's values.
    #[error("`{value}` is not a value of this field: expected one of {}", allowed.join(", "))]
    NotAValue {
        /// The value given.
        value: String,
        /// The field's values.
        allowed: &'static [&'static str],
    },
    /// Not `true` or `false`.
    #[error("expected true or false, got `{0}`")]
    Bool(String),
    /// Not an integer (decimal, or hex with `0x`).
    #[error("expected an integer, got `{0}`")]
    Int(String),
    /// Not an IP address.
    #[error("expected an IP address, got `{0}`")]
    Ip(String),
    /// A port, range or network that does not parse.
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    /// A regular expression that does not compile.
    #[error("bad regex: {0}")]
    Regex(#[from] regex::Error),
    /// A glob that does not compile.
    #[error("bad glob `{glob}`: {error}")]
    Glob {
        /// The glob as written (empty for an error of the whole set).
        glob: String,
        /// The glob compiler's message.
        error: globset::Error,
    },
}

crate::model::vocabulary! {
    /// The operators of the rule language, by the names rules write.
    pub enum Op {
        /// Equal to one value (what a bare value means).
        Eq => "eq",
        /// Not equal to the value; for a list field, no element equals it. False on a missing
        /// value.
        Ne => "ne",
        /// Equal to any of the listed values.
        In => "in",
        /// Equal to any item of the named list (`rules/lists/*.yaml`, `--lists`).
        InList => "in_list",
        /// An ip field inside any of the CIDRs or addresses; a v4-mapped address matches its IPv4
        /// net.
        Cidr => "cidr",
        /// A port, int or list-of-int field in any of the ports and ranges (`22`,
        /// `"1024-65535"`).
        Port => "port",
        /// Greater than a number (int, port and list-of-int fields, as the next three).
        Gt => "gt",
        /// Greater than or equal to a number.
        Ge => "ge",
        /// Less than a number.
        Lt => "lt",
        /// Less than or equal to a number.
        Le => "le",
        /// A string field matching any of the regular expressions, unanchored (a match anywhere
        /// counts; anchor with `^...$`).
        Regex => "regex",
        /// A string field matching any of the globs in full; `*` does not cross `/`, `**` does.
        Glob => "glob",
        /// A string field that starts with any of the strings.
        Prefix => "prefix",
        /// A string field that ends with any of the strings.
        Suffix => "suffix",
        /// A string field that contains any of the strings.
        Contains => "contains",
        /// `true`: the field has a value in this subject; `false`: it has none (the one operator
        /// that can hold on a missing value).
        Exists => "exists",
    }
}

impl Op {
    /// Equality against a set of values: what the engine can pre-filter on.
    pub fn is_membership(self) -> bool {
        matches!(self, Op::Eq | Op::In)
    }
}

/// A compiled operator: what a predicate tests a field's value with.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// `exists`: whether the value must be present (`true`) or missing (`false`).
    Exists(bool),
    /// `eq`/`in` on a bool field.
    Bool(bool),
    /// Equality against any of the listed values (eq, in, in_list).
    StrIn(HashSet<String>),
    /// A handful of strings: comparing in turn beats hashing.
    StrInSmall(Vec<String>),
    /// Equality against any of these numbers (int, port and list-of-int fields): sorted,
    /// without duplicates.
    IntIn(Vec<i64>),
    /// Equality against any of these addresses, v4-mapped addresses compared as IPv4.
    IpIn(Vec<IpAddr>),
    /// `ne`: the negation of the equality matcher inside (still false on a missing value).
    Not(Box<Matcher>),
    /// `cidr`: membership in merged network ranges.
    Cidr(NetTable),
    /// `port`: membership in a set of ports (a value outside 0-65535 never matches).
    Ports(Box<PortSet>),
    /// `gt`, `ge`, `lt`, `le` against the number.
    Cmp(CmpOp, i64),
    /// `regex`: any of the expressions matches somewhere in the value.
    Regex(RegexSet),
    /// `glob`: any of the globs matches the whole value.
    Glob(GlobSet),
    /// `prefix`: the value starts with any of these.
    Prefix(Vec<String>),
    /// `suffix`: the value ends with any of these.
    Suffix(Vec<String>),
    /// `contains`: the value contains any of these.
    Contains(Vec<String>),
}

/// A numeric comparison, value on the left: `value > n` for `gt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// Compiles operator `op` with its arguments (already stringified) for a field of type `ty`.
pub fn compile(ty: FieldType, op: Op, args: &[String]) -> Result<Matcher, CompileError> {
    use FieldType::*;
    let wrong = || Err(CompileError::WrongType { op, ty: ty.name() });
    match (op, ty) {
        (Op::Exists, _) => parse_bool(one(op, args)?).map(Matcher::Exists),
        (Op::Eq | Op::In | Op::InList | Op::Ne, _) => membership(ty, op, args),
        (Op::Cidr, Ip) => Ok(Matcher::Cidr(NetTable::parse(args)?)),
        (Op::Port, Port | Int | IntList) => Ok(Matcher::Ports(Box::new(PortSet::parse(args)?))),
        (Op::Gt | Op::Ge | Op::Lt | Op::Le, Int | Port | IntList) => {
            let n = parse_int(one(op, args)?)?;
            let c = match op {
                Op::Gt => CmpOp::Gt,
                Op::Ge => CmpOp::Ge,
                Op::Lt => CmpOp::Lt,
                _ => CmpOp::Le,
            };
            Ok(Matcher::Cmp(c, n))
        }
        (Op::Regex, Str | StrList | Enum(_)) => Ok(Matcher::Regex(RegexSet::new(args)?)),
        (Op::Glob, Str | StrList | Enum(_)) => globs(args),
        (Op::Prefix, Str | StrList | Enum(_)) => Ok(Matcher::Prefix(args.to_vec())),
        (Op::Suffix, Str | StrList | Enum(_)) => Ok(Matcher::Suffix(args.to_vec())),
        (Op::Contains, Str | StrList | Enum(_)) => Ok(Matcher::Contains(args.to_vec())),
        _ => wrong(),
    }
}

/// The one argument of an operator that takes one.
fn one(op: Op, args: &[String]) -> Result<&String, CompileError> {
    match args {
        [a] => Ok(a),
        _ => Err(CompileError::TakesOne {
            op,
            got: args.len(),
        }),
    }
}

/// `eq`, `ne`, `in`, `in_list`: equality with any of the values, parsed as the field's type.
fn membership(ty: FieldType, op: Op, args: &[String]) -> Result<Matcher, CompileError> {
    use FieldType::*;
    if matches!(op, Op::Eq | Op::Ne) {
        one(op, args)?;
    }
    let m = match ty {
        Bool => Matcher::Bool(parse_bool(one(op, args)?)?),
        Int | IntList => int_in(
            args.iter()
                .map(|a| parse_int(a))
                .collect::<Result<_, _>>()?,
        ),
        Port => int_in(
            args.iter()
                .map(|a| parse_port(a).map(i64::from))
                .collect::<Result<_, _>>()?,
        ),
        Ip => Matcher::IpIn(args.iter().map(|a| parse_ip(a)).collect::<Result<_, _>>()?),
        Enum(allowed) => {
            if let Some(a) = args.iter().find(|a| !allowed.contains(&a.as_str())) {
                return Err(CompileError::NotAValue {
                    value: a.clone(),
                    allowed,
                });
            }
            str_in(args)
        }
        Str | StrList => str_in(args),
    };
    Ok(if op == Op::Ne {
        Matcher::Not(Box::new(m))
    } else {
        m
    })
}

/// Globs where `*` does not cross `/` (`**` does), as one set.
fn globs(args: &[String]) -> Result<Matcher, CompileError> {
    let mut b = GlobSetBuilder::new();
    for a in args {
        b.add(
            globset::GlobBuilder::new(a)
                .literal_separator(true)
                .build()
                .map_err(|error| CompileError::Glob {
                    glob: a.clone(),
                    error,
                })?,
        );
    }
    b.build()
        .map(Matcher::Glob)
        .map_err(|error| CompileError::Glob {
            glob: String::new(),
            error,
        })
}

fn int_in(mut v: Vec<i64>) -> Matcher {
    v.sort_unstable();
    v.dedup();
    Matcher::IntIn(v)
}

fn str_in(args: &[String]) -> Matcher {
    if args.len() <= 8 {
        Matcher::StrInSmall(args.to_vec())
    } else {
        Matcher::StrIn(args.iter().cloned().collect())
    }
}

fn parse_bool(s: &str) -> Result<bool, CompileError> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(CompileError::Bool(s.to_string())),
    }
}

fn parse_int(s: &str) -> Result<i64, CompileError> {
    let t = s.trim();
    let r = if let Some(h) = t.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else {
        t.parse()
    };
    r.map_err(|_| CompileError::Int(s.to_string()))
}

use crate::net::parse_port;

fn parse_ip(s: &str) -> Result<IpAddr, CompileError> {
    s.trim()
        .parse()
        .map_err(|_| CompileError::Ip(s.to_string()))
}

impl Matcher {
    /// Whether the value passes. A missing value passes only `exists: false`; a list value passes
    /// when any element does (for `ne`: when no element equals the value).
    pub fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Matcher::Exists(want), v) => *want != matches!(v, Value::Missing),
            (_, Value::Missing) => false,
            (Matcher::Not(m), v) => !m.matches(v),
            (m, Value::Ints(list)) => list.iter().any(|&i| m.matches(&Value::Int(i))),
            (m, Value::Strs(list)) => list
                .iter()
                .any(|s| m.matches(&Value::Str(std::borrow::Cow::Borrowed(s.as_ref())))),
            (Matcher::Bool(b), Value::Bool(x)) => b == x,
            (Matcher::StrIn(set), Value::Str(s)) => set.contains(s.as_ref()),
            (Matcher::StrInSmall(v), Value::Str(s)) => v.iter().any(|x| x == s),
            (Matcher::IntIn(set), Value::Int(i)) => set.binary_search(i).is_ok(),
            (Matcher::IpIn(list), Value::Ip(ip)) => {
                let ip = canonical(*ip);
                list.iter().any(|a| canonical(*a) == ip)
            }
            (Matcher::Cidr(t), Value::Ip(ip)) => t.contains(*ip),
            (Matcher::Ports(p), Value::Int(i)) => u16::try_from(*i).is_ok_and(|i| p.contains(i)),
            (Matcher::Cmp(op, n), Value::Int(i)) => match op {
                CmpOp::Gt => i > n,
                CmpOp::Ge => i >= n,
                CmpOp::Lt => i < n,
                CmpOp::Le => i <= n,
            },
            (Matcher::Regex(r), Value::Str(s)) => r.is_match(s),
            (Matcher::Glob(g), Value::Str(s)) => g.is_match(s.as_ref()),
            (Matcher::Prefix(v), Value::Str(s)) => v.iter().any(|p| s.starts_with(p.as_str())),
            (Matcher::Suffix(v), Value::Str(s)) => v.iter().any(|p| s.ends_with(p.as_str())),
            (Matcher::Contains(v), Value::Str(s)) => v.iter().any(|p| s.contains(p.as_str())),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cidr_matches_a_linear_scan() {
        // Pseudo-random nets and probes; the table must agree with the obvious check.
        let mut x: u32 = 0x1234_5678;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let nets: Vec<ipnet::Ipv4Net> = (0..200)
            .map(|_| {
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(next()), (next() % 25 + 8) as u8)
                    .unwrap()
                    .trunc()
            })
            .collect();
        let t = NetTable::parse(&nets.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        for _ in 0..20000 {
            let a = std::net::Ipv4Addr::from(next());
            assert_eq!(
                t.contains(IpAddr::V4(a)),
                nets.iter().any(|n| n.contains(&a)),
                "{a}"
            );
        }
    }

    #[test]
    fn ports_and_ranges() {
        let p = PortSet::parse(&strs(&["22", "1000-1002", "65535"])).unwrap();
        assert!(p.contains(22) && p.contains(1001) && p.contains(65535));
        assert!(!p.contains(23) && !p.contains(999) && !p.contains(0));
        assert!(PortSet::parse(&strs(&["10-5"])).is_err());
        assert!(PortSet::parse(&strs(&["70000"])).is_err());
    }

    #[test]
    fn type_errors() {
        assert!(compile(FieldType::Int, Op::Regex, &strs(&["x"])).is_err());
        assert!(compile(FieldType::Str, Op::Cidr, &strs(&["10.0.0.0/8"])).is_err());
        assert!(compile(FieldType::Enum(&["listen"]), Op::Eq, &strs(&["listening"])).is_err());
        assert!(compile(FieldType::Str, Op::Regex, &strs(&["("])).is_err());
        assert!(
            Op::parse("frobnicate").is_none(),
            "unknown operators do not exist"
        );
        assert!(compile(FieldType::Int, Op::Gt, &strs(&["ten"])).is_err());
    }

    #[test]
    fn missing_values_only_match_exists_false() {
        let m = compile(FieldType::Str, Op::Ne, &strs(&["x"])).unwrap();
        assert!(!m.matches(&Value::Missing));
        assert!(
            compile(FieldType::Str, Op::Exists, &strs(&["false"]))
                .unwrap()
                .matches(&Value::Missing)
        );
        assert!(
            !compile(FieldType::Str, Op::Exists, &strs(&["true"]))
                .unwrap()
                .matches(&Value::Missing)
        );
    }

    #[test]
    fn list_values_match_any_element() {
        let m = compile(FieldType::IntList, Op::In, &strs(&["21139", "29269"])).unwrap();
        assert!(m.matches(&Value::Ints(vec![12, 21139])));
        assert!(!m.matches(&Value::Ints(vec![12, 13])));
        let m = compile(FieldType::StrList, Op::In, &strs(&["bash"])).unwrap();
        assert!(m.matches(&Value::Strs(vec!["socat".into(), "bash".into()])));
        assert!(!m.matches(&Value::Strs(vec!["socat".into()])));
        // `ne` on a list: no element equals the value.
        let m = compile(FieldType::StrList, Op::Ne, &strs(&["bash"])).unwrap();
        assert!(!m.matches(&Value::Strs(vec!["socat".into(), "bash".into()])));
        assert!(m.matches(&Value::Strs(vec!["socat".into()])));
    }

    #[test]
    fn glob_does_not_cross_slashes_with_star() {
        let g = compile(FieldType::Str, Op::Glob, &strs(&["/tmp/*"])).unwrap();
        assert!(g.matches(&Value::Str("/tmp/x".into())));
        assert!(!g.matches(&Value::Str("/tmp/a/b".into())));
        let g = compile(FieldType::Str, Op::Glob, &strs(&["/tmp/**"])).unwrap();
        assert!(g.matches(&Value::Str("/tmp/a/b".into())));
    }
}
