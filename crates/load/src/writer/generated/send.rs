//! Sending a generated load's rows: a keyed table's batches, each capturing its rows' new
//! IDs; a table without a key in multi-row statements; and, after a refused chunk, its rows
//! again one by one to name the row the server refuses.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;

use bptmig_db::{self as db, SqlClient};

use super::render::row_id;
use super::{GeneratedWriter, Shape};
use crate::target::{self, Refused};
use crate::writer::ChunkError;

impl GeneratedWriter {
    /// Sends the rows of a keyed table's chunk, batch by batch, capturing each new ID.
    pub(super) async fn write_keyed(
        &mut self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
    ) -> Result<(), ChunkError> {
        let n = shape.rows.bound.num_rows();
        for (index, start) in (0..n).step_by(self.batch_rows).enumerate() {
            let range = start..(start + self.batch_rows).min(n);
            self.send_keyed(client, shape, header, range, index).await?;
        }
        Ok(())
    }

    /// Sends rows `range` of a keyed chunk in one round trip (batch `index`) and keeps the
    /// IDs the target generated for them, in row order.
    async fn send_keyed(
        &mut self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
        range: Range<usize>,
        index: usize,
    ) -> Result<(), ChunkError> {
        let mut pending: HashMap<i32, usize> = HashMap::new();
        let mut sql = String::with_capacity(range.len() * (header.len() + 320));
        sql.push_str("DECLARE ");
        for k in 0..range.len() {
            let _ = write!(sql, "{}@i{k} INT", if k > 0 { ", " } else { "" });
        }
        sql.push_str("; ");
        let mut olds = Vec::with_capacity(range.len());
        for (k, r) in range.clone().enumerate() {
            sql.push_str(header);
            self.render_row(&mut sql, shape, r, &pending)?;
            let _ = write!(sql, "; SET @i{k} = CAST(SCOPE_IDENTITY() AS INT); ");
            let old = row_id(shape.rows, r);
            let old32 = i32::try_from(old).map_err(|_| ChunkError::NoIdentity {
                row: old,
                sql: head(&sql),
            })?;
            pending.insert(old32, k);
            olds.push(old32);
        }
        sql.push_str("SELECT ");
        for k in 0..range.len() {
            let _ = write!(sql, "{}@i{k}", if k > 0 { ", " } else { "" });
        }
        sql.push(';');
        let news = new_ids(client, &sql, olds.len())
            .await
            .map_err(|e| e.at(index, &olds, &sql))?;
        for (old, new) in olds.into_iter().zip(news) {
            self.chunk.pairs.push((old, new));
            self.chunk.by_old.insert(old, new);
        }
        Ok(())
    }

    /// Sends the rows of a table without a key (`OSEVT_*`), `batch_rows` rows a statement.
    pub(super) async fn write_plain(
        &self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
    ) -> Result<(), ChunkError> {
        let n = shape.rows.bound.num_rows();
        for (index, start) in (0..n).step_by(self.batch_rows).enumerate() {
            let range = start..(start + self.batch_rows).min(n);
            self.send_plain(client, shape, header, range, index).await?;
        }
        Ok(())
    }

    /// Sends rows `range` of a chunk without a key in one statement (batch `index`).
    async fn send_plain(
        &self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
        range: Range<usize>,
        index: usize,
    ) -> Result<(), ChunkError> {
        let none = HashMap::new();
        let mut sql = header.to_owned();
        for r in range.clone() {
            if r > range.start {
                sql.push_str(", ");
            }
            self.render_row(&mut sql, shape, r, &none)?;
        }
        target::run_batch(client, &sql)
            .await
            .map_err(|refused| ChunkError::Statement { index, refused })
    }

    /// After a chunk whose batch `failed` the server refused was rolled back: the chunk again
    /// in a transaction begun with `begin` and rolled back, the batches before `failed` as
    /// they were sent, then that batch's rows one by one. The first row the server refuses,
    /// with its (transformed) ID and the server's words.
    pub(super) async fn first_refused(
        &mut self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
        begin: &str,
        failed: usize,
    ) -> Option<(i64, Refused)> {
        target::run_batch(client, begin).await.ok()?;
        let found = self.replay(client, shape, header, failed).await;
        target::roll_back(client).await;
        found
    }

    async fn replay(
        &mut self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
        failed: usize,
    ) -> Option<(i64, Refused)> {
        let n = shape.rows.bound.num_rows();
        let keyed = shape.rows.table.has_key();
        for (index, start) in (0..n).step_by(self.batch_rows).enumerate() {
            let end = (start + self.batch_rows).min(n);
            // Batches before the refused one as they were sent, then its rows one by one.
            let rows: Vec<Range<usize>> = if index < failed {
                std::iter::once(start..end).collect()
            } else {
                (start..end).map(|r| r..r + 1).collect()
            };
            for range in rows {
                let first = range.start;
                let sent = if keyed {
                    self.send_keyed(client, shape, header, range, index).await
                } else {
                    self.send_plain(client, shape, header, range, index).await
                };
                match sent {
                    Ok(()) => {}
                    Err(ChunkError::Statement { refused, .. }) if index >= failed => {
                        return Some((row_id(shape.rows, first), refused));
                    }
                    Err(_) => return None,
                }
            }
            if index >= failed {
                return None;
            }
        }
        None
    }
}

/// Why a batch's IDs could not be read.
enum Capture {
    Refused(Refused),
    Missing(usize),
}

impl Capture {
    /// As the chunk's error: statement `index`, rows `olds`.
    fn at(self, index: usize, olds: &[i32], sql: &str) -> ChunkError {
        match self {
            Capture::Refused(refused) => ChunkError::Statement { index, refused },
            Capture::Missing(k) => ChunkError::NoIdentity {
                row: olds.get(k).map_or(0, |&o| i64::from(o)),
                sql: head(sql),
            },
        }
    }
}

/// Runs a batch whose one result row holds `n` generated IDs, in row order.
async fn new_ids(client: &mut SqlClient, sql: &str, n: usize) -> Result<Vec<i32>, Capture> {
    let rows = match client.simple_query(sql).await {
        Ok(stream) => stream.into_first_result().await,
        Err(e) => Err(e),
    }
    .map_err(|e| Capture::Refused(Refused::from(&e)))?;
    let Some(row) = rows.first() else {
        return Err(Capture::Missing(0));
    };
    (0..n)
        .map(|k| {
            db::int_cell(row, k)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or(Capture::Missing(k))
        })
        .collect()
}

/// The start of a statement, for messages.
fn head(sql: &str) -> String {
    match sql.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &sql[..i]),
        None => sql.to_owned(),
    }
}
