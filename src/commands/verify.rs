//! `bptmig verify`: compare what the target holds with the transformed files.

use super::Outcome;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let summary = settings
        .runtime
        .block_on(bptmig_load::verify(&settings.config, &settings.reporter))?;
    if !settings.quiet {
        println!(
            "verify {}: run {}",
            if summary.ok() { "passed" } else { "FAILED" },
            summary.run_id
        );
        println!(
            "{:<34} {:>10} {:>10} {:>6}",
            "table", "expected", "found", "same"
        );
        for t in &summary.tables {
            println!(
                "{:<34} {:>10} {:>10} {:>6}",
                t.table,
                t.expected_rows,
                t.found_rows,
                if t.ok { "yes" } else { "NO" }
            );
        }
        for p in &summary.problems {
            println!("problem: {p}");
        }
    }
    Ok(if summary.ok() {
        Outcome::Done
    } else {
        Outcome::Review
    })
}
