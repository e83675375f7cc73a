//! `generate` writes what `extract` would write from a sandbox seeded with the same spec.

use std::path::Path;

use arrow::record_batch::RecordBatch;
use bptmig_model::catalog as c;
use bptmig_sandbox::generator::CANDIDATE_EVENT_TABLE;
use bptmig_sandbox::workdir::{generate_workdir, GenerateOptions};
use bptmig_sandbox::{EnvKind, EnvSpec, Environment, DEFAULT_PASSWORD};
use bptmig_workdir::Manifest;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_work_directory_equals_an_extract_of_the_same_environment() {
    let spec = EnvSpec {
        processes: 60,
        ..EnvSpec::default()
    };
    let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "workdir = \"extracted\"\n[source]\nconnection = \"{}\"\n[target]\nconnection = \"{}\"\n[extract]\npart_rows = 200\nrow_group_rows = 50\n",
        prod.server.connection_template("PW"),
        qa.server.connection_template("PW")
    );
    let path = dir.path().join("p.toml");
    std::fs::write(&path, &text).unwrap();
    let config =
        bptmig_model::PipelineConfig::parse(&text, &path, &|_| Some(DEFAULT_PASSWORD.into()))
            .unwrap();
    bptmig_extract::extract(
        &config,
        &bptmig_model::NoProgress,
        &bptmig_extract::ExtractOptions::default(),
    )
    .await
    .unwrap();

    let generated = dir.path().join("generated");
    let tables = generate_workdir(&GenerateOptions {
        out: generated.clone(),
        spec,
        part_rows: 200,
        row_group_rows: 50,
    })
    .unwrap();
    assert_eq!(tables.len(), 6);

    let extracted = dir.path().join("extracted");
    for t in [
        c::PROCESS,
        c::ACTIVITY,
        c::PROCESS_INPUT,
        c::PROCESS_OUTPUT,
        c::ACTIVITY_OUTPUT,
        CANDIDATE_EVENT_TABLE,
    ] {
        let a = Manifest::read(&extracted.join("extract").join(t))
            .unwrap()
            .unwrap();
        let b = Manifest::read(&generated.join("extract").join(t))
            .unwrap()
            .unwrap();
        assert_eq!(a.columns, b.columns, "{t} columns");
        assert_eq!(a.key, b.key, "{t}");
        let shape = |m: &Manifest| {
            m.parts
                .iter()
                .map(|p| (p.rows, p.min_key, p.max_key))
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(&a), shape(&b), "{t} parts");
        for (pa, pb) in a.parts.iter().zip(&b.parts) {
            let ra = read(&extracted.join("extract").join(t).join(&pa.file));
            let rb = read(&generated.join("extract").join(t).join(&pb.file));
            assert_eq!(concat(&ra), concat(&rb), "{t} {}", pa.file);
        }
    }
    assert_eq!(
        read(&extracted.join("extract/roots.parquet")),
        read(&generated.join("extract/roots.parquet"))
    );
    for side in ["source", "target"] {
        let a = Manifest::read(&extracted.join("extract/snapshot").join(side))
            .unwrap()
            .unwrap();
        for p in &a.parts {
            let ra = concat(&read(
                &extracted.join("extract/snapshot").join(side).join(&p.file),
            ));
            let rb = concat(&read(
                &generated.join("extract/snapshot").join(side).join(&p.file),
            ));
            assert_eq!(ra, rb, "{side} {}", p.file);
        }
    }
}
