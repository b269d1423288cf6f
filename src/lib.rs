//! sockwarden: which sockets are open on this host, who holds them, and what changed.
//!
//! Data flows one way: [`collect`] dumps every socket through netlink sock_diag and attributes it
//! to processes (through the kernel's task-file BPF iterator, or one walk of /proc), producing a [`model::Snapshot`]; [`list`] selects and
//! prints sockets the way `ss` does; later stages (rules, baselines, reports) read the same
//! snapshot, live or from a file. Only `collect` touches the operating system, so everything
//! after it runs on fixtures in tests.
//!
//! Modules:
//! - [`model`]: the snapshot's plain data types and its JSON form.
//! - [`net`]: address classes, CIDR tables, ports and port ranges, shared by rules and baselines.
//! - [`collect`]: netlink dumps, decoders, the BPF iterator and the /proc walk, host facts.
//! - [`diag`]: located problems (`FILE:LINE:COL: message`) that every loader reports.
//! - [`list`]: `ss`-compatible selection (tables, states, port filters) and rendering.
//! - [`baseline`]: known-good baselines and drift.
//! - [`rules`]: the YAML rule language: schema, fields, operators, lists, examples.
//! - [`engine`]: evaluates rules over a snapshot in parallel; sorted findings.
//! - [`history`]: the local socket history (SQLite): recorded runs, `@TIME` reconstruction.
//! - [`source`]: where a snapshot comes from (live, a saved file, the history, evidence),
//!   resolved in one place.
//! - [`import`]: collected evidence (`ss`, `netstat`, `lsof`, `/proc/net/*`, UAC) read into a
//!   snapshot.
//! - [`report`]: the report document and its formats (table, JSON, JSON Lines, SARIF, JUnit,
//!   Prometheus).
//! - [`schema`]: the JSON Schemas of every document, generated from these types (docs/schema.md).
//! - [`cli`]: argument definitions, resolved into plain configuration.
//! - [`app`]: runs a command and returns its exit status.
//! - [`input`]: bounded reads of regular files (or stdin) for everything that comes from outside.
//! - [`output`]: atomic file writes that never follow a planted link; broken-pipe-safe stdout.
//! - [`text`]: escaping of attacker-controlled strings for terminals.
//! - [`watch`]: `sockwarden watch`: socket events as they happen (BPF on the TCP state-change
//!   tracepoint, or sock_diag dumps compared), judged by the same rules and baseline.
//!
//! `unsafe` is denied crate-wide; the exceptions say why they are needed and why they are
//! sound: the bpf(2) call in `collect::taskfiles`, the tracepoint attachment and ring buffer of
//! `collect::tracepoint`, and glibc's mallopt in `app`.

#![deny(unsafe_code)]

pub mod app;
pub mod baseline;
pub mod cli;
pub mod collect;
pub mod config;
pub mod diag;
pub mod engine;
pub mod history;
pub mod import;
pub mod input;
pub mod list;
pub mod model;
pub mod net;
pub mod output;
pub mod report;
pub mod rules;
pub mod schema;
pub mod source;
pub mod text;
pub mod watch;
