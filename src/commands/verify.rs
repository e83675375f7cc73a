//! `bptmig verify`: compare what the target holds with the transformed files (under
//! `ids.strategy = "generated"`, through the ID pairs the load captured).

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
        if let Some(pairs) = &summary.pairs {
            let counts: Vec<String> = pairs.iter().map(|(t, n)| format!("{t} {n}")).collect();
            println!(
                "ids generated: rows found by the pairs the load captured ({})",
                counts.join(", ")
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
