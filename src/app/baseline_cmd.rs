//! `sockwarden baseline create | update` and `sockwarden diff`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};

use super::history_cmd::{self, HistoryPath};
use super::{ExitStatus, Partial};
use crate::baseline::diff::DiffFormat;
use crate::baseline::{self, Acceptance, Baseline, Compiled, Include, drift};
use crate::cli::{BaselineCommand, DiffArgs};
use crate::collect::{CollectOptions, host};
use crate::input;
use crate::model::Snapshot;
use crate::output;

pub fn run(cmd: &BaselineCommand, partial: Partial, history: &HistoryPath) -> Result<ExitStatus> {
    match cmd {
        BaselineCommand::Create {
            ns,
            from,
            include,
            classes,
            comment,
            output: out,
        } => {
            let mut inc = Include {
                listeners: false,
                outbound: false,
                inbound: false,
                classes: *classes,
            };
            for i in include {
                match i.as_str() {
                    "listeners" => inc.listeners = true,
                    "outbound" => inc.outbound = true,
                    "inbound" => inc.inbound = true,
                    other => bail!("--include {other}: expected listeners, outbound or inbound"),
                }
            }
            let snap = history_cmd::source(from.as_deref(), history, || CollectOptions {
                netns: ns.select(),
                ..CollectOptions::full()
            })?
            .take()?;
            partial.check(&snap, "the snapshot")?;
            let b = baseline::from_snapshot(&snap, inc, comment);
            output::write_atomic(out, baseline::render(&b).as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            eprintln!(
                "sockwarden: baseline {}: {} listeners, {} outbound, {} inbound",
                out.display(),
                b.listeners.len(),
                b.outbound.len(),
                b.inbound.len()
            );
            Ok(ExitStatus::Ok)
        }
        BaselineCommand::Update { file, from, accept } => {
            update(file, from.as_deref(), accept, partial, history)
        }
    }
}

fn snapshot(from: Option<&Path>, history: &HistoryPath) -> Result<Snapshot> {
    Ok(history_cmd::source(from, history, CollectOptions::full)?.take()?)
}

/// Reads a baseline, refusing one whose digest differs from `sha256` or from FILE.sha256.
/// A pin that exists but cannot be read, or holds no SHA-256 digest, is an error: a pin that
/// is silently ignored protects nothing.
pub fn load_baseline(path: &Path, sha256: Option<&str>) -> Result<(Baseline, Compiled)> {
    let bytes = input::read_bytes(path, input::Kind::Document)?;
    let side = sidecar(path);
    let expected = match sha256 {
        Some(h) => Some(parse_digest(h).ok_or_else(|| {
            anyhow::anyhow!("--baseline-sha256 {h}: not a SHA-256 digest (64 hex digits)")
        })?),
        None => read_pin(&side)?,
    };
    if let Some(want) = expected {
        let got = baseline::sha256_hex(&bytes);
        if got != want {
            bail!(
                "{}: the baseline's SHA-256 is {got}, but {} pins {want}: it was changed after \
                 it was pinned; refusing to use it",
                path.display(),
                if sha256.is_some() {
                    "--baseline-sha256".to_string()
                } else {
                    side.display().to_string()
                }
            );
        }
    }
    let text = input::text_from(bytes, &path.display().to_string())?;
    baseline::parse(&path.display().to_string(), &text).map_err(|diags| {
        for d in &diags {
            eprintln!("{d}");
        }
        anyhow::anyhow!(
            "{} problem{} in the baseline",
            diags.len(),
            if diags.len() == 1 { "" } else { "s" }
        )
    })
}

/// A SHA-256 digest in hex (64 digits), lower-cased.
fn parse_digest(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// The digest pinned in FILE.sha256 (`sha256sum` format: the digest, then the name), `None`
/// when there is no such file at all.
fn read_pin(side: &Path) -> Result<Option<String>> {
    match std::fs::symlink_metadata(side) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => bail!("{}: cannot read the baseline's pin: {e}", side.display()),
        Ok(_) => {}
    }
    let text = input::read_text(side, input::Kind::Document)
        .map_err(|e| anyhow::anyhow!("the baseline's pin: {e}"))?;
    let first = text.split_whitespace().next().unwrap_or("");
    match parse_digest(first) {
        Some(d) => Ok(Some(d)),
        None => bail!(
            "{}:1:1: the baseline's pin holds no SHA-256 digest (64 hex digits, as sha256sum \
             writes); refusing to use the baseline unpinned",
            side.display()
        ),
    }
}

fn sidecar(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    s.into()
}

/// Who runs this, for the acceptance record.
fn who() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| format!("uid {}", nix::unistd::getuid()))
}

fn update(
    file: &Path,
    from: Option<&Path>,
    accept: &[String],
    partial: Partial,
    history: &HistoryPath,
) -> Result<ExitStatus> {
    // An update may follow a legitimate change to the pinned file only through this command,
    // which rewrites FILE.sha256 with it; an edited file is still refused here.
    let (mut b, c) = load_baseline(file, None)?;
    let snap = snapshot(from, history)?;
    partial.check(&snap, "the snapshot")?;
    let cmp = drift::compare(&b, &c, &snap);
    let all = accept.iter().any(|a| a == "all");
    let wanted: BTreeSet<&str> = accept.iter().map(String::as_str).collect();
    let known: BTreeSet<&str> = cmp.drift.iter().map(|d| d.id.as_str()).collect();
    for id in &wanted {
        if *id != "all" && !known.contains(id) {
            bail!(
                "--accept {id}: no drift finding has that id now (see `sockwarden scan --baseline`)"
            );
        }
    }
    let chosen: Vec<&drift::Drift> = cmp
        .drift
        .iter()
        .filter(|d| all || wanted.contains(d.id.as_str()))
        .collect();
    let at = host::now_rfc3339();
    let by = who();
    for d in &chosen {
        b.accepted.push(Acceptance {
            at: at.clone(),
            by: by.clone(),
            id: d.id.clone(),
            category: d.category,
            entry: d.message.clone(),
        });
    }
    drift::apply(
        &mut b,
        &chosen.iter().map(|d| &d.change).collect::<Vec<_>>(),
    );
    let text = baseline::render(&b);
    output::write_atomic(file, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    let side = sidecar(file);
    if side.exists() {
        let line = format!(
            "{}  {}\n",
            baseline::sha256_hex(text.as_bytes()),
            file.display()
        );
        output::write_atomic(&side, line.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", side.display()))?;
    }
    eprintln!(
        "sockwarden: accepted {} of {} drift finding{} into {}",
        chosen.len(),
        cmp.drift.len(),
        if cmp.drift.len() == 1 { "" } else { "s" },
        file.display()
    );
    Ok(ExitStatus::Ok)
}

pub fn diff(args: &DiffArgs, partial: Partial, history: &HistoryPath) -> Result<ExitStatus> {
    let read = |p: &Path| -> Result<Snapshot> {
        let unreachable = || unreachable!("a diff's sources are named");
        Ok(history_cmd::source(Some(p), history, unreachable)?.take()?)
    };
    let old = read(&args.old)?;
    partial.check(&old, &args.old.display().to_string())?;
    let new = read(&args.new)?;
    partial.check(&new, &args.new.display().to_string())?;
    let d = baseline::diff::compare(&old, &new);
    let targets = super::scan::targets(
        &args.output,
        args.format,
        DiffFormat::parse,
        &DiffFormat::NAMES,
    )?;
    for (format, path) in &targets {
        let text = match format {
            DiffFormat::Json => {
                let mut s = serde_json::to_string_pretty(&d)?;
                s.push('\n');
                s
            }
            DiffFormat::Table => d.render_table(),
            DiffFormat::Html => crate::report::html::diff(&d, &old, &new),
        };
        output::emit_for(
            path.as_deref(),
            text.as_bytes(),
            output::Readers::OwnerAndGroup,
        )
        .map_err(|e| match path {
            Some(p) => anyhow::anyhow!("cannot write {}: {e}", p.display()),
            None => anyhow::anyhow!("cannot write the diff: {e}"),
        })?;
    }
    Ok(if d.differ() {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
