//! Process trees: the key columns that describe them, each row's root, and tree levels.

use arrow::array::{Array, Int32Array};
use bptmig_model::catalog as c;
use bptmig_workdir::IdMap;

use super::scan::Keys;

/// A table whose rows hang off a process or an activity and name a definition of their own.
pub(super) struct Child {
    pub(super) table: &'static str,
    /// The column naming the process or activity the row belongs to.
    pub(super) owner: &'static str,
    pub(super) definition: &'static str,
    pub(super) definition_table: &'static str,
    /// Whether `owner` names an activity (else a process).
    pub(super) by_activity: bool,
}

pub(super) const CHILDREN: [Child; 3] = [
    Child {
        table: c::PROCESS_INPUT,
        owner: c::PROCESS_ID,
        definition: c::INPUT_DEF_ID,
        definition_table: c::PROCESS_INPUT_DEF,
        by_activity: false,
    },
    Child {
        table: c::PROCESS_OUTPUT,
        owner: c::PROCESS_ID,
        definition: c::OUTPUT_DEF_ID,
        definition_table: c::PROCESS_OUTPUT_DEF,
        by_activity: false,
    },
    Child {
        table: c::ACTIVITY_OUTPUT,
        owner: c::ACTIVITY_ID,
        definition: c::OUTPUT_DEF_ID,
        definition_table: c::ACTIVITY_OUTPUT_DEF,
        by_activity: true,
    },
];

/// The key columns read of the processes (in this order).
pub(super) const PROCESS_COLUMNS: [&str; 4] = [
    c::ID,
    c::PARENT_PROCESS_ID,
    c::TOP_PROCESS_ID,
    c::PROCESS_DEF_ID,
];
/// The key columns read of the activities (in this order).
pub(super) const ACTIVITY_COLUMNS: [&str; 3] = [c::ID, c::PROCESS_ID, c::ACTIVITY_DEF_ID];
/// The key columns read of each [`Child`]: `ID`, its owner, its definition.
pub(super) fn child_columns(child: &Child) -> [&'static str; 3] {
    [c::ID, child.owner, child.definition]
}

/// The key columns of the tree tables, whole (parts concatenated in key order).
pub(super) struct TreeKeys {
    /// [`PROCESS_COLUMNS`].
    pub(super) processes: Keys,
    /// [`ACTIVITY_COLUMNS`].
    pub(super) activities: Keys,
    /// Per [`CHILDREN`] entry, its [`child_columns`].
    pub(super) children: Vec<Keys>,
}

/// Which tree each process and activity belongs to.
pub(super) struct Trees {
    /// Process ID → its root's ID (`TOP_PROCESS_ID`, or its own ID when it has no parent).
    pub(super) root_of_process: IdMap,
    /// Activity ID → its process's ID. Activities are many: their processes sit in a vector
    /// beside the sorted IDs, not in a map; their roots are their processes'.
    pub(super) process_of_activity: IdMap,
}

impl Trees {
    pub(super) fn new(keys: &TreeKeys) -> Self {
        let (p, a) = (&keys.processes, &keys.activities);
        let root_of_process = IdMap::new(p[0].iter().zip(&p[1]).zip(&p[2]).filter_map(
            |((id, parent), top)| {
                let id = id?;
                Some((id, top.or(if parent.is_none() { Some(id) } else { None })?))
            },
        ));
        let process_of_activity = IdMap::new(
            a[0].iter()
                .zip(&a[1])
                .filter_map(|(id, pid)| Some((id?, pid?))),
        );
        Self {
            root_of_process,
            process_of_activity,
        }
    }

    pub(super) fn root_of_activity(&self, id: i32) -> Option<i32> {
        self.root_of_process.get(self.process_of_activity.get(id)?)
    }

    /// The root of the process, or with `by_activity` of the activity, `owner`.
    pub(super) fn root_of(&self, owner: i32, by_activity: bool) -> Option<i32> {
        if by_activity {
            self.root_of_activity(owner)
        } else {
            self.root_of_process.get(owner)
        }
    }
}

/// Tree levels by new ID.
#[derive(Debug, Default)]
pub(crate) struct Levels {
    pub(super) processes: IdMap,
    pub(super) activities: IdMap,
}

impl Levels {
    /// The level of the process (or, without `process`, the activity) with new ID `new_id`.
    pub(crate) fn get(&self, process: bool, new_id: i32) -> Option<i32> {
        if process {
            self.processes.get(new_id)
        } else {
            self.activities.get(new_id)
        }
    }

    /// Levels given by new ID (tests).
    #[cfg(test)]
    pub(crate) fn from_maps(processes: IdMap, activities: IdMap) -> Self {
        Self {
            processes,
            activities,
        }
    }

    /// The levels of the moving processes and activities: a process's from
    /// [`tree_levels`], an activity's its process's.
    pub(super) fn new(
        keys: &TreeKeys,
        trees: &Trees,
        processes: &IdMap,
        activities: &IdMap,
    ) -> Self {
        let p = &keys.processes;
        let level_of_old = tree_levels(&p[0], &p[1]);
        let by_new = IdMap::new(
            processes
                .iter()
                .map(|(o, n)| (n, level_of_old.get(o).unwrap_or(0))),
        );
        drop(level_of_old);
        let activities = IdMap::new(activities.iter().map(|(o, n)| {
            let level = trees
                .process_of_activity
                .get(o)
                .and_then(|p| processes.get(p))
                .and_then(|p| by_new.get(p))
                .unwrap_or(0);
            (n, level)
        }));
        Self {
            processes: by_new,
            activities,
        }
    }
}

/// Hops beyond which a chain of parents is taken for a cycle (broken data; verify reports it).
const MAX_DEPTH: i32 = 10_000;

/// The tree level of every process, by its source ID: the hops up `PARENT_PROCESS_ID`
/// until a process without a parent, where a parent missing from the extract counts as one
/// hop. Each level is computed once, from its parent's, so this is linear in the processes
/// whatever the order of IDs; a chain longer than [`MAX_DEPTH`] (a cycle) gets
/// `MAX_DEPTH + 1`.
fn tree_levels(ids: &Int32Array, parents: &Int32Array) -> IdMap {
    const UNKNOWN: i32 = -1;
    let position = IdMap::new(
        ids.iter()
            .enumerate()
            .filter_map(|(k, id)| Some((id?, k as i32))),
    );
    let mut levels = vec![UNKNOWN; ids.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..ids.len() {
        if levels[start] != UNKNOWN {
            continue;
        }
        // Walk up until a process whose level is known, or a top (no parent, or a parent
        // outside the extract); then assign levels back down the path.
        path.clear();
        let mut cur = start;
        let mut base = loop {
            path.push(cur);
            if parents.is_null(cur) {
                break 0;
            }
            let parent = parents.value(cur);
            let Some(up) = position.get(parent).map(|k| k as usize) else {
                break 1;
            };
            if levels[up] != UNKNOWN {
                break levels[up] + 1;
            }
            if path.len() > MAX_DEPTH as usize {
                break MAX_DEPTH + 1;
            }
            cur = up;
        };
        let cycle = base > MAX_DEPTH;
        for &k in path.iter().rev() {
            levels[k] = base.min(MAX_DEPTH + 1);
            if !cycle {
                base += 1;
            }
        }
    }
    let values = position
        .values()
        .iter()
        .map(|k| levels[*k as usize])
        .collect();
    IdMap::from_sorted(position.keys().to_vec(), values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(pairs: &[(i32, Option<i32>)]) -> Vec<(i32, Option<i32>)> {
        let ids: Int32Array = pairs.iter().map(|p| Some(p.0)).collect();
        let parents: Int32Array = pairs.iter().map(|p| p.1).collect();
        let m = tree_levels(&ids, &parents);
        pairs.iter().map(|p| (p.0, m.get(p.0))).collect()
    }

    #[test]
    fn tree_levels_count_hops_whatever_the_id_order() {
        // 10 → 11 → 12, and 5 whose parent 20 comes later in ID order, whose parent 12.
        let got = levels(&[
            (5, Some(20)),
            (10, None),
            (11, Some(10)),
            (12, Some(11)),
            (20, Some(12)),
        ]);
        assert_eq!(
            got,
            vec![
                (5, Some(4)),
                (10, Some(0)),
                (11, Some(1)),
                (12, Some(2)),
                (20, Some(3))
            ]
        );
    }

    #[test]
    fn a_parent_outside_the_extract_counts_as_one_hop() {
        let got = levels(&[(7, Some(3)), (8, Some(7)), (9, None)]);
        assert_eq!(got, vec![(7, Some(1)), (8, Some(2)), (9, Some(0))]);
    }

    #[test]
    fn a_cycle_ends_at_the_depth_limit_instead_of_looping() {
        let got = levels(&[(1, Some(2)), (2, Some(1)), (3, Some(1))]);
        let cap = MAX_DEPTH + 1;
        assert_eq!(got, vec![(1, Some(cap)), (2, Some(cap)), (3, Some(cap))]);
    }
}
