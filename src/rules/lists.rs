//! Named lists (`rules/lists/*.yaml`): a YAML mapping from list name to items. Rules refer to
//! them with `in_list: NAME` or `{list: NAME}`, so a site changes what is trusted or allowed
//! without touching a rule. A list given with `--lists FILE` replaces the default list of the
//! same name (`NAME: [items]`, or `NAME: {replace: [items]}`), or adds to it
//! (`NAME: {append: [items]}`); allow-lists ship empty.
//!
//! A lists file is as strict as a rule file, because a mistake in one fails silently otherwise:
//! a misspelt name would leave the rule on the default list. So a duplicate name is an error, a
//! `--lists` file may only replace a list that exists (with a "did you mean"), and every item
//! keeps its position: when an item does not fit the fields that use the list (a bad CIDR in
//! `trusted_networks`), the error names the item in the user's file, once, however many rules
//! use the list. Positions come from `yaml-rust2`'s event parser: serde_yaml does not report
//! where a value stands.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::Diagnostic;

/// A list item with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item's text exactly as the scalar was written (YAML does not turn `on` or `0x10` into
    /// another value here).
    pub text: String,
    /// The lists file it came from, as named (a built-in list's path in the repository).
    pub file: String,
    /// 1-based line of the item (of the name, for a list's own entry).
    pub line: usize,
    /// 1-based column of the item.
    pub col: usize,
}

impl Item {
    /// A diagnostic at this item.
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, self.line, self.col, message)
    }
}

/// The named lists in force: the built-in pack's and the rule directories' lists, each replaced
/// whole by a `--lists` file that names it.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    map: BTreeMap<String, Vec<Item>>,
    /// The item texts of each list, as rules compile them.
    texts: BTreeMap<String, Vec<String>>,
}

impl Lists {
    /// Parses one list file; its lists replace any of the same name. With `known` set, only
    /// those names may appear (a `--lists` file replaces lists; it does not invent them).
    /// Every problem of the file is returned.
    pub fn load(
        &mut self,
        path: &str,
        text: &str,
        known: Option<&[String]>,
    ) -> Result<(), Vec<Diagnostic>> {
        // Problems of shape and of names, all at once.
        let (parsed, mut diags) = parse(path, text)?;
        for (name, (at, append, _)) in &parsed {
            let (names, what) = match (known, append) {
                (_, true) => (
                    self.map.keys().map(String::as_str).collect::<Vec<_>>(),
                    "`append` adds to a list loaded before this file",
                ),
                (Some(k), false) => (
                    k.iter().map(String::as_str).collect(),
                    "a lists file replaces lists the rules use",
                ),
                (None, false) => continue,
            };
            if !names.contains(&name.as_str()) {
                let hint = super::fields::closest(name, names.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                diags.push(at.diagnostic(format!("unknown list `{name}`: {what}{hint}")));
            }
        }
        if !diags.is_empty() {
            diags.sort();
            return Err(diags);
        }
        for (name, (_, append, items)) in parsed {
            if append {
                let texts = self.texts.entry(name.clone()).or_default();
                texts.extend(items.iter().map(|i| i.text.clone()));
                self.map.entry(name).or_default().extend(items);
            } else {
                self.texts
                    .insert(name.clone(), items.iter().map(|i| i.text.clone()).collect());
                self.map.insert(name, items);
            }
        }
        Ok(())
    }

    /// The item texts of a list.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.texts.get(name).map(Vec::as_slice)
    }

    /// The items of a list, with their positions.
    pub fn items(&self, name: &str) -> Option<&[Item]> {
        self.map.get(name).map(Vec::as_slice)
    }

    /// Every list name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }
}

/// The schema of a lists file (docs/schema.md), by hand because the reader takes the file's YAML
/// events itself: a mapping (an empty file is none) from list name to items (`[a, b]`, nothing
/// for none) or to `{append: items}` / `{replace: items}`; an item is one scalar. Whether an
/// item fits the fields that use the list (a CIDR, a port) is checked when the rules link it.
pub struct ListsFile;

impl schemars::JsonSchema for ListsFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ListsFile".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let items = serde_json::json!({
            "description": "The list's items (none: an empty list).",
            "type": ["array", "null"],
            "items": {"type": ["string", "number", "boolean"]}
        });
        let mode = |key: &str, what: &str| {
            serde_json::json!({
                "type": "object",
                "description": what,
                "properties": {key: items},
                "required": [key],
                "additionalProperties": false
            })
        };
        schemars::json_schema!({
            "description": "Named lists: each name with its items, or `{append: [...]}` to add \
                to the list of that name loaded before, or `{replace: [...]}`.",
            "type": ["object", "null"],
            "additionalProperties": {
                "anyOf": [
                    items,
                    mode("append", "Add the items to the list loaded before this file."),
                    mode("replace", "Replace the list loaded before this file.")
                ]
            }
        })
    }
}

/// A parsed lists file: each name with where it stands, whether its items are appended, and
/// its items.
type Parsed = BTreeMap<String, (Item, bool, Vec<Item>)>;

/// Reads a lists file: a mapping from names to a sequence of scalars (or nothing, an empty list),
/// with the problems of the entries that are not; `Err` when the file is not a mapping at all.
fn parse(path: &str, text: &str) -> Result<(Parsed, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut events = Events::default();
    if let Err(e) = Parser::new_from_str(text).load(&mut events, false) {
        return Err(vec![Diagnostic::new(
            path,
            e.marker().line(),
            e.marker().col() + 1,
            format!("invalid YAML: {}", e.info()),
        )]);
    }
    let at = |m: &Marker, text: &str| Item {
        text: text.to_string(),
        file: path.to_string(),
        line: m.line(),
        col: m.col() + 1,
    };
    let bad = |m: &Marker, msg: &str| Diagnostic::new(path, m.line(), m.col() + 1, msg);
    let ev = &events.0;
    let mut diags = Vec::new();
    let mut out = Parsed::new();
    // StreamStart, DocumentStart, MappingStart ... MappingEnd, DocumentEnd, StreamEnd; an empty
    // file is an empty mapping.
    let mut i = ev
        .iter()
        .position(|(e, _)| !matches!(e, Event::StreamStart | Event::DocumentStart))
        .unwrap_or(ev.len());
    match ev.get(i) {
        Some((Event::MappingStart(..), _)) => i += 1,
        Some((Event::StreamEnd | Event::DocumentEnd, _)) | None => return Ok((out, diags)),
        Some((_, m)) => {
            return Err(vec![bad(
                m,
                "not a lists file: expected a mapping from list name to items",
            )]);
        }
    }
    while let Some((e, m)) = ev.get(i) {
        let name = match e {
            Event::MappingEnd => break,
            Event::Scalar(s, ..) => s.clone(),
            _ => {
                diags.push(bad(m, "a list name must be a plain word"));
                i = skip(ev, i);
                i = skip(ev, i);
                continue;
            }
        };
        let key = at(m, &name);
        i += 1;
        let mut append = false;
        let in_map = matches!(ev.get(i), Some((Event::MappingStart(..), _)));
        if let Some((Event::MappingStart(..), m)) = ev.get(i) {
            match mode(ev, i + 1) {
                Some(a) => {
                    append = a;
                    i += 2;
                }
                None => {
                    diags.push(bad(
                        m,
                        &format!(
                            "list `{name}`: a mapping here is `{{append: [items]}}` or \
                             `{{replace: [items]}}`"
                        ),
                    ));
                    i = skip(ev, i);
                    continue;
                }
            }
        }
        let items = match ev.get(i) {
            Some((Event::Scalar(s, style, ..), _)) if is_null(s, *style) => {
                i += 1;
                Vec::new()
            }
            Some((Event::SequenceStart(..), _)) => {
                let (items, next) = sequence(ev, i + 1, path, &mut diags);
                i = next;
                items
            }
            Some((_, m)) => {
                diags.push(bad(
                    m,
                    &format!("list `{name}`: expected a sequence of items ([a, b] or - a)"),
                ));
                i = skip(ev, i);
                if in_map {
                    i = skip_to_mapping_end(ev, i);
                }
                continue;
            }
            None => break,
        };
        if in_map {
            // `{append: [...]}` ends here, or it has another key.
            match ev.get(i) {
                Some((Event::MappingEnd, _)) => i += 1,
                Some((_, m)) => {
                    diags.push(bad(
                        m,
                        &format!("list `{name}`: one key only, `append` or `replace`"),
                    ));
                    i = skip_to_mapping_end(ev, i);
                    continue;
                }
                None => break,
            }
        }
        if let Some((first, ..)) = out.get(&name) {
            diags.push(key.diagnostic(format!(
                "duplicate list `{name}` (first at line {})",
                first.line
            )));
            continue;
        }
        out.insert(name, (key, append, items));
    }
    Ok((out, diags))
}

/// The items of a sequence whose first event is at `i`, each with its position; a nested
/// value is a diagnostic. Returns them and the index after the sequence.
fn sequence(
    ev: &[(Event, Marker)],
    mut i: usize,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Item>, usize) {
    let mut items = Vec::new();
    while let Some((e, m)) = ev.get(i) {
        match e {
            Event::SequenceEnd => return (items, i + 1),
            Event::Scalar(s, style, ..) if !is_null(s, *style) => {
                items.push(Item {
                    text: s.clone(),
                    file: path.to_string(),
                    line: m.line(),
                    col: m.col() + 1,
                });
                i += 1;
            }
            _ => {
                diags.push(Diagnostic::new(
                    path,
                    m.line(),
                    m.col() + 1,
                    "a list item must be a single value",
                ));
                i = skip(ev, i);
            }
        }
    }
    (items, i)
}

/// Whether the key at `i` is `append` (true) or `replace` (false); `None` for anything else.
fn mode(ev: &[(Event, Marker)], i: usize) -> Option<bool> {
    match ev.get(i) {
        Some((Event::Scalar(s, ..), _)) if s == "append" => Some(true),
        Some((Event::Scalar(s, ..), _)) if s == "replace" => Some(false),
        _ => None,
    }
}

/// The index after the end of the mapping that the node at `i` is inside.
fn skip_to_mapping_end(ev: &[(Event, Marker)], mut i: usize) -> usize {
    while let Some((e, _)) = ev.get(i) {
        if matches!(e, Event::MappingEnd) {
            return i + 1;
        }
        i = skip(ev, i);
    }
    i
}

fn is_null(s: &str, style: TScalarStyle) -> bool {
    style == TScalarStyle::Plain && matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// The index after the node starting at `i`.
fn skip(ev: &[(Event, Marker)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some((e, _)) = ev.get(i) {
        i += 1;
        match e {
            Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 {
            break;
        }
    }
    i
}

#[derive(Default)]
struct Events(Vec<(Event, Marker)>);

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.0.push((ev, mark));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_files_replace_lists_by_name() {
        let mut l = Lists::default();
        l.load(
            "a.yaml",
            "trusted_networks: [10.0.0.0/8]\nports: [22, 80]\nempty:\n",
            None,
        )
        .unwrap();
        l.load("b.yaml", "trusted_networks:\n  - 198.51.100.0/24\n", None)
            .unwrap();
        assert_eq!(l.get("trusted_networks").unwrap(), ["198.51.100.0/24"]);
        let item = &l.items("trusted_networks").unwrap()[0];
        assert_eq!((item.file.as_str(), item.line, item.col), ("b.yaml", 2, 5));
        assert_eq!(l.get("ports").unwrap(), ["22", "80"]);
        assert_eq!(l.get("empty").unwrap().len(), 0);
        let e = l.load("c.yaml", "x: [1, [2]]\n", None).unwrap_err();
        assert_eq!((e[0].file.as_str(), e[0].line, e[0].col), ("c.yaml", 1, 8));
    }

    #[test]
    fn unknown_and_duplicate_names_are_errors_all_at_once() {
        let known = vec!["trusted_networks".to_string(), "shells".to_string()];
        let mut l = Lists::default();
        let e = l
            .load(
                "site.yaml",
                "trusted_netwroks: [10.0.0.0/8]\nshells: [bash]\nshells: [sh]\n",
                Some(&known),
            )
            .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("site.yaml:1:1: unknown list `trusted_netwroks`"));
        assert!(text[1].starts_with("site.yaml:3:1: duplicate list `shells`"));
        let e = l
            .load(
                "site.yaml",
                "trusted_netwroks: [10.0.0.0/8]\n",
                Some(&known),
            )
            .unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "site.yaml:1:1: unknown list `trusted_netwroks`: a lists file replaces lists the \
             rules use; did you mean `trusted_networks`?"
        );
        assert!(l.get("shells").is_none(), "a failed file changes nothing");
    }

    #[test]
    fn lists_are_appended_to_or_replaced() {
        let mut l = Lists::default();
        l.load("a.yaml", "nets: [10.0.0.0/8]\nports: [22]\n", None)
            .unwrap();
        let known = l.names();
        l.load(
            "b.yaml",
            "nets: {append: [192.0.2.0/24]}\nports:\n  replace: [80, 443]\n",
            Some(&known),
        )
        .unwrap();
        assert_eq!(l.get("nets").unwrap(), ["10.0.0.0/8", "192.0.2.0/24"]);
        let added = &l.items("nets").unwrap()[1];
        assert_eq!(
            (added.file.as_str(), added.line, added.col),
            ("b.yaml", 1, 17)
        );
        assert_eq!(l.get("ports").unwrap(), ["80", "443"]);
        let e = l
            .load(
                "c.yaml",
                "net: {append: [x]}\nports: {add: [1]}\nnets: {append: [1], replace: [2]}\n",
                None,
            )
            .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert!(
            text[0].starts_with("c.yaml:1:1: unknown list `net`"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("c.yaml:2:8: list `ports`: a mapping here"),
            "{text:?}"
        );
        assert!(
            text[2].starts_with("c.yaml:3:21: list `nets`: one key only"),
            "{text:?}"
        );
        let e = l.load("d.yaml", "net: {append: [x]}\n", None).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "d.yaml:1:1: unknown list `net`: `append` adds to a list loaded before this file; \
             did you mean `nets`?"
        );
    }

    #[test]
    fn a_bom_free_flow_list_with_quoted_ipv6_parses() {
        let mut l = Lists::default();
        l.load(
            "s.yaml",
            "trusted_networks: [10.0.0.0/8, \"::1/128\", 203.0.113.0/24]\n",
            None,
        )
        .unwrap();
        assert_eq!(l.get("trusted_networks").unwrap().len(), 3);
        assert!(l.load("s.yaml", "- a\n- b\n", None).is_err());
        assert!(l.load("s.yaml", "", None).is_ok());
    }
}
