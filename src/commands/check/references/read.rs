//! What the count reads of the source: snapshots of both sides, the processes' tops and
//! definitions, the rows naming definitions the target lacks, the typed values.

use std::collections::{BTreeSet, HashMap};

use bptmig_db::{self as db, quote_ident, quote_text, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_transform::unmoved::{SubscriptionRow, TypedValue, ValueTypes};

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

    /// Every subscription row of the tables `OSSYS_ENTITY` names that exist, with the process
    /// of its activity: its non-NULL values of the columns that hold identifiers bptmig maps
    /// itself (integer or text columns: the transform carries any other as it is).
    pub(super) async fn subscriptions(
        &mut self,
        types: &ValueTypes,
    ) -> Result<Vec<(i64, SubscriptionRow)>, Failure> {
        let mut out = Vec::new();
        for table in types.subscription_tables() {
            let Some(spelled) = self.names.find(table)?.map(str::to_owned) else {
                continue;
            };
            let columns: Vec<String> = db::table_columns(self.client, Side::Source, &spelled)
                .await?
                .into_iter()
                .filter(|col| rewritten_type(&col.data_type))
                .map(|col| col.name)
                .filter(|name| {
                    !c::OSEVT_COLUMNS
                        .iter()
                        .any(|fixed| fixed.name.eq_ignore_ascii_case(name))
                        && types.is_system_column(table, name)
                })
                .collect();
            if columns.is_empty() {
                continue;
            }
            let list: Vec<String> = columns
                .iter()
                .map(|col| format!("E.{}", quote_ident(col)))
                .collect();
            let sql = format!(
                "SELECT A.{}, {} FROM {} E JOIN {} A ON A.{} = E.{}",
                quote_ident(c::PROCESS_ID),
                list.join(", "),
                self.names.quoted(&spelled)?,
                self.names.quoted(c::ACTIVITY)?,
                quote_ident(c::ID),
                quote_ident(c::EVT_ACTIVITY_ID),
            );
            for r in self.rows(&sql).await? {
                let Some(process) = r.ints[0] else {
                    continue;
                };
                let values = columns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, col)| {
                        let v = r.ints[i + 1]
                            .map(|n| n.to_string())
                            .or_else(|| r.texts[i + 1].clone())?;
                        Some((col.clone(), v))
                    })
                    .collect();
                let table = table.clone();
                out.push((process, SubscriptionRow { table, values }));
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

/// Whether the transform looks into a column of this SQL type (it rewrites integer and text
/// columns, and carries any other as it is, counted in `columns_kept`).
fn rewritten_type(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    matches!(
        t.as_str(),
        "int" | "bigint" | "varchar" | "nvarchar" | "char" | "nchar" | "text" | "ntext"
    )
}

/// Rows read back as plain cells, so that nothing here names the driver's row type.
mod tiberius_free {
    pub(super) struct Row {
        pub(super) ints: Vec<Option<i64>>,
        pub(super) texts: Vec<Option<String>>,
    }
}
