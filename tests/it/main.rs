//! End-to-end tests of the `bptmig` binary, in one test binary: the command line and pipeline
//! file handling, the snapshots of what a person reads, and every stage stopped and resumed.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

mod anonymize;
mod check;
mod cli;
mod common;
mod damaged_part;
mod extract_kill;
mod generated;
mod generated_verify;
mod identity;
mod load_interrupt;
mod lock_race;
mod maps;
mod probe;
mod references;
mod scheduler;
mod snapshots;
mod transform_cli;
