use super::*;

/// `(id, parent, top, parent activity)`.
type Row = (i32, Option<i32>, Option<i32>, Option<i32>);

fn keys(rows: &[Row]) -> Vec<ProcessKeys> {
    rows.iter()
        .map(|&(id, parent, top, parent_activity)| ProcessKeys {
            id,
            parent,
            top,
            parent_activity,
        })
        .collect()
}

/// Activity → process.
fn acts(pairs: &[(i32, i32)]) -> HashMap<i32, Option<i32>> {
    pairs.iter().map(|&(a, p)| (a, Some(p))).collect()
}

/// A healthy tree: 1 → 2 (through activity 10) → 3 (through activity 20).
const HEALTHY: [Row; 3] = [
    (1, None, Some(1), None),
    (2, Some(1), Some(1), Some(10)),
    (3, Some(2), Some(1), Some(20)),
];
const HEALTHY_ACTS: [(i32, i32); 2] = [(10, 1), (20, 2)];

fn find(rows: &[Row], activities: &[(i32, i32)]) -> Vec<Found> {
    broken_trees(&keys(rows), &acts(activities))
}

/// The only broken tree found, beside the healthy tree (whose processes must not be in it).
fn only(rows: &[Row], activities: &[(i32, i32)]) -> Found {
    let mut all = HEALTHY.to_vec();
    all.extend_from_slice(rows);
    let mut pairs = HEALTHY_ACTS.to_vec();
    pairs.extend_from_slice(activities);
    let found = find(&all, &pairs);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

#[test]
fn healthy_trees_are_not_broken() {
    assert!(find(&HEALTHY, &HEALTHY_ACTS).is_empty());
    // Another healthy tree, a single root, beside it.
    let mut rows = HEALTHY.to_vec();
    rows.push((40, None, Some(40), None));
    assert!(find(&rows, &HEALTHY_ACTS).is_empty());
    assert!(find(&[], &[]).is_empty());
}

#[test]
fn a_missing_parent_breaks_the_tree_of_its_top() {
    // 50 → (51 gone) → 52, both naming 50 as top: the whole tree stays behind.
    let f = only(
        &[
            (50, None, Some(50), None),
            (52, Some(51), Some(50), None),
            (53, Some(52), Some(50), None),
        ],
        &[],
    );
    assert_eq!(f.tree.processes, [50, 52, 53]);
    assert_eq!(f.tree.reason, Reason::MissingParent);
    assert_eq!(f.tree.top, Some(50));
    assert_eq!(f.heads, [50, 52]);
    assert!(f.tree.detail.contains("`52`") && f.tree.detail.contains("`51`"));
}

#[test]
fn a_rootless_fragment_is_one_broken_tree() {
    // Root 60 purged; 61 and its child 62 remain, naming it as parent and top.
    let f = only(
        &[
            (61, Some(60), Some(60), None),
            (62, Some(61), Some(60), None),
        ],
        &[],
    );
    assert_eq!(f.tree.processes, [61, 62]);
    assert_eq!(f.tree.reason, Reason::MissingParent);
    assert_eq!(f.tree.top, None);
    assert_eq!(f.heads, [61]);
}

#[test]
fn a_missing_parent_activity_or_its_process_breaks_the_tree() {
    let f = only(
        &[
            (70, None, Some(70), None),
            (71, Some(70), Some(70), Some(700)),
        ],
        &[],
    );
    assert_eq!(f.tree.reason, Reason::MissingParentActivity);
    assert_eq!(f.tree.processes, [70, 71]);
    assert!(f.tree.detail.contains("`700`"), "{}", f.tree.detail);

    let f = only(
        &[
            (70, None, Some(70), None),
            (71, Some(70), Some(70), Some(700)),
        ],
        &[(700, 999)],
    );
    assert_eq!(f.tree.reason, Reason::MissingParentActivity);
    assert!(f.tree.detail.contains("`999`"), "{}", f.tree.detail);
}

#[test]
fn a_missing_or_null_top_breaks_the_tree() {
    let f = only(&[(80, None, None, None), (81, Some(80), None, None)], &[]);
    assert_eq!(f.tree.reason, Reason::MissingTop);
    assert_eq!(f.tree.processes, [80, 81]);
    assert_eq!(f.tree.top, Some(80));

    let f = only(
        &[(80, None, Some(80), None), (81, Some(80), Some(89), None)],
        &[],
    );
    assert_eq!(f.tree.reason, Reason::MissingTop);
    assert!(f.tree.detail.contains("`89`"), "{}", f.tree.detail);
}

#[test]
fn a_top_that_disagrees_with_the_parent_breaks_both_trees_it_joins() {
    // 91's parent is 90 (top 90), but 91 names 1, the healthy tree's root: both trees stay.
    let found = find(
        &[
            HEALTHY[0],
            HEALTHY[1],
            HEALTHY[2],
            (90, None, Some(90), None),
            (91, Some(90), Some(1), None),
        ],
        &HEALTHY_ACTS,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].tree.processes, [1, 2, 3, 90, 91]);
    assert_eq!(found[0].tree.reason, Reason::TopDisagrees);
    assert_eq!(found[0].tree.top, Some(1));
    assert_eq!(found[0].heads, [1, 90]);

    // A process with a parent but itself as top is a top-level process in the wrong place.
    let f = only(
        &[(95, None, Some(95), None), (96, Some(95), Some(96), None)],
        &[],
    );
    assert_eq!(f.tree.reason, Reason::TopDisagrees);
    assert_eq!(f.heads, [95, 96]);

    // No parent, and another process as top.
    let f = only(
        &[(97, None, Some(97), None), (98, None, Some(97), None)],
        &[],
    );
    assert_eq!(f.tree.reason, Reason::TopDisagrees);
    assert!(f.tree.detail.contains("not itself"), "{}", f.tree.detail);
}

#[test]
fn a_root_is_a_process_whose_top_is_itself() {
    // Roots without a parent and with `TOP_PROCESS_ID = ID`; a root that names another top
    // is not one.
    assert!(find(&[(5, None, Some(5), None)], &[]).is_empty());
    let f = find(&[(5, None, Some(6), None), (6, None, Some(6), None)], &[]);
    assert_eq!(f[0].tree.top, Some(6));
}

#[test]
fn parent_cycles_of_one_two_and_three_processes_are_broken() {
    for len in 1..=3 {
        let ids: Vec<i32> = (0..len).map(|i| 100 + i).collect();
        let rows: Vec<Row> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, Some(ids[(i + 1) % ids.len()]), Some(100), None))
            .collect();
        let f = only(&rows, &[]);
        assert_eq!(f.tree.reason, Reason::Cycle, "cycle of {len}");
        assert_eq!(f.tree.processes, ids);
        assert_eq!(f.heads, ids, "cycle of {len}");
        assert!(f.tree.detail.contains("`100`"), "{}", f.tree.detail);
    }
    let f = only(&[(100, Some(100), Some(100), None)], &[]);
    assert_eq!(f.tree.detail, "process `100` is its own parent process");
    let f = only(
        &[
            (100, Some(101), Some(100), None),
            (101, Some(100), Some(100), None),
        ],
        &[],
    );
    assert_eq!(
        f.tree.detail,
        "process `100` lies on a cycle of parent processes: `100` → `101` → `100`"
    );
}

#[test]
fn a_cycle_hanging_under_a_tree_breaks_the_tree() {
    // 110 is a healthy-looking root; 111 and 112 name it as top but are each other's parents.
    let f = only(
        &[
            (110, None, Some(110), None),
            (111, Some(112), Some(110), None),
            (112, Some(111), Some(110), None),
            (113, Some(111), Some(110), None),
        ],
        &[],
    );
    assert_eq!(f.tree.processes, [110, 111, 112, 113]);
    assert_eq!(f.tree.reason, Reason::Cycle);
    assert_eq!(f.tree.top, Some(110));
    assert_eq!(f.heads, [110, 111, 112]);
}

#[test]
fn a_parent_activity_of_another_tree_joins_and_breaks_both() {
    // 121's parent process is 120, but its parent activity 30 belongs to 40's tree.
    let f = only(
        &[
            (120, None, Some(120), None),
            (121, Some(120), Some(120), Some(30)),
            (40, None, Some(40), None),
        ],
        &[(30, 40)],
    );
    assert_eq!(f.tree.processes, [40, 120, 121]);
    assert_eq!(f.tree.reason, Reason::ParentActivityElsewhere);
    assert!(f.tree.detail.contains("`30`"), "{}", f.tree.detail);
}

#[test]
fn the_first_problem_by_precedence_is_the_reason_and_trees_come_by_smallest_id() {
    let found = find(
        &[
            (300, None, None, None),
            (301, Some(300), Some(300), None),
            (302, Some(399), Some(300), None),
            (200, Some(200), Some(200), None),
        ],
        &[],
    );
    let firsts: Vec<i32> = found.iter().map(|f| f.tree.processes[0]).collect();
    assert_eq!(firsts, [200, 300]);
    assert_eq!(found[0].tree.reason, Reason::Cycle);
    // Missing parent (302) before missing top (300) and the disagreement of 301.
    assert_eq!(found[1].tree.reason, Reason::MissingParent);
    assert!(found[1].tree.detail.starts_with("process `302`"));
}
