//! The tree ledger (`BPTMIG_TREES`): one row per moved tree, written in the transaction of
//! the chunk that holds the tree's root, so that a target remembers what it received.
//!
//! | column | |
//! |---|---|
//! | `SOURCE_FINGERPRINT` | the source database the tree came from ([`bptmig_workdir::fingerprint`]) |
//! | `SOURCE_ROOT_ID` | the root process's ID there |
//! | `SOURCE_LAST_MODIFIED` | the root's `LAST_MODIFIED` when it was extracted |
//! | `RUN_ID` | the run that moved it |
//! | `TARGET_ROOT_ID` | the root's ID in the target |
//! | `LOADED_AT` | when its chunk committed (the target's clock) |
//!
//! The primary key (`SOURCE_FINGERPRINT`, `SOURCE_ROOT_ID`) makes a second copy of a tree
//! impossible: the chunk that would record it again fails and is rolled back whole.
//! Lookups go by ranges of source root IDs, each statement at most [`MAX_QUERY_CHARS`] long.

use std::fmt::Write as _;

use bptmig_db::{self as db, quote_text, Side, SqlClient};

#[cfg(doc)]
use crate::plan::MAX_QUERY_CHARS;
use crate::plan::{parse_instant, range_predicate, ranges_of, Instant, RANGES_PER_STATEMENT};
use crate::target;
use crate::Result;

/// Most trees recorded by one `INSERT`.
const TREES_PER_INSERT: usize = 100;

/// A tree the tree ledger lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedTree {
    pub source_root_id: i32,
    pub target_root_id: i32,
    pub run_id: String,
    /// The root's `LAST_MODIFIED` in the source when that run extracted it.
    pub source_last_modified: Option<Instant>,
}

/// A tree to record: the root's source ID, its `LAST_MODIFIED` as a SQL literal (`NULL`
/// when unknown), its target ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeRecord {
    pub(crate) source_root_id: i32,
    pub(crate) last_modified_literal: String,
    pub(crate) target_root_id: i32,
}

/// The statement creating the tree ledger `table`.
pub(crate) fn create_sql(table: &str) -> String {
    format!(
        "CREATE TABLE {t} (\
         SOURCE_FINGERPRINT NVARCHAR(64) NOT NULL, SOURCE_ROOT_ID INT NOT NULL, \
         SOURCE_LAST_MODIFIED DATETIME NULL, RUN_ID NVARCHAR(64) NOT NULL, \
         TARGET_ROOT_ID INT NOT NULL, LOADED_AT DATETIME NOT NULL DEFAULT GETDATE(), \
         CONSTRAINT {pk} PRIMARY KEY (SOURCE_FINGERPRINT, SOURCE_ROOT_ID))",
        t = db::quote_ident(table),
        pk = db::quote_ident(&format!("PK_{table}"))
    )
}

/// The `INSERT`s recording `trees` (at most [`TREES_PER_INSERT`] rows each).
pub(crate) fn record_statements(
    table: &str,
    fingerprint: &str,
    run_id: &str,
    trees: &[TreeRecord],
) -> Vec<String> {
    let (fp, run) = (quote_text(fingerprint), quote_text(run_id));
    trees
        .chunks(TREES_PER_INSERT)
        .map(|group| {
            let mut sql = format!(
                "INSERT INTO {} (SOURCE_FINGERPRINT, SOURCE_ROOT_ID, SOURCE_LAST_MODIFIED, \
                 RUN_ID, TARGET_ROOT_ID, LOADED_AT) VALUES ",
                db::quote_ident(table)
            );
            for (i, t) in group.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(
                    sql,
                    "({fp}, {}, {}, {run}, {}, GETDATE())",
                    t.source_root_id, t.last_modified_literal, t.target_root_id
                );
            }
            sql.push(';');
            sql
        })
        .collect()
}

/// The `SELECT`s of the trees from source `fingerprint` among `source_roots` (ascending)
/// that a run other than `run_id` moved.
pub(crate) fn lookup_statements(
    table: &str,
    fingerprint: &str,
    run_id: Option<&str>,
    source_roots: &[i32],
) -> Vec<String> {
    let other_run = run_id
        .map(|r| format!(" AND RUN_ID <> {}", quote_text(r)))
        .unwrap_or_default();
    let head = format!(
        "SELECT SOURCE_ROOT_ID, TARGET_ROOT_ID, RUN_ID, \
         CONVERT(VARCHAR(33), SOURCE_LAST_MODIFIED, 126) FROM {} \
         WHERE SOURCE_FINGERPRINT = {}{other_run} AND (",
        db::quote_ident(table),
        quote_text(fingerprint),
    );
    target::with_predicates(&head, ")", "SOURCE_ROOT_ID", &ranges_of(source_roots))
}

/// The `DELETE`s forgetting the trees run `run_id` recorded with target roots in `ranges`.
pub(crate) fn forget_statements(table: &str, run_id: &str, ranges: &[(i32, i32)]) -> Vec<String> {
    ranges
        .chunks(RANGES_PER_STATEMENT)
        .map(|group| {
            format!(
                "DELETE FROM {} WHERE RUN_ID = {} AND ({});",
                db::quote_ident(table),
                quote_text(run_id),
                range_predicate("TARGET_ROOT_ID", group)
            )
        })
        .collect()
}

/// The trees from source `fingerprint` among `source_roots` (ascending) that the tree ledger
/// `table` lists for a run other than `run_id`; none when the table does not exist.
pub(crate) async fn recorded(
    client: &mut SqlClient,
    table: &str,
    fingerprint: &str,
    run_id: Option<&str>,
    source_roots: &[i32],
) -> Result<Vec<RecordedTree>> {
    if source_roots.is_empty() || !super::exists(client, table).await? {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for sql in lookup_statements(table, fingerprint, run_id, source_roots) {
        for row in db::query_rows(client, Side::Target, &sql, &[]).await? {
            let (Some(source), Some(target), Some(run)) = (
                db::int_cell(&row, 0),
                db::int_cell(&row, 1),
                db::text_cell(&row, 2),
            ) else {
                continue;
            };
            let (Ok(source_root_id), Ok(target_root_id)) =
                (i32::try_from(source), i32::try_from(target))
            else {
                continue;
            };
            out.push(RecordedTree {
                source_root_id,
                target_root_id,
                run_id: run,
                source_last_modified: db::text_cell(&row, 3).as_deref().and_then(parse_instant),
            });
        }
    }
    out.sort_unstable_by_key(|t| t.source_root_id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_lookups_are_bounded_statements() {
        let trees: Vec<TreeRecord> = (0..250)
            .map(|i| TreeRecord {
                source_root_id: i,
                last_modified_literal: "NULL".into(),
                target_root_id: 1000 + i,
            })
            .collect();
        let sql = record_statements("BPTMIG_TREES", "fp", "run", &trees);
        assert_eq!(sql.len(), 3);
        assert!(sql[0].starts_with(
            "INSERT INTO [BPTMIG_TREES] (SOURCE_FINGERPRINT, SOURCE_ROOT_ID, \
             SOURCE_LAST_MODIFIED, RUN_ID, TARGET_ROOT_ID, LOADED_AT) VALUES \
             (N'fp', 0, NULL, N'run', 1000, GETDATE()), "
        ));
        let lookups = lookup_statements("BPTMIG_TREES", "fp", Some("run"), &[1, 2, 3, 7]);
        assert_eq!(
            lookups,
            vec!["SELECT SOURCE_ROOT_ID, TARGET_ROOT_ID, RUN_ID, \
                 CONVERT(VARCHAR(33), SOURCE_LAST_MODIFIED, 126) FROM [BPTMIG_TREES] \
                 WHERE SOURCE_FINGERPRINT = N'fp' AND RUN_ID <> N'run' AND \
                 ((SOURCE_ROOT_ID BETWEEN 1 AND 3) OR (SOURCE_ROOT_ID = 7))"
                .to_owned()]
        );
        let sparse: Vec<i32> = (0..1000).map(|i| i * 2).collect();
        let lookups = lookup_statements("T", "fp", None, &sparse);
        assert!(lookups.len() > 5, "{}", lookups.len());
        assert!(lookups
            .iter()
            .all(|s| s.len() <= crate::plan::MAX_QUERY_CHARS));
    }
}
