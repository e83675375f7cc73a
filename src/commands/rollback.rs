//! `bptmig rollback`: remove this run's rows from the target.

use super::Outcome;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let summary = settings
        .runtime
        .block_on(bptmig_load::rollback(&settings.config, &settings.reporter))?;
    if !settings.quiet {
        println!(
            "rollback done: run {}, {} chunk(s) removed",
            summary.run_id, summary.chunks
        );
        for (table, rows) in &summary.tables {
            println!("{table:<34} {rows:>10} rows removed");
        }
        if summary.unknown_chunks > 0 {
            println!(
                "warning: {} ledger row(s) of this run name chunks the transformed files do not have; they were left in place",
                summary.unknown_chunks
            );
        }
    }
    Ok(Outcome::Done)
}
