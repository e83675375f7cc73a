//! The load stage, step by step: open the run, plan and open the target, take its lock, look
//! up the trees it already holds, check it, load every chunk of the plan in its own
//! transaction with its ledger row ([`chunks`]), finish the tables, write the ID maps of
//! what it wrote ([`id_maps`]), let the lock go.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use bptmig_model::pipeline::AlreadyMoved;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::{id_strategy, layout, StageState, WorkDir};
use tracing::Instrument as _;

use crate::already_moved::AlreadyMovedTrees;
use crate::ledger::lock::{LockAction, TargetLock};
use crate::ledger::LedgerTables;
use crate::ledger::{self, OpenStage};
use crate::writer::bulk::BulkWriter;
use crate::writer::generated::GeneratedWriter;
use crate::writer::insert::InsertWriter;
use crate::writer::{ChunkWriter as _, Strategy};
use crate::{id_maps, preflight, report, Error, Result};

mod chunks;

use chunks::Loader;

/// Stage name in `run.json`.
pub const STAGE: &str = layout::LOAD;

/// Runtime knobs of a load (not part of the pipeline).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Wait this long inside each chunk's transaction before committing (tests of kills).
    pub chunk_delay: Option<Duration>,
    /// Wait this long after each committed chunk, outside any transaction (tests that change
    /// the target between chunks).
    pub chunk_pause: Option<Duration>,
    /// Set to stop at the next chunk boundary ([`Error::Interrupted`]).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Rows of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableLoad {
    pub table: String,
    /// Rows in the transformed Parquet.
    pub rows: u64,
    /// Rows written by this invocation.
    pub loaded: u64,
    /// Rows of chunks the ledger already listed.
    pub skipped: u64,
    /// Seconds spent writing this table's chunks.
    pub seconds: f64,
}

impl TableLoad {
    /// Rows written per second by this invocation.
    pub fn rows_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.loaded as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct LoadSummary {
    pub run_id: String,
    /// `insert` or `bulk`.
    pub strategy: &'static str,
    pub tables: Vec<TableLoad>,
    pub chunks: usize,
    pub chunks_loaded: usize,
    pub chunks_skipped: usize,
    pub fixups: usize,
    /// The trees left out because the target already holds them from an earlier run
    /// (`selection.already_moved = "skip"`).
    pub already_moved: AlreadyMovedTrees,
    /// The ID maps it left in `load/maps/` (the rows it wrote): table and pairs.
    pub maps: Vec<(String, u64)>,
    /// Things a person should know that did not stop the load.
    pub warnings: Vec<String>,
}

/// Runs the load stage for `config`.
pub async fn load(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let wd = WorkDir::new(&config.workdir);
    let mut stage = ledger::open_stage(&wd, config, STAGE, Some(LockAction::Load))
        .instrument(tracing::info_span!("plan"))
        .await?;
    let lock = stage.target_lock.take();
    let result = load_locked(&wd, config, reporter, options, &mut stage, lock.as_ref()).await;
    if let Some(lock) = lock {
        lock.release(&config.target).await;
    }
    result
}

/// The load once the target's lock is held.
async fn load_locked(
    wd: &WorkDir,
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &LoadOptions,
    stage: &mut OpenStage,
    lock: Option<&TargetLock>,
) -> Result<LoadSummary> {
    let target = &mut stage.target;
    let already_moved = &target.already_moved;
    if config.selection.already_moved == AlreadyMoved::Fail && !already_moved.is_empty() {
        return Err(Error::AlreadyMoved {
            trees: Box::new(already_moved.clone()),
        });
    }
    let tables = LedgerTables::of(&config.load);
    let generated = generated(wd, config)?;
    ledger::ensure_tables(&mut target.client, &tables, generated).await?;
    let strategy = preflight::check(
        &mut target.client,
        config,
        &target.plan,
        &target.done,
        generated,
    )
    .instrument(tracing::info_span!("preflight"))
    .await?;
    if let Some(lock) = lock {
        lock.confirm(&mut target.client).await?;
    }
    report::write_already_moved(wd, config.selection.already_moved, already_moved)?;

    let run = &mut stage.run;
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(wd)?;
    let (mut summary, maps) = match strategy {
        Strategy::Insert => {
            let mut writer = InsertWriter::new(config.load.batch_rows);
            let mut loader = Loader::new(config, reporter, options, target, &run.run_id, lock);
            (loader.run(strategy, &mut writer).await?, None)
        }
        Strategy::Bulk => {
            let mut loader = Loader::new(config, reporter, options, target, &run.run_id, lock);
            (loader.run(strategy, &mut BulkWriter).await?, None)
        }
        Strategy::Generated => {
            let mut writer = GeneratedWriter::new(wd, &target.plan, config.load.batch_rows)?;
            writer
                .recover(&mut target.client, &tables.pairs, &run.run_id)
                .await?;
            check_captured(&writer, target, &tables.pairs, &run.run_id)?;
            let mut loader = Loader::new(config, reporter, options, target, &run.run_id, lock);
            let summary = loader.run(strategy, &mut writer).await?;
            let maps = writer.maps(wd, &target.plan, &tables.pairs, &run.run_id)?;
            (summary, Some(maps))
        }
    };
    summary.already_moved = target.already_moved.clone();
    // The maps of what this load wrote, the last output before the stage is marked done.
    let maps = match maps {
        Some(maps) => maps,
        None => id_maps::planned(wd, &target.plan)?,
    };
    id_maps::write(wd, &run.run_id, &maps, config.extract.row_group_rows)?;
    summary.maps = maps
        .iter()
        .map(|m| (m.table.clone(), m.pairs().len() as u64))
        .collect();
    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(wd)?;
    Ok(summary)
}

/// Whether the target generates the IDs: the strategy the transform applied
/// (`transform/ids.json`, else the pipeline's).
pub(crate) fn generated(wd: &WorkDir, config: &PipelineConfig) -> Result<bool> {
    Ok(id_strategy::resolve(wd, config.ids)? == id_strategy::Resolved::Generated)
}

/// Refuses to resume when the target's pairs table and its ledger disagree about a table:
/// every row of a chunk the ledger lists has its pair (the same transaction wrote both).
fn check_captured(
    writer: &GeneratedWriter,
    target: &ledger::TargetRun,
    pairs: &str,
    run_id: &str,
) -> Result<()> {
    for t in target.plan.tables.iter().filter(|t| t.has_key()) {
        let rows: i64 = target
            .done
            .values()
            .filter(|r| r.table == t.name)
            .map(|r| r.rows)
            .sum();
        let found = writer.captured_rows(&t.name) as u64;
        if found != rows as u64 {
            return Err(Error::PairsIncomplete {
                pairs: pairs.to_owned(),
                run_id: run_id.to_owned(),
                table: t.name.clone(),
                found,
                rows: rows as u64,
            });
        }
    }
    Ok(())
}
