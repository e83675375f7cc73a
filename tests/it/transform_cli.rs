//! `bptmig transform` on a generated work directory: exit codes, summary, report, rerun.

use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::Pipeline;
use bptmig_sandbox::workdir::{generate_workdir, GenerateOptions};
use bptmig_sandbox::EnvSpec;

use crate::common;

pub fn transform(pipeline: &Path) -> Output {
    common::bptmig(["transform", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

/// `[mapping]` policies that let a generated history through: unmapped users and groups to
/// NULL, and, with `skip_tree`, trees of unmapped definitions left out.
fn mapping(skip_tree: bool) -> String {
    let skip = if skip_tree {
        "unmapped_definition = \"skip-tree\"\n"
    } else {
        ""
    };
    format!("[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n{skip}")
}

/// Writes `<dir>/<name>.toml` for the generated work directory `<dir>/<name>`.
pub fn write_pipeline(dir: &Path, name: &str, skip_tree: bool) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    Pipeline::new("server=generated-prod", "server=generated-qa")
        .workdir(name)
        .extra(&mapping(skip_tree))
        .write(&path)
        .unwrap();
    path
}

/// An extracted work directory at `out` with `processes` generated top-level processes, in
/// parts of `part_rows` rows and row groups of `row_group_rows`.
pub fn generate(out: &Path, processes: usize, part_rows: usize, row_group_rows: usize) {
    generate_workdir(&GenerateOptions {
        out: out.to_owned(),
        spec: EnvSpec {
            processes,
            ..EnvSpec::default()
        },
        part_rows,
        row_group_rows,
    })
    .unwrap();
}

#[test]
fn transform_exits_1_with_findings_writes_the_report_and_reruns_as_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let wd = dir.path().join("work");
    generate(&wd, 80, 500, 100);
    let pipeline = write_pipeline(dir.path(), "work", true);

    let out = transform(&pipeline);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("transform done")
            && stdout.contains("OSSYS_BPM_ACTIVITY")
            && stdout.contains("to review"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.join("report.json")).unwrap()).unwrap();
    assert!(report["problems"].as_u64().unwrap() > 0);
    assert!(!report["skipped_trees"].as_array().unwrap().is_empty());

    let again = transform(&pipeline);
    assert_eq!(
        again.status.code(),
        Some(1),
        "the findings stand on a rerun"
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("already complete"));

    // Without the skip-tree policy the missing definition is an error (exit 2).
    let strict = write_pipeline(dir.path(), "work2", false);
    std::fs::rename(&wd, dir.path().join("work2")).unwrap();
    std::fs::remove_file(dir.path().join("work2/report.json")).unwrap();
    let run = dir.path().join("work2/run.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&run).unwrap()).unwrap();
    state["stages"].as_object_mut().unwrap().remove("transform");
    std::fs::write(&run, serde_json::to_vec(&state).unwrap()).unwrap();
    let out = transform(&strict);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ProdOnlyAudit"));
}

#[test]
fn sigint_stops_between_parts_exits_130_and_the_rerun_equals_an_uninterrupted_transform() {
    let dir = tempfile::tempdir().unwrap();
    let extracted = dir.path().join("extracted");
    generate(&extracted, 60, 40, 20);
    let pipeline = |name: &str| {
        let path = write_pipeline(dir.path(), name, true);
        // The same extract (and run ID) in both work directories.
        common::copy_dir(&extracted, &dir.path().join(name));
        path
    };
    let clean = pipeline("clean");
    assert_eq!(transform(&clean).status.code(), Some(1));

    let interrupted = pipeline("interrupted");
    let mut child = common::bptmig(["transform", "--pipeline", interrupted.to_str().unwrap()])
        .env("BPTMIG_TEST_PART_DELAY_MS", "150")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a first table is finished while others are under way.
    let stage = dir.path().join("interrupted/transform");
    let done_tables = || -> Vec<String> {
        std::fs::read_dir(&stage)
            .map(|d| {
                d.filter_map(|e| {
                    let name = e.ok()?.file_name().to_string_lossy().into_owned();
                    Some(name.strip_suffix(".done.json")?.to_owned())
                })
                .collect()
            })
            .unwrap_or_default()
    };
    let started = std::time::Instant::now();
    while done_tables().is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "transform made no progress"
        );
        assert!(child.try_wait().unwrap().is_none(), "finished too early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let wd = dir.path().join("interrupted");
    common::interrupt(child, &wd);
    let kept = done_tables();
    assert!(
        !kept.is_empty() && kept.len() < HISTORY_TABLES.len(),
        "stopped with some tables finished and others not: {kept:?}"
    );

    // A finished table is kept as it is: its done marker is not written again.
    let written = |table: &str| {
        std::fs::metadata(stage.join(format!("{table}.done.json")))
            .and_then(|m| m.modified())
            .unwrap()
    };
    let before: Vec<_> = kept.iter().map(|t| written(t)).collect();
    assert_eq!(transform(&interrupted).status.code(), Some(1));
    let after: Vec<_> = kept.iter().map(|t| written(t)).collect();
    assert_eq!(before, after, "finished tables {kept:?} are not redone");
    let (a, b) = (
        common::files(&dir.path().join("clean/transform")),
        common::files(&wd.join("transform")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(b[name] == *bytes, "{name} differs");
    }
}
