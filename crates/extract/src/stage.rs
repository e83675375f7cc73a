//! The extract stage: pre-flight, snapshots of both environments, selection of whole process
//! trees, and keyset-paged streaming of every instance table into Parquet parts.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, Int32Array};
use arrow::record_batch::RecordBatch;
use bptmig_model::catalog::{self as c, Table};
use bptmig_model::pipeline::{PipelineConfig, Selection};
use bptmig_model::Reporter;
use futures_util::TryStreamExt as _;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use tiberius::{QueryItem, ToSql};

use bptmig_db::column_builder::ColumnBuilder;
use bptmig_db::query::{append_row, finish_batch};
use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_workdir::layout::ROOTS_FILE;
use bptmig_workdir::part::{self as parts, LazyPartWriter, PartMeta};
use bptmig_workdir::snapshot::{snapshot_tables, SnapshotWriter};
use bptmig_workdir::sql_type::{schema_for, ColumnPlan};
use bptmig_workdir::{open_run, Manifest, ManifestColumn, RunState, StageState, WorkDir};

use crate::{Error, Result};

/// Name of this stage in the work directory and in `run.json`.
pub const STAGE: &str = bptmig_workdir::layout::EXTRACT;

/// Knobs that are not part of the pipeline.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Pause after each committed part. Only for tests that interrupt a running extract.
    pub part_delay: Option<Duration>,
    /// Set to stop at the next part boundary ([`Error::Interrupted`]); every part written
    /// so far stays listed and the next run resumes after it.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What an extract did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractSummary {
    pub run_id: String,
    /// Nothing was left to do.
    pub already_done: bool,
    pub roots: u64,
    pub tables: Vec<TableSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    pub parts: usize,
    /// Rows that an earlier, interrupted run had already written.
    pub resumed_rows: u64,
}

/// Runs the extract stage for `config`, resuming whatever an earlier run left.
pub async fn extract(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &ExtractOptions,
) -> Result<ExtractSummary> {
    let wd = WorkDir::new(&config.workdir);
    wd.create()?;
    let _lock = wd.lock(STAGE)?;
    let mut run = open_run(&wd, config)?;
    if run.stages.get(STAGE) == Some(&StageState::Done) {
        let mut summary = summarize(&wd, &run)?;
        summary.already_done = true;
        return Ok(summary);
    }
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;

    let mut source = db::connect(Side::Source, &config.source).await?;
    bptmig_db::preflight::require_platform(&mut source, Side::Source).await?;
    refuse_pending_events(&mut source).await?;
    let mut target = db::connect(Side::Target, &config.target).await?;
    bptmig_db::preflight::require_platform(&mut target, Side::Target).await?;

    let ctx = Ctx {
        wd: &wd,
        run_id: &run.run_id,
        part_rows: config.extract.part_rows,
        row_group_rows: config.extract.row_group_rows,
        reporter,
        options,
    };
    snapshot(&ctx, &mut target, Side::Target).await?;
    snapshot(&ctx, &mut source, Side::Source).await?;
    drop(target);

    let roots = select_roots(&ctx, &mut source, &config.selection).await?;
    let roots_file = wd.stage_dir(STAGE).join(ROOTS_FILE);
    load_ids(&mut source, "#roots", &[roots_file]).await?;

    let mut tables = Vec::new();
    let by_root = format!(
        "{} IN (SELECT ID FROM #roots)",
        quote_ident(c::TOP_PROCESS_ID)
    );
    tables.push(extract_table(&ctx, &mut source, &c::PROCESS_TABLE, &by_root).await?);
    load_ids(
        &mut source,
        "#procs",
        &part_files(&wd.table_dir(STAGE, c::PROCESS))?,
    )
    .await?;

    let by_process = format!("{} IN (SELECT ID FROM #procs)", quote_ident(c::PROCESS_ID));
    tables.push(extract_table(&ctx, &mut source, &c::ACTIVITY_TABLE, &by_process).await?);
    load_ids(
        &mut source,
        "#acts",
        &part_files(&wd.table_dir(STAGE, c::ACTIVITY))?,
    )
    .await?;

    tables.push(extract_table(&ctx, &mut source, &c::PROCESS_INPUT_TABLE, &by_process).await?);
    tables.push(extract_table(&ctx, &mut source, &c::PROCESS_OUTPUT_TABLE, &by_process).await?);
    let by_activity = format!("{} IN (SELECT ID FROM #acts)", quote_ident(c::ACTIVITY_ID));
    tables.push(extract_table(&ctx, &mut source, &c::ACTIVITY_OUTPUT_TABLE, &by_activity).await?);

    let by_evt_activity = format!(
        "{} IN (SELECT ID FROM #acts)",
        quote_ident(c::EVT_ACTIVITY_ID)
    );
    for name in event_tables(&mut source).await? {
        let table = c::osevt_table("OSEVT_*");
        let summary = extract_keyless(&ctx, &mut source, &name, &table, &by_evt_activity).await?;
        tables.push(summary);
    }

    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots,
        tables,
    })
}

struct Ctx<'a> {
    wd: &'a WorkDir,
    run_id: &'a str,
    part_rows: usize,
    row_group_rows: usize,
    reporter: &'a dyn Reporter,
    options: &'a ExtractOptions,
}

impl Ctx<'_> {
    /// Fails with [`Error::Interrupted`] once an interrupt was asked for.
    fn check_cancel(&self) -> Result<()> {
        if self
            .options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            return Err(Error::Interrupted {
                stage: STAGE,
                run_id: self.run_id.to_owned(),
            });
        }
        Ok(())
    }
}

fn summarize(wd: &WorkDir, run: &RunState) -> Result<ExtractSummary> {
    let mut tables = Vec::new();
    let dir = wd.stage_dir(STAGE);
    for name in bptmig_workdir::stage_tables(&dir)? {
        if let Some(m) = Manifest::read(&dir.join(&name))? {
            tables.push(TableSummary {
                table: name,
                rows: m.rows(),
                parts: m.parts.len(),
                resumed_rows: m.rows(),
            });
        }
    }
    let roots = file_rows(&dir.join(ROOTS_FILE))?;
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots,
        tables,
    })
}

// ---- pre-flight ------------------------------------------------------------------------------

/// The scheduler must have drained both BPT queues before history is copied.
async fn refuse_pending_events(client: &mut SqlClient) -> Result<()> {
    match bptmig_db::preflight::queued_events(client, Side::Source).await? {
        Some((table, rows)) => Err(Error::Db(bptmig_db::Error::PendingEvents {
            side: Side::Source,
            table,
            rows,
        })),
        None => Ok(()),
    }
}

// ---- snapshots -------------------------------------------------------------------------------

async fn snapshot(ctx: &Ctx<'_>, client: &mut SqlClient, side: Side) -> Result<()> {
    let dir = ctx.wd.snapshot_dir(side.as_str());
    if Manifest::read(&dir)?.is_some_and(|m| m.complete) {
        return Ok(());
    }
    ctx.check_cancel()?;
    write_snapshot(&dir, ctx.run_id, client, side, ctx.row_group_rows).await?;
    ctx.reporter
        .note(&format!("snapshot of the {side} written"));
    Ok(())
}

/// Copies the mapping tables of `side` (model columns only) into `dir`, with a manifest
/// written last. Used by extract and by `bptmig check`.
pub async fn write_snapshot(
    dir: &std::path::Path,
    run_id: &str,
    client: &mut SqlClient,
    side: Side,
    row_group_rows: usize,
) -> Result<()> {
    let mut writer = SnapshotWriter::new(dir, side.as_str(), run_id, row_group_rows);
    for table in snapshot_tables() {
        let live = db::table_columns(client, side, table.name).await?;
        // Only the columns the model knows: never password hashes or other payload.
        let plans: Vec<ColumnPlan> = table
            .columns
            .iter()
            .filter_map(|mc| live.iter().find(|lc| lc.name.eq_ignore_ascii_case(mc.name)))
            .map(|lc| ColumnPlan::from_catalog(table.name, lc))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bptmig_db::Error::Type { side, source: e })?;
        require_columns(side, table, &plans)?;
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            plans
                .iter()
                .map(ColumnPlan::select_expr)
                .collect::<Vec<_>>()
                .join(", "),
            table.name,
            quote_ident(c::ID)
        );
        let batches = db::read_batches(
            client,
            side,
            table.name,
            &sql,
            &[],
            &plans,
            row_group_rows,
            None,
        )
        .await?;
        let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.0).collect();
        writer.table(table, &plans, &batches)?;
    }
    // Row count and maximum ID of every instance table: the target's decide the ID block.
    let mut names = Vec::new();
    let mut rows = Vec::new();
    let mut max_ids = Vec::new();
    for table in c::INSTANCE_TABLES {
        let sql = format!(
            "SELECT COUNT(*), MAX({}) FROM {}",
            quote_ident(c::ID),
            table.name
        );
        let r = db::query_rows(client, side, &sql, &[]).await?;
        names.push(table.name);
        rows.push(r.first().and_then(|r| db::int_cell(r, 0)).unwrap_or(0));
        max_ids.push(r.first().and_then(|r| db::int_cell(r, 1)));
    }
    let stats: Vec<(&str, i64, Option<i64>)> = names
        .into_iter()
        .zip(rows)
        .zip(max_ids)
        .map(|((n, r), m)| (n, r, m))
        .collect();
    writer.finish(&stats)?;
    Ok(())
}

/// Every column with a role other than a plain value must exist (older platform versions).
fn require_columns(side: Side, table: &Table, plans: &[ColumnPlan]) -> Result<()> {
    for mc in table.columns {
        let needed = !matches!(
            mc.role,
            c::ColumnRole::Value | c::ColumnRole::SchedulerState
        );
        if needed && !plans.iter().any(|p| p.name.eq_ignore_ascii_case(mc.name)) {
            return Err(Error::Db(bptmig_db::Error::MissingColumn {
                side,
                table: table.name.to_owned(),
                column: mc.name,
            }));
        }
    }
    Ok(())
}

// ---- selection -------------------------------------------------------------------------------

/// Chooses the top-level processes once per run and streams them into
/// `extract/roots.parquet`, so a resumed extract works on exactly the same trees. Returns
/// how many there are.
async fn select_roots(ctx: &Ctx<'_>, client: &mut SqlClient, sel: &Selection) -> Result<u64> {
    let path = ctx.wd.stage_dir(STAGE).join(ROOTS_FILE);
    if path.is_file() {
        return file_rows(&path);
    }
    let (roots, params) = roots_query(client, sel).await?;
    let sql = format!("{roots} ORDER BY P.ID");
    let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
    let plans = [ColumnPlan {
        name: c::ID.to_owned(),
        sql_type: bptmig_workdir::sql_type::SqlType::Int,
        nullable: false,
    }];
    let meta = PartMeta {
        run_id: ctx.run_id.to_owned(),
        table: "roots".to_owned(),
        column_roles: r#"{"ID":"key"}"#.to_owned(),
    };
    let dir = ctx.wd.stage_dir(STAGE);
    let written = stream_part(
        ctx,
        client,
        &dir,
        ROOTS_FILE,
        &sql,
        &refs,
        &plans,
        Some(0),
        &meta,
    )
    .await?;
    let selected = match written {
        Some(entry) => entry.rows,
        None => {
            // No tree selected: an empty file records that the selection was made.
            let schema = schema_for(&plans);
            let empty = RecordBatch::new_empty(schema.clone());
            parts::write_file(
                &path,
                schema,
                &[empty],
                parts::writer_properties(&meta, ctx.row_group_rows, &plans),
            )?;
            0
        }
    };
    ctx.reporter
        .note(&format!("{selected} top-level processes selected"));
    Ok(selected)
}

/// The query of the selected top-level processes' IDs (`SELECT P.ID FROM … P WHERE …`, no
/// ORDER BY) and its parameters. Fails when the selection names something the source lacks.
pub async fn roots_query(client: &mut SqlClient, sel: &Selection) -> Result<(String, Vec<String>)> {
    let mut params: Vec<String> = Vec::new();
    let mut filters = vec![format!("P.{} IS NULL", quote_ident(c::PARENT_PROCESS_ID))];
    let in_list = |params: &mut Vec<String>, names: &[String]| {
        let start = params.len();
        params.extend(names.iter().cloned());
        (start + 1..=params.len())
            .map(|i| format!("@P{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    check_names(
        client,
        "selection.statuses",
        c::PROCESS_STATUS,
        &sel.statuses,
    )
    .await?;
    check_names(client, "selection.tenants", c::TENANT, &sel.tenants).await?;
    check_names(
        client,
        "selection.process_definitions",
        c::PROCESS_DEFINITION,
        &sel.process_definitions,
    )
    .await?;
    check_names(client, "selection.espaces", c::ESPACE, &sel.espaces).await?;
    if !sel.statuses.is_empty() {
        let list = in_list(&mut params, &sel.statuses);
        filters.push(format!(
            "P.STATUS_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::PROCESS_STATUS
        ));
    }
    if let Some(from) = &sel.created_from {
        filters.push(format!(
            "P.CREATED >= CAST('{}' AS DATETIME)",
            iso_literal(from)
        ));
    }
    if let Some(to) = &sel.created_to {
        filters.push(format!(
            "P.CREATED < CAST('{}' AS DATETIME)",
            iso_literal(to)
        ));
    }
    if !sel.tenants.is_empty() {
        let list = in_list(&mut params, &sel.tenants);
        filters.push(format!(
            "P.TENANT_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::TENANT
        ));
    }
    let mut def_filters = Vec::new();
    if !sel.process_definitions.is_empty() {
        let list = in_list(&mut params, &sel.process_definitions);
        def_filters.push(format!("NAME IN ({list})"));
    }
    if !sel.espaces.is_empty() {
        let list = in_list(&mut params, &sel.espaces);
        def_filters.push(format!(
            "ESPACE_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::ESPACE
        ));
    }
    if !sel.include_inactive_definitions {
        def_filters.push("IS_ACTIVE = 1".to_owned());
    }
    if !def_filters.is_empty() {
        filters.push(format!(
            "P.PROCESS_DEF_ID IN (SELECT ID FROM {} WHERE {})",
            c::PROCESS_DEFINITION,
            def_filters.join(" AND ")
        ));
    }
    let sql = format!(
        "SELECT P.ID FROM {} P WHERE {}",
        c::PROCESS,
        filters.join(" AND ")
    );
    Ok((sql, params))
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS` (validated by the pipeline) as a DATETIME literal.
fn iso_literal(s: &str) -> String {
    if s.len() == 10 {
        format!("{s}T00:00:00")
    } else {
        s.replace(' ', "T")
    }
}

/// Refuses selection names that do not exist in the source: a typo must not silently
/// select nothing.
async fn check_names(
    client: &mut SqlClient,
    key: &'static str,
    table: &str,
    names: &[String],
) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let rows = db::query_rows(
        client,
        Side::Source,
        &format!("SELECT DISTINCT NAME FROM {table}"),
        &[],
    )
    .await?;
    let known: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !known.contains(n))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        let mut known = known;
        known.sort();
        Err(Error::UnknownNames {
            key,
            unknown: unknown.join("`, `"),
            known: known.join("`, `"),
        })
    }
}

/// The part files `dir`'s manifest lists.
fn part_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    Ok(Manifest::read(dir)?
        .map(|m| m.parts.iter().map(|p| dir.join(&p.file)).collect())
        .unwrap_or_default())
}

/// Rows of a Parquet file, from its footer.
fn file_rows(path: &std::path::Path) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::parquet(path, e))?;
    Ok(builder.metadata().file_metadata().num_rows().unsigned_abs())
}

/// Creates `#name (ID INT PRIMARY KEY)` on the connection (new for each run) and fills it
/// from the `ID` column of `files`, a batch at a time: memory does not grow with the IDs.
async fn load_ids(client: &mut SqlClient, name: &str, files: &[std::path::PathBuf]) -> Result<()> {
    db::execute(
        client,
        Side::Source,
        &format!("CREATE TABLE {name} (ID INT NOT NULL PRIMARY KEY)"),
    )
    .await?;
    let mut sql = String::new();
    for path in files {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::parquet(path, e))?;
        let idx = builder
            .schema()
            .index_of(c::ID)
            .map_err(|e| Error::arrow(&path.display().to_string(), e))?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [idx]);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(1000)
            .build()
            .map_err(|e| Error::parquet(path, e))?;
        for batch in reader {
            let batch = batch.map_err(|e| Error::arrow(&path.display().to_string(), e))?;
            let Some(ids) = batch.column(0).as_any().downcast_ref::<Int32Array>() else {
                continue;
            };
            if ids.is_empty() {
                continue;
            }
            sql.clear();
            let _ = write!(sql, "INSERT INTO {name} (ID) VALUES ");
            for (i, id) in ids.iter().flatten().enumerate() {
                let _ = write!(sql, "{}({id})", if i == 0 { "" } else { "," });
            }
            db::execute(client, Side::Source, &sql).await?;
        }
    }
    Ok(())
}

/// The `OSEVT_*` tables that exist, as `OSSYS_ENTITY.EVENT_TABLE_NAME` lists them.
async fn event_tables(client: &mut SqlClient) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT DISTINCT {e} FROM {t} WHERE {e} IS NOT NULL AND {e} <> ''",
        e = c::EVENT_TABLE_NAME,
        t = c::ENTITY
    );
    let rows = db::query_rows(client, Side::Source, &sql, &[]).await?;
    let mut names = Vec::new();
    for name in rows.iter().filter_map(|r| db::text_cell(r, 0)) {
        if !c::is_osevt(&name) {
            continue;
        }
        if db::table_columns(client, Side::Source, &name)
            .await?
            .is_empty()
        {
            tracing::warn!(table = %name, "OSSYS_ENTITY names an event table that does not exist; skipped");
            continue;
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

// ---- streaming -------------------------------------------------------------------------------

/// The live columns of `table` as plans, checked against the model.
async fn plan_table(client: &mut SqlClient, name: &str, model: &Table) -> Result<Vec<ColumnPlan>> {
    let live = db::table_columns(client, Side::Source, name).await?;
    if live.is_empty() {
        return Err(Error::Db(bptmig_db::Error::NotPlatform {
            side: Side::Source,
            missing: name.to_owned(),
        }));
    }
    let plans = live
        .iter()
        .map(|lc| ColumnPlan::from_catalog(name, lc))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bptmig_db::Error::Type {
            side: Side::Source,
            source: e,
        })?;
    require_columns(Side::Source, model, &plans)?;
    Ok(plans)
}

fn manifest_columns(plans: &[ColumnPlan]) -> Vec<ManifestColumn> {
    plans
        .iter()
        .map(|p| ManifestColumn {
            name: p.name.clone(),
            sql_type: p.sql_type.ddl(),
        })
        .collect()
}

/// Reads `table`'s manifest, starting over when it describes other columns.
fn resume_manifest(
    ctx: &Ctx<'_>,
    dir: &std::path::Path,
    name: &str,
    key: Option<&str>,
    plans: &[ColumnPlan],
) -> Result<Manifest> {
    let columns = manifest_columns(plans);
    let fresh = Manifest {
        table: name.to_owned(),
        run_id: ctx.run_id.to_owned(),
        key: key.map(str::to_owned),
        columns: columns.clone(),
        complete: false,
        parts: Vec::new(),
    };
    let manifest = match Manifest::read(dir)? {
        Some(m) if m.columns == columns && m.run_id == ctx.run_id => m,
        Some(_) => {
            tracing::warn!(
                table = name,
                "the table's columns changed since the interrupted run; extracting it again"
            );
            fresh
        }
        None => fresh,
    };
    manifest.remove_unlisted(dir)?;
    Ok(manifest)
}

/// Streams `model.name` ordered by `ID`, one query per part (`TOP (part_rows)` after the last
/// listed key), so a resumed run produces exactly the parts an uninterrupted one would.
async fn extract_table(
    ctx: &Ctx<'_>,
    client: &mut SqlClient,
    model: &Table,
    filter: &str,
) -> Result<TableSummary> {
    let name = model.name;
    let dir = ctx.wd.table_dir(STAGE, name);
    let plans = plan_table(client, name, model).await?;
    let key = model.key.unwrap_or(c::ID);
    let mut manifest = resume_manifest(ctx, &dir, name, Some(key), &plans)?;
    let resumed_rows = manifest.rows();
    ctx.reporter.table_started(STAGE, name, None);
    if resumed_rows > 0 {
        ctx.reporter.rows(name, resumed_rows);
    }
    let key_index = plans.iter().position(|p| p.name.eq_ignore_ascii_case(key));
    let select = plans
        .iter()
        .map(ColumnPlan::select_expr)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT TOP ({}) {select} FROM {name} WHERE {k} > @P1 AND {filter} ORDER BY {k}",
        ctx.part_rows,
        k = quote_ident(key)
    );
    let meta = PartMeta::for_table(ctx.run_id, name, model, &plans);
    while !manifest.complete {
        ctx.check_cancel()?;
        let last = manifest.last_key().unwrap_or(i64::from(i32::MIN));
        let file = Manifest::part_name(manifest.parts.len());
        let written = stream_part(
            ctx,
            client,
            &dir,
            &file,
            &sql,
            &[&last],
            &plans,
            key_index,
            &meta,
        )
        .await?;
        match written {
            Some(entry) => {
                let full = entry.rows as usize >= ctx.part_rows;
                ctx.reporter.rows(name, entry.rows);
                manifest.parts.push(entry);
                manifest.complete = !full;
                manifest.write(&dir)?;
                if let Some(d) = ctx.options.part_delay {
                    tokio::time::sleep(d).await;
                }
            }
            None => {
                manifest.complete = true;
                manifest.write(&dir)?;
            }
        }
    }
    ctx.reporter.table_finished(name, manifest.rows());
    Ok(TableSummary {
        table: name.to_owned(),
        rows: manifest.rows(),
        parts: manifest.parts.len(),
        resumed_rows,
    })
}

/// Runs one page query into one part file; `None` when the page is empty.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
async fn stream_part(
    ctx: &Ctx<'_>,
    client: &mut SqlClient,
    dir: &std::path::Path,
    file: &str,
    sql: &str,
    params: &[&dyn ToSql],
    plans: &[ColumnPlan],
    key_index: Option<usize>,
    meta: &PartMeta,
) -> Result<Option<bptmig_workdir::PartEntry>> {
    let mut writer =
        LazyPartWriter::new(dir, file, meta.clone(), ctx.row_group_rows, plans.to_vec());
    let mut builders: Vec<ColumnBuilder> = plans
        .iter()
        .map(|p| ColumnBuilder::new(p, ctx.row_group_rows))
        .collect();
    let mut keys: Option<(i64, i64)> = None;
    let schema = schema_for(plans);
    let mut stream = client
        .query(sql, params)
        .await
        .map_err(|e| Error::query(Side::Source, sql, e))?;
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| Error::query(Side::Source, sql, e))?
    {
        let QueryItem::Row(row) = item else { continue };
        append_row(&meta.table, &mut builders, row, key_index, &mut keys)?;
        if builders[0].len() >= ctx.row_group_rows {
            let batch = finish_batch(&meta.table, &schema, &mut builders)?;
            writer.write(&batch, keys.take())?;
        }
    }
    if !builders[0].is_empty() {
        let batch = finish_batch(&meta.table, &schema, &mut builders)?;
        writer.write(&batch, keys.take())?;
    }
    Ok(writer.finish()?)
}

/// An `OSEVT_*` table has no key to page by; its rows (one per open subscribed activity) are
/// streamed in one ordered query and listed in the manifest only when all are written. An
/// interrupted table is extracted again from the start.
async fn extract_keyless(
    ctx: &Ctx<'_>,
    client: &mut SqlClient,
    name: &str,
    model: &Table,
    filter: &str,
) -> Result<TableSummary> {
    ctx.check_cancel()?;
    let dir = ctx.wd.table_dir(STAGE, name);
    let plans = plan_table(client, name, model).await?;
    let mut manifest = resume_manifest(ctx, &dir, name, None, &plans)?;
    if manifest.complete {
        return Ok(TableSummary {
            table: name.to_owned(),
            rows: manifest.rows(),
            parts: manifest.parts.len(),
            resumed_rows: manifest.rows(),
        });
    }
    manifest.parts.clear();
    manifest.remove_unlisted(&dir)?;
    ctx.reporter.table_started(STAGE, name, None);
    let select = plans
        .iter()
        .map(ColumnPlan::select_expr)
        .collect::<Vec<_>>()
        .join(", ");
    let order = plans
        .iter()
        .map(|p| quote_ident(&p.name))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {select} FROM {name} WHERE {filter} ORDER BY {order}");
    let meta = PartMeta::for_table(ctx.run_id, name, model, &plans);
    let batches = db::read_batches(
        client,
        Side::Source,
        name,
        &sql,
        &[],
        &plans,
        ctx.row_group_rows,
        None,
    )
    .await?;
    let new_part = |n: usize| {
        LazyPartWriter::new(
            &dir,
            &Manifest::part_name(n),
            meta.clone(),
            ctx.row_group_rows,
            plans.clone(),
        )
    };
    let mut writer = new_part(manifest.parts.len());
    for (batch, _) in &batches {
        writer.write(batch, None)?;
        if writer.rows() as usize >= ctx.part_rows {
            let done = std::mem::replace(&mut writer, new_part(manifest.parts.len() + 1));
            manifest.parts.extend(done.finish()?);
        }
    }
    manifest.parts.extend(writer.finish()?);
    manifest.complete = true;
    manifest.write(&dir)?;
    ctx.reporter.rows(name, manifest.rows());
    ctx.reporter.table_finished(name, manifest.rows());
    Ok(TableSummary {
        table: name.to_owned(),
        rows: manifest.rows(),
        parts: manifest.parts.len(),
        resumed_rows: 0,
    })
}
