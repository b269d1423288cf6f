//! The published JSON Schemas (draft 2020-12, docs/schema.md): one per document sockwarden
//! reads or writes, generated from the Rust types that (de)serialise it with `schemars`, so a
//! field cannot change without its schema following. [`SchemaName`] is the one list of them:
//! `sockwarden schema NAME` prints one, `sockwarden schema --write DIR` writes them all, and
//! tests/it/schema.rs checks the committed copies under docs/schema/, the field tables of the
//! Markdown pages, and every fixture, shipped file, example and command output against them.
//!
//! Inputs (snapshot, baseline, rule, lists and configuration files) are described as the reader
//! accepts them (schemars' deserialize contract: a field with a default is optional); outputs
//! (report, JSON Lines, diff) as the writer writes them (the serialize contract: a field that is
//! always written is required). Both are closed (`additionalProperties: false`): every reader
//! rejects unknown keys, and a writer that gains a field bumps the document's version.

use std::io;
use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;
use serde_json::Value;

/// Where the schemas are published: `BASE_URL` + [`SchemaName::path`]. docs/schema/ holds the
/// same tree.
pub const BASE_URL: &str = "https://sockwarden.dev/schema/";

crate::model::vocabulary! {
    /// The documents that have a schema, by the name `sockwarden schema NAME` takes.
    pub enum SchemaName {
        /// A snapshot (`sockwarden snapshot`, `import`; docs/snapshot.md).
        Snapshot => "snapshot",
        /// The scan report, `--format json` (docs/report.md).
        Report => "report",
        /// One line of `--format jsonl`: a finding, a change or the coverage event.
        Jsonl => "jsonl",
        /// `sockwarden diff --format json` (docs/report.md).
        Diff => "diff",
        /// A baseline file (docs/baseline.md).
        Baseline => "baseline",
        /// A rule file: a rule or an override (docs/rules-language.md).
        Rule => "rule",
        /// A lists file (docs/rules-language.md, "Lists").
        Lists => "lists",
        /// The configuration file (docs/operations.md).
        Config => "config",
        /// `sockwarden history runs --json`: the recorded runs (docs/history.md).
        HistoryRuns => "history-runs",
        /// `sockwarden history timeline --json` (docs/history.md, "Timeline").
        HistoryTimeline => "history-timeline",
    }
}

impl SchemaName {
    /// The version of the document the schema describes: the `schema_version` the snapshot and
    /// the report carry, the baseline's `version`; the JSON Lines and the diff follow the
    /// report's; the hand-written inputs (rule, lists, configuration) and the history's outputs
    /// (runs, timeline) carry none and are at 1.
    pub fn version(self) -> u32 {
        match self {
            SchemaName::Snapshot => crate::model::SCHEMA_VERSION,
            SchemaName::Report | SchemaName::Jsonl | SchemaName::Diff => {
                crate::report::REPORT_SCHEMA_VERSION
            }
            SchemaName::Baseline => crate::baseline::BASELINE_VERSION,
            SchemaName::Rule
            | SchemaName::Lists
            | SchemaName::Config
            | SchemaName::HistoryRuns
            | SchemaName::HistoryTimeline => 1,
        }
    }

    /// `NAME/vVERSION.json`: the schema's path under [`BASE_URL`] and under docs/schema/.
    pub fn path(self) -> String {
        format!("{}/v{}.json", self.name(), self.version())
    }

    /// The schema's `$id`: [`BASE_URL`] and [`SchemaName::path`].
    pub fn id(self) -> String {
        format!("{BASE_URL}{}", self.path())
    }

    /// Whether sockwarden writes the document (described as written) rather than reads it.
    fn is_output(self) -> bool {
        matches!(
            self,
            SchemaName::Report
                | SchemaName::Jsonl
                | SchemaName::Diff
                | SchemaName::HistoryRuns
                | SchemaName::HistoryTimeline
        )
    }

    /// The schema, with its `$id` and title.
    pub fn schema(self) -> Value {
        let settings = SchemaSettings::draft2020_12();
        let settings = if self.is_output() {
            settings.for_serialize()
        } else {
            settings.for_deserialize()
        };
        let generator = settings.into_generator();
        let mut schema = match self {
            SchemaName::Snapshot => generator.into_root_schema_for::<crate::model::Snapshot>(),
            SchemaName::Report => generator.into_root_schema_for::<crate::report::ScanReport>(),
            SchemaName::Jsonl => generator.into_root_schema_for::<crate::report::jsonl::JsonLine>(),
            SchemaName::Diff => {
                generator.into_root_schema_for::<crate::baseline::diff::SnapshotDiff>()
            }
            SchemaName::Baseline => generator.into_root_schema_for::<crate::baseline::Baseline>(),
            SchemaName::Rule => generator.into_root_schema_for::<crate::rules::RuleFile>(),
            SchemaName::Lists => generator.into_root_schema_for::<crate::rules::lists::ListsFile>(),
            SchemaName::Config => generator.into_root_schema_for::<crate::config::ConfigFile>(),
            SchemaName::HistoryRuns => generator.into_root_schema_for::<Vec<crate::history::Run>>(),
            SchemaName::HistoryTimeline => {
                generator.into_root_schema_for::<crate::history::Timeline>()
            }
        };
        schema.insert("$id".into(), self.id().into());
        schema.insert("title".into(), format!("sockwarden {}", self.name()).into());
        let mut value = schema.to_value();
        plain_descriptions(&mut value);
        if matches!(self, SchemaName::Rule | SchemaName::Baseline) {
            yaml_text(&mut value);
        }
        value
    }

    /// The schema as the file under docs/schema/ holds it: pretty JSON and a newline.
    pub fn text(self) -> String {
        let mut s = serde_json::to_string_pretty(&self.schema()).expect("a schema serializes");
        s.push('\n');
        s
    }
}

/// Rustdoc's intra-doc links (``[`Socket::sort_key`]``) mean nothing to an editor or a reader
/// of the schema: they become plain code spans in every `description`.
fn plain_descriptions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, sub) in map.iter_mut() {
                match sub {
                    Value::String(text) if k == "description" => {
                        *text = text.replace("[`", "`").replace("`]", "`");
                    }
                    _ => plain_descriptions(sub),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

/// Rule and baseline files are read with serde_yaml, which gives a text field any plain scalar
/// as it is written (`cmdline: [java, -jar, x.jar, 50050]` holds the text `50050`): there, a
/// free-text string (no `enum`, `const` or `pattern`; a `String` or an `Option<String>`) also
/// takes a number or a boolean.
fn yaml_text(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let free = !["enum", "const", "pattern"]
                .iter()
                .any(|k| map.contains_key(*k));
            let ty = map.get_mut("type");
            match ty {
                Some(t @ Value::String(_)) if free && *t == "string" => {
                    *t = serde_json::json!(["string", "number", "boolean"]);
                }
                // `Option<String>` only: other unions (a port's integer or range, a
                // condition's scalar) say exactly what their own readers take.
                Some(Value::Array(ts)) if free && *ts == ["string", "null"] => {
                    ts.splice(1..1, ["number".into(), "boolean".into()]);
                }
                _ => {}
            }
            for sub in map.values_mut() {
                yaml_text(sub);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(yaml_text),
        _ => {}
    }
}

/// Writes every schema under `dir` at its [`SchemaName::path`], each atomically; returns the
/// files written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for name in SchemaName::ALL {
        let path = dir.join(name.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::output::write_atomic(&path, name.text().as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// One row of a page's field table: a property's dotted path (`sockets[].local.port`; `*` for
/// any key of a map), its type and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The dotted path from the document's root.
    pub path: String,
    /// The JSON type(s), an enumeration of values, or the definition it refers to.
    pub ty: String,
    /// The description, from the Rust type's doc comment.
    pub doc: String,
}

/// Definitions whose properties are not listed field by field: the condition language (its
/// keys are the rule fields, `sockwarden rules fields`) and exact bytes.
const LEAVES: [&str; 4] = ["Condition", "Predicate", "Argument", "ByteString"];

/// Every property of a schema, depth first, in the schema's key order.
pub fn fields(schema: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    let doc = doc_of(schema, schema);
    walk(schema, schema, "", &doc, &mut Vec::new(), &mut out);
    out
}

/// The definition a `$ref` names, with its name.
fn resolve<'a>(root: &'a Value, s: &'a Value) -> Option<(&'a str, &'a Value)> {
    let name = s.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
    Some((name, root.get("$defs")?.get(name)?))
}

/// Adds the properties of `s` (and of its `$ref`, `allOf`/`anyOf`/`oneOf`, `then`/`else`,
/// array items and map values) under `prefix`; `seen` holds the definitions on the way down, so
/// a recursive one ends there. A property without a description of its own (an entry of a map
/// keyed by a vocabulary, `summary.by_severity.high`) takes `parent`'s, the description of the
/// field it is in.
fn walk(
    root: &Value,
    s: &Value,
    prefix: &str,
    parent: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<Field>,
) {
    if let Some((name, def)) = resolve(root, s) {
        if LEAVES.contains(&name) || seen.iter().any(|n| n == name) {
            return;
        }
        seen.push(name.to_string());
        walk(root, def, prefix, parent, seen, out);
        seen.pop();
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in s.get(key).and_then(Value::as_array).into_iter().flatten() {
            walk(root, branch, prefix, parent, seen, out);
        }
    }
    // A rule file is a rule (`else`) or an override (`then`): the rule's fields first.
    for key in ["else", "then", "items"] {
        if let Some(sub) = s.get(key) {
            let p = if key == "items" {
                format!("{prefix}[]")
            } else {
                prefix.to_string()
            };
            walk(root, sub, &p, parent, seen, out);
        }
    }
    let map_values = s
        .get("additionalProperties")
        .filter(|v| v.is_object())
        .map(|sub| ("*", sub));
    let properties = s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, sub)| (k.as_str(), sub));
    for (key, sub) in map_values.into_iter().chain(properties) {
        let path = join(prefix, key);
        if out.iter().any(|f| f.path == path) {
            continue;
        }
        let mut doc = doc_of(root, sub);
        if doc.is_empty() {
            doc = parent.to_string();
        }
        out.push(Field {
            path: path.clone(),
            ty: type_of(root, sub),
            doc: doc.clone(),
        });
        walk(root, sub, &path, &doc, seen, out);
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A property's type, in a few words.
fn type_of(root: &Value, s: &Value) -> String {
    if let Some(c) = s.get("const") {
        return format!("`{c}`");
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = e.iter().map(|v| format!("`{v}`")).collect();
        return values.join(", ");
    }
    if let Some((name, def)) = resolve(root, s) {
        return if def.get("properties").is_some() || LEAVES.contains(&name) {
            name.to_string()
        } else {
            type_of(root, def)
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = branches.iter().map(|b| type_of(root, b)).collect();
            return parts.join(" or ");
        }
    }
    match s.get("type") {
        Some(Value::String(t)) if t == "array" => match s.get("items") {
            Some(items) => format!("array of {}", type_of(root, items)),
            None => "array".into(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

/// A property's description, or its definition's, on one line.
fn doc_of(root: &Value, s: &Value) -> String {
    let text = s
        .get("description")
        .or_else(|| resolve(root, s).and_then(|(_, d)| d.get("description")))
        .and_then(Value::as_str)
        .unwrap_or("");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The field table of a schema, as docs pages hold it between `<!-- schema-fields NAME -->` and
/// `<!-- /schema-fields -->` (tests/it/schema.rs keeps them current).
pub fn markdown_table(name: SchemaName) -> String {
    let mut out = format!(
        "Every field of [`{}`](schema/{}) (`sockwarden schema {}`), generated from the schema:\n\n\
         | field | type | meaning |\n|---|---|---|\n",
        name.id(),
        name.path(),
        name.name()
    );
    for f in fields(&name.schema()) {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.path,
            cell(&f.ty),
            cell(&f.doc)
        ));
    }
    out
}

/// Table-cell text: no pipe, no newline.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema has its `$id` under the base URL, with its version, and is draft 2020-12.
    #[test]
    fn every_schema_names_its_version_and_draft() {
        for n in SchemaName::ALL {
            let s = n.schema();
            assert_eq!(
                s["$id"],
                format!("{BASE_URL}{}/v{}.json", n.name(), n.version())
            );
            assert_eq!(
                s["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{n}"
            );
            assert!(!fields(&s).is_empty(), "{n} has no field");
        }
    }

    /// Every field of every schema is described (its doc comment, or its map's).
    #[test]
    fn every_field_has_a_description() {
        for n in SchemaName::ALL {
            for f in fields(&n.schema()) {
                assert!(!f.doc.is_empty(), "{n}: {} has no description", f.path);
            }
        }
    }

    /// The walker lists nested, array and map fields by dotted path.
    #[test]
    fn fields_are_dotted_paths() {
        let f = fields(&SchemaName::Snapshot.schema());
        let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
        for p in [
            "schema_version",
            "meta.tool.name",
            "meta.sources.*",
            "sockets[].local.port",
            "sockets[].tcp_info.rtt",
            "processes[].comm",
        ] {
            assert!(paths.contains(&p), "{p} missing: {paths:?}");
        }
        let rtt = f
            .iter()
            .find(|f| f.path == "sockets[].tcp_info.rtt")
            .unwrap();
        assert!(rtt.doc.contains("µs"), "{rtt:?}");
    }
}
