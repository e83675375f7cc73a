//! `bptmig maps` against a sandbox pair whose target already holds some trees from an earlier
//! run: before the load it publishes the transform's map; after the load, the load's, which
//! lists only the rows the load wrote, every one of them in the target; a damaged load map is
//! refused, and the load run again writes it anew.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_model::catalog as c;
use bptmig_sandbox::testing::Pair;
use bptmig_sandbox::{EnvSpec, SqlClient};

use super::{maps, parse_csv, stderr, transform_map};
use crate::common;

const MAPPING: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
                       unmapped_definition = \"skip-tree\"\nunmoved_reference = \"null\"\n";

/// Pipeline `name` from prod to qa, work directory `<dir>/<name>`, with `extra` lines.
fn pipeline(pair: &Pair, dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    pair.pipeline()
        .workdir(dir.join(name))
        .extra(&format!("{extra}{MAPPING}"))
        .write(&path)
        .unwrap();
    path
}

fn stage(stage: &str, pipeline: &Path) -> Output {
    common::bptmig(["--quiet", stage, "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Runs `name` (exit 0, or 1 for the transform's findings).
fn run_stage(name: &str, pipeline: &Path) {
    let out = stage(name, pipeline);
    let allowed: &[i32] = if name == "transform" { &[0, 1] } else { &[0] };
    assert!(
        out.status.code().is_some_and(|c| allowed.contains(&c)),
        "{name}: exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
}

/// The map `bptmig maps` prints for `table`, and what it said on stderr.
fn published(pipeline: &Path, table: &str) -> (BTreeMap<i64, i64>, String) {
    let out = maps(pipeline, &["--table", table]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (
        parse_csv(&String::from_utf8_lossy(&out.stdout)),
        stderr(&out),
    )
}

/// Every ID of `table` in qa.
async fn ids(qa: &mut SqlClient, table: &str) -> BTreeSet<i64> {
    let rows = qa
        .simple_query(format!("SELECT {} FROM {table}", c::ID))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    rows.iter()
        .map(|r| bptmig_db::int_cell(r, 0).unwrap())
        .collect()
}

/// Every file of `<workdir>/load/`, relative path → bytes.
fn load_files(workdir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::files(&workdir.join("load"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_load_that_left_trees_out_the_published_map_is_the_rows_it_wrote() {
    let pair = Pair::start(&EnvSpec {
        processes: 40,
        ..EnvSpec::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let closed = pipeline(
        &pair,
        dir.path(),
        "closed",
        "[selection]\nstatuses = [\"Closed\"]\n",
    );
    for s in ["extract", "transform", "load"] {
        run_stage(s, &closed);
    }
    let earlier = transform_map(&dir.path().join("closed"), c::PROCESS);
    assert!(!earlier.is_empty());

    // Every tree, in a new work directory: qa already holds the closed ones.
    let all = pipeline(&pair, dir.path(), "all", "");
    let wd = dir.path().join("all");
    run_stage("extract", &all);
    run_stage("transform", &all);
    let planned = transform_map(&wd, c::PROCESS);
    let (before, said) = published(&all, c::PROCESS);
    assert_eq!(before, planned, "before the load: the transform's map");
    assert!(said.contains("the transform's map"), "{said}");
    assert!(earlier.keys().all(|old| planned.contains_key(old)));

    run_stage("load", &all);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.join("report.json")).unwrap()).unwrap();
    assert!(report["load"]["already_moved"]["trees"].as_u64().unwrap() > 0);
    let mut qa = pair.qa.connect().await.unwrap();
    for table in [c::PROCESS, c::ACTIVITY] {
        let planned = transform_map(&wd, table);
        let left_out = transform_map(&dir.path().join("closed"), table);
        let (after, said) = published(&all, table);
        assert!(said.contains("the load's map"), "{said}");
        // Exactly the transform's map without the rows of the trees the earlier run moved.
        let expected: BTreeMap<i64, i64> = planned
            .iter()
            .filter(|(old, _)| !left_out.contains_key(old))
            .map(|(o, n)| (*o, *n))
            .collect();
        assert!(
            expected.len() < planned.len(),
            "{table}: trees were left out"
        );
        assert_eq!(after, expected, "{table}");
        // Every new ID it lists is a row of the target; the left-out rows' are not.
        let held = ids(&mut qa, table).await;
        assert!(after.values().all(|new| held.contains(new)), "{table}");
        let never_written = planned.iter().filter(|(old, _)| left_out.contains_key(old));
        for (old, new) in never_written {
            assert!(!held.contains(new), "{table}: {old} → {new} is in qa");
        }
    }

    // To a file, the summary line says which map it is.
    let file = dir.path().join("process.csv");
    let out = maps(
        &all,
        &["--table", c::PROCESS, "--out", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.contains("the load's map: the rows it wrote"), "{line}");

    // A load run again that writes nothing new leaves the same files.
    let files = load_files(&wd);
    assert!(files.contains_key("manifest.json"), "{:?}", files.keys());
    run_stage("load", &all);
    assert_eq!(load_files(&wd), files);

    damaged_load_map_is_refused(&all, &wd);
}

/// A load map changed after the load wrote it is refused, naming the load; the load run
/// again writes it anew.
fn damaged_load_map_is_refused(pipeline: &Path, wd: &Path) {
    let path = wd.join(format!("load/maps/{}.parquet", c::ACTIVITY));
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    std::fs::write(&path, &bad).unwrap();
    let out = maps(pipeline, &["--table", c::ACTIVITY]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for needle in ["SHA-256", "load/manifest.json", "run `bptmig load` again"] {
        assert!(err.contains(needle), "`{needle}` in: {err}");
    }
    assert!(out.stdout.is_empty(), "a damaged map printed");
    run_stage("load", pipeline);
    assert_eq!(std::fs::read(&path).unwrap(), good);
    let (_, said) = published(pipeline, c::ACTIVITY);
    assert!(said.contains("the load's map"), "{said}");
}
