//! What the count reads of the source: snapshots of both sides, the processes' tops and
//! definitions, the rows naming definitions the target lacks, the typed values.

use std::collections::{BTreeSet, HashMap};

use bptmig_db::{self as db, quote_ident, quote_text, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_transform::unmoved::TypedValue;

use super::{Failure, Process};

/// IDs or literals per statement (a statement stays well within what servers accept).
const PER_STATEMENT: usize = 500;

/// The instance tables whose rows name a definition of their own, besides the processes:
/// (table, definition column, definition table).
pub(super) const DEFINITION_COLUMNS: [(&str, &str, &str); 4] = [
    (c::ACTIVITY, c::ACTIVITY_DEF_ID, c::ACTIVITY_DEFINITION),
    (c::PROCESS_INPUT, c::INPUT_DEF_ID, c::PROCESS_INPUT_DEF),
    (c::PROCESS_OUTPUT, c::OUTPUT_DEF_ID, c::PROCESS_OUTPUT_DEF),
    (c::ACTIVITY_OUTPUT, c::OUTPUT_DEF_ID, c::ACTIVITY_OUTPUT_DEF),
];

/// The value tables: (table, value column).
const VALUE_TABLES: [(&str, &str); 3] = [
    (c::PROCESS_INPUT, c::INPUT_VALUE),
    (c::PROCESS_OUTPUT, c::OUTPUT_VALUE),
    (c::ACTIVITY_OUTPUT, c::OUTPUT_VALUE),
];

/// The source connection and the catalog's spelling of its tables.
pub(super) struct Source<'c> {
    pub(super) client: &'c mut SqlClient,
    pub(super) names: Names,
}

impl Source<'_> {
    async fn rows(&mut self, sql: &str) -> Result<Vec<tiberius_free::Row>, Failure> {
        let rows = db::query_rows(self.client, Side::Source, sql, &[]).await?;
        Ok(rows
            .iter()
            .map(|r| tiberius_free::Row {
                ints: (0..r.len()).map(|i| db::int_cell(r, i)).collect(),
                texts: (0..r.len()).map(|i| db::text_cell(r, i)).collect(),
            })
            .collect())
    }

    /// Every process: ID → top and definition.
    pub(super) async fn processes(&mut self) -> Result<HashMap<i64, Process>, Failure> {
        let sql = format!(
            "SELECT {}, {}, {} FROM {}",
            quote_ident(c::ID),
            quote_ident(c::TOP_PROCESS_ID),
            quote_ident(c::PROCESS_DEF_ID),
            self.names.quoted(c::PROCESS)?
        );
        Ok(self
            .rows(&sql)
            .await?
            .iter()
            .filter_map(|r| {
                let p = Process {
                    top: r.ints[1],
                    definition: r.ints[2],
                };
                Some((r.ints[0]?, p))
            })
            .collect())
    }

    /// The processes owning a row of `table` whose `column` is one of `ids`.
    pub(super) async fn processes_naming(
        &mut self,
        table: &str,
        column: &str,
        ids: &[i64],
    ) -> Result<BTreeSet<i64>, Failure> {
        let mut out = BTreeSet::new();
        for chunk in ids.chunks(PER_STATEMENT) {
            let list: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let condition = format!("O.{} IN ({})", quote_ident(column), list.join(", "));
            let sql = self.owned_by_process(table, "", &condition)?;
            out.extend(self.rows(&sql).await?.iter().filter_map(|r| r.ints[0]));
        }
        Ok(out)
    }

    /// `SELECT DISTINCT <process>[, more] FROM <table> O … WHERE condition`: the process that
    /// owns each row (through its activity for activity outputs).
    fn owned_by_process(
        &self,
        table: &str,
        more: &str,
        condition: &str,
    ) -> Result<String, Failure> {
        let t = self.names.quoted(table)?;
        let pid = quote_ident(c::PROCESS_ID);
        Ok(if table == c::ACTIVITY_OUTPUT {
            format!(
                "SELECT A.{pid}{more} FROM {t} O JOIN {} A ON A.{} = O.{} WHERE {condition}",
                self.names.quoted(c::ACTIVITY)?,
                quote_ident(c::ID),
                quote_ident(c::ACTIVITY_ID),
            )
        } else {
            format!("SELECT O.{pid}{more} FROM {t} O WHERE {condition}")
        })
    }

    /// Every non-NULL value whose `SS_TYPE` is one of `types`, with the process that owns
    /// its row.
    pub(super) async fn values(
        &mut self,
        types: &[String],
    ) -> Result<Vec<(i64, TypedValue)>, Failure> {
        let mut out = Vec::new();
        let ss_type = quote_ident(c::SS_TYPE);
        for (table, column) in VALUE_TABLES {
            let value = quote_ident(column);
            for chunk in types.chunks(PER_STATEMENT) {
                let list: Vec<String> = chunk.iter().map(|t| quote_text(t)).collect();
                let condition = format!(
                    "O.{ss_type} IN ({}) AND O.{value} IS NOT NULL",
                    list.join(", ")
                );
                let more = format!(", O.{ss_type}, O.{value}");
                let sql = self.owned_by_process(table, &more, &condition)?;
                out.extend(self.rows(&sql).await?.into_iter().filter_map(|mut r| {
                    let value = TypedValue {
                        ss_type: r.texts[1].take()?,
                        value: r.texts[2].take()?,
                    };
                    Some((r.ints[0]?, value))
                }));
            }
        }
        Ok(out)
    }

    /// The process of each activity of `ids` the source has.
    pub(super) async fn activity_processes(
        &mut self,
        ids: &BTreeSet<i64>,
    ) -> Result<Vec<(i64, i64)>, Failure> {
        let ids: Vec<i64> = ids.iter().copied().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(PER_STATEMENT) {
            let list: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let sql = format!(
                "SELECT {id}, {} FROM {} WHERE {id} IN ({})",
                quote_ident(c::PROCESS_ID),
                self.names.quoted(c::ACTIVITY)?,
                list.join(", "),
                id = quote_ident(c::ID),
            );
            out.extend(
                self.rows(&sql)
                    .await?
                    .iter()
                    .filter_map(|r| Some((r.ints[0]?, r.ints[1]?))),
            );
        }
        Ok(out)
    }
}

/// Rows read back as plain cells, so that nothing here names the driver's row type.
mod tiberius_free {
    pub(super) struct Row {
        pub(super) ints: Vec<Option<i64>>,
        pub(super) texts: Vec<Option<String>>,
    }
}
