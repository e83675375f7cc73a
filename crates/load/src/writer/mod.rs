//! How a chunk's rows reach the target: a [`ChunkWriter`] per strategy, inside the chunk's
//! transaction ([`transaction`]).
//!
//! * [`insert::InsertWriter`] (strategy `insert`): multi-row `INSERT … VALUES` statements of
//!   exact literals, `batch_rows` rows each, with `IDENTITY_INSERT` on; a refused statement is
//!   replayed row by row to name the row and the missing reference.
//! * [`bulk::BulkWriter`] (strategy `bulk`): one TDS bulk copy per chunk, keeping the IDs;
//!   the constraints are checked again after each table.
//!
//! Both send the rows of the same [`BoundBatch`], and whatever fails is one [`ChunkError`].
//! `auto` chooses bulk copy where the target accepts it ([`choose_strategy`]).

use std::future::Future;

use arrow::array::RecordBatch;
use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::pipeline::LoadStrategy;
use bptmig_model::PipelineConfig;

use crate::plan::{Chunk, TableInput};
use crate::target::{self, Refused};
use crate::value::{BoundBatch, ValueError};
use crate::{Error, Result};

pub(crate) mod bulk;
pub(crate) mod insert;
pub(crate) mod transaction;

/// How rows reach the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    Insert,
    Bulk,
}

impl Strategy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Strategy::Insert => "insert",
            Strategy::Bulk => "bulk",
        }
    }
}

/// One chunk's rows, as a writer sends them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkRows<'a> {
    pub(crate) table: &'a TableInput,
    pub(crate) chunk: &'a Chunk,
    /// The chunk's rows (deferred columns NULL), in the part's column order.
    pub(crate) batch: &'a RecordBatch,
    /// The transformed columns of `batch`, bound.
    pub(crate) bound: &'a BoundBatch,
}

/// Writes a chunk's rows inside the chunk's open transaction.
pub(crate) trait ChunkWriter {
    /// Whether a keyed table's transaction switches `IDENTITY_INSERT` on, because the
    /// writer's statements name the IDs.
    fn names_ids(&self) -> bool;

    /// Sends the rows.
    fn write_rows(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
    ) -> impl Future<Output = Result<(), ChunkError>> + Send;

    /// After a failed chunk was rolled back: the ID of the row the server refused (if the
    /// writer can tell) and the error to report. `begin` opens a transaction as the chunk's
    /// did.
    fn diagnose(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
        begin: &str,
        error: ChunkError,
    ) -> impl Future<Output = (Option<i64>, ChunkError)> + Send {
        let _ = (client, rows, begin);
        async { (None, error) }
    }

    /// After the table's last chunk.
    fn finish_table(
        &mut self,
        client: &mut SqlClient,
        table: &TableInput,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Why a chunk failed, in words that follow "failed and was rolled back …:".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    #[error("{refused} (starting the transaction: `{sql}`)")]
    Begin { sql: String, refused: Refused },
    /// The target's spelling of the columns could not be read.
    #[error("{refused} (reading the columns of `{table}` in the target)")]
    Columns { table: String, refused: Refused },
    /// Row statement `index` of the chunk was refused.
    #[error("{refused}")]
    Statement { index: usize, refused: Refused },
    /// A value the writer cannot send (the pre-load digest checks every value first).
    #[error("{0}")]
    Value(ValueError),
    #[error("{refused}")]
    Bulk { refused: Refused },
    /// Replayed alone, a row was refused because a row it references is missing.
    #[error(
        "column `{column}` = {value} references `{table}` row {value}, which the target does \
         not have (server: {refused})"
    )]
    MissingRow {
        column: &'static str,
        value: i32,
        table: &'static str,
        refused: Refused,
    },
    /// Replayed alone, a row was refused.
    #[error("server: {refused}")]
    RowRefused { refused: Refused },
    #[error("{refused} (applying deferred references: `{sql}`)")]
    Fixups { sql: String, refused: Refused },
    #[error("{refused} (recording the chunk's trees: `{sql}`)")]
    Trees { sql: String, refused: Refused },
    #[error("{refused} (committing: `{sql}`)")]
    Commit { sql: String, refused: Refused },
    /// A rollback could not delete the chunk.
    #[error("deleting it failed: {refused}; fix the target and run `bptmig rollback` again")]
    Delete { refused: Refused },
}

impl bptmig_db::Transient for ChunkError {
    /// The fault that cut the chunk off, when it was cut off rather than refused.
    fn fault(&self) -> Option<bptmig_db::Fault> {
        match self {
            ChunkError::Begin { refused, .. }
            | ChunkError::Columns { refused, .. }
            | ChunkError::Statement { refused, .. }
            | ChunkError::Bulk { refused }
            | ChunkError::MissingRow { refused, .. }
            | ChunkError::RowRefused { refused }
            | ChunkError::Fixups { refused, .. }
            | ChunkError::Trees { refused, .. }
            | ChunkError::Commit { refused, .. }
            | ChunkError::Delete { refused } => refused.fault.clone(),
            ChunkError::Value(_) => None,
        }
    }
}

/// Why the target does not take bulk copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BulkRefusal {
    /// An empty bulk copy into the ledger was refused.
    #[error("{0}")]
    Probe(Refused),
    /// Columns whose type in the target differs from the Parquet's.
    #[error(
        "in `{table}` {}; bulk copy would store values at the wrong type or scale",
        differences.join(", ")
    )]
    Types {
        table: String,
        differences: Vec<String>,
    },
}

/// Bulk copy keeps the transformed IDs, locks the table for speed and checks constraints.
pub(crate) fn bulk_options() -> tiberius::SqlBulkCopyOptions {
    tiberius::SqlBulkCopyOption::KeepIdentity
        | tiberius::SqlBulkCopyOption::TableLock
        | tiberius::SqlBulkCopyOption::CheckConstraints
}

/// `auto` is bulk copy where the target accepts it (a probe: an empty bulk copy into the
/// ledger, rolled back), batched inserts elsewhere.
pub(crate) async fn choose_strategy(config: &PipelineConfig, ledger: &str) -> Result<Strategy> {
    let wanted = config.load.strategy;
    if wanted == LoadStrategy::Insert {
        return Ok(Strategy::Insert);
    }
    // On a connection of its own: a refused bulk copy can leave a session unusable.
    let mut client = db::connect(Side::Target, &config.target).await?;
    let probe = probe_bulk(&mut client, ledger).await;
    target::roll_back(&mut client).await;
    match (wanted, probe) {
        (_, Ok(())) => Ok(Strategy::Bulk),
        (LoadStrategy::Bulk, Err(refused)) => Err(Error::BulkUnsupported {
            reason: BulkRefusal::Probe(refused),
        }),
        (_, Err(reason)) => {
            tracing::info!(%reason, "the target refuses TDS bulk copy; loading with batched inserts");
            Ok(Strategy::Insert)
        }
    }
}

async fn probe_bulk(client: &mut SqlClient, ledger: &str) -> Result<(), Refused> {
    target::run_batch(client, "BEGIN TRANSACTION").await?;
    let req = client
        .bulk_insert_with_options(
            ledger,
            &["RUN_ID", "TABLE_NAME", "CHUNK"],
            bulk_options(),
            &[],
        )
        .await
        .map_err(|e| Refused::from(&e))?;
    req.finalize().await.map_err(|e| Refused::from(&e))?;
    Ok(())
}
