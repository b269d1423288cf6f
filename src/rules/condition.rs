//! The `when:` / `exceptions:` condition language, parsed strictly out of YAML.
//!
//! ```yaml
//! when:
//!   all:
//!     - socket.state: listen                  # a bare value means eq
//!     - process.exe: {prefix: [/tmp/, /dev/shm/]}
//!     - not: {socket.local.class: loopback}
//!     - any:
//!         - socket.local.port: {port: "1-1023"}
//!         - process.user: {in_list: web_service_users}
//! ```
//!
//! A map holds `all`, `any`, `not` and field predicates; several keys in one map must all hold.
//! A predicate is a bare value (eq) or a map of operators, all of which must hold. An operator's
//! argument is a value, a list of values (any may match), or `{list: NAME}` for a named list.
//!
//! Validation happens while deserializing, through seeds, so that serde_yaml stamps each error
//! with the line and column of the offending key or value: an unknown field, an operator of the
//! wrong type for its field, a bad CIDR, port or regex all point at the exact place.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::fields::{self, FieldDef};
use super::matcher::{self, Matcher, Op};

/// A parsed condition (`when:` or one of `exceptions:`): a tree of `all`, `any`, `not` and field
/// predicates. A map with several keys is an [`Condition::All`] of them.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `all: [...]`: every condition holds (at least one is required).
    All(Vec<Condition>),
    /// `any: [...]`: at least one condition holds (at least one is required).
    Any(Vec<Condition>),
    /// `not: {...}`: the condition does not hold. Since predicates are false on a missing value,
    /// `not` over a `process.*` predicate holds for a socket no process holds.
    Not(Box<Condition>),
    /// One operator on one field.
    Pred(Predicate),
    /// `ss: "EXPR"`: an `ss` filter expression (docs/list.md), compiled once with `list`'s
    /// filter and evaluated on the socket as `ss` would select it.
    Ss(Box<SsCondition>),
}

/// An `ss:` condition: the expression as written and its compiled form.
#[derive(Debug, Clone)]
pub struct SsCondition {
    /// The expression as the rule wrote it.
    pub text: String,
    /// The compiled filter.
    pub filter: crate::list::filter::Filter,
}

/// The rule fields an `ss:` expression reads (for evidence that lacks some of them).
pub const SS_FIELDS: &[&str] = &[
    "socket.protocol",
    "socket.family",
    "socket.local.address",
    "socket.local.port",
    "socket.remote.address",
    "socket.remote.port",
    "socket.interface",
    "socket.mark",
    "socket.inode",
    "socket.unix.name",
    "socket.unix.peer",
    "socket.packet.ethertype",
];

/// One operator applied to one field, such as `socket.local.port: {port: "1-1023"}`. A field key
/// with several operators gives one predicate per operator.
#[derive(Debug, Clone)]
pub struct Predicate {
    /// The field tested, from the registry ([`crate::rules::fields::lookup`]).
    pub field: &'static FieldDef,
    /// The operator; `eq` for a bare value.
    pub op: Op,
    /// The operator's argument as written: values, or the name of a list.
    pub arg: Arg,
    /// Compiled when the argument is inline; named lists are compiled when linked.
    pub matcher: Option<Matcher>,
}

/// An operator's argument as the rule wrote it, before compiling.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Inline values, as text (numbers and booleans stringified); one or more.
    Values(Vec<String>),
    /// A named list: `{list: NAME}`, or the argument of `in_list`. Compiled by [`Condition::link`]
    /// with the lists in force.
    List(String),
}

/// The language as the condition's visitor and seeds read it, by hand because they
/// are: a non-empty map of `all`/`any` (non-empty lists), `not` and the registry's fields, each
/// field a [`PredicateSchema`]. Whether an operator suits its field's type and a value parses (a
/// CIDR, a regex) is the loader's check, located at file:line:col.
impl schemars::JsonSchema for Condition {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let me = generator.subschema_for::<Condition>().to_value();
        let mut properties = serde_json::Map::new();
        for key in ["all", "any"] {
            properties.insert(
                key.into(),
                serde_json::json!({"type": "array", "items": me, "minItems": 1}),
            );
        }
        properties.insert("not".into(), me);
        for f in fields::all() {
            let mut p = generator.subschema_for::<PredicateSchema>();
            p.insert("description".into(), f.doc.into());
            properties.insert(f.name.into(), p.to_value());
        }
        schemars::json_schema!({
            "description": "A condition: `all`, `any`, `not` and field predicates, all of which \
                must hold.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
            "minProperties": 1
        })
    }
}

/// The schema of what the reader takes under a field: a scalar (`eq`) or a non-empty map of
/// operators, each with an [`ArgSchema`].
pub struct PredicateSchema;

impl schemars::JsonSchema for PredicateSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Predicate".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let arg = generator.subschema_for::<ArgSchema>().to_value();
        let ops: serde_json::Map<String, serde_json::Value> = Op::ALL
            .iter()
            .map(|op| (op.name().to_string(), arg.clone()))
            .collect();
        schemars::json_schema!({
            "description": "A value (`eq`), or a map of operators that must all hold.",
            "anyOf": [
                {"type": ["string", "integer", "boolean"]},
                {
                    "type": "object",
                    "properties": ops,
                    "additionalProperties": false,
                    "minProperties": 1
                }
            ]
        })
    }
}

/// The schema of an operator's argument as the reader takes it: a scalar, a non-empty list of scalars (any may match),
/// or `{list: NAME}`.
pub struct ArgSchema;

impl schemars::JsonSchema for ArgSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Argument".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let scalar = serde_json::json!({"type": ["string", "integer", "boolean"]});
        schemars::json_schema!({
            "description": "A value, a list of values (any may match), or {list: NAME}.",
            "anyOf": [
                scalar,
                {"type": "array", "items": scalar, "minItems": 1},
                {
                    "type": "object",
                    "properties": {"list": {"type": "string"}},
                    "required": ["list"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(CondVisitor)
    }
}

struct CondVisitor;

enum Key {
    All,
    Any,
    Not,
    Ss,
    Field(&'static FieldDef),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "all" => Ok(Key::All),
            "any" => Ok(Key::Any),
            "not" => Ok(Key::Not),
            "ss" => Ok(Key::Ss),
            _ => match fields::lookup(&name) {
                Some(f) => Ok(Key::Field(f)),
                None => {
                    let hint = fields::suggest(&name)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    Err(de::Error::custom(format!(
                        "unknown field `{name}` (expected all, any, not, ss, or a field from \
                         `sockwarden rules fields`){hint}"
                    )))
                }
            },
        }
    }
}

impl<'de> Visitor<'de> for CondVisitor {
    type Value = Condition;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a condition: a map of all/any/not and field predicates")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Condition, A::Error> {
        let mut parts = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::All | Key::Any => {
                    let list: Vec<Condition> = map.next_value()?;
                    if list.is_empty() {
                        return Err(de::Error::custom(
                            "`all`/`any` needs at least one condition",
                        ));
                    }
                    parts.push(if matches!(key, Key::All) {
                        Condition::All(list)
                    } else {
                        Condition::Any(list)
                    });
                }
                Key::Not => parts.push(Condition::Not(Box::new(map.next_value()?))),
                Key::Ss => parts.push(Condition::Ss(Box::new(map.next_value_seed(SsSeed)?))),
                Key::Field(field) => {
                    let preds = map.next_value_seed(PredSeed { field })?;
                    parts.extend(preds.into_iter().map(Condition::Pred));
                }
            }
        }
        match parts.len() {
            0 => Err(de::Error::custom("empty condition")),
            1 => Ok(parts.pop().unwrap()),
            _ => Ok(Condition::All(parts)),
        }
    }
}

/// The expression of an `ss:` key, compiled where it is read so that an error points at it.
struct SsSeed;

impl<'de> DeserializeSeed<'de> for SsSeed {
    type Value = SsCondition;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SsCondition, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for SsSeed {
    type Value = SsCondition;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an ss filter expression, such as \"dport = :4444 and dst 203.0.113/24\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SsCondition, E> {
        let filter = crate::list::filter::compile(v, &crate::list::filter::lookup::System)
            .map_err(|e| E::custom(format!("ss: {e}")))?;
        Ok(SsCondition {
            text: v.to_owned(),
            filter,
        })
    }
}

/// The predicates under one field key.
struct PredSeed {
    field: &'static FieldDef,
}

impl<'de> DeserializeSeed<'de> for PredSeed {
    type Value = Vec<Predicate>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Predicate>, D::Error> {
        d.deserialize_any(self)
    }
}

impl PredSeed {
    fn eq<E: de::Error>(&self, v: String) -> Result<Vec<Predicate>, E> {
        let m = matcher::compile(self.field.ty, Op::Eq, std::slice::from_ref(&v))
            .map_err(|e| E::custom(format!("{}: {e}", self.field.name)))?;
        Ok(vec![Predicate {
            field: self.field,
            op: Op::Eq,
            arg: Arg::Values(vec![v]),
            matcher: Some(m),
        }])
    }
}

impl<'de> Visitor<'de> for PredSeed {
    type Value = Vec<Predicate>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value or a map of operators for `{}`", self.field.name)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.eq(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.eq(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.eq(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.eq(v.to_string())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let op = Op::parse(&name).ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown operator `{name}` for `{}`: expected one of {}",
                    self.field.name,
                    Op::NAMES.join(", ")
                ))
            })?;
            let arg = map.next_value_seed(ArgSeed {
                field: self.field,
                op,
            })?;
            let matcher = match &arg {
                Arg::Values(v) => Some(
                    matcher::compile(self.field.ty, op, v)
                        .map_err(|e| de::Error::custom(format!("{} {op}: {e}", self.field.name)))?,
                ),
                Arg::List(_) => None,
            };
            out.push(Predicate {
                field: self.field,
                op,
                arg,
                matcher,
            });
        }
        if out.is_empty() {
            return Err(de::Error::custom(format!(
                "no operator given for `{}`",
                self.field.name
            )));
        }
        Ok(out)
    }
}

/// One operator's argument; compiled here so that a bad value is reported at its own position.
struct ArgSeed {
    field: &'static FieldDef,
    op: Op,
}

impl ArgSeed {
    fn check<E: de::Error>(&self, values: Vec<String>) -> Result<Arg, E> {
        if self.op == Op::InList {
            return match values.as_slice() {
                [name] => Ok(Arg::List(name.clone())),
                _ => Err(E::custom("`in_list` takes the name of one list")),
            };
        }
        matcher::compile(self.field.ty, self.op, &values)
            .map_err(|e| E::custom(format!("{} {}: {e}", self.field.name, self.op)))?;
        Ok(Arg::Values(values))
    }
}

impl<'de> DeserializeSeed<'de> for ArgSeed {
    type Value = Arg;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Arg, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArgSeed {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a value, a list of values, or {{list: NAME}} for `{}`",
            self.op
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        self.check(vec![v.to_string()])
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        self.check(vec![v.to_string()])
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        self.check(vec![v.to_string()])
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        self.check(vec![v.to_string()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut v = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            v.push(item.0);
        }
        if v.is_empty() {
            return Err(de::Error::custom(format!(
                "`{}` needs at least one value",
                self.op
            )));
        }
        self.check(v)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut name = None;
        while let Some(k) = map.next_key::<String>()? {
            if k != "list" {
                return Err(de::Error::custom(format!(
                    "unknown key `{k}` in the argument of `{}`: only `list` is allowed",
                    self.op
                )));
            }
            name = Some(map.next_value::<String>()?);
        }
        name.map(Arg::List)
            .ok_or_else(|| de::Error::custom("`{list: NAME}` needs a name"))
    }
}

/// A YAML scalar as text (numbers and booleans stringified).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why a condition's named lists could not be compiled.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkError {
    /// The rule's use of `list` is wrong (an unknown list, an operator its items cannot serve).
    Rule {
        /// The list's name, as the rule wrote it: the diagnostic is located at it.
        list: String,
        /// What is wrong, naming the list (and the field and operator, for a misuse).
        message: String,
    },
    /// Items of `list` do not fit `usage` (field and operator): their indexes and why.
    Items {
        /// The list's name.
        list: String,
        /// Where the rule uses it: `FIELD OPERATOR`.
        usage: String,
        /// Each item that does not fit, by its index in the list, with the reason.
        bad: Vec<(usize, matcher::CompileError)>,
    },
}

impl Condition {
    /// The sock_diag extensions the condition's fields read (each field's `needs` in the
    /// registry): what a run must collect for the condition to see its values.
    pub fn needs(&self) -> crate::model::Extensions {
        use crate::model::Extensions;
        match self {
            Condition::All(v) | Condition::Any(v) => {
                v.iter().fold(Extensions::NONE, |n, c| n.union(c.needs()))
            }
            Condition::Not(c) => c.needs(),
            Condition::Pred(p) => p.field.needs,
            Condition::Ss(_) => SS_FIELDS
                .iter()
                .filter_map(|f| fields::lookup(f))
                .fold(Extensions::NONE, |n, f| n.union(f.needs)),
        }
    }

    /// Every named list the condition refers to.
    pub fn list_refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| c.list_refs(out)),
            Condition::Not(c) => c.list_refs(out),
            Condition::Pred(p) => {
                if let Arg::List(n) = &p.arg {
                    out.push(n);
                }
            }
            Condition::Ss(_) => {}
        }
    }

    /// Compiles named-list arguments with the lists in force.
    pub fn link(&mut self, lists: &super::lists::Lists) -> Result<(), LinkError> {
        match self {
            Condition::All(v) | Condition::Any(v) => v.iter_mut().try_for_each(|c| c.link(lists)),
            Condition::Not(c) => c.link(lists),
            Condition::Ss(_) => Ok(()),
            Condition::Pred(p) => {
                if let Arg::List(name) = &p.arg {
                    let items = lists.get(name).ok_or_else(|| LinkError::Rule {
                        list: name.clone(),
                        message: format!("unknown list `{name}`"),
                    })?;
                    let op = if p.op == Op::InList { Op::In } else { p.op };
                    match matcher::compile(p.field.ty, op, items) {
                        Ok(m) => p.matcher = Some(m),
                        Err(e) => {
                            // Blame the items that do not fit, in the list's own file; only
                            // when none does alone is the use itself wrong.
                            let bad: Vec<(usize, matcher::CompileError)> = items
                                .iter()
                                .enumerate()
                                .filter_map(|(i, it)| {
                                    matcher::compile(p.field.ty, op, std::slice::from_ref(it))
                                        .err()
                                        .map(|e| (i, e))
                                })
                                .collect();
                            let usage = format!("{} {}", p.field.name, p.op);
                            return Err(if bad.is_empty() || matches!(op, Op::Eq | Op::Ne) {
                                LinkError::Rule {
                                    list: name.clone(),
                                    message: format!("list `{name}` used with {usage}: {e}"),
                                }
                            } else {
                                LinkError::Items {
                                    list: name.clone(),
                                    usage,
                                    bad,
                                }
                            });
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Whether the condition reads only the holding process (and its parent): then its value is
    /// the same for every socket of that process, and the engine computes it once per process.
    pub fn process_only(&self) -> bool {
        match self {
            Condition::All(v) | Condition::Any(v) => v.iter().all(Condition::process_only),
            Condition::Not(c) => c.process_only(),
            Condition::Pred(p) => {
                p.field.name.starts_with("process.") || p.field.name.starts_with("parent.")
            }
            Condition::Ss(_) => false,
        }
    }

    /// Whether the condition holds for one (socket, holder) subject. A predicate whose named list
    /// was never linked is false.
    pub fn eval(&self, x: &super::fields::Subject) -> bool {
        match self {
            Condition::All(v) => v.iter().all(|c| c.eval(x)),
            Condition::Any(v) => v.iter().any(|c| c.eval(x)),
            Condition::Not(c) => !c.eval(x),
            Condition::Pred(p) => p
                .matcher
                .as_ref()
                .is_some_and(|m| m.matches(&(p.field.get)(x))),
            Condition::Ss(s) => s.filter.eval(x.socket),
        }
    }

    /// The values a top-level conjunction pins `field` to (for the engine's pre-filter), or
    /// `None` when the condition does not constrain it that simply.
    pub fn pinned_values(&self, field: &str) -> Option<Vec<String>> {
        match self {
            Condition::Pred(p) if p.field.name == field && p.op.is_membership() => match &p.arg {
                Arg::Values(v) => Some(v.clone()),
                Arg::List(_) => None,
            },
            Condition::All(v) => {
                // The intersection of every pinned conjunct.
                let mut out: Option<Vec<String>> = None;
                for c in v {
                    if let Some(vals) = c.pinned_values(field) {
                        out = Some(match out {
                            None => vals,
                            Some(prev) => prev.into_iter().filter(|x| vals.contains(x)).collect(),
                        });
                    }
                }
                out
            }
            Condition::Any(v) => {
                let mut out = Vec::new();
                for c in v {
                    out.extend(c.pinned_values(field)?);
                }
                Some(out)
            }
            _ => None,
        }
    }
}
