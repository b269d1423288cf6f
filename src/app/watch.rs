//! `sockwarden watch`: loads the rules and baseline, starts the kernel tracer (or says why not
//! and polls), runs until a signal or a limit, writes the summary. docs/watch.md.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use super::ExitStatus;
use super::scan::{RuleInputs, load_rules};
use crate::cli::WatchArgs;
use crate::collect::destroy::Destroyed;
use crate::collect::netns::{self, Select};
use crate::collect::tracepoint::{Filter, TraceOptions, Tracer};
use crate::collect::{self, CollectOptions, host};
use crate::model::{Meta, State, StateSet};
use crate::watch::enrich::Enricher;
use crate::watch::output::{self, Style};
use crate::watch::poll::Sweep;
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
    let chosen = args.netns.as_deref().map(chosen_netns).transpose()?;
    let select = match &args.netns {
        Some(spec) => Select::One(spec.clone()),
        None => Select::Current,
    };
    let mut out = sink(args.output.as_ref(), args.rotate_size, args.rotate_keep)?;
    let style = style(args);
    let meta = header();
    let hostname = meta.hostname.clone();
    let opts = Options {
        per_rule_per_minute: args.rate_limit,
        cache: args.cache_size,
        all_events: args.all_events,
        only_netns: chosen.as_ref().map(|(_, inode)| u64::from(*inode)),
    };
    let enricher = Enricher::new(PathBuf::from("/proc"), args.cache_size);
    let mut w = Watcher::new(&rules, baseline.as_ref(), opts, meta, enricher);
    if let Some((path, inode)) = &chosen {
        w.name_namespace(u64::from(*inode), netns_name(path));
    }
    let limits = Limits {
        duration: args.duration,
        count: args.count,
        stop: &stop,
        style,
    };
    let tracer = if args.no_bpf {
        Err("--no-bpf".to_string())
    } else {
        Tracer::start(&TraceOptions {
            ring_bytes: args.ring_size as usize,
            filter: Filter {
                only_netns: chosen.as_ref().map(|(_, inode)| *inode),
                // Without --all-events only the transitions watch judges or tracks leave the
                // kernel (docs/watch.md, "Throughput").
                all_transitions: args.all_events,
            },
            legacy_hooks: args.legacy_hooks,
            no_syscall_tracepoints: args.no_syscall_tracepoints,
            ring: None,
        })
        .map_err(|e| e.to_string())
    };
    let outcome = match tracer {
        Ok(mut t) => {
            // Listeners opened before the watch: their accepted connections are attributed.
            w.seed_listeners(&collect::collect(&listeners_only(select)));
            let mut seen = vec!["TCP state changes"];
            seen.extend(t.hooks.seen.iter().copied());
            eprintln!("sockwarden: watching {} through BPF", seen.join(", "));
            for note in &t.notes {
                eprintln!("sockwarden: note: {note}");
            }
            // --no-syscall-tracepoints: what no program traces is dumped every interval, in
            // the namespaces the programs see (every one, or --netns).
            let mut sweep = (!t.hooks.swept.is_empty()).then(|| {
                let scope = match &args.netns {
                    Some(spec) => Select::One(spec.clone()),
                    None => Select::All,
                };
                Sweep::start(&t.hooks.swept, scope, args.interval)
            });
            let misses = output::bpf_misses(&t.gaps, &t.hooks.swept, args.interval);
            let r = match &misses {
                Some(m) => {
                    eprintln!("sockwarden: warning: {}", crate::text::escape_str(m));
                    out.write_all(output::coverage(style, &hostname, m).as_bytes())
                }
                None => Ok(()),
            }
            .and_then(|()| run::events(&mut t, sweep.as_mut(), &mut w, &mut *out, &limits));
            (("bpf", misses), r)
        }
        Err(reason) => {
            let destroyed = match &chosen {
                None => Destroyed::open().map_err(|e| e.to_string()),
                Some((path, _)) => netns::run_in(path, Destroyed::open)
                    .map_err(|e| e.to_string())
                    .and_then(|d| d.map_err(|e| e.to_string())),
            };
            let status = destroyed.as_ref().map(|_| ()).map_err(Clone::clone);
            let misses = output::poll_misses(args.interval, &reason, status);
            // The first dump is the state later dumps are compared with: taken before the watch
            // says it runs, so nothing opened after that is mistaken for the starting state.
            let dump = run::dump_options(select);
            let first = collect::collect(&dump);
            eprintln!("sockwarden: warning: {}", crate::text::escape_str(&misses));
            let r = out
                .write_all(output::coverage(style, &hostname, &misses).as_bytes())
                .and_then(|()| {
                    run::dumps(
                        args.interval,
                        &dump,
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

/// The namespace file `--netns SPEC` names, and its inode (what the kernel's filter compares).
fn chosen_netns(spec: &str) -> Result<(PathBuf, u32)> {
    use std::os::unix::fs::MetadataExt;
    let path = netns::resolve(spec, Path::new("/proc"))?;
    let inode = std::fs::metadata(&path)
        .with_context(|| format!("--netns {spec}: {}", path.display()))?
        .ino();
    let inode = u32::try_from(inode)
        .with_context(|| format!("--netns {spec}: inode {inode} is not a namespace's"))?;
    Ok((path, inode))
}

/// The name of a namespace file under /run/netns (what `ip netns` calls it), as a scan
/// names it.
fn netns_name(path: &Path) -> Option<String> {
    let name = path.strip_prefix("/run/netns").ok()?;
    Some(name.to_str()?.to_owned()).filter(|n| !n.is_empty() && !n.contains('/'))
}

/// The listening TCP sockets of the watched namespace, with their holders.
fn listeners_only(netns: Select) -> CollectOptions {
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
        extensions: crate::collect::Want::now(crate::model::Extensions::NONE),
        crossview: false,
        procnet_view: false,
        netns,
        ..CollectOptions::full()
    }
}
