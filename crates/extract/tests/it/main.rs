//! Integration tests of the extract stage against sandbox servers.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

mod broken;
mod damage;
mod errors;
mod faults;
mod full;
mod resume;
mod selection;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int32Type, TimeUnit, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;
use bptmig_model::PipelineConfig;
use bptmig_sandbox::{EnvKind, EnvSpec, Environment, Lit};
use bptmig_workdir::Manifest;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub const PW_VAR: &str = "BPTMIG_IT_PASSWORD";

/// Seeded prod and qa.
pub async fn envs(spec: &EnvSpec) -> (Environment, Environment) {
    let prod = Environment::start(EnvKind::Prod, spec).await.unwrap();
    let qa = Environment::start(EnvKind::Qa, spec).await.unwrap();
    (prod, qa)
}

/// Seeded prod and qa, and a pipeline between them (with `extra` TOML) in a directory of the
/// test's own.
pub struct Setup {
    pub prod: Environment,
    pub qa: Environment,
    pub config: PipelineConfig,
    _dir: tempfile::TempDir,
}

/// [`Setup`] of `spec`'s environments.
pub async fn setup(spec: &EnvSpec, extra: &str) -> Setup {
    let (prod, qa) = envs(spec).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_for(dir.path(), &prod, &qa, extra);
    Setup {
        prod,
        qa,
        config,
        _dir: dir,
    }
}

/// `processes` top-level processes, everything else as [`EnvSpec::default`].
pub fn processes(processes: usize) -> EnvSpec {
    EnvSpec {
        processes,
        ..EnvSpec::default()
    }
}

/// A pipeline file in `dir` from `prod` to `qa`, with `extra` TOML appended.
pub fn pipeline(dir: &Path, source: &str, target: &str, extra: &str) -> PipelineConfig {
    pipeline_with_keys(dir, source, target, "", extra)
}

/// [`pipeline`] with `side_keys` (TOML keys such as `retries = 0`) in `[source]` and in
/// `[target]`.
pub fn pipeline_with_keys(
    dir: &Path,
    source: &str,
    target: &str,
    side_keys: &str,
    extra: &str,
) -> PipelineConfig {
    let text = format!(
        "workdir = \"work\"\n\n[source]\nconnection = \"{source}\"\nconnect_timeout_secs = 3\n{side_keys}\n[target]\nconnection = \"{target}\"\nconnect_timeout_secs = 3\n{side_keys}\n{extra}\n",
    );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, &text).unwrap();
    PipelineConfig::parse(&text, &path, &|v| {
        (v == PW_VAR).then(|| bptmig_sandbox::DEFAULT_PASSWORD.to_owned())
    })
    .unwrap()
}

pub fn pipeline_for(
    dir: &Path,
    prod: &Environment,
    qa: &Environment,
    extra: &str,
) -> PipelineConfig {
    pipeline(
        dir,
        &prod.server.connection_template(PW_VAR),
        &qa.server.connection_template(PW_VAR),
        extra,
    )
}

/// Every batch of `table` as the extract wrote it.
pub fn read_table(workdir: &Path, table: &str) -> Vec<RecordBatch> {
    let dir = workdir.join("extract").join(table);
    let manifest = Manifest::read(&dir)
        .unwrap()
        .unwrap_or_else(|| panic!("no manifest for {table}"));
    assert!(manifest.complete, "{table} incomplete");
    manifest
        .parts
        .iter()
        .flat_map(|p| read_file(&dir.join(&p.file)))
        .collect()
}

pub fn read_file(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The Int32 column `col` of every row.
pub fn ids(batches: &[RecordBatch], col: &str) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(col)
                .unwrap_or_else(|| panic!("no column {col}"));
            let a = a.as_primitive::<Int32Type>();
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| i64::from(a.value(i))))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Seconds between 1900-01-01 and 1970-01-01.
const EPOCH_1900: i64 = 2_208_988_800;

/// The value at `row` of `col` as the sandbox's `Lit`, for comparing with generated data.
pub fn lit(col: &dyn Array, row: usize) -> Lit {
    if col.is_null(row) {
        return Lit::Null;
    }
    match col.data_type() {
        DataType::Int32 => Lit::Int(i64::from(col.as_primitive::<Int32Type>().value(row))),
        DataType::Boolean => Lit::Bool(col.as_boolean().value(row)),
        DataType::Utf8 => Lit::Text(col.as_string::<i32>().value(row).to_owned()),
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            let ms = col.as_primitive::<TimestampMillisecondType>().value(row);
            assert_eq!(ms % 1000, 0, "sandbox datetimes are whole seconds");
            Lit::DateTime(ms / 1000 + EPOCH_1900)
        }
        DataType::Decimal128(_, scale) => Lit::Decimal {
            value: col
                .as_primitive::<arrow::datatypes::Decimal128Type>()
                .value(row),
            scale: *scale as u8,
        },
        other => panic!("unexpected column type {other}"),
    }
}

/// Rows of `batches` keyed by `key`, each a column → value map.
pub fn rows_by_key(batches: &[RecordBatch], key: &str) -> BTreeMap<i64, BTreeMap<String, Lit>> {
    let mut out = BTreeMap::new();
    for b in batches {
        let schema = b.schema();
        for r in 0..b.num_rows() {
            let row: BTreeMap<String, Lit> = schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(f, c)| (f.name().clone(), lit(c.as_ref(), r)))
                .collect();
            let k = row[key].as_int().unwrap();
            out.insert(k, row);
        }
    }
    out
}

/// Runs the extract stage without progress output.
pub async fn extract(
    config: &PipelineConfig,
) -> bptmig_extract::Result<bptmig_extract::ExtractSummary> {
    bptmig_extract::extract(
        config,
        &bptmig_model::NoProgress,
        &bptmig_extract::ExtractOptions::default(),
    )
    .await
}

pub fn workdir(config: &PipelineConfig) -> PathBuf {
    config.workdir.clone()
}

/// Every file under `<workdir>/extract` (parts, manifests, roots, snapshots), by path
/// relative to it: two extracts under one run id of the same source are equal byte for byte.
pub fn extract_files(workdir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(root).unwrap().to_owned(), bytes);
            }
        }
    }
    let root = workdir.join("extract");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// Starts `workdir` as a copy of `reference`'s `run.json` with no stage done, so that an
/// extract into it writes under the same run id.
pub fn same_run_as(reference: &Path, workdir: &Path) {
    let mut run = bptmig_workdir::RunState::read(&bptmig_workdir::WorkDir::new(reference))
        .unwrap()
        .unwrap();
    run.stages.clear();
    let wd = bptmig_workdir::WorkDir::new(workdir);
    wd.create().unwrap();
    run.write(&wd).unwrap();
}

/// The files of `a` and `b` differ nowhere (named by path when they do).
pub fn assert_same_files(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) {
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(a), names(b));
    for (path, bytes) in a {
        assert!(b[path] == *bytes, "`{}` differs", path.display());
    }
}

/// Marks the extract of `workdir` as still running, as a crash leaves it.
pub fn mark_running(workdir: &Path) {
    let wd = bptmig_workdir::WorkDir::new(workdir);
    let mut run = bptmig_workdir::RunState::read(&wd).unwrap().unwrap();
    run.stages
        .insert("extract".into(), bptmig_workdir::StageState::Running);
    run.write(&wd).unwrap();
}
