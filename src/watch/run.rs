//! The two loops: kernel events through the tracer, or periodic dumps without it. Both end on
//! a signal (the `stop` flag), at `--duration` or after `--count` records, and leave the counts
//! in the watcher's summary.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::output::{self, Style};
use super::{Record, Watcher, event, poll};
use crate::collect::destroy::Destroyed;
use crate::collect::netns::Select;
use crate::collect::tracepoint::Tracer;
use crate::collect::{self, CollectOptions};
use crate::model::Snapshot;

/// When to stop, and how to write.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'s> {
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many records written (findings, and events with `--all-events`).
    pub count: Option<u64>,
    /// Set by SIGINT/SIGTERM.
    pub stop: &'s AtomicBool,
    /// JSON Lines or table.
    pub style: Style,
}

/// Writes records until a limit is reached; returns the number written.
struct Writer<'w> {
    out: &'w mut dyn Write,
    host: String,
    written: u64,
}

impl Writer<'_> {
    fn write(&mut self, style: Style, r: &Record) -> io::Result<()> {
        let text = output::render(style, &self.host, r);
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        self.written += match r {
            Record::Findings(rep) => rep.findings.len() as u64,
            Record::Event(_) => 1,
        };
        Ok(())
    }
}

fn done(l: &Limits, started: Instant, written: u64) -> bool {
    l.stop.load(Ordering::Relaxed)
        || l.duration.is_some_and(|d| started.elapsed() >= d)
        || l.count.is_some_and(|c| written >= c)
}

/// Reads kernel events until a limit, and takes the `sweep`'s dumps when they are due; the
/// summary's `lost` is read from the program's counter.
pub fn events(
    tracer: &mut Tracer,
    mut sweep: Option<&mut poll::Sweep>,
    w: &mut Watcher,
    out: &mut dyn Write,
    l: &Limits,
) -> io::Result<()> {
    let started = Instant::now();
    let mut wr = Writer {
        out,
        host: w.meta.hostname.clone(),
        written: 0,
    };
    let mut failed: Option<io::Error> = None;
    while !done(l, started, wr.written) && failed.is_none() {
        let mut records = Vec::new();
        let wait = Duration::from_millis(100);
        tracer.poll(
            sweep
                .as_ref()
                .map_or(wait, |s| s.wait().unwrap_or_default().min(wait)),
            &mut |raw| match event::decode_any(raw) {
                Some(event::Decoded::Tcp(ev)) => records.extend(w.on_event(&ev)),
                Some(event::Decoded::Sock(ev)) => records.extend(w.on_sock_event(&ev)),
                None => {}
            },
        );
        if let Some(s) = sweep.as_mut().filter(|s| s.wait().is_none()) {
            let (found, gaps) = s.run();
            for g in gaps {
                eprintln!(
                    "sockwarden: warning: the raw, packet and unix dump could not read {}",
                    crate::text::escape_str(&g)
                );
            }
            if let Some((snap, new)) = found {
                for si in new {
                    w.summary.events += 1;
                    records.extend(w.judge_dumped(&snap, si));
                }
            }
        }
        // Every record already read is written (the summary counted its event), even when the
        // duration ran out or a signal came meanwhile; only --count cuts a batch short.
        for r in &records {
            if l.count.is_some_and(|c| wr.written >= c) {
                break;
            }
            if let Err(e) = wr.write(l.style, r) {
                failed = Some(e);
                break;
            }
        }
    }
    w.summary.lost = tracer.lost() + tracer.recursion_misses().unwrap_or(0);
    w.summary.unread = tracer.unread();
    failed.map_or(Ok(()), Err)
}

/// Compares a dump of the current namespace's TCP and UDP sockets with the previous one every
/// `period`; each new socket is judged with the holders the dump found.
pub fn dumps(
    period: Duration,
    opts: &CollectOptions,
    first: &Snapshot,
    mut destroyed: Option<Destroyed>,
    w: &mut Watcher,
    out: &mut dyn Write,
    l: &Limits,
) -> io::Result<()> {
    let started = Instant::now();
    let mut wr = Writer {
        out,
        host: w.meta.hostname.clone(),
        written: 0,
    };
    let mut previous = poll::keys(first);
    // The connections of the last two dumps: a destroyed one that neither had lived between.
    let mut pairs = [poll::pairs(first), poll::pairs(first)];
    while !done(l, started, wr.written) {
        let next = Instant::now() + period;
        while Instant::now() < next && !done(l, started, wr.written) {
            std::thread::sleep(Duration::from_millis(20).min(period));
            if let Some(d) = destroyed.as_mut() {
                let (gone, missed) = d.drain();
                w.summary.lost += missed;
                for s in poll::ended_unseen(&pairs, gone) {
                    w.summary.events += 1;
                    w.summary.ended_unseen += 1;
                    for r in w.judge_ended(s) {
                        wr.write(l.style, &r)?;
                    }
                }
            }
        }
        if done(l, started, wr.written) {
            break;
        }
        let snap = collect::collect(opts);
        for si in poll::new_sockets(&previous, &snap) {
            w.summary.events += 1;
            for r in w.judge_dumped(&snap, si) {
                wr.write(l.style, &r)?;
            }
        }
        previous = poll::keys(&snap);
        pairs = [std::mem::take(&mut pairs[1]), poll::pairs(&snap)];
    }
    Ok(())
}

/// What each dump of the fallback reads: TCP and UDP of `netns`, with holders.
pub fn dump_options(netns: Select) -> CollectOptions {
    CollectOptions {
        tables: collect::Tables {
            tcp: true,
            udp: true,
            raw: false,
            unix: false,
            packet: false,
            netlink: false,
        },
        extensions: crate::collect::Want::now(crate::model::Extensions::NONE),
        crossview: false,
        procnet_view: false,
        netns,
        ..CollectOptions::full()
    }
}
