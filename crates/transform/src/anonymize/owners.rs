//! What a value rule's `name` and `definition` select, checked against the source: a
//! parameter name the source's definitions have, and the processes or activities (owners)
//! of a definition of that name.
//!
//! A value row belongs to a process (`PROCESS_ID` of an input or output) or an activity
//! (`ACTIVITY_ID` of an activity output); the owner's definition is its `PROCESS_DEF_ID` /
//! `ACTIVITY_DEF_ID`, named in the source snapshot. For activity outputs `definition` names
//! either the activity's definition or its process's.

use std::collections::{BTreeMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int32Type};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::AnonRule;

use super::is_value_table;
use crate::input::Input;
use crate::maps::Snapshot;
use crate::verified::VerifiedParts;
use crate::{Error, Result};

/// The owners of the rows a `definition` selects: the row's column holding the owner, and
/// the owners' source IDs.
pub(super) struct Owned {
    pub(super) column: &'static str,
    pub(super) ids: HashSet<i32>,
}

/// The source's definitions and owner rows, each read once however many rules need them.
pub(super) struct Owners<'a> {
    source: &'a Snapshot,
    inputs: &'a [Input],
    verified: &'a VerifiedParts,
    /// (ID, definition ID) of every row of an owner table, by table.
    rows: BTreeMap<&'static str, Vec<(i32, i32)>>,
}

impl<'a> Owners<'a> {
    pub(super) fn new(
        source: &'a Snapshot,
        inputs: &'a [Input],
        verified: &'a VerifiedParts,
    ) -> Self {
        Self {
            source,
            inputs,
            verified,
            rows: BTreeMap::new(),
        }
    }

    /// `rule`'s `name`, checked: some parameter definition of the source has it.
    pub(super) fn parameter(&self, rule: &AnonRule, input: &Input) -> Result<Option<String>> {
        let Some(name) = &rule.name else {
            return Ok(None);
        };
        let Some((_, def_table)) = c::definition_fk(&input.model) else {
            return Ok(Some(name.clone()));
        };
        let names = self.source.rows(def_table)?.texts(c::NAME);
        if names.iter().flatten().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(Some(name.clone()));
        }
        Err(error(
            rule,
            format!(
                "`name = {name:?}` is no parameter of the source's `{def_table}`; check the \
                 spelling (names match in any case)"
            ),
        ))
    }

    /// The owners of a definition named as `rule`'s `definition`.
    pub(super) fn of_definition(
        &mut self,
        rule: &AnonRule,
        input: &Input,
    ) -> Result<Option<Owned>> {
        let Some(name) = &rule.definition else {
            return Ok(None);
        };
        if !is_value_table(&input.name) {
            return Ok(None);
        }
        let by_activity = input.name.eq_ignore_ascii_case(c::ACTIVITY_OUTPUT);
        let processes = self.definitions(c::PROCESS_DEFINITION, name, &HashSet::new())?;
        let (column, owner, def_column, defs) = if by_activity {
            let defs = self.definitions(c::ACTIVITY_DEFINITION, name, &processes)?;
            (c::ACTIVITY_ID, c::ACTIVITY, c::ACTIVITY_DEF_ID, defs)
        } else {
            (c::PROCESS_ID, c::PROCESS, c::PROCESS_DEF_ID, processes)
        };
        if defs.is_empty() {
            let what = if by_activity {
                "activity or process definition"
            } else {
                "process definition"
            };
            return Err(error(
                rule,
                format!(
                    "`definition = {name:?}` names no {what} of the source; check the spelling \
                     (names match in any case)"
                ),
            ));
        }
        let ids = self
            .owner_rows(owner, def_column)?
            .iter()
            .filter(|(_, def)| defs.contains(&i64::from(*def)))
            .map(|(id, _)| *id)
            .collect();
        Ok(Some(Owned { column, ids }))
    }

    /// IDs of the rows of `table` named `name`, or (activity definitions) whose process
    /// definition is one of `processes`.
    fn definitions(
        &self,
        table: &str,
        name: &str,
        processes: &HashSet<i64>,
    ) -> Result<HashSet<i64>> {
        let rows = self.source.rows(table)?;
        Ok(rows
            .ints(c::ID)
            .into_iter()
            .zip(rows.texts(c::NAME))
            .zip(rows.ints(c::PROCESS_DEF_ID))
            .filter_map(|((id, n), process)| {
                let named = n.is_some_and(|n| n.eq_ignore_ascii_case(name));
                let in_process = process.is_some_and(|p| processes.contains(&p));
                (named || in_process).then_some(id).flatten()
            })
            .collect())
    }

    /// (ID, `def_column`) of every extracted row of `table`.
    fn owner_rows(&mut self, table: &'static str, def_column: &str) -> Result<&[(i32, i32)]> {
        if !self.rows.contains_key(table) {
            let mut rows = Vec::new();
            if let Some(input) = self.inputs.iter().find(|i| i.name == table) {
                for part in 0..input.manifest.parts.len() {
                    let reader = input.open_part(part, self.verified)?;
                    for batch in reader.columns(&[c::ID, def_column])?.read_all()? {
                        let (Some(ids), Some(defs)) = (
                            batch
                                .column_by_name(c::ID)
                                .filter(|a| a.data_type() == &DataType::Int32),
                            batch
                                .column_by_name(def_column)
                                .filter(|a| a.data_type() == &DataType::Int32),
                        ) else {
                            continue;
                        };
                        let (ids, defs) = (
                            ids.as_primitive::<Int32Type>(),
                            defs.as_primitive::<Int32Type>(),
                        );
                        rows.extend(
                            (0..ids.len())
                                .filter(|&i| ids.is_valid(i) && defs.is_valid(i))
                                .map(|i| (ids.value(i), defs.value(i))),
                        );
                    }
                }
            }
            self.rows.insert(table, rows);
        }
        Ok(self.rows.get(table).map_or(&[], Vec::as_slice))
    }
}

fn error(rule: &AnonRule, message: String) -> Error {
    Error::Anonymize {
        rule: rule.key(),
        column: rule.column_name(),
        message,
    }
}
