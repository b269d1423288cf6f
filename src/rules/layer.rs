//! Overrides: a rule file that changes a rule loaded before it, Falco-style, instead of a fork.
//!
//! ```yaml
//! id: NET-NET-001            # the rule to change, loaded by an earlier layer
//! override:                  # how each key below changes it: append or replace
//!   severity: replace
//!   exceptions: append
//!   tags: append
//! severity: low
//! exceptions:
//!   - process.exe: /opt/agent/bin/agent
//! tags: [site:dmz, cis:4.1]
//! ```
//!
//! `when` (replace), `exceptions` (append or replace), `severity` (replace), `tags` (append or
//! replace), `enabled` (replace) and `examples` (append) can be overridden; every key set must be
//! declared under `override:` and every declared key set, so a file never changes a rule in a way
//! its author did not write down. The layers apply in order: the built-in pack, then `rules.d/`
//! in name order, then `--rules` in command-line order; an override must come after the rule.
//!
//! The structure (keys, modes) is checked on the YAML mapping first, every problem located at
//! once; then the values are read with the rule types, whose errors serde_yaml locates.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::condition::Condition;
use super::{Diagnostic, Examples, Severity};
use crate::diag::Locator;

crate::model::vocabulary! {
    /// How an override changes a key.
    pub enum Mode {
        /// Add to what earlier layers set (exceptions, tags, examples).
        Append => "append",
        /// Set the key, dropping what earlier layers set.
        Replace => "replace",
    }
}

/// The keys an override may change, and how.
pub(crate) const OVERRIDABLE: [(&str, &[Mode]); 6] = [
    ("when", &[Mode::Replace]),
    ("exceptions", &[Mode::Append, Mode::Replace]),
    ("severity", &[Mode::Replace]),
    ("tags", &[Mode::Append, Mode::Replace]),
    ("enabled", &[Mode::Replace]),
    ("examples", &[Mode::Append]),
];

/// Rule keys that an override may not change: they say what the rule is.
const FIXED: [&str; 5] = ["title", "description", "status", "references", "aggregate"];

/// The examples of an override: either kind may be left out.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraExamples {
    #[serde(default, rename = "match")]
    matches: Vec<super::examples::ExampleDoc>,
    #[serde(default)]
    no_match: Vec<super::examples::ExampleDoc>,
}

/// The YAML form of an override, read once its structure is known to be right.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideDoc {
    /// The rule to change.
    pub id: String,
    /// How each key changes it: `append` or `replace`, by key.
    #[serde(rename = "override")]
    #[schemars(schema_with = "modes_schema")]
    pub how: BTreeMap<String, Mode>,
    /// A new condition.
    #[serde(default)]
    pub when: Option<Condition>,
    /// Exceptions to append or to replace the rule's with.
    #[serde(default)]
    pub exceptions: Option<Vec<Condition>>,
    /// A new severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Tags to append or to replace the rule's with.
    #[serde(default)]
    #[schemars(inner(regex(pattern = super::tags::PATTERN)))]
    pub tags: Option<Vec<String>>,
    /// Switch the rule on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Examples that the rule, as this override leaves it, must match or not.
    #[serde(default)]
    examples: Option<ExtraExamples>,
}

/// The `override:` mapping as the structure check takes it: only the keys of [`OVERRIDABLE`],
/// each with the modes it allows, at least one.
fn modes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let properties: serde_json::Map<String, serde_json::Value> = OVERRIDABLE
        .iter()
        .map(|(key, modes)| {
            let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
            (key.to_string(), serde_json::json!({"enum": names}))
        })
        .collect();
    schemars::json_schema!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "minProperties": 1
    })
}

impl OverrideDoc {
    /// How `key` is overridden; `Replace` for a key not declared (checked before).
    pub fn mode(&self, key: &str) -> Mode {
        self.how.get(key).copied().unwrap_or(Mode::Replace)
    }

    /// The override's examples as a rule's.
    pub fn examples(&self) -> Option<Examples> {
        self.examples.clone().map(|e| Examples {
            matches: e.matches,
            no_match: e.no_match,
        })
    }

    /// Every condition the override brings, to link against the lists.
    pub fn conditions_mut(&mut self) -> impl Iterator<Item = &mut Condition> {
        self.when
            .iter_mut()
            .chain(self.exceptions.iter_mut().flatten())
    }
}

/// Whether a rule file's text is an override (it has an `override` key) rather than a rule: a
/// cheap look at the text first, so the built-in pack is not parsed twice.
pub fn is_override(text: &str) -> bool {
    // The YAML parser's index, not serde: a repeated key must not turn an override into a rule
    // with an unknown `override` field.
    text.contains("override") && Locator::new(text).key("override").is_some()
}

/// The `id` of a rule file that did not load, when it has one: overrides of it are then not
/// reported again as overriding an unknown rule.
pub fn probe_id(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        id: String,
    }
    serde_yaml::from_str::<Probe>(text).ok().map(|p| p.id)
}

/// Reads an override: its structure (every problem, located), then its values.
pub fn parse(path: &str, text: &str) -> Result<OverrideDoc, Vec<Diagnostic>> {
    let loc = Locator::new(text);
    let repeated = repeated_keys(path, &loc);
    if !repeated.is_empty() {
        return Err(repeated);
    }
    let map: serde_yaml::Mapping = serde_yaml::from_str(text)
        .map_err(|e| vec![Diagnostic::from_yaml(path, &e, "invalid override")])?;
    let diags = check_structure(path, &map, &loc);
    if !diags.is_empty() {
        return Err(diags);
    }
    serde_yaml::from_str(text)
        .map_err(|e| vec![Diagnostic::from_yaml(path, &e, "invalid override")])
}

/// Every key repeated in one mapping of the file, at the repeat (serde_yaml says only that
/// there is one).
pub fn repeated_keys(path: &str, loc: &Locator) -> Vec<Diagnostic> {
    loc.duplicates()
        .iter()
        .map(|(key, first, at)| {
            let msg = format!("duplicate key `{key}` (first at line {})", first.0);
            Diagnostic::new(path, at.0, at.1, msg)
        })
        .collect()
}

/// The keys of an override and their declared modes.
fn check_structure(path: &str, map: &serde_yaml::Mapping, loc: &Locator) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let at = |pos: Option<(usize, usize)>, msg: String| Locator::diagnostic(path, pos, msg);
    let declared = declared_modes(path, map, loc, &mut diags);
    let overridable: Vec<&str> = OVERRIDABLE.iter().map(|(k, _)| *k).collect();
    let known = || {
        ["id", "override"]
            .into_iter()
            .chain(overridable.iter().copied())
    };
    let mut set = Vec::new();
    for k in map.keys() {
        let Some(k) = k.as_str() else {
            diags.push(Diagnostic::new(
                path,
                1,
                1,
                "a key of an override must be a word",
            ));
            continue;
        };
        match k {
            "id" | "override" => {}
            _ if overridable.contains(&k) => {
                set.push(k);
                if !declared.contains_key(k) {
                    diags.push(at(
                        loc.key(k),
                        format!(
                            "`{k}` is set but `override:` does not say how it changes the rule \
                             (add `{k}: {}` under `override:`)",
                            allowed(k)[0]
                        ),
                    ));
                }
            }
            _ if FIXED.contains(&k) => diags.push(at(loc.key(k), cannot_override(k))),
            _ => diags.push(at(
                loc.key(k),
                format!("unknown key `{k}` in an override{}", hint(k, known())),
            )),
        }
    }
    if !map.contains_key("id") {
        diags.push(Diagnostic::new(
            path,
            1,
            1,
            "an override needs the `id` of the rule it changes",
        ));
    }
    for k in declared.keys() {
        if !set.contains(&k.as_str()) {
            diags.push(at(
                loc.key(&format!("override/{k}")),
                format!("`override:` names `{k}` but the file sets no `{k}`"),
            ));
        }
    }
    diags
}

/// The `override:` mapping: each key one that can be overridden, each mode one it allows.
fn declared_modes(
    path: &str,
    map: &serde_yaml::Mapping,
    loc: &Locator,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Option<Mode>> {
    let mut out = BTreeMap::new();
    let how = match map.get("override") {
        Some(serde_yaml::Value::Mapping(m)) => m,
        _ => {
            diags.push(Locator::diagnostic(
                path,
                loc.value("override"),
                "`override:` must map each key the file sets to `append` or `replace`",
            ));
            return out;
        }
    };
    let overridable = OVERRIDABLE.iter().map(|(k, _)| *k);
    for (k, v) in how {
        let Some(k) = k.as_str() else {
            diags.push(Locator::diagnostic(
                path,
                loc.value("override"),
                "a key of `override:` must be a word",
            ));
            continue;
        };
        let key_at = loc.key(&format!("override/{k}"));
        if FIXED.contains(&k) || k == "id" {
            diags.push(Locator::diagnostic(path, key_at, cannot_override(k)));
            continue;
        }
        if !OVERRIDABLE.iter().any(|(o, _)| *o == k) {
            diags.push(Locator::diagnostic(
                path,
                key_at,
                format!("`{k}` cannot be overridden{}", hint(k, overridable.clone())),
            ));
            continue;
        }
        let value_at = loc.value(&format!("override/{k}"));
        let modes = allowed(k);
        match v.as_str().and_then(Mode::parse) {
            Some(m) if modes.contains(&m) => {
                out.insert(k.to_string(), Some(m));
            }
            _ => {
                out.insert(k.to_string(), None);
                let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
                diags.push(Locator::diagnostic(
                    path,
                    value_at,
                    format!("`{k}` can only be overridden with {}", names.join(" or ")),
                ));
            }
        }
    }
    out
}

fn allowed(key: &str) -> &'static [Mode] {
    OVERRIDABLE
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(&[], |(_, m)| m)
}

fn cannot_override(k: &str) -> String {
    format!(
        "`{k}` cannot be overridden: an override changes when, exceptions, severity, tags, \
         enabled and examples (to change what the rule is, write a new rule and disable this one)"
    )
}

fn hint<'a>(k: &str, cands: impl Iterator<Item = &'a str>) -> String {
    super::fields::closest(k, cands)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse("o.yaml", text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_override_is_recognised_by_its_override_key() {
        assert!(is_override(
            "id: X\noverride: {severity: replace}\nseverity: low\n"
        ));
        assert!(!is_override("id: X\ntitle: override the default\n"));
        assert!(!is_override("id: [\n"));
    }

    #[test]
    fn every_structural_problem_is_located_at_once() {
        let e = errors(
            "id: NET-NET-001\noverride:\n  severity: append\n  title: replace\n  tags: append\n  \
             severty: replace\nseverity: low\ntitle: x\nexceptions: []\nsevrity: high\n",
        );
        let want = [
            "o.yaml:3:13: `severity` can only be overridden with replace",
            "o.yaml:4:3: `title` cannot be overridden",
            "o.yaml:6:3: `severty` cannot be overridden; did you mean `severity`?",
            "o.yaml:8:1: `title` cannot be overridden",
            "o.yaml:9:1: `exceptions` is set but `override:` does not say how",
            "o.yaml:10:1: unknown key `sevrity` in an override; did you mean `severity`?",
            "o.yaml:5:3: `override:` names `tags` but the file sets no `tags`",
        ];
        for w in want {
            assert!(e.iter().any(|l| l.starts_with(w)), "{w}\n{e:#?}");
        }
        assert_eq!(e.len(), want.len(), "{e:#?}");
    }

    #[test]
    fn repeated_keys_are_located_at_the_repeat() {
        let e = errors(
            "id: X\noverride: {severity: replace, severity: replace}\nseverity: low\n\
             severity: high\n",
        );
        assert_eq!(
            e,
            [
                "o.yaml:2:31: duplicate key `override/severity` (first at line 2)",
                "o.yaml:4:1: duplicate key `severity` (first at line 3)"
            ]
        );
    }

    #[test]
    fn values_are_read_with_the_rule_types() {
        let e = errors("id: X\noverride: {severity: replace}\nseverity: urgent\n");
        assert!(e[0].starts_with("o.yaml:3:11: "), "{e:?}");
        let ok = parse(
            "o.yaml",
            "id: X\noverride: {exceptions: append, enabled: replace}\nenabled: false\n\
             exceptions:\n  - process.comm: sshd\n",
        )
        .unwrap();
        assert_eq!(ok.mode("exceptions"), Mode::Append);
        assert_eq!(ok.enabled, Some(false));
        assert_eq!(ok.exceptions.unwrap().len(), 1);
    }
}
