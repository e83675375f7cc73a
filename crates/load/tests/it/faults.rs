//! A load through a fault-injecting proxy: one cut connection is survived (a new connection,
//! the chunk tried again) and ends as an uninterrupted load does; with no retries left the
//! load stops saying what failed and to run it again, and the rerun completes.

use std::time::Duration;

use bptmig_load::LoadOptions;
use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_sandbox::testing::{FaultProxy, Pipeline, ProxyFault, ProxyPlan, PASSWORD_VAR};
use bptmig_sandbox::SqlClient;

use crate::support::{count, extract_transform, history, load_until_ledgered, Runs};

const LEDGER: &str = "SELECT COUNT(*) FROM BPTMIG_LEDGER";

/// Loads `config` (whose target is behind `proxy`), cutting the load's connection once its
/// ledger lists two chunks: at the next answer the server sends it.
async fn load_with_a_cut(
    config: &PipelineConfig,
    proxy: &FaultProxy,
    qa: &mut SqlClient,
) -> bptmig_load::Result<bptmig_load::LoadSummary> {
    let earlier = proxy.bytes_from_server().len();
    let options = LoadOptions {
        chunk_pause: Some(Duration::from_millis(100)),
        ..LoadOptions::default()
    };
    let load = load_until_ledgered(config, options, qa, 2).await;
    // The load's connections are the ones accepted since it started; the busiest is its own.
    let bytes = proxy.bytes_from_server();
    let busiest = bytes[earlier..].iter().copied().max().unwrap();
    proxy.set_plan(ProxyPlan::once(ProxyFault::Cut {
        after_bytes: busiest + 1,
    }));
    let result = load.await.unwrap();
    assert_eq!(proxy.faults(), 1, "one connection was cut");
    proxy.set_plan(ProxyPlan::pass());
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_is_survived_and_spent_retries_say_to_run_again() {
    let runs = Runs::start(40).await;
    let proxy = FaultProxy::start(runs.pair.qa.server.port(), ProxyPlan::pass()).unwrap();
    let pipeline = Pipeline::new(
        runs.pair.prod.server.connection_template(PASSWORD_VAR),
        proxy.connection_template(PASSWORD_VAR),
    );
    let config = runs.config_of(
        pipeline,
        "cut",
        "retries = 3\nretry_delay_secs = 0\n",
        "[load]\nchunk_rows = 40\nbatch_rows = 20\n",
    );
    extract_transform(&config).await;
    let mut qa = runs.qa().await;

    // Through one cut: the load completes by itself.
    let summary = load_with_a_cut(&config, &proxy, &mut qa).await.unwrap();
    assert_eq!(summary.chunks_loaded, summary.chunks);
    assert_eq!(count(&mut qa, LEDGER).await as usize, summary.chunks);
    let cut = history(&mut qa).await;
    let verified = bptmig_load::verify(&config, &NoProgress).await.unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);

    // The same rows as an uninterrupted load.
    bptmig_load::rollback(&config, &NoProgress).await.unwrap();
    bptmig_load::load(&config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(history(&mut qa).await, cut);

    // No retries: the load stops, says what and where, and to run it again.
    bptmig_load::rollback(&config, &NoProgress).await.unwrap();
    let mut once = config.clone();
    once.target.retries = 0;
    let err = load_with_a_cut(&once, &proxy, &mut qa).await.unwrap_err();
    let text = err.to_string();
    let bptmig_load::Error::ChunkRetriesSpent { done, .. } = &err else {
        panic!("{text}");
    };
    for needle in [
        "failed 1 time(s), the last time because the connection to the target was lost",
        "nothing of that chunk was kept",
        "run the same command again to continue",
    ] {
        assert!(text.contains(needle), "`{needle}` in: {text}");
    }
    assert!(!text.contains("fix the target"), "{text}");
    assert_eq!(count(&mut qa, LEDGER).await as usize, *done);
    let resumed = bptmig_load::load(&once, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(resumed.chunks_skipped, *done);
    assert_eq!(history(&mut qa).await, cut);
}
