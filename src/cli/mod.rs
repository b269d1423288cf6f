//! Command-line definitions (clap). Nothing below `app` sees clap: arguments are resolved here
//! into plain option structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::list::ListOptions;

#[derive(Debug, Parser)]
#[command(
    name = "sockwarden",
    version,
    about = "Which sockets are open, who holds them, and what changed.",
    long_about = "Which sockets are open, who holds them, and what changed.\n\n\
        Exit status: 0 ok, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record every socket and its owners as a JSON snapshot (docs/snapshot.md).
    Snapshot(SnapshotArgs),
    /// List sockets like `ss`, with owners, executables and users.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Indent the JSON for reading.
    #[arg(long)]
    pub pretty: bool,
    /// Skip the /proc walk: sockets only, no owners.
    #[arg(long)]
    pub no_processes: bool,
    /// Leave out tcp_info, congestion control and socket memory.
    #[arg(long)]
    pub no_extensions: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "FILTER words, as ss takes them:\n  \
        state NAME | exclude NAME   (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, \
        time-wait, closed, close-wait, last-ack, listening, closing, bound-inactive; groups: all, \
        connected, synchronized, bucket, big)\n  \
        sport|dport [= != < > <= >=] [:]PORT, src|dst ADDR[/PREFIX][:PORT], and, or, not, ( )\n\n\
        Examples:\n  sockwarden list -tuln\n  sockwarden list -tp state established dport = :4444\n  \
        sockwarden list -ntaup")]
pub struct ListArgs {
    /// TCP sockets.
    #[arg(short = 't', long)]
    pub tcp: bool,
    /// UDP sockets.
    #[arg(short = 'u', long)]
    pub udp: bool,
    /// Raw sockets.
    #[arg(short = 'w', long)]
    pub raw: bool,
    /// Unix sockets.
    #[arg(short = 'x', long)]
    pub unix: bool,
    /// Packet sockets.
    #[arg(short = '0', long)]
    pub packet: bool,
    /// Listening sockets only.
    #[arg(short = 'l', long)]
    pub listening: bool,
    /// All sockets, listening and not.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Numeric ports (service names are never resolved; accepted for ss compatibility).
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Owning processes (pid, fd), with exe and user.
    #[arg(short = 'p', long)]
    pub processes: bool,
    /// Extended details: uid, inode, cookie, mark, v6only, shutdown.
    #[arg(short = 'e', long)]
    pub extended: bool,
    /// TCP internals (tcp_info, congestion control).
    #[arg(short = 'i', long)]
    pub info: bool,
    /// Socket memory.
    #[arg(short = 'm', long)]
    pub memory: bool,
    /// Timers.
    #[arg(short = 'o', long)]
    pub options: bool,
    /// Packet sockets' BPF filters.
    #[arg(short = 'b', long)]
    pub bpf: bool,
    /// IPv4 only.
    #[arg(short = '4', long)]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6', long)]
    pub ipv6: bool,
    /// No header line.
    #[arg(short = 'H', long)]
    pub no_header: bool,
    /// Print the selected sockets (and their processes) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read a saved snapshot instead of the live system.
    #[arg(long, value_name = "SNAPSHOT")]
    pub from: Option<PathBuf>,
    /// state/exclude words and a filter expression.
    #[arg(
        value_name = "FILTER",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub filter: Vec<String>,
}

impl ListArgs {
    pub fn options(&self) -> ListOptions {
        ListOptions {
            tcp: self.tcp,
            udp: self.udp,
            raw: self.raw,
            unix: self.unix,
            packet: self.packet,
            listening: self.listening,
            all: self.all,
            numeric: self.numeric,
            processes: self.processes,
            extended: self.extended,
            info: self.info,
            memory: self.memory,
            options: self.options,
            bpf: self.bpf,
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            no_header: self.no_header,
            json: self.json,
            words: self.filter.clone(),
        }
    }
}
