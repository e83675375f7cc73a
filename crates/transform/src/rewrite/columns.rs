//! One function per column role: what a key, an instance, definition, principal or eSpace
//! foreign key becomes. Each counts what it could not map instead of failing on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanBufferBuilder, Int32Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::Int32Type;
use bptmig_workdir::IdMap;

use crate::report::{TableCounts, UnmappedValue};

/// Maps an Int32 column through `f(row, value)`; `None` from `f` means NULL.
fn map_ints(col: &ArrayRef, mut f: impl FnMut(usize, i32) -> Option<i32>) -> ArrayRef {
    let a = col.as_primitive::<Int32Type>();
    let mut values: Vec<i32> = Vec::with_capacity(a.len());
    let mut valid = BooleanBufferBuilder::new(a.len());
    for (i, v) in a.values().iter().enumerate() {
        let new = if a.is_valid(i) { f(i, *v) } else { None };
        values.push(new.unwrap_or_default());
        valid.append(new.is_some());
    }
    let nulls = NullBuffer::new(valid.finish());
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Arc::new(Int32Array::new(values.into(), nulls))
}

/// The table's own key, through its new IDs (every row left moves, so every key maps).
pub(super) fn key(col: &ArrayRef, own: &IdMap) -> ArrayRef {
    map_ints(col, |_, v| own.get(v))
}

/// A reference to an instance row, through that table's new IDs; a row that does not move
/// is a dangling reference, written as NULL. A table with no new IDs is kept as it is.
pub(super) fn instance_fk(
    col: &ArrayRef,
    map: Option<&IdMap>,
    counts: &mut TableCounts,
) -> ArrayRef {
    match map {
        Some(m) => through(col, m, counts),
        None => col.clone(),
    }
}

/// A reference to a definition, through the SS_KEY map of its table; no map, or no entry,
/// is a dangling reference written as NULL.
pub(super) fn definition_fk(
    col: &ArrayRef,
    map: Option<&IdMap>,
    counts: &mut TableCounts,
) -> ArrayRef {
    let mut missing = 0;
    let a = map_ints(col, |_, v| {
        let n = map.and_then(|m| m.get(v));
        missing += u64::from(n.is_none());
        n
    });
    counts.dangling_references += missing;
    a
}

/// An eSpace reference, through the eSpaces' SS_KEY map.
pub(super) fn espace_fk(col: &ArrayRef, map: &IdMap, counts: &mut TableCounts) -> ArrayRef {
    through(col, map, counts)
}

/// `col` through `map`, each value without an entry counted as a dangling reference.
fn through(col: &ArrayRef, map: &IdMap, counts: &mut TableCounts) -> ArrayRef {
    let mut dangling = 0;
    let a = map_ints(col, |_, v| {
        let n = map.get(v);
        dangling += u64::from(n.is_none());
        n
    });
    counts.dangling_references += dangling;
    a
}

/// The user, group and tenant values of a batch written as NULL: by (kind, source ID), the
/// column where each was first met, how often, and the source key of a row holding it.
#[derive(Default)]
pub(super) struct Nulled(BTreeMap<(&'static str, i32), (&'static str, u64, i64)>);

impl Nulled {
    /// Adds the batch's values to `counts` (first column and sample row of a table kept).
    pub(super) fn record(self, counts: &mut TableCounts) {
        for ((kind, id), (column, count, sample_row)) in self.0 {
            counts.principals_nulled += count;
            let key = format!("{kind} #{id}");
            match counts.unmapped_values.get_mut(&key) {
                Some(v) => v.count += count,
                None => {
                    counts.unmapped_values.insert(
                        key,
                        UnmappedValue {
                            column: column.to_owned(),
                            count,
                            sample_row,
                        },
                    );
                }
            }
        }
    }
}

/// A user, group or tenant reference, through the resolution's map; one without a target
/// is written as NULL and noted in `nulled` with the source key of its row.
pub(super) fn principal_fk(
    col: &ArrayRef,
    map: &IdMap,
    kind: &'static str,
    column: &'static str,
    source_keys: Option<&Int32Array>,
    nulled: &mut Nulled,
) -> ArrayRef {
    map_ints(col, |i, v| {
        let t = map.get(v);
        if t.is_none() {
            let sample = source_keys.map_or(0, |k| i64::from(k.value(i)));
            let e = nulled.0.entry((kind, v)).or_insert((column, 0, sample));
            e.1 += 1;
        }
        t
    })
}
