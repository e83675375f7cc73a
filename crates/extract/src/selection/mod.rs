//! Which history moves: the selected top-level processes ([`roots_query`]) and the trees
//! under them (`TreeScope`), shared by the extract and by `bptmig check` ([`used_ids`]).
//!
//! A tree is scoped level by level in temporary tables on the source connection: the roots,
//! every process whose `TOP_PROCESS_ID` is a root, every activity of those processes. Each
//! instance table's rows are those whose link column is in the level above
//! (`TreeScope::filter`); nested `IN` subqueries instead of the tables are slow on some
//! servers.

mod roots;
mod scope;
mod used;

pub use roots::{roots_query, selected_roots};
pub(crate) use scope::{Level, TreeScope};
pub use used::used_ids;

use bptmig_db::{self as db, Side, SqlClient, ToSql};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;
use bptmig_workdir::layout::ROOTS_FILE;
use bptmig_workdir::part::PartMeta;
use bptmig_workdir::sql_type::{ColumnPlan, SqlType};
use bptmig_workdir::PartEntry;

use crate::listed::{self, ListedPart, Roots};
use crate::session::{Session, Step};
use crate::stage::{Ctx, STAGE};
use crate::stream::{stream_part, write_empty_part, PageQuery};
use crate::Result;

/// Chooses the top-level processes once per run and streams them into
/// `extract/roots.parquet` (its entry in [`listed::ROOTS_ENTRY_FILE`]), so a resumed extract
/// works on exactly the same trees. Roots found damaged are chosen again, and every table
/// extracted under them is discarded. Returns the roots file, checked.
pub(crate) async fn select_roots(
    ctx: &Ctx<'_>,
    source: &mut Session<'_>,
    sel: &Selection,
) -> Result<ListedPart> {
    let dir = ctx.wd.stage_dir(STAGE);
    match listed::listed_roots(&dir)? {
        Roots::Intact(roots) => return Ok(roots),
        Roots::Damaged => listed::discard_selection(&dir)?,
        Roots::Absent => {}
    }
    let entry = source
        .run(&Step::Selection, async |client, _| {
            write_roots(ctx, client, sel).await
        })
        .await?;
    listed::record_roots(&dir, &entry)?;
    ctx.reporter
        .note(&format!("{} top-level processes selected", entry.rows));
    Ok(ListedPart { dir, entry })
}

/// Streams the selected top-level processes' IDs into the roots file; an empty file when
/// none is selected, which records that the selection was made.
async fn write_roots(ctx: &Ctx<'_>, client: &mut SqlClient, sel: &Selection) -> Result<PartEntry> {
    let dir = ctx.wd.stage_dir(STAGE);
    let (roots, params) = roots_query(client, sel).await?;
    let sql = format!("{roots} ORDER BY P.ID");
    let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
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
    let page = PageQuery {
        sql: &sql,
        params: &refs,
        plans: &plans,
        key_index: Some(0),
        meta: &meta,
        dir: &dir,
        file: ROOTS_FILE,
    };
    match stream_part(ctx, client, &page).await? {
        Some(entry) => Ok(entry),
        None => write_empty_part(ctx, &page),
    }
}

/// The `OSEVT_*` tables that exist, as `OSSYS_ENTITY.EVENT_TABLE_NAME` lists them.
pub(crate) async fn event_tables(client: &mut SqlClient) -> Result<Vec<String>> {
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
