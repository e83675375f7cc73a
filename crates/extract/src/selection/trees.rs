//! The selected trees, whole ones apart from broken ones: the processes' key columns read
//! once, the trees judged in memory (`broken`), whatever the number of roots.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, Int32Array};
use arrow::record_batch::RecordBatch;
use bptmig_db::{self as db, BatchQuery, Names, Side, SqlClient, ToSql};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;
use bptmig_workdir::broken_trees::Tree;
use bptmig_workdir::sql_type::{ColumnPlan, SqlType};

use super::broken::{broken_trees, Found, ProcessKeys};
use super::roots::{filters, Filters};
use crate::Result;

/// Rows per batch when the key columns are read.
const KEY_BATCH_ROWS: usize = 65_536;
/// IDs per statement when the selection's conditions are asked of a list of processes
/// (a statement stays well within 4,000 characters).
const IDS_PER_STATEMENT: usize = 200;

/// What a selection asks for, in the source as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedTrees {
    /// The selected top-level processes of whole trees, ascending: the trees that move.
    pub roots: Vec<i32>,
    /// The broken trees the selection asks for (one of whose top-level processes, or of
    /// whose fragments' tops, the selection's conditions select), by smallest process ID.
    /// None of their processes moves.
    pub broken: Vec<Tree>,
}

/// The selected trees: the top-level processes (no parent, or `TOP_PROCESS_ID = ID`) that
/// the selection's conditions select, apart from the broken trees, which are returned
/// instead; every table named as `names` (the source's catalog) spells it. Fails when the
/// selection names something the source lacks.
pub async fn select_trees(
    client: &mut SqlClient,
    names: &Names,
    sel: &Selection,
) -> Result<SelectedTrees> {
    let filters = filters(client, names, sel).await?;
    let sql = format!("{} ORDER BY P.ID", filters.roots_sql());
    let selected = selected_ids(client, &sql, &filters.params).await?;
    let procs = process_keys(client, names).await?;
    let activities = parent_activities(client, names).await?;
    let found = broken_trees(&procs, &activities);
    drop(procs);
    let broken = asked_for(client, &filters, &selected, found).await?;
    let left: HashSet<i32> = broken
        .iter()
        .flat_map(|t| t.processes.iter().copied())
        .collect();
    let roots = selected
        .into_iter()
        .filter(|id| !left.contains(id))
        .collect();
    Ok(SelectedTrees { roots, broken })
}

/// The broken trees of `found` that the selection asks for: one of their heads is a
/// selected root, or matches the selection's conditions.
async fn asked_for(
    client: &mut SqlClient,
    filters: &Filters,
    selected: &[i32],
    found: Vec<Found>,
) -> Result<Vec<Tree>> {
    if filters.is_empty() {
        return Ok(found.into_iter().map(|f| f.tree).collect());
    }
    let selected: HashSet<i32> = selected.iter().copied().collect();
    let others: Vec<i32> = found
        .iter()
        .flat_map(|f| f.heads.iter().copied())
        .filter(|id| !selected.contains(id))
        .collect();
    let mut matching = selected;
    for ids in others.chunks(IDS_PER_STATEMENT) {
        let sql = filters.among_sql(ids);
        matching.extend(selected_ids(client, &sql, &filters.params).await?);
    }
    Ok(found
        .into_iter()
        .filter(|f| f.heads.iter().any(|id| matching.contains(id)))
        .map(|f| f.tree)
        .collect())
}

/// The IDs (first column) that `sql` returns.
async fn selected_ids(client: &mut SqlClient, sql: &str, params: &[String]) -> Result<Vec<i32>> {
    let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
    let rows = db::query_rows(client, Side::Source, sql, &refs).await?;
    Ok(rows
        .iter()
        .filter_map(|r| i32::try_from(db::int_cell(r, 0)?).ok())
        .collect())
}

/// Plans of nullable INT columns named `names`.
fn int_plans(names: &[&str]) -> Vec<ColumnPlan> {
    names
        .iter()
        .map(|&name| ColumnPlan {
            name: name.to_owned(),
            sql_type: SqlType::Int,
            nullable: true,
        })
        .collect()
}

/// Streams `sql`'s INT columns, a batch at a time, into `on_row` (one `Option<i32>` per
/// column).
async fn for_each_int_row(
    client: &mut SqlClient,
    table: &str,
    sql: &str,
    columns: &[&str],
    mut on_row: impl FnMut(&[Option<i32>]),
) -> Result<()> {
    let plans = int_plans(columns);
    let query = BatchQuery {
        side: Side::Source,
        table,
        sql,
        params: &[],
        plans: &plans,
        batch_rows: KEY_BATCH_ROWS,
        key_index: None,
    };
    let mut row = vec![None; columns.len()];
    db::for_each_batch(client, &query, |batch: RecordBatch, _| -> Result<()> {
        let arrays: Vec<Option<&Int32Array>> = batch
            .columns()
            .iter()
            .map(|a| a.as_any().downcast_ref::<Int32Array>())
            .collect();
        for i in 0..batch.num_rows() {
            for (cell, array) in row.iter_mut().zip(&arrays) {
                *cell = array.filter(|a| a.is_valid(i)).map(|a| a.value(i));
            }
            on_row(&row);
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// The key columns of a process, in the order [`keys_sql`] reads them.
const KEY_COLUMNS: [&str; 4] = [
    c::ID,
    c::PARENT_PROCESS_ID,
    c::TOP_PROCESS_ID,
    c::PARENT_ACTIVITY_ID,
];

/// The statement that reads every process's [`KEY_COLUMNS`].
pub(super) fn keys_sql(names: &Names) -> db::Result<String> {
    let list: Vec<String> = KEY_COLUMNS.iter().map(|n| db::quote_ident(n)).collect();
    Ok(format!(
        "SELECT {} FROM {}",
        list.join(", "),
        names.quoted(c::PROCESS)?
    ))
}

/// Every process's key columns, in one pass.
async fn process_keys(client: &mut SqlClient, names: &Names) -> Result<Vec<ProcessKeys>> {
    let sql = keys_sql(names)?;
    let mut procs = Vec::new();
    for_each_int_row(client, c::PROCESS, &sql, &KEY_COLUMNS, |row| {
        if let [Some(id), parent, top, parent_activity] = *row {
            procs.push(ProcessKeys {
                id,
                parent,
                top,
                parent_activity,
            });
        }
    })
    .await?;
    Ok(procs)
}

/// The `PROCESS_ID` of every activity that a process names as its parent activity (`None`
/// for an activity without process), read through a temporary table of those IDs that no
/// other connection's name clashes with.
async fn parent_activities(
    client: &mut SqlClient,
    names: &Names,
) -> Result<HashMap<i32, Option<i32>>> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let table = format!("#bptmig_{}_{n}_parent_acts", std::process::id());
    let (fill, sql) = parent_activities_sql(names, &table)?;
    db::execute(client, Side::Source, &fill).await?;
    let mut activities = HashMap::new();
    for_each_int_row(client, c::ACTIVITY, &sql, &[c::ID, c::PROCESS_ID], |row| {
        if let [Some(id), process] = *row {
            activities.insert(id, process);
        }
    })
    .await?;
    db::execute(client, Side::Source, &format!("DROP TABLE {table}")).await?;
    Ok(activities)
}

/// The statements of [`parent_activities`] through the temporary table `table`: the one
/// that fills it with the parent activities' IDs, the one that reads those activities.
pub(super) fn parent_activities_sql(names: &Names, table: &str) -> db::Result<(String, String)> {
    let pa = db::quote_ident(c::PARENT_ACTIVITY_ID);
    let fill = format!(
        "CREATE TABLE {table} (ID INT NOT NULL PRIMARY KEY); INSERT INTO {table} (ID) \
         SELECT DISTINCT {pa} FROM {} WHERE {pa} IS NOT NULL",
        names.quoted(c::PROCESS)?
    );
    let read = format!(
        "SELECT A.ID, A.{} FROM {} A WHERE A.ID IN (SELECT ID FROM {table})",
        db::quote_ident(c::PROCESS_ID),
        names.quoted(c::ACTIVITY)?
    );
    Ok((fill, read))
}
