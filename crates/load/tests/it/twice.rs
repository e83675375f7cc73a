//! The double-migration test: the same history from the same source into the same target is
//! moved once, whatever work directory a later run starts from.

use bptmig_load::{LoadOptions, SourceRoot};
use bptmig_model::catalog as c;
use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_sandbox::{sql, SqlClient};

use crate::support::{count, extract_transform, history, report, Runs};

const TREES: &str = "SELECT COUNT(*) FROM BPTMIG_TREES";

async fn load(config: &PipelineConfig) -> bptmig_load::Result<bptmig_load::LoadSummary> {
    bptmig_load::load(config, &NoProgress, &LoadOptions::default()).await
}

/// The top-level processes of prod, as `check` would read them.
async fn prod_roots(prod: &mut SqlClient) -> Vec<SourceRoot> {
    let rows = prod
        .simple_query(format!(
            "SELECT ID, CONVERT(VARCHAR(33), {}, 126) FROM {} WHERE {} IS NULL",
            c::LAST_MODIFIED,
            c::PROCESS,
            c::PARENT_PROCESS_ID
        ))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    rows.iter()
        .map(|r| SourceRoot {
            id: i32::try_from(bptmig_db::int_cell(r, 0).unwrap()).unwrap(),
            last_modified: bptmig_db::text_cell(r, 1),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_pipeline_in_a_new_workdir_moves_nothing_again() {
    let runs = Runs::start(40).await;
    let one = runs.config("one", "", "");
    extract_transform(&one).await;
    let first = load(&one).await.unwrap();
    assert!(first.already_moved.is_empty());
    let mut qa = runs.qa().await;
    let trees = count(&mut qa, TREES).await;
    assert!(trees > 10, "{trees} trees recorded");
    let unknown = "SELECT COUNT(*) FROM BPTMIG_TREES WHERE SOURCE_LAST_MODIFIED IS NULL";
    assert_eq!(count(&mut qa, unknown).await, 0);

    // One moved tree changed in prod since. (The sandbox cannot update a process that rows
    // reference, so its recorded `LAST_MODIFIED` goes back instead.)
    let mut prod = runs.pair.prod.connect().await.unwrap();
    let changed = count(&mut qa, "SELECT MIN(SOURCE_ROOT_ID) FROM BPTMIG_TREES").await;
    sql::execute(
        &mut qa,
        &format!(
            "UPDATE BPTMIG_TREES SET SOURCE_LAST_MODIFIED = CAST('2000-01-01T00:00:00' AS \
             DATETIME) WHERE SOURCE_ROOT_ID = {changed}"
        ),
    )
    .await
    .unwrap();
    let after_first = history(&mut qa).await;

    // `check` counts them before anything runs.
    let two = runs.config("two", "", "");
    let counted = bptmig_load::already_moved(&two, &prod_roots(&mut prod).await)
        .await
        .unwrap();
    assert_eq!(counted.trees as i64, trees);
    assert_eq!(counted.changed_since, 1);
    assert_eq!(counted.runs, std::slice::from_ref(&first.run_id));

    // The same pipeline in a new work directory: nothing moves, the report lists the trees.
    extract_transform(&two).await;
    let second = load(&two).await.unwrap();
    assert_eq!(second.chunks_loaded, 0, "{second:?}");
    assert_eq!(second.already_moved.len() as i64, trees);
    assert_eq!(second.already_moved.changed_since(), 1);
    assert_eq!(history(&mut qa).await, after_first, "qa unchanged");
    assert_eq!(count(&mut qa, TREES).await, trees);
    let listed = &report(&runs.workdir("two"))["load"]["already_moved"];
    assert_eq!(listed["policy"], "skip");
    assert_eq!(listed["trees"], trees);
    assert_eq!(listed["changed_since"], 1);
    assert_eq!(listed["runs"][0], first.run_id.as_str());
    assert_eq!(listed["first"][0]["source_root_id"], changed);
    assert_eq!(listed["first"][0]["changed_since"], true);
    let verified = bptmig_load::verify(&two, &NoProgress).await.unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);

    // With `fail`, a clear refusal.
    let three = runs.config("three", "", "[selection]\nalready_moved = \"fail\"\n");
    extract_transform(&three).await;
    let err = load(&three).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, bptmig_load::Error::AlreadyMoved { .. }),
        "{text}"
    );
    for needle in [
        format!("{trees} tree(s) of this selection are already in the target"),
        format!("run(s) {} moved them there", first.run_id),
        format!("source root IDs {changed}, "),
        "1 of them changed in the source since".to_owned(),
        "set it to \"skip\"".to_owned(),
    ] {
        assert!(text.contains(&needle), "`{needle}` in: {text}");
    }
    assert_eq!(history(&mut qa).await, after_first, "qa unchanged");

    // Rollback forgets the trees with the rows.
    bptmig_load::rollback(&one, &NoProgress).await.unwrap();
    assert_eq!(count(&mut qa, TREES).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wider_second_run_moves_only_the_trees_the_first_did_not() {
    let runs = Runs::start(40).await;
    let mut qa = runs.qa().await;
    let processes = format!("SELECT COUNT(*) FROM {}", c::PROCESS);
    let before = count(&mut qa, &processes).await;

    let closed = runs.config("closed", "", "[selection]\nstatuses = [\"Closed\"]\n");
    extract_transform(&closed).await;
    load(&closed).await.unwrap();
    let first_trees = count(&mut qa, TREES).await;
    assert!(first_trees > 0);

    let all = runs.config("all", "", "[load]\nchunk_rows = 30\nbatch_rows = 10\n");
    extract_transform(&all).await;
    let second = load(&all).await.unwrap();
    assert_eq!(second.already_moved.len() as i64, first_trees);
    assert!(second.chunks_loaded > 0);
    let all_trees = count(&mut qa, TREES).await;
    assert!(all_trees > first_trees);
    let distinct = count(
        &mut qa,
        "SELECT COUNT(*) FROM (SELECT DISTINCT SOURCE_ROOT_ID FROM BPTMIG_TREES) t",
    )
    .await;
    assert_eq!(distinct, all_trees, "each tree once");

    // Every process of the wider run's trees is in qa once: the ones of the first run from
    // the first, the rest from the second.
    let processes_of_second = second
        .tables
        .iter()
        .find(|t| t.table == c::PROCESS)
        .unwrap();
    let (planned, loaded) = (processes_of_second.rows, processes_of_second.loaded);
    assert!(loaded < planned, "{loaded} of {planned}");
    assert_eq!(count(&mut qa, &processes).await - before, planned as i64);
    for config in [&closed, &all] {
        let verified = bptmig_load::verify(config, &NoProgress).await.unwrap();
        assert!(verified.ok(), "{:?}", verified.problems);
    }

    // A resumed load of the wider run changes nothing.
    let again = load(&all).await.unwrap();
    assert_eq!(again.chunks_loaded, 0);
    assert_eq!(again.chunks_skipped, second.chunks_loaded);
}
