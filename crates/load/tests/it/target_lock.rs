//! Two loads into one target from different work directories: one loads, the other refuses
//! naming it; run again afterwards, the other finds every tree already moved.

use std::time::Duration;

use bptmig_load::LoadOptions;
use bptmig_model::catalog as c;
use bptmig_model::NoProgress;

use crate::support::{count, extract_transform, Runs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_loads_into_one_target_never_run_together() {
    let runs = Runs::start(30).await;
    let load = "[load]\nchunk_rows = 40\nbatch_rows = 20\n";
    let (a, b) = (runs.config("a", "", load), runs.config("b", "", load));
    extract_transform(&a).await;
    extract_transform(&b).await;
    let mut qa = runs.qa().await;
    let processes = format!("SELECT COUNT(*) FROM {}", c::PROCESS);
    let before = count(&mut qa, &processes).await;

    let slow = LoadOptions {
        chunk_pause: Some(Duration::from_millis(150)),
        ..LoadOptions::default()
    };
    let (ra, rb) = tokio::join!(
        bptmig_load::load(&a, &NoProgress, &slow),
        bptmig_load::load(&b, &NoProgress, &slow)
    );
    let (done, refused, loser) = match (ra, rb) {
        (Ok(s), Err(e)) => (s, e, &b),
        (Err(e), Ok(s)) => (s, e, &a),
        (ra, rb) => panic!("exactly one load runs: {ra:?} / {rb:?}"),
    };
    let text = refused.to_string();
    assert!(
        matches!(refused, bptmig_load::Error::TargetBusy { .. }),
        "{text}"
    );
    assert!(
        text.contains(&format!("run {} from host ", done.run_id))
            && text.contains("is loading into this target"),
        "{text}"
    );
    assert_eq!(
        count(&mut qa, "SELECT COUNT(*) FROM BPTMIG_LOCK").await,
        0,
        "released"
    );

    // The other, run again: every tree is already there.
    let moved = count(&mut qa, &processes).await;
    let again = bptmig_load::load(loser, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(again.chunks_loaded, 0);
    assert!(!again.already_moved.is_empty());
    assert_eq!(count(&mut qa, &processes).await, moved);
    assert!(moved > before);
}
