//! Where a generated load must resolve instance references: the instance foreign keys of the
//! model, the values whose `SS_TYPE` names a process or an activity (and other instance
//! tables), the subscription columns typed so — the last two from the transform's
//! `transform/references.json` — and the IDs captured so far ([`Captured`]).

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bptmig_model::catalog::ColumnRole;
use bptmig_model::catalog::FkKind;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::WorkDir;

use crate::plan::TableInput;
use crate::writer::ChunkError;
use crate::Result;

/// The transform's file naming where values hold instance identifiers.
const REFERENCES_FILE: &str = "references.json";

/// `transform/references.json`, the parts a generated load needs.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ValueTypes {
    /// `SS_TYPE` → the instance table its values point into.
    #[serde(default)]
    instance_types: HashMap<String, String>,
    /// Subscription table → column → the instance table its values point into.
    #[serde(default)]
    instance_columns: HashMap<String, HashMap<String, String>>,
}

impl ValueTypes {
    /// The file, or no typed values when the transform wrote none.
    pub(crate) fn read(wd: &WorkDir) -> Result<Self> {
        let path = wd.stage_dir(TRANSFORM).join(REFERENCES_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(bptmig_workdir::Error::io(&path, "read", e).into()),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| bptmig_workdir::Error::io(&path, "decode", e.into()).into())
    }
}

/// What one column of a chunk becomes in the statements.
#[derive(Debug, Clone)]
pub(super) enum Column {
    /// The table's key: left out, the target generates it.
    Key,
    /// Sent as it is.
    Plain,
    /// An instance foreign key into `to`.
    Fk { to: &'static str },
    /// Text holding an identifier when the row's `SS_TYPE` (column index `types`) names an
    /// instance table.
    Typed { types: usize },
    /// Every value an identifier of `to` (a subscription column).
    Into { to: String },
}

/// How each column of `t` (in its transformed order) is sent.
pub(super) fn columns(t: &TableInput, types: &ValueTypes) -> Vec<Column> {
    let into = types.instance_columns.get(&t.name);
    t.columns
        .iter()
        .map(|name| {
            if t.model.key.is_some_and(|k| k.eq_ignore_ascii_case(name)) {
                return Column::Key;
            }
            if let Some(to) = into.and_then(|m| m.get(name)) {
                return Column::Into { to: to.clone() };
            }
            match t.model.column(name).map(|c| c.role) {
                Some(ColumnRole::Fk {
                    kind: FkKind::Instance,
                    table,
                }) => Column::Fk { to: table },
                Some(ColumnRole::EntityRefValue { type_column })
                    if !types.instance_types.is_empty() =>
                {
                    match t
                        .columns
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case(type_column))
                    {
                        Some(types) => Column::Typed { types },
                        None => Column::Plain,
                    }
                }
                _ => Column::Plain,
            }
        })
        .collect()
}

/// The instance table row `row`'s value of a [`Column::Typed`] column points into, if its
/// `SS_TYPE` names one.
pub(super) fn typed_target<'a>(
    types: &'a ValueTypes,
    batch: &RecordBatch,
    type_column: usize,
    row: usize,
) -> Option<&'a str> {
    let a = batch.column(type_column).as_string_opt::<i32>()?;
    if !a.is_valid(row) {
        return None;
    }
    types.instance_types.get(a.value(row)).map(String::as_str)
}

/// An identifier held in a column: as an integer, or as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

/// The value of column `column` of `batch` at `row`, as an identifier is held.
pub(super) fn held(batch: &RecordBatch, column: usize, row: usize) -> Option<Held<'_>> {
    let a = batch.column(column);
    if a.is_null(row) {
        return Some(Held::Null);
    }
    match a.data_type() {
        DataType::Int32 => Some(Held::Int(i64::from(
            a.as_primitive::<Int32Type>().value(row),
        ))),
        DataType::Int64 => Some(Held::Int(a.as_primitive::<Int64Type>().value(row))),
        DataType::Utf8 => Some(Held::Text(a.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Some(Held::Text(a.as_string::<i64>().value(row))),
        _ => None,
    }
}

/// `v` as a plain decimal integer (digits and an optional leading `-`, as the transform reads
/// identifiers inside values), or `None`.
pub(super) fn parse_plain(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// The IDs the target generated, per model table: old (the transform's) → new (the
/// target's), for every chunk committed so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captured {
    by_table: HashMap<String, HashMap<i32, i32>>,
}

impl Captured {
    /// From what the pairs table lists.
    pub(crate) fn from_pairs(pairs: BTreeMap<String, Vec<(i32, i32)>>) -> Self {
        Self {
            by_table: pairs
                .into_iter()
                .map(|(t, v)| (t, v.into_iter().collect()))
                .collect(),
        }
    }

    pub(crate) fn get(&self, table: &str, old: i32) -> Option<i32> {
        self.by_table.get(table)?.get(&old).copied()
    }

    pub(crate) fn add(&mut self, table: &str, pairs: &[(i32, i32)]) {
        let m = match self.by_table.get_mut(table) {
            Some(m) => m,
            None => self.by_table.entry(table.to_owned()).or_default(),
        };
        m.extend(pairs.iter().copied());
    }

    /// How many pairs of `table` are captured.
    pub(crate) fn len(&self, table: &str) -> usize {
        self.by_table.get(table).map_or(0, HashMap::len)
    }
}

/// The error for `column` of row `row` (old ID) holding `value`, which names no captured
/// row of `table`.
pub(super) fn unresolved(column: &str, row: i64, value: i64, table: &str) -> ChunkError {
    ChunkError::Unresolved {
        column: column.to_owned(),
        row,
        value,
        table: table.to_owned(),
    }
}

/// Whether `id` lies in one of `ranges` (inclusive, ascending, disjoint).
pub(super) fn in_ranges(ranges: &[(i32, i32)], id: i64) -> bool {
    let Ok(id) = i32::try_from(id) else {
        return false;
    };
    let i = ranges.partition_point(|r| r.1 < id);
    ranges.get(i).is_some_and(|r| r.0 <= id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_pairs_are_found_added_and_listed_in_order() {
        let mut c = Captured::from_pairs(BTreeMap::from([("P".to_owned(), vec![(5, 50)])]));
        c.add("P", &[(3, 30), (9, 90)]);
        c.add("A", &[(1, 10)]);
        assert_eq!(c.get("P", 3), Some(30));
        assert_eq!(c.get("P", 4), None);
        assert_eq!(c.get("X", 1), None);
        assert_eq!((c.get("P", 5), c.get("P", 9)), (Some(50), Some(90)));
        assert_eq!((c.len("A"), c.len("X")), (1, 0));
    }

    #[test]
    fn identifiers_in_text_are_plain_integers_and_ranges_are_inclusive() {
        assert_eq!(parse_plain("42"), Some(42));
        assert_eq!(parse_plain("-7"), Some(-7));
        assert_eq!(parse_plain(" 4"), None);
        assert_eq!(parse_plain("+4"), None);
        assert_eq!(parse_plain(""), None);
        let r = [(1, 3), (7, 7)];
        assert!(in_ranges(&r, 1) && in_ranges(&r, 3) && in_ranges(&r, 7));
        assert!(!in_ranges(&r, 4) && !in_ranges(&r, 8) && !in_ranges(&r, i64::MAX));
    }
}
