//! Statements whose refusal is an answer, read-backs, and the first difference between what
//! was sent and what came back.

use arrow::array::{Array, RecordBatch};
use arrow::util::display::array_value_to_string;
use bptmig_db::{self as db, Fault, Side, SqlClient};
use bptmig_workdir::sql_type::{schema_for, ColumnPlan};
use tiberius::Row;

use super::shape::Shape;
use crate::value::BoundBatch;
use crate::{Error, Result};

/// What one path showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It works: what was tried.
    Works(String),
    /// It fails: why.
    Fails(String),
    /// The server would not let the probe try it (without a permanent object): why.
    Untried(String),
}

/// A path's finding before it becomes an [`Outcome`]: `Ok` what works, `Err` why it fails.
pub type Found = std::result::Result<String, String>;

impl From<Found> for Outcome {
    fn from(found: Found) -> Self {
        match found {
            Ok(what) => Outcome::Works(what),
            Err(why) => Outcome::Fails(why),
        }
    }
}

/// Runs `sql` and returns its rows; `Err` the server's words when it refuses the batch. A
/// transient fault (a lost connection, a timeout) is an error: it tells nothing.
pub async fn rows(
    client: &mut SqlClient,
    sql: &str,
) -> Result<std::result::Result<Vec<Row>, String>> {
    let answer = match client.simple_query(sql).await {
        Ok(stream) => stream.into_results().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(sets) => Ok(Ok(sets.into_iter().flatten().collect())),
        Err(e) if Fault::of_driver(&e).is_some() => {
            Err(Error::Db(db::Error::query(Side::Target, sql, e)))
        }
        Err(e) => Ok(Err(words(&e))),
    }
}

/// Runs `sql`; `Err` the server's words when it refuses it.
pub async fn run(client: &mut SqlClient, sql: &str) -> Result<std::result::Result<(), String>> {
    Ok(rows(client, sql).await?.map(drop))
}

/// An error and its causes on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The server's message, or the driver's.
pub fn words(e: &tiberius::error::Error) -> String {
    match e {
        tiberius::error::Error::Server(t) => t.message().to_owned(),
        other => other.to_string(),
    }
}

/// `shape`'s temporary table read back the way the extract and verify read tables, ordered
/// by `order` (a column name, then ` DESC` when `descending`): one batch of the shape's
/// columns.
pub async fn read_back(
    client: &mut SqlClient,
    shape: &Shape,
    order: &str,
    descending: bool,
) -> Result<std::result::Result<RecordBatch, String>> {
    let list: Vec<String> = shape.plans.iter().map(ColumnPlan::select_expr).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}{}",
        list.join(", "),
        shape.temp,
        db::quote_ident(order),
        if descending { " DESC" } else { "" }
    );
    let read = db::read_batches(
        client,
        Side::Target,
        &shape.temp,
        &sql,
        &[],
        &shape.plans,
        100_000,
        None,
    )
    .await;
    let batches = match read {
        Ok(batches) => batches,
        Err(e) if db::Transient::fault(&e).is_some() => return Err(e.into()),
        Err(e) => return Ok(Err(chain(&e))),
    };
    let schema = batches
        .first()
        .map_or_else(|| schema_for(&shape.plans), |(b, _)| b.schema());
    let all: Vec<RecordBatch> = batches.into_iter().map(|(b, _)| b).collect();
    Ok(arrow::compute::concat_batches(&schema, &all).map_err(|e| e.to_string()))
}

/// `INSERT INTO temp (columns) VALUES (…), …` of `bound`'s rows, as the insert writer renders
/// them.
pub fn insert_sql(
    temp: &str,
    columns: &[String],
    bound: &BoundBatch,
) -> std::result::Result<String, String> {
    let list: Vec<String> = columns.iter().map(|c| db::quote_ident(c)).collect();
    let mut sql = format!("INSERT INTO {temp} ({}) VALUES ", list.join(", "));
    for r in 0..bound.num_rows() {
        if r > 0 {
            sql.push_str(", ");
        }
        bound.render_row(&mut sql, r).map_err(|e| e.to_string())?;
    }
    Ok(sql)
}

/// The first difference between row `s` of `sent` and row `r` of `read` in the columns
/// `columns` (names of both), naming the table, the column and both values.
pub fn difference(
    table: &str,
    columns: &[String],
    (sent, sent_row): (&RecordBatch, usize),
    (read, read_row): (&RecordBatch, usize),
) -> Option<String> {
    for name in columns {
        let (Some(was), Some(is)) = (sent.column_by_name(name), read.column_by_name(name)) else {
            return Some(format!("`{table}.{name}` was not read back"));
        };
        let (x, y) = (shown(was.as_ref(), sent_row), shown(is.as_ref(), read_row));
        if x != y {
            return Some(format!(
                "`{table}.{name}` came back as {} instead of {}",
                short(&y),
                short(&x)
            ));
        }
    }
    None
}

/// A value as text, `NULL` for a null.
fn shown(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return "NULL".to_owned();
    }
    array_value_to_string(array, row).map_or_else(|e| format!("<{e}>"), |v| format!("`{v}`"))
}

/// A value cut to 60 characters for a message, with its length when cut.
fn short(text: &str) -> String {
    let n = text.chars().count();
    if n <= 60 {
        return text.escape_debug().to_string();
    }
    let head: String = text.chars().take(57).collect();
    format!("{}… ({n} characters)", head.escape_debug())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(texts: Vec<Option<&str>>) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("ID", DataType::Int32, false),
            Field::new("V", DataType::Utf8, true),
        ]);
        let ids = Int32Array::from((0..texts.len() as i32).collect::<Vec<_>>());
        RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(ids), Arc::new(StringArray::from(texts))],
        )
        .unwrap()
    }

    #[test]
    fn a_changed_value_is_named_with_both_values() {
        let sent = batch(vec![Some("O'Brien"), None]);
        let read = batch(vec![Some("O'Brien"), Some("")]);
        let cols = ["ID".to_owned(), "V".to_owned()];
        assert_eq!(difference("T", &cols, (&sent, 0), (&read, 0)), None);
        assert_eq!(
            difference("T", &cols, (&sent, 1), (&read, 1)).unwrap(),
            "`T.V` came back as `` instead of NULL"
        );
        let long = "x".repeat(5000);
        let read = batch(vec![Some(&long[..4000]), None]);
        let sent = batch(vec![Some(&long), None]);
        let d = difference("T", &cols, (&sent, 0), (&read, 0)).unwrap();
        assert!(
            d.contains("(4002 characters) instead of") && d.contains("(5002 characters)"),
            "{d}"
        );
    }
}
