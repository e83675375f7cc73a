//! The `tracing` subscriber: stderr, text or JSON, its level from `--quiet`/`-v` or `BPTMIG_LOG`;
//! coloured only when stderr is a terminal, so that files and schedulers' logs get plain text.

use std::io::IsTerminal as _;

use crate::cli::{LogFormat, RuntimeArgs};

pub fn init(runtime: &RuntimeArgs) {
    let level = if runtime.quiet {
        "error"
    } else {
        match runtime.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BPTMIG_LOG")
        // tiberius logs every server error it returns; bptmig reports those it does not
        // expect itself (the load probes what a server accepts), so its own log stays off
        // unless asked for with -vv.
        .unwrap_or_else(|_| {
            let tiberius = if runtime.verbose >= 2 { "debug" } else { "off" };
            tracing_subscriber::EnvFilter::new(format!("{level},tiberius={tiberius}"))
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests calling main twice) is harmless; ignore it.
    let _ = match runtime.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
