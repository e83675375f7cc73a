//! The ledger table in the target: one row per applied chunk, written in the chunk's own
//! transaction, so "the ledger lists it" and "its rows are in the target" are the same fact.
//!
//! Each row carries the chunk's [`digest`] over its Arrow values; a resumed load skips a
//! listed chunk only when the digest says it holds the same rows ([`check_recorded`]).
//!
//! Beside it live the tree ledger ([`trees`]: every moved tree, by source root) and the lock
//! table ([`lock`]: who is loading into this target), named after it ([`LedgerTables`]).

use std::collections::HashMap;

use bptmig_db::Side;
use bptmig_db::{self as db, quote_text, SqlClient};
use bptmig_model::pipeline::AlreadyMoved;
use bptmig_model::pipeline::LoadSettings;
use bptmig_model::PipelineConfig;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::{Lock, RunState, StageState, WorkDir};

use crate::already_moved::{self, AlreadyMovedTrees};
use crate::plan::LoadPlan;
use crate::value::BoundBatch;
use crate::{Error, Result};

mod digest;
pub(crate) mod lock;
pub(crate) mod pairs;
pub(crate) mod shape;
pub(crate) mod trees;

pub(crate) use digest::chunk_digest;
use digest::Recorded;
use lock::{LockAction, TargetLock};

/// The names of bptmig's tables in the target: those `[load.tables]` names (tables the user
/// created, [`LedgerTables::of`]), else after `load.ledger_table` ([`LedgerTables::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTables {
    /// One row per loaded chunk.
    pub chunks: String,
    /// One row per moved tree.
    pub trees: String,
    /// The target-side lock.
    pub lock: String,
    /// The old → new ID pairs a `generated` load captured.
    pub pairs: String,
    /// Whether the user created them (`[load.tables]`): bptmig then never creates a table,
    /// it checks their shape before any row moves.
    pub user_created: bool,
}

impl LedgerTables {
    /// The tables of a pipeline's `[load]`: `[load.tables]` when set, else after
    /// `load.ledger_table`.
    pub fn of(load: &LoadSettings) -> Self {
        match &load.tables {
            Some(t) => Self {
                chunks: t.ledger.clone(),
                trees: t.trees.clone(),
                lock: t.lock.clone(),
                pairs: t.pairs.clone(),
                user_created: true,
            },
            None => Self::new(&load.ledger_table),
        }
    }

    /// The tables named after the ledger `ledger`: the default `BPTMIG_LEDGER` gives
    /// `BPTMIG_TREES`, `BPTMIG_LOCK` and `BPTMIG_PAIRS`; any other name `X` (or `X_LEDGER`,
    /// the suffix in any case) gives `X_TREES`, `X_LOCK` and `X_PAIRS`.
    pub fn new(ledger: &str) -> Self {
        const SUFFIX: &str = "_LEDGER";
        let cut = ledger.len().saturating_sub(SUFFIX.len());
        let stem = match ledger.get(cut..) {
            Some(end) if cut > 0 && end.eq_ignore_ascii_case(SUFFIX) => &ledger[..cut],
            _ => ledger,
        };
        Self {
            chunks: ledger.to_owned(),
            trees: format!("{stem}_TREES"),
            lock: format!("{stem}_LOCK"),
            pairs: format!("{stem}_PAIRS"),
            user_created: false,
        }
    }
}

/// Chunks the ledger lists for a run, by (table, chunk).
pub type Done = HashMap<(String, String), LedgerRow>;

/// Where load, verify, rollback and status start: the run's chunks (planned from the
/// transformed parts, without the trees the target already had from an earlier run when
/// `selection.already_moved = "skip"`), a connection to the target, what its ledger lists as
/// loaded, and those trees.
pub(crate) struct TargetRun {
    pub(crate) plan: LoadPlan,
    pub(crate) client: SqlClient,
    pub(crate) done: Done,
    pub(crate) already_moved: AlreadyMovedTrees,
}

/// Plans `run_id`'s chunks, connects to the target and reads its ledgers (absent ledger
/// tables list nothing; nothing is written).
pub(crate) async fn open_target(
    wd: &WorkDir,
    config: &PipelineConfig,
    run_id: &str,
) -> Result<TargetRun> {
    let plan = LoadPlan::build(wd, config.load.chunk_rows)?;
    let client = db::connect(Side::Target, &config.target).await?;
    read_target(plan, client, config, run_id).await
}

/// What the target's ledgers say of `run_id` and its trees; under `already_moved = "skip"`
/// the trees an earlier run moved are left out of `plan`.
async fn read_target(
    mut plan: LoadPlan,
    mut client: SqlClient,
    config: &PipelineConfig,
    run_id: &str,
) -> Result<TargetRun> {
    plan.spell(&db::Names::read(&mut client, Side::Target).await?)?;
    let done = read(&mut client, &LedgerTables::of(&config.load).chunks, run_id).await?;
    let already_moved = already_moved::find(&mut client, config, &plan, run_id).await?;
    let left_out = match config.selection.already_moved {
        AlreadyMoved::Skip => already_moved.target_roots(),
        AlreadyMoved::Fail => Vec::new(),
    };
    plan.exclude_trees(&left_out);
    Ok(TargetRun {
        plan,
        client,
        done,
        already_moved,
    })
}

/// A load or a verify under way: the work directory locked, the run (its transform done),
/// where it starts in the target, and for a load the target's lock.
pub(crate) struct OpenStage {
    /// Held until the stage ends.
    _lock: Lock,
    pub(crate) run: RunState,
    pub(crate) target: TargetRun,
    /// Held by a load; let go with [`TargetLock::release`].
    pub(crate) target_lock: Option<TargetLock>,
}

/// Locks `wd` for `stage`, opens the run, refuses one whose transform is not done, plans the
/// run's chunks and opens the target; with `action`, takes the target's lock before reading
/// its ledgers (and lets it go again if that fails).
pub(crate) async fn open_stage(
    wd: &WorkDir,
    config: &PipelineConfig,
    stage: &str,
    action: Option<LockAction>,
) -> Result<OpenStage> {
    let lock = wd.lock(stage)?;
    let run = bptmig_workdir::open_run(wd, config)?;
    require_transformed(wd, &run)?;
    let plan = LoadPlan::build(wd, config.load.chunk_rows)?;
    let mut client = db::connect(Side::Target, &config.target).await?;
    let target_lock = match action {
        Some(action) => {
            check_own_tables(&mut client, config, &plan, &run.run_id, wd).await?;
            Some(TargetLock::acquire(&mut client, config, &run.run_id, wd.root(), action).await?)
        }
        None => None,
    };
    match read_target(plan, client, config, &run.run_id).await {
        Ok(target) => Ok(OpenStage {
            _lock: lock,
            run,
            target,
            target_lock,
        }),
        Err(e) => {
            if let Some(l) = target_lock {
                l.release(&config.target).await;
            }
            Err(e)
        }
    }
}

/// With `[load.tables]`, refuses tables the user created that cannot hold what this run
/// writes: before the lock (one of them) is taken, before any row moves. Warns of each table
/// without a unique index on its key.
async fn check_own_tables(
    client: &mut SqlClient,
    config: &PipelineConfig,
    plan: &LoadPlan,
    run_id: &str,
    wd: &WorkDir,
) -> Result<()> {
    let tables = LedgerTables::of(&config.load);
    if !tables.user_created {
        return Ok(());
    }
    let lengths = shape::Lengths {
        run_id: run_id.len(),
        table: plan.tables.iter().map(|t| t.name.len()).max().unwrap_or(0),
        chunk: plan
            .chunks
            .iter()
            .map(|c| c.name().len())
            .max()
            .unwrap_or(0),
        fingerprint: crate::already_moved::source_fingerprint(config).len(),
        host: lock::host_name().chars().count(),
        workdir: wd.root().display().to_string().chars().count(),
    };
    shape::check(client, &tables, &lengths).await?;
    for advice in shape::missing_unique_keys(client, &tables).await {
        tracing::warn!("{advice}");
    }
    Ok(())
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

/// Creates bptmig's tables `tables` names when the target lacks them: the chunk ledger and the
/// tree ledger, and with `pairs` the pairs table. Tables the user created (`[load.tables]`)
/// are never created: [`shape::check`] checked them before the lock was taken.
pub(crate) async fn ensure_tables(
    client: &mut SqlClient,
    tables: &LedgerTables,
    pairs: bool,
) -> Result<()> {
    if tables.user_created {
        return Ok(());
    }
    ensure(client, &tables.chunks).await?;
    if pairs {
        ensure_table(client, &tables.pairs, &pairs::create_sql(&tables.pairs)).await?;
    }
    Ok(())
}

/// Creates the chunk ledger and the tree ledger (named after `ledger`) when the target lacks
/// them.
pub async fn ensure(client: &mut SqlClient, ledger: &str) -> Result<()> {
    let sql = format!(
        "CREATE TABLE {l} (\
         RUN_ID NVARCHAR(64) NOT NULL, TABLE_NAME NVARCHAR(128) NOT NULL, \
         CHUNK NVARCHAR(64) NOT NULL, ROWS_LOADED INT NOT NULL, DIGEST NVARCHAR(64) NOT NULL, \
         MIN_ID INT NULL, MAX_ID INT NULL, LOADED_AT DATETIME NOT NULL DEFAULT GETDATE(), \
         CONSTRAINT {pk} PRIMARY KEY (RUN_ID, TABLE_NAME, CHUNK))",
        l = db::quote_ident(ledger),
        pk = db::quote_ident(&format!("PK_{ledger}"))
    );
    ensure_table(client, ledger, &sql).await?;
    let trees = LedgerTables::new(ledger).trees;
    ensure_table(client, &trees, &trees::create_sql(&trees)).await
}

/// Runs `create` unless table `name` exists; another session creating it meanwhile is fine.
pub(crate) async fn ensure_table(client: &mut SqlClient, name: &str, create: &str) -> Result<()> {
    if exists(client, name).await? {
        return Ok(());
    }
    match db::execute(client, Side::Target, create).await {
        Ok(()) => Ok(()),
        Err(_) if exists(client, name).await? => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether the table `ledger` exists, its name compared in any case whatever the collation
/// (a table bptmig made under another case is the same table on most servers).
pub async fn exists(client: &mut SqlClient, ledger: &str) -> Result<bool> {
    let n = db::scalar(
        client,
        Side::Target,
        &format!(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_NAME) = {}",
            quote_text(&ledger.to_uppercase())
        ),
    )
    .await?;
    Ok(n > 0)
}

/// The ledger row of one chunk of `run_id`, if the ledger lists it.
pub(crate) async fn read_chunk(
    client: &mut SqlClient,
    ledger: &str,
    run_id: &str,
    table: &str,
    chunk: &str,
) -> Result<Option<LedgerRow>> {
    let sql = format!(
        "SELECT TABLE_NAME, CHUNK, ROWS_LOADED, DIGEST FROM {} WHERE RUN_ID = {} AND \
         TABLE_NAME = {} AND CHUNK = {}",
        db::quote_ident(ledger),
        quote_text(run_id),
        quote_text(table),
        quote_text(chunk)
    );
    let rows = db::query_rows(client, Side::Target, &sql, &[]).await?;
    Ok(rows.first().and_then(|r| {
        Some(LedgerRow {
            table: db::text_cell(r, 0)?,
            chunk: db::text_cell(r, 1)?,
            rows: db::int_cell(r, 2)?,
            digest: db::text_cell(r, 3)?,
        })
    }))
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
        "INSERT INTO {} (RUN_ID, TABLE_NAME, CHUNK, ROWS_LOADED, DIGEST, MIN_ID, MAX_ID, \
         LOADED_AT) VALUES ({}, {}, {}, {}, {}, {lo}, {hi}, GETDATE());",
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

#[cfg(test)]
mod tests {
    use super::LedgerTables;

    #[test]
    fn the_ledger_suffix_is_found_in_any_case() {
        let t = LedgerTables::new("bptmig_Ledger");
        assert_eq!(
            (t.trees.as_str(), t.lock.as_str(), t.pairs.as_str()),
            ("bptmig_TREES", "bptmig_LOCK", "bptmig_PAIRS")
        );
        let t = LedgerTables::new("MIGRATION");
        assert_eq!(
            (t.trees.as_str(), t.lock.as_str()),
            ("MIGRATION_TREES", "MIGRATION_LOCK")
        );
        let t = LedgerTables::new("_LEDGER");
        assert_eq!(t.trees, "_LEDGER_TREES");
    }
}
