//! Lock and manifest behaviour.

use std::fs;

use crate::*;

#[test]
fn a_live_lock_refuses_and_a_stale_one_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let wd = WorkDir::new(dir.path());
    let lock = wd.lock("extract").unwrap();
    match wd.lock("transform") {
        Err(Error::Locked { pid, stage, .. }) => {
            assert_eq!(pid, std::process::id());
            assert_eq!(stage, "extract");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(lock);
    assert!(!wd.lock_file().exists());
    // A lock left by a dead process (pid far above pid_max).
    fs::write(wd.lock_file(), r#"{"pid":4294967,"stage":"load"}"#).unwrap();
    let _again = wd.lock("extract").unwrap();
}

#[test]
fn manifests_round_trip_and_unlisted_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let m = Manifest {
        table: "T".into(),
        run_id: "r".into(),
        key: Some("ID".into()),
        columns: vec![ManifestColumn {
            name: "ID".into(),
            sql_type: "INT".into(),
        }],
        complete: false,
        parts: vec![PartEntry {
            file: Manifest::part_name(0),
            rows: 3,
            min_key: Some(1),
            max_key: Some(9),
            bytes: 10,
            sha256: "ab".into(),
        }],
    };
    m.write(dir.path()).unwrap();
    assert_eq!(Manifest::read(dir.path()).unwrap(), Some(m.clone()));
    assert_eq!(m.last_key(), Some(9));
    fs::write(dir.path().join("part-00000.parquet"), b"x").unwrap();
    fs::write(dir.path().join("part-00001.parquet.tmp"), b"x").unwrap();
    fs::write(dir.path().join("part-00001.parquet"), b"x").unwrap();
    m.remove_unlisted(dir.path()).unwrap();
    let mut left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["manifest.json", "part-00000.parquet"]);
}

#[test]
fn a_corrupt_manifest_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(Manifest::path(dir.path()), b"{not json").unwrap();
    let err = Manifest::read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("manifest.json"), "{err}");
}

#[test]
fn a_part_changed_after_it_was_listed_is_refused_naming_both_digests() {
    use arrow::array::{ArrayRef, Int32Array};
    use arrow::record_batch::RecordBatch;
    use part::{writer_properties, PartMeta, PartReader, PartWriter};
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("transform").join("T");
    let batch = RecordBatch::try_from_iter([(
        "ID",
        std::sync::Arc::new(Int32Array::from_iter_values(0..1000)) as ArrayRef,
    )])
    .unwrap();
    let meta = PartMeta {
        run_id: "r".into(),
        table: "T".into(),
        column_roles: "{}".into(),
    };
    let mut w = PartWriter::create(
        &dir,
        "part-00000.parquet",
        batch.schema(),
        writer_properties(&meta, 1024, &[]),
    )
    .unwrap();
    w.write(&batch, Some((0, 999))).unwrap();
    let entry = w.finish().unwrap();
    assert_eq!(PartReader::open_listed(&dir, &entry).unwrap().rows(), 1000);

    // One byte changed in the middle: same size, other digest.
    let path = dir.join(&entry.file);
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = PartReader::open_listed(&dir, &entry).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::PartDamaged {
                what: "SHA-256",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("part-00000.parquet") && text.contains(&entry.sha256),
        "{text}"
    );
    assert!(text.contains("bptmig transform"), "{text}");

    // A cut file: the size says so before any hashing.
    fs::write(&path, &bytes[..mid]).unwrap();
    let err = entry.verify(&dir).unwrap_err();
    assert!(
        matches!(err, Error::PartDamaged { what: "size", .. }),
        "{err}"
    );
}
