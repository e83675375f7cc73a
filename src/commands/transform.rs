//! `bptmig transform`: rewrite every foreign key for the target, on a rayon pool.

use super::{unless_interrupted, Outcome};
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let config = &settings.config;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.unwrap_or(0))
        .build()?;
    let options = bptmig_transform::TransformOptions {
        cancel: settings.cancel.clone(),
        part_delay: settings.part_delay,
    };
    let result =
        pool.install(|| bptmig_transform::transform_with(config, &settings.reporter, &options));
    let Some(summary) = unless_interrupted(result)? else {
        return Ok(Outcome::Interrupted);
    };
    let report = &summary.report;
    if !settings.quiet {
        if summary.already_done {
            println!(
                "transform already complete in `{}`; nothing to do",
                config.workdir.display()
            );
        } else {
            println!("transform done: run {}", report.run_id);
        }
        println!("{:<34} {:>10} {:>10}", "table", "rows in", "rows out");
        // In load order, like the other stages' summaries.
        let mut tables: Vec<_> = report.tables.iter().collect();
        tables.sort_by_key(|(name, _)| {
            let rank = bptmig_model::catalog::INSTANCE_TABLES
                .iter()
                .position(|t| t.name == name.as_str())
                .unwrap_or(usize::MAX);
            (rank, name.as_str())
        });
        for (table, t) in tables {
            println!("{table:<34} {:>10} {:>10}", t.rows_in, t.rows_out);
        }
        println!(
            "{} tree(s) skipped, {} user/group reference(s) set to NULL, {} deferred fix-up(s)",
            report.skipped_trees.len(),
            report
                .tables
                .values()
                .map(|t| t.principals_nulled)
                .sum::<u64>(),
            report.deferred
        );
        if report.problems > 0 {
            println!(
                "{} finding(s) to review in `{}`",
                report.problems,
                config.workdir.join("report.json").display()
            );
        }
    }
    Ok(if report.problems > 0 {
        Outcome::Review
    } else {
        Outcome::Done
    })
}
