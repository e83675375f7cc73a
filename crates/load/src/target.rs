//! What the load, verify and rollback ask of the target: its columns, counts in ID ranges,
//! missing references, read-backs, identity seeds, and batches whose failure is the server's
//! words ([`Refused`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Field, Int32Type, Schema};
use bptmig_db::{self as db, Names, SqlClient};
use bptmig_db::{Fault, Side};
use bptmig_model::catalog as c;
use bptmig_workdir::sql_type::ColumnPlan;

use crate::plan::{range_predicates, LoadPlan, References, TableInput, MAX_QUERY_CHARS};
use crate::{Error, MissingReference, Result};

/// Most IDs in one `IN (…)`.
const IDS_PER_QUERY: usize = 1000;

/// The live columns of `table` in the target, as plans for the transformed columns (in their
/// order); refuses a table that lacks any of them.
pub async fn column_plans(client: &mut SqlClient, t: &TableInput) -> Result<Vec<ColumnPlan>> {
    let live = db::table_columns(client, Side::Target, &t.name).await?;
    let mut plans = Vec::with_capacity(t.columns.len());
    let mut missing = Vec::new();
    for name in &t.columns {
        match db::find_column(&live, name) {
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

/// Each of `columns` as `live` (the target's column names) spells it, matched in any case;
/// a column the target lacks keeps its own name (the load's preflight refuses such a table).
pub fn spell_columns(columns: &[String], live: &[String]) -> Vec<String> {
    columns
        .iter()
        .map(|name| spell_column(name, live))
        .collect()
}

/// `name` as `live` (the target's column names) spells it, matched in any case; `name` when
/// the target lacks it.
pub fn spell_column(name: &str, live: &[String]) -> String {
    live.iter()
        .find(|l| l.eq_ignore_ascii_case(name))
        .map_or(name, String::as_str)
        .to_owned()
}

/// The transformed columns of `t` as the target's catalog spells them, in their order.
pub async fn spelled_columns(
    client: &mut SqlClient,
    t: &TableInput,
) -> std::result::Result<Vec<String>, Refused> {
    let live = live_columns(client, &t.spelled).await?;
    Ok(spell_columns(&t.columns, &live))
}

/// The column names of `table`, named exactly as the target's catalog spells it (the plan's
/// [`TableInput::spelled`]); a failure as what the server (or the driver) said. It runs at
/// every chunk that needs it, so it asks for the table's exact name, which the server finds
/// without reading the whole catalog.
pub async fn live_columns(
    client: &mut SqlClient,
    table: &str,
) -> std::result::Result<Vec<String>, Refused> {
    let sql = "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = @P1";
    let rows = db::query_rows(client, Side::Target, sql, &[&table])
        .await
        .map_err(|e| Refused {
            message: e.to_string(),
            fault: db::Transient::fault(&e),
        })?;
    Ok(rows.iter().filter_map(|r| db::text_cell(r, 0)).collect())
}

/// Rows of `table` (as the target spells it) in the target whose `column` lies in `ranges`.
pub async fn count_in(
    client: &mut SqlClient,
    table: &str,
    column: &str,
    ranges: &[(i32, i32)],
) -> Result<i64> {
    let mut n = 0;
    for sql in count_statements(table, column, ranges) {
        n += db::scalar(client, Side::Target, &sql).await?;
    }
    Ok(n)
}

/// The `SELECT COUNT(*)`s of [`count_in`], each at most [`MAX_QUERY_CHARS`] long.
pub fn count_statements(table: &str, column: &str, ranges: &[(i32, i32)]) -> Vec<String> {
    let head = format!("SELECT COUNT(*) FROM {} WHERE ", db::quote_ident(table));
    with_predicates(&head, "", column, ranges)
}

/// `head`, each predicate of `ranges` on `column` that keeps the statement within
/// [`MAX_QUERY_CHARS`], then `tail`.
pub fn with_predicates(head: &str, tail: &str, column: &str, ranges: &[(i32, i32)]) -> Vec<String> {
    let budget = MAX_QUERY_CHARS.saturating_sub(head.len() + tail.len());
    range_predicates(column, ranges, budget)
        .into_iter()
        .map(|p| format!("{head}{p}{tail}"))
        .collect()
}

/// The lookups of [`missing_references`]: per referenced table (named as `names` spell
/// it), its IDs among `wanted`, at most [`IDS_PER_QUERY`] and [`MAX_QUERY_CHARS`] per
/// statement.
pub fn reference_statements(
    wanted: &BTreeMap<&'static str, BTreeSet<i64>>,
    names: &Names,
) -> Result<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for (to, values) in wanted {
        let head = format!(
            "SELECT {} FROM {} WHERE {} IN (",
            c::ID,
            names.quoted(to)?,
            c::ID
        );
        let mut sql = String::new();
        let mut ids = 0;
        for v in values {
            let id = v.to_string();
            if ids > 0 && (ids >= IDS_PER_QUERY || sql.len() + id.len() + 2 > MAX_QUERY_CHARS) {
                sql.push(')');
                out.push((*to, std::mem::take(&mut sql)));
                ids = 0;
            }
            sql.push_str(if ids == 0 { &head } else { "," });
            sql.push_str(&id);
            ids += 1;
        }
        if ids > 0 {
            sql.push(')');
            out.push((*to, sql));
        }
    }
    Ok(out)
}

/// The `SELECT`s of [`read_back`] (columns `select`) by the model's ID column, each at most
/// [`MAX_QUERY_CHARS`] long (unless the column list alone is longer).
#[cfg(test)]
pub fn read_back_statements(t: &TableInput, select: &str, ranges: &[(i32, i32)]) -> Vec<String> {
    read_back_statements_by(t, select, t.id_column(), ranges)
}

/// The `SELECT`s of [`read_back`] (columns `select`) by the ID column named `id` (as the
/// target spells it), each at most [`MAX_QUERY_CHARS`] long (unless the column list alone
/// is longer).
fn read_back_statements_by(
    t: &TableInput,
    select: &str,
    id: &str,
    ranges: &[(i32, i32)],
) -> Vec<String> {
    let head = format!("SELECT {select} FROM {} WHERE ", t.sql());
    with_predicates(&head, "", id, ranges)
}

/// The references whose row the target lacks.
pub async fn missing_references(
    client: &mut SqlClient,
    refs: &References,
) -> Result<Vec<MissingReference>> {
    // One lookup per referenced table.
    let mut wanted: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
    for ((_, _, to), values) in &refs.0 {
        wanted.entry(to).or_default().extend(values.keys().copied());
    }
    let mut present: HashMap<&'static str, BTreeSet<i64>> = HashMap::new();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let names = Names::read(client, Side::Target).await?;
    for (to, sql) in reference_statements(&wanted, &names)? {
        let found = present.entry(to).or_default();
        for row in db::query_rows(client, Side::Target, &sql, &[]).await? {
            if let Some(v) = db::int_cell(&row, 0) {
                found.insert(v);
            }
        }
    }
    let mut missing = Vec::new();
    for ((table, column, to), values) in &refs.0 {
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
    let mut out = Vec::new();
    for sql in read_back_sql(t, plans, ranges) {
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
        for (b, _) in batches {
            if b.num_rows() > 0 {
                out.push(named_as_transformed(t, b)?);
            }
        }
    }
    Ok(out)
}

/// The statements of [`read_back`]: `plans`' columns and `t`'s ID column named as the
/// target spells them (the plans are the target's).
fn read_back_sql(t: &TableInput, plans: &[ColumnPlan], ranges: &[(i32, i32)]) -> Vec<String> {
    let select = plans
        .iter()
        .map(ColumnPlan::select_expr)
        .collect::<Vec<_>>()
        .join(", ");
    let id = plans
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(t.id_column()))
        .map_or(t.id_column(), |p| p.name.as_str());
    read_back_statements_by(t, &select, id, ranges)
}

/// A read-back batch (its columns named as the target spells them) with the transformed
/// columns' names, which verify compares by.
fn named_as_transformed(t: &TableInput, b: RecordBatch) -> Result<RecordBatch> {
    let schema = b.schema();
    if schema
        .fields()
        .iter()
        .zip(&t.columns)
        .all(|(f, name)| f.name() == name)
    {
        return Ok(b);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(&t.columns)
        .map(|(f, name)| f.as_ref().clone().with_name(name.as_str()))
        .collect();
    let renamed = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    RecordBatch::try_new(renamed, b.columns().to_vec()).map_err(|e| Error::arrow(&t.name, e))
}

/// Runs a batch, ignoring its failure.
async fn try_execute(client: &mut SqlClient, sql: &str) {
    if let Ok(stream) = client.simple_query(sql).await {
        let _ = stream.into_results().await;
    }
}

/// What the server said when it refused a batch, without tiberius's framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    /// The server's words.
    pub message: String,
    /// Set when the batch was cut off rather than refused (a lost connection, a timeout, a
    /// deadlock): trying again on a new connection may succeed.
    pub fault: Option<Fault>,
}

impl From<&tiberius::error::Error> for Refused {
    fn from(e: &tiberius::error::Error) -> Self {
        let message = match e {
            tiberius::error::Error::Server(t) => t.message().to_owned(),
            other => other.to_string(),
        };
        Self {
            message,
            fault: Fault::of_driver(e),
        }
    }
}

/// Runs a batch; on failure, what the server said.
pub async fn run_batch(client: &mut SqlClient, sql: &str) -> std::result::Result<(), Refused> {
    match client.simple_query(sql).await {
        Ok(stream) => stream
            .into_results()
            .await
            .map(|_| ())
            .map_err(|e| Refused::from(&e)),
        Err(e) => Err(Refused::from(&e)),
    }
}

/// Runs a batch whose first result is one integer; on failure, what the server said.
pub async fn scalar_batch(client: &mut SqlClient, sql: &str) -> std::result::Result<i64, Refused> {
    let rows = match client.simple_query(sql).await {
        Ok(stream) => stream.into_first_result().await,
        Err(e) => Err(e),
    }
    .map_err(|e| Refused::from(&e))?;
    Ok(rows.first().and_then(|r| db::int_cell(r, 0)).unwrap_or(0))
}

/// Ends an open transaction, if any, ignoring a failure (after an error). Asked first and
/// rolled back at top level: some compatible servers (the sandbox) refuse transaction control
/// inside `IF`, which would leave the transaction open.
pub async fn roll_back(client: &mut SqlClient) {
    match db::scalar(client, Side::Target, "SELECT CAST(@@TRANCOUNT AS BIGINT)").await {
        Ok(0) => {}
        _ => try_execute(client, "ROLLBACK TRANSACTION").await,
    }
}

/// Values of an `Int32` column of a batch, or `None` for a column of another type.
pub fn int_value(batch: &RecordBatch, column: &str, row: usize) -> Option<i32> {
    let a = batch
        .column_by_name(column)?
        .as_primitive_opt::<Int32Type>()?;
    a.is_valid(row).then(|| a.value(row))
}

/// A table whose next identity the server would not move to the run's block's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unseeded {
    pub table: String,
    /// The identity the target would generate next.
    pub next: i64,
    /// The highest ID of the block.
    pub top: i32,
    /// Why `DBCC CHECKIDENT … RESEED` failed.
    pub refused: Refused,
}

/// Makes the target's identity of table `ti` stand at the moved block's end, so that the
/// next row the platform creates lies after it. On SQL Server inserting the block under
/// `IDENTITY_INSERT` right after the identity has moved it there already; otherwise (a
/// server that does not move identities past explicit IDs, or a block placed above
/// `MAX(ID)`) `DBCC CHECKIDENT … RESEED` moves it; `Some` when the server refuses that.
pub async fn reseed(
    client: &mut SqlClient,
    plan: &LoadPlan,
    ti: usize,
) -> Result<Option<Unseeded>> {
    let t = &plan.tables[ti];
    if !t.has_key() {
        return Ok(None);
    }
    let Some(&(_, top)) = plan.table_ranges(ti).last() else {
        return Ok(None);
    };
    let name = db::quote_text(&t.spelled);
    let current = db::scalar(
        client,
        Side::Target,
        &format!("SELECT CAST(IDENT_CURRENT({name}) AS BIGINT)"),
    )
    .await?;
    if current >= i64::from(top) {
        return Ok(None);
    }
    match run_batch(client, &reseed_statement(&t.spelled, top)).await {
        Ok(()) => Ok(None),
        Err(refused) => Ok(Some(Unseeded {
            table: t.name.clone(),
            next: current + 1,
            top,
            refused,
        })),
    }
}

/// `DBCC CHECKIDENT ('<table>', RESEED, <top>)`.
fn reseed_statement(table: &str, top: i32) -> String {
    format!("DBCC CHECKIDENT ({}, RESEED, {top})", db::quote_text(table))
}

/// The warning for the tables whose identity could not be moved, if any: what happens
/// (the platform's next rows there collide with moved rows) and the statements to run.
pub fn unseeded_warning(unseeded: &[Unseeded]) -> Option<String> {
    let first = unseeded.first()?;
    let tables: Vec<String> = unseeded
        .iter()
        .map(|u| {
            format!(
                "`{}` (next {}, moved rows up to {})",
                u.table, u.next, u.top
            )
        })
        .collect();
    let statements: Vec<String> = unseeded
        .iter()
        .map(|u| format!("`{}`", reseed_statement(&u.table, u.top)))
        .collect();
    Some(format!(
        "the target's next identity lies inside the moved block for {}: the server did not \
         move the identity past the moved rows, and refused `DBCC CHECKIDENT ... RESEED` ({}). \
         Until it is moved, the platform's next inserts into these tables fail on the moved \
         rows' keys; before the platform creates rows there, run {} as a login allowed to \
         (the table's owner, db_owner or db_ddladmin)",
        tables.join(", "),
        first.refused,
        statements.join(", ")
    ))
}

#[cfg(test)]
mod tests;
