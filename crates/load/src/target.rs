//! What the load, verify and rollback ask of the target: pre-load checks and read-backs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_db::Side;
use bptmig_db::{self as db, SqlClient};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_workdir::sql_type::ColumnPlan;

use crate::ledger::Done;
use crate::plan::{range_predicate, Plan, TableInput};
use crate::{Error, MissingReference, Result};

/// Most ranges in one `WHERE`.
const RANGES_PER_QUERY: usize = 200;
/// Most IDs in one `IN (…)`.
const IDS_PER_QUERY: usize = 1000;

/// Refuses a target whose BPT queues hold events.
pub async fn check_queues(client: &mut SqlClient) -> Result<()> {
    for queue in [c::EVENT_QUEUE, c::LIGHT_EVENT] {
        let rows = db::scalar(
            client,
            Side::Target,
            &format!("SELECT COUNT(*) FROM {queue}"),
        )
        .await?;
        if rows > 0 {
            return Err(Error::QueueNotEmpty { table: queue, rows });
        }
    }
    Ok(())
}

/// The live columns of `table` in the target, as plans for the transformed columns (in their
/// order); refuses a table that lacks any of them.
pub async fn column_plans(client: &mut SqlClient, t: &TableInput) -> Result<Vec<ColumnPlan>> {
    let live = db::table_columns(client, Side::Target, &t.name).await?;
    let mut plans = Vec::with_capacity(t.columns.len());
    let mut missing = Vec::new();
    for name in &t.columns {
        match live.iter().find(|l| l.name.eq_ignore_ascii_case(name)) {
            Some(l) => plans.push(ColumnPlan::from_catalog(&t.name, l).map_err(|e| {
                bptmig_db::Error::Type {
                    side: Side::Target,
                    source: e,
                }
            })?),
            None => missing.push(format!("`{name}`")),
        }
    }
    if missing.is_empty() {
        Ok(plans)
    } else {
        Err(Error::MissingColumns {
            table: t.name.clone(),
            columns: missing.join(", "),
        })
    }
}

/// Rows of `table` in the target whose `column` lies in `ranges`.
pub async fn count_in(
    client: &mut SqlClient,
    table: &str,
    column: &str,
    ranges: &[(i32, i32)],
) -> Result<i64> {
    let mut n = 0;
    for group in ranges.chunks(RANGES_PER_QUERY) {
        n += db::scalar(
            client,
            Side::Target,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE {}",
                db::quote_ident(table),
                range_predicate(column, group)
            ),
        )
        .await?;
    }
    Ok(n)
}

/// Refuses a target that holds rows in this run's ID block beyond the chunks the ledger
/// lists: the target moved on since the extract.
pub async fn check_block(client: &mut SqlClient, plan: &Plan, done: &Done) -> Result<()> {
    for (ti, t) in plan.tables.iter().enumerate() {
        let Some(key) = t.model.key else { continue };
        let ranges = plan.table_ranges(ti);
        let found = count_in(client, &t.name, key, &ranges).await?;
        let ours: i64 = done
            .values()
            .filter(|r| r.table == t.name)
            .map(|r| r.rows)
            .sum();
        if found != ours {
            let shown: Vec<String> = ranges
                .iter()
                .take(3)
                .map(|(a, b)| format!("{a}..={b}"))
                .collect();
            let more = if ranges.len() > 3 { ", …" } else { "" };
            return Err(Error::IdBlockTaken {
                table: t.name.clone(),
                ranges: format!("IDs {}{more}", shown.join(", ")),
                found: found - ours,
                ours,
            });
        }
    }
    Ok(())
}

/// Distinct values of every definition, user, group, tenant, eSpace and static FK column of
/// the batches: (table, column, referenced table) → value → rows.
pub type References = BTreeMap<(String, String, &'static str), BTreeMap<i64, u64>>;

/// Adds the outward references of `batch` (a batch of table `t`) to `refs`.
pub fn collect_references(t: &TableInput, batch: &RecordBatch, refs: &mut References) {
    for col in t.model.columns {
        let ColumnRole::Fk { kind, table: to } = col.role else {
            continue;
        };
        if kind == FkKind::Instance {
            continue;
        }
        let Some(array) = batch.column_by_name(col.name) else {
            continue;
        };
        let Some(ints) = array.as_primitive_opt::<Int32Type>() else {
            continue;
        };
        let entry = refs
            .entry((t.name.clone(), col.name.to_owned(), to))
            .or_default();
        for v in ints.iter().flatten() {
            *entry.entry(i64::from(v)).or_default() += 1;
        }
    }
}

/// The references whose row the target lacks.
pub async fn missing_references(
    client: &mut SqlClient,
    refs: &References,
) -> Result<Vec<MissingReference>> {
    // One lookup per referenced table.
    let mut wanted: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
    for ((_, _, to), values) in refs {
        wanted.entry(to).or_default().extend(values.keys().copied());
    }
    let mut present: HashMap<&'static str, BTreeSet<i64>> = HashMap::new();
    for (to, values) in &wanted {
        let values: Vec<i64> = values.iter().copied().collect();
        let found = present.entry(to).or_default();
        for group in values.chunks(IDS_PER_QUERY) {
            let list = group
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!("SELECT {} FROM {} WHERE {} IN ({list})", c::ID, to, c::ID);
            for row in db::query_rows(client, Side::Target, &sql, &[]).await? {
                if let Some(v) = db::int_cell(&row, 0) {
                    found.insert(v);
                }
            }
        }
    }
    let mut missing = Vec::new();
    for ((table, column, to), values) in refs {
        for (value, rows) in values {
            if !present.get(to).is_some_and(|p| p.contains(value)) {
                missing.push(MissingReference {
                    table: table.clone(),
                    column: column.clone(),
                    value: *value,
                    references: (*to).to_owned(),
                    rows: *rows,
                });
            }
        }
    }
    Ok(missing)
}

/// Reads back the rows of `t` whose ID column lies in `ranges`, as batches with the target's
/// column types, in the transformed column order.
pub async fn read_back(
    client: &mut SqlClient,
    t: &TableInput,
    plans: &[ColumnPlan],
    ranges: &[(i32, i32)],
) -> Result<Vec<RecordBatch>> {
    let select = plans
        .iter()
        .map(ColumnPlan::select_expr)
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = Vec::new();
    for group in ranges.chunks(RANGES_PER_QUERY) {
        let sql = format!(
            "SELECT {select} FROM {} WHERE {}",
            db::quote_ident(&t.name),
            range_predicate(t.id_column(), group)
        );
        let batches = bptmig_db::read_batches(
            client,
            Side::Target,
            &t.name,
            &sql,
            &[],
            plans,
            64 * 1024,
            None,
        )
        .await?;
        out.extend(
            batches
                .into_iter()
                .map(|(b, _)| b)
                .filter(|b| b.num_rows() > 0),
        );
    }
    Ok(out)
}

/// Runs a batch, ignoring its failure (rollback after an error).
pub async fn try_execute(client: &mut SqlClient, sql: &str) {
    if let Ok(stream) = client.simple_query(sql).await {
        let _ = stream.into_results().await;
    }
}

/// Runs a batch and returns the server's message on failure.
pub async fn execute_msg(client: &mut SqlClient, sql: &str) -> std::result::Result<(), String> {
    match client.simple_query(sql).await {
        Ok(stream) => stream
            .into_results()
            .await
            .map(|_| ())
            .map_err(|e| server_message(&e)),
        Err(e) => Err(server_message(&e)),
    }
}

/// The server's words, without tiberius's framing.
pub fn server_message(e: &tiberius::error::Error) -> String {
    match e {
        tiberius::error::Error::Server(t) => t.message().to_owned(),
        other => other.to_string(),
    }
}

/// Values of an `Int32` column of a batch, or `None` for a column of another type.
pub fn int_value(batch: &RecordBatch, column: &str, row: usize) -> Option<i32> {
    let a = batch
        .column_by_name(column)?
        .as_primitive_opt::<Int32Type>()?;
    a.is_valid(row).then(|| a.value(row))
}
