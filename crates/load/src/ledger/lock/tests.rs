//! The target lock against a sandbox server (which has no `sp_getapplock`: the lock row alone).

use std::path::Path;

use bptmig_sandbox::testing::Pipeline;
use bptmig_sandbox::{sql, EnvKind, EnvSpec, Environment};

use super::*;

const LOCK: &str = "BPTMIG_LOCK";

/// A qa server and a pipeline into it.
async fn target() -> (Environment, PipelineConfig, tempfile::TempDir) {
    let spec = EnvSpec {
        processes: 1,
        ..EnvSpec::default()
    };
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conn = qa
        .server
        .connection_template(bptmig_sandbox::testing::PASSWORD_VAR);
    let config = Pipeline::new(conn.clone(), conn)
        .config(&dir.path().join("p.toml"))
        .unwrap();
    (qa, config, dir)
}

async fn take(
    qa: &Environment,
    config: &PipelineConfig,
    run: &str,
) -> (SqlClient, Result<TargetLock>) {
    let mut client = qa.connect().await.unwrap();
    let lock = TargetLock::acquire(
        &mut client,
        config,
        run,
        Path::new("/work/dir"),
        LockAction::Load,
    )
    .await;
    (client, lock)
}

/// Makes the lock row look abandoned: last heard from in 2000.
async fn age(client: &mut SqlClient) {
    sql::execute(
        client,
        &format!("UPDATE {LOCK} SET HEARTBEAT = CAST('2000-01-01T00:00:00' AS DATETIME)"),
    )
    .await
    .unwrap();
}

/// Whether `lock` is still its holder's, as a chunk's transaction asks.
async fn holds(client: &mut SqlClient, lock: &TargetLock) -> bool {
    let (_, held) = lock.hold_statements();
    crate::target::scalar_batch(client, &held).await.unwrap() == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_holder_at_a_time_and_the_refusal_names_it() {
    let (qa, config, _dir) = target().await;
    let (mut a_client, a) = take(&qa, &config, "run-a").await;
    let a = a.unwrap();
    assert!(holds(&mut a_client, &a).await);

    let (_, b) = take(&qa, &config, "run-b").await;
    let err = b.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::TargetBusy { .. }), "{text}");
    assert!(
        text.contains(&format!(
            "run run-a from host {} is loading into this target",
            host_name()
        )),
        "{text}"
    );
    assert!(text.contains("work directory `/work/dir`"), "{text}");

    a.release(&config.target).await;
    let (mut b_client, b) = take(&qa, &config, "run-b").await;
    let b = b.unwrap();
    assert!(holds(&mut b_client, &b).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_own_row_and_a_stale_row_are_taken_over_and_the_old_holder_stops() {
    let (qa, config, _dir) = target().await;
    let (mut a_client, a) = take(&qa, &config, "run-a").await;
    let a = a.unwrap();
    // The same run again (its earlier process is gone: the work directory's lock says so).
    let (_, again) = take(&qa, &config, "run-a").await;
    let again = again.unwrap();
    assert!(!holds(&mut a_client, &a).await, "the old process lost it");
    assert!(holds(&mut a_client, &again).await);

    // Another run waits while the holder is heard from, and takes over once it is silent.
    let (_, b) = take(&qa, &config, "run-b").await;
    assert!(matches!(b, Err(Error::TargetBusy { .. })));
    age(&mut a_client).await;
    let (mut b_client, b) = take(&qa, &config, "run-b").await;
    let b = b.unwrap();
    assert!(holds(&mut b_client, &b).await);
    assert!(!holds(&mut a_client, &again).await);
    let lost = again.lost(&mut a_client).await.to_string();
    assert!(
        lost.contains("lost the target's lock: run run-b from host"),
        "{lost}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_takers_of_a_stale_lock_never_both_get_it() {
    let (qa, config, _dir) = target().await;
    let (mut admin, first) = take(&qa, &config, "run-0").await;
    drop(first.unwrap());
    for round in 0..20 {
        age(&mut admin).await;
        let (x, y) = (format!("run-x{round}"), format!("run-y{round}"));
        let ((mut cx, lx), (mut cy, ly)) =
            tokio::join!(take(&qa, &config, &x), take(&qa, &config, &y));
        let mut winners = 0;
        for (client, lock) in [(&mut cx, lx), (&mut cy, ly)] {
            match lock {
                Ok(lock) => {
                    winners += 1;
                    assert!(holds(client, &lock).await, "round {round}");
                }
                Err(e) => assert!(matches!(e, Error::TargetBusy { .. }), "round {round}: {e}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        let rows = sql::scalar_i64(&mut admin, &format!("SELECT COUNT(*) FROM {LOCK}"))
            .await
            .unwrap();
        assert_eq!(rows, 1, "round {round}");
    }
}

#[test]
fn the_sandboxs_missing_procedure_is_told_from_other_failures() {
    assert!(missing_procedure(
        2812,
        "Could not find stored procedure 'sp_getapplock'."
    ));
    assert!(missing_procedure(
        208,
        "Invalid object name 'procedure 'dbo.sp_getapplock''."
    ));
    assert!(!missing_procedure(208, "Invalid object name 'X'."));
    assert!(!missing_procedure(229, "permission denied"));
}
