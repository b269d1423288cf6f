//! The sockwarden binary: parse arguments, run, map the result to an exit status.

use sockwarden::app::{self, ExitStatus};
use sockwarden::cli::Cli;

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
