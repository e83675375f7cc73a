//! Writing a published map: CSV `old_id,new_id` (to stdout or a file) or Parquet with Int64
//! columns `old_id`, `new_id`, exactly what `[mapping.entity_maps]` reads. A file is written
//! under a temporary name and renamed into place only when complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use bptmig_workdir::part::{writer_properties, PartMeta, PartWriter};

use super::MapsError;

/// Rows per Parquet batch.
const BATCH_ROWS: usize = 64 * 1024;

/// What a Parquet map carries besides its rows.
#[derive(Debug)]
pub struct Meta<'a> {
    pub run_id: &'a str,
    /// The model name of the table.
    pub table: &'a str,
    pub row_group_rows: usize,
}

/// The CSV text of `pairs` into `out`: a header, then one line per pair.
pub fn csv(out: &mut impl Write, pairs: &[(i32, i32)]) -> std::io::Result<()> {
    out.write_all(b"old_id,new_id\n")?;
    for (old, new) in pairs {
        writeln!(out, "{old},{new}")?;
    }
    out.flush()
}

/// CSV to stdout.
pub fn csv_stdout(pairs: &[(i32, i32)]) -> Result<(), MapsError> {
    let stdout = std::io::stdout();
    csv(&mut BufWriter::new(stdout.lock()), pairs).map_err(|source| MapsError::Write {
        path: "stdout".into(),
        source,
    })
}

/// CSV to `path`, atomically.
pub fn csv_file(path: &Path, pairs: &[(i32, i32)]) -> anyhow::Result<()> {
    create_parent(path)?;
    let tmp = bptmig_workdir::tmp_path(path);
    let written = File::create(&tmp).and_then(|file| {
        let mut out = BufWriter::new(file);
        csv(&mut out, pairs)?;
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()
    });
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(MapsError::Write { path: tmp, source }.into());
    }
    Ok(bptmig_workdir::commit_file(&tmp, path)?)
}

/// Parquet to `path`, atomically: columns `old_id`, `new_id` (Int64, non-null) and the run
/// and table in the key-value metadata.
pub fn parquet_file(path: &Path, pairs: &[(i32, i32)], meta: &Meta<'_>) -> anyhow::Result<()> {
    create_parent(path)?;
    let result = write_parquet(path, pairs, meta);
    if result.is_err() {
        let _ = std::fs::remove_file(bptmig_workdir::tmp_path(path));
    }
    result
}

fn write_parquet(path: &Path, pairs: &[(i32, i32)], meta: &Meta<'_>) -> anyhow::Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("old_id", DataType::Int64, false),
        Field::new("new_id", DataType::Int64, false),
    ]));
    let part_meta = PartMeta {
        run_id: meta.run_id.to_owned(),
        table: meta.table.to_owned(),
        column_roles: "{}".into(),
    };
    let (dir, name) = split(path);
    let mut writer = PartWriter::create(
        dir,
        &name,
        schema.clone(),
        writer_properties(&part_meta, meta.row_group_rows, &[]),
    )?;
    for chunk in pairs.chunks(BATCH_ROWS) {
        let column = |f: fn(&(i32, i32)) -> i32| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(
                chunk.iter().map(|p| i64::from(f(p))),
            ))
        };
        let batch = RecordBatch::try_new(schema.clone(), vec![column(|p| p.0), column(|p| p.1)])?;
        writer.write(&batch, None)?;
    }
    writer.finish()?;
    Ok(())
}

/// The directory and file name of `path` (a bare name is in the current directory).
fn split(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

fn create_parent(path: &Path) -> Result<(), MapsError> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => {
            std::fs::create_dir_all(p).map_err(|source| MapsError::Write {
                path: p.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}
