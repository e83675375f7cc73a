//! The deferred fix-ups: references the load applies after their row's chunk
//! (`transform/deferred.parquet`, and one file per finished table beside it).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use bptmig_workdir::layout::DEFERRED_FILE;
use bptmig_workdir::part::{self as parts, PartMeta};
use bptmig_workdir::{PartEntry, RunState};

use crate::{Error, Result};

/// A reference applied after its row's chunk: (table, new ID, column, value). Names are
/// shared, so that recording one costs no allocation.
pub(crate) type Deferred = (Arc<str>, i32, Arc<str>, i32);

/// Writes `rows` as a deferred file at `path`; returns its entry (its file name, size and
/// SHA-256) for the record that lists it.
pub(crate) fn write(
    path: &Path,
    run: &RunState,
    rows: &[Deferred],
    row_group_rows: usize,
) -> Result<PartEntry> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("TABLE", DataType::Utf8, false),
        Field::new("ID", DataType::Int32, false),
        Field::new("COLUMN", DataType::Utf8, false),
        Field::new("VALUE", DataType::Int32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| &*r.0).collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| &*r.2).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ],
    )
    .map_err(|e| Error::arrow(DEFERRED_FILE, e))?;
    let meta = PartMeta {
        run_id: run.run_id.clone(),
        table: "deferred".into(),
        column_roles: "{}".into(),
    };
    Ok(parts::write_file(
        path,
        schema,
        &[batch],
        // Table and column names repeat (dictionary); IDs and values climb (delta).
        ["ID", "VALUE"]
            .into_iter()
            .fold(
                parts::writer_properties(&meta, row_group_rows, &[]).into_builder(),
                |b, col| {
                    b.set_column_dictionary_enabled(col.into(), false)
                        .set_column_encoding(
                            col.into(),
                            parquet::basic::Encoding::DELTA_BINARY_PACKED,
                        )
                },
            )
            .build(),
    )?)
}

/// Reads a deferred file written by [`write`].
pub(crate) fn read(path: &Path) -> Result<Vec<Deferred>> {
    let batches = crate::maps::read_parquet(path)?;
    let mut out = Vec::new();
    let mut names = Vec::new();
    for b in &batches {
        let t = b.column(0).as_string::<i32>();
        let id = b.column(1).as_primitive::<Int32Type>();
        let col = b.column(2).as_string::<i32>();
        let v = b.column(3).as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            out.push((
                shared(&mut names, t.value(i)),
                id.value(i),
                shared(&mut names, col.value(i)),
                v.value(i),
            ));
        }
    }
    Ok(out)
}

/// The shared copy of `name` in `names` (a handful of table and column names).
fn shared(names: &mut Vec<Arc<str>>, name: &str) -> Arc<str> {
    if let Some(n) = names.iter().find(|n| &***n == name) {
        return n.clone();
    }
    let n: Arc<str> = Arc::from(name);
    names.push(n.clone());
    n
}
