//! Rollback: remove a run's rows from the target, chunk by chunk in reverse load order, each
//! chunk's delete and its ledger row in one transaction, so that a rollback can itself be
//! interrupted and run again.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bptmig_db as db;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::WorkDir;

use crate::plan::range_predicate;
use crate::{ledger, target, ChunkError, Error, Result};

/// Stage name for the work-directory lock.
const ROLLBACK_STAGE: &str = "rollback";

/// What a rollback removed.
#[derive(Debug, Clone, Default)]
pub struct RollbackSummary {
    pub run_id: String,
    pub chunks: usize,
    /// Rows removed per table.
    pub tables: BTreeMap<String, u64>,
    /// Ledger rows of this run that the plan does not know (left in place).
    pub unknown_chunks: usize,
}

/// Removes every row this work directory's run loaded into the target.
///
/// Order: `OSEVT_*` rows and outputs first, then tree levels from the deepest up (activities
/// before their processes), descending IDs inside a table: no row is deleted while a moved row
/// still references it. A fix-up that points forward (a precedent loaded after the row) is
/// set back to NULL in the transaction that deletes the row it points at.
pub async fn rollback(config: &PipelineConfig, reporter: &dyn Reporter) -> Result<RollbackSummary> {
    let wd = WorkDir::new(&config.workdir);
    let _lock = wd.lock(ROLLBACK_STAGE)?;
    let mut run = bptmig_workdir::open_run(&wd, config)?;
    let ledger::TargetRun {
        plan,
        mut client,
        mut done,
    } = ledger::open_target(&wd, config, &run.run_id).await?;
    let ledger_name = &config.load.ledger_table;
    let mut summary = RollbackSummary {
        run_id: run.run_id.clone(),
        ..RollbackSummary::default()
    };
    for t in &plan.tables {
        reporter.table_started(ROLLBACK_STAGE, &t.name, None);
    }
    for chunk in plan.chunks.iter().rev() {
        let t = &plan.tables[chunk.table];
        let key = (t.name.clone(), chunk.name());
        let Some(row) = done.remove(&key) else {
            continue;
        };
        let inside = |id: i32| chunk.ranges.iter().any(|&(a, b)| (a..=b).contains(&id));
        let mut sql = String::from("SET XACT_ABORT ON; BEGIN TRANSACTION;");
        for f in chunk.fixups.iter().filter(|f| !inside(f.id)) {
            let _ = write!(
                sql,
                " UPDATE {} SET {} = NULL WHERE ID = {};",
                db::quote_ident(&f.table),
                db::quote_ident(&f.column),
                f.id
            );
        }
        for group in chunk.ranges.chunks(200) {
            let _ = write!(
                sql,
                " DELETE FROM {} WHERE {};",
                db::quote_ident(&t.name),
                range_predicate(t.id_column(), group)
            );
        }
        sql.push(' ');
        sql.push_str(&ledger::delete_sql(
            ledger_name,
            &run.run_id,
            &t.name,
            &key.1,
        ));
        sql.push_str(" COMMIT TRANSACTION;");
        if let Err(refused) = target::run_batch(&mut client, &sql).await {
            target::roll_back(&mut client).await;
            return Err(Error::ChunkFailed {
                table: t.name.clone(),
                chunk: key.1,
                done: summary.chunks,
                row: None,
                reason: Box::new(ChunkError::Delete { refused }),
            });
        }
        let rows = u64::try_from(row.rows).unwrap_or(0);
        *summary.tables.entry(t.name.clone()).or_default() += rows;
        summary.chunks += 1;
        reporter.rows(&t.name, rows);
    }
    for t in &plan.tables {
        reporter.table_finished(&t.name, summary.tables.get(&t.name).copied().unwrap_or(0));
    }
    summary.unknown_chunks = done.len();
    run.stages.remove(crate::STAGE);
    run.stages.remove(crate::VERIFY_STAGE);
    run.write(&wd)?;
    Ok(summary)
}
