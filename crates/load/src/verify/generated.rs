//! Verify under `ids.strategy = "generated"`: the transformed rows carry the source's IDs, the
//! target the IDs it generated, and the pairs the load captured join the two.
//!
//! * [`forward`]: a transformed batch as the load had to write it, every instance ID through
//!   the pairs of its table: the row's own ID, `PROCESS_ID`, `PARENT_`/`TOP_PROCESS_ID`,
//!   `PARENT_`/`PRECEDENT_ACTIVITY_ID`, owners, an `OSEVT_*` row's `ACTIVITY_ID`, and the
//!   identifiers inside values that `transform/references.json` types as instances. Mapping
//!   this way (old → new, exactly what the load does) cannot mistake a value for an ID: a
//!   value `unmoved_reference = "keep"` carried over is a source ID of no moved row, so no
//!   pair has it as its old ID; mapped back (new → old) it could equal a generated ID.
//! * [`RowDiff`]: the rows of a keyed table compared one by one, each named by its target
//!   ID and, mapped back through the pairs, its source ID: a pair whose target row is gone,
//!   a row whose content differs.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Int32Type, Int64Type};
use bptmig_model::catalog::{ColumnRole, FkKind};

use super::values::InstanceReferences;
use crate::id_maps::captured::{CapturedPairs, TablePairs};
use crate::plan::TableInput;
use crate::{Error, Result};

/// Rows named per kind of problem and table; the rest are counted.
const SHOWN: usize = 5;

/// Where the instance IDs of one column point.
enum Target<'a> {
    /// Every value, into this table's rows.
    Table(&'a TablePairs),
    /// Per row, by the `SS_TYPE` in this column.
    Typed(&'a str),
}

/// `b` (rows of `t` from the transformed Parquet) with every instance ID replaced by the ID
/// the target generated for its row, where the pairs know one; any other value unchanged.
pub(super) fn forward(
    t: &TableInput,
    b: &RecordBatch,
    pairs: &CapturedPairs,
    refs: &InstanceReferences,
) -> Result<RecordBatch> {
    let mut columns: Vec<(&str, Target)> = Vec::new();
    if let (Some(key), Some(own)) = (t.model.key, pairs.table(&t.name)) {
        columns.push((key, Target::Table(own)));
    }
    for col in t.model.columns {
        match col.role {
            ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            } => {
                if let Some(p) = pairs.table(table) {
                    columns.push((col.name, Target::Table(p)));
                }
            }
            ColumnRole::EntityRefValue { type_column } if !refs.instance_types.is_empty() => {
                columns.push((col.name, Target::Typed(type_column)));
            }
            _ => {}
        }
    }
    for (col, to) in refs.instance_columns.get(&t.name).into_iter().flatten() {
        if let Some(p) = pairs.table(to) {
            columns.push((col.as_str(), Target::Table(p)));
        }
    }
    let schema = b.schema();
    let mut arrays = b.columns().to_vec();
    for (name, into) in columns {
        let Ok(i) = schema.index_of(name) else {
            continue;
        };
        arrays[i] = match into {
            Target::Table(p) => map_column(&arrays[i], |_| Some(p)),
            Target::Typed(type_column) => {
                let Some(types) = b
                    .column_by_name(type_column)
                    .and_then(|a| a.as_string_opt::<i32>())
                else {
                    continue;
                };
                let into = |row: usize| {
                    let ss_type = types.is_valid(row).then(|| types.value(row))?;
                    pairs.table(refs.instance_types.get(ss_type)?)
                };
                map_column(&arrays[i], into)
            }
        };
    }
    RecordBatch::try_new(schema, arrays).map_err(|e| Error::arrow(&t.name, e))
}

/// Column `a` with each ID of row `i` through the pairs `into(i)` names (none: unchanged).
/// An integer column maps its values, a text column the identifiers it holds as plain
/// decimal text; any other column is returned as it is.
fn map_column<'p>(a: &ArrayRef, into: impl Fn(usize) -> Option<&'p TablePairs>) -> ArrayRef {
    let new = |row: usize, v: i32| into(row).and_then(|p| p.new_of(v)).unwrap_or(v);
    if let Some(ints) = a.as_primitive_opt::<Int32Type>() {
        let mapped: Int32Array = (0..ints.len())
            .map(|i| ints.is_valid(i).then(|| new(i, ints.value(i))))
            .collect();
        return Arc::new(mapped);
    }
    if let Some(ints) = a.as_primitive_opt::<Int64Type>() {
        let mapped: Int64Array = (0..ints.len())
            .map(|i| {
                ints.is_valid(i).then(|| {
                    let v = ints.value(i);
                    i32::try_from(v).map_or(v, |id| i64::from(new(i, id)))
                })
            })
            .collect();
        return Arc::new(mapped);
    }
    if let Some(texts) = a.as_string_opt::<i32>() {
        let mapped: StringArray = (0..texts.len())
            .map(|i| {
                texts.is_valid(i).then(|| {
                    let v = texts.value(i);
                    // `0` inside a value is the platform's null identifier: the load leaves
                    // it as it is, whatever row 0 might be.
                    match plain_id(v) {
                        Some(id) if id != 0 => new(i, id).to_string(),
                        _ => v.to_owned(),
                    }
                })
            })
            .collect();
        return Arc::new(mapped);
    }
    a.clone()
}

/// An identifier held as text, as the transform reads one: plain decimal digits with an
/// optional leading `-`, nothing else.
fn plain_id(v: &str) -> Option<i32> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// The rows of one keyed table, each its key and its hash, from both sides.
#[derive(Debug, Default)]
pub(super) struct RowDiff {
    /// Per source ID (the transformed row's key), the hash of the row as the load had to
    /// write it; only rows the pairs place in the target.
    expected: HashMap<i32, u128>,
    /// Per target ID, the hash of the row read back.
    found: HashMap<i32, u128>,
}

impl RowDiff {
    /// Adds the transformed rows whose keys are `keys` (source IDs) and whose hashes, after
    /// [`forward`], are `hashes`; a row the pairs do not place is left to the chunk checks.
    pub(super) fn expect(
        &mut self,
        pairs: Option<&TablePairs>,
        keys: &Int32Array,
        hashes: &[u128],
    ) {
        for (k, h) in keys.iter().zip(hashes) {
            if let Some(old) = k.filter(|&old| pairs.and_then(|p| p.new_of(old)).is_some()) {
                self.expected.insert(old, *h);
            }
        }
    }

    /// Adds the rows read back whose keys are `keys` (target IDs) and hashes `hashes`.
    pub(super) fn found(&mut self, keys: &Int32Array, hashes: &[u128]) {
        for (k, h) in keys.iter().zip(hashes) {
            if let Some(new) = k {
                self.found.insert(new, *h);
            }
        }
    }

    /// The problems of table `table`, whose pairs are `pairs` (in `source`, the pairs
    /// table): pairs whose target row is gone, rows whose content differs.
    pub(super) fn problems(
        &self,
        table: &str,
        pairs: Option<&TablePairs>,
        source: &str,
    ) -> Vec<String> {
        let Some(pairs) = pairs else {
            return Vec::new();
        };
        let mut gone: Vec<(i32, i32)> = Vec::new();
        let mut differ: Vec<(i32, i32)> = Vec::new();
        for (&old, expected) in &self.expected {
            let Some(new) = pairs.new_of(old) else {
                continue;
            };
            match self.found.get(&new) {
                None => gone.push((old, new)),
                Some(found) if found != expected => differ.push((old, new)),
                Some(_) => {}
            }
        }
        let mut out = Vec::new();
        if !gone.is_empty() {
            out.push(format!(
                "`{table}`: {} pair(s) in the pairs table `{source}` point at no row of the \
                 target: {}; those rows were deleted or changed their ID after the load",
                gone.len(),
                named(&mut gone, "source row {old} → target row {new}")
            ));
        }
        if !differ.is_empty() {
            out.push(format!(
                "`{table}`: {} row(s) in the target differ from the transformed Parquet: {}",
                differ.len(),
                named(&mut differ, "target row {new} (source row {old})")
            ));
        }
        out
    }
}

/// The first few `(old, new)` of `rows` by source ID, each as `pattern` says, then how many
/// more.
fn named(rows: &mut [(i32, i32)], pattern: &str) -> String {
    rows.sort_unstable();
    let mut text: Vec<String> = rows
        .iter()
        .take(SHOWN)
        .map(|(old, new)| {
            pattern
                .replace("{old}", &old.to_string())
                .replace("{new}", &new.to_string())
        })
        .collect();
    if rows.len() > SHOWN {
        text.push(format!("and {} more", rows.len() - SHOWN));
    }
    text.join(", ")
}

#[cfg(test)]
mod tests;
