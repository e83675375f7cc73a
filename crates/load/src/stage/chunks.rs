//! The chunks of one load invocation: each skipped when the ledger lists it with the same
//! rows, else written in its transaction, and tried again on a new connection after a
//! transient fault ([`Retry`]). A retry never doubles anything: a chunk is one transaction
//! with its ledger row, and before trying again the ledger is asked whether the chunk
//! committed just before the connection was lost.

use std::time::Instant;

use arrow::array::RecordBatch;
use bptmig_db::{self as db, Retry, Side, SqlClient, Transient as _};
use bptmig_model::catalog as c;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::Cancel;
use tracing::Instrument as _;

use super::{LoadOptions, LoadSummary, TableLoad, STAGE};
use crate::already_moved::source_fingerprint;
use crate::ledger::lock::TargetLock;
use crate::ledger::trees::TreeRecord;
use crate::ledger::{self, Done, LedgerRow, LedgerTables, TargetRun};
use crate::plan::{self, Chunk, LoadPlan, PartCache, TableInput};
use crate::target::{self, int_value};
use crate::value::BoundBatch;
use crate::writer::transaction::{ChunkExtras, ChunkTransaction};
use crate::writer::{ChunkRows, ChunkWriter, Strategy};
use crate::{Error, Result};

/// One invocation's load of the plan's chunks.
pub(super) struct Loader<'a> {
    config: &'a PipelineConfig,
    reporter: &'a dyn Reporter,
    options: &'a LoadOptions,
    plan: &'a LoadPlan,
    /// What the ledger listed when the load started.
    done: &'a Done,
    client: &'a mut SqlClient,
    run_id: &'a str,
    lock: Option<&'a TargetLock>,
    tables: LedgerTables,
    source_fingerprint: String,
    retry: Retry,
}

impl<'a> Loader<'a> {
    pub(super) fn new(
        config: &'a PipelineConfig,
        reporter: &'a dyn Reporter,
        options: &'a LoadOptions,
        target: &'a mut TargetRun,
        run_id: &'a str,
        lock: Option<&'a TargetLock>,
    ) -> Self {
        Self {
            config,
            reporter,
            options,
            plan: &target.plan,
            done: &target.done,
            client: &mut target.client,
            run_id,
            lock,
            tables: LedgerTables::of(&config.load),
            source_fingerprint: source_fingerprint(config),
            retry: Retry::for_endpoint(&config.target),
        }
    }

    pub(super) async fn run<W: ChunkWriter>(
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
            if let Some(had) = self.done.get(&(row.table.clone(), row.chunk.clone())) {
                ledger::check_recorded(had, &row, &bound, self.run_id)?;
                summary.tables[chunk.table].skipped += rows;
                summary.chunks_skipped += 1;
                self.reporter.rows(&t.name, rows);
                continue;
            }
            let trees = tree_records(self.plan, t, chunk, &batch)?;
            let started = Instant::now();
            let chunk_rows = ChunkRows {
                table: t,
                chunk,
                batch: &batch,
                bound: &bound,
            };
            let extras = ChunkExtras {
                ledger_row: &row,
                trees: &trees,
            };
            self.apply(writer, &chunk_rows, &extras, summary.chunks_loaded)
                .await?;
            let stats = &mut summary.tables[chunk.table];
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

    /// Writes one chunk, trying again on a new connection after each transient fault while
    /// `target.retries` lasts; a chunk the ledger lists after a lost connection committed
    /// before the loss and is done.
    async fn apply<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        extras: &ChunkExtras<'_>,
        done: usize,
    ) -> Result<()> {
        let what = format!(
            "chunk `{}` of `{}`",
            extras.ledger_row.chunk, rows.table.name
        );
        let mut attempt = 0;
        loop {
            let result = self.try_chunk(attempt, writer, rows, extras, done).await;
            let error = match result {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let Some(wait) = retry_after(&self.retry, attempt, &error, &what) else {
                return self.spent(error, &extras.ledger_row.chunk, &rows.table.name, done);
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Try `attempt` (0 the first) at one chunk; a retry reconnects first and asks the ledger
    /// whether the chunk committed before the connection was lost.
    async fn try_chunk<W: ChunkWriter>(
        &mut self,
        attempt: u32,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        extras: &ChunkExtras<'_>,
        done: usize,
    ) -> Result<()> {
        let row = extras.ledger_row;
        if attempt > 0 {
            *self.client = db::connect(Side::Target, &self.config.target).await?;
            let listed = ledger::read_chunk(
                self.client,
                &self.tables.chunks,
                self.run_id,
                &row.table,
                &row.chunk,
            )
            .await?;
            if let Some(had) = listed {
                tracing::info!(chunk = %row.chunk, table = %row.table, "the chunk committed before the connection was lost");
                ledger::check_recorded(&had, row, rows.bound, self.run_id)?;
                return writer
                    .recover(self.client, &self.tables.pairs, self.run_id)
                    .await;
            }
        }
        let transaction = ChunkTransaction {
            ledger: &self.tables.chunks,
            trees: &self.tables.trees,
            pairs: &self.tables.pairs,
            source_fingerprint: &self.source_fingerprint,
            run_id: self.run_id,
            lock: self.lock,
            delay: self.options.chunk_delay,
        };
        transaction
            .apply(self.client, writer, rows, extras, done)
            .await
    }

    /// A transient fault that outlasted the retries, as [`Error::ChunkRetriesSpent`]; any
    /// other error as it is.
    fn spent(&self, error: Error, chunk: &str, table: &str, done: usize) -> Result<()> {
        match error.fault() {
            Some(fault) => Err(Error::ChunkRetriesSpent {
                table: table.to_owned(),
                chunk: chunk.to_owned(),
                done,
                attempts: self.retry.attempts(),
                fault,
                timeout: self.config.target.command_timeout,
            }),
            None => Err(error),
        }
    }

    /// Every table reported finished, its writer's last word, its identity moved above the
    /// run's block (a warning where the server refuses); each table tried again on a new
    /// connection after a transient fault (both steps may be repeated).
    async fn finish_tables<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        summary: &mut LoadSummary,
    ) -> Result<()> {
        let mut unseeded = Vec::new();
        let plan = self.plan;
        for (ti, t) in plan.tables.iter().enumerate() {
            self.reporter.table_finished(&t.name, t.rows());
            let what = format!("finishing `{}`", t.name);
            let mut attempt = 0;
            let seeded = loop {
                if attempt > 0 {
                    *self.client = db::connect(Side::Target, &self.config.target).await?;
                }
                let result = match writer.finish_table(self.client, t).await {
                    // The target generated the IDs: its identity is where it should be.
                    Ok(()) if writer.generates_ids() => Ok(None),
                    Ok(()) => target::reseed(self.client, plan, ti).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(seeded) => break seeded,
                    Err(error) => {
                        let wait = retry_after(&self.retry, attempt, &error, &what).ok_or(error)?;
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                }
            };
            unseeded.extend(seeded);
        }
        summary.warnings.extend(target::unseeded_warning(&unseeded));
        Ok(())
    }
}

/// The wait before trying `what` again after `error` ended try `attempt` (0 the first): when
/// `error` is a transient fault and `retry` has tries left, logged as a warning; `None` when
/// `error` is final.
fn retry_after(
    retry: &Retry,
    attempt: u32,
    error: &Error,
    what: &str,
) -> Option<std::time::Duration> {
    let fault = error.fault()?;
    if attempt >= retry.retries {
        return None;
    }
    let wait = retry.delay(attempt + 1);
    tracing::warn!(
        attempt = attempt + 2,
        attempts = retry.attempts(),
        delay_ms = wait.as_millis() as u64,
        error = %error,
        "{what} failed: {fault}; trying again on a new connection (attempt {} of {})",
        attempt + 2,
        retry.attempts(),
    );
    Some(wait)
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

/// The trees whose roots are among the rows of `chunk` (`batch`): the roots are the
/// processes of level 0.
fn tree_records(
    plan: &LoadPlan,
    t: &TableInput,
    chunk: &Chunk,
    batch: &RecordBatch,
) -> Result<Vec<TreeRecord>> {
    if t.name != c::PROCESS || chunk.level != Some(0) {
        return Ok(Vec::new());
    }
    let modified = batch
        .column_by_name(c::LAST_MODIFIED)
        .is_some()
        .then(|| BoundBatch::new(batch, &[c::LAST_MODIFIED]))
        .transpose()
        .map_err(|e| Error::value(&t.name, e))?;
    let mut out = Vec::new();
    for i in 0..batch.num_rows() {
        let Some(root) = int_value(batch, c::ID, i).and_then(|id| plan.trees.root(id)) else {
            continue;
        };
        let mut literal = String::new();
        match &modified {
            Some(m) => m
                .render_value(&mut literal, 0, i)
                .map_err(|e| Error::value(&t.name, e))?,
            None => literal.push_str("NULL"),
        }
        out.push(TreeRecord {
            source_root_id: root.source_id,
            last_modified_literal: literal,
            target_root_id: root.target_id,
        });
    }
    Ok(out)
}
