//! TDS bulk copy as the `bulk` writer sends it: keep-identity, table lock, constraint checks,
//! the constraints checked again afterwards, on a session of its own (a refused bulk copy can
//! leave a session unusable).

use arrow::array::RecordBatch;
use bptmig_db::{self as db, Fault, Side, SqlClient};
use bptmig_model::pipeline::Endpoint;

use super::explicit::EXPLICIT_IDS;
use super::roundtrip::{difference, read_back, run, words, Found as Outcome};
use super::sample;
use super::shape::{drop_sql, Shape};
use super::values;
use crate::value::BoundBatch;
use crate::writer::bulk_options;
use crate::{Error, Result};

/// Bulk-copies the explicit-ID rows into every keyed shape, and each date/time type at full
/// precision, and reads them back.
pub async fn bulk(endpoint: &Endpoint, shapes: &[Shape]) -> Result<Outcome> {
    let mut client = db::connect(Side::Target, endpoint).await?;
    let mut tables = 0;
    for shape in shapes {
        let shape = shape.renamed("#bptmig_probe_b");
        let Some(id) = shape.id() else { continue };
        let sent = match sample::batch(&shape.plans, Some(id), &EXPLICIT_IDS) {
            Ok(b) => b,
            Err(why) => return Ok(Err(why)),
        };
        if let Err(why) = one(&mut client, &shape, id, &sent).await? {
            return Ok(Err(why));
        }
        tables += 1;
    }
    let times = match values::full_precision("#bptmig_probe_bt") {
        Ok(times) => times,
        Err(why) => return Ok(Err(why)),
    };
    for (shape, sent) in &times {
        if let Err(why) = one(&mut client, shape, "ID", sent).await? {
            return Ok(Err(why));
        }
    }
    let types: Vec<String> = times
        .iter()
        .map(|(s, _)| s.plans[1].sql_type.ddl())
        .collect();
    Ok(Ok(format!(
        "`INSERT BULK` with keep-identity, table lock and constraint checks: {} rows of every \
         column came back exact in {tables} table(s) shaped like the target's, and {} at full \
         precision",
        EXPLICIT_IDS.len(),
        types.join(", ")
    )))
}

/// One temporary table: created, `sent` bulk-copied, constraints checked again, read back
/// (ordered by `order`), compared, dropped.
async fn one(
    client: &mut SqlClient,
    shape: &Shape,
    order: &str,
    sent: &RecordBatch,
) -> Result<Outcome> {
    if let Err(words) = run(client, &shape.create_sql()).await? {
        return Ok(Err(format!(
            "the server refused a temporary table shaped like `{}` ({words})",
            shape.table
        )));
    }
    let found = copied(client, shape, order, sent).await;
    run(client, &drop_sql(&shape.temp)).await?.ok();
    found
}

async fn copied(
    client: &mut SqlClient,
    shape: &Shape,
    order: &str,
    sent: &RecordBatch,
) -> Result<Outcome> {
    let columns = shape.column_names(true);
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let bound = match BoundBatch::new(sent, &names) {
        Ok(b) => b,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if let Err(why) = send(client, &shape.temp, &names, &bound).await? {
        return Ok(Err(format!(
            "bulk copy into a table shaped like `{}` failed: {why}",
            shape.table
        )));
    }
    let recheck = format!("ALTER TABLE {} WITH CHECK CHECK CONSTRAINT ALL", shape.temp);
    if let Err(words) = run(client, &recheck).await? {
        return Ok(Err(format!("the server refused `{recheck}` ({words})")));
    }
    let read = match read_back(client, shape, order, false).await? {
        Ok(read) => read,
        Err(why) => return Ok(Err(why)),
    };
    if read.num_rows() != sent.num_rows() {
        return Ok(Err(format!(
            "{} row(s) of `{}` came back, not {}",
            read.num_rows(),
            shape.table,
            sent.num_rows()
        )));
    }
    for r in 0..sent.num_rows() {
        if let Some(why) = difference(shape.table, &columns, (sent, r), (&read, r)) {
            return Ok(Err(why));
        }
    }
    Ok(Ok(String::new()))
}

/// The bulk copy of `bound`'s rows into `table`; `Err` what the server or the driver said.
async fn send(
    client: &mut SqlClient,
    table: &str,
    columns: &[&str],
    bound: &BoundBatch,
) -> Result<Outcome> {
    let refused = |e: tiberius::error::Error| -> Result<Outcome> {
        if Fault::of_driver(&e).is_some() {
            return Err(Error::Db(db::Error::query(Side::Target, "INSERT BULK", e)));
        }
        Ok(Err(words(&e)))
    };
    let mut req = match client
        .bulk_insert_with_options(table, columns, bulk_options(), &[])
        .await
    {
        Ok(req) => req,
        Err(e) => return refused(e),
    };
    for r in 0..bound.num_rows() {
        let row = match bound.bulk_row(r) {
            Ok(row) => row,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if let Err(e) = req.send(row).await {
            return refused(e);
        }
    }
    match req.finalize().await {
        Ok(_) => Ok(Ok(String::new())),
        Err(e) => refused(e),
    }
}
