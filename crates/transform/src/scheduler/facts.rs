//! [`Facts`] from the two snapshots: the target's flags, the source's statuses and kinds.

use std::collections::HashSet;

use bptmig_model::catalog as c;
use bptmig_workdir::part::PartReader;

use super::{Facts, Flags};
use crate::maps::{Rows, Snapshot};
use crate::Result;

/// Status names that are terminal when a status table has no `IS_TERMINAL`.
const TERMINAL_NAMES: [&str; 3] = ["closed", "terminated", "aborted"];

/// A snapshot table read whole, with the spelling of each flag column it has.
struct Table {
    name: &'static str,
    rows: Rows,
    columns: Vec<String>,
}

impl Table {
    fn read(snap: &Snapshot, name: &'static str) -> Result<Self> {
        let rows = snap.rows(name)?;
        let path = snap.dir.join(format!("{name}.parquet"));
        let columns = PartReader::open(&path)?
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Ok(Self {
            name,
            rows,
            columns,
        })
    }

    /// The file's spelling of `column`, when it has it.
    fn spelled(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(column))
            .map(String::as_str)
    }

    fn ints(&self, column: &str) -> Vec<Option<i64>> {
        self.rows.ints(self.spelled(column).unwrap_or(column))
    }

    /// A bit column, `None` in every row when the table lacks it (then noted in `unchecked`).
    fn flags(&self, column: &str, unchecked: &mut Vec<String>) -> Vec<Option<bool>> {
        match self.spelled(column) {
            Some(spelled) => {
                let set = self.rows.bools(spelled, true);
                let unset = self.rows.bools(spelled, false);
                // NULL reads as the default: known only where both readings agree.
                set.into_iter()
                    .zip(unset)
                    .map(|(a, b)| (a == b).then_some(a))
                    .collect()
            }
            None => {
                unchecked.push(format!("{}.{column}", self.name));
                vec![None; self.rows.len()]
            }
        }
    }

    /// The IDs of the rows whose status is terminal (`IS_TERMINAL`, else by name).
    fn terminal(&self, unchecked: &mut Vec<String>) -> HashSet<i64> {
        let ids = self.ints(c::ID);
        let names = self.rows.texts(self.spelled(c::NAME).unwrap_or(c::NAME));
        let mut missing = Vec::new();
        let flags = self.flags(c::IS_TERMINAL, &mut missing);
        if !missing.is_empty() {
            unchecked.extend(missing.into_iter().map(|m| format!("{m} (read by name)")));
        }
        ids.into_iter()
            .zip(flags)
            .zip(names)
            .filter_map(|((id, flag), name)| {
                let by_name = || {
                    name.as_deref()
                        .is_some_and(|n| TERMINAL_NAMES.contains(&n.to_lowercase().as_str()))
                };
                flag.unwrap_or_else(by_name).then_some(id).flatten()
            })
            .collect()
    }
}

impl Facts {
    /// Reads what the findings need: the target's process and activity definitions, eSpaces
    /// and tenants; the source's statuses, activity definitions and kinds.
    pub fn read(source: &Snapshot, target: &Snapshot) -> Result<Self> {
        let mut facts = Facts::default();
        let unchecked = &mut facts.unchecked;

        let defs = Table::read(target, c::PROCESS_DEFINITION)?;
        let (active, locked) = (
            defs.flags(c::IS_ACTIVE, unchecked),
            defs.flags(c::IS_LOCKED, unchecked),
        );
        for (((id, espace), active), locked) in defs
            .ints(c::ID)
            .into_iter()
            .zip(defs.ints(c::ESPACE_ID))
            .zip(active)
            .zip(locked)
        {
            if let Some(id) = id {
                facts
                    .definitions
                    .insert(id, (Flags { active, locked }, espace));
            }
        }

        let espaces = Table::read(target, c::ESPACE)?;
        let (active, locked) = (
            espaces.flags(c::IS_ACTIVE, unchecked),
            espaces.flags(c::IS_LOCKED, unchecked),
        );
        for ((id, active), locked) in espaces.ints(c::ID).into_iter().zip(active).zip(locked) {
            if let Some(id) = id {
                facts.espaces.insert(id, Flags { active, locked });
            }
        }

        let activity_defs = Table::read(target, c::ACTIVITY_DEFINITION)?;
        facts.activity_definitions = by_id(&activity_defs, c::IS_ACTIVE, unchecked);
        let tenants = Table::read(target, c::TENANT)?;
        facts.tenants = by_id(&tenants, c::IS_ACTIVE, unchecked);

        facts.process_terminal = Table::read(source, c::PROCESS_STATUS)?.terminal(unchecked);
        facts.activity_terminal = Table::read(source, c::ACTIVITY_STATUS)?.terminal(unchecked);
        facts.automatic = automatic_definitions(source)?;
        Ok(facts)
    }
}

/// ID → the flag `column` of every row of `table`.
fn by_id(
    table: &Table,
    column: &str,
    unchecked: &mut Vec<String>,
) -> std::collections::HashMap<i64, Option<bool>> {
    table
        .ints(c::ID)
        .into_iter()
        .zip(table.flags(column, unchecked))
        .filter_map(|(id, flag)| Some((id?, flag)))
        .collect()
}

/// The source's activity definitions whose kind is named as an automatic activity.
fn automatic_definitions(source: &Snapshot) -> Result<HashSet<i64>> {
    let kinds = Table::read(source, c::ACTIVITY_KIND)?;
    let automatic: HashSet<i64> = kinds
        .ints(c::ID)
        .into_iter()
        .zip(kinds.rows.texts(kinds.spelled(c::NAME).unwrap_or(c::NAME)))
        .filter_map(|(id, name)| {
            let name = name?.to_lowercase();
            name.contains("automatic").then_some(id).flatten()
        })
        .collect();
    let defs = Table::read(source, c::ACTIVITY_DEFINITION)?;
    Ok(defs
        .ints(c::ID)
        .into_iter()
        .zip(defs.ints(c::KIND))
        .filter_map(|(id, kind)| kind.filter(|k| automatic.contains(k)).and(id))
        .collect())
}
