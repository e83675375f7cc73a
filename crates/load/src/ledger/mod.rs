//! The ledger table in the target: one row per applied chunk, written in the chunk's own
//! transaction, so "the ledger lists it" and "its rows are in the target" are the same fact.
//!
//! Each row carries the chunk's [`digest`] over its Arrow values; a resumed load skips a
//! listed chunk only when the digest says it holds the same rows ([`check_recorded`]).

use std::collections::HashMap;

use bptmig_db::Side;
use bptmig_db::{self as db, quote_text, SqlClient};
use bptmig_model::PipelineConfig;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::{Lock, RunState, StageState, WorkDir};

use crate::plan::LoadPlan;
use crate::value::BoundBatch;
use crate::{Error, Result};

mod digest;

pub(crate) use digest::chunk_digest;
use digest::Recorded;

/// Chunks the ledger lists for a run, by (table, chunk).
pub type Done = HashMap<(String, String), LedgerRow>;

/// Where load, verify, rollback and status start: the run's chunks (planned from the
/// transformed parts), a connection to the target, and what its ledger lists as loaded.
pub(crate) struct TargetRun {
    pub(crate) plan: LoadPlan,
    pub(crate) client: SqlClient,
    pub(crate) done: Done,
}

/// Plans `run_id`'s chunks, connects to the target and reads its ledger (an absent ledger
/// table lists nothing; nothing is written).
pub(crate) async fn open_target(
    wd: &WorkDir,
    config: &PipelineConfig,
    run_id: &str,
) -> Result<TargetRun> {
    let plan = LoadPlan::build(wd, config.load.chunk_rows)?;
    let mut client = db::connect(Side::Target, &config.target).await?;
    let done = read(&mut client, &config.load.ledger_table, run_id).await?;
    Ok(TargetRun { plan, client, done })
}

/// A load or a verify under way: the work directory locked, the run (its transform done),
/// and where it starts in the target.
pub(crate) struct OpenStage {
    /// Held until the stage ends.
    _lock: Lock,
    pub(crate) run: RunState,
    pub(crate) target: TargetRun,
}

/// Locks `wd` for `stage`, opens the run, refuses one whose transform is not done, plans the
/// run's chunks and opens the target.
pub(crate) async fn open_stage(
    wd: &WorkDir,
    config: &PipelineConfig,
    stage: &str,
) -> Result<OpenStage> {
    let lock = wd.lock(stage)?;
    let run = bptmig_workdir::open_run(wd, config)?;
    require_transformed(wd, &run)?;
    let target = open_target(wd, config, &run.run_id).await?;
    Ok(OpenStage {
        _lock: lock,
        run,
        target,
    })
}

/// Refuses to go on unless `run`'s transform is done.
fn require_transformed(wd: &WorkDir, run: &RunState) -> Result<()> {
    if run.stages.get(TRANSFORM) == Some(&StageState::Done) {
        Ok(())
    } else {
        Err(Error::NotTransformed {
            workdir: wd.root().to_owned(),
        })
    }
}

/// One applied chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub table: String,
    pub chunk: String,
    pub rows: i64,
    /// The chunk's digest: `v2:` and 60 hex digits of the SHA-256 of its Arrow values
    /// (see the ledger's `digest` module); 64 hex digits of the rendered SQL text in rows older bptmig wrote.
    pub digest: String,
}

/// Refuses to skip chunk `now` (of `rows`) unless the ledger row `had` that lists it records
/// the same rows.
pub(crate) fn check_recorded(
    had: &LedgerRow,
    now: &LedgerRow,
    rows: &BoundBatch,
    run_id: &str,
) -> Result<()> {
    let recorded = if had.rows == now.rows {
        digest::compare(&had.digest, &now.digest, rows).map_err(|e| Error::value(&now.table, e))?
    } else {
        Recorded::Differs
    };
    match recorded {
        Recorded::Same => Ok(()),
        Recorded::Differs => Err(Error::LedgerConflict {
            run_id: run_id.to_owned(),
            table: now.table.clone(),
            chunk: now.chunk.clone(),
            had: had.digest.clone(),
            has: now.digest.clone(),
        }),
        Recorded::OlderDiffers => Err(Error::LedgerOlderDigest {
            run_id: run_id.to_owned(),
            table: now.table.clone(),
            chunk: now.chunk.clone(),
        }),
    }
}

/// Creates the ledger table when the target lacks it.
pub async fn ensure(client: &mut SqlClient, ledger: &str) -> Result<()> {
    if !exists(client, ledger).await? {
        let sql = format!(
            "CREATE TABLE {l} (\
             RUN_ID NVARCHAR(64) NOT NULL, TABLE_NAME NVARCHAR(128) NOT NULL, \
             CHUNK NVARCHAR(64) NOT NULL, ROWS_LOADED INT NOT NULL, DIGEST NVARCHAR(64) NOT NULL, \
             MIN_ID INT NULL, MAX_ID INT NULL, LOADED_AT DATETIME NOT NULL DEFAULT GETDATE(), \
             CONSTRAINT {pk} PRIMARY KEY (RUN_ID, TABLE_NAME, CHUNK))",
            l = db::quote_ident(ledger),
            pk = db::quote_ident(&format!("PK_{ledger}"))
        );
        db::execute(client, Side::Target, &sql).await?;
    }
    Ok(())
}

/// Whether the ledger table exists.
pub async fn exists(client: &mut SqlClient, ledger: &str) -> Result<bool> {
    let n = db::scalar(
        client,
        Side::Target,
        &format!(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = {}",
            quote_text(ledger)
        ),
    )
    .await?;
    Ok(n > 0)
}

/// The chunks of `run_id` the ledger lists, by (table, chunk).
pub async fn read(client: &mut SqlClient, ledger: &str, run_id: &str) -> Result<Done> {
    if !exists(client, ledger).await? {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT TABLE_NAME, CHUNK, ROWS_LOADED, DIGEST FROM {} WHERE RUN_ID = {}",
        db::quote_ident(ledger),
        quote_text(run_id)
    );
    let rows = db::query_rows(client, Side::Target, &sql, &[]).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let row = LedgerRow {
                table: db::text_cell(r, 0)?,
                chunk: db::text_cell(r, 1)?,
                rows: db::int_cell(r, 2)?,
                digest: db::text_cell(r, 3)?,
            };
            Some(((row.table.clone(), row.chunk.clone()), row))
        })
        .collect())
}

/// The statement recording a chunk.
pub fn insert_sql(
    ledger: &str,
    run_id: &str,
    row: &LedgerRow,
    bounds: Option<(i32, i32)>,
) -> String {
    let (lo, hi) = bounds.map_or(("NULL".into(), "NULL".into()), |(a, b)| {
        (a.to_string(), b.to_string())
    });
    format!(
        "INSERT INTO {} (RUN_ID, TABLE_NAME, CHUNK, ROWS_LOADED, DIGEST, MIN_ID, MAX_ID) \
         VALUES ({}, {}, {}, {}, {}, {lo}, {hi});",
        db::quote_ident(ledger),
        quote_text(run_id),
        quote_text(&row.table),
        quote_text(&row.chunk),
        row.rows,
        quote_text(&row.digest),
    )
}

/// The statement forgetting a chunk.
pub fn delete_sql(ledger: &str, run_id: &str, table: &str, chunk: &str) -> String {
    format!(
        "DELETE FROM {} WHERE RUN_ID = {} AND TABLE_NAME = {} AND CHUNK = {};",
        db::quote_ident(ledger),
        quote_text(run_id),
        quote_text(table),
        quote_text(chunk)
    )
}
