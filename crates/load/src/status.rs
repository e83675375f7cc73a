//! What `bptmig status` asks of the load: how many of the run's chunks the ledger lists, and
//! under `ids.strategy = "generated"` how many ID pairs the load has captured.

use std::collections::BTreeMap;

use bptmig_db::{self as db, quote_text, Side, SqlClient};
use bptmig_model::PipelineConfig;
use bptmig_workdir::id_strategy::{self, Resolved};
use bptmig_workdir::WorkDir;

use crate::ledger::{self, LedgerTables};
use crate::Result;

/// Chunks of one table loaded and still to load, per the target's ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkStatus {
    pub table: String,
    pub chunks_done: u64,
    pub chunks_pending: u64,
    pub rows_done: u64,
    pub rows_pending: u64,
    /// Under `ids.strategy = "generated"`, the old → new pairs of the table's rows the load
    /// has captured so far (0 for a table without IDs of its own); `None` otherwise.
    pub pairs: Option<u64>,
}

/// What the ledger lists of run `run_id`'s chunks, per table (for `bptmig status`). Reads
/// the transformed files and the target's ledger (and pairs table); writes nothing.
pub async fn chunk_status(config: &PipelineConfig, run_id: &str) -> Result<Vec<ChunkStatus>> {
    let wd = WorkDir::new(&config.workdir);
    let generated = id_strategy::resolve(&wd, config.ids)? == Resolved::Generated;
    let ledger::TargetRun {
        plan,
        done,
        mut client,
        ..
    } = ledger::open_target(&wd, config, run_id).await?;
    let pairs = if generated {
        let table = LedgerTables::of(&config.load).pairs;
        Some(count_pairs(&mut client, &table, run_id).await?)
    } else {
        None
    };
    let mut out: Vec<ChunkStatus> = plan
        .tables
        .iter()
        .map(|t| ChunkStatus {
            table: t.name.clone(),
            pairs: pairs.as_ref().map(|p| p.get(&t.name).copied().unwrap_or(0)),
            ..ChunkStatus::default()
        })
        .collect();
    for chunk in &plan.chunks {
        let s = &mut out[chunk.table];
        let rows = chunk.len() as u64;
        if done.contains_key(&(s.table.clone(), chunk.name())) {
            s.chunks_done += 1;
            s.rows_done += rows;
        } else {
            s.chunks_pending += 1;
            s.rows_pending += rows;
        }
    }
    Ok(out)
}

/// The pairs run `run_id` captured in the pairs table `table`, per model table name; none
/// before the table exists.
async fn count_pairs(
    client: &mut SqlClient,
    table: &str,
    run_id: &str,
) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    if !ledger::exists(client, table).await? {
        return Ok(out);
    }
    let sql = count_sql(table, run_id);
    for row in db::query_rows(client, Side::Target, &sql, &[]).await? {
        if let (Some(name), Some(n)) = (db::text_cell(&row, 0), db::int_cell(&row, 1)) {
            out.insert(name, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(out)
}

/// The statement counting a run's pairs per table.
fn count_sql(table: &str, run_id: &str) -> String {
    format!(
        "SELECT TABLE_NAME, COUNT(*) FROM {} WHERE RUN_ID = {} GROUP BY TABLE_NAME",
        db::quote_ident(table),
        quote_text(run_id)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn pairs_are_counted_per_table_of_one_run() {
        assert_eq!(
            super::count_sql("X_PAIRS", "r'1"),
            "SELECT TABLE_NAME, COUNT(*) FROM [X_PAIRS] WHERE RUN_ID = N'r''1' GROUP BY TABLE_NAME"
        );
    }
}
