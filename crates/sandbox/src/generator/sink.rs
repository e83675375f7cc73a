//! Where history goes: into memory for seeding, or streamed (see `crate::workdir`).

use bptmig_model::catalog as c;

use super::applications::CANDIDATE_EVENT_TABLE;
use super::columns::{ACTIVITY_COLUMNS, PROCESS_COLUMNS};
use super::TableRows;
use crate::sql::Lit;

/// Receives generated history rows, table by table, each table in increasing ID order.
pub trait Sink {
    /// One row of `table` with values for `columns`, at tree `level` (processes and
    /// activities; 0 for everything else).
    fn row(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        level: usize,
        row: Vec<Lit>,
    );
}

/// Keeps history in memory as insertion groups: processes and activities level by level
/// (each level's processes reference activities of the level above), then the rest.
#[derive(Default)]
pub(super) struct MemorySink {
    levels: Vec<(TableRows, TableRows)>,
    rest: Vec<TableRows>,
}

impl Sink for MemorySink {
    fn row(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        level: usize,
        row: Vec<Lit>,
    ) {
        let group = if table == c::PROCESS || table == c::ACTIVITY {
            while self.levels.len() <= level {
                self.levels.push((
                    TableRows::new(c::PROCESS, PROCESS_COLUMNS, true),
                    TableRows::new(c::ACTIVITY, ACTIVITY_COLUMNS, true),
                ));
            }
            let (p, a) = &mut self.levels[level];
            if table == c::PROCESS {
                p
            } else {
                a
            }
        } else {
            match self.rest.iter().position(|t| t.table == table) {
                Some(i) => &mut self.rest[i],
                None => {
                    // Event tables have no identity key.
                    self.rest
                        .push(TableRows::new(table, columns, c::table(table).is_some()));
                    let last = self.rest.len() - 1;
                    &mut self.rest[last]
                }
            }
        };
        group.push(row);
    }
}

impl MemorySink {
    pub(super) fn into_tables(self, tables: &mut Vec<TableRows>) {
        for (p, a) in self.levels {
            tables.push(p);
            tables.push(a);
        }
        let order = [
            c::PROCESS_INPUT,
            c::PROCESS_OUTPUT,
            c::ACTIVITY_OUTPUT,
            CANDIDATE_EVENT_TABLE,
        ];
        let mut rest = self.rest;
        rest.sort_by_key(|t| {
            order
                .iter()
                .position(|o| *o == t.table)
                .unwrap_or(order.len())
        });
        tables.extend(rest);
    }
}
