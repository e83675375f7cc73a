//! `bptmig extract` killed with SIGKILL or stopped with SIGINT in the middle of a table, then
//! run again, ends with the same Parquet content as an uninterrupted run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::{self, Pair};
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::layout::EXTRACT;
use bptmig_workdir::Manifest;

use crate::common;

fn write_pipeline(dir: &Path, pair: &Pair) -> PathBuf {
    let path = dir.join("pipeline.toml");
    pair.pipeline()
        .extra("[extract]\npart_rows = 100\nrow_group_rows = 50\n")
        .write(&path)
        .unwrap();
    path
}

fn extract(pipeline: &Path, delay_ms: Option<u64>) -> Command {
    let mut cmd = common::bptmig([
        "--quiet",
        "extract",
        "--pipeline",
        pipeline.to_str().unwrap(),
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(ms) = delay_ms {
        cmd.env("BPTMIG_TEST_PART_DELAY_MS", ms.to_string());
    }
    cmd
}

/// Runs the extract of `pipeline` to its end.
fn extract_to_the_end(pipeline: &Path) {
    let out = extract(pipeline, None).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Per table: its name, the (rows, min key, max key) of each part, and every batch.
type Content = Vec<(
    String,
    Vec<(u64, Option<i64>, Option<i64>)>,
    Vec<RecordBatch>,
)>;

fn content(workdir: &Path) -> Content {
    HISTORY_TABLES
        .iter()
        .map(|t| {
            let m = Manifest::read(&workdir.join(EXTRACT).join(t))
                .unwrap()
                .unwrap();
            assert!(m.complete, "{t}");
            let shape = m
                .parts
                .iter()
                .map(|p| (p.rows, p.min_key, p.max_key))
                .collect();
            let batches = testing::read_stage(workdir, EXTRACT, t).unwrap();
            ((*t).to_owned(), shape, batches)
        })
        .collect()
}

/// Waits until the manifest in `dir` lists `n` parts while `child` still runs.
fn wait_for_parts(dir: &Path, child: &mut Child, n: usize) {
    let started = Instant::now();
    while Manifest::read(dir)
        .ok()
        .flatten()
        .is_none_or(|m| m.parts.len() < n)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "extract made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "extract finished before it could be interrupted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_or_sigint_mid_table_then_rerun_equals_an_uninterrupted_run() {
    let pair = Pair::start(&EnvSpec::default()).await.unwrap();

    let clean_dir = tempfile::tempdir().unwrap();
    extract_to_the_end(&write_pipeline(clean_dir.path(), &pair));
    let clean = content(&clean_dir.path().join("work"));

    let dir = tempfile::tempdir().unwrap();
    let pipeline = write_pipeline(dir.path(), &pair);
    let mut child = extract(&pipeline, Some(200)).spawn().unwrap();
    let activities = dir.path().join("work/extract/OSSYS_BPM_ACTIVITY");
    wait_for_parts(&activities, &mut child, 2);
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind
    child.wait().unwrap();
    let partial = Manifest::read(&activities).unwrap().unwrap();
    assert!(!partial.complete, "killed too late to test anything");
    assert!(
        dir.path().join("work/lock").exists(),
        "a killed process leaves its lock behind"
    );
    extract_to_the_end(&pipeline);
    assert_eq!(content(&dir.path().join("work")), clean);

    // SIGINT: the part in flight is finished, the process exits 130 and releases the lock;
    // the rerun resumes after the last part.
    let int_dir = tempfile::tempdir().unwrap();
    let int_pipeline = write_pipeline(int_dir.path(), &pair);
    let mut child = extract(&int_pipeline, Some(200)).spawn().unwrap();
    let activities = int_dir.path().join("work/extract/OSSYS_BPM_ACTIVITY");
    wait_for_parts(&activities, &mut child, 1);
    common::interrupt(child, &int_dir.path().join("work"));
    let partial = Manifest::read(&activities).unwrap().unwrap();
    assert!(!partial.complete, "interrupted too late to test anything");
    extract_to_the_end(&int_pipeline);
    assert_eq!(content(&int_dir.path().join("work")), clean);

    // A rerun of a finished extract does nothing and says so.
    let again = common::bptmig(["extract", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already complete"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
