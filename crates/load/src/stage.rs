//! The load stage, step by step: open the run, plan and open the target, check it, load every
//! chunk of the plan in its own transaction with its ledger row, finish the tables.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bptmig_db::SqlClient;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::{layout, Cancel, StageState, WorkDir};
use tracing::Instrument as _;

use crate::ledger::{self, Done, LedgerRow};
use crate::plan::{self, Chunk, LoadPlan, PartCache, TableInput};
use crate::value::BoundBatch;
use crate::writer::bulk::BulkWriter;
use crate::writer::insert::InsertWriter;
use crate::writer::transaction::ChunkTransaction;
use crate::writer::{ChunkRows, ChunkWriter, Strategy};
use crate::{preflight, target, Error, Result};

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
    let mut stage = ledger::open_stage(&wd, config, STAGE)
        .instrument(tracing::info_span!("plan"))
        .await?;
    let target = &mut stage.target;
    ledger::ensure(&mut target.client, &config.load.ledger_table).await?;
    let strategy = preflight::check(&mut target.client, config, &target.plan, &target.done)
        .instrument(tracing::info_span!("preflight"))
        .await?;

    let run = &mut stage.run;
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;
    let mut loader = Loader {
        config,
        reporter,
        options,
        plan: &target.plan,
        done: &target.done,
        client: &mut target.client,
        run_id: &run.run_id,
    };
    let summary = match strategy {
        Strategy::Insert => {
            let mut writer = InsertWriter::new(config.load.batch_rows);
            loader.run(strategy, &mut writer).await?
        }
        Strategy::Bulk => loader.run(strategy, &mut BulkWriter).await?,
    };
    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(summary)
}

/// One invocation's load of the plan's chunks.
struct Loader<'a> {
    config: &'a PipelineConfig,
    reporter: &'a dyn Reporter,
    options: &'a LoadOptions,
    plan: &'a LoadPlan,
    /// What the ledger listed when the load started.
    done: &'a Done,
    client: &'a mut SqlClient,
    run_id: &'a str,
}

impl Loader<'_> {
    async fn run<W: ChunkWriter>(
        &mut self,
        strategy: Strategy,
        writer: &mut W,
    ) -> Result<LoadSummary> {
        let mut summary = self.start(strategy);
        self.load_chunks(writer, &mut summary)
            .instrument(tracing::info_span!("chunks", strategy = strategy.as_str()))
            .await?;
        self.finish_tables(writer, &mut summary)
            .instrument(tracing::info_span!("finish"))
            .await?;
        Ok(summary)
    }

    /// The summary before the first chunk; every table reported started.
    fn start(&self, strategy: Strategy) -> LoadSummary {
        let tables = self
            .plan
            .tables
            .iter()
            .map(|t| {
                self.reporter.table_started(STAGE, &t.name, Some(t.rows()));
                TableLoad {
                    table: t.name.clone(),
                    rows: t.rows(),
                    ..TableLoad::default()
                }
            })
            .collect();
        LoadSummary {
            run_id: self.run_id.to_owned(),
            strategy: strategy.as_str(),
            tables,
            chunks: self.plan.chunks.len(),
            fixups: self.plan.fixups,
            ..LoadSummary::default()
        }
    }

    /// Every chunk in plan order: skipped when the ledger lists it with the same rows, else
    /// written in its transaction. Stops at a chunk boundary when cancelled.
    async fn load_chunks<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        summary: &mut LoadSummary,
    ) -> Result<()> {
        let cancel = Cancel::from(self.options.cancel.clone());
        let mut parts = PartCache::default();
        let mut transaction = ChunkTransaction {
            client: self.client,
            ledger: &self.config.load.ledger_table,
            run_id: self.run_id,
            delay: self.options.chunk_delay,
        };
        for chunk in &self.plan.chunks {
            if cancel.is_set() {
                return Err(Error::Interrupted {
                    run_id: self.run_id.to_owned(),
                });
            }
            let t = &self.plan.tables[chunk.table];
            let batch = plan::chunk_batch(parts.get(t, chunk.part)?, chunk)?;
            let bound =
                BoundBatch::new(&batch, &t.column_names()).map_err(|e| Error::value(&t.name, e))?;
            let row = ledger_row(t, chunk, &bound)?;
            let rows = chunk.len() as u64;
            let stats = &mut summary.tables[chunk.table];
            if let Some(had) = self.done.get(&(row.table.clone(), row.chunk.clone())) {
                ledger::check_recorded(had, &row, &bound, self.run_id)?;
                stats.skipped += rows;
                summary.chunks_skipped += 1;
                self.reporter.rows(&t.name, rows);
                continue;
            }
            let started = Instant::now();
            let chunk_rows = ChunkRows {
                table: t,
                chunk,
                batch: &batch,
                bound: &bound,
            };
            transaction
                .apply(writer, &chunk_rows, &row, summary.chunks_loaded)
                .await?;
            stats.seconds += started.elapsed().as_secs_f64();
            stats.loaded += rows;
            summary.chunks_loaded += 1;
            self.reporter.rows(&t.name, rows);
            if let Some(p) = self.options.chunk_pause {
                tokio::time::sleep(p).await;
            }
        }
        Ok(())
    }

    /// Every table reported finished, its writer's last word, its identity moved above the
    /// run's block (a warning where the server refuses).
    async fn finish_tables<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        summary: &mut LoadSummary,
    ) -> Result<()> {
        let mut unseeded = Vec::new();
        for (ti, t) in self.plan.tables.iter().enumerate() {
            self.reporter.table_finished(&t.name, t.rows());
            writer.finish_table(self.client, t).await?;
            unseeded.extend(target::reseed(self.client, self.plan, ti).await?);
        }
        summary.warnings.extend(target::unseeded_warning(&unseeded));
        Ok(())
    }
}

/// The ledger row of `chunk`: its rows and the digest of their values.
fn ledger_row(t: &TableInput, chunk: &Chunk, bound: &BoundBatch) -> Result<LedgerRow> {
    Ok(LedgerRow {
        table: t.name.clone(),
        chunk: chunk.name(),
        rows: chunk.len() as i64,
        digest: ledger::chunk_digest(bound).map_err(|e| Error::value(&t.name, e))?,
    })
}
