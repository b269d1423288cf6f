//! The sockwarden binary: parse arguments, run, map the result to an exit status.

use sockwarden::app::{self, ExitStatus};
use sockwarden::cli::Cli;

/// The static musl build allocates through mimalloc: with musl's own malloc it was markedly slower
/// than the glibc build (docs/PERFORMANCE.md). The glibc build keeps glibc's allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse_args(std::env::args_os());
    let status = match app::run(cli) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("sockwarden: error: {e:#}");
            ExitStatus::Error
        }
    };
    std::process::exit(status.code());
}
