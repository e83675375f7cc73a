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
