//! `bptmig load`: insert the transformed rows into the target, exactly once.

use super::{unless_interrupted, Outcome};
use crate::progress;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let options = bptmig_load::LoadOptions {
        chunk_delay: settings.chunk_delay,
        chunk_pause: None,
        cancel: settings.cancel.clone(),
    };
    let result = settings.runtime.block_on(bptmig_load::load(
        &settings.config,
        &settings.reporter,
        &options,
    ));
    let Some(summary) = unless_interrupted(result)? else {
        return Ok(Outcome::Interrupted);
    };
    if !settings.quiet {
        println!(
            "load done: run {}, strategy {}, {} chunk(s) loaded, {} already in the ledger, {} deferred reference(s) applied",
            summary.run_id, summary.strategy, summary.chunks_loaded, summary.chunks_skipped, summary.fixups
        );
        println!(
            "{:<34} {:>10} {:>10} {:>10} {:>10}",
            "table", "rows", "loaded", "skipped", "rows/s"
        );
        for t in &summary.tables {
            println!(
                "{:<34} {:>10} {:>10} {:>10} {:>10}",
                t.table,
                t.rows,
                t.loaded,
                t.skipped,
                indicatif::HumanCount(progress::whole(t.rows_per_sec()))
            );
        }
        for w in &summary.warnings {
            println!("warning: {w}");
        }
    }
    Ok(Outcome::Done)
}
