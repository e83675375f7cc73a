//! One chunk's transaction: the target lock's heartbeat, the chunk's rows (through a
//! [`ChunkWriter`]), its fix-ups, the trees whose roots it holds and its ledger row commit
//! together or not at all.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use bptmig_db::{self as db, SqlClient, Transient as _};

use super::{ChunkError, ChunkRows, ChunkWriter};
use crate::ledger::lock::TargetLock;
use crate::ledger::trees::{self, TreeRecord};
use crate::ledger::{self, LedgerRow};
use crate::plan::Fixup;
use crate::target::{self, Refused};
use crate::{Error, Result};

/// The longest batch of fix-up statements sent at once.
const FIXUP_BATCH_BYTES: usize = 32 * 1024;

/// How chunks are committed.
pub(crate) struct ChunkTransaction<'a> {
    /// The ledger table's name.
    pub(crate) ledger: &'a str,
    /// The tree ledger's name.
    pub(crate) trees: &'a str,
    /// The pairs table's name (written only by a writer that captures IDs).
    pub(crate) pairs: &'a str,
    /// The source database's fingerprint, for the tree ledger.
    pub(crate) source_fingerprint: &'a str,
    pub(crate) run_id: &'a str,
    /// The target's lock, confirmed at the start of every chunk.
    pub(crate) lock: Option<&'a TargetLock>,
    /// Wait this long before committing (tests of kills).
    pub(crate) delay: Option<Duration>,
}

/// What a chunk's transaction writes besides its rows.
pub(crate) struct ChunkExtras<'a> {
    pub(crate) ledger_row: &'a LedgerRow,
    /// The trees whose roots are among the chunk's rows.
    pub(crate) trees: &'a [TreeRecord],
}

impl ChunkTransaction<'_> {
    /// Writes one chunk, its fix-ups, its trees and its ledger row in one transaction; on
    /// failure rolls it back and reports [`Error::ChunkFailed`] (`done` chunks loaded before
    /// it), or [`Error::LockLost`] when the target's lock is no longer this load's.
    pub(crate) async fn apply<W: ChunkWriter>(
        &self,
        client: &mut SqlClient,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        extras: &ChunkExtras<'_>,
        done: usize,
    ) -> Result<()> {
        let table = rows.table.sql();
        let identity = rows.table.has_key() && writer.names_ids();
        let mut begin = String::from("SET XACT_ABORT ON; BEGIN TRANSACTION;");
        let held = self.lock.map(TargetLock::hold_statements);
        if let Some((beat, _)) = &held {
            let _ = write!(begin, " {beat}");
        }
        if identity {
            let _ = write!(begin, " SET IDENTITY_INSERT {table} ON;");
        }
        let error = match self
            .write(client, writer, rows, &begin, extras, identity)
            .await
        {
            Ok(Held::Yes) => {
                writer.committed();
                return Ok(());
            }
            Ok(Held::Lost(lock)) => {
                writer.discarded();
                target::roll_back(client).await;
                return Err(lock.lost(client).await);
            }
            Err(error) => error,
        };
        writer.discarded();
        target::roll_back(client).await;
        // A chunk cut off is tried again; there is nothing to diagnose.
        let (row, reason) = if error.fault().is_some() {
            (None, error)
        } else {
            writer.diagnose(client, rows, &begin, error).await
        };
        Err(Error::ChunkFailed {
            table: rows.table.name.clone(),
            chunk: extras.ledger_row.chunk.clone(),
            done,
            row,
            reason: Box::new(reason),
        })
    }

    async fn write<W: ChunkWriter>(
        &self,
        client: &mut SqlClient,
        writer: &mut W,
        rows: &ChunkRows<'_>,
        begin: &str,
        extras: &ChunkExtras<'_>,
        identity: bool,
    ) -> Result<Held<'_>, ChunkError> {
        target::run_batch(client, begin)
            .await
            .map_err(|refused| ChunkError::Begin {
                sql: head(begin),
                refused,
            })?;
        if let Some(lock) = self.lock {
            let (_, held) = lock.hold_statements();
            let n = target::scalar_batch(client, &held)
                .await
                .map_err(|refused| ChunkError::Begin {
                    sql: head(&held),
                    refused,
                })?;
            if n != 1 {
                return Ok(Held::Lost(lock));
            }
        }
        writer.write_rows(client, rows).await?;
        let fixups = writer.target_fixups(&rows.chunk.fixups)?;
        let fixups = spelled_fixups(client, &fixups).await?;
        for batch in fixup_batches(&fixups) {
            target::run_batch(client, &batch)
                .await
                .map_err(|refused| ChunkError::Fixups {
                    sql: head(&batch),
                    refused,
                })?;
        }
        let records = trees::record_statements(
            self.trees,
            self.source_fingerprint,
            self.run_id,
            &writer.target_trees(extras.trees)?,
        );
        for sql in records {
            target::run_batch(client, &sql)
                .await
                .map_err(|refused| ChunkError::Trees {
                    sql: head(&sql),
                    refused,
                })?;
        }
        for sql in writer.capture_statements(self.pairs, self.run_id, &extras.ledger_row.chunk) {
            target::run_batch(client, &sql)
                .await
                .map_err(|refused| ChunkError::Pairs {
                    sql: head(&sql),
                    refused,
                })?;
        }
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let bounds = writer.target_bounds(rows.chunk);
        let commit = self.commit_sql(rows, extras.ledger_row, bounds, identity);
        target::run_batch(client, &commit)
            .await
            .map_err(|refused: Refused| ChunkError::Commit {
                sql: head(&commit),
                refused,
            })?;
        Ok(Held::Yes)
    }

    /// The ledger row (`bounds`: its rows' smallest and largest target ID), `IDENTITY_INSERT`
    /// off, the commit.
    fn commit_sql(
        &self,
        rows: &ChunkRows<'_>,
        ledger_row: &LedgerRow,
        bounds: Option<(i32, i32)>,
        identity: bool,
    ) -> String {
        let mut commit = ledger::insert_sql(self.ledger, self.run_id, ledger_row, bounds);
        if identity {
            let _ = write!(commit, " SET IDENTITY_INSERT {} OFF;", rows.table.sql());
        }
        commit.push_str(" COMMIT TRANSACTION;");
        commit
    }
}

/// Whether the target's lock was still this load's when the chunk began.
enum Held<'a> {
    Yes,
    Lost(&'a TargetLock),
}

/// The fix-up statements of a chunk in batches of at most [`FIXUP_BATCH_BYTES`] (a single
/// statement is never longer than a thousand IDs).
pub(crate) fn fixup_batches(fixups: &[Fixup]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in fixup_statements(fixups) {
        match out.last_mut() {
            Some(last) if last.len() + s.len() <= FIXUP_BATCH_BYTES => last.push_str(&s),
            _ => out.push(s),
        }
    }
    out
}

/// `fixups` with each column named as the target spells it (one catalog read per table they
/// update; none without fix-ups).
async fn spelled_fixups(
    client: &mut SqlClient,
    fixups: &[Fixup],
) -> Result<Vec<Fixup>, ChunkError> {
    let mut live: HashMap<&str, Vec<String>> = HashMap::new();
    for f in fixups {
        if !live.contains_key(f.spelled.as_str()) {
            let columns = target::live_columns(client, &f.spelled)
                .await
                .map_err(|refused| ChunkError::Columns {
                    table: f.table.clone(),
                    refused,
                })?;
            live.insert(&f.spelled, columns);
        }
    }
    Ok(fixups
        .iter()
        .map(|f| match live.get(f.spelled.as_str()) {
            Some(columns) => f.spelled_as(columns),
            None => f.clone(),
        })
        .collect())
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
            own.entry((&f.spelled, &f.column)).or_default().push(f.id);
        } else {
            out.push(format!(
                "UPDATE {} SET {} = {} WHERE ID = {};",
                db::quote_ident(&f.spelled),
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
            spelled: "p".into(),
            column: column.into(),
            id,
            value,
        };
        let sql = fixup_statements(&[f(5, 5, "TOP"), f(6, 6, "TOP"), f(7, 9, "PRE")]);
        assert_eq!(
            sql,
            vec![
                "UPDATE [p] SET [TOP] = ID WHERE ID IN (5,6);".to_owned(),
                "UPDATE [p] SET [PRE] = 9 WHERE ID = 7;".to_owned(),
            ]
        );
    }
}
