//! Instance identifiers inside values (`transform/references.json`).

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_model::catalog::ColumnRole;
use bptmig_workdir::{layout, WorkDir};

use crate::plan::TableInput;
use crate::Result;

/// `transform/references.json`, which the transform writes when the source has instance
/// identifier types: where the moved values hold instance identifiers (`SS_TYPE`s and
/// subscription columns, each with the table it points into) and how many of them, per
/// table and column, `unmoved_reference = "keep"` carried over unchanged.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct InstanceReferences {
    #[serde(default)]
    pub(super) instance_types: HashMap<String, String>,
    #[serde(default)]
    pub(super) instance_columns: HashMap<String, HashMap<String, String>>,
    #[serde(default)]
    pub(super) kept: HashMap<String, HashMap<String, u64>>,
}

/// Where one column's instance identifiers point.
pub(super) enum Points<'a> {
    /// Per row, by the `SS_TYPE` in this column.
    Typed(&'a str),
    /// Every value, into this table.
    Into(&'a str),
}

impl InstanceReferences {
    /// The file, or nothing to check when the transform wrote none.
    pub(super) fn read(wd: &WorkDir) -> Result<Self> {
        let path = wd.stage_dir(layout::TRANSFORM).join("references.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(bptmig_workdir::Error::io(&path, "read", e).into()),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| bptmig_workdir::Error::io(&path, "decode", e.into()).into())
    }

    /// Every instance identifier inside the values of `t` read back (`batches`) points at a
    /// moved row, is the null identifier (`0`, empty), or is one of those kept.
    pub(super) fn check(
        &self,
        t: &TableInput,
        batches: &[RecordBatch],
        moved: &HashMap<String, HashSet<i32>>,
        problems: &mut Vec<String>,
    ) {
        let mut columns: Vec<(&str, Points)> = Vec::new();
        if !self.instance_types.is_empty() {
            for col in t.model.columns {
                if let ColumnRole::EntityRefValue { type_column } = col.role {
                    columns.push((col.name, Points::Typed(type_column)));
                }
            }
        }
        for (col, to) in self.instance_columns.get(&t.name).into_iter().flatten() {
            columns.push((col, Points::Into(to)));
        }
        for (col, points) in columns {
            let mut bad = 0_u64;
            let mut first = None;
            for b in batches {
                self.count_bad(b, col, &points, moved, &mut bad, &mut first);
            }
            let kept = self.kept.get(&t.name).and_then(|k| k.get(col)).copied();
            if bad > kept.unwrap_or(0) {
                let (value, to) = first.unwrap_or_default();
                problems.push(format!(
                    "`{}`.`{col}`: {bad} instance identifier(s) point at no moved row ({} kept \
                     under `unmoved_reference = \"keep\"`), e.g. `{value}` into `{to}`",
                    t.name,
                    kept.unwrap_or(0)
                ));
            }
        }
    }

    fn count_bad(
        &self,
        b: &RecordBatch,
        col: &str,
        points: &Points,
        moved: &HashMap<String, HashSet<i32>>,
        bad: &mut u64,
        first: &mut Option<(String, String)>,
    ) {
        let Some(values) = b.column_by_name(col) else {
            return;
        };
        let types = match points {
            Points::Typed(tc) => b.column_by_name(tc).and_then(|a| a.as_string_opt::<i32>()),
            Points::Into(_) => None,
        };
        for i in 0..values.len() {
            let to = match points {
                Points::Into(to) => Some(*to),
                Points::Typed(_) => types
                    .filter(|t| t.is_valid(i))
                    .and_then(|t| self.instance_types.get(t.value(i)))
                    .map(String::as_str),
            };
            let Some(to) = to else { continue };
            let Some(text) = value_text(values, i) else {
                continue;
            };
            if text.is_empty() || text == "0" {
                continue;
            }
            let ok = text
                .parse::<i32>()
                .is_ok_and(|v| moved.get(to).is_some_and(|s| s.contains(&v)));
            if !ok {
                *bad += 1;
                first.get_or_insert_with(|| (text, to.to_owned()));
            }
        }
    }
}

/// Value `i` of an integer or text column as text; `None` for NULL or another type.
fn value_text(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    if let Some(s) = a.as_string_opt::<i32>() {
        return Some(s.value(i).to_owned());
    }
    if let Some(n) = a.as_primitive_opt::<Int32Type>() {
        return Some(n.value(i).to_string());
    }
    a.as_primitive_opt::<arrow::datatypes::Int64Type>()
        .map(|n| n.value(i).to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use bptmig_model::catalog as c;

    use super::*;

    fn count(refs: &InstanceReferences, b: &RecordBatch, col: &str, p: &Points) -> u64 {
        let moved = HashMap::from([(c::PROCESS.to_owned(), HashSet::from([105, 106]))]);
        let (mut bad, mut first) = (0, None);
        refs.count_bad(b, col, p, &moved, &mut bad, &mut first);
        bad
    }

    #[test]
    fn instance_identifiers_inside_values_must_point_at_moved_rows() {
        let refs = InstanceReferences {
            instance_types: HashMap::from([("btP".to_owned(), c::PROCESS.to_owned())]),
            ..InstanceReferences::default()
        };
        let values: ArrayRef = Arc::new(StringArray::from(vec![
            Some("105"),
            Some("7"),
            Some("0"),
            Some(""),
            None,
            Some("7"),
            Some(" 105"),
        ]));
        let types: ArrayRef = Arc::new(StringArray::from(vec![
            "btP", "btP", "btP", "btP", "btP", "rtText", "btP",
        ]));
        let schema = Arc::new(Schema::new(vec![
            Field::new(c::INPUT_VALUE, DataType::Utf8, true),
            Field::new(c::SS_TYPE, DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(schema, vec![values, types]).unwrap();
        // `7` typed as a process, and a value with a space; not the plain text `7`.
        assert_eq!(
            count(&refs, &b, c::INPUT_VALUE, &Points::Typed(c::SS_TYPE)),
            2
        );

        let ids: ArrayRef = Arc::new(Int32Array::from(vec![Some(106), Some(0), None, Some(5)]));
        let schema = Arc::new(Schema::new(vec![Field::new("PROC", DataType::Int32, true)]));
        let b = RecordBatch::try_new(schema, vec![ids]).unwrap();
        assert_eq!(count(&refs, &b, "PROC", &Points::Into(c::PROCESS)), 1);
    }
}
