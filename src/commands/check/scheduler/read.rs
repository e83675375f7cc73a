//! What the scheduler lines read of the source: the processes of the selected trees, the
//! trees `skip-tree` leaves behind, the activities with a `NEXT_RUN`.

use std::collections::BTreeSet;

use bptmig_db::{self as db, quote_ident, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_transform::maps::DefinitionMaps;
use bptmig_transform::scheduler::{parse_datetime_ms, ActivityRow, ProcessRow};

/// Roots per statement (a statement stays well within what servers accept).
const PER_STATEMENT: usize = 500;

/// The instance tables whose rows name a definition of their own, besides the processes:
/// (table, definition column, definition table).
const DEFINITION_COLUMNS: [(&str, &str, &str); 4] = [
    (c::ACTIVITY, c::ACTIVITY_DEF_ID, c::ACTIVITY_DEFINITION),
    (c::PROCESS_INPUT, c::INPUT_DEF_ID, c::PROCESS_INPUT_DEF),
    (c::PROCESS_OUTPUT, c::OUTPUT_DEF_ID, c::PROCESS_OUTPUT_DEF),
    (c::ACTIVITY_OUTPUT, c::OUTPUT_DEF_ID, c::ACTIVITY_OUTPUT_DEF),
];

/// The source connection and the catalog's spelling of its tables.
pub(super) struct Source<'c> {
    pub(super) client: &'c mut SqlClient,
    pub(super) names: Names,
}

/// A row read back as plain cells, each column as an integer and as text.
struct Cells {
    ints: Vec<Option<i64>>,
    texts: Vec<Option<String>>,
}

/// A process of the selected trees, with its tree's root.
pub(super) struct TreeProcess {
    pub(super) top: Option<i64>,
    pub(super) row: ProcessRow,
}

impl Source<'_> {
    async fn rows(&mut self, sql: &str) -> db::Result<Vec<Cells>> {
        let rows = db::query_rows(self.client, Side::Source, sql, &[]).await?;
        Ok(rows
            .iter()
            .map(|r| Cells {
                ints: (0..r.len()).map(|i| db::int_cell(r, i)).collect(),
                texts: (0..r.len()).map(|i| db::text_cell(r, i)).collect(),
            })
            .collect())
    }

    /// `<select> WHERE P.TOP_PROCESS_ID IN (<chunk>)[ AND <and>]`, for each chunk of
    /// `roots`.
    fn by_roots(select: &str, roots: &[i64], and: Option<&str>) -> Vec<String> {
        roots
            .chunks(PER_STATEMENT)
            .map(|chunk| {
                let list: Vec<String> = chunk.iter().map(ToString::to_string).collect();
                let and = and.map(|a| format!(" AND {a}")).unwrap_or_default();
                format!(
                    "{select} WHERE P.{} IN ({}){and}",
                    quote_ident(c::TOP_PROCESS_ID),
                    list.join(", ")
                )
            })
            .collect()
    }

    /// Every process of the trees of `roots`.
    pub(super) async fn processes(&mut self, roots: &[i64]) -> db::Result<Vec<TreeProcess>> {
        let select = format!(
            "SELECT P.{}, P.{}, P.{}, P.{}, P.{} FROM {} P",
            quote_ident(c::ID),
            quote_ident(c::TOP_PROCESS_ID),
            quote_ident(c::PROCESS_DEF_ID),
            quote_ident(c::TENANT_ID),
            quote_ident(c::STATUS_ID),
            self.names.quoted(c::PROCESS)?
        );
        let mut out = Vec::new();
        for sql in Self::by_roots(&select, roots, None) {
            for r in self.rows(&sql).await? {
                let Some(id) = r.ints[0] else {
                    continue;
                };
                out.push(TreeProcess {
                    top: r.ints[1],
                    row: ProcessRow {
                        id,
                        definition: r.ints[2],
                        tenant: r.ints[3],
                        status: r.ints[4],
                    },
                });
            }
        }
        Ok(out)
    }

    /// The roots among `roots` of the trees holding a row that names a definition the target
    /// lacks, besides their processes' own (`skip-tree` leaves these trees behind).
    pub(super) async fn roots_naming_unmapped(
        &mut self,
        defs: &DefinitionMaps,
        roots: &[i64],
    ) -> db::Result<BTreeSet<i64>> {
        let mut out = BTreeSet::new();
        for (table, column, def_table) in DEFINITION_COLUMNS {
            let unmapped: Vec<String> = defs
                .unmapped
                .get(def_table)
                .map(|m| m.keys().map(ToString::to_string).collect())
                .unwrap_or_default();
            let select = format!(
                "SELECT DISTINCT P.{} FROM {} O {}",
                quote_ident(c::TOP_PROCESS_ID),
                self.names.quoted(table)?,
                self.joined_process(table)?,
            );
            for ids in unmapped.chunks(PER_STATEMENT) {
                let named = format!("O.{} IN ({})", quote_ident(column), ids.join(", "));
                for sql in Self::by_roots(&select, roots, Some(&named)) {
                    out.extend(self.rows(&sql).await?.iter().filter_map(|r| r.ints[0]));
                }
            }
        }
        Ok(out)
    }

    /// `JOIN <process> P ON …` from a row `O` of `table` to the process owning it (through
    /// its activity for activity outputs).
    fn joined_process(&self, table: &str) -> db::Result<String> {
        let (p, id) = (self.names.quoted(c::PROCESS)?, quote_ident(c::ID));
        let pid = quote_ident(c::PROCESS_ID);
        Ok(if table == c::ACTIVITY_OUTPUT {
            format!(
                "JOIN {} A ON A.{id} = O.{} JOIN {p} P ON P.{id} = A.{pid}",
                self.names.quoted(c::ACTIVITY)?,
                quote_ident(c::ACTIVITY_ID),
            )
        } else {
            format!("JOIN {p} P ON P.{id} = O.{pid}")
        })
    }

    /// Whether the source's activities have a `NEXT_RUN` column.
    pub(super) async fn has_next_run(&mut self) -> db::Result<bool> {
        let spelled = self.names.find(c::ACTIVITY)?.map(str::to_owned);
        let Some(spelled) = spelled else {
            return Ok(false);
        };
        let columns = db::table_columns(self.client, Side::Source, &spelled).await?;
        Ok(db::find_column(&columns, c::NEXT_RUN).is_some())
    }

    /// The activities of the trees of `roots` that have a `NEXT_RUN`, read as exact ISO text
    /// (`CONVERT(…, 126)`), with its process.
    pub(super) async fn activities(&mut self, roots: &[i64]) -> db::Result<Vec<ActivityRow>> {
        let next = quote_ident(c::NEXT_RUN);
        let select = format!(
            "SELECT O.{}, O.{}, O.{}, O.{}, CONVERT(VARCHAR(33), O.{next}, 126) FROM {} O {}",
            quote_ident(c::ID),
            quote_ident(c::PROCESS_ID),
            quote_ident(c::ACTIVITY_DEF_ID),
            quote_ident(c::STATUS_ID),
            self.names.quoted(c::ACTIVITY)?,
            self.joined_process(c::ACTIVITY)?,
        );
        let mut out = Vec::new();
        let has_next_run = format!("O.{next} IS NOT NULL");
        for sql in Self::by_roots(&select, roots, Some(&has_next_run)) {
            for r in self.rows(&sql).await? {
                let (Some(id), Some(process)) = (r.ints[0], r.ints[1]) else {
                    continue;
                };
                out.push(ActivityRow {
                    id,
                    process,
                    definition: r.ints[2],
                    status: r.ints[3],
                    next_run: r.texts[4].as_deref().and_then(parse_datetime_ms),
                });
            }
        }
        Ok(out)
    }
}
