//! The sockwarden binary: parse arguments, run, map the result to an exit status.

use clap::Parser;
use sockwarden::app::{self, ExitStatus};
use sockwarden::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let status = match app::run(cli) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("sockwarden: error: {e:#}");
            ExitStatus::Error
        }
    };
    std::process::exit(status.code());
}
