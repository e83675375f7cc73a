//! Strategy `bulk`: one TDS bulk copy per chunk of exact values ([`crate::value::tds`]).

use bptmig_db::{self as db, Side, SqlClient};

use super::{bulk_options, ChunkError, ChunkRows, ChunkWriter};
use crate::plan::TableInput;
use crate::target::{self, Refused};
use crate::Result;

/// Writes a chunk with `INSERT BULK`, keeping the transformed IDs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BulkWriter;

impl ChunkWriter for BulkWriter {
    fn names_ids(&self) -> bool {
        false
    }

    async fn write_rows(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
    ) -> Result<(), ChunkError> {
        let refused = |e: tiberius::error::Error| ChunkError::Bulk {
            refused: Refused::from(&e),
        };
        // The target's spelling of each column: the bulk copy's metadata query and column
        // list name them as sent.
        let spelled = target::spelled_columns(client, rows.table)
            .await
            .map_err(|refused| ChunkError::Columns {
                table: rows.table.name.clone(),
                refused,
            })?;
        let cols: Vec<&str> = spelled.iter().map(String::as_str).collect();
        let mut req = client
            .bulk_insert_with_options(&rows.table.spelled, &cols, bulk_options(), &[])
            .await
            .map_err(refused)?;
        for i in 0..rows.bound.num_rows() {
            let row = rows.bound.bulk_row(i).map_err(ChunkError::Value)?;
            req.send(row).await.map_err(refused)?;
        }
        req.finalize().await.map_err(refused)?;
        Ok(())
    }

    /// Bulk copy may leave constraints untrusted; check them again so they stay trusted.
    async fn finish_table(&mut self, client: &mut SqlClient, table: &TableInput) -> Result<()> {
        let sql = format!(
            "ALTER TABLE {} WITH CHECK CHECK CONSTRAINT ALL",
            table.sql()
        );
        db::execute(client, Side::Target, &sql).await?;
        Ok(())
    }
}
