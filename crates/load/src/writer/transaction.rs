//! One chunk's transaction: its rows (through a [`ChunkWriter`]), its fix-ups and its
//! ledger row commit together or not at all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use bptmig_db::{self as db, SqlClient};

use super::{ChunkError, ChunkRows, ChunkWriter};
use crate::ledger::{self, LedgerRow};
use crate::plan::Fixup;
use crate::target::{self, Refused};
use crate::{Error, Result};

/// Where chunks are committed, and how.
pub(crate) struct ChunkTransaction<'a> {
    pub(crate) client: &'a mut SqlClient,
    /// The ledger table's name.
    pub(crate) ledger: &'a str,
    pub(crate) run_id: &'a str,
    /// Wait this long before committing (tests of kills).
    pub(crate) delay: Option<Duration>,
}

impl ChunkTransaction<'_> {
    /// Writes one chunk, its fix-ups and its ledger row in one transaction; on failure rolls
    /// it back and reports [`Error::ChunkFailed`] (`done` chunks loaded before it).
    pub(crate) async fn apply<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        ledger_row: &LedgerRow,
        done: usize,
    ) -> Result<()> {
        let table = db::quote_ident(&rows.table.name);
        let identity = rows.table.has_key() && writer.names_ids();
        let mut begin = String::from("SET XACT_ABORT ON; BEGIN TRANSACTION;");
        if identity {
            let _ = write!(begin, " SET IDENTITY_INSERT {table} ON;");
        }
        let Err(error) = self.write(writer, rows, &begin, ledger_row, identity).await else {
            return Ok(());
        };
        target::roll_back(self.client).await;
        let (row, reason) = writer.diagnose(self.client, rows, &begin, error).await;
        Err(Error::ChunkFailed {
            table: rows.table.name.clone(),
            chunk: ledger_row.chunk.clone(),
            done,
            row,
            reason: Box::new(reason),
        })
    }

    async fn write<W: ChunkWriter>(
        &mut self,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        begin: &str,
        ledger_row: &LedgerRow,
        identity: bool,
    ) -> Result<(), ChunkError> {
        target::run_batch(self.client, begin)
            .await
            .map_err(|refused| ChunkError::Begin {
                sql: begin.to_owned(),
                refused,
            })?;
        writer.write_rows(self.client, rows).await?;
        let tail = fixup_statements(&rows.chunk.fixups).concat();
        if !tail.is_empty() {
            target::run_batch(self.client, &tail)
                .await
                .map_err(|refused| ChunkError::Fixups {
                    sql: head(&tail),
                    refused,
                })?;
        }
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let mut commit =
            ledger::insert_sql(self.ledger, self.run_id, ledger_row, rows.chunk.id_bounds());
        if identity {
            let _ = write!(
                commit,
                " SET IDENTITY_INSERT {} OFF;",
                db::quote_ident(&rows.table.name)
            );
        }
        commit.push_str(" COMMIT TRANSACTION;");
        target::run_batch(self.client, &commit)
            .await
            .map_err(|refused: Refused| ChunkError::Commit {
                sql: head(&commit),
                refused,
            })
    }
}

/// The start of a statement, for messages.
fn head(sql: &str) -> String {
    match sql.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &sql[..i]),
        None => sql.to_owned(),
    }
}

/// `UPDATE`s applying fix-ups: self references (`value = id`) in one statement per column.
fn fixup_statements(fixups: &[Fixup]) -> Vec<String> {
    let mut own: BTreeMap<(&str, &str), Vec<i32>> = BTreeMap::new();
    let mut out = Vec::new();
    for f in fixups {
        if f.id == f.value {
            own.entry((&f.table, &f.column)).or_default().push(f.id);
        } else {
            out.push(format!(
                "UPDATE {} SET {} = {} WHERE ID = {};",
                db::quote_ident(&f.table),
                db::quote_ident(&f.column),
                f.value,
                f.id
            ));
        }
    }
    for ((table, column), ids) in own {
        for group in ids.chunks(1000) {
            let list = group
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.insert(
                0,
                format!(
                    "UPDATE {} SET {} = ID WHERE ID IN ({list});",
                    db::quote_ident(table),
                    db::quote_ident(column)
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_references_are_one_statement_and_others_one_each() {
        let f = |id, value, column: &str| Fixup {
            table: "P".into(),
            column: column.into(),
            id,
            value,
        };
        let sql = fixup_statements(&[f(5, 5, "TOP"), f(6, 6, "TOP"), f(7, 9, "PRE")]);
        assert_eq!(
            sql,
            vec![
                "UPDATE [P] SET [TOP] = ID WHERE ID IN (5,6);".to_owned(),
                "UPDATE [P] SET [PRE] = 9 WHERE ID = 7;".to_owned(),
            ]
        );
    }
}
