//! Integration tests of the transform stage: generated work directories (no server) and an
//! end-to-end run from sandbox prod to qa.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

mod closure;
mod generated;
mod integrity;
mod sandbox;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type};
use bptmig_model::PipelineConfig;
use bptmig_workdir::Manifest;

/// A pipeline over an existing work directory `workdir` (connection strings only name the
/// databases the work directory was made from), with `extra` TOML.
pub fn pipeline(
    dir: &Path,
    workdir: &Path,
    source: &str,
    target: &str,
    extra: &str,
) -> PipelineConfig {
    let text = format!(
        "workdir = \"{}\"\n[source]\nconnection = \"{source}\"\n[target]\nconnection = \"{target}\"\n{extra}\n",
        workdir.display()
    );
    let path = dir.join(format!("pipeline-{}.toml", text.len()));
    std::fs::write(&path, &text).unwrap();
    PipelineConfig::parse(&text, &path, &|_| {
        Some(bptmig_sandbox::DEFAULT_PASSWORD.to_owned())
    })
    .unwrap()
}

/// Every batch of a stage's table.
pub fn read_stage(workdir: &Path, stage: &str, table: &str) -> Vec<RecordBatch> {
    let dir = workdir.join(stage).join(table);
    let Some(m) = Manifest::read(&dir).unwrap() else {
        return Vec::new();
    };
    m.parts
        .iter()
        .flat_map(|p| bptmig_transform::maps::read_parquet(&dir.join(&p.file)).unwrap())
        .collect()
}

/// Lists the file at `path` anew in its directory's manifest, as if the stage had written it
/// so: for tests that change an input on purpose (a damaged one is refused).
pub fn relist(path: &Path) {
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    let mut manifest = Manifest::read(dir).unwrap().unwrap();
    let entry = manifest.parts.iter_mut().find(|p| p.file == name).unwrap();
    entry.bytes = std::fs::metadata(path).unwrap().len();
    entry.sha256 = bptmig_workdir::file_sha256(path).unwrap();
    manifest.write(dir).unwrap();
}

/// An Int32 column of `batches` (NULL as None); absent columns are all NULL.
pub fn ints(batches: &[RecordBatch], col: &str) -> Vec<Option<i32>> {
    batches
        .iter()
        .flat_map(|b| match b.column_by_name(col) {
            Some(a) if a.data_type() == &DataType::Int32 => {
                let a = a.as_primitive::<Int32Type>();
                (0..a.len())
                    .map(|i| a.is_valid(i).then(|| a.value(i)))
                    .collect::<Vec<_>>()
            }
            _ => vec![None; b.num_rows()],
        })
        .collect()
}

pub fn texts(batches: &[RecordBatch], col: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(col).unwrap().as_string::<i32>().clone();
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A snapshot table as ID → row of (column → text or int rendered as text).
pub fn snapshot(workdir: &Path, side: &str, table: &str) -> BTreeMap<i32, HashMap<String, String>> {
    let b = bptmig_transform::maps::read_parquet(
        &workdir
            .join("extract/snapshot")
            .join(side)
            .join(format!("{table}.parquet")),
    )
    .unwrap();
    let ids = ints(&b, "ID");
    let mut out: BTreeMap<i32, HashMap<String, String>> =
        ids.iter().map(|i| (i.unwrap(), HashMap::new())).collect();
    let schema = b[0].schema();
    for f in schema.fields() {
        let values: Vec<Option<String>> = match f.data_type() {
            DataType::Int32 => ints(&b, f.name())
                .into_iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect(),
            DataType::Utf8 => texts(&b, f.name()),
            _ => continue,
        };
        for (id, v) in ids.iter().zip(values) {
            if let Some(v) = v {
                out.get_mut(&id.unwrap())
                    .unwrap()
                    .insert(f.name().clone(), v);
            }
        }
    }
    out
}

/// OLD_ID → NEW_ID of a table.
pub fn id_map(workdir: &Path, table: &str) -> HashMap<i32, i32> {
    let b = bptmig_transform::maps::read_parquet(
        &workdir
            .join("transform/maps")
            .join(format!("{table}.parquet")),
    )
    .unwrap();
    ints(&b, "OLD_ID")
        .into_iter()
        .zip(ints(&b, "NEW_ID"))
        .map(|(o, n)| (o.unwrap(), n.unwrap()))
        .collect()
}
