//! `bptmig transform` on a generated work directory: exit codes, summary, report, rerun.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

use std::process::Command;

use bptmig_sandbox::workdir::{generate_workdir, GenerateOptions};
use bptmig_sandbox::EnvSpec;

fn transform(pipeline: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bptmig"))
        .args(["transform", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

#[test]
fn transform_exits_1_with_findings_writes_the_report_and_reruns_as_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let wd = dir.path().join("work");
    generate_workdir(&GenerateOptions {
        out: wd.clone(),
        spec: EnvSpec {
            processes: 80,
            ..EnvSpec::default()
        },
        part_rows: 500,
        row_group_rows: 100,
    })
    .unwrap();
    let pipeline = dir.path().join("p.toml");
    let text = "workdir = \"work\"\n[source]\nconnection = \"server=generated-prod\"\n[target]\nconnection = \"server=generated-qa\"\n[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n";
    std::fs::write(&pipeline, text).unwrap();

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
    let strict = dir.path().join("strict.toml");
    std::fs::write(
        &strict,
        text.replace("workdir = \"work\"", "workdir = \"work2\"")
            .replace("unmapped_definition = \"skip-tree\"\n", ""),
    )
    .unwrap();
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
