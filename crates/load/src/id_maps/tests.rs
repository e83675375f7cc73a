#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use bptmig_model::catalog as c;
use bptmig_workdir::layout::{LOAD, TRANSFORM};
use bptmig_workdir::part::{self as parts, PartMeta, PartReader};
use bptmig_workdir::{Manifest, PartEntry, WorkDir};

use super::{in_ranges, map_file, planned, read_pairs, remove, write, TableMap};
use crate::plan::{Chunk, LoadPlan, TableInput, TreeIndex};

fn map(table: &str, pairs: &[(i32, i32)]) -> TableMap {
    TableMap::new(table, pairs.to_vec()).unwrap()
}

#[test]
fn a_map_is_sorted_by_old_id_and_refuses_an_id_twice() {
    assert_eq!(map("T", &[(3, 30), (1, 10)]).pairs(), [(1, 10), (3, 30)]);
    let e = TableMap::new("T", vec![(1, 10), (1, 11)]).unwrap_err();
    assert!(e.contains("old ID 1"), "{e}");
    let e = TableMap::new("T", vec![(1, 10), (2, 10)]).unwrap_err();
    assert!(e.contains("new ID 10"), "{e}");
}

#[test]
fn a_map_of_generated_ids_need_be_neither_dense_nor_monotone() {
    let m = map("T", &[(9, 5), (2, 70_000), (5, -3), (1, 2_000_000_000)]);
    assert_eq!(
        m.pairs(),
        [(1, 2_000_000_000), (2, 70_000), (5, -3), (9, 5)]
    );
}

#[test]
fn ids_are_found_in_ranges() {
    let ranges = [(1, 3), (7, 7), (10, 12)];
    let hits: Vec<i32> = (0..14).filter(|&i| in_ranges(&ranges, i)).collect();
    assert_eq!(hits, [1, 2, 3, 7, 10, 11, 12]);
    assert!(!in_ranges(&[], 1));
}

/// `dir/file` and its entry in `manifest`.
fn listed(dir: &std::path::Path, manifest: &Manifest, file: &str) -> PartEntry {
    let entry = manifest.parts.iter().find(|p| p.file == file).unwrap();
    entry.verify(dir).unwrap();
    entry.clone()
}

#[test]
fn maps_are_written_listed_the_same_bytes_again_and_nothing_else_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let wd = WorkDir::new(tmp.path());
    let dir = wd.stage_dir(LOAD);
    std::fs::create_dir_all(dir.join("maps")).unwrap();
    std::fs::write(dir.join("maps/OSSYS_GONE.parquet"), b"stale").unwrap();
    let maps = [
        map(c::PROCESS, &[(5, 105), (6, 106)]),
        map(c::ACTIVITY, &[]),
    ];
    let entries = write(&wd, "run1", &maps, 1000).unwrap();
    assert_eq!(entries.len(), 2);
    let manifest = Manifest::read(&dir).unwrap().unwrap();
    assert!(manifest.complete);
    assert_eq!(manifest.run_id, "run1");
    assert_eq!(manifest.parts, entries);
    let file = map_file(c::PROCESS);
    let entry = listed(&dir, &manifest, &file);
    assert_eq!(entry.rows, 2);
    let reader = PartReader::open_listed(&dir, &entry).unwrap();
    assert_eq!(
        read_pairs(&dir.join(&file), reader).unwrap(),
        [(5, 105), (6, 106)]
    );
    assert_eq!(listed(&dir, &manifest, &map_file(c::ACTIVITY)).rows, 0);
    assert!(!dir.join("maps/OSSYS_GONE.parquet").exists());

    let bytes = std::fs::read(dir.join(&file)).unwrap();
    let manifest_bytes = std::fs::read(Manifest::path(&dir)).unwrap();
    write(&wd, "run1", &maps, 1000).unwrap();
    assert_eq!(std::fs::read(dir.join(&file)).unwrap(), bytes);
    assert_eq!(std::fs::read(Manifest::path(&dir)).unwrap(), manifest_bytes);

    remove(&wd).unwrap();
    assert!(Manifest::read(&dir).unwrap().is_none());
    assert!(!dir.join(&file).exists());
    remove(&wd).unwrap();
}

/// A transform map of `table` in `wd`, listed in `transform/manifest.json` (with `others`).
fn transform_map(wd: &WorkDir, table: &str, pairs: &[(i32, i32)]) -> PartEntry {
    let schema = Arc::new(Schema::new(vec![
        Field::new("OLD_ID", DataType::Int32, false),
        Field::new("NEW_ID", DataType::Int32, false),
    ]));
    let col = |f: fn(&(i32, i32)) -> i32| -> ArrayRef {
        Arc::new(Int32Array::from_iter_values(pairs.iter().map(f)))
    };
    let batch = RecordBatch::try_new(schema.clone(), vec![col(|p| p.0), col(|p| p.1)]).unwrap();
    let meta = PartMeta {
        run_id: "run1".into(),
        table: table.into(),
        column_roles: "{}".into(),
    };
    let file = map_file(table);
    let entry = parts::write_file(
        &wd.stage_dir(TRANSFORM).join(&file),
        schema,
        &[batch],
        parts::writer_properties(&meta, 1000, &[]),
    )
    .unwrap();
    PartEntry { file, ..entry }
}

/// A plan whose only table is `table`, with one chunk per range list of `chunks`.
pub(crate) fn plan_of(wd: &WorkDir, table: &'static str, chunks: &[Vec<(i32, i32)>]) -> LoadPlan {
    let manifest = Manifest {
        table: table.into(),
        run_id: "run1".into(),
        key: Some(c::ID.into()),
        columns: Vec::new(),
        complete: true,
        parts: Vec::new(),
    };
    let input = TableInput {
        name: table.into(),
        spelled: table.into(),
        model: *c::table(table).unwrap(),
        dir: wd.table_dir(TRANSFORM, table),
        manifest,
        columns: Vec::new(),
    };
    let chunks = chunks
        .iter()
        .enumerate()
        .map(|(seq, ranges)| Chunk {
            table: 0,
            level: None,
            part: 0,
            seq,
            rows: (0..ranges.iter().map(|r| r.1 - r.0 + 1).sum::<i32>())
                .map(|r| r as u32)
                .collect(),
            ranges: ranges.clone(),
            nulls: Vec::new(),
            fixups: Vec::new(),
        })
        .collect();
    LoadPlan {
        tables: vec![input],
        chunks,
        fixups: 0,
        references: crate::plan::References::default(),
        trees: TreeIndex::default(),
    }
}

#[test]
fn the_planned_maps_hold_only_the_rows_the_plan_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let wd = WorkDir::new(tmp.path());
    let process: Vec<(i32, i32)> = (1..=10).map(|i| (i, 100 + i)).collect();
    let parts = vec![
        transform_map(&wd, c::PROCESS, &process),
        transform_map(&wd, c::ACTIVITY, &[(1, 500)]),
    ];
    Manifest {
        table: TRANSFORM.into(),
        run_id: "run1".into(),
        key: None,
        columns: Vec::new(),
        complete: true,
        parts,
    }
    .write(&wd.stage_dir(TRANSFORM))
    .unwrap();
    // Trees left out took the rows 104..=107 from the plan's chunks.
    let plan = plan_of(&wd, c::PROCESS, &[vec![(101, 103)], vec![(108, 110)]]);
    let maps = planned(&wd, &plan).unwrap();
    assert_eq!(maps.len(), 2);
    let expected: Vec<(i32, i32)> = [1, 2, 3, 8, 9, 10].iter().map(|&i| (i, 100 + i)).collect();
    assert_eq!(maps[0].table, c::PROCESS);
    assert_eq!(maps[0].pairs(), expected);
    // The plan holds no activity: an empty map, still listed.
    assert_eq!(maps[1].table, c::ACTIVITY);
    assert!(maps[1].pairs().is_empty());

    // A transform map changed since the transform wrote it is refused.
    let path = wd.stage_dir(TRANSFORM).join(map_file(c::ACTIVITY));
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let e = planned(&wd, &plan).unwrap_err().to_string();
    assert!(e.contains("SHA-256") || e.contains("size"), "{e}");
}
