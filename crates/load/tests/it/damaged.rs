//! A transformed part changed by one byte that still decodes: the load refuses it before
//! writing anything, and verify refuses it too.

use std::path::Path;

use bptmig_load::LoadOptions;
use bptmig_model::catalog as c;
use bptmig_model::NoProgress;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::Manifest;

use crate::support::{extract_transform, history, Runs};

/// Flips one byte of the Parquet file at `path` (holding `original`) where the file still
/// decodes, to other values: the damaged bytes.
fn flip_one_byte(path: &Path, original: &[u8]) -> Vec<u8> {
    let decoded = PartReader::open(path).unwrap().read_all().unwrap();
    // Data pages follow the 4-byte magic; the footer is at the end.
    for offset in (8..original.len() / 2).rev() {
        let mut bytes = original.to_vec();
        bytes[offset] ^= 0x01;
        std::fs::write(path, &bytes).unwrap();
        let still = PartReader::open(path).and_then(PartReader::read_all);
        if still.is_ok_and(|b| b != decoded) {
            return bytes;
        }
    }
    panic!("no single byte of `{}` changes a value", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_changed_by_one_byte_is_refused_by_load_and_by_verify() {
    let runs = Runs::start(30).await;
    let config = runs.config("one", "", "[load]\nstrategy = \"insert\"\n");
    extract_transform(&config).await;
    let mut qa = runs.qa().await;
    let before = history(&mut qa).await;

    let dir = runs.workdir("one").join("transform").join(c::ACTIVITY);
    let listed = Manifest::read(&dir).unwrap().unwrap().parts[0].clone();
    let part = dir.join(&listed.file);
    let original = std::fs::read(&part).unwrap();
    let damaged = flip_one_byte(&part, &original);
    let found = bptmig_workdir::file_sha256(&part).unwrap();

    let err = bptmig_load::load(&config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    for needle in [
        part.display().to_string(),
        "SHA-256".to_owned(),
        listed.sha256.clone(),
        found.clone(),
        "Run `bptmig transform` again".to_owned(),
    ] {
        assert!(text.contains(&needle), "`{needle}` in: {text}");
    }
    assert_eq!(history(&mut qa).await, before, "nothing was written");

    // The part as written loads; damaged again, verify refuses it.
    std::fs::write(&part, &original).unwrap();
    bptmig_load::load(&config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    std::fs::write(&part, &damaged).unwrap();
    let err = bptmig_load::verify(&config, &NoProgress).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&listed.sha256) && text.contains(&found),
        "{text}"
    );
    std::fs::write(&part, &original).unwrap();
    let verified = bptmig_load::verify(&config, &NoProgress).await.unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);

    // The deferred fix-ups are checked against the transform's own manifest alike.
    let deferred = runs
        .workdir("one")
        .join("transform")
        .join("deferred.parquet");
    let mut bytes = std::fs::read(&deferred).unwrap();
    bytes[8] ^= 0x01;
    std::fs::write(&deferred, &bytes).unwrap();
    let err = bptmig_load::load(&config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&deferred.display().to_string()) && text.contains("SHA-256"),
        "{text}"
    );
}
