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
