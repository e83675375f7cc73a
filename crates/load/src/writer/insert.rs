//! Strategy `insert`: multi-row `INSERT … VALUES` statements of exact literals
//! ([`crate::value::literal`]), rendered one statement at a time.

use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::catalog::{ColumnRole, FkKind};

use super::{ChunkError, ChunkRows, ChunkWriter};
use crate::plan::TableInput;
use crate::target::{self, Refused};
use crate::value::{self, BoundBatch};
use crate::Result;

/// Writes a chunk as statements of at most `batch_rows` rows each.
#[derive(Debug)]
pub(crate) struct InsertWriter {
    batch_rows: usize,
    /// Per table, the statements' header, its columns named as the target spells them (read
    /// from the target's catalog at the table's first chunk).
    headers: super::Headers,
}

impl InsertWriter {
    pub(crate) fn new(batch_rows: usize) -> Self {
        Self {
            batch_rows: batch_rows.max(1),
            headers: super::Headers::default(),
        }
    }

    /// The header of `t`'s statements (see [`insert_header_as`]).
    async fn header(
        &mut self,
        client: &mut SqlClient,
        t: &TableInput,
    ) -> Result<String, ChunkError> {
        self.headers.get(client, t, insert_header_as).await
    }

    /// Statements of a chunk of `rows` rows.
    fn statements(&self, rows: usize) -> usize {
        rows.div_ceil(self.batch_rows)
    }

    /// The rows of statement `index`.
    fn statement_rows(&self, rows: usize, index: usize) -> std::ops::Range<usize> {
        let first = index * self.batch_rows;
        first..(first + self.batch_rows).min(rows)
    }

    /// Statement `index`: `header` and its rows' literal tuples.
    fn statement(&self, header: &str, rows: &BoundBatch, index: usize) -> value::Result<String> {
        let range = self.statement_rows(rows.num_rows(), index);
        let mut s = String::with_capacity(header.len() + range.len() * 256);
        s.push_str(header);
        for r in range.clone() {
            if r > range.start {
                s.push_str(", ");
            }
            rows.render_row(&mut s, r)?;
        }
        Ok(s)
    }

    /// Replays the chunk up to statement `failed`, then that statement's rows one by one, in a
    /// transaction that is rolled back: the first row the server refuses, and its words.
    async fn first_refused_row(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
        begin: &str,
        failed: usize,
    ) -> Option<(usize, Refused)> {
        let header = self.header(client, rows.table).await.ok()?;
        target::run_batch(client, begin).await.ok()?;
        let found = self.replay(client, rows, &header, failed).await;
        target::roll_back(client).await;
        found
    }

    async fn replay(
        &self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
        header: &str,
        failed: usize,
    ) -> Option<(usize, Refused)> {
        for index in 0..failed {
            let s = self.statement(header, rows.bound, index).ok()?;
            target::run_batch(client, &s).await.ok()?;
        }
        for r in self.statement_rows(rows.bound.num_rows(), failed) {
            let mut s = header.to_owned();
            rows.bound.render_row(&mut s, r).ok()?;
            if let Err(refused) = target::run_batch(client, &s).await {
                return Some((r, refused));
            }
        }
        None
    }
}

impl ChunkWriter for InsertWriter {
    fn names_ids(&self) -> bool {
        true
    }

    async fn write_rows(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
    ) -> Result<(), ChunkError> {
        let header = self.header(client, rows.table).await?;
        for index in 0..self.statements(rows.bound.num_rows()) {
            let s = self
                .statement(&header, rows.bound, index)
                .map_err(ChunkError::Value)?;
            target::run_batch(client, &s)
                .await
                .map_err(|refused| ChunkError::Statement { index, refused })?;
        }
        Ok(())
    }

    /// Finds the row of the refused statement that the server refuses alone, and the column
    /// that names a missing row.
    async fn diagnose(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
        begin: &str,
        error: ChunkError,
    ) -> (Option<i64>, ChunkError) {
        let ChunkError::Statement { index, .. } = &error else {
            return (None, error);
        };
        let Some((r, refused)) = self.first_refused_row(client, rows, begin, *index).await else {
            return (None, error);
        };
        let t = rows.table;
        let id = target::int_value(rows.batch, t.id_column(), r).map(i64::from);
        (id, missing_reference(client, rows, r, refused).await)
    }

    async fn finish_table(&mut self, _client: &mut SqlClient, _table: &TableInput) -> Result<()> {
        Ok(())
    }
}

/// Which reference of row `r` the target lacks, if any: the reason row `r` was `refused`.
async fn missing_reference(
    client: &mut SqlClient,
    rows: &ChunkRows<'_>,
    r: usize,
    refused: Refused,
) -> ChunkError {
    let t = rows.table;
    // Only after a refusal: the names are read here rather than carried to every chunk.
    let names = db::Names::read(client, Side::Target).await.ok();
    for col in t.model.columns {
        let ColumnRole::Fk { kind, table: to } = col.role else {
            continue;
        };
        let Some(v) = target::int_value(rows.batch, col.name, r) else {
            continue;
        };
        if kind == FkKind::Instance
            && to == t.name
            && rows.chunk.ranges.iter().any(|&(a, b)| (a..=b).contains(&v))
        {
            continue;
        }
        let Some(spelled) = names.as_ref().and_then(|n| n.find(to).ok().flatten()) else {
            continue;
        };
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE ID = {v}",
            db::quote_ident(spelled)
        );
        if db::scalar(client, Side::Target, &sql).await.ok() == Some(0) {
            return ChunkError::MissingRow {
                column: col.name,
                value: v,
                table: to,
                refused,
            };
        }
    }
    ChunkError::RowRefused { refused }
}

/// `INSERT INTO t (c1, c2, …) VALUES ` for the transformed columns of `t`, named as the
/// transformed Parquet names them.
#[cfg(test)]
pub(crate) fn insert_header(t: &TableInput) -> String {
    insert_header_as(t, &t.columns)
}

/// `INSERT INTO t (c1, c2, …) VALUES ` naming `t`'s transformed columns as `columns` (the
/// target's spelling of each, in their order).
pub(crate) fn insert_header_as(t: &TableInput, columns: &[String]) -> String {
    format!(
        "INSERT INTO {} ({}) VALUES ",
        t.sql(),
        columns
            .iter()
            .map(|c| db::quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
