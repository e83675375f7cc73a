//! What processes and activities carry besides their columns: each row's tree level (the
//! load goes level by level) and the references the load must apply after the row's chunk.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use bptmig_model::catalog as c;
use bptmig_workdir::layout::LEVEL_COLUMN;

use crate::deferred::Deferred;
use crate::input::Input;
use crate::plan::Levels;
use crate::{Error, Result};

/// For processes and activities, appends the tree level column to `fields` and `columns`
/// (already rewritten from `source`, the batch as extracted) and notes the deferred
/// references: a top-level process referencing itself, and a precedent activity loaded
/// after the activity or with it.
///
/// The load goes level by level, and inside a level in the order of the parts and their
/// rows: source-ID order. So a precedent is loaded later when its level is higher, or equal
/// with a larger *source* ID (new IDs follow creation order, which is not source-ID order
/// when the source was reseeded).
pub(super) fn append(
    input: &Input,
    levels: &Levels,
    (source, schema): (&RecordBatch, &Schema),
    fields: &mut Vec<Arc<Field>>,
    columns: &mut Vec<ArrayRef>,
    deferred: &mut Vec<Deferred>,
) -> Result<()> {
    let is_process = input.name == c::PROCESS;
    if !is_process && input.name != c::ACTIVITY {
        return Ok(());
    }
    let idx = schema
        .index_of(c::ID)
        .map_err(|e| Error::arrow(&input.name, e))?;
    let ids = columns[idx].as_primitive::<Int32Type>().clone();
    let level: Int32Array = ids
        .iter()
        .map(|id| id.and_then(|id| levels.get(is_process, id)))
        .collect();
    // The names are shared by every deferred row of the batch.
    let table: Arc<str> = Arc::from(input.name.as_str());
    if is_process {
        if let Ok(t) = schema.index_of(c::TOP_PROCESS_ID) {
            let column: Arc<str> = Arc::from(c::TOP_PROCESS_ID);
            let top = columns[t].as_primitive::<Int32Type>();
            for i in 0..ids.len() {
                if top.is_valid(i) && ids.is_valid(i) && top.value(i) == ids.value(i) {
                    deferred.push((table.clone(), ids.value(i), column.clone(), top.value(i)));
                }
            }
        }
    } else if let Ok(pc) = schema.index_of(c::PRECEDENT_ACTIVITY_ID) {
        let column: Arc<str> = Arc::from(c::PRECEDENT_ACTIVITY_ID);
        let pre = columns[pc].as_primitive::<Int32Type>();
        let source_int = |name: &str| {
            source
                .column_by_name(name)
                .and_then(|a| a.as_primitive_opt::<Int32Type>())
                .ok_or_else(|| Error::Internal {
                    path: input.dir.clone(),
                    what: "an activity batch without its source IDs",
                })
        };
        let (old_ids, old_pre) = (source_int(c::ID)?, source_int(c::PRECEDENT_ACTIVITY_ID)?);
        for i in 0..ids.len() {
            if pre.is_valid(i) && ids.is_valid(i) {
                let me = (level.value(i), old_ids.value(i));
                // A precedent the run does not move has no level: applied with the row.
                let other = (
                    levels.get(false, pre.value(i)).unwrap_or(i32::MAX),
                    old_pre.value(i),
                );
                if other >= me {
                    deferred.push((table.clone(), ids.value(i), column.clone(), pre.value(i)));
                }
            }
        }
    }
    fields.push(Arc::new(Field::new(LEVEL_COLUMN, DataType::Int32, false)));
    columns.push(Arc::new(level));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use arrow::array::Int32Array;
    use bptmig_workdir::{IdMap, Manifest};

    use super::*;

    fn activities_input() -> Input {
        Input {
            name: c::ACTIVITY.to_owned(),
            model: *c::table(c::ACTIVITY).unwrap(),
            dir: PathBuf::from("extract/OSSYS_BPM_ACTIVITY"),
            manifest: Manifest {
                table: c::ACTIVITY.to_owned(),
                run_id: "r".to_owned(),
                key: Some(c::ID.to_owned()),
                columns: Vec::new(),
                complete: true,
                parts: Vec::new(),
            },
        }
    }

    /// The deferred `(row, precedent)` of a batch of activities: `source` as extracted
    /// (`ID`, `PRECEDENT_ACTIVITY_ID`), `new` the same rows rewritten, all at level 0.
    fn deferred_of(source: [Vec<Option<i32>>; 2], new: [Vec<Option<i32>>; 2]) -> Vec<(i32, i32)> {
        let schema = Schema::new(vec![
            Field::new(c::ID, DataType::Int32, true),
            Field::new(c::PRECEDENT_ACTIVITY_ID, DataType::Int32, true),
        ]);
        let [sid, spre] = source;
        let batch = RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![
                Arc::new(Int32Array::from(sid)),
                Arc::new(Int32Array::from(spre)),
            ],
        )
        .unwrap();
        let [nid, npre] = new;
        let levels = IdMap::new(nid.iter().flatten().map(|n| (*n, 0)));
        let levels = Levels::from_maps(IdMap::default(), levels);
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(nid)),
            Arc::new(Int32Array::from(npre)),
        ];
        let mut deferred = Vec::new();
        append(
            &activities_input(),
            &levels,
            (&batch, &schema),
            &mut fields,
            &mut columns,
            &mut deferred,
        )
        .unwrap();
        assert_eq!(fields.last().unwrap().name(), LEVEL_COLUMN);
        deferred.into_iter().map(|d| (d.1, d.3)).collect()
    }

    #[test]
    fn a_precedent_loaded_after_its_activity_in_source_id_order_is_deferred_whatever_the_new_ids() {
        // Source-ID order, the load's: -5 (made after a reseed), 100, 101 (made before it).
        // Creation order numbered 100 → 10, 101 → 11, -5 → 12.
        let source = [
            vec![Some(-5), Some(100), Some(101)],
            vec![Some(100), None, Some(100)],
        ];
        let new = [
            vec![Some(12), Some(10), Some(11)],
            vec![Some(10), None, Some(10)],
        ];
        // -5 is loaded before its precedent 100 although its new ID is the larger: deferred.
        // 101 comes after 100 either way: not.
        assert_eq!(deferred_of(source, new), [(12, 10)]);
        // Without a reseed (new IDs ascend with the source's), a precedent loaded later is
        // deferred as before, one loaded earlier is not.
        let source = [vec![Some(7), Some(8)], vec![Some(8), Some(7)]];
        let new = [vec![Some(1), Some(2)], vec![Some(2), Some(1)]];
        assert_eq!(deferred_of(source, new), [(1, 2)]);
    }
}
