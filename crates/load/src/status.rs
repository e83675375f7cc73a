//! What `bptmig status` asks of the load: how many of the run's chunks the ledger lists.

use bptmig_model::PipelineConfig;
use bptmig_workdir::WorkDir;

use crate::ledger;
use crate::Result;

/// Chunks of one table loaded and still to load, per the target's ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkStatus {
    pub table: String,
    pub chunks_done: u64,
    pub chunks_pending: u64,
    pub rows_done: u64,
    pub rows_pending: u64,
}

/// What the ledger lists of run `run_id`'s chunks, per table (for `bptmig status`). Reads
/// the transformed files and the target's ledger; writes nothing.
pub async fn chunk_status(config: &PipelineConfig, run_id: &str) -> Result<Vec<ChunkStatus>> {
    let wd = WorkDir::new(&config.workdir);
    let ledger::TargetRun { plan, done, .. } = ledger::open_target(&wd, config, run_id).await?;
    let mut out: Vec<ChunkStatus> = plan
        .tables
        .iter()
        .map(|t| ChunkStatus {
            table: t.name.clone(),
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
