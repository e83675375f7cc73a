//! The foreign-key graph between the tables that move, and the order they load in.
//!
//! Instance tables reference each other in cycles: a process references its parent and top
//! process (self), its parent activity (`PROCESS.PARENT_ACTIVITY_ID`, while
//! `ACTIVITY.PROCESS_ID` points back), and an activity its precedent (self). Every edge on a
//! cycle is a *nullable* column, so a cycle can always be broken by inserting NULL first and
//! applying the value later; those columns are the *deferrable* ones. bptmig avoids most
//! deferrals by loading trees level by level (README, "Load order"); the graph only says which columns
//! may need it and what order the tables go in once cycle edges are set aside.

use crate::catalog::{self, ColumnRole, FkKind, Table};

/// One instance-to-instance foreign key: `from.column` references `to`'s key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: &'static str,
    pub column: &'static str,
    pub to: &'static str,
    pub nullable: bool,
}

impl Edge {
    /// A row of `from` references another row of the same table.
    pub fn is_self(&self) -> bool {
        self.from == self.to
    }
}

/// Name under which every `OSEVT_*` table appears in the graph.
pub const OSEVT_NODE: &str = "OSEVT_*";

/// The tables that move, as graph nodes: the fixed instance tables and the OSEVT family.
pub fn nodes() -> Vec<&'static str> {
    catalog::INSTANCE_TABLES
        .iter()
        .map(|t| t.name)
        .chain(std::iter::once(OSEVT_NODE))
        .collect()
}

fn instance_edges_of<'a>(table: &'a Table, node: &'static str) -> impl Iterator<Item = Edge> + 'a {
    table.columns.iter().filter_map(move |c| match c.role {
        ColumnRole::Fk {
            kind: FkKind::Instance,
            table: to,
        } => Some(Edge {
            from: node,
            column: c.name,
            to,
            nullable: c.nullable,
        }),
        _ => None,
    })
}

/// Every instance foreign key between the tables that move.
pub fn edges() -> Vec<Edge> {
    let osevt = catalog::osevt_table(OSEVT_NODE);
    catalog::INSTANCE_TABLES
        .iter()
        .flat_map(|t| instance_edges_of(t, t.name).collect::<Vec<_>>())
        .chain(instance_edges_of(&osevt, OSEVT_NODE).collect::<Vec<_>>())
        .collect()
}

/// Strongly connected component of each node, as the index of its first member.
fn components(nodes: &[&'static str], edges: &[Edge]) -> Vec<usize> {
    // Reachability by repeated relaxation is plenty for a handful of nodes and keeps this
    // obviously correct: two nodes share a component iff each reaches the other.
    let n = nodes.len();
    let idx = |name: &str| nodes.iter().position(|x| *x == name);
    let mut reach = vec![vec![false; n]; n];
    for (i, row) in reach.iter_mut().enumerate() {
        row[i] = true;
    }
    for e in edges {
        if let (Some(a), Some(b)) = (idx(e.from), idx(e.to)) {
            reach[a][b] = true;
        }
    }
    for k in 0..n {
        let via = reach[k].clone();
        for row in &mut reach {
            if row[k] {
                for (cell, step) in row.iter_mut().zip(&via) {
                    *cell |= *step;
                }
            }
        }
    }
    (0..n)
        .map(|i| (0..n).find(|&j| reach[i][j] && reach[j][i]).unwrap_or(i))
        .collect()
}

/// The edges that lie on a cycle: self references and edges inside a multi-table cycle.
/// For a multi-table cycle only the nullable edges are returned: they are the ones broken.
pub fn cycle_edges() -> Vec<Edge> {
    let nodes = nodes();
    let edges = edges();
    let comp = components(&nodes, &edges);
    let idx = |name: &str| nodes.iter().position(|x| *x == name);
    edges
        .into_iter()
        .filter(|e| {
            e.is_self()
                || (e.nullable
                    && matches!((idx(e.from), idx(e.to)), (Some(a), Some(b)) if comp[a] == comp[b]))
        })
        .collect()
}

/// `(table, column)` pairs that may be inserted as NULL and applied after their chunk: the
/// nullable columns of the cycle edges.
pub fn deferrable_columns() -> Vec<(&'static str, &'static str)> {
    cycle_edges()
        .into_iter()
        .filter(|e| e.nullable)
        .map(|e| (e.from, e.column))
        .collect()
}

/// Whether `table.column` is deferrable.
pub fn is_deferrable(table: &str, column: &str) -> bool {
    deferrable_columns()
        .iter()
        .any(|(t, c)| t.eq_ignore_ascii_case(table) && c.eq_ignore_ascii_case(column))
}

/// Load order of the tables that move, referenced tables first, once the cycle edges are
/// set aside; ties keep catalog order. Deleting (rollback) goes in the reverse order.
pub fn load_order() -> Vec<&'static str> {
    let nodes = nodes();
    let cut = cycle_edges();
    let edges: Vec<Edge> = edges().into_iter().filter(|e| !cut.contains(e)).collect();
    let mut placed: Vec<&'static str> = Vec::with_capacity(nodes.len());
    while placed.len() < nodes.len() {
        let next = nodes.iter().copied().find(|n| {
            !placed.contains(n)
                && edges
                    .iter()
                    .filter(|e| e.from == *n)
                    .all(|e| placed.contains(&e.to))
        });
        if let Some(n) = next {
            placed.push(n);
        } else {
            // Unreachable while every cycle contains a nullable edge (a test pins that);
            // keep catalog order for whatever is left rather than loop forever.
            let rest: Vec<_> = nodes
                .iter()
                .copied()
                .filter(|n| !placed.contains(n))
                .collect();
            placed.extend(rest);
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    #[test]
    fn edges_cover_every_instance_fk() {
        let e = edges();
        let has = |from: &str, col: &str, to: &str| {
            e.iter()
                .any(|x| x.from == from && x.column == col && x.to == to)
        };
        assert!(has(PROCESS, PARENT_PROCESS_ID, PROCESS));
        assert!(has(PROCESS, TOP_PROCESS_ID, PROCESS));
        assert!(has(PROCESS, PARENT_ACTIVITY_ID, ACTIVITY));
        assert!(has(ACTIVITY, PROCESS_ID, PROCESS));
        assert!(has(ACTIVITY, PRECEDENT_ACTIVITY_ID, ACTIVITY));
        assert!(has(PROCESS_INPUT, PROCESS_ID, PROCESS));
        assert!(has(PROCESS_INPUT, ACTIVITY_ID, ACTIVITY));
        assert!(has(PROCESS_OUTPUT, PROCESS_ID, PROCESS));
        assert!(has(ACTIVITY_OUTPUT, ACTIVITY_ID, ACTIVITY));
        assert!(has(OSEVT_NODE, EVT_ACTIVITY_ID, ACTIVITY));
        assert_eq!(e.len(), 10);
    }

    #[test]
    fn cycles_are_the_self_references_and_parent_activity() {
        let mut got: Vec<_> = cycle_edges()
            .iter()
            .map(|e| format!("{}.{}", e.from, e.column))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                "OSSYS_BPM_ACTIVITY.PRECEDENT_ACTIVITY_ID",
                "OSSYS_BPM_PROCESS.PARENT_ACTIVITY_ID",
                "OSSYS_BPM_PROCESS.PARENT_PROCESS_ID",
                "OSSYS_BPM_PROCESS.TOP_PROCESS_ID",
            ]
        );
        // ACTIVITY.PROCESS_ID is on the same cycle but NOT NULL: it is never the one broken.
        assert!(!is_deferrable(ACTIVITY, PROCESS_ID));
        assert!(is_deferrable("ossys_bpm_process", "top_process_id"));
        assert!(!is_deferrable(PROCESS_INPUT, ACTIVITY_ID));
    }

    #[test]
    fn every_cycle_has_a_nullable_edge_so_the_order_is_total() {
        let order = load_order();
        assert_eq!(
            order,
            vec![
                PROCESS,
                ACTIVITY,
                PROCESS_INPUT,
                PROCESS_OUTPUT,
                ACTIVITY_OUTPUT,
                OSEVT_NODE
            ]
        );
        // Every non-cycle edge points backwards in the order.
        let cut = cycle_edges();
        for e in edges().iter().filter(|e| !cut.contains(e)) {
            let pos = |n: &str| order.iter().position(|x| *x == n).unwrap();
            assert!(pos(e.to) < pos(e.from), "{e:?}");
        }
    }
}
