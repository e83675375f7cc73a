//! The pairs table (`BPTMIG_PAIRS`): under `ids.strategy = "generated"`, one row per moved
//! keyed row with the ID the transform gave it (`OLD_ID`, the source's) and the ID the target
//! generated for it (`NEW_ID`), written in the transaction of the row's chunk, so that "the
//! chunk is in the target" and "its IDs are known" are the same fact.
//!
//! | column | |
//! |---|---|
//! | `RUN_ID` | the run that moved the row |
//! | `TABLE_NAME` | the model's name of its table (`OSSYS_BPM_PROCESS`, …) |
//! | `CHUNK` | the chunk that moved it (as the ledger names it) |
//! | `OLD_ID` | its ID in the transformed Parquet |
//! | `NEW_ID` | its ID in the target |
//!
//! A resumed load reads the run's pairs back first ([`read_pairs`]); verify, rollback and
//! `bptmig maps` work from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bptmig_db::{self as db, quote_text, Side, SqlClient};

use crate::Result;

/// Most pairs one `INSERT` records (SQL Server takes at most 1,000 rows per `VALUES`).
const PAIRS_PER_INSERT: usize = 500;

/// The statement creating the pairs table `table`.
pub(crate) fn create_sql(table: &str) -> String {
    format!(
        "CREATE TABLE {t} (\
         RUN_ID NVARCHAR(64) NOT NULL, TABLE_NAME NVARCHAR(128) NOT NULL, \
         CHUNK NVARCHAR(128) NOT NULL, OLD_ID INT NOT NULL, NEW_ID INT NOT NULL, \
         CONSTRAINT {pk} PRIMARY KEY (RUN_ID, TABLE_NAME, OLD_ID))",
        t = db::quote_ident(table),
        pk = db::quote_ident(&format!("PK_{table}"))
    )
}

/// The pairs one chunk captured: of table `table` (the model's name), chunk `chunk`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkPairs<'a> {
    pub(crate) table: &'a str,
    pub(crate) chunk: &'a str,
    /// `(old, new)`, in the order the rows were inserted.
    pub(crate) pairs: &'a [(i32, i32)],
}

/// The `INSERT`s recording `pairs` of run `run_id` in the pairs table `table` (at most
/// [`PAIRS_PER_INSERT`] rows each).
pub(crate) fn record_statements(table: &str, run_id: &str, pairs: &ChunkPairs<'_>) -> Vec<String> {
    let head = format!(
        "INSERT INTO {} (RUN_ID, TABLE_NAME, CHUNK, OLD_ID, NEW_ID) VALUES ",
        db::quote_ident(table)
    );
    let (run, name, chunk) = (
        quote_text(run_id),
        quote_text(pairs.table),
        quote_text(pairs.chunk),
    );
    pairs
        .pairs
        .chunks(PAIRS_PER_INSERT)
        .map(|group| {
            let mut sql = head.clone();
            for (i, (old, new)) in group.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "({run}, {name}, {chunk}, {old}, {new})");
            }
            sql.push(';');
            sql
        })
        .collect()
}

/// The statement forgetting the pairs of one chunk of run `run_id`.
pub(crate) fn delete_sql(pairs: &str, run_id: &str, table: &str, chunk: &str) -> String {
    format!(
        "DELETE FROM {} WHERE RUN_ID = {} AND TABLE_NAME = {} AND CHUNK = {};",
        db::quote_ident(pairs),
        quote_text(run_id),
        quote_text(table),
        quote_text(chunk)
    )
}

/// Every pair run `run_id` recorded in the pairs table `table`: old → new per model table
/// name, sorted by old ID. None when the table does not exist. Streamed: memory holds the
/// pairs, not the rows.
pub(crate) async fn read_pairs(
    client: &mut SqlClient,
    table: &str,
    run_id: &str,
) -> Result<BTreeMap<String, Vec<(i32, i32)>>> {
    let mut out: BTreeMap<String, Vec<(i32, i32)>> = BTreeMap::new();
    if !super::exists(client, table).await? {
        return Ok(out);
    }
    let sql = format!(
        "SELECT TABLE_NAME, OLD_ID, NEW_ID FROM {} WHERE RUN_ID = {}",
        db::quote_ident(table),
        quote_text(run_id)
    );
    db::for_each_row(client, Side::Target, &sql, |row| {
        let (Some(name), Some(old), Some(new)) = (
            db::text_cell(row, 0),
            db::int_cell(row, 1).and_then(|v| i32::try_from(v).ok()),
            db::int_cell(row, 2).and_then(|v| i32::try_from(v).ok()),
        ) else {
            return;
        };
        match out.get_mut(&name) {
            Some(v) => v.push((old, new)),
            None => {
                out.insert(name, vec![(old, new)]);
            }
        }
    })
    .await?;
    for v in out.values_mut() {
        v.sort_unstable();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_recorded_in_bounded_statements() {
        let pairs: Vec<(i32, i32)> = (0..1001).map(|i| (i, 5000 + i)).collect();
        let chunk = ChunkPairs {
            table: "OSSYS_BPM_PROCESS",
            chunk: "L0-00000-0000",
            pairs: &pairs,
        };
        let sql = record_statements("BPTMIG_PAIRS", "run", &chunk);
        assert_eq!(sql.len(), 3);
        assert!(sql[0].starts_with(
            "INSERT INTO [BPTMIG_PAIRS] (RUN_ID, TABLE_NAME, CHUNK, OLD_ID, NEW_ID) VALUES \
             (N'run', N'OSSYS_BPM_PROCESS', N'L0-00000-0000', 0, 5000), "
        ));
        assert!(sql[2].ends_with("(N'run', N'OSSYS_BPM_PROCESS', N'L0-00000-0000', 1000, 6000);"));
        assert_eq!(
            delete_sql("P", "r", "T", "c"),
            "DELETE FROM [P] WHERE RUN_ID = N'r' AND TABLE_NAME = N'T' AND CHUNK = N'c';"
        );
    }
}
