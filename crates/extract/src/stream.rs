//! Streaming a table into Parquet parts: keyset pages of `part_rows` rows for tables with a
//! key ([`extract_table`]), one ordered query cut into parts for the key-less `OSEVT_*`
//! tables ([`extract_keyless`]). Either way a query's rows pass through one batch of
//! `row_group_rows` at a time.

use std::path::Path;

use arrow::record_batch::RecordBatch;
use bptmig_db::{self as db, quote_ident, BatchQuery, Side, SqlClient, ToSql};
use bptmig_model::catalog::{self as c, Table};
use bptmig_workdir::part::{self as parts, LazyPartWriter, PartMeta};
use bptmig_workdir::sql_type::{schema_for, ColumnPlan};
use bptmig_workdir::{Manifest, ManifestColumn, PartEntry};

use crate::listed::drop_damaged;
use crate::session::{Session, Step};
use crate::snapshot::require_columns;
use crate::stage::{Ctx, TableSummary, STAGE};
use crate::{Error, Result};

/// One query whose rows become one part file.
#[derive(Clone, Copy)]
pub(crate) struct PageQuery<'a> {
    pub sql: &'a str,
    pub params: &'a [&'a dyn ToSql],
    /// One plan per selected column, in `SELECT` order.
    pub plans: &'a [ColumnPlan],
    /// The key column, whose min/max the part's manifest entry records.
    pub key_index: Option<usize>,
    pub meta: &'a PartMeta,
    pub dir: &'a Path,
    pub file: &'a str,
}

/// Runs one page query into one part file; `None` when the page is empty (no file).
pub(crate) async fn stream_part(
    ctx: &Ctx<'_>,
    client: &mut SqlClient,
    page: &PageQuery<'_>,
) -> Result<Option<PartEntry>> {
    let mut writer = LazyPartWriter::new(
        page.dir,
        page.file,
        page.meta.clone(),
        ctx.row_group_rows,
        page.plans.to_vec(),
    );
    let query = BatchQuery {
        side: Side::Source,
        table: &page.meta.table,
        sql: page.sql,
        params: page.params,
        plans: page.plans,
        batch_rows: ctx.row_group_rows,
        key_index: page.key_index,
    };
    let streamed = db::for_each_batch(client, &query, |batch, keys| -> Result<()> {
        Ok(writer.write(&batch, keys)?)
    })
    .await;
    if let Err(e) = streamed {
        // The part is atomic: its unfinished temporary file goes with the failure.
        drop(writer);
        discard_unfinished(&page.dir.join(page.file));
        return Err(e);
    }
    Ok(writer.finish()?)
}

/// Removes the temporary file of the part `path`, if a failed write left one.
fn discard_unfinished(path: &Path) {
    let tmp = bptmig_workdir::tmp_path(path);
    if let Err(e) = std::fs::remove_file(&tmp) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(
                "cannot remove `{}`: {e}; the next run removes it",
                tmp.display()
            );
        }
    }
}

/// Writes `page`'s file with no rows, for a page whose emptiness must be recorded.
pub(crate) fn write_empty_part(ctx: &Ctx<'_>, page: &PageQuery<'_>) -> Result<PartEntry> {
    let schema = schema_for(page.plans);
    let empty = RecordBatch::new_empty(schema.clone());
    Ok(parts::write_file(
        &page.dir.join(page.file),
        schema,
        &[empty],
        parts::writer_properties(page.meta, ctx.row_group_rows, page.plans),
    )?)
}

/// Streams `model.name` ordered by `ID`, one query per part (`TOP (part_rows)` after the last
/// listed key), so a resumed run produces exactly the parts an uninterrupted one would. Each
/// part is one [`Step`]: a transient fault redoes that part on a new connection.
pub(crate) async fn extract_table(
    ctx: &Ctx<'_>,
    source: &mut Session<'_>,
    model: &Table,
) -> Result<TableSummary> {
    let name = model.name;
    let dir = ctx.wd.table_dir(STAGE, name);
    let plans = read_plans(source, name, model).await?;
    let key = model.key.unwrap_or(c::ID);
    let table = source.names().quoted(name)?;
    let mut manifest = resume_manifest(ctx, &dir, name, Some(key), &plans)?;
    let resumed_rows = manifest.rows();
    ctx.reporter.table_started(STAGE, name, None);
    if resumed_rows > 0 {
        ctx.reporter.rows(name, resumed_rows);
    }
    let meta = PartMeta::for_table(ctx.run_id, name, model, &plans);
    let key_index = plans.iter().position(|p| p.name.eq_ignore_ascii_case(key));
    while !manifest.complete {
        ctx.check_cancel()?;
        // Below every 32-bit ID, so that the first page holds −2,147,483,648 too.
        let last = manifest.last_key().unwrap_or(i64::from(i32::MIN) - 1);
        let file = Manifest::part_name(manifest.parts.len());
        let step = Step::Part {
            table: name.to_owned(),
            part: manifest.parts.len(),
        };
        let entry = source
            .run(&step, async |client, scope| {
                let sql = format!(
                    "SELECT TOP ({}) {} FROM {table} WHERE {k} > @P1 AND {} ORDER BY {k}",
                    ctx.part_rows,
                    select_list(&plans),
                    scope.filter(name),
                    k = quote_ident(key)
                );
                let page = PageQuery {
                    sql: &sql,
                    params: &[&last],
                    plans: &plans,
                    key_index,
                    meta: &meta,
                    dir: &dir,
                    file: &file,
                };
                stream_part(ctx, client, &page).await
            })
            .await?;
        let Some(entry) = entry else {
            manifest.complete = true;
            manifest.write(&dir)?;
            break;
        };
        let full = entry.rows as usize >= ctx.part_rows;
        ctx.reporter.rows(name, entry.rows);
        manifest.parts.push(entry);
        manifest.complete = !full;
        manifest.write(&dir)?;
        if let Some(d) = ctx.part_delay {
            tokio::time::sleep(d).await;
        }
    }
    ctx.reporter.table_finished(name, manifest.rows());
    Ok(summary(name, &manifest, resumed_rows))
}

/// An `OSEVT_*` table has no key to page by; its rows (one per open subscribed activity) are
/// streamed in one ordered query, cut into parts of at least `part_rows` rows at batch
/// boundaries, and listed in the manifest only when all are written. An interrupted table,
/// or one that met a transient fault, is extracted again from the start.
pub(crate) async fn extract_keyless(
    ctx: &Ctx<'_>,
    source: &mut Session<'_>,
    name: &str,
    model: &Table,
) -> Result<TableSummary> {
    ctx.check_cancel()?;
    let dir = ctx.wd.table_dir(STAGE, name);
    let plans = read_plans(source, name, model).await?;
    let table = source.names().quoted(name)?;
    let mut manifest = resume_manifest(ctx, &dir, name, None, &plans)?;
    if manifest.complete {
        let rows = manifest.rows();
        return Ok(summary(name, &manifest, rows));
    }
    manifest.parts.clear();
    manifest.remove_unlisted(&dir)?;
    ctx.reporter.table_started(STAGE, name, None);
    let step = Step::Table {
        table: name.to_owned(),
    };
    let streamed = source
        .run(&step, async |client, scope| {
            // What an earlier attempt wrote is not listed: it goes.
            manifest.remove_unlisted(&dir)?;
            let keyless = Keyless {
                dir: &dir,
                name,
                table: &table,
                model,
                plans: &plans,
            };
            stream_keyless(ctx, client, &keyless, &scope.filter(name)).await
        })
        .await;
    let parts = match streamed {
        Ok(parts) => parts,
        Err(e) => {
            manifest.remove_unlisted(&dir)?;
            return Err(e);
        }
    };
    manifest.parts = parts;
    manifest.complete = true;
    manifest.write(&dir)?;
    ctx.reporter.rows(name, manifest.rows());
    ctx.reporter.table_finished(name, manifest.rows());
    Ok(summary(name, &manifest, 0))
}

/// A key-less table to stream: where its parts go, its names and its columns.
struct Keyless<'a> {
    dir: &'a Path,
    /// The model's name, the work directory's.
    name: &'a str,
    /// The catalog's spelling, quoted, for the statement.
    table: &'a str,
    model: &'a Table,
    plans: &'a [ColumnPlan],
}

/// Streams the key-less table `t` (its rows that `filter` selects) into parts of at least
/// `part_rows` rows; returns their entries, none of them listed yet.
async fn stream_keyless(
    ctx: &Ctx<'_>,
    client: &mut SqlClient,
    t: &Keyless<'_>,
    filter: &str,
) -> Result<Vec<PartEntry>> {
    let Keyless {
        dir,
        name,
        table,
        model,
        plans,
    } = *t;
    let order = plans
        .iter()
        .map(|p| quote_ident(&p.name))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY {order}",
        select_list(plans)
    );
    let meta = PartMeta::for_table(ctx.run_id, name, model, plans);
    let query = BatchQuery {
        side: Side::Source,
        table: name,
        sql: &sql,
        params: &[],
        plans,
        batch_rows: ctx.row_group_rows,
        key_index: None,
    };
    let new_part = |n: usize| {
        LazyPartWriter::new(
            dir,
            &Manifest::part_name(n),
            meta.clone(),
            ctx.row_group_rows,
            plans.to_vec(),
        )
    };
    let mut parts = Vec::new();
    let mut writer = new_part(0);
    db::for_each_batch(client, &query, |batch, _| -> Result<()> {
        writer.write(&batch, None)?;
        if writer.rows() as usize >= ctx.part_rows {
            let done = std::mem::replace(&mut writer, new_part(parts.len() + 1));
            parts.extend(done.finish()?);
        }
        Ok(())
    })
    .await?;
    parts.extend(writer.finish()?);
    Ok(parts)
}

/// The live columns of `name` as plans, read as a step of its own.
async fn read_plans(
    source: &mut Session<'_>,
    name: &str,
    model: &Table,
) -> Result<Vec<ColumnPlan>> {
    let step = Step::Columns {
        table: name.to_owned(),
    };
    source
        .run(&step, async |client, _| {
            plan_table(client, name, model).await
        })
        .await
}

fn summary(name: &str, manifest: &Manifest, resumed_rows: u64) -> TableSummary {
    TableSummary {
        table: name.to_owned(),
        rows: manifest.rows(),
        parts: manifest.parts.len(),
        resumed_rows,
    }
}

/// The `SELECT` list that reads `plans`.
pub(crate) fn select_list(plans: &[ColumnPlan]) -> String {
    plans
        .iter()
        .map(ColumnPlan::select_expr)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The live columns of `table` as plans, checked against the model.
async fn plan_table(client: &mut SqlClient, name: &str, model: &Table) -> Result<Vec<ColumnPlan>> {
    let live = db::table_columns(client, Side::Source, name).await?;
    if live.is_empty() {
        return Err(Error::Db(db::Error::NotPlatform {
            side: Side::Source,
            missing: name.to_owned(),
        }));
    }
    let plans = live
        .iter()
        .map(|lc| ColumnPlan::from_catalog(name, lc))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| db::Error::Type {
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

/// Reads `table`'s manifest, starting over when it describes other columns, and cuts it
/// before its first damaged part ([`drop_damaged`]).
fn resume_manifest(
    ctx: &Ctx<'_>,
    dir: &Path,
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
    let mut manifest = match Manifest::read(dir)? {
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
    // A listed part that is not what was listed is extracted again, and every part after it.
    drop_damaged(dir, &mut manifest)?;
    manifest.remove_unlisted(dir)?;
    Ok(manifest)
}
