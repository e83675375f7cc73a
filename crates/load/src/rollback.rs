//! Rollback: remove a run's rows from the target, chunk by chunk in reverse load order, each
//! chunk's delete, its trees' rows and its ledger row in one transaction, so that a rollback
//! can itself be interrupted and run again. It holds the target's lock, as a load does.
//!
//! Under `ids.strategy = "generated"` (as `transform/ids.json` resolved it) the rows are found
//! by the IDs the pairs table says the target gave them, and each chunk's pairs go in the
//! transaction that deletes its rows; a run whose pairs cannot place every row of a loaded
//! chunk is refused before anything is deleted.

use std::collections::BTreeMap;

use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::id_strategy::{self, Resolved};
use bptmig_workdir::{RunState, WorkDir};

use crate::id_maps::captured::CapturedPairs;
use crate::ledger::lock::{LockAction, TargetLock};
use crate::ledger::{self, pairs, trees, Done, LedgerRow, LedgerTables};
use crate::plan::{range_predicate, Chunk, Fixup, LoadPlan, RANGES_PER_STATEMENT};
use crate::{target, ChunkError, Error, Result};

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
/// set back to NULL in the transaction that deletes the row it points at. The trees a chunk of
/// roots recorded are forgotten with it.
pub async fn rollback(config: &PipelineConfig, reporter: &dyn Reporter) -> Result<RollbackSummary> {
    let wd = WorkDir::new(&config.workdir);
    let _lock = wd.lock(ROLLBACK_STAGE)?;
    let mut run = bptmig_workdir::open_run(&wd, config)?;
    let generated = id_strategy::resolve(&wd, config.ids)? == Resolved::Generated;
    let mut plan = LoadPlan::build(&wd, config.load.chunk_rows)?;
    // Every chunk, whatever trees a load left out: deleting a range with no rows is harmless.
    plan.exclude_trees(&[]);
    let mut client = db::connect(Side::Target, &config.target).await?;
    plan.spell(&db::Names::read(&mut client, Side::Target).await?)?;
    let lock = TargetLock::acquire(
        &mut client,
        config,
        &run.run_id,
        wd.root(),
        LockAction::Rollback,
    )
    .await?;
    let result = remove_chunks(&mut client, config, reporter, &plan, &run, &lock, generated).await;
    lock.release(&config.target).await;
    let summary = result?;
    run.stages.remove(crate::STAGE);
    run.stages.remove(crate::VERIFY_STAGE);
    run.write(&wd)?;
    // The rows those maps name are gone from the target.
    crate::id_maps::remove(&wd)?;
    Ok(summary)
}

/// Deletes the chunks the ledger lists for `run`, in reverse plan order; under `generated`
/// by the pairs the load captured.
async fn remove_chunks(
    client: &mut SqlClient,
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    plan: &LoadPlan,
    run: &RunState,
    lock: &TargetLock,
    generated: bool,
) -> Result<RollbackSummary> {
    let tables = LedgerTables::of(&config.load);
    let mut done = ledger::read(client, &tables.chunks, &run.run_id).await?;
    let pairs = if generated {
        Some(captured(client, plan, &done, &tables.pairs, &run.run_id).await?)
    } else {
        None
    };
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
        let statements = match &pairs {
            Some(p) => generated_statements(plan, chunk, &tables, &run.run_id, &row, p),
            None => chunk_statements(plan, chunk, &tables, &run.run_id, &row),
        };
        if let Err(e) = delete_chunk(client, lock, &statements).await {
            target::roll_back(client).await;
            return Err(match e {
                Deleted::Refused(refused) => Error::ChunkFailed {
                    table: t.name.clone(),
                    chunk: key.1,
                    done: summary.chunks,
                    row: None,
                    reason: Box::new(ChunkError::Delete { refused }),
                },
                Deleted::LockLost => lock.lost(client).await,
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
    Ok(summary)
}

/// The pairs run `run_id` captured in `table`, refused unless they place every row of every
/// chunk the ledger still lists (`done`).
async fn captured(
    client: &mut SqlClient,
    plan: &LoadPlan,
    done: &Done,
    table: &str,
    run_id: &str,
) -> Result<CapturedPairs> {
    let read = pairs::read_pairs(client, table, run_id).await?;
    let (pairs, mut problems) = CapturedPairs::new(table, read);
    problems.extend(pairs.check_chunks(plan, done));
    if problems.is_empty() {
        Ok(pairs)
    } else {
        Err(Error::RollbackPairs {
            pairs: table.to_owned(),
            run_id: run_id.to_owned(),
            problems,
        })
    }
}

/// Why a chunk's delete failed.
enum Deleted {
    Refused(target::Refused),
    LockLost,
}

/// Runs `statements` in one transaction that first confirms the target's lock.
async fn delete_chunk(
    client: &mut SqlClient,
    lock: &TargetLock,
    statements: &[String],
) -> std::result::Result<(), Deleted> {
    let (beat, held) = lock.hold_statements();
    target::run_batch(
        client,
        &format!("SET XACT_ABORT ON; BEGIN TRANSACTION; {beat}"),
    )
    .await
    .map_err(Deleted::Refused)?;
    if target::scalar_batch(client, &held)
        .await
        .map_err(Deleted::Refused)?
        != 1
    {
        return Err(Deleted::LockLost);
    }
    for sql in statements {
        target::run_batch(client, sql)
            .await
            .map_err(Deleted::Refused)?;
    }
    target::run_batch(client, "COMMIT TRANSACTION;")
        .await
        .map_err(Deleted::Refused)
}

/// The statements removing `chunk` inside its transaction, each bounded whatever the rows:
/// forward fix-ups set back to NULL, the rows deleted by at most [`RANGES_PER_STATEMENT`]
/// ranges each, the trees it recorded forgotten, its ledger row deleted.
pub(crate) fn chunk_statements(
    plan: &LoadPlan,
    chunk: &Chunk,
    tables: &LedgerTables,
    run_id: &str,
    row: &LedgerRow,
) -> Vec<String> {
    let rows = Located {
        ranges: &chunk.ranges,
        fixup_row: &|f: &Fixup| Some(f.id),
    };
    let mut out = removal_statements(plan, chunk, tables, run_id, &rows);
    out.push(ledger::delete_sql(
        &tables.chunks,
        run_id,
        &plan.tables[chunk.table].name,
        &row.chunk,
    ));
    out
}

/// [`chunk_statements`] under `generated`: the rows, the fix-ups' rows and the trees' roots by
/// the IDs `pairs` gives them in the target, and the chunk's pairs deleted with its ledger
/// row.
fn generated_statements(
    plan: &LoadPlan,
    chunk: &Chunk,
    tables: &LedgerTables,
    run_id: &str,
    row: &LedgerRow,
    pairs: &CapturedPairs,
) -> Vec<String> {
    let ranges = pairs.chunk_ranges(plan, chunk);
    let fixup_row = |f: &Fixup| pairs.table(&f.table).and_then(|p| p.new_of(f.id));
    let rows = Located {
        ranges: &ranges,
        fixup_row: &fixup_row,
    };
    let mut out = removal_statements(plan, chunk, tables, run_id, &rows);
    let table = &plan.tables[chunk.table].name;
    if plan.tables[chunk.table].has_key() {
        out.push(pairs::delete_sql(&tables.pairs, run_id, table, &row.chunk));
    }
    out.push(ledger::delete_sql(
        &tables.chunks,
        run_id,
        table,
        &row.chunk,
    ));
    out
}

/// Where a chunk's rows are in the target: the ID ranges that select them, and the target ID
/// of a fix-up's row (`None`: not in the target).
struct Located<'a> {
    ranges: &'a [(i32, i32)],
    fixup_row: &'a dyn Fn(&Fixup) -> Option<i32>,
}

/// The statements removing `chunk`'s rows, found as `rows` says: forward fix-ups set back to
/// NULL, the rows deleted, the trees its roots recorded forgotten.
fn removal_statements(
    plan: &LoadPlan,
    chunk: &Chunk,
    tables: &LedgerTables,
    run_id: &str,
    rows: &Located<'_>,
) -> Vec<String> {
    let t = &plan.tables[chunk.table];
    // Whether a fix-up's row is one of this chunk's (source IDs, as the plan has them).
    let inside = |id: i32| {
        let i = chunk.ranges.partition_point(|&(lo, _)| lo <= id);
        i > 0 && chunk.ranges[i - 1].1 >= id
    };
    let mut out: Vec<String> = chunk
        .fixups
        .iter()
        .filter(|f| !inside(f.id))
        .filter_map(|f| {
            Some(format!(
                "UPDATE {} SET {} = NULL WHERE ID = {};",
                db::quote_ident(&f.spelled),
                db::quote_ident(&f.column),
                (rows.fixup_row)(f)?
            ))
        })
        .collect();
    out.extend(rows.ranges.chunks(RANGES_PER_STATEMENT).map(|group| {
        format!(
            "DELETE FROM {} WHERE {};",
            t.sql(),
            range_predicate(t.id_column(), group)
        )
    }));
    if t.name == c::PROCESS && chunk.level == Some(0) {
        out.extend(trees::forget_statements(&tables.trees, run_id, rows.ranges));
    }
    out
}

#[cfg(test)]
mod tests;
