//! Broken trees in the source (the sandbox's platform shapes: one of each kind): refused
//! whole under `broken_tree = "fail"`, left out whole under `"skip"`, and counted only when
//! the selection asks for them.

use std::collections::BTreeSet;

use bptmig_model::catalog as c;
use bptmig_sandbox::shapes::BrokenKind;
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::broken_trees::{self, Reason};
use bptmig_workdir::WorkDir;

use crate::{ids, read_table, setup, Setup};

fn shapes() -> EnvSpec {
    EnvSpec {
        processes: 30,
        platform_shapes: true,
        ..EnvSpec::default()
    }
}

/// Every broken tree's processes, as the generator made them.
fn broken_processes(test: &Setup) -> BTreeSet<i32> {
    test.prod
        .data
        .shapes
        .broken
        .iter()
        .flat_map(|b| b.processes.iter().map(|&id| id as i32))
        .collect()
}

/// The listed trees' processes, by the kind the generator gave each.
fn listed_kinds(test: &Setup) -> Vec<(Reason, Vec<i32>)> {
    let wd = WorkDir::new(&test.config.workdir);
    broken_trees::trees(&wd)
        .unwrap()
        .into_iter()
        .map(|t| (t.reason, t.processes))
        .collect()
}

fn expected_kinds(test: &Setup) -> Vec<(Reason, Vec<i32>)> {
    let reason = |kind| match kind {
        BrokenKind::MissingParent => Reason::MissingParent,
        BrokenKind::MissingTop => Reason::MissingTop,
        BrokenKind::TopDisagrees => Reason::TopDisagrees,
        BrokenKind::Cycle => Reason::Cycle,
    };
    let mut kinds: Vec<(Reason, Vec<i32>)> = test
        .prod
        .data
        .shapes
        .broken
        .iter()
        .map(|b| {
            let mut p: Vec<i32> = b.processes.iter().map(|&id| id as i32).collect();
            p.sort_unstable();
            (reason(b.kind), p)
        })
        .collect();
    kinds.sort_by_key(|(_, p)| p[0]);
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_fail_the_extract_refuses_naming_each_broken_tree_and_extracts_nothing() {
    let test = setup(&shapes(), "").await;
    assert_eq!(test.prod.data.shapes.broken.len(), 4);
    let err = crate::extract(&test.config).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, bptmig_extract::Error::BrokenTrees(_)),
        "{text}"
    );
    assert!(text.contains("4 broken process tree(s)"), "{text}");
    assert!(text.contains("`broken_tree = \"skip\"`"), "{text}");
    for id in broken_processes(&test) {
        assert!(
            text.contains(&format!("`{id}`")),
            "`{id}` not named: {text}"
        );
    }
    for code in ["missing_parent", "missing_top", "top_disagrees", "cycle"] {
        assert!(text.contains(code), "{code}: {text}");
    }
    assert_eq!(listed_kinds(&test), expected_kinds(&test));
    let extract = test.config.workdir.join("extract");
    assert!(!extract.join("roots.parquet").exists());
    for table in c::INSTANCE_TABLES {
        assert!(!extract.join(table.name).exists(), "{}", table.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_skip_every_process_of_a_broken_tree_stays_behind_and_every_healthy_tree_moves() {
    let test = setup(&shapes(), "[selection]\nbroken_tree = \"skip\"\n").await;
    crate::extract(&test.config).await.unwrap();
    assert_eq!(listed_kinds(&test), expected_kinds(&test));
    let broken = broken_processes(&test);
    let extracted: BTreeSet<i32> = ids(&read_table(&test.config.workdir, c::PROCESS), c::ID)
        .into_iter()
        .flatten()
        .map(|id| id as i32)
        .collect();
    let all: BTreeSet<i32> = test
        .prod
        .data
        .rows(c::PROCESS)
        .iter()
        .filter_map(|r| r[c::ID].as_int())
        .map(|id| id as i32)
        .collect();
    assert!(extracted.is_disjoint(&broken));
    assert_eq!(
        extracted,
        all.difference(&broken).copied().collect::<BTreeSet<_>>()
    );
    // Nothing of a broken tree's processes came along either.
    let activities = read_table(&test.config.workdir, c::ACTIVITY);
    assert!(ids(&activities, c::PROCESS_ID)
        .into_iter()
        .flatten()
        .all(|p| !broken.contains(&(p as i32))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_broken_trees_the_selection_asks_for_count_and_names_match_whatever_their_case() {
    // The broken trees are all closed: a selection of active processes does not ask for them.
    let test = setup(&shapes(), "[selection]\nstatuses = [\"ACTIVE\"]\n").await;
    crate::extract(&test.config).await.unwrap();
    assert!(listed_kinds(&test).is_empty());
    // `closed` is the source's `Closed`: every broken tree is asked for, and refused.
    let test = setup(&shapes(), "[selection]\nstatuses = [\"closed\"]\n").await;
    let err = crate::extract(&test.config).await.unwrap_err();
    assert!(
        matches!(err, bptmig_extract::Error::BrokenTrees(_)),
        "{err}"
    );
    assert_eq!(listed_kinds(&test), expected_kinds(&test));
}
