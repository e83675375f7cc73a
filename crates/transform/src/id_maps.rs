//! The ID maps the transform leaves for the load and for review:
//! `transform/maps/<TABLE>.parquet` with (`OLD_ID`, `NEW_ID`).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use bptmig_workdir::part::{self as parts, PartMeta};
use bptmig_workdir::{IdMap, PartEntry, RunState, WorkDir};

use crate::stage::STAGE;
use crate::{Error, Result};

/// The folder of the maps, inside the stage directory.
pub(crate) const MAPS_DIR: &str = "maps";

/// Writes the map of `table`; returns its entry, named relative to the stage directory
/// (`maps/<TABLE>.parquet`), for the stage's manifest ([`crate::outputs::write_derived`]).
pub(crate) fn write(
    wd: &WorkDir,
    run: &RunState,
    table: &str,
    map: &IdMap,
    row_group_rows: usize,
) -> Result<PartEntry> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("OLD_ID", DataType::Int32, false),
        Field::new("NEW_ID", DataType::Int32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(map.keys().to_vec())) as ArrayRef,
            Arc::new(Int32Array::from(map.values().to_vec())),
        ],
    )
    .map_err(|e| Error::arrow(table, e))?;
    let meta = PartMeta {
        run_id: run.run_id.clone(),
        table: table.to_owned(),
        column_roles: "{}".into(),
    };
    let file = format!("{MAPS_DIR}/{table}.parquet");
    let entry = parts::write_file(
        &wd.stage_dir(STAGE).join(&file),
        schema,
        &[batch],
        parts::id_map_properties(&meta, row_group_rows),
    )?;
    Ok(PartEntry { file, ..entry })
}
