//! Broken trees, decided in memory from the processes' key columns.
//!
//! Processes are grouped by every reference between them (parent, top process, the process
//! of the parent activity): a group moves whole or not at all. A group is a healthy tree when
//! no process of it has a problem: then it has exactly one process without parent, whose
//! `TOP_PROCESS_ID` is its own ID, and every other process names that one as its top, as its
//! parent does. Any problem makes the whole group a broken tree.

use std::collections::HashMap;

use bptmig_workdir::broken_trees::{Reason, Tree};

/// The key columns of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessKeys {
    pub id: i32,
    pub parent: Option<i32>,
    pub top: Option<i32>,
    pub parent_activity: Option<i32>,
}

/// A broken tree, and the processes whose match of the selection's filters makes it one the
/// selection asks for: its top-level processes (no parent, or `TOP_PROCESS_ID = ID`) and
/// the tops of its fragments (a missing parent, a parent cycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub tree: Tree,
    pub heads: Vec<i32>,
}

/// Every broken tree among `procs`, by smallest process ID. `activities` maps each activity
/// that some process names as its parent activity to that activity's `PROCESS_ID`; an
/// activity absent from it is missing from the source.
pub(crate) fn broken_trees(
    procs: &[ProcessKeys],
    activities: &HashMap<i32, Option<i32>>,
) -> Vec<Found> {
    let index: HashMap<i32, usize> = procs.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let forest = Forest {
        procs,
        index: &index,
        activities,
    };
    let cycles = forest.cycles();
    let mut groups = Groups::new(procs.len());
    for (i, p) in procs.iter().enumerate() {
        let linked = [p.parent, p.top, forest.activity_process(p)];
        for j in linked.into_iter().flatten().filter_map(|id| index.get(&id)) {
            groups.union(i, *j);
        }
    }
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..procs.len() {
        members.entry(groups.find(i)).or_default().push(i);
    }
    let mut found: Vec<Found> = members
        .into_values()
        .filter_map(|group| forest.judge(&group, &cycles))
        .collect();
    found.sort_by_key(|f| f.tree.processes.first().copied());
    found
}

/// The processes, by ID, and the parent activities' processes.
struct Forest<'a> {
    procs: &'a [ProcessKeys],
    index: &'a HashMap<i32, usize>,
    activities: &'a HashMap<i32, Option<i32>>,
}

impl Forest<'_> {
    fn get(&self, id: i32) -> Option<&ProcessKeys> {
        self.index.get(&id).map(|&i| &self.procs[i])
    }

    /// The process of `p`'s parent activity, when both exist.
    fn activity_process(&self, p: &ProcessKeys) -> Option<i32> {
        self.activities.get(&p.parent_activity?).copied().flatten()
    }

    /// For each process on a parent cycle, the cycle in parent order starting with it.
    fn cycles(&self) -> HashMap<usize, Vec<i32>> {
        // 0: not seen, 1: on the walk in progress, 2: done.
        let mut state = vec![0u8; self.procs.len()];
        let mut on_cycle = HashMap::new();
        for start in 0..self.procs.len() {
            let mut path = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at.filter(|&i| state[i] == 0) {
                state[i] = 1;
                path.push(i);
                at = self.procs[i]
                    .parent
                    .and_then(|id| self.index.get(&id).copied());
            }
            if let Some(i) = at.filter(|&i| state[i] == 1) {
                let from = path.iter().position(|&j| j == i).unwrap_or(0);
                let cycle: Vec<usize> = path[from..].to_vec();
                for (k, &j) in cycle.iter().enumerate() {
                    let ids = cycle[k..].iter().chain(&cycle[..k]);
                    on_cycle.insert(j, ids.map(|&c| self.procs[c].id).collect());
                }
            }
            for i in path {
                state[i] = 2;
            }
        }
        on_cycle
    }

    /// The first problem of process `i`, by [`Reason`]'s precedence.
    fn problem(&self, i: usize, cycles: &HashMap<usize, Vec<i32>>) -> Option<(Reason, String)> {
        let p = &self.procs[i];
        let id = p.id;
        if let Some(cycle) = cycles.get(&i) {
            return Some((Reason::Cycle, cycle_text(cycle)));
        }
        let parent = match p.parent {
            Some(x) => match self.get(x) {
                Some(parent) => Some(parent),
                None => {
                    let text = format!(
                        "process `{id}` names parent process `{x}`, which the source does not have"
                    );
                    return Some((Reason::MissingParent, text));
                }
            },
            None => None,
        };
        if let Some(found) = self.activity_problem(p) {
            return Some(found);
        }
        if let Some(found) = top_problem(p, parent, self.get_top(p)) {
            return Some(found);
        }
        self.elsewhere_problem(p)
    }

    /// Whether `p`'s top process exists: `None` for a NULL or missing top.
    fn get_top(&self, p: &ProcessKeys) -> Option<&ProcessKeys> {
        p.top.and_then(|t| self.get(t))
    }

    fn activity_problem(&self, p: &ProcessKeys) -> Option<(Reason, String)> {
        let (id, a) = (p.id, p.parent_activity?);
        let text = match self.activities.get(&a) {
            None => format!(
                "process `{id}` names parent activity `{a}`, which the source does not have"
            ),
            Some(Some(q)) if self.get(*q).is_some() => return None,
            Some(Some(q)) => format!(
                "process `{id}` names parent activity `{a}`, whose process `{q}` the source \
                 does not have"
            ),
            Some(None) => {
                format!("process `{id}` names parent activity `{a}`, which has no process")
            }
        };
        Some((Reason::MissingParentActivity, text))
    }

    /// The parent activity of `p` belongs to a process of another tree.
    fn elsewhere_problem(&self, p: &ProcessKeys) -> Option<(Reason, String)> {
        let q = self.get(self.activity_process(p)?)?;
        if q.top == p.top {
            return None;
        }
        let (id, a, qid) = (p.id, p.parent_activity?, q.id);
        let text = format!(
            "process `{id}` names parent activity `{a}` of process `{qid}`, whose top process \
             is {}, not {}",
            shown(q.top),
            shown(p.top)
        );
        Some((Reason::ParentActivityElsewhere, text))
    }

    /// The verdict on one group of connected processes: `None` when it is a healthy tree.
    fn judge(&self, group: &[usize], cycles: &HashMap<usize, Vec<i32>>) -> Option<Found> {
        let worst = group
            .iter()
            .filter_map(|&i| {
                self.problem(i, cycles)
                    .map(|(r, t)| (r, self.procs[i].id, t))
            })
            .min()?;
        let mut processes: Vec<i32> = group.iter().map(|&i| self.procs[i].id).collect();
        processes.sort_unstable();
        let is_top = |p: &ProcessKeys| p.top == Some(p.id);
        let top = group
            .iter()
            .map(|&i| &self.procs[i])
            .filter(|p| is_top(p) || p.parent.is_none())
            .min_by_key(|p| (!is_top(p), p.id))
            .map(|p| p.id);
        let mut heads: Vec<i32> = group
            .iter()
            .filter(|&&i| {
                let p = &self.procs[i];
                is_top(p)
                    || p.parent.is_none_or(|x| self.get(x).is_none())
                    || cycles.contains_key(&i)
            })
            .map(|&i| self.procs[i].id)
            .collect();
        heads.sort_unstable();
        let (reason, _, detail) = worst;
        Some(Found {
            tree: Tree {
                top,
                processes,
                reason,
                detail,
            },
            heads,
        })
    }
}

/// The problem of `p`'s `TOP_PROCESS_ID`, given its parent and its top as found.
fn top_problem(
    p: &ProcessKeys,
    parent: Option<&ProcessKeys>,
    top: Option<&ProcessKeys>,
) -> Option<(Reason, String)> {
    let id = p.id;
    match (p.top, top) {
        (None, _) => {
            let text = format!("process `{id}` has no top process (`TOP_PROCESS_ID` is NULL)");
            return Some((Reason::MissingTop, text));
        }
        (Some(t), None) => {
            let text =
                format!("process `{id}` names top process `{t}`, which the source does not have");
            return Some((Reason::MissingTop, text));
        }
        _ => {}
    }
    let text = match parent {
        None if p.top != Some(id) => format!(
            "process `{id}` has no parent process but names top process {}, not itself",
            shown(p.top)
        ),
        Some(parent) if parent.top != p.top => format!(
            "process `{id}` names top process {}, but its parent process `{}` names {}",
            shown(p.top),
            parent.id,
            shown(parent.top)
        ),
        _ => return None,
    };
    Some((Reason::TopDisagrees, text))
}

/// `` `7` `` or `none`.
fn shown(id: Option<i32>) -> String {
    id.map_or_else(|| "none".to_owned(), |id| format!("`{id}`"))
}

fn cycle_text(cycle: &[i32]) -> String {
    match cycle {
        [only] => format!("process `{only}` is its own parent process"),
        _ => {
            let mut chain: Vec<String> = cycle.iter().map(|id| format!("`{id}`")).collect();
            chain.push(chain[0].clone());
            format!(
                "process `{}` lies on a cycle of parent processes: {}",
                cycle[0],
                chain.join(" → ")
            )
        }
    }
}

/// Union-find over process indexes.
struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

#[cfg(test)]
mod tests;
