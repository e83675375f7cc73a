//! New IDs: every moving row of an instance table gets its target ID, in source-ID order.

use std::collections::BTreeMap;

use bptmig_model::catalog as c;
use bptmig_model::pipeline::IdStrategy;
use bptmig_workdir::IdMap;
use rayon::prelude::*;

use super::id_set::IdSet;
use super::trees::{TreeKeys, Trees, CHILDREN};
use crate::input::Input;
use crate::{Error, Result};

/// Old → new IDs of every instance table with a key, table by table in parallel (activities
/// are the bulk of it). A row moves when its tree has a root outside `skipped`.
pub(super) fn assign_all(
    inputs: &[Input],
    keys: &TreeKeys,
    trees: &Trees,
    skipped: &BTreeMap<i32, String>,
    target_max: &BTreeMap<String, (i64, Option<i64>)>,
    strategy: IdStrategy,
) -> Result<BTreeMap<String, IdMap>> {
    let mut skip = IdSet::default();
    skip.extend(skipped.keys().map(|r| i64::from(*r)));
    let kept = |root: Option<i32>| root.is_some_and(|r| !skip.contains(i64::from(r)));
    // Rows in source-ID order whose tree moves; the tree maps hold (ID, owner) in order.
    let moving = |m: &IdMap, root: &(dyn Fn(i32) -> Option<i32> + Sync)| -> Vec<i32> {
        m.iter()
            .filter(|(_, owner)| kept(root(*owner)))
            .map(|(id, _)| id)
            .collect()
    };
    let assigned: Vec<Result<Option<(String, IdMap)>>> = inputs
        .par_iter()
        .filter(|i| i.model.key.is_some())
        .map(|input| {
            let olds: Vec<i32> = match input.name.as_str() {
                n if n == c::PROCESS => moving(&trees.root_of_process, &Some),
                n if n == c::ACTIVITY => moving(&trees.process_of_activity, &|p| {
                    trees.root_of_process.get(p)
                }),
                n => {
                    let Some(t) = CHILDREN.iter().position(|child| child.table == n) else {
                        return Ok(None);
                    };
                    let (k, by_activity) = (&keys.children[t], CHILDREN[t].by_activity);
                    k[0].iter()
                        .zip(&k[1])
                        .filter(|(_, o)| kept(o.and_then(|o| trees.root_of(o, by_activity))))
                        .filter_map(|(id, _)| id)
                        .collect()
                }
            };
            let base = target_max.get(&input.name).and_then(|s| s.1).unwrap_or(0);
            let news = assign(&input.name, &olds, base, strategy)?;
            // Keys ascend: parts are in key order, and `moving` keeps it.
            Ok(Some((input.name.clone(), IdMap::from_sorted(olds, news))))
        })
        .collect();
    let mut ids = BTreeMap::new();
    for table in assigned {
        if let Some((name, map)) = table? {
            ids.insert(name, map);
        }
    }
    Ok(ids)
}

/// New IDs for `olds` (ascending): a dense block above `base` (renumber) or the same IDs
/// (keep), refusing what would overflow a 32-bit ID or collide with the target.
fn assign(table: &str, olds: &[i32], base: i64, strategy: IdStrategy) -> Result<Vec<i32>> {
    match strategy {
        // `auto` is decided before phase 1; until then it renumbers.
        IdStrategy::Renumber | IdStrategy::Auto => {
            let last = base + olds.len() as i64;
            if last > i64::from(i32::MAX) {
                return Err(Error::IdOverflow {
                    table: table.to_owned(),
                    base,
                    rows: olds.len() as u64,
                });
            }
            Ok((1..=olds.len() as i64).map(|r| (base + r) as i32).collect())
        }
        IdStrategy::Keep => {
            if let Some(first) = olds.first() {
                if i64::from(*first) <= base {
                    return Err(Error::IdCollision {
                        table: table.to_owned(),
                        first: i64::from(*first),
                        target_max: base,
                    });
                }
            }
            Ok(olds.to_vec())
        }
        // The target generates the IDs at load: rows keep their source IDs until then.
        IdStrategy::Generated => Ok(olds.to_vec()),
    }
}
