//! Row counts and highest IDs of a table.

use crate::query::{int_cell, query_rows, scalar};
use crate::sql::quote_ident;
use bptmig_model::catalog as c;

use crate::{Result, Side, SqlClient};

/// `SELECT COUNT(*)` of `table`.
pub async fn row_count(client: &mut SqlClient, side: Side, table: &str) -> Result<i64> {
    scalar(client, side, &format!("SELECT COUNT(*) FROM {table}")).await
}

/// The highest `ID` of `table`; `None` when it is empty.
pub async fn max_id(client: &mut SqlClient, side: Side, table: &str) -> Result<Option<i64>> {
    let rows = query_rows(client, side, &format!("SELECT MAX(ID) FROM {table}"), &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)))
}

/// Row count and highest `ID` of `table` in one query; the ID is `None` when it is empty.
pub async fn table_stats(
    client: &mut SqlClient,
    side: Side,
    table: &str,
) -> Result<(i64, Option<i64>)> {
    let sql = format!("SELECT COUNT(*), MAX({}) FROM {table}", quote_ident(c::ID));
    let rows = query_rows(client, side, &sql, &[]).await?;
    let first = rows.first();
    Ok((
        first.and_then(|r| int_cell(r, 0)).unwrap_or(0),
        first.and_then(|r| int_cell(r, 1)),
    ))
}
