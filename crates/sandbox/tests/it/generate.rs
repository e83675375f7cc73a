//! `generate` writes what `extract` would write from a sandbox seeded with the same spec.

use std::path::Path;

use arrow::record_batch::RecordBatch;
use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::{read_stage, Pair};
use bptmig_sandbox::workdir::{generate_workdir, GenerateOptions};
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::Manifest;

fn read(path: &Path) -> Vec<RecordBatch> {
    PartReader::open(path).unwrap().read_all().unwrap()
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
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = pair
        .pipeline()
        .workdir("extracted")
        .extra("[extract]\npart_rows = 200\nrow_group_rows = 50\n")
        .config(&dir.path().join("p.toml"))
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
    for &t in HISTORY_TABLES {
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
        let ra = read_stage(&extracted, "extract", t).unwrap();
        let rb = read_stage(&generated, "extract", t).unwrap();
        assert_eq!(concat(&ra), concat(&rb), "{t}");
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
            // The extract's instance stats also hold what it learned of each identity
            // (the generator cannot know it: readers treat absent columns as unknown);
            // the counts and maximums they share must agree.
            let ra = if p.file.starts_with("instance_stats") {
                let wanted: Vec<usize> = rb
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| ra.schema().index_of(f.name()).unwrap())
                    .collect();
                ra.project(&wanted).unwrap()
            } else {
                ra
            };
            assert_eq!(ra, rb, "{side} {}", p.file);
        }
    }
}
