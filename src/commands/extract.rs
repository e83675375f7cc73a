//! `bptmig extract`: stream the selected process history from the source to Parquet.

use super::{unless_interrupted, Outcome};
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let config = &settings.config;
    let options = bptmig_extract::ExtractOptions {
        part_delay: settings.part_delay,
        cancel: settings.cancel.clone(),
    };
    let result = settings.runtime.block_on(bptmig_extract::extract(
        config,
        &settings.reporter,
        &options,
    ));
    let Some(summary) = unless_interrupted(result)? else {
        return Ok(Outcome::Interrupted);
    };
    if !settings.quiet {
        if summary.already_done {
            println!(
                "extract already complete in `{}` (run {}); nothing to do",
                config.workdir.display(),
                summary.run_id
            );
        } else {
            println!(
                "extract done: run {}, {} top-level processes selected",
                summary.run_id, summary.roots
            );
        }
        println!("{:<34} {:>10} {:>6}", "table", "rows", "parts");
        for t in &summary.tables {
            println!("{:<34} {:>10} {:>6}", t.table, t.rows, t.parts);
        }
    }
    Ok(Outcome::Done)
}
