//! `bptmig check` against sandbox servers: rows inside the run's ID block block (as the load
//! refuses them), a server that does not answer in time is "could not tell" and never blocks,
//! and two checks at once answer alike.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use bptmig_db::{Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_sandbox::testing::{FaultProxy, Pair, Pipeline, ProxyFault, ProxyPlan, PASSWORD_VAR};
use bptmig_sandbox::EnvSpec;

use crate::common;

/// Policies that let every tree of the sandbox through.
const LENIENT: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
                       unmapped_definition = \"skip-tree\"\n[load]\nstrategy = \"insert\"\n";

fn bptmig(command: &str, pipeline: &Path) -> Output {
    common::bptmig([command, "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The line of check `name` in `check`'s output.
fn check_line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with("  "))
        .unwrap_or_else(|| panic!("no line `{name}`:\n{text}"))
}

/// `check` of `pipeline`, expecting exit code `code`; its stdout.
fn check(pipeline: &Path, code: i32) -> String {
    let o = bptmig("check", pipeline);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    text
}

fn lenient_pipeline(dir: &Path, pair: &Pair) -> PathBuf {
    let path = dir.join("pipeline.toml");
    pair.pipeline().extra(LENIENT).write(&path).unwrap();
    path
}

/// Adds a row to the target's `OSSYS_BPM_PROCESS` at ID `id`, a copy of row `from`: what the
/// target's own applications do between an extract and a load.
async fn add_process(client: &mut SqlClient, id: i64, from: i64) {
    let columns: Vec<String> = bptmig_db::table_columns(client, Side::Target, c::PROCESS)
        .await
        .unwrap()
        .into_iter()
        .map(|col| col.name)
        .filter(|n| n != c::ID)
        .collect();
    let list = columns.join(", ");
    let sql = format!(
        "SET IDENTITY_INSERT {t} ON; \
         INSERT INTO {t} ({id_col}, {list}) SELECT {id}, {list} FROM {t} WHERE {id_col} = {from}; \
         SET IDENTITY_INSERT {t} OFF",
        t = c::PROCESS,
        id_col = c::ID,
    );
    bptmig_db::execute(client, Side::Target, &sql)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_the_target_gained_inside_the_id_block_block_check_as_they_block_the_load() {
    let spec = EnvSpec {
        processes: 30,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    let config = pair.pipeline().extra(LENIENT).config(&pipeline).unwrap();
    let mut qa = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    let process_line = format!("ID block in target {}", c::PROCESS);

    // No extract yet: the block will start above the target's highest ID; no line.
    let text = check(&pipeline, 0);
    assert!(!text.contains("ID block"), "{text}");

    let o = common::bptmig([
        "--quiet",
        "extract",
        "--pipeline",
        pipeline.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = check(&pipeline, 0);
    let free = check_line(&text, &process_line);
    assert!(free.contains(" ok ") && free.contains("free"), "{free}");

    // The target gains a process right above its highest ID: inside the block.
    let max = bptmig_db::max_id(&mut qa, Side::Target, c::PROCESS)
        .await
        .unwrap()
        .unwrap();
    add_process(&mut qa, max + 1, max).await;
    let text = check(&pipeline, 1);
    let taken = check_line(&text, &process_line);
    assert!(
        taken.contains("BLOCK")
            && taken.contains("the block the transform will reserve")
            && taken.contains(&format!("IDs {}..=", max + 1))
            && taken.contains(&format!("the first at ID {}", max + 1)),
        "{taken}"
    );

    // After the transform the block is the one the load writes, and still taken.
    let o = bptmig("transform", &pipeline);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let text = check(&pipeline, 1);
    let taken = check_line(&text, &process_line);
    assert!(
        taken.contains("BLOCK")
            && taken.contains("the block this run reserved")
            && taken.contains(&format!("the first at ID {}", max + 1)),
        "{taken}"
    );

    // The load refuses for the same reason, and writes nothing.
    let before = bptmig_db::row_count(&mut qa, Side::Target, c::ACTIVITY)
        .await
        .unwrap();
    let o = bptmig("load", &pipeline);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("in the block this run reserved"), "{err}");
    assert_eq!(
        bptmig_db::row_count(&mut qa, Side::Target, c::ACTIVITY)
            .await
            .unwrap(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_does_not_answer_in_time_is_could_not_tell_never_block() {
    let pair = Pair::start(&EnvSpec::default()).await.unwrap();
    let proxy = FaultProxy::start(pair.prod.server.port(), ProxyPlan::pass()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline.toml");
    let text = Pipeline::new(
        proxy.connection_template(PASSWORD_VAR),
        pair.qa.server.connection_template(PASSWORD_VAR),
    )
    .extra(LENIENT)
    .text()
    .replacen("[target]", "command_timeout_secs = 1\n[target]", 1);
    std::fs::write(&path, &text).unwrap();

    // What a session's set-up takes from the server: after that, the proxy holds every
    // answer back longer than the source's command timeout.
    let config =
        bptmig_model::PipelineConfig::parse(&text, &path, &bptmig_sandbox::testing::password_env)
            .unwrap();
    drop(
        bptmig_db::connect(Side::Source, &config.source)
            .await
            .unwrap(),
    );
    // The proxy counts a chunk just after passing it on: let the count settle.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let set_up = proxy.bytes_from_server()[0];
    proxy.set_plan(ProxyPlan::every(ProxyFault::Stall {
        after_bytes: set_up,
        duration: std::time::Duration::from_secs(20),
    }));

    let text = check(&path, 0);
    let queue = check_line(&text, "source queue OSSYS_BPM_EVENT_QUEUE empty");
    assert!(
        queue.contains(" warn ")
            && queue.contains("could not tell")
            && queue.contains("`source.command_timeout_secs = 1`"),
        "{queue}"
    );
    // The source's later checks are skipped, not waited for; none blocks.
    assert!(
        check_line(&text, "selection").contains("could not tell: skipped"),
        "{text}"
    );
    assert!(!text.contains("BLOCK"), "{text}");
    assert!(text.contains("could not tell (`warn`)"), "{text}");
    // The target's checks do not depend on the source.
    assert!(
        check_line(&text, "target queue OSSYS_BPM_EVENT_QUEUE empty").contains(" ok "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checks_at_once_answer_alike() {
    let pair = Pair::start(&EnvSpec::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = lenient_pipeline(dir.path(), &pair);
    let alone = check(&pipeline, 0);
    for round in 0..3 {
        let start = || {
            common::bptmig(["check", "--pipeline", pipeline.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (start(), start());
        for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            assert_eq!(
                o.status.code(),
                Some(0),
                "round {round}: {}{}",
                stdout(&o),
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(stdout(&o), alone, "round {round}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_the_target_already_received_are_counted_before_a_second_run() {
    let spec = EnvSpec {
        processes: 20,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = "trees already in the target";
    let first = dir.path().join("first.toml");
    pair.pipeline()
        .workdir(dir.path().join("w1"))
        .extra(LENIENT)
        .write(&first)
        .unwrap();
    let text = check(&first, 0);
    let none = check_line(&text, name);
    assert!(
        none.contains(" ok ") && none.contains("none of the"),
        "{none}"
    );
    let o = bptmig("run", &first);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");

    // The same source and target from a new work directory: every moved tree is counted.
    let skip = dir.path().join("skip.toml");
    pair.pipeline()
        .workdir(dir.path().join("w2"))
        .extra(LENIENT)
        .write(&skip)
        .unwrap();
    let text = check(&skip, 0);
    let counted = check_line(&text, name);
    assert!(
        counted.contains("note")
            && counted.contains("were moved there by run")
            && counted.contains("will leave them out"),
        "{counted}"
    );
    let fail = dir.path().join("fail.toml");
    pair.pipeline()
        .workdir(dir.path().join("w3"))
        .extra(&format!("[selection]\nalready_moved = \"fail\"\n{LENIENT}"))
        .write(&fail)
        .unwrap();
    let text = check(&fail, 1);
    assert!(check_line(&text, name).contains("BLOCK"), "{text}");
}
