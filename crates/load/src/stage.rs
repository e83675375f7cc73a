//! The load stage: every chunk of the plan in its own transaction, with its ledger row.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use bptmig_db::Side;
use bptmig_db::{self as db, SqlClient};
use bptmig_model::catalog::{ColumnRole, FkKind};
use bptmig_model::pipeline::LoadStrategy;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::{RunState, StageState, WorkDir};
use sha2::{Digest as _, Sha256};

use crate::ledger::{self, LedgerRow};
use crate::plan::{self, Chunk, Fixup, Plan, TableInput};
use crate::render::RowRenderer;
use crate::target;
use crate::{Error, Result};

/// Stage name in `run.json`.
pub const STAGE: &str = "load";

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Insert,
    Bulk,
}

impl Strategy {
    fn as_str(self) -> &'static str {
        match self {
            Strategy::Insert => "insert",
            Strategy::Bulk => "bulk",
        }
    }
}

/// Runs the load stage for `config`.
pub async fn load(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let wd = WorkDir::new(&config.workdir);
    let _lock = wd.lock(STAGE)?;
    let mut run = bptmig_workdir::open_run(&wd, config)?;
    ledger::require_transformed(&wd, &run)?;
    let ledger::TargetRun {
        plan,
        mut client,
        done,
    } = ledger::open_target(&wd, config, &run.run_id).await?;
    let ledger_name = &config.load.ledger_table;
    ledger::ensure(&mut client, ledger_name).await?;

    // Pre-load checks: each refuses with what to do.
    let mut plans = HashMap::new();
    for t in &plan.tables {
        plans.insert(t.name.clone(), target::column_plans(&mut client, t).await?);
    }
    target::check_queues(&mut client).await?;
    target::check_block(&mut client, &plan, &done).await?;
    check_references(&mut client, &plan).await?;
    let strategy = choose_strategy(config, ledger_name).await?;
    if strategy == Strategy::Bulk {
        for t in &plan.tables {
            check_bulk_types(t, &plans[&t.name])?;
        }
    }

    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;
    let mut summary = LoadSummary {
        run_id: run.run_id.clone(),
        strategy: strategy.as_str(),
        chunks: plan.chunks.len(),
        fixups: plan.fixups,
        ..LoadSummary::default()
    };
    let mut tables: BTreeMap<usize, TableLoad> = BTreeMap::new();
    for (ti, t) in plan.tables.iter().enumerate() {
        reporter.table_started(STAGE, &t.name, Some(t.rows()));
        tables.insert(
            ti,
            TableLoad {
                table: t.name.clone(),
                rows: t.rows(),
                ..TableLoad::default()
            },
        );
    }
    let mut loader = Loader {
        client: &mut client,
        ledger: ledger_name,
        run: &run,
        batch_rows: config.load.batch_rows.max(1),
        delay: options.chunk_delay,
        strategy,
        done_chunks: 0,
    };
    let mut parts = PartCache::default();
    for chunk in &plan.chunks {
        if options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            return Err(Error::Interrupted {
                run_id: run.run_id.clone(),
            });
        }
        let t = &plan.tables[chunk.table];
        let part = parts.get(t, chunk)?;
        let batch = plan::chunk_batch(part, chunk)?;
        let cols: Vec<&str> = t.columns.iter().map(String::as_str).collect();
        let renderer = RowRenderer::new(&batch, &cols).map_err(|e| Error::Render {
            table: t.name.clone(),
            source: Box::new(e),
        })?;
        let header = (strategy == Strategy::Insert).then(|| insert_header(t));
        let rendered = render_chunk(
            &renderer,
            &t.name,
            header.as_deref(),
            config.load.batch_rows.max(1),
        )?;
        let row = LedgerRow {
            table: t.name.clone(),
            chunk: chunk.name(),
            rows: chunk.len() as i64,
            digest: rendered.digest.clone(),
        };
        let stats = tables.entry(chunk.table).or_default();
        if let Some(had) = done.get(&(row.table.clone(), row.chunk.clone())) {
            if had.digest != row.digest || had.rows != row.rows {
                return Err(Error::LedgerConflict {
                    run_id: run.run_id.clone(),
                    table: row.table,
                    chunk: row.chunk,
                    had: had.digest.clone(),
                    has: row.digest,
                });
            }
            stats.skipped += chunk.len() as u64;
            summary.chunks_skipped += 1;
            reporter.rows(&t.name, chunk.len() as u64);
            continue;
        }
        let started = Instant::now();
        loader
            .apply(t, chunk, &batch, &renderer, &rendered, &row)
            .await?;
        stats.seconds += started.elapsed().as_secs_f64();
        stats.loaded += chunk.len() as u64;
        summary.chunks_loaded += 1;
        loader.done_chunks += 1;
        reporter.rows(&t.name, chunk.len() as u64);
        if let Some(p) = options.chunk_pause {
            tokio::time::sleep(p).await;
        }
    }
    let mut unseeded = Vec::new();
    for (ti, t) in plan.tables.iter().enumerate() {
        reporter.table_finished(&t.name, t.rows());
        if strategy == Strategy::Bulk {
            // Bulk copy may leave constraints untrusted; check them again so they stay trusted.
            let sql = format!(
                "ALTER TABLE {} WITH CHECK CHECK CONSTRAINT ALL",
                db::quote_ident(&t.name)
            );
            db::execute(&mut client, Side::Target, &sql).await?;
        }
        if let Some(w) = reseed(&mut client, &plan, ti).await? {
            unseeded.push(w);
        }
    }
    if let Some((_, _, _, why)) = unseeded.first() {
        let tables: Vec<String> = unseeded
            .iter()
            .map(|(t, next, top, _)| format!("`{t}` (next {next}, moved rows up to {top})"))
            .collect();
        summary.warnings.push(format!(
            "the target's next identity lies inside the moved block for {}, and the server \
             refused `DBCC CHECKIDENT ... RESEED` ({why}); reseed these tables before the \
             platform creates rows there",
            tables.join(", ")
        ));
    }
    summary.tables = tables.into_values().collect();
    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(summary)
}

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

/// The parts last read, whole (a tree level reads the process and the activity part in turn).
#[derive(Default)]
struct PartCache {
    entries: Vec<((String, usize), RecordBatch)>,
}

impl PartCache {
    fn get(&mut self, t: &TableInput, chunk: &Chunk) -> Result<&RecordBatch> {
        let key = (t.name.clone(), chunk.part);
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            return Ok(&self.entries[i].1);
        }
        let path = t.part_path(chunk.part);
        let batches = plan::read_part(&path, None)?;
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => {
                return Err(Error::Corrupt {
                    path,
                    what: "rows".into(),
                })
            }
        };
        let whole = arrow::compute::concat_batches(&schema, &batches)
            .map_err(|e| Error::arrow(&t.name, e))?;
        if self.entries.len() >= 2 {
            self.entries.remove(0);
        }
        self.entries.push((key, whole));
        Ok(&self.entries[self.entries.len() - 1].1)
    }
}

/// Bulk copy keeps the transformed IDs, locks the table for speed and checks constraints.
fn bulk_options() -> tiberius::SqlBulkCopyOptions {
    tiberius::SqlBulkCopyOption::KeepIdentity
        | tiberius::SqlBulkCopyOption::TableLock
        | tiberius::SqlBulkCopyOption::CheckConstraints
}

/// `INSERT INTO t (c1, c2, …) VALUES ` for the transformed columns of `t`.
fn insert_header(t: &TableInput) -> String {
    format!(
        "INSERT INTO {} ({}) VALUES ",
        db::quote_ident(&t.name),
        t.columns
            .iter()
            .map(|c| db::quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A chunk's `INSERT` statements (strategy `insert`) and the digest of its rows: SHA-256 over
/// each row's literal tuple followed by a newline, whatever the strategy.
struct Rendered {
    statements: Vec<String>,
    digest: String,
}

/// Renders the rows once, straight into the statements (`header` given) or, for the digest
/// only, into one buffer per batch.
fn render_chunk(
    renderer: &RowRenderer,
    table: &str,
    header: Option<&str>,
    batch_rows: usize,
) -> Result<Rendered> {
    let fail = |e| Error::Render {
        table: table.to_owned(),
        source: Box::new(e),
    };
    let mut hasher = Sha256::new();
    let mut statements = Vec::new();
    for first in (0..renderer.num_rows()).step_by(batch_rows.max(1)) {
        let last = (first + batch_rows).min(renderer.num_rows());
        let mut s = String::with_capacity(header.map_or(256, |h| h.len() + (last - first) * 256));
        s.push_str(header.unwrap_or(""));
        for r in first..last {
            match header {
                None => s.clear(),
                Some(_) if r > first => s.push_str(", "),
                Some(_) => {}
            }
            let start = s.len();
            renderer.render_row(&mut s, r).map_err(fail)?;
            hasher.update(&s.as_bytes()[start..]);
            hasher.update(b"\n");
        }
        if header.is_some() {
            statements.push(s);
        }
    }
    Ok(Rendered {
        statements,
        digest: bptmig_workdir::hex(&hasher.finalize()),
    })
}

struct Loader<'a> {
    client: &'a mut SqlClient,
    ledger: &'a str,
    run: &'a RunState,
    batch_rows: usize,
    delay: Option<Duration>,
    strategy: Strategy,
    done_chunks: usize,
}

impl Loader<'_> {
    /// Writes one chunk, its fix-ups and its ledger row in one transaction.
    async fn apply(
        &mut self,
        t: &TableInput,
        chunk: &Chunk,
        batch: &RecordBatch,
        renderer: &RowRenderer,
        rendered: &Rendered,
        row: &LedgerRow,
    ) -> Result<()> {
        let table = db::quote_ident(&t.name);
        let identity = t.has_key() && self.strategy == Strategy::Insert;
        let mut begin = String::from("SET XACT_ABORT ON; BEGIN TRANSACTION;");
        if identity {
            let _ = write!(begin, " SET IDENTITY_INSERT {table} ON;");
        }
        let statements = &rendered.statements;
        let outcome = self
            .write_chunk(t, chunk, batch, &begin, statements, row, identity)
            .await;
        let Err((failed, message)) = outcome else {
            return Ok(());
        };
        target::try_execute(self.client, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await;
        let (row_id, reason) = match failed {
            Some(stmt) if self.strategy == Strategy::Insert => {
                self.diagnose(
                    t, chunk, batch, renderer, &begin, statements, stmt, &message,
                )
                .await
            }
            _ => (None, message),
        };
        Err(Error::ChunkFailed {
            table: t.name.clone(),
            chunk: row.chunk.clone(),
            done: self.done_chunks,
            row: row_id,
            reason,
        })
    }

    /// The transaction; on failure, the index of the failed row statement (if it was one) and
    /// the server's message.
    #[allow(clippy::too_many_arguments, reason = "one chunk's parts")]
    async fn write_chunk(
        &mut self,
        t: &TableInput,
        chunk: &Chunk,
        batch: &RecordBatch,
        begin: &str,
        statements: &[String],
        row: &LedgerRow,
        identity: bool,
    ) -> std::result::Result<(), (Option<usize>, String)> {
        target::execute_msg(self.client, begin)
            .await
            .map_err(|m| (None, format!("{m} (starting the transaction: `{begin}`)")))?;
        match self.strategy {
            Strategy::Insert => {
                for (i, s) in statements.iter().enumerate() {
                    target::execute_msg(self.client, s)
                        .await
                        .map_err(|m| (Some(i), m))?;
                }
            }
            Strategy::Bulk => self.bulk_rows(t, batch).await.map_err(|m| (None, m))?,
        }
        let mut tail = String::new();
        for sql in fixup_statements(&chunk.fixups) {
            tail.push_str(&sql);
        }
        if !tail.is_empty() {
            target::execute_msg(self.client, &tail).await.map_err(|m| {
                (
                    None,
                    format!("{m} (applying deferred references: `{}`)", head(&tail)),
                )
            })?;
        }
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let mut commit = ledger::insert_sql(self.ledger, &self.run.run_id, row, chunk.id_bounds());
        if identity {
            let _ = write!(
                commit,
                " SET IDENTITY_INSERT {} OFF;",
                db::quote_ident(&t.name)
            );
        }
        commit.push_str(" COMMIT TRANSACTION;");
        target::execute_msg(self.client, &commit)
            .await
            .map_err(|m| (None, format!("{m} (committing: `{}`)", head(&commit))))
    }

    async fn bulk_rows(
        &mut self,
        t: &TableInput,
        batch: &RecordBatch,
    ) -> std::result::Result<(), String> {
        let cols: Vec<&str> = t.columns.iter().map(String::as_str).collect();
        let rows = crate::bulk::BulkRows::new(batch, &cols).map_err(|e| e.to_string())?;
        let mut req = self
            .client
            .bulk_insert_with_options(&t.name, &cols, bulk_options(), &[])
            .await
            .map_err(|e| target::server_message(&e))?;
        for i in 0..rows.num_rows() {
            let r = rows.row(i).map_err(|e| e.to_string())?;
            req.send(r).await.map_err(|e| target::server_message(&e))?;
        }
        req.finalize()
            .await
            .map_err(|e| target::server_message(&e))?;
        Ok(())
    }

    /// Finds the row of statement `failed` that the server refuses (replaying the chunk up to
    /// it, row by row, in a transaction that is rolled back) and the column that names a
    /// missing row.
    #[allow(clippy::too_many_arguments, reason = "one chunk's parts")]
    async fn diagnose(
        &mut self,
        t: &TableInput,
        chunk: &Chunk,
        batch: &RecordBatch,
        renderer: &RowRenderer,
        begin: &str,
        statements: &[String],
        failed: usize,
        message: &str,
    ) -> (Option<i64>, String) {
        let mut found: Option<(usize, String)> = None;
        if target::execute_msg(self.client, begin).await.is_ok() {
            let mut ok = true;
            for s in &statements[..failed] {
                if target::execute_msg(self.client, s).await.is_err() {
                    ok = false;
                    break;
                }
            }
            if ok {
                let header = insert_header(t);
                let first = failed * self.batch_rows;
                let last = (first + self.batch_rows).min(batch.num_rows());
                for r in first..last {
                    let mut s = header.clone();
                    if renderer.render_row(&mut s, r).is_err() {
                        break;
                    }
                    if let Err(m) = target::execute_msg(self.client, &s).await {
                        found = Some((r, m));
                        break;
                    }
                }
            }
            target::try_execute(self.client, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await;
        }
        let Some((r, row_message)) = found else {
            return (None, message.to_owned());
        };
        let id = target::int_value(batch, t.id_column(), r).map(i64::from);
        // Which reference is missing?
        for col in t.model.columns {
            let ColumnRole::Fk { kind, table: to } = col.role else {
                continue;
            };
            let Some(v) = target::int_value(batch, col.name, r) else {
                continue;
            };
            if kind == FkKind::Instance
                && to == t.name
                && chunk.ranges.iter().any(|&(a, b)| (a..=b).contains(&v))
            {
                continue;
            }
            let sql = format!(
                "SELECT COUNT(*) FROM {} WHERE ID = {v}",
                db::quote_ident(to)
            );
            if db::scalar(self.client, Side::Target, &sql).await.ok() == Some(0) {
                return (
                    id,
                    format!(
                        "column `{}` = {v} references `{to}` row {v}, which the target does \
                         not have (server: {row_message})",
                        col.name
                    ),
                );
            }
        }
        (id, format!("server: {row_message}"))
    }
}

/// The start of a statement, for messages.
fn head(sql: &str) -> String {
    match sql.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &sql[..i]),
        None => sql.to_owned(),
    }
}

/// `UPDATE`s applying fix-ups: self references (`value = id`) in one statement per column.
fn fixup_statements(fixups: &[Fixup]) -> Vec<String> {
    let mut own: BTreeMap<(&str, &str), Vec<i32>> = BTreeMap::new();
    let mut out = Vec::new();
    for f in fixups {
        if f.id == f.value {
            own.entry((&f.table, &f.column)).or_default().push(f.id);
        } else {
            out.push(format!(
                "UPDATE {} SET {} = {} WHERE ID = {};",
                db::quote_ident(&f.table),
                db::quote_ident(&f.column),
                f.value,
                f.id
            ));
        }
    }
    for ((table, column), ids) in own {
        for group in ids.chunks(1000) {
            let list = group
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.insert(
                0,
                format!(
                    "UPDATE {} SET {} = ID WHERE ID IN ({list});",
                    db::quote_ident(table),
                    db::quote_ident(column)
                ),
            );
        }
    }
    out
}

/// Every outward reference of the transformed rows must exist in the target.
async fn check_references(client: &mut SqlClient, plan: &Plan) -> Result<()> {
    let mut refs = target::References::new();
    for t in &plan.tables {
        let names: Vec<&str> = t
            .model
            .columns
            .iter()
            .filter(|c| {
                matches!(c.role, ColumnRole::Fk { kind, .. } if kind != FkKind::Instance)
                    && t.columns.iter().any(|n| n == c.name)
            })
            .map(|c| c.name)
            .collect();
        if names.is_empty() {
            continue;
        }
        for part in 0..t.manifest.parts.len() {
            for b in plan::read_part(&t.part_path(part), Some(&names))? {
                target::collect_references(t, &b, &mut refs);
            }
        }
    }
    let missing = target::missing_references(client, &refs).await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingReferences { items: missing })
    }
}

/// Bulk copy sends values at the Parquet column's type and scale, and the server would
/// reinterpret them at the target column's: refuse any difference.
fn check_bulk_types(t: &TableInput, target: &[bptmig_workdir::sql_type::ColumnPlan]) -> Result<()> {
    let differ: Vec<String> = t
        .manifest
        .columns
        .iter()
        .filter_map(|col| {
            let live = target
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&col.name))?;
            let ddl = live.sql_type.ddl();
            (ddl != col.sql_type)
                .then(|| format!("`{}` is {} there, {} here", col.name, ddl, col.sql_type))
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(Error::BulkUnsupported {
            reason: format!(
                "in `{}` {}; bulk copy would store values at the wrong type or scale",
                t.name,
                differ.join(", ")
            ),
        })
    }
}

/// `auto` is bulk copy where the target accepts it (a probe: an empty bulk copy into the
/// ledger, rolled back), batched inserts elsewhere.
async fn choose_strategy(config: &PipelineConfig, ledger_name: &str) -> Result<Strategy> {
    let wanted = config.load.strategy;
    if wanted == LoadStrategy::Insert {
        return Ok(Strategy::Insert);
    }
    // On a connection of its own: a refused bulk copy can leave a session unusable.
    let mut client = db::connect(Side::Target, &config.target).await?;
    let probe = probe_bulk(&mut client, ledger_name).await;
    target::try_execute(&mut client, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await;
    match (wanted, probe) {
        (_, Ok(())) => Ok(Strategy::Bulk),
        (LoadStrategy::Bulk, Err(reason)) => Err(Error::BulkUnsupported { reason }),
        (_, Err(reason)) => {
            tracing::info!(%reason, "the target refuses TDS bulk copy; loading with batched inserts");
            Ok(Strategy::Insert)
        }
    }
}

async fn probe_bulk(client: &mut SqlClient, ledger_name: &str) -> std::result::Result<(), String> {
    use tiberius::{SqlBulkCopyOption, SqlBulkCopyOptions};
    target::execute_msg(client, "BEGIN TRANSACTION").await?;
    let options: SqlBulkCopyOptions = SqlBulkCopyOption::KeepIdentity
        | SqlBulkCopyOption::TableLock
        | SqlBulkCopyOption::CheckConstraints;
    let req = client
        .bulk_insert_with_options(
            ledger_name,
            &["RUN_ID", "TABLE_NAME", "CHUNK"],
            options,
            &[],
        )
        .await
        .map_err(|e| target::server_message(&e))?;
    req.finalize()
        .await
        .map_err(|e| target::server_message(&e))?;
    Ok(())
}

/// Makes the next identity the target generates for table `ti` lie above the moved block;
/// when the server cannot be told: (table, next identity, top of the block, the server's words).
async fn reseed(
    client: &mut SqlClient,
    plan: &Plan,
    ti: usize,
) -> Result<Option<(String, i64, i32, String)>> {
    let t = &plan.tables[ti];
    if !t.has_key() {
        return Ok(None);
    }
    let Some(&(_, top)) = plan.table_ranges(ti).last() else {
        return Ok(None);
    };
    let name = db::quote_text(&t.name);
    let current = db::scalar(
        client,
        Side::Target,
        &format!("SELECT CAST(IDENT_CURRENT({name}) AS BIGINT)"),
    )
    .await?;
    if current >= i64::from(top) {
        return Ok(None);
    }
    let sql = format!("DBCC CHECKIDENT ({name}, RESEED, {top})");
    match target::execute_msg(client, &sql).await {
        Ok(()) => Ok(None),
        Err(m) => Ok(Some((t.name.clone(), current + 1, top, m))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_references_are_one_statement_and_others_one_each() {
        let f = |id, value, column: &str| Fixup {
            table: "P".into(),
            column: column.into(),
            id,
            value,
        };
        let sql = fixup_statements(&[f(5, 5, "TOP"), f(6, 6, "TOP"), f(7, 9, "PRE")]);
        assert_eq!(
            sql,
            vec![
                "UPDATE [P] SET [TOP] = ID WHERE ID IN (5,6);".to_owned(),
                "UPDATE [P] SET [PRE] = 9 WHERE ID = 7;".to_owned(),
            ]
        );
    }
}
