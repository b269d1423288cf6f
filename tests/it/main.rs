//! sockwarden's integration tests, in one test binary (one link, one place to look).
//!
//! - `decode`: the netlink decoders on recorded dumps (iproute2's ss1.dump, the 570-socket lab).
//! - `live`: real sockets in a private network namespace made by the test.
//! - `differential`: sockwarden against `ss` on the same live namespace.
//! - `ss_parity`: `list` against `ss` command by command (254 fixed, 1,000 random), and
//!   iproute2's ssfilter.t cases on ss1.dump.
//! - `cli`: exit codes and errors of the binary.
//! - `operations`: the systemd units, and their capability set against root's scan.
//! - `package`: the Debian package: its contents, lintian, install, upgrade, remove and purge.
//! - `static_build`: the static musl binary: no loader, the same live scan, no LD_PRELOAD.
//! - `container`: the FROM-scratch image under a private dockerd, scanning other containers.
//! - `engine_naive`: the rules engine against a naive evaluator (proptest).
//! - `drift_fixtures`: every drift category on snapshot fixtures, without root.
//! - `safety`: fail-closed scopes, safe writes, bounded and hostile inputs.
//! - `import`: evidence (`ss`, `netstat`, `lsof`, UAC) against the lab's ground truth and live
//!   captures.
//! - `churn`: snapshots, scans and listings while sockets and processes come and go.
//! - `rules_layering`: overrides, list append, --disable/--enable patterns, origins (issue 15).
//! - `html`: the HTML page of `scan` and `diff` in headless Chromium (DOM, escaping, no request).
//! - `watch`: `sockwarden watch` on kernel events and on the fallback, in namespaces.
//! - `schema`: the published JSON Schemas against Python's validator: fixtures, shipped files,
//!   doc examples and every command's output validate; broken documents fail (issue 20).
//! - `crossview`: sockets and processes hidden as rootkits hide them (a preloaded libc hook on
//!   /proc/net and sock_diag, a mount over /proc/PID), reported by the view that still sees them.
//! - `behaviour`: behaviour rules on real tradecraft (socat, pty.spawn, mkfifo, ssh tunnels, ...)
//!   against trusted peers, and a public web server whose clients raise nothing.
//!
//! Tests that need root and network namespaces fail (never skip) when CI=true.

mod baseline;
mod behaviour;
mod churn;
mod cli;
mod common;
mod config;
mod container;
mod crossview;
mod decode;
mod differential;
mod drift_fixtures;
mod ecs;
mod engine_naive;
mod history;
mod html;
mod import;
mod import_views;
mod live;
mod netns;
mod operations;
mod package;
mod reports;
mod rules_layering;
mod safety;
mod scan;
mod schema;
mod ss_parity;
mod static_build;
mod watch;
