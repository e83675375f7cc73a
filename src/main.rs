//! `bptmig`: migrate OutSystems 11 BPT process history between platform databases.
//!
//! This binary only parses arguments ([`cli`]), turns them into validated [`settings`], runs
//! the command ([`commands`], on the stage libraries) and maps its outcome to an exit code
//! (README, "Exit codes"): 0 success, 1 finished with data problems to review, 2 error,
//! 130 interrupted.

use std::process::ExitCode;

use clap::Parser as _;

mod cli;
mod commands;
mod logging;
mod progress;
mod settings;

/// The exit code of a command that failed (README, "Exit codes").
const ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(&cli.runtime);
    match settings::Settings::new(&cli).and_then(|s| commands::run(&cli.command, &s)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line; secrets never reach errors
            // (connection strings are masked where they are formatted).
            eprintln!("error: {e:#}");
            ExitCode::from(ERROR)
        }
    }
}
