//! Which history moves: the selected top-level processes ([`roots_query`]) and the trees
//! under them (`TreeScope`), shared by the extract and by `bptmig check` ([`used_ids`]).
//!
//! A top-level process has no parent or has `TOP_PROCESS_ID = ID`. [`select_trees`] reads
//! every process's key columns once and groups the processes by every reference between
//! them; a group with a parent, parent activity or top process missing, a `TOP_PROCESS_ID`
//! that disagrees with the parent's, or a parent cycle is a broken tree, which never moves in
//! part. Those the selection asks for (one of their top-level processes or fragment tops
//! matches its conditions) go to `extract/broken_trees.json`; `broken_tree = "fail"` refuses
//! them ([`BrokenTreesRefused`]), `"skip"` leaves them out.
//!
//! A tree is scoped level by level in temporary tables on the source connection: the roots,
//! every process whose `TOP_PROCESS_ID` is a root, every activity of those processes. Each
//! instance table's rows are those whose link column is in the level above
//! (`TreeScope::filter`); nested `IN` subqueries instead of the tables are slow on some
//! servers.
//!
//! Every statement names a platform table as the source's catalog spells it
//! ([`bptmig_db::Names`]: `[ossys_BPM_Process]`, not `OSSYS_BPM_PROCESS`), so that the
//! selection works on a case-sensitive collation too; columns keep the model's names, which
//! the platform spells in upper case.

mod broken;
mod refused;
mod roots;
mod scope;
mod trees;
mod used;

pub use refused::BrokenTreesRefused;
pub use roots::{roots_query, selected_roots};
pub(crate) use scope::{Level, TreeScope};
pub use trees::{select_trees, SelectedTrees};
pub use used::used_ids;

use std::sync::Arc;

use arrow::array::Int32Array;
use arrow::record_batch::RecordBatch;
use bptmig_db::{self as db, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{BrokenTree, Selection};
use bptmig_workdir::broken_trees::{self, BrokenTrees};
use bptmig_workdir::layout::ROOTS_FILE;
use bptmig_workdir::part::{LazyPartWriter, PartMeta};
use bptmig_workdir::sql_type::{schema_for, ColumnPlan, SqlType};
use bptmig_workdir::PartEntry;

use crate::listed::{self, ListedPart, Roots};
use crate::session::{Session, Step};
use crate::stage::{Ctx, STAGE};
use crate::stream::{write_empty_part, PageQuery};
use crate::{Error, Result};

/// Chooses the top-level processes once per run and writes them into
/// `extract/roots.parquet` (its entry in [`listed::ROOTS_ENTRY_FILE`]), so a resumed extract
/// works on exactly the same trees; the broken trees the selection asks for go to
/// `extract/broken_trees.json` first, and under `broken_tree = "fail"` the extract stops
/// there, refusing them. Roots found damaged (or a damaged broken-tree file) are chosen
/// again, and every table extracted under them is discarded. Returns the roots file, checked.
pub(crate) async fn select_roots(
    ctx: &Ctx<'_>,
    source: &mut Session<'_>,
    sel: &Selection,
) -> Result<ListedPart> {
    let dir = ctx.wd.stage_dir(STAGE);
    match listed::listed_roots(&dir)? {
        Roots::Intact(roots) if broken_file_intact(ctx) => return Ok(roots),
        Roots::Intact(_) | Roots::Damaged => listed::discard_selection(&dir)?,
        Roots::Absent => {}
    }
    broken_trees::remove(ctx.wd)?;
    let names = source.names().clone();
    let trees = source
        .run(&Step::Selection, async |client, _| {
            select_trees(client, &names, sel).await
        })
        .await?;
    let listed = BrokenTrees {
        policy: sel.broken_tree.as_str().to_owned(),
        trees: trees.broken,
    };
    broken_trees::write(ctx.wd, &listed)?;
    if !listed.trees.is_empty() {
        if sel.broken_tree == BrokenTree::Fail {
            return Err(Error::BrokenTrees(BrokenTreesRefused {
                trees: listed.trees,
                file: broken_trees::path(ctx.wd),
            }));
        }
        ctx.reporter.note(&format!(
            "{} broken process tree(s) left out (`broken_tree = \"skip\"`), listed in `{}`",
            listed.trees.len(),
            broken_trees::path(ctx.wd).display()
        ));
    }
    let entry = write_roots(ctx, &trees.roots)?;
    listed::record_roots(&dir, &entry)?;
    ctx.reporter
        .note(&format!("{} top-level processes selected", entry.rows));
    Ok(ListedPart { dir, entry })
}

/// Whether the broken-tree file of the roots is readable (or absent: an extract by a version
/// before it, which found none); logs why not.
fn broken_file_intact(ctx: &Ctx<'_>) -> bool {
    match broken_trees::read(ctx.wd) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("{e}; choosing the top-level processes again");
            false
        }
    }
}

/// Writes the selected top-level processes' IDs into the roots file, a row group of
/// `row_group_rows` at a time; an empty file when none is selected, which records that the
/// selection was made.
fn write_roots(ctx: &Ctx<'_>, roots: &[i32]) -> Result<PartEntry> {
    let dir = ctx.wd.stage_dir(STAGE);
    let plans = [ColumnPlan {
        name: c::ID.to_owned(),
        sql_type: SqlType::Int,
        nullable: false,
    }];
    let meta = PartMeta {
        run_id: ctx.run_id.to_owned(),
        table: "roots".to_owned(),
        column_roles: r#"{"ID":"key"}"#.to_owned(),
    };
    let schema = schema_for(&plans);
    let mut writer = LazyPartWriter::new(
        &dir,
        ROOTS_FILE,
        meta.clone(),
        ctx.row_group_rows,
        plans.to_vec(),
    );
    for chunk in roots.chunks(ctx.row_group_rows.max(1)) {
        let ids = Int32Array::from(chunk.to_vec());
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)])
            .map_err(|e| bptmig_workdir::Error::arrow("the selected top-level processes", e))?;
        let keys = chunk
            .iter()
            .map(|&id| i64::from(id))
            .fold(None, |k: Option<(i64, i64)>, id| {
                Some(k.map_or((id, id), |(lo, hi)| (lo.min(id), hi.max(id))))
            });
        writer.write(&batch, keys)?;
    }
    if let Some(entry) = writer.finish()? {
        return Ok(entry);
    }
    let page = PageQuery {
        sql: "",
        params: &[],
        plans: &plans,
        key_index: Some(0),
        meta: &meta,
        dir: &dir,
        file: ROOTS_FILE,
    };
    write_empty_part(ctx, &page)
}

/// The `OSEVT_*` tables that exist in `names` (the source's catalog), as
/// `OSSYS_ENTITY.EVENT_TABLE_NAME` lists them (its first spelling of each, names compared
/// case-insensitively).
pub(crate) async fn event_tables(client: &mut SqlClient, names: &Names) -> Result<Vec<String>> {
    let sql = event_tables_sql(names)?;
    let rows = db::query_rows(client, Side::Source, &sql, &[]).await?;
    let mut listed: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
    listed.sort();
    let mut tables: Vec<String> = Vec::new();
    for name in listed {
        // Names are matched whatever their case: one table however many spellings name it.
        if !c::is_osevt(&name) || tables.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            continue;
        }
        if names.find(&name)?.is_none() {
            tracing::warn!(table = %name, "OSSYS_ENTITY names an event table that does not exist; skipped");
            continue;
        }
        tables.push(name);
    }
    tables.sort();
    Ok(tables)
}

/// The statement that lists the event table names `OSSYS_ENTITY` holds.
fn event_tables_sql(names: &Names) -> db::Result<String> {
    Ok(format!(
        "SELECT DISTINCT {e} FROM {t} WHERE {e} IS NOT NULL AND {e} <> ''",
        e = c::EVENT_TABLE_NAME,
        t = names.quoted(c::ENTITY)?
    ))
}

#[cfg(test)]
mod tests;
