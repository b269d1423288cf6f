//! Detection rules: the YAML schema, strict loading with located errors, and compilation.
//!
//! One rule per file (`rules/<theme>/<ID>-<slug>.yaml`), named lists in `rules/lists/`. The
//! default pack is embedded in the binary at build time (build.rs), so `sockwarden scan` needs no
//! files on the host. Loading never stops at the first problem: every file is parsed, every
//! error is collected with its file:line:col, and the caller reports them all at once.
//! This module never touches the OS: sources come in as text.

pub mod attack;
pub mod condition;
pub mod discover;
pub mod doc;
pub mod examples;
pub mod fields;
pub mod layer;
pub mod lists;
pub mod matcher;
pub mod select;
pub mod tags;

pub use crate::diag::Diagnostic;
use crate::diag::Locator;

use condition::LinkError;

use std::collections::BTreeMap;

use schemars::JsonSchema;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// A name of the field registry (`sockwarden rules fields`), which the loader checks.
impl JsonSchema for FieldName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = fields::all().map(|f| f.name).collect();
        schemars::json_schema!({
            "description": "A rule field (`sockwarden rules fields`).",
            "type": "string",
            "enum": names
        })
    }
}

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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Upper-case letters, digits and dashes; unique across every loaded pack.
    #[schemars(regex(pattern = r"^[A-Z0-9-]+$"))]
    pub id: String,
    /// One line: what the finding means.
    pub title: String,
    /// How bad a match is.
    pub severity: Severity,
    /// Stable or experimental.
    pub status: Status,
    /// ATT&CK technique ids (`T1059.004`) and `prefix:value` tags (`cis:4.1`, `site:dmz`);
    /// see [`tags`]. At least one.
    #[schemars(length(min = 1), inner(regex(pattern = tags::PATTERN)))]
    pub tags: Vec<String>,
    /// What the rule means, why it matters and how to respond; not blank.
    #[schemars(regex(pattern = r"\S"))]
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
    /// Whether scans evaluate the rule (default true); `--enable` switches it on.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The schema of a rule file (docs/schema.md): an override when it has an `override` key (as
/// [`layer::is_override`] decides), else a rule. An override sets exactly the keys it declares
/// under `override:`, as the loader's structure check requires.
pub struct RuleFile;

impl JsonSchema for RuleFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleFile".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rule = generator.subschema_for::<RuleDoc>();
        let mut all_of = vec![generator.subschema_for::<layer::OverrideDoc>().to_value()];
        for (key, _) in layer::OVERRIDABLE {
            let declared = serde_json::json!({"properties": {"override": {"required": [key]}}});
            all_of.push(serde_json::json!({"if": {"required": [key]}, "then": declared}));
            all_of.push(serde_json::json!({
                "if": {"required": ["override"], "properties": {"override": {"required": [key]}}},
                "then": {"required": [key]}
            }));
        }
        schemars::json_schema!({
            "if": {"required": ["override"]},
            "then": {"allOf": all_of},
            "else": rule
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// A rule's examples.
pub struct Examples {
    #[serde(rename = "match")]
    /// Subjects the rule must match: at least one.
    #[schemars(length(min = 1))]
    pub matches: Vec<ExampleDoc>,
    /// Subjects the rule must not match: at least one.
    #[schemars(length(min = 1))]
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
    /// Where each part of the effective rule was written, and the layers that changed it.
    pub origins: Origins,
}

impl Rule {
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.doc.id
    }

    /// `FILE:LINE:COL` of a part of the rule (or the pattern that switched it on or off).
    pub fn locate(&self, o: &Origin) -> String {
        match o {
            Origin::Pick(p) => format!("{} `{}` ({})", p.action, p.pattern, p.from),
            Origin::Node { file, path } => {
                let (line, col) = self
                    .text_of(file)
                    .and_then(|t| Locator::new(t).start(path))
                    .unwrap_or((1, 1));
                format!("{file}:{line}:{col}")
            }
        }
    }

    /// The YAML lines that wrote a part of the rule (`when:` and its block, one item of
    /// `exceptions:`), as [`doc::excerpt`] cuts them; `None` for a pattern.
    pub fn excerpt(&self, o: &Origin) -> Option<String> {
        let Origin::Node { file, path } = o else {
            return None;
        };
        let text = self.text_of(file)?;
        let (line, col) = Locator::new(text).start(path)?;
        Some(doc::excerpt(text, line, col))
    }

    /// The text of the definition or of an override applied, by file name.
    fn text_of(&self, file: &str) -> Option<&str> {
        if file == self.source {
            return Some(&self.text);
        }
        let layer = self.origins.layers.iter().find(|l| l.path == file)?;
        Some(&layer.text)
    }

    /// The matching parts of the rule as it stands now.
    fn matching(&self) -> Matching {
        Matching {
            when: self.doc.when.clone(),
            exceptions: self.doc.exceptions.clone(),
        }
    }

    /// The rule with the matching parts of `variant` ([`Origins::earlier`]; the last is the
    /// effective rule itself).
    pub fn variant(&self, variant: usize) -> Rule {
        let mut r = self.clone();
        if let Some(m) = self.origins.earlier.get(variant) {
            r.doc.when = m.when.clone();
            r.doc.exceptions = m.exceptions.clone();
            (r.protocol_mask, r.state_mask) = masks(&r.doc.when);
        }
        r
    }

    /// Every set of examples to run, each with the variants of the rule it must hold for:
    /// the rule as the layer that wrote them left it, and the effective rule when no later layer
    /// changed what they test (docs/rules-language.md, "Layering").
    pub fn example_runs(&self) -> Vec<ExampleRun<'_>> {
        let last = self.origins.earlier.len();
        let sets = std::iter::once((self.source.as_str(), 0, &self.doc.examples)).chain(
            self.origins
                .examples
                .iter()
                .map(|(f, v, e)| (f.as_str(), *v, e)),
        );
        let mut runs = Vec::new();
        for (file, written, ex) in sets {
            let later = &self.origins.changes[written.min(last)..];
            for (want, list) in [(true, &ex.matches), (false, &ex.no_match)] {
                let holds_later = later
                    .iter()
                    .all(|c| (*c == Change::ExceptionsAppended && !want) || *c == Change::Nothing);
                let mut variants = vec![written];
                if written != last && holds_later {
                    variants.push(last);
                }
                for (index, example) in list.iter().enumerate() {
                    runs.push(ExampleRun {
                        file,
                        want,
                        index,
                        example,
                        variants: variants.clone(),
                    });
                }
            }
        }
        runs
    }
}

/// One example and the variants of its rule it must hold for.
#[derive(Debug)]
pub struct ExampleRun<'r> {
    /// The file that wrote it.
    pub file: &'r str,
    /// `match` (true) or `no_match`.
    pub want: bool,
    /// Its position in its file's `match` or `no_match` list.
    pub index: usize,
    /// The example.
    pub example: &'r examples::ExampleDoc,
    /// Variants of the rule ([`Rule::variant`]) it is run against.
    pub variants: Vec<usize>,
}

/// Where a part of a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A node of a rule or override file: the file and the node's path (`severity`, `tags/1`,
    /// as [`Locator`] names them); positions ([`Locator::start`]) are computed when shown.
    Node {
        /// The file, as its source is named.
        file: String,
        /// The node's path in it.
        path: String,
    },
    /// A `--disable`/`--enable` pattern (or setting).
    Pick(select::Pick),
}

/// What a layer did to a rule's matching (condition and exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: severity, tags, enabled or examples only.
    Nothing,
    /// Appended exceptions: what did not match still does not.
    ExceptionsAppended,
    /// Replaced the condition or the exceptions.
    Replaced,
}

/// A rule's condition and exceptions, kept when a later layer changes them.
#[derive(Debug, Clone)]
pub struct Matching {
    /// The condition.
    pub when: Condition,
    /// The exceptions.
    pub exceptions: Vec<Condition>,
}

/// The origin of each part of an effective rule.
#[derive(Debug, Clone)]
pub struct Origins {
    /// The condition.
    pub when: Origin,
    /// The severity.
    pub severity: Origin,
    /// One per tag, in order.
    pub tags: Vec<Origin>,
    /// One per exception, in order.
    pub exceptions: Vec<Origin>,
    /// Whether the rule is on.
    pub enabled: Origin,
    /// The overrides applied, in order, with their text.
    pub layers: Vec<Source>,
    /// The matching of the rule before each layer that changed it (variant i), oldest first;
    /// the effective rule is variant `earlier.len()`.
    pub earlier: Vec<Matching>,
    /// `changes[i]`: what turned variant i into variant i + 1.
    pub changes: Vec<Change>,
    /// Overrides' examples: (file, the variant they were written against, examples).
    pub examples: Vec<(String, usize, Examples)>,
}

impl Origins {
    /// Every part at the definition in `file`.
    fn defined(file: &str, doc: &RuleDoc) -> Origins {
        let at = |path: String| Origin::Node {
            file: file.to_string(),
            path,
        };
        Origins {
            when: at("when".into()),
            severity: at("severity".into()),
            tags: (0..doc.tags.len())
                .map(|i| at(format!("tags/{i}")))
                .collect(),
            exceptions: (0..doc.exceptions.len())
                .map(|i| at(format!("exceptions/{i}")))
                .collect(),
            enabled: at(if doc.enabled { "id" } else { "enabled" }.into()),
            layers: Vec::new(),
            earlier: Vec::new(),
            changes: Vec::new(),
            examples: Vec::new(),
        }
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
    /// The rules switched off (`enabled: false`, `--disable`), sorted by id.
    pub disabled: Vec<Rule>,
}

/// What the default pack's rules read, those off by default too (NET-EXF-001's
/// `socket.tcp.bytes_acked`): the guess of a scan without rule files until its rules are loaded
/// ([`RuleSet::needs`] decides; a test keeps the two equal).
pub const DEFAULT_PACK_NEEDS: crate::model::Extensions =
    crate::model::Extensions::tcp(crate::model::TcpField::bytes_acked);

impl RuleSet {
    /// The sock_diag extensions the rules a scan evaluates read, in their conditions and
    /// exceptions and aggregation keys: what the scan collects (docs/detection.md, "Costs").
    /// Rules switched off are not evaluated and need nothing.
    pub fn needs(&self) -> crate::model::Extensions {
        let mut n = crate::model::Extensions::NONE;
        for r in &self.rules {
            for c in std::iter::once(&r.doc.when).chain(&r.doc.exceptions) {
                n = n.union(c.needs());
            }
            if let Some(a) = &r.doc.aggregate {
                n = n.union(a.by.0.needs);
                if let Some(d) = &a.distinct {
                    n = n.union(d.0.needs);
                }
            }
        }
        n
    }
}

/// Why rules could not be loaded: problems in the files, or `--disable`/`--enable` patterns
/// that select nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Every problem of every file, located, sorted.
    Files(Vec<Diagnostic>),
    /// Every pattern that selects no rule or does not parse.
    Picks(Vec<select::PickError>),
}

/// Loads rules and lists in layers: `list_sources` (which may define lists) then
/// `list_overrides` (which change lists that exist); the rule sources in order, each a rule or an
/// override of a rule loaded before it; then `picks` switch rules off and on. Every problem of
/// every file is returned.
pub fn load(
    rule_sources: &[Source],
    list_sources: &[Source],
    list_overrides: &[Source],
    picks: &[select::Pick],
) -> Result<RuleSet, Vec<Diagnostic>> {
    match load_layers(rule_sources, list_sources, list_overrides, picks) {
        Ok(rs) => Ok(rs),
        Err(Invalid::Files(d)) => Err(d),
        Err(Invalid::Picks(p)) => Err(p
            .iter()
            .map(|e| Diagnostic::new(&e.from, 1, 1, e.to_string()))
            .collect()),
    }
}

/// [`load`], telling file problems from patterns that select nothing.
pub fn load_layers(
    rule_sources: &[Source],
    list_sources: &[Source],
    list_overrides: &[Source],
    picks: &[select::Pick],
) -> Result<RuleSet, Invalid> {
    let mut diags = Vec::new();
    let lists = load_lists(list_sources, list_overrides, &mut diags);
    let mut pack = Pack::default();
    for (i, s) in rule_sources.iter().enumerate() {
        if layer::is_override(&s.text) {
            apply_override(s, &rule_sources[i + 1..], &lists, &mut pack, &mut diags);
        } else if let Some(r) = load_rule(s, &lists, &mut pack.seen, &mut diags) {
            pack.index.insert(r.doc.id.clone(), pack.rules.len());
            pack.rules.push(r);
        } else if let Some(id) = layer::probe_id(&s.text) {
            pack.failed.insert(id);
        }
    }
    if !diags.is_empty() {
        diags.sort();
        diags.dedup();
        return Err(Invalid::Files(diags));
    }
    let mut rules = pack.rules;
    switch(&mut rules, picks).map_err(Invalid::Picks)?;
    let (mut rules, mut disabled): (Vec<Rule>, Vec<Rule>) =
        rules.into_iter().partition(|r| r.doc.enabled);
    rules.sort_by(|a, b| a.doc.id.cmp(&b.doc.id));
    disabled.sort_by(|a, b| a.doc.id.cmp(&b.doc.id));
    Ok(RuleSet {
        rules,
        lists,
        disabled,
    })
}

/// The rules loaded so far, by id.
#[derive(Default)]
struct Pack {
    rules: Vec<Rule>,
    index: BTreeMap<String, usize>,
    /// Where each id was first defined (for duplicates).
    seen: BTreeMap<String, String>,
    /// Ids of rule files that did not load: overrides of them are not reported again.
    failed: std::collections::BTreeSet<String>,
}

/// Applies `picks` (disable patterns first, then enable) to every rule, enabled or not.
fn switch(rules: &mut [Rule], picks: &[select::Pick]) -> Result<(), Vec<select::PickError>> {
    let mut ordered: Vec<&select::Pick> = picks.iter().collect();
    ordered.sort_by_key(|p| p.action); // stable: each action's patterns in the order given
    let ordered: Vec<select::Pick> = ordered.into_iter().cloned().collect();
    let keys: Vec<(&str, &[String])> = rules
        .iter()
        .map(|r| (r.doc.id.as_str(), r.doc.tags.as_slice()))
        .collect();
    let hits = select::resolve(&ordered, &keys)?;
    for (p, hit) in ordered.iter().zip(hits) {
        for i in hit {
            rules[i].doc.enabled = p.action == select::Action::Enable;
            rules[i].origins.enabled = Origin::Pick(p.clone());
        }
    }
    Ok(())
}

/// Applies one override file to the rule it names, or reports why it cannot.
fn apply_override(
    s: &Source,
    later: &[Source],
    lists: &Lists,
    pack: &mut Pack,
    diags: &mut Vec<Diagnostic>,
) {
    let mut o = match layer::parse(&s.path, &s.text) {
        Ok(o) => o,
        Err(d) => {
            diags.extend(d);
            return;
        }
    };
    let loc = std::cell::OnceCell::new();
    let loc = || loc.get_or_init(|| Locator::new(&s.text));
    let before = diags.len();
    let Some(&ri) = pack.index.get(&o.id) else {
        if !pack.failed.contains(&o.id) {
            let msg = unknown_target(&o.id, pack, later);
            diags.push(Locator::diagnostic(&s.path, loc().value("id"), msg));
        }
        return;
    };
    let link: Vec<&mut Condition> = o.conditions_mut().collect();
    link_conditions(link, lists, s, diags);
    let rule = &pack.rules[ri];
    for (i, t) in o.tags.iter().flatten().enumerate() {
        let at = loc().value(&format!("tags/{i}"));
        if let Err(msg) = tags::check(t) {
            diags.push(Locator::diagnostic(&s.path, at, msg));
        } else if o.mode("tags") == layer::Mode::Append
            && let Some(j) = rule.doc.tags.iter().position(|x| x == t)
        {
            let first = rule.locate(&rule.origins.tags[j]);
            let msg = format!("tag `{t}` is already on {} (from {first})", o.id);
            diags.push(Locator::diagnostic(&s.path, at, msg));
        }
    }
    if o.tags.as_ref().is_some_and(|t| t.is_empty()) && o.mode("tags") == layer::Mode::Replace {
        let at = loc().value("tags");
        diags.push(Locator::diagnostic(
            &s.path,
            at,
            "a rule needs at least one tag",
        ));
    }
    if diags.len() == before {
        apply(&mut pack.rules[ri], o, s);
    }
}

/// Why an override's id names no rule loaded before it, with a "did you mean".
fn unknown_target(id: &str, pack: &Pack, later: &[Source]) -> String {
    if let Some(l) = later
        .iter()
        .find(|l| !layer::is_override(&l.text) && layer::probe_id(&l.text).as_deref() == Some(id))
    {
        return format!(
            "override of `{id}`, which is defined only later, in {}: an override applies to a \
             rule loaded before it (the built-in pack, then rules.d in name order, then --rules \
             in command-line order)",
            l.path
        );
    }
    let hint = fields::closest(id, pack.index.keys().map(String::as_str))
        .map(|h| format!("; did you mean `{h}`?"))
        .unwrap_or_default();
    let built_in = embedded::FILES
        .iter()
        .any(|(p, t)| !p.starts_with("rules/lists/") && layer::probe_id(t).as_deref() == Some(id));
    let note = if built_in {
        " (it is a built-in rule, and the built-in pack is not loaded here: --no-default-rules, \
         or `rules check`/`rules test` without --over-defaults)"
    } else {
        ""
    };
    format!("override of `{id}`: no rule with that id is loaded before this file{hint}{note}")
}

/// Changes `rule` as the (checked) override `o` from `s` says.
fn apply(rule: &mut Rule, o: layer::OverrideDoc, s: &Source) {
    let at = |path: String| Origin::Node {
        file: s.path.clone(),
        path,
    };
    let change = match (&o.when, &o.exceptions) {
        (None, None) => Change::Nothing,
        (None, Some(_)) if o.mode("exceptions") == layer::Mode::Append => {
            Change::ExceptionsAppended
        }
        _ => Change::Replaced,
    };
    if change != Change::Nothing {
        let m = rule.matching();
        rule.origins.earlier.push(m);
        rule.origins.changes.push(change);
    }
    let examples = o.examples();
    let mode_tags = o.mode("tags");
    let mode_exceptions = o.mode("exceptions");
    if let Some(when) = o.when {
        rule.doc.when = when;
        rule.origins.when = at("when".into());
        (rule.protocol_mask, rule.state_mask) = masks(&rule.doc.when);
    }
    if let Some(ex) = o.exceptions {
        if mode_exceptions == layer::Mode::Replace {
            rule.doc.exceptions.clear();
            rule.origins.exceptions.clear();
        }
        let n = ex.len();
        rule.doc.exceptions.extend(ex);
        rule.origins
            .exceptions
            .extend((0..n).map(|i| at(format!("exceptions/{i}"))));
    }
    if let Some(sev) = o.severity {
        rule.doc.severity = sev;
        rule.origins.severity = at("severity".into());
    }
    if let Some(t) = o.tags {
        if mode_tags == layer::Mode::Replace {
            rule.doc.tags.clear();
            rule.origins.tags.clear();
        }
        let n = t.len();
        rule.doc.tags.extend(t);
        rule.origins
            .tags
            .extend((0..n).map(|i| at(format!("tags/{i}"))));
    }
    if let Some(e) = o.enabled {
        rule.doc.enabled = e;
        rule.origins.enabled = at("enabled".into());
    }
    if let Some(ex) = examples {
        let variant = rule.origins.earlier.len();
        rule.origins.examples.push((s.path.clone(), variant, ex));
    }
    rule.origins.layers.push(s.clone());
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
            let repeated = layer::repeated_keys(&s.path, &Locator::new(&s.text));
            if repeated.is_empty() {
                diags.push(Diagnostic::from_yaml(&s.path, &e, "invalid rule"));
            } else {
                diags.extend(repeated);
            }
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
    for (i, t) in doc.tags.iter().enumerate() {
        if let Err(msg) = tags::check(t) {
            diags.push(Locator::diagnostic(
                &s.path,
                loc().value(&format!("tags/{i}")),
                msg,
            ));
        }
    }
    let conds = std::iter::once(&mut doc.when).chain(doc.exceptions.iter_mut());
    link_conditions(conds.collect(), lists, s, diags);
    if diags.len() > before {
        return None;
    }
    let (protocol_mask, state_mask) = masks(&doc.when);
    let origins = Origins::defined(&s.path, &doc);
    Some(Rule {
        doc,
        source: s.path.clone(),
        text: s.text.clone(),
        protocol_mask,
        state_mask,
        origins,
    })
}

/// Compiles the named-list arguments of a rule's (or an override's) conditions; a bad use is
/// located at the list's name in the file, a bad item at the item in its lists file.
fn link_conditions(
    conds: Vec<&mut Condition>,
    lists: &Lists,
    s: &Source,
    diags: &mut Vec<Diagnostic>,
) {
    let link_errors: Vec<LinkError> = conds
        .into_iter()
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

/// Whether `id` is a rule id: upper-case letters, digits and dashes, at least one.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// Checks that serde cannot express; returns (the key to locate, message).
fn check_doc(doc: &RuleDoc) -> Option<(&'static str, String)> {
    if !valid_id(&doc.id) {
        return Some((
            "id",
            format!(
                "rule id `{}` must be upper-case letters, digits and dashes",
                doc.id
            ),
        ));
    }
    if doc.tags.is_empty() {
        return Some(("tags", "a rule needs at least one tag".into()));
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

    /// What a scan with the default pack collects (issue 19): one tcp_info counter
    /// (NET-EXF-001's `socket.tcp.bytes_acked`), no congestion name, BBR model or memory. A rule
    /// added to the pack that reads another extension changes this on purpose.
    #[test]
    fn the_default_pack_needs_bytes_acked_only() {
        use crate::model::{Extensions, TcpField};
        let (rules, lists) = default_sources();
        let set = load(&rules, &lists, &[], &[]).unwrap();
        assert_eq!(set.needs(), Extensions::tcp(TcpField::bytes_acked));
        // The scan's guess covers every rule of the pack, those off by default too (`--enable`
        // switches them on without a rule file).
        let mut all = set.clone();
        all.rules.append(&mut all.disabled);
        assert_eq!(all.needs(), DEFAULT_PACK_NEEDS);
    }

    /// A user rule's condition, exceptions and aggregation key all count; a rule switched off
    /// needs nothing.
    #[test]
    fn needs_come_from_conditions_exceptions_and_aggregates() {
        use crate::model::{Extensions, TcpField};
        let rule = |id: &str, body: &str| Source {
            path: format!("{id}.yaml"),
            text: format!(
                "id: {id}\ntitle: t\nseverity: low\nstatus: stable\ntags: [T1046]\ndescription: d\n{body}\n\
                 examples:\n  match:\n    - socket: {{protocol: tcp, \
                 tcp: {{bytes_sent: 5}}}}\n  no_match:\n    - socket: {{protocol: udp}}\n"
            ),
        };
        let (_, lists) = default_sources();
        let srcs = [
            rule(
                "USR-001",
                "when: {socket.memory.rmem_alloc: {gt: 0}}\n\
                 exceptions: [{socket.tcp.congestion: bbr}]",
            ),
            rule(
                "USR-002",
                "when: {socket.tcp.bytes_sent: {gt: 0}}\naggregate: {by: socket.tcp.segs_out, \
                 count: {ge: 1}}",
            ),
        ];
        let set = load(&srcs, &lists, &[], &[]).unwrap();
        let want = Extensions::MEMORY
            .union(Extensions::CONGESTION)
            .union(Extensions::tcp(TcpField::bytes_sent))
            .union(Extensions::tcp(TcpField::segs_out));
        assert_eq!(set.needs(), want);
        let off = [select::Pick {
            action: select::Action::Disable,
            pattern: "USR-002".into(),
            from: "test".into(),
        }];
        let set = load(&srcs, &lists, &[], &off).unwrap();
        assert_eq!(
            set.needs(),
            Extensions::MEMORY.union(Extensions::CONGESTION)
        );
    }

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

    const OVERRIDE: &str = "id: T-1
override: {severity: replace, exceptions: append, tags: append, examples: append}
severity: low
exceptions:
  - process.exe: /tmp/ok
tags: [site:lab]
examples:
  no_match:
    - socket: {protocol: tcp, state: listen, local: 0.0.0.0:4444}
      process: {exe: /tmp/ok}
";

    #[test]
    fn an_override_changes_the_rule_and_records_where() {
        let rs = load(
            &[src("r.yaml", GOOD), src("o.yaml", OVERRIDE)],
            &[src("l.yaml", "dirs: [/tmp/]\n")],
            &[],
            &[],
        )
        .unwrap();
        let r = &rs.rules[0];
        assert_eq!(r.doc.severity, Severity::Low);
        assert_eq!(r.doc.tags, ["T1059.004", "site:lab"]);
        assert_eq!(r.doc.exceptions.len(), 1);
        assert_eq!(r.locate(&r.origins.severity), "o.yaml:3:1");
        assert_eq!(r.locate(&r.origins.when), "r.yaml:7:1");
        assert_eq!(r.locate(&r.origins.tags[1]), "o.yaml:6:8");
        assert_eq!(r.locate(&r.origins.exceptions[0]), "o.yaml:5:5");
        // The definition's match examples run on the rule as defined only (an appended
        // exception may suppress them on purpose); its no_match examples on the effective rule
        // too; the override's on the rule as it leaves it.
        let runs = r.example_runs();
        let v: Vec<(bool, &str, Vec<usize>)> = runs
            .iter()
            .map(|x| (x.want, x.file, x.variants.clone()))
            .collect();
        assert_eq!(
            v,
            [
                (true, "r.yaml", vec![0]),
                (false, "r.yaml", vec![0, 1]),
                (false, "o.yaml", vec![1])
            ]
        );
        assert!(r.variant(0).doc.exceptions.is_empty());
        assert_eq!(r.variant(1).doc.exceptions.len(), 1);
    }

    #[test]
    fn overrides_apply_in_order_and_must_follow_their_rule() {
        let later = "id: T-1\noverride: {severity: replace}\nseverity: critical\n";
        let rs = load(
            &[
                src("r.yaml", GOOD),
                src("o.yaml", OVERRIDE),
                src("p.yaml", later),
            ],
            &[src("l.yaml", "dirs: [/tmp/]\n")],
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(rs.rules[0].doc.severity, Severity::Critical);
        let e = load(
            &[src("o.yaml", OVERRIDE), src("r.yaml", GOOD)],
            &[src("l.yaml", "dirs: [/tmp/]\n")],
            &[],
            &[],
        )
        .unwrap_err();
        assert!(
            e[0].to_string().starts_with(
                "o.yaml:1:5: override of `T-1`, which is defined only later, in r.yaml"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn picks_switch_rules_after_every_layer() {
        use select::{Action, Pick};
        let off = "id: T-2\noverride: {enabled: replace}\nenabled: false\n";
        let pick = |action, pattern: &str| Pick {
            action,
            pattern: pattern.into(),
            from: "test".into(),
        };
        let two = GOOD.replace("id: T-1", "id: T-2");
        let sources = [src("r.yaml", GOOD), src("s.yaml", &two), src("o.yaml", off)];
        let lists = [src("l.yaml", "dirs: [/tmp/]\n")];
        let rs = load(&sources, &lists, &[], &[]).unwrap();
        assert_eq!(rs.rules.len(), 1);
        assert_eq!(rs.disabled[0].id(), "T-2");
        let picks = [pick(Action::Enable, "T-2"), pick(Action::Disable, "T-*")];
        let rs = load(&sources, &lists, &[], &picks).unwrap();
        assert_eq!(rs.rules.len(), 1, "enable applies after disable");
        assert_eq!(rs.rules[0].id(), "T-2");
        assert_eq!(
            rs.disabled[0].locate(&rs.disabled[0].origins.enabled),
            "disable `T-*` (test)"
        );
    }

    /// A responder's `ss` one-liner as a rule (issue 16).
    const SS_RULE: &str = "id: T-9
title: t
severity: high
status: stable
tags: [T1571]
description: d
when:
  all:
    - socket.protocol: tcp
    - ss: \"dport = :4444 and dst 203.0.113/24\"
examples:
  match:
    - socket: {protocol: tcp, state: established, local: 192.0.2.1:40000, remote: 203.0.113.7:4444}
  no_match:
    - socket: {protocol: tcp, state: established, local: 192.0.2.1:40000, remote: 198.51.100.7:4444}
    - socket: {protocol: tcp, state: established, local: 192.0.2.1:40000, remote: 203.0.113.7:4443}
";

    #[test]
    fn ss_expressions_are_rule_conditions() {
        let rs = load(&[src("r.yaml", SS_RULE)], &[], &[], &[]).unwrap();
        let runs = rs.rules[0].example_runs();
        assert_eq!(runs.len(), 3);
        for run in runs {
            let snap = run.example.snapshot().unwrap();
            let single = RuleSet {
                rules: vec![rs.rules[0].clone()],
                lists: rs.lists.clone(),
                disabled: Vec::new(),
            };
            let hit = !crate::engine::evaluate(&single, &snap).is_empty();
            assert_eq!(hit, run.want, "example {} ({})", run.index, run.want);
        }
        let bad = SS_RULE.replace("and dst", "and dsst");
        let diags = load(&[src("r.yaml", &bad)], &[], &[], &[]).unwrap_err();
        let text = diags[0].to_string();
        assert!(text.starts_with("r.yaml:10:11: "), "{text}");
        assert!(text.contains("ss: unknown word 'dsst'"), "{text}");
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
}
