//! Command-line definitions (clap). Nothing below `app` sees clap: arguments are resolved here
//! into plain option structs.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::baseline::diff::DiffFormat;
use crate::collect::OwnersFrom;
use crate::list::{ListOptions, Selector};
use crate::report::Format;
use crate::rules::Severity;
use crate::schema::SchemaName;

/// Command-line values of a vocabulary are its names (`--format json`, `--fail-on high`), taken
/// from the enum itself.
macro_rules! value_enum {
    ($($t:ty),+) => {$(
        impl clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.name()))
            }
        }
    )+};
}

value_enum!(
    Format,
    DiffFormat,
    Severity,
    OwnersFrom,
    crate::import::Format,
    SchemaName
);

/// sockwarden's command line: the global flags and one [`Command`].
#[derive(Debug, Parser)]
#[command(
    name = "sockwarden",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SOCKWARDEN_BUILD"), ")"),
    about = "Which sockets are open, who holds them, and what changed.",
    long_about = "Which sockets are open, who holds them, and what changed.\n\n\
        Exit status: 0 ok, 1 findings or differences, 2 error (including a scope that could \
        not be read, unless --allow-partial)."
)]
pub struct Cli {
    /// When a scope the command was asked to read (a namespace, a socket table, the owners)
    /// cannot be read, report what was read instead of failing with exit 2; the report's
    /// coverage section, in every format, lists what is missing.
    #[arg(long, global = true)]
    pub allow_partial: bool,
    /// The most bytes read from one input file (snapshot, rules, lists, baseline), e.g. 4G.
    /// Default: 2 GiB for snapshots, 64 MiB for YAML files.
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::input::parse_size)]
    pub max_input_size: Option<u64>,
    /// The history database that `--record` writes and `--from @TIME` reads (docs/history.md)
    /// [default: the `history` setting, else /var/lib/sockwarden/history.db].
    #[arg(long, global = true, value_name = "PATH")]
    pub history: Option<PathBuf>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, one per subcommand name.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record every socket and its owners as a JSON snapshot (docs/snapshot.md).
    Snapshot(SnapshotArgs),
    /// List sockets like `ss`, with owners, executables and users.
    List(ListArgs),
    /// Read collected evidence (`ss`, `netstat`, `lsof` output, `/proc/net/*` copies, a UAC
    /// collection) into a snapshot (docs/import.md).
    Import(ImportArgs),
    /// Evaluate detection rules over a live or saved snapshot; exit 1 on findings.
    Scan(ScanArgs),
    /// Inspect, check and test rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Create or update a known-good baseline (docs/baseline.md).
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Compare two saved snapshots (or two moments of the history, `@-24h @now`): what was
    /// added, removed or changed. Exit 1 when they differ.
    Diff(DiffArgs),
    /// The recorded socket history (docs/history.md).
    #[command(subcommand)]
    History(HistoryCommand),
    /// Watch sockets as they are born (BPF on the TCP state-change tracepoint, else sock_diag
    /// dumps compared) and report rule and baseline findings as they happen (docs/watch.md).
    Watch(WatchArgs),
    /// Print a shell completion script to stdout (`sockwarden completions bash >
    /// /usr/share/bash-completion/completions/sockwarden`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show the effective settings of `scan` and where each came from (flags, SOCKWARDEN_*
    /// environment, the configuration file, defaults).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the JSON Schema (draft 2020-12) of a document sockwarden reads or writes; without
    /// NAME, list the schemas and their URLs (docs/schema.md).
    Schema {
        /// The document: snapshot, report, jsonl, diff, baseline, rule, lists, config.
        #[arg(value_enum)]
        name: Option<SchemaName>,
        /// Write every schema into DIR as NAME/vVERSION.json (the layout of docs/schema/ and of
        /// the published URLs), each atomically.
        #[arg(long, value_name = "DIR", conflicts_with = "name")]
        write: Option<PathBuf>,
    },
    /// Write the manual pages, sockwarden(1) and one per subcommand, into DIR.
    Man {
        /// The directory to write `sockwarden.1`, `sockwarden-scan.1`, ... into (it must exist).
        dir: PathBuf,
    },
}

/// The `sockwarden config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings `scan` would use, each with its origin; exit 2 if the configuration
    /// file or the environment has a problem (every problem of the file is listed).
    Show {
        /// Which configuration file to read.
        #[command(flatten)]
        config: ConfigArgs,
        /// Print JSON: `{"file", "settings": {KEY: {"value", "origin"}}, "rules_d", "lists_d"}`.
        #[arg(long)]
        json: bool,
    },
}

/// The `sockwarden history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// List the recorded runs, oldest first: id, time, host, namespaces, sockets.
    Runs {
        /// Print a JSON array of `{id, started_at, host, tool_version, scope, socket_count}`.
        #[arg(long)]
        json: bool,
    },
    /// Forget the runs older than DURATION, keeping the run in effect at that moment and every
    /// interval a kept run sees; then, with a size cap (`--max-size`, else the
    /// `history_max_size` setting), the oldest runs until the file fits. Compacts the file when
    /// worth it.
    Prune {
        /// How much history to keep (`30d`, `12h`, `1week`).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        keep: Option<std::time::Duration>,
        /// The most the history may take (`500M`, `2G`; K, M, G are powers of 1024) [default:
        /// the `history_max_size` setting, else no cap].
        #[arg(long, value_name = "SIZE", value_parser = crate::input::parse_size)]
        max_size: Option<u64>,
    },
    /// When did sockets matching QUERY first appear, who held them, when did they go: every
    /// version of a matching socket, oldest first, with its holders and their intervals.
    Timeline {
        /// `KEY=VALUE` terms: `port=`, `lport=`, `rport=`, `addr=`, `laddr=`, `raddr=`,
        /// `proto=`, `state=` (the socket), `exe=`, `comm=`, `user=`, `container=`, `pid=` (a
        /// holder). The same key twice is either value; different keys must all match
        /// (`port=22 exe=/usr/sbin/sshd`).
        #[arg(value_name = "KEY=VALUE", required = true)]
        query: Vec<String>,
        /// Print the timeline as JSON: `{entries: [{ns, socket, first_seen, last_seen, gone,
        /// holders}], truncated}` (docs/history.md).
        #[arg(long)]
        json: bool,
        /// List at most N socket versions (the oldest first).
        #[arg(long, value_name = "N", default_value_t = 1000)]
        limit: usize,
    },
}

/// Which configuration file `scan` and `config show` read.
#[derive(Debug, Args, Default, Clone)]
pub struct ConfigArgs {
    /// Read settings from FILE (it must exist) instead of /etc/sockwarden/config.yaml (read
    /// when it exists); also SOCKWARDEN_CONFIG. rules.d/ and lists.d/ beside it are loaded too.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no configuration file, and no rules.d/ or lists.d/: flags, environment and defaults
    /// only.
    #[arg(long)]
    pub no_config: bool,
}

impl ConfigArgs {
    /// The file to read: `--no-config`, `--config`, SOCKWARDEN_CONFIG, else the default path.
    pub fn choice(&self) -> crate::config::ConfigChoice {
        use crate::config::ConfigChoice;
        if self.no_config {
            return ConfigChoice::None;
        }
        match (&self.config, std::env::var_os(crate::config::CONFIG_ENV)) {
            (Some(p), _) => ConfigChoice::Given(p.clone()),
            (None, Some(p)) if !p.is_empty() => ConfigChoice::Given(PathBuf::from(p)),
            _ => ConfigChoice::Default,
        }
    }
}

/// The `sockwarden baseline` subcommands.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Write the baseline of the live host (or a snapshot).
    Create {
        /// Which network namespaces to take the live state from.
        #[command(flatten)]
        ns: NetnsArgs,
        /// Take the state from a saved snapshot, evidence (docs/import.md), or a moment of the
        /// history (`@TIME`), instead of the live system.
        #[arg(long, value_name = "SNAPSHOT|@TIME")]
        from: Option<PathBuf>,
        /// What to record: any of listeners, outbound, inbound.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "listeners,outbound,inbound"
        )]
        include: Vec<String>,
        /// Write specific addresses as their class (private, public, ...), so the baseline
        /// serves every host built from the same image.
        #[arg(long)]
        classes: bool,
        /// A comment for the header (what this baseline is for).
        #[arg(long, default_value = "")]
        comment: String,
        /// The baseline file to write (atomically).
        #[arg(short = 'o', long, value_name = "FILE", required = true)]
        output: PathBuf,
    },
    /// Accept drift into a baseline: all of it, or the findings with the given ids.
    Update {
        /// The baseline file, rewritten atomically (FILE.sha256 too, when it exists).
        file: PathBuf,
        /// Take the state from a saved snapshot, evidence (docs/import.md), or a moment of the
        /// history (`@TIME`), instead of the live system.
        #[arg(long, value_name = "SNAPSHOT|@TIME")]
        from: Option<PathBuf>,
        /// `all`, or drift finding ids (from `scan --baseline`), repeatable.
        #[arg(long, required = true, value_name = "all|ID")]
        accept: Vec<String>,
    },
}

/// Arguments of `sockwarden diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot: a file, evidence (docs/import.md), or a moment of the history
    /// (`@TIME`).
    pub old: PathBuf,
    /// The later snapshot: a file, evidence, or a moment of the history (`@TIME`).
    pub new: PathBuf,
    /// Output format: table (`+`, `-`, `~` lines), json, or html (one self-contained page with
    /// the changes and the later snapshot's host graph).
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: DiffFormat,
    /// Write the diff to FILE (atomically) instead of stdout; `FORMAT=FILE` writes that format
    /// there as well (`-o html=diff.html`). Repeatable.
    #[arg(short = 'o', long = "output", value_name = "[FORMAT=]FILE")]
    pub output: Vec<String>,
}

/// Arguments of `sockwarden scan`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 no finding at or above --fail-on, 1 findings, 2 error.")]
pub struct ScanArgs {
    /// Which network namespaces a live scan reads.
    #[command(flatten)]
    pub ns: NetnsArgs,
    /// Scan a saved snapshot, collected evidence (docs/import.md), or a moment of the history,
    /// instead of the live system. `@TIME`
    /// is `@2026-12-01T10:00:00Z` (RFC 3339; without a zone, UTC), `@-24h` (that long ago),
    /// `@now` (the latest run) or `@run:ID`: the latest run started at or before TIME.
    #[arg(long, value_name = "SNAPSHOT|@TIME")]
    pub from: Option<PathBuf>,
    /// Scan only the sockets this `ss` filter expression selects (`"dport = :4444 and dst
    /// 203.0.113/24"`, docs/list.md); the report's coverage says so.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Add this scan's snapshot to the history as a run (`--history`); only a complete live
    /// snapshot is recorded.
    #[arg(long, conflicts_with = "from")]
    pub record: bool,
    /// Report what changed since the latest recorded run (listeners, connections, processes
    /// added, removed, changed) and which findings are new; exit 1 only for a new finding at or
    /// above --fail-on, so a scheduled scan alerts once per problem (docs/history.md).
    #[arg(long)]
    pub since_last: bool,
    /// Which rules and lists to load.
    #[command(flatten)]
    pub sources: RuleSourceArgs,
    /// Which rules to switch off and on.
    #[command(flatten)]
    pub switches: SwitchArgs,
    /// Lowest severity that makes the exit status 1 [default: low].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Output format [default: table].
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE (atomically) instead of stdout; `FORMAT=FILE` writes that
    /// format there as well (`-o sarif=scan.sarif -o junit=scan.xml`). Repeatable.
    #[arg(short = 'o', long = "output", value_name = "[FORMAT=]FILE")]
    pub output: Vec<String>,
    /// Compare with a known-good baseline: drift findings beside rule findings.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Refuse (exit 2) a baseline whose SHA-256 differs. Without it, FILE.sha256 is checked
    /// when it exists.
    #[arg(long, value_name = "HEX")]
    pub baseline_sha256: Option<String>,
    /// Exit status as a bitmask (AIDE-style): 1 new, 2 gone, 4 changed, 8 rule finding at or
    /// above --fail-on; 0 nothing; an error is 32 (docs/baseline.md).
    #[arg(long)]
    pub exit_bits: bool,
    /// Scan again every DURATION (`15m`, `1h`), forever: for a container or DaemonSet, where
    /// no timer runs. Each scan writes its reports; an error is printed and the next scan still
    /// runs. SIGTERM or SIGINT ends it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, conflicts_with = "exit_bits")]
    pub every: Option<std::time::Duration>,
    /// Where socket owners come from.
    #[command(flatten)]
    pub owners: OwnersArgs,
    /// Do not read the /proc/net view of the cross-view (config `procnet_view: false`;
    /// docs/detection.md, "Costs"): NET-HID-001 and NET-HID-002 are then undecided.
    #[arg(long)]
    pub no_procnet_view: bool,
    /// Read /proc/net/udp and udp6 only in namespaces with at most N UDP sockets (config
    /// `procnet_udp_max`; the kernel's read is quadratic; docs/detection.md, "Costs"): above it
    /// NET-HID-001 and NET-HID-002 are undecided for UDP. 0: never; `none`: no cap
    /// [default: 16384].
    #[arg(long, value_name = "N", value_parser = crate::config::Cap::parse)]
    pub procnet_udp_max: Option<crate::config::Cap>,
    /// Which configuration file to read.
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl ScanArgs {
    /// The settings the flags give (each `None` when its flag is absent); `allow_partial` and
    /// `max_input_size` are the global flags.
    pub fn flags(&self, allow_partial: bool, max_input_size: Option<u64>) -> crate::config::Flags {
        fn some_vec<T: Clone>(v: &[T]) -> Option<Vec<T>> {
            (!v.is_empty()).then(|| v.to_vec())
        }
        crate::config::Flags {
            fail_on: self.fail_on,
            format: self.format,
            outputs: some_vec(&self.output).map(crate::config::Outputs),
            default_rules: self.sources.no_default_rules.then_some(false),
            rules: some_vec(&self.sources.rules),
            lists: some_vec(&self.sources.lists),
            disable: some_vec(&self.switches.disable),
            enable: some_vec(&self.switches.enable),
            baseline: self.baseline.clone(),
            baseline_sha256: self.baseline_sha256.clone(),
            netns: (self.ns.all_netns || self.ns.netns.is_some()).then(|| self.ns.select()),
            owners_from: self.owners.owners_from,
            procnet_view: self.no_procnet_view.then_some(false),
            procnet_udp_max: self.procnet_udp_max,
            allow_partial: allow_partial.then_some(true),
            max_input_size,
            history: None,
            history_max_size: None,
        }
    }
}

/// `--disable` and `--enable`: rules switched off and on after every layer is loaded.
#[derive(Debug, Args, Default, Clone)]
pub struct SwitchArgs {
    /// Switch rules off: an id, a glob over ids (`NET-C2-*`) or a tag (`tag:T1571`; a technique
    /// also selects its sub-techniques). Repeatable; a pattern that selects no rule is an error.
    #[arg(long = "disable", value_name = "ID|GLOB|tag:TAG")]
    pub disable: Vec<String>,
    /// Switch rules on, after every --disable: even a rule a file or a disable pattern switched
    /// off. Same patterns as --disable; repeatable.
    #[arg(long = "enable", value_name = "ID|GLOB|tag:TAG")]
    pub enable: Vec<String>,
}

/// What `rules list` and `rules explain` load.
#[derive(Debug, Args, Default)]
pub struct EffectiveArgs {
    /// Which rules and lists to load.
    #[command(flatten)]
    pub src: RuleSourceArgs,
    /// Load every layer `scan` loads: the configuration file's settings (rules, lists, disable,
    /// enable), rules.d/ and lists.d/, SOCKWARDEN_* and these flags; list switched-off rules too,
    /// with what switched them off.
    #[arg(long)]
    pub effective: bool,
    /// Which rules to switch off and on.
    #[command(flatten)]
    pub switches: SwitchArgs,
    /// Which configuration file to read (with --effective).
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The `sockwarden rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules: id, severity, status, tags, title (with --effective, also whether
    /// each is on and where its last change was written).
    List(EffectiveArgs),
    /// Show a rule's documentation, then each part of the rule in force (condition, severity,
    /// tags, exceptions, enabled) with the file:line:col that set it.
    Explain {
        /// Rule id, e.g. NET-PRC-001.
        id: String,
        /// Which rules, lists and layers to load.
        #[command(flatten)]
        args: EffectiveArgs,
    },
    /// Print every field a rule can test, with its type.
    Fields,
    /// Check rule files for errors without running them.
    Check {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Load the built-in pack first, as the layer that overrides in PATHS change.
        #[arg(long)]
        over_defaults: bool,
    },
    /// Run every rule's match and no_match examples (an override's against the rule as it
    /// leaves it; docs/rules-language.md, "Layering").
    Test {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Load the built-in pack first, as the layer that overrides in PATHS change; only the
        /// rules PATHS define or override are tested.
        #[arg(long)]
        over_defaults: bool,
    },
    /// Print a new rule file to start from: the rule's skeleton with passing examples, and the
    /// line that makes editors validate it against the rule schema (docs/schema.md).
    New {
        /// The new rule's id: upper-case letters, digits and dashes (SITE-001).
        id: String,
    },
    /// Write (or with --check, verify) one Markdown page per default rule into DIR.
    Docs {
        /// Directory for the pages (docs/rules in this repository).
        dir: PathBuf,
        /// Fail if a page differs from what the rules generate.
        #[arg(long)]
        check: bool,
    },
}

/// Where rules come from: `scan` and the `rules` subcommands take the same flags.
#[derive(Debug, Args, Default)]
pub struct RuleSourceArgs {
    /// Extra rule files or directories (repeatable). Files under a `lists/` directory are lists.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rule pack (its lists stay available).
    #[arg(long)]
    pub no_default_rules: bool,
    /// A YAML file of named lists; each list replaces the default list of that name, or with
    /// `NAME: {append: [...]}` adds to it (repeatable).
    #[arg(long = "lists", value_name = "FILE")]
    pub lists: Vec<PathBuf>,
}

/// Which network namespaces to look at.
#[derive(Debug, Args, Default, Clone)]
pub struct NetnsArgs {
    /// Every network namespace on the host (containers included), each socket tagged with its
    /// namespace.
    #[arg(long)]
    pub all_netns: bool,
    /// One network namespace: a name under /run/netns, a pid, or a namespace file.
    #[arg(long, value_name = "NAME|PID|PATH", conflicts_with = "all_netns")]
    pub netns: Option<String>,
}

impl NetnsArgs {
    /// The namespace selection for collection. clap refuses `--netns` with `--all-netns`.
    pub fn select(&self) -> crate::collect::netns::Select {
        use crate::collect::netns::Select;
        match (&self.netns, self.all_netns) {
            (Some(n), _) => Select::One(n.clone()),
            (None, true) => Select::All,
            (None, false) => Select::Current,
        }
    }
}

/// Arguments of `sockwarden watch`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 no finding, 1 findings, 2 error.")]
pub struct WatchArgs {
    /// Which rules and lists to load.
    #[command(flatten)]
    pub sources: RuleSourceArgs,
    /// Which rules to switch off and on.
    #[command(flatten)]
    pub switches: SwitchArgs,
    /// Compare each new socket with a known-good baseline: a new listener or outbound peer is
    /// reported as drift the moment it appears.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Refuse (exit 2) a baseline whose SHA-256 differs.
    #[arg(long, value_name = "HEX")]
    pub baseline_sha256: Option<String>,
    /// Output: `jsonl` (ECS JSON Lines) or `table` [default: table at a terminal, else jsonl].
    #[arg(long, value_name = "FORMAT", value_parser = ["jsonl", "table"])]
    pub format: Option<String>,
    /// Append the output to FILE (created 0640; a symbolic link is refused) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rotate FILE when it would grow past SIZE (`100M`; K, M, G are powers of 1024): FILE
    /// becomes FILE.1, FILE.1 becomes FILE.2, ... (needs -o).
    #[arg(long, value_name = "SIZE", requires = "output", value_parser = crate::input::parse_size)]
    pub rotate_size: Option<u64>,
    /// How many rotated files to keep (FILE.1 to FILE.N); the oldest is replaced.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "rotate_size",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rotate_keep: u32,
    /// Also write every socket event (connect, connected, listen, accepted, close), not only
    /// findings.
    #[arg(long)]
    pub all_events: bool,
    /// Stop after this long (`30s`, `10m`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Stop after this many records (findings, and events with --all-events).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Do not use BPF: compare sock_diag dumps every --interval (misses what lives between two).
    #[arg(long)]
    pub no_bpf: bool,
    /// Use the perf tracepoint and the syscall tracepoints even where the BTF-typed hooks
    /// (raw tracepoint, fexit) load: they cost the traced workload more (docs/watch.md).
    #[arg(long)]
    pub legacy_hooks: bool,
    /// Never attach the syscall tracepoints, which a kernel that refuses fexit programs needs
    /// for raw, packet and unix listener sockets and which slow every system call of every task:
    /// those sockets are then found by a sock_diag dump every --interval, and one that lives
    /// less than that is missed (docs/watch.md).
    #[arg(long, conflicts_with_all = ["legacy_hooks", "no_bpf"])]
    pub no_syscall_tracepoints: bool,
    /// The period of the dumps: every socket's without BPF, the raw, packet and unix listener
    /// sockets' with --no-syscall-tracepoints.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub interval: std::time::Duration,
    /// The BPF ring buffer's size in bytes, 4096 to 1073741824 (rounded up to a power of two); the
    /// TCP rings per CPU share as much again (docs/watch.md, "Records and rings").
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20,
          value_parser = clap::value_parser!(u32).range(4096..=1 << 30))]
    pub ring_size: u32,
    /// The most findings per rule (or drift category) per minute; the rest are counted in the
    /// summary.
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub rate_limit: u32,
    /// Entries kept in each cache (processes, pending connects, listeners, reported findings).
    #[arg(long, value_name = "N", default_value_t = 16384)]
    pub cache_size: usize,
    /// Watch one network namespace only (a name under /run/netns, a pid, or a namespace file):
    /// the kernel drops other namespaces' TCP and unix events before they reach the ring.
    #[arg(long, value_name = "NAME|PID|PATH")]
    pub netns: Option<String>,
}

/// Arguments of `sockwarden import`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every command that reads a snapshot reads evidence too: \
        `scan --from ss_-anp.txt`, `diff before/ after.tar.gz`, `baseline create --from uac-dir/`. \
        Exit status: 0 imported, 2 error (every bad line is listed, located)."
)]
pub struct ImportArgs {
    /// Files, UAC collection directories or `.tar.gz` archives, all of one host.
    #[arg(required = true, value_name = "FILE|DIR|ARCHIVE")]
    pub paths: Vec<PathBuf>,
    /// Write the snapshot to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format of every file, instead of detecting it from its name and first lines.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<crate::import::Format>,
    /// Skip lines that do not parse, counted in the snapshot's warnings, instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Indent the JSON for reading.
    #[arg(long)]
    pub pretty: bool,
}

/// Arguments of `sockwarden snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Which network namespaces to dump.
    #[command(flatten)]
    pub ns: NetnsArgs,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Indent the JSON for reading.
    #[arg(long)]
    pub pretty: bool,
    /// Skip the /proc walk: sockets only, no owners.
    #[arg(long)]
    pub no_processes: bool,
    /// Add the snapshot to the history as a run (`--history`; docs/history.md). Only a complete
    /// snapshot is recorded. The JSON is then written only with `-o`: stdout stays quiet for
    /// timers and cron.
    #[arg(long, conflicts_with = "no_processes")]
    pub record: bool,
    /// Leave out tcp_info, congestion control and socket memory.
    #[arg(long)]
    pub no_extensions: bool,
    /// Do not read the /proc/net view of the cross-view (docs/detection.md, "Costs"):
    /// `socket.hidden.procnet` and `socket.hidden.netlink` are then unknown.
    #[arg(long)]
    pub no_procnet_view: bool,
    /// Read /proc/net/udp and udp6 only in namespaces with at most N UDP sockets (the kernel's
    /// read is quadratic; docs/detection.md, "Costs"): above it their sockets'
    /// `hidden.procnet` and `hidden.netlink` are unknown. 0: never; `none`: no cap
    /// [default: 16384].
    #[arg(long, value_name = "N", value_parser = crate::config::Cap::parse)]
    pub procnet_udp_max: Option<crate::config::Cap>,
    /// Where socket owners come from.
    #[command(flatten)]
    pub owners: OwnersArgs,
}

/// Where socket owners come from.
#[derive(Debug, Args)]
pub struct OwnersArgs {
    /// Where (socket, pid, fd) come from: the kernel's task-file BPF iterator (bpf), one readlink
    /// per /proc/PID/fd entry (procfs), or auto: bpf on hosts with 10,000 or more open files when
    /// it can be loaded, else procfs. meta.sources.owners records which answered.
    #[arg(long, value_name = "SOURCE")]
    pub owners_from: Option<OwnersFrom>,
}

impl OwnersArgs {
    /// The collector's owner source: the flag's, else `auto`.
    pub fn source(&self) -> OwnersFrom {
        self.owners_from.unwrap_or_default()
    }
}

/// Arguments of `sockwarden list`: `ss`'s flags and filter words.
#[derive(Debug, Args)]
#[command(after_help = "FILTER words, as ss takes them:\n  \
        state NAME | exclude NAME   (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, \
        time-wait, closed, close-wait, last-ack, listening, closing, bound-inactive; groups: all, \
        connected, synchronized, bucket, big)\n  \
        sport|dport [= != < > <= >=] [:]PORT, src|dst ADDR[/PREFIX][:PORT], and, or, not, ( )\n\n\
        Examples:\n  sockwarden list -tuln\n  sockwarden list -tp state established dport = :4444\n  \
        sockwarden list -ntaup")]
pub struct ListArgs {
    /// Which network namespaces to list.
    #[command(flatten)]
    pub ns: NetnsArgs,
    /// TCP sockets.
    #[arg(short = 't', long, action = ArgAction::Count)]
    pub tcp: u8,
    /// UDP sockets.
    #[arg(short = 'u', long, action = ArgAction::Count)]
    pub udp: u8,
    /// Raw sockets.
    #[arg(short = 'w', long, action = ArgAction::Count)]
    pub raw: u8,
    /// Unix sockets.
    #[arg(short = 'x', long, action = ArgAction::Count)]
    pub unix: u8,
    /// Packet sockets.
    #[arg(short = '0', long, action = ArgAction::Count)]
    pub packet: u8,
    /// Listening sockets only (the last of -l and -a wins).
    #[arg(short = 'l', long, action = ArgAction::Count)]
    pub listening: u8,
    /// All sockets, listening and not (the last of -l and -a wins).
    #[arg(short = 'a', long, action = ArgAction::Count)]
    pub all: u8,
    /// Socket tables, comma-separated, `!` to remove: all, inet, tcp, udp, raw, unix,
    /// unix_stream, unix_dgram, unix_seqpacket, packet, packet_raw, packet_dgram, netlink. The
    /// first -A drops the tables named before it, as in ss.
    #[arg(
        short = 'A',
        long = "query",
        visible_alias = "socket",
        value_name = "QUERY"
    )]
    pub query: Vec<String>,
    /// An address family: inet, inet6, link, unix, netlink.
    #[arg(short = 'f', long = "family", value_name = "FAMILY")]
    pub family: Vec<String>,
    /// Numbers: ports instead of /etc/services names, netlink protocols, rates in bits.
    #[arg(short = 'n', long, overrides_with = "numeric")]
    pub numeric: bool,
    /// Resolve addresses to host names (the system resolver; numbers when an address has none).
    #[arg(short = 'r', long, overrides_with = "resolve")]
    pub resolve: bool,
    /// Owning processes (pid, fd), with exe and user.
    #[arg(short = 'p', long, overrides_with = "processes")]
    pub processes: bool,
    /// Extended details: uid, inode, cookie, mark, cgroup, v6only, shutdown.
    #[arg(short = 'e', long, overrides_with = "extended")]
    pub extended: bool,
    /// The cgroup v2 path of TCP and UDP sockets, as ss --cgroup (also part of -e).
    #[arg(long = "cgroup", overrides_with = "show_cgroup")]
    pub show_cgroup: bool,
    /// TCP internals (tcp_info, congestion control).
    #[arg(short = 'i', long, overrides_with = "info")]
    pub info: bool,
    /// Socket memory.
    #[arg(short = 'm', long, overrides_with = "memory")]
    pub memory: bool,
    /// Timers.
    #[arg(short = 'o', long, overrides_with = "options")]
    pub options: bool,
    /// Packet sockets' BPF filters.
    #[arg(short = 'b', long, overrides_with = "bpf")]
    pub bpf: bool,
    /// IPv4 only.
    #[arg(short = '4', long, action = ArgAction::Count)]
    pub ipv4: u8,
    /// IPv6 only.
    #[arg(short = '6', long, action = ArgAction::Count)]
    pub ipv6: u8,
    /// No header line.
    #[arg(short = 'H', long, overrides_with = "no_header")]
    pub no_header: bool,
    /// Every socket on one line: -m and -i details follow the columns instead of a
    /// continuation line.
    #[arg(short = 'O', long, overrides_with = "oneline")]
    pub oneline: bool,
    /// sockwarden's columns ss lacks: with -p, the holders' Exe and User.
    #[arg(short = 'X', long, overrides_with = "extra")]
    pub extra: bool,
    /// Print ss's summary (socket counts from /proc/net/sockstat and snmp) first; alone, only it.
    #[arg(short = 's', long, overrides_with = "summary")]
    pub summary: bool,
    /// Destroy the selected TCP and UDP sockets (SOCK_DESTROY; needs CAP_NET_ADMIN) and print
    /// those destroyed, as ss -K.
    #[arg(short = 'K', long, overrides_with = "kill", conflicts_with = "events")]
    pub kill: bool,
    /// Print TCP and UDP sockets of the selection as the kernel destroys them, until SIGINT or
    /// SIGTERM, --count or --duration, as ss -E (needs CAP_NET_ADMIN).
    #[arg(short = 'E', long, overrides_with = "events")]
    pub events: bool,
    /// With -E: stop after this many sockets.
    #[arg(long, value_name = "N", requires = "events")]
    pub count: Option<u64>,
    /// With -E: stop after this long (`30s`, `10m`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, requires = "events")]
    pub duration: Option<std::time::Duration>,
    /// Print the selected sockets (and their processes) as JSON.
    #[arg(long, overrides_with = "json")]
    pub json: bool,
    /// Read a saved snapshot, evidence (docs/import.md), or a moment of the history (`@TIME`),
    /// instead of the live system.
    #[arg(long, value_name = "SNAPSHOT|@TIME")]
    pub from: Option<PathBuf>,
    /// Where socket owners come from (with -p).
    #[command(flatten)]
    pub owners: OwnersArgs,
    /// state/exclude words and a filter expression; options may follow them, as in ss.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,
    /// The table, family and state flags in command-line order (set by [`Cli::parse_args`]).
    #[arg(skip)]
    pub selectors: Vec<Selector>,
}

impl ListArgs {
    /// The list options these flags give, the filter words included.
    pub fn options(&self) -> ListOptions {
        ListOptions {
            selectors: self.selectors.clone(),
            numeric: self.numeric,
            processes: self.processes,
            extended: self.extended,
            info: self.info,
            memory: self.memory,
            options: self.options,
            bpf: self.bpf,
            no_header: self.no_header,
            oneline: self.oneline,
            extra: self.extra,
            services: None,
            resolve: self.resolve,
            show_cgroup: self.show_cgroup,
            hosts: None,
            cgroups: None,
            json: self.json,
            summary: self.summary,
            kill: self.kill,
            events: self.events,
            words: self.filter.clone(),
        }
    }
}

/// Builds a selector from a flag's value.
type MakeSelector = fn(String) -> Selector;

/// The order-sensitive flags of `list`, by clap id, in command-line order.
fn selectors(m: &ArgMatches) -> Vec<Selector> {
    let flags = [
        ("tcp", Selector::Tcp),
        ("udp", Selector::Udp),
        ("raw", Selector::Raw),
        ("unix", Selector::Unix),
        ("packet", Selector::Packet),
        ("ipv4", Selector::Ipv4),
        ("ipv6", Selector::Ipv6),
        ("all", Selector::All),
        ("listening", Selector::Listening),
    ];
    let mut found: Vec<(usize, Selector)> = Vec::new();
    let given = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
    for (id, sel) in flags.into_iter().filter(|(id, _)| given(id)) {
        let at = m.indices_of(id).into_iter().flatten();
        found.extend(at.map(|i| (i, sel.clone())));
    }
    let valued: [(&str, MakeSelector); 2] =
        [("query", Selector::Query), ("family", Selector::Family)];
    for (id, make) in valued {
        let at = m.indices_of(id).into_iter().flatten();
        let values = m.get_many::<String>(id).into_iter().flatten();
        found.extend(at.zip(values).map(|(i, v)| (i, make(v.clone()))));
    }
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, s)| s).collect()
}

impl Cli {
    /// Parses `args` (the program name first); exits with clap's message on a usage error.
    /// Unlike `Cli::parse`, this keeps the order of `list`'s table and state flags.
    pub fn parse_args<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut matches = Cli::command().get_matches_from(args);
        let order = match matches.subcommand() {
            Some(("list", m)) => selectors(m),
            _ => Vec::new(),
        };
        let mut cli = Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit());
        if let Command::List(a) = &mut cli.command {
            a.selectors = order;
        }
        cli
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ss -tuan -n -H -H` works; clap refused a repeated boolean flag before.
    #[test]
    fn list_flags_may_repeat_as_in_ss() {
        let cli = Cli::parse_args([
            "sockwarden",
            "list",
            "-n",
            "-tuan",
            "-H",
            "-H",
            "-pp",
            "-ee",
            "-ii",
            "-mm",
            "-oo",
            "-bb",
            "--json",
            "--json",
        ]);
        let Command::List(a) = cli.command else {
            panic!("not list");
        };
        assert!(a.numeric && a.no_header && a.processes && a.extended && a.info);
        assert!(a.memory && a.options && a.bpf && a.json);
        assert_eq!(a.selectors, [Selector::Tcp, Selector::Udp, Selector::All]);
    }
}
