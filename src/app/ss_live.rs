//! `list -K` and `list -E`: the two `ss` options that act on, or wait for, the live system
//! rather than print a snapshot. The kernel work is in `collect::destroy`; this file decides
//! which sockets, in which namespace, and when to stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cli::ListArgs;
use crate::collect::destroy::{Destroyed, Kill, Killer};
use crate::collect::netns;
use crate::list::{self, ListOptions, Selection};
use crate::model::{Meta, Protocol, SCHEMA_VERSION, Snapshot, Socket, State};
use crate::output;

/// The one namespace `-K`/`-E` act in: `--netns`'s, else the current one (`None`).
fn namespace(args: &ListArgs, flag: &str) -> Result<Option<PathBuf>> {
    if args.from.is_some() {
        bail!("{flag} acts on the live system: it cannot be used with --from");
    }
    if args.ns.all_netns {
        bail!("{flag} acts in one namespace: use --netns NS, not --all-netns");
    }
    let Some(spec) = &args.ns.netns else {
        return Ok(None);
    };
    let path = netns::resolve(spec, Path::new("/proc"))
        .map_err(|e| anyhow::anyhow!("--netns {spec}: {e}"))?;
    Ok(Some(path))
}

/// Runs `work` in the namespace (on a thread that entered it), or here.
fn within<T: Send>(ns: Option<&Path>, work: impl FnOnce() -> T + Send) -> Result<T> {
    match ns {
        Some(path) => netns::run_in(path, work).map_err(|e| anyhow::anyhow!("{e}")),
        None => Ok(work()),
    }
}

/// `-K`: asks the kernel to destroy each selected TCP and UDP socket (SOCK_DESTROY, as `ss -K`)
/// and returns those it destroyed, for printing. Sockets already gone are passed over, as `ss`
/// does; no CAP_NET_ADMIN, or a kernel that destroys none of them, is an error.
pub fn kill_selected<'a>(args: &ListArgs, selected: &[&'a Socket]) -> Result<Vec<&'a Socket>> {
    let ns = namespace(args, "-K")?;
    let (inet, other): (Vec<&'a Socket>, Vec<&'a Socket>) = selected
        .iter()
        .copied()
        .partition(|s| matches!(s.protocol, Protocol::Tcp | Protocol::Udp));
    if !other.is_empty() {
        eprintln!(
            "sockwarden: note: -K destroys TCP and UDP sockets only; {} other selected socket(s) \
             left alone and not listed",
            other.len()
        );
    }
    let outcome = within(ns.as_deref(), || -> std::io::Result<Vec<Kill>> {
        let mut killer = Killer::open()?;
        inet.iter().map(|s| killer.kill(s)).collect()
    })?;
    let kills = outcome.map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => anyhow::anyhow!(
            "SOCK_DESTROY refused ({e}): -K needs CAP_NET_ADMIN in the sockets' namespace"
        ),
        _ => anyhow::anyhow!("SOCK_DESTROY failed: {e}"),
    })?;
    let unsupported = kills
        .iter()
        .filter(|k| **k == Kill::Skipped { unsupported: true })
        .count();
    if !kills.is_empty() && unsupported == kills.len() {
        bail!(
            "this kernel cannot destroy these sockets: SOCK_DESTROY answered EOPNOTSUPP for all \
             {unsupported} (a kernel without CONFIG_INET_DIAG_DESTROY)"
        );
    }
    Ok(inet
        .into_iter()
        .zip(kills)
        .filter(|(_, k)| *k == Kill::Killed)
        .map(|(s, _)| s)
        .collect())
}

/// `-E`: prints TCP and UDP sockets of the selection as the kernel destroys them (its
/// SKNLGRP_*_DESTROY groups), until SIGINT or SIGTERM, `--count` events or `--duration`.
pub fn follow_events(args: &ListArgs, sel: &Selection, opts: &ListOptions) -> Result<()> {
    let ns = namespace(args, "-E")?;
    let mut protocols = Vec::new();
    if sel.tables.tcp {
        protocols.push(Protocol::Tcp);
    }
    if sel.tables.udp {
        protocols.push(Protocol::Udp);
    }
    if protocols.is_empty() {
        bail!("-E follows TCP and UDP sockets: the selection has neither table");
    }
    let subs: Vec<Destroyed> = within(ns.as_deref(), || {
        protocols
            .iter()
            .map(|p| Destroyed::open_for(*p))
            .collect::<std::io::Result<_>>()
    })?
    .map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => anyhow::anyhow!(
            "cannot join the sock_diag destroy groups ({e}): -E needs CAP_NET_ADMIN"
        ),
        _ => anyhow::anyhow!("cannot join the sock_diag destroy groups: {e}"),
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let snap = empty_snapshot();
    let mut row_opts = ListOptions {
        no_header: true,
        ..opts.clone()
    };
    if opts.extended || opts.show_cgroup {
        row_opts.cgroups = Some(Arc::new(list::filter::lookup::CgroupPaths::system()));
    }
    if !opts.no_header {
        // The header alone: it also tells a reader that the subscription is in place.
        output::write_stdout(list::render_table(&snap, &[], opts).as_bytes())?;
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut printed = 0u64;
    let mut subs = subs;
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        wait_readable(&subs);
        for sub in &mut subs {
            let (sockets, _missed) = sub.drain();
            for mut s in sockets {
                // The kernel reports a destroyed socket as CLOSE (ss: UNCONN).
                if s.state == State::BoundInactive {
                    s.state = State::Close;
                }
                if !sel.matches_event(&s) {
                    continue;
                }
                if opts.resolve {
                    // -r: this row's addresses, looked up as it comes.
                    let addrs = list::host_addresses(&[&s]);
                    let names = list::filter::lookup::HostNames::resolve(addrs);
                    row_opts.hosts = Some(Arc::new(names));
                }
                output::write_stdout(list::render_table(&snap, &[&s], &row_opts).as_bytes())?;
                printed += 1;
                if args.count.is_some_and(|n| printed >= n) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Waits up to 200 ms for a notification on any subscription (then the loop checks the stop
/// flag and the deadline again).
fn wait_readable(subs: &[Destroyed]) {
    let mut polls: Vec<nix::poll::PollFd<'_>> = subs
        .iter()
        .map(|s| nix::poll::PollFd::new(s.fd(), nix::poll::PollFlags::POLLIN))
        .collect();
    let _ = nix::poll::poll(&mut polls, nix::poll::PollTimeout::from(200u16));
}

/// A snapshot with no sockets and no processes, for printing event rows.
fn empty_snapshot() -> Snapshot {
    Snapshot {
        schema_version: SCHEMA_VERSION,
        meta: Meta::blank(""),
        sockets: Vec::new(),
        processes: Vec::new(),
        namespaces: Vec::new(),
        warnings: Vec::new(),
        gaps: Vec::new(),
    }
}
