//! Integration tests of the extract stage against sandbox servers.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

mod errors;
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
    let text = format!(
        "workdir = \"work\"\n{extra_top}\n[source]\nconnection = \"{source}\"\nconnect_timeout_secs = 3\n[target]\nconnection = \"{target}\"\nconnect_timeout_secs = 3\n{extra}\n",
        extra_top = "",
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
