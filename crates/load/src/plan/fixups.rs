//! Deferred fix-ups: which chunk inserts a row's column as NULL, and which chunk sets it.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, AsArray, Int32Array};
use arrow::datatypes::Int32Type;
use bptmig_model::catalog::{ColumnRole, FkKind};
use bptmig_workdir::layout::{DEFERRED_FILE, TRANSFORM};
use bptmig_workdir::part::PartReader;
use bptmig_workdir::WorkDir;

use super::LoadPlan;
use crate::{Error, Result};

/// One deferred reference: `table.column` of row `id` must become `value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fixup {
    /// The model's name of the table.
    pub table: String,
    /// `table` as the target spells it ([`LoadPlan::spell`]).
    pub spelled: String,
    pub column: String,
    pub id: i32,
    pub value: i32,
}

impl Fixup {
    /// This fix-up with its column named as `live` (the target's column names of its table)
    /// spells it, matched in any case; unchanged when the target lacks the column.
    #[must_use]
    pub fn spelled_as(&self, live: &[String]) -> Fixup {
        Fixup {
            column: crate::target::spell_column(&self.column, live),
            ..self.clone()
        }
    }
}

/// Reads `deferred.parquet` and attaches each fix-up to its chunks; `ids(table, part)` is the
/// ID column of a part, as planning read it. Returns the number of fix-ups.
pub(super) fn place<'a>(
    plan: &mut LoadPlan,
    wd: &WorkDir,
    ids: impl Fn(usize, usize) -> &'a Int32Array,
) -> Result<usize> {
    let path = wd.stage_dir(TRANSFORM).join(DEFERRED_FILE);
    let fixups = match super::open_derived(wd, DEFERRED_FILE)? {
        Some(reader) => read(&path, reader)?,
        None => Vec::new(),
    };
    let count = fixups.len();
    if fixups.is_empty() {
        return Ok(0);
    }
    let locate = ChunkIndex::new(plan);
    // Per chunk, where its rows' IDs ascend (computed at its first fix-up).
    let mut runs: HashMap<usize, Vec<std::ops::Range<usize>>> = HashMap::new();
    for f in fixups {
        let Some(ti) = plan.tables.iter().position(|t| t.name == f.table) else {
            return Err(Error::Corrupt {
                path: path.clone(),
                what: format!("a fix-up of table `{}`, which was not transformed", f.table),
            });
        };
        let target = match plan.tables[ti].model.column(&f.column).map(|col| col.role) {
            Some(ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            }) => plan.tables.iter().position(|t| t.name == table),
            _ => None,
        };
        let Some(own) = locate.chunk(ti, f.id) else {
            return Err(Error::Corrupt {
                path: path.clone(),
                what: format!(
                    "a fix-up of `{}` row {}, which is not in its parts",
                    f.table, f.id
                ),
            });
        };
        let at = target
            .and_then(|t| locate.chunk(t, f.value))
            .map_or(own, |other| other.max(own));
        let ids = ids(ti, plan.chunks[own].part);
        let rows = &plan.chunks[own].rows;
        let ascending = runs.entry(own).or_insert_with(|| ascending_runs(rows, ids));
        let row = find_row(rows, ascending, ids, f.id).ok_or_else(|| Error::Corrupt {
            path: path.clone(),
            what: format!("row {} of `{}`", f.id, f.table),
        })?;
        plan.chunks[own].nulls.push((row, f.column.clone()));
        plan.chunks[at].fixups.push(f);
    }
    Ok(count)
}

/// The stretches of `rows` (indices into `ids`) whose IDs ascend. Rows ascend by new ID
/// inside a chunk, one stretch, unless a reseeded source was numbered in creation order:
/// then the chunk where the numbering turns holds two.
fn ascending_runs(rows: &[u32], ids: &Int32Array) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..rows.len() {
        if ids.value(rows[i] as usize) < ids.value(rows[i - 1] as usize) {
            out.push(start..i);
            start = i;
        }
    }
    out.push(start..rows.len());
    out
}

/// The row of `rows` (indices into `ids`) whose ID is `id`, by binary search in each of its
/// ascending stretches (`runs`, [`ascending_runs`]).
fn find_row(
    rows: &[u32],
    runs: &[std::ops::Range<usize>],
    ids: &Int32Array,
    id: i32,
) -> Option<u32> {
    runs.iter().find_map(|run| {
        let run = &rows[run.clone()];
        let at = run.partition_point(|&r| ids.value(r as usize) < id);
        run.get(at)
            .copied()
            .filter(|&r| ids.is_valid(r as usize) && ids.value(r as usize) == id)
    })
}

/// The chunk that holds an ID, per keyed table: sorted `(lo, hi, chunk ordinal)` ranges.
struct ChunkIndex(HashMap<usize, Vec<(i32, i32, usize)>>);

impl ChunkIndex {
    fn new(plan: &LoadPlan) -> Self {
        let mut index: HashMap<usize, Vec<(i32, i32, usize)>> = HashMap::new();
        for (ord, chunk) in plan.chunks.iter().enumerate() {
            if plan.tables[chunk.table].has_key() {
                let e = index.entry(chunk.table).or_default();
                e.extend(chunk.ranges.iter().map(|&(lo, hi)| (lo, hi, ord)));
            }
        }
        for v in index.values_mut() {
            v.sort_unstable();
        }
        Self(index)
    }

    /// The ordinal of the chunk of table `table` that holds `id`.
    fn chunk(&self, table: usize, id: i32) -> Option<usize> {
        let v = self.0.get(&table)?;
        let i = v.partition_point(|r| r.0 <= id).checked_sub(1)?;
        (v[i].1 >= id).then_some(v[i].2)
    }
}

/// The fix-ups of `deferred.parquet` (at `path`, opened as `reader`).
fn read(path: &Path, reader: PartReader) -> Result<Vec<Fixup>> {
    let mut out = Vec::new();
    for b in reader.read_all()? {
        let get = |n: &str| {
            b.column_by_name(n).ok_or_else(|| Error::Corrupt {
                path: path.to_owned(),
                what: format!("column `{n}`"),
            })
        };
        let (t, id, col, v) = (get("TABLE")?, get("ID")?, get("COLUMN")?, get("VALUE")?);
        let bad = || Error::Corrupt {
            path: path.to_owned(),
            what: "deferred column types".into(),
        };
        let t = t.as_string_opt::<i32>().ok_or_else(bad)?;
        let col = col.as_string_opt::<i32>().ok_or_else(bad)?;
        let id = id.as_primitive_opt::<Int32Type>().ok_or_else(bad)?;
        let v = v.as_primitive_opt::<Int32Type>().ok_or_else(bad)?;
        for i in 0..b.num_rows() {
            out.push(Fixup {
                table: t.value(i).to_owned(),
                spelled: t.value(i).to_owned(),
                column: col.value(i).to_owned(),
                id: id.value(i),
                value: v.value(i),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_found_in_ascending_ids_and_in_two_ascending_runs() {
        let ids = Int32Array::from(vec![5, 6, 7, 8, 9]);
        let rows = [0, 1, 2, 3, 4];
        let runs = ascending_runs(&rows, &ids);
        assert_eq!(runs, vec![std::ops::Range { start: 0, end: 5 }]);
        assert_eq!(find_row(&rows, &runs, &ids, 8), Some(3));
        assert_eq!(find_row(&rows, &runs, &ids, 10), None);
        // A reseeded source numbered in creation order: its newer rows come first in the
        // part, with the larger new IDs.
        let turned = Int32Array::from(vec![20, 21, 22, 3, 4, 5]);
        let rows = [0, 1, 2, 3, 4, 5];
        let runs = ascending_runs(&rows, &turned);
        assert_eq!(runs, [0..3, 3..6]);
        for (row, id) in turned.values().iter().enumerate() {
            assert_eq!(
                find_row(&rows, &runs, &turned, *id),
                Some(row as u32),
                "{id}"
            );
        }
        let some = [1, 2, 3];
        let runs = ascending_runs(&some, &turned);
        assert_eq!(find_row(&some, &runs, &turned, 4), None);
        assert_eq!(find_row(&some, &runs, &turned, 3), Some(3));
        assert_eq!(ascending_runs(&[], &turned).len(), 1);
    }
}
