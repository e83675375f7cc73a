//! `bptmig maps` on a generated, transformed work directory (no server): the published maps
//! equal the transform's, in both formats and any spelling of the table; the refusals; a
//! published map read back as a `[mapping.entity_maps]` file. After a load ([`loaded`], with
//! a server): the load's maps.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bptmig_sandbox::generator::CANDIDATE_TABLE;
use bptmig_sandbox::testing::Pipeline;
use bptmig_workdir::part::PartReader;

use crate::common;
use crate::transform_cli::{generate, transform};

mod loaded;

/// `[mapping]` policies that let a generated history through, plus `extra` lines.
fn pipeline(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    Pipeline::new("server=generated-prod", "server=generated-qa")
        .workdir(name)
        .extra(&format!(
            "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
             unmapped_definition = \"skip-tree\"\nunmoved_reference = \"null\"\n{extra}"
        ))
        .write(&path)
        .unwrap();
    path
}

/// A generated work directory `<dir>/work`, transformed; its pipeline.
fn transformed(dir: &Path) -> PathBuf {
    generate(&dir.join("work"), 40, 200, 50);
    let p = pipeline(dir, "work", "");
    let out = transform(&p);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

fn maps(pipeline: &Path, args: &[&str]) -> Output {
    let mut all = vec!["maps", "--pipeline", pipeline.to_str().unwrap()];
    all.extend_from_slice(args);
    common::bptmig(all).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The transform's own map of `table`, old → new.
fn transform_map(workdir: &Path, table: &str) -> BTreeMap<i64, i64> {
    let path = workdir.join(format!("transform/maps/{table}.parquet"));
    let mut out = BTreeMap::new();
    for b in PartReader::open(&path).unwrap().read_all().unwrap() {
        let col = |n: &str| b.column_by_name(n).unwrap().as_primitive::<Int32Type>();
        for (o, n) in col("OLD_ID").iter().zip(col("NEW_ID").iter()) {
            out.insert(i64::from(o.unwrap()), i64::from(n.unwrap()));
        }
    }
    out
}

/// CSV text parsed strictly: the header, then `old,new` lines in ascending old ID.
fn parse_csv(text: &str) -> BTreeMap<i64, i64> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("old_id,new_id"));
    let pairs: Vec<(i64, i64)> = lines
        .map(|l| {
            let (o, n) = l.split_once(',').unwrap();
            (o.parse().unwrap(), n.parse().unwrap())
        })
        .collect();
    assert!(
        pairs.windows(2).all(|w| w[0].0 < w[1].0),
        "sorted by old_id"
    );
    pairs.into_iter().collect()
}

/// A published Parquet map: `old_id`, `new_id` Int64 non-null.
fn parse_parquet(path: &Path) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for b in PartReader::open(path).unwrap().read_all().unwrap() {
        let schema = b.schema();
        for name in ["old_id", "new_id"] {
            let f = schema.field_with_name(name).unwrap();
            assert_eq!(f.data_type(), &DataType::Int64);
            assert!(!f.is_nullable());
        }
        let col = |n: &str| b.column_by_name(n).unwrap().as_primitive::<Int64Type>();
        assert_eq!(col("old_id").null_count(), 0);
        out.extend(
            col("old_id")
                .values()
                .iter()
                .zip(col("new_id").values())
                .map(|(o, n)| (*o, *n)),
        );
    }
    out
}

#[test]
fn published_maps_equal_the_transforms_in_both_formats_and_any_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let p = transformed(dir.path());
    let wd = dir.path().join("work");
    let expected = transform_map(&wd, "OSSYS_BPM_PROCESS");
    assert!(!expected.is_empty());

    let out = maps(&p, &["--table", "ossys_BPM_Process"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(parse_csv(&String::from_utf8_lossy(&out.stdout)), expected);
    assert!(
        stderr(&out).contains("load"),
        "the note that the load has not run"
    );

    let csv = dir.path().join("out/process.csv");
    let out = maps(
        &p,
        &[
            "--table",
            "OSSYS_BPM_PROCESS",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("written to"));
    assert_eq!(parse_csv(&std::fs::read_to_string(&csv).unwrap()), expected);

    for table in [
        "OSSYS_BPM_ACTIVITY",
        "ossys_BPM_Process_Input",
        "OSSYS_BPM_ACTIVITY_OUTPUT",
    ] {
        let file = dir.path().join(format!("{table}.parquet"));
        let out = maps(&p, &["--table", table, "--out", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let model = table.to_ascii_uppercase();
        assert_eq!(parse_parquet(&file), transform_map(&wd, &model), "{table}");
        assert!(!bptmig_workdir::tmp_path(&file).exists());
    }

    // Trees the transform left behind are absent; every new ID is unique.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.join("report.json")).unwrap()).unwrap();
    let skipped = report["skipped_trees"].as_array().unwrap();
    assert!(!skipped.is_empty());
    for tree in skipped {
        let root = tree["root_id"].as_i64().unwrap();
        assert!(
            !expected.contains_key(&root),
            "skipped root {root} published"
        );
    }
    let mut news: Vec<i64> = expected.values().copied().collect();
    news.sort_unstable();
    news.dedup();
    assert_eq!(news.len(), expected.len());
}

#[test]
fn tables_without_ids_unknown_tables_and_unfinished_or_damaged_transforms_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Extracted, not transformed.
    generate(&dir.path().join("work"), 20, 200, 50);
    let p = pipeline(dir.path(), "work", "");
    let refused = |args: &[&str], says: &str| {
        let out = maps(&p, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?} printed a map");
    };
    refused(&["--table", "OSSYS_BPM_PROCESS"], "run `bptmig transform`");
    assert_eq!(transform(&p).status.code(), Some(1));

    refused(
        &["--table", "OSEVT_3ar_Candidate"],
        "event-subscription table",
    );
    refused(
        &["--table", "OSSYS_BPM_PROCES"],
        "`OSSYS_BPM_PROCES` is not a table",
    );
    refused(&["--table", "ossys_User"], "not a table bptmig moves");
    refused(
        &["--table", "OSSYS_BPM_PROCESS", "--format", "parquet"],
        "--out",
    );
    let wrong = dir.path().join("m.csv");
    let wrong = wrong.to_str().unwrap();
    refused(
        &[
            "--table",
            "OSSYS_BPM_PROCESS",
            "--format",
            "parquet",
            "--out",
            wrong,
        ],
        "`[mapping.entity_maps]` reads a map by its extension",
    );
    assert!(!Path::new(wrong).exists());

    // A map changed after the transform wrote it.
    let map = dir
        .path()
        .join("work/transform/maps/OSSYS_BPM_ACTIVITY.parquet");
    let good = std::fs::read(&map).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    std::fs::write(&map, &bad).unwrap();
    refused(&["--table", "OSSYS_BPM_ACTIVITY"], "SHA-256");
    std::fs::write(&map, &good).unwrap();
    assert_eq!(
        maps(&p, &["--table", "OSSYS_BPM_ACTIVITY"]).status.code(),
        Some(0)
    );

    // A transform output of another run.
    let manifest = dir.path().join("work/transform/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["run_id"] = "someotherrun".into();
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    refused(
        &["--table", "OSSYS_BPM_ACTIVITY"],
        "belongs to run someotherrun",
    );
    std::fs::write(&manifest, text).unwrap();

    // The load left trees out: the map lists rows this run never wrote.
    let report_path = dir.path().join("work/report.json");
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    report["load"] = serde_json::json!({ "already_moved": { "policy": "skip", "trees": 2 } });
    std::fs::write(&report_path, serde_json::to_vec(&report).unwrap()).unwrap();
    refused(&["--table", "OSSYS_BPM_PROCESS"], "left 2 tree(s) out");
}

#[test]
fn a_published_map_is_read_back_as_an_entity_map() {
    let dir = tempfile::tempdir().unwrap();
    let p = transformed(dir.path());
    let expected: HashMap<i64, i64> = transform_map(&dir.path().join("work"), "OSSYS_BPM_PROCESS")
        .into_iter()
        .collect();
    let csv = dir.path().join("process.csv");
    let parquet = dir.path().join("process.parquet");
    for file in [&csv, &parquet] {
        let out = maps(
            &p,
            &[
                "--table",
                "OSSYS_BPM_PROCESS",
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(bptmig_transform::entity::load(file).unwrap(), expected);
    }

    // Given to a transform as `[mapping.entity_maps]`, both files load.
    for (name, file) in [("viacsv", &csv), ("viaparquet", &parquet)] {
        generate(&dir.path().join(name), 40, 200, 50);
        let extra = format!(
            "[mapping.entity_maps]\n{CANDIDATE_TABLE} = {:?}\n",
            file.to_str().unwrap()
        );
        let again = pipeline(dir.path(), name, &extra);
        let out = transform(&again);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: {}",
            stderr(&out)
        );
    }
    // The transform reads the file it is given: the same CSV with one old ID twice is refused.
    let text = std::fs::read_to_string(&csv).unwrap();
    let first = text.lines().nth(1).unwrap().to_owned();
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, format!("{text}{first}\n")).unwrap();
    generate(&dir.path().join("viabroken"), 40, 200, 50);
    let extra = format!(
        "[mapping.entity_maps]\n{CANDIDATE_TABLE} = {:?}\n",
        broken.to_str().unwrap()
    );
    let out = transform(&pipeline(dir.path(), "viabroken", &extra));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
}
