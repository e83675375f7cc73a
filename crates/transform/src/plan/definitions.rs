//! Definitions: every row's definition matched in the target, and the trees that cannot move
//! because one of theirs has no match.

use std::collections::BTreeMap;

use arrow::array::Int32Array;
use bptmig_model::catalog as c;

use super::id_set::IdSet;
use super::trees::{TreeKeys, Trees, CHILDREN};
use crate::maps::{DefinitionMaps, MissingDefinition};

/// What the definition checks found.
#[derive(Default)]
pub(super) struct DefinitionCheck {
    /// Root ID → why its tree stays behind.
    pub(super) skipped: BTreeMap<i32, String>,
    /// Every referenced source definition without a target, by (table, source ID).
    pub(super) missing: BTreeMap<(String, i64), MissingDefinition>,
}

/// Checks the definition of every process, activity and child row, noting the trees that
/// reference a definition the target lacks.
pub(super) fn check(defs: &DefinitionMaps, keys: &TreeKeys, trees: &Trees) -> DefinitionCheck {
    // Source definition IDs that have a target, per table: one bit test per row.
    let mapped: BTreeMap<&str, IdSet> = c::DEFINITION_TABLES
        .iter()
        .map(|t| {
            let mut set = IdSet::default();
            set.extend(
                defs.maps
                    .get(t.name)
                    .into_iter()
                    .flat_map(|m| m.keys().copied()),
            );
            (t.name, set)
        })
        .collect();
    let mut check = Checker {
        defs,
        found: DefinitionCheck::default(),
    };
    let (p, a) = (&keys.processes, &keys.activities);
    check.column(&mapped, c::PROCESS_DEFINITION, &p[0], &p[3], |id| {
        trees.root_of_process.get(id)
    });
    check.column(&mapped, c::ACTIVITY_DEFINITION, &a[1], &a[2], |pid| {
        trees.root_of_process.get(pid)
    });
    for (child, k) in CHILDREN.iter().zip(&keys.children) {
        check.column(&mapped, child.definition_table, &k[1], &k[2], |owner| {
            trees.root_of(owner, child.by_activity)
        });
    }
    check.found
}

struct Checker<'d> {
    defs: &'d DefinitionMaps,
    found: DefinitionCheck,
}

impl Checker<'_> {
    /// The definitions `defs` of `table` named by rows whose tree `root(owners[i])` gives.
    fn column(
        &mut self,
        mapped: &BTreeMap<&str, IdSet>,
        table: &str,
        owners: &Int32Array,
        defs: &Int32Array,
        root: impl Fn(i32) -> Option<i32>,
    ) {
        // The table's set is looked up once per column, not by name per row.
        let set = mapped.get(table);
        let is_mapped =
            |def: Option<i32>| def.is_none_or(|d| set.is_some_and(|m| m.contains(i64::from(d))));
        for (owner, def) in owners.iter().zip(defs).filter(|(_, d)| !is_mapped(*d)) {
            self.definition(table, def, owner.and_then(&root));
        }
    }

    /// Notes `def` of `table` when the target lacks it, and skips the tree of `root`.
    fn definition(&mut self, table: &str, def: Option<i32>, root: Option<i32>) {
        let Some(def) = def else { return };
        if self.defs.get(table, i64::from(def)).is_some() {
            return;
        }
        let name = self
            .defs
            .unmapped
            .get(table)
            .and_then(|m| m.get(&i64::from(def)));
        if let Some(u) = name {
            self.found
                .missing
                .entry((table.to_owned(), i64::from(def)))
                .or_insert_with(|| u.clone());
        }
        if let Some(root) = root {
            let what = name.map_or_else(String::new, |u| format!(" `{}`", u.name));
            self.found.skipped.entry(root).or_insert_with(|| {
                format!("`{table}`{what} (#{def}) has no match by SS_KEY in the target")
            });
        }
    }
}
