//! Named lists (`rules/lists/*.yaml`): a YAML mapping from list name to items. Rules refer to
//! them with `in_list: NAME` or `{list: NAME}`, so a site changes what is trusted or allowed
//! without touching a rule. A list given with `--lists FILE` replaces the default list of the
//! same name; allow-lists ship empty.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Diagnostic;

#[derive(Debug, Clone, Default)]
pub struct Lists {
    map: BTreeMap<String, Vec<String>>,
}

/// A list item as text: numbers and booleans are stringified.
#[derive(Deserialize)]
#[serde(untagged)]
enum Item {
    S(String),
    I(i64),
    U(u64),
    B(bool),
}

impl Item {
    fn text(self) -> String {
        match self {
            Item::S(s) => s,
            Item::I(i) => i.to_string(),
            Item::U(u) => u.to_string(),
            Item::B(b) => b.to_string(),
        }
    }
}

impl Lists {
    /// Parses one list file; its lists replace any of the same name.
    pub fn load(&mut self, path: &str, text: &str) -> Result<(), Diagnostic> {
        let parsed: BTreeMap<String, Option<Vec<Item>>> =
            serde_yaml::from_str(text).map_err(|e| {
                Diagnostic::from_yaml(
                    path,
                    &e,
                    "not a list file (a mapping from list name to items)",
                )
            })?;
        for (name, items) in parsed {
            let items = items
                .unwrap_or_default()
                .into_iter()
                .map(Item::text)
                .collect();
            self.map.insert(name, items);
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.map.get(name).map(Vec::as_slice)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
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
        )
        .unwrap();
        l.load("b.yaml", "trusted_networks:\n  - 198.51.100.0/24\n")
            .unwrap();
        assert_eq!(l.get("trusted_networks").unwrap(), ["198.51.100.0/24"]);
        assert_eq!(l.get("ports").unwrap(), ["22", "80"]);
        assert_eq!(l.get("empty").unwrap().len(), 0);
        let e = l.load("c.yaml", "x: [1, [2]]\n").unwrap_err();
        assert_eq!(e.file, "c.yaml");
        assert_eq!(e.line, 1);
    }
}
