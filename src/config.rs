//! The settings of `sockwarden scan`, from four layers: command-line flags, then the environment
//! (`SOCKWARDEN_FAIL_ON`, ...), then the configuration file (`/etc/sockwarden/config.yaml`, or
//! `--config FILE`), then the built-in defaults. The first layer that sets a key wins, and
//! [`Settings`] keeps, beside each value, the [`Origin`] it came from (`sockwarden config show`).
//!
//! Why a layer of its own: a scan started by a timer, a DaemonSet or a package takes its settings
//! from /etc and the environment the way osquery, Falco and AIDE do, while a responder's flags
//! still win. The file is as strict as a rule file: every problem (an unknown key with a "did you
//! mean", a value of the wrong kind) is reported at once with file:line:col, and nothing runs.
//!
//! Beside the file, `rules.d/` (rule files and directories) and `lists.d/` (list files) are loaded
//! after the built-in pack when they exist; `--no-config` skips the file and both directories.
//! A key's environment variable is `SOCKWARDEN_` and the key in upper case; list values there are
//! comma-separated. Relative paths in the file are relative to the file's directory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::collect::OwnersFrom;
use crate::collect::netns::Select;
use crate::diag::{Diagnostic, Locator};
use crate::report::Format;
use crate::rules::Severity;

/// The configuration file read when neither `--config` nor `SOCKWARDEN_CONFIG` names one.
pub const DEFAULT_PATH: &str = "/etc/sockwarden/config.yaml";
/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "SOCKWARDEN_CONFIG";
/// Environment variables of ours that are not settings: not reported as unknown
/// (`SOCKWARDEN_BUILD` is the build's description, which `cargo run` and `cargo test` export).
const OTHER_ENV: [&str; 3] = [CONFIG_ENV, "SOCKWARDEN_TIMINGS", "SOCKWARDEN_BUILD"];

crate::model::vocabulary! {
    /// A setting: its name is the configuration file's key, and `SOCKWARDEN_` with the name in
    /// upper case is its environment variable.
    pub enum Key {
        /// Lowest severity that makes the exit status 1.
        FailOn => "fail_on",
        /// Format of the report on stdout.
        Format => "format",
        /// Reports written on every scan: `[FORMAT=]FILE`.
        Outputs => "outputs",
        /// Load the built-in rule pack.
        DefaultRules => "default_rules",
        /// More rule files or directories.
        Rules => "rules",
        /// List files replacing (or appending to) default lists.
        Lists => "lists",
        /// Rules switched off: ids, globs (`NET-C2-*`), tags (`tag:T1571`).
        Disable => "disable",
        /// Rules switched on (after `disable`): ids, globs, tags.
        Enable => "enable",
        /// The baseline to compare with.
        Baseline => "baseline",
        /// The baseline's SHA-256 pin.
        BaselineSha256 => "baseline_sha256",
        /// Which network namespaces a live scan reads.
        Netns => "netns",
        /// Where socket owners come from.
        OwnersFrom => "owners_from",
        /// Read the /proc/net view of the cross-view (NET-HID-001/002).
        ProcnetView => "procnet_view",
        /// Most UDP sockets a namespace may have for the /proc/net view to read its UDP tables.
        ProcnetUdpMax => "procnet_udp_max",
        /// Report a scan with coverage gaps instead of failing.
        AllowPartial => "allow_partial",
        /// Largest input file read.
        MaxInputSize => "max_input_size",
        /// The history database that `--record` writes and `@TIME` reads.
        History => "history",
        /// The size `history prune` brings the history under.
        HistoryMaxSize => "history_max_size",
    }
}

impl Key {
    /// The environment variable that sets this key.
    pub fn env(self) -> String {
        format!("SOCKWARDEN_{}", self.name().to_ascii_uppercase())
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// A command-line flag.
    Flag,
    /// The key's environment variable.
    Env(Key),
    /// The configuration file, at the value's position.
    File {
        /// The file as given (or [`DEFAULT_PATH`]).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Flag => f.write_str("command line"),
            Origin::Env(k) => write!(f, "environment {}", k.env()),
            Origin::File { file, line, col } => write!(f, "{file}:{line}:{col}"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The effective value.
    pub value: T,
    /// The layer that set it.
    pub origin: Origin,
}

/// A setting's type: how it is read from a YAML value, from an environment variable, and shown.
trait SettingValue: Sized {
    /// From a configuration file's value; relative paths are taken from `base`.
    fn from_yaml(v: &Value, base: &Path) -> Result<Self, String>;
    /// From an environment variable's text: a scalar as written, a list comma-separated.
    fn from_env(s: &str) -> Result<Self, String> {
        Self::from_yaml(&Value::String(s.to_owned()), Path::new("."))
    }
    /// As `config show` prints it: a JSON value, which is also YAML.
    fn show(&self) -> serde_json::Value;
    /// The JSON Schema of what [`SettingValue::from_yaml`] accepts (docs/schema.md).
    fn schema() -> serde_json::Value;
}

fn text(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("expected a string, got {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A vocabulary value (severity, format, owner source) by its name.
macro_rules! named_setting {
    ($($t:ty),+) => {$(
        impl SettingValue for $t {
            fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
                let s = text(v)?;
                <$t>::parse(s).ok_or_else(|| {
                    format!("`{s}` is not one of {}", <$t>::NAMES.join(", "))
                })
            }
            fn show(&self) -> serde_json::Value {
                self.name().into()
            }
            fn schema() -> serde_json::Value {
                let names = <$t>::NAMES;
                serde_json::json!({"type": "string", "enum": names})
            }
        }
    )+};
}

named_setting!(Severity, Format, OwnersFrom);

impl SettingValue for bool {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            // The environment's text: the spellings systemd accepts.
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                _ => Err(format!("`{s}` is not true or false")),
            },
            other => Err(format!("expected true or false, got {}", kind(other))),
        }
    }
    fn show(&self) -> serde_json::Value {
        (*self).into()
    }
    fn schema() -> serde_json::Value {
        // The file takes the environment's spellings too, in any case.
        let words = ["true", "yes", "on", "1", "false", "no", "off", "0"];
        serde_json::json!({"anyOf": [
            {"type": "boolean"},
            {"type": "string", "pattern": any_case(&words)}
        ]})
    }
}

/// A pattern matching any of `words` in any case (`[tT][rR][uU][eE]`): JSON Schema's regular
/// expressions (ECMA-262) have no case-insensitive flag.
fn any_case(words: &[&str]) -> String {
    let alternatives: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .map(|c| match (c.to_ascii_lowercase(), c.to_ascii_uppercase()) {
                    (l, u) if l != u => format!("[{l}{u}]"),
                    _ => c.to_string(),
                })
                .collect()
        })
        .collect();
    format!("^({})$", alternatives.join("|"))
}

/// `outputs`: `[FORMAT=]FILE` items; a relative FILE in the configuration file is taken from the
/// file's directory, as every other path there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outputs(pub Vec<String>);

impl SettingValue for Outputs {
    fn from_yaml(v: &Value, base: &Path) -> Result<Self, String> {
        let items = Vec::<String>::from_yaml(v, base)?;
        Ok(Outputs(
            items
                .iter()
                .map(|item| match item.split_once('=') {
                    Some((f, file))
                        if !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                    {
                        format!("{f}={}", path_in(base, file).display())
                    }
                    _ => path_in(base, item).display().to_string(),
                })
                .collect(),
        ))
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Vec::<String>::from_env(s).map(Outputs)
    }
    fn show(&self) -> serde_json::Value {
        self.0.clone().into()
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "array", "items": {"type": "string"}})
    }
}

impl SettingValue for Vec<String> {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        match v {
            Value::Sequence(items) => items.iter().map(|i| text(i).map(str::to_owned)).collect(),
            other => Err(format!("expected a list of strings, got {}", kind(other))),
        }
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Ok(s.split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect())
    }
    fn show(&self) -> serde_json::Value {
        self.clone().into()
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "array", "items": {"type": "string"}})
    }
}

fn path_in(base: &Path, p: &str) -> PathBuf {
    base.join(p)
}

impl SettingValue for Vec<PathBuf> {
    fn from_yaml(v: &Value, base: &Path) -> Result<Self, String> {
        let items = Vec::<String>::from_yaml(v, base)
            .map_err(|_| format!("expected a list of paths, got {}", kind(v)))?;
        Ok(items.iter().map(|p| path_in(base, p)).collect())
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Ok(Vec::<String>::from_env(s)?
            .into_iter()
            .map(PathBuf::from)
            .collect())
    }
    fn show(&self) -> serde_json::Value {
        self.iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .into()
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "array", "items": {"type": "string"}})
    }
}

impl SettingValue for Option<PathBuf> {
    fn from_yaml(v: &Value, base: &Path) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.is_empty() => Ok(None),
            other => Ok(Some(path_in(base, text(other)?))),
        }
    }
    fn show(&self) -> serde_json::Value {
        self.as_ref()
            .map_or(serde_json::Value::Null, |p| p.to_string_lossy().into())
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": ["string", "null"]})
    }
}

impl SettingValue for PathBuf {
    fn from_yaml(v: &Value, base: &Path) -> Result<Self, String> {
        match text(v)? {
            "" => Err("expected a path, got an empty string".into()),
            p => Ok(path_in(base, p)),
        }
    }
    fn show(&self) -> serde_json::Value {
        self.to_string_lossy().into()
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "string", "minLength": 1})
    }
}

impl SettingValue for Option<String> {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.is_empty() => Ok(None),
            other => Ok(Some(text(other)?.to_owned())),
        }
    }
    fn show(&self) -> serde_json::Value {
        self.clone().map_or(serde_json::Value::Null, Into::into)
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": ["string", "null"]})
    }
}

impl SettingValue for Select {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        Ok(match text(v)? {
            "current" | "" => Select::Current,
            "all" => Select::All,
            name => Select::One(name.to_owned()),
        })
    }
    fn show(&self) -> serde_json::Value {
        match self {
            Select::Current => "current".into(),
            Select::All | Select::Found(_) => "all".into(),
            Select::One(n) => n.clone().into(),
        }
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({
            "type": "string",
            "description": "`current`, `all`, or a name under /run/netns."
        })
    }
}

/// `max_input_size` and `history_max_size`: a size (`64M`) or a number of bytes; absent for the
/// per-kind defaults (no cap for the history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxSize(pub Option<u64>);

impl SettingValue for MaxSize {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        match v {
            Value::Null => Ok(MaxSize(None)),
            Value::Number(n) => n
                .as_u64()
                .map(|b| MaxSize(Some(b)))
                .ok_or_else(|| format!("`{n}` is not a size")),
            other => crate::input::parse_size(text(other)?)
                .map(|b| MaxSize(Some(b)))
                .map_err(|e| e.to_string()),
        }
    }
    fn show(&self) -> serde_json::Value {
        self.0.map_or(serde_json::Value::Null, Into::into)
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({
            "description": "Bytes, or a size with a unit (`64M`, `2G`); nothing for the default.",
            "type": ["integer", "string", "null"],
            "minimum": 0
        })
    }
}

/// `procnet_udp_max`: a number of sockets, or `none` for no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap(pub Option<u64>);

impl Cap {
    /// A count or `none` (the command line's and the environment's text).
    pub fn parse(s: &str) -> Result<Cap, String> {
        match s.trim() {
            "none" => Ok(Cap(None)),
            n => n
                .parse()
                .map(|n| Cap(Some(n)))
                .map_err(|_| format!("`{s}` is not a number of sockets or `none`")),
        }
    }
}

impl SettingValue for Cap {
    fn from_yaml(v: &Value, _: &Path) -> Result<Self, String> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .map(|n| Cap(Some(n)))
                .ok_or_else(|| format!("`{n}` is not a number of sockets")),
            other => Cap::parse(text(other)?),
        }
    }
    fn show(&self) -> serde_json::Value {
        self.0.map_or("none".into(), Into::into)
    }
    fn schema() -> serde_json::Value {
        serde_json::json!({
            "description": "A number of sockets (0: never), or `none` for no cap.",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^(none|[0-9]+)$"}
            ]
        })
    }
}

/// What the command line gives, each `None` when its flag is absent.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--format`.
    pub format: Option<Format>,
    /// `-o`, when given at least once.
    pub outputs: Option<Outputs>,
    /// `--no-default-rules` (as `Some(false)`).
    pub default_rules: Option<bool>,
    /// `--rules`, when given at least once.
    pub rules: Option<Vec<PathBuf>>,
    /// `--lists`, when given at least once.
    pub lists: Option<Vec<PathBuf>>,
    /// `--disable`, when given at least once.
    pub disable: Option<Vec<String>>,
    /// `--enable`, when given at least once.
    pub enable: Option<Vec<String>>,
    /// `--baseline`.
    pub baseline: Option<PathBuf>,
    /// `--baseline-sha256`.
    pub baseline_sha256: Option<String>,
    /// `--all-netns` or `--netns`.
    pub netns: Option<Select>,
    /// `--owners-from`.
    pub owners_from: Option<OwnersFrom>,
    /// `--no-procnet-view` (as `Some(false)`).
    pub procnet_view: Option<bool>,
    /// `--procnet-udp-max`.
    pub procnet_udp_max: Option<Cap>,
    /// `--allow-partial` (as `Some(true)`).
    pub allow_partial: Option<bool>,
    /// `--max-input-size`.
    pub max_input_size: Option<u64>,
    /// `--history`.
    pub history: Option<PathBuf>,
    /// `history prune --max-size`.
    pub history_max_size: Option<u64>,
}

/// Which configuration file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    /// `--no-config`: none, and no `rules.d`/`lists.d`.
    None,
    /// `--config FILE` or `SOCKWARDEN_CONFIG`: it must exist.
    Given(PathBuf),
    /// [`DEFAULT_PATH`] when it exists.
    Default,
}

/// The effective settings of a scan, each with its origin.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// Lowest severity that makes the exit status 1.
    pub fail_on: Setting<Severity>,
    /// Format of the report on stdout (or of a plain `-o FILE`).
    pub format: Setting<Format>,
    /// `[FORMAT=]FILE` reports.
    pub outputs: Setting<Outputs>,
    /// Load the built-in rule pack.
    pub default_rules: Setting<bool>,
    /// Rule files and directories: `rules.d` first (when it exists), then the `rules` setting.
    pub rules: Setting<Vec<PathBuf>>,
    /// List files: `lists.d`'s files first, then the `lists` setting.
    pub lists: Setting<Vec<PathBuf>>,
    /// Rules switched off: ids, globs, `tag:` patterns.
    pub disable: Setting<Vec<String>>,
    /// Rules switched on after `disable`: ids, globs, `tag:` patterns.
    pub enable: Setting<Vec<String>>,
    /// The baseline.
    pub baseline: Setting<Option<PathBuf>>,
    /// Its pin.
    pub baseline_sha256: Setting<Option<String>>,
    /// Namespace scope.
    pub netns: Setting<Select>,
    /// Owner source.
    pub owners_from: Setting<OwnersFrom>,
    /// Read the /proc/net view (cross-view).
    pub procnet_view: Setting<bool>,
    /// The UDP cap of the /proc/net view.
    pub procnet_udp_max: Setting<Cap>,
    /// Allow coverage gaps.
    pub allow_partial: Setting<bool>,
    /// Input size cap.
    pub max_input_size: Setting<MaxSize>,
    /// The history database.
    pub history: Setting<PathBuf>,
    /// The size cap `history prune` applies (none: no cap).
    pub history_max_size: Setting<MaxSize>,
    /// `rules.d` beside the file, when it exists (loaded before the `rules` setting).
    pub rules_d: Option<PathBuf>,
    /// The files of `lists.d` beside the file, in name order (loaded before the `lists` setting).
    pub lists_d: Vec<PathBuf>,
}

/// Why the settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// Every problem of the file, located.
    #[error(
        "{} problem{} in the configuration; nothing was scanned",
        .0.len(),
        if .0.len() == 1 { "" } else { "s" }
    )]
    Invalid(Vec<Diagnostic>),
    /// An environment variable with a value its key does not take.
    #[error("{var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong.
        message: String,
    },
    /// A baseline pin with no baseline to check.
    #[error("baseline_sha256 ({0}) is set but no baseline is")]
    PinWithoutBaseline(Origin),
    /// `rules.d`/`lists.d` could not be listed.
    #[error("{}: {error}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// One layer's values, by key, not yet typed.
type Layer = BTreeMap<Key, (Value, Origin)>;

/// Reads the configuration file: every key known, every value of its key's type, all problems at
/// once. An empty file (or one of comments only, as shipped) sets nothing.
fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let name = path.display().to_string();
    let text = crate::input::read_text(path, crate::input::Kind::Document)?;
    let doc: Value = serde_yaml::from_str(&text)
        .map_err(|e| ConfigError::Invalid(vec![Diagnostic::from_yaml(&name, &e, "")]))?;
    let loc = Locator::new(&text);
    let mapping = match doc {
        Value::Null => return Ok(Layer::new()),
        Value::Mapping(m) => m,
        other => {
            let d = Diagnostic::new(
                &name,
                1,
                1,
                format!("expected a mapping of settings, got {}", kind(&other)),
            );
            return Err(ConfigError::Invalid(vec![d]));
        }
    };
    let base = dir_of(path);
    let mut layer = Layer::new();
    let mut diags = Vec::new();
    for (k, v) in mapping {
        let Value::String(k) = k else {
            diags.push(Diagnostic::new(&name, 1, 1, "a setting's key is a string"));
            continue;
        };
        let Some(key) = Key::parse(&k) else {
            let hint = crate::rules::fields::closest(&k, Key::NAMES)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            diags.push(Locator::diagnostic(
                &name,
                loc.key(&k),
                format!("unknown setting `{k}`{hint}"),
            ));
            continue;
        };
        let (line, col) = loc.value(&k).unwrap_or((1, 1));
        if let Err(message) = Partial::default().set(key, &v, ReadFrom::File(base)) {
            diags.push(Diagnostic::new(&name, line, col, format!("{k}: {message}")));
            continue;
        }
        let origin = Origin::File {
            file: name.clone(),
            line,
            col,
        };
        layer.insert(key, (v, origin));
    }
    if diags.is_empty() {
        Ok(layer)
    } else {
        diags.sort();
        Err(ConfigError::Invalid(diags))
    }
}

/// A file's directory: relative paths in it are taken from there.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Where a layer's untyped value was read.
#[derive(Clone, Copy)]
enum ReadFrom<'a> {
    /// The configuration file in this directory.
    File(&'a Path),
    /// An environment variable's text.
    Env,
}

/// The `SOCKWARDEN_*` variables that set keys; an unknown one is a warning on stderr (a typo in
/// a unit's `Environment=` must not pass unnoticed, but must not stop the scan either).
fn read_env(vars: impl Iterator<Item = (String, String)>) -> Layer {
    let mut layer = Layer::new();
    for (var, value) in vars {
        let Some(name) = var.strip_prefix("SOCKWARDEN_") else {
            continue;
        };
        match Key::parse(&name.to_ascii_lowercase()) {
            Some(key) => {
                layer.insert(key, (Value::String(value), Origin::Env(key)));
            }
            None if OTHER_ENV.contains(&var.as_str()) => {}
            None => {
                let known: Vec<String> = Key::ALL.iter().map(|k| k.env()).collect();
                let hint = crate::rules::fields::closest(&var, known.iter().map(String::as_str))
                    .map(|s| format!("; did you mean {s}?"))
                    .unwrap_or_default();
                eprintln!(
                    "sockwarden: warning: {}: not a setting{hint}",
                    crate::text::escape_str(&var)
                );
            }
        }
    }
    layer
}

/// The configuration file's schema (docs/schema.md): a mapping (an empty file is none) of the
/// keys of [`Key`], each with the schema of the type its setting is read as, and no other key.
pub struct ConfigFile;

impl schemars::JsonSchema for ConfigFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConfigFile".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let properties: serde_json::Map<String, serde_json::Value> = Key::ALL
            .iter()
            .map(|k| (k.name().to_string(), key_schema(*k)))
            .collect();
        schemars::json_schema!({
            "description": "The settings of `sockwarden scan` (docs/operations.md); every key \
                optional. Relative paths are taken from the file's directory.",
            "type": ["object", "null"],
            "properties": properties,
            "additionalProperties": false
        })
    }
}

/// One key's schema: the schema of the type [`Partial::set`] reads it as (the match is
/// exhaustive and each type comes from the field, so a new key or a changed type follows).
fn key_schema(key: Key) -> serde_json::Value {
    fn of<T: SettingValue>(_: &Option<T>, doc: &str) -> serde_json::Value {
        let mut s = T::schema();
        s["description"] = doc.into();
        s
    }
    let p = Partial::default();
    match key {
        Key::FailOn => of(&p.fail_on, "Lowest severity that makes the exit status 1."),
        Key::Format => of(&p.format, "Format of the report on stdout."),
        Key::Outputs => of(
            &p.outputs,
            "Reports written on every scan: `[FORMAT=]FILE`.",
        ),
        Key::DefaultRules => of(&p.default_rules, "Load the built-in rule pack."),
        Key::Rules => of(&p.rules, "More rule files or directories."),
        Key::Lists => of(
            &p.lists,
            "List files replacing (or appending to) default lists.",
        ),
        Key::Disable => of(
            &p.disable,
            "Rules switched off: ids, globs, `tag:` patterns.",
        ),
        Key::Enable => of(&p.enable, "Rules switched on after `disable`."),
        Key::Baseline => of(&p.baseline, "The baseline to compare with."),
        Key::BaselineSha256 => of(&p.baseline_sha256, "The baseline's SHA-256 pin."),
        Key::Netns => of(&p.netns, "Which network namespaces a live scan reads."),
        Key::OwnersFrom => of(&p.owners_from, "Where socket owners come from."),
        Key::ProcnetView => of(
            &p.procnet_view,
            "Read the /proc/net view of the cross-view (NET-HID-001/002).",
        ),
        Key::ProcnetUdpMax => of(
            &p.procnet_udp_max,
            "Most UDP sockets a namespace may have for the /proc/net view to read its UDP tables.",
        ),
        Key::AllowPartial => of(&p.allow_partial, "Report a scan with coverage gaps."),
        Key::MaxInputSize => of(&p.max_input_size, "Largest input file read."),
        Key::History => of(&p.history, "The history database."),
        Key::HistoryMaxSize => of(&p.history_max_size, "The size `history prune` keeps."),
    }
}

/// Typed values of one layer.
#[derive(Default)]
struct Partial {
    fail_on: Option<Severity>,
    format: Option<Format>,
    outputs: Option<Outputs>,
    default_rules: Option<bool>,
    rules: Option<Vec<PathBuf>>,
    lists: Option<Vec<PathBuf>>,
    disable: Option<Vec<String>>,
    enable: Option<Vec<String>>,
    baseline: Option<Option<PathBuf>>,
    baseline_sha256: Option<Option<String>>,
    netns: Option<Select>,
    owners_from: Option<OwnersFrom>,
    procnet_view: Option<bool>,
    procnet_udp_max: Option<Cap>,
    allow_partial: Option<bool>,
    max_input_size: Option<MaxSize>,
    history: Option<PathBuf>,
    history_max_size: Option<MaxSize>,
}

impl Partial {
    /// Types one value of the file or of the environment (then `v` is the variable's text).
    fn set(&mut self, key: Key, v: &Value, from: ReadFrom<'_>) -> Result<(), String> {
        fn read<T: SettingValue>(v: &Value, from: ReadFrom<'_>) -> Result<Option<T>, String> {
            match (from, v) {
                (ReadFrom::Env, Value::String(s)) => T::from_env(s).map(Some),
                (ReadFrom::File(base), _) => T::from_yaml(v, base).map(Some),
                (ReadFrom::Env, _) => unreachable!("the environment holds text"),
            }
        }
        let base = from;
        match key {
            Key::FailOn => self.fail_on = read(v, base)?,
            Key::Format => self.format = read(v, base)?,
            Key::Outputs => self.outputs = read(v, base)?,
            Key::DefaultRules => self.default_rules = read(v, base)?,
            Key::Rules => self.rules = read(v, base)?,
            Key::Lists => self.lists = read(v, base)?,
            Key::Disable => self.disable = read(v, base)?,
            Key::Enable => self.enable = read(v, base)?,
            Key::Baseline => self.baseline = read(v, base)?,
            Key::BaselineSha256 => self.baseline_sha256 = read(v, base)?,
            Key::Netns => self.netns = read(v, base)?,
            Key::OwnersFrom => self.owners_from = read(v, base)?,
            Key::ProcnetView => self.procnet_view = read(v, base)?,
            Key::ProcnetUdpMax => self.procnet_udp_max = read(v, base)?,
            Key::AllowPartial => self.allow_partial = read(v, base)?,
            Key::MaxInputSize => self.max_input_size = read(v, base)?,
            Key::History => self.history = read(v, base)?,
            Key::HistoryMaxSize => self.history_max_size = read(v, base)?,
        }
        Ok(())
    }
}

impl From<Flags> for Partial {
    fn from(f: Flags) -> Partial {
        Partial {
            fail_on: f.fail_on,
            format: f.format,
            outputs: f.outputs,
            default_rules: f.default_rules,
            rules: f.rules,
            lists: f.lists,
            disable: f.disable,
            enable: f.enable,
            baseline: f.baseline.map(Some),
            baseline_sha256: f.baseline_sha256.map(Some),
            netns: f.netns,
            owners_from: f.owners_from,
            procnet_view: f.procnet_view,
            procnet_udp_max: f.procnet_udp_max,
            allow_partial: f.allow_partial,
            max_input_size: f.max_input_size.map(|b| MaxSize(Some(b))),
            history: f.history,
            history_max_size: f.history_max_size.map(|b| MaxSize(Some(b))),
        }
    }
}

/// The first layer that sets a value, else the default.
fn pick<T>(layers: [(Option<T>, Origin); 3], default: T) -> Setting<T> {
    layers
        .into_iter()
        .find_map(|(v, origin)| v.map(|value| Setting { value, origin }))
        .unwrap_or(Setting {
            value: default,
            origin: Origin::Default,
        })
}

/// Types a layer; the first value a key does not take is the error (the file's values were
/// checked as it was read, so only the environment's can fail here).
fn typed(
    layer: &Layer,
    from: ReadFrom<'_>,
) -> Result<(Partial, BTreeMap<Key, Origin>), ConfigError> {
    let mut p = Partial::default();
    let mut origins = BTreeMap::new();
    for (key, (v, origin)) in layer {
        p.set(*key, v, from).map_err(|message| ConfigError::Env {
            var: key.env(),
            message,
        })?;
        origins.insert(*key, origin.clone());
    }
    Ok((p, origins))
}

impl Settings {
    /// Resolves the settings: `flags` over the environment `vars` over the configuration file
    /// `choice` over the defaults.
    pub fn resolve(
        flags: Flags,
        vars: impl Iterator<Item = (String, String)>,
        choice: &ConfigChoice,
    ) -> Result<Settings, ConfigError> {
        let file = match choice {
            ConfigChoice::None => None,
            ConfigChoice::Given(p) => Some(p.clone()),
            ConfigChoice::Default => Some(PathBuf::from(DEFAULT_PATH)).filter(|p| p.exists()),
        };
        let (file_values, file_origins) = match &file {
            Some(p) => typed(&read_file(p)?, ReadFrom::File(dir_of(p)))?,
            None => (Partial::default(), BTreeMap::new()),
        };
        let (env_values, env_origins) = typed(&read_env(vars), ReadFrom::Env)?;
        let flags = Partial::from(flags);
        let at = |origins: &BTreeMap<Key, Origin>, k: Key| {
            origins.get(&k).cloned().unwrap_or(Origin::Default)
        };
        macro_rules! layered {
            ($field:ident, $key:expr, $default:expr) => {
                pick(
                    [
                        (flags.$field, Origin::Flag),
                        (env_values.$field, at(&env_origins, $key)),
                        (file_values.$field, at(&file_origins, $key)),
                    ],
                    $default,
                )
            };
        }
        let (rules_d, lists_d) = match (choice, &file) {
            (ConfigChoice::None, _) => (None, Vec::new()),
            (_, f) => beside(f.as_deref().map_or(Path::new(DEFAULT_PATH), |p| p))?,
        };
        let settings = Settings {
            fail_on: layered!(fail_on, Key::FailOn, Severity::Low),
            format: layered!(format, Key::Format, Format::Table),
            outputs: layered!(outputs, Key::Outputs, Outputs::default()),
            default_rules: layered!(default_rules, Key::DefaultRules, true),
            rules: layered!(rules, Key::Rules, Vec::new()),
            lists: layered!(lists, Key::Lists, Vec::new()),
            disable: layered!(disable, Key::Disable, Vec::new()),
            enable: layered!(enable, Key::Enable, Vec::new()),
            baseline: layered!(baseline, Key::Baseline, None),
            baseline_sha256: layered!(baseline_sha256, Key::BaselineSha256, None),
            netns: layered!(netns, Key::Netns, Select::Current),
            owners_from: layered!(owners_from, Key::OwnersFrom, OwnersFrom::Auto),
            procnet_view: layered!(procnet_view, Key::ProcnetView, true),
            procnet_udp_max: layered!(
                procnet_udp_max,
                Key::ProcnetUdpMax,
                Cap(Some(crate::collect::crossview::PROCNET_UDP_MAX))
            ),
            allow_partial: layered!(allow_partial, Key::AllowPartial, false),
            max_input_size: layered!(max_input_size, Key::MaxInputSize, MaxSize(None)),
            history: layered!(
                history,
                Key::History,
                PathBuf::from(crate::history::DEFAULT_PATH)
            ),
            history_max_size: layered!(history_max_size, Key::HistoryMaxSize, MaxSize(None)),
            file,
            rules_d,
            lists_d,
        };
        if settings.baseline_sha256.value.is_some() && settings.baseline.value.is_none() {
            return Err(ConfigError::PinWithoutBaseline(
                settings.baseline_sha256.origin.clone(),
            ));
        }
        Ok(settings)
    }

    /// Every rule path to load: `rules.d` first, then the `rules` setting.
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        self.rules_d
            .iter()
            .chain(&self.rules.value)
            .cloned()
            .collect()
    }

    /// The `disable` then `enable` patterns, each with where it was set.
    pub fn picks(&self) -> Vec<crate::rules::select::Pick> {
        use crate::rules::select::{Action, Pick};
        [
            (Action::Disable, &self.disable),
            (Action::Enable, &self.enable),
        ]
        .into_iter()
        .flat_map(|(action, s)| {
            s.value.iter().map(move |pattern| Pick {
                action,
                pattern: pattern.clone(),
                from: s.origin.to_string(),
            })
        })
        .collect()
    }

    /// Every list file to load: `lists.d`'s files first, then the `lists` setting (a later file
    /// replaces a list an earlier one set).
    pub fn list_paths(&self) -> Vec<PathBuf> {
        self.lists_d
            .iter()
            .chain(&self.lists.value)
            .cloned()
            .collect()
    }

    /// The effective settings as YAML (each value a JSON scalar or list, which YAML reads),
    /// each line commented with its origin: `sockwarden config show`. Fed back as a
    /// configuration file, it gives the same settings.
    pub fn show(&self) -> String {
        let mut out =
            String::from("# sockwarden config show: the settings `sockwarden scan` uses\n");
        let file = self
            .file
            .as_ref()
            .map_or("none".to_string(), |p| p.display().to_string());
        out += &format!("# configuration file: {}\n", crate::text::escape_str(&file));
        for (key, value, origin) in self.entries() {
            out += &format!(
                "{}: {}  # {}\n",
                key.name(),
                value,
                crate::text::escape_str(&origin.to_string())
            );
        }
        for (name, dir) in [
            ("rules.d", self.rules_d.iter().collect::<Vec<_>>()),
            ("lists.d", self.lists_d.iter().collect()),
        ] {
            let shown: Vec<String> = dir
                .iter()
                .map(|p| crate::text::escape_str(&p.display().to_string()))
                .collect();
            let shown = if shown.is_empty() {
                "(none)".to_string()
            } else {
                shown.join(", ")
            };
            out += &format!("# loaded from {name}: {shown}\n");
        }
        out
    }

    /// The settings as JSON: `{"file": ..., "settings": {KEY: {"value": ..., "origin": ...}}}`.
    pub fn show_json(&self) -> serde_json::Value {
        let settings: serde_json::Map<String, serde_json::Value> = self
            .entries()
            .into_iter()
            .map(|(k, v, o)| {
                (
                    k.name().to_string(),
                    serde_json::json!({"value": v, "origin": o.to_string()}),
                )
            })
            .collect();
        serde_json::json!({
            "file": self.file.as_ref().map(|p| p.to_string_lossy()),
            "settings": settings,
            "rules_d": self.rules_d.as_ref().map(|p| p.to_string_lossy()),
            "lists_d": self.lists_d.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        })
    }

    fn entries(&self) -> Vec<(Key, serde_json::Value, &Origin)> {
        fn e<T: SettingValue>(k: Key, s: &Setting<T>) -> (Key, serde_json::Value, &Origin) {
            (k, s.value.show(), &s.origin)
        }
        vec![
            e(Key::FailOn, &self.fail_on),
            e(Key::Format, &self.format),
            e(Key::Outputs, &self.outputs),
            e(Key::DefaultRules, &self.default_rules),
            e(Key::Rules, &self.rules),
            e(Key::Lists, &self.lists),
            e(Key::Disable, &self.disable),
            e(Key::Enable, &self.enable),
            e(Key::Baseline, &self.baseline),
            e(Key::BaselineSha256, &self.baseline_sha256),
            e(Key::Netns, &self.netns),
            e(Key::OwnersFrom, &self.owners_from),
            e(Key::ProcnetView, &self.procnet_view),
            e(Key::ProcnetUdpMax, &self.procnet_udp_max),
            e(Key::AllowPartial, &self.allow_partial),
            e(Key::MaxInputSize, &self.max_input_size),
            e(Key::History, &self.history),
            e(Key::HistoryMaxSize, &self.history_max_size),
        ]
    }
}

/// `rules.d` (when it is a directory) and the `*.yaml`/`*.yml` files of `lists.d`, beside the
/// configuration file (or where the default file would be).
fn beside(config: &Path) -> Result<(Option<PathBuf>, Vec<PathBuf>), ConfigError> {
    let dir = dir_of(config);
    let rules_d = Some(dir.join("rules.d")).filter(|d| d.is_dir());
    let lists_dir = dir.join("lists.d");
    let mut lists_d = Vec::new();
    if lists_dir.is_dir() {
        let entries = std::fs::read_dir(&lists_dir).map_err(|error| ConfigError::Dir {
            path: lists_dir.clone(),
            error,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|error| ConfigError::Dir {
                    path: lists_dir.clone(),
                    error,
                })?
                .path();
            let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if yaml {
                lists_d.push(path);
            }
        }
        lists_d.sort();
    }
    Ok((rules_d, lists_d))
}

#[cfg(test)]
mod tests;
