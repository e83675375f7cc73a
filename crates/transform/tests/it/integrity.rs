//! What the transform reads is checked against its manifests, and what it finds damaged of
//! its own output it writes again, ending identical to a clean transform.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use bptmig_model::catalog as c;
use bptmig_model::{NoProgress, PipelineConfig, Reporter};
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{Manifest, PartEntry};

use crate::generated::{config, mark_running, with_clean_copy, POLICIES};

/// Flips one byte in the middle of `path`: same size, different SHA-256.
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(path, &bytes).unwrap();
}

/// The manifest entry of the part at `path`.
fn listed(path: &Path) -> PartEntry {
    let manifest = Manifest::read(path.parent().unwrap()).unwrap().unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    manifest.parts.into_iter().find(|p| p.file == name).unwrap()
}

/// Every file under `dir`, by path inside it.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p.strip_prefix(dir).unwrap().to_owned(), bytes);
            }
        }
    }
    out
}

/// The transform's output of `a` and `b` byte for byte, `report.json` included.
fn assert_identical(a: &Path, b: &Path) {
    let (fa, fb) = (files(&a.join("transform")), files(&b.join("transform")));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{} differs", name.display());
    }
    assert_eq!(
        std::fs::read(a.join("report.json")).unwrap(),
        std::fs::read(b.join("report.json")).unwrap()
    );
}

/// When each table's done marker was written.
fn done_stamps(wd: &Path) -> BTreeMap<String, SystemTime> {
    std::fs::read_dir(wd.join("transform"))
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let table = name.strip_suffix(".done.json")?.to_owned();
            Some((table, e.metadata().unwrap().modified().unwrap()))
        })
        .collect()
}

/// The tables whose done marker was written again between `before` and `after`.
fn rewritten(before: &BTreeMap<String, SystemTime>, wd: &Path) -> Vec<String> {
    let after = done_stamps(wd);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    after
        .into_iter()
        .filter(|(table, stamp)| before[table] != *stamp)
        .map(|(table, _)| table)
        .collect()
}

/// A generated work directory transformed, a copy of it transformed alike, and its pipeline.
fn transformed(dir: &Path, seed: u64) -> (PathBuf, PathBuf, PipelineConfig) {
    let (wd, clean) = with_clean_copy(dir, seed);
    let cfg = config(dir, &wd, POLICIES);
    bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    (wd, clean, cfg)
}

/// A reporter that keeps the notes.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl Reporter for Notes {
    fn table_started(&self, _stage: &str, _table: &str, _expected_rows: Option<u64>) {}
    fn rows(&self, _table: &str, _rows: u64) {}
    fn table_finished(&self, _table: &str, _total_rows: u64) {}
    fn note(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_owned());
    }
}

#[test]
fn a_damaged_extract_part_is_refused_before_any_of_it_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean) = with_clean_copy(dir.path(), 21);
    let cfg = config(dir.path(), &wd, POLICIES);
    let part = wd
        .join("extract")
        .join(c::ACTIVITY)
        .join("part-00000.parquet");
    let good = std::fs::read(&part).unwrap();
    let entry = listed(&part);
    flip_a_byte(&part);
    let found = bptmig_workdir::file_sha256(&part).unwrap();

    let err = bptmig_transform::transform(&cfg, &NoProgress).unwrap_err();
    assert!(
        matches!(
            &err,
            bptmig_transform::Error::Workdir(bptmig_workdir::Error::PartDamaged {
                what: "SHA-256",
                ..
            })
        ),
        "{err:?}"
    );
    let message = err.to_string();
    for needed in [
        part.display().to_string().as_str(),
        &entry.sha256,
        &found,
        "`bptmig extract` again",
    ] {
        assert!(message.contains(needed), "`{needed}` in {message}");
    }
    let stage = wd.join("transform");
    let written: Vec<_> = if stage.exists() {
        files(&stage).into_keys().collect()
    } else {
        Vec::new()
    };
    assert!(written.is_empty(), "nothing written: {written:?}");

    // Repaired, the same command ends as a clean transform.
    std::fs::write(&part, good).unwrap();
    bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    assert_identical(&wd, &clean);
}

#[test]
fn a_damaged_snapshot_file_is_refused_and_the_extract_named_to_redo_it() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, _) = with_clean_copy(dir.path(), 22);
    let file = wd
        .join("extract/snapshot/target")
        .join(format!("{}.parquet", c::USER));
    let entry = listed(&file);
    flip_a_byte(&file);
    let err = bptmig_transform::transform(&config(dir.path(), &wd, POLICIES), &NoProgress)
        .unwrap_err()
        .to_string();
    for needed in [
        file.display().to_string().as_str(),
        &entry.sha256,
        "Run `bptmig extract` again",
    ] {
        assert!(err.contains(needed), "`{needed}` in {err}");
    }
}

#[test]
fn a_damaged_transformed_part_is_redone_on_rerun_and_ends_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean, cfg) = transformed(dir.path(), 23);
    let part = wd
        .join("transform")
        .join(c::ACTIVITY)
        .join("part-00000.parquet");
    let entry = listed(&part);
    flip_a_byte(&part);
    let found = bptmig_workdir::file_sha256(&part).unwrap();
    // What a later stage reading it is told.
    let refusal = PartReader::open_listed(part.parent().unwrap(), &entry)
        .unwrap_err()
        .to_string();
    assert!(refusal.contains("`bptmig transform` again"), "{refusal}");

    // And the advice holds: the rerun redoes that table, and only that one.
    let before = done_stamps(&wd);
    let notes = Notes::default();
    let again = bptmig_transform::transform(&cfg, &notes).unwrap();
    assert!(!again.already_done);
    assert_eq!(again.redone.len(), 1, "{:?}", again.redone);
    assert_eq!(again.redone[0].output, c::ACTIVITY);
    for needed in [&part.display().to_string(), &entry.sha256, &found] {
        assert!(
            again.redone[0].reason.contains(needed.as_str()),
            "`{needed}` in {}",
            again.redone[0].reason
        );
    }
    assert!(
        notes
            .0
            .lock()
            .unwrap()
            .contains(&again.redone[0].to_string()),
        "the reporter is told"
    );
    assert_eq!(rewritten(&before, &wd), [c::ACTIVITY]);
    assert_identical(&wd, &clean);

    let third = bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    assert!(third.already_done && third.redone.is_empty());
}

#[test]
fn damaged_or_missing_id_maps_and_deferred_files_are_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean, cfg) = transformed(dir.path(), 24);
    let stage = wd.join("transform");
    let redone = |cfg| -> Vec<String> {
        let summary = bptmig_transform::transform(cfg, &NoProgress).unwrap();
        assert!(!summary.already_done);
        summary.redone.into_iter().map(|r| r.output).collect()
    };

    // The derived files: written again, every table kept.
    let map = format!("maps/{}.parquet", c::PROCESS);
    std::fs::remove_file(stage.join(&map)).unwrap();
    flip_a_byte(&stage.join("deferred.parquet"));
    let before = done_stamps(&wd);
    assert_eq!(
        redone(&cfg),
        [
            format!("transform/{map}"),
            "transform/deferred.parquet".into()
        ]
    );
    assert!(rewritten(&before, &wd).is_empty(), "no table redone");
    assert_identical(&wd, &clean);

    // Their record itself.
    std::fs::remove_file(stage.join("manifest.json")).unwrap();
    assert_eq!(redone(&cfg), ["transform/manifest.json"]);
    assert_identical(&wd, &clean);

    // A table's deferred rows, and a table's missing done marker: those tables are redone.
    flip_a_byte(&stage.join(format!("{}.deferred.parquet", c::ACTIVITY)));
    std::fs::remove_file(stage.join(format!("{}.done.json", c::PROCESS))).unwrap();
    assert_eq!(redone(&cfg), [c::PROCESS, c::ACTIVITY]);
    assert_identical(&wd, &clean);
}

#[test]
fn a_resumed_transform_redoes_a_finished_table_found_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean, cfg) = transformed(dir.path(), 25);
    // As an interrupted run leaves it, with one finished table damaged since.
    mark_running(&wd);
    flip_a_byte(
        &wd.join("transform")
            .join(c::PROCESS)
            .join("part-00000.parquet"),
    );
    let before = done_stamps(&wd);
    let again = bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    let outputs: Vec<_> = again.redone.iter().map(|r| r.output.as_str()).collect();
    assert_eq!(outputs, [c::PROCESS]);
    assert_eq!(rewritten(&before, &wd), [c::PROCESS]);
    assert_identical(&wd, &clean);
}
