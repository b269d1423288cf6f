//! `--disable` and `--enable` (and the `disable`/`enable` settings): which rules are switched off
//! or on after every layer is loaded. A pattern is an exact id (`NET-NET-001`), a glob over ids
//! (`NET-C2-*`, `NET-???-001`) or a tag (`tag:T1571`, `tag:cis:4.*`; a technique also selects its
//! sub-techniques). Every disable pattern applies first, then every enable pattern, so
//! `--enable NET-C2-003` wins over `disable: [NET-C2-*]`. A pattern that selects no rule is an
//! error with a "did you mean": a misspelt id would otherwise leave a noisy rule on, or a wanted
//! one off, without a word.

use std::collections::BTreeSet;

use globset::{Glob, GlobMatcher};

use super::tags;

crate::model::vocabulary! {
    /// What a pattern does to the rules it selects.
    pub enum Action {
        /// Switch the rules off (`--disable`, the `disable` setting).
        Disable => "disable",
        /// Switch the rules on (`--enable`, the `enable` setting), even those a rule file or a
        /// disable pattern switched off.
        Enable => "enable",
    }
}

/// One `--disable`/`--enable` pattern and where it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// Disable or enable.
    pub action: Action,
    /// The pattern as given.
    pub pattern: String,
    /// Where it was given: `command line`, `environment SOCKWARDEN_DISABLE`, `FILE:LINE:COL`.
    pub from: String,
}

/// What a pattern tests.
enum Matcher {
    Id(String),
    Glob(GlobMatcher),
    Tag {
        want: String,
        glob: Option<GlobMatcher>,
    },
}

/// A pattern that selects nothing, or is not a valid pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} `{pattern}` ({from}): {why}{}", hint.as_ref().map(|h| format!("; did you mean `{h}`?")).unwrap_or_default())]
pub struct PickError {
    /// `disable` or `enable`.
    pub action: Action,
    /// The pattern as given.
    pub pattern: String,
    /// Where it was given.
    pub from: String,
    /// What is wrong.
    pub why: String,
    /// The closest pattern that would select something.
    pub hint: Option<String>,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn glob(s: &str) -> Result<GlobMatcher, String> {
    Glob::new(s)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("not a valid glob: {}", e.kind()))
}

impl Matcher {
    fn parse(pattern: &str) -> Result<Matcher, String> {
        if let Some(want) = pattern.strip_prefix("tag:") {
            if want.is_empty() {
                return Err("`tag:` needs a tag, e.g. tag:T1571".into());
            }
            let glob = is_glob(want).then(|| glob(want)).transpose()?;
            return Ok(Matcher::Tag {
                want: want.to_string(),
                glob,
            });
        }
        if is_glob(pattern) {
            return glob(pattern).map(Matcher::Glob);
        }
        Ok(Matcher::Id(pattern.to_string()))
    }

    fn selects(&self, id: &str, rule_tags: &[String]) -> bool {
        match self {
            Matcher::Id(want) => want == id,
            Matcher::Glob(g) => g.is_match(id),
            Matcher::Tag { glob: Some(g), .. } => rule_tags.iter().any(|t| g.is_match(t)),
            Matcher::Tag { want, glob: None } => rule_tags.iter().any(|t| tags::selects(want, t)),
        }
    }
}

/// For each pick, the indexes of the rules (`(id, tags)`) it selects; every pattern that
/// selects nothing or does not parse is an error, all of them at once.
pub fn resolve(
    picks: &[Pick],
    rules: &[(&str, &[String])],
) -> Result<Vec<Vec<usize>>, Vec<PickError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in picks {
        let err = |why: String, hint: Option<String>| PickError {
            action: p.action,
            pattern: p.pattern.clone(),
            from: p.from.clone(),
            why,
            hint,
        };
        let m = match Matcher::parse(&p.pattern) {
            Ok(m) => m,
            Err(why) => {
                errors.push(err(why, None));
                continue;
            }
        };
        let hits: Vec<usize> = (0..rules.len())
            .filter(|&i| m.selects(rules[i].0, rules[i].1))
            .collect();
        if hits.is_empty() {
            let (why, hint) = nothing_selected(&m, &p.pattern, rules);
            errors.push(err(why, hint));
        }
        out.push(hits);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Why a pattern selects nothing, and the closest pattern that would select something: an id,
/// an id family glob (`NET-C2-*`) or a `tag:`.
fn nothing_selected(
    m: &Matcher,
    pattern: &str,
    rules: &[(&str, &[String])],
) -> (String, Option<String>) {
    let closest = |cands: BTreeSet<String>| {
        super::fields::closest(pattern, cands.iter().map(String::as_str)).map(str::to_string)
    };
    match m {
        Matcher::Id(_) => (
            "no rule has that id".into(),
            closest(rules.iter().map(|r| r.0.to_string()).collect()),
        ),
        Matcher::Glob(_) => (
            "no rule id matches the glob".into(),
            closest(
                rules
                    .iter()
                    .filter_map(|r| r.0.rsplit_once('-'))
                    .map(|(family, _)| format!("{family}-*"))
                    .collect(),
            ),
        ),
        Matcher::Tag { .. } => (
            "no rule has that tag".into(),
            closest(
                rules
                    .iter()
                    .flat_map(|r| r.1.iter())
                    .map(|t| format!("tag:{t}"))
                    .collect(),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(action: Action, pattern: &str) -> Pick {
        Pick {
            action,
            pattern: pattern.into(),
            from: "command line".into(),
        }
    }

    #[test]
    fn ids_globs_and_tags_select_rules() {
        let t1 = ["T1571".to_string(), "cis:4.1".to_string()];
        let t2 = ["T1059.004".to_string()];
        let rules: Vec<(&str, &[String])> = vec![("NET-C2-001", &t1[..]), ("NET-SHL-001", &t2[..])];
        let picks = [
            pick(Action::Disable, "NET-C2-*"),
            pick(Action::Disable, "tag:T1059"),
            pick(Action::Enable, "tag:cis:*"),
            pick(Action::Enable, "NET-SHL-001"),
        ];
        let got = resolve(&picks, &rules).unwrap();
        assert_eq!(got, vec![vec![0], vec![1], vec![0], vec![1]]);
    }

    #[test]
    fn patterns_that_select_nothing_are_all_errors_with_hints() {
        let t1 = ["T1571".to_string()];
        let rules: Vec<(&str, &[String])> = vec![("NET-C2-001", &t1[..])];
        let picks = [
            pick(Action::Disable, "NET-C2-01"),
            pick(Action::Disable, "NET-C3-*"),
            pick(Action::Enable, "tag:T1517"),
            pick(Action::Enable, "NET-[C2"),
        ];
        let e = resolve(&picks, &rules).unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            text[0],
            "disable `NET-C2-01` (command line): no rule has that id; did you mean `NET-C2-001`?"
        );
        assert!(text[1].ends_with("did you mean `NET-C2-*`?"), "{}", text[1]);
        assert!(
            text[2].ends_with("did you mean `tag:T1571`?"),
            "{}",
            text[2]
        );
        assert!(text[3].contains("not a valid glob"), "{}", text[3]);
    }
}
