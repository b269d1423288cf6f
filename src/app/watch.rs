//! `sockwarden watch`: loads the rules and baseline, starts the kernel tracer (or says why not
//! and polls), runs until a signal or a limit, writes the summary. docs/watch.md.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use super::ExitStatus;
use super::scan::{RuleInputs, load_rules};
use crate::cli::WatchArgs;
use crate::collect::destroy::Destroyed;
use crate::collect::{self, CollectOptions, host, tracepoint::Tracer};
use crate::model::{Meta, State, StateSet};
use crate::watch::enrich::Enricher;
use crate::watch::output::{self, Style};
use crate::watch::run::{self, Limits};
use crate::watch::{Options, Watcher};

/// Runs the watch; exit 1 when anything was reported.
pub fn watch(args: &WatchArgs) -> Result<ExitStatus> {
    let rules = load_rules(&RuleInputs {
        defaults: !args.sources.no_default_rules,
        paths: &args.sources.rules,
        lists: &args.sources.lists,
        picks: &super::rules_cmd::switches(&args.switches),
    })?;
    let baseline = args
        .baseline
        .as_deref()
        .map(|p| super::baseline_cmd::load_baseline(p, args.baseline_sha256.as_deref()))
        .transpose()?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let mut out = sink(args.output.as_ref(), args.rotate_size, args.rotate_keep)?;
    let style = style(args);
    let meta = header();
    let hostname = meta.hostname.clone();
    let opts = Options {
        per_rule_per_minute: args.rate_limit,
        cache: args.cache_size,
        all_events: args.all_events,
    };
    let enricher = Enricher::new(PathBuf::from("/proc"), args.cache_size);
    let mut w = Watcher::new(&rules, baseline.as_ref(), opts, meta, enricher);
    let limits = Limits {
        duration: args.duration,
        count: args.count,
        stop: &stop,
        style,
    };
    let tracer = if args.no_bpf {
        Err("--no-bpf".to_string())
    } else {
        Tracer::start(args.ring_size as usize).map_err(|e| e.to_string())
    };
    let outcome = match tracer {
        Ok(mut t) => {
            // Listeners opened before the watch: their accepted connections are attributed.
            w.seed_listeners(&collect::collect(&listeners_only()));
            let mut seen = vec!["TCP state changes"];
            seen.extend(t.hooks.seen.iter().copied());
            eprintln!("sockwarden: watching {} through BPF", seen.join(", "));
            let misses = output::bpf_misses(&t.gaps);
            let r = match &misses {
                Some(m) => {
                    eprintln!("sockwarden: warning: {}", crate::text::escape_str(m));
                    out.write_all(output::coverage(style, &hostname, m).as_bytes())
                }
                None => Ok(()),
            }
            .and_then(|()| run::events(&mut t, &mut w, &mut *out, &limits));
            (("bpf", misses), r)
        }
        Err(reason) => {
            let destroyed = Destroyed::open();
            let status = destroyed.as_ref().map(|_| ()).map_err(|e| e.to_string());
            let misses = output::poll_misses(args.interval, &reason, status);
            let first = run::first_dump();
            eprintln!("sockwarden: warning: {}", crate::text::escape_str(&misses));
            let r = out
                .write_all(output::coverage(style, &hostname, &misses).as_bytes())
                .and_then(|()| {
                    run::dumps(
                        args.interval,
                        &first,
                        destroyed.ok(),
                        &mut w,
                        &mut *out,
                        &limits,
                    )
                });
            (("poll", Some(misses)), r)
        }
    };
    let ((mode, misses), written) = outcome;
    // A reader that went away (`watch | head`) ends the watch, as a signal does; the summary
    // still goes to stderr.
    let text = output::summary(style, &hostname, mode, &w.summary, misses.as_deref());
    match written.and_then(|()| out.write_all(text.as_bytes()).and_then(|()| out.flush())) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(e).context("writing the watch's output");
        }
        _ => {}
    }
    let s = &w.summary;
    eprintln!(
        "sockwarden: watch ended: {} events, {} lost, {} unread, {} findings, {} suppressed",
        s.events,
        s.lost,
        s.unread,
        s.findings,
        s.suppressed.values().sum::<u64>()
    );
    Ok(if s.findings > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}

/// The table at a terminal (unless `-o`), else JSON Lines; `--format` decides when given.
fn style(args: &WatchArgs) -> Style {
    match args.format.as_deref() {
        Some("table") => Style::Table,
        Some(_) => Style::Jsonl,
        None if args.output.is_none() && io::stdout().is_terminal() => Style::Table,
        None => Style::Jsonl,
    }
}

/// The header of every one-socket snapshot: this host, its kernel and boot, the namespace and
/// its ephemeral port range (which tells outbound from inbound).
fn header() -> Meta {
    let mut meta = Meta::blank(&host::hostname());
    meta.kernel = host::kernel_release();
    meta.boot_id = host::boot_id();
    meta.netns = host::current_netns();
    meta.ip_local_port_range = host::ip_local_port_range().or(meta.ip_local_port_range);
    meta
}

/// stdout, or FILE opened for appending without following a planted link, rotated by size
/// when asked.
fn sink(path: Option<&PathBuf>, rotate: Option<u64>, keep: u32) -> Result<Box<dyn Write>> {
    let context = |p: &PathBuf| format!("opening {} for the watch's output", p.display());
    match path {
        Some(p) if p.as_os_str() != "-" => match rotate {
            Some(max) => {
                let f = crate::output::Rotating::open(p, max, keep).with_context(|| context(p))?;
                Ok(Box::new(io::LineWriter::new(f)))
            }
            None => {
                let f = crate::output::open_append(p).with_context(|| context(p))?;
                Ok(Box::new(io::LineWriter::new(f)))
            }
        },
        _ => Ok(Box::new(io::LineWriter::new(io::stdout()))),
    }
}

/// The listening TCP sockets of this namespace, with their holders.
fn listeners_only() -> CollectOptions {
    CollectOptions {
        tables: collect::Tables {
            tcp: true,
            udp: false,
            raw: false,
            unix: false,
            packet: false,
            netlink: false,
        },
        tcp_states: StateSet::of(&[State::Listen]),
        extensions: false,
        crossview: false,
        procnet_view: false,
        ..CollectOptions::full()
    }
}
