//! What the generator produces: environments as tables of rows in insertion order.

use std::collections::BTreeMap;

use super::shapes::Shapes;
use crate::sql::Lit;

/// Which environment to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvKind {
    Prod,
    Qa,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Top-level processes of prod's history (sub-processes come on top).
    pub processes: usize,
    /// Top-level processes already in qa.
    pub qa_processes: usize,
    /// Leave one row in `OSSYS_BPM_EVENT_QUEUE` (a scheduler that has not drained).
    pub pending_event: bool,
    /// Give prod the shapes of a real platform ([`shapes`](super::shapes)): values typed as
    /// identifiers of system entities, the job-offer entity and its event table, the user
    /// event table, broken trees. Off by default, so that the data of every test written
    /// before them stays the same row for row.
    pub platform_shapes: bool,
    /// Give prod a reseeded identity, as OutSystems tells customers near 2^31 to do: from the
    /// second activity of its middle top-level process on, every process and activity
    /// generated (the rest of that process, the later trees, the shapes) gets an ID from
    /// −2,147,483,648 up ([`RESEEDED_TO`](super::RESEEDED_TO)), newer rows below older ones.
    /// For environments seeded into a server (whose extract sorts by ID), not for generated
    /// work directories, whose parts must ascend.
    pub reseeded: bool,
}

impl Default for EnvSpec {
    fn default() -> Self {
        Self {
            seed: 11,
            processes: 120,
            qa_processes: 4,
            pending_event: false,
            platform_shapes: false,
            reseeded: false,
        }
    }
}

/// Rows of one table, inserted together.
#[derive(Debug, Clone)]
pub struct TableRows {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Lit>>,
    /// The rows carry explicit values for an identity `ID` column.
    pub explicit_ids: bool,
}

impl TableRows {
    pub(super) fn new(table: &'static str, columns: &[&'static str], explicit_ids: bool) -> Self {
        Self {
            table,
            columns: columns.to_vec(),
            rows: Vec::new(),
            explicit_ids,
        }
    }

    pub(super) fn push(&mut self, row: Vec<Lit>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.rows.push(row);
    }

    /// The value of `column` in every row.
    pub fn column(&self, column: &str) -> impl Iterator<Item = &Lit> + '_ {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column));
        self.rows.iter().filter_map(move |r| i.map(|i| &r[i]))
    }
}

/// A generated environment, in insertion order.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub kind: EnvKind,
    pub tables: Vec<TableRows>,
    /// The platform shapes generated into it (empty without them, and in qa).
    pub shapes: Shapes,
}

impl Dataset {
    /// Rows generated for `table` (summed over its insertion groups).
    pub fn count(&self, table: &str) -> usize {
        self.groups(table).map(|t| t.rows.len()).sum()
    }

    /// The insertion groups of `table`.
    pub fn groups<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a TableRows> + 'a {
        self.tables
            .iter()
            .filter(move |t| t.table.eq_ignore_ascii_case(table))
    }

    /// Every row of `table` as a map column → value.
    pub fn rows(&self, table: &str) -> Vec<BTreeMap<&'static str, Lit>> {
        self.groups(table)
            .flat_map(|g| {
                g.rows.iter().map(|r| {
                    g.columns
                        .iter()
                        .copied()
                        .zip(r.iter().cloned())
                        .collect::<BTreeMap<_, _>>()
                })
            })
            .collect()
    }
}
