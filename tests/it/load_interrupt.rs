//! `bptmig load` killed with SIGKILL inside a chunk, or stopped with SIGINT, then run again,
//! leaves the target exactly as an uninterrupted load does.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::{self, Pair, Pipeline};
use bptmig_sandbox::{sql, EnvKind, EnvSpec, Environment, SqlClient, DEFAULT_PASSWORD};

use crate::common;

fn write_pipeline(dir: &Path, prod: &Environment, qa: &Environment) -> PathBuf {
    let path = dir.join("pipeline.toml");
    Pipeline::between(prod, qa)
        .extra(
            "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
             unmapped_definition = \"skip-tree\"\n[load]\nchunk_rows = 60\nbatch_rows = 30\n",
        )
        .write(&path)
        .unwrap();
    path
}

pub fn bptmig(stage: &str, pipeline: &Path, delay_ms: Option<u64>) -> Command {
    let mut cmd = common::bptmig(["--quiet", stage, "--pipeline", pipeline.to_str().unwrap()]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(ms) = delay_ms {
        cmd.env("BPTMIG_TEST_CHUNK_DELAY_MS", ms.to_string());
    }
    cmd
}

pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Extract and transform in a new directory for `qa`.
pub fn prepared(prod: &Environment, qa: &Environment) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write_pipeline(dir.path(), prod, qa);
    ok(&bptmig("extract", &pipeline, None).output().unwrap());
    // Exit 1: the report lists users set to NULL (qa lacks some of prod's users).
    let out = bptmig("transform", &pipeline, None).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    (dir, pipeline)
}

/// The content of every moved table.
pub async fn content(client: &mut SqlClient) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for t in HISTORY_TABLES {
        out.push(sql::table_content(client, t).await.unwrap());
    }
    out
}

async fn ledger_rows(client: &mut SqlClient) -> i64 {
    testing::count_rows(client, "BPTMIG_LEDGER")
        .await
        .unwrap_or(0)
}

/// Waits until the ledger lists `n` chunks while `child` still runs.
async fn wait_for_chunks(client: &mut SqlClient, child: &mut Child, n: i64) {
    let started = Instant::now();
    while ledger_rows(client).await < n {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "load made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "load finished before it could be interrupted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `bptmig status --json` of `pipeline`, which must succeed.
fn status_json(pipeline: &Path) -> serde_json::Value {
    let out = bptmig("status", pipeline, None)
        .arg("--json")
        .output()
        .unwrap();
    ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rows of the moved tables in the target (the ID block is the run's own).
async fn moved_rows(client: &mut SqlClient, baseline: &[Vec<String>]) -> i64 {
    let now = content(client).await;
    now.iter()
        .zip(baseline)
        .map(|(a, b)| a.len() as i64 - b.len() as i64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_chunk_or_sigint_then_rerun_equals_an_uninterrupted_load() {
    let spec = EnvSpec {
        processes: 30,
        ..EnvSpec::default()
    };
    // Uninterrupted.
    let Pair { prod, qa: qa_clean } = Pair::start(&spec).await.unwrap();
    let (_clean_dir, clean) = prepared(&prod, &qa_clean);
    ok(&bptmig("load", &clean, None).output().unwrap());
    let expected = content(&mut qa_clean.connect().await.unwrap()).await;

    // SIGKILL while a chunk's transaction is open.
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let mut q = qa.connect().await.unwrap();
    let baseline = content(&mut q).await;
    let (_dir, pipeline) = prepared(&prod, &qa);
    let mut child = bptmig("load", &pipeline, Some(300)).spawn().unwrap();
    wait_for_chunks(&mut q, &mut child, 2).await;
    child.kill().unwrap();
    child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ledgered = sql::scalar_i64(&mut q, "SELECT SUM(ROWS_LOADED) FROM BPTMIG_LEDGER")
        .await
        .unwrap();
    assert_eq!(
        moved_rows(&mut q, &baseline).await,
        ledgered,
        "nothing of the killed chunk stays"
    );
    assert!(ledgered > 0);
    ok(&bptmig("load", &pipeline, None).output().unwrap());
    assert_eq!(content(&mut q).await, expected);
    ok(&bptmig("verify", &pipeline, None).output().unwrap());

    // SIGINT: the chunk in flight finishes, the process exits 130, a rerun completes.
    let qa_int = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let mut qi = qa_int.connect().await.unwrap();
    let (int_dir, int_pipeline) = prepared(&prod, &qa_int);
    let mut child = bptmig("load", &int_pipeline, Some(200)).spawn().unwrap();
    wait_for_chunks(&mut qi, &mut child, 1).await;
    common::interrupt(child, &int_dir.path().join("work"));
    ok(&bptmig("load", &int_pipeline, None).output().unwrap());
    assert_eq!(content(&mut qi).await, expected);

    // `check` after a finished run: nothing blocks.
    let out = bptmig("check", &int_pipeline, None).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for row in [
        "source connection",
        "target connection",
        "source queue OSSYS_BPM_EVENT_QUEUE empty",
        "target queue OSSYS_BPM_EVENT empty",
        "identity in target OSSYS_BPM_ACTIVITY",
        "work directory",
        "nothing blocks a run",
    ] {
        assert!(text.contains(row), "{row}:\n{text}");
    }
    assert!(!text.contains(DEFAULT_PASSWORD), "{text}");

    // `status --json`: the documented schema, every chunk done.
    let status = status_json(&int_pipeline);
    assert_eq!(status["schema"], 1);
    assert!(status["run_id"].is_string());
    let stages: Vec<&str> = status["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["extract", "transform", "load", "verify"]);
    let load = &status["stages"][2];
    assert_eq!(load["state"], "done");
    assert_eq!(load["error"], serde_json::Value::Null);
    let tables = load["tables"].as_array().unwrap();
    assert_eq!(tables.len(), HISTORY_TABLES.len());
    for t in tables {
        for key in [
            "table",
            "done",
            "pending",
            "rows_done",
            "rows_pending",
            "complete",
        ] {
            assert!(t.get(key).is_some(), "{key} in {t}");
        }
        assert_eq!(t["pending"], 0, "{t}");
        assert_eq!(t["complete"], true, "{t}");
    }
    assert!(
        status["stages"][0]["tables"][0]["rows_done"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn status_of_a_new_work_directory_is_all_pending() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    let nowhere = "server=tcp:127.0.0.1,1;user=sa;password=${BPTMIG_IT_PW}";
    Pipeline::new(nowhere, nowhere).write(&path).unwrap();
    let status = status_json(&path);
    assert_eq!(status["run_id"], serde_json::Value::Null);
    for s in status["stages"].as_array().unwrap() {
        assert_eq!(s["state"], "pending", "{s}");
    }
    // Nothing listens on port 1: `check` says so per side and exits 1.
    let out = bptmig("check", &path, None).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("source connection"), "{text}");
    assert!(text.contains("BLOCK"), "{text}");
    assert!(text.contains("check(s) block a run"), "{text}");
}
