//! The selected trees, level by level, in temporary tables on the source connection.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, Int32Array};
use bptmig_db::{self as db, quote_ident, Side, SqlClient, ToSql};
use bptmig_model::catalog as c;

use crate::listed::ListedPart;
use crate::Result;

/// IDs per `INSERT` when a scope table is filled from part files.
const IDS_PER_INSERT: usize = 1000;

/// A level of the selected trees, each held in a temporary table of a [`TreeScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// The selected top-level processes.
    Roots,
    /// Every process of the trees.
    Processes,
    /// Every activity of those processes.
    Activities,
}

/// The tables whose rows of the trees are the IDs of a level below the roots, in the order
/// the levels are filled.
pub(super) const LEVEL_TABLES: [(&str, Level); 2] = [
    (c::PROCESS, Level::Processes),
    (c::ACTIVITY, Level::Activities),
];

impl Level {
    /// The level whose IDs are `table`'s rows of the trees, if any ([`LEVEL_TABLES`]).
    pub(crate) fn filled_by(table: &str) -> Option<Level> {
        LEVEL_TABLES
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, level)| *level)
    }

    /// The level's IDs in words, for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Level::Roots => "selected top-level processes",
            Level::Processes => "processes of the selected trees",
            Level::Activities => "activities of the selected trees",
        }
    }

    /// The column that ties `table`'s rows to a tree, and the level it points into.
    fn link(table: &str) -> (&'static str, Level) {
        match table {
            c::PROCESS => (c::TOP_PROCESS_ID, Level::Roots),
            c::ACTIVITY_OUTPUT => (c::ACTIVITY_ID, Level::Activities),
            t if c::is_osevt(t) => (c::EVT_ACTIVITY_ID, Level::Activities),
            _ => (c::PROCESS_ID, Level::Processes),
        }
    }
}

/// The temporary tables (`ID INT NOT NULL PRIMARY KEY`) that hold the selected trees' IDs
/// level by level on one connection, and the filters that select each instance table's rows
/// of those trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeScope {
    roots: String,
    processes: String,
    activities: String,
}

impl TreeScope {
    /// `#roots`, `#procs` and `#acts`: the extract's, one set per extract connection.
    pub(crate) fn extract() -> Self {
        Self::named("")
    }

    /// Names that no other scope uses, even on a server whose temporary tables are not
    /// private to a session (the sandbox's): process id and a counter.
    pub(crate) fn unique() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self::named(&format!("bptmig_{}_{n}_", std::process::id()))
    }

    fn named(prefix: &str) -> Self {
        Self {
            roots: format!("#{prefix}roots"),
            processes: format!("#{prefix}procs"),
            activities: format!("#{prefix}acts"),
        }
    }

    fn table(&self, level: Level) -> &str {
        match level {
            Level::Roots => &self.roots,
            Level::Processes => &self.processes,
            Level::Activities => &self.activities,
        }
    }

    /// The condition that selects the rows of the instance or `OSEVT_*` table `table` that
    /// belong to the scoped trees. The level it reads must be filled first.
    pub(crate) fn filter(&self, table: &str) -> String {
        let (column, level) = Level::link(table);
        format!(
            "{} IN (SELECT ID FROM {})",
            quote_ident(column),
            self.table(level)
        )
    }

    /// Creates `level`'s table on the connection (new for each connection).
    async fn create(&self, client: &mut SqlClient, level: Level) -> Result<()> {
        let sql = format!(
            "CREATE TABLE {} (ID INT NOT NULL PRIMARY KEY)",
            self.table(level)
        );
        db::execute(client, Side::Source, &sql).await?;
        Ok(())
    }

    /// Creates `level`'s table and fills it from the `ID` column of `parts`, each checked
    /// against its manifest entry before any of it is used, a batch at a time: memory does
    /// not grow with the IDs.
    pub(crate) async fn fill_from_parts(
        &self,
        client: &mut SqlClient,
        level: Level,
        parts: &[ListedPart],
    ) -> Result<()> {
        self.create(client, level).await?;
        let mut sql = String::new();
        for part in parts {
            let batches = part
                .open()?
                .columns(&[c::ID])?
                .batch_size(IDS_PER_INSERT)
                .batches()?;
            for batch in batches {
                let batch = batch?;
                let Some(ids) = batch.column(0).as_any().downcast_ref::<Int32Array>() else {
                    continue;
                };
                let ids: Vec<i32> = ids.iter().flatten().collect();
                self.insert(client, level, &ids, &mut sql).await?;
            }
        }
        Ok(())
    }

    /// Creates `level`'s table and fills it with `ids`.
    pub(super) async fn fill_from_ids(
        &self,
        client: &mut SqlClient,
        level: Level,
        ids: &[i32],
    ) -> Result<()> {
        self.create(client, level).await?;
        let mut sql = String::new();
        for chunk in ids.chunks(IDS_PER_INSERT) {
            self.insert(client, level, chunk, &mut sql).await?;
        }
        Ok(())
    }

    /// Inserts `ids` (at most [`IDS_PER_INSERT`]) into `level`'s table, in one statement
    /// written into `sql`.
    async fn insert(
        &self,
        client: &mut SqlClient,
        level: Level,
        ids: &[i32],
        sql: &mut String,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sql.clear();
        let _ = write!(sql, "INSERT INTO {} (ID) VALUES ", self.table(level));
        for (i, id) in ids.iter().enumerate() {
            let _ = write!(sql, "{}({id})", if i == 0 { "" } else { "," });
        }
        db::execute(client, Side::Source, sql).await?;
        Ok(())
    }

    /// Creates `level`'s table and fills it on the server with the IDs `select` returns.
    pub(super) async fn fill_from_query(
        &self,
        client: &mut SqlClient,
        level: Level,
        select: &str,
        params: &[&dyn ToSql],
    ) -> Result<()> {
        self.create(client, level).await?;
        let sql = format!("INSERT INTO {} (ID) {select}", self.table(level));
        db::query_rows(client, Side::Source, &sql, params).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_is_scoped_by_its_link_to_the_level_above() {
        let scope = TreeScope::extract();
        let cases = [
            (c::PROCESS, "[TOP_PROCESS_ID] IN (SELECT ID FROM #roots)"),
            (c::ACTIVITY, "[PROCESS_ID] IN (SELECT ID FROM #procs)"),
            (c::PROCESS_INPUT, "[PROCESS_ID] IN (SELECT ID FROM #procs)"),
            (c::PROCESS_OUTPUT, "[PROCESS_ID] IN (SELECT ID FROM #procs)"),
            (
                c::ACTIVITY_OUTPUT,
                "[ACTIVITY_ID] IN (SELECT ID FROM #acts)",
            ),
            (
                "OSEVT_OSUSR_3AR_CANDIDATE",
                "[_ACTIVITY_ID] IN (SELECT ID FROM #acts)",
            ),
        ];
        for (table, filter) in cases {
            assert_eq!(scope.filter(table), filter, "{table}");
        }
        assert_eq!(Level::filled_by(c::PROCESS), Some(Level::Processes));
        assert_eq!(Level::filled_by(c::ACTIVITY), Some(Level::Activities));
        assert_eq!(Level::filled_by(c::PROCESS_INPUT), None);
    }

    #[test]
    fn unique_scopes_share_no_table_name() {
        let (a, b) = (TreeScope::unique(), TreeScope::unique());
        for level in [Level::Roots, Level::Processes, Level::Activities] {
            assert_ne!(a.table(level), b.table(level));
            assert!(a.table(level).starts_with("#bptmig_"));
        }
    }
}
