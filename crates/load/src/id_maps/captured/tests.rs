#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;

use bptmig_model::catalog as c;
use bptmig_workdir::WorkDir;

use super::{CapturedPairs, TablePairs};
use crate::id_maps::tests::plan_of;
use crate::ledger::{Done, LedgerRow};

fn captured(table: &str, pairs: &[(i32, i32)]) -> (CapturedPairs, Vec<String>) {
    CapturedPairs::new(
        "BPTMIG_PAIRS",
        BTreeMap::from([(table.to_owned(), pairs.to_vec())]),
    )
}

fn done(plan: &crate::plan::LoadPlan, loaded: &[usize]) -> Done {
    loaded
        .iter()
        .map(|&i| {
            let ch = &plan.chunks[i];
            let t = &plan.tables[ch.table].name;
            let row = LedgerRow {
                table: t.clone(),
                chunk: ch.name(),
                rows: ch.ranges.iter().map(|r| i64::from(r.1 - r.0 + 1)).sum(),
                digest: String::new(),
            };
            ((t.clone(), ch.name()), row)
        })
        .collect()
}

#[test]
fn pairs_are_looked_up_whatever_their_order_and_density() {
    // Generated IDs: neither dense nor in the order of the old ones.
    let (p, problems) = captured(c::PROCESS, &[(7, 1003), (3, 1010), (5, 998), (4, 2000)]);
    assert!(problems.is_empty(), "{problems:?}");
    let t = p.table(c::PROCESS).unwrap();
    assert_eq!(t.pairs(), [(3, 1010), (4, 2000), (5, 998), (7, 1003)]);
    assert_eq!(t.new_of(5), Some(998));
    assert_eq!(t.new_of(6), None);
    assert_eq!(
        t.new_ranges(&[(3, 5), (7, 7)]),
        [(998, 998), (1003, 1003), (1010, 1010), (2000, 2000)]
    );
    assert_eq!(t.new_ranges(&[(4, 4)]), [(2000, 2000)]);
    assert!(t.new_ranges(&[(100, 200)]).is_empty());
    assert_eq!(p.counts(), BTreeMap::from([(c::PROCESS.to_owned(), 4)]));
    let (dense, _) = captured(c::PROCESS, &[(1, 11), (2, 12), (3, 13), (9, 14)]);
    let t = dense.table(c::PROCESS).unwrap();
    assert_eq!(t.new_ranges(&[(1, 3), (9, 9)]), [(11, 14)]);
}

#[test]
fn an_id_paired_twice_is_named_and_found_through_neither_pair() {
    let (p, problems) = captured(
        c::ACTIVITY,
        &[(1, 10), (2, 10), (3, 30), (4, 40), (4, 41), (3, 30)],
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("`OSSYS_BPM_ACTIVITY`")
            && problems[0].contains("`BPTMIG_PAIRS`")
            && problems[0].contains("more than one target row: 4 → 40 and 41"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("more than one source row: 10 → 1 and 2"),
        "{}",
        problems[1]
    );
    let t: &TablePairs = p.table(c::ACTIVITY).unwrap();
    assert_eq!(t.pairs(), [(3, 30)]);
    assert_eq!(t.new_of(4), None);
}

#[test]
fn loaded_chunks_need_a_pair_for_every_row_and_pairs_need_a_planned_row() {
    let tmp = tempfile::tempdir().unwrap();
    let wd = WorkDir::new(tmp.path());
    let plan = plan_of(&wd, c::PROCESS, &[vec![(1, 3)], vec![(5, 6)], vec![(8, 9)]]);
    // Chunk 0 complete, chunk 1 lacks row 6, chunk 2 not loaded (no pairs needed).
    let (p, _) = captured(c::PROCESS, &[(1, 101), (2, 102), (3, 103), (5, 105)]);
    let problems = p.check_chunks(&plan, &done(&plan, &[0, 1]));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("1 loaded chunk(s) have not one pair per row")
            && problems[0]
                .contains("`00000-0001` (2 row(s) loaded, 1 paired, first unpaired source row 6)"),
        "{}",
        problems[0]
    );
    assert!(p.check_chunks(&plan, &done(&plan, &[0])).is_empty());

    // A pair of a row no chunk holds.
    let (p, _) = captured(c::PROCESS, &[(1, 101), (2, 102), (3, 103), (4, 104)]);
    let problems = p.check_chunks(&plan, &done(&plan, &[0]));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("1 pair(s) of this run"),
        "{}",
        problems[0]
    );

    // No pairs at all for a loaded chunk.
    let (p, _) = CapturedPairs::new("P", BTreeMap::new());
    let problems = p.check_chunks(&plan, &done(&plan, &[2]));
    assert!(
        problems[0]
            .contains("`00000-0002` (2 row(s) loaded, 0 paired, first unpaired source row 8)"),
        "{problems:?}"
    );
    assert_eq!(p.chunk_ranges(&plan, &plan.chunks[2]), []);

    // Rollback plans every tree: a chunk may hold rows of trees the load left out, which
    // have no pairs; the ledger's count of the rows loaded decides.
    let (p, _) = captured(c::PROCESS, &[(5, 105)]);
    let mut fewer = done(&plan, &[1]);
    for row in fewer.values_mut() {
        row.rows = 1;
    }
    assert!(p.check_chunks(&plan, &fewer).is_empty());
    for row in fewer.values_mut() {
        row.rows = 3;
    }
    let problems = p.check_chunks(&plan, &fewer);
    assert!(
        problems[0].contains("`00000-0001` (3 row(s) loaded, 1 paired)"),
        "{problems:?}"
    );
}
