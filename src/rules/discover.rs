//! Where rules come from: the built-in pack, rule files and directories given with `--rules`,
//! and lists files given with `--lists`. Discovery (which files, in which order, which are
//! lists) lives here, beside the loader, so every command finds rules the same way.
//!
//! A directory is walked recursively for `*.yaml`/`*.yml`, following links (walkdir detects
//! loops, which are an error; a file reached twice is read once), in sorted order. Files in
//! `DIR/lists/` (directly inside the directory given, the built-in pack's layout) are list files;
//! every other file is a rule file, whatever its path contains.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Diagnostic, RuleSet, Source};
use crate::input::{self, InputError};

/// Rule and list sources from the command line.
pub struct RuleInputs<'a> {
    /// Load the built-in pack's rules (its lists are always loaded).
    pub defaults: bool,
    /// `--rules` files and directories.
    pub paths: &'a [PathBuf],
    /// `--lists` files: each list replaces (or appends to) the default list of its name.
    pub lists: &'a [PathBuf],
    /// `--disable` and `--enable` patterns (and the settings), applied after every layer.
    pub picks: &'a [super::select::Pick],
}

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A directory could not be walked (permission, a link loop).
    #[error("{0}")]
    Walk(String),
    /// Every problem of every file, located.
    #[error(
        "{} problem{} in the rules; nothing was scanned",
        .0.len(),
        if .0.len() == 1 { "" } else { "s" }
    )]
    Invalid(Vec<Diagnostic>),
    /// `--disable`/`--enable` patterns that select no rule, every one of them.
    #[error(
        "{} disable/enable pattern{} no rule; nothing was scanned",
        .0.len(),
        if .0.len() == 1 { " selects" } else { "s select" }
    )]
    Picks(Vec<super::select::PickError>),
}

/// Finds, reads and loads every rule and list the inputs name.
pub fn load(inputs: &RuleInputs) -> Result<RuleSet, LoadError> {
    let (mut rule_srcs, mut list_srcs) = super::default_sources();
    if !inputs.defaults {
        rule_srcs.clear();
    }
    for p in inputs.paths {
        let (r, l) = read_rule_path(p)?;
        rule_srcs.extend(r);
        list_srcs.extend(l);
    }
    let overrides = inputs
        .lists
        .iter()
        .map(|p| read_source(p))
        .collect::<Result<Vec<_>, _>>()?;
    super::load_layers(&rule_srcs, &list_srcs, &overrides, inputs.picks).map_err(|e| match e {
        super::Invalid::Files(d) => LoadError::Invalid(d),
        super::Invalid::Picks(p) => LoadError::Picks(p),
    })
}

fn read_source(p: &Path) -> Result<Source, LoadError> {
    let text = input::read_text(p, input::Kind::Document)?;
    Ok(Source {
        path: p.display().to_string(),
        text,
    })
}

/// A rule file, or a directory of rule files and `lists/` (see the module documentation).
/// Returns (rule sources, list sources), each sorted by path.
pub fn read_rule_path(p: &Path) -> Result<(Vec<Source>, Vec<Source>), LoadError> {
    let meta =
        std::fs::metadata(p).map_err(|e| LoadError::Walk(format!("{}: {e}", p.display())))?;
    if !meta.is_dir() {
        return Ok((vec![read_source(p)?], Vec::new()));
    }
    let files = yaml_files(p)?;
    let lists_dir = p.join("lists");
    let mut rules = Vec::new();
    let mut lists = Vec::new();
    for f in files {
        let s = read_source(&f)?;
        if f.starts_with(&lists_dir) {
            lists.push(s);
        } else {
            rules.push(s);
        }
    }
    Ok((rules, lists))
}

/// Every YAML file below `dir`, once each, sorted.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            LoadError::Walk(match e.loop_ancestor() {
                Some(a) => format!(
                    "{}: a symbolic link loop (back to {}) in the rule directory",
                    e.path().unwrap_or(dir).display(),
                    a.display()
                ),
                None => format!("{}: {e}", dir.display()),
            })
        })?;
        let is_yaml = entry
            .path()
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml");
        if !entry.file_type().is_file() || !is_yaml {
            continue;
        }
        let m = entry
            .metadata()
            .map_err(|e| LoadError::Walk(format!("{}: {e}", entry.path().display())))?;
        if seen.insert((m.dev(), m.ino())) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}
