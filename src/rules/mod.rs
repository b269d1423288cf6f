//! Detection rules: the YAML schema, strict loading with located errors, and compilation.
//!
//! One rule per file (`rules/<theme>/<ID>-<slug>.yaml`), named lists in `rules/lists/`. The
//! default pack is embedded in the binary at build time (build.rs), so `sockwarden scan` needs no
//! files on the host. Loading never stops at the first problem: every file is parsed, every
//! error is collected with its file:line:col, and the caller reports them all at once.
//! This module never touches the OS: sources come in as text.

pub mod condition;
pub mod discover;
pub mod doc;
pub mod examples;
pub mod fields;
pub mod lists;
pub mod matcher;

pub use crate::diag::Diagnostic;
use crate::diag::Locator;

use condition::LinkError;

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::model::{Protocol, State};
use condition::Condition;
use examples::ExampleDoc;
use fields::FieldDef;
use lists::Lists;

/// The default pack and its lists, embedded from `rules/` at build time.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

crate::model::vocabulary! {
    /// How bad a finding is, least severe first (the order `--fail-on` compares by).
    pub enum Severity {
        /// Context for a responder; never fails a scan unless `--fail-on info`.
        Info => "info",
        /// Worth a look.
        Low => "low",
        /// Likely wrong; review soon.
        Medium => "medium",
        /// Likely an intrusion or a dangerous exposure.
        High => "high",
        /// Act now: a known backdoor or attack technique in use.
        Critical => "critical",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// How settled a rule is.
pub enum Status {
    /// Tuned and tested on real hosts: findings are actionable.
    Stable,
    /// New or noisy: findings need review.
    Experimental,
}

/// A field name, checked against the registry while parsing.
#[derive(Debug, Clone, Copy)]
pub struct FieldName(pub &'static FieldDef);

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        fields::lookup(&name).map(FieldName).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown field `{name}`{}",
                fields::suggest(&name)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default()
            ))
        })
    }
}

/// `aggregate:`: group matching subjects and fire once per group that passes a threshold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// The group key, e.g. `process.pid`.
    pub by: FieldName,
    /// Count distinct values of this field instead of matching subjects.
    #[serde(default)]
    pub distinct: Option<FieldName>,
    /// The threshold the group's count must pass.
    pub count: Threshold,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
/// A count threshold: `gt`, `ge`, or both.
pub struct Threshold {
    #[serde(default)]
    /// Passes when the count is greater than this.
    pub gt: Option<u64>,
    #[serde(default)]
    /// Passes when the count is at least this.
    pub ge: Option<u64>,
}

impl Threshold {
    /// Whether count `n` passes every bound given.
    pub fn passes(&self, n: u64) -> bool {
        self.gt.is_none_or(|t| n > t) && self.ge.is_none_or(|t| n >= t)
    }
}

/// The YAML form of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Upper-case letters, digits and dashes; unique across every loaded pack.
    pub id: String,
    /// One line: what the finding means.
    pub title: String,
    /// How bad a match is.
    pub severity: Severity,
    /// Stable or experimental.
    pub status: Status,
    /// ATT&CK technique ids (`T1059.004`).
    pub tags: Vec<String>,
    /// What the rule means, why it matters and how to respond.
    pub description: String,
    #[serde(default)]
    /// Links for the responder (the first becomes SARIF's helpUri).
    pub references: Vec<String>,
    /// The condition a subject must meet.
    pub when: Condition,
    #[serde(default)]
    /// Conditions that, when met, suppress a match.
    pub exceptions: Vec<Condition>,
    #[serde(default)]
    /// Fire once per group instead of once per socket.
    pub aggregate: Option<Aggregate>,
    /// Subjects that must and must not match; `rules test` runs them.
    pub examples: Examples,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// A rule's examples.
pub struct Examples {
    #[serde(rename = "match")]
    /// Subjects the rule must match.
    pub matches: Vec<ExampleDoc>,
    /// Subjects the rule must not match.
    pub no_match: Vec<ExampleDoc>,
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub doc: RuleDoc,
    /// Where it came from, for errors and `rules explain`.
    pub source: String,
    /// The YAML text, for documentation.
    pub text: String,
    /// Pre-filter bits: the protocols and states the rule can match at all (from its top-level
    /// conjunction), so the engine skips most sockets with two bit tests.
    pub protocol_mask: u32,
    /// Pre-filter bits: the states the rule can match ([`crate::model::State::bit`]).
    pub state_mask: u32,
}

impl Rule {
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.doc.id
    }
}

/// An input file's text and the name to report it by.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the text came from (a path, or `rules/...` for the built-in pack).
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// A rule pack ready to evaluate.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The rules, sorted by id.
    pub rules: Vec<Rule>,
    /// The named lists in force.
    pub lists: Lists,
    /// The ids that `disable` removed, sorted.
    pub disabled: Vec<String>,
}

/// Loads rules and lists. `list_overrides` are applied after the default lists. Rules whose id
/// is in `disable` are dropped after validation. Every problem of every file is returned.
pub fn load(
    rule_sources: &[Source],
    list_sources: &[Source],
    list_overrides: &[Source],
    disable: &[String],
) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let lists = load_lists(list_sources, list_overrides, &mut diags);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let rules: Vec<Rule> = rule_sources
        .iter()
        .filter_map(|s| load_rule(s, &lists, &mut seen, &mut diags))
        .collect();
    if !diags.is_empty() {
        diags.sort();
        diags.dedup();
        return Err(diags);
    }
    let (off, mut rules): (Vec<Rule>, Vec<Rule>) =
        rules.into_iter().partition(|r| disable.contains(&r.doc.id));
    let mut disabled: Vec<String> = off.into_iter().map(|r| r.doc.id).collect();
    disabled.sort();
    rules.sort_by(|a, b| a.doc.id.cmp(&b.doc.id));
    Ok(RuleSet {
        rules,
        lists,
        disabled,
    })
}

/// The pack's lists, then the overrides, which may only replace lists that exist.
fn load_lists(sources: &[Source], overrides: &[Source], diags: &mut Vec<Diagnostic>) -> Lists {
    let mut lists = Lists::default();
    for s in sources {
        if let Err(d) = lists.load(&s.path, &s.text, None) {
            diags.extend(d);
        }
    }
    let known = lists.names();
    for s in overrides {
        if let Err(d) = lists.load(&s.path, &s.text, Some(&known)) {
            diags.extend(d);
        }
    }
    lists
}

/// Parses, checks and links one rule file; `None` (with its problems in `diags`) when invalid.
fn load_rule(
    s: &Source,
    lists: &Lists,
    seen: &mut BTreeMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let mut doc: RuleDoc = match serde_yaml::from_str(&s.text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::from_yaml(&s.path, &e, "invalid rule"));
            return None;
        }
    };
    let before = diags.len();
    // Positions from the YAML parser, indexed only for a rule that has a problem.
    let loc = std::cell::OnceCell::new();
    let loc = || loc.get_or_init(|| Locator::new(&s.text));
    if let Some(first) = seen.get(&doc.id) {
        diags.push(Locator::diagnostic(
            &s.path,
            loc().value("id"),
            format!("duplicate rule id `{}` (first defined in {first})", doc.id),
        ));
    } else {
        seen.insert(doc.id.clone(), s.path.clone());
    }
    if let Some((key, msg)) = check_doc(&doc) {
        diags.push(Locator::diagnostic(&s.path, loc().key(key), msg));
    }
    link_rule(&mut doc, lists, s, diags);
    if diags.len() > before {
        return None;
    }
    let (protocol_mask, state_mask) = masks(&doc.when);
    Some(Rule {
        doc,
        source: s.path.clone(),
        text: s.text.clone(),
        protocol_mask,
        state_mask,
    })
}

/// Compiles the rule's named-list arguments; a bad use is located at the list's name in the
/// rule, a bad item at the item in its lists file.
fn link_rule(doc: &mut RuleDoc, lists: &Lists, s: &Source, diags: &mut Vec<Diagnostic>) {
    let link_errors: Vec<LinkError> = std::iter::once(&mut doc.when)
        .chain(doc.exceptions.iter_mut())
        .filter_map(|c| c.link(lists).err())
        .collect();
    for e in link_errors {
        match e {
            LinkError::Rule { list, message } => {
                let at = Locator::new(&s.text).scalar(&list);
                diags.push(Locator::diagnostic(&s.path, at, message));
            }
            LinkError::Items { list, usage, bad } => {
                let items = lists.items(&list).unwrap_or_default();
                for (i, why) in bad {
                    if let Some(it) = items.get(i) {
                        diags.push(it.diagnostic(format!(
                            "list `{list}`: `{}` does not fit {usage}: {why}",
                            it.text
                        )));
                    }
                }
            }
        }
    }
}

/// Checks that serde cannot express; returns (the key to locate, message).
fn check_doc(doc: &RuleDoc) -> Option<(&'static str, String)> {
    let id_ok = !doc.id.is_empty()
        && doc
            .id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Some((
            "id",
            format!(
                "rule id `{}` must be upper-case letters, digits and dashes",
                doc.id
            ),
        ));
    }
    if doc.tags.is_empty() {
        return Some((
            "tags",
            "a rule needs at least one ATT&CK technique tag".into(),
        ));
    }
    if let Some(t) = doc.tags.iter().find(|t| !is_attack_id(t)) {
        return Some((
            "tags",
            format!("tag `{t}` is not an ATT&CK technique id (T1234 or T1234.001)"),
        ));
    }
    if doc.description.trim().is_empty() {
        return Some((
            "description",
            "the description must say what the rule means, why it matters and how to respond"
                .into(),
        ));
    }
    if doc.examples.matches.is_empty() || doc.examples.no_match.is_empty() {
        return Some((
            "examples",
            "a rule needs at least one `match` and one `no_match` example".into(),
        ));
    }
    None
}

fn is_attack_id(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, ""));
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && (sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())))
}

/// The protocols and states (bits: [`Protocol::bit`], [`State::bit`]) that a condition allows,
/// as far as its conjunction pins `socket.protocol`, `socket.kind` and `socket.state`;
/// `u32::MAX` where it does not.
pub fn masks(c: &Condition) -> (u32, u32) {
    let pinned = |field: &str, name: &dyn Fn(usize) -> &'static str, n: usize| match c
        .pinned_values(field)
    {
        None => u32::MAX,
        Some(vals) => (0..n)
            .filter(|&i| vals.iter().any(|v| v == name(i)))
            .fold(0, |m, i| m | (1 << i)),
    };
    let protocols = pinned(
        "socket.protocol",
        &|i| Protocol::ALL[i].name(),
        Protocol::ALL.len(),
    ) & pinned(
        "socket.kind",
        &|i| Protocol::ALL[i].kind().name(),
        Protocol::ALL.len(),
    );
    let states = pinned("socket.state", &|i| State::ALL[i].name(), State::ALL.len());
    (protocols, states)
}

/// The default pack's rule and list sources.
pub fn default_sources() -> (Vec<Source>, Vec<Source>) {
    let mut rules = Vec::new();
    let mut lists = Vec::new();
    for (path, text) in embedded::FILES {
        let s = Source {
            path: path.to_string(),
            text: text.to_string(),
        };
        if path.starts_with("rules/lists/") {
            lists.push(s);
        } else {
            rules.push(s);
        }
    }
    (rules, lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, text: &str) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }

    const GOOD: &str = "id: T-1
title: t
severity: high
status: stable
tags: [T1059.004]
description: d
when:
  all:
    - socket.state: listen
    - process.exe: {prefix: {list: dirs}}
examples:
  match:
    - socket: {protocol: tcp, state: listen, local: 0.0.0.0:4444}
      process: {exe: /tmp/x}
  no_match:
    - socket: {protocol: tcp, state: listen, local: 0.0.0.0:4444}
      process: {exe: /usr/bin/x}
";

    #[test]
    fn loads_and_prefilters() {
        let rs = load(
            &[src("r.yaml", GOOD)],
            &[src("l.yaml", "dirs: [/tmp/]\n")],
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(rs.rules.len(), 1);
        let r = &rs.rules[0];
        assert_eq!(r.state_mask, 1 << 9); // listen is the 10th state name
        assert_eq!(r.protocol_mask, u32::MAX);
    }

    #[test]
    fn every_error_of_every_file_is_reported_with_its_place() {
        let bad_field = GOOD.replace("socket.state: listen", "socket.stat: listen");
        let bad_list = GOOD.replace("{list: dirs}", "{list: nope}");
        let diags = load(
            &[
                src("a.yaml", &bad_field),
                src("b.yaml", &bad_list),
                src("c.yaml", GOOD),
                src("d.yaml", GOOD),
            ],
            &[src("l.yaml", "dirs: [/tmp/]\n")],
            &[],
            &[],
        )
        .unwrap_err();
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        // b.yaml loads its id before failing to link, so c.yaml and d.yaml both repeat it.
        assert_eq!(diags.len(), 4, "{text:#?}");
        assert!(
            text[0].starts_with("a.yaml:9:7: when.all[0]: unknown field `socket.stat`"),
            "{}",
            text[0]
        );
        assert!(text[0].contains("did you mean `socket.state`"));
        assert_eq!(text[1], "b.yaml:10:36: unknown list `nope`");
        assert!(
            text[2].starts_with("c.yaml:1:5: duplicate rule id `T-1`"),
            "{}",
            text[2]
        );
        assert!(
            text[3].starts_with("d.yaml:1:5: duplicate rule id `T-1`"),
            "{}",
            text[3]
        );
    }

    #[test]
    fn attack_ids() {
        assert!(is_attack_id("T1059"));
        assert!(is_attack_id("T1059.004"));
        assert!(!is_attack_id("t1059"));
        assert!(!is_attack_id("T105"));
        assert!(!is_attack_id("T1059.4"));
    }
}
