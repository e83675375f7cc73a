//! A transformed part changed by one byte that still decodes: the load refuses it before
//! writing anything, naming the file and both digests; the transform run again writes it anew,
//! as the advice says; and after a load, verify refuses it too.

use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use bptmig_sandbox::testing::Pair;
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::Manifest;

use crate::load_interrupt::{bptmig, content, ok, prepared};

/// A part of the transform and the manifest's digest of it.
struct Part {
    path: PathBuf,
    listed_sha256: String,
    bytes: Vec<u8>,
}

fn read_all(path: &Path) -> Option<Vec<RecordBatch>> {
    PartReader::open(path).ok()?.read_all().ok()
}

/// Whether `damaged` differs from `original` in a text column only (the same shape, the same
/// keys): a wrong value that nothing but the digest can catch.
fn differs_in_text_only(original: &[RecordBatch], damaged: &[RecordBatch]) -> bool {
    if original.len() != damaged.len() || original == damaged {
        return false;
    }
    original.iter().zip(damaged).all(|(a, b)| {
        a.schema() == b.schema()
            && a.num_rows() == b.num_rows()
            && a.columns().iter().zip(b.columns()).all(|(x, y)| {
                x == y || matches!(x.data_type(), DataType::Utf8 | DataType::LargeUtf8)
            })
    })
}

/// The first byte of `part` (between the magic and the footer) whose change keeps the file
/// readable while changing a text value, and the changed file's bytes.
fn damage_keeping_it_readable(part: &Part, scratch: &Path) -> Vec<u8> {
    let original = read_all(&part.path).unwrap();
    let len = part.bytes.len();
    let footer = u32::from_le_bytes(part.bytes[len - 8..len - 4].try_into().unwrap()) as usize;
    let probe = scratch.join("probe.parquet");
    for offset in 4..len - 8 - footer {
        let mut bytes = part.bytes.clone();
        // Toggling the case bit keeps an ASCII letter a letter: valid UTF-8, another value.
        bytes[offset] ^= 0x20;
        std::fs::write(&probe, &bytes).unwrap();
        if read_all(&probe).is_some_and(|damaged| differs_in_text_only(&original, &damaged)) {
            return bytes;
        }
    }
    panic!(
        "no byte of `{}` changes a text value and keeps it readable",
        part.path.display()
    );
}

/// The first part of the transformed `OSSYS_BPM_ACTIVITY`, which holds text columns.
fn activity_part(workdir: &Path) -> Part {
    let dir = workdir.join(TRANSFORM).join("OSSYS_BPM_ACTIVITY");
    let entry = Manifest::read(&dir).unwrap().unwrap().parts[0].clone();
    let path = dir.join(&entry.file);
    let bytes = std::fs::read(&path).unwrap();
    Part {
        path,
        listed_sha256: entry.sha256,
        bytes,
    }
}

/// Asserts that `out` failed with exit code 2 naming the part and both digests.
fn refused(out: &Output, part: &Part, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    let found = bptmig_workdir::file_sha256(&part.path).unwrap();
    assert_ne!(found, part.listed_sha256);
    for needle in [
        part.path.file_name().unwrap().to_str().unwrap(),
        "OSSYS_BPM_ACTIVITY",
        &part.listed_sha256,
        &found,
    ] {
        assert!(
            err.contains(needle),
            "{what} does not name `{needle}`: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_changed_by_one_byte_that_still_decodes_is_refused_by_load_and_verify() {
    let spec = EnvSpec {
        processes: 30,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let mut qa = pair.qa.connect().await.unwrap();
    let (dir, pipeline) = prepared(&pair.prod, &pair.qa);
    let workdir = dir.path().join("work");
    let part = activity_part(&workdir);
    let damaged = damage_keeping_it_readable(&part, dir.path());

    // The load refuses the part before it writes anything.
    let before = content(&mut qa).await;
    std::fs::write(&part.path, &damaged).unwrap();
    refused(
        &bptmig("load", &pipeline, None).output().unwrap(),
        &part,
        "load",
    );
    assert_eq!(content(&mut qa).await, before, "the target is unchanged");

    // Its advice, to run the transform again, leads somewhere: the part is written anew.
    let out = bptmig("transform", &pipeline, None).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert!(
        std::fs::read(&part.path).unwrap() == part.bytes,
        "the transform writes the damaged part anew"
    );
    ok(&bptmig("load", &pipeline, None).output().unwrap());
    ok(&bptmig("verify", &pipeline, None).output().unwrap());

    // After the load, verify re-checks the parts and refuses the damaged one.
    std::fs::write(&part.path, &damaged).unwrap();
    refused(
        &bptmig("verify", &pipeline, None).output().unwrap(),
        &part,
        "verify",
    );
}
