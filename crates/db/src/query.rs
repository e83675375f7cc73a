//! Statements and queries, with errors that name the side and the statement.

use arrow::array::ArrayRef;
use arrow::record_batch::RecordBatch;
use bptmig_workdir::sql_type::{schema_for, ColumnPlan};
use futures_util::TryStreamExt as _;
use tiberius::{ColumnData, QueryItem, Row, ToSql};

use crate::column_builder::ColumnBuilder;
use crate::{Error, Result, Side, SqlClient};

/// Runs a batch whose results are not needed.
pub async fn execute(client: &mut SqlClient, side: Side, sql: &str) -> Result<()> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| Error::query(side, sql, e))?
        .into_results()
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    Ok(())
}

/// Runs a parameterised query and collects its first result set (small results only).
pub async fn query_rows(
    client: &mut SqlClient,
    side: Side,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<Row>> {
    let mut stream = client
        .query(sql, params)
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    let mut rows = Vec::new();
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| Error::query(side, sql, e))?
    {
        if let QueryItem::Row(r) = item {
            rows.push(r);
        }
    }
    Ok(rows)
}

/// Runs a query (no parameters) and hands each row of its results to `on_row` as it arrives:
/// memory holds one row, however many the query returns.
pub async fn for_each_row(
    client: &mut SqlClient,
    side: Side,
    sql: &str,
    mut on_row: impl FnMut(&Row),
) -> Result<()> {
    let mut stream = client
        .simple_query(sql)
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| Error::query(side, sql, e))?
    {
        if let QueryItem::Row(r) = item {
            on_row(&r);
        }
    }
    Ok(())
}

/// Reads an integer cell whatever width the server chose for it.
pub fn int_cell(row: &Row, i: usize) -> Option<i64> {
    row.try_get::<i32, _>(i)
        .ok()
        .flatten()
        .map(i64::from)
        .or_else(|| row.try_get::<i64, _>(i).ok().flatten())
        .or_else(|| row.try_get::<i16, _>(i).ok().flatten().map(i64::from))
        .or_else(|| row.try_get::<u8, _>(i).ok().flatten().map(i64::from))
}

/// Reads a text cell.
pub fn text_cell(row: &Row, i: usize) -> Option<String> {
    row.try_get::<&str, _>(i).ok().flatten().map(str::to_owned)
}

/// `SELECT COUNT(*)`-style scalar.
pub async fn scalar(client: &mut SqlClient, side: Side, sql: &str) -> Result<i64> {
    let rows = query_rows(client, side, sql, &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)).unwrap_or(0))
}

/// A query read into Arrow batches: the statement and how its rows become columns.
#[derive(Clone, Copy)]
pub struct BatchQuery<'a> {
    pub side: Side,
    /// The table read, for error messages.
    pub table: &'a str,
    pub sql: &'a str,
    pub params: &'a [&'a dyn ToSql],
    /// One plan per selected column, in `SELECT` order.
    pub plans: &'a [ColumnPlan],
    /// Most rows per batch.
    pub batch_rows: usize,
    /// The column whose min/max each batch reports, when the table has a key.
    pub key_index: Option<usize>,
}

impl std::fmt::Debug for BatchQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchQuery")
            .field("side", &self.side)
            .field("table", &self.table)
            .field("sql", &self.sql)
            .field("batch_rows", &self.batch_rows)
            .field("key_index", &self.key_index)
            .finish_non_exhaustive()
    }
}

/// Streams `query`'s rows into batches of at most `batch_rows` rows and hands each, with the
/// min/max of its key column, to `on_batch` before reading on: memory holds one batch. An
/// empty result hands over nothing. Returns how many batches were handed over.
pub async fn for_each_batch<E: From<Error>>(
    client: &mut SqlClient,
    query: &BatchQuery<'_>,
    mut on_batch: impl FnMut(RecordBatch, Option<(i64, i64)>) -> Result<(), E>,
) -> Result<usize, E> {
    let BatchQuery {
        side, table, sql, ..
    } = *query;
    let schema = schema_for(query.plans);
    let mut builders = builders(query.plans, query.batch_rows);
    let buffered = |builders: &[ColumnBuilder]| builders.first().map_or(0, ColumnBuilder::len);
    let mut keys = None;
    let mut batches = 0;
    let mut stream = client
        .query(sql, query.params)
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| Error::query(side, sql, e))?
    {
        let QueryItem::Row(row) = item else { continue };
        append_row(table, &mut builders, row, query.key_index, &mut keys)?;
        if buffered(&builders) >= query.batch_rows {
            on_batch(finish_batch(table, &schema, &mut builders)?, keys.take())?;
            batches += 1;
        }
    }
    if buffered(&builders) > 0 {
        on_batch(finish_batch(table, &schema, &mut builders)?, keys.take())?;
        batches += 1;
    }
    Ok(batches)
}

/// Runs a whole query into record batches of at most `batch_rows` rows (small tables), each
/// with the min/max of the `key_index` column. An empty result is one empty batch.
#[expect(
    clippy::too_many_arguments,
    reason = "one query's description; each is used once"
)]
pub async fn read_batches(
    client: &mut SqlClient,
    side: Side,
    table: &str,
    sql: &str,
    params: &[&dyn ToSql],
    plans: &[ColumnPlan],
    batch_rows: usize,
    key_index: Option<usize>,
) -> Result<Vec<(RecordBatch, Option<(i64, i64)>)>> {
    let query = BatchQuery {
        side,
        table,
        sql,
        params,
        plans,
        batch_rows,
        key_index,
    };
    let mut out = Vec::new();
    for_each_batch(client, &query, |batch, keys| {
        out.push((batch, keys));
        Ok::<_, Error>(())
    })
    .await?;
    if out.is_empty() {
        let empty = finish_batch(table, &schema_for(plans), &mut builders(plans, batch_rows))?;
        out.push((empty, None));
    }
    Ok(out)
}

/// An empty builder per column, each with room for `batch_rows` values.
fn builders(plans: &[ColumnPlan], batch_rows: usize) -> Vec<ColumnBuilder> {
    plans
        .iter()
        .map(|p| ColumnBuilder::new(p, batch_rows))
        .collect()
}

/// The values appended to `builders` as one batch; the builders are empty afterwards.
pub fn finish_batch(
    table: &str,
    schema: &arrow::datatypes::SchemaRef,
    builders: &mut [ColumnBuilder],
) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
    RecordBatch::try_new(schema.clone(), cols).map_err(|e| Error::Arrow {
        what: table.to_owned(),
        source: e,
    })
}

/// Appends one row to `builders`, widening `keys` by the row's `key_index` column.
pub fn append_row(
    table: &str,
    builders: &mut [ColumnBuilder],
    row: Row,
    key_index: Option<usize>,
    keys: &mut Option<(i64, i64)>,
) -> Result<()> {
    for (i, (value, builder)) in row.into_iter().zip(builders.iter_mut()).enumerate() {
        if Some(i) == key_index {
            let k = match &value {
                ColumnData::I32(Some(v)) => Some(i64::from(*v)),
                ColumnData::I64(Some(v)) => Some(*v),
                _ => None,
            };
            if let Some(k) = k {
                *keys = Some(keys.map_or((k, k), |(lo, hi)| (lo.min(k), hi.max(k))));
            }
        }
        builder.append(value).map_err(|e| Error::Convert {
            table: table.to_owned(),
            source: e,
        })?;
    }
    Ok(())
}
